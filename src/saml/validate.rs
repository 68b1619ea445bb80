//! Validation of a SAML Response posted to the ACS.
//!
//! Layers, in order (docs/security.md has the full table):
//! 1. size, base64, UTF-8, no DTD, well-formed, exactly one Response and one
//!    (encrypted) Assertion in the whole document: every XML signature
//!    wrapping variant adds a second one, so they all stop here;
//! 2. every signature is verified against the connection's configured
//!    certificates only ([`dsig`] in Rust, xmlsec through samael for
//!    algorithms outside its profile), and the document is reduced to the
//!    signed element exactly as it was digested; nothing unsigned survives;
//! 3. our checks on that signed content: Destination, Issuer, Status,
//!    Audience (required), Recipient, time windows with our clock,
//!    InResponseTo consistency, unsolicited policy.
//!
//! The only way to obtain a [`VerifiedAssertion`] is [`validate`].

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, TimeDelta, Utc};
use samael::crypto::{
    AllowedSignatureAlgorithm, CertificateDer, Crypto, CryptoProvider, ReduceMode,
};
use samael::schema::{Assertion, Response};

use super::dsig::{self, DSIG_NS};
use super::keys::SpKeys;
use super::xml::{has_dtd, root_element};
use super::{ASSERTION_NS, PROTOCOL_NS, SpEndpoints};

/// Bound on the posted SAMLResponse, checked before decoding.
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;

const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
const BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";

const STRONG_ALGORITHMS: &[AllowedSignatureAlgorithm] = &[
    AllowedSignatureAlgorithm::RsaSha256,
    AllowedSignatureAlgorithm::RsaSha384,
    AllowedSignatureAlgorithm::RsaSha512,
    AllowedSignatureAlgorithm::EcdsaSha256,
    AllowedSignatureAlgorithm::EcdsaSha384,
    AllowedSignatureAlgorithm::EcdsaSha512,
];

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
    #[error("the response contains a DTD or entity declaration")]
    Dtd,
    #[error("the response is not well-formed XML: {0}")]
    NotXml(String),
    #[error("the message is not a single SAML Response")]
    NotAResponse,
    #[error("the response must carry exactly one assertion, it carries {0}")]
    AssertionCount(usize),
    #[error("the response is signed with SHA-1, which this connection does not accept")]
    Sha1Signature,
    /// With what exactly went wrong where our own verifier knows it (xmlsec does not say).
    #[error(
        "no valid signature by a certificate configured for this IdP{}",
        .0.as_ref().map(|why| format!(" ({why})")).unwrap_or_default()
    )]
    NoTrustedSignature(Option<dsig::Failure>),
    #[error("the assertion itself is not signed, and this connection requires it")]
    AssertionNotSigned,
    #[error("the encrypted assertion cannot be decrypted with our keys")]
    Decryption,
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
            Self::Dtd => "dtd",
            Self::NotXml(_) => "not_xml",
            Self::NotAResponse => "not_a_response",
            Self::AssertionCount(_) => "assertion_count",
            Self::Sha1Signature => "sha1_signature",
            Self::NoTrustedSignature(_) => "signature",
            Self::AssertionNotSigned => "assertion_not_signed",
            Self::Decryption => "decryption",
            Self::Destination { .. } => "destination",
            Self::Issuer { .. } => "issuer",
            Self::Status { .. } => "status",
            Self::NoNameId => "no_name_id",
            Self::AudienceMissing { .. } => "audience_missing",
            Self::Audience { .. } => "audience",
            Self::NotYetValid(_) => "not_yet_valid",
            Self::Expired(_) => "expired",
            Self::IssuedInFuture(_) => "issued_in_future",
            Self::NoBearerConfirmation => "no_bearer_confirmation",
            Self::Recipient { .. } => "recipient",
            Self::InResponseToMismatch => "in_response_to_mismatch",
            Self::UnsolicitedNotAllowed => "unsolicited",
        }
    }
}

/// The issuer a response claims, read before verification only to pick which
/// connection's certificates to verify with; never trusted beyond that. Runs
/// the cheap screens (size, base64, UTF-8, DTD) first, so garbage is refused
/// for what it is.
pub fn claimed_issuer(decoded: &Decoded) -> Result<Option<String>, Rejection> {
    let mut reader = quick_xml::reader::NsReader::from_str(&decoded.0);
    let mut in_issuer = false;
    loop {
        match reader
            .read_resolved_event()
            .map_err(|e| Rejection::NotXml(e.to_string()))?
        {
            (quick_xml::name::ResolveResult::Bound(ns), quick_xml::events::Event::Start(e))
                if ns.as_ref() == ASSERTION_NS.as_bytes()
                    && e.local_name().as_ref() == b"Issuer" =>
            {
                in_issuer = true
            }
            (_, quick_xml::events::Event::Text(text)) if in_issuer => {
                return Ok(text.decode().ok().map(|t| t.trim().to_owned()));
            }
            (_, quick_xml::events::Event::Eof) => return Ok(None),
            _ => {}
        }
    }
}

