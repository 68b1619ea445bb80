//! "Sign In with LinkedIn using OpenID Connect": the authorization code flow
//! with `state` and `nonce` (and PKCE where switched on), and a verified ID
//! token (issuer, audience, signature from the provider's JWKS, expiry, and
//! the nonce when the token carries one).
//!
//! LinkedIn deviates from the standard, and this client follows LinkedIn:
//! its ID tokens carry no `nonce` even when one was sent
//! (python-social-auth/social-core#833, authlib/authlib#763,
//! nextauthjs/next-auth#8831), and a `code_verifier` at its token endpoint
//! fails the exchange with `invalid_client` unless LinkedIn enabled PKCE for
//! the app (UsefulSoftwareCo/executor#2087, authlib/authlib#719), hence the
//! `linkedin_pkce` setting, off by default. Why a token without a nonce is
//! still safe to accept: docs/security.md, "LinkedIn".
//!
//! The provider's discovery document and keys are fetched on first use and
//! kept for an hour. HTTP goes through awc with a timeout, a size limit and
//! no redirects.

use std::sync::Mutex;

use chrono::{NaiveDateTime, TimeDelta};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreErrorResponseType, CoreIdTokenClaims,
    CoreProviderMetadata,
};
use openidconnect::{
    AuthType, AuthorizationCode, ClientId, ClientSecret, CsrfToken, EndpointMaybeSet,
    EndpointNotSet, EndpointSet, IssuerUrl, Nonce, PkceCodeChallenge, PkceCodeVerifier,
    RedirectUrl, Scope, TokenResponse,
};

use subtle::ConstantTimeEq;

use super::Member;
use crate::clock::Clock;
use crate::config;
use crate::outbound::{describe, send};
use crate::secret::SecretToken;

/// How long the discovery document and keys are trusted before they are fetched again.
const METADATA_LIFETIME: TimeDelta = TimeDelta::hours(1);

/// Why connecting failed; each is shown to the learner with a retry.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("LinkedIn could not be reached: {0}")]
    Unreachable(String),
    #[error("LinkedIn's configuration could not be read: {0}")]
    Discovery(String),
    #[error("LinkedIn refused the sign-in code: {0}")]
    Exchange(String),
    /// The token endpoint refused this server as a client: wrong client ID or
    /// secret, or a PKCE verifier LinkedIn does not take for this app.
    #[error(
        "LinkedIn refused this server's client credentials ({0}): check linkedin_client_id and \
         linkedin_client_secret, and set linkedin_pkce off unless LinkedIn enabled PKCE for the app"
    )]
    ClientRefused(String),
    #[error("LinkedIn sent no ID token")]
    NoIdToken,
    #[error("the ID token's nonce does not match this connection attempt")]
    NonceMismatch,
    #[error("the ID token is not valid: {0}")]
    InvalidIdToken(String),
}

/// What to send the browser to LinkedIn with, and what to keep for the callback.
pub struct Authorization {
    pub url: String,
    pub state: SecretToken,
    /// Only with `linkedin_pkce`.
    pub pkce_verifier: Option<String>,
    pub nonce: String,
}

type Client = CoreClient<
    EndpointSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointNotSet,
    EndpointMaybeSet,
    EndpointMaybeSet,
>;

/// The LinkedIn OpenID Connect client of this server.
pub struct LinkedIn {
    config: config::LinkedIn,
    redirect: RedirectUrl,
    clock: Clock,
    metadata: Mutex<Option<(NaiveDateTime, CoreProviderMetadata)>>,
}

impl LinkedIn {
    /// The client for `config`, redirecting back to `redirect`
    /// (`{base_url}/profile/linkedin/callback`).
    pub fn new(config: config::LinkedIn, redirect: &str, clock: Clock) -> Result<Self, String> {
        Ok(Self {
            redirect: RedirectUrl::new(redirect.to_owned()).map_err(|e| e.to_string())?,
            config,
            clock,
            metadata: Mutex::new(None),
        })
    }

    /// The provider's metadata and keys, fetched when older than an hour.
    async fn provider(&self, refresh: bool) -> Result<CoreProviderMetadata, Error> {
        let now = self.clock.now_naive();
        if !refresh
            && let Some((fetched, metadata)) = self.metadata.lock().expect("not poisoned").as_ref()
            && now - *fetched < METADATA_LIFETIME
        {
            return Ok(metadata.clone());
        }
        let issuer = IssuerUrl::new(self.config.issuer.clone())
            .map_err(|e| Error::Discovery(e.to_string()))?;
        let metadata = CoreProviderMetadata::discover_async(issuer, &send)
            .await
            .map_err(|e| match e {
                openidconnect::DiscoveryError::Request(e) => Error::Unreachable(e.to_string()),
                other => Error::Discovery(describe(&other)),
            })?;
        *self.metadata.lock().expect("not poisoned") = Some((now, metadata.clone()));
        Ok(metadata)
    }

