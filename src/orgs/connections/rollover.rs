//! Certificate rollover without an outage. An IdP that rolls its signing
//! key publishes the new certificate in its metadata, alone or beside the
//! old one, and starts signing with it at a moment of its choosing: in
//! between, responses signed with either key must be accepted. So new
//! metadata for a connection adds what it lists and never drops a
//! certificate at once: one it no longer lists is marked retired and stays
//! trusted until an administrator removes it or it expires. Uploads, the
//! CLI and the daily refresh of a metadata URL all go through [`update`].

use chrono::NaiveDateTime;
use serde_json::json;

use super::{Error, IdpConnection, TrustedCertificate, find, queries};
use crate::audit::{self, Action, Actor};
use crate::clock::Clock;
use crate::ids::ConnectionId;
use crate::orgs::Organization;
use crate::saml::metadata::{Certificate, IdpMetadata};
use crate::store::{self, DbConn};

/// What new metadata changes on a connection, shown before it is saved.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Changes {
    /// The new single sign-on URL, when it changes.
    pub sso_url: Option<String>,
    /// Certificates the connection did not trust yet.
    pub added: Vec<Certificate>,
    /// Listed again: trusted as before (and no longer retired).
    pub kept: Vec<Certificate>,
    /// No longer listed: still trusted until removed or expired.
    pub retiring: Vec<Certificate>,
    /// Retired and expired: dropped now.
    pub dropped: Vec<Certificate>,
}

impl Changes {
    /// Nothing changes (certificates listed again count as nothing).
    pub fn is_empty(&self) -> bool {
        self.sso_url.is_none()
            && self.added.is_empty()
            && self.retiring.is_empty()
            && self.dropped.is_empty()
    }
}

/// What `metadata` would change on `connection` at `now`, and the
/// certificates it would trust then; refused when the metadata is another
/// IdP's.
pub fn plan(
    connection: &IdpConnection,
    metadata: &IdpMetadata,
    now: NaiveDateTime,
) -> Result<(Changes, Vec<TrustedCertificate>), Error> {
    if metadata.entity_id != connection.entity_id {
        return Err(Error::OtherEntity {
            expected: connection.entity_id.clone(),
            found: metadata.entity_id.clone(),
        });
    }
    let listed = |fingerprint: &str| {
        metadata
            .certificates
            .iter()
            .any(|c| c.fingerprint == fingerprint)
    };
    let mut changes = Changes {
        sso_url: (metadata.sso_url != connection.sso_url).then(|| metadata.sso_url.clone()),
        added: Vec::new(),
        kept: Vec::new(),
        retiring: Vec::new(),
        dropped: Vec::new(),
    };
    let mut trusted: Vec<TrustedCertificate> = metadata
        .certificates
        .iter()
        .map(|certificate| TrustedCertificate {
            certificate: certificate.clone(),
            retired_at: None,
        })
        .collect();
    for certificate in &metadata.certificates {
        let known = connection
            .certificates
            .iter()
            .any(|t| t.certificate.fingerprint == certificate.fingerprint);
        if known {
            changes.kept.push(certificate.clone());
        } else {
            changes.added.push(certificate.clone());
        }
    }
    for held in &connection.certificates {
        if listed(&held.certificate.fingerprint) {
            continue;
        }
        let retired = TrustedCertificate {
            certificate: held.certificate.clone(),
            retired_at: held.retired_at.or(Some(now)),
        };
        if retired.in_force(now) {
            if held.retired_at.is_none() {
                changes.retiring.push(held.certificate.clone());
            }
            trusted.push(retired);
        } else {
            changes.dropped.push(held.certificate.clone());
        }
    }
    Ok((changes, trusted))
}

/// Applies new metadata of its IdP to connection `id` (see the module);
/// audited when it changes anything. Returns what changed.
pub fn update(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    org: &Organization,
    id: ConnectionId,
    metadata: &IdpMetadata,
) -> Result<Changes, Error> {
    store::write_transaction(conn, |conn| {
        let connection = find(conn, org, id)?;
        apply(conn, clock, actor, &connection, metadata)
    })
}

