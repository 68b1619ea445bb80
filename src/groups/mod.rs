//! Groups of learners: one concept whatever their source (pushed over SCIM,
//! or made from a SAML attribute's values at sign-in), with their members
//! and the license type a group may be mapped to. What membership means for
//! seats is decided where the source's rules live (`scim::licenses`).

mod queries;

use chrono::NaiveDateTime;
use serde_json::json;

use crate::audit::{self, Action, Actor};
use crate::clock::Clock;
use crate::ids::{GroupId, LicenseType, OrgId, ScimConfigId, UserId};
use crate::store::{self, DbConn};

/// Most attributes an organization may name, and most values of one
/// attribute a sign-in makes groups of: bounds the work a response causes.
const MAX_ATTRIBUTES: usize = 10;
const MAX_VALUES: usize = 50;
/// Longest attribute name or value taken for a group.
const MAX_NAME: usize = 256;

/// Why a list of group attributes was refused.
#[derive(Debug, thiserror::Error)]
pub enum AttributesError {
    #[error("name at most {MAX_ATTRIBUTES} attributes")]
    TooMany,
    #[error("{0:?} is not an attribute name: 1 to 256 characters, no spaces or control characters")]
    BadName(String),
    #[error(transparent)]
    Store(#[from] store::Error),
}

/// Parses a comma-separated list of attribute names ("" for none).
pub fn parse_attributes(list: &str) -> Result<Vec<String>, AttributesError> {
    let mut names: Vec<String> = Vec::new();
    for name in list.split(',').map(str::trim).filter(|n| !n.is_empty()) {
        if name.chars().count() > MAX_NAME
            || name.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(AttributesError::BadName(name.to_owned()));
        }
        if !names.iter().any(|n| n == name) {
            names.push(name.to_owned());
        }
    }
    if names.len() > MAX_ATTRIBUTES {
        return Err(AttributesError::TooMany);
    }
    Ok(names)
}

/// The SAML attributes whose values make groups in `org`.
pub fn attributes(conn: &mut DbConn, org: OrgId) -> Result<Vec<String>, store::Error> {
    queries::attributes(conn, org)
}

/// Names the SAML attributes whose values make groups (replaces the list); audited.
pub fn set_attributes(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    org: OrgId,
    names: &[String],
) -> Result<(), store::Error> {
    store::write_transaction(conn, |conn| {
        queries::set_attributes(conn, org, names)?;
        audit::record(
            conn,
            clock,
            audit::NewEvent::new(Some(org), actor, Action::OrgSettingsChanged)
                .details(json!({ "group_attributes": names })),
        )
    })
}

/// At a sign-in: puts the learner in the groups named by the values the IdP
/// sent for each of the organization's group attributes (making a group the
/// first time a value is seen) and out of the groups of those attributes
/// whose value it no longer sent. Inside the sign-in's transaction; returns
/// whether the learner joined or left a group, for the caller's license rules.
pub fn sync_from_sign_in(
    conn: &mut DbConn,
    clock: &Clock,
    org: OrgId,
    learner: UserId,
    sent: &[(String, String)],
) -> Result<bool, store::Error> {
    let mut changed = false;
    let current = queries::of_user(conn, learner)?;
    for attribute in queries::attributes(conn, org)? {
        let mut values: Vec<&str> = Vec::new();
        for (name, value) in sent {
            let value = value.trim();
            if name == &attribute
                && !value.is_empty()
                && value.chars().count() <= MAX_NAME
                && !values.contains(&value)
                && values.len() < MAX_VALUES
            {
                values.push(value);
            }
        }
        for group in current
            .iter()
            .filter(|g| g.from_attribute.as_deref() == Some(&attribute))
        {
            if !values.contains(&group.display_name.as_str()) {
                queries::remove_members(conn, group.id, &[learner])?;
                changed = true;
            }
        }
        for value in values {
            let group = match queries::by_attribute_value(conn, org, &attribute, value)? {
                Some(group) => group,
                None => make_attribute_group(conn, clock, org, &attribute, value)?,
            };
            if !current.iter().any(|g| g.id == group.id) {
                queries::add_members(conn, group.id, &[learner])?;
                changed = true;
            }
        }
    }
    Ok(changed)
}

fn make_attribute_group(
    conn: &mut DbConn,
    clock: &Clock,
    org: OrgId,
    attribute: &str,
    value: &str,
) -> Result<Group, store::Error> {
    let group = Group {
        from_attribute: Some(attribute.to_owned()),
        ..Group::new(org, value.to_owned(), clock.now_naive())
    };
    let (group, made) = queries::insert_or_existing(conn, &group)?;
    if !made {
        return Ok(group);
    }
    audit::record(
        conn,
        clock,
        audit::NewEvent::new(Some(org), &Actor::System, Action::GroupCreated)
            .target(value)
            .details(json!({ "cause": "saml_attribute", "attribute": attribute })),
    )?;
    Ok(group)
}

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
    /// The SAML attribute whose value the group's name is (a group made at sign-in).
    pub from_attribute: Option<String>,
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
            from_attribute: None,
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

/// Adds one member (who is not one yet).
pub fn add_member(conn: &mut DbConn, group: GroupId, learner: UserId) -> Result<(), store::Error> {
    queries::add_members(conn, group, &[learner])
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

/// The license types the organization's groups are mapped to (one query,
/// however many groups: the licensing rules read it at every SCIM write).
pub fn mapped_types(
    conn: &mut DbConn,
    org: OrgId,
) -> Result<std::collections::BTreeSet<LicenseType>, store::Error> {
    queries::mapped_types(conn, org)?
        .into_iter()
        .map(|t| store::decode("license type", t))
        .collect()
}

/// The groups the learner is in.
pub fn of_learner(conn: &mut DbConn, learner: UserId) -> Result<Vec<Group>, store::Error> {
    queries::of_user(conn, learner)
}
