//! The admin console end to end in real headless Chromium: an admin sets up
//! single sign-on by uploading IdP metadata, turns automatic licenses on, and
//! watches learners (in a second browser) take the seats until the pool runs out.
//! Every console page is saved as a screenshot under `target/screenshots/`.

use fantoccini::Client;
use seatgate::accounts::admins;
use seatgate::demo_idp::DemoIdp;

use crate::common::browser::{Browser, click, element, fill, wait_for};
use crate::common::{Backend, TestApp};
use crate::on_both_databases;

const PASSWORD: &str = "a long enough passphrase";

/// A learner signs in through the demo IdP in `c` and signs out again.
async fn learner_signs_in(c: &Client, address: &str, email: &str, name: (&str, &str)) -> String {
    c.goto(&format!("{address}/sso/acme/login"))
        .await
        .expect("login");
    fill(c, "email", email).await;
    fill(c, "first_name", name.0).await;
    fill(c, "last_name", name.1).await;
    click(c, "button[type=submit]").await;
    let home = wait_for(c, &format!("Welcome, {} {}", name.0, name.1)).await;
    click(c, "header form button[type=submit]").await;
    wait_for(c, "Sign in").await;
    home
}

async fn admin_runs_the_console_in_chromium(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let metadata_file = app.db.dir().join("demo-idp-metadata.xml");
    let demo = DemoIdp::load_or_generate(&app.settings.certs_dir, &app.settings.base_url)
        .expect("demo IdP");
    std::fs::write(&metadata_file, demo.metadata()).expect("metadata file");
    let console = format!("{}/admin/orgs/acme", app.address);

    // The one-time link: set a password, land in the console.
    let admin = Browser::admin(&app, "acme", "ann@acme.example").await;
    let c = &admin.client;
    admin.screenshot("console-overview").await;

    // Single sign-on: upload the IdP's metadata, check the preview, save.
    c.goto(&format!("{console}/sso")).await.unwrap();
    wait_for(c, "Values for your identity provider").await;
    admin.screenshot("console-sso-empty").await;
    element(c, "#metadata")
        .await
        .send_keys(metadata_file.to_str().expect("UTF-8 path"))
        .await
        .expect("choose the file");
    click(c, "form[enctype] button[type=submit]").await;
    let preview = wait_for(c, "Check the identity provider").await;
    assert!(preview.contains(&demo.entity_id), "{preview}");
    admin.screenshot("console-sso-preview").await;
    click(c, "main form button[type=submit]").await;
    wait_for(c, "is connected").await;
    admin.screenshot("console-sso").await;

    // A license pool of one seat, then "Automatically assign licenses" on.
    c.goto(&format!("{console}/licenses")).await.unwrap();
    fill(c, "license_type", "Learning").await;
    fill(c, "seats", "1").await;
    click(c, "form[action$='/licenses'] button[type=submit]").await;
    wait_for(c, "Learning now has 1 seats.").await;
    c.goto(&format!("{console}/settings")).await.unwrap();
    click(c, "#auto_assign").await;
    element(c, "#license_type")
        .await
        .select_by_value("Learning")
        .await
        .unwrap();
    click(c, "form[action$='/settings/licenses'] button[type=submit]").await;
    wait_for(c, "Automatic license assignment is on").await;
    admin.screenshot("console-settings").await;
    assert!(app.org("acme").auto_assign_licenses);

    // A new learner signs in through the IdP in another browser and gets the seat.
    let learner = Browser::start().await;
    let home = learner_signs_in(
        &learner.client,
        &app.address,
        "grace@acme.example",
        ("Grace", "Hopper"),
    )
    .await;
    assert!(home.contains("License: Learning"), "{home}");
    c.goto(&format!("{console}/licenses")).await.unwrap();
    wait_for(c, "1 of 1 seats").await;

    // The next learner finds the pool full: the console says so.
    let home = learner_signs_in(
        &learner.client,
        &app.address,
        "alan@acme.example",
        ("Alan", "Turing"),
    )
    .await;
    assert!(home.contains("No license is available yet"), "{home}");
    learner.close().await;
    c.goto(&format!("{console}/licenses")).await.unwrap();
    wait_for(c, "Learning is out of seats.").await;
    admin.screenshot("console-licenses").await;

    // Users, a user's page, the audit log.
    c.goto(&format!("{console}/users")).await.unwrap();
    wait_for(c, "2 users found").await;
    admin.screenshot("console-users").await;
    click(c, "main table a").await;
    wait_for(c, "Audit trail").await;
    admin.screenshot("console-user").await;
    c.goto(&format!("{console}/audit")).await.unwrap();
    let audit = wait_for(c, "ran out of seats").await;
    assert!(audit.contains("changed automatic license assignment"));
    admin.screenshot("console-audit").await;

    // "Test sign-in" checks the IdP without signing the admin out.
    c.goto(&format!("{console}/sso")).await.unwrap();
    click(c, "form[action$='/test'] button").await;
    fill(c, "email", "tess@acme.example").await;
    click(c, "button[type=submit]").await;
    wait_for(c, "Test sign-in passed").await;
    wait_for(c, "every check passed").await;
    admin.screenshot("console-test-sign-in").await;
    click(c, "a.button").await;
    wait_for(c, "Recent sign-in errors").await;
    assert_eq!(app.learners("acme").len(), 2, "the test created nobody");
    admin.close().await;
}

