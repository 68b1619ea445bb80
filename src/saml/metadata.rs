//! IdP metadata in, SP metadata out.

use std::str::FromStr;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, NaiveDateTime};
use openssl::hash::MessageDigest;
use openssl::x509::X509;
use samael::metadata::EntityDescriptor;

use super::SpEndpoints;
use super::keys::SpKeys;
use super::xml::escape;

/// Metadata files are a few KiB; anything far larger is not metadata.
pub const MAX_METADATA_BYTES: usize = 1024 * 1024;

const METADATA_NS: &str = "urn:oasis:names:tc:SAML:2.0:metadata";
const HTTP_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";
const HTTP_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";

/// What Seatgate needs from an IdP: who it is, where to send learners, which keys sign.
#[derive(Clone, Debug)]
pub struct IdpMetadata {
    pub entity_id: String,
    /// The HTTP-Redirect SingleSignOnService location.
    pub sso_url: String,
    /// The HTTP-POST SingleSignOnService location, when it lists one.
    pub sso_post_url: Option<String>,
    pub certificates: Vec<Certificate>,
    /// The IdP's `OrganizationDisplayName` (English first), when it has one:
    /// a name people recognise for the connection.
    pub display_name: Option<String>,
}

/// A signing certificate of an IdP, as configured (never one taken from a message).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Certificate {
    pub der: Vec<u8>,
    pub subject: String,
    /// SHA-256 of the DER, upper-case hex with colons, as admin consoles show it.
    pub fingerprint: String,
    pub not_after: NaiveDateTime,
}

impl Certificate {
    pub fn from_der(der: Vec<u8>) -> Result<Self, MetadataError> {
        let cert =
            X509::from_der(&der).map_err(|e| unreadable("it is not an X.509 certificate", &e))?;
        let subject = cert
            .subject_name()
            .entries()
            .map(|entry| {
                let key = entry.object().nid().short_name().unwrap_or("?");
                let value = entry.data().to_string().unwrap_or_default();
                format!("{key}={value}")
            })
            .collect::<Vec<_>>()
            .join(", ");
        let digest = cert
            .digest(MessageDigest::sha256())
            .map_err(|e| unreadable("its fingerprint cannot be computed", &e))?;
        let fingerprint = digest
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":");
        let not_after = asn1_to_naive(cert.not_after()).ok_or_else(|| {
            MetadataError::UnreadableCertificate("its expiry date cannot be read".into())
        })?;
        Ok(Self {
            der,
            subject,
            fingerprint,
            not_after,
        })
    }

    /// Reads one base64 certificate as it appears in `<X509Certificate>` (whitespace allowed).
    pub fn from_base64(text: &str) -> Result<Self, MetadataError> {
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let der = STANDARD.decode(compact).map_err(|_| {
            MetadataError::UnreadableCertificate(
                "it is not base64 text (copy the certificate again, whole)".into(),
            )
        })?;
        Self::from_der(der)
    }

    /// Reads a PEM certificate (for manual configuration).
    pub fn from_pem(pem: &[u8]) -> Result<Self, MetadataError> {
        let cert = X509::from_pem(pem).map_err(|e| {
            unreadable(
                "it is not a PEM certificate (text between -----BEGIN CERTIFICATE----- and -----END CERTIFICATE-----)",
                &e,
            )
        })?;
        Self::from_der(
            cert.to_der()
                .map_err(|e| unreadable("it is not an X.509 certificate", &e))?,
        )
    }
}

/// A certificate refused with a sentence for people; OpenSSL's own text
/// (`error:0680007B:asn1 encoding routines:...`) goes to the log only.
fn unreadable(says: &str, e: &openssl::error::ErrorStack) -> MetadataError {
    tracing::info!(openssl = %e, "certificate refused");
    MetadataError::UnreadableCertificate(says.to_owned())
}

fn asn1_to_naive(time: &openssl::asn1::Asn1TimeRef) -> Option<NaiveDateTime> {
    let epoch = openssl::asn1::Asn1Time::from_unix(0).ok()?;
    let diff = epoch.diff(time).ok()?;
    let seconds = i64::from(diff.days) * 86_400 + i64::from(diff.secs);
    DateTime::from_timestamp(seconds, 0).map(|t| t.naive_utc())
}

/// Why metadata was refused; each says what to fix.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MetadataError {
    #[error("the metadata is larger than 1 MiB")]
    TooLarge,
    #[error("the metadata is not XML: {0}")]
    NotXml(String),
    #[error("the metadata contains a DTD or entity declaration, which is refused for safety")]
    Dtd,
    #[error("the metadata has no entityID")]
    NoEntityId,
    #[error("the metadata describes no identity provider (no IDPSSODescriptor)")]
    NoIdpDescriptor,
    #[error("the metadata has no SingleSignOnService with the HTTP-Redirect binding")]
    NoSsoEndpoint,
    #[error("the metadata has no signing certificate: responses could not be verified")]
    NoSigningCertificate,
    #[error("a certificate in the metadata cannot be read: {0}")]
    UnreadableCertificate(String),
}

impl IdpMetadata {
    /// A connection configured by hand: entity ID, HTTP-Redirect SSO URL, certificates.
    pub fn manual(
        entity_id: String,
        sso_url: String,
        certificates: Vec<Certificate>,
    ) -> Result<Self, MetadataError> {
        if entity_id.trim().is_empty() {
            return Err(MetadataError::NoEntityId);
        }
        if url::Url::parse(&sso_url).map_or(true, |u| !matches!(u.scheme(), "https" | "http")) {
            return Err(MetadataError::NoSsoEndpoint);
        }
        if certificates.is_empty() {
            return Err(MetadataError::NoSigningCertificate);
        }
        Ok(Self {
            entity_id: entity_id.trim().to_owned(),
            sso_url,
            sso_post_url: None,
            certificates,
            display_name: None,
        })
    }
}

