//! Readiness and graceful shutdown: `/readyz` says when a process should
//! get traffic, and SIGTERM during a burst of sign-ins cuts none off.

use crate::cli::{stdout, with_db};
use crate::common::idp::TestIdp;
use crate::common::{Backend, TestApp, TestDb};
use crate::licensing::{acme_from_the_command_line, start_server_with};
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

/// With a drain the server goes on accepting while readiness says 503.
async fn sigterm_during_a_burst_of_sign_ins_cuts_none_off(backend: Backend) {
    burst_then_sigterm(backend, 2).await;
}

/// Without one the server stops accepting at once, with sign-ins under way:
/// those it took finish, and the others are refused whole.
async fn sigterm_without_a_drain_still_finishes_the_requests_under_way(backend: Backend) {
    burst_then_sigterm(backend, 0).await;
}

async fn burst_then_sigterm(backend: Backend, drain_seconds: u32) {
    let db = TestDb::fresh(backend);
    let idp = TestIdp::new(IDP);
    acme_from_the_command_line(&db, &idp, 1000);
    let public = "http://seatgate.test";
    let drain = drain_seconds.to_string();
    let mut server =
        start_server_with(&db, public, &[("SEATGATE_SHUTDOWN_DRAIN_SECONDS", &drain)]).await;
    let sp = seatgate::saml::SpEndpoints::for_org(
        &seatgate::config::BaseUrl::parse(public).expect("URL"),
        &"acme".parse().expect("slug"),
    );
    let now = seatgate::clock::Clock::system().now();
    let finished = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    // One client, made before the burst (making a connector loads the CA
    // store: 120 of them would delay the requests past the signal), with
    // room for every request at once, each on a connection of its own.
    let client = awc::Client::builder()
        .connector(awc::Connector::new().limit(BURST * 2))
        .timeout(std::time::Duration::from_secs(60))
        .disable_redirects()
        .finish();
    let burst: Vec<_> = (0..BURST)
        .map(|i| {
            let email = format!("learner{i}@acme.example");
            let mut spec = seatgate::saml::mint::ResponseSpec::new(IDP, &sp, &email, now);
            spec.attributes = vec![("email".into(), email)];
            let encoded = seatgate::saml::mint::encode(&idp.mint(&spec));
            let (address, finished, client) =
                (server.address.clone(), finished.clone(), client.clone());
            actix_rt::spawn(async move {
                // Closed after the answer: a request is either taken by the
                // server or refused whole.
                let answer = client
                    .post(format!("{address}/sso/acme/acs"))
                    .insert_header(("Connection", "close"))
                    .send_form(&[("SAMLResponse", encoded.as_str())])
                    .await
                    .map(|r| r.status().as_u16())
                    .map_err(|e| e.to_string());
                finished.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                (format!("learner{i}@acme.example"), answer)
            })
        })
        .collect();
    // The signal comes while the server is busy with the burst.
    while finished.load(std::sync::atomic::Ordering::SeqCst) < 5 {
        actix_rt::time::sleep(std::time::Duration::from_millis(5)).await;
    }
    server.terminate();
    let before = finished.load(std::sync::atomic::Ordering::SeqCst);
    assert!(
        before < BURST,
        "sign-ins were under way at SIGTERM ({before} of {BURST} done)"
    );
    if drain_seconds > 0 {
        // Still serving, but no longer ready: the load balancer moves on.
        let mut saw_unready = false;
        for _ in 0..20 {
            let client = awc::Client::new();
            let probe = client
                .get(format!("{}/readyz", server.address))
                .send()
                .await;
            if probe.is_ok_and(|r| r.status().as_u16() == 503) {
                saw_unready = true;
                break;
            }
            actix_rt::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        assert!(saw_unready, "readiness says 503 after SIGTERM");
    }
    let mut answered = std::collections::BTreeSet::new();
    let mut refused = Vec::new();
    for request in burst {
        match request.await.expect("a sign-in task") {
            (email, Ok(303)) => {
                answered.insert(email);
            }
            (email, Ok(status)) => panic!("{email}: answered {status}"),
            // Never taken by the server (it had stopped accepting): refused
            // whole, as a load balancer sees it and retries elsewhere.
            (email, Err(reason)) => refused.push((email, reason)),
        }
    }
    assert!(
        !answered.is_empty(),
        "no sign-in was answered; the database has {} learners; {} refused, the first: {:?}",
        stdout(&with_db(&db, &["user", "list", "acme"]))
            .lines()
            .count(),
        refused.len(),
        refused.first()
    );
    let exit = server.exited_within(20).await.expect("the server stops");
    assert!(exit.success(), "serve exits 0 after SIGTERM: {exit:?}");
    // None cut off: every learner the database has was answered, and each
    // holds the one seat the sign-in gave.
    let learners: std::collections::BTreeSet<String> =
        stdout(&with_db(&db, &["user", "list", "acme"]))
            .lines()
            .filter_map(|line| line.split('\t').next())
            .map(str::to_owned)
            .collect();
    assert_eq!(learners, answered, "refused without an answer: {refused:?}");
    assert_eq!(
        stdout(&with_db(&db, &["license", "show", "acme"])),
        format!("Learning {}/1000\n", answered.len())
    );
}

on_both_databases!(
    readiness_follows_the_database_and_its_migrations,
    sigterm_during_a_burst_of_sign_ins_cuts_none_off,
    sigterm_without_a_drain_still_finishes_the_requests_under_way,
);
