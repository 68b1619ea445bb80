//! Which SAML attributes carry a learner's email and name, per IdP product.

use std::collections::BTreeMap;
use std::str::FromStr;

/// The profile fields Seatgate reads from an assertion.
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum Field {
    Email,
    FirstName,
    LastName,
    DisplayName,
    Department,
    EmployeeId,
}

impl FromStr for Field {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "email" => Ok(Self::Email),
            "first_name" => Ok(Self::FirstName),
            "last_name" => Ok(Self::LastName),
            "display_name" => Ok(Self::DisplayName),
            "department" => Ok(Self::Department),
            "employee_id" => Ok(Self::EmployeeId),
            other => Err(format!(
                "unknown profile field {other:?} (email, first_name, last_name, display_name, department, employee_id)"
            )),
        }
    }
}

/// Attribute naming conventions of the common IdPs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Preset {
    /// Entra ID / Azure AD: WS-Federation claim URIs.
    Entra,
    Okta,
    OneLogin,
    /// AD FS: the same claim URIs as Entra.
    Adfs,
    Google,
    /// Common names, LDAP names and OIDs, then every other preset's names:
    /// fits most IdPs, including the ones above chosen as "other".
    Generic,
}

impl Preset {
    pub const ALL: [Preset; 6] = [
        Self::Entra,
        Self::Okta,
        Self::OneLogin,
        Self::Adfs,
        Self::Google,
        Self::Generic,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Entra => "entra",
            Self::Okta => "okta",
            Self::OneLogin => "onelogin",
            Self::Adfs => "adfs",
            Self::Google => "google",
            Self::Generic => "generic",
        }
    }

    /// Attribute names for a field, most specific first. The generic
    /// preset knows every preset's names after its own: an IdP sending
    /// OneLogin's `User.email` is understood though nobody chose OneLogin.
    pub fn names(self, field: Field) -> Vec<&'static str> {
        let mut names = self.own_names(field).to_vec();
        if self == Self::Generic {
            for other in Self::ALL.into_iter().filter(|p| *p != Self::Generic) {
                for name in other.own_names(field) {
                    if !names.contains(name) {
                        names.push(name);
                    }
                }
            }
        }
        names
    }

    /// The names this preset's IdP sends, most specific first.
    fn own_names(self, field: Field) -> &'static [&'static str] {
        const CLAIMS_EMAIL: &str =
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress";
        const CLAIMS_GIVEN: &str =
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname";
        const CLAIMS_SURNAME: &str =
            "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname";
        use Field::*;
        match (self, field) {
            (Self::Entra | Self::Adfs, Email) => &[
                CLAIMS_EMAIL,
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/upn",
            ],
            (Self::Entra | Self::Adfs, FirstName) => &[CLAIMS_GIVEN],
            (Self::Entra | Self::Adfs, LastName) => &[CLAIMS_SURNAME],
            (Self::Entra, DisplayName) => {
                &["http://schemas.microsoft.com/identity/claims/displayname"]
            }
            (Self::Adfs, DisplayName) => {
                &["http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name"]
            }
            (Self::Entra | Self::Adfs, Department) => &[
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/department",
                "department",
            ],
            (Self::Entra | Self::Adfs, EmployeeId) => &[
                "http://schemas.microsoft.com/ws/2008/06/identity/claims/employeeid",
                "employeeid",
            ],
            (Self::Okta, Email) => &["email", "Email"],
            (Self::Okta, FirstName) => &["firstName"],
            (Self::Okta, LastName) => &["lastName"],
            (Self::Okta, DisplayName) => &["displayName"],
            (Self::Okta, Department) => &["department"],
            (Self::Okta, EmployeeId) => &["employeeNumber"],
            (Self::OneLogin, Email) => &["User.email", "Email"],
            (Self::OneLogin, FirstName) => &["User.FirstName", "First Name"],
            (Self::OneLogin, LastName) => &["User.LastName", "Last Name"],
            (Self::OneLogin, DisplayName) => &["User.DisplayName", "Name"],
            (Self::OneLogin, Department) => &["User.Department", "Department"],
            (Self::OneLogin, EmployeeId) => &["User.EmployeeID", "Employee ID"],
            (Self::Google, Email) => &["email", "Email"],
            (Self::Google, FirstName) => &["firstName", "first_name"],
            (Self::Google, LastName) => &["lastName", "last_name"],
            (Self::Google, DisplayName) => &["displayName", "name"],
            (Self::Google, Department) => &["department"],
            (Self::Google, EmployeeId) => &["employeeId", "employeeNumber"],
            (Self::Generic, Email) => &[
                "email",
                "mail",
                "emailAddress",
                "Email",
                "urn:oid:0.9.2342.19200300.100.1.3",
                CLAIMS_EMAIL,
            ],
            (Self::Generic, FirstName) => &[
                "firstName",
                "givenName",
                "given_name",
                "urn:oid:2.5.4.42",
                CLAIMS_GIVEN,
            ],
            (Self::Generic, LastName) => &[
                "lastName",
                "sn",
                "surname",
                "family_name",
                "urn:oid:2.5.4.4",
                CLAIMS_SURNAME,
            ],
            (Self::Generic, DisplayName) => &[
                "displayName",
                "name",
                "cn",
                "urn:oid:2.16.840.1.113730.3.1.241",
            ],
            (Self::Generic, Department) => &["department", "ou", "urn:oid:2.5.4.11"],
            (Self::Generic, EmployeeId) => &[
                "employeeNumber",
                "employeeId",
                "urn:oid:2.16.840.1.113730.3.1.3",
            ],
        }
    }
}

