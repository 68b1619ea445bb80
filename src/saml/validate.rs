//! Validation of a SAML Response posted to the ACS. Pure: no database, no
//! network, no files; bounded work for any input.
//!
//! Layers, in order (docs/security.md has the full table):
//! 1. size, base64, UTF-8, then the XML screen ([`xml::parse`]: encoding,
//!    DTD, nodes, depth, namespaces), exactly one Response (the root) and one
//!    (encrypted) Assertion in the whole document: every XML signature
//!    wrapping variant adds a second one, so they all stop here;
//! 2. every signature is verified in Rust ([`dsig`]) against the
//!    connection's configured certificates only, and what follows reads only
//!    the signed element exactly as it was digested; an encrypted assertion
//!    is decrypted ([`decrypt`]) and its plaintext passes the same screens;
//! 3. our checks on that signed content: Destination, Issuer, Status,
//!    Audience (every restriction), Recipient, AuthnStatement, time windows
//!    with our clock, InResponseTo consistency, unsolicited policy.
//!
//! The only way to obtain a [`VerifiedAssertion`] is [`validate`].

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, TimeDelta, Utc};
use roxmltree::{Document, Node};
use samael::schema::{Assertion, Response};

use super::decrypt;
use super::dsig::{self, DSIG_NS};
use super::keys::SpKeys;
use super::xml::{self, is};
use super::{ASSERTION_NS, PROTOCOL_NS, SpEndpoints};

/// Bound on the posted SAMLResponse, checked before decoding.
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;

const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";

/// What we trust about one IdP connection.
pub struct Trust<'a> {
    pub idp_entity_id: &'a str,
    /// DER certificates from the connection's configuration.
    pub certificates: &'a [Vec<u8>],
    pub require_signed_assertion: bool,
    pub allow_sha1: bool,
    /// Accept responses that answer no request of ours (IdP-initiated).
    pub allow_unsolicited: bool,
}

/// What the response must say about us, and when "now" is.
pub struct Expected<'a> {
    pub sp: &'a SpEndpoints,
    pub keys: &'a SpKeys,
    pub now: DateTime<Utc>,
    pub clock_skew: TimeDelta,
}

/// An assertion that passed every check. Fields are private: nothing outside
/// this module can make one.
#[derive(Clone, Debug)]
pub struct VerifiedAssertion {
    assertion_id: String,
    name_id: String,
    in_response_to: Option<String>,
    expires_at: DateTime<Utc>,
    session_not_on_or_after: Option<DateTime<Utc>>,
    attributes: Vec<(String, String)>,
}

impl VerifiedAssertion {
    pub fn assertion_id(&self) -> &str {
        &self.assertion_id
    }
    pub fn name_id(&self) -> &str {
        &self.name_id
    }
    /// The request this answers; `None` for an unsolicited (IdP-initiated) response.
    pub fn in_response_to(&self) -> Option<&str> {
        self.in_response_to.as_deref()
    }
    /// After this the assertion can no longer be used: the replay cache keeps its ID until then.
    pub fn expires_at(&self) -> DateTime<Utc> {
        self.expires_at
    }
    /// The end the IdP set for the session it started (SAML core 2.7.2:
    /// SessionNotOnOrAfter); ours must not outlast it.
    pub fn session_not_on_or_after(&self) -> Option<DateTime<Utc>> {
        self.session_not_on_or_after
    }
    /// `(name, first value)` of every attribute.
    pub fn attributes(&self) -> &[(String, String)] {
        &self.attributes
    }
}

