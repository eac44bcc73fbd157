//! Operation-sequence fuzzing of gochan channels: the input decodes to a few channels
//! (capacity 0, 1, n or unbounded) and a sequence of operations spread over 2 or 3
//! threads. Nothing blocks without a bound (`*_timeout`, `try_*`, non-blocking
//! `select!`), so one input runs in milliseconds.
//!
//! Shared by the `chan_ops` fuzz target and `crates/gochan/tests/fuzz_regressions.rs`
//! (included there by path), so it only uses `gochan` and `std`.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Barrier};

// parking_lot, not std's Mutex: std is not instrumented under ThreadSanitizer
// (scripts/sanitizers.sh), so a contended std Mutex shows as a race in the ledger.
use parking_lot::Mutex;
use std::time::Duration;

use gochan::{
    Receiver, RecvTimeoutError, SendTimeoutError, Sender, TryRecvError, TrySendError, WeakReceiver,
    WeakSender,
};

const CHANS: usize = 3;
const MAX_OPS: usize = 64;
const MAX_HANDLES: usize = 3;
/// The main thread, as a consumer in the ledger (it drains kept channels at the end).
const MAIN: u8 = 3;
const TIMEOUTS: [Duration; 4] = [
    Duration::ZERO,
    Duration::from_micros(10),
    Duration::from_micros(100),
    Duration::from_micros(500),
];

/// What happened to every value, and every broken invariant (recorded, not panicked on
/// inside a thread or a destructor, and reported all at once at the end).
#[derive(Default)]
struct Book {
    made: HashSet<u64>,
    sent: HashSet<u64>,
    received: HashSet<u64>,
    drops: HashMap<u64, u32>,
    /// The last sequence number each consumer received from each producer on each
    /// channel: FIFO means it only grows.
    last_seq: HashMap<(usize, u8, u8), u32>,
    closes: [u32; CHANS],
    errors: Vec<String>,
}

#[derive(Default)]
struct Ledger(Mutex<Book>);

impl Ledger {
    fn book(&self) -> parking_lot::MutexGuard<'_, Book> {
        self.0.lock()
    }

    fn fail(&self, msg: String) {
        self.book().errors.push(msg);
    }
}

/// A value sent through the channels: which channel it was made for, by which thread,
/// and that thread's sequence number. Its destructor counts drops.
struct Val {
    ch: usize,
    thread: u8,
    seq: u32,
    ledger: Arc<Ledger>,
}

impl Val {
    fn id(&self) -> u64 {
        (self.ch as u64) << 40 | u64::from(self.thread) << 32 | u64::from(self.seq)
    }
}

impl Drop for Val {
    fn drop(&mut self) {
        *self.ledger.book().drops.entry(self.id()).or_insert(0) += 1;
    }
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    Zero,
    One,
    N(usize),
    Unbounded,
}

impl Kind {
    fn cap(self) -> Option<usize> {
        match self {
            Kind::Zero => Some(0),
            Kind::One => Some(1),
            Kind::N(n) => Some(n),
            Kind::Unbounded => None,
        }
    }
}

/// One thread's view: its handles (0 to 3 of each side per channel), weak handles, and
/// what it knows for sure.
struct Worker {
    id: u8,
    seq: u32,
    tx: Vec<Vec<Sender<Val>>>,
    rx: Vec<Vec<Receiver<Val>>>,
    wtx: Vec<Option<WeakSender<Val>>>,
    wrx: Vec<Option<WeakReceiver<Val>>>,
    /// This thread called `close` on the channel: every later send of its must fail.
    closed: [bool; CHANS],
    kinds: [Kind; CHANS],
    ledger: Arc<Ledger>,
}

impl Worker {
    fn make(&mut self, ch: usize) -> Val {
        self.seq += 1;
        self.ledger.book().made.insert(pack(ch, self.id, self.seq));
        Val {
            ch,
            thread: self.id,
            seq: self.seq,
            ledger: self.ledger.clone(),
        }
    }

    fn sent(&self, ch: usize, id: u64, how: &str) {
        let mut b = self.ledger.book();
        if self.closed[ch] {
            b.errors.push(format!(
                "thread {}: {how} on channel {ch} succeeded after this thread closed it",
                self.id
            ));
        }
        if !b.sent.insert(id) {
            b.errors.push(format!("{id:#x} sent twice"));
        }
    }

    /// A send that failed must hand the same value back.
    fn returned(&self, v: &Val, id: u64, how: &str) {
        if v.id() != id {
            self.ledger
                .fail(format!("{how} returned {:#x} instead of {id:#x}", v.id()));
        }
    }

