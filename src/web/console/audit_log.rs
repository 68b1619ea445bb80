//! The audit log: filter by actor, action and date; pages; CSV export.

use std::collections::HashMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::NaiveDate;
use serde::Deserialize;

use super::{Chrome, Console, Pager, Section, when};
use crate::accounts::{admins, learners};
use crate::audit::{self, ACTIONS, Action, Actor, AuditFilter, Event};
use crate::ids::OrgId;
use crate::store::DbConn;
use crate::web::pages::render_with;
use crate::web::pages::{csv_download, encode};
use crate::web::{AppState, Error};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/orgs/{org}/audit", web::get().to(show))
        .route("/admin/orgs/{org}/audit.csv", web::get().to(export));
}

const PER_PAGE: u32 = 50;
/// The most rows one export holds.
const EXPORT_LIMIT: u32 = 100_000;

/// An event as people read it.
pub struct EventLine {
    pub at: String,
    pub actor: String,
    /// The action's code, as the CSV export and the filter keep it.
    pub action: &'static str,
    /// What happened, in words.
    pub said: &'static str,
    pub target: String,
    pub details: String,
}

/// Names for actors as people read them (admins and learners by email),
/// each looked up once.
pub struct ActorNames(HashMap<String, String>);

impl ActorNames {
    /// Starts with the organization's administrators, the usual actors.
    pub fn new(conn: &mut DbConn, org: OrgId) -> Result<Self, Error> {
        Ok(Self(
            admins::list(conn, org)?
                .into_iter()
                .map(|a| {
                    (
                        Actor::Admin(a.id).to_string(),
                        format!("{} (admin)", a.email),
                    )
                })
                .collect(),
        ))
    }

    pub fn name(&mut self, conn: &mut DbConn, actor: &Actor) -> Result<String, Error> {
        let key = actor.to_string();
        if let Some(name) = self.0.get(&key) {
            return Ok(name.clone());
        }
        let name = match actor {
            Actor::Cli => "command line".to_owned(),
            Actor::System => "Seatgate".to_owned(),
            Actor::Scim(id) => crate::scim::config_by_id(conn, *id)?
                .map(|c| format!("{} (SCIM)", c.name))
                .unwrap_or_else(|| "removed SCIM configuration".to_owned()),
            Actor::Import(id) => format!("CSV import {id}"),
            Actor::Setup(_) => "someone with a setup link".to_owned(),
            Actor::Learner(id) => learners::find_by_id(conn, *id)?
                .map(|l| l.email.to_string())
                .unwrap_or_else(|| "deleted learner".to_owned()),
            // An operator (their home is another organization), or a deleted admin.
            Actor::Admin(id) => match admins::find(conn, *id)? {
                Some(a) if a.operator => format!("{} (operator)", a.email),
                Some(a) => format!("{} (admin)", a.email),
                None => "deleted administrator".to_owned(),
            },
        };
        self.0.insert(key, name.clone());
        Ok(name)
    }
}

/// Puts names on the actors of `events`, and on the connections their
/// details name.
pub fn lines(conn: &mut DbConn, org: OrgId, events: Vec<Event>) -> Result<Vec<EventLine>, Error> {
    let mut names = ActorNames::new(conn, org)?;
    let connections: HashMap<String, String> = crate::orgs::connections::list(conn, org)?
        .into_iter()
        .map(|c| (c.id.to_string(), c.name))
        .collect();
    events
        .into_iter()
        .map(|event| {
            Ok(EventLine {
                at: when(event.at),
                actor: names.name(conn, &event.actor)?,
                action: event.action.as_str(),
                said: said(event.action),
                target: event.target.unwrap_or_default(),
                details: readable(&event.details, &connections),
            })
        })
        .collect()
}

