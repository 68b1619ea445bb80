//! Organizations (customer companies), their settings and their IdP connections.

pub mod connections;
mod domains;
mod queries;
pub mod setup_links;

pub use domains::{
    EmailDomain, InvalidDomain, by_email_domain, email_domains, listed as listed_domains,
    parse_list as parse_email_domains, set_email_domains,
};

use std::str::FromStr;

use chrono::{NaiveDateTime, TimeDelta};

use crate::audit::{self, Action, Actor};
use crate::clock::Clock;
pub use crate::ids::OrgSlug;
use crate::ids::{InvalidSlug, OrgId};
use crate::store::{self, DbConn};

/// Whether learners of an organization connect their LinkedIn profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ProfileBindingPolicy {
    Required,
    Optional,
    Disabled,
}

impl ProfileBindingPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Required => "required",
            Self::Optional => "optional",
            Self::Disabled => "disabled",
        }
    }
}

impl FromStr for ProfileBindingPolicy {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        match text {
            "required" => Ok(Self::Required),
            "optional" => Ok(Self::Optional),
            "disabled" => Ok(Self::Disabled),
            _ => Err(()),
        }
    }
}

/// How an organization's learners sign in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LearnerSignIn {
    /// Through the organization's IdP.
    Sso,
    /// With LinkedIn: for organizations without SSO. Learners are invited,
    /// bind their LinkedIn member on the invitation, and sign in with it.
    Linkedin,
    Both,
}

impl LearnerSignIn {
    pub const ALL: [LearnerSignIn; 3] = [Self::Sso, Self::Linkedin, Self::Both];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Sso => "sso",
            Self::Linkedin => "linkedin",
            Self::Both => "both",
        }
    }

    pub fn allows_linkedin(self) -> bool {
        matches!(self, Self::Linkedin | Self::Both)
    }
}

impl FromStr for LearnerSignIn {
    type Err = ();

    fn from_str(text: &str) -> Result<Self, ()> {
        Self::ALL.into_iter().find(|m| m.as_str() == text).ok_or(())
    }
}

/// A display name as people type it: trimmed, 1 to 200 characters, no control characters.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DisplayName(String);

impl FromStr for DisplayName {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self, Error> {
        let trimmed = text.trim();
        let length = trimmed.chars().count();
        if (1..=200).contains(&length) && !trimmed.chars().any(char::is_control) {
            Ok(Self(trimmed.to_owned()))
        } else {
            Err(Error::InvalidName)
        }
    }
}

impl DisplayName {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Clone, Debug)]
pub struct Organization {
    pub id: OrgId,
    pub slug: OrgSlug,
    pub display_name: String,
    pub auto_assign_licenses: bool,
    pub profile_binding_policy: ProfileBindingPolicy,
    pub learner_sign_in: LearnerSignIn,
    pub created_at: NaiveDateTime,
    /// Tolerance for the IdP's clock in SAML time checks.
    pub clock_skew: ClockSkew,
    /// The license type "Automatically assign licenses" draws from.
    pub auto_assign_license_type: Option<crate::ids::LicenseType>,
    /// How long a learner stays signed in after single sign-on.
    pub learner_session: SessionLifetime,
    /// Whether learners need a license to be handed to an application
    /// (`oidc`); without one they get Seatgate's page saying why.
    pub apps_require_license: bool,
}

/// How long a learner's session lasts: 15 minutes to 30 days.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SessionLifetime(i64);

impl SessionLifetime {
    pub const DEFAULT: SessionLifetime = SessionLifetime(8 * 60);
    const MINUTES: std::ops::RangeInclusive<i64> = 15..=30 * 24 * 60;

    pub fn from_minutes(minutes: i64) -> Result<Self, Error> {
        if Self::MINUTES.contains(&minutes) {
            Ok(Self(minutes))
        } else {
            Err(Error::InvalidSessionLifetime)
        }
    }

    pub fn minutes(self) -> i64 {
        self.0
    }

    pub fn duration(self) -> TimeDelta {
        TimeDelta::minutes(self.0)
    }
}

/// How far off the IdP's clock may be in SAML time checks: 0 to 600 seconds.
/// Beyond ten minutes an intercepted assertion stays usable for too long.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ClockSkew(i64);

impl ClockSkew {
    /// Three minutes.
    pub const DEFAULT: ClockSkew = ClockSkew(180);
    const SECONDS: std::ops::RangeInclusive<i64> = 0..=600;

    pub fn from_seconds(seconds: i64) -> Result<Self, Error> {
        if Self::SECONDS.contains(&seconds) {
            Ok(Self(seconds))
        } else {
            Err(Error::InvalidClockSkew)
        }
    }

    pub fn seconds(self) -> i64 {
        self.0
    }

    pub fn duration(self) -> TimeDelta {
        TimeDelta::seconds(self.0)
    }
}

/// The settings of the console's "Sign-in" section.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignInSettings {
    pub learner_sign_in: LearnerSignIn,
    pub profile_binding: ProfileBindingPolicy,
    pub learner_session: SessionLifetime,
    pub clock_skew: ClockSkew,
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(transparent)]
    InvalidSlug(#[from] InvalidSlug),
    #[error("the organization name must have 1 to 200 characters and no control characters")]
    InvalidName,
    #[error("the session lifetime must be between 15 minutes and 30 days")]
    InvalidSessionLifetime,
    #[error("the clock skew must be between 0 and 10 minutes")]
    InvalidClockSkew,
    #[error("organization {0:?} already exists")]
    AlreadyExists(String),
    #[error("organization {0:?} does not exist")]
    NotFound(String),
    #[error(transparent)]
    InvalidDomain(#[from] InvalidDomain),
    #[error(
        "the email domain {domain} belongs to {owner} already: a domain belongs to one organization"
    )]
    DomainTaken { domain: String, owner: String },
    #[error(transparent)]
    Store(#[from] store::Error),
}

