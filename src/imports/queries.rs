//! Queries on the `imports` table.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::files::{Download, ImportFile, Phase};
use super::{Counts, Outcome, Record, Request};
use crate::audit::Actor;
use crate::ids::{ImportId, OrgId};
use crate::store::schema::{import_files, imports};
use crate::store::{DbConn, Error, decode};

pub(super) fn insert(
    conn: &mut DbConn,
    id: ImportId,
    request: &Request,
    now: NaiveDateTime,
) -> Result<(), Error> {
    // An interrupted console import applied again goes on under its record.
    let exists = imports::table
        .find(id.to_string())
        .count()
        .get_result::<i64>(conn)?
        > 0;
    if exists {
        return Ok(());
    }
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
                source: decode("import source", row.source)?,
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

pub(super) fn insert_file(
    conn: &mut DbConn,
    id: ImportId,
    org: OrgId,
    file_name: &str,
    actor: &Actor,
    now: NaiveDateTime,
    content: &[u8],
) -> Result<(), Error> {
    diesel::insert_into(import_files::table)
        .values((
            import_files::id.eq(id.to_string()),
            import_files::org_id.eq(org.to_string()),
            import_files::file_name.eq(file_name),
            import_files::uploaded_by.eq(actor.to_string()),
            import_files::uploaded_at.eq(now),
            import_files::phase.eq(Phase::Previewing.as_str()),
            import_files::content.eq(content),
            import_files::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

/// A file's columns but its contents (selected with whether it has a result).
#[derive(Queryable, Selectable)]
#[diesel(table_name = import_files)]
struct FileRow {
    id: String,
    file_name: String,
    uploaded_by: String,
    uploaded_at: NaiveDateTime,
    phase: String,
    rows_total: Option<i32>,
    rows_done: i32,
    outcome: Option<String>,
    send_invitations: bool,
    failure: Option<String>,
    updated_at: NaiveDateTime,
}

impl FileRow {
    fn into_file(self, has_result: bool) -> Result<ImportFile, Error> {
        Ok(ImportFile {
            id: decode("import id", self.id)?,
            file_name: self.file_name,
            uploaded_by: decode("actor", self.uploaded_by)?,
            uploaded_at: self.uploaded_at,
            phase: decode("import phase", self.phase)?,
            rows_total: self.rows_total.map(|n| u64::try_from(n).unwrap_or(0)),
            rows_done: u64::try_from(self.rows_done).unwrap_or(0),
            tally: self
                .outcome
                .map(|t| decode("import tally", t))
                .transpose()?,
            send_invitations: self.send_invitations,
            failure: self.failure,
            updated_at: self.updated_at,
            has_result,
        })
    }
}

pub(super) fn file(
    conn: &mut DbConn,
    org: OrgId,
    id: ImportId,
) -> Result<Option<ImportFile>, Error> {
    import_files::table
        .find(id.to_string())
        .filter(import_files::org_id.eq(org.to_string()))
        .select((FileRow::as_select(), import_files::result.is_not_null()))
        .first::<(FileRow, bool)>(conn)
        .optional()?
        .map(|(row, has_result)| row.into_file(has_result))
        .transpose()
}

pub(super) fn pending_files(
    conn: &mut DbConn,
    org: OrgId,
    limit: i64,
) -> Result<Vec<ImportFile>, Error> {
    import_files::table
        .filter(import_files::org_id.eq(org.to_string()))
        .filter(import_files::phase.ne(Phase::Applied.as_str()))
        .order((import_files::uploaded_at.desc(), import_files::id))
        .limit(limit)
        .select((FileRow::as_select(), import_files::result.is_not_null()))
        .load::<(FileRow, bool)>(conn)?
        .into_iter()
        .map(|(row, has_result)| row.into_file(has_result))
        .collect()
}

pub(super) fn files_with_results(
    conn: &mut DbConn,
    org: OrgId,
    ids: &[ImportId],
) -> Result<Vec<ImportId>, Error> {
    import_files::table
        .filter(import_files::org_id.eq(org.to_string()))
        .filter(import_files::id.eq_any(ids.iter().map(ToString::to_string)))
        .filter(import_files::result.is_not_null())
        .select(import_files::id)
        .load::<String>(conn)?
        .into_iter()
        .map(|id| decode("import id", id))
        .collect()
}

pub(super) fn file_content(conn: &mut DbConn, id: ImportId) -> Result<Vec<u8>, Error> {
    Ok(import_files::table
        .find(id.to_string())
        .select(import_files::content)
        .first(conn)?)
}

pub(super) fn file_output(
    conn: &mut DbConn,
    id: ImportId,
    which: Download,
) -> Result<Option<Vec<u8>>, Error> {
    let found = import_files::table.find(id.to_string());
    Ok(match which {
        Download::Preview => found.select(import_files::preview).first(conn)?,
        Download::Result => found.select(import_files::result).first(conn)?,
    })
}

pub(super) fn file_progress(
    conn: &mut DbConn,
    id: ImportId,
    now: NaiveDateTime,
    rows: u64,
) -> Result<(), Error> {
    diesel::update(import_files::table.find(id.to_string()))
        .set((
            import_files::rows_done.eq(i32::try_from(rows).unwrap_or(i32::MAX)),
            import_files::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

pub(super) fn file_previewed(
    conn: &mut DbConn,
    id: ImportId,
    now: NaiveDateTime,
    rows: u64,
    tally: &str,
    preview: &[u8],
) -> Result<(), Error> {
    let rows = i32::try_from(rows).unwrap_or(i32::MAX);
    diesel::update(
        import_files::table
            .find(id.to_string())
            .filter(import_files::phase.eq(Phase::Previewing.as_str())),
    )
    .set((
        import_files::phase.eq(Phase::Previewed.as_str()),
        import_files::rows_total.eq(rows),
        import_files::rows_done.eq(rows),
        import_files::outcome.eq(tally),
        import_files::preview.eq(preview),
        import_files::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(())
}

/// Restarts a preview that stopped beating before `stale_before`.
pub(super) fn file_restart_preview(
    conn: &mut DbConn,
    id: ImportId,
    now: NaiveDateTime,
    stale_before: NaiveDateTime,
) -> Result<bool, Error> {
    let changed = diesel::update(
        import_files::table
            .find(id.to_string())
            .filter(import_files::phase.eq(Phase::Previewing.as_str()))
            .filter(import_files::updated_at.lt(stale_before)),
    )
    .set((
        import_files::rows_done.eq(0),
        import_files::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Moves a previewed file, or one whose apply stopped beating before
/// `stale_before`, to applying; false when it was in neither state (for
/// example, someone else pressed Apply first).
pub(super) fn file_start_apply(
    conn: &mut DbConn,
    id: ImportId,
    now: NaiveDateTime,
    stale_before: NaiveDateTime,
    send_invitations: bool,
) -> Result<bool, Error> {
    let changed = diesel::update(
        import_files::table.find(id.to_string()).filter(
            import_files::phase
                .eq(Phase::Previewed.as_str())
                .or(import_files::phase
                    .eq(Phase::Applying.as_str())
                    .and(import_files::updated_at.lt(stale_before))),
        ),
    )
    .set((
        import_files::phase.eq(Phase::Applying.as_str()),
        import_files::rows_done.eq(0),
        import_files::send_invitations.eq(send_invitations),
        import_files::updated_at.eq(now),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// An applied file keeps its result; its contents and preview are dropped.
pub(super) fn file_applied(
    conn: &mut DbConn,
    id: ImportId,
    now: NaiveDateTime,
    rows: u64,
    tally: &str,
    result: &[u8],
) -> Result<(), Error> {
    let rows = i32::try_from(rows).unwrap_or(i32::MAX);
    diesel::update(import_files::table.find(id.to_string()))
        .set((
            import_files::phase.eq(Phase::Applied.as_str()),
            import_files::rows_total.eq(rows),
            import_files::rows_done.eq(rows),
            import_files::outcome.eq(tally),
            import_files::result.eq(result),
            import_files::content.eq(Vec::<u8>::new()),
            import_files::preview.eq(None::<Vec<u8>>),
            import_files::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

pub(super) fn file_failed(
    conn: &mut DbConn,
    id: ImportId,
    now: NaiveDateTime,
    failure: &str,
    result: Option<&[u8]>,
) -> Result<(), Error> {
    diesel::update(import_files::table.find(id.to_string()))
        .set((
            import_files::phase.eq(Phase::Failed.as_str()),
            import_files::failure.eq(failure),
            import_files::result.eq(result),
            import_files::updated_at.eq(now),
        ))
        .execute(conn)?;
    Ok(())
}

pub(super) fn delete_file(conn: &mut DbConn, id: ImportId) -> Result<(), Error> {
    diesel::delete(import_files::table.find(id.to_string())).execute(conn)?;
    Ok(())
}
