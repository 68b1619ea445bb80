//! Audit events: who did what, when, to what.

use std::fmt;
use std::str::FromStr;

use chrono::NaiveDateTime;
use serde_json::Value;

use crate::clock::Clock;
use crate::ids::{AdminId, EventId, OrgId, UserId};
use crate::store::{self, DbConn};

/// Who caused an event.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Actor {
    /// An operator at the command line.
    Cli,
    Admin(AdminId),
    Learner(UserId),
    /// Seatgate itself (expiry, clean-up).
    System,
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Cli => f.write_str("cli"),
            Actor::Admin(id) => write!(f, "admin:{id}"),
            Actor::Learner(id) => write!(f, "user:{id}"),
            Actor::System => f.write_str("system"),
        }
    }
}

impl FromStr for Actor {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        match text.split_once(':') {
            None if text == "cli" => Ok(Actor::Cli),
            None if text == "system" => Ok(Actor::System),
            Some(("admin", id)) => id.parse().map(Actor::Admin).map_err(drop),
            Some(("user", id)) => id.parse().map(Actor::Learner).map_err(drop),
            _ => Err(()),
        }
    }
}

/// What happened. Stored as its snake_case name.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    OrgCreated,
    AdminCreated,
    AdminSignInLinkIssued,
    AdminPasswordSet,
    AdminSignedIn,
    AdminSignInFailed,
    AdminSignedOut,
    IdpConnectionAdded,
    IdpConnectionRemoved,
    IdpConnectionChanged,
    LicensePoolSet,
    LicenseAssigned,
    LicenseRevoked,
    AutoAssignChanged,
    LicensePoolExhausted,
    UserCreated,
    IdentityLinked,
    UserSignedIn,
}

const ACTIONS: [Action; 18] = [
    Action::OrgCreated,
    Action::AdminCreated,
    Action::AdminSignInLinkIssued,
    Action::AdminPasswordSet,
    Action::AdminSignedIn,
    Action::AdminSignInFailed,
    Action::AdminSignedOut,
    Action::IdpConnectionAdded,
    Action::IdpConnectionRemoved,
    Action::IdpConnectionChanged,
    Action::LicensePoolSet,
    Action::LicenseAssigned,
    Action::LicenseRevoked,
    Action::AutoAssignChanged,
    Action::LicensePoolExhausted,
    Action::UserCreated,
    Action::IdentityLinked,
    Action::UserSignedIn,
];

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Action::OrgCreated => "org_created",
            Action::AdminCreated => "admin_created",
            Action::AdminSignInLinkIssued => "admin_sign_in_link_issued",
            Action::AdminPasswordSet => "admin_password_set",
            Action::AdminSignedIn => "admin_signed_in",
            Action::AdminSignInFailed => "admin_sign_in_failed",
            Action::AdminSignedOut => "admin_signed_out",
            Action::IdpConnectionAdded => "idp_connection_added",
            Action::IdpConnectionRemoved => "idp_connection_removed",
            Action::IdpConnectionChanged => "idp_connection_changed",
            Action::LicensePoolSet => "license_pool_set",
            Action::LicenseAssigned => "license_assigned",
            Action::LicenseRevoked => "license_revoked",
            Action::AutoAssignChanged => "auto_assign_changed",
            Action::LicensePoolExhausted => "license_pool_exhausted",
            Action::UserCreated => "user_created",
            Action::IdentityLinked => "identity_linked",
            Action::UserSignedIn => "user_signed_in",
        }
    }
}

impl FromStr for Action {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        ACTIONS.into_iter().find(|a| a.as_str() == text).ok_or(())
    }
}

/// One recorded event.
#[derive(Clone, Debug)]
pub struct Event {
    pub id: EventId,
    pub org: Option<OrgId>,
    pub actor: Actor,
    pub action: Action,
    pub target: Option<String>,
    pub details: Value,
    pub at: NaiveDateTime,
}

/// An event being recorded; the time is taken from the clock when it is.
pub struct NewEvent {
    org: Option<OrgId>,
    actor: Actor,
    action: Action,
    target: Option<String>,
    details: Value,
}

impl NewEvent {
    pub fn new(org: Option<OrgId>, actor: &Actor, action: Action) -> Self {
        NewEvent {
            org,
            actor: actor.clone(),
            action,
            target: None,
            details: Value::Object(Default::default()),
        }
    }

    /// What the event is about, as people read it (an email, a slug).
    pub fn target(mut self, target: &str) -> Self {
        self.target = Some(target.to_owned());
        self
    }

    /// Extra facts, as a JSON object. Never put secrets here.
    pub fn details(mut self, details: Value) -> Self {
        self.details = details;
        self
    }
}

/// Records an event; call it inside the transaction of the change it describes.
pub fn record(conn: &mut DbConn, clock: &Clock, event: NewEvent) -> Result<(), store::Error> {
    store::audit::insert(
        conn,
        &Event {
            id: EventId::generate(),
            org: event.org,
            actor: event.actor,
            action: event.action,
            target: event.target,
            details: event.details,
            at: clock.now_naive(),
        },
    )
}

/// The most recent events of an organization, newest first.
pub fn recent(conn: &mut DbConn, org: OrgId, limit: i64) -> Result<Vec<Event>, store::Error> {
    store::audit::recent_for_org(conn, org, limit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn actions_round_trip_through_their_names() {
        for action in ACTIONS {
            assert_eq!(action.as_str().parse(), Ok(action));
        }
    }

    #[test]
    fn actors_round_trip_through_their_text() {
        for actor in [
            Actor::Cli,
            Actor::System,
            Actor::Admin(AdminId::generate()),
            Actor::Learner(UserId::generate()),
        ] {
            assert_eq!(actor.to_string().parse(), Ok(actor));
        }
        assert!("admin:not-a-uuid".parse::<Actor>().is_err());
    }
}
