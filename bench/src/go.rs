//! The Go contender: `bench/go/main.go`, built once with `go build` when `go` is on PATH
//! and run once per round between the Rust rounds (GOMAXPROCS=2, like the 2 tokio
//! workers). Its figures go into cells of mode `go` and show up in the table's `go` column.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde::Deserialize;

use crate::harness::{CellResult, Key};
use crate::report::GO_MODE;
use crate::workloads::Config;

/// Where the Go source lives.
pub const GO_SRC: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/go");

/// A built Go benchmark binary.
pub struct Go {
    bin: PathBuf,
    pub version: String,
    /// `workload/cap/msg@n` cells to run (`@n`: the run's size; without it Go picks
    /// `-nslow` or `-nfast` by capacity).
    cells: Vec<String>,
    results: BTreeMap<(String, String, String), CellResult>,
}

#[derive(Debug, Deserialize)]
struct Line {
    workload: String,
    cap: String,
    msg: String,
    n: usize,
    ns_per_msg: f64,
    ok: bool,
}

/// Finds an executable named `name` on PATH.
pub fn which(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|d| d.join(name))
        .find(|p| p.is_file())
}

fn go_command(go: &Path) -> Command {
    let mut cmd = Command::new(go);
    cmd.env("GOPROXY", "off")
        .env("GOFLAGS", "-mod=mod")
        .env("GO111MODULE", "on");
    if std::env::var_os("HOME").is_none() && std::env::var_os("GOCACHE").is_none() {
        cmd.env("GOCACHE", std::env::temp_dir().join("gochan-bench-gocache"));
    }
    cmd
}

