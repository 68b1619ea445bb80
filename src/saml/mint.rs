//! Minting signed SAML Responses: the IdP side, for the built-in demo IdP and
//! the test suite's IdP. Never used to accept anything.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use openssl::encrypt::Encrypter;
use openssl::rand::rand_bytes;
use openssl::rsa::Padding;
use openssl::symm::{Cipher, encrypt_aead};
use openssl::x509::X509;
use samael::crypto::{Crypto, CryptoProvider};

use super::SpEndpoints;
use super::keys::KeyPair;
use super::xml::escape;

const SHA256_SIGNATURE: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
const SHA256_DIGEST: &str = "http://www.w3.org/2001/04/xmlenc#sha256";
const SHA1_SIGNATURE: &str = "http://www.w3.org/2000/09/xmldsig#rsa-sha1";
const SHA1_DIGEST: &str = "http://www.w3.org/2000/09/xmldsig#sha1";

/// Everything that goes into one response; start from [`ResponseSpec::new`] and adjust.
#[derive(Clone, Debug)]
pub struct ResponseSpec {
    pub response_id: String,
    pub assertion_id: String,
    pub issuer: String,
    /// The assertion's Issuer; the same as the response's unless a test says otherwise.
    pub assertion_issuer: String,
    pub destination: Option<String>,
    pub recipient: String,
    /// `None` leaves the AudienceRestriction out.
    pub audience: Option<String>,
    pub in_response_to: Option<String>,
    pub name_id: String,
    pub name_id_format: String,
    pub attributes: Vec<(String, String)>,
    pub issue_instant: DateTime<Utc>,
    pub not_before: DateTime<Utc>,
    pub not_on_or_after: DateTime<Utc>,
    pub status: String,
    pub sign_response: bool,
    pub sign_assertion: bool,
    pub sha1: bool,
    /// Canonicalise with inclusive C14N 1.0 instead of the exclusive form, as
    /// some older IdPs do (outside [`super::dsig`]'s profile: xmlsec verifies it).
    /// The assertion's own signature uses it only where it can be signed in
    /// place: Response unsigned, assertion not encrypted.
    pub inclusive_c14n: bool,
    /// Encrypt the assertion for this certificate (AES-128-GCM, RSA-OAEP).
    pub encrypt_for: Option<X509>,
}

impl ResponseSpec {
    /// A valid response to `sp` from `issuer` for `name_id`, signed on both
    /// levels, valid for five minutes from `now`.
    pub fn new(issuer: &str, sp: &SpEndpoints, name_id: &str, now: DateTime<Utc>) -> Self {
        Self {
            response_id: fresh_id(),
            assertion_id: fresh_id(),
            issuer: issuer.to_owned(),
            assertion_issuer: issuer.to_owned(),
            destination: Some(sp.acs_url.clone()),
            recipient: sp.acs_url.clone(),
            audience: Some(sp.entity_id.clone()),
            in_response_to: None,
            name_id: name_id.to_owned(),
            name_id_format: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress".to_owned(),
            attributes: Vec::new(),
            issue_instant: now,
            not_before: now - TimeDelta::seconds(30),
            not_on_or_after: now + TimeDelta::minutes(5),
            status: "urn:oasis:names:tc:SAML:2.0:status:Success".to_owned(),
            sign_response: true,
            sign_assertion: true,
            sha1: false,
            inclusive_c14n: false,
            encrypt_for: None,
        }
    }
}

fn fresh_id() -> String {
    format!("_{}", uuid::Uuid::new_v4().simple())
}

