//! Opening a setup link: a page with a button (a GET changes nothing, so
//! mail scanners and link previews that fetch the URL cannot use the link
//! up), then the post that opens it once and starts a session limited to
//! the organization's Single sign-on pages.

use actix_web::http::header::LOCATION;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::csrf::{NoFields, Protected};
use super::pages::render;
use super::session::{MaybeSession, cookie_for, with_cookie};
use super::{AppState, Error};
use crate::orgs::{self, setup_links};
use crate::sessions::{self, Principal};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/setup/{token}", web::get().to(show))
        .route("/setup/{token}", web::post().to(open));
}

#[derive(Template)]
#[template(path = "setup/open.html")]
struct OpenPage<'a> {
    csrf_token: &'a str,
    action: String,
}

async fn show(
    state: web::Data<AppState>,
    request: HttpRequest,
    session: MaybeSession,
    token: web::Path<String>,
) -> Result<HttpResponse, Error> {
    state
        .limits
        .by_address(&state.limits.links, &request)
        .map_err(Error::RateLimited)?;
    let (session, cookie) = session.or_start_anonymous(&state).await?;
    let page = render(&OpenPage {
        csrf_token: session.csrf.expose(),
        action: format!("/setup/{}", token.as_str()),
    })?;
    with_cookie(page, cookie)
}

async fn open(
    state: web::Data<AppState>,
    request: HttpRequest,
    token: web::Path<String>,
    posted: Protected<NoFields>,
) -> Result<HttpResponse, Error> {
    // Setup links are bearer tokens: bound how fast one address may try them.
    state
        .limits
        .by_address(&state.limits.links, &request)
        .map_err(Error::RateLimited)?;
    let clock = state.clock.clone();
    let previous = posted.session.clone();
    let opened = state
        .store
        .run(move |conn| {
            let link = setup_links::open(conn, &clock, &token)?;
            let org = orgs::find_by_id(conn, link.org).map_err(|e| match e {
                orgs::Error::Store(e) => setup_links::Error::Store(e),
                _ => setup_links::Error::Unusable,
            })?;
            let started =
                sessions::rotate(conn, &clock, Some(&previous), Principal::Setup(link.id))?;
            Ok::<_, setup_links::Error>((org, started))
        })
        .await;
    let (org, started) = match opened {
        Ok(opened) => opened,
        Err(setup_links::Error::Store(e)) => return Err(e.into()),
        Err(e) => {
            tracing::info!(reason = %e, "setup link refused");
            return Err(Error::LinkGone);
        }
    };
    tracing::info!(org = org.slug.as_str(), "setup link opened");
    Ok(HttpResponse::SeeOther()
        .cookie(cookie_for(&state.settings, &started))
        .insert_header((LOCATION, format!("/admin/orgs/{}/sso", org.slug)))
        .finish())
}
