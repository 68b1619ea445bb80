//! SP-initiated sign-in: an AuthnRequest (signed unless the connection says
//! not) over the HTTP-Redirect binding, asking what the connection's options
//! ask for.

use std::io::Write;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, SecondsFormat, Utc};
use flate2::Compression;
use flate2::write::DeflateEncoder;
use url::Url;

use super::SpEndpoints;
use super::keys::KeyPair;
use super::xml::escape;

/// Where to send the learner's browser, and the request ID to expect back as InResponseTo.
#[derive(Debug)]
pub struct RedirectRequest {
    pub request_id: String,
    pub url: String,
}

#[derive(Debug, thiserror::Error)]
pub enum RequestError {
    #[error("the IdP's SSO URL {0:?} is not a URL")]
    BadSsoUrl(String),
    #[error("cannot sign the AuthnRequest: {0}")]
    Sign(String),
}

/// The NameID format an AuthnRequest may ask for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NameIdFormat {
    Unspecified,
    Email,
    Persistent,
    Transient,
}

impl NameIdFormat {
    pub const ALL: [Self; 4] = [
        Self::Unspecified,
        Self::Email,
        Self::Persistent,
        Self::Transient,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Unspecified => "unspecified",
            Self::Email => "email",
            Self::Persistent => "persistent",
            Self::Transient => "transient",
        }
    }

    pub fn uri(self) -> &'static str {
        match self {
            Self::Unspecified => "urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified",
            Self::Email => "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress",
            Self::Persistent => "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
            Self::Transient => "urn:oasis:names:tc:SAML:2.0:nameid-format:transient",
        }
    }
}

impl std::str::FromStr for NameIdFormat {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|f| f.as_str() == text)
            .ok_or_else(|| {
                format!(
                    "unknown NameID format {text:?} (unspecified, email, persistent, transient)"
                )
            })
    }
}

/// How the IdP's authentication context must compare with the one asked for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    Exact,
    Minimum,
    Maximum,
    Better,
}

impl Comparison {
    pub const ALL: [Self; 4] = [Self::Exact, Self::Minimum, Self::Maximum, Self::Better];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Exact => "exact",
            Self::Minimum => "minimum",
            Self::Maximum => "maximum",
            Self::Better => "better",
        }
    }
}

impl std::str::FromStr for Comparison {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        Self::ALL
            .into_iter()
            .find(|c| c.as_str() == text)
            .ok_or_else(|| format!("unknown comparison {text:?} (exact, minimum, maximum, better)"))
    }
}

/// `urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport`: the
/// context most IdPs report for a password over TLS.
pub const PASSWORD_PROTECTED_TRANSPORT: &str =
    "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport";

/// A requested authentication context: a class reference and how to compare.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AuthnContext {
    class_ref: String,
    pub comparison: Comparison,
}

impl AuthnContext {
    /// A class reference as given: a URI of at most 1,024 characters without
    /// spaces (Entra and AD FS refuse what they do not know, and say so).
    pub fn new(class_ref: &str, comparison: Comparison) -> Result<Self, String> {
        let class_ref = class_ref.trim();
        if class_ref.is_empty()
            || class_ref.len() > 1024
            || class_ref
                .chars()
                .any(|c| c.is_whitespace() || c.is_control())
            || !class_ref.contains(':')
        {
            return Err(format!(
                "{class_ref:?} is not an authentication context class reference (a URI such as {PASSWORD_PROTECTED_TRANSPORT})"
            ));
        }
        Ok(Self {
            class_ref: class_ref.to_owned(),
            comparison,
        })
    }

    pub fn class_ref(&self) -> &str {
        &self.class_ref
    }
}

/// What an AuthnRequest asks of the IdP besides signing in.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RequestOptions {
    pub binding: Binding,
    /// Sign in again even with a session at the IdP.
    pub force_authn: bool,
    pub name_id_format: Option<NameIdFormat>,
    pub authn_context: Option<AuthnContext>,
}

/// Which binding carries the AuthnRequest to the IdP.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Binding {
    /// A redirect with the request in the URL (signed over the query).
    #[default]
    Redirect,
    /// A self-posting form (the request signed inside, as XML).
    Post,
}

impl Binding {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Redirect => "redirect",
            Self::Post => "post",
        }
    }
}

impl std::str::FromStr for Binding {
    type Err = String;

    fn from_str(text: &str) -> Result<Self, String> {
        match text {
            "redirect" => Ok(Self::Redirect),
            "post" => Ok(Self::Post),
            other => Err(format!("unknown binding {other:?} (redirect, post)")),
        }
    }
}

/// A request for the HTTP-POST binding: a form to post to `url`.
#[derive(Debug)]
pub struct PostRequest {
    pub request_id: String,
    pub url: String,
    /// The `SAMLRequest` field: the XML, base64 (not deflated).
    pub saml_request: String,
}

