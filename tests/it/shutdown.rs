//! Readiness and graceful shutdown: `/readyz` says when a process should
//! get traffic, and SIGTERM during a burst of sign-ins cuts none off.

use crate::cli::{stderr, stdout, with_db};
use crate::common::idp::TestIdp;
use crate::common::{Backend, TestApp, TestDb};
use crate::licensing::start_server_with;
use crate::on_both_databases;

const IDP: &str = "https://idp.acme.example/saml";
/// Sign-ins in the burst: more than two cores finish in 50 ms.
const BURST: usize = 120;

async fn readiness_follows_the_database_and_its_migrations(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut probe = app.visitor();
    let ready = probe.get("/readyz").await;
    assert_eq!(
        (ready.status.as_u16(), ready.body.as_str()),
        (200, r#"{"status":"ready"}"#)
    );

    // As while another process upgrades the schema: a migration of this
    // version is not applied yet.
    {
        use diesel::RunQueryDsl;
        let mut conn = app.store.connection().expect("connection");
        diesel::sql_query(
            "DELETE FROM __diesel_schema_migrations WHERE version = (SELECT MAX(version) FROM __diesel_schema_migrations)",
        )
        .execute(&mut *conn)
        .expect("forget the last migration");
    }
    let pending = probe.get("/readyz").await;
    assert_eq!(pending.status.as_u16(), 503);
    assert!(pending.body.contains("migrations pending"));
    assert_eq!(
        probe.get("/healthz").await.status.as_u16(),
        200,
        "still alive"
    );

    app.db.destroy();
    let gone = probe.get("/readyz").await;
    assert_eq!(gone.status.as_u16(), 503);
    assert!(gone.body.contains("database unavailable"));
}

/// With a drain, the burst ends while the server still accepts; readiness
/// says 503 meanwhile.
async fn sigterm_during_a_burst_of_sign_ins_cuts_none_off(backend: Backend) {
    burst_then_sigterm(backend, 2).await;
}

/// Without one, the server stops accepting at once, with the burst's
/// requests accepted and under way: they finish all the same.
async fn sigterm_without_a_drain_still_finishes_the_requests_under_way(backend: Backend) {
    burst_then_sigterm(backend, 0).await;
}

async fn burst_then_sigterm(backend: Backend, drain_seconds: u32) {
    let db = TestDb::fresh(backend);
    let idp = TestIdp::new(IDP);
    let metadata = db.dir().join("idp.xml");
    std::fs::write(&metadata, idp.metadata()).expect("metadata");
    for args in [
        &["org", "create", "acme", "--name", "Acme"][..],
        &[
            "idp",
            "add",
            "acme",
            "--metadata",
            metadata.to_str().expect("path"),
        ],
        &[
            "license", "set", "acme", "--type", "Learning", "--seats", "1000",
        ],
        &[
            "org",
            "set",
            "acme",
            "--auto-assign",
            "on",
            "--license-type",
            "Learning",
        ],
    ] {
        let output = with_db(&db, args);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
    }
    let public = "http://seatgate.test";
    let mut server =
        start_server_with(&db, public, &[("SEATGATE_SHUTDOWN_DRAIN_SECONDS", "2")]).await;
    let sp = seatgate::saml::SpEndpoints::for_org(
        &seatgate::config::BaseUrl::parse(public).expect("URL"),
        &"acme".parse().expect("slug"),
    );
    let now = seatgate::clock::Clock::system().now();
    let finished = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let burst: Vec<_> = (0..BURST)
        .map(|i| {
            let email = format!("learner{i}@acme.example");
            let mut spec = seatgate::saml::mint::ResponseSpec::new(IDP, &sp, &email, now);
            spec.attributes = vec![("email".into(), email)];
            let encoded = seatgate::saml::mint::encode(&idp.mint(&spec));
            let (address, finished) = (server.address.clone(), finished.clone());
            actix_rt::spawn(async move {
                let mut visitor = crate::common::Visitor::new(&address);
                let status = visitor
                    .post_with(
                        "/sso/acme/acs",
                        &[("SAMLResponse", encoded.as_str())],
                        &[("Connection", "close")],
                    )
                    .await
                    .status
                    .as_u16();
                finished.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                status
            })
        })
        .collect();
    actix_rt::time::sleep(std::time::Duration::from_millis(50)).await;
    server.terminate();
    let before = finished.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        before < BURST,
        "sign-ins were under way at SIGTERM ({before} of {BURST} done)"
    );
    if drain_seconds > 0 {
        // Still serving, but no longer ready: the load balancer moves on.
        let mut probe = crate::common::Visitor::new(&server.address);
        let mut saw_unready = false;
        for _ in 0..15 {
            if probe.get("/readyz").await.status.as_u16() == 503 {
                saw_unready = true;
                break;
            }
            actix_rt::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(saw_unready, "readiness says 503 after SIGTERM");
    }
    let mut statuses = Vec::new();
    for request in burst {
        statuses.push(request.await.expect("a sign-in task"));
    }
    assert!(
        statuses.iter().all(|s| *s == 303),
        "every sign-in finished: {statuses:?}"
    );
    let exit = server.exited_within(20).await.expect("the server stops");
    assert!(exit.success(), "serve exits 0 after SIGTERM: {exit:?}");
    assert_eq!(
        stdout(&with_db(&db, &["license", "show", "acme"])),
        format!("Learning {BURST}/1000\n"),
        "every sign-in whole: one learner, one seat each"
    );
    assert_eq!(
        stdout(&with_db(&db, &["user", "list", "acme"]))
            .lines()
            .count(),
        BURST
    );
}

on_both_databases!(
    readiness_follows_the_database_and_its_migrations,
    sigterm_during_a_burst_of_sign_ins_cuts_none_off,
    sigterm_without_a_drain_still_finishes_the_requests_under_way,
);
