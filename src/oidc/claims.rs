//! What an application learns about a learner: the standard OpenID Connect
//! claims and Seatgate's own (docs/applications.md). One builder serves the
//! ID token and `/oauth/userinfo`, so the two never disagree.

use openidconnect::core::CoreGenderClaim;
use openidconnect::{
    AdditionalClaims, EndUserEmail, EndUserFamilyName, EndUserGivenName, EndUserName,
    LocalizedClaim, StandardClaims, SubjectIdentifier,
};
use serde::{Deserialize, Serialize};

use crate::accounts::learners::Learner;
use crate::binding;
use crate::groups;
use crate::licensing::{self, Standing};
use crate::orgs::Organization;
use crate::store::{self, DbConn};

/// Whether the learner holds a seat (`license_status`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LicenseStatus {
    Active,
    /// Automatic assignment gives a seat as soon as one is free.
    Waiting,
    None,
}

/// Seatgate's own claims, beside the standard ones in every ID token and
/// userinfo answer.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SeatgateClaims {
    /// The organization's slug.
    pub org: String,
    /// The license type held; absent without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub license: Option<String>,
    pub license_status: LicenseStatus,
    pub groups: Vec<String>,
    pub linkedin_bound: bool,
}

impl AdditionalClaims for SeatgateClaims {}

/// The scopes that release standard claims (OpenID Connect Core, 5.4).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Released {
    pub profile: bool,
    pub email: bool,
}

impl Released {
    pub fn from_scope(scope: &str) -> Self {
        let mut released = Self::default();
        for word in scope.split(' ') {
            match word {
                "profile" => released.profile = true,
                "email" => released.email = true,
                _ => {}
            }
        }
        released
    }
}

/// Everything an application may be told about one learner.
#[derive(Clone, Debug)]
pub struct LearnerClaims {
    pub sub: String,
    pub email: String,
    pub name: String,
    pub given_name: Option<String>,
    pub family_name: Option<String>,
    pub seatgate: SeatgateClaims,
}

/// Reads the learner's license, groups and LinkedIn binding.
pub fn of_learner(
    conn: &mut DbConn,
    org: &Organization,
    learner: &Learner,
) -> Result<LearnerClaims, store::Error> {
    let (license, license_status) = match licensing::standing(conn, org, learner)? {
        Standing::Licensed(license) => (
            Some(license.license_type.to_string()),
            LicenseStatus::Active,
        ),
        Standing::WaitingForSeat(_) => (None, LicenseStatus::Waiting),
        Standing::ByAdministrator | Standing::ByIdp => (None, LicenseStatus::None),
    };
    let groups = groups::of_learner(conn, learner.id)?
        .into_iter()
        .map(|g| g.display_name)
        .collect();
    Ok(LearnerClaims {
        sub: learner.id.to_string(),
        email: learner.email.to_string(),
        name: learner.display_name.clone(),
        given_name: learner.first_name.clone(),
        family_name: learner.last_name.clone(),
        seatgate: SeatgateClaims {
            org: org.slug.to_string(),
            license,
            license_status,
            groups,
            linkedin_bound: binding::binding_of(conn, learner.id)?.is_some(),
        },
    })
}

impl LearnerClaims {
    /// The standard claims the scope releases. `email_verified` is true:
    /// every learner's address came from their organization's IdP, a SCIM
    /// push, an administrator, or an invitation the learner opened from that
    /// mailbox (never from LinkedIn, which does not verify addresses).
    pub fn standard(&self, released: Released) -> StandardClaims<CoreGenderClaim> {
        let mut claims = StandardClaims::new(SubjectIdentifier::new(self.sub.clone()));
        if released.email {
            claims = claims
                .set_email(Some(EndUserEmail::new(self.email.clone())))
                .set_email_verified(Some(true));
        }
        if released.profile {
            claims = claims
                .set_name(Some(LocalizedClaim::from(EndUserName::new(
                    self.name.clone(),
                ))))
                .set_given_name(
                    self.given_name
                        .clone()
                        .map(|n| LocalizedClaim::from(EndUserGivenName::new(n))),
                )
                .set_family_name(
                    self.family_name
                        .clone()
                        .map(|n| LocalizedClaim::from(EndUserFamilyName::new(n))),
                );
        }
        claims
    }

    /// The userinfo answer: the same claims as the ID token's, as JSON.
    pub fn userinfo(&self, released: Released) -> serde_json::Value {
        let mut body = serde_json::to_value(self.standard(released))
            .expect("standard claims serialize to a JSON object");
        let seatgate =
            serde_json::to_value(&self.seatgate).expect("Seatgate's claims serialize to JSON");
        if let (Some(body), serde_json::Value::Object(seatgate)) = (body.as_object_mut(), seatgate)
        {
            body.extend(seatgate);
        }
        body
    }
}
