//! Hostile input to a tonic + gochan server, seen from a tonic client: megabyte metadata
//! and malformed `grpc-timeout` values are refused before any handler runs.
//!
//! Megabyte metadata never reaches tower (so neither gochan's layer nor the handler): h2,
//! under tonic's server, advertises hyper's `SETTINGS_MAX_HEADER_LIST_SIZE` of 16 KiB. A
//! header block a little over it gets `431` on its stream (the client reports `UNKNOWN`,
//! "grpc-status header missing"); a megabyte trips h2's CONTINUATION-flood guard, which
//! closes the connection with `GOAWAY(ENHANCE_YOUR_CALM)` (the client reports
//! `RESOURCE_EXHAUSTED`, the gRPC spec's mapping of that code). For comparison: gRPC C-core
//! (grpcio) answers both sizes `RESOURCE_EXHAUSTED` "received metadata size exceeds hard
//! limit" (tests/interop.rs); grpc-go's server accepts up to 16 MiB by default
//! (`defaultServerMaxHeaderListSize`) and resets a larger block with `FRAME_SIZE_ERROR`
//! (`operateHeaders` in internal/transport/http2_server.go), which its client reports as
//! `INTERNAL`.

use std::error::Error as _;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

use gochan_grpc::search::{Search, SearchClient, SearchRequest, SearchResponse, SearchServer};
use tonic::metadata::MetadataValue;
use tonic::{Code, Request, Response, Status};

const LIMIT: Duration = Duration::from_secs(20);

/// Counts its calls; works `work_ms` before answering.
#[derive(Clone)]
struct Counter(Arc<AtomicUsize>);

impl Search for Counter {
    async fn search(
        &self,
        req: Request<SearchRequest>,
    ) -> Result<Response<SearchResponse>, Status> {
        self.0.fetch_add(1, Ordering::SeqCst);
        tokio::time::sleep(Duration::from_millis(req.get_ref().work_ms)).await;
        Ok(Response::new(SearchResponse {
            results: vec![req.into_inner().query],
            ..Default::default()
        }))
    }
}

async fn serve() -> (String, Arc<AtomicUsize>) {
    let calls = Arc::new(AtomicUsize::new(0));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(
        tonic::transport::Server::builder()
            .layer(gochan_grpc::server_layer(gochan_http::ContextLayer::new()))
            .add_service(SearchServer::new(Counter(calls.clone())))
            .serve_with_incoming(tonic::transport::server::TcpIncoming::from(listener)),
    );
    (format!("http://{addr}"), calls)
}

/// A client on its own connection.
async fn client(url: &str) -> SearchClient {
    let channel = tonic::transport::Endpoint::from_shared(url.to_string())
        .unwrap()
        .connect()
        .await
        .unwrap();
    SearchClient::new(channel)
}

fn query(q: &str, work_ms: u64) -> SearchRequest {
    SearchRequest {
        query: q.into(),
        work_ms,
    }
}

/// A request carrying `n` bytes of custom metadata.
fn with_metadata(n: usize) -> Request<SearchRequest> {
    let mut req = Request::new(query("big", 0));
    let v = MetadataValue::try_from("a".repeat(n)).unwrap();
    req.metadata_mut().insert("x-big", v);
    req
}

