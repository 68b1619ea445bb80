//! The built-in development IdP's pages (see `crate::demo_idp`).

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::pages::render;
use super::{AppState, Error};
use crate::demo_idp::{DemoIdp, acs_org};
use crate::saml::SpEndpoints;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/demo-idp", web::get().to(start))
        .route("/demo-idp/metadata", web::get().to(metadata))
        .route("/demo-idp/sso", web::get().to(start))
        .route("/demo-idp/sso", web::post().to(respond));
}

fn idp(state: &AppState) -> Result<&DemoIdp, Error> {
    state.demo_idp.as_deref().ok_or(Error::NotFound)
}

#[derive(Template)]
#[template(path = "demo_idp/form.html")]
struct FormPage<'a> {
    org: &'a str,
    request_id: &'a str,
    relay_state: &'a str,
    from_request: bool,
}

/// The sign-in form: answering our AuthnRequest when there is one (SP-initiated),
/// else starting an IdP-initiated sign-in for organization `demo`.
async fn start(state: web::Data<AppState>, req: HttpRequest) -> Result<HttpResponse, Error> {
    let idp = idp(&state)?;
    let query = req.query_string();
    if query.is_empty() {
        return render(&FormPage {
            org: "demo",
            request_id: "",
            relay_state: "",
            from_request: false,
        });
    }
    let request = idp
        .read_request(query, &state.sp_keys.get(), &state.settings.base_url)
        .map_err(|reason| {
            Error::BadRequest(format!(
                "The demo IdP refused the sign-in request: {reason}."
            ))
        })?;
    let org = acs_org(&request.acs_url, &state.settings.base_url).ok_or(Error::NotFound)?;
    render(&FormPage {
        org,
        request_id: &request.id,
        relay_state: request.relay_state.as_deref().unwrap_or_default(),
        from_request: true,
    })
}

async fn metadata(state: web::Data<AppState>) -> Result<HttpResponse, Error> {
    Ok(HttpResponse::Ok()
        .content_type("application/samlmetadata+xml; charset=utf-8")
        .body(idp(&state)?.metadata()))
}

#[derive(Deserialize)]
struct Person {
    org: String,
    request_id: String,
    relay_state: String,
    email: String,
    first_name: String,
    last_name: String,
}

#[derive(Template)]
#[template(path = "demo_idp/post.html")]
struct PostPage<'a> {
    acs_url: &'a str,
    saml_response: &'a str,
    relay_state: &'a str,
}

/// Mints the signed response and hands it to the browser to post to the ACS,
/// exactly as a real IdP does with the HTTP-POST binding.
async fn respond(
    state: web::Data<AppState>,
    form: web::Form<Person>,
) -> Result<HttpResponse, Error> {
    let idp = idp(&state)?;
    let person = form.into_inner();
    let org: crate::orgs::OrgSlug = person.org.parse().map_err(|_| Error::NotFound)?;
    let sp = SpEndpoints::for_org(&state.settings.base_url, &org);
    let in_response_to = Some(person.request_id.as_str()).filter(|id| !id.is_empty());
    let saml_response = idp
        .respond(
            &sp,
            in_response_to,
            person.email.trim(),
            person.first_name.trim(),
            person.last_name.trim(),
            state.clock.now(),
        )
        .map_err(|e| Error::BadRequest(e.to_string()))?;
    render(&PostPage {
        acs_url: &sp.acs_url,
        saml_response: &saml_response,
        relay_state: &person.relay_state,
    })
}
