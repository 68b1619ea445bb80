//! `seatgate scim ...`: SCIM configurations and their bearer tokens (issue
//! 15's public interface: the token is the last line of stdout, so scripts
//! can take it with `tail -n 1`).

use std::io::Write;

use clap::Subcommand;

use super::Switch;
use crate::audit::Actor;
use crate::clock::Clock;
use crate::config::Settings;
use crate::licensing::LicenseType;
use crate::orgs;
use crate::scim::{self, NewConfig};
use crate::store::Store;

#[derive(Subcommand)]
pub(super) enum ScimCommand {
    /// Create a SCIM configuration for the organization's IdP; prints the
    /// tenant URL and, as the last line, its bearer token (shown once)
    Create {
        org: String,
        #[arg(long, value_name = "NAME")]
        name: String,
        /// Give active learners it pushes a seat of --license-type [default: off]
        #[arg(long, value_enum, value_name = "ON|OFF")]
        auto_assign: Option<Switch>,
        #[arg(long, value_name = "TYPE")]
        license_type: Option<String>,
    },
    /// One line per configuration: id, name, auto-assign, license type, last used
    List { org: String },
    /// A new bearer token for a configuration; the old one stops working
    Rotate { org: String, id: String },
    /// Remove a configuration: its token stops working, its learners stay
    Remove { org: String, id: String },
}

pub(super) fn run(
    command: ScimCommand,
    settings: &Settings,
    store: &Store,
    clock: &Clock,
) -> anyhow::Result<()> {
    let mut conn = store.connection()?;
    let mut out = std::io::stdout().lock();
    let tenant_url = settings.base_url.join("/scim/v2");
    match command {
        ScimCommand::Create {
            org,
            name,
            auto_assign,
            license_type,
        } => {
            let org = orgs::find(&mut conn, &org)?;
            let license_type = license_type.map(|t| t.parse::<LicenseType>()).transpose()?;
            let (config, token) = scim::create(
                &mut conn,
                clock,
                &Actor::Cli,
                &org,
                NewConfig {
                    name,
                    auto_assign: Switch::or(auto_assign, false),
                    license_type,
                },
            )?;
            writeln!(
                out,
                "created SCIM configuration {} ({})",
                config.id, config.name
            )?;
            writeln!(out, "tenant URL: {tenant_url}")?;
            writeln!(
                out,
                "token (shown once; paste it into the IdP as the secret token):"
            )?;
            writeln!(out, "{}", token.expose())?;
        }
        ScimCommand::List { org } => {
            let org = orgs::find(&mut conn, &org)?;
            for config in scim::list(&mut conn, org.id)? {
                writeln!(
                    out,
                    "{}\t{}\tauto-assign {}\t{}\t{}",
                    config.id,
                    config.name,
                    if config.auto_assign { "on" } else { "off" },
                    config
                        .license_type
                        .as_ref()
                        .map_or("-", LicenseType::as_str),
                    config
                        .last_used_at
                        .map_or("never used".to_owned(), |t| format!(
                            "last used {}",
                            t.and_utc().to_rfc3339()
                        )),
                )?;
            }
        }
        ScimCommand::Rotate { org, id } => {
            let org = orgs::find(&mut conn, &org)?;
            let (config, token) = scim::rotate(&mut conn, clock, &Actor::Cli, &org, &id)?;
            writeln!(
                out,
                "new token for {} ({}); the old one no longer works:",
                config.id, config.name
            )?;
            writeln!(out, "{}", token.expose())?;
        }
        ScimCommand::Remove { org, id } => {
            let org = orgs::find(&mut conn, &org)?;
            let config = scim::remove(&mut conn, clock, &Actor::Cli, &org, &id)?;
            writeln!(
                out,
                "removed SCIM configuration {} ({}); its learners are managed by administrators again",
                config.id, config.name
            )?;
        }
    }
    Ok(())
}
