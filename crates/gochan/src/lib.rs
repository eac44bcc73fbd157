//! # gochan: Go's channels, select and context for Rust
//!
//! Channels with Go's semantics (unbuffered and buffered, close, range) that OS threads and
//! async tasks share; `select!` with receive and send arms that performs exactly one
//! operation; timers on one process-wide service; Go's `context` package ([`context`]);
//! and the helpers built on them ([`group`]: `WaitGroup`, errgroup, semaphore,
//! singleflight; [`pipeline`]: the Go blog's pipeline stages).
//!
//! ```
//! use std::time::Duration;
//!
//! let (tx, rx) = gochan::bounded(0); // unbuffered, like make(chan int)
//! std::thread::spawn(move || {
//!     for i in 1..=3 { tx.send(i * i).unwrap(); }
//! }); // the sender drops here: the channel closes
//!
//! let mut got = Vec::new();
//! loop {
//!     gochan::select! {
//!         recv(rx) -> v => match v {
//!             Ok(v) => got.push(v),
//!             Err(_) => break, // closed and drained
//!         },
//!         recv(gochan::after(Duration::from_secs(5))) -> _ => panic!("timed out"),
//!     }
//! }
//! assert_eq!(got, [1, 4, 9]);
//! ```
//!
//! # Go → gochan
//!
//! | Go | gochan |
//! |---|---|
//! | `make(chan T)`, `make(chan T, n)` | [`bounded`]`(0)`, [`bounded`]`(n)`; also [`unbounded`] |
//! | `ch <- v`, `v, ok := <-ch`, `close(ch)` | [`Sender::send`], [`Receiver::recv`], [`Sender::close`] (dropping the last `Sender` closes too) |
//! | `for v := range ch` | `for v in &rx` ([`Receiver::iter`]) |
//! | `var ch chan T` (nil channel) | [`never()`] |
//! | `select { case ...: }`, `default:` | [`select!`] (`recv`, `send`, `default`, `default(timeout)` arms) |
//! | `select` in async code | [`select_async!`] (same arms, plus arms on any future) |
//! | `reflect.Select` | [`Select`] |
//! | `time.After`, `time.Tick` | [`after`], [`tick`] (and [`at`] for an `Instant`) |
//! | `time.NewTimer`, `time.NewTicker`, `time.AfterFunc`, `time.Sleep` | [`time::Timer`], [`time::Ticker`], [`time::after_func`], [`time::sleep`] |
//! | `time.ParseDuration`, `Duration.String` | [`time::parse_duration`], [`time::format_duration`] |
//! | `context.Background()`, `context.TODO()` | [`context::background`], [`context::todo`] |
//! | `context.WithCancel`, `WithTimeout`, `WithDeadline`, `WithValue` | [`context::with_cancel`], [`context::with_timeout`], [`context::with_deadline`], [`context::with_value`] |
//! | `ctx.Done()`, `ctx.Err()`, `ctx.Value(k)`, `context.Cause` | [`Context::done`](context::Context::done), [`Context::err`](context::Context::err), [`Context::value`](context::Context::value), [`context::cause`] |
//! | `context.AfterFunc`, `context.WithoutCancel` | [`context::after_func`], [`context::without_cancel`] |
//! | `sync.WaitGroup` | [`group::WaitGroup`] |
//! | `errgroup.Group`, `errgroup.WithContext` | [`group::ErrGroup`] (threads), [`group::AsyncErrGroup`] (futures), `group::TokioErrGroup` (feature `tokio`) |
//! | `semaphore.Weighted`, `singleflight.Group` | [`group::Semaphore`], [`group::SingleFlight`] |
//! | the pipelines post's `gen`, `sq`, `merge` | [`pipeline::generate`], [`pipeline::map`], [`pipeline::merge`] (async: [`pipeline::stream`]) |
//! | "Timing out, moving on" (first reply wins) | [`pipeline::first`] |
//! | `testing/synctest` (Go 1.25) | [`synctest::run`], [`synctest::wait`] |
//! | goroutine dump, uber-go/goleak, the `goroutineleak` profile | [`debug::dump`], [`debug::blocked`], [`debug::LeakGuard`], `debug::never_wakes` (feature `debug-handles`) |
//! | `sync.Mutex` | [`sync::Mutex`] (its waiters show in [`debug::blocked`]) |
//! | `net/http` request contexts | the `gochan-http` crate (hyper, tower, axum); `gochan-grpc` for tonic |
//!
//! The full table, with notes on every difference and a runnable twin of each Go program
//! it follows, is [docs/go-to-gochan.md](https://github.com/gochan-rs/gochan/blob/main/docs/go-to-gochan.md).
//!
//! # Feature flags
//!
//! None is on by default; without features gochan depends on no async runtime and its
//! async forms run on any executor (tokio, smol, `futures::executor::block_on`).
//!
//! | feature | adds |
//! |---|---|
//! | `tokio` | `group::TokioErrGroup` (an errgroup of tokio tasks); `context::to_cancellation_token` and `context::from_cancellation_token` (bridges to tokio-util's `CancellationToken`); and a check: a blocking gochan call that would park a tokio worker thread panics, naming the async form to use |
//! | `tracing` | `debug::watchdog`: logs every party blocked in a gochan operation longer than a threshold |
//! | `debug-handles` | `debug::never_wakes`: records which threads touch each channel, context and `WaitGroup` (a thread-local read and a relaxed load per operation) to name the parties nothing can wake any more; for tests and debug builds |
//!
//! # Cancel safety
//!
//! Every async operation may be dropped at any await point (a `tokio::select!` branch that
//! lost, a timeout, an aborted task) without losing or duplicating anything: a pending
//! [`recv_async`](Receiver::recv_async), stream item or [`select_async!`] gives a value
//! already handed to it back to the channel (to the next waiting receiver, or the front of
//! the queue); a pending [`send_async`](Sender::send_async), sink item or send arm that no
//! receiver has taken is withdrawn and its value dropped with the future, while one a
//! receiver already took stays delivered, exactly once. A `select_async!` performs at most
//! one channel operation; its arms on other futures are exactly as cancel-safe as those
//! futures.
//!
//! # A pipeline
//!
//! The Go blog's "Go Concurrency Patterns: Pipelines and cancellation": a generator, two
//! squaring stages reading the same channel (fan-out), and a merge (fan-in). The consumer
//! takes what it needs and cancels; every stage stops, and none is left blocked on a send
//! nobody reads.
//!
//! ```
//! use gochan::{context, pipeline};
//!
//! let (ctx, cancel) = context::with_cancel(&context::background());
//! let nums = pipeline::generate(&ctx, 1..=1_000_000u64); // gen(nums...)
//! let sq = |n: u64| n * n;
//! let c1 = pipeline::map(&ctx, nums.clone(), sq); // sq(in), twice on one channel
//! let c2 = pipeline::map(&ctx, nums, sq);
//! let out = pipeline::merge(&ctx, [c1, c2]); // merge(c1, c2)
//!
//! for v in out.iter().take(3) {
//!     let root = (v as f64).sqrt() as u64;
//!     assert_eq!(root * root, v);
//! }
//! cancel.cancel(); // Go's close(done): every stage returns
//! ```
//!
//! # A context timeout
//!
//! Go's `context.WithTimeout` with a slow operation that watches `ctx.Done()`: the caller
//! gives it 50 ms, and it gives up when they are spent.
//!
//! ```
//! use std::time::Duration;
//! use gochan::context::{self, Context};
//!
//! fn slow_lookup(ctx: &Context) -> Result<&'static str, context::Error> {
//!     gochan::select! {
//!         recv(gochan::after(Duration::from_secs(10))) -> _ => Ok("result"),
//!         recv(ctx.done()) -> _ => Err(ctx.err().unwrap()),
//!     }
//! }
//!
//! // `_cancel` lives to the end of the scope: Go's `defer cancel()`.
//! let (ctx, _cancel) = context::with_timeout(&context::background(), Duration::from_millis(50));
//! let worker = {
//!     let ctx = ctx.clone();
//!     std::thread::spawn(move || slow_lookup(&ctx))
//! };
//! assert_eq!(worker.join().unwrap(), Err(context::Error::DeadlineExceeded));
//! assert_eq!(ctx.err().unwrap().to_string(), "context deadline exceeded");
//! ```
//!
//! Keep the `CancelFunc` bound to a name: `let (ctx, _) = context::with_timeout(..)` drops
//! it at once, and dropping a [`CancelFunc`](context::CancelFunc) cancels the context.
#![cfg_attr(docsrs, feature(doc_cfg))]
#![warn(
    missing_docs,
    missing_debug_implementations,
    unreachable_pub,
    unsafe_op_in_unsafe_fn,
    clippy::undocumented_unsafe_blocks
)]

pub mod chan;
pub mod context;
pub mod debug;
pub mod group;
pub mod pipeline;
mod prim;
pub mod select;
pub mod sync;
#[cfg(not(loom))]
pub mod synctest;
pub mod time;

pub use chan::{
    bounded, never, unbounded, Receiver, RecvError, RecvTimeoutError, SendError, SendTimeoutError,
    Sender, TryRecvError, TrySendError, WeakReceiver, WeakSender,
};
pub use select::{Select, SelectTimeoutError, SelectedOperation, TrySelectError};
pub use time::{after, at, tick};

// The README's Rust snippets run as doctests of this crate.
#[cfg(doctest)]
#[doc = include_str!("../../../README.md")]
struct ReadmeDoctests;
