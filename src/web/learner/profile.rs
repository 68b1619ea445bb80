//! The learner's profile page and LinkedIn profile binding: connect (OpenID
//! Connect at LinkedIn), the callback, disconnect, and the pages the
//! organization's policy shows after sign-in (required, or a one-time prompt).

use actix_web::http::header::LOCATION;
use actix_web::{FromRequest, HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::LearnerSession;
use crate::accounts::learners::Learner;
use crate::audit::Actor;
use crate::binding::{self, Binding, Callback, ConnectError, Connecting, Gate, linkedin};
use crate::orgs::{Organization, ProfileBindingPolicy};
use crate::signin::{self, LocalPath};
use crate::web::csrf::{NoFields, Protected};
use crate::web::pages::{self, render};
use crate::web::session::{
    cookie_for, linkedin_attempt_removal, linkedin_attempt_token, redirect_with_flash,
};
use crate::web::{AppState, Error};

/// Where LinkedIn sends the learner back: `{base_url}` + this.
pub const CALLBACK_PATH: &str = "/profile/linkedin/callback";

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/profile", web::get().to(show))
        .route("/profile/linkedin/connect", web::post().to(connect))
        .route(CALLBACK_PATH, web::get().to(callback))
        .route("/profile/linkedin/disconnect", web::post().to(disconnect))
        .route("/profile/linkedin/required", web::get().to(required))
        .route("/profile/linkedin/prompt", web::get().to(prompt))
        .route("/profile/linkedin/not-now", web::post().to(not_now));
}

impl LearnerSession {
    fn connecting(&self) -> Connecting<'_> {
        Connecting {
            org: &self.org,
            learner: &self.learner,
            session: &self.session.id,
        }
    }
}

/// A page with a "Connect LinkedIn" form: its post is answered with a
/// redirect to LinkedIn, which the page's CSP must allow.
fn render_connect_form(state: &AppState, page: &impl Template) -> Result<HttpResponse, Error> {
    let mut response = render(page)?;
    if let Some(origin) = state
        .settings
        .linkedin
        .as_ref()
        .and_then(|l| url::Url::parse(&l.issuer).ok())
        .map(|u| u.origin().ascii_serialization())
    {
        let csp = crate::web::csp_with_form_action(&origin);
        response.headers_mut().insert(
            actix_web::http::header::CONTENT_SECURITY_POLICY,
            actix_web::http::header::HeaderValue::from_str(&csp)
                .map_err(|e| Error::BadRequest(e.to_string()))?,
        );
    }
    Ok(response)
}

/// What the policy asks of this learner now.
pub async fn gate(state: &AppState, who: &LearnerSession) -> Result<Gate, Error> {
    let (org, learner, available) = (
        who.org.clone(),
        who.learner.clone(),
        state.linkedin.is_some(),
    );
    Ok(state
        .store
        .run(move |conn| binding::gate_for(conn, &org, &learner, available))
        .await?)
}

/// Where a learner goes right after signing in: on to `return_to`, or first
/// to the page the profile policy asks for.
pub fn after_sign_in(gate: Gate, return_to: &LocalPath) -> String {
    let query = format!("?return_to={}", pages::encode(return_to.as_str()));
    match gate {
        Gate::Open => return_to.as_str().to_owned(),
        Gate::MustConnect => format!("/profile/linkedin/required{query}"),
        Gate::Prompt => format!("/profile/linkedin/prompt{query}"),
    }
}

fn redirect(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((LOCATION, location.to_owned()))
        .finish()
}

#[derive(Deserialize)]
struct ReturnTo {
    return_to: Option<String>,
}

impl ReturnTo {
    /// A local path to go on to, home by default (never another site).
    fn path(&self) -> LocalPath {
        self.return_to
            .as_deref()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(LocalPath::home)
    }
}

#[derive(Template)]
#[template(path = "profile/profile.html")]
struct ProfilePage<'a> {
    csrf_token: &'a str,
    email: &'a str,
    learner: &'a Learner,
    org_name: &'a str,
    policy: ProfileBindingPolicy,
    available: bool,
    binding: Option<Binding>,
    flash: Option<String>,
}

async fn show(state: web::Data<AppState>, who: LearnerSession) -> Result<HttpResponse, Error> {
    let id = who.learner.id;
    let binding = state
        .store
        .run(move |conn| binding::binding_of(conn, id))
        .await?;
    render_connect_form(
        &state,
        &ProfilePage {
            csrf_token: who.session.csrf.expose(),
            email: who.learner.email.as_str(),
            learner: &who.learner,
            org_name: &who.org.display_name,
            policy: who.org.profile_binding_policy,
            available: state.linkedin.is_some(),
            binding,
            flash: who.flash,
        },
    )
}

