//! The demo application (`seatgate demo` only): a tiny OpenID Connect
//! relying party at `/demo-app` that signs in through this Seatgate's
//! provider, as any application behind it would (openidconnect's client:
//! discovery, code flow with PKCE, state and nonce, the ID token verified
//! against `/oauth/jwks`), and shows the claims it received. It talks to
//! the provider over HTTP like a separate application, never through
//! Seatgate's internals.

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use openidconnect::OAuth2TokenResponse as _;
use openidconnect::core::{CoreAuthenticationFlow, CoreClient, CoreProviderMetadata};
use openidconnect::{
    AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce, PkceCodeChallenge,
    PkceCodeVerifier, RedirectUrl, Scope, TokenResponse as _,
};
use serde::Deserialize;

use super::pages::render;
use super::{AppState, Error};
use crate::demo_idp::{DEMO_APP_CALLBACK as CALLBACK, DEMO_APP_PATH as PATH, DemoApp};
use crate::oidc::SeatgateIdToken;
use crate::outbound::{describe, send};

const COOKIE: &str = "seatgate-demo-app";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(PATH, web::get().to(home))
        .route("/demo-app/login", web::get().to(login))
        .route(CALLBACK, web::get().to(callback));
}

fn demo_app(state: &AppState) -> Result<&DemoApp, Error> {
    state.demo_app.as_deref().ok_or(Error::NotFound)
}

#[derive(Template)]
#[template(path = "demo_app/page.html")]
struct Page {
    /// The claims, pretty JSON: the ID token's, then userinfo's.
    claims: Option<(String, String)>,
    problem: Option<String>,
}

async fn home(state: web::Data<AppState>) -> Result<HttpResponse, Error> {
    demo_app(&state)?;
    render(&Page {
        claims: None,
        problem: None,
    })
}

/// openidconnect's client once discovery has set its endpoints.
type Client = CoreClient<
    openidconnect::EndpointSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointNotSet,
    openidconnect::EndpointMaybeSet,
    openidconnect::EndpointMaybeSet,
>;

/// The client, from the provider's discovery document (fetched over HTTP,
/// as a separate application would).
async fn client(state: &AppState) -> Result<Client, String> {
    let app = demo_app(state).map_err(|_| "no demo application".to_owned())?;
    let issuer =
        IssuerUrl::new(crate::oidc::issuer(&state.settings.base_url)).map_err(|e| e.to_string())?;
    let metadata = CoreProviderMetadata::discover_async(issuer, &send)
        .await
        .map_err(|e| describe(&e))?;
    let redirect =
        RedirectUrl::new(state.settings.base_url.join(CALLBACK)).map_err(|e| e.to_string())?;
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new(app.client_id.clone()),
        Some(ClientSecret::new(app.secret.expose().to_owned())),
    )
    .set_redirect_uri(redirect);
    Ok(client)
}

/// "Sign in with Seatgate": to the provider, with state, nonce and PKCE
/// kept in a short cookie of the demo application's own.
async fn login(state: web::Data<AppState>) -> Result<HttpResponse, Error> {
    demo_app(&state)?;
    let client = client(&state).await.map_err(|e| {
        Error::BadRequest(format!("The demo application cannot reach Seatgate: {e}"))
    })?;
    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (url, csrf, nonce) = client
        .authorize_url(
            CoreAuthenticationFlow::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    let kept = format!("{} {} {}", csrf.secret(), nonce.secret(), verifier.secret());
    let cookie = Cookie::build(COOKIE, kept)
        .path("/demo-app/")
        .http_only(true)
        .secure(state.settings.base_url.is_https())
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::minutes(10))
        .finish();
    Ok(HttpResponse::SeeOther()
        .cookie(cookie)
        .insert_header((LOCATION, url.to_string()))
        .finish())
}

#[derive(Deserialize)]
struct Answer {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

/// The provider's answer: the code exchanged, the ID token verified, the
/// claims shown.
async fn callback(
    state: web::Data<AppState>,
    request: HttpRequest,
    answer: web::Query<Answer>,
) -> Result<HttpResponse, Error> {
    demo_app(&state)?;
    let answer = answer.into_inner();
    let shown = match received(&state, &request, answer).await {
        Ok(claims) => Page {
            claims: Some(claims),
            problem: None,
        },
        Err(problem) => {
            tracing::info!(reason = %problem, "demo application: sign-in failed");
            Page {
                claims: None,
                problem: Some(problem),
            }
        }
    };
    let mut removal = Cookie::build(COOKIE, "").path("/demo-app/").finish();
    removal.make_removal();
    let mut response = render(&shown)?;
    response
        .add_cookie(&removal)
        .map_err(|e| Error::BadRequest(e.to_string()))?;
    Ok(response)
}

async fn received(
    state: &AppState,
    request: &HttpRequest,
    answer: Answer,
) -> Result<(String, String), String> {
    if let Some(error) = answer.error {
        return Err(format!(
            "Seatgate answered {error}: {}",
            answer.error_description.unwrap_or_default()
        ));
    }
    let kept = request
        .cookie(COOKIE)
        .ok_or("the sign-in started in another browser, or took too long")?;
    let mut parts = kept.value().split(' ');
    let (Some(csrf), Some(nonce), Some(verifier)) = (parts.next(), parts.next(), parts.next())
    else {
        return Err("the sign-in cookie is damaged".into());
    };
    if answer.state.as_deref() != Some(csrf) {
        return Err("the answer's state is not this browser's".into());
    }
    let code = answer.code.ok_or("the answer carries no code")?;
    let client = client(state).await?;
    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .map_err(|e| e.to_string())?
        .set_pkce_verifier(PkceCodeVerifier::new(verifier.to_owned()))
        .request_async(&send)
        .await
        .map_err(|e| describe(&e))?;
    let id_token = tokens.id_token().ok_or("no ID token")?;
    let clock = state.clock.clone();
    let verifier = client.id_token_verifier().set_time_fn(move || clock.now());
    // Verified as the core type, then read again with Seatgate's claims to show them all.
    id_token
        .claims(&verifier, &Nonce::new(nonce.to_owned()))
        .map_err(|e| describe(&e))?;
    let full: SeatgateIdToken = id_token
        .to_string()
        .parse()
        .map_err(|e: serde_json::Error| e.to_string())?;
    let claims = full
        .claims(&verifier, &Nonce::new(nonce.to_owned()))
        .map_err(|e| describe(&e))?;
    let userinfo = awc::Client::builder()
        .timeout(std::time::Duration::from_secs(10))
        .finish()
        .get(state.settings.base_url.join("/oauth/userinfo"))
        .bearer_auth(tokens.access_token().secret())
        .send()
        .await
        .map_err(|e| e.to_string())?
        .json::<serde_json::Value>()
        .await
        .map_err(|e| e.to_string())?;
    let pretty =
        |value: serde_json::Value| serde_json::to_string_pretty(&value).unwrap_or_default();
    Ok((
        pretty(serde_json::to_value(claims).map_err(|e| e.to_string())?),
        pretty(userinfo),
    ))
}
