//! LinkedIn profile binding end to end in headless Chromium, against a real
//! OpenID Connect provider (panva/oidc-provider on 127.0.0.1) in LinkedIn's
//! place: each policy (required, optional, not allowed), connect, cancel, a
//! tampered state, a member already bound to another learner, disconnect.

use seatgate::orgs::ProfileBindingPolicy;

use crate::common::browser::{Browser, click, element, fill, wait_for};
use crate::common::{Backend, TestApp};
use crate::on_both_databases;

/// A learner signs in through the demo IdP; returns the text of where they land.
async fn sign_in(browser: &Browser, app: &TestApp, email: &str, expected: &str) -> String {
    let c = &browser.client;
    c.goto(&format!("{}/sso/acme/login", app.address))
        .await
        .expect("login");
    fill(c, "email", email).await;
    click(c, "button[type=submit]").await;
    wait_for(c, expected).await
}

/// At the provider: sign in as `member` (any password) and agree.
pub(crate) async fn at_linkedin(browser: &Browser, member: &str) {
    let c = &browser.client;
    let login = element(c, "input[name=login]").await;
    login.send_keys(member).await.expect("type the login");
    element(c, "input[name=password]")
        .await
        .send_keys("any password")
        .await
        .expect("type the password");
    browser.screenshot("linkedin-provider-login").await;
    click(c, "button[type=submit]").await;
    wait_for(c, "Continue").await;
    click(c, "button[type=submit]").await;
}

async fn required_policy_in_chromium(backend: Backend) {
    let (app, _provider) = TestApp::spawn_with_linkedin(backend).await;
    app.demo_connection("acme");
    app.set_binding_policy(ProfileBindingPolicy::Required);
    let browser = Browser::start().await;
    let c = &browser.client;

    sign_in(
        &browser,
        &app,
        "grace@acme.example",
        "asks every learner to connect",
    )
    .await;
    browser.screenshot("linkedin-required").await;

    // Cancelling at LinkedIn comes back to the same page, saying so.
    click(c, "form[action='/profile/linkedin/connect'] button").await;
    click(c, "a[href$='/abort']").await;
    wait_for(c, "You cancelled connecting your LinkedIn profile.").await;
    browser.screenshot("linkedin-cancelled").await;
    assert_eq!(app.bound_member("grace@acme.example"), None);

    // Connecting for real opens the learning home.
    click(c, "form[action='/profile/linkedin/connect'] button").await;
    at_linkedin(&browser, "grace-hopper").await;
    let home = wait_for(c, "Welcome, ").await;
    assert!(
        home.contains("Member grace-hopper is now connected."),
        "{home}"
    );
    browser.screenshot("linkedin-connected").await;
    assert_eq!(
        app.bound_member("grace@acme.example").as_deref(),
        Some("grace-hopper")
    );

    // The same LinkedIn member cannot be bound to a second learner.
    click(c, "header form button[type=submit]").await;
    wait_for(c, "Sign in").await;
    sign_in(
        &browser,
        &app,
        "alan@acme.example",
        "asks every learner to connect",
    )
    .await;
    // The browser is still signed in at LinkedIn as grace-hopper, who already
    // agreed: LinkedIn answers at once, with Grace's member ID.
    click(c, "form[action='/profile/linkedin/connect'] button").await;
    wait_for(
        c,
        "already connected to another account of your organization",
    )
    .await;
    browser.screenshot("linkedin-taken").await;
    assert_eq!(app.bound_member("alan@acme.example"), None);

    // A tampered state connects nothing and says why.
    c.goto(&format!(
        "{}/profile/linkedin/callback?code=forged&state=tampered",
        app.address
    ))
    .await
    .expect("callback");
    wait_for(c, "expired or was not started here").await;
    browser.close().await;
}

async fn optional_then_not_allowed_in_chromium(backend: Backend) {
    let (app, _provider) = TestApp::spawn_with_linkedin(backend).await;
    app.demo_connection("acme");
    app.set_binding_policy(ProfileBindingPolicy::Optional);
    let browser = Browser::start().await;
    let c = &browser.client;

    sign_in(&browser, &app, "ada@acme.example", "Not now").await;
    browser.screenshot("linkedin-prompt").await;
    click(c, "form[action='/profile/linkedin/not-now'] button").await;
    wait_for(c, "Welcome, ").await;
    click(c, "header form button[type=submit]").await;
    wait_for(c, "Sign in").await;
    sign_in(&browser, &app, "ada@acme.example", "Welcome, ").await;

    // Connect from the profile page, then disconnect.
    click(c, "a[href='/profile']").await;
    wait_for(c, "Not connected.").await;
    click(c, "form[action='/profile/linkedin/connect'] button").await;
    at_linkedin(&browser, "ada-lovelace").await;
    wait_for(c, "Connected: Member ada-lovelace").await;
    browser.screenshot("linkedin-profile").await;
    assert_eq!(
        app.bound_member("ada@acme.example").as_deref(),
        Some("ada-lovelace")
    );
    click(c, "form[action='/profile/linkedin/disconnect'] button").await;
    wait_for(c, "Your LinkedIn profile is disconnected.").await;
    assert_eq!(app.bound_member("ada@acme.example"), None);

    // Connected again (LinkedIn remembers her), then the organization says
    // "not allowed": the profile is disconnected and nothing is offered.
    click(c, "form[action='/profile/linkedin/connect'] button").await;
    wait_for(c, "Connected: Member ada-lovelace").await;
    app.set_binding_policy(ProfileBindingPolicy::Disabled);
    assert_eq!(app.bound_member("ada@acme.example"), None);
    c.refresh().await.expect("reload");
    let profile = wait_for(c, "does not allow connecting a LinkedIn profile").await;
    assert!(!profile.contains("Connect LinkedIn"));
    browser.screenshot("linkedin-not-allowed").await;
    click(c, "header form button[type=submit]").await;
    wait_for(c, "Sign in").await;
    sign_in(&browser, &app, "ada@acme.example", "Welcome, ").await;
    browser.close().await;
}

on_both_databases!(
    required_policy_in_chromium,
    optional_then_not_allowed_in_chromium
);
