//! An IdP administrator in real headless Chromium: connects the demo IdP by
//! uploading its metadata, runs a passing Test sign-in, rolls the
//! certificate over (both trusted during it), removes the old one and sees
//! the next Test sign-in fail with its reason and fix, all without leaving
//! the console; and the Single sign-on page at 390 pixels wide. Screenshots
//! under `target/screenshots/`.

use fantoccini::Client;
use seatgate::demo_idp::DemoIdp;
use seatgate::saml::keys::KeyPair;
use seatgate::saml::mint;

use crate::common::browser::{Browser, click, element, fill, wait_for};
use crate::common::{Backend, TestApp};
use crate::on_both_databases;

/// Uploads a metadata file on the Single sign-on page and opens its preview.
async fn upload(c: &Client, console: &str, file: &std::path::Path) {
    c.goto(&format!("{console}/sso")).await.unwrap();
    element(c, "#metadata")
        .await
        .send_keys(file.to_str().expect("UTF-8 path"))
        .await
        .expect("choose the file");
    click(c, "form[enctype] button[type=submit]").await;
}

/// Runs a Test sign-in of the (only) connection through the demo IdP and
/// returns the verdict page's text.
async fn test_sign_in(c: &Client, console: &str, expected: &str) -> String {
    c.goto(&format!("{console}/sso")).await.unwrap();
    click(c, "form[action$='/test'] button").await;
    fill(c, "email", "tess@acme.example").await;
    click(c, "button[type=submit]").await;
    wait_for(c, expected).await
}

async fn an_idp_admin_connects_tests_and_rolls_over_in_chromium(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let demo = DemoIdp::load_or_generate(&app.settings.certs_dir, &app.settings.base_url)
        .expect("demo IdP");
    let first = app.db.dir().join("idp-metadata.xml");
    std::fs::write(&first, demo.metadata()).expect("metadata file");
    // The IdP's next key, published before it signs with it.
    let next = KeyPair::generate("Demo IdP next").expect("key");
    let rolled = app.db.dir().join("idp-metadata-next.xml");
    std::fs::write(
        &rolled,
        mint::idp_metadata(&demo.entity_id, &demo.sso_url, &next),
    )
    .expect("file");
    let console = format!("{}/admin/orgs/acme", app.address);

    let admin = Browser::admin(&app, "acme", "ida@acme.example").await;
    let c = &admin.client;

    // Connect: preview, save; the setup steps carry our values.
    upload(c, &console, &first).await;
    wait_for(c, "Check the identity provider").await;
    click(c, "main form button[type=submit]").await;
    let page = wait_for(c, "is connected").await;
    assert!(page.contains("Not yet used"), "{page}");
    assert!(page.contains(&app.endpoints("acme").acs_url));

    // A passing Test sign-in: back in the console with the verdict.
    let verdict = test_sign_in(c, &console, "Test sign-in passed").await;
    assert!(verdict.contains("tess@acme.example"), "{verdict}");
    assert!(verdict.contains("Against our clock"), "{verdict}");
    admin.screenshot("console-test-passed").await;

    // Rollover: the new metadata lists only the next certificate.
    upload(c, &console, &rolled).await;
    let preview = wait_for(c, "Certificates added").await;
    assert!(
        preview.contains("No longer in the metadata: still trusted"),
        "{preview}"
    );
    admin.screenshot("console-rollover-preview").await;
    click(c, "form[action$='/metadata'] button[type=submit]").await;
    let page = wait_for(c, "is updated").await;
    assert!(
        page.contains("stay trusted until you remove them"),
        "{page}"
    );
    // The IdP still signs with its old key: trusted during the rollover.
    test_sign_in(c, &console, "Test sign-in passed").await;

    // (Later: the connection's status compares the refusal's time with
    // the last success's, and this clock is moved by hand.)
    app.clock.advance(chrono::TimeDelta::minutes(2));
    // The old certificate removed: the old key's response is refused, and
    // the verdict says why and what to do, in the console.
    c.goto(&format!("{console}/sso")).await.unwrap();
    let old = demo
        .metadata()
        .parse::<seatgate::saml::metadata::IdpMetadata>()
        .expect("metadata")
        .certificates[0]
        .fingerprint
        .clone();
    let remove = format!("form[action$='/certificates/remove']:has(input[value='{old}'])");
    click(c, &format!("{remove} input[name=confirm]")).await;
    click(c, &format!("{remove} button[type=submit]")).await;
    wait_for(c, "no longer trusts the certificate").await;
    let verdict = test_sign_in(c, &console, "Test sign-in failed").await;
    assert!(
        verdict.contains("No valid signature by a certificate configured for this IdP"),
        "{verdict}"
    );
    assert!(
        verdict.contains("upload its current metadata again, or add the new certificate"),
        "{verdict}"
    );
    admin.screenshot("console-test-failed").await;
    c.goto(&format!("{console}/sso")).await.unwrap();
    assert!(wait_for(c, "Failing").await.contains("No valid signature"));

    // A phone's width: nothing wider than the screen.
    c.set_window_size(390, 844).await.expect("resize");
    c.goto(&format!("{console}/sso")).await.unwrap();
    wait_for(c, "Values for your identity provider").await;
    let widest = c
        .execute(
            "return Math.max(document.documentElement.scrollWidth, document.body.scrollWidth)",
            vec![],
        )
        .await
        .expect("width")
        .as_u64()
        .expect("a number");
    let viewport = c
        .execute("return window.innerWidth", vec![])
        .await
        .expect("width")
        .as_u64()
        .expect("a number");
    let culprits = c
        .execute(
            "return Array.from(document.querySelectorAll('body *')).filter(e => e.getBoundingClientRect().right > window.innerWidth + 1).slice(0, 15).map(e => e.tagName + '.' + e.className + ' ' + Math.round(e.getBoundingClientRect().right) + ' ' + (e.textContent || '').slice(0, 40))",
            vec![],
        )
        .await
        .expect("culprits");
    assert!(
        widest <= viewport,
        "the page is {widest} px wide in a {viewport} px window: {culprits}"
    );
    admin.screenshot("console-sso-390").await;
    admin.close().await;
}