impl FromStr for Preset {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|p| p.as_str() == text)
            .ok_or_else(|| format!("unknown attribute preset {text:?} (entra, okta, onelogin, adfs, google, generic)"))
    }
}

/// The longest name Seatgate keeps from what a person or an IdP supplies.
pub const MAX_NAME: usize = 200;

/// `text` trimmed and cut to [`MAX_NAME`] characters.
pub fn capped(text: &str) -> String {
    text.trim()
        .chars()
        .take(MAX_NAME)
        .collect::<String>()
        .trim_end()
        .to_owned()
}

/// A connection's attribute mapping: a preset, with per-field overrides.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Mapping {
    pub preset: Preset,
    pub overrides: BTreeMap<Field, String>,
}

/// The profile read from an assertion.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Profile {
    pub email: Option<String>,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub display_name: Option<String>,
    pub department: Option<String>,
    pub employee_id: Option<String>,
}

impl Mapping {
    /// The names looked up for a field: the override alone when there is one.
    pub fn names(&self, field: Field) -> Vec<&str> {
        match self.overrides.get(&field) {
            Some(name) => vec![name.as_str()],
            None => self.preset.names(field),
        }
    }

    /// Reads the profile from `(attribute name, first value)` pairs. Names
    /// are cut to [`MAX_NAME`] characters: they are shown on pages, and an
    /// IdP once sent 3,000 (the email keeps its own rules).
    pub fn profile(&self, attributes: &[(String, String)]) -> Profile {
        let get = |field: Field| {
            self.names(field).into_iter().find_map(|name| {
                attributes
                    .iter()
                    .find(|(attribute, value)| attribute == name && !value.trim().is_empty())
                    .map(|(_, value)| value.trim().to_owned())
            })
        };
        let name = |field: Field| get(field).map(|text| capped(&text));
        Profile {
            email: get(Field::Email),
            first_name: name(Field::FirstName),
            last_name: name(Field::LastName),
            display_name: name(Field::DisplayName),
            department: name(Field::Department),
            employee_id: name(Field::EmployeeId),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn attrs(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn entra_claims_are_read() {
        let mapping = Mapping {
            preset: Preset::Entra,
            overrides: BTreeMap::new(),
        };
        let profile = mapping.profile(&attrs(&[
            (
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress",
                "ann@acme.example",
            ),
            (
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname",
                "Ann",
            ),
            (
                "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname",
                "Lee",
            ),
            (
                "http://schemas.microsoft.com/identity/claims/displayname",
                "Ann Lee",
            ),
        ]));
        assert_eq!(profile.email.as_deref(), Some("ann@acme.example"));
        assert_eq!(profile.first_name.as_deref(), Some("Ann"));
        assert_eq!(profile.display_name.as_deref(), Some("Ann Lee"));
    }

    #[test]
    fn an_override_replaces_the_preset_names() {
        let mut overrides = BTreeMap::new();
        overrides.insert(Field::Email, "workEmail".to_owned());
        let mapping = Mapping {
            preset: Preset::Okta,
            overrides,
        };
        let profile = mapping.profile(&attrs(&[
            ("email", "private@x.example"),
            ("workEmail", "ann@acme.example"),
        ]));
        assert_eq!(profile.email.as_deref(), Some("ann@acme.example"));
    }

    #[test]
    fn the_generic_preset_reads_what_every_preset_knows() {
        let generic = Mapping {
            preset: Preset::Generic,
            overrides: BTreeMap::new(),
        };
        // OneLogin's names, with a persistent NameID (no email in it).
        let profile = generic.profile(&attrs(&[
            ("User.email", "ann@acme.example"),
            ("User.FirstName", "Ann"),
            ("User.LastName", "Lee"),
        ]));
        assert_eq!(profile.email.as_deref(), Some("ann@acme.example"));
        assert_eq!(profile.first_name.as_deref(), Some("Ann"));
        assert_eq!(profile.last_name.as_deref(), Some("Lee"));
        // Its own names come first.
        let both = generic.profile(&attrs(&[
            ("User.email", "second@acme.example"),
            ("mail", "first@acme.example"),
        ]));
        assert_eq!(both.email.as_deref(), Some("first@acme.example"));
        for preset in Preset::ALL {
            for field in [
                Field::Email,
                Field::FirstName,
                Field::LastName,
                Field::DisplayName,
            ] {
                for name in preset.names(field) {
                    assert!(
                        Preset::Generic.names(field).contains(&name),
                        "{preset:?} {name}"
                    );
                }
            }
        }
        // A chosen preset stays to its own names.
        let okta = Mapping {
            preset: Preset::Okta,
            overrides: BTreeMap::new(),
        };
        assert_eq!(
            okta.profile(&attrs(&[("User.email", "x@acme.example")]))
                .email,
            None
        );
    }

    #[test]
    fn names_from_the_idp_are_capped() {
        let generic = Mapping {
            preset: Preset::Generic,
            overrides: BTreeMap::new(),
        };
        let long = "é".repeat(3000);
        let profile = generic.profile(&attrs(&[("displayName", &long), ("givenName", " Ann ")]));
        assert_eq!(profile.display_name.unwrap().chars().count(), MAX_NAME);
        assert_eq!(profile.first_name.as_deref(), Some("Ann"));
    }

    #[test]
    fn presets_and_fields_parse_from_their_names() {
        for preset in Preset::ALL {
            assert_eq!(preset.as_str().parse(), Ok(preset));
        }
        assert!("shibboleth".parse::<Preset>().is_err());
        assert_eq!("employee_id".parse(), Ok(Field::EmployeeId));
    }
}
