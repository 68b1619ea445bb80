//! One rate-limit mechanism: per client address (read through a trusted
//! proxy's X-Forwarded-For only) and per organization, answered 429 with
//! Retry-After.

use std::num::NonZeroU32;

use seatgate::saml::attributes::Preset;

use crate::common::idp::TestIdp;
use crate::common::{Backend, TestApp, TestDb, Visitor};
use crate::on_both_databases;

async fn admin_sign_in(visitor: &mut Visitor, forwarded_for: &str) -> crate::common::visitor::Page {
    let csrf = visitor.get("/admin/login").await.csrf_token();
    visitor
        .post_with(
            "/admin/login",
            &[
                ("csrf_token", &csrf),
                ("email", "nobody@acme.example"),
                ("password", "a wrong password guess"),
            ],
            &[("X-Forwarded-For", forwarded_for)],
        )
        .await
}

async fn admin_sign_ins_are_limited_per_client_behind_a_trusted_proxy(backend: Backend) {
    // The tests' requests come from 127.0.0.1: here, the trusted proxy.
    let app = TestApp::on(TestDb::fresh(backend))
        .admin_login_rate_limit(NonZeroU32::new(2).expect("non-zero"), &["127.0.0.1"])
        .spawn()
        .await;
    let mut client = app.visitor();
    for _ in 0..2 {
        assert_eq!(
            admin_sign_in(&mut client, "203.0.113.9")
                .await
                .status
                .as_u16(),
            401
        );
    }
    let limited = admin_sign_in(&mut client, "203.0.113.9").await;
    assert_eq!(limited.status.as_u16(), 429);
    assert!(
        limited.retry_after.is_some_and(|s| (1..=60).contains(&s)),
        "{:?}",
        limited.retry_after
    );
    assert!(limited.body.contains("Too many attempts"));
    // Made-up hops before the proxy's own entry change nothing.
    let spoofed = admin_sign_in(&mut client, "198.51.100.1, 203.0.113.9").await;
    assert_eq!(spoofed.status.as_u16(), 429);
    let other = admin_sign_in(&mut app.visitor(), "203.0.113.10").await;
    assert_eq!(other.status.as_u16(), 401, "another client is not held up");
}

async fn without_a_trusted_proxy_the_header_is_ignored(backend: Backend) {
    let app = TestApp::on(TestDb::fresh(backend))
        .admin_login_rate_limit(NonZeroU32::new(2).expect("non-zero"), &[])
        .spawn()
        .await;
    let mut client = app.visitor();
    admin_sign_in(&mut client, "203.0.113.1").await;
    admin_sign_in(&mut client, "203.0.113.2").await;
    let limited = admin_sign_in(&mut client, "203.0.113.3").await;
    assert_eq!(
        limited.status.as_u16(),
        429,
        "the peer address counts, not the header"
    );
}

async fn an_organizations_sign_ins_are_limited_together(backend: Backend) {
    let app = TestApp::on(TestDb::fresh(backend))
        .acs_org_rate_limit(NonZeroU32::new(2).expect("non-zero"))
        .spawn()
        .await;
    let idp = TestIdp::new("https://idp.acme.example/saml");
    app.connect("acme", &idp, Preset::Generic);
    app.connect(
        "beta",
        &TestIdp::new("https://idp.beta.example/saml"),
        Preset::Generic,
    );
    assert!(app.signs_in("acme", &idp, "ann@acme.example").await);
    assert!(app.signs_in("acme", &idp, "bob@acme.example").await);
    let (third, _) = app
        .post_response(
            "acme",
            &idp.mint(&idp.spec(&app, "acme", "cy@acme.example")),
            None,
        )
        .await;
    assert_eq!(third.status.as_u16(), 429);
    assert!(third.retry_after.is_some());
    assert!(
        app.learners("acme")
            .iter()
            .all(|l| l.email.as_str() != "cy@acme.example")
    );
}

on_both_databases!(
    admin_sign_ins_are_limited_per_client_behind_a_trusted_proxy,
    without_a_trusted_proxy_the_header_is_ignored,
    an_organizations_sign_ins_are_limited_together,
);
