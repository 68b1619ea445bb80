//! Seatgate as an OpenID Connect provider for the applications behind it:
//! the authorization code flow (PKCE S256, required of public clients),
//! ID tokens signed RS256 or ES256, userinfo, discovery. Handlers in
//! `web::oidc` parse and render; the rules live here.
//!
//! Codes and access tokens are random [`SecretToken`]s kept only as hashes.
//! A code is used once: the exchange that marks it used wins, and a second
//! exchange of the same code revokes the access tokens the first one got
//! (RFC 6749, 4.1.2; OAuth 2.0 Security BCP, RFC 9700, 4.5).

pub mod claims;
pub mod discovery;
pub mod keys;
mod queries;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{NaiveDateTime, TimeDelta};
use openidconnect::core::{CoreGenderClaim, CoreJsonWebKey, CoreJweContentEncryptionAlgorithm};
use openidconnect::{
    AccessToken, Audience, AuthorizationCode, IdToken, IdTokenClaims, IssuerUrl, Nonce,
};
use serde_json::json;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::accounts::learners::{self, Learner};
use crate::applications::{self, Application, RedirectUri};
use crate::audit::{self, Action, Actor};
use crate::clock::Clock;
use crate::config::BaseUrl;
use crate::licensing::{self, Standing};
use crate::orgs::{self, Organization};
use crate::secret::SecretToken;
use crate::store::{self, DbConn};

use claims::{Released, SeatgateClaims};
use keys::OidcKeys;

/// How long a code waits to be exchanged (RFC 6749, 4.1.2: at most ten minutes).
const CODE_LIFETIME: TimeDelta = TimeDelta::minutes(2);
/// How long an access token opens `/oauth/userinfo`.
pub const ACCESS_TOKEN_LIFETIME: TimeDelta = TimeDelta::hours(1);
/// How long an ID token is valid.
const ID_TOKEN_LIFETIME: TimeDelta = TimeDelta::minutes(10);
/// Bounds on what an application may send us to store and echo.
const MAX_STATE: usize = 1024;
const MAX_NONCE: usize = 512;

/// The ID token type: the standard claims plus [`SeatgateClaims`].
pub type SeatgateIdToken = IdToken<
    SeatgateClaims,
    CoreGenderClaim,
    CoreJweContentEncryptionAlgorithm,
    openidconnect::core::CoreJwsSigningAlgorithm,
>;

/// The issuer: this Seatgate's base URL (OpenID Connect Discovery 1.0, 4.3:
/// the discovery document lives at issuer + `/.well-known/openid-configuration`).
pub fn issuer(base_url: &BaseUrl) -> String {
    base_url.as_str().to_owned()
}

/// An authorization request as the application sent it (query parameters).
#[derive(Clone, Debug, Default, serde::Deserialize, serde::Serialize)]
pub struct AuthorizeRequest {
    #[serde(default)]
    pub client_id: String,
    #[serde(default)]
    pub redirect_uri: String,
    #[serde(default)]
    pub response_type: String,
    #[serde(default)]
    pub scope: String,
    pub state: Option<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub code_challenge_method: Option<String>,
    pub prompt: Option<String>,
    /// The learner's email, when the application knows it: the start page
    /// is skipped (OpenID Connect Core, 3.1.2.1).
    pub login_hint: Option<String>,
}

/// A request whose client and redirect URI cannot be trusted: shown to the
/// person, never sent back to the URI (RFC 6749, 4.1.2.1).
#[derive(Debug, thiserror::Error)]
pub enum UntrustedRequest {
    #[error("no application has the client_id {0:?}")]
    UnknownClient(String),
    #[error("the redirect_uri is not one the application registered")]
    UnregisteredRedirect,
}

/// A refusal the application gets back at its redirect URI, as `error`
/// and `error_description` (RFC 6749, 4.1.2.1; OpenID Connect Core, 3.1.2.6).
#[derive(Debug, thiserror::Error)]
#[error("{code}: {description}")]
pub struct Refused {
    pub code: &'static str,
    pub description: String,
}

fn refused(code: &'static str, description: impl Into<String>) -> Refused {
    Refused {
        code,
        description: description.into(),
    }
}

