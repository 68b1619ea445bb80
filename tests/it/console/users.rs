//! The console's users pages: search, filters, paging, licenses and admin rights per learner.

use seatgate::accounts::learners::{self, Learner};
use seatgate::audit::{Action, Actor};
use seatgate::licensing::{self, LicenseCause};
use seatgate::saml::attributes::Preset;

use super::{IDP, events, sso_learner, submit};
use crate::common::idp::TestIdp;
use crate::common::{Backend, TestApp};
use crate::on_both_databases;

/// Inserts learners directly: the list's search is what is under test.
fn many_learners(app: &TestApp, org: &str, count: usize) -> Vec<Learner> {
    let org = app.org(org);
    let mut conn = app.store.connection().expect("connection");
    let now = app.clock.clock().now_naive();
    (0..count)
        .map(|i| {
            let name = if i == 7 {
                "Grace Hopper".into()
            } else {
                format!("Learner {i:02}")
            };
            let email = format!("learner{i:02}@acme.example").parse().unwrap();
            let learner = Learner::new(org.id, email, name, now);
            learners::insert(&mut conn, &learner).expect("insert");
            learner
        })
        .collect()
}

async fn users_are_searched_filtered_and_paged(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = TestIdp::new(IDP);
    let connection = app.connect("acme", &idp, Preset::Generic);
    let learners = many_learners(&app, "acme", 30);
    sso_learner(&app, "acme", &idp, "sso@acme.example").await;
    {
        let org = app.org("acme");
        let mut conn = app.store.connection().expect("connection");
        let clock = app.clock.clock();
        let learning = "Learning".parse().unwrap();
        licensing::set_pool(&mut conn, &clock, &Actor::Cli, &org, &learning, 10).unwrap();
        for learner in &learners[..3] {
            licensing::assign(
                &mut conn,
                &clock,
                &Actor::Cli,
                LicenseCause::Cli,
                &org,
                learner,
                &learning,
            )
            .unwrap();
        }
    }
    let mut admin = app.admin_visitor("acme", "ann@acme.example", false);
    let all = admin.get("/admin/orgs/acme/users").await;
    assert!(all.body.contains("31 users found"));
    assert!(all.body.contains("Page 1 of 2"));
    let second = admin.get("/admin/orgs/acme/users?page=2").await;
    assert!(second.body.contains("Page 2 of 2"));
    assert!(second.body.contains("sso@acme.example"));
    assert!(
        !second.body.contains("learner00@"),
        "the first page's rows are not repeated"
    );

    let grace = admin.get("/admin/orgs/acme/users?q=HOPPER").await;
    assert!(grace.body.contains("1 user found") && grace.body.contains("Grace Hopper"));
    let by_email = admin.get("/admin/orgs/acme/users?q=learner1").await;
    assert!(by_email.body.contains("10 users found"));
    let literal = admin.get("/admin/orgs/acme/users?q=%25").await;
    assert!(
        literal.body.contains("0 users found"),
        "% is matched literally"
    );
    let licensed = admin.get("/admin/orgs/acme/users?license=licensed").await;
    assert!(licensed.body.contains("3 users found"));
    assert_eq!(
        licensed.body.matches("<td>Learning</td>").count(),
        3,
        "each row shows its license"
    );
    let unlicensed = admin.get("/admin/orgs/acme/users?license=unlicensed").await;
    assert!(unlicensed.body.contains("28 users found"));
    assert!(!unlicensed.body.contains("<td>Learning</td>"));
    let by_source = admin
        .get(&format!("/admin/orgs/acme/users?source={}", connection.id))
        .await;
    assert!(by_source.body.contains("1 user found"));
}

