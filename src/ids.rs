//! Newtype identifiers, so an organization id can never be passed where a user id is expected.
//!
//! All are random UUIDs, stored as text on both backends.

use std::fmt;
use std::str::FromStr;

use uuid::Uuid;

macro_rules! uuid_id {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(Uuid);

        impl $name {
            pub fn generate() -> Self {
                Self(Uuid::new_v4())
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