/// A request checked against its application: the redirect URI is the
/// registered one, and errors may go back to it.
#[derive(Clone, Debug)]
pub struct ValidRequest {
    pub application: Application,
    pub redirect_uri: RedirectUri,
    pub state: Option<String>,
    scope: String,
    nonce: Option<String>,
    code_challenge: Option<String>,
    /// `prompt=none`: the application asks not to show any page.
    pub no_prompt: bool,
    pub login_hint: Option<String>,
}

/// What an authorization request turned out to be.
#[derive(Debug)]
pub enum Checked {
    Valid(ValidRequest),
    /// Refused, and the refusal may go back to the application.
    Refused(ValidRequest, Refused),
    /// Refused, and shown to the person only.
    Untrusted(UntrustedRequest),
}

/// Checks the client and redirect URI (errors shown to the person), then
/// the rest (errors sent to the application).
pub fn check_request(
    conn: &mut DbConn,
    request: AuthorizeRequest,
) -> Result<Checked, store::Error> {
    let Some(application) = applications::find(conn, &request.client_id)? else {
        let shown = request.client_id.chars().take(100).collect();
        return Ok(Checked::Untrusted(UntrustedRequest::UnknownClient(shown)));
    };
    let Some(redirect_uri) = application.redirect_uri(&request.redirect_uri).cloned() else {
        return Ok(Checked::Untrusted(UntrustedRequest::UnregisteredRedirect));
    };
    let mut valid = ValidRequest {
        application,
        redirect_uri,
        state: request.state.clone().filter(|s| !s.is_empty()),
        scope: String::new(),
        nonce: None,
        code_challenge: None,
        no_prompt: false,
        // Bounded like the start page's field: an address is at most 254 characters.
        login_hint: request
            .login_hint
            .clone()
            .filter(|hint| !hint.is_empty() && hint.len() <= 320),
    };
    Ok(match check_parameters(&request, &valid.application) {
        Ok((scope, nonce, code_challenge, no_prompt)) => {
            valid.scope = scope;
            valid.nonce = nonce;
            valid.code_challenge = code_challenge;
            valid.no_prompt = no_prompt;
            Checked::Valid(valid)
        }
        Err(refusal) => {
            // A state too long to echo is dropped, not echoed.
            if valid.state.as_ref().is_some_and(|s| s.len() > MAX_STATE) {
                valid.state = None;
            }
            Checked::Refused(valid, refusal)
        }
    })
}

type Parameters = (String, Option<String>, Option<String>, bool);

fn check_parameters(request: &AuthorizeRequest, app: &Application) -> Result<Parameters, Refused> {
    if request.response_type != "code" {
        return Err(refused(
            "unsupported_response_type",
            "only the authorization code flow (response_type=code) is supported",
        ));
    }
    if request.state.as_ref().is_some_and(|s| s.len() > MAX_STATE) {
        return Err(refused(
            "invalid_request",
            "state is longer than 1024 characters",
        ));
    }
    let scopes: Vec<&str> = request.scope.split(' ').filter(|s| !s.is_empty()).collect();
    if !scopes.contains(&"openid") {
        return Err(refused("invalid_scope", "the scope must include openid"));
    }
    // Only the scopes we know are granted (RFC 6749, 3.3).
    let scope = ["openid", "profile", "email"]
        .into_iter()
        .filter(|known| scopes.contains(known))
        .collect::<Vec<_>>()
        .join(" ");
    let nonce = request.nonce.clone().filter(|n| !n.is_empty());
    if nonce.as_ref().is_some_and(|n| n.len() > MAX_NONCE) {
        return Err(refused(
            "invalid_request",
            "nonce is longer than 512 characters",
        ));
    }
    let code_challenge = match (
        &request.code_challenge,
        request.code_challenge_method.as_deref(),
    ) {
        (None, _) if app.is_public() => {
            return Err(refused(
                "invalid_request",
                "PKCE is required: send code_challenge with code_challenge_method=S256",
            ));
        }
        (None, _) => None,
        (Some(challenge), Some("S256")) if is_s256_challenge(challenge) => Some(challenge.clone()),
        (Some(_), Some("S256")) => {
            return Err(refused(
                "invalid_request",
                "code_challenge must be 43 base64url characters (BASE64URL(SHA-256(verifier)))",
            ));
        }
        // RFC 7636, 4.3: "plain" is the default; we accept S256 only.
        (Some(_), _) => {
            return Err(refused(
                "invalid_request",
                "code_challenge_method must be S256",
            ));
        }
    };
    let no_prompt = match request.prompt.as_deref() {
        None | Some("") => false,
        Some("none") => true,
        Some(prompt)
            if prompt
                .split(' ')
                .all(|p| matches!(p, "login" | "consent" | "select_account")) =>
        {
            false
        }
        Some(_) => {
            return Err(refused(
                "invalid_request",
                "prompt must be none, login, consent or select_account",
            ));
        }
    };
    Ok((scope, nonce, code_challenge, no_prompt))
}

