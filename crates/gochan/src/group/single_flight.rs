//! [`SingleFlight`]: duplicate call suppression. `golang.org/x/sync/singleflight`.

use std::any::Any;
use std::borrow::Borrow;
use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::hash::Hash;
use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::Arc;

use super::first_error::catch_unwind_future;
use crate::chan::{self, core::Chan, Receiver, Sender};
use crate::prim::Mutex;

/// Runs one call per key at a time: callers that ask for a key while a call for it is in
/// flight wait for that call and all get its result (`V: Clone`), told that it was
/// shared. Go's `singleflight.Group`; cloning gives another handle to the same group.
///
/// Go's `Do`, `DoChan` and `Forget` are [`do_call`](SingleFlight::do_call),
/// [`do_chan`](SingleFlight::do_chan) and [`forget`](SingleFlight::forget);
/// [`do_async`](SingleFlight::do_async) is `Do` for futures. A fallible call uses a
/// `Result` as `V` (wrap a non-`Clone` error in an `Arc`).
///
/// If the function panics, every caller waiting in `do_call` / `do_async` panics too with
/// the same payload (`&str` and `String` payloads are copied; others become a `String`
/// saying so), as Go re-panics in every waiting caller. A `do_chan` receiver sees its
/// channel closed without a value instead (Go crashes the process there, since nobody can
/// recover the panic).
///
/// If the call's leader is an async caller whose future is dropped before it finished
/// (Go's `runtime.Goexit` in the function), the call is abandoned: its waiters start over,
/// so one of them runs its own function and the others share that result.
///
/// ```
/// use std::sync::atomic::{AtomicUsize, Ordering};
/// use gochan::group::SingleFlight;
/// let flight = SingleFlight::<&str, u64>::new();
/// let calls = AtomicUsize::new(0);
/// let (v, shared) = flight.do_call("config", || { calls.fetch_add(1, Ordering::SeqCst); 42 });
/// assert_eq!((v, shared), (42, false)); // nobody else asked meanwhile
/// assert_eq!(calls.load(Ordering::SeqCst), 1);
/// ```
pub struct SingleFlight<K, V> {
    calls: Arc<Calls<K, V>>,
}

type Calls<K, V> = Mutex<HashMap<K, Arc<Call<V>>>>;

/// What a [`SingleFlight::do_chan`] channel delivers: Go's `singleflight.Result` (an
/// error, if any, is part of `V`).
///
/// ```
/// let flight = gochan::group::SingleFlight::<u8, &str>::new();
/// let r = flight.do_chan(1, || "one").recv().unwrap();
/// assert_eq!(r, gochan::group::FlightResult { val: "one", shared: false });
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FlightResult<V> {
    /// The call's result.
    pub val: V,
    /// Whether it was given to more than one caller.
    pub shared: bool,
}

/// One call in flight.
struct Call<V> {
    /// Closed once `state.outcome` is set.
    done: Arc<Chan<()>>,
    done_rx: Receiver<()>,
    /// Changed only while the group's map is locked too (lock order: map, then call).
    state: Mutex<CallState<V>>,
}

struct CallState<V> {
    /// Callers that joined the call instead of running their own function.
    dups: usize,
    chans: Vec<ChanWaiter<V>>,
    outcome: Option<Outcome<V>>,
}

struct ChanWaiter<V> {
    tx: Sender<FlightResult<V>>,
    /// Submits this waiter again (with its own function) if the call is abandoned;
    /// `None` for the caller that leads the call.
    restart: Option<Box<dyn FnOnce() + Send>>,
}

enum Outcome<V> {
    /// The value for the waiters (`None` when there were none).
    Value(Option<V>),
    Panicked(PanicCopy),
    Abandoned,
}

/// How a leader ended, as passed to [`finish`].
enum Ending<'v, V> {
    Value(&'v V),
    Panicked(PanicCopy),
    Abandoned,
}

