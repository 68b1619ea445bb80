//! Minting signed SAML Responses: the IdP side, for the built-in demo IdP and
//! the test suite's IdP. Never used to accept anything.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, SecondsFormat, TimeDelta, Utc};
use openssl::encrypt::Encrypter;
use openssl::rand::rand_bytes;
use openssl::rsa::Padding;
use openssl::symm::encrypt_aead;
use openssl::x509::X509;

use super::SpEndpoints;
use super::decrypt::Content;
use super::dsig;
use super::keys::{KeyError, KeyPair, SpKeys};
use super::validate::{Expected, Rejection, Trust, VerifiedAssertion, decode, validate};
use super::xml::escape;
use crate::config::BaseUrl;

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
    /// A second AudienceRestriction naming only this audience.
    pub other_audience_restriction: Option<String>,
    /// Whether the assertion carries its AuthnStatement.
    pub authn_statement: bool,
    /// The AuthnStatement's SessionNotOnOrAfter.
    pub session_not_on_or_after: Option<DateTime<Utc>>,
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
    /// AD FS and some older IdPs do.
    pub inclusive_c14n: bool,
    /// Encrypt the assertion for this certificate, as [`Self::encryption`] says.
    pub encrypt_for: Option<X509>,
    pub encryption: Encryption,
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
            other_audience_restriction: None,
            authn_statement: true,
            session_not_on_or_after: None,
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
            encryption: Encryption::default(),
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