/// Why a response was refused. The messages are for the IdP admin and the log;
/// learners see a general page.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Rejection {
    #[error("the SAMLResponse is larger than 256 KiB")]
    TooLarge,
    #[error("the SAMLResponse is not valid base64")]
    NotBase64,
    #[error("the SAMLResponse is not UTF-8 text")]
    NotUtf8,
    #[error("the response was refused before reading: {0}")]
    Xml(xml::Refused),
    #[error("the signed content is not a SAML message we can read: {0}")]
    NotXml(String),
    #[error("the message is not a single SAML Response")]
    NotAResponse,
    #[error("the response must carry exactly one assertion, it carries {0}")]
    AssertionCount(usize),
    #[error("the response is signed with SHA-1, which this connection does not accept")]
    Sha1Signature,
    #[error("no valid signature by a certificate configured for this IdP ({0})")]
    NoTrustedSignature(dsig::Failure),
    #[error("the assertion itself is not signed, and this connection requires it")]
    AssertionNotSigned,
    #[error("the encrypted assertion cannot be decrypted: {0}")]
    Decryption(decrypt::Failure),
    #[error("Destination was {found:?}, expected {expected:?}")]
    Destination {
        found: Option<String>,
        expected: String,
    },
    #[error("Issuer was {found:?}, expected {expected:?}")]
    Issuer {
        found: Option<String>,
        expected: String,
    },
    #[error("the IdP answered with status {code}{}", message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Status {
        code: String,
        message: Option<String>,
    },
    #[error("the assertion has no Subject NameID")]
    NoNameId,
    #[error("the assertion has no AudienceRestriction; it must name {expected:?}")]
    AudienceMissing { expected: String },
    #[error("Audience was {found:?}, expected {expected:?}")]
    Audience {
        found: Vec<String>,
        expected: String,
    },
    #[error("the assertion is not valid before {0}")]
    NotYetValid(String),
    #[error("the assertion expired at {0}")]
    Expired(String),
    #[error("the assertion was issued in the future ({0})")]
    IssuedInFuture(String),
    #[error("the assertion has no AuthnStatement: it does not say the user signed in")]
    NoAuthnStatement,
    #[error("the IdP's session for this sign-in ended at {0}")]
    SessionEnded(String),
    #[error("the assertion has no bearer SubjectConfirmation with NotOnOrAfter")]
    NoBearerConfirmation,
    #[error("Recipient was {found:?}, expected {expected:?}")]
    Recipient {
        found: Option<String>,
        expected: String,
    },
    #[error("the Response and its assertion disagree on InResponseTo")]
    InResponseToMismatch,
    #[error(
        "the response answers no request of ours, and this connection does not accept IdP-initiated sign-in"
    )]
    UnsolicitedNotAllowed,
}

impl Rejection {
    /// A stable short code, for logs and the list of recent SSO errors.
    pub fn code(&self) -> &'static str {
        match self {
            Self::TooLarge => "too_large",
            Self::NotBase64 => "not_base64",
            Self::NotUtf8 => "not_utf8",
            Self::Xml(refused) => refused.code(),
            Self::NotXml(_) => "not_xml",
            Self::NotAResponse => "not_a_response",
            Self::AssertionCount(_) => "assertion_count",
            Self::Sha1Signature => "sha1_signature",
            Self::NoTrustedSignature(_) => "signature",
            Self::AssertionNotSigned => "assertion_not_signed",
            Self::Decryption(_) => "decryption",
            Self::Destination { .. } => "destination",
            Self::Issuer { .. } => "issuer",
            Self::Status { .. } => "status",
            Self::NoNameId => "no_name_id",
            Self::AudienceMissing { .. } => "audience_missing",
            Self::Audience { .. } => "audience",
            Self::NotYetValid(_) => "not_yet_valid",
            Self::Expired(_) => "expired",
            Self::IssuedInFuture(_) => "issued_in_future",
            Self::NoAuthnStatement => "no_authn_statement",
            Self::SessionEnded(_) => "session_ended",
            Self::NoBearerConfirmation => "no_bearer_confirmation",
            Self::Recipient { .. } => "recipient",
            Self::InResponseToMismatch => "in_response_to_mismatch",
            Self::UnsolicitedNotAllowed => "unsolicited",
        }
    }
}

/// A posted `SAMLResponse`, bounded and decoded; not yet trusted in any way.
pub struct Decoded(String);