/// A posted `SAMLResponse`, bounded, decoded and free of DTDs; not yet trusted in any way.
pub struct Decoded(String);

/// Bounds, decodes and screens a base64 `SAMLResponse`.
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
    let xml = String::from_utf8(bytes).map_err(|_| Rejection::NotUtf8)?;
    if has_dtd(&xml) {
        return Err(Rejection::Dtd);
    }
    Ok(Decoded(xml))
}

/// Validates a decoded `SAMLResponse` as posted to our ACS.
pub fn validate(
    decoded: &Decoded,
    trust: &Trust,
    expected: &Expected,
) -> Result<VerifiedAssertion, Rejection> {
    let xml = &decoded.0;
    let doc = dsig::parse(xml).map_err(|e| Rejection::NotXml(e.to_string()))?;
    let count = |(namespace, name)| dsig::count(&doc, namespace, name);
    if count((PROTOCOL_NS, "Response")) != 1
        || !doc.root_element().has_tag_name((PROTOCOL_NS, "Response"))
    {
        return Err(Rejection::NotAResponse);
    }
    let assertions = count((ASSERTION_NS, "Assertion"));
    let encrypted = count((ASSERTION_NS, "EncryptedAssertion"));
    let outer_signatures = count((DSIG_NS, "Signature"));
    if assertions + encrypted != 1 {
        return Err(Rejection::AssertionCount(assertions + encrypted));
    }

    let (response, assertion, assertion_signed) = if encrypted == 1 && outer_signatures == 0 {
        // Nothing outside is signed: the signature is inside the ciphertext.
        // The Response shell is not trusted for anything; only the decrypted,
        // verified assertion is.
        let shell = xml
            .parse::<Response>()
            .map_err(|_| Rejection::NotAResponse)?;
        let encrypted = shell
            .encrypted_assertion
            .as_ref()
            .ok_or(Rejection::AssertionCount(0))?;
        let (assertion, signed) = decrypt(encrypted, trust, expected, false)?;
        (None, assertion, signed)
    } else {
        let SignedPart {
            xml: reduced,
            assertion_signed,
        } = verified_part(xml, &doc, trust)?;
        match root_element(&reduced)
            .as_ref()
            .map(|(ns, name)| (ns.as_str(), name.as_str()))
        {
            // The Response itself is signed: its Destination, Issuer and Status count.
            Some((PROTOCOL_NS, "Response")) => {
                let response = reduced
                    .parse::<Response>()
                    .map_err(|e| Rejection::NotXml(e.to_string()))?;
                check_response(&response, trust, expected)?;
                let (assertion, signed) = match (&response.assertion, &response.encrypted_assertion)
                {
                    (Some(assertion), None) => (assertion.clone(), assertion_signed),
                    (None, Some(encrypted)) => decrypt(encrypted, trust, expected, true)?,
                    _ => return Err(Rejection::AssertionCount(0)),
                };
                (Some(response), assertion, signed)
            }
            // Only the assertion is signed; the Response around it was dropped as unverified.
            Some((ASSERTION_NS, "Assertion")) => {
                let assertion = reduced
                    .parse::<Assertion>()
                    .map_err(|e| Rejection::NotXml(e.to_string()))?;
                (None, assertion, true)
            }
            _ => return Err(Rejection::NoTrustedSignature(None)),
        }
    };
    if trust.require_signed_assertion && !assertion_signed {
        return Err(Rejection::AssertionNotSigned);
    }
    check_assertion(response.as_ref(), assertion, trust, expected)
}

/// What a trusted signature covers.
struct SignedPart {
    /// The outermost signed element, exactly as it was digested.
    xml: String,
    /// Whether the assertion carries a verified signature of its own.
    assertion_signed: bool,
}

/// Verifies every signature in the document against the connection's
/// certificates only: in Rust where the signature lies within the profile of
/// [`dsig`], through xmlsec (samael) otherwise.
fn verified_part(
    xml: &str,
    doc: &roxmltree::Document,
    trust: &Trust,
) -> Result<SignedPart, Rejection> {
    let keys = dsig::public_keys(trust.certificates);
    match dsig::verify(doc, &keys, trust.allow_sha1) {
        Ok(dsig::Outcome::Verified(signed)) => Ok(SignedPart {
            xml: signed.canonical,
            assertion_signed: signed.assertion_signed,
        }),
        Ok(dsig::Outcome::OutOfProfile) => xmlsec_verified_part(xml, trust),
        Err(dsig::Failure::Sha1) => Err(Rejection::Sha1Signature),
        Err(failure) => Err(Rejection::NoTrustedSignature(Some(failure))),
    }
}

