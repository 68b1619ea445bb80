//! The discovery document (OpenID Connect Discovery 1.0), built with
//! openidconnect's provider metadata type.

use openidconnect::core::{
    CoreAuthDisplay, CoreClaimName, CoreClaimType, CoreClientAuthMethod, CoreGrantType,
    CoreJsonWebKey, CoreJweContentEncryptionAlgorithm, CoreJweKeyManagementAlgorithm,
    CoreJwsSigningAlgorithm, CoreResponseMode, CoreResponseType, CoreSubjectIdentifierType,
};
use openidconnect::{
    AdditionalProviderMetadata, AuthUrl, IssuerUrl, JsonWebKeySetUrl, ProviderMetadata,
    ResponseTypes, Scope, TokenUrl, UserInfoUrl,
};
use serde::{Deserialize, Serialize};

/// What the core metadata type has no field for.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Extra {
    /// RP-Initiated Logout 1.0.
    end_session_endpoint: String,
    /// RFC 8414 (used by OpenID Connect clients too): S256 only.
    code_challenge_methods_supported: Vec<String>,
    /// RFC 9207: the `iss` parameter comes with every authorization response.
    authorization_response_iss_parameter_supported: bool,
}

impl AdditionalProviderMetadata for Extra {}

pub type Discovery = ProviderMetadata<
    Extra,
    CoreAuthDisplay,
    CoreClientAuthMethod,
    CoreClaimName,
    CoreClaimType,
    CoreGrantType,
    CoreJweContentEncryptionAlgorithm,
    CoreJweKeyManagementAlgorithm,
    CoreJsonWebKey,
    CoreResponseMode,
    CoreResponseType,
    CoreSubjectIdentifierType,
>;

/// The endpoints below `issuer` and what they support.
pub fn document(issuer: &str) -> Result<Discovery, url::ParseError> {
    let at = |path: &str| format!("{issuer}{path}");
    let claims = [
        "sub",
        "iss",
        "aud",
        "exp",
        "iat",
        "auth_time",
        "nonce",
        "email",
        "email_verified",
        "name",
        "given_name",
        "family_name",
        "org",
        "license",
        "license_status",
        "groups",
        "linkedin_bound",
    ];
    Ok(Discovery::new(
        IssuerUrl::new(issuer.to_owned())?,
        AuthUrl::new(at("/oauth/authorize"))?,
        JsonWebKeySetUrl::new(at("/oauth/jwks"))?,
        vec![ResponseTypes::new(vec![CoreResponseType::Code])],
        vec![CoreSubjectIdentifierType::Public],
        vec![
            CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        ],
        Extra {
            end_session_endpoint: at("/oauth/logout"),
            code_challenge_methods_supported: vec!["S256".to_owned()],
            authorization_response_iss_parameter_supported: true,
        },
    )
    .set_token_endpoint(Some(TokenUrl::new(at("/oauth/token"))?))
    .set_userinfo_endpoint(Some(UserInfoUrl::new(at("/oauth/userinfo"))?))
    .set_scopes_supported(Some(
        ["openid", "profile", "email"]
            .map(|s| Scope::new(s.to_owned()))
            .to_vec(),
    ))
    .set_grant_types_supported(Some(vec![CoreGrantType::AuthorizationCode]))
    .set_token_endpoint_auth_methods_supported(Some(vec![
        CoreClientAuthMethod::ClientSecretBasic,
        CoreClientAuthMethod::ClientSecretPost,
        CoreClientAuthMethod::None,
    ]))
    .set_claims_supported(Some(
        claims.map(|c| CoreClaimName::new(c.to_owned())).to_vec(),
    )))
}