/// A panic payload every waiter can re-raise.
#[derive(Clone)]
enum PanicCopy {
    Str(&'static str),
    String(String),
    Other,
}

impl PanicCopy {
    fn of(payload: &(dyn Any + Send)) -> PanicCopy {
        if let Some(s) = payload.downcast_ref::<&'static str>() {
            PanicCopy::Str(s)
        } else if let Some(s) = payload.downcast_ref::<String>() {
            PanicCopy::String(s.clone())
        } else {
            PanicCopy::Other
        }
    }

    fn payload(&self) -> Box<dyn Any + Send> {
        match self {
            PanicCopy::Str(s) => Box::new(*s),
            PanicCopy::String(s) => Box::new(s.clone()),
            PanicCopy::Other => Box::new(String::from(
                "singleflight: the shared call panicked (with a payload that is not a string)",
            )),
        }
    }
}

enum Role<V> {
    Leader(Arc<Call<V>>),
    Waiter(Arc<Call<V>>),
}

impl<V> Call<V> {
    fn new() -> Arc<Call<V>> {
        let (done, done_rx) = chan::signal();
        Arc::new(Call {
            done,
            done_rx,
            state: Mutex::new(CallState {
                dups: 0,
                chans: Vec::new(),
                outcome: None,
            }),
        })
    }

    /// A waiter's share once `done` is closed: the value, or `None` if the call was
    /// abandoned (start over). Re-raises the function's panic.
    fn shared_value(&self) -> Option<V>
    where
        V: Clone,
    {
        let st = self.state.lock();
        match &st.outcome {
            Some(Outcome::Value(v)) => Some(v.clone().expect("every waiter is counted in dups")),
            Some(Outcome::Panicked(p)) => {
                let payload = p.payload();
                drop(st);
                resume_unwind(payload)
            }
            Some(Outcome::Abandoned) | None => None,
        }
    }
}

impl<K: Eq + Hash + Clone, V: Clone> SingleFlight<K, V> {
    /// An empty group.
    ///
    /// ```
    /// let flight = gochan::group::SingleFlight::<String, Vec<u8>>::new();
    /// assert_eq!(flight.do_call("k".into(), || vec![1]).0, [1]);
    /// ```
    pub fn new() -> Self {
        SingleFlight {
            calls: Arc::new(Mutex::new(HashMap::new())),
        }
    }

    /// Joins the call in flight for `key`, or registers a new one led by the caller.
    fn join_or_lead(&self, key: &K) -> Role<V> {
        let mut map = self.calls.lock();
        if let Some(call) = map.get(key) {
            call.state.lock().dups += 1;
            return Role::Waiter(call.clone());
        }
        let call = Call::new();
        map.insert(key.clone(), call.clone());
        Role::Leader(call)
    }

    fn leader(&self, key: K, call: Arc<Call<V>>) -> Leader<K, V> {
        Leader {
            calls: self.calls.clone(),
            key,
            call,
            armed: true,
        }
    }

    /// Runs `f` for `key` unless a call for `key` is in flight, in which case it waits for
    /// that call instead. Returns the result and whether it was given to several callers.
    /// Go's `Group.Do`.
    ///
    /// # Panics
    /// If the function panics, in every caller (see the type's docs).
    ///
    /// ```
    /// use gochan::group::SingleFlight;
    /// let flight = SingleFlight::<&str, String>::new();
    /// let (v, shared) = flight.do_call("user:7", || "Ada".to_string());
    /// assert_eq!((v.as_str(), shared), ("Ada", false)); // nobody else asked meanwhile
    /// ```
    ///
    /// Threads that ask for `"user:7"` while that call runs wait for it and get
    /// `("Ada", true)`; [`do_chan`](SingleFlight::do_chan) shows the sharing.
    pub fn do_call<F: FnOnce() -> V>(&self, key: K, f: F) -> (V, bool) {
        loop {
            match self.join_or_lead(&key) {
                Role::Leader(call) => {
                    let leader = self.leader(key, call);
                    return leader.settle(catch_unwind(AssertUnwindSafe(f)));
                }
                Role::Waiter(call) => {
                    let _ = call.done_rx.recv();
                    if let Some(v) = call.shared_value() {
                        return (v, true);
                    }
                }
            }
        }
    }

