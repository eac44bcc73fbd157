//! Chaos on a loopback server: thousands of clients that go away at random points, and
//! an audit that nothing was left behind.
//!
//! The server is `gochan_http::serve_with_timeouts` + `ContextLayer` (parent: the shutdown
//! context). Its handler reads the request body (at most 64 KiB, else `413`), then does
//! "backend work" on its own task under the request context: a `select_async!` on
//! `ctx.done()` and a `gochan::after` timer (`/fast` 1 ms, `/slow` 30 ms, `/hang` no timer:
//! only the context ends it), or for `/stream` a producer that sends the response body
//! chunk by chunk into a gochan channel, pausing on `after(1ms)`, until the body is
//! dropped or the context ends. Requests may carry an `x-timeout` deadline (5-80 ms), so
//! context timers come and go all the time. Live handler futures and live backend tasks
//! are counted.
//!
//! Each round opens `CONNS` connections (64 at a time) of these kinds: HTTP/1 clients
//! that read the whole response, keep the connection alive after it and then drop it, hang
//! up mid-head, mid-body (a `content-length` body cut short), while the handler waits,
//! right after the first byte of the response; that wait for their deadline; that send a
//! 1 MiB header or a 4 MiB body; HTTP/2 (h2c, hyper's client) connections of 1-6 streams,
//! each completed, dropped before its response, dropped after the first body frame, or
//! sending a request body that never ends; and some of those connections dropped whole
//! with streams in flight. Alongside, a few "slow-loris" connections: silent, a prefix of
//! the HTTP/2 preface, a head trickled byte by byte. The server's header-read timeout is
//! 1 s here (`serve` uses 30 s, as `HEADER_READ_TIMEOUT`): they must be cut within 1 s +
//! slack, and must not hold up anyone else.
//!
//! After each round (bounded wait): no handler future and no backend task alive, the
//! shutdown context has no request context left as a child, `pending_timers()` back to its
//! baseline (exactly: this binary holds only this test), and resident memory stable: the
//! second of two identical rounds may grow RSS by less than `RSS_TOLERANCE` over the first
//! (the first round warms the allocator's caches and tokio's pools).

use std::convert::Infallible;
use std::fmt;
use std::io;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::atomic::{AtomicI64, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::task::{Context as TaskCx, Poll};
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_core::Stream;
use gochan::context::{self, Context};
use gochan_http::ContextLayer;
use http::{Request, Response, StatusCode};
use http_body_util::{combinators::UnsyncBoxBody, BodyExt, Empty, Full, Limited};
use hyper::body::{Frame, Incoming};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tower_layer::Layer;

/// Connections per round (plus `LORIS` slow ones).
const CONNS: usize = 1500;
/// Client connections in flight at once.
const CONCURRENCY: usize = 64;
/// Slow-loris connections per round.
const LORIS: usize = 6;
/// The server's header-read timeout in this test.
const HEADER_TIMEOUT: Duration = Duration::from_secs(1);
/// A slow-loris connection must be cut by then.
const LORIS_LIMIT: Duration = Duration::from_millis(2500);
/// Any one client connection must be over by then (else the server hung it).
const CLIENT_LIMIT: Duration = Duration::from_secs(10);
/// How long the server gets to drop everything after a round.
const SETTLE: Duration = Duration::from_secs(5);
/// Allowed RSS growth of the second round over the first.
const RSS_TOLERANCE: u64 = 10 << 20;
/// The largest request body the handler reads.
const BODY_LIMIT: usize = 64 * 1024;

// ---------------------------------------------------------------------------------------
// The server

#[derive(Default)]
struct Live {
    handlers: AtomicI64,
    work: AtomicI64,
    handler_calls: AtomicU64,
    work_by_ctx: AtomicU64,
    work_by_timer: AtomicU64,
    streams_cut: AtomicU64,
}

/// Counts one live thing while it exists.
struct Alive(Arc<Live>, fn(&Live) -> &AtomicI64);

impl Alive {
    fn new(live: &Arc<Live>, f: fn(&Live) -> &AtomicI64) -> Self {
        f(live).fetch_add(1, Ordering::AcqRel);
        Self(live.clone(), f)
    }
}

impl Drop for Alive {
    fn drop(&mut self) {
        (self.1)(&self.0).fetch_sub(1, Ordering::AcqRel);
    }
}

/// A response body fed by a gochan channel (the `/stream` producer).
struct ChanBody(gochan::chan::IntoStream<Bytes>);

impl http_body::Body for ChanBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut TaskCx<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        Pin::new(&mut self.0)
            .poll_next(cx)
            .map(|o| o.map(|b| Ok(Frame::data(b))))
    }
}

