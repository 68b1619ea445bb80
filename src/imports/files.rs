//! Files uploaded in the console for import. An upload is kept with its
//! dry-run preview until someone applies it; the preview and the apply each
//! run as a job off the request ([`preview`], [`apply`]) that records its
//! progress as it goes, so the page may be closed and opened again, by any
//! of the organization's administrators. A file shares its id with the
//! import it becomes, and keeps that import's results to download.

use std::collections::BTreeMap;
use std::str::FromStr;
use std::time::{Duration, Instant};

use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};

use super::{Error, Invitations, Outcome, Report, Request, RowResult, Source, format, queries};
use crate::accounts::Email;
use crate::audit::Actor;
use crate::clock::Clock;
use crate::config::BaseUrl;
use crate::ids::ImportId;
use crate::mail::Mailer;
use crate::orgs::Organization;
use crate::store::{self, DbConn, Store};

/// A job whose progress is older than this has stopped: its process ended
/// (a deploy, a crash). It may be started again: imports are idempotent.
pub const STALE: chrono::TimeDelta = chrono::TimeDelta::minutes(2);
/// Progress is written at most this often (each write is a transaction).
const BEAT: Duration = Duration::from_secs(1);
/// A stored name is cut to this many characters.
const MAX_NAME: usize = 200;

/// Where an uploaded file stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// The dry run is reading it.
    Previewing,
    /// The preview is ready; nothing has changed yet.
    Previewed,
    Applying,
    Applied,
    /// The file as a whole could not be read or applied: `failure` says why.
    Failed,
}

impl Phase {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Previewing => "previewing",
            Self::Previewed => "previewed",
            Self::Applying => "applying",
            Self::Applied => "applied",
            Self::Failed => "failed",
        }
    }
}

impl FromStr for Phase {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        [
            Self::Previewing,
            Self::Previewed,
            Self::Applying,
            Self::Applied,
            Self::Failed,
        ]
        .into_iter()
        .find(|p| p.as_str() == text)
        .ok_or(())
    }
}

/// What a preview or an apply came to.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Tally {
    /// Rows by outcome (as written in result files).
    pub counts: BTreeMap<String, u64>,
    /// Free seats by license type after the file.
    pub seats_free: BTreeMap<String, i64>,
    /// Activation emails, when they were asked for.
    pub invitations: Option<(usize, usize)>,
}

impl Tally {
    fn new(summary: &super::Summary) -> Self {
        Self {
            counts: Outcome::ALL
                .iter()
                .filter(|&&o| summary.counts.of(o) > 0)
                .map(|&o| (o.as_str().to_owned(), summary.counts.of(o)))
                .collect(),
            seats_free: summary
                .seats_free
                .iter()
                .map(|(t, n)| (t.to_string(), *n))
                .collect(),
            invitations: None,
        }
    }

    pub fn of(&self, outcome: Outcome) -> u64 {
        self.counts.get(outcome.as_str()).copied().unwrap_or(0)
    }
}

/// An uploaded file, without its contents.
#[derive(Clone, Debug)]
pub struct ImportFile {
    pub id: ImportId,
    pub file_name: String,
    pub uploaded_by: Actor,
    pub uploaded_at: NaiveDateTime,
    pub phase: Phase,
    /// Known once previewed.
    pub rows_total: Option<u64>,
    /// Rows the current job has done.
    pub rows_done: u64,
    /// The preview's, then the applied import's.
    pub tally: Option<Tally>,
    pub send_invitations: bool,
    pub failure: Option<String>,
    /// The job's last sign of life.
    pub updated_at: NaiveDateTime,
    pub has_result: bool,
}

impl ImportFile {
    /// Whether a job is on it and has stopped recording progress.
    pub fn interrupted(&self, now: NaiveDateTime) -> bool {
        matches!(self.phase, Phase::Previewing | Phase::Applying) && now - self.updated_at > STALE
    }

    /// Whether a job is on it right now.
    pub fn working(&self, now: NaiveDateTime) -> bool {
        matches!(self.phase, Phase::Previewing | Phase::Applying) && !self.interrupted(now)
    }
}

/// Stores an uploaded file for its preview, once the cheap checks pass
/// (size, text, a header of our columns): a file refused here leaves no
/// trace. The preview itself is [`preview`]'s job.
pub fn upload(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    org: &Organization,
    file_name: &str,
    content: Vec<u8>,
) -> Result<ImportId, Error> {
    if content.len() as u64 > format::MAX_BYTES {
        return Err(format::FileError::TooLarge.into());
    }
    format::Reader::new(content.as_slice())?;
    let id = ImportId::generate();
    let name: String = file_name.chars().take(MAX_NAME).collect();
    queries::insert_file(conn, id, org.id, &name, actor, clock.now_naive(), &content)?;
    Ok(id)
}

