//! Queries for LinkedIn profile bindings and the authorization requests awaiting their callback.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::binding::{Binding, Member, Pending};
use crate::ids::{OrgId, UserId};
use crate::secret::TokenHash;
use crate::store::schema::{linkedin_bindings, oidc_pending, users};
use crate::store::{DbConn, Error, decode, unique};

#[derive(Queryable, Selectable)]
#[diesel(table_name = linkedin_bindings)]
struct BindingRow {
    user_id: String,
    sub: String,
    name: Option<String>,
    email: Option<String>,
    picture: Option<String>,
    bound_at: NaiveDateTime,
}

impl TryFrom<BindingRow> for Binding {
    type Error = Error;

    fn try_from(row: BindingRow) -> Result<Self, Error> {
        Ok(Binding {
            user: decode("user id", row.user_id)?,
            member: Member {
                sub: row.sub,
                name: row.name,
                email: row.email,
                picture: row.picture,
            },
            bound_at: row.bound_at,
        })
    }
}

/// Binds a member to a learner; [`Error::Duplicate`] when the learner has a
/// binding or the member is bound to another learner of the organization.
pub(super) fn insert_binding(
    conn: &mut DbConn,
    org: OrgId,
    user: UserId,
    member: &Member,
    at: NaiveDateTime,
) -> Result<(), Error> {
    diesel::insert_into(linkedin_bindings::table)
        .values((
            linkedin_bindings::user_id.eq(user.to_string()),
            linkedin_bindings::org_id.eq(org.to_string()),
            linkedin_bindings::sub.eq(&member.sub),
            linkedin_bindings::name.eq(&member.name),
            linkedin_bindings::email.eq(&member.email),
            linkedin_bindings::picture.eq(&member.picture),
            linkedin_bindings::bound_at.eq(at),
        ))
        .execute(conn)
        .map_err(unique)?;
    Ok(())
}

pub(super) fn binding_of(conn: &mut DbConn, user: UserId) -> Result<Option<Binding>, Error> {
    linkedin_bindings::table
        .find(user.to_string())
        .select(BindingRow::as_select())
        .first(conn)
        .optional()?
        .map(Binding::try_from)
        .transpose()
}

/// The learner of `org` bound to member `sub`, if any.
pub(super) fn holder_of(conn: &mut DbConn, org: OrgId, sub: &str) -> Result<Option<UserId>, Error> {
    linkedin_bindings::table
        .filter(linkedin_bindings::org_id.eq(org.to_string()))
        .filter(linkedin_bindings::sub.eq(sub))
        .select(linkedin_bindings::user_id)
        .first::<String>(conn)
        .optional()?
        .map(|id| decode("user id", id))
        .transpose()
}

/// The learners member `sub` is bound to, in any organization.
pub(super) fn holders_of_member(conn: &mut DbConn, sub: &str) -> Result<Vec<UserId>, Error> {
    linkedin_bindings::table
        .filter(linkedin_bindings::sub.eq(sub))
        .select(linkedin_bindings::user_id)
        .load::<String>(conn)?
        .into_iter()
        .map(|id| decode("user id", id))
        .collect()
}

/// Deletes the learner's binding; whether there was one.
pub(super) fn delete_binding(conn: &mut DbConn, user: UserId) -> Result<bool, Error> {
    Ok(diesel::delete(linkedin_bindings::table.find(user.to_string())).execute(conn)? == 1)
}

pub(super) fn bindings_of_org(conn: &mut DbConn, org: OrgId) -> Result<Vec<Binding>, Error> {
    linkedin_bindings::table
        .filter(linkedin_bindings::org_id.eq(org.to_string()))
        .select(BindingRow::as_select())
        .load(conn)?
        .into_iter()
        .map(Binding::try_from)
        .collect()
}

pub(super) fn insert_pending(conn: &mut DbConn, pending: &Pending) -> Result<(), Error> {
    diesel::insert_into(oidc_pending::table)
        .values((
            oidc_pending::state_hash.eq(pending.state.as_str()),
            oidc_pending::session_hash.eq(pending.session.as_str()),
            oidc_pending::user_id.eq(pending.user.to_string()),
            oidc_pending::pkce_verifier.eq(&pending.pkce_verifier),
            oidc_pending::nonce.eq(&pending.nonce),
            oidc_pending::return_to.eq(&pending.return_to),
            oidc_pending::expires_at.eq(pending.expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = oidc_pending)]
struct PendingRow {
    state_hash: String,
    session_hash: String,
    user_id: String,
    pkce_verifier: Option<String>,
    nonce: String,
    return_to: String,
    expires_at: NaiveDateTime,
}

/// Consumes the unexpired request with this `state`; `None` when there is
/// none (any more). The delete decides between two racing callbacks.
pub(super) fn take_pending(
    conn: &mut DbConn,
    state: &TokenHash,
    now: NaiveDateTime,
) -> Result<Option<Pending>, Error> {
    let Some(row) = oidc_pending::table
        .find(state.as_str())
        .filter(oidc_pending::expires_at.gt(now))
        .select(PendingRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    if diesel::delete(oidc_pending::table.find(state.as_str())).execute(conn)? != 1 {
        return Ok(None);
    }
    Ok(Some(Pending {
        state: TokenHash::from_stored(row.state_hash),
        session: TokenHash::from_stored(row.session_hash),
        user: decode("user id", row.user_id)?,
        pkce_verifier: row.pkce_verifier,
        nonce: row.nonce,
        return_to: row.return_to,
        expires_at: row.expires_at,
    }))
}

pub fn purge_expired_pending(conn: &mut DbConn, now: NaiveDateTime) -> Result<usize, Error> {
    Ok(
        diesel::delete(oidc_pending::table.filter(oidc_pending::expires_at.le(now)))
            .execute(conn)?,
    )
}

pub(super) fn dismiss_prompt(
    conn: &mut DbConn,
    user: UserId,
    at: NaiveDateTime,
) -> Result<(), Error> {
    diesel::update(users::table.find(user.to_string()))
        .set(users::linkedin_prompt_dismissed_at.eq(Some(at)))
        .execute(conn)?;
    Ok(())
}

pub(super) fn prompt_dismissed(conn: &mut DbConn, user: UserId) -> Result<bool, Error> {
    Ok(users::table
        .find(user.to_string())
        .select(users::linkedin_prompt_dismissed_at)
        .first::<Option<NaiveDateTime>>(conn)
        .optional()?
        .flatten()
        .is_some())
}
