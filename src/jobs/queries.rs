//! Queries on job leases and runs.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::store::schema::{job_leases, job_runs};
use crate::store::{DbConn, Error, unique};

/// Takes the lease of `name` until `until` if it is free at `now` (or was
/// never taken): one conditional UPDATE, so of two processes at once
/// exactly one wins.
pub(super) fn take_lease(
    conn: &mut DbConn,
    name: &str,
    holder: &str,
    now: NaiveDateTime,
    until: NaiveDateTime,
) -> Result<bool, Error> {
    // The first run anywhere makes the row; a process that loses that race
    // goes on to the UPDATE like everyone else.
    match diesel::insert_into(job_leases::table)
        .values((
            job_leases::name.eq(name),
            job_leases::holder.eq(""),
            job_leases::until.eq(now),
        ))
        .execute(conn)
        .map_err(unique)
    {
        Ok(_) | Err(Error::Duplicate) => {}
        Err(other) => return Err(other),
    }
    let taken = diesel::update(
        job_leases::table
            .find(name)
            .filter(job_leases::until.le(now)),
    )
    .set((job_leases::holder.eq(holder), job_leases::until.eq(until)))
    .execute(conn)?;
    Ok(taken == 1)
}

pub(super) fn start_run(
    conn: &mut DbConn,
    id: &str,
    name: &str,
    holder: &str,
    now: NaiveDateTime,
) -> Result<(), Error> {
    diesel::insert_into(job_runs::table)
        .values((
            job_runs::id.eq(id),
            job_runs::name.eq(name),
            job_runs::holder.eq(holder),
            job_runs::started_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

pub(super) fn finish_run(
    conn: &mut DbConn,
    id: &str,
    now: NaiveDateTime,
    failure: Option<&str>,
) -> Result<(), Error> {
    diesel::update(job_runs::table.find(id))
        .set((job_runs::finished_at.eq(now), job_runs::failure.eq(failure)))
        .execute(conn)?;
    Ok(())
}

/// A run as listed.
#[derive(Debug, Queryable)]
pub struct Run {
    pub name: String,
    pub holder: String,
    pub started_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
    pub failure: Option<String>,
}

pub(super) fn runs(conn: &mut DbConn, name: &str) -> Result<Vec<Run>, Error> {
    Ok(job_runs::table
        .filter(job_runs::name.eq(name))
        .order(job_runs::started_at)
        .select((
            job_runs::name,
            job_runs::holder,
            job_runs::started_at,
            job_runs::finished_at,
            job_runs::failure,
        ))
        .load(conn)?)
}

pub(super) fn purge_runs(conn: &mut DbConn, before: NaiveDateTime) -> Result<usize, Error> {
    Ok(diesel::delete(job_runs::table.filter(job_runs::started_at.lt(before))).execute(conn)?)
}
