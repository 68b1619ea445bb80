//! Groups of learners: one concept whatever their source (pushed over SCIM
//! today), with their members and the license type a group may be mapped
//! to. This area stores and lists; what membership means for seats is
//! decided where the source's rules live (`scim::licenses`).

mod queries;

use chrono::NaiveDateTime;

use crate::ids::{GroupId, LicenseType, OrgId, ScimConfigId, UserId};
use crate::store::{self, DbConn};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Group {
    pub id: GroupId,
    pub org: OrgId,
    pub display_name: String,
    pub external_id: Option<String>,
    /// The SCIM configuration that pushed the group (labelled IdP).
    pub managed_by: Option<ScimConfigId>,
    /// Members hold a seat of this type while they are in the group.
    pub license_type: Option<LicenseType>,
    /// Counts the changes (SCIM's ETag).
    pub version: u32,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

impl Group {
    /// A new group of `org` with a fresh id and no license mapping.
    pub fn new(org: OrgId, display_name: String, now: NaiveDateTime) -> Self {
        Self {
            id: GroupId::generate(),
            org,
            display_name,
            external_id: None,
            managed_by: None,
            license_type: None,
            version: 1,
            created_at: now,
            updated_at: now,
        }
    }
}

pub fn insert(conn: &mut DbConn, group: &Group) -> Result<(), store::Error> {
    queries::insert(conn, group)
}

/// Writes the group's fields and counts the change.
pub fn save(conn: &mut DbConn, group: &Group) -> Result<(), store::Error> {
    queries::update(conn, group)
}

pub fn by_id(conn: &mut DbConn, id: GroupId) -> Result<Option<Group>, store::Error> {
    queries::by_id(conn, id)
}

/// The organization's groups, by name.
pub fn list(conn: &mut DbConn, org: OrgId) -> Result<Vec<Group>, store::Error> {
    queries::for_org(conn, org)
}

pub fn delete(conn: &mut DbConn, id: GroupId) -> Result<(), store::Error> {
    queries::delete(conn, id)
}

/// The group's members.
pub fn members(conn: &mut DbConn, group: GroupId) -> Result<Vec<UserId>, store::Error> {
    queries::members(conn, group)
}

/// Makes `members` the group's members; returns who joined and who left.
pub fn set_members(
    conn: &mut DbConn,
    group: GroupId,
    members: &[UserId],
) -> Result<(Vec<UserId>, Vec<UserId>), store::Error> {
    let before = queries::members(conn, group)?;
    let joined: Vec<UserId> = members
        .iter()
        .filter(|m| !before.contains(m))
        .copied()
        .collect();
    let left: Vec<UserId> = before
        .iter()
        .filter(|m| !members.contains(m))
        .copied()
        .collect();
    queries::add_members(conn, group, &joined)?;
    queries::remove_members(conn, group, &left)?;
    Ok((joined, left))
}

/// The groups the learner is in.
pub fn of_learner(conn: &mut DbConn, learner: UserId) -> Result<Vec<Group>, store::Error> {
    queries::of_user(conn, learner)
}
