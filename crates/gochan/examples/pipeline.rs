//! Pipeline: stages connected by channels, `gen -> sq -> sq`, printing 16 then 81.
//!
//! Mirrors the Go blog post "Go Concurrency Patterns: Pipelines and cancellation"
//! (<https://go.dev/blog/pipelines>), section "Squaring numbers":
//!
//! ```go
//! func gen(nums ...int) <-chan int {
//!     out := make(chan int)
//!     go func() {
//!         for _, n := range nums {
//!             out <- n
//!         }
//!         close(out)
//!     }()
//!     return out
//! }
//! func sq(in <-chan int) <-chan int {
//!     out := make(chan int)
//!     go func() {
//!         for n := range in {
//!             out <- n * n
//!         }
//!         close(out)
//!     }()
//!     return out
//! }
//! func main() {
//!     for n := range sq(sq(gen(2, 3))) {
//!         fmt.Println(n) // 16 then 81
//!     }
//! }
//! ```
//!
//! - `make(chan int)` is `gochan::bounded(0)` (unbuffered); `<-chan int` is `Receiver<i32>`.
//! - `go func() { ... }()` is `std::thread::spawn(move || ...)`.
//! - `for n := range in` is `for n in &input` (ends once the channel is closed and drained).
//! - `close(out)` is `out.close()` (dropping the last `Sender` closes it too).
//! - `out <- n` is `out.send(n)`. In Go it blocks forever if nobody reads any more (a
//!   leak); in gochan it fails once every receiver is gone, so the stage can return.
//!
//! The library spells the same pipeline `pipeline::map(&ctx, pipeline::map(&ctx,
//! pipeline::generate(&ctx, [2, 3]), sq), sq)` (see [`gochan::pipeline`]); its stages
//! also stop when a context ends, and a stage that panics passes the panic on to the
//! consumer instead of closing its output as if it were done (here, a panicking `sq`
//! thread would just close `out`, and `main` could not tell). The post's bounded
//! parallelism is `pipeline::map_parallel`; async code uses `pipeline::stream`.

use std::thread;

use gochan::{bounded, Receiver};

fn gen(nums: &[i32]) -> Receiver<i32> {
    let (out, rx) = bounded(0);
    let nums = nums.to_vec();
    thread::spawn(move || {
        for n in nums {
            if out.send(n).is_err() {
                return; // nobody reads any more
            }
        }
        out.close();
    });
    rx
}

fn sq(input: Receiver<i32>) -> Receiver<i32> {
    let (out, rx) = bounded(0);
    thread::spawn(move || {
        for n in &input {
            if out.send(n * n).is_err() {
                return;
            }
        }
        out.close();
    });
    rx
}

/// Runs the pattern and returns the lines the program prints.
pub fn run() -> Vec<String> {
    // Set up the pipeline and consume the output.
    let mut out = Vec::new();
    for n in sq(sq(gen(&[2, 3]))) {
        out.push(n.to_string()); // 16 then 81
    }
    out
}

#[allow(dead_code)]
fn main() {
    for line in run() {
        println!("{line}");
    }
}
