//! The SCIM User resource: learners as SCIM clients see them, and the use
//! cases behind `/Users`. Every change runs in one transaction with its
//! licensing consequences and its audit event.

use serde_json::{Map, Value, json};

use super::filter::{Filter, member};
use super::patch::{self, PatchRequest};
use super::user_filter;
use super::{ENTERPRISE_SCHEMA, Error, ScimConfig, USER_SCHEMA};
use crate::accounts::Email;
use crate::accounts::jit::{self, PushedKeys, ScimKey};
use crate::accounts::learners::{self, Learner};
use crate::audit::{self, Action};
use crate::clock::Clock;
use crate::config::BaseUrl;
use crate::ids::UserId;
use crate::licensing::{self, LicenseCause};
use crate::orgs::Organization;
use crate::sessions;
use crate::store::{self, DbConn};
use crate::webhooks;

/// Longest text attribute we keep; longer is refused, not cut.
const MAX_TEXT: usize = 256;

/// What a client may set on a learner, read from a POST or PUT body (or a
/// patched resource).
#[derive(Debug, PartialEq)]
struct Fields {
    user_name: String,
    external_id: Option<String>,
    email: Email,
    display_name: String,
    first_name: Option<String>,
    last_name: Option<String>,
    active: bool,
    employee_id: Option<String>,
    department: Option<String>,
    manager_id: Option<String>,
}

pub(super) fn text(value: Option<&Value>, name: &str) -> Result<Option<String>, Error> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s))
            if s.chars().count() > MAX_TEXT || s.chars().any(char::is_control) =>
        {
            Err(Error::InvalidValue(format!(
                "{name} must be at most {MAX_TEXT} characters without control characters"
            )))
        }
        Some(Value::String(s)) => Ok(Some(s.trim().to_owned())),
        Some(_) => Err(Error::InvalidValue(format!("{name} must be a string"))),
    }
}

/// `active` as a boolean, or as the strings Entra's default dialect sends.
fn boolean(value: Option<&Value>, name: &str) -> Result<Option<bool>, Error> {
    match value {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Bool(b)) => Ok(Some(*b)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("true") => Ok(Some(true)),
        Some(Value::String(s)) if s.eq_ignore_ascii_case("false") => Ok(Some(false)),
        Some(_) => Err(Error::InvalidValue(format!("{name} must be true or false"))),
    }
}

/// The address to keep of `emails`: the primary one, else the work one, else
/// the first; else the userName when it is an address.
fn email_of(body: &Value, user_name: &str) -> Result<Email, Error> {
    let emails: Vec<&Value> = match member(body, "emails") {
        Some(Value::Array(items)) => items.iter().collect(),
        None | Some(Value::Null) => Vec::new(),
        Some(_) => return Err(Error::InvalidValue("emails must be a list".into())),
    };
    let flag = |e: &&Value, name: &str, wanted: &str| {
        member(e, name).is_some_and(|v| {
            v.as_bool().map(|b| b.to_string()).as_deref() == Some(wanted)
                || v.as_str().is_some_and(|s| s.eq_ignore_ascii_case(wanted))
        })
    };
    let chosen = emails
        .iter()
        .find(|e| flag(e, "primary", "true"))
        .or_else(|| emails.iter().find(|e| flag(e, "type", "work")))
        .or_else(|| emails.first())
        .and_then(|e| member(e, "value"))
        .and_then(Value::as_str);
    match chosen {
        Some(address) => address
            .parse()
            .map_err(|_| Error::InvalidValue(format!("{address:?} is not an email address"))),
        None => user_name.parse().map_err(|_| {
            Error::InvalidValue(
                "a learner needs an email address: send emails, or a userName that is one".into(),
            )
        }),
    }
}