/// The connect page: "required" holds the learner here; "prompt" asks once.
#[derive(Template)]
#[template(path = "profile/connect.html")]
struct ConnectPage<'a> {
    csrf_token: &'a str,
    email: &'a str,
    org_name: &'a str,
    required: bool,
    return_to: &'a str,
    flash: Option<String>,
}

async fn connect_page(
    state: &AppState,
    who: LearnerSession,
    query: &ReturnTo,
    shown_for: Gate,
) -> Result<HttpResponse, Error> {
    let return_to = query.path();
    if gate(state, &who).await? != shown_for {
        // Connected meanwhile, or the policy changed: nothing to ask.
        return Ok(redirect(return_to.as_str()));
    }
    connect_form_page(state, who, &return_to, shown_for)
}

fn connect_form_page(
    state: &AppState,
    who: LearnerSession,
    return_to: &LocalPath,
    shown_for: Gate,
) -> Result<HttpResponse, Error> {
    render_connect_form(
        state,
        &ConnectPage {
            csrf_token: who.session.csrf.expose(),
            email: who.learner.email.as_str(),
            org_name: &who.org.display_name,
            required: shown_for == Gate::MustConnect,
            return_to: return_to.as_str(),
            flash: who.flash,
        },
    )
}

async fn required(
    state: web::Data<AppState>,
    who: LearnerSession,
    query: web::Query<ReturnTo>,
) -> Result<HttpResponse, Error> {
    connect_page(&state, who, &query, Gate::MustConnect).await
}

async fn prompt(
    state: web::Data<AppState>,
    who: LearnerSession,
    query: web::Query<ReturnTo>,
) -> Result<HttpResponse, Error> {
    connect_page(&state, who, &query, Gate::Prompt).await
}

/// The page the learning home shows instead while connecting is required
/// (the caller has just found the gate closed).
pub fn required_instead_of_home(
    state: &AppState,
    who: LearnerSession,
) -> Result<HttpResponse, Error> {
    connect_form_page(state, who, &LocalPath::home(), Gate::MustConnect)
}

async fn not_now(
    state: web::Data<AppState>,
    who: LearnerSession,
    posted: Protected<ReturnTo>,
) -> Result<HttpResponse, Error> {
    let learner = who.learner.clone();
    let clock = state.clock.clone();
    state
        .store
        .run(move |conn| binding::dismiss_prompt(conn, &clock, &learner))
        .await?;
    Ok(redirect(posted.form.path().as_str()))
}

/// Where a failed or refused connection sends the learner back to, with the reason.
fn retry_page(org: &Organization) -> &'static str {
    match org.profile_binding_policy {
        ProfileBindingPolicy::Required => "/profile/linkedin/required",
        _ => "/profile",
    }
}

/// Starts connecting ([`binding::begin_connect`]) and sends the browser to LinkedIn.
async fn connect(
    state: web::Data<AppState>,
    who: LearnerSession,
    posted: Protected<ReturnTo>,
) -> Result<HttpResponse, Error> {
    let started = binding::begin_connect(
        &state.store,
        &state.clock,
        state.linkedin.as_deref(),
        who.connecting(),
        posted.form.path().as_str(),
    )
    .await;
    match started {
        Ok(url) => Ok(redirect(&url)),
        Err(e) => not_connected(&state, &who, e).await,
    }
}

#[derive(Deserialize)]
struct CallbackQuery {
    code: Option<String>,
    state: Option<String>,
    error: Option<String>,
}