/// A SHA-256 in base64url without padding: 43 characters.
fn is_s256_challenge(text: &str) -> bool {
    text.len() == 43 && URL_SAFE_NO_PAD.decode(text).is_ok_and(|d| d.len() == 32)
}

/// Where the browser goes with a refusal: the redirect URI with `error`,
/// `error_description`, `state` and `iss` (RFC 9207) added to its query.
pub fn refusal_url(request: &ValidRequest, refusal: &Refused, issuer: &str) -> String {
    redirect_with(
        &request.redirect_uri,
        &[
            ("error", refusal.code),
            ("error_description", &refusal.description),
        ],
        request.state.as_deref(),
        issuer,
    )
}

fn redirect_with(
    uri: &RedirectUri,
    pairs: &[(&str, &str)],
    state: Option<&str>,
    issuer: &str,
) -> String {
    let mut url = url::Url::parse(uri.as_str()).expect("a registered redirect URI is a URL");
    {
        let mut query = url.query_pairs_mut();
        for (name, value) in pairs {
            query.append_pair(name, value);
        }
        if let Some(state) = state {
            query.append_pair("state", state);
        }
        query.append_pair("iss", issuer);
    }
    url.into()
}

/// Whether the learner may be handed to applications.
#[derive(Debug, PartialEq, Eq)]
pub enum Access {
    Granted,
    /// The organization requires a license, and the learner holds none.
    LicenseRequired,
}

/// The organization's rule on licenses for applications, for this learner.
pub fn access(
    conn: &mut DbConn,
    org: &Organization,
    learner: &Learner,
) -> Result<Access, store::Error> {
    if !org.apps_require_license {
        return Ok(Access::Granted);
    }
    Ok(match licensing::standing(conn, org, learner)? {
        Standing::Licensed(_) => Access::Granted,
        _ => Access::LicenseRequired,
    })
}

/// Issues a code for the signed-in `learner` and returns the URL that takes
/// it to the application.
pub fn issue_code(
    conn: &mut DbConn,
    clock: &Clock,
    issuer: &str,
    request: &ValidRequest,
    learner: &Learner,
) -> Result<String, store::Error> {
    let code = SecretToken::generate();
    let now = clock.now_naive();
    store::write_transaction(conn, |conn| {
        queries::insert_code(
            conn,
            &queries::NewCode {
                code_hash: code.hash().as_str(),
                application_id: request.application.id.to_string(),
                user_id: learner.id.to_string(),
                redirect_uri: request.redirect_uri.as_str(),
                scope: &request.scope,
                nonce: request.nonce.as_deref(),
                code_challenge: request.code_challenge.as_deref(),
                auth_time: now,
                expires_at: now + CODE_LIFETIME,
            },
        )?;
        audit::record(
            conn,
            clock,
            audit::NewEvent::new(
                Some(learner.org),
                &Actor::Learner(learner.id),
                Action::ApplicationSignIn,
            )
            .target(&request.application.id.to_string())
            .details(json!({ "application": request.application.name })),
        )
    })?;
    Ok(redirect_with(
        &request.redirect_uri,
        &[("code", code.expose())],
        request.state.as_deref(),
        issuer,
    ))
}

/// A token request (RFC 6749, 4.1.3), the client already identified.
#[derive(Debug, Default, serde::Deserialize)]
pub struct TokenRequest {
    #[serde(default)]
    pub grant_type: String,
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub redirect_uri: String,
    pub code_verifier: Option<String>,
    pub client_id: Option<String>,
    pub client_secret: Option<String>,
}

