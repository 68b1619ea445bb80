//! The command line. Subcommands and flags here are a public interface that
//! operators script against: change them only with a note in the README.

use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};

use crate::accounts::admins;
use crate::audit::Actor;
use crate::clock::Clock;
use crate::config::{DatabaseUrl, Layer, Settings};
use crate::orgs::{self, DisplayName, OrgSlug, Organization};
use crate::store::Store;
use crate::web::{self, AppState};

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
    Org(OrgCommand),
    /// Manage administrators
    #[command(subcommand)]
    Admin(AdminCommand),
}

#[derive(Subcommand)]
enum OrgCommand {
    /// Create an organization
    Create {
        /// Short name used in URLs, e.g. "acme"
        slug: String,
        /// Display name, e.g. "Acme Corporation"
        #[arg(long)]
        name: String,
    },
    /// List organizations, one per line: slug, then name
    List,
    /// Show one organization and its settings
    Show { slug: String },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an administrator (or reissue their link) and print a one-time sign-in link, valid 15 minutes
    Create {
        /// The organization's slug
        #[arg(long)]
        org: String,
        #[arg(long)]
        email: String,
    },
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
    let applied = store.migrate()?;
    if !applied.is_empty() {
        tracing::info!(?applied, "applied migrations");
    }
    Ok(store)
}

fn dispatch(cli: Cli) -> anyhow::Result<()> {
    let clock = Clock::system();
    match cli.command {
        Command::Serve => {
            let settings = settings(&cli.global)?;
            let store = open_store(&settings)?;
            serve(settings, store, clock)
        }
        Command::Migrate => {
            let settings = settings(&cli.global)?;
            let store = Store::connect(&settings.database_url).context("database_url")?;
            let applied = store.migrate()?;
            let mut out = std::io::stdout().lock();
            if applied.is_empty() {
                writeln!(out, "database is up to date")?;
            }
            for version in applied {
                writeln!(out, "applied {version}")?;
            }
            Ok(())
        }
        Command::Demo => demo(&cli.global, clock),
        Command::Org(command) => {
            let settings = settings(&cli.global)?;
            let store = open_store(&settings)?;
            let mut conn = store.connection()?;
            let mut out = std::io::stdout().lock();
            match command {
                OrgCommand::Create { slug, name } => {
                    let org = orgs::create(
                        &mut conn,
                        &clock,
                        &Actor::Cli,
                        slug.parse::<OrgSlug>()?,
                        name.parse::<DisplayName>()?,
                    )?;
                    writeln!(
                        out,
                        "created organization {} ({})",
                        org.slug, org.display_name
                    )?;
                }
                OrgCommand::List => {
                    for org in orgs::list(&mut conn)? {
                        writeln!(out, "{}\t{}", org.slug, org.display_name)?;
                    }
                }
                OrgCommand::Show { slug } => show_org(&mut out, &orgs::find(&mut conn, &slug)?)?,
            }
            Ok(())
        }
        Command::Admin(AdminCommand::Create { org, email }) => {
            let settings = settings(&cli.global)?;
            let store = open_store(&settings)?;
            let mut conn = store.connection()?;
            let org = orgs::find(&mut conn, &org)?;
            let issued = admins::create_with_link(
                &mut conn,
                &clock,
                &settings.base_url,
                &org,
                email.parse()?,
            )?;
            let mut out = std::io::stdout().lock();
            let what = if issued.created {
                "created administrator"
            } else {
                "new sign-in link for administrator"
            };
            writeln!(out, "{what} {} of {}", issued.admin.email, org.slug)?;
            writeln!(
                out,
                "one-time sign-in link (valid until {} UTC):",
                issued.expires_at.format("%Y-%m-%d %H:%M")
            )?;
            writeln!(out, "{}", issued.url)?;
            Ok(())
        }
    }
}

fn show_org(out: &mut impl Write, org: &Organization) -> std::io::Result<()> {
    let on_off = |on: bool| if on { "on" } else { "off" };
    writeln!(out, "slug: {}", org.slug)?;
    writeln!(out, "name: {}", org.display_name)?;
    writeln!(out, "id: {}", org.id)?;
    writeln!(out, "created: {}", org.created_at.and_utc().to_rfc3339())?;
    writeln!(
        out,
        "auto_assign_licenses: {}",
        on_off(org.auto_assign_licenses)
    )?;
    writeln!(
        out,
        "profile_binding_policy: {}",
        org.profile_binding_policy.as_str()
    )
}

fn serve(settings: Settings, store: Store, clock: Clock) -> anyhow::Result<()> {
    let listener = TcpListener::bind(settings.bind)
        .with_context(|| format!("bind: cannot listen on {}", settings.bind))?;
    tracing::info!(
        bind = %settings.bind,
        base_url = settings.base_url.as_str(),
        database = %settings.database_url,
        "Seatgate is listening"
    );
    let state = AppState {
        store,
        clock,
        settings: Arc::new(settings),
    };
    actix_web::rt::System::new().block_on(async move {
        web::spawn_housekeeping(state.clone());
        web::serve(listener, state)?.await
    })?;
    Ok(())
}

/// A fresh SQLite database (unless one is named) with an organization "demo"
/// and an administrator, then the server.
fn demo(global: &GlobalArgs, clock: Clock) -> anyhow::Result<()> {
    let mut settings = settings(global)?;
    if global.database_url.is_none() && std::env::var_os("SEATGATE_DATABASE_URL").is_none() {
        let path = PathBuf::from("data/demo.db");
        for suffix in ["", "-wal", "-shm"] {
            let file = PathBuf::from(format!("{}{suffix}", path.display()));
            if file.exists() {
                std::fs::remove_file(&file).with_context(|| {
                    format!("cannot remove old demo database {}", file.display())
                })?;
            }
        }
        settings.database_url = DatabaseUrl::Sqlite(path);
    }
    let store = open_store(&settings)?;
    let mut conn = store.connection()?;
    let org = match orgs::find(&mut conn, "demo") {
        Ok(org) => org,
        Err(orgs::Error::NotFound(_)) => orgs::create(
            &mut conn,
            &clock,
            &Actor::Cli,
            "demo".parse()?,
            "Demo Company".parse()?,
        )?,
        Err(other) => return Err(other.into()),
    };
    let issued = admins::create_with_link(
        &mut conn,
        &clock,
        &settings.base_url,
        &org,
        "admin@demo.example".parse()?,
    )?;
    drop(conn);
    println!();
    println!("Seatgate demo: open {}", settings.base_url.as_str());
    println!(
        "Administrator console: {} (set a password, valid 15 minutes)",
        issued.url
    );
    println!();
    serve(settings, store, clock)
}
