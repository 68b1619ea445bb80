//! The `{id}` segment of a route, parsed once into its typed id.

use std::future::{Ready, ready};
use std::str::FromStr;

use actix_web::dev::Payload;
use actix_web::{FromRequest, HttpRequest};

use super::Error;

/// The route's `{id}`, parsed into `T` (a typed id); a malformed one is a
/// 404, like an id that names nothing.
pub struct PathId<T>(pub T);

impl<T: FromStr> FromRequest for PathId<T> {
    type Error = Error;
    type Future = Ready<Result<Self, Error>>;

    fn from_request(request: &HttpRequest, _: &mut Payload) -> Self::Future {
        ready(
            request
                .match_info()
                .get("id")
                .and_then(|id| id.parse().ok())
                .map(PathId)
                .ok_or(Error::NotFound),
        )
    }
}