/// Why a token request failed (RFC 6749, 5.2).
#[derive(Debug, thiserror::Error)]
pub enum TokenError {
    #[error("invalid_request: {0}")]
    InvalidRequest(&'static str),
    /// Unknown client, wrong secret, or no authentication where one is needed.
    #[error("invalid_client")]
    InvalidClient,
    #[error("invalid_grant: {0}")]
    InvalidGrant(&'static str),
    #[error("unsupported_grant_type")]
    UnsupportedGrantType,
    #[error("the ID token could not be signed: {0}")]
    Signing(String),
    #[error(transparent)]
    Store(#[from] store::Error),
}

impl TokenError {
    /// The `error` code of RFC 6749, 5.2.
    pub fn code(&self) -> &'static str {
        match self {
            TokenError::InvalidRequest(_) => "invalid_request",
            TokenError::InvalidClient => "invalid_client",
            TokenError::InvalidGrant(_) => "invalid_grant",
            TokenError::UnsupportedGrantType => "unsupported_grant_type",
            TokenError::Signing(_) | TokenError::Store(_) => "server_error",
        }
    }
}

impl From<orgs::Error> for TokenError {
    fn from(e: orgs::Error) -> Self {
        match e {
            orgs::Error::Store(e) => TokenError::Store(e),
            _ => TokenError::InvalidGrant("the learner's organization is gone"),
        }
    }
}

/// How the client authenticated: HTTP Basic (`client_secret_basic`), the
/// form (`client_secret_post`), or not at all (a public client: its id in
/// the form).
pub enum ClientCredentials {
    Secret { client_id: String, secret: String },
    None { client_id: String },
}

/// The client the credentials prove, or [`TokenError::InvalidClient`].
pub fn authenticate(
    conn: &mut DbConn,
    credentials: &ClientCredentials,
) -> Result<Application, TokenError> {
    let (client_id, secret) = match credentials {
        ClientCredentials::Secret { client_id, secret } => (client_id, Some(secret)),
        ClientCredentials::None { client_id } => (client_id, None),
    };
    let application = applications::find(conn, client_id)?.ok_or(TokenError::InvalidClient)?;
    let authenticated = match secret {
        Some(secret) => application.secret_matches(secret),
        None => application.is_public(),
    };
    if authenticated {
        Ok(application)
    } else {
        Err(TokenError::InvalidClient)
    }
}

/// What the token endpoint answers.
#[derive(Debug, serde::Serialize)]
pub struct Tokens {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    pub id_token: String,
    pub scope: String,
}

enum Exchanged {
    /// The code was ours to use: what came of it (a refusal too is kept,
    /// so a code gets one try whatever the outcome).
    Redeemed(Result<Tokens, TokenError>),
    Replayed,
}

/// Exchanges a code for an access token and an ID token.
pub fn exchange(
    conn: &mut DbConn,
    clock: &Clock,
    keys: &OidcKeys,
    issuer: &str,
    application: &Application,
    request: &TokenRequest,
) -> Result<Tokens, TokenError> {
    if request.grant_type != "authorization_code" {
        return Err(TokenError::UnsupportedGrantType);
    }
    let Some(code) = SecretToken::from_presented(&request.code) else {
        return Err(TokenError::InvalidGrant("the code is unknown or expired"));
    };
    let hash = code.hash();
    let now = clock.now_naive();
    let exchanged = store::write_transaction(conn, |conn| {
        let stored = queries::code(conn, &hash)?
            .filter(|c| c.application == application.id)
            .ok_or(TokenError::InvalidGrant("the code is unknown or expired"))?;
        if stored.used || !queries::use_code(conn, &hash, now)? {
            let revoked = queries::revoke_tokens_of_code(conn, &hash)?;
            tracing::warn!(application = %application.id, revoked, "authorization code used twice; its tokens are revoked");
            return Ok(Exchanged::Replayed);
        }
        let redeemed = Redemption {
            clock,
            keys,
            issuer,
            application,
            hash: &hash,
            now,
        }
        .redeem(conn, &stored, request);
        match redeemed {
            // A database failure rolls the use of the code back with the rest.
            Err(TokenError::Store(e)) => Err(TokenError::Store(e)),
            other => Ok(Exchanged::Redeemed(other)),
        }
    })?;
    match exchanged {
        Exchanged::Redeemed(outcome) => outcome,
        // Committed first, so the revocation stands.
        Exchanged::Replayed => Err(TokenError::InvalidGrant("the code was used already")),
    }
}

/// What redeeming a code needs besides the code.
struct Redemption<'a> {
    clock: &'a Clock,
    keys: &'a OidcKeys,
    issuer: &'a str,
    application: &'a Application,
    hash: &'a crate::secret::TokenHash,
    now: NaiveDateTime,
}

impl Redemption<'_> {
    /// Checks the request against the code, then issues the tokens.
    fn redeem(
        &self,
        conn: &mut DbConn,
        stored: &queries::Code,
        request: &TokenRequest,
    ) -> Result<Tokens, TokenError> {
        if stored.expires_at <= self.now {
            return Err(TokenError::InvalidGrant("the code is unknown or expired"));
        }
        if stored.redirect_uri != request.redirect_uri {
            return Err(TokenError::InvalidGrant(
                "redirect_uri differs from the authorization request's",
            ));
        }
        check_pkce(
            stored.code_challenge.as_deref(),
            request.code_verifier.as_deref(),
        )?;
        let learner = learners::find_by_id(conn, stored.learner)?
            .filter(|l| l.active)
            .ok_or(TokenError::InvalidGrant(
                "the learner can no longer sign in",
            ))?;
        let org = orgs::find_by_id(conn, learner.org)?;
        let claims = claims::of_learner(conn, &org, &learner)?;
        let access = SecretToken::generate();
        queries::insert_access_token(
            conn,
            &queries::NewAccessToken {
                token_hash: access.hash().as_str(),
                code_hash: self.hash.as_str(),
                application_id: self.application.id.to_string(),
                user_id: learner.id.to_string(),
                scope: &stored.scope,
                expires_at: self.now + ACCESS_TOKEN_LIFETIME,
            },
        )?;
        let id_token = id_token(
            self.keys,
            self.clock,
            self.issuer,
            self.application,
            &claims,
            stored,
            &access,
        )?;
        Ok(Tokens {
            access_token: access.expose().to_owned(),
            token_type: "Bearer",
            expires_in: ACCESS_TOKEN_LIFETIME.num_seconds(),
            id_token,
            scope: stored.scope.clone(),
        })
    }
}

