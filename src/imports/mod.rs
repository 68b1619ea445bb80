//! Bulk changes from CSV files: learners added, licensed, revoked and
//! removed row by row, from the console, the command line or a drop folder.
//!
//! Each row is decided from what is stored ([`decide`]), then carried out in
//! its own transaction: a refused row changes nothing and the others go
//! through. A dry run decides every row the same way and carries out
//! nothing, counting seats as the rows before it would have used them, so
//! its preview is what applying would do (unless someone else changes the
//! organization in between). Every change is audited with cause `csv` by
//! the actor `import:<id>`, and the import's record says who started it.

pub mod drop_folder;
pub mod files;
pub mod format;
mod queries;

use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::time::{Duration, Instant};

use diesel::Connection;

use chrono::NaiveDateTime;
use serde_json::json;

use crate::accounts::Email;
use crate::accounts::learners::{self, Learner};
use crate::audit::{self, Action, Actor};
use crate::clock::Clock;
use crate::config::BaseUrl;
use crate::groups::{self, Group};
use crate::ids::{ImportId, LicenseType};
use crate::invitations;
use crate::licensing::{self, LicenseCause, Seat};
use crate::mail::Mailer;
use crate::orgs::Organization;
use crate::store::{self, DbConn};
use crate::webhooks;
pub use format::{Action as RowAction, FileError, Row, RowError};

/// Where an import came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Source {
    Console,
    Cli,
    DropFolder,
}

impl Source {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Console => "console",
            Self::Cli => "cli",
            Self::DropFolder => "drop_folder",
        }
    }
}

impl std::str::FromStr for Source {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        [Self::Console, Self::Cli, Self::DropFolder]
            .into_iter()
            .find(|s| s.as_str() == text)
            .ok_or(())
    }
}

/// What a row came to (one per row: the most telling of what it did).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    Create,
    Update,
    Assign,
    Revoke,
    Remove,
    Unchanged,
    /// Asked for a seat of a full pool: the learner waits on its list.
    NoSeatFree,
    /// Not applied: the reason says why.
    Refused,
}

impl Outcome {
    pub const ALL: [Outcome; 8] = [
        Self::Create,
        Self::Update,
        Self::Assign,
        Self::Revoke,
        Self::Remove,
        Self::Unchanged,
        Self::NoSeatFree,
        Self::Refused,
    ];

    /// As written in result files and shown.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Create => "create",
            Self::Update => "update",
            Self::Assign => "assign",
            Self::Revoke => "revoke",
            Self::Remove => "remove",
            Self::Unchanged => "unchanged",
            Self::NoSeatFree => "no seat free",
            Self::Refused => "error",
        }
    }
}

/// How many rows came to each outcome.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Counts([u64; Outcome::ALL.len()]);

impl Counts {
    pub fn add(&mut self, outcome: Outcome) {
        self.0[outcome as usize] += 1;
    }

    pub fn set(&mut self, outcome: Outcome, rows: u64) {
        self.0[outcome as usize] = rows;
    }

    pub fn of(&self, outcome: Outcome) -> u64 {
        self.0[outcome as usize]
    }

    pub fn rows(&self) -> u64 {
        self.0.iter().sum()
    }

    /// `create 3, assign 2, error 1`: the outcomes that occurred.
    pub fn summary(&self) -> String {
        let parts: Vec<String> = Outcome::ALL
            .iter()
            .filter(|&&o| self.of(o) > 0)
            .map(|&o| format!("{} {}", o.as_str(), self.of(o)))
            .collect();
        if parts.is_empty() {
            "no rows".to_owned()
        } else {
            parts.join(", ")
        }
    }
}

/// One row's result: the row as it was in the file, its outcome and why.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RowResult {
    pub number: u64,
    pub cells: Vec<String>,
    /// The row's email, where it passed the checks.
    pub email: Option<Email>,
    pub outcome: Outcome,
    pub reason: String,
}

