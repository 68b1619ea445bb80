//! IdP connections added from a metadata URL: fetched, refreshed daily, last good copy kept.

use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use actix_web::{App, HttpResponse, HttpServer, web};
use chrono::TimeDelta;
use seatgate::orgs::connections;
use seatgate::orgs::connections::metadata_source::{self, Refreshed};

use crate::common::idp::TestIdp;
use crate::common::{Backend, TestApp};
use crate::on_both_databases;

/// What the fake IdP's metadata endpoint answers: a status and a body.
type Served = Arc<Mutex<(u16, String)>>;

fn serve_metadata(served: Served) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("port");
    let url = format!(
        "http://{}/federationmetadata.xml",
        listener.local_addr().unwrap()
    );
    let server = HttpServer::new(move || {
        let served = served.clone();
        App::new().default_service(web::to(move || {
            let (status, body) = served.lock().unwrap().clone();
            async move {
                HttpResponse::build(actix_web::http::StatusCode::from_u16(status).unwrap())
                    .body(body)
            }
        }))
    })
    .workers(1)
    .listen(listener)
    .expect("listen")
    .run();
    actix_rt::spawn(server);
    url
}

async fn metadata_url_is_fetched_and_refreshed_daily_keeping_the_last_good_copy(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.org("acme");
    let idp = TestIdp::new("https://idp.acme.example/saml");
    let served: Served = Arc::new(Mutex::new((200, idp.metadata())));
    let url = serve_metadata(served.clone());

    let db = app.db.url_text();
    let cli_url = url.clone();
    let output = actix_web::rt::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_seatgate"))
            .env("SEATGATE_LOG", "warn")
            .args([
                "--database-url",
                &db,
                "idp",
                "add",
                "acme",
                "--metadata",
                &cli_url,
            ])
            .output()
            .expect("run seatgate")
    })
    .await
    .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );

    let org = app.org("acme");
    let listed = || connections::list(&mut app.store.connection().unwrap(), org.id).unwrap();
    let first = listed().remove(0);
    assert_eq!(first.metadata_url.as_deref(), Some(url.as_str()));
    let original_cert = first.certificates[0].certificate.fingerprint.clone();

    // Not due yet: nothing happens.
    let clock = app.clock.clock();
    assert_eq!(
        metadata_source::refresh_due(&app.store, &clock)
            .await
            .unwrap(),
        Refreshed::default()
    );

    // A certificate rollover at the IdP is picked up after a day, without
    // an outage: the old certificate, no longer listed, stays trusted.
    let rolled = TestIdp::new("https://idp.acme.example/saml");
    served.lock().unwrap().1 = rolled.metadata();
    app.clock.advance(TimeDelta::hours(25));
    let done = metadata_source::refresh_due(&app.store, &clock)
        .await
        .unwrap();
    assert_eq!(
        done,
        Refreshed {
            updated: 1,
            failed: 0
        }
    );
    let after = listed().remove(0);
    assert_eq!(after.certificates.len(), 2, "{:?}", after.certificates);
    let old = after
        .certificates
        .iter()
        .find(|t| t.certificate.fingerprint == original_cert)
        .expect("the old certificate, kept");
    assert!(old.retired_at.is_some(), "{old:?}");
    assert!(old.in_force(app.clock.clock().now_naive()));
    let new = after
        .certificates
        .iter()
        .find(|t| t.certificate.fingerprint != original_cert)
        .expect("the new certificate");
    assert!(new.retired_at.is_none());
    assert_eq!(
        after.certificate_ders(app.clock.clock().now_naive()).len(),
        2
    );
    assert!(after.metadata_error.is_none());

    // A broken answer keeps the last good copy and records why.
    *served.lock().unwrap() = (200, "<html>maintenance</html>".into());
    app.clock.advance(TimeDelta::hours(25));
    assert_eq!(
        metadata_source::refresh_due(&app.store, &clock)
            .await
            .unwrap(),
        Refreshed {
            updated: 0,
            failed: 1
        }
    );
    let kept = listed().remove(0);
    assert_eq!(kept.certificates, after.certificates);
    assert!(
        kept.metadata_error
            .as_deref()
            .unwrap_or_default()
            .contains("the root element is <html>"),
        "{kept:?}"
    );

    *served.lock().unwrap() = (503, String::new());
    app.clock.advance(TimeDelta::hours(25));
    metadata_source::refresh_due(&app.store, &clock)
        .await
        .unwrap();
    assert!(
        listed()[0]
            .metadata_error
            .as_deref()
            .unwrap_or_default()
            .contains("HTTP 503")
    );
}

async fn unreachable_or_oversized_metadata_urls_are_refused_by_the_cli(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.org("acme");
    let served: Served = Arc::new(Mutex::new((200, "x".repeat(2 * 1024 * 1024))));
    let url = serve_metadata(served);
    let db = app.db.url_text();
    let run = move |metadata: String| {
        let db = db.clone();
        actix_web::rt::task::spawn_blocking(move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_seatgate"))
                .env("SEATGATE_LOG", "warn")
                .args([
                    "--database-url",
                    &db,
                    "idp",
                    "add",
                    "acme",
                    "--metadata",
                    &metadata,
                ])
                .output()
                .expect("run seatgate")
        })
    };
    let oversized = run(url).await.unwrap();
    assert_eq!(oversized.status.code(), Some(1));
    assert!(String::from_utf8_lossy(&oversized.stderr).contains("larger than 1 MiB"));
    let unreachable = run("http://127.0.0.1:1/metadata".into()).await.unwrap();
    assert_eq!(unreachable.status.code(), Some(1));
    assert!(
        String::from_utf8_lossy(&unreachable.stderr)
            .starts_with("error: cannot fetch http://127.0.0.1:1/metadata")
    );
    assert!(
        connections::list(&mut app.store.connection().unwrap(), app.org("acme").id)
            .unwrap()
            .is_empty()
    );
}

on_both_databases!(
    metadata_url_is_fetched_and_refreshed_daily_keeping_the_last_good_copy,
    unreachable_or_oversized_metadata_urls_are_refused_by_the_cli,
);
