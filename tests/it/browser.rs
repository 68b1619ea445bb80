//! End-to-end flows in real headless Chromium.

use fantoccini::Locator;
use seatgate::demo_idp::{self, DemoIdp};

use crate::common::browser::Browser;
use crate::common::{Backend, TestApp};
use crate::on_both_databases;

async fn demo_login_is_clicked_through_in_chromium(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("demo");
    {
        let idp = DemoIdp::load_or_generate(&app.settings.certs_dir, &app.settings.base_url)
            .expect("demo IdP");
        let mut conn = app.store.connection().expect("connection");
        demo_idp::connect(&mut conn, &app.clock.clock(), &org, &idp).expect("wire the demo IdP");
    }
    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&format!("{}/sso/demo/login?return_to=/", app.address))
        .await
        .expect("open login");
    let email = c
        .find(Locator::Id("email"))
        .await
        .expect("the demo IdP's form");
    assert!(
        c.source().await.unwrap().contains("signature checked out"),
        "the AuthnRequest signature verified"
    );
    browser.screenshot("demo-idp").await;
    email.clear().await.unwrap();
    email.send_keys("grace@demo.example").await.unwrap();
    let first = c.find(Locator::Id("first_name")).await.unwrap();
    first.clear().await.unwrap();
    first.send_keys("Grace").await.unwrap();
    let last = c.find(Locator::Id("last_name")).await.unwrap();
    last.clear().await.unwrap();
    last.send_keys("Hopper").await.unwrap();
    c.find(Locator::Css("button[type=submit]"))
        .await
        .unwrap()
        .click()
        .await
        .unwrap();

    // The demo IdP's page posts itself to the ACS, which redirects home: poll
    // for the home page, tolerating elements of the pages in between going stale.
    let mut text = String::new();
    for _ in 0..100 {
        if let Ok(h1) = c.find(Locator::Css("main h1")).await
            && let Ok(found) = h1.text().await
            && found.starts_with("Welcome")
        {
            text = found;
            break;
        }
        actix_rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    browser.screenshot("learner-home").await;
    assert_eq!(text, "Welcome, Grace Hopper");
    assert_eq!(c.current_url().await.unwrap().path(), "/");
    let learners = app.learners("demo");
    assert_eq!(learners.len(), 1);
    assert_eq!(learners[0].email.as_str(), "grace@demo.example");
    browser.close().await;
}

on_both_databases!(demo_login_is_clicked_through_in_chromium);