/// What an import (or its dry run) came to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Summary {
    /// The import's record; `None` for a dry run, which records nothing.
    pub import: Option<ImportId>,
    pub counts: Counts,
    /// Free seats per license type after the file (negative: over-allocated).
    pub seats_free: Vec<(LicenseType, i64)>,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    File(#[from] FileError),
    #[error(transparent)]
    Store(#[from] store::Error),
    #[error("the results could not be written: {0}")]
    Report(std::io::Error),
    #[error("no such import")]
    NotFound,
    /// The uploaded file is not in a state that allows this.
    #[error("this import is {} already", .0.as_str())]
    NotReady(files::Phase),
}

/// Where an import's results go as each row is known.
pub trait Report {
    /// The file's columns, before any row.
    fn columns(&mut self, columns: &[format::Column]) -> std::io::Result<()>;
    fn row(&mut self, row: &RowResult) -> std::io::Result<()>;

    /// After each batch of rows (committed, unless a dry run), with the
    /// rows so far: a chance to record progress on the import's connection.
    fn batch_done(&mut self, _conn: &mut DbConn, _rows: u64) -> Result<(), store::Error> {
        Ok(())
    }
}

impl<W: std::io::Write> Report for format::ResultWriter<W> {
    fn columns(&mut self, columns: &[format::Column]) -> std::io::Result<()> {
        self.header(columns)
    }

    fn row(&mut self, row: &RowResult) -> std::io::Result<()> {
        format::ResultWriter::row(
            self,
            row.number,
            &row.cells,
            row.outcome.as_str(),
            &row.reason,
        )
    }
}

/// Who imports what, and whether for real.
pub struct Request<'a> {
    /// The id the import is recorded under (a dry run records nothing).
    pub import: ImportId,
    pub clock: &'a Clock,
    /// Who started it (an administrator, the command line, the drop folder's system).
    pub actor: &'a Actor,
    pub org: &'a Organization,
    pub source: Source,
    pub file_name: &'a str,
    pub dry_run: bool,
}

/// Reads `input` row by row and applies each (or, in a dry run, decides
/// each), handing every row's result to `report` as it is known: memory
/// stays flat however long the file. A file that is not CSV of our columns
/// is refused before any row.
pub fn run(
    conn: &mut DbConn,
    request: &Request,
    input: impl Read,
    report: &mut impl Report,
) -> Result<Summary, Error> {
    let mut reader = format::Reader::new(input)?;
    report.columns(reader.columns()).map_err(Error::Report)?;
    let id = request.import;
    let pools: BTreeMap<LicenseType, licensing::Pool> = licensing::pools(conn, request.org.id)?
        .into_iter()
        .map(|p| (p.license_type.clone(), p))
        .collect();
    let mut rows = Rows {
        request,
        actor: Actor::Import(id),
        // A dry run counts the seats the rows before would have used.
        tally: request.dry_run.then(|| {
            pools
                .iter()
                .map(|(t, p)| (t.clone(), i64::from(p.seats) - i64::from(p.assigned)))
                .collect()
        }),
        pools,
        seen: HashMap::new(),
    };
    let now = request.clock.now_naive();
    if !request.dry_run {
        queries::insert(conn, id, request, now)?;
    }
    let mut counts = Counts::default();
    let ended = loop {
        let mut results = Vec::new();
        let mut end = None;
        let mut batch = |conn: &mut DbConn| -> Result<(), Error> {
            let started = Instant::now();
            while results.len() < BATCH_ROWS && started.elapsed() < BATCH_TIME {
                match reader.next_row() {
                    None => {
                        end = Some(Ok(()));
                        break;
                    }
                    Some(Err(file)) => {
                        end = Some(Err(Error::File(file)));
                        break;
                    }
                    Some(Ok(row)) => results.push(rows.one(conn, row)?),
                }
            }
            Ok(())
        };
        let done = if request.dry_run {
            batch(conn)
        } else {
            store::write_transaction(conn, batch)
        };
        if let Err(e) = done {
            // The batch rolled back: its rows are neither counted nor reported.
            break Err(e);
        }
        if let Some(e) = results.iter().find_map(|r| report.row(r).err()) {
            break Err(Error::Report(e));
        }
        for result in &results {
            counts.add(result.outcome);
        }
        if let Err(e) = report.batch_done(conn, counts.rows()) {
            break Err(Error::Store(e));
        }
        if let Some(end) = end {
            break end;
        }
    };
    let seats_free = match &rows.tally {
        Some(tally) => tally.iter().map(|(t, n)| (t.clone(), *n)).collect(),
        None => licensing::pools(conn, request.org.id)?
            .into_iter()
            .map(|p| (p.license_type, i64::from(p.seats) - i64::from(p.assigned)))
            .collect(),
    };
    if !request.dry_run {
        let failure = ended.as_ref().err().map(ToString::to_string);
        store::write_transaction(conn, |conn| {
            queries::finish(
                conn,
                id,
                request.clock.now_naive(),
                &counts,
                failure.as_deref(),
            )?;
            audit::record(
                conn,
                request.clock,
                audit::NewEvent::new(Some(request.org.id), request.actor, Action::ImportApplied)
                    .target(request.file_name)
                    .details(json!({
                        "import": id.to_string(),
                        "source": request.source.as_str(),
                        "outcome": counts.summary(),
                        "failure": failure,
                    })),
            )
        })?;
    }
    ended?;
    Ok(Summary {
        import: (!request.dry_run).then_some(id),
        counts,
        seats_free,
    })
}