impl Fields {
    fn read(body: &Value) -> Result<Self, Error> {
        if !body.is_object() {
            return Err(Error::InvalidSyntax(
                "the body must be a JSON object".into(),
            ));
        }
        let user_name = text(member(body, "userName"), "userName")?
            .ok_or_else(|| Error::InvalidValue("userName is required".into()))?;
        let name = member(body, "name");
        let first_name = text(name.and_then(|n| member(n, "givenName")), "name.givenName")?;
        let last_name = text(
            name.and_then(|n| member(n, "familyName")),
            "name.familyName",
        )?;
        let formatted = text(name.and_then(|n| member(n, "formatted")), "name.formatted")?;
        let email = email_of(body, &user_name)?;
        let display_name = text(member(body, "displayName"), "displayName")?
            .or(formatted)
            .or_else(|| match (&first_name, &last_name) {
                (Some(first), Some(last)) => Some(format!("{first} {last}")),
                (Some(one), None) | (None, Some(one)) => Some(one.clone()),
                (None, None) => None,
            })
            .unwrap_or_else(|| {
                email
                    .as_str()
                    .split('@')
                    .next()
                    .unwrap_or_default()
                    .to_owned()
            });
        let enterprise = member(body, ENTERPRISE_SCHEMA);
        let manager = enterprise.and_then(|e| member(e, "manager"));
        let manager_id = match manager {
            // Okta and Entra send {"value": id}; some clients the id alone.
            Some(Value::Object(_)) => {
                text(manager.and_then(|m| member(m, "value")), "manager.value")?
            }
            other => text(other, "manager")?,
        };
        Ok(Self {
            external_id: text(member(body, "externalId"), "externalId")?,
            email,
            display_name,
            first_name,
            last_name,
            active: boolean(member(body, "active"), "active")?.unwrap_or(true),
            employee_id: text(
                enterprise.and_then(|e| member(e, "employeeNumber")),
                "employeeNumber",
            )?,
            department: text(
                enterprise.and_then(|e| member(e, "department")),
                "department",
            )?,
            manager_id,
            user_name,
        })
    }
}

/// The learner as a SCIM User.
pub fn resource(learner: &Learner, base_url: &BaseUrl) -> Value {
    let mut name = Map::new();
    for (key, value) in [
        ("givenName", &learner.first_name),
        ("familyName", &learner.last_name),
    ] {
        if let Some(value) = value {
            name.insert(key.into(), json!(value));
        }
    }
    let mut enterprise = Map::new();
    if let Some(number) = &learner.employee_id {
        enterprise.insert("employeeNumber".into(), json!(number));
    }
    if let Some(department) = &learner.department {
        enterprise.insert("department".into(), json!(department));
    }
    if let Some(manager) = &learner.scim.manager_id {
        enterprise.insert("manager".into(), json!({ "value": manager }));
    }
    let mut user = json!({
        "schemas": [USER_SCHEMA],
        "id": learner.id.to_string(),
        "userName": learner.scim.user_name.as_deref().unwrap_or(learner.email.as_str()),
        "displayName": learner.display_name,
        "emails": [{ "value": learner.email.as_str(), "type": "work", "primary": true }],
        "active": learner.active,
        "meta": {
            "resourceType": "User",
            "created": super::discovery::instant(learner.created_at),
            "lastModified": super::discovery::instant(learner.updated_at),
            "location": location(base_url, learner.id),
            "version": version(learner),
        },
    });
    if let Some(external_id) = &learner.scim.external_id {
        user["externalId"] = json!(external_id);
    }
    // Empty complex attributes are left out (RFC 7643, 2.5: unassigned
    // attributes are not returned), and so is an extension with no values.
    if !name.is_empty() {
        user["name"] = Value::Object(name);
    }
    if !enterprise.is_empty() {
        user["schemas"] = json!([USER_SCHEMA, ENTERPRISE_SCHEMA]);
        user[ENTERPRISE_SCHEMA] = Value::Object(enterprise);
    }
    user
}

/// The weak ETag of the learner's current version.
pub fn version(learner: &Learner) -> String {
    super::etag(learner.version)
}

pub fn location(base_url: &BaseUrl, id: UserId) -> String {
    base_url.join(&format!("/scim/v2/Users/{id}"))
}

/// Who provisions, and where: the authenticated configuration, its
/// organization, the clock and this server's public URL.
pub struct Scope<'a> {
    pub clock: &'a Clock,
    pub config: &'a ScimConfig,
    pub org: &'a Organization,
    pub base_url: &'a BaseUrl,
}