type ServerBody = UnsyncBoxBody<Bytes, Infallible>;

fn text(status: StatusCode, body: impl Into<Bytes>) -> Response<ServerBody> {
    let mut r = Response::new(Full::new(body.into()).boxed_unsync());
    *r.status_mut() = status;
    r
}

async fn handle(
    live: Arc<Live>,
    req: Request<Incoming>,
) -> Result<Response<ServerBody>, Infallible> {
    let _alive = Alive::new(&live, |l| &l.handlers);
    live.handler_calls.fetch_add(1, Ordering::Relaxed);
    let ctx = gochan_http::context(&req);
    let path = req.uri().path().to_owned();
    if Limited::new(req.into_body(), BODY_LIMIT)
        .collect()
        .await
        .is_err()
    {
        return Ok(text(StatusCode::PAYLOAD_TOO_LARGE, "too large\n"));
    }
    if path == "/stream" {
        let (tx, rx) = gochan::bounded::<Bytes>(1);
        let l = live.clone();
        tokio::spawn(async move {
            let _alive = Alive::new(&l, |l| &l.work);
            let done = ctx.done();
            for _ in 0..16 {
                let pause = gochan::after(Duration::from_millis(1));
                let ended = gochan::select_async! {
                    recv(done) -> _ => true,
                    recv(pause) -> _ => false,
                };
                if ended || tx.send_async(Bytes::from(vec![b'x'; 2048])).await.is_err() {
                    l.streams_cut.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            }
        });
        return Ok(Response::new(ChanBody(rx.into_stream()).boxed_unsync()));
    }
    let delay = match path.as_str() {
        "/fast" => Some(Duration::from_millis(1)),
        "/slow" => Some(Duration::from_millis(30)),
        _ => None, // "/hang": only the context ends it
    };
    let l = live.clone();
    let work = tokio::spawn(async move {
        let _alive = Alive::new(&l, |l| &l.work);
        let done = ctx.done();
        let timer = delay.map_or_else(gochan::never, gochan::after);
        gochan::select_async! {
            recv(done) -> _ => {
                l.work_by_ctx.fetch_add(1, Ordering::Relaxed);
                Err(ctx.err())
            },
            recv(timer) -> _ => {
                l.work_by_timer.fetch_add(1, Ordering::Relaxed);
                Ok(())
            },
        }
    });
    Ok(match work.await {
        Ok(Ok(())) => text(StatusCode::OK, vec![b'x'; 4096]),
        Ok(Err(e)) => text(
            StatusCode::GATEWAY_TIMEOUT,
            format!("{}\n", e.map_or("?".into(), |e| e.to_string())),
        ),
        Err(e) => text(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()),
    })
}

// ---------------------------------------------------------------------------------------
// HTTP/1 clients on raw TCP

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Full request, whole response read, connection closed by the server.
    H1Complete,
    /// Full response read on a keep-alive connection, then the connection dropped.
    H1KeepAliveDrop,
    /// Hangs up in the middle of the request head.
    H1MidHead,
    /// Hangs up in the middle of a `content-length` body.
    H1MidBody,
    /// Hangs up while the handler waits (no response yet).
    H1BeforeResponse,
    /// Hangs up right after the first byte of the response.
    H1FirstByte,
    /// `/hang` with a deadline: the deadline must answer (504).
    H1Deadline,
    /// A 1 MiB header: `431` (or a reset while still writing).
    BigHead,
    /// A 4 MiB body: `413` (or a reset while still writing).
    BigBody,
    /// An HTTP/2 connection of 1-6 streams, each with its own fate.
    H2,
}

