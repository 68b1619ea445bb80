//! IdP connections: which identity providers an organization trusts, and how.

pub mod intake;
pub mod metadata_source;
mod queries;
pub mod rollover;

use std::collections::BTreeMap;

use chrono::NaiveDateTime;
use serde_json::json;

use super::Organization;
use crate::audit::{self, Action, Actor};
use crate::clock::Clock;
use crate::ids::{ConnectionId, OrgId};
use crate::saml::attributes::{Field, Mapping, Preset};
use crate::saml::metadata::{Certificate, IdpMetadata};
use crate::saml::request::{Binding, RequestOptions};
use crate::store::{self, DbConn};

/// One trusted identity provider of one organization.
#[derive(Clone, Debug)]
pub struct IdpConnection {
    pub id: ConnectionId,
    pub org: OrgId,
    pub name: String,
    pub entity_id: String,
    pub sso_url: String,
    /// The HTTP-POST single sign-on URL, when the metadata lists one.
    pub sso_post_url: Option<String>,
    pub enabled: bool,
    /// Accept IdP-initiated (unsolicited) responses; on by default, as the
    /// app tiles of Entra and Okta start sign-in at the IdP.
    pub allow_idp_initiated: bool,
    pub require_signed_assertion: bool,
    pub allow_sha1: bool,
    pub mapping: Mapping,
    pub metadata_url: Option<String>,
    /// Every certificate it holds, newest expiry first; those
    /// [`in force`](TrustedCertificate::in_force) verify signatures.
    pub certificates: Vec<TrustedCertificate>,
    pub created_at: NaiveDateTime,
    /// When the metadata URL was last fetched, good or not.
    pub metadata_fetched_at: Option<NaiveDateTime>,
    /// Why the last refresh failed (the previous metadata stays in force).
    pub metadata_error: Option<String>,
    /// Learners whose assertion carries this attribute value open the console.
    pub admin_role: Option<AdminRole>,
    /// When a learner last signed in through it (to the minute).
    pub last_signed_in_at: Option<NaiveDateTime>,
    pub saml: SamlOptions,
}

/// How Seatgate asks this IdP, and what it insists on beyond the defaults.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SamlOptions {
    /// Sign the AuthnRequest (on by default; some IdPs refuse signed
    /// requests from an SP they hold no certificate for).
    pub sign_requests: bool,
    pub request: RequestOptions,
    /// Refuse responses whose assertion is not encrypted.
    pub require_encrypted_assertion: bool,
}

impl Default for SamlOptions {
    fn default() -> Self {
        Self {
            sign_requests: true,
            request: RequestOptions::default(),
            require_encrypted_assertion: false,
        }
    }
}

/// The IdP group (or other attribute value) that makes a learner an SSO admin.
/// When a connection has one, the IdP decides at every sign-in through it:
/// the role is granted while the value is sent and taken away when it is not.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AdminRole {
    pub attribute: String,
    pub value: String,
}

impl AdminRole {
    /// A rule from what an admin typed; `None` when both are empty.
    pub fn from_input(attribute: &str, value: &str) -> Result<Option<Self>, Error> {
        match (attribute.trim(), value.trim()) {
            ("", "") => Ok(None),
            ("", _) | (_, "") => Err(Error::IncompleteAdminRole),
            (attribute, value) => Ok(Some(Self {
                attribute: attribute.to_owned(),
                value: value.to_owned(),
            })),
        }
    }

    /// Whether the assertion's attributes grant the role.
    pub fn granted_by(&self, attributes: &[(String, String)]) -> bool {
        attributes
            .iter()
            .any(|(name, value)| *name == self.attribute && *value == self.value)
    }
}

/// A certificate a connection holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TrustedCertificate {
    pub certificate: Certificate,
    /// When the IdP's metadata stopped listing it (a rollover): trusted
    /// still, until removed or expired.
    pub retired_at: Option<NaiveDateTime>,
}

impl TrustedCertificate {
    /// Whether signatures made with it are accepted at `now`: a retired
    /// certificate only until it expires. (One the metadata still lists is
    /// trusted as the IdP publishes it, expired or not: refusing it would
    /// cut every learner off on a date few IdP admins watch; the console
    /// warns before.)
    pub fn in_force(&self, now: NaiveDateTime) -> bool {
        self.retired_at.is_none() || self.certificate.not_after > now
    }
}

impl IdpConnection {
    /// When the last of its certificates in force at `now` expires: the
    /// day sign-ins stop unless the IdP's new certificate is added first.
    pub fn trust_ends(&self, now: NaiveDateTime) -> Option<NaiveDateTime> {
        self.certificates
            .iter()
            .filter(|t| t.in_force(now))
            .map(|t| t.certificate.not_after)
            .max()
    }

