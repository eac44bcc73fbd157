//! The context model: a tree of nodes with Go's rules. A cancelable node ends once (the
//! first cancellation wins) and ends its cancelable descendants with its error and cause
//! (value nodes pass cancellation through, `without_cancel` stops it); a child derived
//! from an ended parent is born ended; an ended child leaves its parent's children.

use std::time::{Duration, Instant};

use gochan::context::{self, CancelCauseFunc, CancelFunc, Context, Error};
use gochan::{Receiver, TryRecvError};
use proptest::prelude::*;

#[derive(Clone, Copy, Debug)]
pub enum Derive {
    Cancel,
    CancelCause,
    /// A value of type `K1` (false) or `K2` (true).
    Value(bool, u8),
    WithoutCancel,
    /// `with_timeout` of a day: never fires during the test.
    Timeout,
    /// `with_deadline` at base + 1000 s + k * 100 s (exact, comparable).
    Deadline(u8),
}

/// Handle numbers are taken modulo what exists when the op runs.
#[derive(Clone, Debug)]
pub enum COp {
    Derive(u8, Derive),
    CloneCtx(u8),
    DropCtx(u8),
    /// Cancel through a cancel function; for a cause function, `Some(n)` cancels with
    /// cause `Why(n)` and `None` without a cause.
    Cancel(u8, Option<u8>),
    DropFunc(u8),
    /// Take `done()` and keep it: it must be closed exactly when the context has ended.
    Done(u8),
}

pub fn ops() -> impl Strategy<Value = Vec<COp>> {
    let derive = prop_oneof![
        Just(Derive::Cancel),
        Just(Derive::CancelCause),
        (any::<bool>(), 0u8..4).prop_map(|(k, v)| Derive::Value(k, v)),
        Just(Derive::WithoutCancel),
        Just(Derive::Timeout),
        (0u8..5).prop_map(Derive::Deadline),
    ];
    let op = prop_oneof![
        5 => (any::<u8>(), derive).prop_map(|(p, d)| COp::Derive(p, d)),
        1 => any::<u8>().prop_map(COp::CloneCtx),
        1 => any::<u8>().prop_map(COp::DropCtx),
        3 => (any::<u8>(), prop::option::of(0u8..4)).prop_map(|(f, c)| COp::Cancel(f, c)),
        2 => any::<u8>().prop_map(COp::DropFunc),
        1 => any::<u8>().prop_map(COp::Done),
    ];
    prop::collection::vec(op, 1..60)
}

#[derive(Debug, PartialEq)]
struct K1(u8);
#[derive(Debug, PartialEq)]
struct K2(u8);

/// A cancellation cause.
#[derive(Debug, PartialEq)]
struct Why(u8);

impl std::fmt::Display for Why {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "why {}", self.0)
    }
}

impl std::error::Error for Why {}

const DAY: Duration = Duration::from_secs(86_400);
/// Model causes for a dropped `CancelFunc` / `CancelCauseFunc` (explicit whys are 0..4).
const DROPPED_PLAIN: u8 = 254;
const DROPPED_CAUSE: u8 = 255;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    Root(&'static str),
    Cancel,
    Deadline,
    Value(bool, u8),
    Detached,
}

struct Node {
    parent: Option<usize>,
    kind: Kind,
    /// The error and the explicit cause (`None`: the error itself).
    ended: Option<(Error, Option<u8>)>,
    /// A `Deadline` node's deadline, within these bounds.
    deadline: Option<(Instant, Instant)>,
}

struct Model {
    nodes: Vec<Node>,
}

impl Model {
    fn cancelable(&self, n: usize) -> bool {
        matches!(self.nodes[n].kind, Kind::Cancel | Kind::Deadline)
    }

    /// The nearest cancelable node at or above `n` (value nodes pass, the rest stop).
    fn canceler(&self, n: usize) -> Option<usize> {
        match self.nodes[n].kind {
            Kind::Cancel | Kind::Deadline => Some(n),
            Kind::Value(..) => self.canceler(self.nodes[n].parent?),
            Kind::Root(_) | Kind::Detached => None,
        }
    }

    fn ended(&self, n: usize) -> Option<(Error, Option<u8>)> {
        self.nodes[self.canceler(n)?].ended
    }

    fn value(&self, n: usize, key: bool) -> Option<u8> {
        match self.nodes[n].kind {
            Kind::Value(k, v) if k == key => Some(v),
            _ => self.value(self.nodes[n].parent?, key),
        }
    }

