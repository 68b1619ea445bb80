//! Queries on admin accounts, their one-time links and failed sign-ins.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::accounts::Email;
use crate::accounts::admins::AdminAccount;
use crate::ids::AdminId;
use crate::secret::{PasswordDigest, TokenHash};
use crate::store::schema::{admin_accounts, admin_sign_in_links, sign_in_failures};
use crate::store::{DbConn, Error, decode, unique};

#[derive(Queryable, Selectable, Insertable)]
#[diesel(table_name = admin_accounts)]
struct AdminRow {
    id: String,
    org_id: String,
    email: String,
    password_hash: Option<String>,
    created_at: NaiveDateTime,
    operator: bool,
}

impl TryFrom<AdminRow> for AdminAccount {
    type Error = Error;

    fn try_from(row: AdminRow) -> Result<Self, Error> {
        Ok(AdminAccount {
            id: decode("admin id", row.id)?,
            org: decode("organization id", row.org_id)?,
            email: decode("email", row.email)?,
            password: row.password_hash.map(PasswordDigest::from_stored),
            created_at: row.created_at,
            operator: row.operator,
        })
    }
}

pub(super) fn insert(conn: &mut DbConn, admin: &AdminAccount) -> Result<(), Error> {
    diesel::insert_into(admin_accounts::table)
        .values(AdminRow {
            id: admin.id.to_string(),
            org_id: admin.org.to_string(),
            email: admin.email.to_string(),
            password_hash: admin.password.as_ref().map(|d| d.as_str().to_owned()),
            created_at: admin.created_at,
            operator: admin.operator,
        })
        .execute(conn)
        .map_err(unique)?;
    Ok(())
}

pub(super) fn by_email(conn: &mut DbConn, email: &Email) -> Result<Option<AdminAccount>, Error> {
    admin_accounts::table
        .filter(admin_accounts::email.eq(email.as_str()))
        .select(AdminRow::as_select())
        .first(conn)
        .optional()?
        .map(AdminAccount::try_from)
        .transpose()
}

pub(super) fn by_id(conn: &mut DbConn, id: AdminId) -> Result<Option<AdminAccount>, Error> {
    admin_accounts::table
        .find(id.to_string())
        .select(AdminRow::as_select())
        .first(conn)
        .optional()?
        .map(AdminAccount::try_from)
        .transpose()
}

/// The administrators of an organization, by email.
pub(super) fn for_org(
    conn: &mut DbConn,
    org: crate::ids::OrgId,
) -> Result<Vec<AdminAccount>, Error> {
    admin_accounts::table
        .filter(admin_accounts::org_id.eq(org.to_string()))
        .order(admin_accounts::email)
        .select(AdminRow::as_select())
        .load(conn)?
        .into_iter()
        .map(AdminAccount::try_from)
        .collect()
}

pub(super) fn make_operator(conn: &mut DbConn, id: AdminId) -> Result<(), Error> {
    diesel::update(admin_accounts::table.find(id.to_string()))
        .set(admin_accounts::operator.eq(true))
        .execute(conn)?;
    Ok(())
}

pub(super) fn set_password(
    conn: &mut DbConn,
    id: AdminId,
    digest: &PasswordDigest,
) -> Result<(), Error> {
    diesel::update(admin_accounts::table.find(id.to_string()))
        .set(admin_accounts::password_hash.eq(digest.as_str()))
        .execute(conn)?;
    Ok(())
}

pub(super) fn insert_link(
    conn: &mut DbConn,
    token: &TokenHash,
    admin: AdminId,
    expires_at: NaiveDateTime,
) -> Result<(), Error> {
    diesel::insert_into(admin_sign_in_links::table)
        .values((
            admin_sign_in_links::token_hash.eq(token.as_str()),
            admin_sign_in_links::admin_id.eq(admin.to_string()),
            admin_sign_in_links::expires_at.eq(expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

/// The admin whose link this is, if it is unused and not expired at `now`.
pub(super) fn usable_link_holder(
    conn: &mut DbConn,
    token: &TokenHash,
    now: NaiveDateTime,
) -> Result<Option<AdminAccount>, Error> {
    admin_sign_in_links::table
        .inner_join(admin_accounts::table)
        .filter(admin_sign_in_links::token_hash.eq(token.as_str()))
        .filter(admin_sign_in_links::used_at.is_null())
        .filter(admin_sign_in_links::expires_at.gt(now))
        .select(AdminRow::as_select())
        .first(conn)
        .optional()?
        .map(AdminAccount::try_from)
        .transpose()
}

/// Marks a usable link as used; false when it was not usable (any more).
pub(super) fn spend_link(
    conn: &mut DbConn,
    token: &TokenHash,
    now: NaiveDateTime,
) -> Result<bool, Error> {
    let changed = diesel::update(
        admin_sign_in_links::table
            .filter(admin_sign_in_links::token_hash.eq(token.as_str()))
            .filter(admin_sign_in_links::used_at.is_null())
            .filter(admin_sign_in_links::expires_at.gt(now)),
    )
    .set(admin_sign_in_links::used_at.eq(now))
    .execute(conn)?;
    Ok(changed == 1)
}

pub(super) fn record_failure(conn: &mut DbConn, key: &str, at: NaiveDateTime) -> Result<(), Error> {
    diesel::insert_into(sign_in_failures::table)
        .values((
            sign_in_failures::id.eq(uuid::Uuid::new_v4().to_string()),
            sign_in_failures::throttle_key.eq(key),
            sign_in_failures::failed_at.eq(at),
        ))
        .execute(conn)?;
    Ok(())
}

pub(super) fn failures_since(
    conn: &mut DbConn,
    key: &str,
    since: NaiveDateTime,
) -> Result<i64, Error> {
    Ok(sign_in_failures::table
        .filter(sign_in_failures::throttle_key.eq(key))
        .filter(sign_in_failures::failed_at.gt(since))
        .count()
        .get_result(conn)?)
}

pub(super) fn clear_failures(conn: &mut DbConn, key: &str) -> Result<(), Error> {
    diesel::delete(sign_in_failures::table.filter(sign_in_failures::throttle_key.eq(key)))
        .execute(conn)?;
    Ok(())
}
