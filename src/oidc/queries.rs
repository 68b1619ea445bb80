//! Queries on authorization codes and access tokens.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::ids::{ApplicationId, UserId};
use crate::secret::TokenHash;
use crate::store::schema::{oauth_access_tokens, oauth_codes};
use crate::store::{DbConn, Error, decode};

/// An authorization code as stored (by its hash).
#[derive(Insertable)]
#[diesel(table_name = oauth_codes)]
pub(super) struct NewCode<'a> {
    pub code_hash: &'a str,
    pub application_id: String,
    pub user_id: String,
    pub redirect_uri: &'a str,
    pub scope: &'a str,
    pub nonce: Option<&'a str>,
    pub code_challenge: Option<&'a str>,
    pub auth_time: NaiveDateTime,
    pub expires_at: NaiveDateTime,
}

#[derive(Queryable, Selectable)]
#[diesel(table_name = oauth_codes)]
struct CodeRow {
    application_id: String,
    user_id: String,
    redirect_uri: String,
    scope: String,
    nonce: Option<String>,
    code_challenge: Option<String>,
    auth_time: NaiveDateTime,
    expires_at: NaiveDateTime,
    used_at: Option<NaiveDateTime>,
}

/// A stored code.
pub(super) struct Code {
    pub application: ApplicationId,
    pub learner: UserId,
    pub redirect_uri: String,
    pub scope: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub auth_time: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub used: bool,
}

pub(super) fn insert_code(conn: &mut DbConn, code: &NewCode) -> Result<(), Error> {
    diesel::insert_into(oauth_codes::table)
        .values(code)
        .execute(conn)?;
    Ok(())
}

pub(super) fn code(conn: &mut DbConn, hash: &TokenHash) -> Result<Option<Code>, Error> {
    let Some(row) = oauth_codes::table
        .find(hash.as_str())
        .select(CodeRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    Ok(Some(Code {
        application: decode("application id", row.application_id)?,
        learner: decode("user id", row.user_id)?,
        redirect_uri: row.redirect_uri,
        scope: row.scope,
        nonce: row.nonce,
        code_challenge: row.code_challenge,
        auth_time: row.auth_time,
        expires_at: row.expires_at,
        used: row.used_at.is_some(),
    }))
}

/// Marks the code used; false when another exchange used it first.
pub(super) fn use_code(
    conn: &mut DbConn,
    hash: &TokenHash,
    now: NaiveDateTime,
) -> Result<bool, Error> {
    let changed = diesel::update(
        oauth_codes::table
            .find(hash.as_str())
            .filter(oauth_codes::used_at.is_null()),
    )
    .set(oauth_codes::used_at.eq(now))
    .execute(conn)?;
    Ok(changed == 1)
}

#[derive(Insertable)]
#[diesel(table_name = oauth_access_tokens)]
pub(super) struct NewAccessToken<'a> {
    pub token_hash: &'a str,
    pub code_hash: &'a str,
    pub application_id: String,
    pub user_id: String,
    pub scope: &'a str,
    pub expires_at: NaiveDateTime,
}

pub(super) fn insert_access_token(conn: &mut DbConn, token: &NewAccessToken) -> Result<(), Error> {
    diesel::insert_into(oauth_access_tokens::table)
        .values(token)
        .execute(conn)?;
    Ok(())
}

/// Revokes every access token issued for a code (it was replayed).
pub(super) fn revoke_tokens_of_code(conn: &mut DbConn, code: &TokenHash) -> Result<usize, Error> {
    Ok(diesel::delete(
        oauth_access_tokens::table.filter(oauth_access_tokens::code_hash.eq(code.as_str())),
    )
    .execute(conn)?)
}

/// The learner and scope of a live access token.
pub(super) fn access_token(
    conn: &mut DbConn,
    hash: &TokenHash,
    now: NaiveDateTime,
) -> Result<Option<(UserId, String)>, Error> {
    let Some((user, scope)) = oauth_access_tokens::table
        .find(hash.as_str())
        .filter(oauth_access_tokens::expires_at.gt(now))
        .select((oauth_access_tokens::user_id, oauth_access_tokens::scope))
        .first::<(String, String)>(conn)
        .optional()?
    else {
        return Ok(None);
    };
    Ok(Some((decode("user id", user)?, scope)))
}

/// Removes access tokens expired at `now` and codes expired at `codes_before`.
pub(super) fn purge_expired(
    conn: &mut DbConn,
    now: NaiveDateTime,
    codes_before: NaiveDateTime,
) -> Result<usize, Error> {
    let codes = diesel::delete(oauth_codes::table.filter(oauth_codes::expires_at.le(codes_before)))
        .execute(conn)?;
    let tokens =
        diesel::delete(oauth_access_tokens::table.filter(oauth_access_tokens::expires_at.le(now)))
            .execute(conn)?;
    Ok(codes + tokens)
}
