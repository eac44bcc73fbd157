//! The front end: `handleSearch` and `google.Search` of the Go blog's "Go Concurrency Patterns:
//! Context" (<https://go.dev/blog/context>), over real HTTP.
//!
//! `GET /` is a search form; `GET /search?q=...&timeout=...` fans out to every backend
//! under the request's context (from [`gochan_http::ContextLayer`]: ends when the client
//! goes away) narrowed by the user's timeout (`time.ParseDuration` syntax; a bad value
//! means no timeout, as in Go). Backends that do not answer in time are cancelled (their
//! HTTP calls are dropped, so their own request contexts end) and shown as timed out.
//! HTML by default, JSON with `Accept: application/json` or `format=json`.

use std::collections::HashMap;
use std::convert::Infallible;
use std::fmt::Write as _;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use gochan::context::{self, Context};
use http::{header, HeaderValue, Request, Response, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;

use crate::backend::{LiveGuard, Stats};
use crate::{query_pairs, Log};

/// What the front end needs to serve.
pub(crate) struct Front {
    pub(crate) client: gochan_http::Client,
    pub(crate) backends: Vec<(String, SocketAddr)>,
    pub(crate) stats: Arc<Stats>,
    pub(crate) log: Log,
}

/// One search result (the Go blog's `google.Result`).
#[derive(Clone, Debug)]
struct Hit {
    title: String,
    url: String,
    backend: String,
}

/// How one backend call ended.
#[derive(Debug)]
struct Outcome {
    backend: String,
    status: String,
    hits: Vec<Hit>,
}

pub(crate) async fn handle(
    front: Arc<Front>,
    req: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let _live = LiveGuard::new(&front.stats.live_front);
    Ok(match req.uri().path() {
        "/" => html(StatusCode::OK, page("", "", None)),
        "/search" => search(&front, &req).await,
        _ => text(StatusCode::NOT_FOUND, "not found"),
    })
}

/// The Go blog's `handleSearch`.
async fn search(front: &Front, req: &Request<Incoming>) -> Response<Full<Bytes>> {
    let params = query_pairs(req.uri().query());
    let raw_timeout = params.get("timeout").map(String::as_str).unwrap_or("");
    let timeout = gochan::time::parse_duration(raw_timeout).ok();
    let parent = gochan_http::context(req);
    let (ctx, _cancel) = match timeout {
        Some(t) => context::with_timeout(&parent, t),
        None => context::with_cancel(&parent),
    };
    let q = match params.get("q") {
        Some(q) if !q.is_empty() => q.clone(),
        _ => return text(StatusCode::BAD_REQUEST, "no query"),
    };
    let start = Instant::now();
    let outcomes = fan_out(front, &ctx, &q).await;
    let elapsed = start.elapsed();
    if ctx.err().is_some() && parent.err().is_none() {
        (front.log)(&format!(
            "front: request {} for {q:?} ended by its timeout {} after {}",
            gochan_http::request_id(&ctx).unwrap_or("-"),
            raw_timeout,
            gochan::time::format_duration(elapsed)
        ));
    }
    let wants_json = params.get("format").is_some_and(|f| f == "json")
        || req
            .headers()
            .get(header::ACCEPT)
            .and_then(|a| a.to_str().ok())
            .is_some_and(|a| a.contains("application/json"));
    if wants_json {
        let userip = gochan_http::client_ip(&ctx).map(|ip| ip.to_string());
        json(&q, userip, timeout, elapsed, &outcomes)
    } else {
        let summary = Summary {
            timeout: timeout.unwrap_or(Duration::ZERO),
            elapsed,
            outcomes: &outcomes,
        };
        html(StatusCode::OK, page(&q, raw_timeout, Some(summary)))
    }
}

/// The Go blog's `google.Search`, against every backend at once: each call runs under `ctx`
/// and ends with it, so when this returns no call is left running.
async fn fan_out(front: &Front, ctx: &Context, q: &str) -> Vec<Outcome> {
    let mut calls = tokio::task::JoinSet::new();
    for (i, (name, addr)) in front.backends.iter().enumerate() {
        let mut url = format!("http://{addr}/search?");
        let mut qs = form_urlencoded::Serializer::new(String::new());
        qs.append_pair("q", q);
        // If ctx carries the user IP address, forward it (as the Go blog's `google.Search` does).
        if let Some(ip) = gochan_http::client_ip(ctx) {
            qs.append_pair("userip", &ip.to_string());
        }
        url.push_str(&qs.finish());
        let (client, ctx, name) = (front.client.clone(), ctx.clone(), name.clone());
        calls.spawn(async move { (i, call(&client, &ctx, &name, &url).await) });
    }
    let mut outcomes: Vec<Option<Outcome>> = front.backends.iter().map(|_| None).collect();
    while let Some(done) = calls.join_next().await {
        if let Ok((i, o)) = done {
            outcomes[i] = Some(o);
        }
    }
    // A call whose task failed (panicked) is reported, not silently left out.
    outcomes
        .into_iter()
        .zip(&front.backends)
        .map(|(o, (name, _))| {
            o.unwrap_or_else(|| Outcome {
                backend: name.clone(),
                status: "error: the call failed".to_string(),
                hits: vec![],
            })
        })
        .collect()
}

/// One backend call (the Go blog's `httpDo` with its JSON-decoding closure).
async fn call(client: &gochan_http::Client, ctx: &Context, name: &str, url: &str) -> Outcome {
    let outcome = |status: String, hits| Outcome {
        backend: name.to_string(),
        status,
        hits,
    };
    let req = Request::get(url)
        .body(Full::new(Bytes::new()))
        .expect("valid URL");
    let resp = match client.send(ctx, req).await {
        Ok(r) => r,
        Err(e) if e.is_timeout() => return outcome("timed out".into(), vec![]),
        Err(e) => return outcome(format!("error: {e}"), vec![]),
    };
    let status = resp.status();
    let body = match resp.into_body().collect().await {
        Ok(b) => b.to_bytes(),
        Err(e) if e.is_timeout() => return outcome("timed out".into(), vec![]),
        Err(e) => return outcome(format!("error: {e}"), vec![]),
    };
    if !status.is_success() {
        return outcome(format!("error: backend answered {status}"), vec![]);
    }
    let data: serde_json::Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return outcome(format!("error: bad JSON: {e}"), vec![]),
    };
    let hits: Vec<Hit> = data["responseData"]["results"]
        .as_array()
        .map(|rs| {
            rs.iter()
                .map(|r| Hit {
                    title: r["titleNoFormatting"].as_str().unwrap_or("").to_string(),
                    url: r["url"].as_str().unwrap_or("").to_string(),
                    backend: name.to_string(),
                })
                .collect()
        })
        .unwrap_or_default();
    outcome("ok".into(), hits)
}

