//! The channel model: Go's `hchan` semantics plus gochan's Rust rules (last sender closes,
//! last receiver fails sends and drops the buffer, async waiters can be dropped, a value
//! handed to a dropped receive future goes back).

use std::collections::VecDeque;

use proptest::prelude::*;

#[path = "chan_run.rs"]
mod run;
pub use run::run;

pub fn caps() -> impl Strategy<Value = Vec<Option<usize>>> {
    let cap = prop_oneof![
        Just(Some(0)),
        Just(Some(1)),
        Just(Some(2)),
        Just(Some(5)),
        Just(None)
    ];
    prop::collection::vec(cap, 1..=3)
}

/// Channel and handle numbers are taken modulo what exists when the op runs.
#[derive(Clone, Debug)]
pub enum Op {
    TrySend(u8),
    Send(u8),
    SendTimeout0(u8),
    TryRecv(u8),
    Recv(u8),
    RecvTimeout0(u8),
    Close(u8),
    CloneTx(u8),
    DropTx(u8, u8),
    CloneRx(u8),
    DropRx(u8, u8),
    /// `select! { recv(a), send(b), default }`, or without `default` (blocking) if `true`
    /// and the model says an arm is ready.
    Select2(u8, u8, bool),
    /// `select! { recv(a), recv(b), send(c), send(d), default }`; `default(ZERO)` if `true`.
    Select4([u8; 4], bool),
    /// A dynamic `Select` over (is_send, channel) arms, run by `try_select` (mode 0),
    /// `select` if the model says an arm is ready (1), or `select_timeout(ZERO)` (2).
    DynSelect(u8, Vec<(bool, u8)>),
    /// A future polled once: `recv_async`/`send_async` (first arm only) unless `dynamic`,
    /// else `Select::select_async` over the arms (one per channel and direction).
    Future(bool, Vec<(bool, u8)>),
    Poll(u8),
    DropFut(u8),
}

pub fn ops() -> impl Strategy<Value = Vec<Op>> {
    let ch = || 0u8..3;
    let arms = || prop::collection::vec((any::<bool>(), 0u8..3), 1..=4);
    // Futures register only when no arm is ready: favour receive arms.
    let fut_arms = prop::collection::vec((prop::bool::weighted(0.3), 0u8..3), 1..=4);
    let op = prop_oneof![
        6 => ch().prop_map(Op::TrySend),
        3 => ch().prop_map(Op::Send),
        2 => ch().prop_map(Op::SendTimeout0),
        5 => ch().prop_map(Op::TryRecv),
        3 => ch().prop_map(Op::Recv),
        2 => ch().prop_map(Op::RecvTimeout0),
        1 => ch().prop_map(Op::Close),
        1 => ch().prop_map(Op::CloneTx),
        1 => (ch(), 0u8..4).prop_map(|(c, h)| Op::DropTx(c, h)),
        1 => ch().prop_map(Op::CloneRx),
        1 => (ch(), 0u8..4).prop_map(|(c, h)| Op::DropRx(c, h)),
        3 => (ch(), ch(), any::<bool>()).prop_map(|(a, b, k)| Op::Select2(a, b, k)),
        3 => ([ch(), ch(), ch(), ch()], any::<bool>()).prop_map(|(c, z)| Op::Select4(c, z)),
        4 => (0u8..3, arms()).prop_map(|(k, a)| Op::DynSelect(k, a)),
        10 => (any::<bool>(), fut_arms).prop_map(|(d, a)| Op::Future(d, a)),
        7 => (0u8..8).prop_map(Op::Poll),
        5 => (0u8..8).prop_map(Op::DropFut),
    ];
    prop::collection::vec(op, 1..120)
}

// ---------------------------------------------------------------------------------------
// The model

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Fate {
    Live,
    Received,
    Returned,
    Dropped,
}

#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Arm {
    Recv(usize),
    Send(usize, u32),
}

/// A waiter's single decision (Go's sudog + gochan's CAS).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum WState {
    Waiting,
    Sel {
        arm: usize,
        closed: bool,
        got: Option<u32>,
    },
}

struct MFut {
    arms: Vec<Arm>,
    state: WState,
    live: bool,
}

struct MChan {
    cap: Option<usize>,
    buf: VecDeque<u32>,
    closed: bool,
    rx_gone: bool,
    txs: usize,
    rxs: usize,
    /// Waiting (undecided) parties, FIFO: (future, arm).
    recvq: VecDeque<(usize, usize)>,
    sendq: VecDeque<(usize, usize)>,
}

/// The comparable outcome of one operation (values by id).
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
enum Res {
    Sent,
    SendFull(u32),
    SendClosed(u32),
    Got(u32),
    RecvEmpty,
    RecvClosed,
}

struct Model {
    ch: Vec<MChan>,
    futs: Vec<MFut>,
    fate: Vec<Fate>,
}