const KINDS: [(Kind, u32); 10] = [
    (Kind::H1Complete, 14),
    (Kind::H1KeepAliveDrop, 10),
    (Kind::H1MidHead, 10),
    (Kind::H1MidBody, 10),
    (Kind::H1BeforeResponse, 10),
    (Kind::H1FirstByte, 10),
    (Kind::H1Deadline, 8),
    (Kind::BigHead, 2),
    (Kind::BigBody, 2),
    (Kind::H2, 24),
];

fn pick_kind(rng: &mut fastrand::Rng) -> Kind {
    let total: u32 = KINDS.iter().map(|k| k.1).sum();
    let mut n = rng.u32(..total);
    for (k, w) in KINDS {
        if n < w {
            return k;
        }
        n -= w;
    }
    unreachable!()
}

fn head(method: &str, path: &str, extra: &str) -> String {
    format!("{method} {path} HTTP/1.1\r\nhost: chaos\r\n{extra}\r\n")
}

/// Reads one response: `(status, body bytes)`; handles content-length, chunked and
/// read-to-EOF bodies.
async fn read_response(sock: &mut TcpStream) -> io::Result<(u16, usize)> {
    let mut buf = Vec::with_capacity(8192);
    let mut chunk = [0u8; 8192];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        let n = sock.read(&mut chunk).await?;
        if n == 0 {
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
    let status: u16 = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| io::Error::other(format!("bad status line: {head:?}")))?;
    let len = head
        .lines()
        .find_map(|l| l.strip_prefix("content-length:"))
        .and_then(|v| v.trim().parse::<usize>().ok());
    let chunked = head.contains("transfer-encoding: chunked");
    loop {
        let body = &buf[head_end..];
        match (len, chunked) {
            (Some(n), _) if body.len() >= n => return Ok((status, n)),
            (None, true) if body.ends_with(b"0\r\n\r\n") => return Ok((status, body.len())),
            _ => {}
        }
        let n = sock.read(&mut chunk).await?;
        if n == 0 {
            if len.is_none() && !chunked {
                return Ok((status, buf.len() - head_end));
            }
            return Err(io::ErrorKind::UnexpectedEof.into());
        }
        buf.extend_from_slice(&chunk[..n]);
    }
}

fn deadline_header(rng: &mut fastrand::Rng) -> String {
    format!("x-timeout: {}ms\r\n", rng.u64(5..=80))
}

/// A path for a request that should be answered: with `/hang`, a deadline.
fn answered_path(rng: &mut fastrand::Rng) -> (&'static str, String) {
    match rng.u8(..4) {
        0 => ("/fast", String::new()),
        1 => ("/slow", String::new()),
        2 => ("/stream", String::new()),
        _ => ("/hang", deadline_header(rng)),
    }
}

