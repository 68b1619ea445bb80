//! Seatgate as an OpenID Connect provider: discovery, keys, authorize,
//! token, userinfo, logout. Browser-facing refusals are pages; the token and
//! userinfo endpoints answer JSON (RFC 6749, 5.2; RFC 6750, 3).

use actix_web::http::header::{self, LOCATION};
use actix_web::http::{Method, StatusCode};
use actix_web::middleware::DefaultHeaders;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::json;

use super::csrf::Protected;
use super::learner::{LearnerSession, learner_session, profile};
use super::pages::{encode, render_with};
use super::session::{MaybeSession, end};
use super::{AppState, Error};
use crate::binding::Gate;
use crate::oidc::{
    self, Access, AuthorizeRequest, Checked, ClientCredentials, LogoutRequest, TokenError,
    TokenRequest, UntrustedRequest, ValidRequest,
};
use crate::signin::LocalPath;

/// The token request form is small; anything bigger is not one.
const TOKEN_FORM_LIMIT: usize = 8 * 1024;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.service(
        web::resource("/.well-known/openid-configuration")
            .wrap(cors())
            .route(web::get().to(discovery))
            .route(web::method(Method::OPTIONS).to(preflight)),
    )
    .service(
        web::resource("/oauth/jwks")
            .wrap(cors())
            .route(web::get().to(jwks))
            .route(web::method(Method::OPTIONS).to(preflight)),
    )
    .route("/oauth/authorize", web::get().to(authorize))
    .service(
        web::resource("/oauth/token")
            .app_data(web::PayloadConfig::new(TOKEN_FORM_LIMIT))
            .wrap(cors())
            .route(web::post().to(token))
            .route(web::method(Method::OPTIONS).to(preflight)),
    )
    .service(
        web::resource("/oauth/userinfo")
            .wrap(cors())
            .route(web::get().to(userinfo))
            .route(web::post().to(userinfo))
            .route(web::method(Method::OPTIONS).to(preflight)),
    )
    .route("/oauth/logout", web::get().to(logout_page))
    .route("/oauth/logout", web::post().to(logout));
}

/// Single-page applications (public clients) call discovery, the keys, the
/// token endpoint and userinfo from the browser. None of them reads a
/// cookie, so any origin may: what they answer depends only on what the
/// request carries (a code with its verifier, a bearer token).
fn cors() -> DefaultHeaders {
    DefaultHeaders::new().add(("Access-Control-Allow-Origin", "*"))
}

/// The CORS preflight of those endpoints.
async fn preflight() -> HttpResponse {
    HttpResponse::NoContent()
        .insert_header(("Access-Control-Allow-Methods", "GET, POST"))
        .insert_header((
            "Access-Control-Allow-Headers",
            "Authorization, Content-Type",
        ))
        .insert_header(("Access-Control-Max-Age", "600"))
        .finish()
}

fn issuer(state: &AppState) -> String {
    oidc::issuer(&state.settings.base_url)
}

async fn discovery(state: web::Data<AppState>) -> Result<HttpResponse, Error> {
    let document = oidc::discovery::document(&issuer(&state))
        .map_err(|e| Error::BadRequest(format!("base_url makes no endpoint URLs: {e}")))?;
    Ok(HttpResponse::Ok().json(document))
}

async fn jwks(state: web::Data<AppState>) -> HttpResponse {
    HttpResponse::Ok()
        .content_type("application/jwk-set+json")
        .json(oidc::jwks(&state.oidc_keys))
}

#[derive(Template)]
#[template(path = "oidc/license_required.html")]
struct LicenseRequiredPage<'a> {
    csrf_token: &'a str,
    email: &'a str,
    flash: Option<String>,
    application: &'a str,
    org_name: &'a str,
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, location.to_owned()))
        .finish()
}

