//! The SCIM Group resource: groups an IdP pushes, their members, and what
//! membership means for seats (`licenses::reconcile`). A configuration sees
//! the groups it pushed, never another's or another organization's.

use serde_json::{Value, json};

use super::filter::{Filter, member};
use super::patch::{self, PatchRequest};
use super::users::{Listed, Scope, text};
use super::{Error, GROUP_SCHEMA};
use crate::accounts::learners;
use crate::audit::{self, Action};
use crate::groups::{self, Group};
use crate::ids::{GroupId, UserId};
use crate::store::{self, DbConn};

/// What a client may set on a group.
struct Fields {
    display_name: String,
    external_id: Option<String>,
    members: Vec<UserId>,
}

impl Fields {
    /// Reads a POST or PUT body (or a patched resource); every member must
    /// be a learner this configuration sees.
    fn read(conn: &mut DbConn, scope: &Scope, body: &Value) -> Result<Self, Error> {
        if !body.is_object() {
            return Err(Error::InvalidSyntax(
                "the body must be a JSON object".into(),
            ));
        }
        let display_name = text(member(body, "displayName"), "displayName")?
            .ok_or_else(|| Error::InvalidValue("displayName is required".into()))?;
        let listed = match member(body, "members") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(items)) => items.clone(),
            Some(_) => return Err(Error::InvalidValue("members must be a list".into())),
        };
        let mut wanted: Vec<UserId> = Vec::new();
        for item in &listed {
            let Some(id) = member(item, "value").and_then(Value::as_str) else {
                return Err(Error::InvalidValue(
                    "each member needs a value (a user id)".into(),
                ));
            };
            let unknown = || {
                Error::InvalidValue(format!("member {id:?} is not a user of this configuration"))
            };
            let id: UserId = id.parse().map_err(|_| unknown())?;
            if !wanted.contains(&id) {
                wanted.push(id);
            }
        }
        let found = super::users::visible_among(conn, scope, &wanted)?;
        if let Some(missing) = wanted.iter().find(|id| !found.iter().any(|l| l.id == **id)) {
            return Err(Error::InvalidValue(format!(
                "member \"{missing}\" is not a user of this configuration"
            )));
        }
        let members = wanted;
        Ok(Self {
            display_name,
            external_id: text(member(body, "externalId"), "externalId")?,
            members,
        })
    }
}

/// Whether a group's resource lists its members: reading them is most of
/// the cost, and a list Entra sends with `excludedAttributes=members` (or a
/// filter on the name) does not need them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Members {
    Listed,
    Omitted,
}

/// The group as a SCIM Group, with its members when `with` lists them.
pub fn resource(
    conn: &mut DbConn,
    scope: &Scope,
    group: &Group,
    with: Members,
) -> Result<Value, Error> {
    let ids = match with {
        Members::Listed => groups::members(conn, group.id)?,
        Members::Omitted => Vec::new(),
    };
    let emails: std::collections::HashMap<UserId, String> = learners::by_ids(conn, &ids)?
        .into_iter()
        .map(|l| (l.id, l.email.to_string()))
        .collect();
    let members: Vec<Value> = ids
        .iter()
        .map(|id| {
            json!({
                "value": id.to_string(),
                "display": emails.get(id),
                "$ref": super::users::location(scope.base_url, *id),
            })
        })
        .collect();
    let mut body = json!({
        "schemas": [GROUP_SCHEMA],
        "id": group.id.to_string(),
        "displayName": group.display_name,
        "meta": {
            "resourceType": "Group",
            "created": super::discovery::instant(group.created_at),
            "lastModified": super::discovery::instant(group.updated_at),
            "location": location(scope, group.id),
            "version": version(group),
        },
    });
    if with == Members::Listed {
        body["members"] = json!(members);
    }
    if let Some(external_id) = &group.external_id {
        body["externalId"] = json!(external_id);
    }
    Ok(body)
}

pub fn version(group: &Group) -> String {
    super::etag(group.version)
}

pub fn location(scope: &Scope, id: GroupId) -> String {
    scope.base_url.join(&format!("/scim/v2/Groups/{id}"))
}

fn find(conn: &mut DbConn, scope: &Scope, id: &str) -> Result<Group, Error> {
    let id: GroupId = id.parse().map_err(|_| Error::NotFound("Group"))?;
    groups::by_id(conn, id)?
        .filter(|g| g.org == scope.org.id && g.managed_by == Some(scope.config.id))
        .ok_or(Error::NotFound("Group"))
}

pub fn get(conn: &mut DbConn, scope: &Scope, id: &str) -> Result<Group, Error> {
    find(conn, scope, id)
}

/// GET /Groups: this configuration's groups matching `filter`, by name.
pub fn list(
    conn: &mut DbConn,
    scope: &Scope,
    filter: Option<&Filter>,
    start_index: usize,
    count: usize,
) -> Result<Listed<Group>, Error> {
    let members = match filter {
        Some(filter) if filter.names("members") => Members::Listed,
        _ => Members::Omitted,
    };
    let mut matching = Vec::new();
    for group in groups::list(conn, scope.org.id)? {
        if group.managed_by != Some(scope.config.id) {
            continue;
        }
        if let Some(filter) = filter
            && !filter.matches(&resource(conn, scope, &group, members)?)
        {
            continue;
        }
        matching.push(group);
    }
    let total = matching.len();
    let items = matching
        .into_iter()
        .skip(start_index.saturating_sub(1))
        .take(count)
        .collect();
    Ok(Listed { items, total })
}

