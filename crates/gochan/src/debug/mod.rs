//! Finding blocked parties: who is waiting in which gochan operation, where, and since
//! when (Go's goroutine dump), and a test helper that fails when parties leak (after
//! uber-go/goleak).
//!
//! [`blocked`] lists every thread or task waiting in a channel operation, a select, or a
//! call built on them (`WaitGroup::wait`, `ErrGroup::wait`, `Semaphore::acquire`,
//! `Context::wait`), with the caller's source line. [`dump`] formats the whole list the
//! way Go prints goroutines; [`assert_no_blocked`] and [`LeakGuard`] fail a test that
//! leaves parties blocked. With the `tracing` feature, `watchdog(threshold)` logs every
//! party blocked longer than `threshold`. With the `debug-handles` feature,
//! `never_wakes()` names the parties that nothing can wake any more (Go's `goroutineleak`
//! profile, as a documented heuristic), and a failing [`LeakGuard`] says which of its
//! parties those are. Threads waiting for a [`sync::Mutex`](crate::sync::Mutex) are listed
//! too, with the thread holding it.
//!
//! Cost: nothing on the operations that do not wait. A channel joins the registry the first
//! time a party waits in it (one relaxed load per wait after that), and a dump walks the
//! channels' own wait queues under their locks.
//!
//! ```
//! use std::time::Duration;
//! let (tx, rx) = gochan::bounded::<i32>(0);
//! let stuck = std::thread::spawn(move || rx.recv()); // nobody ever sends
//! while gochan::debug::blocked().is_empty() {
//!     std::thread::sleep(Duration::from_millis(1));
//! }
//! let report = gochan::debug::dump().to_string();
//! assert!(report.contains("[chan receive"), "{report}");
//! drop(tx); // closes the channel: the receive returns
//! assert!(stuck.join().unwrap().is_err());
//! ```

#[cfg(feature = "debug-handles")]
pub(crate) mod handles;
#[cfg(feature = "debug-handles")]
mod never_wakes;
pub(crate) mod registry;
pub(crate) mod threads;
#[cfg(feature = "tracing")]
mod watchdog;

#[cfg(feature = "debug-handles")]
#[cfg_attr(docsrs, doc(cfg(feature = "debug-handles")))]
pub use never_wakes::never_wakes;

#[cfg(feature = "tracing")]
#[cfg_attr(docsrs, doc(cfg(feature = "tracing")))]
pub use watchdog::{watchdog, Watchdog};

use std::collections::HashSet;
use std::fmt;
use std::panic::Location;
use std::thread::ThreadId;
use std::time::{Duration, Instant};

/// The operation a blocked party is waiting in.
///
/// ```
/// use gochan::debug::{self, BlockedOp};
/// let (tx, rx) = gochan::bounded::<i32>(0);
/// let t = std::thread::spawn(move || tx.send(1)); // nobody receives yet
/// while debug::blocked().is_empty() {
///     std::thread::yield_now();
/// }
/// assert_eq!(debug::blocked()[0].op, BlockedOp::Send);
/// assert_eq!(rx.recv(), Ok(1));
/// t.join().unwrap().unwrap();
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum BlockedOp {
    /// A channel send (`send`, `send_async`, a `Sink`).
    Send,
    /// A channel receive (`recv`, `recv_async`, a stream, an iterator).
    Recv,
    /// A select (`select!`, `select_async!`, `Select`).
    Select,
    /// `WaitGroup::wait`.
    WaitGroupWait,
    /// `ErrGroup::wait`.
    ErrGroupWait,
    /// `Semaphore::acquire`.
    SemaphoreAcquire,
    /// `Context::wait` / `wait_timeout`.
    ContextWait,
    /// [`sync::Mutex::lock`](crate::sync::Mutex::lock).
    MutexLock,
}

impl BlockedOp {
    /// Go's name for the wait, as its goroutine dump prints it.
    ///
    /// ```
    /// use gochan::debug::BlockedOp;
    /// assert_eq!(BlockedOp::Recv.go_name(), "chan receive");
    /// assert_eq!(BlockedOp::WaitGroupWait.go_name(), "sync.WaitGroup.Wait");
    /// ```
    pub fn go_name(self) -> &'static str {
        match self {
            BlockedOp::Send => "chan send",
            BlockedOp::Recv => "chan receive",
            BlockedOp::Select => "select",
            BlockedOp::WaitGroupWait => "sync.WaitGroup.Wait",
            BlockedOp::ErrGroupWait => "errgroup.Group.Wait",
            BlockedOp::SemaphoreAcquire => "semaphore.Weighted.Acquire",
            BlockedOp::ContextWait => "context wait",
            BlockedOp::MutexLock => "sync.Mutex.Lock",
        }
    }
}

