//! Queries on setup links.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::SetupLink;
use crate::ids::{OrgId, SetupLinkId};
use crate::secret::TokenHash;
use crate::store::schema::setup_links;
use crate::store::{DbConn, Error, decode};

#[derive(Queryable, Selectable)]
#[diesel(table_name = setup_links)]
struct LinkRow {
    id: String,
    org_id: String,
    created_by: String,
    created_at: NaiveDateTime,
    expires_at: NaiveDateTime,
    opened_at: Option<NaiveDateTime>,
    revoked_at: Option<NaiveDateTime>,
}

impl LinkRow {
    fn into_link(self) -> Result<SetupLink, Error> {
        Ok(SetupLink {
            id: decode("setup link id", self.id)?,
            org: decode("organization id", self.org_id)?,
            created_by: decode("actor", self.created_by)?,
            created_at: self.created_at,
            expires_at: self.expires_at,
            opened_at: self.opened_at,
            revoked_at: self.revoked_at,
        })
    }
}

pub(super) fn insert(conn: &mut DbConn, link: &SetupLink, token: &TokenHash) -> Result<(), Error> {
    diesel::insert_into(setup_links::table)
        .values((
            setup_links::id.eq(link.id.to_string()),
            setup_links::org_id.eq(link.org.to_string()),
            setup_links::token_hash.eq(token.as_str()),
            setup_links::created_by.eq(link.created_by.to_string()),
            setup_links::created_at.eq(link.created_at),
            setup_links::expires_at.eq(link.expires_at),
        ))
        .execute(conn)?;
    Ok(())
}

pub(super) fn by_token(conn: &mut DbConn, token: &TokenHash) -> Result<Option<SetupLink>, Error> {
    setup_links::table
        .filter(setup_links::token_hash.eq(token.as_str()))
        .select(LinkRow::as_select())
        .first(conn)
        .optional()?
        .map(LinkRow::into_link)
        .transpose()
}

pub(super) fn by_id(conn: &mut DbConn, id: SetupLinkId) -> Result<Option<SetupLink>, Error> {
    setup_links::table
        .find(id.to_string())
        .select(LinkRow::as_select())
        .first(conn)
        .optional()?
        .map(LinkRow::into_link)
        .transpose()
}

pub(super) fn for_org(conn: &mut DbConn, org: OrgId) -> Result<Vec<SetupLink>, Error> {
    setup_links::table
        .filter(setup_links::org_id.eq(org.to_string()))
        .order((setup_links::created_at.desc(), setup_links::id))
        .limit(50)
        .select(LinkRow::as_select())
        .load(conn)?
        .into_iter()
        .map(LinkRow::into_link)
        .collect()
}

/// Marks a link opened; false when it was already.
pub(super) fn mark_opened(
    conn: &mut DbConn,
    id: SetupLinkId,
    now: NaiveDateTime,
) -> Result<bool, Error> {
    let changed = diesel::update(
        setup_links::table
            .find(id.to_string())
            .filter(setup_links::opened_at.is_null()),
    )
    .set(setup_links::opened_at.eq(now))
    .execute(conn)?;
    Ok(changed == 1)
}

pub(super) fn mark_revoked(
    conn: &mut DbConn,
    id: SetupLinkId,
    now: NaiveDateTime,
) -> Result<(), Error> {
    diesel::update(setup_links::table.find(id.to_string()))
        .set(setup_links::revoked_at.eq(now))
        .execute(conn)?;
    Ok(())
}