struct Summary<'a> {
    timeout: Duration,
    elapsed: Duration,
    outcomes: &'a [Outcome],
}

/// The search form, and the results when there are some (the Go blog's `resultsTemplate`:
/// the results, then "N results in ELAPSED; timeout TIMEOUT").
fn page(q: &str, timeout: &str, summary: Option<Summary<'_>>) -> String {
    let mut s = String::from(concat!(
        "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>gochan search</title>\n",
        "<style>body{font-family:sans-serif;max-width:46em;margin:2em auto} ",
        ".status{color:#555} .timedout{color:#a40}</style></head>\n<body>\n",
        "<h1>gochan search</h1>\n"
    ));
    let _ = write!(
        s,
        concat!(
            "<form id=\"search\" action=\"/search\" method=\"get\">\n",
            "<input name=\"q\" value=\"{}\" placeholder=\"query\" autofocus>\n",
            "<input name=\"timeout\" value=\"{}\" placeholder=\"timeout, e.g. 100ms\" size=\"12\">\n",
            "<button type=\"submit\">Search</button>\n</form>\n"
        ),
        escape(q),
        escape(if summary.is_none() && timeout.is_empty() { "200ms" } else { timeout })
    );
    if let Some(sum) = summary {
        let hits: Vec<&Hit> = sum.outcomes.iter().flat_map(|o| &o.hits).collect();
        s.push_str("<ol id=\"results\">\n");
        for h in &hits {
            let _ = writeln!(
                s,
                "<li class=\"result\">{} - <a href=\"{}\">{}</a> <span class=\"status\">({})</span></li>",
                escape(&h.title),
                escape(&h.url),
                escape(&h.url),
                escape(&h.backend)
            );
        }
        s.push_str("</ol>\n<ul id=\"backends\">\n");
        for o in sum.outcomes {
            let class = if o.status == "ok" {
                "status"
            } else {
                "timedout"
            };
            let _ = writeln!(
                s,
                "<li class=\"{class}\">{}: {}</li>",
                escape(&o.backend),
                escape(&o.status)
            );
        }
        let _ = writeln!(
            s,
            "</ul>\n<p id=\"summary\">{} results in {}; timeout {}</p>",
            hits.len(),
            gochan::time::format_duration(sum.elapsed),
            gochan::time::format_duration(sum.timeout)
        );
    }
    s.push_str("</body></html>\n");
    s
}

