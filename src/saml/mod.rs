//! SAML 2.0 service provider logic: metadata, AuthnRequests, response validation.
//!
//! Pure: no HTTP, no database, no file or network access. Everything hostile
//! (responses, decrypted assertions, metadata) is read only through
//! [`xml::parse`], which screens it and bounds the parse.

pub mod attributes;
pub mod c14n;
pub mod decrypt;
pub mod dsig;
pub mod inspect;
pub mod keys;
pub mod metadata;
pub mod mint;
pub mod request;
pub mod validate;
pub mod xml;

use crate::config::BaseUrl;
use crate::ids::OrgSlug;

pub const PROTOCOL_NS: &str = "urn:oasis:names:tc:SAML:2.0:protocol";
pub const ASSERTION_NS: &str = "urn:oasis:names:tc:SAML:2.0:assertion";

/// Our side of the trust, per organization: the URLs an IdP admin pastes into their IdP.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SpEndpoints {
    /// `{base_url}/sso/{org}`: our entity ID, the Audience we require.
    pub entity_id: String,
    /// `{base_url}/sso/{org}/acs`: where responses are posted; Destination and Recipient must equal it.
    pub acs_url: String,
    /// `{base_url}/sso/{org}/metadata`.
    pub metadata_url: String,
}

impl SpEndpoints {
    pub fn for_org(base_url: &BaseUrl, org: &OrgSlug) -> Self {
        let entity_id = base_url.join(&format!("/sso/{org}"));
        Self {
            acs_url: format!("{entity_id}/acs"),
            metadata_url: format!("{entity_id}/metadata"),
            entity_id,
        }
    }
}
