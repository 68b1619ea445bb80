//! Queries on the `imports` table.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::{Counts, Outcome, Record, Request};
use crate::ids::{ImportId, OrgId};
use crate::store::schema::imports;
use crate::store::{DbConn, Error, decode};

pub(super) fn insert(
    conn: &mut DbConn,
    id: ImportId,
    request: &Request,
    now: NaiveDateTime,
) -> Result<(), Error> {
    diesel::insert_into(imports::table)
        .values((
            imports::id.eq(id.to_string()),
            imports::org_id.eq(request.org.id.to_string()),
            imports::source.eq(request.source.as_str()),
            imports::file_name.eq(request.file_name),
            imports::started_by.eq(request.actor.to_string()),
            imports::started_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

fn count(counts: &Counts, outcome: Outcome) -> i32 {
    i32::try_from(counts.of(outcome)).unwrap_or(i32::MAX)
}

pub(super) fn finish(
    conn: &mut DbConn,
    id: ImportId,
    now: NaiveDateTime,
    counts: &Counts,
    failure: Option<&str>,
) -> Result<(), Error> {
    diesel::update(imports::table.find(id.to_string()))
        .set((
            imports::finished_at.eq(now),
            imports::created.eq(count(counts, Outcome::Create)),
            imports::updated.eq(count(counts, Outcome::Update)),
            imports::assigned.eq(count(counts, Outcome::Assign)),
            imports::revoked.eq(count(counts, Outcome::Revoke)),
            imports::removed.eq(count(counts, Outcome::Remove)),
            imports::unchanged.eq(count(counts, Outcome::Unchanged)),
            imports::no_seat.eq(count(counts, Outcome::NoSeatFree)),
            imports::refused.eq(count(counts, Outcome::Refused)),
            imports::failure.eq(failure),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = imports)]
struct ImportRow {
    id: String,
    source: String,
    file_name: String,
    started_by: String,
    started_at: NaiveDateTime,
    finished_at: Option<NaiveDateTime>,
    created: i32,
    updated: i32,
    assigned: i32,
    revoked: i32,
    removed: i32,
    unchanged: i32,
    no_seat: i32,
    refused: i32,
    failure: Option<String>,
}

pub(super) fn recent(conn: &mut DbConn, org: OrgId, limit: i64) -> Result<Vec<Record>, Error> {
    imports::table
        .filter(imports::org_id.eq(org.to_string()))
        .order((imports::started_at.desc(), imports::id))
        .limit(limit)
        .select(ImportRow::as_select())
        .load(conn)?
        .into_iter()
        .map(|row| {
            let mut counts = Counts::default();
            for (outcome, n) in [
                (Outcome::Create, row.created),
                (Outcome::Update, row.updated),
                (Outcome::Assign, row.assigned),
                (Outcome::Revoke, row.revoked),
                (Outcome::Remove, row.removed),
                (Outcome::Unchanged, row.unchanged),
                (Outcome::NoSeatFree, row.no_seat),
                (Outcome::Refused, row.refused),
            ] {
                counts.set(outcome, u64::try_from(n).unwrap_or(0));
            }
            Ok(Record {
                id: decode("import id", row.id)?,
                source: row.source,
                file_name: row.file_name,
                started_by: decode("actor", row.started_by)?,
                started_at: row.started_at,
                finished_at: row.finished_at,
                counts,
                failure: row.failure,
            })
        })
        .collect()
}
