//! The shared world: channel slots, the context pool, after_func accounting, operation
//! counters and the per-worker "current operation" board used to name stuck parties.

use std::sync::atomic::{AtomicBool, AtomicU64, AtomicU8, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gochan::context::{self, CancelCauseFunc, CancelFunc, Context};
use parking_lot::Mutex;

use crate::ledger::{channel, Ledger, Msg, Rx, Tx};

macro_rules! kinds {
    ($name:ident, $count:ident, $names:ident: $($v:ident),* $(,)?) => {
        /// A kind of operation or fault, for the summary.
        #[derive(Clone, Copy, PartialEq, Eq, Debug)]
        #[repr(u8)]
        pub enum $name { $($v),* }
        /// Number of kinds.
        pub const $count: usize = [$(stringify!($v)),*].len();
        /// Names of the kinds, in order.
        pub const $names: [&str; $count] = [$(stringify!($v)),*];
    };
}

kinds!(Op, OPS, OP_NAMES:
    Idle, Send, SendTimeout, TrySend, Recv, RecvTimeout, TryRecv,
    Select, SelectTimeout, SelectDefault, SelectQuit, DynSelect,
    SendAsync, RecvAsync, SelectAsync, SelectAsyncTimed, SelectAsyncDefault, CtxWaitAsync, Yield,
    Close, Replace, HandleClone, HandleDrop,
    CtxDerive, CtxCancel, CtxDrop, AfterFunc, AfterFuncStop,
    After, TimerNew, TimerStop, TimerReset, TimerRecv, TimerDrop, PanicProbe,
);

kinds!(Fault, FAULTS, FAULT_NAMES:
    SendAsyncDropped, RecvAsyncDropped, SelectAsyncDropped, CtxWaitDropped,
);

/// Per-worker counters, merged into the world when the worker exits.
#[derive(Clone, Debug)]
pub struct Counts {
    /// Operations by [`Op`].
    pub ops: [u64; OPS],
    /// Faults by [`Fault`].
    pub faults: [u64; FAULTS],
}

impl Default for Counts {
    fn default() -> Counts {
        Counts {
            ops: [0; OPS],
            faults: [0; FAULTS],
        }
    }
}

impl Counts {
    /// Adds `other` into `self`.
    pub fn merge(&mut self, other: &Counts) {
        for (a, b) in self.ops.iter_mut().zip(other.ops) {
            *a += b;
        }
        for (a, b) in self.faults.iter_mut().zip(other.faults) {
            *a += b;
        }
    }
}

/// The capacities of the channel slots.
pub const CAPS: [Option<usize>; 5] = [Some(0), Some(1), Some(3), Some(64), None];

struct SlotState {
    tx: Option<Tx>,
    rx: Option<Rx>,
    gen_no: u64,
    shutdown: bool,
}

/// A slot holding the current generation of one channel; workers clone handles out of it.
pub struct Slot {
    cap: Option<usize>,
    state: Mutex<SlotState>,
}

impl Slot {
    fn new(cap: Option<usize>) -> Slot {
        let (tx, rx) = channel(cap);
        Slot {
            cap,
            state: Mutex::new(SlotState {
                tx: Some(tx),
                rx: Some(rx),
                gen_no: 0,
                shutdown: false,
            }),
        }
    }

    /// A sender clone of the current generation and its number.
    pub fn tx(&self) -> (Tx, u64) {
        let st = self.state.lock();
        (st.tx.clone().expect("slot in use"), st.gen_no)
    }

    /// A receiver clone of the current generation and its number.
    pub fn rx(&self) -> (Rx, u64) {
        let st = self.state.lock();
        (st.rx.clone().expect("slot in use"), st.gen_no)
    }

    /// Closes the current generation; `Some(true)` if this call closed it.
    pub fn close(&self) -> Option<bool> {
        let st = self.state.lock();
        st.tx.as_ref().map(|t| t.tx.close())
    }

    /// Replaces generation `gen_no` (if still current) with a fresh channel; the old one
    /// is closed first when `close_old`, else it dies when its last handles drop.
    pub fn replace(&self, gen_no: u64, close_old: bool) -> bool {
        let mut st = self.state.lock();
        if st.shutdown || st.gen_no != gen_no {
            return false;
        }
        let (tx, rx) = channel(self.cap);
        st.gen_no += 1;
        let old = (st.tx.replace(tx), st.rx.replace(rx));
        drop(st);
        if close_old {
            if let Some(t) = &old.0 {
                t.tx.close();
            }
        }
        drop(old);
        true
    }

    /// Final close: no replacement afterwards.
    fn shutdown(&self) {
        let mut st = self.state.lock();
        st.shutdown = true;
        if let Some(t) = &st.tx {
            t.tx.close();
        }
    }

    /// Drops the slot's handles.
    pub fn clear(&self) {
        let mut st = self.state.lock();
        let old = (st.rx.take(), st.tx.take());
        drop(st);
        drop(old);
    }
}

/// Who cancels a pooled context.
pub enum Canceller {
    /// Nothing of its own (a value context).
    None,
    /// `with_cancel`, `with_timeout`, `with_deadline`.
    Plain(CancelFunc),
    /// `with_cancel_cause`.
    Cause(CancelCauseFunc),
}

/// A context in the shared pool.
pub struct PoolCtx {
    /// The context.
    pub ctx: Context,
    /// Its cancel function, if it has one.
    pub cancel: Canceller,
    /// A value context whose nearest cancelable ancestor is the root: an after_func on it
    /// legitimately stays linked to the root until the root ends, so none is registered.
    pub root_bound: bool,
}

/// after_func accounting.
#[derive(Default, Debug)]
pub struct AfStats {
    /// Functions registered.
    pub registered: AtomicU64,
    /// Functions that ran.
    pub ran: AtomicU64,
    /// `stop()` calls that returned true.
    pub stopped: AtomicU64,
    /// Closures dropped (run or not).
    pub dropped: AtomicU64,
    /// Functions that ran while their context was still live.
    pub early: AtomicU64,
}

/// Counts the drop of an after_func closure.
pub struct AfGuard(pub Arc<AfStats>);

impl Drop for AfGuard {
    fn drop(&mut self) {
        self.0.dropped.fetch_add(1, Ordering::AcqRel);
    }
}

/// What a worker is doing, for the stall watchdog and for naming stuck parties.
#[derive(Default, Debug)]
pub struct Board {
    /// The current [`Op`]; [`EXITED`] once the worker returned.
    pub op: AtomicU8,
    /// Operations started so far.
    pub seq: AtomicU64,
}

/// [`Board::op`] of a worker that returned.
pub const EXITED: u8 = u8::MAX;

impl Board {
    /// Records the start of `op`.
    pub fn set(&self, op: Op) {
        self.op.store(op as u8, Ordering::Release);
        self.seq.fetch_add(1, Ordering::Release);
    }

    /// Whether the worker returned.
    pub fn exited(&self) -> bool {
        self.op.load(Ordering::Acquire) == EXITED
    }
}

/// Marks a worker exited on the board when dropped, even by a panic.
pub struct ExitMark(pub Arc<World>, pub usize);

impl Drop for ExitMark {
    fn drop(&mut self) {
        self.0.board[self.1].op.store(EXITED, Ordering::Release);
    }
}

/// In fault mode, one message in this many panics when dropped.
pub const PANIC_ONE_IN: u32 = 16;

/// Maximum number of pooled contexts.
pub const POOL_MAX: usize = 24;

/// Everything the workers share.
pub struct World {
    /// The message ledger.
    pub ledger: &'static Ledger,
    /// Channel slots, cycling through [`CAPS`].
    pub slots: Vec<Slot>,
    /// Closed at shutdown: untimed selects include it.
    pub quit_rx: gochan::Receiver<()>,
    quit_tx: gochan::Sender<()>,
    /// Set at shutdown.
    pub stop: AtomicBool,
    /// The root of the context tree.
    pub root: Context,
    /// Derived contexts shared by the workers.
    pub pool: Mutex<Vec<PoolCtx>>,
    /// after_func accounting.
    pub af: Arc<AfStats>,
    /// Merged counters of exited workers.
    pub counts: Mutex<Counts>,
    /// Approximate live operation count (for progress lines).
    pub ops_total: AtomicU64,
    /// Every worker's current operation (threads first, then tasks).
    pub board: Vec<Board>,
    /// Fault mode: some messages panic when dropped, and panic probes run.
    pub faults: bool,
    /// Fault mode also arms the send-arm values of `select!`/`select_async!` (see
    /// [`crate::Config::select_arm_faults`]).
    pub select_arm_faults: bool,
}

impl World {
    /// A world with `slots` channel slots and `workers` board entries.
    pub fn new(
        ledger: &'static Ledger,
        root: Context,
        slots: usize,
        workers: usize,
        faults: bool,
        select_arm_faults: bool,
    ) -> World {
        let (quit_tx, quit_rx) = gochan::bounded(0);
        World {
            ledger,
            slots: (0..slots)
                .map(|i| Slot::new(CAPS[i % CAPS.len()]))
                .collect(),
            quit_rx,
            quit_tx,
            stop: AtomicBool::new(false),
            root,
            pool: Mutex::new(Vec::new()),
            af: Arc::new(AfStats::default()),
            counts: Mutex::new(Counts::default()),
            ops_total: AtomicU64::new(0),
            board: (0..workers).map(|_| Board::default()).collect(),
            faults,
            select_arm_faults,
        }
    }

    /// A random slot index whose capacity is `CAPS[k]` for one of `kinds`.
    pub fn slot_with(&self, rng: &mut fastrand::Rng, kinds: &[usize]) -> usize {
        let k = kinds[rng.usize(..kinds.len())];
        k + CAPS.len() * rng.usize(..self.slots.len() / CAPS.len())
    }

    /// A random slot index other than those in `not`.
    pub fn slot_not(&self, rng: &mut fastrand::Rng, not: &[usize]) -> usize {
        loop {
            let i = rng.usize(..self.slots.len());
            if !not.contains(&i) {
                return i;
            }
        }
    }

    /// Whether the run is over.
    pub fn stopping(&self) -> bool {
        self.stop.load(Ordering::Acquire)
    }

    /// Final close/cancel of everything shared: wakes every blocked party.
    pub fn shutdown(&self) {
        self.stop.store(true, Ordering::Release);
        self.quit_tx.close();
        for s in &self.slots {
            s.shutdown();
        }
    }

    /// Drops every pooled context (their cancel functions cancel them).
    pub fn drain_pool(&self) {
        let pool = std::mem::take(&mut *self.pool.lock());
        drop(pool);
    }

    /// Drops every channel handle the world holds.
    pub fn clear_slots(&self) {
        for s in &self.slots {
            s.clear();
        }
    }

    /// A random pooled context, or the root when `allow_root` and the dice say so; with
    /// whether it is root-bound (see [`PoolCtx::root_bound`]; the root itself is).
    pub fn random_ctx(&self, rng: &mut fastrand::Rng, allow_root: bool) -> Option<(Context, bool)> {
        let pool = self.pool.lock();
        if pool.is_empty() || (allow_root && rng.u8(..8) == 0) {
            return allow_root.then(|| (self.root.clone(), true));
        }
        let p = &pool[rng.usize(..pool.len())];
        Some((p.ctx.clone(), p.root_bound))
    }

    /// Adds a context to the pool, evicting (and so cancelling) a random one when full.
    pub fn pool_push(&self, rng: &mut fastrand::Rng, entry: PoolCtx) {
        let mut pool = self.pool.lock();
        let evicted = if pool.len() >= POOL_MAX {
            let i = rng.usize(..pool.len());
            Some(std::mem::replace(&mut pool[i], entry))
        } else {
            pool.push(entry);
            None
        };
        drop(pool);
        drop(evicted);
    }

    /// Removes a random pooled context.
    pub fn pool_take(&self, rng: &mut fastrand::Rng) -> Option<PoolCtx> {
        let mut pool = self.pool.lock();
        if pool.is_empty() {
            return None;
        }
        let i = rng.usize(..pool.len());
        Some(pool.swap_remove(i))
    }

    /// Records an invariant violation.
    pub fn problem(&self, what: String) {
        self.ledger.problem(what);
    }

    /// A message for `tx`'s channel; in fault mode, one in [`PANIC_ONE_IN`] panics when
    /// dropped.
    pub fn msg(&self, tx: &Tx, discardable: bool, origin: Op) -> Msg {
        let m = Msg::new(self.ledger, tx, discardable, OP_NAMES[origin as usize]);
        let macro_arm = matches!(
            origin,
            Op::Select
                | Op::SelectTimeout
                | Op::SelectDefault
                | Op::SelectQuit
                | Op::SelectAsync
                | Op::SelectAsyncDefault
        );
        let armable = self.faults && (!macro_arm || self.select_arm_faults);
        if armable && fastrand::u32(..PANIC_ONE_IN) == 0 {
            m.panicking()
        } else {
            m
        }
    }

    /// Runs `f`, catching a panic (accounted by [`Ledger::caught`]); `None` if it panicked.
    pub fn catching<R>(&self, during: &str, f: impl FnOnce() -> R) -> Option<R> {
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
            Ok(r) => Some(r),
            Err(p) => {
                self.ledger.caught(p, during);
                None
            }
        }
    }
}

