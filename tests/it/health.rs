//! `/healthz` and the common HTTP behaviour of every page.

use crate::common::{Backend, TestApp};
use crate::on_both_databases;

async fn healthz_answers_ok_while_the_database_answers(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let page = app.visitor().get("/healthz").await;
    assert_eq!(page.status.as_u16(), 200);
    assert!(page.body.contains("\"ok\""), "{}", page.body);
}

async fn healthz_is_503_when_the_database_is_gone(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.db.destroy();
    let page = app.visitor().get("/healthz").await;
    assert_eq!(page.status.as_u16(), 503, "{}", page.body);
    assert!(page.body.contains("unavailable"), "{}", page.body);
}

async fn pages_carry_security_headers_and_unknown_paths_get_a_404_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let response = awc::Client::new()
        .get(format!("{}/no/such/page", app.address))
        .send()
        .await
        .expect("GET");
    assert_eq!(response.status().as_u16(), 404);
    let header = |name: &str| {
        response
            .headers()
            .get(name)
            .map(|v| v.to_str().expect("ASCII").to_owned())
            .unwrap_or_default()
    };
    assert!(header("content-security-policy").contains("frame-ancestors 'none'"));
    assert_eq!(header("x-content-type-options"), "nosniff");
    assert_eq!(header("referrer-policy"), "same-origin");
    assert!(header("content-type").starts_with("text/html"));
    let request_id = header("x-request-id");
    assert_eq!(request_id.len(), 36, "a UUID: {request_id:?}");
    let mut response = response;
    let body = response.body().await.expect("body");
    assert!(
        String::from_utf8_lossy(&body).contains(&format!("<code>{request_id}</code>")),
        "the page's reference is the request id in the logs"
    );
}

async fn session_cookie_is_host_prefixed_and_secure_behind_https(backend: Backend) {
    let app = TestApp::on(crate::common::TestDb::fresh(backend))
        .base_url("https://sso.example.com")
        .spawn()
        .await;
    let response = awc::Client::new()
        .get(format!("{}/admin/login", app.address))
        .send()
        .await
        .expect("GET");
    let cookie = response
        .headers()
        .get("set-cookie")
        .map(|v| v.to_str().unwrap().to_owned())
        .expect("an anonymous session for the form");
    assert!(cookie.starts_with("__Host-seatgate="), "{cookie}");
    for flag in ["HttpOnly", "Secure", "SameSite=Lax", "Path=/"] {
        assert!(cookie.contains(flag), "{flag} in {cookie}");
    }
    assert!(!cookie.contains("Domain="), "host-only: {cookie}");

    let plain = app_over_http(backend).await;
    assert!(
        plain.starts_with("seatgate=") && !plain.contains("Secure"),
        "{plain}"
    );
}

async fn app_over_http(backend: Backend) -> String {
    let app = TestApp::spawn(backend).await;
    let response = awc::Client::new()
        .get(format!("{}/admin/login", app.address))
        .send()
        .await
        .expect("GET");
    response
        .headers()
        .get("set-cookie")
        .unwrap()
        .to_str()
        .unwrap()
        .to_owned()
}

on_both_databases!(
    session_cookie_is_host_prefixed_and_secure_behind_https,
    healthz_answers_ok_while_the_database_answers,
    healthz_is_503_when_the_database_is_gone,
    pages_carry_security_headers_and_unknown_paths_get_a_404_page,
);