/// The authorization endpoint: a signed-in learner goes back to the
/// application with a code; anyone else signs in first and comes back here.
async fn authorize(
    state: web::Data<AppState>,
    request: HttpRequest,
    session: MaybeSession,
) -> Result<HttpResponse, Error> {
    let parsed: AuthorizeRequest =
        serde_urlencoded::from_str(request.query_string()).map_err(|e| {
            Error::BadRequest(format!(
                "The sign-in request from the application could not be read: {e}."
            ))
        })?;
    let checked = state
        .store
        .run(move |conn| oidc::check_request(conn, parsed))
        .await?;
    let valid = match checked {
        Checked::Valid(valid) => valid,
        Checked::Refused(valid, refusal) => {
            tracing::info!(application = %valid.application.id, error = refusal.code, reason = %refusal.description, "authorization request refused");
            return Ok(see_other(&oidc::refusal_url(
                &valid,
                &refusal,
                &issuer(&state),
            )));
        }
        Checked::Untrusted(untrusted) => {
            tracing::info!(reason = %untrusted, "authorization request from an unknown application or redirect URI");
            return Err(Error::BadRequest(match untrusted {
                UntrustedRequest::UnknownClient(_) => "The application that sent you here is not registered with Seatgate. Go back to the application and tell its administrator.".to_owned(),
                UntrustedRequest::UnregisteredRedirect => "The application that sent you here asked to return to an address it has not registered with Seatgate, so you were not sent there. Tell the application's administrator.".to_owned(),
            }));
        }
    };
    let who = match session.0 {
        Some(session) => learner_session(&state, session, false).await?,
        None => None,
    };
    let Some(who) = who else {
        if valid.no_prompt {
            return Ok(refuse(
                &state,
                &valid,
                "login_required",
                "the learner is not signed in",
            ));
        }
        // Back here after signing in: the start page finds their organization.
        let here = request
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default();
        let return_to: LocalPath = here.parse().map_err(|()| {
            Error::BadRequest("The sign-in request from the application is too long.".into())
        })?;
        let next = encode(return_to.as_str());
        return Ok(see_other(&match &valid.login_hint {
            Some(email) => format!("/sign-in?email={}&return_to={next}", encode(email)),
            None => format!("/?return_to={next}"),
        }));
    };
    if profile::gate(&state, &who).await? == Gate::MustConnect {
        if valid.no_prompt {
            return Ok(refuse(
                &state,
                &valid,
                "interaction_required",
                "the learner must connect a LinkedIn profile first",
            ));
        }
        let here: LocalPath = request
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_owned())
            .unwrap_or_default()
            .parse()
            .map_err(|()| {
                Error::BadRequest("The sign-in request from the application is too long.".into())
            })?;
        return Ok(see_other(&profile::after_sign_in(Gate::MustConnect, &here)));
    }
    hand_over(&state, valid, who).await
}

/// A refusal sent back to the application.
fn refuse(
    state: &AppState,
    valid: &ValidRequest,
    code: &'static str,
    description: &str,
) -> HttpResponse {
    let refusal = oidc::Refused {
        code,
        description: description.to_owned(),
    };
    see_other(&oidc::refusal_url(valid, &refusal, &issuer(state)))
}

/// Checks the organization's license rule, then sends the learner back to
/// the application with a code.
async fn hand_over(
    state: &AppState,
    valid: ValidRequest,
    who: LearnerSession,
) -> Result<HttpResponse, Error> {
    let (org, learner) = (who.org.clone(), who.learner.clone());
    let clock = state.clock.clone();
    let issuer = issuer(state);
    let request = valid.clone();
    let outcome = state
        .store
        .run(move |conn| {
            Ok::<_, Error>(match oidc::access(conn, &org, &learner)? {
                Access::Granted => Ok(oidc::issue_code(conn, &clock, &issuer, &request, &learner)?),
                Access::LicenseRequired => Err(()),
            })
        })
        .await?;
    match outcome {
        Ok(location) => Ok(see_other(&location)),
        Err(()) if valid.no_prompt => Ok(refuse(
            state,
            &valid,
            "access_denied",
            "the organization requires a license, and the learner holds none",
        )),
        Err(()) => {
            tracing::info!(application = %valid.application.id, learner = %who.learner.id, "kept from an application: no license");
            render_with(
                StatusCode::FORBIDDEN,
                &LicenseRequiredPage {
                    csrf_token: who.session.csrf.expose(),
                    email: who.learner.email.as_str(),
                    flash: None,
                    application: &valid.application.name,
                    org_name: &who.org.display_name,
                },
            )
        }
    }
}

