//! The start page finds the learner's company from their work email: the
//! operator sets each organization's email domains (a domain belongs to one
//! organization), `GET /sign-in?email=` sends the learner to that
//! organization's sign-in, and an unknown domain names nobody.

use seatgate::audit::{Action, AuditFilter};
use seatgate::orgs;
use seatgate::saml::attributes::Preset;

use crate::cli::{stderr, stdout, with_db};
use crate::common::browser::{Browser, click, fill, wait_for};
use crate::common::idp::TestIdp;
use crate::common::{Backend, TestApp};
use crate::on_both_databases;

fn domains(app: &TestApp, slug: &str) -> Vec<String> {
    let org = app.org(slug);
    let mut conn = app.store.connection().expect("connection");
    orgs::email_domains(&mut conn, &org)
        .expect("domains")
        .iter()
        .map(ToString::to_string)
        .collect()
}

async fn the_operator_sets_email_domains_and_a_domain_belongs_to_one_organization(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    app.org("acme");
    app.org("beta");
    let set = with_db(
        &app.db,
        &[
            "org",
            "set",
            "acme",
            "--email-domains",
            "Acme.example, acme.co.uk,acme.example",
        ],
    );
    assert!(set.status.success(), "{}", stderr(&set));
    assert!(
        stdout(&set).ends_with("email_domains: acme.co.uk, acme.example\n"),
        "{}",
        stdout(&set)
    );
    assert_eq!(domains(&app, "acme"), ["acme.co.uk", "acme.example"]);

    // Another organization cannot take one; nothing of its list is kept.
    let taken = with_db(
        &app.db,
        &[
            "org",
            "set",
            "beta",
            "--email-domains",
            "beta.example,acme.example",
        ],
    );
    assert_eq!(taken.status.code(), Some(1));
    assert_eq!(
        stderr(&taken),
        "error: the email domain acme.example belongs to acme already: a domain belongs to one \
         organization\n"
    );
    assert!(domains(&app, "beta").is_empty());
    assert_eq!(domains(&app, "acme"), ["acme.co.uk", "acme.example"]);

    let invalid = with_db(&app.db, &["org", "set", "beta", "--email-domains", "beta"]);
    assert_eq!(invalid.status.code(), Some(1));
    assert_eq!(
        stderr(&invalid),
        "error: \"beta\" is not a domain name such as example.com\n"
    );

    // The list is replaced, and "" clears it.
    let replaced = with_db(
        &app.db,
        &["org", "set", "acme", "--email-domains", "acme.example"],
    );
    assert!(replaced.status.success(), "{}", stderr(&replaced));
    assert_eq!(domains(&app, "acme"), ["acme.example"]);
    let shown = with_db(&app.db, &["org", "show", "acme"]);
    assert!(stdout(&shown).ends_with("email_domains: acme.example\n"));
    let cleared = with_db(&app.db, &["org", "set", "acme", "--email-domains", ""]);
    assert!(cleared.status.success(), "{}", stderr(&cleared));
    assert!(stdout(&cleared).ends_with("email_domains: none\n"));

    let org = app.org("acme");
    let mut conn = app.store.connection().expect("connection");
    let filter = AuditFilter {
        action: Some(Action::OrgSettingsChanged),
        ..AuditFilter::default()
    };
    let events = seatgate::audit::search(&mut conn, org.id, &filter, 1, 10)
        .expect("audit")
        .events;
    assert_eq!(events.len(), 3, "each change recorded, the refused one not");
    assert_eq!(events[0].details["email_domains"], serde_json::json!([]));
    assert_eq!(
        events[0].details["email_domains_before"],
        serde_json::json!(["acme.example"])
    );
}

async fn the_start_page_sends_a_work_email_to_its_company_sign_in(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = TestIdp::new("https://idp.acme.example/saml");
    app.connect("acme", &idp, Preset::Generic);
    app.org("beta");
    for (slug, list) in [("acme", "acme.example"), ("beta", "beta.example")] {
        let set = with_db(&app.db, &["org", "set", slug, "--email-domains", list]);
        assert!(set.status.success(), "{}", stderr(&set));
    }
    let mut visitor = app.visitor();
    let start = visitor.get("/").await;
    assert!(start.body.contains("action=\"/sign-in\""), "{}", start.body);
    assert!(start.body.contains("Work email"));

    // Case and spaces do not matter; one IdP: its sign-in, then the IdP.
    let found = visitor.get("/sign-in?email=%20Ann%40ACME.example%20").await;
    assert_eq!(found.status.as_u16(), 303);
    assert_eq!(found.location.as_deref(), Some("/sso/acme/login"));
    let login = visitor.get("/sso/acme/login").await;
    assert!(
        login
            .location
            .as_deref()
            .is_some_and(|l| l.starts_with("https://idp.example/sso?SAMLRequest=")),
        "{:?}",
        login.location
    );

    // Refusals stay on the start page, keep what was typed, and name nobody.
    for (email, says) in [
        ("ann@unknown.example", "could not find your company"),
        ("ann@example", "could not find your company"),
        ("not an address", "Enter your work email address"),
        ("", "Enter your work email address"),
        ("bo@beta.example", "has not finished setting up sign-in"),
    ] {
        let page = visitor
            .get(&format!(
                "/sign-in?email={}",
                url::form_urlencoded::byte_serialize(email.as_bytes()).collect::<String>()
            ))
            .await;
        assert_eq!(page.status.as_u16(), 200, "{email}");
        assert!(page.body.contains(says), "{email}: {}", page.body);
        assert!(page.body.contains("aria-invalid=\"true\""), "{email}");
        assert!(!page.body.contains("acme Corp") && !page.body.contains("beta Corp"));
        if !email.is_empty() {
            assert!(
                page.body.contains(&format!("value=\"{email}\"")),
                "{email}: what was typed is kept"
            );
        }
    }

    // The console shows the domains to the organization's admins.
    let mut admin = app.admin_visitor("acme", "admin@acme.example", false);
    let settings = admin.get("/admin/orgs/acme/settings").await;
    assert!(
        settings.body.contains("<code>acme.example</code>"),
        "{}",
        settings.body
    );
}

async fn a_learner_finds_their_company_from_the_start_page_in_chromium(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.demo_connection("acme");
    let set = with_db(
        &app.db,
        &["org", "set", "acme", "--email-domains", "acme.example"],
    );
    assert!(set.status.success(), "{}", stderr(&set));
    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&format!("{}/", app.address))
        .await
        .expect("start page");
    fill(c, "email", "nobody@elsewhere.example").await;
    click(c, "button[type=submit]").await;
    wait_for(c, "could not find your company").await;
    browser.screenshot("start-unknown-domain").await;
    let field = c
        .find(fantoccini::Locator::Id("email"))
        .await
        .expect("the email field");
    field.clear().await.expect("clear");
    fill(c, "email", "grace@acme.example").await;
    click(c, "button[type=submit]").await;
    // The demo IdP's sign-in form, then the learner's home.
    wait_for(c, "Sign in at your company").await;
    fill(c, "email", "grace@acme.example").await;
    click(c, "button[type=submit]").await;
    wait_for(c, "Welcome, ").await;
    browser.screenshot("start-signed-in").await;
    browser.close().await;
}

on_both_databases!(
    the_operator_sets_email_domains_and_a_domain_belongs_to_one_organization,
    the_start_page_sends_a_work_email_to_its_company_sign_in,
    a_learner_finds_their_company_from_the_start_page_in_chromium,
);
