//! SCIM 2.0 provisioning (RFC 7643, 7644): an organization's IdP creates,
//! updates and deactivates learners and manages their licenses. No HTTP
//! here: `web::scim` parses requests, calls these use cases and renders.
//!
//! A configuration is one IdP's SCIM client; its bearer token is shown once
//! and stored as its SHA-256. It sees the learners of its organization that
//! it manages or that no other configuration manages, never another
//! organization's.

pub mod discovery;
pub mod filter;
pub mod groups;
pub mod licenses;
mod patch;
mod queries;
pub mod user_filter;
pub mod users;

pub use patch::PatchRequest;

use chrono::{NaiveDateTime, TimeDelta};
use serde_json::{Value, json};

use crate::audit::{self, Action, Actor};
use crate::clock::Clock;
use crate::ids::{LicenseType, OrgId, ScimConfigId};
use crate::orgs::Organization;
use crate::secret::SecretToken;
use crate::store::{self, DbConn};

/// The core and enterprise User schemas, and the message schemas.
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
pub const ENTERPRISE_SCHEMA: &str = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
pub const LIST_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:ListResponse";
pub const ERROR_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:Error";
pub const PATCH_SCHEMA: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

/// Most resources one list request returns (advertised as `filter.maxResults`).
pub const MAX_RESULTS: u32 = 1000;

/// How often `last_used_at` is written: once a minute is precise enough for
/// "last used", and not one write per provisioning request.
const LAST_USED_PRECISION: TimeDelta = TimeDelta::minutes(1);

/// One IdP's SCIM client of an organization.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScimConfig {
    pub id: ScimConfigId,
    pub org: OrgId,
    pub name: String,
    /// Whether active learners it pushes get a seat of `license_type`.
    pub auto_assign: bool,
    pub license_type: Option<LicenseType>,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
}

impl ScimConfig {
    /// Who its changes are audited as.
    pub fn actor(&self) -> Actor {
        Actor::Scim(self.id)
    }

    /// The license type its learners get a seat of, when it assigns any.
    pub fn assigns(&self) -> Option<&LicenseType> {
        self.license_type.as_ref().filter(|_| self.auto_assign)
    }
}

/// A configuration's name as people read it in lists and the audit log.
fn checked_name(name: &str) -> Result<String, ConfigError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 || name.chars().any(char::is_control) {
        return Err(ConfigError::BadName);
    }
    Ok(name.to_owned())
}

/// Why a configuration could not be made or changed.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("the name must be 1 to 100 characters without control characters")]
    BadName,
    #[error("the organization already has a SCIM configuration named {0:?}")]
    NameTaken(String),
    #[error("auto-assign needs a license type: add --license-type")]
    NoLicenseType,
    #[error("the organization has no {0:?} license pool: create it with `seatgate license set`")]
    NoPool(String),
    #[error("the organization has no SCIM configuration {0}")]
    NotFound(String),
    #[error(transparent)]
    Store(#[from] store::Error),
}

/// What to make: a name, and which seat (if any) its active learners get.
pub struct NewConfig {
    pub name: String,
    pub auto_assign: bool,
    pub license_type: Option<LicenseType>,
}

/// Creates a configuration; the token is returned once and never again.
pub fn create(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    org: &Organization,
    new: NewConfig,
) -> Result<(ScimConfig, SecretToken), ConfigError> {
    let name = checked_name(&new.name)?;
    if new.auto_assign && new.license_type.is_none() {
        return Err(ConfigError::NoLicenseType);
    }
    store::write_transaction(conn, |conn| {
        if let Some(license_type) = &new.license_type
            && !crate::licensing::pools(conn, org.id)?
                .iter()
                .any(|p| &p.license_type == license_type)
        {
            return Err(ConfigError::NoPool(license_type.to_string()));
        }
        let config = ScimConfig {
            id: ScimConfigId::generate(),
            org: org.id,
            name: name.clone(),
            auto_assign: new.auto_assign,
            license_type: new.license_type.clone(),
            created_at: clock.now_naive(),
            last_used_at: None,
        };
        let token = SecretToken::generate();
        queries::insert(conn, &config, &token.hash()).map_err(|e| match e {
            store::Error::Duplicate => ConfigError::NameTaken(name.clone()),
            other => other.into(),
        })?;
        audit::record(
            conn,
            clock,
            audit::NewEvent::new(Some(org.id), actor, Action::ScimConfigCreated)
                .target(&config.name)
                .details(json!({
                    "id": config.id.to_string(),
                    "auto_assign": config.auto_assign,
                    "license_type": config.license_type.as_ref().map(LicenseType::as_str),
                })),
        )?;
        Ok((config, token))
    })
}

