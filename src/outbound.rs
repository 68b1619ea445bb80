//! Outgoing HTTP requests for openidconnect (LinkedIn, the demo
//! application): awc with a timeout, a size limit and no redirects.

use std::time::Duration;

use openidconnect::{HttpRequest, HttpResponse};

/// How long Seatgate waits for the other side.
const TIMEOUT: Duration = Duration::from_secs(10);
/// The largest answer read.
const MAX_BODY: usize = 1024 * 1024;

/// An HTTP failure, as openidconnect wants it.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct HttpError(String);

/// Performs one HTTP request with awc for openidconnect.
pub async fn send(request: HttpRequest) -> Result<HttpResponse, HttpError> {
    let client = awc::Client::builder()
        .timeout(TIMEOUT)
        .disable_redirects()
        .finish();
    let method = awc::http::Method::from_bytes(request.method().as_str().as_bytes())
        .map_err(|e| HttpError(e.to_string()))?;
    let mut outgoing = client.request(method, request.uri().to_string());
    for (name, value) in request.headers() {
        outgoing = outgoing.insert_header((name.as_str(), value.as_bytes()));
    }
    let mut response = outgoing
        .send_body(request.into_body())
        .await
        .map_err(|e| HttpError(e.to_string()))?;
    let body = response
        .body()
        .limit(MAX_BODY)
        .await
        .map_err(|e| HttpError(e.to_string()))?;
    let mut answer = openidconnect::http::Response::builder().status(response.status().as_u16());
    for (name, value) in response.headers() {
        answer = answer.header(name.as_str(), value.as_bytes());
    }
    answer
        .body(body.to_vec())
        .map_err(|e| HttpError(e.to_string()))
}

/// An error with its causes, for the log and the page.
pub fn describe(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