/// The client's credentials: HTTP Basic, or the form, never both (RFC 6749,
/// 2.3.1). Basic's id and secret are form-urlencoded before base64.
fn credentials(
    request: &HttpRequest,
    form: &TokenRequest,
) -> Result<ClientCredentials, TokenError> {
    let basic = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "));
    match (basic, &form.client_id, &form.client_secret) {
        (Some(_), _, Some(_)) => Err(TokenError::InvalidRequest(
            "use one client authentication method, not two",
        )),
        (Some(encoded), _, None) => {
            let decoded = STANDARD
                .decode(encoded.trim())
                .ok()
                .and_then(|bytes| String::from_utf8(bytes).ok())
                .ok_or(TokenError::InvalidClient)?;
            let (id, secret) = decoded.split_once(':').ok_or(TokenError::InvalidClient)?;
            let unescape = |text: &str| {
                url::form_urlencoded::parse(format!("x={text}").as_bytes())
                    .next()
                    .map(|(_, v)| v.into_owned())
                    .unwrap_or_default()
            };
            Ok(ClientCredentials::Secret {
                client_id: unescape(id),
                secret: unescape(secret),
            })
        }
        (None, Some(client_id), Some(secret)) => Ok(ClientCredentials::Secret {
            client_id: client_id.clone(),
            secret: secret.clone(),
        }),
        (None, Some(client_id), None) => Ok(ClientCredentials::None {
            client_id: client_id.clone(),
        }),
        (None, None, _) => Err(TokenError::InvalidClient),
    }
}

/// The token endpoint: a code for an access token and an ID token.
async fn token(state: web::Data<AppState>, request: HttpRequest, body: web::Bytes) -> HttpResponse {
    let outcome = async {
        let form: TokenRequest = serde_urlencoded::from_bytes(&body).map_err(|_| {
            TokenError::InvalidRequest(
                "the body must be a form (application/x-www-form-urlencoded)",
            )
        })?;
        let credentials = credentials(&request, &form)?;
        let (clock, keys, issuer) = (state.clock.clone(), state.oidc_keys.clone(), issuer(&state));
        state
            .store
            .run(move |conn| {
                let application = oidc::authenticate(conn, &credentials)?;
                oidc::exchange(conn, &clock, &keys, &issuer, &application, &form)
            })
            .await
    }
    .await;
    match outcome {
        Ok(tokens) => HttpResponse::Ok()
            .insert_header(("Pragma", "no-cache"))
            .json(tokens),
        Err(error) => {
            tracing::info!(reason = %error, "token request refused");
            let status = match error {
                TokenError::InvalidClient => StatusCode::UNAUTHORIZED,
                TokenError::Signing(_) | TokenError::Store(_) => StatusCode::INTERNAL_SERVER_ERROR,
                _ => StatusCode::BAD_REQUEST,
            };
            let description = match &error {
                TokenError::InvalidRequest(why) | TokenError::InvalidGrant(why) => {
                    (*why).to_owned()
                }
                TokenError::InvalidClient => "client authentication failed".to_owned(),
                TokenError::UnsupportedGrantType => {
                    "only authorization_code is supported".to_owned()
                }
                TokenError::Signing(_) | TokenError::Store(_) => {
                    "the server could not answer; try again".to_owned()
                }
            };
            let mut response = HttpResponse::build(status);
            if status == StatusCode::UNAUTHORIZED {
                response.insert_header((header::WWW_AUTHENTICATE, "Basic realm=\"seatgate\""));
            }
            response.json(json!({ "error": error.code(), "error_description": description }))
        }
    }
}