    fn got(&self, v: Val, ch: usize) {
        received(&self.ledger, v, ch, self.id);
    }

    fn recv_handle(&self, ch: usize) -> Receiver<Val> {
        self.rx[ch].last().cloned().unwrap_or_else(gochan::never)
    }

    fn run(&mut self, ops: &[(u8, u8)]) {
        for &(a, b) in ops {
            let ch = usize::from(a & 3) % CHANS;
            let ch2 = usize::from((b >> 2) & 3) % CHANS;
            let t = TIMEOUTS[usize::from(b & 3)];
            self.op(a >> 4, ch, ch2, t);
        }
    }

    fn op(&mut self, code: u8, ch: usize, ch2: usize, t: Duration) {
        match code {
            0 => {
                if let Some(tx) = self.tx[ch].last().cloned() {
                    let v = self.make(ch);
                    let id = v.id();
                    match tx.send_timeout(v, t) {
                        Ok(()) => self.sent(ch, id, "send_timeout"),
                        Err(SendTimeoutError::Timeout(v) | SendTimeoutError::Closed(v)) => {
                            self.returned(&v, id, "send_timeout")
                        }
                    }
                }
            }
            1 => {
                if let Some(tx) = self.tx[ch].last().cloned() {
                    let v = self.make(ch);
                    let id = v.id();
                    match tx.try_send(v) {
                        Ok(()) => self.sent(ch, id, "try_send"),
                        Err(TrySendError::Full(v) | TrySendError::Closed(v)) => {
                            self.returned(&v, id, "try_send")
                        }
                    }
                }
            }
            2 => {
                if let Some(rx) = self.rx[ch].last() {
                    match rx.recv_timeout(t) {
                        Ok(v) => self.got(v, ch),
                        Err(RecvTimeoutError::Timeout | RecvTimeoutError::Closed) => {}
                    }
                }
            }
            3 => {
                if let Some(rx) = self.rx[ch].last() {
                    match rx.try_recv() {
                        Ok(v) => self.got(v, ch),
                        Err(TryRecvError::Empty | TryRecvError::Closed) => {}
                    }
                }
            }
            4 => {
                if let Some(tx) = self.tx[ch].last() {
                    if tx.close() {
                        self.ledger.book().closes[ch] += 1;
                    }
                    self.closed[ch] = true;
                    if !tx.is_closed() {
                        self.ledger
                            .fail(format!("channel {ch}: not closed right after close()"));
                    }
                }
            }
            5 => drop(self.tx[ch].pop()),
            6 => drop(self.rx[ch].pop()),
            7 => {
                if self.tx[ch].len() < MAX_HANDLES {
                    if let Some(tx) = self.tx[ch].last().cloned() {
                        self.tx[ch].push(tx);
                    }
                }
            }
            8 => {
                if self.rx[ch].len() < MAX_HANDLES {
                    if let Some(rx) = self.rx[ch].last().cloned() {
                        self.rx[ch].push(rx);
                    }
                }
            }
            9 | 11 => {
                // recv(ch) or send(ch2), non-blocking (9) or waiting at most t (11).
                let Some(tx) = self.tx[ch2].last().cloned() else {
                    return self.op(10, ch, ch2, t);
                };
                let rx = self.recv_handle(ch);
                let v = self.make(ch2);
                let id = v.id();
                let this = &*self;
                if code == 9 {
                    gochan::select! {
                        recv(rx) -> r => if let Ok(v) = r { this.got(v, ch) },
                        send(tx, v) -> r => match r {
                            Ok(()) => this.sent(ch2, id, "select send"),
                            Err(e) => this.returned(&e.0, id, "select send"),
                        },
                        default => {},
                    }
                } else {
                    gochan::select! {
                        recv(rx) -> r => if let Ok(v) = r { this.got(v, ch) },
                        send(tx, v) -> r => match r {
                            Ok(()) => this.sent(ch2, id, "select send"),
                            Err(e) => this.returned(&e.0, id, "select send"),
                        },
                        default(t) => {},
                    }
                }
            }
            10 => {
                let (a, b) = (self.recv_handle(ch), self.recv_handle(ch2));
                gochan::select! {
                    recv(a) -> r => if let Ok(v) = r { self.got(v, ch) },
                    recv(b) -> r => if let Ok(v) = r { self.got(v, ch2) },
                    default => {},
                }
            }
            12 => {
                // Downgrade, or upgrade the weak sender: it must succeed while this thread
                // holds a strong sender.
                match &self.wtx[ch] {
                    None => self.wtx[ch] = self.tx[ch].last().map(Sender::downgrade),
                    Some(w) => match w.upgrade() {
                        Some(tx) if self.tx[ch].len() < MAX_HANDLES => self.tx[ch].push(tx),
                        Some(_) => {}
                        None if !self.tx[ch].is_empty() => self.ledger.fail(format!(
                            "channel {ch}: WeakSender::upgrade failed while a sender lives"
                        )),
                        None => self.wtx[ch] = None,
                    },
                }
            }
            13 => match &self.wrx[ch] {
                None => self.wrx[ch] = self.rx[ch].last().map(Receiver::downgrade),
                Some(w) => match w.upgrade() {
                    Some(rx) if self.rx[ch].len() < MAX_HANDLES => self.rx[ch].push(rx),
                    Some(_) => {}
                    None if !self.rx[ch].is_empty() => self.ledger.fail(format!(
                        "channel {ch}: WeakReceiver::upgrade failed while a receiver lives"
                    )),
                    None => self.wrx[ch] = None,
                },
            },
            14 => {
                if let Some(rx) = self.rx[ch].last() {
                    for v in rx.try_iter().take(4) {
                        self.got(v, ch);
                    }
                }
            }
            _ => {
                let cap = self.kinds[ch].cap();
                let (len, got_cap) = match (self.tx[ch].last(), self.rx[ch].last()) {
                    (Some(tx), _) => (tx.len(), tx.capacity()),
                    (None, Some(rx)) => (rx.len(), rx.capacity()),
                    (None, None) => return,
                };
                if got_cap != cap || cap.is_some_and(|c| len > c) {
                    self.ledger.fail(format!(
                        "channel {ch} ({:?}): len {len}, capacity {got_cap:?}",
                        self.kinds[ch]
                    ));
                }
            }
        }
    }
}