/// The assertion element, with a signature template when it is to be signed.
fn assertion_xml(spec: &ResponseSpec, key: &KeyPair) -> String {
    let signature = if spec.sign_assertion {
        signature_template(&spec.assertion_id, key, spec, spec.inclusive_c14n)
    } else {
        String::new()
    };
    let in_response_to = spec
        .in_response_to
        .as_ref()
        .map(|id| format!(r#" InResponseTo="{}""#, escape(id)))
        .unwrap_or_default();
    let audience: String = [&spec.audience, &spec.other_audience_restriction]
        .into_iter()
        .flatten()
        .map(|a| format!("<saml:AudienceRestriction><saml:Audience>{}</saml:Audience></saml:AudienceRestriction>", escape(a)))
        .collect();
    let authn_statement = if spec.authn_statement {
        let session_end = spec
            .session_not_on_or_after
            .map(|t| format!(r#" SessionNotOnOrAfter="{}""#, time(t)))
            .unwrap_or_default();
        format!(
            r#"<saml:AuthnStatement AuthnInstant="{instant}" SessionIndex="{id}"{session_end}><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>"#,
            instant = time(spec.issue_instant),
            id = spec.assertion_id,
        )
    } else {
        String::new()
    };
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
        r#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{instant}"><saml:Issuer>{issuer}</saml:Issuer>{signature}<saml:Subject><saml:NameID Format="{format}">{name_id}</saml:NameID><saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="{not_after}" Recipient="{recipient}"{in_response_to}/></saml:SubjectConfirmation></saml:Subject><saml:Conditions NotBefore="{not_before}" NotOnOrAfter="{not_after}">{audience}</saml:Conditions>{authn_statement}{statement}</saml:Assertion>"#,
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

fn sign(xml: &str, id: &str, key: &KeyPair) -> Result<String, MintError> {
    dsig::sign(xml, id, &key.key).map_err(|e| MintError(e.to_string()))
}

/// How [`ResponseSpec::encrypt_for`] encrypts: the shapes IdPs offer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Encryption {
    /// AES key length in bytes: 16, 24 or 32.
    pub key_bytes: usize,
    /// GCM (XML Encryption 1.1), else CBC.
    pub gcm: bool,
    pub transport: KeyTransport,
    /// The EncryptedKey beside the EncryptedData, pointed at by a
    /// RetrievalMethod (as AD FS and Entra ID send it), else inside its KeyInfo.
    pub key_beside: bool,
}

/// Key transport of the content key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyTransport {
    /// `xmlenc#rsa-oaep-mgf1p`: SHA-1 digest and MGF1.
    OaepMgf1p,
    /// `xmlenc11#rsa-oaep` with SHA-256 as digest and in MGF1.
    OaepSha256,
    /// `xmlenc#rsa-1_5`, which we refuse.
    Rsa15,
}

impl Default for Encryption {
    fn default() -> Self {
        Self {
            key_bytes: 16,
            gcm: true,
            transport: KeyTransport::OaepMgf1p,
            key_beside: false,
        }
    }
}

/// An `EncryptedAssertion` holding `plaintext` for `recipient`. Public so
/// tests can encrypt what no honest IdP would (an attacker may encrypt
/// anything to our published certificate).
pub fn encrypt(plaintext: &[u8], recipient: &X509, how: Encryption) -> Result<String, MintError> {
    let fail = |e: openssl::error::ErrorStack| MintError(e.to_string());
    let mut key = vec![0u8; how.key_bytes];
    rand_bytes(&mut key).map_err(fail)?;
    let content = Content {
        key_bytes: how.key_bytes,
        gcm: how.gcm,
    };
    let value = if how.gcm {
        let mut iv = [0u8; 12];
        rand_bytes(&mut iv).map_err(fail)?;
        let mut tag = [0u8; 16];
        let ciphertext = encrypt_aead(content.cipher(), &key, Some(&iv), &[], plaintext, &mut tag)
            .map_err(fail)?;
        [&iv[..], &ciphertext, &tag].concat()
    } else {
        let mut iv = [0u8; 16];
        rand_bytes(&mut iv).map_err(fail)?;
        // PKCS#7 padding is one of the paddings XML Encryption 5.2.1 allows.
        let ciphertext =
            openssl::symm::encrypt(content.cipher(), &key, Some(&iv), plaintext).map_err(fail)?;
        [&iv[..], &ciphertext].concat()
    };
    let method = content.uri();

    let public = recipient.public_key().map_err(fail)?;
    let mut encrypter = Encrypter::new(&public).map_err(fail)?;
    let transport = match how.transport {
        KeyTransport::OaepMgf1p => {
            encrypter
                .set_rsa_padding(Padding::PKCS1_OAEP)
                .map_err(fail)?;
            r#"<xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p"><ds:DigestMethod Algorithm="http://www.w3.org/2000/09/xmldsig#sha1"/></xenc:EncryptionMethod>"#
        }
        KeyTransport::OaepSha256 => {
            encrypter
                .set_rsa_padding(Padding::PKCS1_OAEP)
                .map_err(fail)?;
            encrypter
                .set_rsa_oaep_md(openssl::hash::MessageDigest::sha256())
                .map_err(fail)?;
            encrypter
                .set_rsa_mgf1_md(openssl::hash::MessageDigest::sha256())
                .map_err(fail)?;
            r#"<xenc:EncryptionMethod Algorithm="http://www.w3.org/2009/xmlenc11#rsa-oaep"><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><xenc11:MGF xmlns:xenc11="http://www.w3.org/2009/xmlenc11#" Algorithm="http://www.w3.org/2009/xmlenc11#mgf1sha256"/></xenc:EncryptionMethod>"#
        }
        KeyTransport::Rsa15 => {
            encrypter.set_rsa_padding(Padding::PKCS1).map_err(fail)?;
            r#"<xenc:EncryptionMethod Algorithm="http://www.w3.org/2001/04/xmlenc#rsa-1_5"/>"#
        }
    };
    let mut wrapped = vec![0; encrypter.encrypt_len(&key).map_err(fail)?];
    let length = encrypter.encrypt(&key, &mut wrapped).map_err(fail)?;
    wrapped.truncate(length);

    let encrypted_key = format!(
        r#"<xenc:EncryptedKey xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Id="_k">{transport}<xenc:CipherData><xenc:CipherValue>{}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey>"#,
        STANDARD.encode(wrapped)
    );
    let (key_info, beside) = if how.key_beside {
        (
            r##"<ds:RetrievalMethod URI="#_k" Type="http://www.w3.org/2001/04/xmlenc#EncryptedKey"/>"##.to_owned(),
            encrypted_key,
        )
    } else {
        (encrypted_key, String::new())
    };
    Ok(format!(
        r#"<saml:EncryptedAssertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><xenc:EncryptedData xmlns:xenc="http://www.w3.org/2001/04/xmlenc#" Type="http://www.w3.org/2001/04/xmlenc#Element"><xenc:EncryptionMethod Algorithm="{method}"/><ds:KeyInfo>{key_info}</ds:KeyInfo><xenc:CipherData><xenc:CipherValue>{value}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData>{beside}</saml:EncryptedAssertion>"#,
        value = STANDARD.encode(value),
    ))
}

/// The response XML, signed as the spec says.
pub fn mint(spec: &ResponseSpec, key: &KeyPair) -> Result<String, MintError> {
    let mut assertion = assertion_xml(spec, key);
    // An encrypted assertion is signed on its own, as it will stand once
    // decrypted; a plain one is signed where it sits (inclusive C14N covers
    // the namespaces in scope there), before the Response around it.
    if let Some(recipient) = &spec.encrypt_for {
        if spec.sign_assertion {
            assertion = sign(&assertion, &spec.assertion_id, key)?;
        }
        assertion = encrypt(assertion.as_bytes(), recipient, spec.encryption)?;
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
    let mut response = response;
    if spec.sign_assertion && spec.encrypt_for.is_none() {
        response = sign(&response, &spec.assertion_id, key)?;
    }
    if spec.sign_response {
        // The response signature is computed last, over the signed assertion.
        response = sign(&response, &spec.response_id, key)?;
    }
    Ok(response)
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

/// One service provider and one IdP in memory, trusting each other: drives
/// [`validate`](super::validate::validate) without a server or database, for
/// the benchmark, the property tests of hostile input and the fuzz targets.
pub struct Harness {
    pub sp: SpEndpoints,
    pub sp_keys: SpKeys,
    pub idp: KeyPair,
    /// The IdP certificate, DER, as a connection stores it.
    pub certificates: Vec<Vec<u8>>,
    pub now: DateTime<Utc>,
}

impl Harness {
    pub const IDP: &str = "https://idp.example/";

    /// Trust between `idp` and an SP for the organization `acme` whose keys are `sp_keys`.
    pub fn new(idp: KeyPair, sp_keys: SpKeys, now: DateTime<Utc>) -> Self {
        let base_url = BaseUrl::parse("https://seatgate.example").expect("a valid base URL");
        let org = "acme".parse().expect("a valid slug");
        Self {
            sp: SpEndpoints::for_org(&base_url, &org),
            certificates: vec![idp.cert_der()],
            sp_keys,
            idp,
            now,
        }
    }

    /// [`Self::new`] with freshly generated keys for both sides.
    pub fn generate(now: DateTime<Utc>) -> Result<Self, KeyError> {
        let sp_keys = SpKeys {
            current: KeyPair::generate("Seatgate service provider")?,
            previous: None,
            next: None,
        };
        Ok(Self::new(KeyPair::generate("harness IdP")?, sp_keys, now))
    }

    /// A response this pair accepts: both levels signed, three attributes.
    pub fn spec(&self) -> ResponseSpec {
        let mut spec = ResponseSpec::new(Self::IDP, &self.sp, "ann@acme.example", self.now);
        spec.attributes = vec![
            ("email".into(), "ann@acme.example".into()),
            ("firstName".into(), "Ann".into()),
            ("lastName".into(), "Lee".into()),
        ];
        spec
    }

    pub fn mint(&self, spec: &ResponseSpec) -> String {
        mint(spec, &self.idp).expect("the harness IdP signs")
    }

    /// Decodes, screens and validates a posted (base64) `SAMLResponse`.
    pub fn validate(&self, encoded: &str) -> Result<VerifiedAssertion, Rejection> {
        let trust = Trust {
            idp_entity_id: Self::IDP,
            certificates: &self.certificates,
            require_signed_assertion: false,
            require_encrypted_assertion: false,
            allow_sha1: false,
            allow_unsolicited: true,
        };
        let expected = Expected {
            sp: &self.sp,
            keys: &self.sp_keys,
            now: self.now,
            clock_skew: TimeDelta::minutes(3),
        };
        validate(&decode(encoded)?.parse()?, &trust, &expected)
    }
}