/// Rows applied in one transaction, each in a savepoint of its own (a
/// refused row rolls back alone): a commit per row would cost more than the
/// row. Bounded in rows and time, so that sign-ins wait for the writer no
/// longer than a batch (SQLite has one writer; PostgreSQL locks the pool
/// rows the batch took seats from).
const BATCH_ROWS: usize = 500;
const BATCH_TIME: Duration = Duration::from_millis(100);

/// The state of one import as it reads its rows.
struct Rows<'a> {
    request: &'a Request<'a>,
    /// Who the changes are audited as.
    actor: Actor,
    pools: BTreeMap<LicenseType, licensing::Pool>,
    /// Free seats by type, in a dry run.
    tally: Option<BTreeMap<LicenseType, i64>>,
    /// The row each email was first seen on.
    seen: HashMap<Email, u64>,
}

/// One change a row makes.
#[derive(Debug)]
enum Step {
    Create(Learner),
    Save {
        learner: Learner,
        action: Action,
    },
    Assign(LicenseType),
    TakeBack(LicenseType),
    /// Every seat back (`frees`, for a dry run's count), sessions ended, inactive.
    Deactivate {
        learner: Learner,
        frees: Vec<LicenseType>,
    },
    /// Into the group of that name: the one found when the row was
    /// decided, or a new one.
    Join {
        name: String,
        group: Option<Group>,
    },
}

/// What a row will do.
#[derive(Debug)]
struct Plan {
    outcome: Outcome,
    reason: String,
    steps: Vec<Step>,
    /// The stored learner the steps act on; `None` when the first step
    /// creates them.
    learner: Option<Learner>,
}

impl Plan {
    fn refused(reason: impl Into<String>) -> Self {
        Self::nothing(Outcome::Refused, reason)
    }

    fn nothing(outcome: Outcome, reason: impl Into<String>) -> Self {
        Self {
            outcome,
            reason: reason.into(),
            steps: Vec::new(),
            learner: None,
        }
    }
}