    fn deadline(&self, n: usize) -> Option<(Instant, Instant)> {
        match self.nodes[n].kind {
            Kind::Root(_) | Kind::Detached => None,
            Kind::Deadline => self.nodes[n].deadline,
            _ => self.deadline(self.nodes[n].parent?),
        }
    }

    /// Live cancelable nodes linked to `n` (whose parent's canceler is `n`).
    fn children(&self, n: usize) -> Vec<usize> {
        (0..self.nodes.len())
            .filter(|&m| self.cancelable(m) && self.nodes[m].ended.is_none())
            .filter(|&m| self.nodes[m].parent.and_then(|p| self.canceler(p)) == Some(n))
            .collect()
    }

    fn child_count(&self, n: usize) -> usize {
        if self.cancelable(n) && self.nodes[n].ended.is_none() {
            self.children(n).len()
        } else {
            0
        }
    }

    fn cancel(&mut self, n: usize, err: Error, cause: Option<u8>) {
        if self.nodes[n].ended.is_some() {
            return; // the first cancellation wins
        }
        let children = self.children(n);
        self.nodes[n].ended = Some((err, cause));
        for c in children {
            self.cancel(c, err, cause);
        }
    }

    /// Go's `String()` of the chain, or `None` if it has a deadline node (wall clock).
    fn display(&self, n: usize) -> Option<String> {
        let node = &self.nodes[n];
        let own = match node.kind {
            Kind::Root(name) => return Some(name.to_string()),
            Kind::Cancel => ".WithCancel".to_string(),
            Kind::Deadline => return None,
            Kind::Value(k, _) => {
                let t = if k {
                    std::any::type_name::<K2>()
                } else {
                    std::any::type_name::<K1>()
                };
                format!(".WithValue({t}, {t})")
            }
            Kind::Detached => ".WithoutCancel".to_string(),
        };
        Some(self.display(node.parent?)? + &own)
    }
}

enum Func {
    Plain(CancelFunc),
    Cause(CancelCauseFunc),
}

fn check(m: &Model, ctxs: &[(usize, Context)], dones: &[(usize, Receiver<()>)], step: usize) {
    for (n, ctx) in ctxs {
        let n = *n;
        let ended = m.ended(n);
        let at = format!("step {step}, node {n} ({:?})", m.nodes[n].kind);
        assert_eq!(ctx.err(), ended.map(|e| e.0), "{at}: err()");
        match (context::cause(ctx), ended) {
            (None, None) => {}
            (Some(c), Some((_, Some(why)))) if why >= DROPPED_PLAIN => {
                let d = c.downcast_ref::<context::CancelFuncDropped>();
                assert_eq!(
                    d.map(|d| d.was_cause_func()),
                    Some(why == DROPPED_CAUSE),
                    "{at}: cause {c}"
                )
            }
            (Some(c), Some((_, Some(why)))) => {
                assert_eq!(c.downcast_ref::<Why>(), Some(&Why(why)), "{at}: cause {c}")
            }
            (Some(c), Some((err, None))) => {
                assert_eq!(c.downcast_ref::<Error>(), Some(&err), "{at}: cause {c}")
            }
            (c, e) => panic!("{at}: cause() is {c:?}, model: ended {e:?}"),
        }
        assert_eq!(
            ctx.value::<K1>().map(|k| k.0),
            m.value(n, false),
            "{at}: K1"
        );
        assert_eq!(ctx.value::<K2>().map(|k| k.0), m.value(n, true), "{at}: K2");
        assert_eq!(ctx.child_count(), m.child_count(n), "{at}: child_count()");
        match (ctx.deadline(), m.deadline(n)) {
            (None, None) => {}
            (Some(d), Some((lo, hi))) => assert!(lo <= d && d <= hi, "{at}: deadline"),
            (d, w) => panic!("{at}: deadline() {d:?}, model {w:?}"),
        }
        if let Some(s) = m.display(n) {
            assert_eq!(ctx.to_string(), s, "{at}: Display");
        }
    }
    for (n, done) in dones {
        let want = match m.ended(*n) {
            Some(_) => Err(TryRecvError::Closed),
            None => Err(TryRecvError::Empty),
        };
        assert_eq!(done.try_recv(), want, "step {step}: done() of node {n}");
    }
}

