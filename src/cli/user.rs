//! `seatgate user ...`: learners.

use std::io::Write;

use super::learner;

use clap::Subcommand;

use crate::accounts::learners;
use crate::audit::Actor;
use crate::clock::Clock;
use crate::config::Settings;
use crate::invitations;
use crate::licensing::{self, LicenseType};
use crate::mail::Mailer;
use crate::orgs;
use crate::store::Store;

#[derive(Subcommand)]
pub(super) enum UserCommand {
    /// One line per learner: email, name, last sign-in
    List { org: String },
    /// One learner: account, identities, last sign-in
    Show { org: String, email: String },
    /// Invite learners by email: each gets an account now and a single-use
    /// link (valid 14 days) by email, or printed with --no-email or without
    /// smtp_url. One line per address; exit status 1 when any needs attention
    Invite {
        org: String,
        #[arg(required = true, value_name = "EMAIL")]
        emails: Vec<String>,
        /// Give each a seat of this license type at once
        #[arg(long, value_name = "TYPE")]
        license_type: Option<String>,
        /// Print the links instead of emailing them
        #[arg(long)]
        no_email: bool,
    },
}

pub(super) fn run(
    command: UserCommand,
    settings: &Settings,
    store: &Store,
    clock: &Clock,
) -> anyhow::Result<()> {
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
            match learner.scim.managed_by {
                Some(id) => {
                    let name = crate::scim::config_by_id(&mut conn, id)?
                        .map_or_else(|| id.to_string(), |c| c.name);
                    writeln!(out, "source: scim ({name})")?;
                }
                None => writeln!(out, "source: local")?,
            }
            writeln!(out, "active: {}", if learner.active { "yes" } else { "no" })?;
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
        UserCommand::Invite {
            org,
            emails,
            license_type,
            no_email,
        } => {
            let org = orgs::find(&mut conn, &org)?;
            let license_type = license_type.map(|t| t.parse::<LicenseType>()).transpose()?;
            let mailer = match (&settings.mail, no_email) {
                (Some(mail), false) => Some(Mailer::new(mail).map_err(anyhow::Error::msg)?),
                _ => None,
            };
            let mut outcomes = invitations::invite_many(
                &mut conn,
                clock,
                &Actor::Cli,
                &settings.base_url,
                &org,
                &emails,
                license_type.as_ref(),
            )?;
            if let Some(mailer) = &mailer {
                invitations::deliver(mailer, &org, &mut outcomes);
                invitations::record_deliveries(&mut conn, clock, &outcomes)?;
            }
            for outcome in &outcomes {
                let done = match &outcome.result {
                    Ok(done) => done,
                    Err(e) => {
                        writeln!(out, "refused {}: {e}", outcome.address)?;
                        continue;
                    }
                };
                let (email, link) = (&done.invited.invitation.email, &done.invited.link);
                match &done.email {
                    None => writeln!(out, "invited {email}: {link}")?,
                    Some(Ok(())) => writeln!(out, "invited {email}: email sent")?,
                    Some(Err(e)) => {
                        writeln!(out, "invited {email}: email not sent ({e}); link: {link}")?;
                    }
                }
                match &done.seat {
                    None => {}
                    Some(Ok(())) => writeln!(
                        out,
                        "  seat: {}",
                        license_type.as_ref().map_or("", LicenseType::as_str)
                    )?,
                    Some(Err(e)) => writeln!(out, "  seat: not assigned ({e})")?,
                }
            }
            let attention = outcomes.iter().filter(|o| o.needs_attention()).count();
            if attention > 0 {
                anyhow::bail!(
                    "{attention} of {} invitations need attention (see above)",
                    emails.len()
                );
            }
        }
    }
    Ok(())
}
