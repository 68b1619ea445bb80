//! Webhooks: an application hears of license and learner changes
//! (`license.assigned`, `license.revoked`, `learner.deactivated`,
//! `learner.updated`) at an HTTPS endpoint it registers, signed with
//! HMAC-SHA256 over the timestamp and the body (docs/applications.md).
//!
//! Every change that makes an event writes its deliveries in the change's
//! own transaction (the outbox), next to the change's audit event: a
//! committed change always has its deliveries, and a rolled-back one none.
//! [`delivery`] sends them, at least once, from whichever process claims
//! them first, retrying with backoff.

pub mod delivery;
mod queries;

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDateTime;
use serde_json::{Value, json};

use crate::accounts::learners::Learner;
use crate::applications::{self, RedirectUri};
use crate::audit::{self, Action, Actor};
use crate::clock::Clock;
use crate::ids::ApplicationId;
use crate::orgs::Organization;
use crate::secret::SecretToken;
use crate::store::{self, DbConn};

pub use queries::Delivery;

/// What happened, as an application subscribes to it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EventType {
    LicenseAssigned,
    LicenseRevoked,
    LearnerDeactivated,
    LearnerUpdated,
}

impl EventType {
    pub const ALL: [EventType; 4] = [
        EventType::LicenseAssigned,
        EventType::LicenseRevoked,
        EventType::LearnerDeactivated,
        EventType::LearnerUpdated,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            EventType::LicenseAssigned => "license.assigned",
            EventType::LicenseRevoked => "license.revoked",
            EventType::LearnerDeactivated => "learner.deactivated",
            EventType::LearnerUpdated => "learner.updated",
        }
    }

    /// The event an audited change makes, if any. A SCIM deletion is a
    /// deactivation (the learner keeps their history); a reactivation is an
    /// update (`active` is in the data).
    fn of(action: Action) -> Option<Self> {
        match action {
            Action::LicenseAssigned => Some(EventType::LicenseAssigned),
            Action::LicenseRevoked => Some(EventType::LicenseRevoked),
            Action::LearnerDeactivated | Action::LearnerDeleted => {
                Some(EventType::LearnerDeactivated)
            }
            Action::LearnerUpdated | Action::LearnerReactivated => Some(EventType::LearnerUpdated),
            _ => None,
        }
    }
}

impl FromStr for EventType {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        EventType::ALL
            .into_iter()
            .find(|e| e.as_str() == text.trim())
            .ok_or_else(|| Error::UnknownEvent(text.to_owned()))
    }
}

