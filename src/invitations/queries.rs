//! Queries on invitations.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::Invitation;
use crate::ids::{InvitationId, OrgId, UserId};
use crate::secret::TokenHash;
use crate::store::schema::{invitations, users};
use crate::store::{DbConn, Error, decode};

#[derive(Queryable, Selectable)]
#[diesel(table_name = invitations)]
struct Row {
    id: String,
    org_id: String,
    user_id: String,
    invited_by: String,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    accepted_at: Option<NaiveDateTime>,
    cancelled_at: Option<NaiveDateTime>,
    sent_at: Option<NaiveDateTime>,
    send_error: Option<String>,
}

fn invitation((row, email): (Row, String)) -> Result<Invitation, Error> {
    Ok(Invitation {
        id: decode("invitation id", row.id)?,
        org: decode("organization id", row.org_id)?,
        learner: decode("user id", row.user_id)?,
        email: decode("email", email)?,
        invited_by: decode("actor", row.invited_by)?,
        created_at: row.created_at,
        expires_at: row.expires_at,
        accepted_at: row.accepted_at,
        cancelled_at: row.cancelled_at,
        sent_at: row.sent_at,
        send_error: row.send_error,
    })
}

pub(super) struct NewInvitation<'a> {
    pub id: InvitationId,
    pub org: OrgId,
    pub learner: UserId,
    pub token: &'a TokenHash,
    pub invited_by: String,
    pub now: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

pub(super) fn insert(conn: &mut DbConn, new: &NewInvitation) -> Result<(), Error> {
    diesel::insert_into(invitations::table)
        .values((
            invitations::id.eq(new.id.to_string()),
            invitations::org_id.eq(new.org.to_string()),
            invitations::user_id.eq(new.learner.to_string()),
            invitations::token_hash.eq(new.token.as_str()),
            invitations::invited_by.eq(&new.invited_by),
            invitations::created_at.eq(new.now),
            invitations::expires_at.eq(new.expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

pub(super) fn by_id(
    conn: &mut DbConn,
    org: OrgId,
    id: InvitationId,
) -> Result<Option<Invitation>, Error> {
    invitations::table
        .inner_join(users::table)
        .filter(invitations::id.eq(id.to_string()))
        .filter(invitations::org_id.eq(org.to_string()))
        .select((Row::as_select(), users::email))
        .first(conn)
        .optional()?
        .map(invitation)
        .transpose()
}

pub(super) fn by_id_any(conn: &mut DbConn, id: InvitationId) -> Result<Option<Invitation>, Error> {
    invitations::table
        .inner_join(users::table)
        .filter(invitations::id.eq(id.to_string()))
        .select((Row::as_select(), users::email))
        .first(conn)
        .optional()?
        .map(invitation)
        .transpose()
}

pub(super) fn by_token(conn: &mut DbConn, token: &TokenHash) -> Result<Option<Invitation>, Error> {
    invitations::table
        .inner_join(users::table)
        .filter(invitations::token_hash.eq(token.as_str()))
        .select((Row::as_select(), users::email))
        .first(conn)
        .optional()?
        .map(invitation)
        .transpose()
}

/// The organization's invitations, newest first.
pub(super) fn of_org(conn: &mut DbConn, org: OrgId) -> Result<Vec<Invitation>, Error> {
    invitations::table
        .inner_join(users::table)
        .filter(invitations::org_id.eq(org.to_string()))
        .order(invitations::created_at.desc())
        .select((Row::as_select(), users::email))
        .load(conn)?
        .into_iter()
        .map(invitation)
        .collect()
}

/// Ends the learner's open invitations (neither accepted nor cancelled) as
/// accepted or cancelled at `now`; how many.
pub(super) fn end_open(
    conn: &mut DbConn,
    learner: UserId,
    now: NaiveDateTime,
    accepted: bool,
) -> Result<usize, Error> {
    let open = invitations::table
        .filter(invitations::user_id.eq(learner.to_string()))
        .filter(invitations::accepted_at.is_null())
        .filter(invitations::cancelled_at.is_null());
    Ok(if accepted {
        diesel::update(open)
            .set(invitations::accepted_at.eq(now))
            .execute(conn)?
    } else {
        diesel::update(open)
            .set(invitations::cancelled_at.eq(now))
            .execute(conn)?
    })
}

/// Records whether the email went out.
pub(super) fn record_delivery(
    conn: &mut DbConn,
    id: InvitationId,
    sent_at: Option<NaiveDateTime>,
    error: Option<&str>,
) -> Result<(), Error> {
    diesel::update(invitations::table.find(id.to_string()))
        .set((
            invitations::sent_at.eq(sent_at),
            invitations::send_error.eq(error),
        ))
        .execute(conn)?;
    Ok(())
}
