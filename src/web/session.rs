//! The session cookie and the extractors that load sessions from it.

use std::future::Future;
use std::pin::Pin;

use actix_web::cookie::{Cookie, SameSite, time::Duration as CookieDuration};
use actix_web::{FromRequest, HttpRequest, HttpResponse, dev::Payload, web};

use super::{AppState, Error};
use crate::config::Settings;
use crate::secret::SecretToken;
use crate::sessions::{self, Principal, Session, Started};

/// With https the `__Host-` prefix makes browsers refuse the cookie unless it
/// is Secure, host-only and for `/`, so a sibling subdomain cannot plant one.
fn cookie_name(settings: &Settings) -> &'static str {
    if settings.base_url.is_https() {
        "__Host-seatgate"
    } else {
        "seatgate"
    }
}

/// The cookie that carries a newly started session's token.
pub fn cookie_for(settings: &Settings, started: &Started) -> Cookie<'static> {
    let lifetime = started.lifetime.num_seconds();
    Cookie::build(cookie_name(settings), started.token.expose().to_owned())
        .path("/")
        .http_only(true)
        .secure(settings.base_url.is_https())
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::seconds(lifetime))
        .finish()
}

/// The cookie tying a LinkedIn sign-in to the browser that started it: the
/// same protections as the session cookie, ten minutes.
pub fn linkedin_attempt_cookie(settings: &Settings, token: &SecretToken) -> Cookie<'static> {
    Cookie::build(linkedin_cookie_name(settings), token.expose().to_owned())
        .path("/")
        .http_only(true)
        .secure(settings.base_url.is_https())
        .same_site(SameSite::Lax)
        .max_age(CookieDuration::minutes(10))
        .finish()
}

/// The LinkedIn attempt token the browser brought back, if any.
pub fn linkedin_attempt_token(settings: &Settings, request: &HttpRequest) -> Option<String> {
    request
        .cookie(linkedin_cookie_name(settings))
        .map(|c| c.value().to_owned())
}

/// A cookie that removes the LinkedIn attempt cookie.
pub fn linkedin_attempt_removal(settings: &Settings) -> Cookie<'static> {
    let mut cookie = linkedin_attempt_cookie(settings, &SecretToken::generate());
    cookie.make_removal();
    cookie
}

fn linkedin_cookie_name(settings: &Settings) -> &'static str {
    if settings.base_url.is_https() {
        "__Host-seatgate-linkedin"
    } else {
        "seatgate-linkedin"
    }
}

/// A cookie that removes the session cookie.
pub fn removal_cookie(settings: &Settings) -> Cookie<'static> {
    let mut cookie = Cookie::build(cookie_name(settings), "")
        .path("/")
        .http_only(true)
        .secure(settings.base_url.is_https())
        .same_site(SameSite::Lax)
        .finish();
    cookie.make_removal();
    cookie
}

pub fn state(req: &HttpRequest) -> AppState {
    req.app_data::<web::Data<AppState>>()
        .expect("AppState is registered by web::serve")
        .get_ref()
        .clone()
}

/// Loads the live session named by the request's cookie.
pub async fn current(req: &HttpRequest) -> Result<Option<Session>, Error> {
    let state = state(req);
    let Some(token) = req
        .cookie(cookie_name(&state.settings))
        .and_then(|c| SecretToken::from_presented(c.value()))
    else {
        return Ok(None);
    };
    let clock = state.clock.clone();
    Ok(state
        .store
        .run(move |conn| sessions::resume(conn, &clock, &token))
        .await?)
}

/// The visitor's session, if any (signed in or anonymous).
pub struct MaybeSession(pub Option<Session>);

impl FromRequest for MaybeSession {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move { current(&req).await.map(MaybeSession) })
    }
}

impl MaybeSession {
    /// This session, or a new anonymous one (with the cookie to set) so a form
    /// can carry a CSRF token.
    pub async fn or_start_anonymous(
        self,
        state: &AppState,
    ) -> Result<(Session, Option<Cookie<'static>>), Error> {
        if let Some(session) = self.0 {
            return Ok((session, None));
        }
        let clock = state.clock.clone();
        let started = state
            .store
            .run(move |conn| sessions::start(conn, &clock, Principal::Anonymous))
            .await?;
        let cookie = cookie_for(&state.settings, &started);
        Ok((started.session, Some(cookie)))
    }
}

/// Adds the cookie of a newly started anonymous session, if there is one.
pub fn with_cookie(
    mut response: HttpResponse,
    cookie: Option<Cookie<'static>>,
) -> Result<HttpResponse, Error> {
    if let Some(cookie) = cookie {
        response
            .add_cookie(&cookie)
            .map_err(|e| Error::BadRequest(e.to_string()))?;
    }
    Ok(response)
}

/// Ends a session: deletes it and its cookie, and sends the browser to `location`.
pub async fn end(
    state: &AppState,
    session: Session,
    location: &'static str,
) -> Result<HttpResponse, Error> {
    state
        .store
        .run(move |conn| crate::sessions::end(conn, &session))
        .await?;
    Ok(HttpResponse::SeeOther()
        .cookie(removal_cookie(&state.settings))
        .insert_header((actix_web::http::header::LOCATION, location))
        .finish())
}

/// After a change: leaves `message` for the session's next page (shown once)
/// and sends the browser to `location`.
pub async fn redirect_with_flash(
    state: &AppState,
    session: &Session,
    location: impl AsRef<str>,
    message: String,
) -> Result<HttpResponse, Error> {
    let session = session.clone();
    state
        .store
        .run(move |conn| sessions::flash(conn, &session, &message))
        .await?;
    Ok(HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, location.as_ref()))
        .finish())
}