/// LinkedIn's answer, at the one redirect URI registered with LinkedIn: a
/// sign-in without a session (signin::linkedin), else a signed-in learner
/// connecting their profile ([`binding::finish_connect`]).
async fn callback(
    state: web::Data<AppState>,
    request: HttpRequest,
    query: web::Query<CallbackQuery>,
) -> Result<HttpResponse, Error> {
    let CallbackQuery {
        code,
        state: token,
        error,
    } = query.into_inner();
    let callback = Callback {
        code,
        state: token,
        error,
    };
    let signed_in = signin::linkedin::finish(
        &state.store,
        &state.clock,
        state.linkedin.as_deref(),
        signin::linkedin::Answer {
            callback: callback.clone(),
            browser: linkedin_attempt_token(&state.settings, &request),
        },
    )
    .await?;
    if let Some(signed_in) = signed_in {
        tracing::info!(
            activated = signed_in.activated,
            "learner signed in with LinkedIn"
        );
        return Ok(HttpResponse::SeeOther()
            .cookie(cookie_for(&state.settings, &signed_in.started))
            .cookie(linkedin_attempt_removal(&state.settings))
            .insert_header((LOCATION, signed_in.return_to.as_str().to_owned()))
            .finish());
    }
    let who = LearnerSession::extract(&request).await?;
    let finished = binding::finish_connect(
        &state.store,
        &state.clock,
        state.linkedin.as_deref(),
        who.connecting(),
        callback,
    )
    .await;
    match finished {
        Ok(connected) => {
            let name = connected
                .member
                .name
                .as_deref()
                .unwrap_or("Your LinkedIn profile");
            let message = format!("{name} is now connected.");
            redirect_with_flash(&state, &who.session, &connected.return_to, message).await
        }
        Err(e) => not_connected(&state, &who, e).await,
    }
}

/// What the learner sees when connecting did not happen: a page for what
/// they cannot change, else a message on the page to retry from.
async fn not_connected(
    state: &AppState,
    who: &LearnerSession,
    e: ConnectError,
) -> Result<HttpResponse, Error> {
    let message = match e {
        ConnectError::NotAllowed => {
            return Err(Error::BadRequest(format!(
                "{} does not allow connecting a LinkedIn profile",
                who.org.display_name
            )));
        }
        ConnectError::NotSetUp => {
            return Err(Error::BadRequest(
                "connecting a LinkedIn profile is not set up on this server".into(),
            ));
        }
        ConnectError::Store(e) => return Err(e.into()),
        ConnectError::UnknownAttempt => {
            tracing::warn!("LinkedIn callback refused: unknown, expired or foreign state");
            "That LinkedIn connection attempt expired or was not started here, so nothing was connected. Please start again."
        }
        ConnectError::Declined(error) if error == "access_denied" => {
            tracing::info!(error, "LinkedIn connection not completed");
            "You cancelled connecting your LinkedIn profile."
        }
        ConnectError::Declined(error) => {
            tracing::info!(error, "LinkedIn connection not completed");
            "LinkedIn did not complete the connection. Please try again."
        }
        ConnectError::NoCode => "LinkedIn did not complete the connection. Please try again.",
        ConnectError::LinkedIn(e) => {
            tracing::warn!(reason = %e, "LinkedIn connection failed");
            problem_text(&e)
        }
        ConnectError::TakenByAnother => {
            tracing::info!("LinkedIn member already bound to another learner");
            "This LinkedIn profile is already connected to another account of your organization, so it was not connected to yours. Sign in to LinkedIn as yourself and try again."
        }
    };
    redirect_with_flash(
        state,
        &who.session,
        retry_page(&who.org),
        message.to_owned(),
    )
    .await
}

/// What the learner reads when LinkedIn itself failed.
fn problem_text(e: &linkedin::Error) -> &'static str {
    match e {
        linkedin::Error::Unreachable(_) => {
            "LinkedIn could not be reached just now. Please try again in a moment."
        }
        linkedin::Error::Discovery(_) | linkedin::Error::Exchange(_) => {
            "LinkedIn did not complete the connection. Please try again."
        }
        linkedin::Error::ClientRefused(_) => {
            "LinkedIn does not accept this server's settings just now, so nothing was connected. \
             Your administrator has the details in the server log."
        }
        linkedin::Error::NoIdToken
        | linkedin::Error::NonceMismatch
        | linkedin::Error::InvalidIdToken(_) => {
            "LinkedIn's answer could not be verified, so nothing was connected. Please try again."
        }
    }
}

async fn disconnect(
    state: web::Data<AppState>,
    who: LearnerSession,
    posted: Protected<NoFields>,
) -> Result<HttpResponse, Error> {
    let (clock, learner) = (state.clock.clone(), who.learner.clone());
    let removed = state
        .store
        .run(move |conn| binding::unbind(conn, &clock, &Actor::Learner(learner.id), &learner))
        .await?;
    let message = if removed {
        "Your LinkedIn profile is disconnected."
    } else {
        "No LinkedIn profile was connected."
    };
    redirect_with_flash(&state, &posted.session, "/profile", message.to_owned()).await
}
