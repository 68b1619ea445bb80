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
    /// Refuse a plain (unencrypted) assertion.
    pub require_encrypted_assertion: bool,
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
    #[error("the assertion is not encrypted, and this connection requires it")]
    AssertionNotEncrypted,
    #[error("the encrypted assertion cannot be decrypted: {0}")]
    Decryption(decrypt::Failure),
    #[error("Destination was {}, expected \"{expected}\"", shown(found.as_deref()))]
    Destination {
        found: Option<String>,
        expected: String,
    },
    #[error("Issuer was {}, expected \"{expected}\"", shown(found.as_deref()))]
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
    #[error("the assertion has no AudienceRestriction; it must name \"{expected}\"")]
    AudienceMissing { expected: String },
    #[error("Audience was {}, expected \"{expected}\"", found.iter().map(|f| format!("\"{f}\"")).collect::<Vec<_>>().join(", "))]
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
    #[error("Recipient was {}, expected \"{expected}\"", shown(found.as_deref()))]
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

/// A value a response sent, quoted, or "missing": never `None` or `Some(..)`.
fn shown(found: Option<&str>) -> String {
    found.map_or_else(|| "missing".to_owned(), |f| format!("\"{f}\""))
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
    /// The decoded text, untrusted.
    pub fn text(&self) -> &str {
        &self.0
    }

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

impl<'a> Parsed<'a> {
    /// The Response element, untrusted.
    pub fn root(&self) -> roxmltree::Node<'_, 'a> {
        self.doc.root_element()
    }

    /// The request the Response says it answers, unverified: read only to
    /// tell a console's test sign-in, whose verdict goes to the console
    /// whether the response passes or not.
    pub fn claimed_in_response_to(&self) -> Option<&str> {
        self.doc.root_element().attribute("InResponseTo")
    }

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
    // A cheap check before any signature is verified.
    if trust.require_encrypted_assertion && encrypted.is_none() {
        return Err(Rejection::AssertionNotEncrypted);
    }
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

/// The validator as a pure function: one response minted at a fixed time,
/// changed in one way per row, refused for exactly that reason. What needs
/// the store or HTTP (nothing written on refusal, the reference shown,
/// replay, InResponseTo, cross-organization) is tested end to end in
/// `tests/it/sso_attacks.rs`.
#[cfg(test)]
mod tests {
    use std::sync::LazyLock;

    use chrono::{DateTime, TimeDelta, Utc};

    use super::*;
    use crate::saml::keys::KeyPair;
    use crate::saml::mint::{self, Harness, ResponseSpec};

    static HARNESS: LazyLock<Harness> = LazyLock::new(|| {
        let now: DateTime<Utc> = "2026-06-01T12:00:00Z".parse().expect("an instant");
        Harness::generate(now).expect("keys")
    });

    fn minutes(n: i64) -> TimeDelta {
        TimeDelta::minutes(n)
    }

    /// Validates `xml` under the harness's trust, changed by `adjust`.
    fn outcome<'a>(
        xml: &str,
        adjust: impl FnOnce(&mut Trust<'a>),
    ) -> Result<VerifiedAssertion, Rejection> {
        let h: &'a Harness = &HARNESS;
        let mut trust = Trust {
            idp_entity_id: Harness::IDP,
            certificates: &h.certificates,
            require_signed_assertion: false,
            require_encrypted_assertion: false,
            allow_sha1: false,
            allow_unsolicited: true,
        };
        adjust(&mut trust);
        let expected = Expected {
            sp: &h.sp,
            keys: &h.sp_keys,
            now: h.now,
            clock_skew: minutes(3),
        };
        validate(&decode(&mint::encode(xml))?.parse()?, &trust, &expected)
    }

    /// A row: what is broken, how, and the refusal it must bring.
    type Row = (&'static str, fn(&mut ResponseSpec), fn(&Rejection) -> bool);

    #[test]
    fn each_broken_rule_is_refused_for_its_reason() {
        let rows: &[Row] = &[
            (
                "another audience",
                |s| s.audience = Some("https://other-sp.example/".into()),
                |r| {
                    matches!(r, Rejection::Audience { found, expected }
                    if found == &["https://other-sp.example/"] && expected.ends_with("/sso/acme"))
                },
            ),
            (
                "no audience restriction",
                |s| s.audience = None,
                |r| matches!(r, Rejection::AudienceMissing { .. }),
            ),
            // SAML core 2.5.1.4: restrictions are AND'ed; ours in one is not enough.
            (
                "a second restriction without us",
                |s| s.other_audience_restriction = Some("https://other-sp.example/".into()),
                |r| matches!(r, Rejection::Audience { .. }),
            ),
            (
                "another destination",
                |s| s.destination = Some("https://other-sp.example/acs".into()),
                |r| matches!(r, Rejection::Destination { .. }),
            ),
            (
                "another recipient",
                |s| s.recipient = "https://other-sp.example/acs".into(),
                |r| matches!(r, Rejection::Recipient { .. }),
            ),
            (
                "another response issuer",
                |s| s.issuer = "https://evil.example/".into(),
                |r| matches!(r, Rejection::Issuer { .. }),
            ),
            (
                "another assertion issuer",
                |s| s.assertion_issuer = "https://evil.example/".into(),
                |r| matches!(r, Rejection::Issuer { .. }),
            ),
            (
                "expired",
                |s| {
                    s.issue_instant = HARNESS.now - minutes(20);
                    s.not_before = HARNESS.now - minutes(20);
                    s.not_on_or_after = HARNESS.now - minutes(10);
                },
                |r| matches!(r, Rejection::Expired(_)),
            ),
            (
                "not yet valid",
                |s| {
                    s.not_before = HARNESS.now + minutes(10);
                    s.not_on_or_after = HARNESS.now + minutes(20);
                },
                |r| matches!(r, Rejection::NotYetValid(_)),
            ),
            (
                "issued in the future",
                |s| s.issue_instant = HARNESS.now + minutes(10),
                |r| matches!(r, Rejection::IssuedInFuture(_)),
            ),
            (
                "the IdP refused",
                |s| s.status = "urn:oasis:names:tc:SAML:2.0:status:Responder".into(),
                |r| matches!(r, Rejection::Status { code, .. } if code.ends_with(":Responder")),
            ),
            (
                "no AuthnStatement",
                |s| s.authn_statement = false,
                |r| *r == Rejection::NoAuthnStatement,
            ),
            (
                "the IdP session ended",
                |s| s.session_not_on_or_after = Some(HARNESS.now - minutes(10)),
                |r| matches!(r, Rejection::SessionEnded(_)),
            ),
            (
                "SHA-1",
                |s| s.sha1 = true,
                |r| *r == Rejection::Sha1Signature,
            ),
            (
                "unsigned",
                |s| {
                    s.sign_response = false;
                    s.sign_assertion = false;
                },
                |r| *r == Rejection::NoTrustedSignature(dsig::Failure::Unsigned),
            ),
        ];
        for (name, change, refused) in rows {
            let mut spec = HARNESS.spec();
            change(&mut spec);
            let outcome = outcome(&HARNESS.mint(&spec), |_| {});
            assert!(
                matches!(&outcome, Err(r) if refused(r)),
                "{name}: {outcome:?}"
            );
        }
    }

    #[test]
    fn each_connection_setting_is_enforced() {
        let mut response_only = HARNESS.spec();
        response_only.sign_assertion = false;
        let response_only = HARNESS.mint(&response_only);
        assert!(outcome(&response_only, |_| {}).is_ok());
        assert_eq!(
            outcome(&response_only, |t| t.require_signed_assertion = true).err(),
            Some(Rejection::AssertionNotSigned)
        );

        let unsolicited = HARNESS.mint(&HARNESS.spec());
        assert_eq!(
            outcome(&unsolicited, |t| t.allow_unsolicited = false).err(),
            Some(Rejection::UnsolicitedNotAllowed)
        );

        let mut sha1 = HARNESS.spec();
        sha1.sha1 = true;
        assert!(
            outcome(&HARNESS.mint(&sha1), |t| t.allow_sha1 = true).is_ok(),
            "allowed for a legacy IdP"
        );

        let stranger = KeyPair::generate("stranger").expect("key").cert_der();
        let others = [stranger];
        assert!(matches!(
            outcome(&unsolicited, |t| t.certificates = &others),
            Err(Rejection::NoTrustedSignature(dsig::Failure::SignatureValue))
        ));
    }

    #[test]
    fn idp_clocks_may_be_three_minutes_off() {
        let mut spec = HARNESS.spec();
        spec.not_before = HARNESS.now + minutes(2);
        spec.issue_instant = HARNESS.now + minutes(2);
        assert!(outcome(&HARNESS.mint(&spec), |_| {}).is_ok());
    }

    #[test]
    fn a_verified_assertion_reports_what_was_signed() {
        let mut spec = HARNESS.spec();
        spec.session_not_on_or_after = Some(HARNESS.now + minutes(30));
        spec.in_response_to = Some("_request".into());
        let verified = outcome(&HARNESS.mint(&spec), |_| {}).expect("valid");
        assert_eq!(verified.name_id(), "ann@acme.example");
        assert_eq!(verified.attributes(), spec.attributes.as_slice());
        assert_eq!(verified.in_response_to(), Some("_request"));
        assert_eq!(verified.assertion_id(), spec.assertion_id);
        assert_eq!(
            verified.session_not_on_or_after(),
            Some(HARNESS.now + minutes(30))
        );
    }

    /// XML signature wrapping (the eight XSW shapes of Somorovsky et al., "On
    /// Breaking SAML", 2012): a forged assertion beside, around or inside the
    /// signed one. Every shape adds a second assertion or moves the signed
    /// one, so the count and placement screens refuse them all before any
    /// signature is read.
    #[test]
    fn signature_wrapping_is_refused() {
        let spec = HARNESS.spec();
        let signed = HARNESS.mint(&spec);
        let element = |xml: &str, open: &str, close: &str| -> String {
            let start = xml.find(open).expect("element");
            let end = xml[start..].find(close).expect("close") + start + close.len();
            xml[start..end].to_owned()
        };
        let assertion = element(&signed, "<saml:Assertion", "</saml:Assertion>");
        let assertion_signature = element(&assertion, "<ds:Signature", "</ds:Signature>");
        let evil = assertion
            .replace(&assertion_signature, "")
            .replace(&spec.name_id, "evil@attacker.example")
            .replace(&spec.assertion_id, "_evil");
        let response_signature = element(&signed, "<ds:Signature", "</ds:Signature>");
        let body = signed.trim_start_matches("<?xml version=\"1.0\"?>");
        let rows: [(&str, String, Rejection); 6] = [
            (
                "evil assertion before the signed one",
                signed.replacen(&assertion, &format!("{evil}{assertion}"), 1),
                Rejection::AssertionCount(2),
            ),
            (
                "evil assertion after the signed one",
                signed.replacen(&assertion, &format!("{assertion}{evil}"), 1),
                Rejection::AssertionCount(2),
            ),
            (
                "signed assertion inside the evil one",
                signed.replacen(
                    &assertion,
                    &evil.replacen("</saml:Issuer>", &format!("</saml:Issuer>{assertion}"), 1),
                    1,
                ),
                Rejection::AssertionCount(2),
            ),
            (
                "signed assertion in Extensions",
                signed.replacen(&assertion, &evil, 1).replacen(
                    "<samlp:Status>",
                    &format!("<samlp:Extensions>{assertion}</samlp:Extensions><samlp:Status>"),
                    1,
                ),
                Rejection::AssertionCount(2),
            ),
            (
                "original response inside the signature's Object",
                signed.replacen(&assertion, &evil, 1).replacen(
                    "</ds:SignatureValue>",
                    &format!("</ds:SignatureValue><ds:Object>{body}</ds:Object>"),
                    1,
                ),
                Rejection::NotAResponse,
            ),
            (
                "evil response, the signed one detached inside it",
                signed
                    .replacen(&response_signature, "", 1)
                    .replacen(&assertion, &evil, 1)
                    .replacen("</samlp:Response>", &format!("{body}</samlp:Response>"), 1),
                Rejection::NotAResponse,
            ),
        ];
        for (name, xml, refused) in rows {
            assert_eq!(outcome(&xml, |_| {}).err(), Some(refused), "{name}");
        }
    }
}
