//! An OS-thread worker: blocking and non-blocking channel operations, `select!`, the
//! dynamic `Select`, handle hoarding, contexts, after_func and timers.

use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

use gochan::context::AfterFunc;
use gochan::time::Timer;

use crate::ledger::{Rx, Tx};
use crate::world::{self, settle_done, settle_recv, settle_send, Counts, Op, World};

enum Hoard {
    Tx(Tx),
    Rx(Rx),
}

struct TimerSlot {
    t: Timer,
    armed: Instant,
    d: Duration,
    stopped: bool,
}

const HOARD_MAX: usize = 4;

struct Worker {
    w: Arc<World>,
    idx: usize,
    rng: fastrand::Rng,
    counts: Counts,
    hoard: Vec<Hoard>,
    timers: Vec<TimerSlot>,
    afs: Vec<AfterFunc>,
}

/// Runs operations until the world stops.
pub fn run(w: Arc<World>, idx: usize, seed: u64) {
    let world = w.clone();
    let _mark = world::ExitMark(w.clone(), idx);
    let mut wk = Worker {
        w,
        idx,
        rng: fastrand::Rng::with_seed(seed),
        counts: Counts::default(),
        hoard: Vec::new(),
        timers: Vec::new(),
        afs: Vec::new(),
    };
    let mut n = 0u64;
    while !wk.w.stopping() {
        if wk.w.faults {
            // A panicking drop (fault mode) unwinds out of the operation; the worker goes on.
            let w = wk.w.clone();
            let _ = w.catching("a thread's operation", || wk.step());
        } else {
            wk.step();
        }
        n += 1;
        if n % 256 == 0 {
            wk.w.ops_total.fetch_add(256, Ordering::Relaxed);
        }
    }
    wk.set(Op::Idle);
    // Hoarded handles may be the last of a channel holding panicking values.
    while !wk.hoard.is_empty() {
        let _ = world.catching("a thread's exit", || wk.hoard.clear());
    }
    wk.timers.clear();
    wk.afs.clear();
    world.counts.lock().merge(&wk.counts);
}

impl Worker {
    fn set(&mut self, op: Op) {
        self.w.board[self.idx].set(op);
        self.counts.ops[op as usize] += 1;
    }

    fn short(&mut self) -> Duration {
        match self.rng.u8(..10) {
            0 => Duration::ZERO,
            1 => Duration::from_millis(10),
            _ => Duration::from_micros(self.rng.u64(50..3000)),
        }
    }

    fn slot(&mut self) -> usize {
        self.rng.usize(..self.w.slots.len())
    }

    fn tx(&mut self) -> Tx {
        let i = self.slot();
        self.w.slots[i].tx().0
    }

    fn rx(&mut self) -> Rx {
        let i = self.slot();
        self.w.slots[i].rx().0
    }

    /// A sender, sometimes a hoarded one (possibly of an old generation).
    fn any_tx(&mut self) -> Tx {
        if self.rng.u8(..4) == 0 {
            for h in &self.hoard {
                if let Hoard::Tx(t) = h {
                    return t.clone();
                }
            }
        }
        self.tx()
    }

    fn any_rx(&mut self) -> Rx {
        if self.rng.u8(..4) == 0 {
            for h in &self.hoard {
                if let Hoard::Rx(r) = h {
                    return r.clone();
                }
            }
        }
        self.rx()
    }

    /// Before an untimed blocking operation: hold no handle that someone may wait on.
    fn release_hoard(&mut self) {
        for _ in self.hoard.drain(..) {
            self.counts.ops[Op::HandleDrop as usize] += 1;
        }
    }

