//! One start-up for `seatgate serve`, `seatgate demo` and the tests: from
//! settings, a store and a clock to a running server, the same way each time.

use std::net::TcpListener;

use actix_web::dev::Server;

use crate::clock::Clock;
use crate::config::Settings;
use crate::demo_idp::DemoIdp;
use crate::oidc::keys::OidcKeys;
use crate::saml::keys::{KeyError, SpKeyRing};
use crate::store::Store;
use crate::web::{self, AppState};

/// Why the server could not be put together.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("certs_dir: {0}")]
    Keys(#[from] KeyError),
    #[error("linkedin: {0}")]
    LinkedIn(String),
}

/// Who runs the housekeeping (purges, metadata refresh, webhook deliveries).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Housekeeping {
    /// Periodically, beside the server.
    Periodic,
    /// Whoever holds the state, when they mean to: tests move their clock by
    /// hand and purge then.
    Manual,
}

/// Everything the server needs, built and checked, not yet running.
pub struct Application {
    pub state: AppState,
    listener: TcpListener,
}

impl Application {
    /// Loads (or makes) the SP keys and, when enabled, the demo IdP's, sets up
    /// the LinkedIn client and the state; `listener` is already bound (port 0
    /// in tests).
    pub fn build(
        settings: Settings,
        store: Store,
        clock: Clock,
        listener: TcpListener,
    ) -> Result<Self, StartError> {
        let sp_keys = SpKeyRing::load(&settings.certs_dir, clock.now())?;
        let oidc_keys = OidcKeys::load_or_generate(&settings.certs_dir)?;
        let demo_idp = if settings.demo_idp {
            tracing::warn!("the demo IdP is enabled at /demo-idp: for trying Seatgate only");
            Some(DemoIdp::load_or_generate(
                &settings.certs_dir,
                &settings.base_url,
            )?)
        } else {
            None
        };
        if settings.linkedin.is_none() {
            tracing::info!("no linkedin_client_id: learners cannot connect LinkedIn profiles");
        }
        let state = AppState::new(store, clock, settings, sp_keys, oidc_keys, demo_idp)
            .map_err(StartError::LinkedIn)?;
        Ok(Self { state, listener })
    }

    /// Serves the demo application at `/demo-app` (`seatgate demo` only).
    pub fn with_demo_app(mut self, app: crate::demo_idp::DemoApp) -> Self {
        self.state.demo_app = Some(std::sync::Arc::new(app));
        self
    }

    /// Starts serving; call inside an actix system.
    pub fn run(self, housekeeping: Housekeeping) -> std::io::Result<Server> {
        if housekeeping == Housekeeping::Periodic {
            web::spawn_housekeeping(self.state.clone());
            crate::webhooks::delivery::spawn(self.state.store.clone(), self.state.clock.clone());
            web::spawn_key_reload(self.state.clone());
            if let Some(dir) = &self.state.settings.imports_dir {
                crate::imports::drop_folder::watch(
                    self.state.store.clone(),
                    self.state.clock.clone(),
                    dir.clone(),
                    self.state.settings.imports_poll,
                );
            }
        }
        let state = self.state.clone();
        let server = web::serve(self.listener, self.state)?;
        if housekeeping == Housekeeping::Periodic {
            stop_on_signals(state, server.handle());
        }
        Ok(server)
    }
}

/// SIGTERM (a service manager, a load balancer's orchestrator): `/readyz`
/// answers 503 for `shutdown_drain` while requests are still served; then,
/// once no request has been under way for 300 ms (at most
/// `shutdown_timeout`), the server stops accepting and `serve` exits 0.
/// SIGINT (Ctrl-C) skips the drain.
fn stop_on_signals(state: AppState, server: actix_web::dev::ServerHandle) {
    use tokio::signal::unix::{SignalKind, signal};
    actix_web::rt::spawn(async move {
        let (Ok(mut terminate), Ok(mut interrupt)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            tracing::error!("cannot listen for SIGTERM and SIGINT: stop the server with SIGKILL");
            return;
        };
        let drain = tokio::select! {
            _ = terminate.recv() => state.settings.shutdown_drain,
            _ = interrupt.recv() => std::time::Duration::ZERO,
        };
        state
            .draining
            .store(true, std::sync::atomic::Ordering::SeqCst);
        tracing::info!(
            drain_seconds = drain.as_secs(),
            timeout_seconds = state.settings.shutdown_timeout.as_secs(),
            "shutting down: not ready any more, finishing the requests under way"
        );
        actix_web::rt::time::sleep(drain).await;
        // actix drops connections it accepted but has not handed to a
        // worker yet when it stops, even gracefully: those requests would
        // get no answer. So stop only once nothing has been under way for
        // a moment (or the timeout has passed); then the connections still
        // open are idle ones.
        let timeout = state.settings.shutdown_timeout;
        let waited = std::time::Instant::now();
        let mut quiet = 0;
        while quiet < 3 && waited.elapsed() < timeout {
            if state.in_flight.load(std::sync::atomic::Ordering::SeqCst) == 0 {
                quiet += 1;
            } else {
                quiet = 0;
            }
            actix_web::rt::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        server.stop(true).await;
        tracing::info!("stopped");
    });
}
