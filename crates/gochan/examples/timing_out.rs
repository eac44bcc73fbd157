//! Timing out: give up on a channel read after a while.
//!
//! Mirrors the Go blog post "Go Concurrency Patterns: Timing out, moving on"
//! (<https://go.dev/blog/concurrency-timeouts>); the post builds its timeout channel with a
//! sleeping goroutine, `time.After` is the same channel ready-made:
//!
//! ```go
//! select {
//! case <-ch:
//!     // a read from ch has occurred
//! case <- time.After(1 * time.Second):
//!     // the read from ch has timed out
//! }
//! ```
//!
//! The Go snippet is a fragment; this program runs it twice, once on a channel that gets a
//! value in time and once on a channel nobody writes to, and prints which arm ran.
//!
//! - `time.After(d)` is [`gochan::after`]: a channel that receives the time once, after
//!   `d` (dropping it cancels the timer). The 1 s timeout is scaled to 100 ms.
//! - `select { case <-ch: ... }` is `gochan::select! { recv(ch) -> v => ... }`.
//! - Go's `ch` with no writer blocks forever; in Rust the channel must keep a live
//!   `Sender` (here `_nobody_writes`): dropping the last sender closes it, and a closed
//!   channel's arm is always ready (`Err(RecvError)`), exactly like a closed Go channel.

use std::thread;
use std::time::Duration;

use gochan::{bounded, Receiver};

/// Go's `1 * time.Second`, scaled down so the example runs quickly.
const TIMEOUT: Duration = Duration::from_millis(100);

fn read_or_time_out(ch: &Receiver<&'static str>) -> String {
    gochan::select! {
        recv(ch) -> v => format!("a read from ch has occurred: {}", v.unwrap()),
        recv(gochan::after(TIMEOUT)) -> _ => "the read from ch has timed out".to_string(),
    }
}

/// Runs the pattern and returns the lines the program prints.
pub fn run() -> Vec<String> {
    let mut out = Vec::new();

    // A writer that answers in 10 ms: the read happens.
    let (tx, ch) = bounded(0);
    let writer = thread::spawn(move || {
        thread::sleep(Duration::from_millis(10));
        let _ = tx.send("ping");
    });
    out.push(read_or_time_out(&ch));
    writer.join().unwrap();

    // Nobody ever writes: the read times out.
    let (_nobody_writes, ch) = bounded(0);
    out.push(read_or_time_out(&ch));
    out
}

#[allow(dead_code)]
fn main() {
    for line in run() {
        println!("{line}");
    }
}
