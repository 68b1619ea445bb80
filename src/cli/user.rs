//! `seatgate user ...`: learners.

use std::io::Write;

use super::learner;

use clap::Subcommand;

use crate::accounts::learners;
use crate::licensing;
use crate::orgs;
use crate::store::Store;

#[derive(Subcommand)]
pub(super) enum UserCommand {
    /// One line per learner: email, name, last sign-in
    List { org: String },
    /// One learner: account, identities, last sign-in
    Show { org: String, email: String },
}

pub(super) fn run(command: UserCommand, store: &Store) -> anyhow::Result<()> {
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