fn pack(ch: usize, thread: u8, seq: u32) -> u64 {
    (ch as u64) << 40 | u64::from(thread) << 32 | u64::from(seq)
}

/// Records a received value: on the right channel, made and never received before, and
/// FIFO per (channel, producer, consumer). Then drops it.
fn received(ledger: &Ledger, v: Val, ch: usize, consumer: u8) {
    let id = v.id();
    {
        let mut b = ledger.book();
        if v.ch != ch {
            b.errors.push(format!(
                "{id:#x} made for channel {} came out of {ch}",
                v.ch
            ));
        }
        if !b.made.contains(&id) {
            b.errors.push(format!("{id:#x} received but never made"));
        }
        if !b.received.insert(id) {
            b.errors.push(format!("{id:#x} received twice"));
        }
        let last = b.last_seq.entry((ch, v.thread, consumer)).or_insert(0);
        if v.seq <= *last {
            let last = *last;
            b.errors.push(format!(
                "channel {ch}: consumer {consumer} got seq {} of thread {} after seq {last}",
                v.seq, v.thread
            ));
        } else {
            *last = v.seq;
        }
    }
    drop(v);
}

/// Input layout: `kinds, n, keep, then (op, arg) byte pairs`.
/// - `kinds`: 2 bits per channel (capacity 0, 1, n, unbounded); bit 6: 3 threads, else 2;
/// - `n`: the capacity of the "n" channels, 2 + n % 15;
/// - `keep`: bit c: the main thread keeps a sender and a receiver of channel c during the
///   run, then closes it, checks a send fails, drains it and checks receives error;
/// - each op: high nibble of the first byte is the operation, its low 2 bits the channel;
///   the second byte's top 2 bits pick the thread, bits 2-3 a second channel, bits 0-1 a
///   timeout (0, 10us, 100us, 500us). At most 64 ops.
///
/// At the end (all handles dropped), every value made was dropped exactly once, every
/// received value had been sent successfully (and only once), and `close()` returned true
/// at most once per channel.
pub fn check(data: &[u8]) {
    let [kind_bits, n, keep, ref rest @ ..] = *data else {
        return;
    };
    let n = 2 + usize::from(n) % 15;
    let kinds: [Kind; CHANS] = std::array::from_fn(|c| match (kind_bits >> (2 * c)) & 3 {
        0 => Kind::Zero,
        1 => Kind::One,
        2 => Kind::N(n),
        _ => Kind::Unbounded,
    });
    let threads = if kind_bits >> 6 & 1 == 1 { 3 } else { 2 };
    let ledger = Arc::new(Ledger::default());
    let mut ops: Vec<Vec<(u8, u8)>> = vec![Vec::new(); threads];
    for pair in rest.chunks_exact(2).take(MAX_OPS) {
        ops[usize::from(pair[1] >> 6) % threads].push((pair[0], pair[1]));
    }

    {
        let chans: Vec<(Sender<Val>, Receiver<Val>)> = kinds
            .iter()
            .map(|k| match k.cap() {
                Some(c) => gochan::bounded(c),
                None => gochan::unbounded(),
            })
            .collect();
        let mut workers: Vec<Worker> = (0..threads)
            .map(|i| Worker {
                id: i as u8,
                seq: 0,
                tx: chans.iter().map(|(tx, _)| vec![tx.clone()]).collect(),
                rx: chans.iter().map(|(_, rx)| vec![rx.clone()]).collect(),
                wtx: vec![None, None, None],
                wrx: vec![None, None, None],
                closed: [false; CHANS],
                kinds,
                ledger: ledger.clone(),
            })
            .collect();
        let kept: Vec<Option<(Sender<Val>, Receiver<Val>)>> = chans
            .into_iter()
            .enumerate()
            .map(|(c, pair)| (keep >> c & 1 == 1).then_some(pair))
            .collect();

        let barrier = Barrier::new(threads);
        std::thread::scope(|s| {
            let handles: Vec<_> = workers
                .drain(..)
                .zip(&ops)
                .map(|(w, ops)| {
                    let barrier = &barrier;
                    s.spawn(move || {
                        let mut w = w;
                        barrier.wait();
                        w.run(ops);
                        // Dropping `w` drops all its handles.
                    })
                })
                .collect();
            // Joined explicitly: the scope's own wait ends when the closures return, before
            // the threads have run their thread-local destructors, and LeakSanitizer then
            // sees glibc's TLS-destructor records of exiting threads as leaks.
            for h in handles {
                if let Err(e) = h.join() {
                    std::panic::resume_unwind(e);
                }
            }
        });

        for (c, pair) in kept.into_iter().enumerate() {
            let Some((tx, rx)) = pair else { continue };
            finish(&ledger, c, kinds[c], tx, rx);
        }
    }

    let b = ledger.book();
    let mut errors = b.errors.clone();
    for id in &b.made {
        match b.drops.get(id).copied().unwrap_or(0) {
            1 => {}
            0 => errors.push(format!("{id:#x} never dropped (leaked)")),
            k => errors.push(format!("{id:#x} dropped {k} times")),
        }
    }
    for id in &b.received {
        if !b.sent.contains(id) {
            errors.push(format!("{id:#x} received but its send did not succeed"));
        }
    }
    for (c, &k) in b.closes.iter().enumerate() {
        if k > 1 {
            errors.push(format!("channel {c}: close() returned true {k} times"));
        }
    }
    assert!(
        errors.is_empty(),
        "{kinds:?}, {threads} threads: {errors:#?}"
    );
}

