//! Fan-out, fan-in: two `sq` workers read one channel; `merge` multiplexes their outputs.
//!
//! Mirrors the Go blog post "Go Concurrency Patterns: Pipelines and cancellation"
//! (<https://go.dev/blog/pipelines>), section "Fan-out, fan-in":
//!
//! ```go
//! func main() {
//!     in := gen(2, 3)
//!     // Distribute the sq work across two goroutines that both read from in.
//!     c1 := sq(in)
//!     c2 := sq(in)
//!     // Consume the merged output from c1 and c2.
//!     for n := range merge(c1, c2) {
//!         fmt.Println(n) // 4 then 9, or 9 then 4
//!     }
//! }
//!
//! func merge(cs ...<-chan int) <-chan int {
//!     var wg sync.WaitGroup
//!     out := make(chan int)
//!     output := func(c <-chan int) {
//!         for n := range c {
//!             out <- n
//!         }
//!         wg.Done()
//!     }
//!     wg.Add(len(cs))
//!     for _, c := range cs {
//!         go output(c)
//!     }
//!     go func() {
//!         wg.Wait()
//!         close(out) // only after every sender is done
//!     }()
//!     return out
//! }
//! ```
//!
//! - Two goroutines reading the same `in` (fan-out): `Receiver` is `Clone`, each worker
//!   gets a handle to the same channel and every value goes to exactly one of them.
//! - `sync.WaitGroup` is [`gochan::group::WaitGroup`] (clones share one counter, as Go
//!   passes `&wg`); `wg.Add(len(cs))` is `wg.add(cs.len() as i64)`.
//! - Which worker squares which number is up to the scheduler: the output is 4 then 9 or
//!   9 then 4, as in Go.
//!
//! The library's one-thread fan-in is [`gochan::pipeline::merge`].

use std::thread;

use gochan::group::WaitGroup;
use gochan::{bounded, Receiver};

fn gen(nums: &[i32]) -> Receiver<i32> {
    let (out, rx) = bounded(0);
    let nums = nums.to_vec();
    thread::spawn(move || {
        for n in nums {
            if out.send(n).is_err() {
                return;
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

fn merge(cs: Vec<Receiver<i32>>) -> Receiver<i32> {
    let wg = WaitGroup::new();
    let (out, rx) = bounded(0);

    // Start an output goroutine for each input channel in cs. output copies values from c
    // to out until c is closed, then calls wg.Done.
    let output = |c: Receiver<i32>, out: gochan::Sender<i32>, wg: WaitGroup| {
        move || {
            for n in &c {
                if out.send(n).is_err() {
                    break;
                }
            }
            wg.done();
        }
    };
    wg.add(cs.len() as i64);
    for c in cs {
        thread::spawn(output(c, out.clone(), wg.clone()));
    }

    // Close out once all the output goroutines are done. This must start after wg.add.
    thread::spawn(move || {
        wg.wait();
        out.close();
    });
    rx
}

/// Runs the pattern and returns the lines the program prints.
pub fn run() -> Vec<String> {
    let input = gen(&[2, 3]);

    // Distribute the sq work across two goroutines that both read from in.
    let c1 = sq(input.clone());
    let c2 = sq(input);

    // Consume the merged output from c1 and c2.
    let mut out = Vec::new();
    for n in merge(vec![c1, c2]) {
        out.push(n.to_string()); // 4 then 9, or 9 then 4
    }
    out
}

#[allow(dead_code)]
fn main() {
    for line in run() {
        println!("{line}");
    }
}