fn time(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

#[derive(Debug, thiserror::Error)]
#[error("cannot mint the response: {0}")]
pub struct MintError(String);

fn signature_template(
    reference: &str,
    key: &KeyPair,
    spec: &ResponseSpec,
    inclusive: bool,
) -> String {
    let (method, digest) = if spec.sha1 {
        (SHA1_SIGNATURE, SHA1_DIGEST)
    } else {
        (SHA256_SIGNATURE, SHA256_DIGEST)
    };
    let c14n = if inclusive {
        "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"
    } else {
        "http://www.w3.org/2001/10/xml-exc-c14n#"
    };
    format!(
        r##"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="{c14n}"/><ds:SignatureMethod Algorithm="{method}"/><ds:Reference URI="#{reference}"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="{c14n}"/></ds:Transforms><ds:DigestMethod Algorithm="{digest}"/><ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue></ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>"##,
        cert = key.cert_base64(),
    )
}

/// Inclusive C14N covers the namespaces in scope, so an assertion signed that
/// way is signed where it sits, inside the Response: only when the Response
/// itself is not signed (that signature comes first in document order) and
/// the assertion is not encrypted.
fn assertion_inclusive(spec: &ResponseSpec) -> bool {
    spec.inclusive_c14n && !spec.sign_response && spec.encrypt_for.is_none()
}

/// The assertion element, with a signature template when it is to be signed.
fn assertion_xml(spec: &ResponseSpec, key: &KeyPair) -> String {
    let signature = if spec.sign_assertion {
        signature_template(&spec.assertion_id, key, spec, assertion_inclusive(spec))
    } else {
        String::new()
    };
    let in_response_to = spec
        .in_response_to
        .as_ref()
        .map(|id| format!(r#" InResponseTo="{}""#, escape(id)))
        .unwrap_or_default();
    let audience = spec
        .audience
        .as_ref()
        .map(|a| format!("<saml:AudienceRestriction><saml:Audience>{}</saml:Audience></saml:AudienceRestriction>", escape(a)))
        .unwrap_or_default();
    let attributes: String = spec
        .attributes
        .iter()
        .map(|(name, value)| {
            format!(
                r#"<saml:Attribute Name="{}" NameFormat="urn:oasis:names:tc:SAML:2.0:attrname-format:basic"><saml:AttributeValue>{}</saml:AttributeValue></saml:Attribute>"#,
                escape(name),
                escape(value)
            )
        })
        .collect();
    let statement = if attributes.is_empty() {
        String::new()
    } else {
        format!("<saml:AttributeStatement>{attributes}</saml:AttributeStatement>")
    };
    format!(
        r#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{instant}"><saml:Issuer>{issuer}</saml:Issuer>{signature}<saml:Subject><saml:NameID Format="{format}">{name_id}</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="{not_after}" Recipient="{recipient}"{in_response_to}/></saml:SubjectConfirmation></saml:Subject><saml:Conditions NotBefore="{not_before}" NotOnOrAfter="{not_after}">{audience}</saml:Conditions><saml:AuthnStatement AuthnInstant="{instant}" SessionIndex="{id}"><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>{statement}</saml:Assertion>"#,
        id = spec.assertion_id,
        instant = time(spec.issue_instant),
        issuer = escape(&spec.assertion_issuer),
        format = escape(&spec.name_id_format),
        name_id = escape(&spec.name_id),
        not_after = time(spec.not_on_or_after),
        not_before = time(spec.not_before),
        recipient = escape(&spec.recipient),
    )
}

fn sign(xml: &str, key: &KeyPair) -> Result<String, MintError> {
    Crypto::sign_xml(xml, &key.key_der()).map_err(|e| MintError(e.to_string()))
}

/// Strips the XML declaration libxml adds, so a signed fragment can be embedded.
fn without_declaration(xml: &str) -> &str {
    match xml.trim_start().strip_prefix("<?xml") {
        Some(rest) => rest
            .split_once("?>")
            .map_or(xml, |(_, body)| body.trim_start()),
        None => xml,
    }
}

fn encrypt(assertion: &str, recipient: &X509) -> Result<String, MintError> {
    let fail = |e: openssl::error::ErrorStack| MintError(e.to_string());
    let mut key = [0u8; 16];
    let mut iv = [0u8; 12];
    rand_bytes(&mut key).map_err(fail)?;
    rand_bytes(&mut iv).map_err(fail)?;
    let mut tag = [0u8; 16];
    let ciphertext = encrypt_aead(
        Cipher::aes_128_gcm(),
        &key,
        Some(&iv),
        &[],
        assertion.as_bytes(),
        &mut tag,
    )
    .map_err(fail)?;
    let value = [&iv[..], &ciphertext, &tag].concat();

    let public = recipient.public_key().map_err(fail)?;
    let mut encrypter = Encrypter::new(&public).map_err(fail)?;
    encrypter
        .set_rsa_padding(Padding::PKCS1_OAEP)
        .map_err(fail)?;
    let mut wrapped = vec![0; encrypter.encrypt_len(&key).map_err(fail)?];
    let length = encrypter.encrypt(&key, &mut wrapped).map_err(fail)?;
    wrapped.truncate(length);

    Ok(format!(
        r#"<saml:EncryptedAssertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion"><xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Type="http://www.w3.org/2001/04/xmlenc#Element"><xenc:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#aes128-gcm"/><ds:KeyInfo xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><xenc:EncryptedKey><xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"/><xenc:CipherData><xenc:CipherValue>{key}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo><xenc:CipherData><xenc:CipherValue>{value}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData></saml:EncryptedAssertion>"#,
        key = STANDARD.encode(wrapped),
        value = STANDARD.encode(value),
    ))
}

/// The response XML, signed as the spec says.
pub fn mint(spec: &ResponseSpec, key: &KeyPair) -> Result<String, MintError> {
    let mut assertion = assertion_xml(spec, key);
    let sign_in_place = spec.sign_assertion && assertion_inclusive(spec);
    if spec.sign_assertion && !sign_in_place {
        assertion = without_declaration(&sign(&assertion, key)?).to_owned();
    }
    if let Some(recipient) = &spec.encrypt_for {
        assertion = encrypt(&assertion, recipient)?;
    }
    let destination = spec
        .destination
        .as_ref()
        .map(|d| format!(r#" Destination="{}""#, escape(d)))
        .unwrap_or_default();
    let in_response_to = spec
        .in_response_to
        .as_ref()
        .map(|id| format!(r#" InResponseTo="{}""#, escape(id)))
        .unwrap_or_default();
    let signature = if spec.sign_response {
        signature_template(&spec.response_id, key, spec, spec.inclusive_c14n)
    } else {
        String::new()
    };
    let response = format!(
        r#"<samlp:Response xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{instant}"{destination}{in_response_to}><saml:Issuer>{issuer}</saml:Issuer>{signature}<samlp:Status><samlp:StatusCode Value="{status}"/></samlp:Status>{assertion}</samlp:Response>"#,
        id = spec.response_id,
        instant = time(spec.issue_instant),
        issuer = escape(&spec.issuer),
        status = escape(&spec.status),
    );
    if spec.sign_response || sign_in_place {
        // The response signature is computed last, over the signed assertion.
        sign(&response, key)
    } else {
        Ok(response)
    }
}

/// Base64, as the HTTP-POST binding carries it.
pub fn encode(xml: &str) -> String {
    STANDARD.encode(xml)
}

/// IdP metadata for a minting key: what an IdP admin would upload.
pub fn idp_metadata(entity_id: &str, sso_url: &str, key: &KeyPair) -> String {
    format!(
        r#"<?xml version="1.0" encoding="UTF-8"?>
<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="{entity_id}"><md:IDPSSODescriptor WantAuthnRequestsSigned="true" protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:NameIDFormat>urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress</md:NameIDFormat><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="{sso_url}"/></md:IDPSSODescriptor></md:EntityDescriptor>
"#,
        entity_id = escape(entity_id),
        sso_url = escape(sso_url),
        cert = key.cert_base64(),
    )
}
