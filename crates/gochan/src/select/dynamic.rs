//! [`Select`]: a select over operations known only at run time (Go's `reflect.Select`).

use std::fmt;
use std::time::{Duration, Instant};

use super::arm::{Arm, Kind, RecvArm, SendArm};
use super::engine::{self, Mode};
use crate::chan::{Receiver, RecvError, SendError, Sender};

/// A select built at run time: add receive and send operations, then run it once; exactly
/// one operation happens and [`SelectedOperation`] tells which and gives its result.
///
/// A send operation takes its value when added; if another operation is chosen the value is
/// dropped with the `Select` (Go evaluates send values the same way). A `Select` may be
/// run again: operations that did not run stay armed; a send that ran is spent.
///
/// ```
/// use gochan::Select;
/// let chans: Vec<_> = (0..4).map(|_| gochan::bounded::<usize>(1)).collect();
/// chans[2].0.send(42).unwrap();
/// let mut sel = Select::new();
/// for (_, rx) in &chans {
///     sel.recv(rx);
/// }
/// let op = sel.select();
/// assert_eq!(op.index(), 2);
/// assert_eq!(op.recv(&chans[2].1), Ok(42));
/// ```
pub struct Select<'a> {
    arms: Vec<Box<dyn Arm + Send + 'a>>,
    biased: bool,
}

