//! Request logging: one span per request carrying its request id, and one
//! line when it ends. Paths that carry a secret are logged without it. The
//! request id is also the reference an error page shows and the response's
//! `X-Request-Id`, so a person's report leads straight to the log lines.

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::header::{HeaderName, HeaderValue};
use actix_web::middleware::Next;
use tracing::Span;
use tracing_actix_web::{RequestId, RootSpanBuilder, TracingLogger};

pub fn request_logger() -> TracingLogger<SeatgateSpans> {
    TracingLogger::new()
}

tokio::task_local! {
    /// The id of the request being served on this task.
    static REQUEST_ID: String;
}

/// The reference to show for an error: the current request's id, as logged.
/// Outside a request (never expected) a fresh id, so a page still has one.
pub fn reference() -> String {
    REQUEST_ID
        .try_with(Clone::clone)
        .unwrap_or_else(|_| uuid::Uuid::new_v4().to_string())
}

/// Middleware inside [`request_logger`] (which assigns the id): makes the id
/// available to [`reference`] while the request is handled, error pages
/// included, and sends it back as `X-Request-Id`.
pub async fn expose_request_id(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let id = request
        .extensions()
        .get::<RequestId>()
        .map(ToString::to_string)
        .unwrap_or_default();
    let mut response = REQUEST_ID.scope(id.clone(), next.call(request)).await?;
    if let Ok(value) = HeaderValue::from_str(&id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }
    Ok(response)
}

/// One request being answered, counted in `AppState::in_flight` until
/// dropped (answered, failed, or cancelled by a closed connection).
struct InFlight(std::sync::Arc<std::sync::atomic::AtomicUsize>);

impl InFlight {
    fn count(counter: &std::sync::Arc<std::sync::atomic::AtomicUsize>) -> Self {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        Self(counter.clone())
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.fetch_sub(1, std::sync::atomic::Ordering::SeqCst);
    }
}

/// Middleware inside the router's reach: times each request and counts it
/// under its route pattern (`/sso/{org}/acs`), never its path, and keeps
/// the count of requests under way that shutdown waits for.
pub async fn record_metrics(
    request: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, actix_web::Error> {
    let started = std::time::Instant::now();
    let method = request.method().to_string();
    let _counted = request
        .app_data::<actix_web::web::Data<super::AppState>>()
        .map(|state| InFlight::count(&state.in_flight));
    let response = next.call(request).await?;
    let route = response
        .request()
        .match_pattern()
        .unwrap_or_else(|| "unmatched".to_owned());
    crate::metrics::get().request(
        &method,
        &route,
        response.status().as_u16(),
        started.elapsed(),
    );
    Ok(response)
}

pub struct SeatgateSpans;

/// Path prefixes whose last segment is a bearer token.
const SECRET_PATHS: [&str; 2] = ["/admin/link/", "/invitations/"];

/// The path as it may appear in a log: query strings are dropped (they may
/// carry SAML messages or tokens) and token segments are masked.
fn loggable_path(path: &str) -> String {
    match SECRET_PATHS.iter().find(|prefix| path.starts_with(*prefix)) {
        Some(prefix) => format!("{prefix}[redacted]"),
        None => path.to_owned(),
    }
}

impl RootSpanBuilder for SeatgateSpans {
    fn on_request_start(request: &ServiceRequest) -> Span {
        let request_id = request
            .extensions()
            .get::<RequestId>()
            .map(ToString::to_string)
            .unwrap_or_default();
        tracing::info_span!(
            "request",
            request_id = %request_id,
            method = %request.method(),
            path = %loggable_path(request.path()),
        )
    }

    fn on_request_end<B: MessageBody>(
        span: Span,
        outcome: &Result<ServiceResponse<B>, actix_web::Error>,
    ) {
        let status = match outcome {
            Ok(response) => response.status(),
            Err(error) => error.as_response_error().status_code(),
        };
        span.in_scope(|| tracing::info!(status = status.as_u16(), "request finished"));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_path_segments_are_masked() {
        assert_eq!(
            loggable_path("/admin/link/abc123"),
            "/admin/link/[redacted]"
        );
        assert_eq!(
            loggable_path("/invitations/abc123"),
            "/invitations/[redacted]"
        );
        assert_eq!(loggable_path("/admin/login"), "/admin/login");
    }
}