/// RFC 7636, 4.6: BASE64URL(SHA256(code_verifier)) == code_challenge.
fn check_pkce(challenge: Option<&str>, verifier: Option<&str>) -> Result<(), TokenError> {
    match (challenge, verifier) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(TokenError::InvalidGrant(
            "code_verifier sent, but the authorization request had no code_challenge",
        )),
        (Some(_), None) => Err(TokenError::InvalidGrant("code_verifier is required")),
        (Some(challenge), Some(verifier)) => {
            // RFC 7636, 4.1: 43 to 128 unreserved characters.
            let well_formed = (43..=128).contains(&verifier.len())
                && verifier
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b));
            let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
            if well_formed && bool::from(computed.as_bytes().ct_eq(challenge.as_bytes())) {
                Ok(())
            } else {
                Err(TokenError::InvalidGrant(
                    "code_verifier does not match the code_challenge",
                ))
            }
        }
    }
}

fn id_token(
    keys: &OidcKeys,
    clock: &Clock,
    issuer: &str,
    application: &Application,
    learner: &claims::LearnerClaims,
    code: &queries::Code,
    access: &SecretToken,
) -> Result<String, TokenError> {
    let now = clock.now();
    let released = Released::from_scope(&code.scope);
    let claims = IdTokenClaims::new(
        IssuerUrl::new(issuer.to_owned()).map_err(|e| TokenError::Signing(e.to_string()))?,
        vec![Audience::new(application.id.to_string())],
        now + ID_TOKEN_LIFETIME,
        now,
        learner.standard(released),
        learner.seatgate.clone(),
    )
    .set_auth_time(Some(code.auth_time.and_utc()))
    .set_nonce(code.nonce.clone().map(Nonce::new));
    let key = keys.current.for_alg(application.id_token_alg);
    let token = SeatgateIdToken::new(
        claims,
        key,
        key.alg(),
        Some(&AccessToken::new(access.expose().to_owned())),
        None::<&AuthorizationCode>,
    )
    .map_err(|e| TokenError::Signing(e.to_string()))?;
    Ok(token.to_string())
}

