//! Context values are immutable: "modify" metadata by copying it into a new value node
//! (copy-on-write), as grpc's `metadata.AppendToOutgoingContext` does.
//!
//! Mirrors grpc-go's `metadata` package (<https://pkg.go.dev/google.golang.org/grpc/metadata>),
//! which treats context values as immutable:
//!
//! ```go
//! type rawMD struct {
//!     md    MD
//!     added [][]string
//! }
//! type mdOutgoingKey struct{}
//!
//! func AppendToOutgoingContext(ctx context.Context, kv ...string) context.Context {
//!     if len(kv)%2 == 1 {
//!         panic(fmt.Sprintf("metadata: AppendToOutgoingContext got an odd number of input pairs for metadata: %d", len(kv)))
//!     }
//!     md, _ := ctx.Value(mdOutgoingKey{}).(rawMD)
//!     added := make([][]string, len(md.added)+1)
//!     copy(added, md.added)
//!     added[len(added)-1] = make([]string, len(kv))
//!     copy(added[len(added)-1], kv)
//!     return context.WithValue(ctx, mdOutgoingKey{}, rawMD{md: md.md, added: added})
//! }
//! ```
//!
//! and the same idea for a plain map: take map1 from ctx1, build map2 as a copy of map1
//! plus `"k2": "v2"`, and put it into ctx2 with `context.WithValue`; ctx1 still sees map1.
//!
//! - `mdOutgoingKey{}` + `rawMD`: gochan keys a value by its type, so the value type
//!   [`RawMd`] is its own key; `md, _ := ctx.Value(k).(rawMD)` (zero value when absent) is
//!   `ctx.value::<RawMd>().cloned().unwrap_or_default()`.
//! - Go's `copy(added, md.added)` copies the outer slice and shares the inner ones; here the
//!   inner lists are `Arc<[String]>`, so copying `added` is just as shallow, and `md` is an
//!   `Arc` shared by every node as Go shares the map.
//! - `FromOutgoingContext` (grpc's reader, not shown above) merges `md` and `added`.
//! - Values must be `Send + Sync`: contexts cross threads, so do their values.

use std::collections::BTreeMap;
use std::sync::Arc;

use gochan::context::{self, Context};

/// grpc's `metadata.MD`.
type Md = BTreeMap<String, Vec<String>>;

/// grpc's `rawMD`: the metadata given to `NewOutgoingContext` plus every appended list.
#[derive(Clone, Default)]
struct RawMd {
    md: Arc<Md>,
    added: Vec<Arc<[String]>>,
}

/// grpc's `metadata.NewOutgoingContext`.
fn new_outgoing_context(ctx: &Context, md: Md) -> Context {
    context::with_value(
        ctx,
        RawMd {
            md: Arc::new(md),
            added: Vec::new(),
        },
    )
}

/// grpc's `metadata.AppendToOutgoingContext`, as shown above.
fn append_to_outgoing_context(ctx: &Context, kv: &[&str]) -> Context {
    if kv.len() % 2 == 1 {
        panic!(
            "metadata: AppendToOutgoingContext got an odd number of input pairs for metadata: {}",
            kv.len()
        );
    }
    let md = ctx.value::<RawMd>().cloned().unwrap_or_default();
    let mut added = Vec::with_capacity(md.added.len() + 1);
    added.extend(md.added.iter().cloned()); // copy(added, md.added)
    added.push(kv.iter().map(|s| s.to_string()).collect()); // copy(added[len-1], kv)
    context::with_value(ctx, RawMd { md: md.md, added })
}

/// grpc's `metadata.FromOutgoingContext`: a merged copy.
fn from_outgoing_context(ctx: &Context) -> Option<Md> {
    let raw = ctx.value::<RawMd>()?;
    let mut out = (*raw.md).clone();
    for kv in &raw.added {
        for pair in kv.chunks(2) {
            out.entry(pair[0].to_lowercase())
                .or_default()
                .push(pair[1].clone());
        }
    }
    Some(out)
}

/// Formats like Go's `fmt.Print(md)`: `map[k1:[v1] k2:[v2 v3]]`.
fn go_fmt(md: &Md) -> String {
    let items: Vec<String> = md
        .iter()
        .map(|(k, vs)| format!("{k}:[{}]", vs.join(" ")))
        .collect();
    format!("map[{}]", items.join(" "))
}

/// The map variant: a copy-on-write map stored in the context.
#[derive(Clone, Default)]
struct Settings(Arc<BTreeMap<String, String>>);

fn with_setting(ctx: &Context, k: &str, v: &str) -> Context {
    let map1 = ctx.value::<Settings>().cloned().unwrap_or_default();
    let mut map2 = (*map1.0).clone(); // copy every entry of map1 ...
    map2.insert(k.to_string(), v.to_string()); // ... and add the new one
    context::with_value(ctx, Settings(Arc::new(map2)))
}

fn settings(ctx: &Context) -> String {
    let map = ctx.value::<Settings>().cloned().unwrap_or_default();
    let items: Vec<String> = map.0.iter().map(|(k, v)| format!("{k}:{v}")).collect();
    format!("map[{}]", items.join(" "))
}

/// Runs the pattern and returns the lines the program prints.
pub fn run() -> Vec<String> {
    let mut out = Vec::new();
    let base = Md::from([("authority".to_string(), vec!["svc".to_string()])]);
    let ctx0 = new_outgoing_context(&context::background(), base);
    let ctx1 = append_to_outgoing_context(&ctx0, &["k1", "v1"]);
    let ctx2 = append_to_outgoing_context(&ctx1, &["k2", "v2", "k1", "v1b"]);

    // Another goroutine branches off ctx1 concurrently: it sees its own copy.
    let c1 = ctx1.clone();
    let ctx3 = std::thread::spawn(move || append_to_outgoing_context(&c1, &["k3", "v3"]))
        .join()
        .unwrap();

    let show = |name: &str, ctx: &Context| {
        format!("{name}: {}", go_fmt(&from_outgoing_context(ctx).unwrap()))
    };
    out.push(show("ctx1", &ctx1));
    out.push(show("ctx2", &ctx2));
    out.push(show("ctx3 (from ctx1, on another thread)", &ctx3));
    out.push(show("ctx1 again (unchanged)", &ctx1));

    let m1 = with_setting(&context::background(), "k1", "v1");
    let m2 = with_setting(&m1, "k2", "v2");
    out.push(format!("map in ctx1: {}", settings(&m1)));
    out.push(format!("map in ctx2: {}", settings(&m2)));
    out
}

#[allow(dead_code)]
fn main() {
    for line in run() {
        println!("{line}");
    }
}
