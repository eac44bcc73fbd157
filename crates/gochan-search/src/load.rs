//! A small closed-loop HTTP load generator (loopback only): `concurrency` tasks each send
//! one request after another for a fixed time; the report gives requests/s and latency
//! percentiles. Used by the `search-load` binary and by `tests/load.rs`.

use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use gochan::context;
use http_body_util::{BodyExt, Full};

/// What a run measured.
#[derive(Clone, Debug)]
pub struct Report {
    /// Requests answered `200 OK` with a complete body.
    pub ok: u64,
    /// Requests that failed or got another status.
    pub errors: u64,
    /// Wall time of the run.
    pub elapsed: Duration,
    /// Median latency of the successful requests.
    pub p50: Duration,
    /// 99th percentile latency.
    pub p99: Duration,
    /// Slowest request.
    pub max: Duration,
}

impl Report {
    /// Successful requests per second.
    pub fn rps(&self) -> f64 {
        self.ok as f64 / self.elapsed.as_secs_f64()
    }
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{:>8.0} req/s  p50 {:>9}  p99 {:>9}  max {:>9}  ok {}  errors {}",
            self.rps(),
            gochan::time::format_duration(self.p50),
            gochan::time::format_duration(self.p99),
            gochan::time::format_duration(self.max),
            self.ok,
            self.errors
        )
    }
}

/// Sends `GET url` from `concurrency` tasks for `duration` (each task waits for its
/// answer before sending the next).
///
/// # Panics
/// If `url` is not a valid URI.
pub async fn run(url: &str, concurrency: usize, duration: Duration) -> Report {
    let uri: http::Uri = url.parse().expect("a valid URL");
    let client = gochan_http::Client::new();
    let start = Instant::now();
    let end = start + duration;
    let tasks: Vec<_> = (0..concurrency.max(1))
        .map(|_| {
            let (client, uri) = (client.clone(), uri.clone());
            tokio::spawn(async move {
                let bg = context::background();
                let (mut lat, mut errors) = (Vec::new(), 0u64);
                while Instant::now() < end {
                    let t = Instant::now();
                    let req = http::Request::get(uri.clone())
                        .body(Full::new(Bytes::new()))
                        .expect("valid request");
                    let ok = match client.send(&bg, req).await {
                        Ok(resp) if resp.status().is_success() => {
                            resp.into_body().collect().await.is_ok()
                        }
                        _ => false,
                    };
                    if ok {
                        lat.push(t.elapsed());
                    } else {
                        errors += 1;
                    }
                }
                (lat, errors)
            })
        })
        .collect();
    let mut all = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (lat, e) = t.await.expect("load task panicked");
        all.extend(lat);
        errors += e;
    }
    let elapsed = start.elapsed();
    all.sort_unstable();
    let pct = |p: f64| -> Duration {
        if all.is_empty() {
            return Duration::ZERO;
        }
        let i = ((all.len() as f64 * p).ceil() as usize).clamp(1, all.len()) - 1;
        all[i]
    };
    Report {
        ok: all.len() as u64,
        errors,
        elapsed,
        p50: pct(0.50),
        p99: pct(0.99),
        max: all.last().copied().unwrap_or_default(),
    }
}

/// Waits (up to `limit`) until no handler or backend work is running; returns the count
/// left (0 on success).
pub async fn settle(stats: &Arc<crate::Stats>, limit: Duration) -> u64 {
    let until = Instant::now() + limit;
    loop {
        let live = stats.live();
        if live == 0 || Instant::now() >= until {
            return live;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}
