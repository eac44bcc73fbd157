//! Misuse panics in `gochan::group` point at the caller's line (`#[track_caller]`), like
//! Go's panics point at the caller in their stack trace.
//!
//! One test in this file on purpose: it installs a process-wide panic hook.

use std::cell::RefCell;
use std::panic::{self, AssertUnwindSafe};

use gochan::group::{AsyncErrGroup, ErrGroup, Semaphore, WaitGroup};

thread_local! {
    static LAST: RefCell<Option<(String, u32)>> = const { RefCell::new(None) };
}

/// Runs `f`, which must panic, and returns the file and line the panic reported.
fn panic_location(f: impl FnOnce()) -> (String, u32) {
    LAST.with(|l| l.borrow_mut().take());
    let r = panic::catch_unwind(AssertUnwindSafe(f));
    assert!(r.is_err(), "expected a panic");
    LAST.with(|l| l.borrow_mut().take())
        .expect("the hook saw the panic")
}

#[track_caller]
fn assert_here(got: (String, u32), line: u32) {
    assert!(
        got.0.ends_with("group_track_caller.rs"),
        "panic located in {}:{}, not in this test file",
        got.0,
        got.1
    );
    assert_eq!(got.1, line, "panic located at the wrong line");
}

#[test]
fn misuse_panics_point_at_the_caller() {
    let previous = panic::take_hook();
    panic::set_hook(Box::new(move |info| {
        if let Some(loc) = info.location() {
            LAST.with(|l| *l.borrow_mut() = Some((loc.file().to_string(), loc.line())));
        }
        previous(info); // still print (the test harness captures it)
    }));

    let wg = WaitGroup::new();
    let got = panic_location(|| wg.done());
    assert_here(got, line!() - 1);
    let got = panic_location(|| wg.add(-1));
    assert_here(got, line!() - 1);
    let got = panic_location(|| wg.add(u64::MAX));
    assert_here(got, line!() - 1);

    let got = panic_location(|| drop(Semaphore::new(-1)));
    assert_here(got, line!() - 1);
    let sem = Semaphore::new(1);
    let got = panic_location(|| sem.release(1));
    assert_here(got, line!() - 1);
    let got = panic_location(|| {
        let _ = sem.try_acquire(-1);
    });
    assert_here(got, line!() - 2);
    let got = panic_location(|| drop(sem.try_acquire_permit(-1)));
    assert_here(got, line!() - 1);
    let bg = gochan::context::background();
    let got = panic_location(|| {
        let _ = sem.acquire(&bg, -2);
    });
    assert_here(got, line!() - 2);
    let got = panic_location(|| drop(sem.acquire_permit(&bg, -2)));
    assert_here(got, line!() - 1);
    // The async forms check the weight when called, not when first polled.
    let got = panic_location(|| drop(sem.acquire_async(&bg, -3)));
    assert_here(got, line!() - 1);
    let got = panic_location(|| drop(sem.acquire_permit_async(&bg, -3)));
    assert_here(got, line!() - 1);

    let g = ErrGroup::<String>::new();
    g.set_limit(1);
    let (tx, rx) = gochan::bounded::<()>(0);
    g.go(move || {
        let _ = rx.recv();
        Ok(())
    });
    let got = panic_location(|| g.set_limit(2));
    assert_here(got, line!() - 1);
    drop(tx);
    g.wait().unwrap();

    let g = AsyncErrGroup::<String>::new();
    g.set_limit(1);
    g.go(async { Ok(()) });
    let got = panic_location(|| g.set_limit(2));
    assert_here(got, line!() - 1);
    futures::executor::block_on(g.wait()).unwrap();

    #[cfg(feature = "tokio")]
    {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let g = gochan::group::TokioErrGroup::<String>::new();
        g.set_limit(1);
        let _enter = rt.enter();
        g.go(async { Ok(()) }); // spawned, not run: the runtime is not driven yet
        let got = panic_location(|| g.set_limit(2));
        assert_here(got, line!() - 1);
        rt.block_on(g.wait()).unwrap();
    }

    let _ = panic::take_hook();
}
