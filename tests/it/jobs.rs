//! Periodic jobs run in one process at a time: the lease decides, on both
//! databases, in one process and across two `seatgate serve` processes.

use std::time::Duration;

use crate::common::{Backend, TestApp, TestDb};
use crate::licensing::start_server_with;
use crate::on_both_databases;

async fn a_job_runs_once_per_lease_and_records_how_it_ended(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let clock = app.clock.clock();
    let every = Duration::from_secs(600);
    let run = |outcome: Result<(), String>| {
        seatgate::jobs::run_if_free(&app.store, &clock, "test-job", every, move || async move {
            outcome
        })
    };
    assert!(run(Ok(())).await.expect("lease"), "the first tick runs it");
    assert!(!run(Ok(())).await.expect("lease"), "the lease is held");
    app.clock.advance(chrono::TimeDelta::seconds(539));
    assert!(
        !run(Ok(())).await.expect("lease"),
        "still held at 9/10 of the interval"
    );
    app.clock.advance(chrono::TimeDelta::seconds(1));
    assert!(
        run(Err("the IdP did not answer".into()))
            .await
            .expect("lease")
    );
    let runs = seatgate::jobs::runs(&mut app.store.connection().expect("connection"), "test-job")
        .expect("runs");
    assert_eq!(runs.len(), 2);
    assert!(runs.iter().all(|r| r.finished_at.is_some()));
    assert_eq!(runs[1].failure.as_deref(), Some("the IdP did not answer"));
}

/// Two processes ticking every second for a few seconds: housekeeping runs,
/// and never twice within one lease.
async fn two_processes_run_housekeeping_one_at_a_time(backend: Backend) {
    let db = TestDb::fresh(backend);
    let every = [("SEATGATE_HOUSEKEEPING_INTERVAL_SECONDS", "1")];
    let first = start_server_with(&db, "http://seatgate.test", &every).await;
    let second = start_server_with(&db, "http://seatgate.test", &every).await;
    actix_rt::time::sleep(Duration::from_secs(6)).await;
    drop((first, second));
    let store = seatgate::store::Store::connect(&db.url).expect("connect");
    let runs = seatgate::jobs::runs(&mut store.connection().expect("connection"), "housekeeping")
        .expect("runs");
    assert!(runs.len() >= 3, "housekeeping ran: {runs:?}");
    for pair in runs.windows(2) {
        let gap = pair[1].started_at - pair[0].started_at;
        assert!(
            gap >= chrono::TimeDelta::milliseconds(900),
            "two runs within one lease: {pair:?}"
        );
    }
    let holders: std::collections::BTreeSet<&str> =
        runs.iter().map(|r| r.holder.as_str()).collect();
    assert!(!holders.is_empty() && holders.len() <= 2, "{holders:?}");
}

on_both_databases!(
    a_job_runs_once_per_lease_and_records_how_it_ended,
    two_processes_run_housekeeping_one_at_a_time,
);
