//! The command line. Subcommands and flags here are a public interface that
//! operators script against: change them only with a note in the README.

use std::io::Write;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use clap::{Args, Parser, Subcommand, ValueEnum};

use std::collections::BTreeMap;

use crate::accounts::learners::Learner;
use crate::accounts::{admins, learners};
use crate::audit::Actor;
use crate::clock::Clock;
use crate::config::{DatabaseUrl, Layer, Settings};
use crate::demo_idp::DemoIdp;
use crate::licensing::{self, LicenseCause, LicenseType};
use crate::orgs::connections::metadata_source;
use crate::orgs::connections::{self, NewConnection, Policy};
use crate::orgs::{self, DisplayName, OrgSlug, Organization, ProfileBindingPolicy};
use crate::saml::attributes::{Field, Preset};
use crate::saml::keys::SpKeys;
use crate::saml::metadata::{Certificate, IdpMetadata};
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
    /// Serve the built-in development IdP at /demo-idp (never in production)
    #[arg(long, global = true)]
    demo_idp: bool,
    /// Sign-in responses one client address may post per minute; 0: no limit [default: 600]
    #[arg(long, global = true, value_name = "N")]
    acs_rate_limit: Option<String>,
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
    /// Manage identity provider connections
    #[command(subcommand)]
    Idp(IdpCommand),
    /// Show learners
    #[command(subcommand)]
    User(UserCommand),
    /// Manage the service provider's keys and certificates
    #[command(subcommand)]
    Certs(CertsCommand),
    /// Manage license pools and seats
    #[command(subcommand)]
    License(LicenseCommand),
}

#[derive(Subcommand)]
enum LicenseCommand {
    /// Create a license pool or change its number of seats
    Set {
        org: String,
        /// License type, e.g. "Learning"
        #[arg(long = "type", value_name = "TYPE")]
        license_type: String,
        #[arg(long)]
        seats: u32,
    },
    /// One line per pool: <type> <assigned>/<seats>
    Show { org: String },
    /// Give a learner a seat
    Assign {
        org: String,
        email: String,
        /// License type (default: the only pool, or the auto-assign pool)
        #[arg(long = "type", value_name = "TYPE")]
        license_type: Option<String>,
    },
    /// Revoke the seats of learners who have not signed in for N days, listing them first
    Reclaim {
        org: String,
        #[arg(long)]
        inactive_days: u32,
        /// List only; change nothing
        #[arg(long)]
        dry_run: bool,
    },
    /// Take a learner's seat back (auto-assign will not hand it back)
    Revoke {
        org: String,
        email: String,
        /// License type (default: the only pool, or the auto-assign pool)
        #[arg(long = "type", value_name = "TYPE")]
        license_type: Option<String>,
    },
}

