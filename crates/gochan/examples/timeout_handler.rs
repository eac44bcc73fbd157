//! `http.TimeoutHandler`'s drawback: the client gets its 503 on time, but a handler that
//! ignores its context keeps running.
//!
//! Mirrors `net/http`'s `TimeoutHandler` (<https://pkg.go.dev/net/http#TimeoutHandler>; its
//! `ServeHTTP` below is from `net/http/server.go`) and a handler that ignores the context:
//!
//! ```go
//! func main() {
//!     mux := http.NewServeMux()
//!     mux.HandleFunc("/", func(rw http.ResponseWriter, r *http.Request) {
//!         // blocks here: the goroutine is never released
//!         time.Sleep(1000 * time.Second)
//!         rw.Write([]byte("hello"))
//!     })
//!     handler := http.TimeoutHandler(mux, time.Millisecond, "xxx")
//!     ...
//!     http.ListenAndServe(":8080", handler)
//! }
//!
//! func (h *timeoutHandler) ServeHTTP(w ResponseWriter, r *Request) {
//!     ctx := h.testContext
//!     if ctx == nil {
//!         var cancelCtx context.CancelFunc
//!         ctx, cancelCtx = context.WithTimeout(r.Context(), h.dt)
//!         defer cancelCtx()
//!     }
//!     r = r.WithContext(ctx)
//!     done := make(chan struct{})
//!     tw := &timeoutWriter{...}
//!     panicChan := make(chan interface{}, 1)
//!     go func() {
//!         defer func() {
//!             if p := recover(); p != nil {
//!                 panicChan <- p
//!             }
//!         }()
//!         h.handler.ServeHTTP(tw, r)
//!         close(done)
//!     }()
//!     select {
//!     case p := <-panicChan:
//!         panic(p)
//!     case <-done:
//!         // ...
//!     case <-ctx.Done():
//!         // ...
//!     }
//! }
//! ```
//!
//! In Go, a `net/http/pprof` goroutine profile after a burst of requests shows the handler
//! goroutines still there (blocked in `time.Sleep`). This program serves 10 requests
//! through a twin of `TimeoutHandler` (1 ms, "xxx") twice: with the Go program's handler,
//! whose `sleep` no context can interrupt (its threads stay, exactly as in Go), and with a
//! handler that waits on `select! { recv(r.ctx.done()), recv(after(1000 s)) }` instead,
//! whose threads all end.
//!
//! - `recover()` + `panicChan` is `std::panic::catch_unwind` + a `bounded(1)` channel;
//!   `panic(p)` is `std::panic::resume_unwind(p)`.
//! - `close(done)` on an unbuffered channel is `done_tx.close()`.
//! - No network: `serve` calls the handler directly, one thread per request.

use std::panic::{catch_unwind, resume_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

use gochan::context::{self, Context};
use gochan::{bounded, Receiver};
use parking_lot::Mutex;

/// Stand-in for `*http.Request`.
#[derive(Clone)]
struct Request {
    ctx: Context,
}

/// Stand-in for `http.ResponseWriter`: status and body.
#[derive(Default)]
struct Response {
    status: u16,
    body: String,
}

type Handler = Arc<dyn Fn(&Mutex<Response>, Request) + Send + Sync>;

/// Go's `http.TimeoutHandler(h, dt, msg)`. `goroutines` counts its handler threads still
/// running (our stand-in for Go's pprof goroutine profile).
fn timeout_handler(
    h: Handler,
    dt: Duration,
    msg: &'static str,
    goroutines: Arc<AtomicUsize>,
) -> impl Fn(Request) -> Response {
    move |r: Request| {
        let (ctx, _cancel_ctx) = context::with_timeout(&r.ctx, dt); // defer cancelCtx()
        let r = Request { ctx: ctx.clone() };
        let (done_tx, done) = bounded::<()>(0);
        let tw = Arc::new(Mutex::new(Response::default())); // timeoutWriter
        let (panic_tx, panic_chan) = bounded(1);
        let (h, tw2, goroutines) = (h.clone(), tw.clone(), goroutines.clone());
        goroutines.fetch_add(1, Ordering::SeqCst);
        thread::spawn(move || {
            let outcome = catch_unwind(AssertUnwindSafe(|| h(&tw2, r)));
            goroutines.fetch_sub(1, Ordering::SeqCst);
            match outcome {
                Ok(()) => {
                    done_tx.close();
                }
                Err(p) => {
                    let _ = panic_tx.send(p);
                }
            }
        });
        let panic_chan: Receiver<Box<dyn std::any::Any + Send>> = panic_chan;
        let finished = || {
            let tw = std::mem::take(&mut *tw.lock());
            Response {
                status: if tw.status == 0 { 200 } else { tw.status },
                body: tw.body,
            }
        };
        // Biased, deadline first: a context-aware handler returns *because* the deadline
        // passed, so `done` and `ctx.done()` become ready together; Go's random choice
        // could then answer 200 with an empty body. The timeout answer is the intended one.
        gochan::select_biased! {
            recv(ctx.done()) -> _ => Response { status: 503, body: msg.to_string() },
            // The handler thread drops `panic_tx` when it ends: a closed `panic_chan`
            // (no value) means it finished normally, like `done`.
            recv(panic_chan) -> p => match p {
                Ok(p) => resume_unwind(p),
                Err(_) => finished(),
            },
            recv(done) -> _ => finished(),
        }
    }
}

/// The Go program's handler: blocks for 1000 s whatever happens to the request.
fn sleeping_handler(rw: &Mutex<Response>, _r: Request) {
    thread::sleep(Duration::from_secs(1000));
    rw.lock().body.push_str("hello");
}

/// The same handler, but its wait also ends with the request's context.
fn ctx_aware_handler(rw: &Mutex<Response>, r: Request) {
    gochan::select! {
        recv(r.ctx.done()) -> _ => {}, // the client is gone: stop working
        recv(gochan::after(Duration::from_secs(1000))) -> _ => rw.lock().body.push_str("hello"),
    }
}

/// Serves `n` requests through `TimeoutHandler(h, 1ms, "xxx")` and reports.
fn serve(name: &str, h: Handler, n: usize) -> Vec<String> {
    let goroutines = Arc::new(AtomicUsize::new(0));
    let handler = Arc::new(timeout_handler(
        h,
        Duration::from_millis(1),
        "xxx",
        goroutines.clone(),
    ));
    let answers: Vec<Response> = (0..n)
        .map(|_| {
            let handler = handler.clone();
            thread::spawn(move || {
                handler(Request {
                    ctx: context::background(),
                })
            })
        })
        .collect::<Vec<_>>()
        .into_iter()
        .map(|t| t.join().unwrap())
        .collect();
    let all_503 = answers.iter().all(|r| r.status == 503 && r.body == "xxx");
    // Give handlers that ended a moment to leave; sleeping ones never do.
    let start = Instant::now();
    while goroutines.load(Ordering::SeqCst) > 0 && start.elapsed() < Duration::from_millis(200) {
        thread::sleep(Duration::from_millis(2));
    }
    vec![
        format!("{name}: {n} requests, all answered 503 \"xxx\": {all_503}"),
        format!(
            "{name}: handler threads still running: {}",
            goroutines.load(Ordering::SeqCst)
        ),
    ]
}

/// Runs the pattern and returns the lines the program prints.
pub fn run() -> Vec<String> {
    let mut out = serve("sleeping handler", Arc::new(sleeping_handler), 10);
    out.extend(serve("ctx-aware handler", Arc::new(ctx_aware_handler), 10));
    out
}

#[allow(dead_code)]
fn main() {
    for line in run() {
        println!("{line}");
    }
}