/// Who is blocked.
///
/// ```
/// use gochan::debug::{self, Party};
/// let (tx, rx) = gochan::bounded::<()>(0);
/// let t = std::thread::Builder::new()
///     .name("waiter".into())
///     .spawn(move || rx.recv())
///     .unwrap();
/// while debug::blocked().is_empty() {
///     std::thread::yield_now();
/// }
/// match &debug::blocked()[0].party {
///     Party::Thread { name, .. } => assert_eq!(name.as_deref(), Some("waiter")),
///     other => panic!("expected a thread, got {other:?}"),
/// }
/// drop(tx);
/// assert!(t.join().unwrap().is_err());
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Party {
    /// An OS thread parked in a blocking call.
    Thread {
        /// The thread's id.
        id: ThreadId,
        /// The thread's name, if it has one.
        name: Option<String>,
    },
    /// An async task suspended in an `.await` (its future is pending).
    Task,
}

/// A channel a party waits on.
///
/// ```
/// let (tx, rx) = gochan::bounded::<i32>(2);
/// tx.send(1).unwrap();
/// tx.send(2).unwrap();
/// let t = std::thread::spawn(move || tx.send(3)); // the buffer is full
/// while gochan::debug::blocked().is_empty() {
///     std::thread::yield_now();
/// }
/// let chan = gochan::debug::blocked()[0].channels[0];
/// assert_eq!((chan.capacity, chan.len), (Some(2), 2));
/// assert_eq!(rx.iter().take(3).collect::<Vec<_>>(), [1, 2, 3]);
/// t.join().unwrap().unwrap();
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct ChannelInfo {
    /// The channel's identity (its address; the same for every handle of one channel).
    pub id: usize,
    /// `None` for an unbounded channel.
    pub capacity: Option<usize>,
    /// Values buffered when the dump was taken.
    pub len: usize,
}

/// A [`sync::Mutex`](crate::sync::Mutex) a party waits for.
///
/// ```
/// use std::sync::Arc;
/// let m = Arc::new(gochan::sync::Mutex::new(()));
/// let held = m.lock();
/// let m2 = m.clone();
/// let t = std::thread::spawn(move || drop(m2.lock()));
/// let b = loop {
///     match gochan::debug::blocked().into_iter().find(|b| b.mutex.is_some()) {
///         Some(b) => break b,
///         None => std::thread::yield_now(),
///     }
/// };
/// let info = b.mutex.unwrap();
/// assert!(matches!(info.holder, Some(gochan::debug::Party::Thread { id, .. })
///     if id == std::thread::current().id()));
/// drop(held);
/// t.join().unwrap();
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct MutexInfo {
    /// The mutex's identity (its address).
    pub id: usize,
    /// The thread holding it when the list was taken (`None`: just released, or the
    /// holder has exited without unlocking, e.g. a forgotten guard).
    pub holder: Option<Party>,
    /// The holder's thread key (`threads`), 0 when unlocked.
    owner: u64,
}

/// One party waiting in a gochan operation; see [`blocked`].
///
/// Its `Display` is one entry of Go's goroutine dump: the party and operation, the call
/// site, the channels.
///
/// ```
/// let (_keep, rx) = gochan::bounded::<i32>(0);
/// let (tx2, rx2) = gochan::bounded::<i32>(0);
/// let t = std::thread::spawn(move || {
///     gochan::select! {
///         recv(rx) -> _ => {},
///         recv(rx2) -> v => assert_eq!(v, Ok(9)),
///     }
/// });
/// // A select queues on its channels one by one: wait until it is on both.
/// let b = loop {
///     match gochan::debug::blocked().pop() {
///         Some(b) if b.channels.len() == 2 => break b,
///         _ => std::thread::yield_now(),
///     }
/// };
/// assert_eq!(b.op, gochan::debug::BlockedOp::Select);
/// assert!(b.location.file().ends_with(".rs"));
/// assert!(b.to_string().contains("[select, "), "{b}");
/// tx2.send(9).unwrap();
/// t.join().unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct Blocked {
    /// The thread or task.
    pub party: Party,
    /// What it waits in.
    pub op: BlockedOp,
    /// The channels it waits on (several for a select).
    pub channels: Vec<ChannelInfo>,
    /// The lock it waits for, if it waits in [`sync::Mutex::lock`](crate::sync::Mutex::lock).
    pub mutex: Option<MutexInfo>,
    /// Where the operation was called (`#[track_caller]`).
    pub location: &'static Location<'static>,
    /// Since when it waits: for a thread, when it parked; for a task, when a dump first
    /// saw it waiting (Go's runtime sets a goroutine's wait time the same lazy way).
    pub since: Instant,
    key: usize,
}

