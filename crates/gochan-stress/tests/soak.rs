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
    let start = Instant::now();
    let report = gochan_stress::run(&cfg);
    let took = start.elapsed();
    println!("{report}");
    assert!(report.passed(), "soak failed:\n{report}");
    // The audit after the soak (wake-up, settling) must stay small.
    let budget = Duration::from_secs_f64(seconds) + Duration::from_secs(20);
    assert!(took <= budget, "soak took {took:?}, budget {budget:?}");
}
