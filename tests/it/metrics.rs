//! `GET /metrics`: Prometheus text for the bearer of the metrics token.

use seatgate::audit::Actor;
use seatgate::licensing::{self, LicenseType};
use seatgate::saml::attributes::Preset;

use crate::common::idp::TestIdp;
use crate::common::{Backend, METRICS_TOKEN, TestApp};
use crate::on_both_databases;

async fn metrics_count_sign_ins_seats_and_requests(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = TestIdp::new("https://idp.acme.example/saml");
    app.connect("acme", &idp, Preset::Generic);
    {
        let org = app.org("acme");
        let mut conn = app.store.connection().expect("connection");
        let clock = app.clock.clock();
        let learning: LicenseType = "Learning".parse().expect("type");
        licensing::set_pool(&mut conn, &clock, &Actor::Cli, &org, &learning, 3).expect("pool");
        licensing::set_auto_assign(&mut conn, &clock, &Actor::Cli, &org, true, Some(learning))
            .expect("auto-assign");
    }
    assert!(app.signs_in("acme", &idp, "ann@acme.example").await);
    let mut foreign = idp.spec(&app, "acme", "bob@acme.example");
    foreign.audience = Some("https://another-sp.example/".into());
    assert_eq!(
        app.post_response("acme", &idp.mint(&foreign), None)
            .await
            .0
            .status
            .as_u16(),
        403
    );

    let ran = seatgate::jobs::run_if_free(
        &app.store,
        &app.clock.clock(),
        "purge",
        std::time::Duration::from_secs(60),
        || async { Err("the disk is full".to_owned()) },
    )
    .await
    .expect("lease");
    assert!(ran);

    let mut scraper = app.visitor();
    assert_eq!(scraper.get("/metrics").await.status.as_u16(), 401);
    assert_eq!(
        scraper
            .get_with(
                "/metrics",
                &[("Authorization", "Bearer not-the-token-at-all")]
            )
            .await
            .status
            .as_u16(),
        401
    );
    let bearer = format!("Bearer {METRICS_TOKEN}");
    let page = scraper
        .get_with("/metrics", &[("Authorization", &bearer)])
        .await;
    assert_eq!(page.status.as_u16(), 200);
    let text = page.body;
    for line in [
        r#"seatgate_sign_ins_total{outcome="signed_in",reason=""} 1"#,
        r#"seatgate_sign_ins_total{outcome="refused",reason="audience"} 1"#,
        r#"seatgate_seats{org="acme",license_type="Learning",state="used"} 1"#,
        r#"seatgate_seats{org="acme",license_type="Learning",state="free"} 2"#,
        r#"seatgate_http_request_duration_seconds_count{method="POST",route="/sso/{org}/acs",status="3xx"} 1"#,
        r#"seatgate_http_request_duration_seconds_count{method="POST",route="/sso/{org}/acs",status="4xx"} 1"#,
    ] {
        assert!(text.lines().any(|l| l == line), "no {line} in:\n{text}");
    }
    assert!(text.contains(r#"seatgate_db_pool_connections{state="idle"}"#));
    assert!(
        text.lines()
            .any(|l| l == r#"seatgate_job_runs_total{job="purge",outcome="failed"} 1"#),
        "{text}"
    );
}

on_both_databases!(metrics_count_sign_ins_seats_and_requests);