#[derive(Subcommand)]
enum IdpCommand {
    /// Add an IdP connection from its SAML metadata
    Add {
        /// The organization's slug
        org: String,
        /// Metadata XML file, or an http(s) URL (then refreshed daily)
        #[arg(long, value_name = "FILE|URL", required_unless_present = "entity_id", conflicts_with_all = ["entity_id", "sso_url", "certificate"])]
        metadata: Option<String>,
        /// Without metadata: the IdP's entity ID (with --sso-url and --certificate)
        #[arg(long, requires_all = ["sso_url", "certificate"])]
        entity_id: Option<String>,
        /// Without metadata: the IdP's HTTP-Redirect single sign-on URL
        #[arg(long, requires = "entity_id")]
        sso_url: Option<String>,
        /// Without metadata: a PEM signing certificate file (repeat for rollover)
        #[arg(long, value_name = "PEM_FILE", requires = "entity_id")]
        certificate: Vec<PathBuf>,
        /// Display name (default: the IdP's entity ID)
        #[arg(long)]
        name: Option<String>,
        /// Attribute names preset: entra, okta, onelogin, adfs, google, generic
        #[arg(long, default_value = "generic")]
        preset: String,
        /// Read a profile field from another attribute, e.g. --map email=workEmail
        #[arg(long = "map", value_name = "FIELD=ATTRIBUTE")]
        map: Vec<String>,
    },
    /// List an organization's IdP connections: id, name, entity ID, state
    List { org: String },
    /// Remove an IdP connection (its learners keep their accounts)
    Remove { org: String, id: String },
    /// Change a connection's switches; those not given stay as they are
    Set {
        org: String,
        id: String,
        /// Accept sign-ins through this connection
        #[arg(long, value_name = "on|off")]
        enabled: Option<Switch>,
        /// Accept IdP-initiated (unsolicited) sign-ins, as app tiles need
        #[arg(long, value_name = "on|off")]
        idp_initiated: Option<Switch>,
        /// Refuse responses whose Assertion is not itself signed
        #[arg(long, value_name = "on|off")]
        require_signed_assertion: Option<Switch>,
        /// Accept SHA-1 signatures (legacy IdPs only)
        #[arg(long, value_name = "on|off")]
        allow_sha1: Option<Switch>,
        /// Learners whose assertion carries this attribute (with --admin-role-value) open the console
        #[arg(long, value_name = "NAME", requires = "admin_role_value")]
        admin_role_attribute: Option<String>,
        /// The value of --admin-role-attribute that grants the console, e.g. a group
        #[arg(long, value_name = "VALUE", requires = "admin_role_attribute")]
        admin_role_value: Option<String>,
        /// Stop granting the console through this connection's attributes
        #[arg(long, conflicts_with = "admin_role_attribute")]
        no_admin_role: bool,
    },
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

#[derive(Subcommand)]
enum UserCommand {
    /// One line per learner: email, name, last sign-in
    List { org: String },
    /// One learner: account, identities, last sign-in
    Show { org: String, email: String },
}

#[derive(Subcommand)]
enum CertsCommand {
    /// Make a new SP key pair; the old certificate stays published until it expires
    Rotate,
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
    /// Change an organization's settings
    Set {
        slug: String,
        /// Automatically assign licenses at first sign-in
        #[arg(long, value_name = "on|off")]
        auto_assign: Option<Switch>,
        /// The license pool automatic assignment draws from
        #[arg(long, value_name = "TYPE")]
        license_type: Option<String>,
        /// Whether learners connect their LinkedIn profile ("disabled" disconnects existing ones)
        #[arg(long, value_name = "required|optional|disabled")]
        profile_binding: Option<BindingPolicy>,
    },
}

/// A profile binding policy on the command line.
#[derive(Clone, Copy, ValueEnum)]
enum BindingPolicy {
    Required,
    Optional,
    Disabled,
}

impl From<BindingPolicy> for ProfileBindingPolicy {
    fn from(policy: BindingPolicy) -> Self {
        match policy {
            BindingPolicy::Required => Self::Required,
            BindingPolicy::Optional => Self::Optional,
            BindingPolicy::Disabled => Self::Disabled,
        }
    }
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
        /// An operator of the whole service: sees and manages every organization in the console
        #[arg(long)]
        operator: bool,
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
        demo_idp: global.demo_idp.then(|| "true".to_owned()),
        acs_rate_limit: global.acs_rate_limit.clone(),
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
                OrgCommand::Set {
                    slug,
                    auto_assign,
                    license_type,
                    profile_binding,
                } => {
                    let org = orgs::find(&mut conn, &slug)?;
                    if let Some(policy) = profile_binding {
                        orgs::set_sign_in_settings(
                            &mut conn,
                            &clock,
                            &Actor::Cli,
                            &org,
                            &orgs::SignInSettings {
                                profile_binding: policy.into(),
                                learner_session: org.learner_session,
                                clock_skew: org.clock_skew,
                            },
                        )?;
                    }
                    if auto_assign.is_some() || license_type.is_some() {
                        let license_type =
                            license_type.map(|t| t.parse::<LicenseType>()).transpose()?;
                        let on = Switch::or(auto_assign, org.auto_assign_licenses);
                        licensing::set_auto_assign(
                            &mut conn,
                            &clock,
                            &Actor::Cli,
                            &org,
                            on,
                            license_type,
                        )?;
                    }
                    show_org(&mut out, &orgs::find(&mut conn, &slug)?)?;
                }
            }
            Ok(())
        }
        Command::Idp(command) => {
            let settings = settings(&cli.global)?;
            idp_command(command, &open_store(&settings)?, &clock)
        }
        Command::User(command) => {
            let settings = settings(&cli.global)?;
            user_command(command, &open_store(&settings)?)
        }
        Command::License(command) => {
            let settings = settings(&cli.global)?;
            license_command(command, &open_store(&settings)?, &clock)
        }
        Command::Certs(CertsCommand::Rotate) => {
            let settings = settings(&cli.global)?;
            let keys = SpKeys::rotate(&settings.certs_dir, clock.now())?;
            let fingerprint = |pair: &crate::saml::keys::KeyPair| {
                Certificate::from_der(pair.cert_der())
                    .map(|c| c.fingerprint)
                    .unwrap_or_default()
            };
            println!("new SP certificate {}", fingerprint(&keys.current));
            if let Some(previous) = &keys.previous {
                println!(
                    "previous certificate {} stays published until it expires",
                    fingerprint(previous)
                );
            }
            println!(
                "restart Seatgate, then update the certificate at each IdP that verifies AuthnRequests or encrypts"
            );
            Ok(())
        }
        Command::Admin(AdminCommand::Create {
            org,
            email,
            operator,
        }) => {
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
                operator,
            )?;
            let mut out = std::io::stdout().lock();
            let what = if issued.created {
                "created administrator"
            } else {
                "new sign-in link for administrator"
            };
            let role = if issued.admin.operator {
                " (operator: sees every organization)"
            } else {
                ""
            };
            writeln!(out, "{what} {} of {}{role}", issued.admin.email, org.slug)?;
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