/// A setup link's whole life: made by an administrator in the console,
/// opened by the IT team in another browser, used to connect and test the
/// IdP, revoked, and then no longer letting that browser in.
async fn a_setup_link_in_chromium(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let demo = DemoIdp::load_or_generate(&app.settings.certs_dir, &app.settings.base_url)
        .expect("demo IdP");
    let metadata = app.db.dir().join("idp-metadata.xml");
    std::fs::write(&metadata, demo.metadata()).expect("metadata file");
    let console = format!("{}/admin/orgs/acme", app.address);

    let admin = Browser::admin(&app, "acme", "ida@acme.example").await;
    let c = &admin.client;
    c.goto(&format!("{console}/sso")).await.unwrap();
    click(c, "form[action$='/setup-links'] button[type=submit]").await;
    wait_for(c, "Setup link created").await;
    let url = element(c, "#setup-link-url")
        .await
        .text()
        .await
        .expect("the URL");

    // The IT team, in a browser of its own and without an account.
    let it = Browser::start().await;
    let t = &it.client;
    t.goto(&url).await.unwrap();
    click(t, "main form button[type=submit]").await;
    let page = wait_for(t, "Values for your identity provider").await;
    assert!(
        !page.contains("Users"),
        "the Single sign-on section only: {page}"
    );
    it.screenshot("setup-link-sso").await;
    upload(t, &console, &metadata).await;
    wait_for(t, "Check the identity provider").await;
    click(t, "main form button[type=submit]").await;
    wait_for(t, "is connected").await;
    test_sign_in(t, &console, "Test sign-in passed").await;

    // Revoked by the administrator: the IT team's browser is out.
    c.goto(&format!("{console}/sso")).await.unwrap();
    wait_for(c, "opened (in use)").await;
    click(c, "form[action$='/revoke'] button[type=submit]").await;
    wait_for(c, "Setup link revoked").await;
    t.goto(&format!("{console}/sso")).await.unwrap();
    wait_for(t, "Sign in").await;
    assert!(
        t.current_url()
            .await
            .expect("url")
            .path()
            .starts_with("/admin/login")
    );
    it.close().await;
    admin.close().await;
}

on_both_databases!(
    an_idp_admin_connects_tests_and_rolls_over_in_chromium,
    a_setup_link_in_chromium,
);