/// Bounds and decodes a base64 `SAMLResponse`.
pub fn decode(encoded: &str) -> Result<Decoded, Rejection> {
    if encoded.len() > MAX_RESPONSE_BYTES {
        return Err(Rejection::TooLarge);
    }
    // IdPs may wrap the base64 in lines; most do not, and then nothing is copied.
    let bytes = if encoded.bytes().any(|b| b.is_ascii_whitespace()) {
        let compact: Vec<u8> = encoded
            .bytes()
            .filter(|b| !b.is_ascii_whitespace())
            .collect();
        STANDARD.decode(compact)
    } else {
        STANDARD.decode(encoded)
    }
    .map_err(|_| Rejection::NotBase64)?;
    String::from_utf8(bytes)
        .map(Decoded)
        .map_err(|_| Rejection::NotUtf8)
}

/// A decoded response that passed the screens and holds one Response (the
/// root) with one assertion; still not trusted in any way.
pub struct Parsed<'a> {
    doc: Document<'a>,
}

impl Decoded {
    /// Screens and parses the response: bounded work, no I/O.
    pub fn parse(&self) -> Result<Parsed<'_>, Rejection> {
        let doc = xml::parse(&self.0).map_err(Rejection::Xml)?;
        let count = |(namespace, name)| xml::count(&doc, namespace, name);
        if count((PROTOCOL_NS, "Response")) != 1
            || !doc.root_element().has_tag_name((PROTOCOL_NS, "Response"))
        {
            return Err(Rejection::NotAResponse);
        }
        let assertions =
            count((ASSERTION_NS, "Assertion")) + count((ASSERTION_NS, "EncryptedAssertion"));
        if assertions != 1 {
            return Err(Rejection::AssertionCount(assertions));
        }
        Ok(Parsed { doc })
    }
}

impl Parsed<'_> {
    /// The issuer the response claims, read before verification only to
    /// pick which connection's certificates to verify with; never trusted
    /// beyond that. The Response's own Issuer, else the assertion's.
    pub fn claimed_issuer(&self) -> Option<&str> {
        let root = self.doc.root_element();
        xml::child(root, ASSERTION_NS, "Issuer")
            .or_else(|| {
                xml::child(root, ASSERTION_NS, "Assertion")
                    .and_then(|assertion| xml::child(assertion, ASSERTION_NS, "Issuer"))
            })
            .and_then(|issuer| issuer.text())
            .map(str::trim)
    }
}

/// Validates a parsed `SAMLResponse` as posted to our ACS.
pub fn validate(
    parsed: &Parsed,
    trust: &Trust,
    expected: &Expected,
) -> Result<VerifiedAssertion, Rejection> {
    let doc = &parsed.doc;
    let root = doc.root_element();
    let encrypted = xml::child(root, ASSERTION_NS, "EncryptedAssertion");
    let (response, assertion, assertion_signed) =
        if encrypted.is_some() && xml::count(doc, DSIG_NS, "Signature") == 0 {
            // Nothing outside is signed: the signature is inside the ciphertext.
            // The Response shell is not trusted for anything; only the
            // decrypted, verified assertion is.
            let (assertion, signed) = decrypted(encrypted, trust, expected, false)?;
            (None, assertion, signed)
        } else {
            let signed = verified(doc, trust)?;
            if signed.covers_root {
                // The Response itself is signed: its Destination, Issuer and Status count.
                let response = signed
                    .canonical
                    .parse::<Response>()
                    .map_err(|e| Rejection::NotXml(e.to_string()))?;
                check_response(&response, trust, expected)?;
                let (assertion, signed) = match &response.assertion {
                    Some(assertion) => (assertion.clone(), signed.assertion_signed),
                    None => {
                        // The ciphertext was covered by the Response's signature.
                        let content = xml::parse(&signed.canonical).map_err(Rejection::Xml)?;
                        let encrypted =
                            xml::child(content.root_element(), ASSERTION_NS, "EncryptedAssertion");
                        decrypted(encrypted, trust, expected, true)?
                    }
                };
                (Some(response), assertion, signed)
            } else {
                // Only the assertion is signed; the Response around it is ignored as unverified.
                let assertion = signed
                    .canonical
                    .parse::<Assertion>()
                    .map_err(|e| Rejection::NotXml(e.to_string()))?;
                (None, assertion, true)
            }
        };
    if trust.require_signed_assertion && !assertion_signed {
        return Err(Rejection::AssertionNotSigned);
    }
    check_assertion(response.as_ref(), assertion, trust, expected)
}