/// Whether the configuration may see the learner: its organization's, not
/// deleted over SCIM, and not managed by another configuration.
fn visible(config: &ScimConfig, learner: &Learner) -> bool {
    learner.org == config.org
        && !learner.removed_by_idp()
        && learner.scim.managed_by.is_none_or(|m| m == config.id)
}

/// The learners with these ids that the configuration sees (others are left out).
pub(super) fn visible_among(
    conn: &mut DbConn,
    scope: &Scope,
    ids: &[UserId],
) -> Result<Vec<Learner>, Error> {
    Ok(learners::by_ids(conn, ids)?
        .into_iter()
        .filter(|l| visible(scope.config, l))
        .collect())
}

fn find(conn: &mut DbConn, config: &ScimConfig, id: &str) -> Result<Learner, Error> {
    let id: UserId = id.parse().map_err(|_| Error::NotFound("User"))?;
    learners::find_by_id(conn, id)?
        .filter(|l| visible(config, l))
        .ok_or(Error::NotFound("User"))
}

/// GET /Users/{id}.
pub fn get(conn: &mut DbConn, scope: &Scope, id: &str) -> Result<Learner, Error> {
    find(conn, scope.config, id)
}

/// One page of a list request.
pub struct Listed<T> {
    pub items: Vec<T>,
    /// All that match, not only this page's (RFC 7644, 3.4.2.4).
    pub total: usize,
}

/// GET /Users: the visible learners matching `filter`, oldest first,
/// `count` from the 1-based `start_index`.
pub fn list(
    conn: &mut DbConn,
    scope: &Scope,
    filter: Option<&Filter>,
    start_index: usize,
    count: usize,
) -> Result<Listed<Learner>, Error> {
    let (config, base_url) = (scope.config, scope.base_url);
    // `userName eq` and `externalId eq` are how IdPs find a learner before
    // creating one: answered from the unique indexes.
    let keyed = filter.and_then(Filter::equality).and_then(|(path, value)| {
        if path.is("userName") {
            Some(ScimKey::UserName(value))
        } else if path.is("externalId") {
            Some(ScimKey::ExternalId(value))
        } else {
            None
        }
    });
    // A filter the database can evaluate (or none): one page from SQL, the
    // visibility rule included; otherwise every visible learner's resource
    // is matched in memory.
    let in_sql: Option<Option<learners::Condition>> = match filter {
        None => Some(None),
        Some(_) if keyed.is_some() => None,
        Some(filter) => user_filter::condition(filter).map(Some),
    };
    if let Some(condition) = in_sql {
        let offset = i64::try_from(start_index.saturating_sub(1)).unwrap_or(i64::MAX);
        let limit = i64::try_from(count).unwrap_or(i64::MAX);
        let (items, total) = learners::scim_page(
            conn,
            config.org,
            config.id,
            condition.as_ref(),
            offset,
            limit,
        )?;
        return Ok(Listed {
            items,
            total: usize::try_from(total).unwrap_or(usize::MAX),
        });
    }
    let mut matching: Vec<Learner> = match keyed {
        Some(key) => by_key(conn, config, key)?.into_iter().collect(),
        None => learners::list(conn, config.org)?
            .into_iter()
            .filter(|l| visible(config, l))
            .filter(|l| filter.is_none_or(|f| f.matches(&resource(l, base_url))))
            .collect(),
    };
    matching.sort_by_key(|l| (l.created_at, l.id));
    let total = matching.len();
    let items = matching
        .into_iter()
        .skip(start_index.saturating_sub(1))
        .take(count)
        .collect();
    Ok(Listed { items, total })
}

/// The visible learner an indexed key names. A learner who never came
/// through SCIM shows their email as userName, and is found by it.
fn by_key(conn: &mut DbConn, config: &ScimConfig, key: ScimKey) -> Result<Option<Learner>, Error> {
    let found = match (jit::by_scim_key(conn, config.org, key)?, key) {
        (None, ScimKey::UserName(name)) => match name.parse::<Email>() {
            Ok(email) => {
                learners::by_email(conn, config.org, &email)?.filter(|l| l.scim.user_name.is_none())
            }
            Err(_) => None,
        },
        (found, _) => found,
    };
    Ok(found.filter(|l| visible(config, l)))
}

