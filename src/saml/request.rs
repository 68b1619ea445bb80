//! SP-initiated sign-in: a signed AuthnRequest over the HTTP-Redirect binding.

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

/// Builds the redirect URL: `SAMLRequest` (deflated, base64), `SigAlg`
/// RSA-SHA256 and `Signature` over those (SAML bindings 2.0, 3.4.4.1). No
/// RelayState: the pending request keeps where to return to.
pub fn authn_request_redirect(
    sp: &SpEndpoints,
    key: &KeyPair,
    idp_sso_url: &str,
    now: DateTime<Utc>,
) -> Result<RedirectRequest, RequestError> {
    // IDs must start with a letter or underscore (xs:ID).
    let request_id = format!("_{}", uuid::Uuid::new_v4().simple());
    let xml = format!(
        r#"<samlp:AuthnRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="{id}" Version="2.0" IssueInstant="{instant}" Destination="{destination}" AssertionConsumerServiceURL="{acs}" ProtocolBinding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST"><saml:Issuer>{issuer}</saml:Issuer><samlp:NameIDPolicy AllowCreate="true"/></samlp:AuthnRequest>"#,
        id = request_id,
        instant = now.to_rfc3339_opts(SecondsFormat::Secs, true),
        destination = escape(idp_sso_url),
        acs = escape(&sp.acs_url),
        issuer = escape(&sp.entity_id),
    );
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
    let signed =
        samael::crypto::sign_url(url, &key.key).map_err(|e| RequestError::Sign(e.to_string()))?;
    Ok(RedirectRequest {
        request_id,
        url: signed.to_string(),
    })
}
