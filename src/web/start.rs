//! The start page: a signed-in learner's home, else "Enter your work email",
//! which `GET /sign-in?email=` answers by sending the learner to their
//! company's sign-in. A GET, so a company can link to it with the address
//! filled in; the email is not logged (query strings never are).

use actix_web::http::StatusCode;
use actix_web::http::header::LOCATION;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::pages::{render, render_with};
use super::session::MaybeSession;
use super::session::linkedin_attempt_cookie;
use super::{AppState, Error};
use crate::signin::LocalPath;
use crate::signin::linkedin::{self, Purpose};
use crate::signin::start::{self, Route, RouteError};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/", web::get().to(start_page))
        .route("/sign-in", web::get().to(find_sign_in))
        .route("/sign-in/linkedin", web::get().to(linkedin_sign_in));
}

#[derive(Template, Default)]
#[template(path = "home.html")]
struct StartPage {
    email: String,
    /// Where to go after signing in (an application's authorization request).
    return_to: Option<String>,
    problem: Option<String>,
    /// Whether this server signs learners in with LinkedIn.
    linkedin: bool,
}

impl StartPage {
    /// "Sign in with LinkedIn", keeping where to return.
    fn linkedin_href(&self) -> String {
        match &self.return_to {
            Some(path) => format!("/sign-in/linkedin?return_to={}", super::pages::encode(path)),
            None => "/sign-in/linkedin".to_owned(),
        }
    }

    /// The empty start page of this server.
    fn on(state: &AppState) -> Self {
        Self {
            linkedin: state.linkedin.is_some(),
            ..Self::default()
        }
    }
}

#[derive(Deserialize)]
struct Next {
    return_to: Option<String>,
}

impl Next {
    /// `return_to` when it is a path on this site; anything else is dropped.
    fn path(self) -> Option<LocalPath> {
        self.return_to.and_then(|text| text.parse().ok())
    }
}

/// The learner home for a signed-in learner (or on to `return_to`), else
/// the start page.
async fn start_page(
    state: web::Data<AppState>,
    session: MaybeSession,
    next: web::Query<Next>,
) -> Result<HttpResponse, Error> {
    let return_to = next.into_inner().path();
    match super::learner::learner_home(&state, session).await? {
        Some(_) if let Some(path) = &return_to => Ok(HttpResponse::SeeOther()
            .insert_header((LOCATION, path.as_str().to_owned()))
            .finish()),
        Some(home) => Ok(home),
        None => render(&StartPage {
            return_to: return_to.map(|p| p.as_str().to_owned()),
            ..StartPage::on(&state)
        }),
    }
}

#[derive(Deserialize)]
struct Lookup {
    #[serde(default)]
    email: String,
    return_to: Option<String>,
}

/// Sends the learner to the sign-in of the organization their email's
/// domain belongs to, or says on the start page why not.
async fn find_sign_in(
    state: web::Data<AppState>,
    lookup: web::Query<Lookup>,
) -> Result<HttpResponse, Error> {
    let lookup = lookup.into_inner();
    let return_to = Next {
        return_to: lookup.return_to,
    }
    .path();
    // Bounded before anything else: an address is at most 254 characters.
    let email: String = lookup.email.chars().take(320).collect();
    let typed = email.clone();
    let route = state
        .store
        .run(move |conn| start::route_for(conn, &typed))
        .await;
    let problem = match route {
        Ok(Route::Sso(slug)) => {
            let next = return_to.as_ref().map_or(String::new(), |path| {
                format!("?return_to={}", super::pages::encode(path.as_str()))
            });
            return Ok(HttpResponse::SeeOther()
                .insert_header((LOCATION, format!("/sso/{slug}/login{next}")))
                .finish());
        }
        Ok(Route::LinkedIn) => {
            let next = return_to.as_ref().map_or(String::new(), |path| {
                format!("?return_to={}", super::pages::encode(path.as_str()))
            });
            return Ok(HttpResponse::SeeOther()
                .insert_header((LOCATION, format!("/sign-in/linkedin{next}")))
                .finish());
        }
        Ok(Route::NotSetUp) => {
            tracing::info!("start page: the organization has no IdP switched on");
            "Your company has not finished setting up sign-in here yet. Ask your IT helpdesk or \
             learning administrator how to sign in."
        }
        Err(RouteError::NotAnEmail(_)) => "Enter your work email address, such as ann@example.com.",
        Err(RouteError::UnknownDomain(domain)) => {
            tracing::info!(domain, "start page: unknown email domain");
            "We could not find your company from this address. Check it is your work email, or \
             use the sign-in link your company gave you; your IT helpdesk or learning \
             administrator can tell you how to sign in."
        }
        Err(RouteError::Store(e)) => return Err(e.into()),
    };
    render_with(
        StatusCode::OK,
        &StartPage {
            email,
            return_to: return_to.map(|p| p.as_str().to_owned()),
            problem: Some(problem.to_owned()),
            ..StartPage::on(&state)
        },
    )
}

/// "Sign in with LinkedIn": to LinkedIn, with this browser's attempt cookie;
/// back to `return_to` afterwards.
async fn linkedin_sign_in(
    state: web::Data<AppState>,
    next: web::Query<Next>,
) -> Result<HttpResponse, Error> {
    let return_to = next.into_inner().path().unwrap_or_else(LocalPath::home);
    let begun = linkedin::begin(
        &state.store,
        &state.clock,
        state.linkedin.as_deref(),
        Purpose::SignIn(return_to),
    )
    .await?;
    Ok(to_linkedin(&state, begun))
}

/// Sends the browser to LinkedIn with the cookie that ties the answer to it.
pub(super) fn to_linkedin(state: &AppState, begun: linkedin::Begun) -> HttpResponse {
    HttpResponse::SeeOther()
        .cookie(linkedin_attempt_cookie(&state.settings, &begun.browser))
        .insert_header((LOCATION, begun.url))
        .finish()
}
