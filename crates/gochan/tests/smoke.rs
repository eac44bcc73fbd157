use std::thread;
use std::time::Duration;

#[test]
fn unbuffered_pingpong() {
    let (tx, rx) = gochan::bounded::<u64>(0);
    let (tx2, rx2) = gochan::bounded::<u64>(0);
    let h = thread::spawn(move || {
        for v in rx.iter() {
            tx2.send(v + 1).unwrap();
        }
    });
    for i in 0..10_000 {
        tx.send(i).unwrap();
        assert_eq!(rx2.recv(), Ok(i + 1));
    }
    drop(tx);
    h.join().unwrap();
}

#[test]
fn select_basic() {
    let (tx, rx) = gochan::bounded::<i32>(0);
    let (tx2, rx2) = gochan::bounded::<i32>(0);
    let h = thread::spawn(move || {
        tx.send(1).unwrap();
        rx2.recv().unwrap()
    });
    let mut got = 0;
    for _ in 0..2 {
        gochan::select! {
            recv(rx) -> v => got += v.unwrap(),
            send(tx2, 5) -> r => r.unwrap(),
            recv(gochan::after(Duration::from_secs(5))) -> _ => panic!("timeout"),
        }
    }
    assert_eq!(got, 1);
    assert_eq!(h.join().unwrap(), 5);
}

#[test]
fn async_roundtrip() {
    let (tx, rx) = gochan::bounded::<i32>(0);
    let h = thread::spawn(move || {
        for i in 0..1000 {
            tx.send(i).unwrap();
        }
    });
    let sum = futures::executor::block_on(async {
        let mut s = 0;
        while let Ok(v) = rx.recv_async().await {
            s += v;
        }
        s
    });
    assert_eq!(sum, 499500);
    h.join().unwrap();
}
