//! Learners invited by email: a learner account created ahead of their first
//! sign-in (optionally with a seat), and a single-use link valid 14 days of
//! which only the hash is kept. The link opens the organization's sign-in;
//! the invitation is accepted when the learner signs in. Re-inviting (or
//! "resend") makes a new link and ends the old one; cancelling ends it.

mod queries;

use chrono::{NaiveDateTime, TimeDelta};
use serde_json::json;

use crate::accounts::Email;
use crate::accounts::learners::{self, Learner};
use crate::audit::{self, Action, Actor};
use crate::clock::Clock;
use crate::config::BaseUrl;
use crate::ids::{InvitationId, OrgId, UserId};
use crate::licensing::{self, LicenseCause, LicenseType};
use crate::mail::{MailError, Mailer};
use crate::orgs::{self, Organization};
use crate::secret::SecretToken;
use crate::store::{self, DbConn};

/// How long an invitation link works.
pub const LIFETIME: TimeDelta = TimeDelta::days(14);

/// An invitation as stored (never its token).
#[derive(Clone, Debug)]
pub struct Invitation {
    pub id: InvitationId,
    pub org: OrgId,
    pub learner: UserId,
    pub email: Email,
    pub invited_by: Actor,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub accepted_at: Option<NaiveDateTime>,
    pub cancelled_at: Option<NaiveDateTime>,
    pub sent_at: Option<NaiveDateTime>,
    /// Why the last email did not go out.
    pub send_error: Option<String>,
}

/// Where an invitation stands.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Status {
    Pending,
    Accepted,
    Cancelled,
    Expired,
}

impl Invitation {
    pub fn status(&self, now: NaiveDateTime) -> Status {
        if self.accepted_at.is_some() {
            Status::Accepted
        } else if self.cancelled_at.is_some() {
            Status::Cancelled
        } else if self.expires_at <= now {
            Status::Expired
        } else {
            Status::Pending
        }
    }
}