impl<'a> Select<'a> {
    /// An empty select choosing uniformly at random among ready operations.
    ///
    /// ```
    /// let sel = gochan::Select::new();
    /// assert!(sel.is_empty());
    /// ```
    pub fn new() -> Select<'a> {
        Select {
            arms: Vec::new(),
            biased: false,
        }
    }

    /// An empty select preferring earlier operations when several are ready.
    ///
    /// ```
    /// let (tx, rx) = gochan::bounded(1);
    /// let (tx2, rx2) = gochan::bounded(1);
    /// tx.send(1).unwrap(); tx2.send(2).unwrap();
    /// let mut sel = gochan::Select::new_biased();
    /// sel.recv(&rx); sel.recv(&rx2);
    /// assert_eq!(sel.select().index(), 0);
    /// ```
    pub fn new_biased() -> Select<'a> {
        Select {
            arms: Vec::new(),
            biased: true,
        }
    }

    /// Adds a receive from `rx`; returns its index.
    ///
    /// ```
    /// let (_tx, rx) = gochan::bounded::<u8>(1);
    /// let mut sel = gochan::Select::new();
    /// assert_eq!(sel.recv(&rx), 0);
    /// ```
    pub fn recv<T: Send>(&mut self, rx: &'a Receiver<T>) -> usize {
        self.arms.push(Box::new(RecvArm::new(rx)));
        self.arms.len() - 1
    }

    /// Adds a send of `value` on `tx`; returns its index.
    ///
    /// ```
    /// let (tx, rx) = gochan::bounded(1);
    /// let mut sel = gochan::Select::new();
    /// let i = sel.send(&tx, 5);
    /// let op = sel.select();
    /// assert_eq!(op.index(), i);
    /// assert!(op.send(&tx).is_ok());
    /// assert_eq!(rx.recv(), Ok(5));
    /// ```
    pub fn send<T: Send>(&mut self, tx: &'a Sender<T>, value: T) -> usize {
        self.arms.push(Box::new(SendArm::new(tx, value)));
        self.arms.len() - 1
    }

    /// Number of operations.
    ///
    /// ```
    /// assert_eq!(gochan::Select::new().len(), 0);
    /// ```
    pub fn len(&self) -> usize {
        self.arms.len()
    }

    /// Whether no operation was added.
    ///
    /// ```
    /// assert!(gochan::Select::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.arms.is_empty()
    }

    /// Blocks until one operation completes.
    ///
    /// # Panics
    /// If no operation was added (it would block forever, like Go's `select {}`).
    ///
    /// ```
    /// let (tx, rx) = gochan::bounded::<i32>(0);
    /// std::thread::spawn(move || tx.send(3).unwrap());
    /// let mut sel = gochan::Select::new();
    /// sel.recv(&rx);
    /// assert_eq!(sel.select().recv(&rx), Ok(3));
    /// ```
    #[track_caller]
    pub fn select(&mut self) -> SelectedOperation<'_, 'a> {
        let i = self.run(Mode::Block).expect("a blocking select completes");
        SelectedOperation {
            index: i,
            sel: self,
        }
    }

    /// Completes an operation that is ready now, or returns `Err(TrySelectError)` if none
    /// is (Go's `select` with `default`). Sees all channels at one moment.
    ///
    /// ```
    /// let (_tx, rx) = gochan::bounded::<i32>(1);
    /// let mut sel = gochan::Select::new();
    /// sel.recv(&rx);
    /// assert!(sel.try_select().is_err());
    /// ```
    pub fn try_select(&mut self) -> Result<SelectedOperation<'_, 'a>, TrySelectError> {
        match self.run(Mode::NonBlock) {
            Some(i) => Ok(SelectedOperation {
                index: i,
                sel: self,
            }),
            None => Err(TrySelectError),
        }
    }

    /// Blocks for at most `timeout`.
    ///
    /// ```
    /// use std::time::Duration;
    /// let (_tx, rx) = gochan::bounded::<i32>(0);
    /// let mut sel = gochan::Select::new();
    /// sel.recv(&rx);
    /// assert!(sel.select_timeout(Duration::from_millis(5)).is_err());
    /// ```
    #[track_caller]
    pub fn select_timeout(
        &mut self,
        timeout: Duration,
    ) -> Result<SelectedOperation<'_, 'a>, SelectTimeoutError> {
        match self.run(Mode::timeout(timeout)) {
            Some(i) => Ok(SelectedOperation {
                index: i,
                sel: self,
            }),
            None => Err(SelectTimeoutError),
        }
    }

    /// Blocks until `deadline` at most.
    ///
    /// ```
    /// let (_tx, rx) = gochan::bounded::<i32>(0);
    /// let mut sel = gochan::Select::new();
    /// sel.recv(&rx);
    /// assert!(sel.select_deadline(std::time::Instant::now()).is_err());
    /// ```
    #[track_caller]
    pub fn select_deadline(
        &mut self,
        deadline: Instant,
    ) -> Result<SelectedOperation<'_, 'a>, SelectTimeoutError> {
        match self.run(Mode::Until(deadline)) {
            Some(i) => Ok(SelectedOperation {
                index: i,
                sel: self,
            }),
            None => Err(SelectTimeoutError),
        }
    }

    /// Awaits one operation from async code.
    ///
    /// # Cancel safety
    /// Dropping the future while it waits performs no operation and loses no value.
    ///
    /// # Panics
    /// If no operation was added.
    ///
    /// ```
    /// # futures::executor::block_on(async {
    /// let (tx, rx) = gochan::bounded(1);
    /// tx.send(1).unwrap();
    /// let mut sel = gochan::Select::new();
    /// sel.recv(&rx);
    /// let op = sel.select_async().await;
    /// assert_eq!(op.recv(&rx), Ok(1));
    /// # });
    /// ```
    pub async fn select_async(&mut self) -> SelectedOperation<'_, 'a> {
        let biased = self.biased;
        // SAFETY: the arms are boxed and owned by `self`, borrowed for the future's life:
        // they never move (a box is dropped, unregistering its arm, or leaked).
        let i = unsafe { engine::run_async(&mut self.arms, biased, Mode::Block) }
            .await
            .expect("a blocking select completes an arm");
        SelectedOperation {
            index: i,
            sel: self,
        }
    }

    #[track_caller]
    fn run(&mut self, mode: Mode) -> Option<usize> {
        engine::run(&mut self.arms, mode, self.biased)
    }
}

impl Default for Select<'_> {
    fn default() -> Self {
        Select::new()
    }
}

impl fmt::Debug for Select<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Select")
            .field("operations", &self.arms.len())
            .field("biased", &self.biased)
            .finish()
    }
}

/// The operation a [`Select`] completed. Take its result with [`SelectedOperation::recv`]
/// or [`SelectedOperation::send`], passing the same channel handle that was added.
///
/// ```
/// let (tx, rx) = gochan::bounded::<&str>(1);
/// let (out, _out_rx) = gochan::bounded::<i32>(1);
/// tx.send("hello").unwrap();
/// out.send(0).unwrap(); // `out` is full: only the receive can run
/// let mut sel = gochan::Select::new();
/// let r = sel.recv(&rx);
/// let s = sel.send(&out, 1);
/// let op = sel.select();
/// if op.index() == r {
///     assert_eq!(op.recv(&rx), Ok("hello"));
/// } else {
///     assert_eq!(op.index(), s);
///     op.send(&out).unwrap();
/// }
/// ```
#[must_use = "the result of the chosen operation should be taken"]
pub struct SelectedOperation<'s, 'a> {
    index: usize,
    sel: &'s mut Select<'a>,
}