impl Model {
    fn new_id(&mut self) -> u32 {
        self.fate.push(Fate::Live);
        self.fate.len() as u32 - 1
    }

    fn has_room(&self, c: usize) -> bool {
        let ch = &self.ch[c];
        ch.cap.is_none_or(|cap| ch.buf.len() < cap)
    }

    /// Values handed to live async receivers and not yet taken or given back. gochan's
    /// rule, not Go's: while such a value may still come back (its future dropped), a
    /// closed channel is not drained yet, so receives see `Empty`, not `Closed`.
    fn handed(&self, c: usize) -> usize {
        self.futs
            .iter()
            .filter(|f| f.live)
            .filter(|f| match f.state {
                WState::Sel {
                    arm, got: Some(_), ..
                } => f.arms[arm] == Arm::Recv(c),
                _ => false,
            })
            .count()
    }

    /// Each value meets exactly one fate, once.
    fn set_fate(&mut self, id: u32, f: Fate) {
        let old = std::mem::replace(&mut self.fate[id as usize], f);
        assert_eq!(old, Fate::Live, "model: value {id} {f:?} after {old:?}");
    }

    /// A value came back to the test (received or in an error).
    fn settle(&mut self, r: Res) {
        match r {
            Res::Got(id) => self.set_fate(id, Fate::Received),
            Res::SendFull(id) | Res::SendClosed(id) => self.set_fate(id, Fate::Returned),
            _ => {}
        }
    }

    fn decide(&mut self, w: usize, arm: usize, closed: bool, got: Option<u32>) {
        assert_eq!(self.futs[w].state, WState::Waiting);
        self.futs[w].state = WState::Sel { arm, closed, got };
        for ch in &mut self.ch {
            ch.recvq.retain(|e| e.0 != w);
            ch.sendq.retain(|e| e.0 != w);
        }
    }

    fn send_ready(&self, c: usize) -> bool {
        let ch = &self.ch[c];
        ch.closed || ch.rx_gone || !ch.recvq.is_empty() || self.has_room(c)
    }

    fn recv_ready(&self, c: usize) -> bool {
        let ch = &self.ch[c];
        !ch.buf.is_empty() || !ch.sendq.is_empty() || (ch.closed && self.handed(c) == 0)
    }

    fn try_send(&mut self, c: usize, id: u32) -> Res {
        if self.ch[c].closed || self.ch[c].rx_gone {
            return Res::SendClosed(id);
        }
        if let Some((w, arm)) = self.ch[c].recvq.pop_front() {
            self.decide(w, arm, false, Some(id));
            return Res::Sent;
        }
        if self.has_room(c) {
            self.ch[c].buf.push_back(id);
            return Res::Sent;
        }
        Res::SendFull(id)
    }

    fn sender_value(&self, w: usize, arm: usize) -> u32 {
        match self.futs[w].arms[arm] {
            Arm::Send(_, id) => id,
            Arm::Recv(_) => unreachable!("a send queue holds send arms"),
        }
    }

    fn try_recv(&mut self, c: usize) -> Res {
        if let Some(v) = self.ch[c].buf.pop_front() {
            if self.has_room(c) {
                if let Some((w, arm)) = self.ch[c].sendq.pop_front() {
                    self.decide(w, arm, false, None);
                    let id = self.sender_value(w, arm);
                    self.ch[c].buf.push_back(id);
                }
            }
            return Res::Got(v);
        }
        if let Some((w, arm)) = self.ch[c].sendq.pop_front() {
            self.decide(w, arm, false, None);
            return Res::Got(self.sender_value(w, arm));
        }
        if self.ch[c].closed && self.handed(c) == 0 {
            Res::RecvClosed
        } else {
            Res::RecvEmpty
        }
    }

    /// Closed and drained: every waiting receiver completes with "closed".
    fn finish_drained(&mut self, c: usize) {
        if self.ch[c].closed && self.handed(c) == 0 && self.ch[c].buf.is_empty() {
            let q: Vec<_> = self.ch[c].recvq.drain(..).collect();
            for (w, arm) in q {
                self.decide(w, arm, true, None);
            }
        }
    }

    fn close(&mut self, c: usize) -> bool {
        if self.ch[c].closed {
            return false;
        }
        self.ch[c].closed = true;
        let q: Vec<_> = self.ch[c].sendq.drain(..).collect();
        for (w, arm) in q {
            self.decide(w, arm, true, None);
        }
        self.finish_drained(c);
        true
    }

    fn release_tx(&mut self, c: usize) {
        self.ch[c].txs -= 1;
        if self.ch[c].txs == 0 {
            self.close(c);
        }
    }