    fn step(&mut self) {
        if self.w.faults && self.rng.u8(..100) == 0 {
            self.set(Op::PanicProbe);
            crate::faults::probe(&self.w, &mut self.rng);
            return;
        }
        match self.rng.u32(..1000) {
            0..=99 => self.send_timeout(),
            100..=199 => self.recv_timeout(),
            200..=269 => self.try_send(),
            270..=339 => self.try_recv(),
            340..=369 => self.send_plain(),
            370..=399 => self.recv_plain(),
            400..=499 => self.select_timed(),
            500..=559 => self.select_default_timeout(),
            560..=599 => self.select_default(),
            600..=629 => self.select_quit(),
            630..=679 => self.dyn_select(),
            680 => self.close(),
            681 => self.replace(),
            682..=683 => self.try_recv(),
            684..=713 => self.hoard_clone(),
            714..=743 => self.hoard_drop(),
            744..=793 => self.ctx_derive(),
            794..=813 => self.ctx_cancel(),
            814..=833 => self.ctx_drop(),
            834..=853 => self.after_func(),
            854..=863 => self.after_func_stop(),
            864..=883 => self.after(),
            _ => self.timer_op(),
        }
    }

    fn send_timeout(&mut self) {
        self.set(Op::SendTimeout);
        let t = self.any_tx();
        let m = self.w.msg(&t, false, Op::SendTimeout);
        let id = m.id();
        let d = self.short();
        match t.tx.send_timeout(m, d) {
            Ok(()) => self.w.ledger.sent(id),
            Err(e) => e.into_inner().returned(&t, id),
        }
    }

    fn recv_timeout(&mut self) {
        self.set(Op::RecvTimeout);
        let r = self.any_rx();
        let d = self.short();
        if let Ok(m) = r.rx.recv_timeout(d) {
            m.received(&r);
        }
    }

    fn try_send(&mut self) {
        self.set(Op::TrySend);
        let t = self.any_tx();
        let m = self.w.msg(&t, false, Op::TrySend);
        let id = m.id();
        match t.tx.try_send(m) {
            Ok(()) => self.w.ledger.sent(id),
            Err(e) => e.into_inner().returned(&t, id),
        }
    }

    fn try_recv(&mut self) {
        self.set(Op::TryRecv);
        let r = self.any_rx();
        match r.rx.try_recv() {
            Ok(m) => m.received(&r),
            Err(gochan::TryRecvError::Closed) if self.rng.u8(..8) == 0 => {
                // A closed slot is replaced now and then so traffic goes on.
                let i = self.slot();
                let (cur, gen) = self.w.slots[i].rx();
                if cur.rx.is_closed() {
                    self.w.slots[i].replace(gen, false);
                }
            }
            Err(_) => {}
        }
    }

    fn send_plain(&mut self) {
        self.set(Op::Send);
        self.release_hoard();
        let t = self.tx();
        let m = self.w.msg(&t, false, Op::Send);
        let id = m.id();
        settle_send(&self.w, t.tx.send(m), id, &t);
    }

    fn recv_plain(&mut self) {
        self.set(Op::Recv);
        self.release_hoard();
        let r = self.rx();
        settle_recv(&self.w, r.rx.recv(), &r);
    }

    fn select_timed(&mut self) {
        self.set(Op::SelectTimeout);
        let (r1, r2, t1, t2) = (self.any_rx(), self.rx(), self.any_tx(), self.tx());
        let m1 = self.w.msg(&t1, true, Op::SelectTimeout);
        let m2 = self.w.msg(&t2, true, Op::SelectTimeout);
        let (id1, id2) = (m1.id(), m2.id());
        let ctx = self
            .w
            .random_ctx(&mut self.rng, true)
            .expect("root allowed")
            .0;
        let timeout = gochan::after(self.short());
        let w = &*self.w;
        let k = gochan::select! {
            recv(r1.rx) -> v => { settle_recv(w, v, &r1); 0 },
            recv(r2.rx) -> v => { settle_recv(w, v, &r2); 1 },
            send(t1.tx, m1) -> res => { settle_send(w, res, id1, &t1); 2 },
            send(t2.tx, m2) -> res => { settle_send(w, res, id2, &t2); 3 },
            recv(ctx.done()) -> v => { settle_done(w, v, &ctx); 4 },
            recv(timeout) -> v => {
                if v.is_err() {
                    w.problem("after(): channel closed without a value".into());
                }
                5
            },
        };
        world::unchosen(w, &[(2, id1), (3, id2)], k);
    }

