//! Newtype identifiers, so an organization id can never be passed where a user id is expected.
//!
//! The ids are time-ordered UUIDs (version 7), stored as text on both backends. The names that
//! identify things to people (an organization's slug, a license type) are
//! here too, below every area, because the SAML layer and the store use them.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            /// A new id: UUID version 7, time-ordered with 74 random bits, so
            /// that rows made one after the other land side by side in every
            /// index of ids (random v4 ids spread a bulk import's writes
            /// over every page of those indexes). Ids are names, never
            /// secrets: tokens are [`crate::secret`]'s.
            pub fn generate() -> Self {
                Self(Uuid::now_v7())
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                self.0.fmt(f)
            }
        }

        impl FromStr for $name {
            type Err = uuid::Error;
            fn from_str(text: &str) -> Result<Self, Self::Err> {
                Uuid::parse_str(text).map(Self)
            }
        }
    };
}

uuid_id!(
    /// An organization (a customer company).
    OrgId
);
uuid_id!(
    /// A learner account.
    UserId
);
uuid_id!(
    /// A local administrator account.
    AdminId
);
uuid_id!(
    /// An audit event.
    EventId
);
uuid_id!(
    /// An IdP connection of an organization.
    ConnectionId
);
uuid_id!(
    /// A license pool of an organization.
    PoolId
);
uuid_id!(
    /// An invitation of a learner by email.
    InvitationId
);
uuid_id!(
    /// A group of learners.
    GroupId
);
uuid_id!(
    /// A SCIM configuration: one IdP's provisioning client of an organization.
    ScimConfigId
);
uuid_id!(
    /// A bulk change from a CSV file.
    ImportId
);
uuid_id!(
    /// The verdict of a test sign-in.
    SsoTestId
);
uuid_id!(
    /// A setup link: SSO setup without a console account.
    SetupLinkId
);
uuid_id!(
    /// An application behind Seatgate: an OpenID Connect client, whose
    /// `client_id` this is.
    ApplicationId
);

/// The short name in URLs and commands (`/sso/acme/...`): lower-case letters,
/// digits and inner hyphens, 2 to 63 characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct OrgSlug(String);

/// A text that is not an [`OrgSlug`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error(
    "{0:?} is not a valid organization slug: use 2 to 63 lower-case letters, digits or inner hyphens"
)]
pub struct InvalidSlug(pub String);

impl FromStr for OrgSlug {
    type Err = InvalidSlug;

    fn from_str(text: &str) -> Result<Self, InvalidSlug> {
        let valid_chars = text
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        let valid = (2..=63).contains(&text.len())
            && valid_chars
            && !text.starts_with('-')
            && !text.ends_with('-');
        if valid {
            Ok(Self(text.to_owned()))
        } else {
            Err(InvalidSlug(text.to_owned()))
        }
    }
}

impl fmt::Display for OrgSlug {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl OrgSlug {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The name of a kind of license, e.g. "Learning": 1 to 64 characters.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct LicenseType(String);

/// A text that is not a [`LicenseType`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0:?} is not a valid license type: use 1 to 64 characters")]
pub struct InvalidLicenseType(pub String);

impl FromStr for LicenseType {
    type Err = InvalidLicenseType;

    fn from_str(text: &str) -> Result<Self, InvalidLicenseType> {
        let trimmed = text.trim();
        if (1..=64).contains(&trimmed.chars().count()) && !trimmed.chars().any(char::is_control) {
            Ok(Self(trimmed.to_owned()))
        } else {
            Err(InvalidLicenseType(text.to_owned()))
        }
    }
}

impl fmt::Display for LicenseType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl LicenseType {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