    /// [`SingleFlight::do_call`] for a future: the first caller for `key` awaits `fut`,
    /// later callers await its result (their own `fut` is dropped unpolled).
    ///
    /// # Cancel safety
    /// Dropping a waiting caller's future has no effect on the call. Dropping the leading
    /// caller's future abandons the call: its waiters start over (see the type's docs).
    ///
    /// # Panics
    /// If the future panics, in every caller (see the type's docs).
    ///
    /// ```
    /// let flight = gochan::group::SingleFlight::<u32, u32>::new();
    /// let (tx, rx) = gochan::bounded(0);
    /// let (a, b, _) = futures::executor::block_on(futures::future::join3(
    ///     flight.do_async(1, async { rx.recv_async().await.unwrap() }),
    ///     flight.do_async(1, async { 20 }), // joins the first call: never polled
    ///     async { tx.send_async(10).await.unwrap() },
    /// ));
    /// assert_eq!((a, b), ((10, true), (10, true)));
    /// ```
    pub async fn do_async<Fut: Future<Output = V>>(&self, key: K, fut: Fut) -> (V, bool) {
        loop {
            match self.join_or_lead(&key) {
                Role::Leader(call) => {
                    // Dropped with the future before it finishes: abandons the call.
                    let leader = self.leader(key, call);
                    return leader.settle(catch_unwind_future(fut).await);
                }
                Role::Waiter(call) => {
                    let _ = call.done_rx.recv_async().await;
                    if let Some(v) = call.shared_value() {
                        return (v, true);
                    }
                }
            }
        }
    }

    /// Makes the group forget `key`: the next call for it runs its function even if a
    /// call is still in flight (whose waiters still get that call's result). Go's
    /// `Group.Forget`.
    ///
    /// ```
    /// let flight = gochan::group::SingleFlight::<String, u8>::new();
    /// flight.forget("never asked"); // no effect
    /// assert_eq!(flight.do_call("k".to_string(), || 1), (1, false));
    /// ```
    pub fn forget<Q>(&self, key: &Q)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ?Sized,
    {
        self.calls.lock().remove(key);
    }
}

impl<K, V> SingleFlight<K, V>
where
    K: Eq + Hash + Clone + Send + 'static,
    V: Clone + Send + 'static,
{
    /// Like [`SingleFlight::do_call`] but returns at once with a channel that delivers the
    /// [`FlightResult`] (then closes); a leading caller's `f` runs on a new thread. Go's
    /// `Group.DoChan`.
    ///
    /// If `f` (or the call this one joined) panics, the channel closes without a value.
    ///
    /// ```
    /// use gochan::group::{FlightResult, SingleFlight};
    /// let flight = SingleFlight::<&str, u32>::new();
    /// let (release, released) = gochan::bounded::<()>(0);
    /// let a = flight.do_chan("answer", move || { let _ = released.recv(); 42 });
    /// let b = flight.do_chan("answer", || 7); // joins the call in flight: never runs
    /// release.close();
    /// assert_eq!(a.recv().unwrap(), FlightResult { val: 42, shared: true });
    /// assert_eq!(b.recv().unwrap(), FlightResult { val: 42, shared: true });
    /// assert!(a.recv().is_err()); // closed after the one result
    /// ```
    #[must_use = "the result arrives on the returned channel"]
    pub fn do_chan<F>(&self, key: K, f: F) -> Receiver<FlightResult<V>>
    where
        F: FnOnce() -> V + Send + 'static,
    {
        let (tx, rx) = chan::bounded(1);
        self.submit_chan(key, tx, f);
        rx
    }

    fn submit_chan<F>(&self, key: K, tx: Sender<FlightResult<V>>, f: F)
    where
        F: FnOnce() -> V + Send + 'static,
    {
        let mut map = self.calls.lock();
        if let Some(call) = map.get(&key) {
            let me = self.clone();
            let (key, tx2) = (key.clone(), tx.clone());
            let mut st = call.state.lock();
            st.dups += 1;
            st.chans.push(ChanWaiter {
                tx,
                restart: Some(Box::new(move || me.submit_chan(key, tx2, f))),
            });
            return;
        }
        let call = Call::new();
        call.state
            .lock()
            .chans
            .push(ChanWaiter { tx, restart: None });
        map.insert(key.clone(), call.clone());
        drop(map);
        // If the spawn fails, the closure drops the leader, which abandons the call.
        let leader = self.leader(key, call);
        crate::prim::spawn(move || match catch_unwind(AssertUnwindSafe(f)) {
            Ok(v) => {
                leader.finish(Ending::Value(&v));
            }
            Err(payload) => {
                // The panic was reported by the hook; every waiter learns of it.
                leader.finish(Ending::Panicked(PanicCopy::of(&*payload)));
            }
        });
    }
}

