//! Runs the soak in-process for `GOCHAN_SOAK_SECONDS` seconds (default: 60 when `CI` is
//! set, else 10) and asserts PASS.

use std::time::{Duration, Instant};

#[test]
fn soak() {
    let seconds: f64 = match std::env::var("GOCHAN_SOAK_SECONDS") {
        Ok(s) => s.parse().expect("GOCHAN_SOAK_SECONDS: a number of seconds"),
        Err(_) if std::env::var_os("CI").is_some() => 60.0,
        Err(_) => 10.0,
    };
    let seed = std::env::var("GOCHAN_SOAK_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed);
    let cfg = gochan_stress::Config {
        seconds,
        seed,
        ..Default::default()
    };
    #[cfg(feature = "debug-handles")]
    let sampler = never_wakes::Sampler::start();
    let start = Instant::now();
    let report = gochan_stress::run(&cfg);
    let took = start.elapsed();
    println!("{report}");
    assert!(report.passed(), "soak failed:\n{report}");
    #[cfg(feature = "debug-handles")]
    sampler.check();
    // The audit after the soak (wake-up, settling) must stay small.
    let budget = Duration::from_secs_f64(seconds) + Duration::from_secs(20);
    assert!(took <= budget, "soak took {took:?}, budget {budget:?}");
}

/// Samples `gochan::debug::never_wakes` during the soak: every party it names must still
/// be blocked at the end (after the soak every worker has ended, so none may be named).
#[cfg(feature = "debug-handles")]
mod never_wakes {
    use std::sync::atomic::{AtomicBool, Ordering};
    use std::sync::Arc;
    use std::thread::JoinHandle;
    use std::time::Duration;

    use gochan::debug::Blocked;

    pub struct Sampler {
        stop: Arc<AtomicBool>,
        thread: JoinHandle<(Vec<Blocked>, usize)>,
    }

    impl Sampler {
        pub fn start() -> Sampler {
            let stop = Arc::new(AtomicBool::new(false));
            let s = stop.clone();
            let thread = std::thread::spawn(move || {
                let mut seen: Vec<Blocked> = Vec::new();
                let mut passes = 0;
                while !s.load(Ordering::Relaxed) {
                    for b in gochan::debug::never_wakes() {
                        if !seen
                            .iter()
                            .any(|x| x.since == b.since && x.party == b.party)
                        {
                            seen.push(b);
                        }
                    }
                    passes += 1;
                    std::thread::sleep(Duration::from_millis(20));
                }
                (seen, passes)
            });
            Sampler { stop, thread }
        }

        pub fn check(self) {
            self.stop.store(true, Ordering::Relaxed);
            let (seen, passes) = self.thread.join().unwrap();
            assert!(passes > 0);
            let now = gochan::debug::blocked();
            for b in &seen {
                assert!(
                    now.iter().any(|n| n.since == b.since && n.party == b.party),
                    "never_wakes named a party that woke later:\n{b}"
                );
            }
            println!("never_wakes: {passes} passes, {} parties named", seen.len());
        }
    }
}