/// [`update`] inside the caller's transaction.
pub(super) fn apply(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    connection: &IdpConnection,
    metadata: &IdpMetadata,
) -> Result<Changes, Error> {
    let id = connection.id;
    let (changes, trusted) = plan(connection, metadata, clock.now_naive())?;
    // A metadata without a POST URL keeps the one known: the connection
    // may send its requests there.
    let post = metadata
        .sso_post_url
        .as_deref()
        .or(connection.sso_post_url.as_deref());
    queries::set_trust(conn, id, (&metadata.sso_url, post), &trusted)?;
    if !changes.is_empty() {
        let fingerprints = |certs: &[Certificate]| {
            certs
                .iter()
                .map(|c| c.fingerprint.clone())
                .collect::<Vec<_>>()
        };
        audit::record(
            conn,
            clock,
            audit::NewEvent::new(Some(connection.org), actor, Action::IdpConnectionChanged)
                .target(&connection.entity_id)
                .details(json!({
                    "connection": id.to_string(),
                    "metadata": "updated",
                    "sso_url": changes.sso_url,
                    "certificates_added": fingerprints(&changes.added),
                    "certificates_retiring": fingerprints(&changes.retiring),
                    "certificates_dropped": fingerprints(&changes.dropped),
                })),
        )?;
    }
    Ok(changes)
}

/// Trusts one more certificate on connection `id` (one the IdP handed over
/// outside its metadata); audited.
pub fn add_certificate(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    org: &Organization,
    id: ConnectionId,
    certificate: Certificate,
) -> Result<(), Error> {
    store::write_transaction(conn, |conn| {
        let connection = find(conn, org, id)?;
        if connection
            .certificates
            .iter()
            .any(|t| t.certificate.fingerprint == certificate.fingerprint)
        {
            return Err(Error::CertificateKnown(certificate.fingerprint));
        }
        let mut trusted = connection.certificates.clone();
        trusted.push(TrustedCertificate {
            certificate: certificate.clone(),
            retired_at: None,
        });
        let details = json!({ "certificate_added": certificate.fingerprint });
        set_certificates(conn, clock, actor, &connection, &trusted, details)
    })
}

/// Stops trusting the certificate with this SHA-256 fingerprint (colons and
/// case optional); refused for the last one in force, which would cut every
/// learner off. Audited.
pub fn remove_certificate(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    org: &Organization,
    id: ConnectionId,
    fingerprint: &str,
) -> Result<Certificate, Error> {
    let wanted = normalized(fingerprint);
    store::write_transaction(conn, |conn| {
        let connection = find(conn, org, id)?;
        let now = clock.now_naive();
        let (removed, kept): (Vec<_>, Vec<_>) = connection
            .certificates
            .iter()
            .cloned()
            .partition(|t| normalized(&t.certificate.fingerprint) == wanted);
        let Some(removed) = removed.into_iter().next() else {
            return Err(Error::NoSuchCertificate(fingerprint.to_owned()));
        };
        if !kept.iter().any(|t| t.in_force(now)) {
            return Err(Error::LastCertificate);
        }
        let details = json!({ "certificate_removed": removed.certificate.fingerprint });
        set_certificates(conn, clock, actor, &connection, &kept, details)?;
        Ok(removed.certificate)
    })
}

/// Sets a connection's certificates (its URLs as they are), audited with
/// `details`, inside the caller's transaction.
fn set_certificates(
    conn: &mut DbConn,
    clock: &Clock,
    actor: &Actor,
    connection: &IdpConnection,
    certificates: &[TrustedCertificate],
    mut details: serde_json::Value,
) -> Result<(), Error> {
    let urls = (
        connection.sso_url.as_str(),
        connection.sso_post_url.as_deref(),
    );
    queries::set_trust(conn, connection.id, urls, certificates)?;
    details["connection"] = connection.id.to_string().into();
    audit::record(
        conn,
        clock,
        audit::NewEvent::new(Some(connection.org), actor, Action::IdpConnectionChanged)
            .target(&connection.entity_id)
            .details(details),
    )?;
    Ok(())
}

/// A fingerprint as people type it: upper case, without separators.
fn normalized(fingerprint: &str) -> String {
    fingerprint
        .chars()
        .filter(char::is_ascii_hexdigit)
        .map(|c| c.to_ascii_uppercase())
        .collect()
}