impl Go {
    /// Builds the Go benchmark. `Err` says why Go is not part of this run.
    pub fn setup(cells: Vec<String>) -> Result<Go, String> {
        let go = which("go").ok_or("`go` not found on PATH: no Go figures in this run")?;
        let out = go_command(&go)
            .arg("version")
            .output()
            .map_err(|e| format!("go version: {e}"))?;
        let version = String::from_utf8_lossy(&out.stdout).trim().to_string();
        // One binary per setup: tests set up Go in parallel within one process.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let k = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let bin = std::env::temp_dir().join(format!("gochan-bench-go-{}-{k}", std::process::id()));
        let out = go_command(&go)
            .arg("build")
            .arg("-o")
            .arg(&bin)
            .arg(".")
            .current_dir(GO_SRC)
            .output()
            .map_err(|e| format!("go build: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "go build failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        Ok(Go {
            bin,
            version,
            cells,
            results: BTreeMap::new(),
        })
    }

    /// Runs one round of every cell; figures accumulate in `self`.
    pub fn run_round(&mut self, cfg: &Config) -> Result<(), String> {
        if self.cells.is_empty() {
            return Ok(());
        }
        let out = Command::new(&self.bin)
            .env("GOMAXPROCS", "2")
            .args(["-rounds", "1", "-nslow", &cfg.n_slow.to_string()])
            .args([
                "-nfast",
                &cfg.n_fast.to_string(),
                "-cells",
                &self.cells.join(","),
            ])
            .output()
            .map_err(|e| format!("running the Go benchmark: {e}"))?;
        if !out.status.success() {
            return Err(format!(
                "Go benchmark failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ));
        }
        for l in parse_lines(&String::from_utf8_lossy(&out.stdout))? {
            let key = Key {
                workload: l.workload,
                cap: l.cap,
                mode: GO_MODE.into(),
                msg: l.msg,
            };
            let cell = self
                .results
                .entry((key.workload.clone(), key.cap.clone(), key.msg.clone()))
                .or_insert_with(|| CellResult {
                    key,
                    n: l.n,
                    ..CellResult::default()
                });
            cell.ns_per_msg
                .entry("go".into())
                .or_default()
                .push(l.ns_per_msg);
        }
        Ok(())
    }

    /// The accumulated Go cells.
    pub fn into_results(self) -> Vec<CellResult> {
        let _ = std::fs::remove_file(&self.bin);
        self.results.into_values().collect()
    }
}

/// Parses the Go program's JSON lines (the version header and any non-cell line are
/// skipped); a failed delivery check is an error.
fn parse_lines(stdout: &str) -> Result<Vec<Line>, String> {
    let mut lines = Vec::new();
    for raw in stdout.lines().filter(|l| l.contains("\"ns_per_msg\"")) {
        let l: Line =
            serde_json::from_str(raw).map_err(|e| format!("bad Go output {raw:?}: {e}"))?;
        if !l.ok {
            return Err(format!(
                "Go {}/{}/{}: delivery check failed",
                l.workload, l.cap, l.msg
            ));
        }
        lines.push(l);
    }
    Ok(lines)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The Go twin delivers every message exactly once in every cell (skipped without Go).
    #[test]
    fn go_workloads_deliver_exactly_once() {
        let cells: Vec<String> = [
            "seq/1000",
            "spsc/0",
            "mpsc/1",
            "mpmc/0",
            "select_rx/0",
            "select_both/0",
        ]
        .iter()
        .flat_map(|c| [format!("{c}/8B"), format!("{c}/0B"), format!("{c}/32B")])
        .chain(["mpmc/unb/8B".to_string()]) // not runnable in Go: skipped
        .collect();
        let mut go = match Go::setup(cells) {
            Ok(g) => g,
            Err(e) => return eprintln!("skipped: {e}"),
        };
        let cfg = Config {
            n_slow: 301,
            n_fast: 2003,
            ..Config::tiny()
        };
        go.run_round(&cfg).unwrap(); // errors on a failed delivery check
        let res = go.into_results();
        assert_eq!(res.len(), 18);
        assert!(res
            .iter()
            .all(|c| c.key.mode == GO_MODE && c.ns_per_msg["go"].len() == 1));
    }

    /// The Go twins of every merge, context and timer cell run and pass their checks, under
    /// the same names as the Rust cells (skipped without Go).
    #[test]
    fn go_measurement_cells_match_rust_cells() {
        let cfg = Config::tiny();
        let cases: Vec<_> = crate::workloads::all_cases(&cfg, None)
            .into_iter()
            .filter(|c| {
                c.key.workload.starts_with("ctx_")
                    || c.key.workload.starts_with("timer")
                    || c.key.workload == "merge"
            })
            .collect();
        let cells: std::collections::BTreeSet<String> = cases
            .iter()
            .map(|c| format!("{}/{}/{}@{}", c.key.workload, c.key.cap, c.key.msg, c.n))
            .collect();
        let want = cells.len() - 1; // ctx_child/create+drop: Go has no drop
        let mut go = match Go::setup(cells.into_iter().collect()) {
            Ok(g) => g,
            Err(e) => return eprintln!("skipped: {e}"),
        };
        go.run_round(&cfg).unwrap(); // errors on a failed check
        let res = go.into_results();
        let names: Vec<String> = res.iter().map(|c| c.key.id()).collect();
        assert_eq!(res.len(), want, "{names:?}");
        // Heap deltas at this tiny n can dip below 0 (Go frees timers that earlier cells
        // stopped, lazily); the time figures must be positive.
        assert!(
            res.iter().all(|c| {
                let x = c.ns_per_msg["go"][0];
                x.is_finite() && (x > 0.0 || c.key.msg.starts_with("B/"))
            }),
            "{res:?}"
        );
    }

    /// The Go twins of the contention rows (mpmc_16x16, mpmc_64x64) run under the Rust
    /// rows' names at cap 1 and 1000; the unbounded rows have no Go figure, like every
    /// `unb` cell (skipped without Go).
    #[test]
    fn go_contention_cells_match_rust_cells() {
        let cfg = Config::tiny();
        let cells: std::collections::BTreeSet<String> =
            crate::workloads::all_cases(&cfg, Some("mpmc_"))
                .iter()
                .map(|c| format!("{}/{}/{}@{}", c.key.workload, c.key.cap, c.key.msg, c.n))
                .collect();
        assert_eq!(cells.len(), 6, "{cells:?}"); // sync and async share a Go cell
        let mut go = match Go::setup(cells.into_iter().collect()) {
            Ok(g) => g,
            Err(e) => return eprintln!("skipped: {e}"),
        };
        go.run_round(&cfg).unwrap(); // errors on a failed delivery check
        let names: Vec<String> = go.into_results().iter().map(|c| c.key.id()).collect();
        assert_eq!(
            names,
            [
                "mpmc_16x16/1/go/8B",
                "mpmc_16x16/1000/go/8B",
                "mpmc_64x64/1/go/8B",
                "mpmc_64x64/1000/go/8B"
            ]
        );
    }

    #[test]
    fn parses_go_lines() {
        let out = "{\"go\":\"go1.19.8\",\"gomaxprocs\":2}\n\
                   {\"workload\":\"spsc\",\"cap\":\"0\",\"msg\":\"8B\",\"n\":2000,\"ns_per_msg\":114.5,\"ok\":true}\n";
        let l = parse_lines(out).unwrap();
        assert_eq!(l.len(), 1);
        assert_eq!(
            (l[0].workload.as_str(), l[0].cap.as_str(), l[0].n),
            ("spsc", "0", 2000)
        );
        let bad = out.replace("true", "false");
        assert!(parse_lines(&bad)
            .unwrap_err()
            .contains("delivery check failed"));
    }
}