    fn client(&self, metadata: CoreProviderMetadata) -> Client {
        CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(self.config.client_id.clone()),
            Some(ClientSecret::new(
                self.config.client_secret.expose().to_owned(),
            )),
        )
        .set_redirect_uri(self.redirect.clone())
        // LinkedIn takes client credentials in the request body.
        .set_auth_type(AuthType::RequestBody)
    }

    /// Starts a connection: the LinkedIn URL to send the browser to, with a
    /// fresh `state` and `nonce`, and a PKCE challenge (S256) when PKCE is on.
    pub async fn authorization(&self) -> Result<Authorization, Error> {
        let client = self.client(self.provider(false).await?);
        let state = SecretToken::generate();
        let csrf = CsrfToken::new(state.expose().to_owned());
        let mut request = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                move || csrf,
                Nonce::new_random,
            )
            .add_scope(Scope::new("profile".into()))
            .add_scope(Scope::new("email".into()));
        let mut pkce_verifier = None;
        if self.config.pkce {
            let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
            request = request.set_pkce_challenge(challenge);
            pkce_verifier = Some(verifier.secret().clone());
        }
        let (url, _, nonce) = request.url();
        Ok(Authorization {
            url: url.to_string(),
            state,
            pkce_verifier,
            nonce: nonce.secret().clone(),
        })
    }

    /// Completes a connection: exchanges the code (with the PKCE verifier,
    /// when there is one) and verifies the ID token. Only the member's claims
    /// are kept; the tokens are dropped here.
    pub async fn member(
        &self,
        code: &str,
        pkce_verifier: Option<String>,
        nonce: &str,
    ) -> Result<Member, Error> {
        let client = self.client(self.provider(false).await?);
        let mut exchange = client
            .exchange_code(AuthorizationCode::new(code.to_owned()))
            .map_err(|e| Error::Discovery(e.to_string()))?;
        if let Some(verifier) = pkce_verifier {
            exchange = exchange.set_pkce_verifier(PkceCodeVerifier::new(verifier));
        }
        let response = exchange.request_async(&send).await.map_err(|e| match e {
            openidconnect::RequestTokenError::Request(e) => Error::Unreachable(e.to_string()),
            openidconnect::RequestTokenError::ServerResponse(response)
                if *response.error() == CoreErrorResponseType::InvalidClient =>
            {
                Error::ClientRefused(response.to_string())
            }
            other => Error::Exchange(describe(&other)),
        })?;
        let id_token = response.id_token().ok_or(Error::NoIdToken)?;
        let nonce = Nonce::new(nonce.to_owned());
        let claims = match self.verified(&client, id_token, &nonce) {
            // A key we do not know yet: the provider may have rotated its keys.
            Err(Error::InvalidIdToken(_)) => {
                let client = self.client(self.provider(true).await?);
                self.verified(&client, id_token, &nonce)?
            }
            other => other?,
        };
        Ok(Member {
            sub: claims.subject().to_string(),
            name: claims
                .name()
                .and_then(|n| n.get(None))
                .map(|n| n.to_string()),
            email: claims.email().map(|e| e.to_string()),
            picture: claims
                .picture()
                .and_then(|p| p.get(None))
                .map(|p| p.to_string()),
        })
    }

    fn verified(
        &self,
        client: &Client,
        id_token: &openidconnect::core::CoreIdToken,
        nonce: &Nonce,
    ) -> Result<CoreIdTokenClaims, Error> {
        let clock = self.clock.clone();
        let verifier = client.id_token_verifier().set_time_fn(move || clock.now());
        // A nonce in the token must be ours; LinkedIn's tokens carry none.
        let nonce_matches = |claimed: Option<&Nonce>| match claimed {
            None => Ok(()),
            Some(claimed) => {
                if bool::from(claimed.secret().as_bytes().ct_eq(nonce.secret().as_bytes())) {
                    Ok(())
                } else {
                    Err("nonce mismatch".to_owned())
                }
            }
        };
        id_token
            .claims(&verifier, nonce_matches)
            .cloned()
            .map_err(|e| match e {
                openidconnect::ClaimsVerificationError::InvalidNonce(_) => Error::NonceMismatch,
                other => Error::InvalidIdToken(other.to_string()),
            })
    }
}
