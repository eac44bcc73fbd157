//! A tokio-task worker: `send_async`/`recv_async`/`select_async!`, often raced against a
//! short tokio timeout so the gochan future is dropped mid-wait (a fault), plus
//! non-blocking operations, context waits, contexts and after_func.

use std::future::Future;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::task::Poll;
use std::time::{Duration, Instant};

use crate::ledger::{Rx, Tx};
use crate::world::{self, settle_done, settle_recv, settle_send, Counts, Fault, Op, World};

struct Task {
    w: Arc<World>,
    idx: usize,
    rng: fastrand::Rng,
    counts: Counts,
}

/// Runs operations until the world stops.
pub async fn run(w: Arc<World>, idx: usize, seed: u64) {
    let _mark = world::ExitMark(w.clone(), idx);
    let mut t = Task {
        w,
        idx,
        rng: fastrand::Rng::with_seed(seed),
        counts: Counts::default(),
    };
    let mut n = 0u64;
    while !t.w.stopping() {
        if t.w.faults {
            // A panicking drop (fault mode) unwinds out of the operation; the task goes on.
            let w = t.w.clone();
            if let Err(p) = catch_unwind(t.step()).await {
                w.ledger.caught(p, "a task's operation");
            }
        } else {
            t.step().await;
        }
        n += 1;
        if n % 256 == 0 {
            t.w.ops_total.fetch_add(256, Ordering::Relaxed);
        }
    }
    t.w.counts.lock().merge(&t.counts);
}

/// Polls `fut` to its end, catching a panic of any poll (the future is then dropped).
async fn catch_unwind<F: Future>(fut: F) -> std::thread::Result<F::Output> {
    let mut fut = std::pin::pin!(fut);
    std::future::poll_fn(move |cx| {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| fut.as_mut().poll(cx))) {
            Ok(Poll::Ready(v)) => Poll::Ready(Ok(v)),
            Ok(Poll::Pending) => Poll::Pending,
            Err(p) => Poll::Ready(Err(p)),
        }
    })
    .await
}

impl Task {
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

    fn tx(&mut self) -> Tx {
        let i = self.rng.usize(..self.w.slots.len());
        self.w.slots[i].tx().0
    }

    fn rx(&mut self) -> Rx {
        let i = self.rng.usize(..self.w.slots.len());
        self.w.slots[i].rx().0
    }

    /// Awaits `fut`, or (when `race`) drops it mid-wait: after a short tokio timeout, or
    /// right after its k-th poll returned Pending (k in 1..=4, other tasks running in
    /// between), for a tight race with the parties that complete it. Returns `false` and
    /// counts `fault` if it was dropped before completing.
    async fn race<T, F: Future<Output = T>>(
        &mut self,
        race: bool,
        fault: Fault,
        fut: F,
    ) -> Option<T> {
        if !race {
            return Some(fut.await);
        }
        let out = if self.rng.bool() {
            let d = self.short();
            tokio::time::timeout(d, fut).await.ok()
        } else {
            let polls = self.rng.u32(1..=4);
            let mut fut = std::pin::pin!(fut);
            let mut out = None;
            for _ in 0..polls {
                let once = std::future::poll_fn(|cx| Poll::Ready(fut.as_mut().poll(cx)));
                if let Poll::Ready(v) = once.await {
                    out = Some(v);
                    break;
                }
                tokio::task::yield_now().await;
            }
            out
        };
        if out.is_none() {
            self.counts.faults[fault as usize] += 1;
        }
        out
    }

