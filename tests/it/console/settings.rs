//! The console's settings page: auto-assign, validation at the field, session lifetimes.

use seatgate::audit::{Action, Actor};
use seatgate::orgs::{LearnerSignIn, ProfileBindingPolicy};
use seatgate::saml::attributes::Preset;

use super::{IDP, events, sso_learner, submit};
use crate::common::idp::TestIdp;
use crate::common::{Backend, TestApp};
use crate::on_both_databases;

async fn auto_assign_is_switched_on_in_settings(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = TestIdp::new(IDP);
    app.connect("acme", &idp, Preset::Generic);
    let mut admin = app.admin_visitor("acme", "ann@acme.example", false);

    let settings = admin.get("/admin/orgs/acme/settings").await;
    assert!(settings.body.contains("There is no license pool yet"));

    let created = submit(
        &mut admin,
        "/admin/orgs/acme/licenses",
        &[("license_type", "Learning"), ("seats", "2")],
    )
    .await;
    assert_eq!(created.status.as_u16(), 303);
    assert_eq!(
        created.location.as_deref(),
        Some("/admin/orgs/acme/licenses")
    );
    let licenses = admin.get("/admin/orgs/acme/licenses").await;
    assert!(licenses.body.contains("Learning now has 2 seats."), "flash");
    assert!(licenses.body.contains("0 of 2 seats"));
    let again = admin.get("/admin/orgs/acme/licenses").await;
    assert!(
        !again.body.contains("now has 2 seats"),
        "a flash shows once"
    );

    let on = submit(
        &mut admin,
        "/admin/orgs/acme/settings/licenses",
        &[("auto_assign", "on"), ("license_type", "Learning")],
    )
    .await;
    assert_eq!(on.status.as_u16(), 303);
    let settings = admin.get("/admin/orgs/acme/settings").await;
    assert!(
        settings
            .body
            .contains("Automatic license assignment is on, drawing from Learning.")
    );
    assert!(
        settings
            .body
            .contains(r#"name="auto_assign" value="on" checked"#)
    );
    assert!(app.org("acme").auto_assign_licenses);
    let changed = events(&app, "acme", Action::AutoAssignChanged);
    assert!(
        matches!(changed[0].actor, Actor::Admin(_)),
        "audited as the admin"
    );

    sso_learner(&app, "acme", &idp, "new@acme.example").await;
    let licenses = admin.get("/admin/orgs/acme/licenses").await;
    assert!(
        licenses.body.contains("1 of 2 seats"),
        "the new learner took a seat"
    );

    let off = submit(&mut admin, "/admin/orgs/acme/settings/licenses", &[]).await;
    assert_eq!(off.status.as_u16(), 303);
    assert!(!app.org("acme").auto_assign_licenses);
}

async fn invalid_settings_are_shown_at_the_field_and_change_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut admin = app.admin_visitor("acme", "ann@acme.example", false);
    let path = "/admin/orgs/acme/settings/sign-in";

    let refused = submit(
        &mut admin,
        path,
        &[
            ("learner_sign_in", "sso"),
            ("profile_binding", "required"),
            ("learner_session_minutes", "60"),
            ("clock_skew_seconds", "900"),
        ],
    )
    .await;
    assert_eq!(refused.status.as_u16(), 400);
    assert!(
        refused
            .body
            .contains("Enter a number of seconds from 0 to 600.")
    );
    assert!(
        refused.body.contains(r#"value="900""#),
        "the entered value is kept"
    );
    let org = app.org("acme");
    assert_eq!(org.clock_skew.seconds(), 180);
    assert_eq!(org.profile_binding_policy, ProfileBindingPolicy::Optional);

    let refused = submit(
        &mut admin,
        path,
        &[
            ("learner_sign_in", "sso"),
            ("profile_binding", "optional"),
            ("learner_session_minutes", "5"),
            ("clock_skew_seconds", "60"),
        ],
    )
    .await;
    assert_eq!(refused.status.as_u16(), 400);
    assert!(refused.body.contains("between 15 minutes and 30 days"));

    let saved = submit(
        &mut admin,
        path,
        &[
            ("learner_sign_in", "both"),
            ("profile_binding", "required"),
            ("learner_session_minutes", "60"),
            ("clock_skew_seconds", "120"),
        ],
    )
    .await;
    assert_eq!(saved.status.as_u16(), 303);
    assert_eq!(app.org("acme").learner_sign_in, LearnerSignIn::Both);
    let org = app.org("acme");
    assert_eq!(org.clock_skew.seconds(), 120);
    assert_eq!(org.learner_session.minutes(), 60);
    assert_eq!(org.profile_binding_policy, ProfileBindingPolicy::Required);
    assert_eq!(events(&app, "acme", Action::OrgSettingsChanged).len(), 1);

    let seats = submit(
        &mut admin,
        "/admin/orgs/acme/licenses",
        &[("license_type", "Learning"), ("seats", "-3")],
    )
    .await;
    assert_eq!(seats.status.as_u16(), 400);
    assert!(seats.body.contains("Enter a whole number of seats"));
    assert!(seats.body.contains(r#"value="-3""#));
}

async fn learner_sessions_last_as_the_settings_say(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = TestIdp::new(IDP);
    app.connect("acme", &idp, Preset::Generic);
    let mut admin = app.admin_visitor("acme", "ann@acme.example", false);
    submit(
        &mut admin,
        "/admin/orgs/acme/settings/sign-in",
        &[
            ("learner_sign_in", "sso"),
            ("profile_binding", "optional"),
            ("learner_session_minutes", "60"),
            ("clock_skew_seconds", "180"),
        ],
    )
    .await;
    assert_eq!(app.org("acme").learner_session.minutes(), 60);
    let (_, mut learner) = sso_learner(&app, "acme", &idp, "ann@acme.example").await;
    let signed_in = "Welcome, Ann Lee";
    app.clock.advance(chrono::TimeDelta::minutes(59));
    assert!(learner.get("/").await.body.contains(signed_in));
    app.clock.advance(chrono::TimeDelta::minutes(2));
    assert!(
        !learner.get("/").await.body.contains(signed_in),
        "expired after an hour"
    );
}

on_both_databases!(
    auto_assign_is_switched_on_in_settings,
    invalid_settings_are_shown_at_the_field_and_change_nothing,
    learner_sessions_last_as_the_settings_say,
);