fn json(
    q: &str,
    userip: Option<String>,
    timeout: Option<Duration>,
    elapsed: Duration,
    outcomes: &[Outcome],
) -> Response<Full<Bytes>> {
    let results: Vec<serde_json::Value> = outcomes
        .iter()
        .flat_map(|o| &o.hits)
        .map(|h| serde_json::json!({"title": h.title, "url": h.url, "backend": h.backend}))
        .collect();
    let backends: HashMap<&str, &str> = outcomes
        .iter()
        .map(|o| (o.backend.as_str(), o.status.as_str()))
        .collect();
    let body = serde_json::json!({
        "query": q,
        "userip": userip,
        "timeout": timeout.map(gochan::time::format_duration),
        "elapsed": gochan::time::format_duration(elapsed),
        "elapsed_ms": elapsed.as_secs_f64() * 1e3,
        "results": results,
        "backends": backends,
    });
    let mut resp = Response::new(Full::new(Bytes::from(body.to_string())));
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    resp
}

fn html(status: StatusCode, body: String) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(body)));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    resp
}

/// A plain-text answer, as Go's `http.Error` writes it (text, newline).
fn text(status: StatusCode, msg: &str) -> Response<Full<Bytes>> {
    let mut resp = Response::new(Full::new(Bytes::from(format!("{msg}\n"))));
    *resp.status_mut() = status;
    resp.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    resp
}

/// HTML escaping for text and attribute values (what `html/template` does for these).
fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping_covers_markup_and_quotes() {
        assert_eq!(
            escape("<a href=\"x\">'&'</a>"),
            "&lt;a href=&#34;x&#34;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }

    #[test]
    fn the_results_page_lists_hits_and_the_summary() {
        let outcomes = vec![
            Outcome {
                backend: "web".into(),
                status: "ok".into(),
                hits: vec![Hit {
                    title: "<go>".into(),
                    url: "https://web.example/go/1".into(),
                    backend: "web".into(),
                }],
            },
            Outcome {
                backend: "news".into(),
                status: "timed out".into(),
                hits: vec![],
            },
        ];
        let p = page(
            "go",
            "100ms",
            Some(Summary {
                timeout: Duration::from_millis(100),
                elapsed: Duration::from_micros(101_500),
                outcomes: &outcomes,
            }),
        );
        assert!(
            p.contains("<li class=\"result\">&lt;go&gt; - <a href=\"https://web.example/go/1\">")
        );
        assert!(p.contains("<li class=\"timedout\">news: timed out</li>"));
        assert!(p.contains("<p id=\"summary\">1 results in 101.5ms; timeout 100ms</p>"));
        assert!(p.contains("name=\"q\" value=\"go\""));
    }
}
