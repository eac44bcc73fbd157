//! A search front end: each request gets a context with the user's timeout, the user's IP
//! travels as a context value, and outgoing calls are cancelled when the context ends.
//!
//! Mirrors the Go blog post "Go Concurrency Patterns: Context" (<https://go.dev/blog/context>),
//! with simulated backends instead of the network:
//!
//! ```go
//! func handleSearch(w http.ResponseWriter, req *http.Request) {
//!     var (
//!         ctx    context.Context
//!         cancel context.CancelFunc
//!     )
//!     timeout, err := time.ParseDuration(req.FormValue("timeout"))
//!     if err == nil {
//!         ctx, cancel = context.WithTimeout(context.Background(), timeout)
//!     } else {
//!         ctx, cancel = context.WithCancel(context.Background())
//!     }
//!     defer cancel() // Cancel ctx as soon as handleSearch returns.
//!     query := req.FormValue("q")
//!     if query == "" {
//!         http.Error(w, "no query", http.StatusBadRequest)
//!         return
//!     }
//!     userIP, err := userip.FromRequest(req)
//!     if err != nil {
//!         http.Error(w, err.Error(), http.StatusBadRequest)
//!         return
//!     }
//!     ctx = userip.NewContext(ctx, userIP)
//!     start := time.Now()
//!     results, err := google.Search(ctx, query)
//!     elapsed := time.Since(start)
//!     resultsTemplate.Execute(w, struct{ Results; Timeout, Elapsed time.Duration }{...})
//! }
//!
//! func Search(ctx context.Context, query string) (Results, error) {
//!     req, err := http.NewRequest("GET", "https://ajax.googleapis.com/ajax/services/search/web?v=1.0", nil)
//!     q := req.URL.Query()
//!     q.Set("q", query)
//!     if userIP, ok := userip.FromContext(ctx); ok {
//!         q.Set("userip", userIP.String())
//!     }
//!     req.URL.RawQuery = q.Encode()
//!     var results Results
//!     err = httpDo(ctx, req, func(resp *http.Response, err error) error {
//!         if err != nil {
//!             return err
//!         }
//!         defer resp.Body.Close()
//!         // Parse the JSON search result.
//!         ...
//!             results = append(results, Result{Title: res.TitleNoFormatting, URL: res.URL})
//!         return nil
//!     })
//!     // httpDo waits for the closure we provided to return, so it's safe to read results here.
//!     return results, err
//! }
//!
//! func httpDo(ctx context.Context, req *http.Request, f func(*http.Response, error) error) error {
//!     c := make(chan error, 1)
//!     req = req.WithContext(ctx)
//!     go func() { c <- f(http.DefaultClient.Do(req)) }()
//!     select {
//!     case <-ctx.Done():
//!         <-c // Wait for f to return.
//!         return ctx.Err()
//!     case err := <-c:
//!         return err
//!     }
//! }
//! ```
//!
//! - The `userip` package (an unexported key type, `NewContext`, `FromContext`,
//!   `FromRequest`) is the module [`userip`]: the private newtype `Key` is the context key,
//!   so no other package can read or overwrite the value.
//! - `google.Search` fans out here to three simulated backends (`web`, `images`, `news`,
//!   20, 150 and 250 ms away), each through `httpDo`; the stand-in for
//!   `http.DefaultClient.Do` waits for the backend's latency *or* the request's context,
//!   like a real client whose request carries the context, and counts cancelled calls.
//! - `httpDo`'s goroutine plus `<-c // Wait for f to return` is a `std::thread::scope`: the
//!   scope cannot end before `f` returns, which is what lets `f` borrow `results` mutably
//!   (Go relies on the comment; Rust checks it). If `<-c` were commented out, nothing in Go
//!   would wait for `f`, but it would still end because the client watches the context;
//!   here the scope waits regardless.
//! - The blog's handler discards `Search`'s error (`err` is reassigned and never read);
//!   this one prints it.
//! - The template's `Elapsed` varies from run to run.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use gochan::context::{self, Context};

/// Stand-in for an incoming `*http.Request`.
pub struct Request {
    pub form: HashMap<String, String>,
    pub remote_addr: String,
    pub url: String,
}

impl Request {
    /// `GET <url>` from `remote_addr`; the form comes from the query string.
    pub fn get(url: &str, remote_addr: &str) -> Request {
        let form = url
            .split_once('?')
            .map(|(_, q)| q)
            .unwrap_or("")
            .split('&')
            .filter_map(|kv| kv.split_once('='))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Request {
            form,
            remote_addr: remote_addr.to_string(),
            url: url.to_string(),
        }
    }
    /// `req.FormValue(key)`: `""` when absent.
    pub fn form_value(&self, key: &str) -> &str {
        self.form.get(key).map_or("", String::as_str)
    }
}