fn idp_command(command: IdpCommand, store: &Store, clock: &Clock) -> anyhow::Result<()> {
    let mut conn = store.connection()?;
    let mut out = std::io::stdout().lock();
    match command {
        IdpCommand::Add {
            org,
            metadata,
            entity_id,
            sso_url,
            certificate,
            name,
            preset,
            map,
        } => {
            let org = orgs::find(&mut conn, &org)?;
            let (parsed, metadata_url) = match (metadata, entity_id, sso_url) {
                (Some(url), _, _) if metadata_source::is_url(&url) => {
                    let text =
                        actix_web::rt::System::new().block_on(metadata_source::fetch(&url))?;
                    (text.parse::<IdpMetadata>()?, Some(url))
                }
                (Some(file), _, _) => {
                    let text = std::fs::read_to_string(&file)
                        .with_context(|| format!("cannot read metadata file {file}"))?;
                    (text.parse::<IdpMetadata>()?, None)
                }
                (None, Some(entity_id), Some(sso_url)) => {
                    let mut certificates = Vec::new();
                    for path in &certificate {
                        let pem = std::fs::read(path).with_context(|| {
                            format!("cannot read certificate file {}", path.display())
                        })?;
                        certificates.push(Certificate::from_pem(&pem)?);
                    }
                    (IdpMetadata::manual(entity_id, sso_url, certificates)?, None)
                }
                _ => unreachable!(
                    "clap requires --metadata or --entity-id with --sso-url and --certificate"
                ),
            };
            let mut overrides = BTreeMap::new();
            for pair in map {
                let (field, attribute) = pair
                    .split_once('=')
                    .with_context(|| format!("--map {pair:?}: expected FIELD=ATTRIBUTE"))?;
                overrides.insert(
                    field.parse::<Field>().map_err(anyhow::Error::msg)?,
                    attribute.to_owned(),
                );
            }
            let now = clock.now_naive();
            let expired: Vec<_> = parsed
                .certificates
                .iter()
                .filter(|c| c.not_after <= now)
                .cloned()
                .collect();
            let connection = connections::add(
                &mut conn,
                clock,
                &Actor::Cli,
                &org,
                parsed,
                NewConnection {
                    name,
                    metadata_url,
                    preset: preset.parse::<Preset>().map_err(anyhow::Error::msg)?,
                    overrides,
                },
            )?;
            for cert in expired {
                eprintln!(
                    "warning: certificate {} ({}) expired on {}",
                    cert.fingerprint,
                    cert.subject,
                    cert.not_after.format("%Y-%m-%d")
                );
            }
            writeln!(
                out,
                "added IdP connection {} ({}) to {}",
                connection.id, connection.entity_id, org.slug
            )?;
        }
        IdpCommand::List { org } => {
            let org = orgs::find(&mut conn, &org)?;
            for c in connections::list(&mut conn, org.id)? {
                let state = if c.enabled { "enabled" } else { "disabled" };
                writeln!(out, "{}\t{}\t{}\t{state}", c.id, c.name, c.entity_id)?;
            }
        }
        IdpCommand::Set {
            org,
            id,
            enabled,
            idp_initiated,
            require_signed_assertion,
            allow_sha1,
            admin_role_attribute,
            admin_role_value,
            no_admin_role,
        } => {
            let org = orgs::find(&mut conn, &org)?;
            let connection = connections::list(&mut conn, org.id)?
                .into_iter()
                .find(|c| c.id.to_string() == id)
                .ok_or_else(|| connections::Error::NotFound {
                    org: org.slug.to_string(),
                    id: id.clone(),
                })?;
            let current = connection.policy();
            let policy = Policy {
                enabled: Switch::or(enabled, current.enabled),
                allow_idp_initiated: Switch::or(idp_initiated, current.allow_idp_initiated),
                require_signed_assertion: Switch::or(
                    require_signed_assertion,
                    current.require_signed_assertion,
                ),
                allow_sha1: Switch::or(allow_sha1, current.allow_sha1),
            };
            connections::set_policy(&mut conn, clock, &Actor::Cli, &org, connection.id, policy)?;
            let role = match (admin_role_attribute, admin_role_value) {
                (Some(attribute), Some(value)) => {
                    Some(connections::AdminRole::from_input(&attribute, &value)?)
                }
                _ if no_admin_role => Some(None),
                _ => None,
            };
            if let Some(role) = role {
                connections::set_admin_role(
                    &mut conn,
                    clock,
                    &Actor::Cli,
                    &org,
                    connection.id,
                    role,
                )?;
            }
            let on_off = |on: bool| if on { "on" } else { "off" };
            writeln!(
                out,
                "{}: enabled {}, idp-initiated {}, require-signed-assertion {}, allow-sha1 {}",
                connection.id,
                on_off(policy.enabled),
                on_off(policy.allow_idp_initiated),
                on_off(policy.require_signed_assertion),
                on_off(policy.allow_sha1)
            )?;
        }
        IdpCommand::Remove { org, id } => {
            let org = orgs::find(&mut conn, &org)?;
            let removed = connections::remove(&mut conn, clock, &Actor::Cli, &org, &id)?;
            writeln!(
                out,
                "removed IdP connection {} ({})",
                removed.id, removed.entity_id
            )?;
        }
    }
    Ok(())
}

