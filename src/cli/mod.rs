//! The command line. Subcommands and flags here are a public interface that
//! operators script against: change them only with a note in the README.

mod admin;
mod app;
mod certs;
mod idp;
mod import;
mod license;
mod org;
mod scim;
mod server;
mod user;

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::accounts::learners;
use crate::accounts::learners::Learner;
use crate::clock::Clock;
use crate::config::{Layer, Settings};
use crate::orgs::Organization;
use crate::store::Store;

#[derive(Parser)]
#[command(
    name = "seatgate",
    version,
    about = "SAML single sign-on and just-in-time licensing"
)]
struct Cli {
    #[command(flatten)]
    global: GlobalArgs,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct GlobalArgs {
    /// TOML configuration file (overridden by SEATGATE_* variables and flags)
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    /// Address and port to listen on [default: 127.0.0.1:8080]
    #[arg(long, global = true, value_name = "ADDR")]
    bind: Option<String>,
    /// sqlite://PATH or postgres://USER@HOST/DB [default: sqlite://data/seatgate.db]
    #[arg(long, global = true, value_name = "URL")]
    database_url: Option<String>,
    /// Public URL of this Seatgate [default: http://127.0.0.1:8080]
    #[arg(long, global = true, value_name = "URL")]
    base_url: Option<String>,
    /// Folder for the SP keys and certificates [default: certs]
    #[arg(long, global = true, value_name = "DIR")]
    certs_dir: Option<String>,
    /// Serve the built-in development IdP at /demo-idp (never in production)
    #[arg(long, global = true)]
    demo_idp: bool,
    /// Sign-in responses one client address may post per minute; 0: no limit [default: 600]
    #[arg(long, global = true, value_name = "N")]
    acs_rate_limit: Option<String>,
    /// Folder of the SFTP drop folders (imports/<org>/incoming/), watched by serve
    #[arg(long, global = true, value_name = "DIR")]
    imports_dir: Option<String>,
    /// Log format on stderr
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
}

#[derive(Clone, Copy, ValueEnum)]
enum LogFormat {
    Text,
    Json,
}

#[derive(Subcommand)]
enum Command {
    /// Run the web server (applies pending migrations first)
    Serve,
    /// Apply pending database migrations and exit
    Migrate,
    /// Run a demo on a fresh SQLite database with an organization "demo"
    Demo,
    /// Manage organizations
    #[command(subcommand)]
    Org(org::OrgCommand),
    /// Manage administrators
    #[command(subcommand)]
    Admin(admin::AdminCommand),
    /// Manage identity provider connections
    #[command(subcommand)]
    Idp(idp::IdpCommand),
    /// Show learners
    #[command(subcommand)]
    User(user::UserCommand),
    /// Manage the service provider's keys and certificates
    #[command(subcommand)]
    Certs(certs::CertsCommand),
    /// Manage license pools and seats
    #[command(subcommand)]
    License(license::LicenseCommand),
    /// Manage SCIM provisioning configurations and their tokens
    #[command(subcommand)]
    Scim(scim::ScimCommand),
    /// Manage the applications learners are signed in to (OpenID Connect clients)
    #[command(subcommand)]
    App(app::AppCommand),
    /// Add, license, revoke and remove learners from a CSV file
    Import(import::ImportArgs),
    /// Write the organization's learners as CSV, in the import format
    Export(import::ExportArgs),
}

/// An on/off command-line value.
#[derive(Clone, Copy, ValueEnum)]
enum Switch {
    On,
    Off,
}

impl Switch {
    fn or(switch: Option<Switch>, current: bool) -> bool {
        switch.map_or(current, |s| matches!(s, Switch::On))
    }
}

/// Parses the command line, runs the command, and turns any failure into one
/// line on stderr and a non-zero exit.
pub fn run() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.global.log_format);
    match dispatch(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            tracing::debug!(error = format!("{error:#}"), "command failed");
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

fn init_logging(format: LogFormat) {
    let filter = tracing_subscriber::EnvFilter::try_from_env("SEATGATE_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder.init(),
        LogFormat::Json => builder.json().init(),
    }
}

fn settings(global: &GlobalArgs) -> anyhow::Result<Settings> {
    let flags = Layer {
        bind: global.bind.clone(),
        database_url: global.database_url.clone(),
        base_url: global.base_url.clone(),
        certs_dir: global.certs_dir.clone(),
        demo_idp: global.demo_idp.then(|| "true".to_owned()),
        acs_rate_limit: global.acs_rate_limit.clone(),
        imports_dir: global.imports_dir.clone(),
        ..Layer::default()
    };
    Ok(Settings::load(
        global.config.as_deref(),
        |var| std::env::var(var).ok(),
        flags,
    )?)
}

/// Connects and migrates: every command works on an up-to-date schema.
fn open_store(settings: &Settings) -> anyhow::Result<Store> {
    let store = Store::connect(&settings.database_url).context("database_url")?;
    let applied = migrate(&store)?;
    if !applied.is_empty() {
        tracing::info!(?applied, "applied migrations");
    }
    Ok(store)
}

/// Applies pending migrations, then fills in what only Rust can derive
/// for rows stored before (SQL alone cannot fold case as SCIM filters do).
fn migrate(store: &Store) -> anyhow::Result<Vec<String>> {
    let applied = store.migrate()?;
    let filled = learners::fill_filter_keys(&mut *store.connection()?)?;
    if filled > 0 {
        tracing::info!(
            filled,
            "wrote the SCIM filter keys of learners stored before them"
        );
    }
    Ok(applied)
}

fn dispatch(cli: Cli) -> anyhow::Result<()> {
    let clock = Clock::system();
    match cli.command {
        Command::Serve => {
            let settings = settings(&cli.global)?;
            let store = open_store(&settings)?;
            server::serve(settings, store, clock)
        }
        Command::Migrate => {
            let settings = settings(&cli.global)?;
            let store = Store::connect(&settings.database_url).context("database_url")?;
            let applied = migrate(&store)?;
            let mut out = std::io::stdout().lock();
            if applied.is_empty() {
                writeln!(out, "database is up to date")?;
            }
            for version in applied {
                writeln!(out, "applied {version}")?;
            }
            Ok(())
        }
        Command::Demo => server::demo(&cli.global, clock),
        Command::Org(command) => {
            let settings = settings(&cli.global)?;
            org::run(command, &open_store(&settings)?, &clock)
        }
        Command::Idp(command) => {
            let settings = settings(&cli.global)?;
            idp::run(command, &settings, &open_store(&settings)?, &clock)
        }
        Command::User(command) => {
            let settings = settings(&cli.global)?;
            user::run(command, &settings, &open_store(&settings)?, &clock)
        }
        Command::License(command) => {
            let settings = settings(&cli.global)?;
            license::run(command, &open_store(&settings)?, &clock)
        }
        Command::Scim(command) => {
            let settings = settings(&cli.global)?;
            scim::run(command, &settings, &open_store(&settings)?, &clock)
        }
        Command::App(command) => {
            let settings = settings(&cli.global)?;
            app::run(command, &settings, &open_store(&settings)?, &clock)
        }
        Command::Certs(command) => certs::run(command, &settings(&cli.global)?, &clock),
        // The template needs no settings nor database.
        Command::Import(args) => import::import(args, || settings(&cli.global), open_store, &clock),
        Command::Export(args) => {
            let settings = settings(&cli.global)?;
            import::export(args, &open_store(&settings)?)
        }
        Command::Admin(command) => {
            let settings = settings(&cli.global)?;
            admin::run(command, &settings, &open_store(&settings)?, &clock)
        }
    }
}

/// The learner with this email, or the one-line error operators expect.
fn learner(
    conn: &mut crate::store::DbConn,
    org: &Organization,
    email: &str,
) -> anyhow::Result<Learner> {
    learners::find(conn, org.id, email).map_err(|_| {
        anyhow::anyhow!(
            "organization {:?} has no learner {email:?}",
            org.slug.as_str()
        )
    })
}
