//! `seatgate import` and `seatgate export` (issue 16's public interface):
//! bulk changes from a CSV file, a one-line summary on stdout and the
//! per-row results in `<file>.result.csv`; exit 1 when a row was refused.

use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::Args;

use crate::accounts::Email;
use crate::audit::Actor;
use crate::clock::Clock;
use crate::config::Settings;
use crate::ids::ImportId;
use crate::imports::{self, Outcome, Request, Source, format};
use crate::mail::Mailer;
use crate::orgs;
use crate::store::Store;

#[derive(Args)]
pub(super) struct ImportArgs {
    /// The organization's slug
    #[arg(required_unless_present = "template")]
    org: Option<String>,
    /// The CSV file (columns: email, first_name, last_name, license_type, action, group, employee_id)
    #[arg(required_unless_present = "template", value_name = "FILE.CSV")]
    file: Option<PathBuf>,
    /// Decide every row and write the results, change nothing
    #[arg(long)]
    dry_run: bool,
    /// Email an activation link to each learner the file creates
    #[arg(long, conflicts_with = "dry_run")]
    send_invitations: bool,
    /// Print the CSV template and exit
    #[arg(long, conflicts_with_all = ["org", "file", "dry_run", "send_invitations"])]
    template: bool,
}

#[derive(Args)]
pub(super) struct ExportArgs {
    /// The organization's slug
    org: String,
    /// Write here instead of stdout
    #[arg(long, value_name = "FILE.CSV")]
    out: Option<PathBuf>,
}

/// `<file>.result.csv`, beside the file.
fn result_path(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".result.csv");
    PathBuf::from(name)
}

/// The results file, and the learners the import created (to invite).
struct CliReport {
    results: format::ResultWriter<std::io::BufWriter<std::fs::File>>,
    created: Option<Vec<Email>>,
}

impl imports::Report for CliReport {
    fn columns(&mut self, columns: &[format::Column]) -> std::io::Result<()> {
        self.results.header(columns)
    }

    fn row(&mut self, row: &imports::RowResult) -> std::io::Result<()> {
        if let (Some(created), Outcome::Create, Some(email)) =
            (&mut self.created, row.outcome, &row.email)
        {
            created.push(email.clone());
        }
        imports::Report::row(&mut self.results, row)
    }
}

pub(super) fn import(
    args: ImportArgs,
    settings: impl FnOnce() -> anyhow::Result<Settings>,
    open: impl FnOnce(&Settings) -> anyhow::Result<Store>,
    clock: &Clock,
) -> anyhow::Result<()> {
    let mut out = std::io::stdout().lock();
    let (Some(org), Some(file)) = (args.org, args.file) else {
        out.write_all(format::template().as_bytes())?;
        return Ok(());
    };
    let settings = settings()?;
    // The cheap checks first: nothing is read or changed when they fail.
    let mailer = match (&settings.mail, args.send_invitations) {
        (Some(mail), true) => Some(Mailer::new(mail).map_err(anyhow::Error::msg)?),
        (None, true) => anyhow::bail!(
            "--send-invitations needs a mail server: set smtp_url and mail_from (SEATGATE_SMTP_URL, SEATGATE_MAIL_FROM)"
        ),
        (_, false) => None,
    };
    let shown = file.display().to_string();
    let size = std::fs::metadata(&file).context(shown.clone())?.len();
    if size > format::MAX_BYTES {
        anyhow::bail!("{shown}: {}", format::FileError::TooLarge);
    }
    let input = std::fs::File::open(&file).context(shown.clone())?;
    let store = open(&settings)?;
    let mut conn = store.connection()?;
    let org = orgs::find(&mut conn, &org)?;
    let result_file = result_path(&file);
    let results =
        std::fs::File::create(&result_file).with_context(|| result_file.display().to_string())?;
    let mut report = CliReport {
        results: format::ResultWriter::new(std::io::BufWriter::new(results)),
        created: mailer.as_ref().map(|_| Vec::new()),
    };
    let file_name = file
        .file_name()
        .map_or_else(|| shown.clone(), |n| n.to_string_lossy().into_owned());
    let request = Request {
        import: ImportId::generate(),
        clock,
        actor: &Actor::Cli,
        org: &org,
        source: Source::Cli,
        file_name: &file_name,
        dry_run: args.dry_run,
    };
    let summary = imports::run(&mut conn, &request, input, &mut report).context(shown)?;
    report
        .results
        .finish()
        .and_then(|mut w| w.flush())
        .with_context(|| result_file.display().to_string())?;
    let counts = &summary.counts;
    let mut line = format!(
        "{}{} rows: {}",
        if args.dry_run { "dry run: " } else { "" },
        counts.rows(),
        counts.summary()
    );
    if !summary.seats_free.is_empty() {
        let seats: Vec<String> = summary
            .seats_free
            .iter()
            .map(|(t, n)| format!("{t} {n}"))
            .collect();
        line.push_str(&format!("; seats free: {}", seats.join(", ")));
    }
    if let (Some(mailer), Some(created)) = (&mailer, &report.created) {
        let sent = imports::invite(
            &mut conn,
            clock,
            &Actor::Cli,
            &settings.base_url,
            &org,
            mailer,
            created,
        )?;
        line.push_str(&format!(
            "; invitations: {} sent, {} not sent (see the console's Invitations page)",
            sent.sent, sent.failed
        ));
    }
    line.push_str(&format!("; results in {}", result_file.display()));
    writeln!(out, "{line}")?;
    let refused = counts.of(Outcome::Refused);
    if refused > 0 {
        anyhow::bail!(
            "{refused} of {} rows refused (the others applied): see {}",
            counts.rows(),
            result_file.display()
        );
    }
    Ok(())
}

pub(super) fn export(args: ExportArgs, store: &Store) -> anyhow::Result<()> {
    let mut conn = store.connection()?;
    let org = orgs::find(&mut conn, &args.org)?;
    match &args.out {
        Some(path) => {
            let file = std::fs::File::create(path).with_context(|| path.display().to_string())?;
            let rows = imports::export(&mut conn, &org, std::io::BufWriter::new(file))?;
            eprintln!("exported {rows} learners to {}", path.display());
        }
        None => {
            imports::export(&mut conn, &org, std::io::stdout().lock())?;
        }
    }
    Ok(())
}