impl Rows<'_> {
    fn one(&mut self, conn: &mut DbConn, row: Result<Row, RowError>) -> Result<RowResult, Error> {
        let row = match row {
            Ok(row) => row,
            Err(e) => {
                return Ok(RowResult {
                    number: e.number,
                    cells: e.cells,
                    email: None,
                    outcome: Outcome::Refused,
                    reason: e.reason,
                });
            }
        };
        let (email, outcome, reason) = match self.checked(&row) {
            Err(reason) => (None, Outcome::Refused, reason),
            Ok((email, license_type)) if self.tally.is_some() => {
                let plan = decide(conn, self, &row, &email, license_type.as_ref())?;
                let (outcome, reason) = self.pretend(plan);
                (Some(email), outcome, reason)
            }
            // A savepoint in the batch's transaction.
            Ok((email, license_type)) => {
                let (outcome, reason) = conn
                    .transaction(|conn| {
                        let plan = decide(conn, self, &row, &email, license_type.as_ref())?;
                        self.carry_out(conn, plan)
                    })
                    .or_else(|e| match e {
                        // A rule of another area refused (the seat or group
                        // changed under us): this row is rolled back, the
                        // others go on.
                        StepError::Refused(reason) => Ok((Outcome::Refused, reason)),
                        StepError::Store(e) => Err(e),
                    })?;
                (Some(email), outcome, reason)
            }
        };
        Ok(RowResult {
            number: row.number,
            cells: row.cells,
            email,
            outcome,
            reason,
        })
    }

    /// The checks that need no database: the email, a repeated email, the
    /// license type.
    fn checked(&mut self, row: &Row) -> Result<(Email, Option<LicenseType>), String> {
        let email: Email = row
            .email
            .parse()
            .map_err(|_| format!("{:?} is not an email address", row.email))?;
        if let Some(first) = self.seen.get(&email) {
            return Err(format!(
                "the same email as row {first} (one row per learner)"
            ));
        }
        self.seen.insert(email.clone(), row.number);
        let license_type = match &row.license_type {
            None => None,
            Some(text) => match text.parse::<LicenseType>() {
                Ok(t) if self.pools.contains_key(&t) => Some(t),
                _ if self.pools.is_empty() => {
                    return Err(format!(
                        "unknown license type {text:?}: the organization has no license pools"
                    ));
                }
                _ => {
                    let known: Vec<&str> = self.pools.keys().map(LicenseType::as_str).collect();
                    return Err(format!(
                        "unknown license type {text:?} (the organization has {})",
                        known.join(", ")
                    ));
                }
            },
        };
        Ok((email, license_type))
    }

    /// A dry run's version of [`Self::carry_out`]: seats counted, nothing written.
    fn pretend(&mut self, plan: Plan) -> (Outcome, String) {
        let mut outcome = (plan.outcome, plan.reason);
        let tally = self.tally.as_mut().expect("a dry run");
        for step in &plan.steps {
            match step {
                Step::Assign(t) => match tally.get_mut(t) {
                    Some(free) if *free > 0 => *free -= 1,
                    _ => outcome = no_seat(t, plan.learner.is_none()),
                },
                Step::TakeBack(t) => *tally.entry(t.clone()).or_default() += 1,
                Step::Deactivate { frees, .. } => {
                    for t in frees {
                        *tally.entry(t.clone()).or_default() += 1;
                    }
                }
                Step::Create(_) | Step::Save { .. } | Step::Join { .. } => {}
            }
        }
        outcome
    }

    fn carry_out(&self, conn: &mut DbConn, plan: Plan) -> Result<(Outcome, String), StepError> {
        let Rows { request, actor, .. } = self;
        let (clock, org) = (request.clock, request.org);
        let mut outcome = (plan.outcome, plan.reason);
        let mut learner = plan.learner;
        let audited = |conn: &mut DbConn, action, learner: &Learner| {
            let cause = json!({ "cause": LicenseCause::Csv.as_str() });
            audit::record(
                conn,
                clock,
                audit::NewEvent::new(Some(org.id), actor, action)
                    .target(learner.email.as_str())
                    .details(cause.clone()),
            )?;
            webhooks::on_learner_change(conn, clock, action, org, learner, cause)
        };
        for step in plan.steps {
            match step {
                Step::Create(new) => {
                    learners::insert(conn, &new).map_err(|e| match e {
                        // Created meanwhile (a sign-in on PostgreSQL): this
                        // row rolls back; importing again updates them.
                        store::Error::Duplicate => StepError::Refused(
                            "created by someone else meanwhile: import the row again".to_owned(),
                        ),
                        other => StepError::Store(other),
                    })?;
                    audited(conn, Action::UserCreated, &new)?;
                    learner = Some(new);
                }
                Step::Save {
                    learner: changed,
                    action,
                } => {
                    learners::save(conn, &changed)?;
                    audited(conn, action, &changed)?;
                    learner = Some(changed);
                }
                Step::Assign(t) => {
                    let who = learner.as_ref().expect("a learner to license");
                    let seat = licensing::ensure_seat(
                        conn,
                        clock,
                        actor,
                        LicenseCause::Csv,
                        org,
                        who,
                        &t,
                    )?;
                    if seat == Seat::NoneFree {
                        outcome = no_seat(&t, plan.outcome == Outcome::Create);
                    }
                }
                Step::TakeBack(t) => {
                    let who = learner.as_ref().expect("a learner to revoke");
                    licensing::leave_waiting_list(conn, org, who, &t)?;
                    licensing::take_back(conn, clock, actor, LicenseCause::Csv, org, who, &t)?;
                }
                Step::Deactivate {
                    learner: removed, ..
                } => {
                    licensing::revoke_all(conn, clock, actor, LicenseCause::Csv, org, &removed)?;
                    crate::sessions::end_all_of(conn, removed.id)?;
                    learners::save(conn, &removed)?;
                    audited(conn, Action::LearnerDeactivated, &removed)?;
                }
                Step::Join { name, group } => {
                    let who = learner.as_ref().expect("a learner to add to a group");
                    join(conn, clock, actor, org, who, &name, group)?;
                }
            }
        }
        Ok(outcome)
    }
}