impl fmt::Display for EventType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// An application's endpoint.
#[derive(Clone, Debug)]
pub struct Webhook {
    pub application: ApplicationId,
    /// https, or http on a loopback host: the rules of redirect URIs.
    pub url: RedirectUri,
    pub events: Vec<EventType>,
    pub created_at: NaiveDateTime,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "unknown webhook event {0:?}: choose from license.assigned, license.revoked, learner.deactivated, learner.updated"
    )]
    UnknownEvent(String),
    #[error("subscribe to at least one event")]
    NoEvents,
    #[error("the application {0:?} has no webhook")]
    NoWebhook(String),
    #[error(transparent)]
    Application(#[from] applications::Error),
    #[error(transparent)]
    Store(#[from] store::Error),
}

/// Parses a comma-separated list of event names; empty means all.
pub fn parse_events(list: &str) -> Result<Vec<EventType>, Error> {
    if list.trim().is_empty() {
        return Ok(EventType::ALL.to_vec());
    }
    let mut events = Vec::new();
    for name in list.split(',').filter(|n| !n.trim().is_empty()) {
        let event = name.parse()?;
        if !events.contains(&event) {
            events.push(event);
        }
    }
    if events.is_empty() {
        return Err(Error::NoEvents);
    }
    Ok(events)
}

/// Sets the application's endpoint (replacing one set before) with a new
/// signing secret, returned to be shown once.
pub fn set(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    client_id: &str,
    url: &str,
    events: Vec<EventType>,
) -> Result<(Webhook, SecretToken), Error> {
    if events.is_empty() {
        return Err(Error::NoEvents);
    }
    let url: RedirectUri = url.parse()?;
    store::write_transaction(conn, |conn| {
        let application = applications::find(conn, client_id)?
            .ok_or_else(|| applications::Error::NotFound(client_id.to_owned()))?;
        let webhook = Webhook {
            application: application.id,
            url,
            events,
            created_at: clock.now_naive(),
        };
        let secret = SecretToken::generate();
        queries::replace(conn, &webhook, &secret)?;
        audit::record(
            conn,
            clock,
            audit::NewEvent::new(None, actor, Action::WebhookSet)
                .target(&application.id.to_string())
                .details(json!({
                    "application": application.name,
                    "url": webhook.url.as_str(),
                    "events": webhook.events.iter().map(|e| e.as_str()).collect::<Vec<_>>(),
                })),
        )?;
        Ok((webhook, secret))
    })
}

/// Removes the application's endpoint and its pending deliveries.
pub fn remove(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    client_id: &str,
) -> Result<(), Error> {
    store::write_transaction(conn, |conn| {
        let application = applications::find(conn, client_id)?
            .ok_or_else(|| applications::Error::NotFound(client_id.to_owned()))?;
        if !queries::delete(conn, application.id)? {
            return Err(Error::NoWebhook(application.name));
        }
        audit::record(
            conn,
            clock,
            audit::NewEvent::new(None, actor, Action::WebhookRemoved)
                .target(&application.id.to_string())
                .details(json!({ "application": application.name })),
        )?;
        Ok(())
    })
}

/// The application's endpoint, if it set one.
pub fn of_application(
    conn: &mut DbConn,
    application: ApplicationId,
) -> Result<Option<Webhook>, store::Error> {
    queries::by_application(conn, application)
}

/// The application's latest deliveries, newest first.
pub fn recent_deliveries(
    conn: &mut DbConn,
    application: ApplicationId,
    limit: i64,
) -> Result<Vec<Delivery>, store::Error> {
    queries::recent(conn, application, limit)
}

/// Queues the event an audited learner change makes (nothing for other
/// actions) for every application subscribed to it, in the caller's
/// transaction. `data` adds to the learner's `sub`, `email`, `name`, `org`
/// and `active`.
pub fn on_learner_change(
    conn: &mut DbConn,
    clock: &Clock,
    action: Action,
    org: &Organization,
    learner: &Learner,
    data: Value,
) -> Result<(), store::Error> {
    let Some(event) = EventType::of(action) else {
        return Ok(());
    };
    let subscribed = queries::subscribed(conn, event)?;
    if subscribed.is_empty() {
        return Ok(());
    }
    let now = clock.now();
    let mut body = json!({
        "sub": learner.id.to_string(),
        "email": learner.email.as_str(),
        "name": learner.display_name,
        "org": org.slug.as_str(),
        "active": learner.active,
    });
    if let (Some(body), Value::Object(extra)) = (body.as_object_mut(), data) {
        body.extend(extra);
    }
    let payload = json!({
        // One id per event, the same for every application that hears of it.
        "id": uuid::Uuid::now_v7().to_string(),
        "type": event.as_str(),
        "created_at": now.to_rfc3339_opts(chrono::SecondsFormat::Secs, true),
        "data": body,
    })
    .to_string();
    for application in subscribed {
        queries::insert_delivery(conn, application, event, &payload, now.naive_utc())?;
    }
    Ok(())
}

/// How long finished deliveries stay listed.
const KEEP_FINISHED: chrono::TimeDelta = chrono::TimeDelta::days(30);

/// Removes deliveries finished (delivered or given up) 30 days ago or more.
pub fn purge_finished(conn: &mut DbConn, now: NaiveDateTime) -> Result<usize, store::Error> {
    queries::purge_finished(conn, now - KEEP_FINISHED)
}