/// The blog's `userip` package.
pub mod userip {
    use std::net::{IpAddr, SocketAddr};

    use gochan::context::{self, Context};

    /// The context key. Private, like the blog's unexported `key` type.
    struct Key(IpAddr);

    /// `userip.FromRequest`: the client's IP from `req.RemoteAddr`.
    pub fn from_request(req: &super::Request) -> Result<IpAddr, String> {
        req.remote_addr
            .parse::<SocketAddr>()
            .map(|a| a.ip())
            .map_err(|_| format!("userip: {:?} is not IP:port", req.remote_addr))
    }

    /// `userip.NewContext`: a context carrying `ip`.
    pub fn new_context(ctx: &Context, ip: IpAddr) -> Context {
        context::with_value(ctx, Key(ip))
    }

    /// `userip.FromContext`: the IP stored in `ctx`, if any.
    pub fn from_context(ctx: &Context) -> Option<IpAddr> {
        ctx.value::<Key>().map(|k| k.0)
    }
}

/// The blog's `google` package, searching simulated backends.
pub mod google {
    use super::*;

    /// One search result.
    pub struct SearchResult {
        pub title: String,
        pub url: String,
    }

    /// Go's `type Results []Result`.
    pub type Results = Vec<SearchResult>;

    /// Outgoing request and response (stand-ins for `http.Request` / `http.Response`).
    pub struct HttpRequest {
        pub url: String,
        pub ctx: Context,
    }

    pub struct HttpResponse {
        pub body: String,
    }

    /// The simulated backends and their latency.
    pub const BACKENDS: [(&str, u64); 3] = [("web", 20), ("images", 150), ("news", 250)];

    /// Outgoing calls that were cancelled by their context.
    pub static CANCELLED_CALLS: AtomicUsize = AtomicUsize::new(0);

    /// Stand-in for `http.DefaultClient.Do(req)`: the backend named by the URL's host
    /// answers after its latency, unless the request's context ends first.
    fn client_do(req: &HttpRequest) -> Result<HttpResponse, String> {
        let host = req.url["https://".len()..].split('.').next().unwrap_or("");
        let latency = BACKENDS
            .iter()
            .find(|(name, _)| *name == host)
            .map(|(_, ms)| Duration::from_millis(*ms))
            .ok_or_else(|| format!("Get {:?}: no such host", req.url))?;
        gochan::select! {
            recv(req.ctx.done()) -> _ => {
                CANCELLED_CALLS.fetch_add(1, Ordering::SeqCst);
                Err(format!("Get {:?}: {}", req.url, req.ctx.err().unwrap()))
            }
            recv(gochan::after(latency)) -> _ => Ok(backend_answer(host, &req.url)),
        }
    }

    /// What a backend sends back: one `title \t url` line per hit (our "JSON").
    fn backend_answer(host: &str, url: &str) -> HttpResponse {
        let param = |name: &str| {
            url.split_once('?')
                .map(|(_, q)| q)
                .unwrap_or("")
                .split('&')
                .filter_map(|kv| kv.split_once('='))
                .find(|(k, _)| *k == name)
                .map_or(String::new(), |(_, v)| v.to_string())
        };
        let (q, ip) = (param("q"), param("userip"));
        let body = (1..=2)
            .map(|i| format!("{q} - {host} hit {i} (for {ip})\thttps://{host}.example/{q}/{i}\n"))
            .collect();
        HttpResponse { body }
    }

    /// The blog's `httpDo`: runs the request on another thread and hands the response to
    /// `f`; returns early with the context's error if the context ends first.
    fn http_do<F>(ctx: &Context, req: HttpRequest, f: F) -> Result<(), String>
    where
        F: FnOnce(Result<HttpResponse, String>) -> Result<(), String> + Send,
    {
        let (c_tx, c) = gochan::bounded(1);
        let req = HttpRequest {
            ctx: ctx.clone(), // req.WithContext(ctx)
            ..req
        };
        thread::scope(|s| {
            s.spawn(move || {
                let _ = c_tx.send(f(client_do(&req)));
            });
            gochan::select! {
                recv(ctx.done()) -> _ => {
                    let _ = c.recv(); // Wait for f to return.
                    Err(ctx.err().unwrap().to_string())
                }
                recv(c) -> err => err.unwrap(),
            }
        })
    }