/// The job that previews an uploaded file: a dry run of every row, its
/// results kept to show and download.
pub fn preview(
    store: &Store,
    clock: &Clock,
    org: &Organization,
    id: ImportId,
) -> Result<(), Error> {
    let mut conn = store.connection()?;
    let file = find(&mut conn, org, id)?;
    let content = queries::file_content(&mut conn, id)?;
    let mut report = JobReport::new(id, clock, None);
    let request = Request {
        import: id,
        clock,
        actor: &file.uploaded_by,
        org,
        source: Source::Console,
        file_name: &file.file_name,
        dry_run: true,
    };
    let ran = super::run(&mut conn, &request, content.as_slice(), &mut report);
    let now = clock.now_naive();
    let output = report.finish()?;
    match ran {
        Ok(summary) => queries::file_previewed(
            &mut conn,
            id,
            now,
            summary.counts.rows(),
            &encode(&Tally::new(&summary)),
            &output,
        )?,
        Err(e) => {
            tracing::info!(import = %id, reason = %e, "import preview failed");
            queries::file_failed(&mut conn, id, now, &e.to_string(), None)?;
        }
    }
    Ok(())
}

/// Marks a file whose preview was interrupted as being previewed again,
/// for [`preview`] to run.
pub fn start_preview_again(
    conn: &mut DbConn,
    clock: &Clock,
    org: &Organization,
    id: ImportId,
) -> Result<(), Error> {
    let file = find(conn, org, id)?;
    let now = clock.now_naive();
    if !queries::file_restart_preview(conn, id, now, now - STALE)? {
        return Err(Error::NotReady(file.phase));
    }
    Ok(())
}

/// Marks a previewed file (or one whose apply was interrupted) as being
/// applied, for [`apply`] to run; refused in any other phase, also when two
/// people press Apply at once.
pub fn start_apply(
    conn: &mut DbConn,
    clock: &Clock,
    org: &Organization,
    id: ImportId,
    send_invitations: bool,
) -> Result<(), Error> {
    let file = find(conn, org, id)?;
    let now = clock.now_naive();
    if !queries::file_start_apply(conn, id, now, now - STALE, send_invitations)? {
        return Err(Error::NotReady(file.phase));
    }
    Ok(())
}

/// How to email activation links to the learners an import creates.
pub struct Mail<'a> {
    pub mailer: &'a Mailer,
    pub base_url: &'a BaseUrl,
}

/// The job that applies a file [`start_apply`] marked, as `actor` (who
/// pressed Apply); then invites the learners it created when that was asked
/// for and `mail` is configured.
pub fn apply(
    store: &Store,
    clock: &Clock,
    actor: &Actor,
    org: &Organization,
    mail: Option<Mail<'_>>,
    id: ImportId,
) -> Result<(), Error> {
    let mut conn = store.connection()?;
    let file = find(&mut conn, org, id)?;
    let content = queries::file_content(&mut conn, id)?;
    let mail = mail.filter(|_| file.send_invitations);
    let mut report = JobReport::new(id, clock, mail.as_ref().map(|_| Vec::new()));
    let request = Request {
        import: id,
        clock,
        actor,
        org,
        source: Source::Console,
        file_name: &file.file_name,
        dry_run: false,
    };
    let ran = super::run(&mut conn, &request, content.as_slice(), &mut report);
    let created = report.created.take().unwrap_or_default();
    let output = report.finish()?;
    match ran {
        Ok(summary) => {
            let mut tally = Tally::new(&summary);
            if let Some(mail) = &mail {
                let invited = super::invite(
                    &mut conn,
                    clock,
                    actor,
                    mail.base_url,
                    org,
                    mail.mailer,
                    &created,
                );
                // The rows are applied whatever became of the emails: the
                // import is recorded as done, and the page says how many
                // learners still need an invitation.
                tally.invitations = Some(match invited {
                    Ok(Invitations { sent, failed }) => (sent, failed),
                    Err(e) => {
                        tracing::error!(import = %id, reason = %e, "activation emails not sent");
                        (0, created.len())
                    }
                });
            }
            queries::file_applied(
                &mut conn,
                id,
                clock.now_naive(),
                summary.counts.rows(),
                &encode(&tally),
                &output,
            )?;
        }
        Err(e) => {
            tracing::warn!(import = %id, reason = %e, "import failed");
            // The rows before the failure were applied: their results stay.
            queries::file_failed(
                &mut conn,
                id,
                clock.now_naive(),
                &e.to_string(),
                Some(&output),
            )?;
        }
    }
    Ok(())
}

