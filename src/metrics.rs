//! Prometheus metrics (`GET /metrics`, the text exposition format): sign-ins
//! by outcome and refusal reason, HTTP latency by route, seats used and free
//! per pool, database pool use, periodic job runs and webhook deliveries.
//!
//! The counters live in one registry per process, reached through [`get`]:
//! they are counted where things happen (sign-in, jobs, deliveries), deep
//! below the web layer, and a registry is process-wide by nature. Gauges
//! that describe the database (seats) are read when Prometheus scrapes.

use std::sync::OnceLock;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SignInLabels {
    outcome: &'static str,
    reason: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    method: String,
    route: String,
    status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SeatLabels {
    org: String,
    license_type: String,
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct JobLabels {
    job: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct OutcomeLabels {
    outcome: &'static str,
}

/// The process's metrics.
pub struct Metrics {
    registry: Registry,
    sign_ins: Family<SignInLabels, Counter>,
    http: Family<HttpLabels, Histogram>,
    seats: Family<SeatLabels, Gauge>,
    pool: Family<StateLabels, Gauge>,
    jobs: Family<JobLabels, Counter>,
    deliveries: Family<OutcomeLabels, Counter>,
}

/// Request durations from 1 ms to about 16 s.
fn latency_histogram() -> Histogram {
    Histogram::new(exponential_buckets(0.001, 2.0, 15))
}

impl Metrics {
    fn new() -> Self {
        let mut registry = Registry::with_prefix("seatgate");
        let sign_ins = Family::<SignInLabels, Counter>::default();
        registry.register(
            "sign_ins",
            "SAML sign-ins at the ACS, by outcome and refusal reason",
            sign_ins.clone(),
        );
        let http = Family::<HttpLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer a request, by route pattern, method and status class",
            http.clone(),
        );
        let seats = Family::<SeatLabels, Gauge>::default();
        registry.register(
            "seats",
            "Seats of each license pool, used and free (read at scrape time)",
            seats.clone(),
        );
        let pool = Family::<StateLabels, Gauge>::default();
        registry.register(
            "db_pool_connections",
            "Database pool connections, idle and in use (read at scrape time)",
            pool.clone(),
        );
        let jobs = Family::<JobLabels, Counter>::default();
        registry.register(
            "job_runs",
            "Periodic job runs in this process, by job and outcome",
            jobs.clone(),
        );
        let deliveries = Family::<OutcomeLabels, Counter>::default();
        registry.register(
            "webhook_deliveries",
            "Webhook delivery attempts from this process, by outcome",
            deliveries.clone(),
        );
        Self {
            registry,
            sign_ins,
            http,
            seats,
            pool,
            jobs,
            deliveries,
        }
    }

    /// A sign-in at the ACS; `refused` with the reason's stable code.
    pub fn sign_in(&self, refused: Option<&'static str>) {
        let labels = match refused {
            Some(reason) => SignInLabels {
                outcome: "refused",
                reason,
            },
            None => SignInLabels {
                outcome: "signed_in",
                reason: "",
            },
        };
        self.sign_ins.get_or_create(&labels).inc();
    }

    /// One answered request. `route` is the matched pattern
    /// (`/sso/{org}/acs`), never the path: a path has unbounded values.
    pub fn request(&self, method: &str, route: &str, status: u16, took: Duration) {
        let labels = HttpLabels {
            method: method.to_owned(),
            route: route.to_owned(),
            status: format!("{}xx", status / 100),
        };
        self.http.get_or_create(&labels).observe(took.as_secs_f64());
    }

    pub fn job_run(&self, job: &'static str, failed: bool) {
        let outcome = if failed { "failed" } else { "done" };
        self.jobs.get_or_create(&JobLabels { job, outcome }).inc();
    }

    pub fn webhook_delivery(&self, delivered: bool) {
        let outcome = if delivered { "delivered" } else { "failed" };
        self.deliveries
            .get_or_create(&OutcomeLabels { outcome })
            .inc();
    }

    /// The text exposition, with the scrape-time gauges set from `seats`
    /// ((org, license type, used, total) per pool) and the pool's
    /// (in use, idle) connections.
    pub fn encode(&self, seats: &[(String, String, i64, i64)], pool: (u32, u32)) -> String {
        self.seats.clear();
        for (org, license_type, used, total) in seats {
            for (state, value) in [("used", *used), ("free", (total - used).max(0))] {
                self.seats
                    .get_or_create(&SeatLabels {
                        org: org.clone(),
                        license_type: license_type.clone(),
                        state,
                    })
                    .set(value);
            }
        }
        self.pool
            .get_or_create(&StateLabels { state: "in_use" })
            .set(pool.0.into());
        self.pool
            .get_or_create(&StateLabels { state: "idle" })
            .set(pool.1.into());
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &self.registry)
            .expect("writing to a String cannot fail");
        text
    }
}

/// This process's metrics.
pub fn get() -> &'static Metrics {
    static METRICS: OnceLock<Metrics> = OnceLock::new();
    METRICS.get_or_init(Metrics::new)
}
