//! Model-based property tests: random operation sequences run single-threaded against
//! gochan and against small reference models of Go's semantics (plus gochan's Rust rules),
//! comparing every result.
//!
//! - `model/chan_model.rs`: channels (capacities 0, 1, 2, 5, unbounded), blocking ops only
//!   where the model says they cannot block, try/zero-timeout ops, close, handle clone/drop,
//!   non-blocking `select!` and `Select::try_select`, and async futures (`recv_async`,
//!   `send_async`, `Select::select_async`) polled with a noop waker then polled again or
//!   dropped. Every value has a unique id; its fate (received, returned in an error, or
//!   dropped by the library) is checked after every step and at the end.
//! - `model/ctx_model.rs`: the context tree (derive, cancel with/without cause, drop
//!   handles) checked against `err`, `cause`, `value`, `done`, `child_count`, `deadline`
//!   and `Display`.
//!
//! Cases: 256 per property by default, more with `PROPTEST_CASES=n`.

use std::cell::RefCell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, Once, OnceLock};
use std::time::{Duration, Instant};

use proptest::prelude::*;

#[path = "model/chan_model.rs"]
mod chan_model;
#[path = "model/ctx_model.rs"]
mod ctx_model;

// ---------------------------------------------------------------------------------------
// Drop-counting values

thread_local! {
    /// How many times the library dropped each value id in the current case.
    static DROPS: RefCell<Vec<u8>> = const { RefCell::new(Vec::new()) };
}

/// A channel value with a unique id; every drop is counted in `DROPS`.
#[derive(Debug, PartialEq, Eq)]
pub struct Val(pub u32);

impl Drop for Val {
    fn drop(&mut self) {
        DROPS.with(|d| {
            let mut d = d.borrow_mut();
            let i = self.0 as usize;
            if d.len() <= i {
                d.resize(i + 1, 0);
            }
            d[i] += 1;
        });
    }
}

/// The test takes a value back from the library (received or returned in an error):
/// not counted as a drop.
pub fn keep(v: Val) -> u32 {
    let id = v.0;
    std::mem::forget(v);
    id
}

pub fn drops_of(id: u32) -> u8 {
    DROPS.with(|d| d.borrow().get(id as usize).copied().unwrap_or(0))
}

pub fn reset_drops() {
    DROPS.with(|d| d.borrow_mut().clear());
}

// ---------------------------------------------------------------------------------------
// A watchdog for blocking calls the model says cannot block: a hang is a divergence, so
// report it and abort instead of hanging the test run.

static BLOCKED_SINCE_MS: AtomicU64 = AtomicU64::new(0);
static BLOCKED_WHAT: Mutex<String> = Mutex::new(String::new());

fn now_ms() -> u64 {
    static START: OnceLock<Instant> = OnceLock::new();
    START.get_or_init(Instant::now).elapsed().as_millis() as u64 + 1
}

/// Watches a blocking call that the model says completes at once, until dropped.
pub struct Watch;

pub fn watch(what: &str) -> Watch {
    static WATCHDOG: Once = Once::new();
    WATCHDOG.call_once(|| {
        std::thread::spawn(|| loop {
            std::thread::sleep(Duration::from_millis(500));
            let since = BLOCKED_SINCE_MS.load(Ordering::SeqCst);
            if since != 0 && now_ms() - since > 10_000 {
                let what = BLOCKED_WHAT.lock().map(|s| s.clone()).unwrap_or_default();
                eprintln!("DIVERGENCE: `{what}` blocked for 10 s, the model says it cannot block");
                std::process::abort();
            }
        });
    });
    *BLOCKED_WHAT.lock().unwrap() = what.to_string();
    BLOCKED_SINCE_MS.store(now_ms(), Ordering::SeqCst);
    Watch
}

impl Drop for Watch {
    fn drop(&mut self) {
        BLOCKED_SINCE_MS.store(0, Ordering::SeqCst);
    }
}

// ---------------------------------------------------------------------------------------
// Properties

fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(256);
    ProptestConfig {
        cases,
        max_shrink_iters: 20_000,
        ..ProptestConfig::default()
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn channels_match_model(caps in chan_model::caps(), ops in chan_model::ops()) {
        chan_model::run(&caps, &ops);
    }

    #[test]
    fn contexts_match_model(ops in ctx_model::ops()) {
        ctx_model::run(&ops);
    }
}
