//! Server-side sessions.
//!
//! The cookie carries only an opaque random token; the database keeps its
//! SHA-256, who is signed in, the CSRF token and the expiry. A visitor who is
//! not signed in gets an anonymous session when a form needs a CSRF token;
//! signing in always replaces the session with a new token (no fixation).

mod queries;

use chrono::{NaiveDateTime, TimeDelta};

use crate::clock::Clock;
use crate::ids::{AdminId, SetupLinkId, UserId};
use crate::secret::{SecretToken, TokenHash};
use crate::store::{self, DbConn};

/// Who a session belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Principal {
    /// Nobody signed in yet; the session only carries a CSRF token.
    Anonymous,
    Admin(AdminId),
    Learner(UserId),
    /// Whoever opened a setup link: the Single sign-on pages only.
    Setup(SetupLinkId),
}

impl Principal {
    /// How long a session of this kind lives.
    pub fn lifetime(self) -> TimeDelta {
        match self {
            Principal::Anonymous => TimeDelta::hours(1),
            Principal::Admin(_) | Principal::Learner(_) | Principal::Setup(_) => {
                TimeDelta::hours(8)
            }
        }
    }
}

#[derive(Clone, Debug)]
pub struct Session {
    pub id: TokenHash,
    pub csrf: SecretToken,
    pub principal: Principal,
    pub expires_at: NaiveDateTime,
    /// A message for the next page ("Settings saved"), shown once.
    pub flash: Option<String>,
}

/// A new session and the token for its cookie.
#[derive(Debug)]
pub struct Started {
    pub token: SecretToken,
    pub session: Session,
    /// How long the session lives (for the cookie's Max-Age).
    pub lifetime: TimeDelta,
}

/// Starts a new session for `principal`, living the default time for its kind.
pub fn start(
    conn: &mut DbConn,
    clock: &Clock,
    principal: Principal,
) -> Result<Started, store::Error> {
    start_for(conn, clock, principal, principal.lifetime())
}

fn start_for(
    conn: &mut DbConn,
    clock: &Clock,
    principal: Principal,
    lifetime: TimeDelta,
) -> Result<Started, store::Error> {
    let token = SecretToken::generate();
    let session = Session {
        id: token.hash(),
        csrf: SecretToken::generate(),
        principal,
        expires_at: clock.now_naive() + lifetime,
        flash: None,
    };
    queries::insert(conn, &session, clock.now_naive())?;
    Ok(Started {
        token,
        session,
        lifetime,
    })
}

/// Replaces `previous` (if any) with a new session for `principal`: called at
/// every sign-in and sign-out so that a token seen before can never be promoted.
pub fn rotate(
    conn: &mut DbConn,
    clock: &Clock,
    previous: Option<&Session>,
    principal: Principal,
) -> Result<Started, store::Error> {
    rotate_for(conn, clock, previous, principal, principal.lifetime())
}

/// [`rotate`] with a lifetime of the organization's choosing (learner sessions).
pub fn rotate_for(
    conn: &mut DbConn,
    clock: &Clock,
    previous: Option<&Session>,
    principal: Principal,
    lifetime: TimeDelta,
) -> Result<Started, store::Error> {
    if let Some(previous) = previous {
        queries::delete(conn, &previous.id)?;
    }
    start_for(conn, clock, principal, lifetime)
}

/// Ends a session (signing out).
pub fn end(conn: &mut DbConn, session: &Session) -> Result<(), store::Error> {
    queries::delete(conn, &session.id)
}

/// Ends every session of the learner (their IdP deactivated them); returns how many.
pub fn end_all_of(conn: &mut DbConn, learner: crate::ids::UserId) -> Result<usize, store::Error> {
    queries::delete_of_user(conn, learner)
}

/// Leaves a message for the session's next page.
pub fn flash(conn: &mut DbConn, session: &Session, message: &str) -> Result<(), store::Error> {
    queries::set_flash(conn, &session.id, Some(message))
}

/// The session's pending message, if any, which is thereby used up.
pub fn take_flash(conn: &mut DbConn, session: &Session) -> Result<Option<String>, store::Error> {
    if session.flash.is_some() {
        queries::set_flash(conn, &session.id, None)?;
    }
    Ok(session.flash.clone())
}

/// The live session for a presented token, if there is one.
pub fn resume(
    conn: &mut DbConn,
    clock: &Clock,
    token: &SecretToken,
) -> Result<Option<Session>, store::Error> {
    let session = queries::by_id(conn, &token.hash())?;
    Ok(session.filter(|s| s.expires_at > clock.now_naive()))
}

/// Deletes expired sessions; returns how many.
pub fn purge_expired(conn: &mut DbConn, clock: &Clock) -> Result<usize, store::Error> {
    queries::delete_expired(conn, clock.now_naive())
}