    fn select_default_timeout(&mut self) {
        self.set(Op::Select);
        let (r1, t1) = (self.any_rx(), self.any_tx());
        let m1 = self.w.msg(&t1, true, Op::Select);
        let id1 = m1.id();
        let d = self.short();
        let w = &*self.w;
        let k = gochan::select! {
            recv(r1.rx) -> v => { settle_recv(w, v, &r1); 0 },
            send(t1.tx, m1) -> res => { settle_send(w, res, id1, &t1); 1 },
            default(d) => usize::MAX,
        };
        world::unchosen(w, &[(1, id1)], k);
    }

    fn select_default(&mut self) {
        self.set(Op::SelectDefault);
        let (r1, r2, t1) = (self.rx(), self.any_rx(), self.tx());
        let m1 = self.w.msg(&t1, true, Op::SelectDefault);
        let id1 = m1.id();
        let w = &*self.w;
        let k = gochan::select! {
            recv(r1.rx) -> v => { settle_recv(w, v, &r1); 0 },
            send(t1.tx, m1) -> res => { settle_send(w, res, id1, &t1); 1 },
            recv(r2.rx) -> v => { settle_recv(w, v, &r2); 2 },
            default => usize::MAX,
        };
        world::unchosen(w, &[(1, id1)], k);
    }

    /// Untimed: only another party or the final close of `quit` wakes it. Its send and
    /// receive are on different channels: a party holding both ends of a channel the
    /// others abandoned would wait for `quit` (as it would deadlock in Go).
    fn select_quit(&mut self) {
        self.set(Op::SelectQuit);
        self.release_hoard();
        let i = self.w.slot_with(&mut self.rng, &[0, 1, 2]);
        let j = self.w.slot_not(&mut self.rng, &[i]);
        let (r1, t1) = (self.w.slots[j].rx().0, self.w.slots[i].tx().0);
        let m1 = self.w.msg(&t1, true, Op::SelectQuit);
        let id1 = m1.id();
        let w = &*self.w;
        let k = gochan::select! {
            recv(r1.rx) -> v => { settle_recv(w, v, &r1); 0 },
            send(t1.tx, m1) -> res => { settle_send(w, res, id1, &t1); 1 },
            recv(w.quit_rx) -> v => {
                if v.is_ok() || !w.stopping() {
                    w.problem("quit channel fired before shutdown".into());
                }
                2
            },
        };
        world::unchosen(w, &[(1, id1)], k);
    }

    fn dyn_select(&mut self) {
        self.set(Op::DynSelect);
        let rxs: Vec<Rx> = (0..self.rng.usize(1..=3)).map(|_| self.any_rx()).collect();
        let txs: Vec<Tx> = (0..self.rng.usize(0..=2)).map(|_| self.any_tx()).collect();
        let msgs: Vec<_> = txs
            .iter()
            .map(|t| self.w.msg(t, true, Op::DynSelect))
            .collect();
        let ids: Vec<u64> = msgs.iter().map(|m| m.id()).collect();
        let d = self.short();
        let w = &*self.w;
        let mut sel = gochan::Select::new();
        for r in &rxs {
            sel.recv(&r.rx);
        }
        for (t, m) in txs.iter().zip(msgs) {
            sel.send(&t.tx, m);
        }
        let chosen = match sel.select_timeout(d) {
            Ok(op) => {
                let i = op.index();
                if i < rxs.len() {
                    settle_recv(w, op.recv(&rxs[i].rx), &rxs[i]);
                } else {
                    let j = i - rxs.len();
                    settle_send(w, op.send(&txs[j].tx), ids[j], &txs[j]);
                }
                i
            }
            Err(_) => usize::MAX,
        };
        drop(sel);
        let sends: Vec<(usize, u64)> = ids
            .iter()
            .enumerate()
            .map(|(j, &id)| (rxs.len() + j, id))
            .collect();
        world::unchosen(w, &sends, chosen);
    }

    fn close(&mut self) {
        self.set(Op::Close);
        let i = self.slot();
        self.w.slots[i].close();
        if self.rng.bool() {
            let gen = self.w.slots[i].tx().1;
            self.w.slots[i].replace(gen, false);
        }
    }

    fn replace(&mut self) {
        self.set(Op::Replace);
        let i = self.slot();
        let gen = self.w.slots[i].tx().1;
        let close_old = self.rng.bool();
        self.w.slots[i].replace(gen, close_old);
    }

