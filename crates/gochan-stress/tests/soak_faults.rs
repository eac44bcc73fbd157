//! A short soak in fault mode (its own test binary, so no other soak shares the process's
//! timer and thread baselines): one message in 16 panics when dropped, wherever that
//! happens (in a worker, or inside gochan: a channel's last receiver dropping its buffer,
//! a select dropping an unchosen send value, a send future dropped mid-wait), panic probes
//! check that the channel involved keeps working, and 3 in 4 `send_async`/`recv_async`
//! are dropped mid-wait. `GOCHAN_FAULT_SOAK_SECONDS` (default 5) and `GOCHAN_SOAK_SEED`.

use std::time::{Duration, Instant};

#[test]
fn soak_with_faults() {
    let seconds: f64 = std::env::var("GOCHAN_FAULT_SOAK_SECONDS")
        .ok()
        .map(|s| {
            s.parse()
                .expect("GOCHAN_FAULT_SOAK_SECONDS: a number of seconds")
        })
        .unwrap_or(5.0);
    let seed = std::env::var("GOCHAN_SOAK_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0xFA17);
    let cfg = gochan_stress::Config {
        seconds,
        seed,
        faults: true,
        ..Default::default()
    };
    let start = Instant::now();
    let report = gochan_stress::run(&cfg);
    let took = start.elapsed();
    println!("{report}");
    assert!(report.passed(), "soak with faults failed:\n{report}");
    let [thrown, caught, _] = report.drop_panics;
    assert!(thrown > 0, "no drop panicked: the faults did not run");
    assert_eq!(thrown, caught);
    let probes = report.counts.ops[gochan_stress::Op::PanicProbe as usize];
    assert!(probes > 0, "no panic probe ran");
    let budget = Duration::from_secs_f64(seconds) + Duration::from_secs(20);
    assert!(took <= budget, "soak took {took:?}, budget {budget:?}");
}

/// `select!`/`select_async!` drop the chosen receive arm's value exactly once even when an
/// unchosen send value's `Drop` panics (the macros drop their arms before handing out the
/// result, so the unwinding drops it; they leaked it before).
#[test]
fn select_macro_drops_the_received_value_when_an_unchosen_send_value_panics() {
    use std::sync::atomic::{AtomicUsize, Ordering};
    static DROPS: AtomicUsize = AtomicUsize::new(0);
    struct P(bool);
    impl Drop for P {
        fn drop(&mut self) {
            DROPS.fetch_add(1, Ordering::SeqCst);
            if self.0 && !std::thread::panicking() {
                panic!("P's drop panicked (on purpose)");
            }
        }
    }
    let (t1, r1) = gochan::bounded::<P>(1);
    let (t2, _r2) = gochan::bounded::<P>(0); // nobody receives: the send arm is not ready
    t1.send(P(false)).unwrap();
    let p = P(true);
    let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        gochan::select! {
            recv(r1) -> v => drop(v),
            send(t2, p) -> _ => {},
        }
    }));
    assert!(r.is_err(), "the unchosen value's drop panics");
    assert!(r1.is_empty(), "the value was received");
    // Both values dropped exactly once: the unchosen one, and the received one.
    assert_eq!(
        DROPS.load(Ordering::SeqCst),
        2,
        "the received value was leaked"
    );
}