/// Deletes a file that is not being worked on and was not applied.
pub fn discard(
    conn: &mut DbConn,
    clock: &Clock,
    org: &Organization,
    id: ImportId,
) -> Result<(), Error> {
    let file = find(conn, org, id)?;
    if file.working(clock.now_naive()) || file.phase == Phase::Applied {
        return Err(Error::NotReady(file.phase));
    }
    queries::delete_file(conn, id)?;
    Ok(())
}

/// One of the organization's uploaded files.
pub fn find(conn: &mut DbConn, org: &Organization, id: ImportId) -> Result<ImportFile, Error> {
    queries::file(conn, org.id, id)?.ok_or(Error::NotFound)
}

/// The organization's files not yet applied, newest first.
pub fn pending(conn: &mut DbConn, org: &Organization) -> Result<Vec<ImportFile>, Error> {
    Ok(queries::pending_files(conn, org.id, 50)?)
}

/// Which of these imports have their results stored (those from the console).
pub fn with_results(
    conn: &mut DbConn,
    org: &Organization,
    ids: &[ImportId],
) -> Result<Vec<ImportId>, Error> {
    Ok(queries::files_with_results(conn, org.id, ids)?)
}

/// A stored CSV of a file: its preview, or the applied import's results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Download {
    Preview,
    Result,
}

pub fn download(
    conn: &mut DbConn,
    org: &Organization,
    id: ImportId,
    which: Download,
) -> Result<Vec<u8>, Error> {
    find(conn, org, id)?;
    queries::file_output(conn, id, which)?.ok_or(Error::NotFound)
}

/// The first `limit` rows of a stored results CSV, to show: its header and
/// rows as written (row number first, outcome and reason last).
pub fn rows(output: &[u8], limit: usize) -> (Vec<String>, Vec<Vec<String>>) {
    let mut reader = csv::ReaderBuilder::new().flexible(true).from_reader(output);
    let header = reader
        .headers()
        .map(|h| h.iter().map(str::to_owned).collect())
        .unwrap_or_default();
    let rows = reader
        .records()
        .take(limit)
        .filter_map(Result::ok)
        .map(|r| r.iter().map(str::to_owned).collect())
        .collect();
    (header, rows)
}

fn encode(tally: &Tally) -> String {
    serde_json::to_string(tally).unwrap_or_default()
}

/// As stored (JSON).
impl FromStr for Tally {
    type Err = serde_json::Error;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        serde_json::from_str(text)
    }
}

/// A job's report: the results CSV in memory (bounded by the file's size,
/// itself bounded), the learners created (to invite), and the progress
/// written to the file's record at most every [`BEAT`].
struct JobReport<'a> {
    id: ImportId,
    clock: &'a Clock,
    results: format::ResultWriter<Vec<u8>>,
    created: Option<Vec<Email>>,
    beat: Instant,
}

impl<'a> JobReport<'a> {
    fn new(id: ImportId, clock: &'a Clock, created: Option<Vec<Email>>) -> Self {
        Self {
            id,
            clock,
            results: format::ResultWriter::new(Vec::new()),
            created,
            beat: Instant::now(),
        }
    }

    fn finish(self) -> Result<Vec<u8>, Error> {
        self.results.finish().map_err(Error::Report)
    }
}

impl Report for JobReport<'_> {
    fn columns(&mut self, columns: &[format::Column]) -> std::io::Result<()> {
        self.results.header(columns)
    }

    fn row(&mut self, row: &RowResult) -> std::io::Result<()> {
        if let (Some(created), Outcome::Create, Some(email)) =
            (&mut self.created, row.outcome, &row.email)
        {
            created.push(email.clone());
        }
        Report::row(&mut self.results, row)
    }

    fn batch_done(&mut self, conn: &mut DbConn, rows: u64) -> Result<(), store::Error> {
        if self.beat.elapsed() >= BEAT {
            self.beat = Instant::now();
            queries::file_progress(conn, self.id, self.clock.now_naive(), rows)?;
        }
        Ok(())
    }
}