    fn hoard_clone(&mut self) {
        self.set(Op::HandleClone);
        let h = if self.rng.bool() {
            Hoard::Tx(self.tx())
        } else {
            Hoard::Rx(self.rx())
        };
        if self.hoard.len() >= HOARD_MAX {
            let i = self.rng.usize(..self.hoard.len());
            self.hoard.swap_remove(i);
        }
        self.hoard.push(h);
    }

    fn hoard_drop(&mut self) {
        self.set(Op::HandleDrop);
        if !self.hoard.is_empty() {
            let i = self.rng.usize(..self.hoard.len());
            self.hoard.swap_remove(i);
        }
    }

    fn ctx_derive(&mut self) {
        self.set(Op::CtxDerive);
        let parent = self
            .w
            .random_ctx(&mut self.rng, true)
            .expect("root allowed");
        let child = world::derive(&self.w, &mut self.rng, parent);
        self.w.pool_push(&mut self.rng, child);
    }

    fn ctx_cancel(&mut self) {
        self.set(Op::CtxCancel);
        let pool = self.w.pool.lock();
        if !pool.is_empty() {
            world::cancel(&self.w, &pool[self.rng.usize(..pool.len())]);
        }
    }

    fn ctx_drop(&mut self) {
        self.set(Op::CtxDrop);
        drop(self.w.pool_take(&mut self.rng));
    }

    fn after_func(&mut self) {
        self.set(Op::AfterFunc);
        if let Some(af) = world::register_after_func(&self.w, &mut self.rng) {
            if self.afs.len() >= HOARD_MAX {
                let i = self.rng.usize(..self.afs.len());
                self.afs.swap_remove(i); // abandoned: must still run once
            }
            self.afs.push(af);
        }
    }

    fn after_func_stop(&mut self) {
        self.set(Op::AfterFuncStop);
        if !self.afs.is_empty() {
            let af = self.afs.swap_remove(self.rng.usize(..self.afs.len()));
            if af.stop() {
                self.w.af.stopped.fetch_add(1, Ordering::AcqRel);
            }
        }
    }

    fn after(&mut self) {
        self.set(Op::After);
        let d = self.short();
        let start = Instant::now();
        match gochan::after(d).recv_timeout(d + Duration::from_secs(5)) {
            Ok(at) if at < start + d => self.w.problem(format!("after({d:?}) fired early")),
            Ok(_) => {}
            Err(e) => self
                .w
                .problem(format!("after({d:?}) did not fire within 5 s: {e}")),
        }
    }

    fn timer_op(&mut self) {
        let k = if self.timers.is_empty() {
            0
        } else {
            self.rng.u8(..5)
        };
        let i = self.rng.usize(..self.timers.len().max(1));
        match k {
            0 => {
                self.set(Op::TimerNew);
                let d = if self.rng.bool() {
                    self.short()
                } else {
                    Duration::from_secs(3600)
                };
                let armed = Instant::now();
                let t = Timer::new(d);
                if self.timers.len() >= HOARD_MAX {
                    self.timers.swap_remove(i);
                }
                self.timers.push(TimerSlot {
                    t,
                    armed,
                    d,
                    stopped: false,
                });
            }
            1 => {
                self.set(Op::TimerStop);
                let ts = &mut self.timers[i];
                ts.t.stop();
                ts.stopped = true;
                if ts.t.c.try_recv().is_ok() {
                    self.w
                        .problem("Timer: value received right after stop()".into());
                }
            }
            2 => {
                self.set(Op::TimerReset);
                let d = self.short();
                let ts = &mut self.timers[i];
                ts.armed = Instant::now();
                ts.t.reset(d);
                ts.d = d;
                ts.stopped = false;
            }
            3 => {
                self.set(Op::TimerRecv);
                let wait = self.short();
                let ts = &self.timers[i];
                if let Ok(at) = ts.t.c.recv_timeout(wait) {
                    if ts.stopped {
                        self.w.problem("Timer: fired after stop()".into());
                    } else if at < ts.armed + ts.d {
                        self.w.problem(format!("Timer({:?}) fired early", ts.d));
                    }
                }
            }
            _ => {
                self.set(Op::TimerDrop);
                self.timers.swap_remove(i);
            }
        }
    }
}
