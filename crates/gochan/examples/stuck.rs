//! Finding a stuck party: `gochan::debug::dump()`, gochan's answer to Go's goroutine dump.
//!
//! A classic Go blocking bug, rebuilt the way a Go programmer would write it in Rust: a
//! service struct owns both ends of its request channel, and its worker thread holds the
//! struct (an `Arc<Self>`) while it waits for requests. Nobody else sends, and since the
//! worker itself keeps a `Sender` alive, the channel never closes: the worker waits
//! forever, as the goroutine would. gochan cannot prevent this one by construction (a
//! `WeakSender` in the struct would), but it can show it:
//!
//! ```text
//! cargo run --example stuck
//! ```
//!
//! prints the dump (thread name, operation, how long, call site, channel) and then
//! unblocks the worker so the example ends.

use std::sync::Arc;
use std::thread;
use std::time::Duration;

use gochan::{Receiver, Sender};

struct Service {
    requests: Sender<String>,
    inbox: Receiver<String>,
}

impl Service {
    fn worker(self: Arc<Self>) -> usize {
        // Holds `self`, and with it a Sender: the loop never ends on its own.
        let mut served = 0;
        while let Ok(req) = self.inbox.recv() {
            if req == "stop" {
                break;
            }
            served += 1;
        }
        served
    }
}

/// Starts the stuck worker, returns the dump taken while it waits, then stops it.
pub fn run() -> String {
    let (requests, inbox) = gochan::bounded(0);
    let svc = Arc::new(Service { requests, inbox });
    let worker = {
        let svc = svc.clone();
        thread::Builder::new()
            .name("service-worker".into())
            .spawn(move || svc.worker())
            .expect("spawn")
    };
    // Wait until the worker is parked in its receive.
    let parked = || {
        gochan::debug::blocked()
            .iter()
            .any(|b| b.location.file().ends_with("stuck.rs"))
    };
    while !parked() {
        thread::sleep(Duration::from_millis(1));
    }
    thread::sleep(Duration::from_millis(20));
    let dump = gochan::debug::dump().to_string();
    svc.requests
        .send("stop".into())
        .expect("the worker is waiting");
    assert_eq!(worker.join().expect("worker"), 0);
    dump
}

#[allow(dead_code)]
fn main() {
    print!("{}", run());
}
