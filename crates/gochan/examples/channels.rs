//! Channel semantics: unbuffered and buffered channels, and what the `hchan` code of Go's
//! runtime (`runtime/chan.go`) does on send, receive and close, as seen from a program.
//!
//! Mirrors Go's channels as the Go spec describes them (<https://go.dev/ref/spec>, "Channel
//! types", "Send statements", "Receive operator": an unbuffered send blocks until the value
//! is received, buffered sends do not block while there is room), and the runtime source,
//! `runtime/chan.go` (`hchan`, `makechan`, `chansend`, `chanrecv`, `closechan`). That
//! source is the library's internals (gochan's `chan::core` is its counterpart), so there
//! is nothing to port line by line; this program shows the behaviour those snippets
//! implement:
//!
//! ```go
//! // chansend: "Found a waiting receiver. We pass the value we want to send
//! // directly to the receiver, bypassing the channel buffer (if any)."
//! if sg := c.recvq.dequeue(); sg != nil { send(c, sg, ep, ...); return true }
//! // chansend: buffer not full -> store and return
//! if c.qcount < c.dataqsiz { typedmemmove(c.elemtype, qp, ep); ...; return true }
//! // chansend on a closed channel
//! if c.closed != 0 { panic(plainError("send on closed channel")) }
//! // chanrecv: closed and drained -> zero value, ok == false
//! if c.closed != 0 && c.qcount == 0 { ...; return true, false }
//! // closechan
//! if c.closed != 0 { panic(plainError("close of closed channel")) }
//! // ... then release every waiting receiver and every waiting sender
//! // chansend/chanrecv on a nil channel: block forever (gopark); non-blocking: return false
//! ```
//!
//! - `make(chan T)` / `make(chan T, n)` are `bounded::<T>(0)` / `bounded::<T>(n)`.
//! - `v, ok := <-ch` is `ch.recv()`: `Ok(v)` or, once closed and drained, `Err(RecvError)`.
//! - Go panics on "send on closed channel" and "close of closed channel"; gochan returns
//!   `Err(SendError(v))` (the value comes back) and `false` from `close()`.
//! - A nil channel is `gochan::never()`.
//! - Rust addition: when every receiver is gone a send fails instead of blocking forever.

use std::thread;
use std::time::{Duration, Instant};

use gochan::{bounded, never, TrySendError};

/// Runs the demonstrations and returns the lines the program prints.
pub fn run() -> Vec<String> {
    let mut out = Vec::new();

    // Unbuffered: the send completes only when a receiver takes the value.
    let (tx, rx) = bounded::<&str>(0);
    let start = Instant::now();
    let sender = thread::spawn(move || {
        tx.send("hello").unwrap();
        start.elapsed()
    });
    thread::sleep(Duration::from_millis(30));
    let v = rx.recv().unwrap();
    let send_took = sender.join().unwrap();
    out.push(format!(
        "unbuffered: got {v:?}; the send waited for the receiver: {}",
        send_took >= Duration::from_millis(30)
    ));

    // Buffered: sends do not block while there is room; values come out in order.
    let (tx, rx) = bounded(2);
    tx.send(1).unwrap();
    tx.send(2).unwrap();
    out.push(format!(
        "buffered: len {} cap {:?}; a third send would block: {}",
        tx.len(),
        tx.capacity(),
        matches!(tx.try_send(3), Err(TrySendError::Full(3)))
    ));
    out.push(format!(
        "buffered: received {} then {}",
        rx.recv().unwrap(),
        rx.recv().unwrap()
    ));

    // close: buffered values are still delivered, then receivers see the close.
    tx.send(3).unwrap();
    tx.close();
    out.push(format!(
        "after close: {:?}, then {:?}",
        rx.recv(),
        rx.recv()
    ));

    // close wakes every blocked receiver.
    let (tx, rx) = bounded::<i32>(0);
    let waiting: Vec<_> = (0..3)
        .map(|_| {
            let rx = rx.clone();
            thread::spawn(move || rx.recv())
        })
        .collect();
    thread::sleep(Duration::from_millis(10));
    tx.close();
    let woken = waiting
        .into_iter()
        .map(|t| t.join().unwrap())
        .filter(|r| r.is_err())
        .count();
    out.push(format!(
        "close woke {woken} blocked receivers with Err(RecvError)"
    ));

    // A sender blocked on a channel that gets closed gets its value back (Go panics).
    let (tx, rx) = bounded::<i32>(0);
    let tx2 = tx.clone();
    let sender = thread::spawn(move || tx2.send(42));
    thread::sleep(Duration::from_millis(10));
    tx.close();
    out.push(format!(
        "blocked send on a closed channel: {:?} (Go: panic: send on closed channel)",
        sender.join().unwrap().map_err(|e| e.into_inner())
    ));
    out.push(format!(
        "second close: {} (Go: panic: close of closed channel)",
        tx.close()
    ));
    drop(rx);

    // A nil channel is never ready.
    let nil = never::<i32>();
    let picked = gochan::select! {
        recv(nil) -> _ => "nil channel",
        default => "default",
    };
    out.push(format!(
        "nil channel: select picks {picked}; recv_timeout(10ms) -> {:?}",
        nil.recv_timeout(Duration::from_millis(10))
    ));

    // Every receiver gone: the send fails at once, with the value (Go: blocks forever).
    let (tx, rx) = bounded::<i32>(0);
    drop(rx);
    out.push(format!(
        "send with no receiver left: {:?}",
        tx.send(7).map_err(|e| e.into_inner())
    ));
    out
}

#[allow(dead_code)]
fn main() {
    for line in run() {
        println!("{line}");
    }
}
