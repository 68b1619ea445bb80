//! Queries on groups and their members.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use super::Group;
use crate::ids::{GroupId, OrgId, UserId};
use crate::store::schema::{group_attributes, group_members, learner_groups};
use crate::store::{DbConn, Error, decode, unique};

#[derive(Queryable, Selectable, Insertable, AsChangeset)]
#[diesel(table_name = learner_groups, treat_none_as_null = true)]
struct GroupRow {
    id: String,
    org_id: String,
    display_name: String,
    external_id: Option<String>,
    scim_config_id: Option<String>,
    license_type: Option<String>,
    /// Bumped by the database on every update.
    #[diesel(skip_update)]
    version: i32,
    created_at: NaiveDateTime,
    updated_at: NaiveDateTime,
    saml_attribute: Option<String>,
}

impl From<&Group> for GroupRow {
    fn from(g: &Group) -> Self {
        Self {
            id: g.id.to_string(),
            org_id: g.org.to_string(),
            display_name: g.display_name.clone(),
            external_id: g.external_id.clone(),
            scim_config_id: g.managed_by.map(|id| id.to_string()),
            license_type: g.license_type.as_ref().map(ToString::to_string),
            version: i32::try_from(g.version).unwrap_or(i32::MAX),
            created_at: g.created_at,
            updated_at: g.updated_at,
            saml_attribute: g.from_attribute.clone(),
        }
    }
}

impl TryFrom<GroupRow> for Group {
    type Error = Error;

    fn try_from(row: GroupRow) -> Result<Self, Error> {
        Ok(Group {
            id: decode("group id", row.id)?,
            org: decode("organization id", row.org_id)?,
            display_name: row.display_name,
            external_id: row.external_id,
            managed_by: row
                .scim_config_id
                .map(|id| decode("SCIM configuration id", id))
                .transpose()?,
            license_type: row
                .license_type
                .map(|t| decode("license type", t))
                .transpose()?,
            version: u32::try_from(row.version).map_err(|_| Error::Corrupt {
                what: "version",
                value: row.version.to_string(),
            })?,
            created_at: row.created_at,
            updated_at: row.updated_at,
            from_attribute: row.saml_attribute,
        })
    }
}

fn all(rows: Vec<GroupRow>) -> Result<Vec<Group>, Error> {
    rows.into_iter().map(Group::try_from).collect()
}

/// [`Error::Duplicate`] when the organization has a group of that
/// attribute and value already.
pub(super) fn insert(conn: &mut DbConn, group: &Group) -> Result<(), Error> {
    diesel::insert_into(learner_groups::table)
        .values(GroupRow::from(group))
        .execute(conn)
        .map_err(unique)?;
    Ok(())
}

/// Inserts a group made from an attribute value, or returns the one a
/// concurrent sign-in made first. The insert runs in a savepoint: on
/// PostgreSQL a failed statement would otherwise abort the whole sign-in.
pub(super) fn insert_or_existing(conn: &mut DbConn, group: &Group) -> Result<(Group, bool), Error> {
    use diesel::Connection;
    match conn.transaction::<_, Error, _>(|conn| insert(conn, group)) {
        Ok(()) => Ok((group.clone(), true)),
        Err(Error::Duplicate) => {
            let (attribute, value) = (
                group.from_attribute.as_deref().unwrap_or_default(),
                &group.display_name,
            );
            by_attribute_value(conn, group.org, attribute, value)?
                .map(|existing| (existing, false))
                .ok_or(Error::Duplicate)
        }
        Err(other) => Err(other),
    }
}

pub(super) fn by_attribute_value(
    conn: &mut DbConn,
    org: OrgId,
    attribute: &str,
    value: &str,
) -> Result<Option<Group>, Error> {
    all(learner_groups::table
        .filter(learner_groups::org_id.eq(org.to_string()))
        .filter(learner_groups::saml_attribute.eq(attribute))
        .filter(learner_groups::display_name.eq(value))
        .select(GroupRow::as_select())
        .load(conn)?)
    .map(|groups| groups.into_iter().next())
}

