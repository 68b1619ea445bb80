//! Queries for SAML sign-in state: outstanding requests, the replay cache, recent errors.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::ids::{ConnectionId, InvitationId, OrgId, SsoTestId};
use crate::secret::TokenHash;
use crate::store::schema::{
    authn_requests, linkedin_sign_ins, sso_errors, sso_tests, used_assertions,
};
use crate::store::{DbConn, Error, decode, unique};

/// An SP-initiated request awaiting its response.
pub(super) struct PendingRequest<'a> {
    pub id: &'a str,
    pub org: OrgId,
    pub connection: ConnectionId,
    pub return_to: &'a str,
    pub expires_at: NaiveDateTime,
    /// A test sign-in started from the console: checked, but signs nobody in.
    pub test: bool,
}

pub(super) fn insert_request(conn: &mut DbConn, request: &PendingRequest) -> Result<(), Error> {
    diesel::insert_into(authn_requests::table)
        .values((
            authn_requests::id.eq(request.id),
            authn_requests::org_id.eq(request.org.to_string()),
            authn_requests::connection_id.eq(request.connection.to_string()),
            authn_requests::return_to.eq(request.return_to),
            authn_requests::expires_at.eq(request.expires_at),
            authn_requests::test.eq(request.test),
        ))
        .execute(conn)?;
    Ok(())
}

/// Consumes an unexpired request of this organization and connection; its
/// `return_to` and whether it is a test, or `None` when there is no such
/// request (any more).
pub(super) fn take_request(
    conn: &mut DbConn,
    id: &str,
    org: OrgId,
    connection: ConnectionId,
    now: NaiveDateTime,
) -> Result<Option<(String, bool)>, Error> {
    let matching = authn_requests::table
        .filter(authn_requests::id.eq(id))
        .filter(authn_requests::org_id.eq(org.to_string()))
        .filter(authn_requests::connection_id.eq(connection.to_string()))
        .filter(authn_requests::expires_at.gt(now));
    let Some(found) = matching
        .select((authn_requests::return_to, authn_requests::test))
        .first::<(String, bool)>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    // The delete decides between two racing uses of one response.
    let deleted =
        diesel::delete(authn_requests::table.filter(authn_requests::id.eq(id))).execute(conn)?;
    Ok((deleted == 1).then_some(found))
}

/// Spends `id` when it is an outstanding test request of `org`: the
/// connection it tested. Other requests are left alone (a refused real
/// sign-in may be retried).
pub(super) fn take_test_request(
    conn: &mut DbConn,
    id: &str,
    org: OrgId,
    now: NaiveDateTime,
) -> Result<Option<ConnectionId>, Error> {
    let matching = authn_requests::table
        .filter(authn_requests::id.eq(id))
        .filter(authn_requests::org_id.eq(org.to_string()))
        .filter(authn_requests::test.eq(true))
        .filter(authn_requests::expires_at.gt(now));
    let Some(connection) = matching
        .select(authn_requests::connection_id)
        .first::<String>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let deleted =
        diesel::delete(authn_requests::table.filter(authn_requests::id.eq(id))).execute(conn)?;
    if deleted != 1 {
        return Ok(None);
    }
    Ok(Some(decode("connection id", connection)?))
}

/// Records an assertion ID as used; [`Error::Duplicate`] when it already was.
pub(super) fn remember_assertion(
    conn: &mut DbConn,
    connection: ConnectionId,
    assertion_id: &str,
    expires_at: NaiveDateTime,
) -> Result<(), Error> {
    diesel::insert_into(used_assertions::table)
        .values((
            used_assertions::connection_id.eq(connection.to_string()),
            used_assertions::assertion_id.eq(assertion_id),
            used_assertions::expires_at.eq(expires_at),
        ))
        .execute(conn)
        .map_err(unique)?;
    Ok(())
}

/// Forgets expired requests and assertion IDs (an expired assertion is refused anyway).
pub fn purge_expired(conn: &mut DbConn, now: NaiveDateTime) -> Result<usize, Error> {
    let requests = diesel::delete(authn_requests::table.filter(authn_requests::expires_at.le(now)))
        .execute(conn)?;
    let assertions =
        diesel::delete(used_assertions::table.filter(used_assertions::expires_at.le(now)))
            .execute(conn)?;
    let tests =
        diesel::delete(sso_tests::table.filter(sso_tests::expires_at.le(now))).execute(conn)?;
    Ok(requests + assertions + tests + purge_linkedin_attempts(conn, now)?)
}

pub(super) fn insert_test(
    conn: &mut DbConn,
    id: SsoTestId,
    org: OrgId,
    now: NaiveDateTime,
    expires_at: NaiveDateTime,
    report: &str,
) -> Result<(), Error> {
    diesel::insert_into(sso_tests::table)
        .values((
            sso_tests::id.eq(id.to_string()),
            sso_tests::org_id.eq(org.to_string()),
            sso_tests::created_at.eq(now),
            sso_tests::expires_at.eq(expires_at),
            sso_tests::report.eq(report),
        ))
        .execute(conn)?;
    Ok(())
}

