//! Administrator sign-in: one-time links, passwords, sessions, CSRF, throttling.

use chrono::TimeDelta;
use seatgate::accounts::admins;
use seatgate::audit::Actor;
use seatgate::orgs;
use seatgate::secret::{Password, SecretToken};

use crate::common::{Backend, TestApp, Visitor};
use crate::on_both_databases;

const EMAIL: &str = "ann@acme.example";
const PASSWORD: &str = "a long enough passphrase";

/// Creates organization "acme" with admin Ann; returns the path of her one-time link.
fn org_with_admin_link(app: &TestApp) -> String {
    let mut conn = app.store.connection().expect("connection");
    let clock = app.clock.clock();
    let org = match orgs::find(&mut conn, "acme") {
        Ok(org) => org,
        Err(_) => orgs::create(
            &mut conn,
            &clock,
            &Actor::Cli,
            "acme".parse().unwrap(),
            "Acme Corp".parse().unwrap(),
        )
        .expect("create org"),
    };
    let issued = admins::create_with_link(
        &mut conn,
        &clock,
        &app.settings.base_url,
        &org,
        EMAIL.parse().unwrap(),
        false,
    )
    .expect("issue link");
    issued
        .url
        .strip_prefix(&app.address)
        .expect("link on our base URL")
        .to_owned()
}

/// Ann, with her password already set.
fn admin_with_password(app: &TestApp) {
    let link = org_with_admin_link(app);
    let token = SecretToken::from_presented(link.rsplit('/').next().unwrap()).expect("token");
    let mut conn = app.store.connection().expect("connection");
    let password = Password::new(PASSWORD.into());
    admins::redeem_link(&mut conn, &app.clock.clock(), &token, &password, &password)
        .expect("set password");
}

async fn sign_in(visitor: &mut Visitor, password: &str) -> crate::common::visitor::Page {
    let form = visitor.get("/admin/login").await;
    let csrf = form.csrf_token();
    visitor
        .post(
            "/admin/login",
            &[
                ("csrf_token", &csrf),
                ("email", EMAIL),
                ("password", password),
            ],
        )
        .await
}

async fn one_time_link_sets_the_password_and_signs_in_only_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let link = org_with_admin_link(&app);
    let mut visitor = app.visitor();

    let form = visitor.get(&link).await;
    assert_eq!(form.status.as_u16(), 200);
    assert!(form.body.contains(EMAIL));
    let anonymous_cookie = visitor
        .cookie
        .clone()
        .expect("anonymous session for the form");
    let csrf = form.csrf_token();
    let done = visitor
        .post(
            &link,
            &[
                ("csrf_token", &csrf),
                ("password", PASSWORD),
                ("confirmation", PASSWORD),
            ],
        )
        .await;
    assert_eq!(done.status.as_u16(), 303, "{}", done.body);
    assert_eq!(done.location.as_deref(), Some("/admin"));
    assert_ne!(
        visitor.cookie.as_ref(),
        Some(&anonymous_cookie),
        "session rotated at sign-in"
    );

    let start = visitor.get("/admin").await;
    assert_eq!(
        start.location.as_deref(),
        Some("/admin/orgs/acme"),
        "to the own organization"
    );
    let console = visitor.get("/admin/orgs/acme").await;
    assert_eq!(console.status.as_u16(), 200);
    assert!(console.body.contains("Acme Corp"));

    let again = visitor.get(&link).await;
    assert_eq!(again.status.as_u16(), 410, "a used link is gone");
    let csrf = console.csrf_token();
    let replay = visitor
        .post(
            &link,
            &[
                ("csrf_token", &csrf),
                ("password", "another password 123"),
                ("confirmation", "another password 123"),
            ],
        )
        .await;
    assert_eq!(replay.status.as_u16(), 410);

    let mut other = app.visitor();
    assert_eq!(
        sign_in(&mut other, PASSWORD).await.status.as_u16(),
        303,
        "the first password stands"
    );
}

async fn one_time_link_expires_after_fifteen_minutes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let link = org_with_admin_link(&app);
    let mut visitor = app.visitor();
    app.clock.advance(TimeDelta::minutes(14));
    assert_eq!(
        visitor.get(&link).await.status.as_u16(),
        200,
        "still valid at 14 minutes"
    );
    app.clock.advance(TimeDelta::minutes(2));
    let page = visitor.get(&link).await;
    assert_eq!(page.status.as_u16(), 410);
    assert!(page.body.contains("can no longer be used"));
}

async fn weak_or_mismatched_passwords_are_refused_and_the_link_stays_usable(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let link = org_with_admin_link(&app);
    let mut visitor = app.visitor();
    let csrf = visitor.get(&link).await.csrf_token();

    let short = visitor
        .post(
            &link,
            &[
                ("csrf_token", &csrf),
                ("password", "short"),
                ("confirmation", "short"),
            ],
        )
        .await;
    assert_eq!(short.status.as_u16(), 400);
    assert!(
        short.body.contains("at least 12 characters"),
        "{}",
        short.body
    );

    let mismatch = visitor
        .post(
            &link,
            &[
                ("csrf_token", &csrf),
                ("password", PASSWORD),
                ("confirmation", "something else entirely"),
            ],
        )
        .await;
    assert_eq!(mismatch.status.as_u16(), 400);
    assert!(mismatch.body.contains("differ"));

    assert_eq!(
        visitor.get(&link).await.status.as_u16(),
        200,
        "a refused attempt does not spend the link"
    );
}