/// The Provisioning page in Chromium: an admin creates a SCIM configuration,
/// copies the token shown once, the IdP provisions a learner with it, and
/// the Users page labels that learner IdP.
async fn admin_sets_up_scim_provisioning_in_chromium(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("acme");
    let link = {
        let mut conn = app.store.connection().expect("connection");
        seatgate::licensing::set_pool(
            &mut conn,
            &app.clock.clock(),
            &seatgate::audit::Actor::Cli,
            &org,
            &"Learning".parse().unwrap(),
            5,
        )
        .expect("pool");
        admins::create_with_link(
            &mut conn,
            &app.clock.clock(),
            &app.settings.base_url,
            &org,
            "ann@acme.example".parse().unwrap(),
            false,
        )
        .expect("admin link")
        .url
    };
    let admin = Browser::start().await;
    let c = &admin.client;
    c.goto(&link).await.expect("open the link");
    fill(c, "password", PASSWORD).await;
    fill(c, "confirmation", PASSWORD).await;
    click(c, "button[type=submit]").await;
    wait_for(c, "Overview").await;

    click(c, "nav.sections a[href='/admin/orgs/acme/provisioning']").await;
    wait_for(c, "No SCIM configuration yet").await;
    fill(c, "scim-name", "Entra ID").await;
    element(c, "#scim-license option[value='Learning']")
        .await
        .click()
        .await
        .expect("choose the pool");
    click(
        c,
        "form[action='/admin/orgs/acme/provisioning/scim'] button[type=submit]",
    )
    .await;
    wait_for(c, "shown only this once").await;
    let copy = element(c, "button[data-copy='scim-token']").await;
    assert!(
        copy.is_displayed().await.expect("visible?"),
        "the copy button shows with JavaScript"
    );
    let token = element(c, "#scim-token").await.text().await.expect("token");
    admin.screenshot("console-provisioning-token").await;

    let entra = crate::common::scim::ScimClient::new(&app, &token);
    let pushed = entra
        .post(
            "/Users",
            &crate::scim::entra_user("lee@acme.example", "lee@acme.example", "e-9"),
        )
        .await;
    assert_eq!(pushed.status, 201, "{}", pushed.body);

    c.goto(&format!("{}/admin/orgs/acme/users", app.address))
        .await
        .expect("users page");
    let users = wait_for(c, "lee@acme.example").await;
    assert!(users.contains("IdP"), "labelled IdP: {users}");
    c.goto(&format!("{}/admin/orgs/acme/provisioning", app.address))
        .await
        .expect("provisioning page");
    let again = wait_for(c, "Entra ID").await;
    assert!(!again.contains(&token), "the token is not shown again");
    assert!(again.contains("Yes: Learning"), "{again}");
    admin.screenshot("console-provisioning").await;
    admin.close().await;
}

on_both_databases!(
    admin_runs_the_console_in_chromium,
    admin_sets_up_scim_provisioning_in_chromium,
);