/// Derives a random child of `parent` and checks what can be checked at once.
pub fn derive(w: &World, rng: &mut fastrand::Rng, (parent, bound): (Context, bool)) -> PoolCtx {
    let parent = &parent;
    #[derive(Debug, PartialEq)]
    struct Key(u64);
    let parent_ended = parent.err().is_some();
    let short = Duration::from_millis(rng.u64(1..=50));
    let (ctx, cancel) = match rng.u8(..6) {
        0 => {
            let (c, f) = context::with_cancel(parent);
            (c, Canceller::Plain(f))
        }
        1 => {
            let (c, f) = context::with_cancel_cause(parent);
            (c, Canceller::Cause(f))
        }
        2 => {
            let (c, f) = context::with_timeout(parent, short);
            (c, Canceller::Plain(f))
        }
        3 => {
            let at = std::time::Instant::now() + short;
            let (c, f) = context::with_deadline_cause(parent, at, "stress deadline");
            (c, Canceller::Plain(f))
        }
        4 => {
            let (c, f) = context::with_timeout(parent, Duration::from_secs(3600));
            (c, Canceller::Plain(f))
        }
        _ => {
            let n = rng.u64(..);
            let c = context::with_value(parent, Key(n));
            if c.value::<Key>() != Some(&Key(n)) {
                w.problem("with_value: value not found on the child".into());
            }
            (c, Canceller::None)
        }
    };
    if parent_ended && ctx.err().is_none() {
        w.problem(format!("{ctx}: child of an ended parent is live"));
    }
    if let (Some(p), Some(c)) = (parent.deadline(), ctx.deadline()) {
        if c > p {
            w.problem(format!("{ctx}: deadline later than its parent's"));
        }
    }
    if parent.deadline().is_some() && ctx.deadline().is_none() {
        w.problem(format!("{ctx}: lost its parent's deadline"));
    }
    let root_bound = bound && matches!(cancel, Canceller::None);
    PoolCtx {
        ctx,
        cancel,
        root_bound,
    }
}