impl FromStr for IdpMetadata {
    type Err = MetadataError;

    fn from_str(xml: &str) -> Result<Self, MetadataError> {
        if xml.len() > MAX_METADATA_BYTES {
            return Err(MetadataError::TooLarge);
        }
        let doc = super::xml::parse(xml).map_err(|refused| match refused {
            super::xml::Refused::Dtd => MetadataError::Dtd,
            other => MetadataError::NotXml(other.to_string()),
        })?;
        let root = doc.root_element();
        if !super::xml::is(&root, METADATA_NS, "EntityDescriptor") {
            return Err(MetadataError::NotXml(format!(
                "not SAML metadata: the root element is <{}>, expected <EntityDescriptor> \
                 (for an aggregate EntitiesDescriptor, upload the IdP's own entity)",
                root.tag_name().name()
            )));
        }
        let idp_descriptors = super::xml::count(&doc, METADATA_NS, "IDPSSODescriptor");
        // Checked before the full parse: uploading the SP's own metadata by
        // mistake should say so, not fail on some SP-only field.
        if idp_descriptors == 0 {
            return Err(MetadataError::NoIdpDescriptor);
        }
        let descriptor: EntityDescriptor = xml
            .parse()
            .map_err(|e| MetadataError::NotXml(format!("not SAML metadata: {e}")))?;
        let entity_id = descriptor
            .entity_id
            .clone()
            .filter(|id| !id.trim().is_empty())
            .ok_or(MetadataError::NoEntityId)?;
        let idp = descriptor
            .idp_sso_descriptors
            .as_ref()
            .and_then(|d| d.first())
            .ok_or(MetadataError::NoIdpDescriptor)?;
        let sso_url = idp
            .single_sign_on_services
            .iter()
            .find(|s| s.binding == HTTP_REDIRECT)
            .map(|s| s.location.clone())
            .filter(|l| l.starts_with("https://") || l.starts_with("http://"))
            .ok_or(MetadataError::NoSsoEndpoint)?;
        let sso_post_url = idp
            .single_sign_on_services
            .iter()
            .find(|s| s.binding == HTTP_POST)
            .map(|s| s.location.clone())
            .filter(|l| l.starts_with("https://") || l.starts_with("http://"));
        // SAML metadata 2.4.1.1: a KeyDescriptor without `use` serves both purposes.
        let mut certificates = Vec::new();
        for key in &idp.key_descriptors {
            if !matches!(key.key_use.as_deref(), None | Some("") | Some("signing")) {
                continue;
            }
            for text in key.key_info.x509_data.iter().flat_map(|d| &d.certificates) {
                let cert = Certificate::from_base64(text)?;
                if !certificates.contains(&cert) {
                    certificates.push(cert);
                }
            }
        }
        if certificates.is_empty() {
            return Err(MetadataError::NoSigningCertificate);
        }
        Ok(Self {
            entity_id,
            sso_url,
            sso_post_url,
            certificates,
            display_name: organization_display_name(&root),
        })
    }
}

/// The entity's `Organization/OrganizationDisplayName`, the English one
/// when there are several.
fn organization_display_name(root: &roxmltree::Node) -> Option<String> {
    let organization = super::xml::child(*root, METADATA_NS, "Organization")?;
    let names: Vec<roxmltree::Node> = organization
        .children()
        .filter(|n| super::xml::is(n, METADATA_NS, "OrganizationDisplayName"))
        .collect();
    let english = names.iter().find(|n| {
        n.attribute(("http://www.w3.org/XML/1998/namespace", "lang"))
            .is_some_and(|lang| lang.starts_with("en"))
    });
    english
        .or(names.first())
        .and_then(|n| n.text())
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_owned)
}

/// Our SP metadata for one organization: signed AuthnRequests, signed
/// assertions wanted, every published certificate for signing and encryption.
pub fn sp_metadata(endpoints: &SpEndpoints, keys: &SpKeys) -> String {
    let key_descriptors: String = keys
        .published()
        .flat_map(|pair| {
            let cert = pair.cert_base64();
            ["signing", "encryption"].map(|usage| {
                let methods = if usage == "encryption" {
                    concat!(
                        // What saml::decrypt accepts, preferred first: IdPs that read
                        // this (Shibboleth, SimpleSAMLphp) pick the first they support.
                        r#"<md:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#aes256-gcm"/>"#,
                        r#"<md:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#aes128-gcm"/>"#,
                        r#"<md:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes256-cbc"/>"#,
                        r#"<md:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#aes128-cbc"/>"#,
                        r#"<md:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#rsa-oaep"/>"#,
                        r#"<md:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"/>"#
                    )
                } else {
                    ""
                };
                format!(
                    r#"<md:KeyDescriptor use="{usage}"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo>{methods}</md:KeyDescriptor>"#
                )
            })
        })
        .collect();
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity_id}"><md:SPSSODescriptor AuthnRequestsSigned="true" WantAssertionsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">{key_descriptors}<md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat><md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat><md:AssertionConsumerService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="{acs}" index="0" isDefault="true"/></md:SPSSODescriptor></md:EntityDescriptor>
"#,
        entity_id = escape(&endpoints.entity_id),
        acs = escape(&endpoints.acs_url),
    )
}
