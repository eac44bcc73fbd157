//! The `select!` family accepts the spellings users write: references, temporaries
//! (`ctx.done()`, `after(d)`), indexing, arms without `-> res`, block and expression
//! bodies, `break`/`continue`/`return` out of arms.

use std::time::Duration;

use gochan::context;

#[test]
fn references_temporaries_and_indexing() {
    let (tx, rx) = gochan::bounded::<i32>(1);
    let chans: Vec<_> = (0..3).map(|_| gochan::bounded::<i32>(1)).collect();
    let (ctx, _cancel) = context::with_cancel(&context::background());
    tx.send(1).unwrap();
    let got = gochan::select! {
        recv(&rx) -> v => v.unwrap(),
        recv(chans[1].1) -> _ => unreachable!(),
        recv(ctx.done()) -> _ => unreachable!(),
        recv(gochan::after(Duration::from_secs(5))) -> _ => unreachable!(),
    };
    assert_eq!(got, 1);
    gochan::select! {
        send(&chans[2].0, 7) -> r => r.unwrap(),
        default => unreachable!(),
    }
    assert_eq!(chans[2].1.recv(), Ok(7));
}

#[test]
fn arms_without_result_and_control_flow() {
    let (tx, rx) = gochan::bounded::<i32>(3);
    for i in 0..3 {
        tx.send(i).unwrap();
    }
    drop(tx);
    let mut seen = Vec::new();
    loop {
        gochan::select! {
            recv(rx) -> v => {
                match v {
                    Ok(1) => continue,
                    Ok(v) => seen.push(v),
                    Err(_) => break,
                }
            }
        }
    }
    assert_eq!(seen, [0, 2]);

    #[allow(clippy::needless_return)] // the point: `return` from inside an arm
    fn first_or_none(rx: &gochan::Receiver<i32>) -> Option<i32> {
        gochan::select! {
            recv(rx) -> v => return v.ok(),
            default => None,
        }
    }
    assert_eq!(first_or_none(&gochan::never()), None);

    let (tx2, rx2) = gochan::bounded::<()>(1);
    tx2.send(()).unwrap();
    let mut hit = false;
    gochan::select! {
        recv(rx2) => hit = true,
        default(Duration::from_millis(1)) => {}
    }
    assert!(hit);
}

#[test]
fn async_select_in_spawned_tokio_task() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (tx, rx) = gochan::bounded::<String>(0);
        let (ctx, cancel) = context::with_cancel(&context::background());
        let task = tokio::spawn(async move {
            let mut got = Vec::new();
            loop {
                gochan::select_async! {
                    recv(rx) -> v => match v {
                        Ok(s) => got.push(s),
                        Err(_) => break,
                    },
                    recv(ctx.done()) -> _ => break,
                }
            }
            got
        });
        tx.send_async("a".into()).await.unwrap();
        tx.send_async("b".into()).await.unwrap();
        cancel.cancel();
        assert_eq!(task.await.unwrap(), ["a", "b"]);
    });
}