pub fn run(ops: &[COp]) {
    let base = Instant::now();
    let mut m = Model {
        nodes: ["context.Background", "context.TODO"]
            .into_iter()
            .map(|name| Node {
                parent: None,
                kind: Kind::Root(name),
                ended: None,
                deadline: None,
            })
            .collect(),
    };
    let mut ctxs = vec![(0, context::background()), (1, context::todo())];
    let mut funcs: Vec<(usize, Func)> = Vec::new();
    let mut dones: Vec<(usize, Receiver<()>)> = Vec::new();
    for (step, op) in ops.iter().enumerate() {
        match *op {
            COp::Derive(p, d) => {
                let (pn, parent) = match ctxs.len() {
                    0 => (0, context::background()),
                    len => ctxs[p as usize % len].clone(),
                };
                let n = m.nodes.len();
                let mut deadline = None;
                let (kind, ctx) = match d {
                    Derive::Cancel => {
                        let (ctx, f) = context::with_cancel(&parent);
                        funcs.push((n, Func::Plain(f)));
                        (Kind::Cancel, ctx)
                    }
                    Derive::CancelCause => {
                        let (ctx, f) = context::with_cancel_cause(&parent);
                        funcs.push((n, Func::Cause(f)));
                        (Kind::Cancel, ctx)
                    }
                    Derive::Value(k, v) => {
                        let ctx = if k {
                            context::with_value(&parent, K2(v))
                        } else {
                            context::with_value(&parent, K1(v))
                        };
                        (Kind::Value(k, v), ctx)
                    }
                    Derive::WithoutCancel => (Kind::Detached, context::without_cancel(&parent)),
                    Derive::Timeout | Derive::Deadline(_) => {
                        let t0 = Instant::now();
                        let (ctx, f) = match d {
                            Derive::Deadline(k) => {
                                let at = base + Duration::from_secs(1000 + 100 * u64::from(k));
                                deadline = Some((at, at));
                                context::with_deadline(&parent, at)
                            }
                            _ => context::with_timeout(&parent, DAY),
                        };
                        let b = deadline.get_or_insert((t0 + DAY, Instant::now() + DAY));
                        funcs.push((n, Func::Plain(f)));
                        // A parent deadline that comes first (or, for two day-long
                        // timeouts, at the same instant) makes this a plain WithCancel.
                        match m.deadline(pn) {
                            Some((_, hi)) if hi < b.0 || matches!(d, Derive::Timeout) => {
                                deadline = None;
                                (Kind::Cancel, ctx)
                            }
                            _ => (Kind::Deadline, ctx),
                        }
                    }
                };
                m.nodes.push(Node {
                    parent: Some(pn),
                    kind,
                    ended: None,
                    deadline,
                });
                if m.cancelable(n) {
                    // Born ended when the parent already ended, with its error and cause.
                    m.nodes[n].ended = m.ended(pn);
                }
                ctxs.push((n, ctx));
            }
            COp::CloneCtx(i) if !ctxs.is_empty() => {
                let c = ctxs[i as usize % ctxs.len()].clone();
                ctxs.push(c);
            }
            COp::DropCtx(i) if !ctxs.is_empty() => {
                let len = ctxs.len();
                drop(ctxs.remove(i as usize % len));
            }
            COp::Cancel(f, cause) if !funcs.is_empty() => {
                let (n, func) = &funcs[f as usize % funcs.len()];
                let cause = match (func, cause) {
                    (Func::Plain(f), _) => {
                        f.cancel();
                        None
                    }
                    (Func::Cause(f), Some(why)) => {
                        f.cancel(Why(why));
                        Some(why)
                    }
                    (Func::Cause(f), None) => {
                        f.cancel_without_cause();
                        None
                    }
                };
                m.cancel(*n, Error::Canceled, cause);
            }
            COp::DropFunc(f) if !funcs.is_empty() => {
                let len = funcs.len();
                let (n, func) = funcs.remove(f as usize % len);
                let dropped = match func {
                    Func::Plain(_) => DROPPED_PLAIN,
                    Func::Cause(_) => DROPPED_CAUSE,
                };
                drop(func);
                m.cancel(n, Error::Canceled, Some(dropped));
            }
            COp::Done(i) if !ctxs.is_empty() => {
                let (n, ctx) = &ctxs[i as usize % ctxs.len()];
                dones.push((*n, ctx.done()));
            }
            _ => continue,
        }
        check(&m, &ctxs, &dones, step);
    }
}