pub(super) fn test_report(
    conn: &mut DbConn,
    org: OrgId,
    id: SsoTestId,
) -> Result<Option<String>, Error> {
    Ok(sso_tests::table
        .find(id.to_string())
        .filter(sso_tests::org_id.eq(org.to_string()))
        .select(sso_tests::report)
        .first::<String>(conn)
        .optional()?)
}

/// One failed sign-in, for the IdP admin.
#[derive(Clone, Debug, PartialEq, Eq, Queryable, Selectable)]
#[diesel(table_name = sso_errors)]
pub struct SsoError {
    pub id: String,
    pub org_id: String,
    pub connection_id: Option<String>,
    pub reference: String,
    pub reason: String,
    pub detail: String,
    pub created_at: NaiveDateTime,
}

pub(super) fn record_error(
    conn: &mut DbConn,
    org: OrgId,
    connection: Option<ConnectionId>,
    reference: &str,
    reason: &str,
    detail: &str,
    at: NaiveDateTime,
) -> Result<(), Error> {
    diesel::insert_into(sso_errors::table)
        .values((
            sso_errors::id.eq(uuid::Uuid::new_v4().to_string()),
            sso_errors::org_id.eq(org.to_string()),
            sso_errors::connection_id.eq(connection.map(|c| c.to_string())),
            sso_errors::reference.eq(reference),
            sso_errors::reason.eq(reason),
            sso_errors::detail.eq(detail),
            sso_errors::created_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

pub fn recent_errors(conn: &mut DbConn, org: OrgId, limit: i64) -> Result<Vec<SsoError>, Error> {
    Ok(sso_errors::table
        .filter(sso_errors::org_id.eq(org.to_string()))
        .order(sso_errors::created_at.desc())
        .limit(limit)
        .select(SsoError::as_select())
        .load(conn)?)
}

/// A LinkedIn sign-in under way in a browser without a session.
pub(super) struct LinkedInAttempt {
    pub state: TokenHash,
    pub browser: TokenHash,
    pub invitation: Option<InvitationId>,
    pub nonce: String,
    pub pkce_verifier: Option<String>,
    pub expires_at: NaiveDateTime,
    /// A path on this site: checked when the attempt began.
    pub return_to: String,
}

pub(super) fn insert_linkedin_attempt(
    conn: &mut DbConn,
    attempt: &LinkedInAttempt,
) -> Result<(), Error> {
    diesel::insert_into(linkedin_sign_ins::table)
        .values((
            linkedin_sign_ins::state_hash.eq(attempt.state.as_str()),
            linkedin_sign_ins::browser_hash.eq(attempt.browser.as_str()),
            linkedin_sign_ins::invitation_id.eq(attempt.invitation.map(|i| i.to_string())),
            linkedin_sign_ins::nonce.eq(&attempt.nonce),
            linkedin_sign_ins::pkce_verifier.eq(&attempt.pkce_verifier),
            linkedin_sign_ins::expires_at.eq(attempt.expires_at),
            linkedin_sign_ins::return_to.eq(&attempt.return_to),
        ))
        .execute(conn)?;
    Ok(())
}

/// Consumes the unexpired attempt with this `state`; `None` when there is
/// none (any more). The delete decides between two racing callbacks.
pub(super) fn take_linkedin_attempt(
    conn: &mut DbConn,
    state: &TokenHash,
    now: NaiveDateTime,
) -> Result<Option<LinkedInAttempt>, Error> {
    type Row = (
        String,
        String,
        Option<String>,
        String,
        Option<String>,
        NaiveDateTime,
        String,
    );
    let Some((state_hash, browser, invitation, nonce, pkce_verifier, expires_at, return_to)) =
        linkedin_sign_ins::table
            .find(state.as_str())
            .filter(linkedin_sign_ins::expires_at.gt(now))
            .select((
                linkedin_sign_ins::state_hash,
                linkedin_sign_ins::browser_hash,
                linkedin_sign_ins::invitation_id,
                linkedin_sign_ins::nonce,
                linkedin_sign_ins::pkce_verifier,
                linkedin_sign_ins::expires_at,
                linkedin_sign_ins::return_to,
            ))
            .first::<Row>(conn)
            .optional()?
    else {
        return Ok(None);
    };
    if diesel::delete(linkedin_sign_ins::table.find(state.as_str())).execute(conn)? != 1 {
        return Ok(None);
    }
    Ok(Some(LinkedInAttempt {
        state: TokenHash::from_stored(state_hash),
        browser: TokenHash::from_stored(browser),
        invitation: invitation.map(|i| decode("invitation id", i)).transpose()?,
        nonce,
        pkce_verifier,
        expires_at,
        return_to,
    }))
}

fn purge_linkedin_attempts(conn: &mut DbConn, now: NaiveDateTime) -> Result<usize, Error> {
    Ok(
        diesel::delete(linkedin_sign_ins::table.filter(linkedin_sign_ins::expires_at.le(now)))
            .execute(conn)?,
    )
}
