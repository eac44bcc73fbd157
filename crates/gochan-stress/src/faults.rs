//! Panic probes (fault mode): a message whose `Drop` panics is dropped *inside* gochan
//! (by the last receiver's drop, by a select for its unchosen send arm, by a send future
//! dropped mid-wait), the panic is caught, and the channel must keep working: the
//! expected values are still there exactly once, new sends and receives go through, and
//! nothing gochan holds is poisoned. Random panicking messages also flow through the
//! whole soak; these probes make sure the three places inside gochan are hit every run.

use std::future::Future;
use std::sync::Arc;
use std::task::{Context as TaskCx, Poll, Wake, Waker};

use crate::ledger::{channel, Rx, Tx};
use crate::world::{settle_recv, settle_send, World};

/// One random probe.
pub fn probe(w: &World, rng: &mut fastrand::Rng) {
    match rng.u8(..3) {
        0 => last_receiver_drop(w),
        1 => unchosen_select_arm(w, rng),
        _ => dropped_send_future(w),
    }
}

/// Sends a normal message with `try_send`, which must succeed.
fn put(w: &World, t: &Tx, what: &str) {
    let m = crate::ledger::Msg::new(w.ledger, t, false, "PanicProbe");
    let id = m.id();
    match t.tx.try_send(m) {
        Ok(()) => w.ledger.sent(id),
        Err(e) => {
            w.problem(format!("panic probe ({what}): try_send failed: {e}"));
            e.into_inner().returned(t, id);
        }
    }
}

/// Receives with `try_recv`; a value must be there iff `want`.
fn take(w: &World, r: &Rx, want: bool, what: &str) {
    match r.rx.try_recv() {
        Ok(m) if want => m.received(r),
        Ok(m) => {
            w.problem(format!(
                "panic probe ({what}): an unexpected value {}",
                m.id()
            ));
            m.received(r);
        }
        Err(e) if want => w.problem(format!("panic probe ({what}): no value: {e}")),
        Err(_) => {}
    }
}

/// A panicking message of `t`'s channel (not every `w.msg` is one).
fn armed(w: &World, t: &Tx, discardable: bool) -> crate::ledger::Msg {
    crate::ledger::Msg::new(w.ledger, t, discardable, "PanicProbe").panicking()
}

/// Expects `f` to panic with a drop panic (counted by `catching`).
fn must_panic(w: &World, what: &str, f: impl FnOnce()) {
    if w.catching(what, f).is_some() {
        w.problem(format!(
            "panic probe ({what}): the armed drop did not panic"
        ));
    }
}

/// The last receiver goes with three buffered values, the middle one panicking: all three
/// are dropped once, and the sender then fails cleanly (no poisoned lock, no hang).
fn last_receiver_drop(w: &World) {
    const WHAT: &str = "last receiver drop";
    let (t, r) = channel(Some(4));
    put(w, &t, WHAT);
    let m = armed(w, &t, false);
    let id = m.id();
    match t.tx.try_send(m) {
        Ok(()) => w.ledger.sent(id),
        Err(e) => {
            w.problem(format!("panic probe ({WHAT}): try_send failed: {e}"));
            let _ = w.catching(WHAT, || e.into_inner().returned(&t, id));
            return;
        }
    }
    put(w, &t, WHAT);
    must_panic(w, WHAT, move || drop(r));
    let m = crate::ledger::Msg::new(w.ledger, &t, false, "PanicProbe");
    let id = m.id();
    match t.tx.try_send(m) {
        Ok(()) => w.problem(format!(
            "panic probe ({WHAT}): a send succeeded with no receiver"
        )),
        Err(e) => {
            let _ = w.catching(WHAT, || e.into_inner().returned(&t, id));
        }
    }
    if !t.tx.is_empty() {
        w.problem(format!("panic probe ({WHAT}): {} values left", t.tx.len()));
    }
}

/// A select whose receive arm is ready and whose send arm (on a full channel) holds a
/// panicking value: exactly the receive happens, the send does not, and both channels
/// work afterwards. The dynamic `Select`; the `select!` macro too when
/// `select_arm_faults` (see `Config`).
fn unchosen_select_arm(w: &World, rng: &mut fastrand::Rng) {
    const WHAT: &str = "unchosen select arm";
    let (t1, r1) = channel(Some(1));
    let (t2, r2) = channel(Some(1));
    put(w, &t1, WHAT);
    put(w, &t2, WHAT); // t2 is full: its send arm cannot be chosen
    let p = armed(w, &t2, true);
    let pid = p.id();
    if w.select_arm_faults && rng.bool() {
        must_panic(w, WHAT, || {
            gochan::select! {
                recv(r1.rx) -> v => settle_recv(w, v, &r1),
                send(t2.tx, p) -> res => {
                    w.problem(format!("panic probe ({WHAT}): the full channel's send arm was chosen"));
                    settle_send(w, res, pid, &t2);
                },
            }
        });
    } else {
        must_panic(w, WHAT, || {
            let mut sel = gochan::Select::new();
            sel.recv(&r1.rx);
            sel.send(&t2.tx, p);
            let op = sel.select();
            if op.index() == 0 {
                settle_recv(w, op.recv(&r1.rx), &r1);
            } else {
                w.problem(format!(
                    "panic probe ({WHAT}): the full channel's send arm was chosen"
                ));
                settle_send(w, op.send(&t2.tx), pid, &t2);
            }
            drop(sel); // drops the unchosen value: panics
        });
    }
    w.ledger.unchosen(pid);
    take(w, &r1, false, WHAT); // received once, not twice
    take(w, &r2, true, WHAT); // the first value
    take(w, &r2, false, WHAT); // and the unchosen one was not sent
    put(w, &t1, WHAT);
    take(w, &r1, true, WHAT);
    put(w, &t2, WHAT);
    take(w, &r2, true, WHAT);
}

struct Noop;

impl Wake for Noop {
    fn wake(self: Arc<Self>) {}
}

/// A `send_async` on a full channel, polled once (Pending), then dropped: gochan takes the
/// panicking value back out and drops it; it is not delivered and the channel works.
fn dropped_send_future(w: &World) {
    const WHAT: &str = "dropped send future";
    let (t, r) = channel(Some(1));
    put(w, &t, WHAT);
    let p = armed(w, &t, true);
    let waker = Waker::from(Arc::new(Noop));
    let mut cx = TaskCx::from_waker(&waker);
    let mut fut = Box::pin(t.tx.send_async(p));
    let polled = w.catching(WHAT, || fut.as_mut().poll(&mut cx));
    match polled {
        Some(Poll::Pending) => must_panic(w, WHAT, move || drop(fut)),
        Some(Poll::Ready(res)) => {
            w.problem(format!(
                "panic probe ({WHAT}): send on a full channel completed: {:?}",
                res.is_ok()
            ));
            drop(fut);
            if let Err(e) = res {
                let _ = w.catching(WHAT, move || drop(e));
            }
        }
        None => w.problem(format!("panic probe ({WHAT}): the poll panicked")),
    }
    take(w, &r, true, WHAT); // the first value
    take(w, &r, false, WHAT); // the dropped future's value was not delivered
    put(w, &t, WHAT);
    take(w, &r, true, WHAT);
}
