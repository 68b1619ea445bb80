//! The console's licenses page.

use seatgate::saml::attributes::Preset;

use super::{IDP, sso_learner, submit};
use crate::common::idp::TestIdp;
use crate::common::{Backend, TestApp};
use crate::on_both_databases;

async fn out_of_seats_shows_a_banner_on_the_licenses_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = TestIdp::new(IDP);
    app.connect("acme", &idp, Preset::Generic);
    let mut admin = app.admin_visitor("acme", "ann@acme.example", false);
    submit(
        &mut admin,
        "/admin/orgs/acme/licenses",
        &[("license_type", "Learning"), ("seats", "1")],
    )
    .await;
    submit(
        &mut admin,
        "/admin/orgs/acme/settings/licenses",
        &[("auto_assign", "on"), ("license_type", "Learning")],
    )
    .await;
    sso_learner(&app, "acme", &idp, "first@acme.example").await;
    let full = admin.get("/admin/orgs/acme/licenses").await;
    assert!(
        !full.body.contains("is out of seats"),
        "full is not yet exhausted"
    );
    sso_learner(&app, "acme", &idp, "second@acme.example").await;
    let exhausted = admin.get("/admin/orgs/acme/licenses").await;
    assert!(exhausted.body.contains("Learning is out of seats."));
    assert!(exhausted.body.contains("<polyline"), "the usage chart");
    submit(
        &mut admin,
        "/admin/orgs/acme/licenses",
        &[("license_type", "Learning"), ("seats", "2")],
    )
    .await;
    let resized = admin.get("/admin/orgs/acme/licenses").await;
    assert!(
        !resized.body.contains("is out of seats"),
        "a free seat ends the alert"
    );
}

on_both_databases!(out_of_seats_shows_a_banner_on_the_licenses_page,);