/// Verifies every signature in the document against the connection's certificates only.
fn verified(doc: &Document, trust: &Trust) -> Result<dsig::Signed, Rejection> {
    let keys = dsig::public_keys(trust.certificates);
    dsig::verify(doc, &keys, trust.allow_sha1).map_err(|failure| match failure {
        dsig::Failure::Sha1 => Rejection::Sha1Signature,
        failure => Rejection::NoTrustedSignature(failure),
    })
}

/// Decrypts an EncryptedAssertion with our keys; the plaintext passes the
/// same screens as a posted response. Inside a signed Response the
/// ciphertext was covered by its signature; otherwise the decrypted
/// assertion must carry a trusted signature itself. A signature it carries
/// is verified in either case, so that "signed" always means verified.
fn decrypted(
    encrypted: Option<Node>,
    trust: &Trust,
    expected: &Expected,
    covered_by_response_signature: bool,
) -> Result<(Assertion, bool), Rejection> {
    let encrypted = encrypted.ok_or(Rejection::AssertionCount(0))?;
    let plaintext = decrypt::decrypt(encrypted, expected.keys.published().map(|pair| &pair.key))
        .map_err(Rejection::Decryption)?;
    let doc = xml::parse(&plaintext).map_err(Rejection::Xml)?;
    let assertions = xml::count(&doc, ASSERTION_NS, "Assertion");
    if assertions != 1 || !is(&doc.root_element(), ASSERTION_NS, "Assertion") {
        return Err(Rejection::AssertionCount(assertions));
    }
    let (trusted, signed) =
        if xml::count(&doc, DSIG_NS, "Signature") == 0 && covered_by_response_signature {
            (plaintext.clone(), false)
        } else {
            let signed = verified(&doc, trust)?;
            (signed.canonical, signed.assertion_signed)
        };
    let assertion = trusted
        .parse::<Assertion>()
        .map_err(|e| Rejection::NotXml(e.to_string()))?;
    Ok((assertion, signed))
}

fn check_response(
    response: &Response,
    trust: &Trust,
    expected: &Expected,
) -> Result<(), Rejection> {
    // SAML bindings 3.5.5.2: a signed response must carry Destination, equal to where it arrived.
    if response.destination.as_deref() != Some(expected.sp.acs_url.as_str()) {
        return Err(Rejection::Destination {
            found: response.destination.clone(),
            expected: expected.sp.acs_url.clone(),
        });
    }
    if let Some(issuer) = &response.issuer
        && issuer.value.as_deref() != Some(trust.idp_entity_id)
    {
        return Err(Rejection::Issuer {
            found: issuer.value.clone(),
            expected: trust.idp_entity_id.to_owned(),
        });
    }
    let status = response
        .status
        .as_ref()
        .and_then(|s| s.status_code.value.clone());
    if status.as_deref() != Some(STATUS_SUCCESS) {
        return Err(Rejection::Status {
            code: status.unwrap_or_else(|| "(none)".into()),
            message: response
                .status
                .as_ref()
                .and_then(|s| s.status_message.as_ref())
                .and_then(|m| m.value.clone()),
        });
    }
    if response.issue_instant > expected.now + expected.clock_skew {
        return Err(Rejection::IssuedInFuture(
            response.issue_instant.to_rfc3339(),
        ));
    }
    Ok(())
}