fn no_seat(license_type: &LicenseType, created: bool) -> (Outcome, String) {
    let who = if created { "created; " } else { "" };
    (
        Outcome::NoSeatFree,
        format!("{who}no {license_type} seat free: on the waiting list"),
    )
}

/// Why a row's change did not go through.
#[derive(Debug)]
enum StepError {
    Refused(String),
    Store(store::Error),
}

impl From<diesel::result::Error> for StepError {
    fn from(e: diesel::result::Error) -> Self {
        Self::Store(e.into())
    }
}

impl From<store::Error> for StepError {
    fn from(e: store::Error) -> Self {
        Self::Store(e)
    }
}

impl From<licensing::Error> for StepError {
    fn from(e: licensing::Error) -> Self {
        match e {
            licensing::Error::Store(e) => Self::Store(e),
            other => Self::Refused(other.to_string()),
        }
    }
}

/// What `row` would change, from what is stored now; reads only.
fn decide(
    conn: &mut DbConn,
    rows: &Rows,
    row: &Row,
    email: &Email,
    license_type: Option<&LicenseType>,
) -> Result<Plan, store::Error> {
    let now = rows.request.clock.now_naive();
    let org = rows.request.org;
    let existing = learners::by_email(conn, org.id, email)?;
    if existing
        .as_ref()
        .is_some_and(|l| l.scim.managed_by.is_some())
    {
        return Ok(Plan::refused(
            "managed by your identity provider over SCIM: change this learner there",
        ));
    }
    let group = match &row.group {
        Some(name) if row.action == RowAction::Add => {
            match groups::list(conn, org.id)?
                .into_iter()
                .find(|g| &g.display_name == name)
            {
                Some(g) if g.managed_by.is_some() => {
                    return Ok(Plan::refused(format!(
                        "group {name:?} is managed by your identity provider over SCIM"
                    )));
                }
                found => Some((name.clone(), found)),
            }
        }
        _ => None,
    };
    Ok(match (row.action, existing) {
        (RowAction::Add, None) => {
            let mut learner = Learner::new(org.id, email.clone(), String::new(), now);
            profile(&mut learner, row);
            let mut reason = vec!["created".to_owned()];
            let mut steps = vec![Step::Create(learner.clone())];
            if let Some(t) = license_type {
                reason.push(format!("assigned {t}"));
                steps.push(Step::Assign(t.clone()));
            }
            if let Some((name, group)) = group {
                reason.push(format!("joined {name}"));
                steps.push(Step::Join { name, group });
            }
            Plan {
                outcome: Outcome::Create,
                reason: reason.join("; "),
                steps,
                learner: None,
            }
        }
        (RowAction::Add, Some(before)) => {
            let mut after = before.clone();
            profile(&mut after, row);
            after.active = true;
            let mut steps = Vec::new();
            let mut reason = Vec::new();
            let mut outcome = Outcome::Unchanged;
            if after != before {
                after.updated_at = now;
                let action = if before.active {
                    reason.push("updated".to_owned());
                    Action::LearnerUpdated
                } else {
                    reason.push("reactivated".to_owned());
                    Action::LearnerReactivated
                };
                outcome = Outcome::Update;
                steps.push(Step::Save {
                    learner: after.clone(),
                    action,
                });
            }
            if let Some(t) = license_type
                && !licensing::held_types(conn, &after)?.contains(t)
            {
                // Already queued by an earlier import: the same file again
                // changes nothing.
                if licensing::waits(conn, &rows.pools[t], &after)? {
                    reason.push(format!("waits for a {t} seat"));
                } else {
                    reason.push(format!("assigned {t}"));
                    outcome = Outcome::Assign;
                    steps.push(Step::Assign(t.clone()));
                }
            }
            if let Some((name, group)) = group {
                let member = match &group {
                    Some(g) => groups::of_learner(conn, after.id)?
                        .iter()
                        .any(|m| m.id == g.id),
                    None => false,
                };
                if !member {
                    reason.push(format!("joined {name}"));
                    if outcome == Outcome::Unchanged {
                        outcome = Outcome::Update;
                    }
                    steps.push(Step::Join { name, group });
                }
            }
            Plan {
                outcome,
                reason: reason.join("; "),
                steps,
                learner: Some(after),
            }
        }
        (RowAction::Revoke | RowAction::Remove, None) => {
            Plan::nothing(Outcome::Unchanged, "no learner with this email")
        }
        (RowAction::Revoke, Some(learner)) => {
            let held = licensing::held_types(conn, &learner)?;
            let revoked: Vec<LicenseType> = match license_type {
                Some(t) => held.into_iter().filter(|h| h == t).collect(),
                None => held,
            };
            if revoked.is_empty() {
                let what =
                    license_type.map_or("no license".to_owned(), |t| format!("no {t} license"));
                return Ok(Plan::nothing(Outcome::Unchanged, format!("holds {what}")));
            }
            let names: Vec<&str> = revoked.iter().map(LicenseType::as_str).collect();
            Plan {
                outcome: Outcome::Revoke,
                reason: format!("revoked {}", names.join(", ")),
                steps: revoked.into_iter().map(Step::TakeBack).collect(),
                learner: Some(learner),
            }
        }
        (RowAction::Remove, Some(learner)) => {
            let held = licensing::held_types(conn, &learner)?;
            if !learner.active && held.is_empty() {
                return Ok(Plan::nothing(Outcome::Unchanged, "already removed"));
            }
            let removed = Learner {
                active: false,
                updated_at: now,
                ..learner.clone()
            };
            let reason = match held.len() {
                0 => "deactivated".to_owned(),
                _ => {
                    let names: Vec<&str> = held.iter().map(LicenseType::as_str).collect();
                    format!("revoked {}; deactivated", names.join(", "))
                }
            };
            Plan {
                outcome: Outcome::Remove,
                reason,
                steps: vec![Step::Deactivate {
                    learner: removed,
                    frees: held,
                }],
                learner: Some(learner),
            }
        }
    })
}

