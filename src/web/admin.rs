//! Administrator sign-in: password form, one-time links, the console landing page.

use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::console::console_user;
use super::csrf::{NoFields, Protected};
use super::pages::{render, render_with, sentence};
use super::session::{MaybeSession, cookie_for, end, with_cookie};
use super::{AppState, Error};
use crate::accounts::admins::{self, SignInError};
use crate::audit::{self, Action, Actor};
use crate::secret::{MIN_PASSWORD_CHARS, Password, SecretToken};
use crate::sessions::{self, Principal, Started};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/login", web::get().to(login_form))
        .route("/admin/login", web::post().to(login))
        .route("/admin/logout", web::post().to(logout))
        .route("/admin/link/{token}", web::get().to(link_form))
        .route("/admin/link/{token}", web::post().to(redeem_link));
}

#[derive(Template)]
#[template(path = "admin/login.html")]
struct LoginPage<'a> {
    csrf_token: &'a str,
    email: &'a str,
    problem: Option<&'a str>,
}

#[derive(Template)]
#[template(path = "admin/link.html")]
struct LinkPage<'a> {
    csrf_token: &'a str,
    email: &'a str,
    action: &'a str,
    min_chars: usize,
    problem: Option<String>,
}

/// A 303 to `location` that installs the new session's cookie.
fn signed_in(state: &AppState, started: &Started, location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .cookie(cookie_for(&state.settings, started))
        .insert_header((LOCATION, location.to_owned()))
        .finish()
}

async fn login_form(
    state: web::Data<AppState>,
    session: MaybeSession,
) -> Result<HttpResponse, Error> {
    if let Some(session) = &session.0
        && console_user(&state, session.clone()).await.is_ok()
    {
        return Ok(HttpResponse::SeeOther()
            .insert_header((LOCATION, "/admin"))
            .finish());
    }
    let (session, cookie) = session.or_start_anonymous(&state).await?;
    let page = render(&LoginPage {
        csrf_token: session.csrf.expose(),
        email: "",
        problem: None,
    })?;
    with_cookie(page, cookie)
}

#[derive(Deserialize)]
struct LoginForm {
    email: String,
    password: String,
}

async fn login(
    state: web::Data<AppState>,
    req: HttpRequest,
    posted: Protected<LoginForm>,
) -> Result<HttpResponse, Error> {
    let Protected { session, form } = posted;
    // Per address (read through trusted proxies), before the password hash;
    // the per-email limit holds regardless.
    state
        .limits
        .by_address(&state.limits.admin_login, &req)
        .map_err(Error::RateLimited)?;
    let client = super::rate_limit::client_address(&req, &state.settings.trusted_proxies)
        .map(|a| a.to_string())
        .unwrap_or_default();
    let clock = state.clock.clone();
    let email = form.email.clone();
    let password = Password::new(form.password);
    let previous = session.clone();
    let outcome = state
        .store
        .run(move |conn| {
            let admin = admins::sign_in(conn, &clock, &email, &password, &client)?;
            Ok::<_, SignInError>(sessions::rotate(
                conn,
                &clock,
                Some(&previous),
                Principal::Admin(admin.id),
            )?)
        })
        .await;
    match outcome {
        Ok(started) => Ok(signed_in(&state, &started, "/admin")),
        Err(SignInError::BadCredentials) => {
            tracing::info!("admin sign-in refused: bad credentials");
            render_with(
                StatusCode::UNAUTHORIZED,
                &LoginPage {
                    csrf_token: session.csrf.expose(),
                    email: &form.email,
                    problem: Some("The email or password is not right."),
                },
            )
        }
        Err(SignInError::Throttled) => Err(Error::Throttled),
        Err(SignInError::Store(e)) => Err(e.into()),
    }
}

async fn logout(
    state: web::Data<AppState>,
    posted: Protected<NoFields>,
) -> Result<HttpResponse, Error> {
    let session = posted.session;
    let (clock, principal) = (state.clock.clone(), session.principal);
    state
        .store
        .run(move |conn| {
            if let Principal::Admin(id) = principal
                && let Some(admin) = admins::find(conn, id)?
            {
                audit::record(
                    conn,
                    &clock,
                    audit::NewEvent::new(
                        Some(admin.org),
                        &Actor::Admin(id),
                        Action::AdminSignedOut,
                    )
                    .target(admin.email.as_str()),
                )?;
            }
            Ok::<_, Error>(())
        })
        .await?;
    end(&state, session, "/admin/login").await
}

fn link_token(path: &str) -> Result<SecretToken, Error> {
    SecretToken::from_presented(path).ok_or(Error::LinkGone)
}

async fn link_form(
    state: web::Data<AppState>,
    session: MaybeSession,
    path: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let token = link_token(&path)?;
    let clock = state.clock.clone();
    let admin = state
        .store
        .run(move |conn| admins::link_holder(conn, &clock, &token))
        .await?;
    let (session, cookie) = session.or_start_anonymous(&state).await?;
    let page = render(&LinkPage {
        csrf_token: session.csrf.expose(),
        email: admin.email.as_str(),
        action: &format!("/admin/link/{}", path.as_str()),
        min_chars: MIN_PASSWORD_CHARS,
        problem: None,
    })?;
    with_cookie(page, cookie)
}

#[derive(Deserialize)]
struct SetPasswordForm {
    password: String,
    confirmation: String,
}

async fn redeem_link(
    state: web::Data<AppState>,
    path: web::Path<String>,
    posted: Protected<SetPasswordForm>,
) -> Result<HttpResponse, Error> {
    let Protected { session, form } = posted;
    let token = link_token(&path)?;
    let clock = state.clock.clone();
    let previous = session.clone();
    let outcome = state
        .store
        .run(move |conn| {
            let admin = admins::redeem_link(
                conn,
                &clock,
                &token,
                &Password::new(form.password),
                &Password::new(form.confirmation),
            )?;
            let started =
                sessions::rotate(conn, &clock, Some(&previous), Principal::Admin(admin.id))?;
            Ok::<_, admins::Error>((admin, started))
        })
        .await;
    match outcome {
        Ok((_, started)) => Ok(signed_in(&state, &started, "/admin")),
        Err(problem @ (admins::Error::WeakPassword(_) | admins::Error::PasswordMismatch)) => {
            let token = link_token(&path)?;
            let clock = state.clock.clone();
            let admin = state
                .store
                .run(move |conn| admins::link_holder(conn, &clock, &token))
                .await?;
            render_with(
                StatusCode::BAD_REQUEST,
                &LinkPage {
                    csrf_token: session.csrf.expose(),
                    email: admin.email.as_str(),
                    action: &format!("/admin/link/{}", path.as_str()),
                    min_chars: MIN_PASSWORD_CHARS,
                    problem: Some(sentence(&problem.to_string())),
                },
            )
        }
        Err(other) => Err(other.into()),
    }
}