/// Why userinfo refused a bearer token.
#[derive(Debug, thiserror::Error)]
pub enum UserinfoError {
    #[error("the access token is unknown or expired")]
    InvalidToken,
    #[error(transparent)]
    Store(#[from] store::Error),
}

impl From<orgs::Error> for UserinfoError {
    fn from(e: orgs::Error) -> Self {
        match e {
            orgs::Error::Store(e) => UserinfoError::Store(e),
            _ => UserinfoError::InvalidToken,
        }
    }
}

/// The claims an access token releases, read now (so a license revoked
/// since sign-in shows as revoked).
pub fn userinfo(
    conn: &mut DbConn,
    clock: &Clock,
    bearer: &str,
) -> Result<serde_json::Value, UserinfoError> {
    let token = SecretToken::from_presented(bearer).ok_or(UserinfoError::InvalidToken)?;
    let (learner, scope) = queries::access_token(conn, &token.hash(), clock.now_naive())?
        .ok_or(UserinfoError::InvalidToken)?;
    let learner = learners::find_by_id(conn, learner)?
        .filter(|l| l.active)
        .ok_or(UserinfoError::InvalidToken)?;
    let org = orgs::find_by_id(conn, learner.org)?;
    let claims = claims::of_learner(conn, &org, &learner)?;
    Ok(claims.userinfo(Released::from_scope(&scope)))
}

/// Removes expired access tokens, and codes once the tokens they could
/// have issued have expired too (until then a replayed code still revokes).
pub fn purge_expired(conn: &mut DbConn, now: NaiveDateTime) -> Result<usize, store::Error> {
    queries::purge_expired(conn, now, now - ACCESS_TOKEN_LIFETIME)
}

/// The published keys, for `/oauth/jwks`.
pub fn jwks(keys: &OidcKeys) -> openidconnect::core::CoreJsonWebKeySet {
    keys.jwks()
}

/// Verifies an ID token we issued to `application` (an `id_token_hint` at
/// logout): signature against our published keys, issuer, audience. Its
/// expiry is not checked: RP-Initiated Logout 1.0, section 2, asks the
/// provider to accept expired hints.
pub fn verify_hint(keys: &OidcKeys, issuer: &str, application: &Application, hint: &str) -> bool {
    let Ok(token) = hint.parse::<SeatgateIdToken>() else {
        return false;
    };
    let Ok(issuer) = IssuerUrl::new(issuer.to_owned()) else {
        return false;
    };
    let verifier = openidconnect::IdTokenVerifier::<CoreJsonWebKey>::new_public_client(
        openidconnect::ClientId::new(application.id.to_string()),
        issuer,
        keys.jwks(),
    )
    .set_time_fn(|| chrono::DateTime::UNIX_EPOCH);
    token.claims(&verifier, |_: Option<&Nonce>| Ok(())).is_ok()
}

/// Where to send the browser after logout: `post_logout_redirect_uri` with
/// `state`, when an application registered that URI (and is the one
/// `client_id` or a valid `id_token_hint` names, when given); else nowhere.
pub fn post_logout_target(
    conn: &mut DbConn,
    keys: &OidcKeys,
    issuer: &str,
    request: &LogoutRequest,
) -> Result<Option<String>, store::Error> {
    let Some(uri) = request.post_logout_redirect_uri.as_deref() else {
        return Ok(None);
    };
    let chosen = applications::list(conn)?.into_iter().find(|app| {
        app.post_logout_redirect_uris
            .iter()
            .any(|u| u.as_str() == uri)
            && request
                .client_id
                .as_ref()
                .is_none_or(|id| *id == app.id.to_string())
            && request
                .id_token_hint
                .as_deref()
                .is_none_or(|hint| verify_hint(keys, issuer, app, hint))
    });
    Ok(chosen.map(|app| {
        let registered = app
            .post_logout_redirect_uris
            .into_iter()
            .find(|u| u.as_str() == uri)
            .expect("the application was chosen for this URI");
        let mut url = url::Url::parse(registered.as_str()).expect("a registered URI is a URL");
        if let Some(state) = request.state.as_deref().filter(|s| s.len() <= MAX_STATE) {
            url.query_pairs_mut().append_pair("state", state);
        }
        url.into()
    }))
}

/// An RP-initiated logout request (RP-Initiated Logout 1.0, section 2).
#[derive(Clone, Debug, Default, serde::Deserialize, serde::Serialize)]
pub struct LogoutRequest {
    pub id_token_hint: Option<String>,
    pub client_id: Option<String>,
    pub post_logout_redirect_uri: Option<String>,
    pub state: Option<String>,
}