/// Builds the request for the HTTP-POST binding (SAML bindings 2.0, 3.5):
/// with a `key`, an enveloped RSA-SHA256 signature after the Issuer.
pub fn authn_request_post(
    sp: &SpEndpoints,
    key: Option<&KeyPair>,
    idp_sso_url: &str,
    now: DateTime<Utc>,
    options: &RequestOptions,
) -> Result<PostRequest, RequestError> {
    Url::parse(idp_sso_url).map_err(|_| RequestError::BadSsoUrl(idp_sso_url.to_owned()))?;
    let request_id = new_id();
    let xml = match key {
        Some(key) => {
            let template = format!(
                r##"<ds:Signature xmlns:ds="http://www.w3.org/2000/09/xmldsig#"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/><ds:SignatureMethod Algorithm="http://www.w3.org/2001/04/xmldsig-more#rsa-sha256"/><ds:Reference URI="#{request_id}"><ds:Transforms><ds:Transform Algorithm="http://www.w3.org/2000/09/xmldsig#enveloped-signature"/><ds:Transform Algorithm="http://www.w3.org/2001/10/xml-exc-c14n#"/></ds:Transforms><ds:DigestMethod Algorithm="http://www.w3.org/2001/04/xmlenc#sha256"/><ds:DigestValue></ds:DigestValue></ds:Reference></ds:SignedInfo><ds:SignatureValue></ds:SignatureValue><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></ds:Signature>"##,
                cert = key.cert_base64(),
            );
            let unsigned = authn_request_xml(sp, &request_id, idp_sso_url, now, options, &template);
            super::dsig::sign(&unsigned, &request_id, &key.key)
                .map_err(|e| RequestError::Sign(e.to_string()))?
        }
        None => authn_request_xml(sp, &request_id, idp_sso_url, now, options, ""),
    };
    Ok(PostRequest {
        request_id,
        url: idp_sso_url.to_owned(),
        saml_request: STANDARD.encode(xml),
    })
}

/// A fresh request ID: IDs must start with a letter or underscore (xs:ID).
fn new_id() -> String {
    format!("_{}", uuid::Uuid::new_v4().simple())
}

/// The AuthnRequest XML; `signature` (a template, or empty) goes after the
/// Issuer, where the schema puts it.
fn authn_request_xml(
    sp: &SpEndpoints,
    request_id: &str,
    idp_sso_url: &str,
    now: DateTime<Utc>,
    options: &RequestOptions,
    signature: &str,
) -> String {
    let force_authn = if options.force_authn {
        r#" ForceAuthn="true""#
    } else {
        ""
    };
    let format = options
        .name_id_format
        .map(|f| format!(r#" Format="{}""#, f.uri()))
        .unwrap_or_default();
    // After NameIDPolicy, as the schema orders them.
    let context = options
        .authn_context
        .as_ref()
        .map(|c| {
            format!(
                r#"<samlp:RequestedAuthnContext Comparison="{}"><saml:AuthnContextClassRef>{}</saml:AuthnContextClassRef></samlp:RequestedAuthnContext>"#,
                c.comparison.as_str(),
                escape(&c.class_ref)
            )
        })
        .unwrap_or_default();
    format!(
        r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{instant}" Destination="{destination}" AssertionConsumerServiceURL="{acs}" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"{force_authn}><saml:Issuer>{issuer}</saml:Issuer>{signature}<samlp:NameIDPolicy{format} AllowCreate="true"/>{context}</samlp:AuthnRequest>"#,
        id = request_id,
        instant = now.to_rfc3339_opts(SecondsFormat::Secs, true),
        destination = escape(idp_sso_url),
        acs = escape(&sp.acs_url),
        issuer = escape(&sp.entity_id),
    )
}

/// Builds the redirect URL: `SAMLRequest` (deflated, base64) and, with a
/// `key`, `SigAlg` RSA-SHA256 and `Signature` over those (SAML bindings 2.0,
/// 3.4.4.1). No RelayState: the pending request keeps where to return to.
pub fn authn_request_redirect(
    sp: &SpEndpoints,
    key: Option<&KeyPair>,
    idp_sso_url: &str,
    now: DateTime<Utc>,
    options: &RequestOptions,
) -> Result<RedirectRequest, RequestError> {
    let request_id = new_id();
    let xml = authn_request_xml(sp, &request_id, idp_sso_url, now, options, "");
    let mut deflater = DeflateEncoder::new(Vec::new(), Compression::default());
    deflater
        .write_all(xml.as_bytes())
        .expect("deflating into memory cannot fail");
    let deflated = deflater
        .finish()
        .expect("deflating into memory cannot fail");

    let mut url =
        Url::parse(idp_sso_url).map_err(|_| RequestError::BadSsoUrl(idp_sso_url.to_owned()))?;
    url.query_pairs_mut()
        .append_pair("SAMLRequest", &STANDARD.encode(deflated));
    let url = match key {
        Some(key) => samael::crypto::sign_url(url, &key.key)
            .map_err(|e| RequestError::Sign(e.to_string()))?,
        None => url,
    };
    Ok(RedirectRequest {
        request_id,
        url: url.to_string(),
    })
}