/// The userinfo endpoint (OpenID Connect Core, 5.3), for a bearer token.
async fn userinfo(state: web::Data<AppState>, request: HttpRequest) -> HttpResponse {
    let bearer = request
        .headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(|t| t.trim().to_owned());
    let Some(bearer) = bearer else {
        return HttpResponse::Unauthorized()
            .insert_header((header::WWW_AUTHENTICATE, "Bearer realm=\"seatgate\""))
            .json(json!({ "error": "invalid_request", "error_description": "send the access token as Authorization: Bearer" }));
    };
    let clock = state.clock.clone();
    match state
        .store
        .run(move |conn| oidc::userinfo(conn, &clock, &bearer))
        .await
    {
        Ok(claims) => HttpResponse::Ok().json(claims),
        Err(oidc::UserinfoError::InvalidToken) => {
            tracing::info!("userinfo refused: unknown or expired access token");
            HttpResponse::Unauthorized()
                .insert_header((
                    header::WWW_AUTHENTICATE,
                    "Bearer realm=\"seatgate\", error=\"invalid_token\"",
                ))
                .json(json!({ "error": "invalid_token", "error_description": "the access token is unknown or expired" }))
        }
        Err(oidc::UserinfoError::Store(e)) => {
            tracing::error!(reason = %e, "userinfo failed");
            HttpResponse::InternalServerError().json(json!({ "error": "server_error" }))
        }
    }
}

#[derive(Template)]
#[template(path = "oidc/logout.html")]
struct LogoutPage<'a> {
    csrf_token: &'a str,
    request: &'a LogoutRequest,
    /// Whether the browser goes back to the application afterwards.
    returns: bool,
}

async fn target(state: &AppState, request: &LogoutRequest) -> Result<Option<String>, Error> {
    let (keys, issuer, request) = (state.oidc_keys.clone(), issuer(state), request.clone());
    Ok(state
        .store
        .run(move |conn| oidc::post_logout_target(conn, &keys, &issuer, &request))
        .await?)
}

/// RP-initiated logout: asks the person to confirm (a link alone must not
/// sign anyone out), then signs out and returns to the application.
async fn logout_page(
    state: web::Data<AppState>,
    request: HttpRequest,
    session: MaybeSession,
) -> Result<HttpResponse, Error> {
    let parsed: LogoutRequest = serde_urlencoded::from_str(request.query_string())
        .map_err(|e| Error::BadRequest(format!("The sign-out request could not be read: {e}.")))?;
    let returns = target(&state, &parsed).await?;
    if parsed.post_logout_redirect_uri.is_some() && returns.is_none() {
        tracing::info!("logout: post_logout_redirect_uri not registered for the application");
    }
    let Some(session) = session.0 else {
        return Ok(see_other(returns.as_deref().unwrap_or("/")));
    };
    render_with(
        StatusCode::OK,
        &LogoutPage {
            csrf_token: session.csrf.expose(),
            request: &parsed,
            returns: returns.is_some(),
        },
    )
}

#[derive(Deserialize)]
struct LogoutForm {
    #[serde(flatten)]
    request: LogoutRequest,
}

async fn logout(
    state: web::Data<AppState>,
    posted: Protected<LogoutForm>,
) -> Result<HttpResponse, Error> {
    let returns = target(&state, &posted.form.request).await?;
    let mut response = end(&state, posted.session, "/").await?;
    if let Some(location) = returns {
        response.headers_mut().insert(
            LOCATION,
            header::HeaderValue::from_str(&location).map_err(|_| {
                Error::BadRequest("The application's address cannot be used.".into())
            })?,
        );
    }
    Ok(response)
}