/// Cancels a pooled context and checks it ended with its done channel closed.
pub fn cancel(w: &World, p: &PoolCtx) {
    match &p.cancel {
        Canceller::None => return,
        Canceller::Plain(f) => f.cancel(),
        Canceller::Cause(f) => f.cancel("stress cancel"),
    }
    if p.ctx.err().is_none() {
        w.problem(format!("{}: live after its cancel returned", p.ctx));
    }
    if !matches!(p.ctx.done().try_recv(), Err(gochan::TryRecvError::Closed)) {
        w.problem(format!("{}: done channel not closed after cancel", p.ctx));
    }
    if context::cause(&p.ctx).is_none() {
        w.problem(format!("{}: no cause after cancel", p.ctx));
    }
}

/// Registers an after_func on a random pooled context (not a root-bound one) that checks
/// the context ended before it runs.
pub fn register_after_func(w: &World, rng: &mut fastrand::Rng) -> Option<context::AfterFunc> {
    let (ctx, root_bound) = w.random_ctx(rng, false)?;
    if root_bound {
        return None;
    }
    let ctx = &ctx;
    let stats = w.af.clone();
    let guard = AfGuard(stats.clone());
    let c = ctx.clone();
    stats.registered.fetch_add(1, Ordering::AcqRel);
    Some(context::after_func(ctx, move || {
        let _guard = guard;
        if c.err().is_none() {
            stats.early.fetch_add(1, Ordering::AcqRel);
        }
        stats.ran.fetch_add(1, Ordering::AcqRel);
    }))
}

