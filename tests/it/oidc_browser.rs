//! The whole path in real Chromium: the demo application sends an anonymous
//! learner to Seatgate, who finds their company from the email, signs in at
//! the demo IdP, and comes back to the application with its claims.

use crate::common::browser::{Browser, click, fill, wait_for};
use crate::common::{Backend, TestApp, TestDb};
use crate::on_both_databases;

async fn demo_idp_to_seatgate_to_the_demo_application_in_chromium(backend: Backend) {
    let app = TestApp::on(TestDb::fresh(backend)).demo_app().spawn().await;
    app.demo_connection("demo");
    app.set_email_domain("demo", "demo.example");
    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&format!("{}/demo-app/", app.address))
        .await
        .expect("open the demo application");
    click(c, "a.button").await;
    // No Seatgate session yet: the start page, keeping the way back.
    fill(c, "email", "grace@demo.example").await;
    click(c, "button[type=submit]").await;
    // The demo IdP's form.
    fill(c, "email", "grace@demo.example").await;
    fill(c, "first_name", "Grace").await;
    fill(c, "last_name", "Hopper").await;
    click(c, "button[type=submit]").await;
    let text = wait_for(c, "This is what the application received").await;
    browser.screenshot("demo-application-claims").await;
    assert_eq!(c.current_url().await.unwrap().path(), "/demo-app/callback");
    assert!(text.contains("\"email\": \"grace@demo.example\""), "{text}");
    assert!(text.contains("\"org\": \"demo\""));
    assert!(text.contains("\"license_status\": \"none\""));
    assert!(text.contains("\"linkedin_bound\": false"));

    // Back at Seatgate, the learner home leads to the application.
    c.goto(&format!("{}/", app.address)).await.expect("home");
    let home = wait_for(c, "Go to Demo application").await;
    assert!(home.contains("Welcome, Grace Hopper"));
    browser.close().await;
}

on_both_databases!(demo_idp_to_seatgate_to_the_demo_application_in_chromium);