    async fn step(&mut self) {
        if self.w.faults && self.rng.u8(..100) == 0 {
            self.set(Op::PanicProbe);
            crate::faults::probe(&self.w, &mut self.rng);
            return;
        }
        match self.rng.u32(..1000) {
            0..=179 => self.send_async().await,
            180..=359 => self.recv_async().await,
            360..=519 => self.select_async().await,
            520..=599 => self.select_async_timed().await,
            600..=659 => self.select_async_default().await,
            660..=699 => self.select_async_quit().await,
            700..=769 => self.try_ops(),
            770..=809 => self.ctx_wait().await,
            810..=859 => {
                self.set(Op::CtxDerive);
                let parent = self.w.random_ctx(&mut self.rng, true).expect("root");
                let child = world::derive(&self.w, &mut self.rng, parent);
                self.w.pool_push(&mut self.rng, child);
            }
            860..=874 => {
                self.set(Op::CtxCancel);
                let pool = self.w.pool.lock();
                if !pool.is_empty() {
                    world::cancel(&self.w, &pool[self.rng.usize(..pool.len())]);
                }
            }
            875..=889 => {
                self.set(Op::CtxDrop);
                drop(self.w.pool_take(&mut self.rng));
            }
            890..=909 => {
                self.set(Op::AfterFunc);
                if let Some(af) = world::register_after_func(&self.w, &mut self.rng) {
                    if self.rng.bool() && af.stop() {
                        self.w.af.stopped.fetch_add(1, Ordering::AcqRel);
                    }
                }
            }
            910..=939 => self.after().await,
            _ => {
                self.set(Op::Yield);
                tokio::task::yield_now().await;
            }
        }
    }

    async fn send_async(&mut self) {
        self.set(Op::SendAsync);
        let race = self.rng.u8(..4) < if self.w.faults { 3 } else { 2 };
        let t = self.tx();
        let m = self.w.msg(&t, race, Op::SendAsync);
        let id = m.id();
        let w = self.w.clone();
        let fut = async { settle_send(&w, t.tx.send_async(m).await, id, &t) };
        self.race(race, Fault::SendAsyncDropped, fut).await;
    }

    async fn recv_async(&mut self) {
        self.set(Op::RecvAsync);
        let race = self.rng.u8(..4) < if self.w.faults { 3 } else { 2 };
        let r = self.rx();
        let w = self.w.clone();
        let fut = async { settle_recv(&w, r.rx.recv_async().await, &r) };
        self.race(race, Fault::RecvAsyncDropped, fut).await;
    }

    /// Two receives and two sends, on unbuffered channels (and one random), usually
    /// dropped mid-wait. Raced, a send and a receive share a channel (no self-pairing).
    /// Unraced, it also waits on `quit`, and no channel is both received from and sent
    /// to: a party holding both ends of a channel the others abandoned would wait for
    /// `quit` (it would deadlock in Go). Raced, the `quit` arm is `never()`.
    async fn select_async(&mut self) {
        self.set(Op::SelectAsync);
        let race = self.rng.u8(..4) != 0;
        let a = self.w.slot_with(&mut self.rng, &[0]);
        let b = (a + world::CAPS.len()) % self.w.slots.len(); // the other unbuffered slot
        let (i1, j1, i2, j2) = if race {
            (a, a, b, b)
        } else {
            let c = self.w.slot_not(&mut self.rng, &[b]);
            (a, b, c, self.w.slot_not(&mut self.rng, &[a, c]))
        };
        let s = &self.w.slots;
        let (r1, t1, r2, t2) = (s[i1].rx().0, s[j1].tx().0, s[i2].rx().0, s[j2].tx().0);
        let m1 = self.w.msg(&t1, true, Op::SelectAsync);
        let m2 = self.w.msg(&t2, true, Op::SelectAsync);
        let (id1, id2) = (m1.id(), m2.id());
        let quit = if race {
            gochan::never()
        } else {
            self.w.quit_rx.clone()
        };
        let w = self.w.clone();
        let fut = async {
            gochan::select_async! {
                recv(r1.rx) -> v => { settle_recv(&w, v, &r1); 0 },
                send(t1.tx, m1) -> res => { settle_send(&w, res, id1, &t1); 1 },
                recv(r2.rx) -> v => { settle_recv(&w, v, &r2); 2 },
                send(t2.tx, m2) -> res => { settle_send(&w, res, id2, &t2); 3 },
                recv(quit) -> v => {
                    if v.is_ok() || !w.stopping() {
                        w.problem("quit channel fired before shutdown".into());
                    }
                    4
                },
            }
        };
        if let Some(k) = self.race(race, Fault::SelectAsyncDropped, fut).await {
            world::unchosen(&self.w, &[(1, id1), (3, id2)], k);
        }
    }