/// POST /Users: creates the learner, or takes over the one this person
/// already has (signed in by SAML, invited): one account per person. A
/// userName or externalId another SCIM-pushed learner holds is a conflict.
pub fn create(conn: &mut DbConn, scope: &Scope, body: &Value) -> Result<Learner, Error> {
    let fields = Fields::read(body)?;
    let org = scope.org;
    store::write_transaction(conn, |conn| {
        let keys = PushedKeys {
            external_id: fields.external_id.as_deref(),
            user_name: &fields.user_name,
            email: &fields.email,
        };
        let existing = jit::match_pushed(conn, org.id, &keys)?;
        match existing {
            Some(learner) if learner.scim.user_name.is_some() && !learner.removed_by_idp() => {
                Err(Error::Uniqueness(format!(
                    "a user with userName {:?} exists already",
                    learner.scim.user_name.as_deref().unwrap_or_default()
                )))
            }
            Some(learner) => save(conn, scope, Some(learner), fields),
            None => save(conn, scope, None, fields),
        }
    })
}

/// PUT /Users/{id}: replaces what the client may set.
pub fn replace(
    conn: &mut DbConn,
    scope: &Scope,
    id: &str,
    body: &Value,
    if_match: Option<&str>,
) -> Result<Learner, Error> {
    let fields = Fields::read(body)?;
    store::write_transaction(conn, |conn| {
        let learner = current(conn, scope.config, id, if_match)?;
        save(conn, scope, Some(learner), fields)
    })
}

/// PATCH /Users/{id}: the operations applied to the learner's resource,
/// which is then read as a PUT body would be.
pub fn patch(
    conn: &mut DbConn,
    scope: &Scope,
    id: &str,
    request: PatchRequest,
    if_match: Option<&str>,
) -> Result<Learner, Error> {
    store::write_transaction(conn, |conn| {
        let learner = current(conn, scope.config, id, if_match)?;
        let mut body = resource(&learner, scope.base_url);
        patch::apply(&mut body, request)?;
        let fields = Fields::read(&body)?;
        save(conn, scope, Some(learner), fields)
    })
}

/// DELETE /Users/{id}: the learner loses their seats and sessions and can
/// no longer sign in; the account and its history stay (for the audit
/// trail), handed back to the administrators. Entra never deletes (it
/// deactivates), Okta may.
pub fn delete(conn: &mut DbConn, scope: &Scope, id: &str) -> Result<(), Error> {
    let Scope {
        clock, config, org, ..
    } = *scope;
    store::write_transaction(conn, |conn| {
        let learner = find(conn, config, id)?;
        let removed = Learner {
            active: false,
            scim: learners::ScimProfile::default(),
            updated_at: clock.now_naive(),
            ..learner.clone()
        };
        end_access(conn, clock, config, org, &removed)?;
        learners::save(conn, &removed)?;
        audit::record(
            conn,
            clock,
            audit::NewEvent::new(Some(org.id), &config.actor(), Action::LearnerDeleted)
                .target(learner.email.as_str())
                .details(json!({ "cause": "scim", "configuration": config.name })),
        )?;
        webhooks::on_learner_change(
            conn,
            clock,
            Action::LearnerDeleted,
            org,
            &removed,
            json!({ "cause": "scim", "deleted": true }),
        )?;
        Ok(())
    })
}

/// The learner `id` for a change, at the version the client last saw when
/// it sent `If-Match`.
fn current(
    conn: &mut DbConn,
    config: &ScimConfig,
    id: &str,
    if_match: Option<&str>,
) -> Result<Learner, Error> {
    let learner = find(conn, config, id)?;
    super::check_if_match(if_match, learner.version)?;
    Ok(learner)
}

/// Seats and sessions go the moment a learner is deactivated.
fn end_access(
    conn: &mut DbConn,
    clock: &Clock,
    config: &ScimConfig,
    org: &Organization,
    learner: &Learner,
) -> Result<(), Error> {
    licensing::revoke_all(
        conn,
        clock,
        &config.actor(),
        LicenseCause::Scim,
        org,
        learner,
    )?;
    sessions::end_all_of(conn, learner.id)?;
    Ok(())
}