impl fmt::Display for Blocked {
    /// Go's goroutine header and frame: `thread "name" [chan receive, 1.5s]:` then the
    /// call site and the channels.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.party {
            Party::Thread { name: Some(n), .. } => write!(f, "thread {n:?}")?,
            Party::Thread { id, name: None } => write!(f, "thread {id:?}")?,
            Party::Task => write!(f, "task")?,
        }
        writeln!(f, " [{}, {:.1?}]:", self.op.go_name(), self.since.elapsed())?;
        writeln!(f, "    {}", self.location)?;
        if let Some(m) = &self.mutex {
            match &m.holder {
                Some(Party::Thread { name: Some(n), .. }) => {
                    writeln!(f, "    mutex {:#x} held by thread {n:?}", m.id)?
                }
                Some(Party::Thread { id, .. }) => {
                    writeln!(f, "    mutex {:#x} held by thread {id:?}", m.id)?
                }
                _ => writeln!(f, "    mutex {:#x}", m.id)?,
            }
        }
        for c in &self.channels {
            match c.capacity {
                Some(cap) => writeln!(f, "    channel {:#x} (cap {cap}, len {})", c.id, c.len)?,
                None => writeln!(f, "    channel {:#x} (unbounded, len {})", c.id, c.len)?,
            }
        }
        Ok(())
    }
}

/// Every party waiting in a gochan operation right now, oldest first.
///
/// A party that is about to be woken may still be listed; one that waits without a
/// channel queue (a spinning thread before it queues) is not.
///
/// ```
/// assert!(gochan::debug::blocked().iter().all(|b| b.since <= std::time::Instant::now()));
/// ```
pub fn blocked() -> Vec<Blocked> {
    blocked_from(registry::walk())
}

/// [`blocked`] from a walk's waits, plus the threads waiting for a mutex.
fn blocked_from(waits: Vec<(registry::Waiting, registry::ChannelId)>) -> Vec<Blocked> {
    let mut by_key: Vec<Blocked> = Vec::new();
    for (w, c) in waits {
        let info = ChannelInfo {
            id: c.addr,
            capacity: c.capacity,
            len: c.len,
        };
        match by_key.iter_mut().find(|b| b.key == w.key) {
            Some(b) => b.channels.push(info),
            None => by_key.push(Blocked {
                party: w.party,
                op: w.op,
                channels: vec![info],
                mutex: None,
                location: w.location,
                since: w.since,
                key: w.key,
            }),
        }
    }
    for (key, party, location, since, mutex, owner) in registry::lock_waits() {
        let holder = (owner != 0)
            .then(|| threads::record(owner))
            .flatten()
            .map(|r| Party::Thread {
                id: r.id,
                name: r.name.clone(),
            });
        by_key.push(Blocked {
            party,
            op: BlockedOp::MutexLock,
            channels: Vec::new(),
            mutex: Some(MutexInfo {
                id: mutex,
                holder,
                owner,
            }),
            location,
            since,
            key,
        });
    }
    by_key.sort_by_key(|b| b.since);
    by_key
}

/// The table of [`blocked`] parties, displayed like Go's goroutine dump.
///
/// ```
/// use gochan::debug::Dump;
/// assert_eq!(Dump(Vec::new()).to_string(), "no party is blocked in a gochan operation\n");
/// let wg = gochan::group::WaitGroup::new();
/// wg.add(1);
/// let waiter = wg.clone();
/// let t = std::thread::spawn(move || waiter.wait());
/// while gochan::debug::blocked().is_empty() {
///     std::thread::yield_now();
/// }
/// let dump: Dump = gochan::debug::dump();
/// assert!(dump.to_string().starts_with("1 party blocked in gochan operations:"));
/// assert!(dump.to_string().contains("sync.WaitGroup.Wait"));
/// wg.done();
/// t.join().unwrap();
/// ```
#[derive(Clone, Debug)]
pub struct Dump(pub Vec<Blocked>);

impl fmt::Display for Dump {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.0.is_empty() {
            return writeln!(f, "no party is blocked in a gochan operation");
        }
        match self.0.len() {
            1 => writeln!(f, "1 party blocked in gochan operations:")?,
            n => writeln!(f, "{n} parties blocked in gochan operations:")?,
        }
        for b in &self.0 {
            writeln!(f)?;
            write!(f, "{b}")?;
        }
        Ok(())
    }
}

/// A snapshot of [`blocked`] for display.
///
/// ```
/// println!("{}", gochan::debug::dump());
/// ```
pub fn dump() -> Dump {
    Dump(blocked())
}