fn check_assertion(
    response: Option<&Response>,
    assertion: Assertion,
    trust: &Trust,
    expected: &Expected,
) -> Result<VerifiedAssertion, Rejection> {
    let now = expected.now;
    let skew = expected.clock_skew;
    if assertion.issuer.value.as_deref() != Some(trust.idp_entity_id) {
        return Err(Rejection::Issuer {
            found: assertion.issuer.value.clone(),
            expected: trust.idp_entity_id.to_owned(),
        });
    }
    if assertion.issue_instant > now + skew {
        return Err(Rejection::IssuedInFuture(
            assertion.issue_instant.to_rfc3339(),
        ));
    }

    // SAML profiles 4.1.4.2: bearer assertions must be audience-restricted to
    // us; SAML core 2.5.1.4: every AudienceRestriction must hold on its own.
    let conditions = assertion.conditions.as_ref();
    let restrictions = conditions
        .and_then(|c| c.audience_restrictions.as_deref())
        .unwrap_or_default();
    if restrictions.is_empty() {
        return Err(Rejection::AudienceMissing {
            expected: expected.sp.entity_id.clone(),
        });
    }
    if let Some(restriction) = restrictions
        .iter()
        .find(|r| !r.audience.contains(&expected.sp.entity_id))
    {
        return Err(Rejection::Audience {
            found: restriction.audience.clone(),
            expected: expected.sp.entity_id.clone(),
        });
    }
    let mut expires_at = None;
    if let Some(conditions) = conditions {
        if let Some(not_before) = conditions.not_before
            && now + skew < not_before
        {
            return Err(Rejection::NotYetValid(not_before.to_rfc3339()));
        }
        // SAML core 2.5.1.2: NotOnOrAfter is exclusive.
        if let Some(not_on_or_after) = conditions.not_on_or_after {
            if now - skew >= not_on_or_after {
                return Err(Rejection::Expired(not_on_or_after.to_rfc3339()));
            }
            expires_at = Some(not_on_or_after);
        }
    }

    // SAML profiles 4.1.4.2: the Web SSO profile's assertion says how the
    // user signed in; an assertion without one asserts no sign-in at all.
    let statements = assertion.authn_statements.as_deref().unwrap_or_default();
    if statements.is_empty() {
        return Err(Rejection::NoAuthnStatement);
    }
    let session_not_on_or_after = statements
        .iter()
        .filter_map(|s| s.session_not_on_or_after)
        .min();
    if let Some(end) = session_not_on_or_after
        && now - skew >= end
    {
        return Err(Rejection::SessionEnded(end.to_rfc3339()));
    }

    let subject = assertion.subject.as_ref();
    let name_id = subject
        .and_then(|s| s.name_id.as_ref())
        .map(|n| n.value.trim().to_owned())
        .filter(|v| !v.is_empty())
        .ok_or(Rejection::NoNameId)?;

    let bearer = subject
        .and_then(|s| s.subject_confirmations.as_ref())
        .into_iter()
        .flatten()
        .filter(|c| c.method.as_deref() == Some(BEARER))
        .filter_map(|c| c.subject_confirmation_data.as_ref())
        .find(|d| d.not_on_or_after.is_some())
        .ok_or(Rejection::NoBearerConfirmation)?;
    if bearer.recipient.as_deref() != Some(expected.sp.acs_url.as_str()) {
        return Err(Rejection::Recipient {
            found: bearer.recipient.clone(),
            expected: expected.sp.acs_url.clone(),
        });
    }
    let confirmation_expiry = bearer.not_on_or_after.expect("filtered on presence above");
    if now - skew >= confirmation_expiry {
        return Err(Rejection::Expired(confirmation_expiry.to_rfc3339()));
    }
    if let Some(not_before) = bearer.not_before
        && now + skew < not_before
    {
        return Err(Rejection::NotYetValid(not_before.to_rfc3339()));
    }
    let expires_at = expires_at.map_or(confirmation_expiry, |e| e.max(confirmation_expiry)) + skew;

    let in_response_to = match (
        response.and_then(|r| r.in_response_to.clone()),
        bearer.in_response_to.clone(),
    ) {
        (Some(a), Some(b)) if a != b => return Err(Rejection::InResponseToMismatch),
        (a, b) => b.or(a),
    };
    if in_response_to.is_none() && !trust.allow_unsolicited {
        return Err(Rejection::UnsolicitedNotAllowed);
    }

    let attributes = assertion
        .attribute_statements
        .iter()
        .flatten()
        .flat_map(|s| &s.attributes)
        .filter_map(|a| {
            let name = a.name.clone()?;
            let value = a.values.iter().find_map(|v| v.value.clone())?;
            Some((name, value))
        })
        .collect();

    Ok(VerifiedAssertion {
        assertion_id: assertion.id,
        name_id,
        in_response_to,
        expires_at,
        session_not_on_or_after,
        attributes,
    })
}
