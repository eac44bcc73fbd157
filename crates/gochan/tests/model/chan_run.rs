//! The implementation side of the channel model test: the same operations on real
//! channels and futures, compared with the model after every step.

use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use gochan::{
    Receiver, RecvError, RecvTimeoutError, Select, SendError, SendTimeoutError, Sender,
    TryRecvError, TrySendError,
};

use super::{Arm, Fate, MChan, MFut, Model, Op, Res, WState};
use crate::{drops_of, keep, reset_drops, watch, Val};

enum ArmRes {
    Recv(Result<Val, RecvError>),
    Send(Result<(), SendError<Val>>),
}

type Fut = Pin<Box<dyn Future<Output = (usize, ArmRes)>>>;

enum Handle {
    Rx(Receiver<Val>),
    Tx(Sender<Val>),
}

fn recv_res(r: Result<Val, RecvError>) -> Res {
    r.map_or(Res::RecvClosed, |v| Res::Got(keep(v)))
}

fn send_res(r: Result<(), SendError<Val>>) -> Res {
    r.map_or_else(|e| Res::SendClosed(keep(e.0)), |()| Res::Sent)
}

fn arm_res(r: ArmRes) -> Res {
    match r {
        ArmRes::Recv(r) => recv_res(r),
        ArmRes::Send(r) => send_res(r),
    }
}

fn poll_once(f: &mut Fut) -> Poll<(usize, Res)> {
    let mut cx = Context::from_waker(futures::task::noop_waker_ref());
    f.as_mut().poll(&mut cx).map(|(i, r)| (i, arm_res(r)))
}

/// `Select::select_async` over owned handles; unchosen send values drop with the select.
fn select_future(hs: Vec<Handle>, mut vals: Vec<Option<Val>>) -> Fut {
    Box::pin(async move {
        let mut sel = Select::new();
        for (h, v) in hs.iter().zip(vals.iter_mut()) {
            match h {
                Handle::Rx(rx) => sel.recv(rx),
                Handle::Tx(tx) => sel.send(tx, v.take().expect("a send arm has a value")),
            };
        }
        let op = sel.select_async().await;
        let i = op.index();
        let r = match &hs[i] {
            Handle::Rx(rx) => ArmRes::Recv(op.recv(rx)),
            Handle::Tx(tx) => ArmRes::Send(op.send(tx)),
        };
        (i, r)
    })
}

struct Real {
    txs: Vec<Vec<Sender<Val>>>,
    rxs: Vec<Vec<Receiver<Val>>>,
    /// Pending futures with their model ids.
    futs: Vec<(usize, Fut)>,
}

fn check(m: &Model, r: &Real) {
    for (c, ch) in m.ch.iter().enumerate() {
        let got = match (r.txs[c].last(), r.rxs[c].last()) {
            (Some(t), _) => (
                t.len(),
                t.is_empty(),
                t.is_full(),
                t.is_closed(),
                t.capacity(),
            ),
            (None, Some(x)) => (
                x.len(),
                x.is_empty(),
                x.is_full(),
                x.is_closed(),
                x.capacity(),
            ),
            (None, None) => continue,
        };
        let want = (
            ch.buf.len(),
            ch.buf.is_empty(),
            !m.has_room(c),
            ch.closed || ch.rx_gone,
            ch.cap,
        );
        assert_eq!(
            got, want,
            "chan {c}: (len, is_empty, is_full, is_closed, capacity)"
        );
    }
    for (id, f) in m.fate.iter().enumerate() {
        let want = u8::from(*f == Fate::Dropped);
        assert_eq!(
            drops_of(id as u32),
            want,
            "value {id} (model: {f:?}) drop count"
        );
    }
}