impl Status {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Accepted => "accepted",
            Self::Cancelled => "cancelled",
            Self::Expired => "expired",
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0} has signed in already: there is nothing to invite them to")]
    AlreadyActive(Email),
    #[error("{email} is not at one of the organization's email domains ({domains})")]
    OutsideDomains { email: Email, domains: String },
    #[error(transparent)]
    InvalidEmail(#[from] crate::accounts::InvalidEmail),
    #[error("no such invitation")]
    NotFound,
    #[error("this invitation was {} already", .0.as_str())]
    Ended(Status),
    #[error(transparent)]
    Store(#[from] store::Error),
}

/// A new invitation and the link to send (shown once, never stored).
#[derive(Debug)]
pub struct Invited {
    pub invitation: Invitation,
    pub link: String,
}

/// Invites `email` to `org`: the learner account (made now unless it exists
/// and has never signed in) and a fresh link; any earlier open invitation of
/// the learner ends. Audited.
pub fn invite(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    base_url: &BaseUrl,
    org: &Organization,
    email: &Email,
) -> Result<Invited, Error> {
    store::write_transaction(conn, |conn| {
        let now = clock.now_naive();
        // Where the organization has named its domains, an address elsewhere
        // is a typo or somebody else's.
        let domains = orgs::email_domains(conn, org)?;
        if !domains.is_empty() && !domains.iter().any(|d| d.as_str() == email.domain()) {
            return Err(Error::OutsideDomains {
                email: email.clone(),
                domains: orgs::listed_domains(&domains),
            });
        }
        let learner = match learners::by_email(conn, org.id, email)? {
            Some(learner) if learner.last_sign_in_at.is_some() => {
                return Err(Error::AlreadyActive(email.clone()));
            }
            Some(learner) => learner,
            None => {
                let learner = Learner::new(org.id, email.clone(), String::new(), now);
                learners::insert(conn, &learner)?;
                learner
            }
        };
        let invited = issue(conn, clock, actor, base_url, org, &learner)?;
        audit::record(
            conn,
            clock,
            audit::NewEvent::new(Some(org.id), actor, Action::LearnerInvited)
                .target(email.as_str())
                .details(json!({ "invitation": invited.invitation.id.to_string() })),
        )?;
        Ok(invited)
    })
}

/// A new link for `learner`, ending any open one.
fn issue(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    base_url: &BaseUrl,
    org: &Organization,
    learner: &Learner,
) -> Result<Invited, store::Error> {
    let now = clock.now_naive();
    queries::end_open(conn, learner.id, now, false)?;
    let token = SecretToken::generate();
    let id = InvitationId::generate();
    queries::insert(
        conn,
        &queries::NewInvitation {
            id,
            org: org.id,
            learner: learner.id,
            token: &token.hash(),
            invited_by: actor.to_string(),
            now,
            expires_at: now + LIFETIME,
        },
    )?;
    Ok(Invited {
        invitation: Invitation {
            id,
            org: org.id,
            learner: learner.id,
            email: learner.email.clone(),
            invited_by: actor.clone(),
            created_at: now,
            expires_at: now + LIFETIME,
            accepted_at: None,
            cancelled_at: None,
            sent_at: None,
            send_error: None,
        },
        link: base_url.join(&format!("/invitations/{}", token.expose())),
    })
}

/// What inviting one address did.
#[derive(Debug)]
pub struct Outcome {
    /// The address as given.
    pub address: String,
    pub result: Result<Delivered, Error>,
}

/// An invitation made, and what happened next.
#[derive(Debug)]
pub struct Delivered {
    pub invited: Invited,
    /// `None`: not emailed (no mail server configured, or not wanted); the
    /// link is to be handed over.
    pub email: Option<Result<(), MailError>>,
    /// `None`: no seat asked for.
    pub seat: Option<Result<(), licensing::Error>>,
}

impl Outcome {
    /// Whether someone needs to act: refused, not emailed when it should
    /// have been, or no seat.
    pub fn needs_attention(&self) -> bool {
        match &self.result {
            Err(_) => true,
            Ok(done) => matches!(done.email, Some(Err(_))) || matches!(done.seat, Some(Err(_))),
        }
    }
}

/// Invites each address on its own (one refused address changes nothing for
/// the others): the invitation, and a seat of `license_type` when given. No
/// email yet: [`deliver`] sends it without a database connection, then
/// [`record_deliveries`] stores what happened.
pub fn invite_many(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    base_url: &BaseUrl,
    org: &Organization,
    addresses: &[String],
    license_type: Option<&LicenseType>,
) -> Result<Vec<Outcome>, store::Error> {
    let mut outcomes = Vec::new();
    for address in addresses {
        let invited = address
            .parse::<Email>()
            .map_err(Error::from)
            .and_then(|email| invite(conn, clock, actor, base_url, org, &email));
        let invited = match invited {
            Ok(invited) => invited,
            Err(Error::Store(e)) => return Err(e),
            Err(e) => {
                outcomes.push(Outcome {
                    address: address.clone(),
                    result: Err(e),
                });
                continue;
            }
        };
        let seat = license_type.map(|license_type| {
            assign_seat(conn, clock, actor, org, &invited.invitation, license_type)
        });
        outcomes.push(Outcome {
            address: address.clone(),
            result: Ok(Delivered {
                invited,
                email: None,
                seat,
            }),
        });
    }
    Ok(outcomes)
}

/// Emails each invitation made; blocks for the SMTP conversations, so the
/// caller runs it on the blocking pool, holding no database connection.
pub fn deliver(mailer: &Mailer, org: &Organization, outcomes: &mut [Outcome]) {
    for done in outcomes.iter_mut().filter_map(|o| o.result.as_mut().ok()) {
        done.email = Some(send(mailer, org, &done.invited));
    }
}

/// Stores whether each email went out (`Err` keeps the reason to show).
pub fn record_deliveries(
    conn: &mut DbConn,
    clock: &Clock,
    outcomes: &[Outcome],
) -> Result<(), store::Error> {
    for done in outcomes.iter().filter_map(|o| o.result.as_ref().ok()) {
        let id = done.invited.invitation.id;
        match &done.email {
            None => {}
            Some(Ok(())) => queries::record_delivery(conn, id, Some(clock.now_naive()), None)?,
            Some(Err(e)) => queries::record_delivery(conn, id, None, Some(&e.to_string()))?,
        }
    }
    Ok(())
}

/// Gives the invited learner a seat of `license_type` at once (a separate
/// step: a full pool leaves the invitation standing, and says so).
pub fn assign_seat(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    org: &Organization,
    invitation: &Invitation,
    license_type: &LicenseType,
) -> Result<(), licensing::Error> {
    let learner = learners::find_by_id(conn, invitation.learner)?.ok_or(store::Error::Corrupt {
        what: "invited learner",
        value: invitation.learner.to_string(),
    })?;
    let cause = match actor {
        Actor::Cli => LicenseCause::Cli,
        _ => LicenseCause::Admin,
    };
    licensing::assign(conn, clock, actor, cause, org, &learner, license_type)
}

/// A new link for an open (or expired) invitation; the old link stops
/// working.
pub fn resend(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    base_url: &BaseUrl,
    org: &Organization,
    id: InvitationId,
) -> Result<Invited, Error> {
    store::write_transaction(conn, |conn| {
        let old = unanswered(conn, clock, org, id)?;
        let learner = learners::find_by_id(conn, old.learner)?.ok_or(Error::NotFound)?;
        let invited = issue(conn, clock, actor, base_url, org, &learner)?;
        audit::record(
            conn,
            clock,
            audit::NewEvent::new(Some(org.id), actor, Action::LearnerInvited)
                .target(old.email.as_str())
                .details(json!({
                    "invitation": invited.invitation.id.to_string(),
                    "replaces": old.id.to_string(),
                })),
        )?;
        Ok(invited)
    })
}

/// An invitation of `org` nobody has answered: pending, or expired (which
/// an administrator may still resend or cancel).
fn unanswered(
    conn: &mut DbConn,
    clock: &Clock,
    org: &Organization,
    id: InvitationId,
) -> Result<Invitation, Error> {
    let invitation = queries::by_id(conn, org.id, id)?.ok_or(Error::NotFound)?;
    match invitation.status(clock.now_naive()) {
        Status::Pending | Status::Expired => Ok(invitation),
        ended => Err(Error::Ended(ended)),
    }
}

/// Ends an open invitation; its link stops working. The learner account
/// stays (with any seat), as after any other change of mind.
pub fn cancel(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    org: &Organization,
    id: InvitationId,
) -> Result<(), Error> {
    store::write_transaction(conn, |conn| {
        let invitation = unanswered(conn, clock, org, id)?;
        queries::end_open(conn, invitation.learner, clock.now_naive(), false)?;
        audit::record(
            conn,
            clock,
            audit::NewEvent::new(Some(org.id), actor, Action::InvitationCancelled)
                .target(invitation.email.as_str())
                .details(json!({ "invitation": invitation.id.to_string() })),
        )?;
        Ok(())
    })
}

/// Sends one invitation email (blocks for the SMTP conversation).
fn send(mailer: &Mailer, org: &Organization, invited: &Invited) -> Result<(), MailError> {
    let body = format!(
        "Hello,\n\n\
         {org} has invited you to its learning platform.\n\n\
         Open this link to sign in and get started (it works once, until {until} UTC):\n\n\
         {link}\n\n\
         If you did not expect this invitation, you can ignore this email.\n",
        org = org.display_name,
        until = invited.invitation.expires_at.format("%Y-%m-%d %H:%M"),
        link = invited.link,
    );
    mailer.send(
        &invited.invitation.email,
        &format!("{} invites you to learning", org.display_name),
        body,
    )
}

/// The invitation with this id, if it is still open.
pub fn open_by_id(conn: &mut DbConn, clock: &Clock, id: InvitationId) -> Result<Invitation, Error> {
    let invitation = queries::by_id_any(conn, id)?.ok_or(Error::NotFound)?;
    match invitation.status(clock.now_naive()) {
        Status::Pending => Ok(invitation),
        ended => Err(Error::Ended(ended)),
    }
}

/// The open invitation a link names, or why it cannot be used.
pub fn open(conn: &mut DbConn, clock: &Clock, token: &str) -> Result<Invitation, Error> {
    let token = SecretToken::from_presented(token).ok_or(Error::NotFound)?;
    let invitation = queries::by_token(conn, &token.hash())?.ok_or(Error::NotFound)?;
    match invitation.status(clock.now_naive()) {
        Status::Pending => Ok(invitation),
        ended => Err(Error::Ended(ended)),
    }
}

/// Marks the learner's open invitation accepted: they signed in. Runs in
/// the sign-in's transaction.
pub fn accept(conn: &mut DbConn, clock: &Clock, learner: &Learner) -> Result<(), store::Error> {
    if queries::end_open(conn, learner.id, clock.now_naive(), true)? > 0 {
        audit::record(
            conn,
            clock,
            audit::NewEvent::new(
                Some(learner.org),
                &Actor::Learner(learner.id),
                Action::InvitationAccepted,
            )
            .target(learner.email.as_str()),
        )?;
    }
    Ok(())
}

/// The organization's invitations, newest first.
pub fn list(conn: &mut DbConn, org: &Organization) -> Result<Vec<Invitation>, store::Error> {
    queries::of_org(conn, org.id)
}