/// An action as people read it. Exhaustive: a new action needs its words.
fn said(action: Action) -> &'static str {
    match action {
        Action::OrgCreated => "created the organization",
        Action::AdminCreated => "added an administrator",
        Action::AdminSignInLinkIssued => "issued an administrator sign-in link",
        Action::AdminPasswordSet => "set an administrator password",
        Action::AdminSignedIn => "signed in to the console",
        Action::AdminSignInFailed => "failed to sign in to the console",
        Action::AdminSignedOut => "signed out of the console",
        Action::IdpConnectionAdded => "connected an identity provider",
        Action::IdpConnectionRemoved => "removed an identity provider",
        Action::IdpConnectionChanged => "changed an identity provider connection",
        Action::LicensePoolSet => "set a license pool",
        Action::LicenseAssigned => "assigned a license",
        Action::LicenseRevoked => "revoked a license",
        Action::AutoAssignChanged => "changed automatic license assignment",
        Action::LicensePoolExhausted => "ran out of seats",
        Action::UserCreated => "created a learner",
        Action::IdentityLinked => "linked a sign-in identity",
        Action::UserSignedIn => "signed in",
        Action::OperatorGranted => "made an operator",
        Action::OrgSettingsChanged => "changed the settings",
        Action::SsoAdminGranted => "gave console access",
        Action::SsoAdminRevoked => "took console access away",
        Action::SsoTestSignIn => "ran a test sign-in",
        Action::ProfileBound => "connected a LinkedIn profile",
        Action::ProfileUnbound => "disconnected a LinkedIn profile",
        Action::LearnerInvited => "invited a learner",
        Action::InvitationCancelled => "cancelled an invitation",
        Action::InvitationAccepted => "accepted an invitation",
        Action::ScimConfigCreated => "created a SCIM configuration",
        Action::ScimTokenRotated => "issued a new SCIM token",
        Action::ScimConfigRemoved => "removed a SCIM configuration",
        Action::LearnerUpdated => "updated a learner",
        Action::LearnerDeactivated => "deactivated a learner",
        Action::LearnerReactivated => "reactivated a learner",
        Action::LearnerDeleted => "deleted a learner",
        Action::GroupCreated => "created a group",
        Action::GroupUpdated => "updated a group",
        Action::GroupDeleted => "deleted a group",
        Action::GroupLicenseMapped => "mapped a group to a license",
        Action::ImportApplied => "applied a CSV import",
        Action::SetupLinkCreated => "created a setup link",
        Action::SetupLinkOpened => "opened a setup link",
        Action::SetupLinkRevoked => "revoked a setup link",
        Action::ApplicationCreated => "registered an application",
        Action::ApplicationSecretRotated => "gave an application a new secret",
        Action::ApplicationRemoved => "removed an application",
        Action::ApplicationSignIn => "was handed to an application",
        Action::WebhookSet => "set an application's webhook",
        Action::WebhookRemoved => "removed an application's webhook",
    }
}

/// Event details as `key: value, ...` rather than JSON: keys in words, a
/// connection by its name, nothing empty.
fn readable(details: &serde_json::Value, connections: &HashMap<String, String>) -> String {
    match details {
        serde_json::Value::Object(map) => map
            .iter()
            .filter(|(_, value)| !value.is_null())
            .map(|(key, value)| {
                let text = match value {
                    serde_json::Value::String(text) if key == "connection" => connections
                        .get(text)
                        .cloned()
                        .unwrap_or_else(|| "a removed connection".to_owned()),
                    serde_json::Value::String(text) => text.clone(),
                    serde_json::Value::Bool(true) => "yes".to_owned(),
                    serde_json::Value::Bool(false) => "no".to_owned(),
                    other => other.to_string(),
                };
                format!("{}: {text}", key.replace('_', " "))
            })
            .collect::<Vec<_>>()
            .join(", "),
        other => other.to_string(),
    }
}

#[derive(Deserialize)]
struct Query {
    actor: Option<String>,
    action: Option<String>,
    from: Option<String>,
    to: Option<String>,
    page: Option<u32>,
}

/// The filter a query asks for, or the field that cannot be read.
fn filter(query: &Query) -> Result<AuditFilter, &'static str> {
    let date = |text: &Option<String>, field: &'static str| {
        text.as_deref()
            .filter(|t| !t.is_empty())
            .map(|t| NaiveDate::parse_from_str(t, "%Y-%m-%d").map_err(|_| field))
            .transpose()
    };
    Ok(AuditFilter {
        actor: query
            .actor
            .as_deref()
            .unwrap_or_default()
            .parse()
            .map_err(|()| "actor")?,
        action: query
            .action
            .as_deref()
            .filter(|a| !a.is_empty())
            .map(|a| a.parse::<Action>().map_err(|()| "action"))
            .transpose()?,
        target: None,
        from: date(&query.from, "from")?,
        to: date(&query.to, "to")?,
    })
}

#[derive(Template)]
#[template(path = "console/audit.html")]
struct AuditPage {
    chrome: Chrome,
    events: Vec<EventLine>,
    pager: Pager,
    actor: String,
    action: String,
    from: String,
    to: String,
    actors: Vec<(String, String)>,
    problem: Option<String>,
    export: String,
}

impl AuditPage {
    fn actions(&self) -> Vec<&'static str> {
        ACTIONS.iter().map(|a| a.as_str()).collect()
    }
}