pub fn run(caps: &[Option<usize>], ops: &[Op]) {
    reset_drops();
    let n = caps.len();
    let mut m = Model {
        ch: Vec::new(),
        futs: Vec::new(),
        fate: Vec::new(),
    };
    let mut r = Real {
        txs: Vec::new(),
        rxs: Vec::new(),
        futs: Vec::new(),
    };
    for &cap in caps {
        let (tx, rx) = cap.map_or_else(gochan::unbounded, gochan::bounded);
        r.txs.push(vec![tx]);
        r.rxs.push(vec![rx]);
        m.ch.push(MChan {
            cap,
            buf: VecDeque::new(),
            closed: false,
            rx_gone: false,
            txs: 1,
            rxs: 1,
            recvq: VecDeque::new(),
            sendq: VecDeque::new(),
        });
    }
    for (step, op) in ops.iter().enumerate() {
        let ch = |c: &u8| *c as usize % n;
        match op {
            Op::TrySend(c) | Op::Send(c) | Op::SendTimeout0(c) => {
                let c = ch(c);
                let Some(tx) = r.txs[c].last() else { continue };
                let id = m.new_id();
                let got = match op {
                    Op::Send(_) if m.send_ready(c) => {
                        let _w = watch(&format!("{op:?}"));
                        send_res(tx.send(Val(id)))
                    }
                    Op::SendTimeout0(_) => match tx.send_timeout(Val(id), Default::default()) {
                        Ok(()) => Res::Sent,
                        Err(SendTimeoutError::Timeout(v)) => Res::SendFull(keep(v)),
                        Err(SendTimeoutError::Closed(v)) => Res::SendClosed(keep(v)),
                    },
                    _ => match tx.try_send(Val(id)) {
                        Ok(()) => Res::Sent,
                        Err(TrySendError::Full(v)) => Res::SendFull(keep(v)),
                        Err(TrySendError::Closed(v)) => Res::SendClosed(keep(v)),
                    },
                };
                let want = m.try_send(c, id);
                m.settle(want);
                assert_eq!(got, want, "step {step}: {op:?}");
            }
            Op::TryRecv(c) | Op::Recv(c) | Op::RecvTimeout0(c) => {
                let c = ch(c);
                let Some(rx) = r.rxs[c].last() else { continue };
                let got = match op {
                    Op::Recv(_) if m.recv_ready(c) => {
                        let _w = watch(&format!("{op:?}"));
                        recv_res(rx.recv())
                    }
                    Op::RecvTimeout0(_) => match rx.recv_timeout(Default::default()) {
                        Ok(v) => Res::Got(keep(v)),
                        Err(RecvTimeoutError::Timeout) => Res::RecvEmpty,
                        Err(RecvTimeoutError::Closed) => Res::RecvClosed,
                    },
                    _ => match rx.try_recv() {
                        Ok(v) => Res::Got(keep(v)),
                        Err(TryRecvError::Empty) => Res::RecvEmpty,
                        Err(TryRecvError::Closed) => Res::RecvClosed,
                    },
                };
                let want = m.try_recv(c);
                m.settle(want);
                assert_eq!(got, want, "step {step}: {op:?}");
            }
            Op::Close(c) => {
                let c = ch(c);
                let Some(tx) = r.txs[c].last() else { continue };
                assert_eq!(tx.close(), m.close(c), "step {step}: {op:?}");
            }
            Op::CloneTx(c) => {
                let c = ch(c);
                let Some(tx) = r.txs[c].last().cloned() else {
                    continue;
                };
                r.txs[c].push(tx);
                m.ch[c].txs += 1;
            }
            Op::CloneRx(c) => {
                let c = ch(c);
                let Some(rx) = r.rxs[c].last().cloned() else {
                    continue;
                };
                r.rxs[c].push(rx);
                m.ch[c].rxs += 1;
            }
            Op::DropTx(c, h) => {
                let c = ch(c);
                if r.txs[c].is_empty() {
                    continue;
                }
                let h = *h as usize % r.txs[c].len();
                drop(r.txs[c].remove(h));
                m.release_tx(c);
            }
            Op::DropRx(c, h) => {
                let c = ch(c);
                if r.rxs[c].is_empty() {
                    continue;
                }
                let h = *h as usize % r.rxs[c].len();
                drop(r.rxs[c].remove(h));
                m.release_rx(c);
            }
            Op::Select2(a, b, blocking) => {
                let (a, b) = (ch(a), ch(b));
                let (Some(rx), Some(tx)) = (r.rxs[a].last(), r.txs[b].last()) else {
                    continue;
                };
                let id = m.new_id();
                let arms = [Arm::Recv(a), Arm::Send(b, id)];
                let got = if *blocking && arms.iter().any(|a| m.arm_ready(*a)) {
                    let _w = watch(&format!("{op:?}"));
                    gochan::select! {
                        recv(*rx) -> v => Some((0, recv_res(v))),
                        send(*tx, Val(id)) -> s => Some((1, send_res(s))),
                    }
                } else {
                    gochan::select! {
                        recv(*rx) -> v => Some((0, recv_res(v))),
                        send(*tx, Val(id)) -> s => Some((1, send_res(s))),
                        default => None,
                    }
                };
                m.check_select(&arms, got);
            }
            Op::Select4(cs, zero) => {
                let [a, b, c, d] = cs.map(|c| ch(&c));
                let (Some(ra), Some(rb), Some(tc), Some(td)) = (
                    r.rxs[a].last(),
                    r.rxs[b].last(),
                    r.txs[c].last(),
                    r.txs[d].last(),
                ) else {
                    continue;
                };
                let (i1, i2) = (m.new_id(), m.new_id());
                let got = if *zero {
                    gochan::select! {
                        recv(*ra) -> v => Some((0, recv_res(v))),
                        recv(*rb) -> v => Some((1, recv_res(v))),
                        send(*tc, Val(i1)) -> s => Some((2, send_res(s))),
                        send(*td, Val(i2)) -> s => Some((3, send_res(s))),
                        default(Duration::ZERO) => None,
                    }
                } else {
                    gochan::select! {
                        recv(*ra) -> v => Some((0, recv_res(v))),
                        recv(*rb) -> v => Some((1, recv_res(v))),
                        send(*tc, Val(i1)) -> s => Some((2, send_res(s))),
                        send(*td, Val(i2)) -> s => Some((3, send_res(s))),
                        default => None,
                    }
                };
                let arms = [
                    Arm::Recv(a),
                    Arm::Recv(b),
                    Arm::Send(c, i1),
                    Arm::Send(d, i2),
                ];
                m.check_select(&arms, got);
            }
            Op::DynSelect(mode, spec) => {
                let mut sel = Select::new();
                let mut arms = Vec::new();
                for (is_send, c) in spec {
                    let c = ch(c);
                    match (is_send, r.txs[c].last(), r.rxs[c].last()) {
                        (true, Some(tx), _) => {
                            let id = m.new_id();
                            sel.send(tx, Val(id));
                            arms.push(Arm::Send(c, id));
                        }
                        (false, _, Some(rx)) => {
                            sel.recv(rx);
                            arms.push(Arm::Recv(c));
                        }
                        _ => {}
                    }
                }
                if arms.is_empty() {
                    continue;
                }
                let any_ready = arms.iter().any(|a| m.arm_ready(*a));
                let _w = watch(&format!("{op:?}"));
                let op = match mode {
                    1 if any_ready => Some(sel.select()),
                    2 => sel.select_timeout(Duration::ZERO).ok(),
                    _ => sel.try_select().ok(),
                };
                let got = op.map(|op| {
                    let i = op.index();
                    match arms[i] {
                        Arm::Recv(c) => (i, recv_res(op.recv(r.rxs[c].last().unwrap()))),
                        Arm::Send(c, _) => (i, send_res(op.send(r.txs[c].last().unwrap()))),
                    }
                });
                drop((_w, sel));
                m.check_select(&arms, got);
            }
            Op::Future(dynamic, spec) => {
                let mut arms = Vec::new();
                let mut hs = Vec::new();
                let mut vals = Vec::new();
                for (is_send, c) in spec {
                    let c = ch(c);
                    if arms.iter().any(|a| match a {
                        Arm::Recv(x) => !is_send && *x == c,
                        Arm::Send(x, _) => *is_send && *x == c,
                    }) {
                        continue; // one arm per channel and direction
                    }
                    match (is_send, r.txs[c].last(), r.rxs[c].last()) {
                        (true, Some(tx), _) => {
                            let id = m.new_id();
                            hs.push(Handle::Tx(tx.clone()));
                            m.ch[c].txs += 1;
                            vals.push(Some(Val(id)));
                            arms.push(Arm::Send(c, id));
                        }
                        (false, _, Some(rx)) => {
                            hs.push(Handle::Rx(rx.clone()));
                            m.ch[c].rxs += 1;
                            vals.push(None);
                            arms.push(Arm::Recv(c));
                        }
                        _ => {}
                    }
                    if !dynamic && !arms.is_empty() {
                        break;
                    }
                }
                if arms.is_empty() {
                    continue;
                }
                let mut fut: Fut = match (dynamic, hs.pop(), vals.pop()) {
                    (false, Some(Handle::Rx(rx)), _) => {
                        Box::pin(async move { (0, ArmRes::Recv(rx.recv_async().await)) })
                    }
                    (false, Some(Handle::Tx(tx)), Some(Some(v))) => {
                        Box::pin(async move { (0, ArmRes::Send(tx.send_async(v).await)) })
                    }
                    (_, h, v) => {
                        hs.extend(h);
                        vals.extend(v);
                        select_future(hs, vals)
                    }
                };
                let w = m.futs.len();
                m.futs.push(MFut {
                    arms: arms.clone(),
                    state: WState::Waiting,
                    live: true,
                });
                let ready: Vec<usize> = (0..arms.len()).filter(|&i| m.arm_ready(arms[i])).collect();
                match poll_once(&mut fut) {
                    Poll::Ready((i, res)) => {
                        assert!(ready.contains(&i), "step {step}: {op:?}: arm {i} completed at once, model: {ready:?} ready");
                        let want = m.apply(arms[i]);
                        assert_eq!(res, want, "step {step}: {op:?} arm {i}");
                        m.finish(w, Some(i));
                    }
                    Poll::Pending => {
                        assert!(
                            ready.is_empty(),
                            "step {step}: {op:?} pending, model: arms {ready:?} ready"
                        );
                        m.register(w);
                        r.futs.push((w, fut));
                    }
                }
            }
            Op::Poll(i) => {
                if r.futs.is_empty() {
                    continue;
                }
                let i = *i as usize % r.futs.len();
                let w = r.futs[i].0;
                let got = poll_once(&mut r.futs[i].1);
                let want = m.poll(w);
                match (got, want) {
                    (Poll::Pending, None) => {}
                    (Poll::Ready(g), Some(wt)) => {
                        assert_eq!(
                            g, wt,
                            "step {step}: poll of future {w} ({:?})",
                            m.futs[w].arms
                        );
                        drop(r.futs.remove(i));
                    }
                    (g, wt) => panic!("step {step}: poll of future {w}: got {g:?}, model {wt:?}"),
                }
            }
            Op::DropFut(i) => {
                if r.futs.is_empty() {
                    continue;
                }
                let (w, fut) = r.futs.remove(*i as usize % r.futs.len());
                drop(fut);
                m.drop_fut(w);
            }
        }
        check(&m, &r);
    }
    // Teardown: drop the pending futures, then every handle.
    while let Some((w, fut)) = r.futs.pop() {
        drop(fut);
        m.drop_fut(w);
        check(&m, &r);
    }
    for c in 0..n {
        while let Some(tx) = r.txs[c].pop() {
            drop(tx);
            m.release_tx(c);
        }
        while let Some(rx) = r.rxs[c].pop() {
            drop(rx);
            m.release_rx(c);
        }
        check(&m, &r);
    }
    for (id, f) in m.fate.iter().enumerate() {
        assert_ne!(
            *f,
            Fate::Live,
            "value {id} was neither received, returned nor dropped"
        );
    }
}