/// Creates an organization with default settings and records who did it.
pub fn create(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    slug: OrgSlug,
    name: DisplayName,
) -> Result<Organization, Error> {
    let org = Organization {
        id: OrgId::generate(),
        slug,
        display_name: name.0,
        auto_assign_licenses: false,
        profile_binding_policy: ProfileBindingPolicy::Optional,
        created_at: clock.now_naive(),
        clock_skew: ClockSkew::DEFAULT,
        auto_assign_license_type: None,
        learner_session: SessionLifetime::DEFAULT,
        learner_sign_in: LearnerSignIn::Sso,
        apps_require_license: false,
    };
    store::write_transaction(conn, |conn| {
        queries::insert(conn, &org).map_err(|e| match e {
            store::Error::Duplicate => Error::AlreadyExists(org.slug.to_string()),
            other => other.into(),
        })?;
        audit::record(
            conn,
            clock,
            audit::NewEvent::new(Some(org.id), actor, Action::OrgCreated).target(org.slug.as_str()),
        )?;
        Ok(org.clone())
    })
}

/// Stores the sign-in settings. The use case that changes them is
/// `binding::set_sign_in_settings`: making binding "not allowed" also removes
/// the bindings there are, a rule of the binding area, which sits above this one.
pub(crate) fn save_sign_in_settings(
    conn: &mut DbConn,
    org: OrgId,
    settings: &SignInSettings,
) -> Result<(), store::Error> {
    queries::set_sign_in_settings(conn, org, settings)
}

/// Stores the "Automatically assign licenses" switch. Licensing decides
/// whether it may be switched on (a pool must exist) and audits the change.
pub(crate) fn save_auto_assign(
    conn: &mut DbConn,
    org: OrgId,
    on: bool,
    license_type: Option<&crate::ids::LicenseType>,
) -> Result<(), store::Error> {
    queries::set_auto_assign(conn, org, on, license_type)
}

/// Sets whether learners need a license to reach an application, audited.
pub fn set_apps_require_license(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    org: &Organization,
    required: bool,
) -> Result<(), Error> {
    store::write_transaction(conn, |conn| {
        queries::set_apps_require_license(conn, org.id, required)?;
        audit::record(
            conn,
            clock,
            audit::NewEvent::new(Some(org.id), actor, Action::OrgSettingsChanged)
                .details(serde_json::json!({ "apps_require_license": required })),
        )?;
        Ok(())
    })
}

/// The organization with this slug.
pub fn find(conn: &mut DbConn, slug: &str) -> Result<Organization, Error> {
    queries::by_slug(conn, slug)?.ok_or_else(|| Error::NotFound(slug.to_owned()))
}

/// The organization with this id.
pub fn find_by_id(conn: &mut DbConn, id: OrgId) -> Result<Organization, Error> {
    queries::by_id(conn, id)?.ok_or_else(|| Error::NotFound(id.to_string()))
}

/// All organizations, by slug.
pub fn list(conn: &mut DbConn) -> Result<Vec<Organization>, Error> {
    Ok(queries::list(conn)?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clock_skew_is_zero_to_ten_minutes() {
        assert!(ClockSkew::from_seconds(-1).is_err());
        assert_eq!(
            ClockSkew::from_seconds(0).map(ClockSkew::seconds).ok(),
            Some(0)
        );
        assert_eq!(
            ClockSkew::from_seconds(600).map(ClockSkew::seconds).ok(),
            Some(600)
        );
        assert!(ClockSkew::from_seconds(601).is_err());
        assert_eq!(ClockSkew::DEFAULT.duration(), TimeDelta::minutes(3));
    }

    #[test]
    fn slugs_are_checked() {
        for good in ["acme", "a1", "acme-corp", "x9-y"] {
            assert!(good.parse::<OrgSlug>().is_ok(), "{good}");
        }
        for bad in [
            "",
            "a",
            "Acme",
            "-acme",
            "acme-",
            "ac me",
            "ac_me",
            "ä-corp",
            &"a".repeat(64),
        ] {
            assert!(bad.parse::<OrgSlug>().is_err(), "{bad}");
        }
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert_eq!(
            "  Acme Corp ".parse::<DisplayName>().unwrap().as_str(),
            "Acme Corp"
        );
        assert!("   ".parse::<DisplayName>().is_err());
        assert!("a\u{7}b".parse::<DisplayName>().is_err());
        assert!("a".repeat(201).parse::<DisplayName>().is_err());
    }

    #[test]
    fn binding_policy_round_trips() {
        for policy in [
            ProfileBindingPolicy::Required,
            ProfileBindingPolicy::Optional,
            ProfileBindingPolicy::Disabled,
        ] {
            assert_eq!(policy.as_str().parse(), Ok(policy));
        }
        assert!("maybe".parse::<ProfileBindingPolicy>().is_err());
    }
}
