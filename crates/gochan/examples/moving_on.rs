//! Moving on: ask several replicas, take the first reply, let the others go.
//!
//! Mirrors the Go blog post "Go Concurrency Patterns: Timing out, moving on"
//! (<https://go.dev/blog/concurrency-timeouts>), "moving on": several goroutines query
//! replicas and only the fastest answer is taken:
//!
//! ```go
//! func Query(conns []Conn, query string) Result {
//!     ch := make(chan Result, 1)
//!     for _, conn := range conns {
//!         go func(c Conn) {
//!             select {
//!             case ch <- c.DoQuery(query):
//!             default:
//!             }
//!         }(conn)
//!     }
//!     return <-ch
//! }
//! ```
//!
//! - `make(chan Result, 1)` is `gochan::bounded(1)`: the buffer of one keeps the first
//!   result even if the caller is not receiving yet (the post explains why).
//! - `select { case ch <- v: default: }` is `select! { send(ch, v) -> _ => {}, default => {} }`;
//!   as in Go, `c.DoQuery(query)` is evaluated before the select, then the send is tried
//!   once without blocking, so slower replicas drop their result and their thread ends.
//! - Go's snippet has no `main`; this one queries three simulated replicas (latencies 120,
//!   10 and 60 ms) and prints the winner. It then does the same with the library form,
//!   [`gochan::pipeline::first`], which also cancels a context so the losers stop early.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::Duration;

use gochan::context::{self, Context};
use gochan::{bounded, pipeline};

#[derive(Clone)]
struct Conn {
    name: &'static str,
    latency: Duration,
}

#[derive(Debug)]
struct QueryResult {
    from: &'static str,
    rows: String,
}

impl Conn {
    /// A replica that needs `latency` to answer.
    fn do_query(&self, query: &str) -> QueryResult {
        thread::sleep(self.latency);
        QueryResult {
            from: self.name,
            rows: format!("1 row for {query:?}"),
        }
    }

    /// The same replica, but it gives up when `ctx` ends (for `pipeline::first`).
    fn do_query_ctx(&self, ctx: &Context, query: &str) -> Option<QueryResult> {
        if ctx.wait_timeout(self.latency) {
            return None; // cancelled: the first reply already came from elsewhere
        }
        Some(QueryResult {
            from: self.name,
            rows: format!("1 row for {query:?}"),
        })
    }
}

/// Go's `Query`, line for line.
fn query(conns: &[Conn], query: &str) -> QueryResult {
    let (ch_tx, ch) = bounded(1);
    for conn in conns {
        let (c, ch, query) = (conn.clone(), ch_tx.clone(), query.to_string());
        thread::spawn(move || {
            gochan::select! {
                send(ch, c.do_query(&query)) -> _ => {},
                default => {},
            }
        });
    }
    ch.recv().expect("at least one conn")
}

fn replicas() -> Vec<Conn> {
    [("replica-a", 120), ("replica-b", 10), ("replica-c", 60)]
        .into_iter()
        .map(|(name, ms)| Conn {
            name,
            latency: Duration::from_millis(ms),
        })
        .collect()
}

/// Runs the pattern and returns the lines the program prints.
pub fn run() -> Vec<String> {
    let mut out = Vec::new();
    let r = query(&replicas(), "SELECT 1");
    out.push(format!("Query: {} answered first: {}", r.from, r.rows));

    // The library form: every query gets a child context that is cancelled once the
    // first answer is in, so the slower replicas stop instead of finishing their work.
    let cancelled = Arc::new(AtomicUsize::new(0));
    let queries = replicas().into_iter().map(|c| {
        let cancelled = cancelled.clone();
        move |ctx: &Context| {
            let r = c.do_query_ctx(ctx, "SELECT 1");
            if r.is_none() {
                cancelled.fetch_add(1, Ordering::SeqCst);
            }
            r
        }
    });
    let r = pipeline::first(&context::background(), queries)
        .expect("background never ends")
        .expect("the first reply is an answer");
    out.push(format!(
        "pipeline::first: {} answered first: {}",
        r.from, r.rows
    ));
    // The two losers see their context cancelled and return at once.
    for _ in 0..100 {
        if cancelled.load(Ordering::SeqCst) == 2 {
            break;
        }
        thread::sleep(Duration::from_millis(5));
    }
    out.push(format!(
        "pipeline::first: slower queries cancelled: {}",
        cancelled.load(Ordering::SeqCst)
    ));
    out
}

#[allow(dead_code)]
fn main() {
    for line in run() {
        println!("{line}");
    }
}
