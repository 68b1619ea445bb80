//! Setup links: a single-use, expiring link an administrator (or the
//! operator) hands to the customer's IT team, so that they can see the
//! values for their IdP, follow the guide, add or update this
//! organization's IdP connection and run a Test sign-in, without a console
//! account and nothing else. The first browser to open the link holds a
//! session limited to the Single sign-on pages, valid while the link is:
//! revoking the link, or its expiry, ends it. Everything is audited.

mod queries;

use chrono::{NaiveDateTime, TimeDelta};
use serde_json::json;

use super::Organization;
use crate::audit::{self, Action, Actor};
use crate::clock::Clock;
use crate::config::BaseUrl;
use crate::ids::{OrgId, SetupLinkId};
use crate::secret::SecretToken;
use crate::store::{self, DbConn};

/// How long a link lives unless told otherwise.
pub const DEFAULT_HOURS: u32 = 72;
/// The longest a link may live: two weeks.
pub const MAX_HOURS: u32 = 14 * 24;

/// A setup link as stored (its token only as a hash).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SetupLink {
    pub id: SetupLinkId,
    pub org: OrgId,
    pub created_by: Actor,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub opened_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

impl SetupLink {
    /// Whether a session opened with it may still act.
    pub fn usable(&self, now: NaiveDateTime) -> bool {
        self.revoked_at.is_none() && now < self.expires_at
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("a setup link lives 1 to {MAX_HOURS} hours")]
    Hours,
    /// Unknown, opened already, revoked or expired: one answer for all.
    #[error("this setup link can no longer be used")]
    Unusable,
    #[error("no such setup link")]
    NotFound,
    #[error(transparent)]
    Store(#[from] store::Error),
}

/// A new link and its URL, shown once.
pub struct Created {
    pub link: SetupLink,
    pub url: String,
}

pub fn create(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    base_url: &BaseUrl,
    org: &Organization,
    hours: u32,
) -> Result<Created, Error> {
    if !(1..=MAX_HOURS).contains(&hours) {
        return Err(Error::Hours);
    }
    let token = SecretToken::generate();
    let now = clock.now_naive();
    let link = SetupLink {
        id: SetupLinkId::generate(),
        org: org.id,
        created_by: actor.clone(),
        created_at: now,
        expires_at: now + TimeDelta::hours(i64::from(hours)),
        opened_at: None,
        revoked_at: None,
    };
    store::write_transaction(conn, |conn| {
        queries::insert(conn, &link, &token.hash())?;
        audit::record(
            conn,
            clock,
            audit::NewEvent::new(Some(org.id), actor, Action::SetupLinkCreated)
                .details(json!({ "setup_link": link.id.to_string(), "hours": hours })),
        )?;
        Ok::<_, Error>(())
    })?;
    Ok(Created {
        url: base_url.join(&format!("/setup/{}", token.expose())),
        link,
    })
}

/// Opens a link presented in a URL: the first time only, while it lives.
pub fn open(conn: &mut DbConn, clock: &Clock, presented: &str) -> Result<SetupLink, Error> {
    let token = SecretToken::from_presented(presented).ok_or(Error::Unusable)?;
    let now = clock.now_naive();
    store::write_transaction(conn, |conn| {
        let link = queries::by_token(conn, &token.hash())?.ok_or(Error::Unusable)?;
        // The update decides between two browsers racing for one link.
        if !link.usable(now)
            || link.opened_at.is_some()
            || !queries::mark_opened(conn, link.id, now)?
        {
            return Err(Error::Unusable);
        }
        audit::record(
            conn,
            clock,
            audit::NewEvent::new(
                Some(link.org),
                &Actor::Setup(link.id),
                Action::SetupLinkOpened,
            )
            .details(json!({ "setup_link": link.id.to_string() })),
        )?;
        Ok(SetupLink {
            opened_at: Some(now),
            ..link
        })
    })
}

/// A link by id, whatever its state.
pub fn find(conn: &mut DbConn, id: SetupLinkId) -> Result<Option<SetupLink>, store::Error> {
    queries::by_id(conn, id)
}

/// The organization's links, newest first.
pub fn list(conn: &mut DbConn, org: &Organization) -> Result<Vec<SetupLink>, store::Error> {
    queries::for_org(conn, org.id)
}

/// Revokes a link: it cannot be opened, and the session opened with it ends.
pub fn revoke(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    org: &Organization,
    id: SetupLinkId,
) -> Result<(), Error> {
    store::write_transaction(conn, |conn| {
        let link = queries::by_id(conn, id)?
            .filter(|l| l.org == org.id)
            .ok_or(Error::NotFound)?;
        if link.revoked_at.is_none() {
            queries::mark_revoked(conn, id, clock.now_naive())?;
            audit::record(
                conn,
                clock,
                audit::NewEvent::new(Some(org.id), actor, Action::SetupLinkRevoked)
                    .details(json!({ "setup_link": id.to_string() })),
            )?;
        }
        Ok(())
    })
}
