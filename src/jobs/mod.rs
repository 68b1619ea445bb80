//! Periodic jobs (purges, metadata refresh) that must run in one process at
//! a time, however many `seatgate serve` processes share the database: each
//! process ticks, and the one that takes the job's lease runs it. The lease
//! lasts most of the interval, so the job also runs about once per interval
//! in the whole deployment, not once per process. Works the same on SQLite
//! and PostgreSQL (one conditional UPDATE), so no advisory lock is needed.

mod queries;

use std::future::Future;
use std::sync::OnceLock;
use std::time::Duration;

use chrono::TimeDelta;

use crate::clock::Clock;
use crate::store::{self, DbConn, Store};

pub use queries::Run;

/// This process among the lease holders: its pid and a random part, so a
/// restarted process with a reused pid is another holder.
pub fn holder() -> &'static str {
    static HOLDER: OnceLock<String> = OnceLock::new();
    HOLDER.get_or_init(|| {
        format!(
            "pid {} ({})",
            std::process::id(),
            &uuid::Uuid::new_v4().simple().to_string()[..8]
        )
    })
}

/// The lease taken for a run: nine tenths of the interval, so the next
/// tick of any process after it can take the job again.
fn lease(interval: Duration) -> TimeDelta {
    TimeDelta::from_std(interval * 9 / 10).unwrap_or(TimeDelta::MAX)
}

/// Runs `work` now if this process takes the job's lease; false when
/// another process holds it. The run and how it ended are recorded.
pub async fn run_if_free<F, Fut>(
    store: &Store,
    clock: &Clock,
    name: &'static str,
    interval: Duration,
    work: F,
) -> Result<bool, store::Error>
where
    F: FnOnce() -> Fut,
    Fut: Future<Output = Result<(), String>>,
{
    let now = clock.now_naive();
    let until = now + lease(interval);
    let id = uuid::Uuid::now_v7().to_string();
    let run = id.clone();
    let taken = store
        .run(move |conn| {
            let taken = queries::take_lease(conn, name, holder(), now, until)?;
            if taken {
                queries::start_run(conn, &run, name, holder(), now)?;
            }
            Ok::<_, store::Error>(taken)
        })
        .await?;
    if !taken {
        return Ok(false);
    }
    let failure = work().await.err();
    crate::metrics::get().job_run(name, failure.is_some());
    if let Some(reason) = &failure {
        tracing::warn!(job = name, reason = %reason, "periodic job failed");
    }
    let finished = clock.now_naive();
    store
        .run(move |conn| queries::finish_run(conn, &id, finished, failure.as_deref()))
        .await?;
    Ok(true)
}

/// Ticks every `interval` and runs the job when this process takes its lease.
pub fn spawn<F, Fut>(store: Store, clock: Clock, name: &'static str, interval: Duration, work: F)
where
    F: Fn() -> Fut + 'static,
    Fut: Future<Output = Result<(), String>>,
{
    actix_web::rt::spawn(async move {
        let mut ticks = actix_web::rt::time::interval(interval);
        loop {
            ticks.tick().await;
            if let Err(e) = run_if_free(&store, &clock, name, interval, &work).await {
                tracing::warn!(job = name, reason = %e, "periodic job could not take its lease");
            }
        }
    });
}

/// The recorded runs of a job, oldest first.
pub fn runs(conn: &mut DbConn, name: &str) -> Result<Vec<Run>, store::Error> {
    queries::runs(conn, name)
}

/// Removes the records of runs started a week ago or more.
pub fn purge_runs(conn: &mut DbConn, now: chrono::NaiveDateTime) -> Result<usize, store::Error> {
    queries::purge_runs(conn, now - TimeDelta::days(7))
}