/// Writes `fields` onto the learner (new when `before` is `None`), managed
/// by `config`, with what follows: seats, sessions, audit.
fn save(
    conn: &mut DbConn,
    scope: &Scope,
    before: Option<Learner>,
    fields: Fields,
) -> Result<Learner, Error> {
    let Scope {
        clock, config, org, ..
    } = *scope;
    let now = clock.now_naive();
    let created = before.is_none();
    let was_active = before.as_ref().is_some_and(|l| l.active);
    let base =
        before.unwrap_or_else(|| Learner::new(org.id, fields.email.clone(), String::new(), now));
    let learner = Learner {
        email: fields.email,
        display_name: fields.display_name,
        first_name: fields.first_name,
        last_name: fields.last_name,
        department: fields.department,
        employee_id: fields.employee_id,
        active: fields.active,
        scim: learners::ScimProfile {
            managed_by: Some(config.id),
            user_name: Some(fields.user_name),
            external_id: fields.external_id,
            manager_id: fields.manager_id,
        },
        updated_at: now,
        ..base
    };
    let duplicate = |e: store::Error| match e {
        store::Error::Duplicate => Error::Uniqueness(
            "another learner has this email address, userName or externalId".into(),
        ),
        other => other.into(),
    };
    if created {
        learners::insert(conn, &learner).map_err(duplicate)?;
    } else {
        learners::save(conn, &learner).map_err(duplicate)?;
    }
    let action = match (created, was_active, learner.active) {
        (true, _, _) => Action::UserCreated,
        (false, true, false) => Action::LearnerDeactivated,
        (false, false, true) => Action::LearnerReactivated,
        _ => Action::LearnerUpdated,
    };
    if learner.active {
        super::licenses::reconcile(conn, clock, org, &learner)?;
    } else {
        end_access(conn, clock, config, org, &learner)?;
    }
    audit::record(
        conn,
        clock,
        audit::NewEvent::new(Some(org.id), &config.actor(), action)
            .target(learner.email.as_str())
            .details(json!({ "cause": "scim", "configuration": config.name })),
    )?;
    webhooks::on_learner_change(
        conn,
        clock,
        action,
        org,
        &learner,
        json!({ "cause": "scim" }),
    )?;
    // The version the database now holds: it counts each update itself.
    let version = if created {
        learner.version
    } else {
        learner.version + 1
    };
    Ok(Learner { version, ..learner })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_read_both_entra_booleans_and_pick_the_address() {
        let body = json!({
            "userName": "ann@contoso.onmicrosoft.com",
            "active": "False",
            "emails": [
                {"value": "ann@home.example", "type": "home"},
                {"value": "Ann@Contoso.example", "type": "work"}
            ],
            "name": {"givenName": "Ann", "familyName": "Smith"},
            ENTERPRISE_SCHEMA: {"department": "Sales", "manager": {"value": "m-1"}},
        });
        let fields = Fields::read(&body).expect("valid");
        assert!(!fields.active);
        assert_eq!(fields.email.as_str(), "ann@contoso.example");
        assert_eq!(fields.display_name, "Ann Smith");
        assert_eq!(fields.department.as_deref(), Some("Sales"));
        assert_eq!(fields.manager_id.as_deref(), Some("m-1"));
    }

    #[test]
    fn a_learner_needs_a_user_name_and_an_address() {
        for (body, says) in [
            (
                json!({"emails": [{"value": "a@b.example"}]}),
                "userName is required",
            ),
            (json!({"userName": "ann"}), "needs an email address"),
            (
                json!({"userName": "ann", "emails": [{"value": "nope"}]}),
                "not an email address",
            ),
            (
                json!({"userName": "a@b.example", "active": "maybe"}),
                "true or false",
            ),
            (
                json!({"userName": "a@b.example", "displayName": "x".repeat(300)}),
                "at most 256",
            ),
            (json!(["not", "an", "object"]), "JSON object"),
        ] {
            let error = Fields::read(&body).expect_err("refused");
            assert!(error.to_string().contains(says), "{body}: {error}");
        }
    }
}