async fn password_sign_in_rotates_the_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin_with_password(&app);
    let mut visitor = app.visitor();

    let wrong = sign_in(&mut visitor, "not the password at all").await;
    assert_eq!(wrong.status.as_u16(), 401);
    assert!(wrong.body.contains("The email or password is not right."));
    assert!(wrong.body.contains(EMAIL), "the email is kept in the form");

    let before = visitor.cookie.clone().expect("anonymous session");
    let done = sign_in(&mut visitor, PASSWORD).await;
    assert_eq!(done.status.as_u16(), 303);
    let after = visitor.cookie.clone().expect("admin session");
    assert_ne!(before, after, "a new token at sign-in");
    assert_eq!(visitor.get("/admin/orgs/acme").await.status.as_u16(), 200);

    let mut stale = app.visitor();
    stale.cookie = Some(before);
    let page = stale.get("/admin").await;
    assert_eq!(page.status.as_u16(), 303, "the pre-sign-in token is dead");
    assert_eq!(page.location.as_deref(), Some("/admin/login"));
}

async fn signing_out_ends_the_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin_with_password(&app);
    let mut visitor = app.visitor();
    sign_in(&mut visitor, PASSWORD).await;
    let token = visitor.cookie.clone().expect("admin session");
    let console = visitor.get("/admin/orgs/acme").await;
    assert!(
        console.body.contains(r#"action="/admin/logout""#),
        "the sign-out button posts there"
    );
    let csrf = console.csrf_token();
    let out = visitor
        .post("/admin/logout", &[("csrf_token", &csrf)])
        .await;
    assert_eq!(out.status.as_u16(), 303);
    let mut old = app.visitor();
    old.cookie = Some(token);
    assert_eq!(old.get("/admin").await.status.as_u16(), 303);
}

async fn form_posts_without_a_valid_csrf_token_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin_with_password(&app);
    let mut visitor = app.visitor();
    let csrf = visitor.get("/admin/login").await.csrf_token();
    let fields = [("email", EMAIL), ("password", PASSWORD)];

    let missing = visitor.post("/admin/login", &fields).await;
    assert_eq!(missing.status.as_u16(), 403);
    let wrong = visitor
        .post(
            "/admin/login",
            &[
                ("csrf_token", "AAAA"),
                ("email", EMAIL),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(wrong.status.as_u16(), 403);
    let cross_site = visitor
        .post_with(
            "/admin/login",
            &[
                ("csrf_token", &csrf),
                ("email", EMAIL),
                ("password", PASSWORD),
            ],
            &[("Sec-Fetch-Site", "cross-site")],
        )
        .await;
    assert_eq!(cross_site.status.as_u16(), 403);
    let mut stranger = app.visitor();
    let no_session = stranger
        .post(
            "/admin/login",
            &[
                ("csrf_token", &csrf),
                ("email", EMAIL),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(
        no_session.status.as_u16(),
        403,
        "a token without its session is worthless"
    );

    let valid = visitor
        .post(
            "/admin/login",
            &[
                ("csrf_token", &csrf),
                ("email", EMAIL),
                ("password", PASSWORD),
            ],
        )
        .await;
    assert_eq!(
        valid.status.as_u16(),
        303,
        "the same form with its token passes"
    );
}

async fn repeated_failed_sign_ins_are_throttled(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    admin_with_password(&app);
    let mut visitor = app.visitor();
    for _ in 0..5 {
        assert_eq!(
            sign_in(&mut visitor, "wrong password guess")
                .await
                .status
                .as_u16(),
            401
        );
    }
    let blocked = sign_in(&mut visitor, PASSWORD).await;
    assert_eq!(
        blocked.status.as_u16(),
        429,
        "even the right password waits"
    );
    app.clock.advance(TimeDelta::minutes(16));
    assert_eq!(sign_in(&mut visitor, PASSWORD).await.status.as_u16(), 303);
}

async fn console_requires_an_admin_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let page = app.visitor().get("/admin").await;
    assert_eq!(page.status.as_u16(), 303);
    assert_eq!(page.location.as_deref(), Some("/admin/login"));
}

on_both_databases!(
    one_time_link_sets_the_password_and_signs_in_only_once,
    one_time_link_expires_after_fifteen_minutes,
    weak_or_mismatched_passwords_are_refused_and_the_link_stays_usable,
    password_sign_in_rotates_the_session,
    signing_out_ends_the_session,
    form_posts_without_a_valid_csrf_token_are_refused,
    repeated_failed_sign_ins_are_throttled,
    console_requires_an_admin_session,
);