    /// Channel arms with a context's done channel and an `after` arm.
    async fn select_async_timed(&mut self) {
        self.set(Op::SelectAsyncTimed);
        let (r1, t1, t2) = (self.rx(), self.tx(), self.tx());
        let m1 = self.w.msg(&t1, true, Op::SelectAsync);
        let m2 = self.w.msg(&t2, true, Op::SelectAsync);
        let (id1, id2) = (m1.id(), m2.id());
        let ctx = self.w.random_ctx(&mut self.rng, true).expect("root").0;
        let timeout = gochan::after(self.short());
        let w = self.w.clone();
        let fut = async {
            gochan::select_async! {
                recv(r1.rx) -> v => { settle_recv(&w, v, &r1); 0 },
                send(t1.tx, m1) -> res => { settle_send(&w, res, id1, &t1); 1 },
                send(t2.tx, m2) -> res => { settle_send(&w, res, id2, &t2); 2 },
                recv(ctx.done()) -> v => { settle_done(&w, v, &ctx); 3 },
                recv(timeout) -> v => {
                    if v.is_err() {
                        w.problem("after(): channel closed without a value".into());
                    }
                    4
                },
            }
        };
        let race = self.rng.u8(..4) == 0;
        if let Some(k) = self.race(race, Fault::SelectAsyncDropped, fut).await {
            world::unchosen(&self.w, &[(1, id1), (2, id2)], k);
        }
    }

    /// With a default arm, select_async! never waits.
    async fn select_async_default(&mut self) {
        self.set(Op::SelectAsyncDefault);
        let (r1, t1) = (self.rx(), self.tx());
        let m1 = self.w.msg(&t1, true, Op::SelectAsyncDefault);
        let id1 = m1.id();
        let w = &*self.w;
        let k = gochan::select_async! {
            recv(r1.rx) -> v => { settle_recv(w, v, &r1); 0 },
            send(t1.tx, m1) -> res => { settle_send(w, res, id1, &t1); 1 },
            default => usize::MAX,
        };
        world::unchosen(w, &[(1, id1)], k);
    }

    /// Untimed: only another party or the final close of `quit` wakes it.
    /// Send and receive on different channels (see the sync worker's `select_quit`).
    async fn select_async_quit(&mut self) {
        self.set(Op::SelectQuit);
        let i = self.rng.usize(..self.w.slots.len());
        let j = self.w.slot_not(&mut self.rng, &[i]);
        let (r1, t1) = (self.w.slots[j].rx().0, self.w.slots[i].tx().0);
        let m1 = self.w.msg(&t1, true, Op::SelectQuit);
        let id1 = m1.id();
        let w = &*self.w;
        let k = gochan::select_async! {
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

    fn try_ops(&mut self) {
        if self.rng.bool() {
            self.set(Op::TrySend);
            let t = self.tx();
            let m = self.w.msg(&t, false, Op::TrySend);
            let id = m.id();
            match t.tx.try_send(m) {
                Ok(()) => self.w.ledger.sent(id),
                Err(e) => e.into_inner().returned(&t, id),
            }
        } else {
            self.set(Op::TryRecv);
            let r = self.rx();
            if let Ok(m) = r.rx.try_recv() {
                m.received(&r);
            }
        }
    }

    async fn ctx_wait(&mut self) {
        self.set(Op::CtxWaitAsync);
        let Some((ctx, _)) = self.w.random_ctx(&mut self.rng, false) else {
            return;
        };
        let c = ctx.clone();
        let w = self.w.clone();
        let fut = async move {
            c.cancelled().await;
            if c.err().is_none() {
                w.problem(format!("{c}: cancelled() resolved while live"));
            }
        };
        self.race(true, Fault::CtxWaitDropped, fut).await;
    }

    async fn after(&mut self) {
        self.set(Op::After);
        let d = self.short();
        let start = Instant::now();
        let rx = gochan::after(d);
        let limit = d + Duration::from_secs(5);
        match tokio::time::timeout(limit, rx.recv_async()).await {
            Ok(Ok(at)) if at < start + d => self.w.problem(format!("after({d:?}) fired early")),
            Ok(Ok(_)) => {}
            Ok(Err(_)) => self
                .w
                .problem("after(): channel closed without a value".into()),
            Err(_) => self
                .w
                .problem(format!("after({d:?}) did not fire within 5 s")),
        }
    }
}
