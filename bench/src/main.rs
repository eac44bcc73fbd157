//! gochan-bench: runs the same channel, fan-in, context and timer workloads on gochan and
//! its peers (and Go, when `go` is on PATH) in one process, interleaved, and writes a
//! Markdown table, the raw figures as JSON and one SVG chart per workload.
//!
//! ```text
//! cargo run --release -p gochan-bench -- [--quick] [--out DIR] [--filter SUBSTR] [--rounds N] [--no-go]
//! cargo run --release -p gochan-bench -- compare OLD.json NEW.json [--threshold PCT] [--all]
//! ```

mod alloc;
mod chart;
mod compare;
mod go;
mod harness;
mod report;
mod workloads;

use std::collections::BTreeSet;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Instant;

use harness::{run_all, Env};
use report::{Meta, Report};
use workloads::{all_cases, Config};

const USAGE: &str =
    "usage: gochan-bench [--quick] [--out DIR] [--filter SUBSTR] [--rounds N] [--no-go]
       gochan-bench compare OLD.json NEW.json [--threshold PCT] [--all] [--contender NAME]...

  --quick          fewer messages, ops and children per run (under two minutes on 2 cores)
  --out DIR        where results.md, results.json and <workload>.svg go (default bench/results)
  --filter SUBSTR  only cells whose id workload/cap/mode/msg contains SUBSTR (e.g. spsc/0/)
  --rounds N       rounds (default 5 quick, 9 full; at least 1)
  --no-go          skip the Go contender even if `go` is on PATH";

struct Args {
    quick: bool,
    out: PathBuf,
    filter: Option<String>,
    rounds: Option<usize>,
    no_go: bool,
}

fn parse(args: &[String]) -> Result<Args, String> {
    let mut a = Args {
        quick: false,
        out: PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/results")),
        filter: None,
        rounds: None,
        no_go: false,
    };
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--quick" => a.quick = true,
            "--no-go" => a.no_go = true,
            "--out" => a.out = it.next().ok_or("--out needs a directory")?.into(),
            "--filter" => a.filter = Some(it.next().ok_or("--filter needs a substring")?.clone()),
            "--rounds" => {
                let n = it
                    .next()
                    .and_then(|v| v.parse().ok())
                    .filter(|&n: &usize| n > 0);
                a.rounds = Some(n.ok_or("--rounds needs a positive number")?);
            }
            "-h" | "--help" => return Err(String::new()),
            other => return Err(format!("unknown argument {other}")),
        }
    }
    Ok(a)
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.first().map(String::as_str) == Some("compare") {
        return ExitCode::from(compare::main(&args[1..]) as u8);
    }
    if args.first().map(String::as_str) == Some(workloads::timers::PROBE_CMD) {
        // Internal: the pending-timers probe, run in a fresh process (see timers.rs).
        return workloads::timers::probe_main(&args[1..]);
    }
    let args = match parse(&args) {
        Ok(a) => a,
        Err(e) => {
            if !e.is_empty() {
                eprintln!("gochan-bench: {e}");
            }
            eprintln!("{USAGE}");
            return ExitCode::from(2);
        }
    };
    match run(args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("gochan-bench: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Args) -> Result<(), String> {
    let t0 = Instant::now();
    let mut cfg = if args.quick {
        Config::quick()
    } else {
        Config::full()
    };
    if let Some(r) = args.rounds {
        cfg.rounds = r;
    }
    let cases = all_cases(&cfg, args.filter.as_deref());
    if cases.is_empty() {
        return Err(format!(
            "no cell matches --filter {:?}",
            args.filter.unwrap_or_default()
        ));
    }
    let mut meta = Meta::collect();
    meta.quick = args.quick;
    meta.rounds = cfg.rounds;
    meta.n_slow = cfg.n_slow;
    meta.n_fast = cfg.n_fast;
    meta.filter = args.filter.clone();
    meta.n_ops = cfg.n_ops;
    meta.n_ctx = cfg.n_ctx;
    meta.n_timers = cfg.n_timers;

    // Go is asked for the selected cells (`workload/cap/msg@n`) and runs those it has (no
    // unbounded channels in Go, no drop of a context), one process per round.
    let go_cells: BTreeSet<String> = cases
        .iter()
        .map(|c| format!("{}/{}/{}@{}", c.key.workload, c.key.cap, c.key.msg, c.n))
        .collect();
    let mut go = if args.no_go {
        meta.go = "skipped (--no-go)".into();
        None
    } else {
        match go::Go::setup(go_cells.into_iter().collect()) {
            Ok(g) => {
                meta.go = format!("{} (GOMAXPROCS=2; bench/go/main.go)", g.version);
                meta.go_present = true;
                Some(g)
            }
            Err(e) => {
                meta.go = format!("not run: {e}");
                None
            }
        }
    };
    eprintln!("go: {}", meta.go);
    let entries: usize = cases.iter().map(|c| c.entries.len()).sum();
    eprintln!(
        "{} cells, {entries} contender runs per round, {} rounds",
        cases.len(),
        cfg.rounds
    );

    let env = Env::new();
    let mut go_error = None;
    let mut cells = run_all(
        &env,
        &cases,
        cfg.rounds,
        |_| {
            if let Some(g) = go.as_mut() {
                if let Err(e) = g.run_round(&cfg) {
                    go_error = Some(e);
                    go = None;
                }
            }
        },
        |msg| eprintln!("{msg}"),
    );
    drop(env);
    if cases.iter().any(|c| c.key.workload.starts_with("timer")) {
        // The pending-timers probe: RSS and thread count around n pending gochan timers,
        // in a fresh process so that nothing this run allocated is in the figures.
        match workloads::timers::probe_process(cfg.n_timers) {
            Ok(p) => meta.notes.push(p.note()),
            Err(e) => meta.notes.push(format!("pending-timers probe failed: {e}")),
        }
        eprintln!("{}", meta.notes.last().expect("pushed"));
    }
    if let Some(g) = go {
        cells.extend(g.into_results());
    }
    if let Some(e) = go_error {
        eprintln!("go: {e}");
        meta.go = format!("failed: {e}");
        meta.go_present = false;
    }
    meta.elapsed_s = t0.elapsed().as_secs_f64();

    let report = Report { meta, cells };
    std::fs::create_dir_all(&args.out).map_err(|e| format!("{}: {e}", args.out.display()))?;
    let md = report::markdown(&report);
    let md_path = args.out.join("results.md");
    let json_path = args.out.join("results.json");
    std::fs::write(&md_path, &md).map_err(|e| format!("{}: {e}", md_path.display()))?;
    let json = serde_json::to_string_pretty(&report).map_err(|e| e.to_string())?;
    std::fs::write(&json_path, json).map_err(|e| format!("{}: {e}", json_path.display()))?;
    let charts = chart::write_charts(&report, &args.out)?;
    println!("{md}");
    eprintln!(
        "wrote {}, {} and {} charts in {} ({:.0} s)",
        md_path.display(),
        json_path.display(),
        charts.len(),
        args.out.display(),
        report.meta.elapsed_s
    );
    Ok(())
}