impl SelectedOperation<'_, '_> {
    /// The index of the operation that ran (as returned when it was added).
    ///
    /// ```
    /// let (tx, rx) = gochan::bounded(1);
    /// tx.send(()).unwrap();
    /// let mut sel = gochan::Select::new();
    /// sel.recv(&rx);
    /// assert_eq!(sel.select().index(), 0);
    /// ```
    pub fn index(&self) -> usize {
        self.index
    }

    /// The received value of the chosen receive on `rx` (`Err` if it was closed).
    ///
    /// # Panics
    /// If the chosen operation is not a receive on `rx`'s channel.
    ///
    /// ```
    /// let (tx, rx) = gochan::bounded::<i32>(1);
    /// tx.close();
    /// let mut sel = gochan::Select::new();
    /// sel.recv(&rx);
    /// assert!(sel.select().recv(&rx).is_err());
    /// ```
    pub fn recv<T>(mut self, rx: &Receiver<T>) -> Result<T, RecvError> {
        let arm = self.arm_for(std::sync::Arc::as_ptr(&rx.chan) as *const (), Kind::Recv);
        let ptr = arm as *mut (dyn Arm + Send + '_) as *mut RecvArm<'_, T>;
        // SAFETY: `arm_for` checked that this arm is a receive arm on the very channel
        // allocation `rx` points to. Receive arms are only ever built by `Select::recv`
        // as `RecvArm<'a, U>` from a `&Receiver<U>`, and one allocation holds one
        // `Chan<T>`, so `U == T` and the cast recovers the arm's concrete type.
        unsafe { (*ptr).take() }
    }

    /// The outcome of the chosen send on `tx` (`Err` with the value if it was closed).
    ///
    /// # Panics
    /// If the chosen operation is not a send on `tx`'s channel.
    ///
    /// ```
    /// let (tx, rx) = gochan::bounded(1);
    /// drop(rx);
    /// let mut sel = gochan::Select::new();
    /// sel.send(&tx, 5);
    /// assert_eq!(sel.select().send(&tx).unwrap_err().into_inner(), 5);
    /// ```
    pub fn send<T>(mut self, tx: &Sender<T>) -> Result<(), SendError<T>> {
        let arm = self.arm_for(std::sync::Arc::as_ptr(&tx.chan) as *const (), Kind::Send);
        let ptr = arm as *mut (dyn Arm + Send + '_) as *mut SendArm<'_, T>;
        // SAFETY: as in `recv`: a send arm on this very channel allocation can only be the
        // `SendArm<'a, T>` built by `Select::send` from a `&Sender<T>` of that channel.
        unsafe { (*ptr).take() }
    }

    fn arm_for(&mut self, chan: *const (), kind: Kind) -> &mut (dyn Arm + Send + '_) {
        let arm = &mut *self.sel.arms[self.index];
        assert!(
            arm.identity() == (chan, kind),
            "gochan::SelectedOperation: the chosen operation (index {}) is not a {:?} on this \
             channel",
            self.index,
            kind
        );
        arm
    }
}

impl fmt::Debug for SelectedOperation<'_, '_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SelectedOperation")
            .field("index", &self.index)
            .finish()
    }
}

/// [`Select::try_select`] found no operation ready.
///
/// ```
/// let (_tx, rx) = gochan::bounded::<i32>(1);
/// let mut sel = gochan::Select::new();
/// sel.recv(&rx);
/// assert_eq!(sel.try_select().unwrap_err(), gochan::TrySelectError);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrySelectError;

/// [`Select::select_timeout`] ran out of time.
///
/// ```
/// use std::time::Duration;
/// let (_tx, rx) = gochan::bounded::<i32>(0);
/// let mut sel = gochan::Select::new();
/// sel.recv(&rx);
/// let err = sel.select_timeout(Duration::from_millis(5)).unwrap_err();
/// assert_eq!(err.to_string(), "timed out waiting on select");
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SelectTimeoutError;

impl fmt::Display for TrySelectError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("no operation was ready")
    }
}

impl fmt::Display for SelectTimeoutError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("timed out waiting on select")
    }
}

impl std::error::Error for TrySelectError {}
impl std::error::Error for SelectTimeoutError {}