/// Waits `grace`, then panics listing them if parties that were not blocked when this
/// call started are blocked (goleak's check, on blocked parties). Parties blocked before
/// the call are ignored. The whole grace period is waited: a thread still running at the
/// start may block at any moment in it.
///
/// ```
/// let (tx, rx) = gochan::bounded::<i32>(1);
/// std::thread::spawn(move || tx.send(1)).join().unwrap();
/// assert_eq!(rx.recv(), Ok(1));
/// gochan::debug::assert_no_blocked(std::time::Duration::from_millis(50)); // nothing stuck
/// ```
#[track_caller]
pub fn assert_no_blocked(grace: Duration) {
    LeakGuard::new().check(grace);
}

/// Remembers the parties blocked at its creation; [`LeakGuard::check`] (or its drop, with
/// a 100 ms grace) panics if others are still blocked (goleak's `VerifyNone` with
/// `IgnoreCurrent`). Put one at the top of a test.
///
/// ```
/// let guard = gochan::debug::LeakGuard::new();
/// let (tx, rx) = gochan::bounded::<i32>(0);
/// let t = std::thread::spawn(move || rx.recv());
/// tx.send(7).unwrap();
/// assert_eq!(t.join().unwrap(), Ok(7));
/// guard.check(std::time::Duration::from_millis(50));
/// ```
#[derive(Debug)]
#[must_use = "a LeakGuard checks when it is dropped or checked"]
pub struct LeakGuard {
    before: HashSet<(usize, Instant)>,
    checked: bool,
}

impl LeakGuard {
    /// Snapshots the parties blocked now; they are ignored by the check.
    ///
    /// ```
    /// // A party blocked before the guard is not the test's leak.
    /// let (_keep, rx) = gochan::bounded::<i32>(0);
    /// std::thread::spawn(move || rx.recv());
    /// while gochan::debug::blocked().is_empty() {
    ///     std::thread::yield_now();
    /// }
    /// let guard = gochan::debug::LeakGuard::new();
    /// assert!(guard.leaked().is_empty());
    /// guard.check(std::time::Duration::ZERO); // passes
    /// ```
    pub fn new() -> LeakGuard {
        LeakGuard {
            before: blocked().iter().map(|b| (b.key, b.since)).collect(),
            checked: false,
        }
    }

    /// The parties blocked now that were not blocked at the guard's creation.
    ///
    /// ```
    /// let guard = gochan::debug::LeakGuard::new();
    /// let (tx, rx) = gochan::bounded::<i32>(0);
    /// let t = std::thread::spawn(move || rx.recv());
    /// while guard.leaked().is_empty() {
    ///     std::thread::yield_now();
    /// }
    /// assert_eq!(guard.leaked()[0].op, gochan::debug::BlockedOp::Recv);
    /// drop(tx); // unblock it before the guard checks on drop
    /// t.join().unwrap().unwrap_err();
    /// guard.check(std::time::Duration::from_millis(10));
    /// ```
    pub fn leaked(&self) -> Vec<Blocked> {
        blocked()
            .into_iter()
            .filter(|b| !self.before.contains(&(b.key, b.since)))
            .collect()
    }

    /// Waits `grace` (parties may still be running towards a block), then panics listing
    /// the parties blocked that were not blocked at the guard's creation.
    ///
    /// ```should_panic
    /// let guard = gochan::debug::LeakGuard::new();
    /// let (_tx, rx) = gochan::bounded::<i32>(0);
    /// std::thread::spawn(move || rx.recv()); // leaks: nobody sends or closes
    /// guard.check(std::time::Duration::from_millis(100)); // panics naming the receive
    /// ```
    #[track_caller]
    pub fn check(mut self, grace: Duration) {
        self.checked = true;
        self.verify(grace);
    }

    #[track_caller]
    fn verify(&self, grace: Duration) {
        std::thread::sleep(grace);
        let leaked = self.leaked();
        if leaked.is_empty() {
            return;
        }
        #[cfg(feature = "debug-handles")]
        let never = {
            let stuck: Vec<Blocked> = never_wakes()
                .into_iter()
                .filter(|b| leaked.iter().any(|l| (l.key, l.since) == (b.key, b.since)))
                .collect();
            if stuck.is_empty() {
                String::new()
            } else {
                format!(
                    "\nOf these, by the debug-handles analysis, never to wake:\n\n{}",
                    Dump(stuck)
                )
            }
        };
        #[cfg(not(feature = "debug-handles"))]
        let never = "";
        panic!(
            "gochan: parties still blocked after {grace:?}:\n\n{}{never}",
            Dump(leaked)
        );
    }
}

impl Default for LeakGuard {
    fn default() -> Self {
        LeakGuard::new()
    }
}

impl Drop for LeakGuard {
    fn drop(&mut self) {
        if !self.checked && !std::thread::panicking() {
            self.verify(Duration::from_millis(100));
        }
    }
}
