//! CSRF protection for every state-changing form.
//!
//! Two independent checks: the browser's `Sec-Fetch-Site` header must not say
//! the request comes from another site, and the form must carry the session's
//! CSRF token (compared in constant time). The SAML ACS is the deliberate
//! exception: it is a cross-site POST by design and has its own protections.

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, web::Bytes};
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::session::current;
use super::{Error, FORM_LIMIT};
use crate::sessions::Session;

/// A form that passed the CSRF checks, with the session it belongs to.
pub struct Protected<T> {
    pub session: Session,
    pub form: T,
}

/// A form with nothing but its CSRF token (sign-out buttons).
#[derive(Deserialize)]
pub struct NoFields {}

#[derive(Deserialize)]
struct TokenField {
    csrf_token: Option<String>,
}

/// `Sec-Fetch-Site` is set by every current browser and cannot be forged by a
/// page; when present it must not name another site.
fn same_site_request(req: &HttpRequest) -> bool {
    match req.headers().get("Sec-Fetch-Site").map(|v| v.to_str()) {
        None => true,
        Some(Ok("same-origin" | "none")) => true,
        Some(_) => false,
    }
}

impl<T: DeserializeOwned + 'static> FromRequest for Protected<T> {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let body = Bytes::from_request(&req, payload);
        Box::pin(async move {
            if !same_site_request(&req) {
                return Err(Error::CsrfRejected("cross-site form post"));
            }
            let body = body.await.map_err(|e| Error::BadRequest(e.to_string()))?;
            if body.len() > FORM_LIMIT {
                return Err(Error::BadRequest("the form is too large".into()));
            }
            let session = current(&req)
                .await?
                .ok_or(Error::CsrfRejected("no session for the form"))?;
            let presented = serde_urlencoded::from_bytes::<TokenField>(&body)
                .ok()
                .and_then(|f| f.csrf_token)
                .ok_or(Error::CsrfRejected("form without CSRF token"))?;
            if !session.csrf.matches(&presented) {
                return Err(Error::CsrfRejected("CSRF token does not match the session"));
            }
            let form = serde_urlencoded::from_bytes::<T>(&body)
                .map_err(|e| Error::BadRequest(format!("the form is incomplete: {e}")))?;
            Ok(Protected { session, form })
        })
    }
}
