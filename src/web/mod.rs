//! The HTTP layer: the actix-web app factory, sessions, CSRF, error pages, and
//! one routes file per area. Handlers parse, call one domain function, render.

mod admin;
mod console;
mod csrf;
mod demo_app;
mod demo_idp;
mod error;
mod invitations;
mod learner;
mod oidc;
mod pages;
pub mod path;
mod rate_limit;
mod scim;
mod session;
mod setup;
mod sso;
mod start;
mod system;
mod telemetry;

use std::net::TcpListener;
use std::sync::Arc;

use actix_web::dev::Server;
use actix_web::middleware::DefaultHeaders;
use actix_web::{App, HttpServer, web};

use crate::clock::Clock;
use crate::config::Settings;
use crate::saml::keys::SpKeyRing;
use crate::store::Store;

pub use error::Error;

/// What every handler can reach. Cheap to clone.
#[derive(Clone)]
pub struct AppState {
    pub store: Store,
    pub clock: Clock,
    pub settings: Arc<Settings>,
    /// The SP keys, read again from `certs_dir` every minute.
    pub sp_keys: Arc<SpKeyRing>,
    /// The keys ID tokens for applications are signed with.
    pub oidc_keys: Arc<crate::oidc::keys::OidcKeys>,
    /// The development IdP, when enabled (`demo_idp`).
    pub demo_idp: Option<Arc<crate::demo_idp::DemoIdp>>,
    /// The demo application at `/demo-app`, when `seatgate demo` registered it.
    pub demo_app: Option<Arc<crate::demo_idp::DemoApp>>,
    /// The LinkedIn OpenID Connect client, when a client ID is configured.
    pub linkedin: Option<Arc<crate::binding::linkedin::LinkedIn>>,
    /// The request limits (ACS, administrator sign-in, links, SCIM).
    pub limits: Arc<rate_limit::Limits>,
    /// The mail server, when `smtp_url` is configured.
    pub mailer: Option<Arc<crate::mail::Mailer>>,
    /// Set on SIGTERM: `/readyz` answers 503 while the last requests finish.
    pub draining: Arc<std::sync::atomic::AtomicBool>,
    /// Requests being answered now (shutdown waits for none).
    pub in_flight: Arc<std::sync::atomic::AtomicUsize>,
}

impl AppState {
    /// What a sign-in needs of the server besides the database.
    pub fn sso_context(&self) -> crate::signin::SsoContext<'_> {
        crate::signin::SsoContext {
            base_url: &self.settings.base_url,
            keys: self.sp_keys.get(),
            clock: &self.clock,
            linkedin_available: self.linkedin.is_some(),
        }
    }

    /// The state of a server with these parts; the LinkedIn client comes from the settings.
    pub fn new(
        store: Store,
        clock: Clock,
        settings: Settings,
        sp_keys: SpKeyRing,
        oidc_keys: crate::oidc::keys::OidcKeys,
        demo_idp: Option<crate::demo_idp::DemoIdp>,
    ) -> Result<Self, String> {
        let linkedin = match &settings.linkedin {
            Some(config) => Some(Arc::new(crate::binding::linkedin::LinkedIn::new(
                config.clone(),
                &settings.base_url.join(learner::profile::CALLBACK_PATH),
                clock.clone(),
            )?)),
            None => None,
        };
        let mailer = match &settings.mail {
            Some(mail) => Some(Arc::new(crate::mail::Mailer::new(mail)?)),
            None => None,
        };
        let limits = Arc::new(rate_limit::Limits::new(&settings));
        Ok(Self {
            store,
            clock,
            limits,
            mailer,
            settings: Arc::new(settings),
            sp_keys: Arc::new(sp_keys),
            oidc_keys: Arc::new(oidc_keys),
            demo_idp: demo_idp.map(Arc::new),
            demo_app: None,
            draining: Arc::default(),
            in_flight: Arc::default(),
            linkedin,
        })
    }
}

const BLOCKING_THREADS_PER_WORKER: usize = 4;

/// Largest form body we read; sign-in forms are tiny.
const FORM_LIMIT: usize = 16 * 1024;

/// Content-Security-Policy: our own styles and scripts only, no framing, forms
/// post back to us.
const CSP: &str = "default-src 'none'; style-src 'self'; script-src 'self'; img-src 'self' data:; \
                   form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

/// [`CSP`] for a page whose form is answered with a redirect to `origin`:
/// browsers apply `form-action` to the redirects after a form post too.
pub(crate) fn csp_with_form_action(origin: &str) -> String {
    CSP.replace(
        "form-action 'self'",
        &format!("form-action 'self' {origin}"),
    )
}

