//! loom models of the groups' state machines. Run with
//! `RUSTFLAGS="--cfg loom" LOOM_MAX_PREEMPTIONS=3 cargo test -p gochan --release --test loom_group`
//! (see docs/loom.md).
//!
//! A lost wake-up shows as a deadlock (loom fails the model when every thread is blocked).
#![cfg(loom)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use gochan::context::{self, Error};
use gochan::group::{ErrGroup, GroupCause, Semaphore, SingleFlight, WaitGroup};
use loom::thread;

/// Two `done`s racing `wait`: `wait` returns only after the last `done` (after both
/// workers' work), and never sleeps through it.
#[test]
fn wait_group_done_vs_wait() {
    loom::model(|| {
        let wg = WaitGroup::new();
        let work = Arc::new(AtomicUsize::new(0));
        wg.add(2);
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let (wg, work) = (wg.clone(), work.clone());
                thread::spawn(move || {
                    work.fetch_add(1, Ordering::SeqCst);
                    wg.done();
                })
            })
            .collect();
        wg.wait();
        assert_eq!(
            work.load(Ordering::SeqCst),
            2,
            "wait returned before the last done"
        );
        assert_eq!(wg.count(), 0);
        for w in workers {
            w.join().unwrap();
        }
    });
}

/// A worker adding a member of its own before its `done` (Go's pattern for a task that
/// starts another) while `wait` runs: `wait` waits for both.
#[test]
fn wait_group_add_in_worker_vs_wait() {
    loom::model(|| {
        let wg = WaitGroup::new();
        let work = Arc::new(AtomicUsize::new(0));
        wg.add(1);
        let (wg1, work1) = (wg.clone(), work.clone());
        let t = thread::spawn(move || {
            wg1.add(1);
            let (wg2, work2) = (wg1.clone(), work1.clone());
            let inner = thread::spawn(move || {
                work2.fetch_add(1, Ordering::SeqCst);
                wg2.done();
            });
            work1.fetch_add(1, Ordering::SeqCst);
            wg1.done();
            inner
        });
        wg.wait();
        assert_eq!(work.load(Ordering::SeqCst), 2, "wait returned early");
        t.join().unwrap().join().unwrap();
    });
}

/// Two acquirers of a weight-1 semaphore whose unit the main thread holds and gives back
/// while they queue: both get in (no lost permit, no lost wake-up), never both at once
/// (the limit holds), and everything is given back.
#[test]
fn semaphore_acquire_release() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(1));
        let inside = Arc::new(AtomicUsize::new(0));
        assert!(sem.try_acquire(1));
        let workers: Vec<_> = (0..2)
            .map(|_| {
                let (sem, inside) = (sem.clone(), inside.clone());
                thread::spawn(move || {
                    sem.acquire(&context::background(), 1).unwrap();
                    assert_eq!(inside.fetch_add(1, Ordering::SeqCst), 0, "limit exceeded");
                    inside.fetch_sub(1, Ordering::SeqCst);
                    sem.release(1);
                })
            })
            .collect();
        sem.release(1);
        for w in workers {
            w.join().unwrap();
        }
        assert_eq!(sem.held(), 0, "a permit was lost");
        assert!(sem.try_acquire(1));
    });
}

/// A cancelled acquire racing the release that would grant it: the waiter either gets
/// the unit (and gives it back, as Go does when the context ended meanwhile) or withdraws;
/// either way no unit is lost and the next waiter is not left behind.
#[test]
fn semaphore_cancel_vs_release() {
    loom::model(|| {
        let sem = Arc::new(Semaphore::new(1));
        assert!(sem.try_acquire(1));
        let (ctx, cancel) = context::with_cancel(&context::background());
        // The context's last reference is dropped here, after the joins: loom does not
        // see std's `Arc` synchronize a drop on a model thread with earlier accesses.
        let (s, c) = (sem.clone(), ctx.clone());
        let waiter = thread::spawn(move || s.acquire(&c, 1));
        let c = thread::spawn(move || cancel.cancel());
        sem.release(1);
        c.join().unwrap();
        match waiter.join().unwrap() {
            Ok(()) => sem.release(1),
            Err(e) => assert_eq!(e, Error::Canceled),
        }
        assert_eq!(sem.held(), 0, "a permit was lost");
        assert!(sem.try_acquire(1));
        drop(ctx);
    });
}

/// Two failing tasks race: exactly one error is kept, and it is the cause the group's
/// context was cancelled with (the context is cancelled once, by that failure).
#[test]
fn err_group_two_failures() {
    loom::model(|| {
        let (g, ctx) = ErrGroup::<String>::with_context(&context::background());
        g.go(|| Err("a".to_string()));
        g.go(|| Err("b".to_string()));
        let err = g.wait().unwrap_err();
        assert!(err == "a" || err == "b", "{err}");
        assert_eq!(ctx.err(), Some(Error::Canceled));
        let cause = context::cause(&ctx).unwrap();
        assert_eq!(cause.downcast_ref::<GroupCause>(), Some(&GroupCause(err)));
        assert!(g.wait().is_ok(), "the error was kept twice");
    });
}

/// Two concurrent `do_call`s for one key: either they overlap (the function runs once
/// and both get its result, marked shared) or they do not (each runs its own, unshared).
#[test]
fn single_flight_two_callers() {
    loom::model(|| {
        let flight = SingleFlight::<u8, u32>::new();
        let calls = Arc::new(AtomicUsize::new(0));
        let (f2, c2) = (flight.clone(), calls.clone());
        let t = thread::spawn(move || {
            f2.do_call(1, || {
                c2.fetch_add(1, Ordering::SeqCst);
                10
            })
        });
        let mine = flight.do_call(1, || {
            calls.fetch_add(1, Ordering::SeqCst);
            20
        });
        let theirs = t.join().unwrap();
        match calls.load(Ordering::SeqCst) {
            1 => {
                assert_eq!(mine.0, theirs.0, "one call, two results");
                assert!(mine.1 && theirs.1, "a shared result not marked shared");
            }
            2 => assert_eq!((mine, theirs), ((20, false), (10, false))),
            n => panic!("{n} calls"),
        }
    });
}