    /// The certificates in force at `now`, as DER, for signature checks.
    pub fn certificate_ders(&self, now: NaiveDateTime) -> Vec<Vec<u8>> {
        self.certificates
            .iter()
            .filter(|t| t.in_force(now))
            .map(|t| t.certificate.der.clone())
            .collect()
    }
}

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("organization {org:?} already has a connection for IdP {entity_id:?}")]
    Duplicate { org: String, entity_id: String },
    #[error("organization {org:?} has no IdP connection {id:?}")]
    NotFound { org: String, id: String },
    #[error("the administrator role needs both an attribute name and a value")]
    IncompleteAdminRole,
    #[error("a connection needs a name: learners see it on the sign-in button")]
    BlankName,
    #[error(
        "the IdP's metadata lists no HTTP-POST single sign-on URL: keep HTTP-Redirect, or upload metadata that has one"
    )]
    NoPostUrl,
    #[error("this metadata is for the IdP {found:?}, not for this connection's {expected:?}")]
    OtherEntity { expected: String, found: String },
    #[error("the certificate {0} is trusted already")]
    CertificateKnown(String),
    #[error("the connection has no certificate with fingerprint {0}")]
    NoSuchCertificate(String),
    #[error(
        "that is the connection's last certificate in force: add the new one before removing it"
    )]
    LastCertificate,
    #[error(transparent)]
    Store(#[from] store::Error),
}

/// Options chosen when a connection is added.
#[derive(Clone, Debug)]
pub struct NewConnection {
    pub name: Option<String>,
    pub metadata_url: Option<String>,
    pub preset: Preset,
    pub overrides: BTreeMap<Field, String>,
}

/// A name as given (trimmed, at most [`MAX_NAME`](crate::saml::attributes::MAX_NAME)
/// characters: learners see it on a button, and an IdP's 3,000-character
/// name made a page 46,000 pixels wide); `None` when blank.
pub fn name_from_input(name: &str) -> Option<String> {
    Some(crate::saml::attributes::capped(name)).filter(|n| !n.is_empty())
}

/// The name a new connection gets when nobody gives one: the IdP's own
/// organization display name from its metadata, else its host (an entity
/// ID such as `http://www.okta.com/exk1...` says little to a learner).
pub fn default_name(metadata: &IdpMetadata) -> String {
    let host = |text: &str| {
        url::Url::parse(text)
            .ok()
            .and_then(|u| u.host_str().map(str::to_owned))
    };
    metadata
        .display_name
        .as_deref()
        .and_then(name_from_input)
        .or_else(|| host(&metadata.sso_url))
        .or_else(|| host(&metadata.entity_id))
        .or_else(|| name_from_input(&metadata.entity_id))
        .unwrap_or_else(|| "Identity provider".to_owned())
}

/// Adds a connection from parsed metadata; enabled, IdP-initiated allowed, SHA-1 refused.
pub fn add(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    org: &Organization,
    metadata: IdpMetadata,
    options: NewConnection,
) -> Result<IdpConnection, Error> {
    let connection = IdpConnection {
        id: ConnectionId::generate(),
        org: org.id,
        name: options
            .name
            .as_deref()
            .and_then(name_from_input)
            .unwrap_or_else(|| default_name(&metadata)),
        entity_id: metadata.entity_id,
        sso_url: metadata.sso_url,
        sso_post_url: metadata.sso_post_url,
        enabled: true,
        allow_idp_initiated: true,
        require_signed_assertion: false,
        allow_sha1: false,
        mapping: Mapping {
            preset: options.preset,
            overrides: options.overrides,
        },
        metadata_url: options.metadata_url.clone(),
        certificates: metadata
            .certificates
            .into_iter()
            .map(|certificate| TrustedCertificate {
                certificate,
                retired_at: None,
            })
            .collect(),
        created_at: clock.now_naive(),
        metadata_fetched_at: options.metadata_url.as_ref().map(|_| clock.now_naive()),
        metadata_error: None,
        admin_role: None,
        last_signed_in_at: None,
        saml: SamlOptions::default(),
    };
    store::write_transaction(conn, |conn| {
        queries::insert(conn, &connection).map_err(|e| match e {
            store::Error::Duplicate => Error::Duplicate {
                org: org.slug.to_string(),
                entity_id: connection.entity_id.clone(),
            },
            other => other.into(),
        })?;
        audit::record(
            conn,
            clock,
            audit::NewEvent::new(Some(org.id), actor, Action::IdpConnectionAdded)
                .target(&connection.entity_id)
                .details(
                    json!({ "connection": connection.id.to_string(), "name": connection.name }),
                ),
        )?;
        Ok(connection.clone())
    })
}

/// The organization's connections, oldest first.
pub fn list(conn: &mut DbConn, org: OrgId) -> Result<Vec<IdpConnection>, store::Error> {
    queries::for_org(conn, org)
}

/// Removes a connection, with its certificates and identities.
pub fn remove(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    org: &Organization,
    id: ConnectionId,
) -> Result<IdpConnection, Error> {
    store::write_transaction(conn, |conn| {
        let connection = find(conn, org, id)?;
        queries::delete(conn, id)?;
        audit::record(
            conn,
            clock,
            audit::NewEvent::new(Some(org.id), actor, Action::IdpConnectionRemoved)
                .target(&connection.entity_id)
                .details(json!({ "connection": connection.id.to_string() })),
        )?;
        Ok(connection)
    })
}

