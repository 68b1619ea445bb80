//! Single sign-on endpoints: SP metadata, SP-initiated login, the ACS.

use actix_web::http::header::{CONTENT_DISPOSITION, CONTENT_TYPE, LOCATION};
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::pages::render;
use super::session::{MaybeSession, cookie_for};
use super::{AppState, Error};
use crate::orgs::connections::{self, IdpConnection};
use crate::orgs::{self, Organization};
use crate::saml::validate::MAX_RESPONSE_BYTES;
use crate::saml::{SpEndpoints, metadata};
use crate::signin::{self, Completed, LocalPath};
use crate::store;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/sso/{org}/metadata", web::get().to(sp_metadata))
        .route("/sso/{org}/certificate.pem", web::get().to(sp_certificate))
        .route("/sso/{org}/login", web::get().to(login))
        .service(
            web::resource("/sso/{org}/acs")
                // Room for the form encoding around a 256 KiB SAMLResponse;
                // validation bounds the response itself.
                .app_data(
                    web::FormConfig::default()
                        .limit(MAX_RESPONSE_BYTES * 2)
                        .error_handler(|e, _| {
                            Error::BadRequest(format!("the sign-in form was refused: {e}")).into()
                        }),
                )
                .route(web::post().to(acs)),
        );
}

async fn sp_metadata(
    state: web::Data<AppState>,
    org: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let slug = org.into_inner();
    let org = state.store.run(move |conn| orgs::find(conn, &slug)).await?;
    let endpoints = SpEndpoints::for_org(&state.settings.base_url, &org.slug);
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "application/samlmetadata+xml; charset=utf-8"))
        .body(metadata::sp_metadata(&endpoints, &state.sp_keys.get())))
}

/// Our signing and encryption certificate, for IdPs configured by hand.
async fn sp_certificate(
    state: web::Data<AppState>,
    org: web::Path<String>,
) -> Result<HttpResponse, Error> {
    let slug = org.into_inner();
    let org = state.store.run(move |conn| orgs::find(conn, &slug)).await?;
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "application/x-pem-file"))
        .insert_header((
            CONTENT_DISPOSITION,
            format!("attachment; filename=\"seatgate-{}.pem\"", org.slug),
        ))
        .body(state.sp_keys.get().current.cert_pem()))
}

#[derive(Deserialize)]
struct LoginQuery {
    idp: Option<String>,
    return_to: Option<String>,
}

#[derive(Template)]
#[template(path = "sso/choose.html")]
struct ChooserPage<'a> {
    org_name: &'a str,
    choices: Vec<(String, String)>,
}

/// SP-initiated sign-in: one IdP, straight there; several, a chooser.
async fn login(
    state: web::Data<AppState>,
    org: web::Path<String>,
    query: web::Query<LoginQuery>,
) -> Result<HttpResponse, Error> {
    let query = query.into_inner();
    let return_to = match &query.return_to {
        Some(text) => text
            .parse::<LocalPath>()
            .map_err(|()| Error::BadRequest("return_to must be a path on this site".into()))?,
        None => LocalPath::home(),
    };
    let slug = org.into_inner();
    let (org, enabled) = state
        .store
        .run(move |conn| {
            let org = orgs::find(conn, &slug)?;
            let enabled: Vec<_> = connections::list(conn, org.id)?
                .into_iter()
                .filter(|c| c.enabled)
                .collect();
            Ok::<_, Error>((org, enabled))
        })
        .await?;
    let chosen = match (&query.idp, enabled.as_slice()) {
        (Some(id), _) => enabled
            .iter()
            .find(|c| &c.id.to_string() == id)
            .ok_or(Error::NotFound)?,
        (None, [only]) => only,
        (None, []) => {
            return Err(Error::BadRequest(format!(
                "{} has not set up single sign-on yet. Ask your administrator.",
                org.display_name
            )));
        }
        (None, several) => {
            let choices = several
                .iter()
                .map(|c| {
                    let link = format!(
                        "/sso/{}/login?idp={}&return_to={}",
                        org.slug,
                        c.id,
                        url::form_urlencoded::byte_serialize(return_to.as_str().as_bytes())
                            .collect::<String>()
                    );
                    (c.name.clone(), link)
                })
                .collect();
            return render(&ChooserPage {
                org_name: &org.display_name,
                choices,
            });
        }
    };

    send_to_idp(&state, &org, chosen, return_to, false).await
}