fn user_command(command: UserCommand, store: &Store) -> anyhow::Result<()> {
    let mut conn = store.connection()?;
    let mut out = std::io::stdout().lock();
    let when = |t: Option<chrono::NaiveDateTime>| {
        t.map_or("never".to_owned(), |t| t.and_utc().to_rfc3339())
    };
    match command {
        UserCommand::List { org } => {
            let org = orgs::find(&mut conn, &org)?;
            for learner in learners::list(&mut conn, org.id)? {
                writeln!(
                    out,
                    "{}\t{}\t{}",
                    learner.email,
                    learner.display_name,
                    when(learner.last_sign_in_at)
                )?;
            }
        }
        UserCommand::Show { org, email } => {
            let org = orgs::find(&mut conn, &org)?;
            let learner = learner(&mut conn, &org, &email)?;
            writeln!(out, "email: {}", learner.email)?;
            writeln!(out, "name: {}", learner.display_name)?;
            writeln!(out, "id: {}", learner.id)?;
            writeln!(out, "organization: {}", org.slug)?;
            writeln!(
                out,
                "created: {}",
                learner.created_at.and_utc().to_rfc3339()
            )?;
            writeln!(out, "last_sign_in: {}", when(learner.last_sign_in_at))?;
            writeln!(
                out,
                "console_admin: {}",
                if learner.is_admin { "yes" } else { "no" }
            )?;
            match licensing::license_of(&mut conn, &learner)? {
                Some(license) => writeln!(
                    out,
                    "license: {} since {} ({})",
                    license.license_type,
                    license.since.and_utc().to_rfc3339(),
                    license.cause.as_str()
                )?,
                None => writeln!(out, "license: none")?,
            }
            match crate::binding::binding_of(&mut conn, learner.id)? {
                Some(binding) => writeln!(
                    out,
                    "linkedin: {} ({})",
                    binding.member.sub,
                    binding.member.name.as_deref().unwrap_or("no name")
                )?,
                None => writeln!(out, "linkedin: none")?,
            }
            for identity in learners::identities(&mut conn, learner.id)? {
                writeln!(
                    out,
                    "identity: {} {}",
                    identity.connection_name, identity.name_id
                )?;
            }
        }
    }
    Ok(())
}