/// Settles the result of a receive from `rx`'s channel.
pub fn settle_recv(w: &World, res: Result<Msg, gochan::RecvError>, rx: &Rx) {
    if let Ok(m) = res {
        m.received(rx);
    } else if !rx.rx.is_closed() {
        w.problem(format!(
            "recv on a cap {:?} channel failed but it is not closed",
            rx.gen.cap
        ));
    }
}

/// Settles the result of the send of message `id` on `tx`'s channel.
pub fn settle_send(w: &World, res: Result<(), gochan::SendError<Msg>>, id: u64, tx: &Tx) {
    match res {
        Ok(()) => w.ledger.sent(id),
        Err(e) => e.into_inner().returned(tx, id),
    }
}

/// After a completed select that chose arm `chosen` (`usize::MAX`: none, e.g. default or
/// timeout): the values of the other send arms, given as `(arm, id)`, were not sent.
pub fn unchosen(w: &World, sends: &[(usize, u64)], chosen: usize) {
    for &(arm, id) in sends {
        if arm != chosen {
            w.ledger.unchosen(id);
        }
    }
}

/// Checks a value received from a `done()` channel: it only ever closes.
pub fn settle_done(w: &World, res: Result<(), gochan::RecvError>, ctx: &Context) {
    if res.is_ok() {
        w.problem(format!("{ctx}: done channel delivered a value"));
    } else if ctx.err().is_none() {
        w.problem(format!("{ctx}: done channel closed but err() is None"));
    }
}
