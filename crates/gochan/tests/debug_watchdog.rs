//! The `tracing` watchdog of `gochan::debug` (feature `tracing`): a party blocked longer
//! than the threshold is logged once, with its call site; a short wait is not.
#![cfg(feature = "tracing")]

use std::fmt::Write;
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

static EVENTS: Mutex<Vec<(String, tracing::Level, String)>> = Mutex::new(Vec::new());

/// A subscriber that keeps every event's target, level and fields.
struct Capture;

struct Fields(String);

impl tracing::field::Visit for Fields {
    fn record_debug(&mut self, f: &tracing::field::Field, v: &dyn std::fmt::Debug) {
        let _ = write!(self.0, "{}={:?} ", f.name(), v);
    }
}

impl tracing::Subscriber for Capture {
    fn enabled(&self, _: &tracing::Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &tracing::span::Attributes<'_>) -> tracing::span::Id {
        tracing::span::Id::from_u64(1)
    }
    fn record(&self, _: &tracing::span::Id, _: &tracing::span::Record<'_>) {}
    fn record_follows_from(&self, _: &tracing::span::Id, _: &tracing::span::Id) {}
    fn event(&self, e: &tracing::Event<'_>) {
        let mut f = Fields(String::new());
        e.record(&mut f);
        let m = e.metadata();
        EVENTS
            .lock()
            .unwrap()
            .push((m.target().to_string(), *m.level(), f.0));
    }
    fn enter(&self, _: &tracing::span::Id) {}
    fn exit(&self, _: &tracing::span::Id) {}
}

fn logged_at(line: u32) -> Vec<(String, tracing::Level, String)> {
    let at = format!("{}:{line}:", file!());
    EVENTS
        .lock()
        .unwrap()
        .iter()
        .filter(|(_, _, f)| f.contains(&at))
        .cloned()
        .collect()
}

#[test]
fn logs_a_long_wait_once_and_not_a_short_one() {
    tracing::subscriber::set_global_default(Capture).expect("first subscriber");
    let dog = gochan::debug::watchdog(Duration::from_millis(40));

    // A short wait (answered within a few ms): never logged.
    let (tx, rx) = gochan::bounded::<u32>(0);
    let short_line = line!() + 1;
    let short = thread::spawn(move || rx.recv());
    thread::sleep(Duration::from_millis(5));
    tx.send(1).unwrap();
    assert_eq!(short.join().unwrap(), Ok(1));

    // A long wait: logged once it passes the threshold, and only once.
    let (tx, rx) = gochan::bounded::<u32>(0);
    let long_line = line!() + 1;
    let long = thread::spawn(move || rx.recv());
    let deadline = Instant::now() + Duration::from_secs(10);
    while logged_at(long_line).is_empty() {
        assert!(Instant::now() < deadline, "the long wait was never logged");
        thread::sleep(Duration::from_millis(5));
    }
    thread::sleep(Duration::from_millis(100)); // several more checks
    let events = logged_at(long_line);
    assert_eq!(events.len(), 1, "{events:?}");
    let (target, level, fields) = &events[0];
    assert_eq!(target, "gochan::debug");
    assert_eq!(*level, tracing::Level::WARN);
    assert!(fields.contains("op=\"chan receive\""), "{fields}");
    tx.send(2).unwrap();
    assert_eq!(long.join().unwrap(), Ok(2));
    drop(dog);
    assert!(logged_at(short_line).is_empty());
}