/// The organization's configurations, by name.
pub fn list(conn: &mut DbConn, org: OrgId) -> Result<Vec<ScimConfig>, store::Error> {
    queries::for_org(conn, org)
}

/// A configuration by id, whatever its organization (for the audit log's names).
pub fn config_by_id(
    conn: &mut DbConn,
    id: ScimConfigId,
) -> Result<Option<ScimConfig>, store::Error> {
    queries::by_id(conn, id)
}

fn of_org(conn: &mut DbConn, org: &Organization, id: &str) -> Result<ScimConfig, ConfigError> {
    let not_found = || ConfigError::NotFound(id.to_owned());
    let parsed: ScimConfigId = id.parse().map_err(|_| not_found())?;
    queries::by_id(conn, parsed)?
        .filter(|c| c.org == org.id)
        .ok_or_else(not_found)
}

/// A new token for the configuration; the old one stops working at once.
pub fn rotate(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    org: &Organization,
    id: &str,
) -> Result<(ScimConfig, SecretToken), ConfigError> {
    store::write_transaction(conn, |conn| {
        let config = of_org(conn, org, id)?;
        let token = SecretToken::generate();
        queries::set_token(conn, config.id, &token.hash())?;
        audit::record(
            conn,
            clock,
            audit::NewEvent::new(Some(org.id), actor, Action::ScimTokenRotated)
                .target(&config.name)
                .details(json!({ "id": config.id.to_string() })),
        )?;
        Ok((config, token))
    })
}

/// Removes the configuration: its token stops working, and the learners it
/// managed are the administrators' again (with their seats and history).
pub fn remove(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    org: &Organization,
    id: &str,
) -> Result<ScimConfig, ConfigError> {
    store::write_transaction(conn, |conn| {
        let config = of_org(conn, org, id)?;
        queries::delete(conn, config.id)?;
        audit::record(
            conn,
            clock,
            audit::NewEvent::new(Some(org.id), actor, Action::ScimConfigRemoved)
                .target(&config.name)
                .details(json!({ "id": config.id.to_string() })),
        )?;
        Ok(config)
    })
}

/// The configuration a presented bearer token belongs to, and its
/// organization; `None` for a missing, malformed, wrong or revoked token.
/// Looks the token up by its SHA-256, so no comparison of the secret itself
/// can leak timing.
pub fn authenticate(
    conn: &mut DbConn,
    clock: &Clock,
    presented: &str,
) -> Result<Option<(ScimConfig, Organization)>, store::Error> {
    let Some(token) = SecretToken::from_presented(presented) else {
        return Ok(None);
    };
    let Some(config) = queries::by_token(conn, &token.hash())? else {
        return Ok(None);
    };
    let now = clock.now_naive();
    if config
        .last_used_at
        .is_none_or(|used| now - used >= LAST_USED_PRECISION)
    {
        queries::set_last_used(conn, config.id, now)?;
    }
    let org = crate::orgs::find_by_id(conn, config.org).map_err(|e| match e {
        crate::orgs::Error::Store(e) => e,
        other => store::Error::Corrupt {
            what: "SCIM configuration's organization",
            value: other.to_string(),
        },
    })?;
    Ok(Some((config, org)))
}

