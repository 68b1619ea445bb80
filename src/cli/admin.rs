//! `seatgate admin ...`: administrators and their sign-in links.

use std::io::Write;

use clap::Subcommand;

use crate::accounts::admins;
use crate::clock::Clock;
use crate::config::Settings;
use crate::orgs;
use crate::store::Store;

#[derive(Subcommand)]
pub(super) enum AdminCommand {
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

pub(super) fn run(
    command: AdminCommand,
    settings: &Settings,
    store: &Store,
    clock: &Clock,
) -> anyhow::Result<()> {
    let AdminCommand::Create {
        org,
        email,
        operator,
    } = command;
    let mut conn = store.connection()?;
    let org = orgs::find(&mut conn, &org)?;
    let issued = admins::create_with_link(
        &mut conn,
        clock,
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