    /// `Search` against one backend, as in the blog.
    fn search_backend(ctx: &Context, backend: &str, query: &str) -> Result<Results, String> {
        let mut url = format!("https://{backend}.example/search?q={query}");
        // If ctx is carrying the user IP address, forward it to the server.
        if let Some(ip) = userip::from_context(ctx) {
            url.push_str(&format!("&userip={ip}"));
        }
        let req = HttpRequest {
            url,
            ctx: context::background(),
        };
        let mut results = Results::new();
        http_do(ctx, req, |resp| {
            let resp = resp?;
            // Parse the search result.
            for line in resp.body.lines() {
                let (title, url) = line.split_once('\t').ok_or("bad response")?;
                results.push(SearchResult {
                    title: title.to_string(),
                    url: url.to_string(),
                });
            }
            Ok(())
        })?;
        // http_do waited for the closure to return, so reading results is safe (and the
        // borrow checker agrees).
        Ok(results)
    }

    /// `google.Search`, fanned out to every backend at once; the first error wins.
    pub fn search(ctx: &Context, query: &str) -> Result<Results, String> {
        let per_backend: Vec<Result<Results, String>> = thread::scope(|s| {
            let calls: Vec<_> = BACKENDS
                .iter()
                .map(|(name, _)| s.spawn(move || search_backend(ctx, name, query)))
                .collect();
            calls.into_iter().map(|c| c.join().unwrap()).collect()
        });
        let mut all = Results::new();
        for r in per_backend {
            all.extend(r?);
        }
        Ok(all)
    }
}

/// A tiny `time.ParseDuration` for `"250ms"` and `"1s"`.
fn parse_duration(s: &str) -> Result<Duration, String> {
    let bad = || format!("time: invalid duration {s:?}");
    if let Some(ms) = s.strip_suffix("ms") {
        return ms.parse().map(Duration::from_millis).map_err(|_| bad());
    }
    if let Some(secs) = s.strip_suffix('s') {
        return secs.parse().map(Duration::from_secs).map_err(|_| bad());
    }
    Err(bad())
}

/// `time.Duration.String()` for whole milliseconds and seconds.
fn go_duration(d: Duration) -> String {
    match d.as_millis() {
        0 => "0s".to_string(),
        ms if ms % 1000 == 0 => format!("{}s", ms / 1000),
        ms => format!("{ms}ms"),
    }
}

/// The blog's `handleSearch`; returns the status and the page's lines.
fn handle_search(req: &Request) -> (u16, Vec<String>) {
    // ctx is the Context for this handler. Dropping cancel (when handle_search returns)
    // closes ctx.done(), the cancellation signal for requests started by this handler.
    let timeout = parse_duration(req.form_value("timeout"));
    let (ctx, _cancel) = match timeout {
        // The request has a timeout: a context cancelled when it expires.
        Ok(t) => context::with_timeout(&context::background(), t),
        Err(_) => context::with_cancel(&context::background()),
    };

    let query = req.form_value("q");
    if query.is_empty() {
        return (400, vec!["no query".to_string()]);
    }
    let user_ip: IpAddr = match userip::from_request(req) {
        Ok(ip) => ip,
        Err(e) => return (400, vec![e]),
    };
    let ctx = userip::new_context(&ctx, user_ip);

    // Run the search and print the results.
    let start = Instant::now();
    let results = google::search(&ctx, query);
    let elapsed = start.elapsed();

    let (results, err) = match results {
        Ok(r) => (r, None),
        Err(e) => (Vec::new(), Some(e)),
    };
    let mut page = vec![format!(
        "{} results in {:?}; timeout {}",
        results.len(),
        elapsed,
        go_duration(timeout.unwrap_or_default())
    )];
    page.extend(results.iter().map(|r| format!("  {} - {}", r.title, r.url)));
    if let Some(e) = err {
        page.push(format!("  search error: {e}"));
    }
    (200, page)
}

/// Runs the pattern and returns the lines the program prints.
pub fn run() -> Vec<String> {
    let requests = [
        ("/search?q=golang&timeout=1s", "192.0.2.1:1234"),
        ("/search?q=golang&timeout=80ms", "192.0.2.1:1234"),
        ("/search?q=gochan", "[2001:db8::7]:443"),
        ("/search?timeout=1s", "192.0.2.1:1234"),
        ("/search?q=golang", "bogus"),
    ];
    let mut out = Vec::new();
    for (url, from) in requests {
        let req = Request::get(url, from);
        out.push(format!("GET {} from {}", req.url, req.remote_addr));
        let before = google::CANCELLED_CALLS.load(Ordering::SeqCst);
        // net/http serves each request on its own goroutine.
        let (status, page) = thread::spawn(move || handle_search(&req)).join().unwrap();
        out.push(format!("  {status} {}", page[0]));
        out.extend(page[1..].iter().cloned());
        let cancelled = google::CANCELLED_CALLS.load(Ordering::SeqCst) - before;
        if cancelled > 0 {
            out.push(format!(
                "  backend calls cancelled by the deadline: {cancelled}"
            ));
        }
    }
    out
}

#[allow(dead_code)]
fn main() {
    for line in run() {
        println!("{line}");
    }
}
