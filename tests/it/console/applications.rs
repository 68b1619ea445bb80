//! The operators' applications page and the organization's "license needed
//! for applications" setting.

use crate::common::{Backend, TestApp};
use crate::console::submit;
use crate::on_both_databases;

async fn an_operator_registers_rotates_and_removes_an_application(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut operator = app.admin_visitor("acme", "op@acme.example", true);
    let page = operator.get("/admin/apps").await;
    assert_eq!(page.status.as_u16(), 200);
    assert!(page.body.contains("No application yet"));

    let made = submit(
        &mut operator,
        "/admin/apps",
        &[
            ("name", "Acme Academy"),
            (
                "redirect_uris",
                "https://academy.example/auth/callback\r\nhttp://localhost:3000/cb",
            ),
            ("id_token_alg", "ES256"),
        ],
    )
    .await;
    assert_eq!(made.status.as_u16(), 200, "{}", made.body);
    assert!(made.body.contains("shown this once"));
    let apps = {
        let mut conn = app.store.connection().expect("connection");
        seatgate::applications::list(&mut conn).expect("list")
    };
    assert_eq!(apps.len(), 1);
    let registered = &apps[0];
    assert_eq!(registered.redirect_uris.len(), 2);
    assert_eq!(registered.launch_url.as_str(), "https://academy.example/");
    assert_eq!(registered.id_token_alg.as_str(), "ES256");
    let secret_shown = |body: &str| {
        let marker = r#"<code class="secret">"#;
        let start = body.find(marker).expect("secret") + marker.len();
        body[start..start + body[start..].find('<').expect("end")].to_owned()
    };
    let first = secret_shown(&made.body);
    assert!(registered.secret_matches(&first));

    let rotated = submit(
        &mut operator,
        &format!("/admin/apps/{}/secret", registered.id),
        &[],
    )
    .await;
    let second = secret_shown(&rotated.body);
    let reloaded = {
        let mut conn = app.store.connection().expect("connection");
        seatgate::applications::find(&mut conn, &registered.id.to_string())
            .expect("find")
            .expect("still there")
    };
    assert!(reloaded.secret_matches(&second) && !reloaded.secret_matches(&first));

    let unconfirmed = submit(
        &mut operator,
        &format!("/admin/apps/{}/remove", registered.id),
        &[],
    )
    .await;
    assert_eq!(unconfirmed.status.as_u16(), 400);
    let removed = submit(
        &mut operator,
        &format!("/admin/apps/{}/remove", registered.id),
        &[("confirm", "yes")],
    )
    .await;
    assert_eq!(removed.status.as_u16(), 303);
    assert!(
        operator
            .get("/admin/apps")
            .await
            .body
            .contains("is removed")
    );
}

async fn a_refused_application_keeps_what_was_typed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut operator = app.admin_visitor("acme", "op@acme.example", true);
    let refused = submit(
        &mut operator,
        "/admin/apps",
        &[
            ("name", "Academy"),
            ("redirect_uris", "http://academy.example/cb"),
        ],
    )
    .await;
    assert_eq!(refused.status.as_u16(), 400);
    assert!(refused.body.contains("must use https"), "{}", refused.body);
    assert!(
        refused
            .body
            .contains("http://academy.example/cb</textarea>")
    );
}

async fn only_operators_see_applications(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut admin = app.admin_visitor("acme", "admin@acme.example", false);
    assert_eq!(admin.get("/admin/apps").await.status.as_u16(), 404);
    let post = submit(
        &mut admin,
        "/admin/apps",
        &[("name", "X"), ("redirect_uris", "https://x.example/cb")],
    )
    .await;
    assert_eq!(post.status.as_u16(), 404);
}

async fn the_license_rule_for_applications_is_a_setting(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut admin = app.admin_visitor("acme", "admin@acme.example", false);
    let saved = submit(
        &mut admin,
        "/admin/orgs/acme/settings/applications",
        &[("require_license", "on")],
    )
    .await;
    assert_eq!(saved.status.as_u16(), 303);
    assert!(app.org("acme").apps_require_license);
    let page = admin.get("/admin/orgs/acme/settings").await;
    assert!(
        page.body
            .contains("need a license to open the learning applications")
    );
    submit(&mut admin, "/admin/orgs/acme/settings/applications", &[]).await;
    assert!(!app.org("acme").apps_require_license);
}

on_both_databases!(
    an_operator_registers_rotates_and_removes_an_application,
    a_refused_application_keeps_what_was_typed,
    only_operators_see_applications,
    the_license_rule_for_applications_is_a_setting,
);
