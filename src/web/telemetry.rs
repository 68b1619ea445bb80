//! Request logging: one span per request carrying its request id, and one
//! line when it ends. Paths that carry a secret are logged without it.

use actix_web::HttpMessage;
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use tracing::Span;
use tracing_actix_web::{RequestId, RootSpanBuilder, TracingLogger};

pub fn request_logger() -> TracingLogger<SeatgateSpans> {
    TracingLogger::new()
}

pub struct SeatgateSpans;

/// Path prefixes whose last segment is a bearer token.
const SECRET_PATHS: [&str; 1] = ["/admin/link/"];

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
        assert_eq!(loggable_path("/admin/login"), "/admin/login");
    }
}