/// Connection `id`, if it belongs to `org`.
pub fn find(
    conn: &mut DbConn,
    org: &Organization,
    id: ConnectionId,
) -> Result<IdpConnection, Error> {
    queries::by_id(conn, id)?
        .filter(|c| c.org == org.id)
        .ok_or_else(|| Error::NotFound {
            org: org.slug.to_string(),
            id: id.to_string(),
        })
}

/// Applies `update` to connection `id` of `org`, and records the change with
/// `details` (a JSON object), in one transaction.
fn change(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    org: &Organization,
    id: ConnectionId,
    mut details: serde_json::Value,
    update: impl FnOnce(&mut DbConn) -> Result<(), store::Error>,
) -> Result<(), Error> {
    store::write_transaction(conn, |conn| {
        let connection = find(conn, org, id)?;
        update(conn)?;
        details["connection"] = id.to_string().into();
        audit::record(
            conn,
            clock,
            audit::NewEvent::new(Some(org.id), actor, Action::IdpConnectionChanged)
                .target(&connection.entity_id)
                .details(details),
        )?;
        Ok(())
    })
}

/// The switches of a connection an admin can change.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Policy {
    pub enabled: bool,
    pub allow_idp_initiated: bool,
    pub require_signed_assertion: bool,
    pub allow_sha1: bool,
}

impl IdpConnection {
    pub fn policy(&self) -> Policy {
        Policy {
            enabled: self.enabled,
            allow_idp_initiated: self.allow_idp_initiated,
            require_signed_assertion: self.require_signed_assertion,
            allow_sha1: self.allow_sha1,
        }
    }
}

/// Changes a connection's switches, and records the change.
pub fn set_policy(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    org: &Organization,
    id: ConnectionId,
    policy: Policy,
) -> Result<(), Error> {
    let details = json!({
        "enabled": policy.enabled,
        "allow_idp_initiated": policy.allow_idp_initiated,
        "require_signed_assertion": policy.require_signed_assertion,
        "allow_sha1": policy.allow_sha1,
    });
    change(conn, clock, actor, org, id, details, |conn| {
        queries::set_policy(conn, id, policy)
    })
}

/// Records that a learner signed in through connection `id` (for its
/// status in the console), at most once a minute.
pub fn signed_in(
    conn: &mut DbConn,
    id: ConnectionId,
    now: NaiveDateTime,
) -> Result<(), store::Error> {
    queries::signed_in(conn, id, now, now - chrono::TimeDelta::minutes(1))
}

/// Changes how Seatgate asks this IdP and what it insists on; audited.
pub fn set_saml_options(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    org: &Organization,
    id: ConnectionId,
    options: &SamlOptions,
) -> Result<(), Error> {
    let request = &options.request;
    let details = json!({
        "binding": request.binding.as_str(),
        "sign_requests": options.sign_requests,
        "force_authn": request.force_authn,
        "name_id_format": request.name_id_format.map(|f| f.as_str()),
        "authn_context": request.authn_context.as_ref().map(|c| c.class_ref()),
        "authn_context_comparison": request.authn_context.as_ref().map(|c| c.comparison.as_str()),
        "require_encrypted_assertion": options.require_encrypted_assertion,
    });
    if request.binding == Binding::Post && find(conn, org, id)?.sso_post_url.is_none() {
        return Err(Error::NoPostUrl);
    }
    change(conn, clock, actor, org, id, details, |conn| {
        queries::set_saml_options(conn, id, options)
    })
}

/// Renames a connection (the name learners see on its button); audited.
pub fn rename(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    org: &Organization,
    id: ConnectionId,
    name: &str,
) -> Result<String, Error> {
    let name = name_from_input(name).ok_or(Error::BlankName)?;
    let details = json!({ "name": name });
    change(conn, clock, actor, org, id, details, |conn| {
        queries::rename(conn, id, &name)
    })?;
    Ok(name)
}

/// Sets (or with `None` removes) the IdP attribute value that grants the
/// console to learners signing in through this connection; audited.
pub fn set_admin_role(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    org: &Organization,
    id: ConnectionId,
    role: Option<AdminRole>,
) -> Result<(), Error> {
    let details = json!({
        "admin_role_attribute": role.as_ref().map(|r| r.attribute.as_str()),
        "admin_role_value": role.as_ref().map(|r| r.value.as_str()),
    });
    change(conn, clock, actor, org, id, details, |conn| {
        queries::set_admin_role(conn, id, role.as_ref())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn admin_role_needs_both_parts_and_an_exact_match() {
        assert!(matches!(AdminRole::from_input(" ", ""), Ok(None)));
        assert!(AdminRole::from_input("groups", "").is_err());
        let role = AdminRole::from_input(" groups ", "Seatgate Admins")
            .unwrap()
            .unwrap();
        let sent = |name: &str, value: &str| vec![(name.to_owned(), value.to_owned())];
        assert!(role.granted_by(&sent("groups", "Seatgate Admins")));
        assert!(!role.granted_by(&sent("groups", "seatgate admins")));
        assert!(!role.granted_by(&sent("roles", "Seatgate Admins")));
    }
}
