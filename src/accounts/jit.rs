//! Just-in-time provisioning: the one way a learner is matched or created
//! from an identity an IdP vouches for. SAML sign-in and SCIM call it (CSV
//! import is to call it too), so that every source matches alike: a learner
//! created by a sign-in and later pushed over SCIM, or the reverse, is one
//! account.

use serde_json::json;

use super::Email;
use super::learners::{Learner, queries};
use crate::audit::{self, Action, Actor};
use crate::clock::Clock;
use crate::ids::{ConnectionId, OrgId};
use crate::saml::attributes::{Field, Mapping};
use crate::store::{self, DbConn};

/// Who an IdP says a person is: its subject (SAML NameID) at one of the
/// organization's connections, and the profile it sends along.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Claim {
    pub connection: ConnectionId,
    pub subject: String,
    pub email: Email,
    pub display_name: String,
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub department: Option<String>,
    pub employee_id: Option<String>,
}

/// Why no learner could be matched or created.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error(
        "the response carries no usable email address: send one of the attributes {tried}, or the email as NameID"
    )]
    NoEmail { tried: String },
    #[error("the email {0:?} sent by the IdP belongs to another learner of this organization")]
    EmailTaken(Email),
    #[error(transparent)]
    Store(#[from] store::Error),
}

impl Claim {
    /// Reads a claim from SAML attributes by the connection's mapping: the
    /// email from its attribute, else the NameID when that is an email; the
    /// display name from its attribute, else first and last name, else the
    /// email's local part.
    pub fn from_attributes(
        connection: ConnectionId,
        mapping: &Mapping,
        name_id: &str,
        attributes: &[(String, String)],
    ) -> Result<Self, Error> {
        let profile = mapping.profile(attributes);
        let email = profile
            .email
            .as_deref()
            .and_then(|e| e.parse::<Email>().ok())
            .or_else(|| name_id.parse::<Email>().ok())
            .ok_or_else(|| Error::NoEmail {
                tried: mapping.names(Field::Email).join(", "),
            })?;
        let display_name = profile
            .display_name
            .clone()
            .or_else(|| match (&profile.first_name, &profile.last_name) {
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
        Ok(Self {
            connection,
            subject: name_id.to_owned(),
            email,
            display_name,
            first_name: profile.first_name,
            last_name: profile.last_name,
            department: profile.department,
            employee_id: profile.employee_id,
        })
    }
}

/// Whether the claim would match a learner of `org` (by identity or email), without changing anything.
pub fn matches(conn: &mut DbConn, org: OrgId, claim: &Claim) -> Result<bool, store::Error> {
    Ok(
        queries::by_identity(conn, claim.connection, &claim.subject)?.is_some()
            || queries::by_email(conn, org, &claim.email)?.is_some(),
    )
}

/// Matches or creates the learner a claim names: the identity seen before;
/// else the learner of this organization with the same email, who gets the
/// identity linked; else a new learner. Never across organizations. The
/// profile is refreshed every time. Returns the learner and whether it was
/// created.
pub fn provision(
    conn: &mut DbConn,
    clock: &Clock,
    org: OrgId,
    claim: &Claim,
) -> Result<(Learner, bool), Error> {
    let now = clock.now_naive();
    let refresh = |learner: Learner| Learner {
        email: claim.email.clone(),
        display_name: claim.display_name.clone(),
        first_name: claim.first_name.clone(),
        last_name: claim.last_name.clone(),
        department: claim.department.clone(),
        employee_id: claim.employee_id.clone(),
        last_sign_in_at: Some(now),
        updated_at: now,
        ..learner
    };
    let email_taken = |e: store::Error| match e {
        store::Error::Duplicate => Error::EmailTaken(claim.email.clone()),
        other => other.into(),
    };

    if let Some(known) = queries::by_identity(conn, claim.connection, &claim.subject)? {
        let learner = refresh(known);
        queries::update(conn, &learner).map_err(email_taken)?;
        return Ok((learner, false));
    }
    if let Some(existing) = queries::by_email(conn, org, &claim.email)? {
        let learner = refresh(existing);
        queries::update(conn, &learner)?;
        link_identity(conn, clock, claim, &learner, Action::IdentityLinked)?;
        return Ok((learner, false));
    }
    // A learner pushed over SCIM before their first sign-in, whose IdP sends
    // another email than the mail attribute SCIM had (the UPN as NameID).
    if let Some(pushed) = queries::by_user_name(conn, org, &claim.subject)? {
        let learner = refresh(pushed);
        queries::update(conn, &learner).map_err(email_taken)?;
        link_identity(conn, clock, claim, &learner, Action::IdentityLinked)?;
        return Ok((learner, false));
    }
    let learner = refresh(Learner::new(org, claim.email.clone(), String::new(), now));
    queries::insert(conn, &learner).map_err(email_taken)?;
    link_identity(conn, clock, claim, &learner, Action::UserCreated)?;
    Ok((learner, true))
}

/// What a SCIM client names a person by.
pub struct PushedKeys<'a> {
    pub external_id: Option<&'a str>,
    pub user_name: &'a str,
    pub email: &'a Email,
}

/// The learner of `org` a SCIM push names: by externalId, then userName,
/// then email (userName and email in any case); never across organizations.
pub fn match_pushed(
    conn: &mut DbConn,
    org: OrgId,
    keys: &PushedKeys,
) -> Result<Option<Learner>, store::Error> {
    if let Some(external_id) = keys.external_id
        && let Some(found) = queries::by_external_id(conn, org, external_id)?
    {
        return Ok(Some(found));
    }
    if let Some(found) = queries::by_user_name(conn, org, keys.user_name)? {
        return Ok(Some(found));
    }
    queries::by_email(conn, org, keys.email)
}

/// The learner of `org` with this externalId or userName (any case), for
/// SCIM filters on those attributes.
pub fn by_scim_key(
    conn: &mut DbConn,
    org: OrgId,
    key: ScimKey,
) -> Result<Option<Learner>, store::Error> {
    match key {
        ScimKey::UserName(name) => queries::by_user_name(conn, org, name),
        ScimKey::ExternalId(id) => queries::by_external_id(conn, org, id),
    }
}

/// An attribute a SCIM client looks learners up by.
#[derive(Clone, Copy, Debug)]
pub enum ScimKey<'a> {
    UserName(&'a str),
    ExternalId(&'a str),
}

/// Records that the claim's subject signs in as `learner`, and audits why.
fn link_identity(
    conn: &mut DbConn,
    clock: &Clock,
    claim: &Claim,
    learner: &Learner,
    action: Action,
) -> Result<(), store::Error> {
    queries::insert_identity(
        conn,
        claim.connection,
        &claim.subject,
        learner.id,
        clock.now_naive(),
    )?;
    audit::record(
        conn,
        clock,
        audit::NewEvent::new(Some(learner.org), &Actor::Learner(learner.id), action)
            .target(learner.email.as_str())
            .details(
                json!({ "connection": claim.connection.to_string(), "name_id": claim.subject }),
            ),
    )
}
