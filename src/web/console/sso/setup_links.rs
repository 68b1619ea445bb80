//! Setup links on the Single sign-on page: create one (its URL shown once)
//! and revoke it. Not for a setup link's own session: it may set up SSO,
//! not hand that right on.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use serde::Deserialize;

use super::add::AddForm;
use super::page;
use crate::ids::SetupLinkId;
use crate::orgs::setup_links;
use crate::web::console::Console;
use crate::web::csrf::{NoFields, Protected};
use crate::web::pages::render_with;
use crate::web::path::PathId;
use crate::web::session::redirect_with_flash;
use crate::web::{AppState, Error};

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/orgs/{org}/sso/setup-links", web::post().to(create))
        .route(
            "/admin/orgs/{org}/sso/setup-links/{id}/revoke",
            web::post().to(revoke),
        );
}

#[derive(Deserialize)]
struct CreateForm {
    #[serde(default)]
    hours: String,
}

async fn create(
    state: web::Data<AppState>,
    console: Console,
    posted: Protected<CreateForm>,
) -> Result<HttpResponse, Error> {
    if console.user.setup {
        return Err(Error::Forbidden);
    }
    let hours = match posted.form.hours.trim() {
        "" => setup_links::DEFAULT_HOURS,
        text => text
            .parse()
            .map_err(|_| Error::BadRequest(setup_links::Error::Hours.to_string()))?,
    };
    let base_url = state.settings.base_url.clone();
    let created = console
        .apply(&state, move |conn, clock, actor, org| {
            setup_links::create(conn, clock, actor, &base_url, org, hours)
        })
        .await
        .map_err(|e| match e {
            setup_links::Error::Store(e) => Error::Store(e),
            other => Error::BadRequest(crate::web::pages::sentence(&other.to_string())),
        })?;
    let mut page = page(&state, &console, AddForm::default()).await?;
    page.new_setup_link = Some(created.url);
    render_with(StatusCode::OK, &page)
}

async fn revoke(
    state: web::Data<AppState>,
    console: Console,
    PathId(id): PathId<SetupLinkId>,
    posted: Protected<NoFields>,
) -> Result<HttpResponse, Error> {
    if console.user.setup {
        return Err(Error::Forbidden);
    }
    console
        .apply(&state, move |conn, clock, actor, org| {
            setup_links::revoke(conn, clock, actor, org, id)
        })
        .await
        .map_err(|e| match e {
            setup_links::Error::Store(e) => Error::Store(e),
            setup_links::Error::NotFound => Error::NotFound,
            other => Error::BadRequest(other.to_string()),
        })?;
    redirect_with_flash(
        &state,
        &posted.session,
        console.link("/sso"),
        "Setup link revoked: it no longer opens, and whoever opened it is signed out.".to_owned(),
    )
    .await
}