/// The row's names and employee id onto the learner, where given (an empty
/// cell leaves the value as it is).
fn profile(learner: &mut Learner, row: &Row) {
    if let Some(first) = &row.first_name {
        learner.first_name = Some(first.clone());
    }
    if let Some(last) = &row.last_name {
        learner.last_name = Some(last.clone());
    }
    if let Some(number) = &row.employee_id {
        learner.employee_id = Some(number.clone());
    }
    if row.first_name.is_some() || row.last_name.is_some() {
        let names: Vec<&str> = [&learner.first_name, &learner.last_name]
            .into_iter()
            .flatten()
            .map(String::as_str)
            .collect();
        learner.display_name = names.join(" ");
    }
}

/// Adds the learner to `group`, or to a new group `name` where there was
/// none (an administrator's group, not the IdP's).
fn join(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    org: &Organization,
    learner: &Learner,
    name: &str,
    group: Option<Group>,
) -> Result<(), store::Error> {
    let group = match group {
        Some(group) => group,
        None => {
            let group = Group::new(org.id, name.to_owned(), clock.now_naive());
            groups::insert(conn, &group)?;
            audit::record(
                conn,
                clock,
                audit::NewEvent::new(Some(org.id), actor, Action::GroupCreated)
                    .target(name)
                    .details(json!({ "cause": LicenseCause::Csv.as_str() })),
            )?;
            group
        }
    };
    groups::add_member(conn, group.id, learner.id)
}

