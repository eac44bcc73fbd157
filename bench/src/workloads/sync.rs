//! Plain channel workloads on OS threads: seq, spsc, mpsc (4:1), mpmc (4:4) and the
//! contention rows (mpmc 16:16 and 64:64), for gochan, crossbeam-channel, flume, kanal,
//! crossfire and std::sync::mpsc.

use std::time::Instant;

use super::flavors::{xf, Crossbeam, Flume, Gochan, Kanal, Std, SyncFlavor};
use super::{run_threads, share, CheckJob, Config, Job, CAPS, FAN, SEQ_BATCH};
use crate::harness::{Case, Check, Msg, Outcome};

/// Parties of the contention rows: mpmc with this many senders and as many receivers,
/// far more threads (tasks) than the 2 cores (workers).
pub const CROWDS: [usize; 2] = [16, 64];
/// Capacities of the contention rows (no cap 0: those rows are about queue contention).
pub const CROWD_CAPS: [Option<usize>; 3] = [Some(1), Some(1000), None];

/// The shape of a plain workload: how many senders and receivers, or `seq`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    /// One thread: send a batch, receive it, repeat.
    Seq,
    /// `senders` producer threads, `receivers` consumer threads on one channel.
    Pipes { senders: usize, receivers: usize },
}

impl Shape {
    pub const SPSC: Shape = Shape::Pipes {
        senders: 1,
        receivers: 1,
    };
    pub const MPSC: Shape = Shape::Pipes {
        senders: FAN,
        receivers: 1,
    };
    pub const MPMC: Shape = Shape::mpmc(FAN);

    /// `parties` senders and as many receivers.
    pub const fn mpmc(parties: usize) -> Shape {
        Shape::Pipes {
            senders: parties,
            receivers: parties,
        }
    }

    pub fn name(self) -> &'static str {
        match self {
            Shape::Seq => "seq",
            Shape::Pipes {
                senders: 1,
                receivers: 1,
            } => "spsc",
            Shape::Pipes {
                senders: FAN,
                receivers: 1,
            } => "mpsc",
            Shape::Pipes {
                senders: FAN,
                receivers: FAN,
            } => "mpmc",
            Shape::Pipes {
                senders: 16,
                receivers: 16,
            } => "mpmc_16x16",
            Shape::Pipes {
                senders: 64,
                receivers: 64,
            } => "mpmc_64x64",
            Shape::Pipes { senders, receivers } => {
                panic!("no row name for {senders} senders, {receivers} receivers")
            }
        }
    }

    /// Senders and receivers (`seq`: one thread on both ends).
    pub fn parties(self) -> (usize, usize) {
        match self {
            Shape::Seq => (1, 1),
            Shape::Pipes { senders, receivers } => (senders, receivers),
        }
    }

    pub fn multi_consumer(self) -> bool {
        self.parties().1 > 1
    }

    /// Which capacities the shape runs at: `seq` needs room for a whole batch.
    pub fn runs_at(self, cap: Option<usize>) -> bool {
        self != Shape::Seq || cap.is_none_or(|c| c >= SEQ_BATCH)
    }
}

pub fn seq<F: SyncFlavor, M: Msg>(cap: Option<usize>, n: usize) -> Outcome {
    let (tx, rx) = F::chan::<M>(cap);
    let mut check = Check::default();
    let start = Instant::now();
    let mut next = 1u64;
    while next <= n as u64 {
        let end = (next + SEQ_BATCH as u64 - 1).min(n as u64);
        for i in next..=end {
            F::send(&tx, M::make(i));
        }
        for _ in next..=end {
            check.add(F::recv(&rx).expect("seq: message missing"));
        }
        next = end + 1;
    }
    Outcome::time(start, check)
}

pub fn pipes<F: SyncFlavor, M: Msg>(
    cap: Option<usize>,
    n: usize,
    senders: usize,
    receivers: usize,
) -> Outcome {
    let (tx, rx) = F::chan::<M>(cap);
    // The last party of each side takes the original end (a single end cannot be cloned);
    // the channel closes when the last producer is done.
    let mut tx = Some(tx);
    let producers: Vec<Job> = (0..senders)
        .map(|k| {
            let tx = if k + 1 == senders {
                tx.take().unwrap()
            } else {
                F::clone_tx(tx.as_ref().unwrap())
            };
            Box::new(move || {
                for i in share(n, senders, k) {
                    F::send(&tx, M::make(i));
                }
            }) as Job
        })
        .collect();
    let mut rx = Some(rx);
    let consumers: Vec<CheckJob> = (0..receivers)
        .map(|k| {
            let rx = if k + 1 == receivers {
                rx.take().unwrap()
            } else {
                F::clone_rx(rx.as_ref().unwrap())
            };
            Box::new(move || {
                let mut c = Check::default();
                while let Some(m) = F::recv(&rx) {
                    c.add(m);
                }
                c
            }) as CheckJob
        })
        .collect();
    run_threads(producers, consumers)
}