/// What one client connection ended with.
#[derive(Debug)]
enum End {
    /// As expected for its kind (with a note, e.g. "reset" or the status).
    Ok(&'static str),
    /// The server did something it should not have.
    Bad(String),
}

async fn h1_client(addr: SocketAddr, kind: Kind, rng: &mut fastrand::Rng) -> io::Result<End> {
    let mut sock = TcpStream::connect(addr).await?;
    let pause = Duration::from_micros(rng.u64(0..8000));
    match kind {
        Kind::H1Complete => {
            let (path, extra) = answered_path(rng);
            let req = head("GET", path, &(extra + "connection: close\r\n"));
            sock.write_all(req.as_bytes()).await?;
            let (status, _) = read_response(&mut sock).await?;
            Ok(match status {
                200 | 504 => End::Ok("answered"),
                s => End::Bad(format!("{path}: status {s}")),
            })
        }
        Kind::H1KeepAliveDrop => {
            for _ in 0..rng.usize(1..=3) {
                let (path, extra) = answered_path(rng);
                sock.write_all(head("GET", path, &extra).as_bytes()).await?;
                let (status, _) = read_response(&mut sock).await?;
                if status != 200 && status != 504 {
                    return Ok(End::Bad(format!("{path}: status {status}")));
                }
            }
            Ok(End::Ok("answered, then dropped"))
        }
        Kind::H1MidHead => {
            let (path, extra) = answered_path(rng);
            let req = head("GET", path, &extra);
            let cut = rng.usize(1..req.len() - 1);
            sock.write_all(&req.as_bytes()[..cut]).await?;
            tokio::time::sleep(pause).await;
            Ok(End::Ok("cut mid-head"))
        }
        Kind::H1MidBody => {
            let len = rng.usize(2..20_000);
            let path = ["/fast", "/slow", "/hang", "/stream"][rng.usize(..4)];
            let req = head("POST", path, &format!("content-length: {len}\r\n"));
            sock.write_all(req.as_bytes()).await?;
            sock.write_all(&vec![b'b'; rng.usize(0..len)]).await?;
            tokio::time::sleep(pause).await;
            Ok(End::Ok("cut mid-body"))
        }
        Kind::H1BeforeResponse => {
            let path = ["/slow", "/hang"][rng.usize(..2)];
            sock.write_all(head("GET", path, "").as_bytes()).await?;
            tokio::time::sleep(pause).await;
            Ok(End::Ok("cut before the response"))
        }
        Kind::H1FirstByte => {
            let path = ["/stream", "/slow", "/fast"][rng.usize(..3)];
            sock.write_all(head("GET", path, "").as_bytes()).await?;
            let mut one = [0u8; 1];
            sock.read_exact(&mut one).await?;
            Ok(End::Ok("cut after the first response byte"))
        }
        Kind::H1Deadline => {
            let extra = deadline_header(rng) + "connection: close\r\n";
            sock.write_all(head("GET", "/hang", &extra).as_bytes())
                .await?;
            let (status, _) = read_response(&mut sock).await?;
            Ok(match status {
                504 => End::Ok("deadline answered 504"),
                s => End::Bad(format!("/hang with a deadline: status {s}")),
            })
        }
        Kind::BigHead => {
            let head = b"GET /fast HTTP/1.1\r\nhost: chaos\r\nx-big: ";
            big_request(sock, head.to_vec(), 1 << 20, b"\r\n\r\n", 431).await
        }
        Kind::BigBody => {
            let n = 4 << 20;
            let head = head("POST", "/fast", &format!("content-length: {n}\r\n")).into_bytes();
            big_request(sock, head, n, b"", 413).await
        }
        Kind::H2 => unreachable!(),
    }
}

/// 4 MiB of filler, allocated once (a fresh buffer per request would make the RSS
/// figures measure the allocator's handling of big blocks, not the server).
fn filler() -> &'static [u8] {
    static FILLER: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    FILLER.get_or_init(|| vec![b'f'; 4 << 20])
}

