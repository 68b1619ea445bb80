//! A setup link's whole life over HTTP: created in the console and by the
//! CLI, opened once by someone without an account, good for the Single
//! sign-on pages only (the values, adding a connection, Test sign-in),
//! refused to a second browser, ended by revocation and by expiry, audited.

use seatgate::audit::{Action, Actor};
use seatgate::orgs::connections;

use super::{IDP, events, save_previewed};
use crate::cli::{stdout, with_db};
use crate::common::idp::TestIdp;
use crate::common::visitor::Page;
use crate::common::{Backend, TestApp, Visitor};
use crate::on_both_databases;

/// Opens a setup link in `browser` as a person would: the page, then its button.
async fn open(browser: &mut Visitor, path: &str) -> Page {
    let page = browser.get(path).await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.body);
    let token = page.csrf_token();
    browser.post(path, &[("csrf_token", &token)]).await
}

async fn a_setup_link_opens_single_sign_on_once_and_nothing_else(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut admin = app.admin_visitor("acme", "ann@acme.example", false);
    let token = admin.get("/admin/orgs/acme/sso").await.csrf_token();
    let created = admin
        .post(
            "/admin/orgs/acme/sso/setup-links",
            &[("csrf_token", &token), ("hours", "72")],
        )
        .await;
    assert_eq!(created.status.as_u16(), 200);
    let url = {
        let at = created
            .body
            .find(r#"<code id="setup-link-url" class="wrap">"#)
            .expect("the URL, once");
        let rest = &created.body[at..];
        rest[rest.find('>').unwrap() + 1..rest.find("</code>").unwrap()].to_owned()
    };
    let path = app.local_path(&url);
    assert!(path.starts_with("/setup/"), "{path}");
    assert!(
        !admin.get("/admin/orgs/acme/sso").await.body.contains(&url),
        "shown once"
    );

    // Looking at the link changes nothing (mail scanners fetch links).
    let mut scanner = app.visitor();
    assert_eq!(scanner.get(&path).await.status.as_u16(), 200);

    // The IT team opens it: the Single sign-on pages, nothing else.
    let mut it = app.visitor();
    let opened = open(&mut it, &path).await;
    assert_eq!(opened.status.as_u16(), 303);
    assert_eq!(opened.location.as_deref(), Some("/admin/orgs/acme/sso"));
    let sso = it.get("/admin/orgs/acme/sso").await;
    assert_eq!(sso.status.as_u16(), 200);
    assert!(sso.body.contains("Values for your identity provider"));
    assert!(
        !sso.body.contains(r#"href="/admin/orgs/acme/users""#),
        "no other section"
    );
    assert!(
        !sso.body.contains("Create a setup link"),
        "no links of its own"
    );
    for elsewhere in [
        "/admin/orgs/acme",
        "/admin/orgs/acme/users",
        "/admin/orgs/acme/settings",
        "/admin/orgs/acme/audit",
    ] {
        assert_eq!(it.get(elsewhere).await.status.as_u16(), 404, "{elsewhere}");
    }
    assert_eq!(
        it.get("/admin").await.location.as_deref(),
        Some("/admin/orgs/acme/sso")
    );
    let it_token = sso.csrf_token();
    let forbidden = it
        .post(
            "/admin/orgs/acme/sso/setup-links",
            &[("csrf_token", &it_token)],
        )
        .await;
    assert_eq!(forbidden.status.as_u16(), 403);

    // It adds the IdP connection and runs a Test sign-in.
    let idp = TestIdp::new(IDP);
    let preview = it
        .post_multipart(
            "/admin/orgs/acme/sso/preview",
            &[("csrf_token", &it_token), ("source", "file")],
            &[("metadata", "idp.xml", idp.metadata().as_bytes())],
        )
        .await;
    assert_eq!(preview.status.as_u16(), 200, "{}", preview.body);
    let saved = save_previewed(&mut it, "acme", &preview, "generic").await;
    assert_eq!(saved.status.as_u16(), 303);
    let org = app.org("acme");
    let connection = connections::list(&mut app.store.connection().unwrap(), org.id)
        .unwrap()
        .remove(0);
    let test = it
        .post(
            &format!("/admin/orgs/acme/sso/connections/{}/test", connection.id),
            &[("csrf_token", &it_token)],
        )
        .await;
    assert!(
        test.location
            .expect("to the IdP")
            .starts_with("https://idp.example/sso?SAMLRequest=")
    );
    let added = events(&app, "acme", Action::IdpConnectionAdded);
    assert!(
        matches!(added[0].actor, Actor::Setup(_)),
        "{:?}",
        added[0].actor
    );

    // Once only: another browser is refused.
    let mut other = app.visitor();
    assert_eq!(open(&mut other, &path).await.status.as_u16(), 410);

    // Revoked: the session it opened ends at once.
    let link = seatgate::orgs::setup_links::list(&mut app.store.connection().unwrap(), &org)
        .unwrap()
        .remove(0);
    let page = admin.get("/admin/orgs/acme/sso").await;
    assert!(page.body.contains("opened (in use)"), "{}", page.body);
    let revoked = admin
        .post(
            &format!("/admin/orgs/acme/sso/setup-links/{}/revoke", link.id),
            &[("csrf_token", &page.csrf_token())],
        )
        .await;
    assert_eq!(revoked.status.as_u16(), 303);
    assert_eq!(
        it.get("/admin/orgs/acme/sso").await.location.as_deref(),
        Some("/admin/login")
    );
    for action in [
        Action::SetupLinkCreated,
        Action::SetupLinkOpened,
        Action::SetupLinkRevoked,
    ] {
        assert_eq!(events(&app, "acme", action).len(), 1, "{action:?}");
    }
}

async fn a_setup_link_from_the_cli_expires(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.org("acme");
    let made = with_db(
        &app.db,
        &[
            "--base-url",
            &app.address,
            "idp",
            "setup-link",
            "acme",
            "--hours",
            "2",
        ],
    );
    assert!(made.status.success());
    let printed = stdout(&made);
    let lines: Vec<&str> = printed.lines().collect();
    assert!(
        lines[0].starts_with("setup link for acme (expires "),
        "{printed}"
    );
    let path = app.local_path(lines[1]);
    let mut it = app.visitor();
    assert_eq!(open(&mut it, &path).await.status.as_u16(), 303);
    assert_eq!(it.get("/admin/orgs/acme/sso").await.status.as_u16(), 200);
    app.clock.advance(chrono::TimeDelta::hours(3));
    assert_eq!(
        it.get("/admin/orgs/acme/sso").await.location.as_deref(),
        Some("/admin/login")
    );

    let too_long = with_db(&app.db, &["idp", "setup-link", "acme", "--hours", "400"]);
    assert_eq!(
        crate::cli::stderr(&too_long),
        "error: a setup link lives 1 to 336 hours\n"
    );
    // An unknown or made-up link says it cannot be used.
    assert_eq!(
        open(&mut app.visitor(), "/setup/not-a-token")
            .await
            .status
            .as_u16(),
        410
    );
}

on_both_databases!(
    a_setup_link_opens_single_sign_on_once_and_nothing_else,
    a_setup_link_from_the_cli_expires,
);