/// The organization, learner and license type a `license assign|revoke` names.
/// Without `--type`: the only pool, else the auto-assign one.
fn seat_of(
    conn: &mut crate::store::DbConn,
    org: &str,
    email: &str,
    given: Option<String>,
) -> anyhow::Result<(Organization, Learner, LicenseType)> {
    let org = orgs::find(conn, org)?;
    let learner = learner(conn, &org, email)?;
    let license_type = match given {
        Some(text) => text.parse()?,
        None => {
            let pools = licensing::pools(conn, org.id)?;
            match (pools.as_slice(), &org.auto_assign_license_type) {
                ([only], _) => only.license_type.clone(),
                (_, Some(auto)) => auto.clone(),
                ([], None) => anyhow::bail!(
                    "organization {:?} has no license pool: create one with license set",
                    org.slug.as_str()
                ),
                _ => anyhow::bail!(
                    "organization {:?} has several license pools: name one with --type",
                    org.slug.as_str()
                ),
            }
        }
    };
    Ok((org, learner, license_type))
}

fn license_command(command: LicenseCommand, store: &Store, clock: &Clock) -> anyhow::Result<()> {
    let mut conn = store.connection()?;
    let mut out = std::io::stdout().lock();
    match command {
        LicenseCommand::Set {
            org,
            license_type,
            seats,
        } => {
            let org = orgs::find(&mut conn, &org)?;
            let pool = licensing::set_pool(
                &mut conn,
                clock,
                &Actor::Cli,
                &org,
                &license_type.parse()?,
                seats,
            )?;
            writeln!(
                out,
                "{} {}/{}",
                pool.license_type, pool.assigned, pool.seats
            )?;
            if pool.over_allocated() {
                eprintln!(
                    "warning: {} seats are in use: the pool is over-allocated and assigns no new seats",
                    pool.assigned
                );
            }
        }
        LicenseCommand::Show { org } => {
            let org = orgs::find(&mut conn, &org)?;
            for pool in licensing::pools(&mut conn, org.id)? {
                writeln!(
                    out,
                    "{} {}/{}",
                    pool.license_type, pool.assigned, pool.seats
                )?;
            }
        }
        LicenseCommand::Reclaim {
            org,
            inactive_days,
            dry_run,
        } => {
            let org = orgs::find(&mut conn, &org)?;
            let reclaimed =
                licensing::reclaim(&mut conn, clock, &Actor::Cli, &org, inactive_days, dry_run)?;
            for (email, license_type) in &reclaimed {
                writeln!(out, "{email}\t{license_type}")?;
            }
            let verb = if dry_run {
                "would reclaim"
            } else {
                "reclaimed"
            };
            writeln!(out, "{verb} {} seats", reclaimed.len())?;
        }
        LicenseCommand::Assign {
            org,
            email,
            license_type,
        } => {
            let (org, learner, license_type) = seat_of(&mut conn, &org, &email, license_type)?;
            licensing::assign(
                &mut conn,
                clock,
                &Actor::Cli,
                LicenseCause::Cli,
                &org,
                &learner,
                &license_type,
            )?;
            writeln!(out, "assigned a {license_type} seat to {}", learner.email)?;
        }
        LicenseCommand::Revoke {
            org,
            email,
            license_type,
        } => {
            let (org, learner, license_type) = seat_of(&mut conn, &org, &email, license_type)?;
            licensing::revoke(
                &mut conn,
                clock,
                &Actor::Cli,
                LicenseCause::Cli,
                &org,
                &learner,
                &license_type,
            )?;
            writeln!(out, "revoked the {license_type} seat of {}", learner.email)?;
        }
    }
    Ok(())
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
        "auto_assign_license_type: {}",
        org.auto_assign_license_type
            .as_ref()
            .map_or("none", |t| t.as_str())
    )?;
    writeln!(
        out,
        "profile_binding_policy: {}",
        org.profile_binding_policy.as_str()
    )?;
    writeln!(
        out,
        "learner_session_minutes: {}",
        org.learner_session.minutes()
    )?;
    writeln!(out, "clock_skew_seconds: {}", org.clock_skew.num_seconds())
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
    let sp_keys =
        SpKeys::load_or_generate(&settings.certs_dir, clock.now()).context("certs_dir")?;
    let demo_idp = if settings.demo_idp {
        tracing::warn!("the demo IdP is enabled at /demo-idp: for trying Seatgate only");
        Some(
            DemoIdp::load_or_generate(&settings.certs_dir, &settings.base_url)
                .context("certs_dir")?,
        )
    } else {
        None
    };
    if settings.linkedin.is_none() {
        tracing::info!("no linkedin_client_id: learners cannot connect LinkedIn profiles");
    }
    let state = AppState::new(store, clock, settings, sp_keys, demo_idp)
        .map_err(|e| anyhow::anyhow!("linkedin: {e}"))?;
    actix_web::rt::System::new().block_on(async move {
        web::spawn_housekeeping(state.clone());
        web::serve(listener, state)?.await
    })?;
    Ok(())
}

/// A fresh SQLite database (unless one is named) with an organization "demo"
/// wired to the built-in demo IdP, an administrator, then the server.
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
    settings.demo_idp = true;
    let idp =
        DemoIdp::load_or_generate(&settings.certs_dir, &settings.base_url).context("certs_dir")?;
    crate::demo_idp::connect(&mut conn, &clock, &org, &idp)?;
    // Five seats, assigned at first sign-in, so the demo shows the product's promise.
    let learning: LicenseType = "Learning".parse()?;
    licensing::set_pool(&mut conn, &clock, &Actor::Cli, &org, &learning, 5)?;
    licensing::set_auto_assign(&mut conn, &clock, &Actor::Cli, &org, true, Some(learning))?;
    let issued = admins::create_with_link(
        &mut conn,
        &clock,
        &settings.base_url,
        &org,
        "admin@demo.example".parse()?,
        false,
    )?;
    drop(conn);
    println!();
    println!("Seatgate demo is starting.");
    println!(
        "Learner sign-in:       {}",
        settings.base_url.join("/sso/demo/login")
    );
    println!(
        "Administrator console: {} (set a password; valid 15 minutes)",
        issued.url
    );
    println!();
    serve(settings, store, clock)
}
