//! Audit events: who did what, when, to what.

mod queries;

use std::fmt;
use std::str::FromStr;

use chrono::{NaiveDate, NaiveDateTime};
use serde_json::Value;

use crate::clock::Clock;
use crate::ids::{AdminId, EventId, ImportId, OrgId, ScimConfigId, SetupLinkId, UserId};
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
    /// The organization's IdP, through this SCIM configuration.
    Scim(ScimConfigId),
    /// A CSV import, on behalf of whoever started it (its record says who).
    Import(ImportId),
    /// Whoever opened this setup link (the customer's IT team, say).
    Setup(SetupLinkId),
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::Cli => f.write_str("cli"),
            Actor::Admin(id) => write!(f, "admin:{id}"),
            Actor::Learner(id) => write!(f, "user:{id}"),
            Actor::System => f.write_str("system"),
            Actor::Scim(id) => write!(f, "scim:{id}"),
            Actor::Import(id) => write!(f, "import:{id}"),
            Actor::Setup(id) => write!(f, "setup:{id}"),
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
            Some(("scim", id)) => id.parse().map(Actor::Scim).map_err(drop),
            Some(("import", id)) => id.parse().map(Actor::Import).map_err(drop),
            Some(("setup", id)) => id.parse().map(Actor::Setup).map_err(drop),
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
    OperatorGranted,
    OrgSettingsChanged,
    SsoAdminGranted,
    SsoAdminRevoked,
    SsoTestSignIn,
    ProfileBound,
    ProfileUnbound,
    LearnerInvited,
    InvitationCancelled,
    InvitationAccepted,
    ScimConfigCreated,
    ScimTokenRotated,
    ScimConfigRemoved,
    LearnerUpdated,
    LearnerDeactivated,
    LearnerReactivated,
    LearnerDeleted,
    GroupCreated,
    GroupUpdated,
    GroupDeleted,
    GroupLicenseMapped,
    ImportApplied,
    SetupLinkCreated,
    SetupLinkOpened,
    SetupLinkRevoked,
    ApplicationCreated,
    ApplicationSecretRotated,
    ApplicationRemoved,
    ApplicationSignIn,
    WebhookSet,
    WebhookRemoved,
}

pub const ACTIONS: [Action; 49] = [
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
    Action::OperatorGranted,
    Action::OrgSettingsChanged,
    Action::SsoAdminGranted,
    Action::SsoAdminRevoked,
    Action::SsoTestSignIn,
    Action::ProfileBound,
    Action::ProfileUnbound,
    Action::LearnerInvited,
    Action::InvitationCancelled,
    Action::InvitationAccepted,
    Action::ScimConfigCreated,
    Action::ScimTokenRotated,
    Action::ScimConfigRemoved,
    Action::LearnerUpdated,
    Action::LearnerDeactivated,
    Action::LearnerReactivated,
    Action::LearnerDeleted,
    Action::GroupCreated,
    Action::GroupUpdated,
    Action::GroupDeleted,
    Action::GroupLicenseMapped,
    Action::ImportApplied,
    Action::SetupLinkCreated,
    Action::SetupLinkOpened,
    Action::SetupLinkRevoked,
    Action::ApplicationCreated,
    Action::ApplicationSecretRotated,
    Action::ApplicationRemoved,
    Action::ApplicationSignIn,
    Action::WebhookSet,
    Action::WebhookRemoved,
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
            Action::OperatorGranted => "operator_granted",
            Action::OrgSettingsChanged => "org_settings_changed",
            Action::SsoAdminGranted => "sso_admin_granted",
            Action::SsoAdminRevoked => "sso_admin_revoked",
            Action::SsoTestSignIn => "sso_test_sign_in",
            Action::ProfileBound => "profile_bound",
            Action::ProfileUnbound => "profile_unbound",
            Action::LearnerInvited => "learner_invited",
            Action::InvitationCancelled => "invitation_cancelled",
            Action::InvitationAccepted => "invitation_accepted",
            Action::ScimConfigCreated => "scim_config_created",
            Action::ScimTokenRotated => "scim_token_rotated",
            Action::ScimConfigRemoved => "scim_config_removed",
            Action::LearnerUpdated => "learner_updated",
            Action::LearnerDeactivated => "learner_deactivated",
            Action::LearnerReactivated => "learner_reactivated",
            Action::LearnerDeleted => "learner_deleted",
            Action::GroupCreated => "group_created",
            Action::GroupUpdated => "group_updated",
            Action::GroupDeleted => "group_deleted",
            Action::GroupLicenseMapped => "group_license_mapped",
            Action::ImportApplied => "import_applied",
            Action::SetupLinkCreated => "setup_link_created",
            Action::SetupLinkOpened => "setup_link_opened",
            Action::SetupLinkRevoked => "setup_link_revoked",
            Action::ApplicationCreated => "application_created",
            Action::ApplicationSecretRotated => "application_secret_rotated",
            Action::ApplicationRemoved => "application_removed",
            Action::ApplicationSignIn => "application_sign_in",
            Action::WebhookSet => "webhook_set",
            Action::WebhookRemoved => "webhook_removed",
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
    queries::insert(
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
    queries::recent_for_org(conn, org, limit)
}

/// Whose events the audit log shows.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ActorFilter {
    #[default]
    Any,
    /// Any administrator.
    Admins,
    /// Any learner.
    Learners,
    Exactly(Actor),
}

impl FromStr for ActorFilter {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        match text {
            "" | "any" => Ok(Self::Any),
            "admins" => Ok(Self::Admins),
            "learners" => Ok(Self::Learners),
            other => other.parse().map(Self::Exactly),
        }
    }
}

impl fmt::Display for ActorFilter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Any => f.write_str("any"),
            Self::Admins => f.write_str("admins"),
            Self::Learners => f.write_str("learners"),
            Self::Exactly(actor) => actor.fmt(f),
        }
    }
}

/// Which events the audit log shows; the dates are inclusive, in UTC.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct AuditFilter {
    pub actor: ActorFilter,
    pub action: Option<Action>,
    /// Events about this target (a learner's email) only.
    pub target: Option<String>,
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
}

/// One page of an organization's events matching `filter`, newest first.
pub struct EventPage {
    pub events: Vec<Event>,
    pub total: i64,
}

/// The events matching `filter`, `per_page` at a time from page `page` (1-based).
pub fn search(
    conn: &mut DbConn,
    org: OrgId,
    filter: &AuditFilter,
    page: u32,
    per_page: u32,
) -> Result<EventPage, store::Error> {
    let offset = i64::from(page.saturating_sub(1)) * i64::from(per_page);
    let (events, total) = queries::search(conn, org, filter, offset, i64::from(per_page))?;
    Ok(EventPage { events, total })
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
            Actor::Scim(ScimConfigId::generate()),
        ] {
            assert_eq!(actor.to_string().parse(), Ok(actor));
        }
        assert!("admin:not-a-uuid".parse::<Actor>().is_err());
    }
}