/// Starts the server on an already-bound listener (port 0 in tests).
pub fn serve(listener: TcpListener, state: AppState) -> std::io::Result<Server> {
    let shutdown_timeout = state.settings.shutdown_timeout.as_secs();
    let server = HttpServer::new(move || {
        App::new()
            .app_data(web::Data::new(state.clone()))
            .app_data(web::FormConfig::default().limit(FORM_LIMIT))
            .configure(routes)
            .default_service(web::to(system::not_found))
            .wrap(
                DefaultHeaders::new()
                    .add(("Content-Security-Policy", CSP))
                    .add(("X-Content-Type-Options", "nosniff"))
                    .add(("X-Frame-Options", "DENY"))
                    .add(("Referrer-Policy", "same-origin"))
                    .add(("Cache-Control", "no-store")),
            )
            .wrap(actix_web::middleware::from_fn(telemetry::record_metrics))
            .wrap(actix_web::middleware::from_fn(telemetry::expose_request_id))
            .wrap(telemetry::request_logger())
    })
    // Database work and signature checks run on each worker's blocking pool.
    // A few threads per worker keep both cores busy; hundreds (actix's
    // default) would starve the workers that read requests, and slow clients'
    // requests would then time out under load.
    .worker_max_blocking_threads(BLOCKING_THREADS_PER_WORKER)
    // actix's 5 s to receive a request is short for learners on slow mobile
    // links and for bursts on a busy machine; 30 s still bounds idle
    // connections (a reverse proxy in front adds its own limits).
    .client_request_timeout(std::time::Duration::from_secs(30))
    // Signals are ours (`app::Application::run`): readiness says 503 first.
    .disable_signals()
    .shutdown_timeout(shutdown_timeout)
    .listen(listener)?
    .run();
    Ok(server)
}

fn routes(cfg: &mut web::ServiceConfig) {
    system::routes(cfg);
    start::routes(cfg);
    invitations::routes(cfg);
    admin::routes(cfg);
    setup::routes(cfg);
    console::routes(cfg);
    sso::routes(cfg);
    scim::routes(cfg);
    learner::routes(cfg);
    oidc::routes(cfg);
    demo_idp::routes(cfg);
    demo_app::routes(cfg);
}

/// Periodic work every `housekeeping_interval` (ten minutes by default), in
/// one process at a time (`jobs`): purge expired sessions, SSO requests,
/// replay-cache entries, OAuth codes and tokens, finished webhook deliveries
/// and old job records; refresh IdP metadata fetched from URLs more than a
/// day ago.
pub fn spawn_housekeeping(state: AppState) {
    let (store, clock, interval) = (
        state.store.clone(),
        state.clock.clone(),
        state.settings.housekeeping_interval,
    );
    crate::jobs::spawn(store, clock, "housekeeping", interval, move || {
        housekeeping(state.clone())
    });
}

async fn housekeeping(state: AppState) -> Result<(), String> {
    let clock = state.clock.clone();
    let purged = state
        .store
        .run(move |conn| {
            let sessions = crate::sessions::purge_expired(conn, &clock)?;
            let now = clock.now_naive();
            Ok::<_, crate::store::Error>(
                sessions
                    + crate::signin::purge_expired(conn, now)?
                    + crate::binding::purge_expired_pending(conn, now)?
                    + crate::oidc::purge_expired(conn, now)?
                    + crate::webhooks::purge_finished(conn, now)?
                    + crate::jobs::purge_runs(conn, now)?,
            )
        })
        .await
        .map_err(|e| format!("purge: {e}"))?;
    tracing::debug!(purged, "expired rows purged");
    let refreshed =
        crate::orgs::connections::metadata_source::refresh_due(&state.store, &state.clock)
            .await
            .map_err(|e| format!("IdP metadata refresh: {e}"))?;
    tracing::debug!(?refreshed, "IdP metadata refresh");
    Ok(())
}

/// Reads the SP keys again every minute: a rotation made by `seatgate certs
/// rotate` is published, and signs when its time comes, without a restart.
pub fn spawn_key_reload(state: AppState) {
    actix_web::rt::spawn(async move {
        let mut interval = actix_web::rt::time::interval(std::time::Duration::from_secs(60));
        loop {
            interval.tick().await;
            let (ring, now) = (state.sp_keys.clone(), state.clock.now());
            match web::block(move || ring.reload(now)).await {
                Ok(Ok(())) => {}
                Ok(Err(e)) => {
                    tracing::warn!(reason = %e, "SP keys could not be read again; the keys in use stay")
                }
                Err(e) => tracing::warn!(reason = %e, "SP key reload did not run"),
            }
        }
    });
}