/// Writes the organization's learners in the import format, so that export,
/// edit, import round-trips: one row each, `remove` for a deactivated one,
/// the license type and group they hold (the first by name where they hold
/// several: an import never takes away what a row does not name). Learners
/// the IdP manages over SCIM are left out, as an import may not change
/// them. Returns how many rows were written.
pub fn export(
    conn: &mut DbConn,
    org: &Organization,
    out: impl std::io::Write,
) -> Result<u64, Error> {
    let mut writer = format::RowWriter::new(out).map_err(Error::Report)?;
    let mut written = 0;
    for learner in learners::list(conn, org.id)? {
        if learner.scim.managed_by.is_some() {
            continue;
        }
        let mut held = licensing::held_types(conn, &learner)?;
        held.sort();
        let mut in_groups: Vec<String> = groups::of_learner(conn, learner.id)?
            .into_iter()
            .filter(|g| g.managed_by.is_none())
            .map(|g| g.display_name)
            .collect();
        in_groups.sort();
        let action = if learner.active {
            RowAction::Add
        } else {
            RowAction::Remove
        };
        writer
            .row([
                learner.email.as_str(),
                learner.first_name.as_deref().unwrap_or_default(),
                learner.last_name.as_deref().unwrap_or_default(),
                held.first().map_or("", LicenseType::as_str),
                action.as_str(),
                in_groups.first().map_or("", String::as_str),
                learner.employee_id.as_deref().unwrap_or_default(),
            ])
            .map_err(Error::Report)?;
        written += 1;
    }
    writer.finish().map_err(Error::Report)?;
    Ok(written)
}

/// How many activation emails went out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Invitations {
    pub sent: usize,
    /// Not invited or not emailed: the Invitations page says why.
    pub failed: usize,
}

/// Invites the learners an import created and emails each their
/// activation link (the import itself sends nothing: a row that is refused
/// or rolled back must not have mailed anyone).
pub fn invite(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    base_url: &BaseUrl,
    org: &Organization,
    mailer: &Mailer,
    created: &[Email],
) -> Result<Invitations, store::Error> {
    let addresses: Vec<String> = created.iter().map(ToString::to_string).collect();
    let mut outcomes =
        invitations::invite_many(conn, clock, actor, base_url, org, &addresses, None)?;
    invitations::deliver(mailer, org, &mut outcomes);
    invitations::record_deliveries(conn, clock, &outcomes)?;
    let failed = outcomes.iter().filter(|o| o.needs_attention()).count();
    Ok(Invitations {
        sent: outcomes.len() - failed,
        failed,
    })
}

/// The organization's past imports, newest first.
pub fn recent(
    conn: &mut DbConn,
    org: &Organization,
    limit: i64,
) -> Result<Vec<Record>, store::Error> {
    queries::recent(conn, org.id, limit)
}

/// A past import.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Record {
    pub id: ImportId,
    pub source: Source,
    pub file_name: String,
    pub started_by: Actor,
    pub started_at: NaiveDateTime,
    pub finished_at: Option<NaiveDateTime>,
    pub counts: Counts,
    pub failure: Option<String>,
}