    fn release_rx(&mut self, c: usize) {
        self.ch[c].rxs -= 1;
        if self.ch[c].rxs > 0 {
            return;
        }
        assert!(
            self.ch[c].recvq.is_empty(),
            "model: waiting receivers hold handles"
        );
        self.ch[c].rx_gone = true;
        let buf: Vec<_> = self.ch[c].buf.drain(..).collect();
        for id in buf {
            self.set_fate(id, Fate::Dropped);
        }
        let q: Vec<_> = self.ch[c].sendq.drain(..).collect();
        for (w, arm) in q {
            self.decide(w, arm, true, None);
        }
    }

    fn arm_ready(&self, a: Arm) -> bool {
        match a {
            Arm::Recv(c) => self.recv_ready(c),
            Arm::Send(c, _) => self.send_ready(c),
        }
    }

    fn apply(&mut self, a: Arm) -> Res {
        let r = match a {
            Arm::Recv(c) => self.try_recv(c),
            Arm::Send(c, id) => self.try_send(c, id),
        };
        self.settle(r);
        r
    }

    /// A non-blocking select chose `got` (`None`: default): it must be one of the arms
    /// that were ready, and have the model's result; the other send values are dropped.
    fn check_select(&mut self, arms: &[Arm], got: Option<(usize, Res)>) {
        let ready: Vec<usize> = (0..arms.len())
            .filter(|&i| self.arm_ready(arms[i]))
            .collect();
        let chosen = got.map(|g| g.0);
        match got {
            None => assert!(
                ready.is_empty(),
                "default taken, but arms {ready:?} of {arms:?} were ready"
            ),
            Some((i, res)) => {
                assert!(
                    ready.contains(&i),
                    "arm {i} chosen, only {ready:?} of {arms:?} ready"
                );
                let want = self.apply(arms[i]);
                assert_eq!(res, want, "select arm {i} ({:?})", arms[i]);
            }
        }
        for (j, a) in arms.iter().enumerate() {
            if let (Arm::Send(_, id), false) = (a, chosen == Some(j)) {
                self.set_fate(*id, Fate::Dropped);
            }
        }
    }

    /// A future completed or was dropped: values still in unchosen send arms are dropped,
    /// then its handles are released (in arm order, as the future drops them).
    fn finish(&mut self, w: usize, chosen: Option<usize>) {
        self.futs[w].live = false;
        for ch in &mut self.ch {
            ch.recvq.retain(|e| e.0 != w);
            ch.sendq.retain(|e| e.0 != w);
        }
        let arms = self.futs[w].arms.clone();
        for (j, a) in arms.iter().enumerate() {
            if let (Arm::Send(_, id), false) = (a, chosen == Some(j)) {
                self.set_fate(*id, Fate::Dropped);
            }
        }
        for a in arms {
            match a {
                Arm::Recv(c) => self.release_rx(c),
                Arm::Send(c, _) => self.release_tx(c),
            }
        }
    }

    fn register(&mut self, w: usize) {
        for (i, a) in self.futs[w].arms.clone().into_iter().enumerate() {
            match a {
                Arm::Recv(c) => self.ch[c].recvq.push_back((w, i)),
                Arm::Send(c, _) => self.ch[c].sendq.push_back((w, i)),
            }
        }
    }

    /// A later poll: `None` while undecided, else the arm and its result.
    fn poll(&mut self, w: usize) -> Option<(usize, Res)> {
        let WState::Sel { arm, closed, got } = self.futs[w].state else {
            return None;
        };
        let res = match (self.futs[w].arms[arm], closed) {
            (Arm::Recv(_), true) => Res::RecvClosed,
            (Arm::Recv(_), false) => Res::Got(got.expect("a selected receiver holds a value")),
            (Arm::Send(_, id), true) => Res::SendClosed(id),
            (Arm::Send(..), false) => Res::Sent,
        };
        self.settle(res);
        self.futs[w].live = false; // no longer holds a handed value
        if let Arm::Recv(c) = self.futs[w].arms[arm] {
            self.finish_drained(c);
        }
        self.finish(w, Some(arm));
        Some((arm, res))
    }

    fn drop_fut(&mut self, w: usize) {
        let WState::Sel { arm, closed, got } = self.futs[w].state else {
            return self.finish(w, None);
        };
        self.futs[w].live = false;
        match (self.futs[w].arms[arm], closed) {
            (Arm::Recv(c), false) => {
                // Given back: to the next waiting receiver, else the front of the buffer.
                let v = got.expect("a selected receiver holds a value");
                match self.ch[c].recvq.pop_front() {
                    Some((w2, arm2)) => self.decide(w2, arm2, false, Some(v)),
                    None => self.ch[c].buf.push_front(v),
                }
                self.finish_drained(c);
            }
            (Arm::Send(_, id), true) => self.set_fate(id, Fate::Dropped),
            _ => {}
        }
        self.finish(w, Some(arm));
    }
}
