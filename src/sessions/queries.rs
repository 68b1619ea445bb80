//! Queries on sessions.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::secret::{SecretToken, TokenHash};
use crate::sessions::{Principal, Session};
use crate::store::schema::sessions;
use crate::store::{DbConn, Error, decode};

#[derive(Queryable, Selectable)]
#[diesel(table_name = sessions)]
struct SessionRow {
    token_hash: String,
    csrf_token: String,
    admin_id: Option<String>,
    user_id: Option<String>,
    expires_at: NaiveDateTime,
    flash: Option<String>,
    setup_link_id: Option<String>,
}

pub(super) fn insert(
    conn: &mut DbConn,
    session: &Session,
    now: NaiveDateTime,
) -> Result<(), Error> {
    let (admin_id, user_id, setup_link_id) = match session.principal {
        Principal::Anonymous => (None, None, None),
        Principal::Admin(id) => (Some(id.to_string()), None, None),
        Principal::Learner(id) => (None, Some(id.to_string()), None),
        Principal::Setup(id) => (None, None, Some(id.to_string())),
    };
    diesel::insert_into(sessions::table)
        .values((
            sessions::token_hash.eq(session.id.as_str()),
            sessions::csrf_token.eq(session.csrf.expose()),
            sessions::admin_id.eq(admin_id),
            sessions::user_id.eq(user_id),
            sessions::setup_link_id.eq(setup_link_id),
            sessions::created_at.eq(now),
            sessions::expires_at.eq(session.expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

pub(super) fn by_id(conn: &mut DbConn, id: &TokenHash) -> Result<Option<Session>, Error> {
    let Some(row) = sessions::table
        .find(id.as_str())
        .select(SessionRow::as_select())
        .first(conn)
        .optional()?
    else {
        return Ok(None);
    };
    let principal = match (row.admin_id, row.user_id, row.setup_link_id) {
        (None, None, None) => Principal::Anonymous,
        (Some(admin), None, None) => Principal::Admin(decode("admin id", admin)?),
        (None, Some(user), None) => Principal::Learner(decode("user id", user)?),
        (None, None, Some(link)) => Principal::Setup(decode("setup link id", link)?),
        (Some(admin), _, _) | (_, Some(admin), _) => {
            return Err(Error::Corrupt {
                what: "session owner",
                value: admin,
            });
        }
    };
    let csrf = SecretToken::from_presented(&row.csrf_token).ok_or(Error::Corrupt {
        what: "CSRF token",
        value: "[redacted]".into(),
    })?;
    Ok(Some(Session {
        id: TokenHash::from_stored(row.token_hash),
        csrf,
        principal,
        expires_at: row.expires_at,
        flash: row.flash,
    }))
}

/// Sets (or with `None` clears) the message the session's next page shows once.
pub(super) fn set_flash(
    conn: &mut DbConn,
    id: &TokenHash,
    flash: Option<&str>,
) -> Result<(), Error> {
    diesel::update(sessions::table.find(id.as_str()))
        .set(sessions::flash.eq(flash))
        .execute(conn)?;
    Ok(())
}

pub(super) fn delete(conn: &mut DbConn, id: &TokenHash) -> Result<(), Error> {
    diesel::delete(sessions::table.find(id.as_str())).execute(conn)?;
    Ok(())
}

pub(super) fn delete_of_user(conn: &mut DbConn, user: crate::ids::UserId) -> Result<usize, Error> {
    Ok(
        diesel::delete(sessions::table.filter(sessions::user_id.eq(user.to_string())))
            .execute(conn)?,
    )
}

pub(super) fn delete_expired(conn: &mut DbConn, now: NaiveDateTime) -> Result<usize, Error> {
    Ok(diesel::delete(sessions::table.filter(sessions::expires_at.le(now))).execute(conn)?)
}
