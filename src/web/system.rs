//! Health, the stylesheet and scripts, and the not-found page.

use actix_web::http::header::{CACHE_CONTROL, CONTENT_TYPE};
use actix_web::{HttpResponse, web};
use serde_json::json;

use super::{AppState, Error};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/healthz", web::get().to(healthz))
        .route("/readyz", web::get().to(readyz))
        .route("/metrics", web::get().to(metrics))
        .route("/static/seatgate.css", web::get().to(stylesheet))
        .route("/static/autopost.js", web::get().to(autopost_script))
        .route("/static/console.js", web::get().to(console_script));
}

/// 200 when the database answers, 503 otherwise (with the reason in the log only).
async fn healthz(state: web::Data<AppState>) -> HttpResponse {
    match state.store.ping().await {
        Ok(()) => HttpResponse::Ok().json(json!({ "status": "ok" })),
        Err(e) => {
            tracing::error!(reason = %e, "health check failed");
            HttpResponse::ServiceUnavailable()
                .json(json!({ "status": "unavailable", "database": "down" }))
        }
    }
}

/// 200 when this process should get traffic: not shutting down, the
/// database answers, and no migration of this version is pending (another
/// process may be applying them during an upgrade). `/healthz` stays the
/// liveness check.
async fn readyz(state: web::Data<AppState>) -> HttpResponse {
    let unready = |why: &str| HttpResponse::ServiceUnavailable().json(json!({ "status": why }));
    if state.draining.load(std::sync::atomic::Ordering::SeqCst) {
        return unready("shutting down");
    }
    if let Err(e) = state.store.ping().await {
        tracing::error!(reason = %e, "readiness: the database does not answer");
        return unready("database unavailable");
    }
    match state.store.pending_migrations().await {
        Ok(0) => HttpResponse::Ok().json(json!({ "status": "ready" })),
        Ok(pending) => {
            tracing::warn!(pending, "readiness: migrations are pending");
            unready("migrations pending")
        }
        Err(e) => {
            tracing::error!(reason = %e, "readiness: migrations could not be read");
            unready("database unavailable")
        }
    }
}

/// The Prometheus exposition, for the bearer of `metrics_token`; without
/// one configured the endpoint does not exist (it names organizations).
async fn metrics(
    state: web::Data<AppState>,
    request: actix_web::HttpRequest,
) -> Result<HttpResponse, Error> {
    let Some(token) = &state.settings.metrics_token else {
        return Err(Error::NotFound);
    };
    let presented = request
        .headers()
        .get(actix_web::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default();
    if !bool::from(subtle::ConstantTimeEq::ct_eq(
        presented.as_bytes(),
        token.expose().as_bytes(),
    )) {
        tracing::info!("metrics refused: wrong or missing bearer token");
        return Ok(HttpResponse::Unauthorized()
            .insert_header((
                actix_web::http::header::WWW_AUTHENTICATE,
                "Bearer realm=\"seatgate\"",
            ))
            .finish());
    }
    let seats = state
        .store
        .run(|conn| {
            let mut seats = Vec::new();
            for org in crate::orgs::list(conn)? {
                for pool in crate::licensing::pools(conn, org.id)? {
                    seats.push((
                        org.slug.to_string(),
                        pool.license_type.to_string(),
                        i64::from(pool.assigned),
                        i64::from(pool.seats),
                    ));
                }
            }
            Ok::<_, Error>(seats)
        })
        .await?;
    Ok(HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8"))
        .body(crate::metrics::get().encode(&seats, state.store.pool_use())))
}

async fn stylesheet() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/css; charset=utf-8"))
        .insert_header((CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("../../templates/static/seatgate.css"))
}

async fn autopost_script() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/javascript; charset=utf-8"))
        .insert_header((CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("../../templates/static/autopost.js"))
}

async fn console_script() -> HttpResponse {
    HttpResponse::Ok()
        .insert_header((CONTENT_TYPE, "text/javascript; charset=utf-8"))
        .insert_header((CACHE_CONTROL, "public, max-age=3600"))
        .body(include_str!("../../templates/static/console.js"))
}

pub async fn not_found() -> Result<HttpResponse, Error> {
    Err(Error::NotFound)
}