/// POST /Groups.
pub fn create(conn: &mut DbConn, scope: &Scope, body: &Value) -> Result<Group, Error> {
    store::write_transaction(conn, |conn| {
        let fields = Fields::read(conn, scope, body)?;
        let mut group = Group::new(
            scope.org.id,
            fields.display_name.clone(),
            scope.clock.now_naive(),
        );
        group.managed_by = Some(scope.config.id);
        groups::insert(conn, &group)?;
        save(conn, scope, group, fields, Action::GroupCreated)
    })
}

/// PUT /Groups/{id}.
pub fn replace(
    conn: &mut DbConn,
    scope: &Scope,
    id: &str,
    body: &Value,
    if_match: Option<&str>,
) -> Result<Group, Error> {
    store::write_transaction(conn, |conn| {
        let group = current(conn, scope, id, if_match)?;
        let fields = Fields::read(conn, scope, body)?;
        save(conn, scope, group, fields, Action::GroupUpdated)
    })
}

/// PATCH /Groups/{id}: Entra adds and removes members one request at a
/// time, Okta renames with the id in the value; both go through the
/// resource's JSON as for users.
pub fn patch(
    conn: &mut DbConn,
    scope: &Scope,
    id: &str,
    request: PatchRequest,
    if_match: Option<&str>,
) -> Result<Group, Error> {
    store::write_transaction(conn, |conn| {
        let group = current(conn, scope, id, if_match)?;
        let mut body = resource(conn, scope, &group, Members::Listed)?;
        patch::apply(&mut body, request)?;
        let fields = Fields::read(conn, scope, &body)?;
        save(conn, scope, group, fields, Action::GroupUpdated)
    })
}

/// DELETE /Groups/{id}: its members leave it (and its seat, when mapped).
pub fn delete(conn: &mut DbConn, scope: &Scope, id: &str) -> Result<(), Error> {
    store::write_transaction(conn, |conn| {
        let group = find(conn, scope, id)?;
        let members = groups::members(conn, group.id)?;
        groups::delete(conn, group.id)?;
        super::licenses::reconcile_all(
            conn,
            scope.clock,
            scope.org,
            &members,
            group.license_type.as_ref(),
        )?;
        audit(conn, scope, &group, Action::GroupDeleted, members.len(), 0)
    })
}

fn current(
    conn: &mut DbConn,
    scope: &Scope,
    id: &str,
    if_match: Option<&str>,
) -> Result<Group, Error> {
    let group = find(conn, scope, id)?;
    super::check_if_match(if_match, group.version)?;
    Ok(group)
}

fn save(
    conn: &mut DbConn,
    scope: &Scope,
    group: Group,
    fields: Fields,
    action: Action,
) -> Result<Group, Error> {
    let group = Group {
        display_name: fields.display_name,
        external_id: fields.external_id,
        updated_at: scope.clock.now_naive(),
        ..group
    };
    groups::save(conn, &group)?;
    let (joined, left) = groups::set_members(conn, group.id, &fields.members)?;
    let changed: Vec<UserId> = joined.iter().chain(&left).copied().collect();
    super::licenses::reconcile_all(conn, scope.clock, scope.org, &changed, None)?;
    audit(conn, scope, &group, action, joined.len(), left.len())?;
    groups::by_id(conn, group.id)?.ok_or(Error::NotFound("Group"))
}

fn audit(
    conn: &mut DbConn,
    scope: &Scope,
    group: &Group,
    action: Action,
    joined: usize,
    left: usize,
) -> Result<(), Error> {
    Ok(audit::record(
        conn,
        scope.clock,
        audit::NewEvent::new(Some(scope.org.id), &scope.config.actor(), action)
            .target(&group.display_name)
            .details(json!({
                "cause": "scim",
                "configuration": scope.config.name,
                "members_joined": joined,
                "members_left": left,
            })),
    )?)
}

/// Maps a pushed group to a license type, or unmaps it (`None`), from the
/// console: its members then hold that license while they are in the
/// group. Unmapping takes back the old type's seats that no other rule gives.
pub fn map_license(
    conn: &mut DbConn,
    clock: &crate::clock::Clock,
    actor: &crate::audit::Actor,
    org: &crate::orgs::Organization,
    group: GroupId,
    license_type: Option<crate::ids::LicenseType>,
) -> Result<Group, Error> {
    store::write_transaction(conn, |conn| {
        let group = groups::by_id(conn, group)?
            .filter(|g| g.org == org.id)
            .ok_or(Error::NotFound("Group"))?;
        if group.from_attribute.is_some() {
            return Err(Error::InvalidValue(
                "licenses follow groups pushed over SCIM; this group comes from a SAML attribute"
                    .into(),
            ));
        }
        if let Some(license_type) = &license_type
            && !crate::licensing::pools(conn, org.id)?
                .iter()
                .any(|p| &p.license_type == license_type)
        {
            return Err(Error::InvalidValue(format!(
                "there is no {license_type} license pool"
            )));
        }
        let retired = group
            .license_type
            .clone()
            .filter(|old| Some(old) != license_type.as_ref());
        let mapped = Group {
            license_type: license_type.clone(),
            updated_at: clock.now_naive(),
            ..group
        };
        groups::save(conn, &mapped)?;
        let members = groups::members(conn, mapped.id)?;
        super::licenses::reconcile_all(conn, clock, org, &members, retired.as_ref())?;
        audit::record(
            conn,
            clock,
            audit::NewEvent::new(Some(org.id), actor, Action::GroupLicenseMapped)
                .target(&mapped.display_name)
                .details(json!({
                    "license_type": license_type.as_ref().map(|t| t.as_str()),
                    "members": members.len(),
                })),
        )?;
        Ok(mapped)
    })
}
