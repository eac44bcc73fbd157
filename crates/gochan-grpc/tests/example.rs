//! Runs the `search_grpc` example's demo (the file itself, compiled as a module) and checks
//! what it shows: deadlines and request ids travel from the caller through the front end
//! to every backend, and a call whose deadline passes stops the slow backend's work.

#[allow(dead_code)]
#[path = "../examples/search_grpc.rs"]
mod search_grpc;

use std::time::Duration;

use search_grpc::{Config, Outcome};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_search_example_demo() {
    let app = search_grpc::start(Config::default()).await.unwrap();
    let queries = search_grpc::demo(&app).await;
    let report = search_grpc::render(&app, &queries);
    eprintln!("{report}");
    assert_eq!(queries.len(), 2);

    // No deadline from the caller: the front end's 1 s cap applies, every backend answers.
    let q = &queries[0];
    let resp = q.result.as_ref().expect("the first query succeeds");
    let want: Vec<String> = ["web", "images", "video"]
        .iter()
        .flat_map(|b| (1..=3).map(move |i| format!("golang - {b} result {i}")))
        .collect();
    assert_eq!(
        resp.results, want,
        "every backend's results, in backend order"
    );
    assert_eq!(resp.request_id, "demo-1");
    let front_budget = resp.budget_us.expect("the front end's cap gave a deadline");
    assert!(front_budget <= 1_000_000, "{front_budget}");
    assert_eq!(resp.hop_budgets_us.len(), 3);
    for hop in &resp.hop_budgets_us {
        assert!(
            *hop <= front_budget,
            "a backend had no more than the front end"
        );
    }
    assert_eq!(q.events.len(), 3, "{:?}", q.events);
    for e in &q.events {
        assert_eq!(e.outcome, Outcome::Answered, "{e:?}");
        assert_eq!(e.request_id, "demo-1", "the request id travels");
        assert!(
            e.budget.is_some_and(|b| b <= Duration::from_secs(1)),
            "{e:?}"
        );
    }

    // 100 ms for a query the video backend needs 400 ms for.
    let q = &queries[1];
    let err = q
        .result
        .as_ref()
        .expect_err("the second query runs out of time");
    assert_eq!(err.code(), tonic::Code::DeadlineExceeded, "{err:?}");
    assert!(q.elapsed < Duration::from_millis(400), "{:?}", q.elapsed);
    let video = q
        .events
        .iter()
        .find(|e| e.backend == "video")
        .expect("the video backend reports");
    assert_eq!(video.request_id, "demo-2");
    assert!(
        video
            .budget
            .is_some_and(|b| b <= Duration::from_millis(100)),
        "the caller's 100 ms reached the backend: {video:?}"
    );
    match &video.outcome {
        // Its own deadline, or the front end's call being dropped (stream reset) first.
        Outcome::Stopped { err, .. } => assert!(
            matches!(
                err,
                gochan::context::Error::DeadlineExceeded | gochan::context::Error::Canceled
            ),
            "{err:?}"
        ),
        Outcome::Answered => panic!("the video backend ran to its end: {video:?}"),
    }
    assert!(video.after < Duration::from_millis(400), "{video:?}");
    assert!(report.contains("DeadlineExceeded"), "{report}");
    assert!(report.contains("saw its context end"), "{report}");

    // Nothing is left running.
    assert_eq!(app.journal.running(), 0);
    assert!(
        report.ends_with("backend work still running: 0\n"),
        "{report}"
    );
}