async fn admins_assign_revoke_and_promote_on_the_user_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = TestIdp::new(IDP);
    app.connect("acme", &idp, Preset::Generic);
    let (ann, _) = sso_learner(&app, "acme", &idp, "ann@acme.example").await;
    let (bo, mut bo_visitor) = sso_learner(&app, "acme", &idp, "bo@acme.example").await;
    let mut admin = app.admin_visitor("acme", "admin@acme.example", false);
    submit(
        &mut admin,
        "/admin/orgs/acme/licenses",
        &[("license_type", "Learning"), ("seats", "1")],
    )
    .await;
    let user = |l: &Learner| format!("/admin/orgs/acme/users/{}", l.id);

    let page = admin.get(&user(&ann)).await;
    assert!(page.body.contains("Assign license") && page.body.contains("Test IdP"));
    let assigned = submit(
        &mut admin,
        &format!("{}/assign", user(&ann)),
        &[("license_type", "Learning")],
    )
    .await;
    assert_eq!(assigned.location, Some(user(&ann)));
    let page = admin.get(&user(&ann)).await;
    assert!(
        page.body
            .contains("ann@acme.example now holds a Learning license.")
    );
    assert!(page.body.contains("Revoke license"));
    assert!(page.body.contains("license_assigned"), "the audit trail");

    submit(
        &mut admin,
        &format!("{}/assign", user(&bo)),
        &[("license_type", "Learning")],
    )
    .await;
    let page = admin.get(&user(&bo)).await;
    let flash = page
        .body
        .split("class=\"flash\"")
        .nth(1)
        .expect("a flash message");
    assert!(flash.contains("seat is free (1 of 1 assigned)"), "{flash}");

    // Not without the confirmation.
    submit(
        &mut admin,
        &format!("{}/revoke", user(&ann)),
        &[("license_type", "Learning")],
    )
    .await;
    let page = admin.get(&user(&ann)).await;
    assert!(
        page.body.contains("Not revoked: tick the box to confirm"),
        "{}",
        page.body
    );
    {
        let mut conn = app.store.connection().expect("connection");
        let pool = licensing::pools(&mut conn, app.org("acme").id)
            .unwrap()
            .remove(0);
        assert_eq!(pool.assigned, 1, "still held");
    }
    submit(
        &mut admin,
        &format!("{}/revoke", user(&ann)),
        &[("license_type", "Learning"), ("confirm", "yes")],
    )
    .await;
    {
        let mut conn = app.store.connection().expect("connection");
        let pool = licensing::pools(&mut conn, app.org("acme").id)
            .unwrap()
            .remove(0);
        assert_eq!(pool.assigned, 0);
    }

    // Bo becomes an SSO admin: his learner session opens the console.
    assert_eq!(
        bo_visitor.get("/admin/orgs/acme").await.status.as_u16(),
        403
    );
    submit(
        &mut admin,
        &format!("{}/admin", user(&bo)),
        &[("role", "grant")],
    )
    .await;
    assert_eq!(
        bo_visitor.get("/admin/orgs/acme").await.status.as_u16(),
        403,
        "not without the confirmation"
    );
    submit(
        &mut admin,
        &format!("{}/admin", user(&bo)),
        &[("role", "grant"), ("confirm", "yes")],
    )
    .await;
    assert_eq!(
        bo_visitor.get("/admin").await.location.as_deref(),
        Some("/admin/orgs/acme")
    );
    assert_eq!(
        bo_visitor
            .get("/admin/orgs/acme/users")
            .await
            .status
            .as_u16(),
        200
    );
    assert!(
        bo_visitor
            .get("/")
            .await
            .body
            .contains("Open the admin console")
    );
    assert_eq!(events(&app, "acme", Action::SsoAdminGranted).len(), 1);
    submit(
        &mut admin,
        &format!("{}/admin", user(&bo)),
        &[("role", "revoke")],
    )
    .await;
    assert_eq!(
        bo_visitor.get("/admin/orgs/acme").await.status.as_u16(),
        403,
        "at once"
    );
}

on_both_databases!(
    users_are_searched_filtered_and_paged,
    admins_assign_revoke_and_promote_on_the_user_page,
);