/// The main thread's end of a kept channel, once every worker is done: close, a send
/// fails, drain (never `Empty` on a closed channel with no sender busy), then every
/// receive reports the close.
fn finish(ledger: &Arc<Ledger>, c: usize, kind: Kind, tx: Sender<Val>, rx: Receiver<Val>) {
    if tx.close() {
        ledger.book().closes[c] += 1;
    }
    let mut main = Worker {
        id: MAIN,
        seq: 0,
        tx: Vec::new(),
        rx: Vec::new(),
        wtx: Vec::new(),
        wrx: Vec::new(),
        closed: [false; CHANS],
        kinds: [kind; CHANS],
        ledger: ledger.clone(),
    };
    let v = main.make(c);
    match tx.try_send(v) {
        Ok(()) => ledger.fail(format!("channel {c}: try_send succeeded after close")),
        Err(TrySendError::Full(_)) => {
            ledger.fail(format!("channel {c}: try_send after close said Full"))
        }
        Err(TrySendError::Closed(_)) => {}
    }
    let limit = kind.cap().unwrap_or(MAX_OPS * 2) + 1;
    for _ in 0..=limit {
        match rx.try_recv() {
            Ok(v) => received(ledger, v, c, MAIN),
            Err(TryRecvError::Closed) => break,
            Err(TryRecvError::Empty) => {
                ledger.fail(format!("channel {c}: closed but try_recv said Empty"));
                break;
            }
        }
    }
    if rx.recv().is_ok() {
        ledger.fail(format!("channel {c}: recv succeeded after close + drain"));
    }
    if !matches!(
        rx.recv_timeout(Duration::from_millis(1)),
        Err(RecvTimeoutError::Closed)
    ) {
        ledger.fail(format!("channel {c}: recv_timeout after close + drain"));
    }
    if !rx.is_empty() || !rx.is_closed() {
        ledger.fail(format!("channel {c}: not empty and closed after drain"));
    }
}