async fn show(
    state: web::Data<AppState>,
    console: Console,
    query: web::Query<Query>,
) -> Result<HttpResponse, Error> {
    let query = query.into_inner();
    let (parsed, problem, status) = match filter(&query) {
        Ok(f) => (f, None, StatusCode::OK),
        Err(field) => {
            tracing::info!(field, "audit filter refused");
            (
                AuditFilter::default(),
                Some(format!(
                    "The {field} filter could not be read; showing all events."
                )),
                StatusCode::BAD_REQUEST,
            )
        }
    };
    let page = query.page.unwrap_or(1).max(1);
    let org = console.org.id;
    let search = parsed.clone();
    let (events, total, admins) = state
        .store
        .run(move |conn| {
            let found = audit::search(conn, org, &search, page, PER_PAGE)?;
            let admins = admins::list(conn, org)?;
            Ok::<_, Error>((lines(conn, org, found.events)?, found.total, admins))
        })
        .await?;
    let mut actors = vec![
        ("any".to_owned(), "Anyone".to_owned()),
        ("admins".to_owned(), "Any administrator".to_owned()),
        ("learners".to_owned(), "Any learner".to_owned()),
        (Actor::Cli.to_string(), "Command line".to_owned()),
        (Actor::System.to_string(), "Seatgate".to_owned()),
    ];
    actors.extend(
        admins
            .into_iter()
            .map(|a| (Actor::Admin(a.id).to_string(), a.email.to_string())),
    );
    let text = |d: Option<NaiveDate>| d.map(|d| d.to_string()).unwrap_or_default();
    let (actor, action, from, to) = (
        parsed.actor.to_string(),
        parsed
            .action
            .map(|a| a.as_str().to_owned())
            .unwrap_or_default(),
        text(parsed.from),
        text(parsed.to),
    );
    let filters = format!(
        "actor={}&action={}&from={}&to={}",
        encode(&actor),
        encode(&action),
        encode(&from),
        encode(&to)
    );
    let base = console.link("/audit");
    let pager = Pager::new(page, PER_PAGE, total, |p| {
        format!("{base}?{filters}&page={p}")
    });
    render_with(
        status,
        &AuditPage {
            chrome: console.chrome(Section::AuditLog),
            events,
            pager,
            actor,
            action,
            from,
            to,
            actors,
            problem,
            export: format!("{}?{filters}", console.link("/audit.csv")),
        },
    )
}

/// A cell that a spreadsheet would run as a formula gets a leading
/// apostrophe, as in every CSV Seatgate writes.
fn cell(text: &str) -> String {
    crate::imports::format::defused(text).into_owned()
}

async fn export(
    state: web::Data<AppState>,
    console: Console,
    query: web::Query<Query>,
) -> Result<HttpResponse, Error> {
    let parsed = filter(&query)
        .map_err(|field| Error::BadRequest(format!("the {field} filter could not be read")))?;
    let org = console.org.id;
    let events = state
        .store
        .run(move |conn| {
            let found = audit::search(conn, org, &parsed, 1, EXPORT_LIMIT)?;
            lines(conn, org, found.events)
        })
        .await?;
    let mut writer = csv::Writer::from_writer(Vec::new());
    let failed = |e: csv::Error| Error::BadRequest(format!("CSV export failed: {e}"));
    writer
        .write_record(["time", "actor", "action", "target", "details"])
        .map_err(failed)?;
    for line in &events {
        writer
            .write_record([
                cell(&line.at),
                cell(&line.actor),
                cell(line.action),
                cell(&line.target),
                cell(&line.details),
            ])
            .map_err(failed)?;
    }
    let body = writer
        .into_inner()
        .map_err(|e| Error::BadRequest(format!("CSV export failed: {e}")))?;
    Ok(csv_download(
        &format!("seatgate-audit-{}.csv", console.org.slug),
        body,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_read_as_words() {
        let details = serde_json::json!({
            "license_type": "Learning",
            "on": true,
            "connection": "c1",
            "failure": null,
        });
        let names = HashMap::from([("c1".to_owned(), "Acme Okta".to_owned())]);
        assert_eq!(
            readable(&details, &names),
            "connection: Acme Okta, license type: Learning, on: yes"
        );
        let gone = serde_json::json!({ "connection": "c2" });
        assert_eq!(readable(&gone, &names), "connection: a removed connection");
    }

    #[test]
    fn unreadable_filters_name_their_field() {
        let query = |from: &str, action: &str| Query {
            actor: None,
            action: Some(action.into()),
            from: Some(from.into()),
            to: None,
            page: None,
        };
        assert_eq!(filter(&query("2026-13-01", "")), Err("from"));
        assert_eq!(filter(&query("", "nonsense")), Err("action"));
        let ok = filter(&query("2026-11-01", "license_assigned")).unwrap();
        assert_eq!(ok.action, Some(Action::LicenseAssigned));
        assert_eq!(ok.from, NaiveDate::from_ymd_opt(2026, 11, 1));
    }
}