/// Writes `head`, `n` filler bytes and `tail` while reading the answer: `want` or a reset
/// (the server may answer and close before the client is done writing) are both fine.
async fn big_request(
    sock: TcpStream,
    head: Vec<u8>,
    n: usize,
    tail: &'static [u8],
    want: u16,
) -> io::Result<End> {
    let (mut rd, mut wr) = sock.into_split();
    let writer = tokio::spawn(async move {
        if wr.write_all(&head).await.is_err() {
            return;
        }
        for c in filler()[..n].chunks(64 * 1024) {
            if wr.write_all(c).await.is_err() {
                return;
            }
        }
        if wr.write_all(tail).await.is_err() {
            return;
        }
        // Keep the write half open until the answer is read.
        std::future::pending::<()>().await;
    });
    let mut buf = Vec::new();
    let res = rd.read_to_end(&mut buf).await;
    writer.abort();
    let text = String::from_utf8_lossy(&buf);
    Ok(
        match text.split(' ').nth(1).and_then(|s| s.parse::<u16>().ok()) {
            Some(s) if s == want => End::Ok(if want == 431 { "431" } else { "413" }),
            Some(s) => End::Bad(format!("oversized request: status {s}, want {want}")),
            None if res.is_err() || buf.is_empty() => End::Ok("reset while writing"),
            None => End::Bad(format!("oversized request: garbled answer {text:?}")),
        },
    )
}

// ---------------------------------------------------------------------------------------
// HTTP/2 clients (hyper over h2c)

type ClientBody = UnsyncBoxBody<Bytes, Infallible>;

/// A request body that sends one frame, then never ends.
struct Endless(bool);