pub(super) fn attributes(conn: &mut DbConn, org: OrgId) -> Result<Vec<String>, Error> {
    Ok(group_attributes::table
        .filter(group_attributes::org_id.eq(org.to_string()))
        .order(group_attributes::attribute)
        .select(group_attributes::attribute)
        .load(conn)?)
}

pub(super) fn set_attributes(conn: &mut DbConn, org: OrgId, names: &[String]) -> Result<(), Error> {
    diesel::delete(group_attributes::table.filter(group_attributes::org_id.eq(org.to_string())))
        .execute(conn)?;
    for name in names {
        diesel::insert_into(group_attributes::table)
            .values((
                group_attributes::org_id.eq(org.to_string()),
                group_attributes::attribute.eq(name),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub(super) fn update(conn: &mut DbConn, group: &Group) -> Result<(), Error> {
    diesel::update(learner_groups::table.find(group.id.to_string()))
        .set((
            GroupRow::from(group),
            learner_groups::version.eq(learner_groups::version + 1),
        ))
        .execute(conn)?;
    Ok(())
}

pub(super) fn by_id(conn: &mut DbConn, id: GroupId) -> Result<Option<Group>, Error> {
    all(learner_groups::table
        .find(id.to_string())
        .select(GroupRow::as_select())
        .load(conn)?)
    .map(|groups| groups.into_iter().next())
}

pub(super) fn for_org(conn: &mut DbConn, org: OrgId) -> Result<Vec<Group>, Error> {
    all(learner_groups::table
        .filter(learner_groups::org_id.eq(org.to_string()))
        .order((learner_groups::display_name, learner_groups::id))
        .select(GroupRow::as_select())
        .load(conn)?)
}

pub(super) fn delete(conn: &mut DbConn, id: GroupId) -> Result<(), Error> {
    diesel::delete(learner_groups::table.find(id.to_string())).execute(conn)?;
    Ok(())
}

pub(super) fn members(conn: &mut DbConn, group: GroupId) -> Result<Vec<UserId>, Error> {
    group_members::table
        .filter(group_members::group_id.eq(group.to_string()))
        .order(group_members::user_id)
        .select(group_members::user_id)
        .load::<String>(conn)?
        .into_iter()
        .map(|id| decode("user id", id))
        .collect()
}

/// One row per statement: `MultiConnection` has no batch insert.
pub(super) fn add_members(
    conn: &mut DbConn,
    group: GroupId,
    users: &[UserId],
) -> Result<(), Error> {
    for user in users {
        diesel::insert_into(group_members::table)
            .values((
                group_members::group_id.eq(group.to_string()),
                group_members::user_id.eq(user.to_string()),
            ))
            .execute(conn)?;
    }
    Ok(())
}

pub(super) fn remove_members(
    conn: &mut DbConn,
    group: GroupId,
    users: &[UserId],
) -> Result<(), Error> {
    for chunk in users.chunks(1000) {
        let ids: Vec<String> = chunk.iter().map(ToString::to_string).collect();
        diesel::delete(
            group_members::table
                .filter(group_members::group_id.eq(group.to_string()))
                .filter(group_members::user_id.eq_any(ids)),
        )
        .execute(conn)?;
    }
    Ok(())
}

pub(super) fn of_user(conn: &mut DbConn, user: UserId) -> Result<Vec<Group>, Error> {
    all(group_members::table
        .inner_join(learner_groups::table)
        .filter(group_members::user_id.eq(user.to_string()))
        .order(learner_groups::display_name)
        .select(GroupRow::as_select())
        .load(conn)?)
}

/// The license types the organization's groups are mapped to.
pub(super) fn mapped_types(conn: &mut DbConn, org: OrgId) -> Result<Vec<String>, Error> {
    Ok(learner_groups::table
        .filter(learner_groups::org_id.eq(org.to_string()))
        .filter(learner_groups::license_type.is_not_null())
        .select(learner_groups::license_type.assume_not_null())
        .distinct()
        .load(conn)?)
}