/// Sends the browser to the IdP with a signed AuthnRequest ([`signin::begin`]).
pub async fn send_to_idp(
    state: &AppState,
    org: &Organization,
    connection: &IdpConnection,
    return_to: LocalPath,
    test: bool,
) -> Result<HttpResponse, Error> {
    let begun = signin::begin(&state.sso_context(), org, connection, return_to, test)
        .map_err(|e| Error::BadRequest(e.to_string()))?;
    let to = begun.to().clone();
    state
        .store
        .run(move |conn| signin::remember(conn, &begun))
        .await?;
    match to {
        signin::ToIdp::Redirect(url) => Ok(HttpResponse::SeeOther()
            .insert_header((LOCATION, url))
            .finish()),
        signin::ToIdp::Post { url, saml_request } => {
            // The form posts to the IdP: its origin joins form-action.
            let origin = url::Url::parse(&url)
                .map(|u| u.origin().ascii_serialization())
                .map_err(|_| Error::BadRequest("the IdP's POST URL is not a URL".into()))?;
            let mut page = super::pages::render(&PostToIdp { url, saml_request })?;
            page.headers_mut().insert(
                actix_web::http::header::CONTENT_SECURITY_POLICY,
                actix_web::http::header::HeaderValue::from_str(&super::csp_with_form_action(
                    &origin,
                ))
                .map_err(|_| Error::BadRequest("the IdP's POST URL is not a URL".into()))?,
            );
            Ok(page)
        }
    }
}

/// The self-posting form of the HTTP-POST binding.
#[derive(Template)]
#[template(path = "sso/post.html")]
struct PostToIdp {
    url: String,
    saml_request: String,
}

#[derive(Deserialize)]
struct AcsForm {
    #[serde(rename = "SAMLResponse")]
    saml_response: String,
    #[serde(rename = "RelayState")]
    relay_state: Option<String>,
}

/// The assertion consumer service. A cross-site POST by design, so no CSRF
/// token: the signed, audience-bound, single-use assertion is the protection.
async fn acs(
    state: web::Data<AppState>,
    request: HttpRequest,
    org: web::Path<String>,
    previous: MaybeSession,
    form: web::Form<AcsForm>,
) -> Result<HttpResponse, Error> {
    state
        .limits
        .by_address(&state.limits.acs, &request)
        .map_err(Error::RateLimited)?;
    let form = form.into_inner();
    let slug = org.into_inner();
    let org_slug = slug.clone();
    let reference = super::telemetry::reference();
    let (org, connections) = state
        .store
        .run(move |conn| {
            let org = orgs::find(conn, &slug)?;
            let connections = connections::list(conn, org.id)?;
            Ok::<_, Error>((org, connections))
        })
        .await?;
    if let Some(limit) = &state.limits.acs_org {
        limit
            .check(org.id, std::time::Instant::now())
            .map_err(Error::RateLimited)?;
    }
    // Validation holds no database connection: it is bounded computation,
    // and a pool connection held meanwhile would be one fewer for everybody.
    let app = state.get_ref().clone();
    let (org, checked, relay_state) = web::block(move || {
        let checked = signin::check(&app.sso_context(), &org, &connections, &form.saml_response);
        (org, checked, form.relay_state)
    })
    .await
    .map_err(|_| Error::Store(store::Error::WorkerGone))?;
    let app = state.get_ref().clone();
    let completed = state
        .store
        .run(move |conn| {
            let posted = signin::Posted {
                reference: &reference,
                relay_state: relay_state.as_deref(),
                previous_session: previous.0.as_ref(),
            };
            signin::complete(conn, &app.sso_context(), &org, checked, &posted)
                .map_err(Error::SignInRefused)
        })
        .await;
    match &completed {
        Ok(Completed::SignedIn(_)) => crate::metrics::get().sign_in(None),
        Err(Error::SignInRefused(refused)) => {
            crate::metrics::get().sign_in(Some(signin::Reason::from(&refused.failure).code()))
        }
        _ => {}
    }
    let signed_in = match completed? {
        Completed::SignedIn(signed_in) => signed_in,
        // The verdict, passed or refused, is shown in the console: the
        // admin who asked is signed in there (the cookie comes along on this
        // top-level GET, which a cross-site POST to here may not carry).
        Completed::Tested(id) => {
            tracing::info!(test = %id, "test sign-in checked");
            return Ok(HttpResponse::SeeOther()
                .insert_header((LOCATION, format!("/admin/orgs/{}/sso/tests/{id}", org_slug)))
                .finish());
        }
    };
    tracing::info!(created = signed_in.created, license = ?signed_in.license, "learner signed in");
    Ok(HttpResponse::SeeOther()
        .cookie(cookie_for(&state.settings, &signed_in.started))
        .insert_header((
            LOCATION,
            super::learner::profile::after_sign_in(signed_in.gate, &signed_in.return_to),
        ))
        .finish())
}