/// Runs `shape` for flavor `F`.
pub fn run<F: SyncFlavor, M: Msg>(shape: Shape, cap: Option<usize>, n: usize) -> Outcome {
    match shape {
        Shape::Seq => seq::<F, M>(cap, n),
        Shape::Pipes { senders, receivers } => pipes::<F, M>(cap, n, senders, receivers),
    }
}

fn add<F: SyncFlavor, M: Msg>(case: &mut Case, shape: Shape, cap: Option<usize>) {
    if (cap == Some(0) && !F::CAP0) || (shape.multi_consumer() && !F::MPMC) {
        return;
    }
    case.add(F::NAME, move |_, n| run::<F, M>(shape, cap, n));
}

/// crossfire in the module that matches the shape (see [`xf`]): spsc for `seq` and 1:1,
/// mpsc for n:1, mpmc for n:m; `Array` when bounded, `List` when unbounded; no cap 0.
fn add_crossfire<M: Msg>(case: &mut Case, shape: Shape, cap: Option<usize>) {
    let (senders, receivers) = shape.parties();
    match (senders > 1, receivers > 1, cap.is_some()) {
        (false, false, true) => add::<xf::SpscArray, M>(case, shape, cap),
        (false, false, false) => add::<xf::SpscList, M>(case, shape, cap),
        (true, false, true) => add::<xf::MpscArray, M>(case, shape, cap),
        (true, false, false) => add::<xf::MpscList, M>(case, shape, cap),
        (_, true, true) => add::<xf::MpmcArray, M>(case, shape, cap),
        (_, true, false) => add::<xf::MpmcList, M>(case, shape, cap),
    }
}

/// The sync cell of `shape` at `cap` with message type `M`, every contender that can run it.
pub fn case<M: Msg>(cfg: &Config, shape: Shape, cap: Option<usize>) -> Case {
    let mut case = Case::new::<M>(shape.name(), cap, "sync", cfg.n(cap));
    add::<Gochan, M>(&mut case, shape, cap);
    add::<Crossbeam, M>(&mut case, shape, cap);
    add::<Flume, M>(&mut case, shape, cap);
    add::<Kanal, M>(&mut case, shape, cap);
    if !crossfire_sits_out(shape, cap) {
        add_crossfire::<M>(&mut case, shape, cap);
    }
    add::<Std, M>(&mut case, shape, cap);
    case
}

/// crossfire 3.1.22 sits out the sync crowd rows at cap 1: in the first full run
/// (2026-12-01, 2 cores) its `mpmc_16x16/1/sync` run stalled for 60 s in round 3 and the
/// harness aborted; 45 rounds of that cell alone did not stall again, so the cause (a lost
/// wake-up, or a starved spinner) is unknown. The ignored test
/// `crossfire_crowd_cap1_sync_stall_check` runs the cell until it stalls or 100 rounds pass.
pub fn crossfire_sits_out(shape: Shape, cap: Option<usize>) -> bool {
    shape.parties().0 >= CROWDS[0] && cap == Some(1)
}

pub fn cases(cfg: &Config, out: &mut Vec<Case>) {
    for shape in [Shape::Seq, Shape::SPSC, Shape::MPSC, Shape::MPMC] {
        for cap in CAPS.into_iter().filter(|&c| shape.runs_at(c)) {
            out.push(case::<usize>(cfg, shape, cap));
        }
    }
    for shape in [Shape::SPSC, Shape::MPMC] {
        out.push(case::<()>(cfg, shape, Some(1000)));
        out.push(case::<[u64; 4]>(cfg, shape, Some(1000)));
    }
    for parties in CROWDS {
        for cap in CROWD_CAPS {
            out.push(case::<usize>(cfg, Shape::mpmc(parties), cap));
        }
    }
}

#[cfg(test)]
mod crossfire_stall {
    use super::*;
    use std::time::Duration;

    /// Run with `--ignored --nocapture`: runs crossfire's `mpmc_16x16/1/sync` cell (full
    /// size) up to 100 times; fails, leaving the stuck threads behind, if one run takes
    /// more than 60 s (then crossfire keeps sitting out; see [`crossfire_sits_out`]).
    #[test]
    #[ignore = "long; may leave hung threads; documents why crossfire sits out a cell"]
    fn crossfire_crowd_cap1_sync_stall_check() {
        for round in 0..100 {
            let (done_tx, done_rx) = std::sync::mpsc::channel();
            std::thread::spawn(move || {
                run::<xf::MpmcArray, usize>(Shape::mpmc(16), Some(1), 50_000);
                let _ = done_tx.send(());
            });
            assert!(
                done_rx.recv_timeout(Duration::from_secs(60)).is_ok(),
                "round {round} stalled"
            );
        }
    }
}
