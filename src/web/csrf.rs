//! CSRF protection for every state-changing form.
//!
//! Two independent checks: the browser's `Sec-Fetch-Site` header must not say
//! the request comes from another site, and the form must carry the session's
//! CSRF token (compared in constant time). The SAML ACS is the deliberate
//! exception: it is a cross-site POST by design and has its own protections.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, dev::Payload, web::Bytes};
use futures_util::StreamExt;
use serde::Deserialize;
use serde::de::DeserializeOwned;

use super::session::current;
use super::{Error, FORM_LIMIT};
use crate::sessions::Session;

/// A form that passed the CSRF checks, with the session it belongs to. Its
/// body may be up to `LIMIT` bytes.
pub struct Protected<T, const LIMIT: usize = FORM_LIMIT> {
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

/// The session of a state-changing request, if the request passes both checks.
async fn checked_session(req: &HttpRequest, presented: Option<&str>) -> Result<Session, Error> {
    if !same_site_request(req) {
        return Err(Error::CsrfRejected("cross-site form post"));
    }
    let session = current(req)
        .await?
        .ok_or(Error::CsrfRejected("no session for the form"))?;
    let presented = presented.ok_or(Error::CsrfRejected("form without CSRF token"))?;
    if !session.csrf.matches(presented) {
        return Err(Error::CsrfRejected("CSRF token does not match the session"));
    }
    Ok(session)
}

impl<T: DeserializeOwned + 'static, const LIMIT: usize> FromRequest for Protected<T, LIMIT> {
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
            if body.len() > LIMIT {
                return Err(Error::BadRequest("the form is too large".into()));
            }
            let presented = serde_urlencoded::from_bytes::<TokenField>(&body)
                .ok()
                .and_then(|f| f.csrf_token);
            let session = checked_session(&req, presented.as_deref()).await?;
            let form = serde_urlencoded::from_bytes::<T>(&body)
                .map_err(|e| Error::BadRequest(format!("the form is incomplete: {e}")))?;
            Ok(Protected { session, form })
        })
    }
}

/// A `multipart/form-data` form (a file upload) that passed the CSRF checks:
/// its fields by name, each whole in memory, all of them together at most
/// `LIMIT` bytes.
pub struct ProtectedUpload<const LIMIT: usize = UPLOAD_LIMIT> {
    fields: BTreeMap<String, Vec<u8>>,
    /// The name the browser gave each file field's file.
    file_names: BTreeMap<String, String>,
}

/// The most an upload form may carry: a 1 MiB metadata file and a few fields.
pub const UPLOAD_LIMIT: usize = 1024 * 1024 + 64 * 1024;
const UPLOAD_FIELDS: usize = 16;

impl<const LIMIT: usize> ProtectedUpload<LIMIT> {
    /// A field as text (invalid UTF-8 is replaced, then refused by whoever parses it).
    pub fn text(&self, name: &str) -> Option<String> {
        self.fields
            .get(name)
            .map(|bytes| String::from_utf8_lossy(bytes).trim().to_owned())
            .filter(|text| !text.is_empty())
    }

    /// The name of the file sent in a file field, as the browser gave it.
    pub fn file_name(&self, name: &str) -> Option<&str> {
        self.file_names
            .get(name)
            .map(String::as_str)
            .filter(|n| !n.is_empty())
    }

    /// A field as bytes, when it is not empty (a file input left empty sends nothing).
    pub fn bytes(&self, name: &str) -> Option<&[u8]> {
        self.fields
            .get(name)
            .map(Vec::as_slice)
            .filter(|b| !b.is_empty())
    }
}

impl<const LIMIT: usize> FromRequest for ProtectedUpload<LIMIT> {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Error>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let req = req.clone();
        let mut multipart = actix_multipart::Multipart::new(req.headers(), payload.take());
        Box::pin(async move {
            let refused = |e: actix_multipart::MultipartError| {
                Error::BadRequest(format!("the upload could not be read: {e}"))
            };
            let too_large = || Error::UploadTooLarge(LIMIT);
            let mut fields = BTreeMap::new();
            let mut file_names = BTreeMap::new();
            let mut total = 0usize;
            while let Some(field) = multipart.next().await {
                let mut field = field.map_err(refused)?;
                if fields.len() >= UPLOAD_FIELDS {
                    return Err(Error::BadRequest("the form has too many fields".into()));
                }
                let name = field.name().unwrap_or_default().to_owned();
                if let Some(file_name) = field.content_disposition().and_then(|d| d.get_filename())
                {
                    file_names.insert(name.clone(), file_name.to_owned());
                }
                let mut value = Vec::new();
                while let Some(chunk) = field.next().await {
                    let chunk = chunk.map_err(refused)?;
                    total += chunk.len();
                    if total > LIMIT {
                        return Err(too_large());
                    }
                    value.extend_from_slice(&chunk);
                }
                fields.insert(name, value);
            }
            let presented = fields
                .get("csrf_token")
                .and_then(|t| std::str::from_utf8(t).ok());
            checked_session(&req, presented).await?;
            Ok(ProtectedUpload { fields, file_names })
        })
    }
}