/// The h2 error somewhere in `status`'s source chain.
fn h2_error(status: &Status) -> Option<&h2::Error> {
    let mut e: Option<&(dyn std::error::Error + 'static)> = status.source();
    while let Some(err) = e {
        if let Some(h2) = err.downcast_ref::<h2::Error>() {
            return Some(h2);
        }
        e = err.source();
    }
    None
}

/// An HTTP/2 frame header: length, type, flags, stream id.
fn frame(kind: u8, flags: u8, stream: u32, payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len()).unwrap().to_be_bytes();
    let mut f = vec![len[1], len[2], len[3], kind, flags];
    f.extend_from_slice(&stream.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

/// An HPACK integer with a 7-bit prefix (RFC 7541 section 5.1), H bit clear.
fn hpack_int(out: &mut Vec<u8>, mut n: usize) {
    if n < 127 {
        out.push(n as u8);
        return;
    }
    out.push(127);
    n -= 127;
    while n >= 128 {
        out.push((n % 128) as u8 | 0x80);
        n /= 128;
    }
    out.push(n as u8);
}

/// A gRPC request's header block with `n` bytes of custom metadata, every field a literal
/// without indexing (RFC 7541 section 6.2.2).
fn header_block(authority: &str, n: usize) -> Vec<u8> {
    let big = "a".repeat(n);
    let mut out = Vec::new();
    for (name, value) in [
        (":method", "POST"),
        (":scheme", "http"),
        (":path", gochan_grpc::search::METHOD_PATH),
        (":authority", authority),
        ("content-type", "application/grpc"),
        ("te", "trailers"),
        ("x-big", big.as_str()),
    ] {
        out.push(0);
        hpack_int(&mut out, name.len());
        out.extend_from_slice(name.as_bytes());
        hpack_int(&mut out, value.len());
        out.extend_from_slice(value.as_bytes());
    }
    out
}

/// The server's frames on the wire: a raw HTTP/2 client sends one request whose header
/// block carries 1 MiB of metadata (in 16 KiB HEADERS/CONTINUATION frames) while reading
/// what comes back. h2 answers the whole connection: `GOAWAY(ENHANCE_YOUR_CALM)`, debug
/// data `too_many_continuations`, no stream processed, then the connection closes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn megabyte_metadata_on_the_wire_gets_goaway_enhance_your_calm() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let (url, calls) = serve().await;
    let authority = url.strip_prefix("http://").unwrap();
    let tcp = tokio::net::TcpStream::connect(authority).await.unwrap();
    let (mut rd, mut wr) = tcp.into_split();
    let block = header_block(authority, 1 << 20);
    let mut out = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n".to_vec();
    out.extend(frame(0x4, 0, 0, &[])); // SETTINGS
    let chunks: Vec<&[u8]> = block.chunks(16_384).collect();
    for (i, chunk) in chunks.iter().enumerate() {
        let kind = if i == 0 { 0x1 } else { 0x9 }; // HEADERS, then CONTINUATION
        let flags = if i + 1 == chunks.len() { 0x4 } else { 0 }; // END_HEADERS at the end
        out.extend(frame(kind, flags, 1, chunk));
    }
    eprintln!(
        "sending {} bytes in {} header frames",
        out.len(),
        chunks.len()
    );
    // The server may close before it has read everything: the write may fail.
    let writer = tokio::spawn(async move { wr.write_all(&out).await });

    let mut seen = Vec::new();
    let mut goaway = None;
    let read_all = async {
        let mut head = [0u8; 9];
        while rd.read_exact(&mut head).await.is_ok() {
            let len = u32::from_be_bytes([0, head[0], head[1], head[2]]) as usize;
            let mut payload = vec![0u8; len];
            if rd.read_exact(&mut payload).await.is_err() {
                break;
            }
            let stream = u32::from_be_bytes([head[5], head[6], head[7], head[8]]) & 0x7fff_ffff;
            seen.push((head[3], stream));
            if head[3] == 0x7 {
                goaway = Some(payload);
            }
        }
    };
    tokio::time::timeout(LIMIT, read_all)
        .await
        .expect("the server closed the connection");
    let _ = writer.await.unwrap();
    eprintln!("frames (type, stream): {seen:?}");
    let goaway = goaway.expect("a GOAWAY frame");
    let last_stream = u32::from_be_bytes(goaway[0..4].try_into().unwrap());
    let code = u32::from_be_bytes(goaway[4..8].try_into().unwrap());
    assert_eq!(code, 0xb, "ENHANCE_YOUR_CALM");
    assert_eq!(last_stream, 0, "the request's stream was not processed");
    assert_eq!(&goaway[8..], b"too_many_continuations");
    assert!(
        seen.iter().all(|&(_, stream)| stream == 0),
        "nothing was answered on the request's stream: {seen:?}"
    );
    assert_eq!(calls.load(Ordering::SeqCst), 0, "the handler never ran");
}

/// The same through tonic's client, with a bystander on another connection: the hostile
/// call fails as `RESOURCE_EXHAUSTED` (tonic read the GOAWAY) or, when the server's close
/// beats that read while the client is still writing the header block, `UNKNOWN`
/// "transport error" (broken pipe); the bystander's call completes, the hostile client
/// reconnects (a call racing the old connection's close is cancelled and retried), and
/// only the well-formed calls reach the handler.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn megabyte_metadata_is_refused_and_the_handler_never_runs() {
    let (url, calls) = serve().await;
    let mut bystander = client(&url).await;
    let in_flight = tokio::spawn(async move { bystander.search(query("bystander", 500)).await });
    let mut hostile = client(&url).await;
    tokio::time::sleep(Duration::from_millis(50)).await;

    let err = tokio::time::timeout(LIMIT, hostile.search(with_metadata(1 << 20)))
        .await
        .expect("refused in time")
        .unwrap_err();
    let h2 = h2_error(&err);
    eprintln!(
        "1 MiB of metadata: {:?} {:?} ({h2:?})",
        err.code(),
        err.message()
    );
    match err.code() {
        Code::ResourceExhausted => {
            let h2 = h2.expect("an HTTP/2 error");
            assert!(h2.is_go_away() && h2.is_remote(), "{h2:?}");
            assert_eq!(h2.reason(), Some(h2::Reason::ENHANCE_YOUR_CALM));
        }
        Code::Unknown => assert_eq!(err.message(), "transport error", "{err:?}"),
        _ => panic!("{err:?}"),
    }

    // Just over the server's 16 KiB header list limit: HTTP 431 on the stream, no gRPC status.
    // A call sent while the refused connection is still closing fails with `CANCELLED`
    // ("connection closed", hyper's view of the GOAWAY): it never reached the server, and
    // the next call reconnects, so it is retried (a few times at most).
    let mut tries = 0;
    let err = loop {
        let err = hostile.search(with_metadata(17 * 1024)).await.unwrap_err();
        tries += 1;
        if err.code() != Code::Cancelled || tries == 20 {
            break err;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    };
    assert_eq!(err.code(), Code::Unknown, "{err:?}");
    assert_eq!(
        err.message(),
        "grpc-status header missing, mapped from HTTP status code 431"
    );
    // Under the limit it is served.
    let ok = hostile.search(with_metadata(8 * 1024)).await.unwrap();
    assert_eq!(ok.into_inner().results, ["big"]);

    // The bystander's call was not disturbed.
    let r = tokio::time::timeout(LIMIT, in_flight)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(r.unwrap().into_inner().results, ["bystander"]);
    hostile.search(query("after", 0)).await.unwrap();
    // The handler ran for the three well-formed calls only.
    assert_eq!(calls.load(Ordering::SeqCst), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_grpc_timeout_reaches_a_tonic_client_as_grpc_go_status() {
    let (url, calls) = serve().await;
    let mut c = client(&url).await;
    for (bad, want) in [
        (
            "123456789S",
            r#"malformed grpc-timeout: transport: timeout string is too long: "123456789S""#,
        ),
        (
            "10x",
            r#"malformed grpc-timeout: transport: timeout unit is not recognized: "10x""#,
        ),
        (
            "-5S",
            r#"malformed grpc-timeout: strconv.ParseUint: parsing "-5": invalid syntax"#,
        ),
        (
            "",
            r#"malformed grpc-timeout: transport: timeout string is too short: """#,
        ),
    ] {
        let mut req = Request::new(query("x", 0));
        req.metadata_mut()
            .insert("grpc-timeout", MetadataValue::try_from(bad).unwrap());
        let err = c.search(req).await.unwrap_err();
        assert_eq!(err.code(), Code::Internal, "{bad:?}: {err:?}");
        assert_eq!(err.message(), want, "{bad:?}");
    }
    assert_eq!(calls.load(Ordering::SeqCst), 0, "the handler never ran");
    c.search(query("fine", 0)).await.unwrap();
    assert_eq!(calls.load(Ordering::SeqCst), 1);
}
