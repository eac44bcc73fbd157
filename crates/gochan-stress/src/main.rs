//! `gochan-stress --seconds N [--seed S] [--threads T] [--tasks K] [--faults] [--quiet]`

use std::process::ExitCode;

const USAGE: &str =
    "usage: gochan-stress --seconds N [--seed S] [--threads T] [--tasks K] [--faults] [--quiet]
  --seconds N   soak duration (default 10)
  --seed S      seed of the workers' random generators (default: from the clock)
  --threads T   OS worker threads (default 8)
  --tasks K     tokio tasks on a 2-worker runtime (default 32)
  --faults      fault mode: values whose Drop panics, panic probes, more dropped futures
  --quiet       no progress lines";

fn parse() -> Result<gochan_stress::Config, String> {
    let mut cfg = gochan_stress::Config {
        progress: true,
        seed: std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(1, |d| d.as_nanos() as u64),
        ..Default::default()
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        match a.as_str() {
            "--seconds" => {
                cfg.seconds = value("--seconds")?
                    .parse()
                    .map_err(|e| format!("--seconds: {e}"))?
            }
            "--seed" => {
                cfg.seed = value("--seed")?
                    .parse()
                    .map_err(|e| format!("--seed: {e}"))?
            }
            "--threads" => {
                cfg.threads = value("--threads")?
                    .parse()
                    .map_err(|e| format!("--threads: {e}"))?
            }
            "--tasks" => {
                cfg.tasks = value("--tasks")?
                    .parse()
                    .map_err(|e| format!("--tasks: {e}"))?
            }
            "--quiet" => cfg.progress = false,
            "--faults" => cfg.faults = true,
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other:?}")),
        }
    }
    if !(cfg.seconds >= 0.0 && cfg.seconds.is_finite()) {
        return Err("--seconds must be a non-negative number".into());
    }
    Ok(cfg)
}

fn main() -> ExitCode {
    let cfg = match parse() {
        Ok(c) => c,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("gochan-stress: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    eprintln!(
        "gochan-stress: {} s, seed {}, {} threads, {} tasks{}",
        cfg.seconds,
        cfg.seed,
        cfg.threads,
        cfg.tasks,
        if cfg.faults { ", faults" } else { "" }
    );
    let report = gochan_stress::run(&cfg);
    println!("{report}");
    if report.passed() {
        ExitCode::SUCCESS
    } else {
        // Stuck workers may still be blocked: exit without waiting for them.
        std::process::exit(1)
    }
}
