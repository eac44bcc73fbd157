//! Plain channel workloads as tasks on a 2-worker tokio runtime: seq, spsc, mpsc (4:1),
//! mpmc (4:4) and the contention rows (mpmc 16:16 and 64:64), for gochan
//! (`send_async`/`recv_async`), tokio::sync::mpsc, async-channel, flume, kanal and
//! crossfire.

use std::time::Instant;

use super::flavors::{xf, AsyncChannel, AsyncFlavor, FlumeAsync, GochanAsync, KanalAsync, Tokio};
use super::sync::{Shape, CROWDS, CROWD_CAPS};
use super::{run_tasks, share, CheckTask, Config, Task, CAPS, SEQ_BATCH};
use crate::harness::{Case, Check, Env, Msg, Outcome};

pub fn seq<F: AsyncFlavor, M: Msg>(env: &Env, cap: Option<usize>, n: usize) -> Outcome {
    env.rt.block_on(async move {
        let (tx, mut rx) = F::chan::<M>(cap);
        let task = tokio::spawn(async move {
            let start = Instant::now();
            let mut check = Check::default();
            let mut next = 1u64;
            while next <= n as u64 {
                let end = (next + SEQ_BATCH as u64 - 1).min(n as u64);
                for i in next..=end {
                    F::send(&tx, M::make(i)).await;
                }
                for _ in next..=end {
                    check.add(F::recv(&mut rx).await.expect("seq: message missing"));
                }
                next = end + 1;
            }
            Outcome::time(start, check)
        });
        task.await.expect("seq task panicked")
    })
}

pub fn pipes<F: AsyncFlavor, M: Msg>(
    env: &Env,
    cap: Option<usize>,
    n: usize,
    senders: usize,
    receivers: usize,
) -> Outcome {
    let (tx, rx) = F::chan::<M>(cap);
    // As in the sync workload: the last party of each side takes the original end.
    let mut tx = Some(tx);
    let producers: Vec<Task> = (0..senders)
        .map(|k| {
            let tx = if k + 1 == senders {
                tx.take().unwrap()
            } else {
                F::clone_tx(tx.as_ref().unwrap())
            };
            Box::pin(async move {
                for i in share(n, senders, k) {
                    F::send(&tx, M::make(i)).await;
                }
            }) as Task
        })
        .collect();
    let mut rx = Some(rx);
    let consumers: Vec<CheckTask> = (0..receivers)
        .map(|k| {
            let mut rx = if k + 1 == receivers {
                rx.take().unwrap()
            } else {
                F::clone_rx(rx.as_ref().unwrap())
            };
            Box::pin(async move {
                let mut c = Check::default();
                while let Some(m) = F::recv(&mut rx).await {
                    c.add(m);
                }
                c
            }) as CheckTask
        })
        .collect();
    run_tasks(env, producers, consumers)
}

pub fn run<F: AsyncFlavor, M: Msg>(
    env: &Env,
    shape: Shape,
    cap: Option<usize>,
    n: usize,
) -> Outcome {
    match shape {
        Shape::Seq => seq::<F, M>(env, cap, n),
        Shape::Pipes { senders, receivers } => pipes::<F, M>(env, cap, n, senders, receivers),
    }
}

fn add<F: AsyncFlavor, M: Msg>(case: &mut Case, shape: Shape, cap: Option<usize>) {
    if (cap == Some(0) && !F::CAP0) || (shape.multi_consumer() && !F::MPMC) {
        return;
    }
    case.add(F::NAME, move |env, n| run::<F, M>(env, shape, cap, n));
}

/// crossfire in the module that matches the shape, as in the sync cells.
fn add_crossfire<M: Msg>(case: &mut Case, shape: Shape, cap: Option<usize>) {
    let (senders, receivers) = shape.parties();
    match (senders > 1, receivers > 1, cap.is_some()) {
        (false, false, true) => add::<xf::SpscArrayAsync, M>(case, shape, cap),
        (false, false, false) => add::<xf::SpscListAsync, M>(case, shape, cap),
        (true, false, true) => add::<xf::MpscArrayAsync, M>(case, shape, cap),
        (true, false, false) => add::<xf::MpscListAsync, M>(case, shape, cap),
        (_, true, true) => add::<xf::MpmcArrayAsync, M>(case, shape, cap),
        (_, true, false) => add::<xf::MpmcListAsync, M>(case, shape, cap),
    }
}

/// The async cell of `shape` at `cap` with message type `M`.
pub fn case<M: Msg>(cfg: &Config, shape: Shape, cap: Option<usize>) -> Case {
    let mut case = Case::new::<M>(shape.name(), cap, "async", cfg.n(cap));
    add::<GochanAsync, M>(&mut case, shape, cap);
    add::<Tokio, M>(&mut case, shape, cap);
    add::<AsyncChannel, M>(&mut case, shape, cap);
    add::<FlumeAsync, M>(&mut case, shape, cap);
    add::<KanalAsync, M>(&mut case, shape, cap);
    add_crossfire::<M>(&mut case, shape, cap);
    case
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