impl http_body::Body for Endless {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        _cx: &mut TaskCx<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        if std::mem::replace(&mut self.0, true) {
            Poll::Pending
        } else {
            Poll::Ready(Some(Ok(Frame::data(Bytes::from_static(&[b'e'; 1024])))))
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum H2Stream {
    Complete,
    DropBeforeResponse,
    DropAfterFirstFrame,
    EndlessBody,
}

async fn h2_client(
    addr: SocketAddr,
    rng: &mut fastrand::Rng,
    tally: &Tally,
) -> Result<End, Box<dyn std::error::Error + Send + Sync>> {
    let io = hyper_util::rt::TokioIo::new(TcpStream::connect(addr).await?);
    let (sender, conn) = hyper::client::conn::http2::handshake::<_, _, ClientBody>(
        hyper_util::rt::TokioExecutor::new(),
        io,
    )
    .await?;
    let conn = tokio::spawn(conn);
    let drop_whole = rng.u8(..5) == 0;
    let mut streams = tokio::task::JoinSet::new();
    for _ in 0..rng.usize(1..=6) {
        let fate = [
            H2Stream::Complete,
            H2Stream::DropBeforeResponse,
            H2Stream::DropAfterFirstFrame,
            H2Stream::EndlessBody,
        ][rng.usize(..4)];
        tally.h2(fate);
        let (path, timeout) = match fate {
            H2Stream::Complete => {
                let (p, h) = answered_path(rng);
                (p, (!h.is_empty()).then(|| format!("{}ms", rng.u64(5..=80))))
            }
            H2Stream::DropBeforeResponse => (["/slow", "/hang"][rng.usize(..2)], None),
            H2Stream::DropAfterFirstFrame => ("/stream", None),
            H2Stream::EndlessBody => (["/fast", "/hang"][rng.usize(..2)], None),
        };
        let body: ClientBody = if fate == H2Stream::EndlessBody {
            Endless(false).boxed_unsync()
        } else {
            Empty::new().boxed_unsync()
        };
        let mut req = Request::builder()
            .method(if fate == H2Stream::EndlessBody {
                "POST"
            } else {
                "GET"
            })
            .uri(format!("http://{addr}{path}"));
        if let Some(t) = timeout {
            req = req.header("x-timeout", t);
        }
        let req = req.body(body)?;
        let mut sender = sender.clone();
        let pause = Duration::from_micros(rng.u64(0..8000));
        streams.spawn(async move {
            sender.ready().await?;
            let call = sender.send_request(req);
            match fate {
                H2Stream::Complete => {
                    let resp = call.await?;
                    let status = resp.status();
                    resp.into_body().collect().await?;
                    if status != StatusCode::OK && status != StatusCode::GATEWAY_TIMEOUT {
                        return Ok::<_, hyper::Error>(Some(format!("h2 {path}: status {status}")));
                    }
                }
                H2Stream::DropBeforeResponse | H2Stream::EndlessBody => {
                    let _ = tokio::time::timeout(pause, call).await;
                }
                H2Stream::DropAfterFirstFrame => {
                    let mut body = call.await?.into_body();
                    let _ = body.frame().await;
                }
            }
            Ok(None)
        });
    }
    drop(sender);
    if drop_whole {
        tokio::time::sleep(Duration::from_micros(rng.u64(0..5000))).await;
        streams.abort_all();
        conn.abort();
        return Ok(End::Ok("h2 connection dropped with streams in flight"));
    }
    while let Some(r) = streams.join_next().await {
        if let Some(bad) = r?? {
            return Ok(End::Bad(bad));
        }
    }
    conn.abort();
    Ok(End::Ok("h2 streams done"))
}

// ---------------------------------------------------------------------------------------
// Slow-loris connections

#[derive(Clone, Copy, Debug)]
enum Loris {
    /// Connects and sends nothing.
    Silent,
    /// Sends a prefix of the HTTP/2 preface, then nothing.
    PrefacePrefix,
    /// Trickles an endless HTTP/1 head, one byte every 100 ms.
    Trickle,
}

/// Time until the server cut the connection (None: not within `LORIS_LIMIT`).
async fn loris(addr: SocketAddr, kind: Loris) -> io::Result<Option<Duration>> {
    let start = Instant::now();
    let mut sock = TcpStream::connect(addr).await?;
    let mut trickle = b"GET /fast HTTP/1.1\r\nhost: chaos\r\nx-slow: ".to_vec();
    match kind {
        Loris::Silent => {}
        Loris::PrefacePrefix => sock.write_all(b"PRI * HTTP/2.0\r\n").await?,
        Loris::Trickle => trickle.resize(trickle.len() + 1000, b'z'),
    }
    let mut i = 0;
    let mut buf = [0u8; 1024];
    loop {
        if start.elapsed() > LORIS_LIMIT {
            return Ok(None);
        }
        tokio::select! {
            r = sock.read(&mut buf) => match r {
                Ok(0) | Err(_) => return Ok(Some(start.elapsed())),
                Ok(_) => {} // a 408 or the like: wait for the close
            },
            () = tokio::time::sleep(Duration::from_millis(100)) => {
                if matches!(kind, Loris::Trickle) && i < trickle.len() {
                    if sock.write_all(&trickle[i..=i]).await.is_err() {
                        return Ok(Some(start.elapsed()));
                    }
                    i += 1;
                }
            }
        }
    }
}

// ---------------------------------------------------------------------------------------
// The rounds

#[derive(Default)]
struct Tally {
    by_kind: Mutex<Vec<(String, u64)>>,
    h2_streams: Mutex<[u64; 4]>,
    bad: Mutex<Vec<String>>,
    hung: AtomicUsize,
}

impl Tally {
    fn note(&self, what: String) {
        let mut v = self.by_kind.lock().unwrap();
        match v.iter_mut().find(|(k, _)| *k == what) {
            Some(e) => e.1 += 1,
            None => v.push((what, 1)),
        }
    }

    fn h2(&self, fate: H2Stream) {
        self.h2_streams.lock().unwrap()[fate as usize] += 1;
    }

    fn bad(&self, what: String) {
        let mut b = self.bad.lock().unwrap();
        if b.len() < 20 {
            b.push(what);
        }
    }
}

impl fmt::Display for Tally {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut v = self.by_kind.lock().unwrap().clone();
        v.sort();
        for (k, n) in v {
            writeln!(f, "    {n:>5}  {k}")?;
        }
        let s = self.h2_streams.lock().unwrap();
        write!(
            f,
            "    h2 streams: complete {}, dropped before the response {}, dropped after the \
             first frame {}, endless request body {}",
            s[0], s[1], s[2], s[3]
        )
    }
}

fn rss_bytes() -> u64 {
    let statm = std::fs::read_to_string("/proc/self/statm").unwrap_or_default();
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    pages * 4096 // x86_64 / aarch64 Linux default page size
}

struct Server {
    addr: SocketAddr,
    live: Arc<Live>,
    shutdown: Context,
}

async fn round(srv: &Server, seed: u64) -> Tally {
    let tally = Arc::new(Tally::default());
    let next = Arc::new(AtomicUsize::new(0));
    let mut workers = tokio::task::JoinSet::new();
    for w in 0..CONCURRENCY {
        let (tally, next, addr) = (tally.clone(), next.clone(), srv.addr);
        workers.spawn(async move {
            let mut rng = fastrand::Rng::with_seed(seed ^ (w as u64).wrapping_mul(0x9E37_79B9));
            while next.fetch_add(1, Ordering::Relaxed) < CONNS {
                let kind = pick_kind(&mut rng);
                let fut = async {
                    if kind == Kind::H2 {
                        h2_client(addr, &mut rng, &tally)
                            .await
                            .unwrap_or_else(|e| End::Bad(format!("h2: {e}")))
                    } else {
                        match h1_client(addr, kind, &mut rng).await {
                            Ok(end) => end,
                            // The server may close first on aborting kinds; never on those
                            // that expect an answer.
                            Err(e)
                                if matches!(
                                    kind,
                                    Kind::H1Complete
                                        | Kind::H1KeepAliveDrop
                                        | Kind::H1Deadline
                                        | Kind::H1FirstByte
                                ) =>
                            {
                                End::Bad(format!("{kind:?}: {e}"))
                            }
                            Err(_) => End::Ok("server closed first"),
                        }
                    }
                };
                match tokio::time::timeout(CLIENT_LIMIT, fut).await {
                    Ok(End::Ok(note)) => tally.note(format!("{kind:?}: {note}")),
                    Ok(End::Bad(why)) => {
                        tally.note(format!("{kind:?}: BAD"));
                        tally.bad(why);
                    }
                    Err(_) => {
                        tally.note(format!("{kind:?}: HUNG"));
                        tally.hung.fetch_add(1, Ordering::Relaxed);
                    }
                }
            }
        });
    }
    let mut lorises = tokio::task::JoinSet::new();
    for i in 0..LORIS {
        let kind = [Loris::Silent, Loris::PrefacePrefix, Loris::Trickle][i % 3];
        let addr = srv.addr;
        lorises.spawn(async move { (kind, loris(addr, kind).await) });
    }
    while let Some(r) = workers.join_next().await {
        r.expect("client worker panicked");
    }
    while let Some(r) = lorises.join_next().await {
        let (kind, r) = r.expect("loris panicked");
        match r {
            Ok(Some(t)) => tally.note(format!(
                "Loris{kind:?}: cut by the server after ~{} s",
                t.as_secs_f32().round()
            )),
            Ok(None) => {
                tally.note(format!("Loris{kind:?}: NOT CUT"));
                tally.bad(format!(
                    "slow-loris {kind:?} not cut within {LORIS_LIMIT:?}"
                ));
            }
            Err(e) => tally.bad(format!("slow-loris {kind:?}: {e}")),
        }
    }
    Arc::into_inner(tally).expect("workers done")
}

/// Waits (bounded) until the server holds nothing for any request; returns what is left.
async fn settle(srv: &Server, base_timers: usize) -> (i64, i64, usize, usize) {
    let end = Instant::now() + SETTLE;
    loop {
        let left = (
            srv.live.handlers.load(Ordering::Acquire),
            srv.live.work.load(Ordering::Acquire),
            srv.shutdown.child_count(),
            gochan::time::pending_timers(),
        );
        if (left.0 == 0 && left.1 == 0 && left.2 == 0 && left.3 <= base_timers)
            || Instant::now() >= end
        {
            return left;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousands_of_clients_going_away_leave_nothing_behind() {
    let t0 = Instant::now();
    let _ = filler();
    // Start the process-wide timer service before the baseline.
    drop(gochan::after(Duration::from_secs(1)));
    let live = Arc::new(Live::default());
    let (shutdown, stop) = context::with_cancel(&context::background());
    let l = live.clone();
    let svc = ContextLayer::new()
        .parent(&shutdown)
        .layer(gochan_http::service_fn(move |req| handle(l.clone(), req)));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let sd = shutdown.clone();
    let server = tokio::spawn(async move {
        gochan_http::serve_with_timeouts(listener, &sd, Duration::from_secs(2), HEADER_TIMEOUT, svc)
            .await
    });
    let srv = Server {
        addr,
        live,
        shutdown,
    };
    let base_timers = gochan::time::pending_timers();
    let rss_start = rss_bytes();
    let mut rss = Vec::new();
    for r in 1..=2 {
        let start = Instant::now();
        // The same seed: two identical rounds.
        let tally = round(&srv, 0xC4A05).await;
        let took = start.elapsed();
        let (handlers, work, children, timers) = settle(&srv, base_timers).await;
        rss.push(rss_bytes());
        let l = &srv.live;
        println!(
            "round {r}: {CONNS} connections + {LORIS} slow-loris in {:.2} s; handler calls so \
             far {}, backend work ended by the context {} / by its timer {}, stream producers \
             cut {}; after settling: live handlers {handlers}, live backend tasks {work}, \
             request contexts {children}, pending timers {timers} (baseline {base_timers}), \
             RSS {:.1} MiB (start {:.1} MiB)\n{tally}",
            took.as_secs_f64(),
            l.handler_calls.load(Ordering::Relaxed),
            l.work_by_ctx.load(Ordering::Relaxed),
            l.work_by_timer.load(Ordering::Relaxed),
            l.streams_cut.load(Ordering::Relaxed),
            rss[r - 1] as f64 / 1048576.0,
            rss_start as f64 / 1048576.0,
        );
        let bad = tally.bad.lock().unwrap().clone();
        assert!(bad.is_empty(), "round {r}: the server misbehaved: {bad:#?}");
        assert_eq!(
            tally.hung.load(Ordering::Relaxed),
            0,
            "round {r}: clients hung"
        );
        assert_eq!(handlers, 0, "round {r}: handler futures left");
        assert_eq!(work, 0, "round {r}: backend tasks left");
        assert_eq!(
            children, 0,
            "round {r}: request contexts left under the parent"
        );
        assert!(
            timers <= base_timers,
            "round {r}: {timers} timers pending, baseline {base_timers}"
        );
    }
    let growth = rss[1].saturating_sub(rss[0]);
    println!(
        "RSS: start {:.1} MiB, after round 1 {:.1} MiB, after round 2 {:.1} MiB (growth {:.2} \
         MiB, tolerance {} MiB)",
        rss_start as f64 / 1048576.0,
        rss[0] as f64 / 1048576.0,
        rss[1] as f64 / 1048576.0,
        growth as f64 / 1048576.0,
        RSS_TOLERANCE >> 20
    );
    // Under a sanitizer (scripts/sanitizers.sh) the allocator's quarantine decides RSS.
    match std::env::var("GOCHAN_SANITIZER") {
        Ok(san) => println!("RSS check skipped under the {san} sanitizer"),
        Err(_) => assert!(
            growth < RSS_TOLERANCE,
            "RSS grew {growth} bytes in the second round"
        ),
    }

    // Shutdown: serve returns within its grace period.
    drop(stop);
    tokio::time::timeout(Duration::from_secs(5), server)
        .await
        .expect("serve did not return after shutdown")
        .unwrap()
        .unwrap();
    let took = t0.elapsed();
    println!("total {:.1} s", took.as_secs_f64());
    assert!(took < Duration::from_secs(60), "chaos test took {took:?}");
}