/// The caller running a call's function. Dropped unfinished (an async leader cancelled,
/// a thread that could not be spawned), it abandons the call.
struct Leader<K: Eq + Hash, V: Clone> {
    calls: Arc<Calls<K, V>>,
    key: K,
    call: Arc<Call<V>>,
    armed: bool,
}

impl<K: Eq + Hash, V: Clone> Leader<K, V> {
    /// Ends the call; whether its result was shared.
    fn finish(mut self, ending: Ending<'_, V>) -> bool {
        self.armed = false;
        finish(&self.calls, &self.key, &self.call, ending)
    }

    /// Ends the call with the function's outcome: its value and whether it was shared, or
    /// its panic (recorded for the waiters, then re-raised here).
    fn settle(self, outcome: std::thread::Result<V>) -> (V, bool) {
        match outcome {
            Ok(v) => {
                let shared = self.finish(Ending::Value(&v));
                (v, shared)
            }
            Err(payload) => {
                self.finish(Ending::Panicked(PanicCopy::of(&*payload)));
                resume_unwind(payload)
            }
        }
    }
}

impl<K: Eq + Hash, V: Clone> Drop for Leader<K, V> {
    fn drop(&mut self) {
        if self.armed {
            finish(&self.calls, &self.key, &self.call, Ending::Abandoned);
        }
    }
}

/// Removes the call from the map (unless forgotten and replaced), records its outcome,
/// wakes the waiters, serves the channels. Returns whether the result was shared.
fn finish<K: Eq + Hash, V: Clone>(
    calls: &Calls<K, V>,
    key: &K,
    call: &Arc<Call<V>>,
    ending: Ending<'_, V>,
) -> bool {
    let mut map = calls.lock();
    if map.get(key).is_some_and(|c| Arc::ptr_eq(c, call)) {
        map.remove(key);
    }
    let mut st = call.state.lock();
    let shared = st.dups > 0;
    let chans = std::mem::take(&mut st.chans);
    st.outcome = Some(match &ending {
        Ending::Value(v) => Outcome::Value(shared.then(|| (*v).clone())),
        Ending::Panicked(p) => Outcome::Panicked(p.clone()),
        Ending::Abandoned => Outcome::Abandoned,
    });
    drop(st);
    drop(map);
    call.done.close();
    for w in chans {
        match &ending {
            Ending::Value(v) => {
                let val = (*v).clone();
                let _ = w.tx.try_send(FlightResult { val, shared });
            }
            Ending::Panicked(_) => {} // dropping the sender closes the channel
            Ending::Abandoned => {
                drop(w.tx);
                if let Some(restart) = w.restart {
                    restart();
                }
            }
        }
    }
    shared
}

impl<K, V> Clone for SingleFlight<K, V> {
    fn clone(&self) -> Self {
        SingleFlight {
            calls: self.calls.clone(),
        }
    }
}

impl<K: Eq + Hash + Clone, V: Clone> Default for SingleFlight<K, V> {
    fn default() -> Self {
        SingleFlight::new()
    }
}

impl<K, V> fmt::Debug for SingleFlight<K, V> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SingleFlight")
            .field("in_flight", &self.calls.lock().len())
            .finish()
    }
}
