//! `seatgate license ...`: license pools and seats.

use std::io::Write;

use super::learner;

use clap::Subcommand;

use crate::accounts::learners::Learner;
use crate::audit::Actor;
use crate::clock::Clock;
use crate::licensing::{self, LicenseCause, LicenseType};
use crate::orgs::{self, Organization};
use crate::store::Store;

#[derive(Subcommand)]
pub(super) enum LicenseCommand {
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

pub(super) fn run(command: LicenseCommand, store: &Store, clock: &Clock) -> anyhow::Result<()> {
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