/// A resource cut to the `attributes` asked for, or without the
/// `excludedAttributes` (RFC 7644, 3.9: comma-separated, any case, dotted
/// sub-attributes); `id` and `schemas` are always returned.
pub fn project(resource: Value, attributes: Option<&str>, excluded: Option<&str>) -> Value {
    let names = |list: &str| -> Vec<String> {
        list.split(',')
            .map(|name| {
                let name = name.trim();
                // A core-schema URN prefix names the top-level attribute.
                name.strip_prefix(USER_SCHEMA)
                    .and_then(|n| n.strip_prefix(':'))
                    .unwrap_or(name)
                    .to_ascii_lowercase()
            })
            .filter(|n| !n.is_empty())
            .collect()
    };
    let Value::Object(mut object) = resource else {
        return resource;
    };
    let always = |key: &str| key == "id" || key == "schemas";
    if let Some(wanted) = attributes.map(names) {
        object.retain(|key, value| {
            let key_l = key.to_ascii_lowercase();
            if always(key) || wanted.contains(&key_l) {
                return true;
            }
            // "name.givenName": keep the parent with only those sub-attributes.
            let subs: Vec<&str> = wanted
                .iter()
                .filter_map(|w| w.strip_prefix(&key_l)?.strip_prefix('.'))
                .collect();
            if let (false, Value::Object(inner)) = (subs.is_empty(), &mut *value) {
                inner.retain(|k, _| subs.contains(&k.to_ascii_lowercase().as_str()));
                return true;
            }
            false
        });
    }
    if let Some(unwanted) = excluded.map(names) {
        object.retain(|key, _| always(key) || !unwanted.contains(&key.to_ascii_lowercase()));
    }
    Value::Object(object)
}

/// How many refused requests are kept per configuration.
const REQUEST_ERRORS_KEPT: i64 = 100;

/// A refused SCIM request, kept for the console.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RequestError {
    pub config: ScimConfigId,
    pub method: String,
    /// The path with its query string (never a body, never the token).
    pub path: String,
    pub status: u16,
    pub detail: String,
    pub at: NaiveDateTime,
}

/// Keeps a refused request of a configuration (the newest 100 stay).
pub fn record_request_error(conn: &mut DbConn, error: &RequestError) -> Result<(), store::Error> {
    queries::insert_request_error(conn, error, REQUEST_ERRORS_KEPT)
}

/// The configuration's most recent refused requests, newest first.
pub fn recent_request_errors(
    conn: &mut DbConn,
    config: ScimConfigId,
    limit: i64,
) -> Result<Vec<RequestError>, store::Error> {
    queries::recent_request_errors(conn, config, limit)
}

/// The weak ETag of a resource at `version` (RFC 7644, 3.14).
pub fn etag(version: u32) -> String {
    format!("W/\"{version}\"")
}

/// Whether a change may go ahead: no `If-Match`, `*`, or one of its tags is
/// the resource's current one.
fn check_if_match(if_match: Option<&str>, version: u32) -> Result<(), Error> {
    match if_match.filter(|w| *w != "*") {
        Some(wanted) if !wanted.split(',').any(|tag| tag.trim() == etag(version)) => {
            Err(Error::VersionMismatch(wanted.to_owned()))
        }
        _ => Ok(()),
    }
}

/// What a provisioning request could not do, in SCIM's terms (RFC 7644,
/// 3.12): the web layer maps each to its status and `scimType`.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("{0}")]
    InvalidFilter(String),
    #[error("{0}")]
    InvalidPath(String),
    #[error("{0}")]
    InvalidValue(String),
    #[error("{0}")]
    InvalidSyntax(String),
    #[error("{0}")]
    Mutability(String),
    #[error("{0}")]
    NoTarget(String),
    #[error("{0}")]
    Uniqueness(String),
    #[error("no {0} with that id")]
    NotFound(&'static str),
    #[error("the resource changed since version {0}")]
    VersionMismatch(String),
    #[error(transparent)]
    Store(#[from] store::Error),
}

impl From<crate::licensing::Error> for Error {
    fn from(e: crate::licensing::Error) -> Self {
        match e {
            crate::licensing::Error::Store(e) => Error::Store(e),
            other => Error::InvalidValue(other.to_string()),
        }
    }
}