fn xmlsec_verified_part(xml: &str, trust: &Trust) -> Result<SignedPart, Rejection> {
    if !trust.allow_sha1 && uses_sha1(xml) {
        return Err(Rejection::Sha1Signature);
    }
    let certificates: Vec<CertificateDer> = trust
        .certificates
        .iter()
        .cloned()
        .map(CertificateDer::from)
        .collect();
    if certificates.is_empty() {
        return Err(Rejection::NoTrustedSignature(None));
    }
    let allowed = (!trust.allow_sha1).then_some(STRONG_ALGORITHMS);
    let reduced = Crypto::reduce_xml_to_signed_with_allowed_algorithms(
        xml,
        &certificates,
        ReduceMode::PreDigest,
        allowed,
    )
    .map_err(|_| Rejection::NoTrustedSignature(None))?;
    // Every signature in the document verified, so a signature in the raw
    // assertion that references the assertion is the IdP's.
    let assertion = xml
        .parse::<Response>()
        .ok()
        .and_then(|r| r.assertion)
        .or_else(|| xml.parse::<Assertion>().ok());
    Ok(SignedPart {
        xml: reduced,
        assertion_signed: assertion.is_some_and(|a| signs(a.signature.as_ref(), &a.id)),
    })
}

fn uses_sha1(xml: &str) -> bool {
    xml.contains("http://www.w3.org/2000/09/xmldsig#rsa-sha1")
        || xml.contains("http://www.w3.org/2000/09/xmldsig#sha1")
}

/// Whether a (verified) signature references the element with this ID.
fn signs(signature: Option<&samael::signature::Signature>, id: &str) -> bool {
    let own = format!("#{id}");
    signature.is_some_and(|s| {
        s.signed_info
            .reference
            .iter()
            .any(|r| r.uri.as_deref() == Some(own.as_str()))
    })
}

fn decrypt(
    encrypted: &samael::schema::EncryptedAssertion,
    trust: &Trust,
    expected: &Expected,
    covered_by_response_signature: bool,
) -> Result<(Assertion, bool), Rejection> {
    let (key_cipher, key_method) = encrypted
        .encrypted_key_info()
        .ok_or(Rejection::Decryption)?;
    let (value_cipher, value_method) = encrypted
        .encrypted_value_info()
        .ok_or(Rejection::Decryption)?;
    let plaintext = expected
        .keys
        .published()
        .find_map(|pair| {
            let key = Crypto::decrypt_assertion_key_info(key_cipher, key_method, &pair.key).ok()?;
            Crypto::decrypt_assertion_value_info(value_cipher, value_method, &key).ok()
        })
        .ok_or(Rejection::Decryption)?;
    let plaintext = strip_cbc_padding(plaintext, value_method)?;
    let xml = String::from_utf8(plaintext).map_err(|_| Rejection::Decryption)?;
    if has_dtd(&xml) {
        return Err(Rejection::Dtd);
    }
    let doc = dsig::parse(&xml).map_err(|e| Rejection::NotXml(e.to_string()))?;
    let count = dsig::count(&doc, ASSERTION_NS, "Assertion");
    if count != 1 {
        return Err(Rejection::AssertionCount(count));
    }
    // Inside a signed Response the ciphertext was covered by its signature;
    // otherwise the decrypted assertion must carry a trusted signature
    // itself. A signature it carries is verified in either case, so that
    // "signed" always means verified.
    let verified = if dsig::count(&doc, DSIG_NS, "Signature") == 0 && covered_by_response_signature
    {
        None
    } else {
        Some(verified_part(&xml, &doc, trust)?)
    };
    let (trusted, signed) = verified.map_or((xml, false), |part| (part.xml, part.assertion_signed));
    let assertion = trusted
        .parse::<Assertion>()
        .map_err(|_| Rejection::Decryption)?;
    Ok((assertion, signed))
}

/// XML Encryption 5.2: CBC plaintext ends in padding whose last byte is its
/// length; samael leaves it in place.
fn strip_cbc_padding(mut plaintext: Vec<u8>, method: &str) -> Result<Vec<u8>, Rejection> {
    if method.ends_with("-cbc") {
        let padding = usize::from(*plaintext.last().ok_or(Rejection::Decryption)?);
        if padding == 0 || padding > 16 || padding > plaintext.len() {
            return Err(Rejection::Decryption);
        }
        plaintext.truncate(plaintext.len() - padding);
    }
    Ok(plaintext)
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

    // SAML profiles 4.1.4.2: bearer assertions must be audience-restricted to us.
    let conditions = assertion.conditions.as_ref();
    let audiences: Vec<String> = conditions
        .and_then(|c| c.audience_restrictions.as_ref())
        .into_iter()
        .flatten()
        .flat_map(|r| r.audience.iter().cloned())
        .collect();
    if audiences.is_empty() {
        return Err(Rejection::AudienceMissing {
            expected: expected.sp.entity_id.clone(),
        });
    }
    if !audiences.iter().any(|a| a == &expected.sp.entity_id) {
        return Err(Rejection::Audience {
            found: audiences,
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
        attributes,
    })
}
