//! The console's single sign-on page: metadata upload and preview, connection options, Test sign-in, recent errors.

use seatgate::audit::{Action, Actor};
use seatgate::orgs::connections;
use seatgate::saml::attributes::Preset;

use super::{IDP, events, field, save_previewed, sso_learner, submit};
use crate::common::idp::{TestIdp, authn_request_in, authn_request_xml_in};
use crate::common::{Backend, TestApp, Visitor};
use crate::on_both_databases;

async fn metadata_upload_is_previewed_then_saved(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut admin = app.admin_visitor("acme", "ann@acme.example", false);
    let page = admin.get("/admin/orgs/acme/sso").await;
    // The setup steps carry this organization's own values, inline.
    let ours = app.endpoints("acme");
    for value in [&ours.entity_id, &ours.acs_url] {
        let inline = format!("= <code class=\"wrap\">{value}</code>");
        assert!(page.body.matches(&inline).count() >= 4, "{inline}");
    }
    // Each way of adding an IdP has its own labelled name and preset fields.
    for source in ["file", "url", "manual"] {
        for field in ["name", "preset"] {
            assert!(
                page.body
                    .contains(&format!(r#"<label for="{source}-{field}">"#))
                    && page
                        .body
                        .contains(&format!(r#"id="{source}-{field}" name="{field}""#)),
                "{source}-{field}"
            );
        }
        assert!(
            page.body
                .contains(&format!(r#"name="source" value="{source}""#))
        );
    }
    let token = page.csrf_token();
    let idp = TestIdp::new(IDP);
    let metadata = idp.metadata();

    let preview = admin
        .post_multipart(
            "/admin/orgs/acme/sso/preview",
            &[
                ("csrf_token", &token),
                ("source", "file"),
                ("name", "Acme Entra"),
                ("preset", "entra"),
            ],
            &[("metadata", "idp.xml", metadata.as_bytes())],
        )
        .await;
    assert_eq!(preview.status.as_u16(), 200, "{}", preview.body);
    let parsed: seatgate::saml::metadata::IdpMetadata = metadata.parse().unwrap();
    assert!(preview.body.contains(IDP));
    assert!(preview.body.contains(&parsed.certificates[0].fingerprint));
    assert!(preview.body.contains("HTTP-Redirect"));
    let org = app.org("acme");
    {
        let mut conn = app.store.connection().expect("connection");
        assert!(
            connections::list(&mut conn, org.id).unwrap().is_empty(),
            "not saved yet"
        );
    }

    let saved = save_previewed(&mut admin, "acme", &preview, "entra").await;
    assert_eq!(saved.status.as_u16(), 303);
    let page = admin.get("/admin/orgs/acme/sso").await;
    assert!(page.body.contains("Acme Entra is connected."));
    let mut conn = app.store.connection().expect("connection");
    let added = connections::list(&mut conn, org.id).unwrap();
    assert_eq!(added.len(), 1);
    assert_eq!(added[0].name, "Acme Entra");
    assert_eq!(added[0].mapping.preset, Preset::Entra);
    let trusted: Vec<_> = added[0]
        .certificates
        .iter()
        .map(|t| t.certificate.clone())
        .collect();
    assert_eq!(trusted, parsed.certificates);
    drop(conn);
    assert_eq!(events(&app, "acme", Action::IdpConnectionAdded).len(), 1);

    // Saving the same IdP again is refused with a message, not a second row.
    let again = save_previewed(&mut admin, "acme", &preview, "entra").await;
    assert_eq!(again.status.as_u16(), 303);
    assert!(
        admin
            .get("/admin/orgs/acme/sso")
            .await
            .body
            .contains("Not saved")
    );

    // And the connection signs learners in.
    sso_learner(&app, "acme", &idp, "ann@acme.example").await;
}

/// An add form as posted, the file it uploads, and the message expected back.
type Case<'a> = (&'a [(&'a str, &'a str)], &'a [u8], &'a str);

async fn bad_metadata_gets_a_specific_message_and_saves_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut admin = app.admin_visitor("acme", "ann@acme.example", false);
    let token = admin.get("/admin/orgs/acme/sso").await.csrf_token();
    let dtd = "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"b\">]><md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"x\"/>";
    let sp_only = "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"x\"><md:SPSSODescriptor protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\"/></md:EntityDescriptor>";
    let huge = vec![b'a'; 1200 * 1024];
    let pem = TestIdp::new(IDP).key.cert_pem();
    // (form fields, uploaded file, expected message)
    let cases: [Case; 8] = [
        (
            &[("source", "file")],
            b"hello, not xml <",
            "The metadata is not XML",
        ),
        (
            &[("source", "file")],
            dtd.as_bytes(),
            "DTD or entity declaration",
        ),
        (
            &[("source", "file")],
            sp_only.as_bytes(),
            "no IDPSSODescriptor",
        ),
        (
            &[("source", "file")],
            b"",
            "Choose the IdP&#39;s metadata XML file.",
        ),
        (&[("source", "file")], &huge, "larger than 1 MiB"),
        (
            &[
                ("source", "url"),
                ("metadata_url", "http://10.0.0.1/metadata"),
            ],
            b"",
            "must start with https://",
        ),
        (
            &[
                ("source", "manual"),
                ("entity_id", "https://idp.example"),
                ("sso_url", "https://idp.example/sso"),
                (
                    "certificate_pem",
                    "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----",
                ),
            ],
            b"",
            "A certificate in the metadata cannot be read: it is not a PEM certificate (text between",
        ),
        (
            &[
                ("source", "manual"),
                ("entity_id", "https://idp.example"),
                ("sso_url", "ftp://idp.example/sso"),
                ("certificate_pem", &pem),
            ],
            b"",
            "The single sign-on URL must be an http(s) URL.",
        ),
    ];
    for (fields, file, message) in cases {
        let mut all = vec![("csrf_token", token.as_str())];
        all.extend_from_slice(fields);
        let page = admin
            .post_multipart(
                "/admin/orgs/acme/sso/preview",
                &all,
                &[("metadata", "idp.xml", file)],
            )
            .await;
        let status = if message == "larger than 1 MiB" {
            413
        } else {
            400
        };
        assert_eq!(page.status.as_u16(), status, "{message}");
        assert!(page.body.contains(message), "{message}: {}", page.body);
        assert!(
            page.body
                .contains(r#"<div class="error-summary" role="alert""#),
            "{message}"
        );
    }
    // What was typed and pasted comes back, and the summary links to the field.
    let page = admin
        .post_multipart(
            "/admin/orgs/acme/sso/preview",
            &[
                ("csrf_token", token.as_str()),
                ("source", "manual"),
                ("name", "Hand-made"),
                ("entity_id", "https://idp.example"),
                ("sso_url", "https://idp.example/sso"),
                (
                    "certificate_pem",
                    "-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----",
                ),
            ],
            &[],
        )
        .await;
    assert!(
        page.body.contains(r##"<a href="#certificate_pem">"##),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("-----BEGIN CERTIFICATE-----\nnope\n-----END CERTIFICATE-----</textarea>"),
        "{}",
        page.body
    );
    assert!(page.body.contains(r#"value="Hand-made""#));
    let mut conn = app.store.connection().expect("connection");
    assert!(
        connections::list(&mut conn, app.org("acme").id)
            .unwrap()
            .is_empty()
    );
}

async fn connection_options_and_removal_are_changed_and_audited(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let connection = app.connect("acme", &TestIdp::new(IDP), Preset::Generic);
    let mut admin = app.admin_visitor("acme", "ann@acme.example", false);
    let base = format!("/admin/orgs/acme/sso/connections/{}", connection.id);

    let saved = submit(
        &mut admin,
        &format!("{base}/policy"),
        &[("enabled", "on"), ("require_signed_assertion", "on")],
    )
    .await;
    assert_eq!(saved.status.as_u16(), 303);
    let mut conn = app.store.connection().expect("connection");
    let changed = connections::find(&mut conn, &app.org("acme"), connection.id).unwrap();
    assert!(changed.enabled && changed.require_signed_assertion);
    assert!(!changed.allow_idp_initiated && !changed.allow_sha1);
    drop(conn);
    assert_eq!(events(&app, "acme", Action::IdpConnectionChanged).len(), 1);

    let removed = submit(&mut admin, &format!("{base}/remove"), &[]).await;
    assert_eq!(removed.status.as_u16(), 303);
    let mut conn = app.store.connection().expect("connection");
    assert!(matches!(
        connections::find(&mut conn, &app.org("acme"), connection.id),
        Err(connections::Error::NotFound { .. })
    ));
    drop(conn);
    assert_eq!(events(&app, "acme", Action::IdpConnectionRemoved).len(), 1);
    let missing = submit(&mut admin, &format!("{base}/remove"), &[]).await;
    assert_eq!(missing.status.as_u16(), 404);
}

async fn test_sign_in_checks_the_idp_and_signs_nobody_in(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = TestIdp::new(IDP);
    let connection = app.connect("acme", &idp, Preset::Generic);
    let mut admin = app.admin_visitor("acme", "ann@acme.example", false);
    let started = submit(
        &mut admin,
        &format!("/admin/orgs/acme/sso/connections/{}/test", connection.id),
        &[],
    )
    .await;
    assert_eq!(started.status.as_u16(), 303);
    let location = started.location.expect("to the IdP");
    assert!(location.starts_with("https://idp.example/sso?SAMLRequest="));
    let request = authn_request_in(&location);

    let mut spec = idp.spec(&app, "acme", "tess@acme.example");
    spec.in_response_to = Some(request.id);
    let (answered, visitor) = app.post_response("acme", &idp.mint(&spec), None).await;
    assert_eq!(
        answered.status.as_u16(),
        303,
        "{:?}",
        app.sso_errors("acme")
    );
    assert!(visitor.cookie.is_none(), "no session for anybody");
    // The verdict is a console page, for the organization's admins only.
    let verdict = answered.location.expect("to the verdict");
    assert!(
        verdict.starts_with("/admin/orgs/acme/sso/tests/"),
        "{verdict}"
    );
    assert_eq!(
        app.visitor().get(&verdict).await.status.as_u16(),
        303,
        "not signed in: to sign-in"
    );
    let other = app
        .admin_visitor("beta", "bo@beta.example", false)
        .get(&verdict)
        .await;
    assert_eq!(other.status.as_u16(), 404);
    let page = admin.get(&verdict).await;
    assert_eq!(page.status.as_u16(), 200);
    for expected in [
        "Test sign-in passed",
        "tess@acme.example",
        "firstName",
        "response signed",
        "verified with a certificate of this connection",
        "Valid until (Conditions NotOnOrAfter)",
        "before our clock",
        "&#60;samlp:Response",
        "href=\"/admin/orgs/acme/sso\"",
    ] {
        assert!(page.body.contains(expected), "{expected}: {}", page.body);
    }
    assert!(app.learners("acme").is_empty(), "no account created");
    assert_eq!(events(&app, "acme", Action::SsoTestSignIn).len(), 1);
}

async fn a_failing_test_sign_in_explains_itself_in_the_console(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = TestIdp::new(IDP);
    let connection = app.connect("acme", &idp, Preset::Generic);
    let mut admin = app.admin_visitor("acme", "ann@acme.example", false);
    let path = format!("/admin/orgs/acme/sso/connections/{}/test", connection.id);
    // The IdP signs with a key this connection does not know (a rolled key).
    let rolled = TestIdp::new(IDP);
    let started = submit(&mut admin, &path, &[]).await;
    let request = authn_request_in(&started.location.expect("to the IdP"));
    let mut spec = rolled.spec(&app, "acme", "tess@acme.example");
    spec.in_response_to = Some(request.id);
    let (answered, _) = app.post_response("acme", &rolled.mint(&spec), None).await;
    assert_eq!(
        answered.status.as_u16(),
        303,
        "never the learner's error page"
    );
    let page = admin.get(&answered.location.expect("to the verdict")).await;
    for expected in [
        "Test sign-in failed",
        "id=\"test-reason\">No valid signature by a certificate configured for this IdP",
        "upload its current metadata again, or add the new certificate",
        "Attributes (as sent, not verified)",
        "tess@acme.example",
        "&#60;samlp:Response",
    ] {
        assert!(page.body.contains(expected), "{expected}: {}", page.body);
    }

    // A response for another audience: the reason and our value to set.
    let started = submit(&mut admin, &path, &[]).await;
    let request = authn_request_in(&started.location.expect("to the IdP"));
    let mut spec = idp.spec(&app, "acme", "tess@acme.example");
    spec.in_response_to = Some(request.id);
    spec.audience = Some("https://other-sp.example/".into());
    let (answered, _) = app.post_response("acme", &idp.mint(&spec), None).await;
    let page = admin.get(&answered.location.expect("to the verdict")).await;
    let ours = app.endpoints("acme").entity_id;
    assert!(
        page.body.contains("https://other-sp.example/"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains(&format!("the Entity ID in Google to {ours}.")),
        "{}",
        page.body
    );
    assert!(app.learners("acme").is_empty());

    // A refused real sign-in still gets the learner's page.
    let (refused, _) = app
        .post_response(
            "acme",
            &rolled.mint(&rolled.spec(&app, "acme", "x@acme.example")),
            None,
        )
        .await;
    assert_eq!(refused.status.as_u16(), 403);
}

async fn sign_in_errors_show_the_reason_and_the_fix_with_our_values(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = TestIdp::new(IDP);
    app.connect("acme", &idp, Preset::Entra);
    let mut spec = idp.spec(&app, "acme", "ann@acme.example");
    spec.audience = Some("https://other-sp.example/".into());
    let (refused, _) = app.post_response("acme", &idp.mint(&spec), None).await;
    assert_eq!(refused.status.as_u16(), 403);
    let mut admin = app.admin_visitor("acme", "admin@acme.example", false);
    let page = admin.get("/admin/orgs/acme/sso").await;
    let ours = app.endpoints("acme").entity_id;
    assert!(page.body.contains("Audience was"), "the exact reason");
    assert!(page.body.contains("https://other-sp.example/"));
    assert!(
        page.body
            .contains(&format!("the Entity ID in Google to {ours}.")),
        "the fix names our entity ID"
    );
    let reference = &app.sso_errors("acme")[0].reference;
    assert!(page.body.contains(reference.as_str()));
}

async fn a_certificate_rollover_keeps_every_learner_signing_in(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let old = TestIdp::new(IDP);
    let connection = app.connect("acme", &old, Preset::Generic);
    let old_fingerprint = connection.certificates[0].certificate.fingerprint.clone();
    assert!(app.signs_in("acme", &old, "ada@acme.example").await);

    // The IdP rolls its key: its metadata now lists only the new certificate.
    let new = TestIdp::new(IDP);
    let mut admin = app.admin_visitor("acme", "ann@acme.example", false);
    let token = admin.get("/admin/orgs/acme/sso").await.csrf_token();
    let preview = admin
        .post_multipart(
            "/admin/orgs/acme/sso/preview",
            &[("csrf_token", &token), ("source", "file")],
            &[("metadata", "new.xml", new.metadata().as_bytes())],
        )
        .await;
    assert_eq!(preview.status.as_u16(), 200, "{}", preview.body);
    let new_fingerprint = new
        .metadata()
        .parse::<seatgate::saml::metadata::IdpMetadata>()
        .unwrap()
        .certificates[0]
        .fingerprint
        .clone();
    for expected in [
        "Update ",
        "Certificates added",
        new_fingerprint.as_str(),
        "No longer in the metadata: still trusted until you remove them or they expire",
        old_fingerprint.as_str(),
    ] {
        assert!(
            preview.body.contains(expected),
            "{expected}: {}",
            preview.body
        );
    }
    assert!(
        app.signs_in("acme", &old, "bob@acme.example").await,
        "nothing changed yet"
    );
    assert!(
        !app.signs_in("acme", &new, "bob@acme.example").await,
        "nor is the new key trusted yet"
    );

    let form: Vec<(&str, String)> = ["csrf_token", "entity_id", "sso_url", "certificates"]
        .into_iter()
        .map(|name| (name, field(&preview, name)))
        .collect();
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let updated = admin
        .post(
            &format!(
                "/admin/orgs/acme/sso/connections/{}/metadata",
                connection.id
            ),
            &pairs,
        )
        .await;
    assert_eq!(updated.status.as_u16(), 303, "{}", updated.body);
    let page = admin.get("/admin/orgs/acme/sso").await;
    assert!(
        page.body.contains("1 certificate(s) added."),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("No longer in the IdP&#39;s metadata since"),
        "{}",
        page.body
    );

    // During the rollover both keys sign learners in.
    assert!(app.signs_in("acme", &old, "cy@acme.example").await);
    assert!(app.signs_in("acme", &new, "dee@acme.example").await);

    // Once the old one is removed, only the new one does.
    let token = page.csrf_token();
    let path = format!(
        "/admin/orgs/acme/sso/connections/{}/certificates/remove",
        connection.id
    );
    let removed = admin
        .post(
            &path,
            &[
                ("csrf_token", &token),
                ("fingerprint", &old_fingerprint),
                ("confirm", "yes"),
            ],
        )
        .await;
    assert_eq!(removed.status.as_u16(), 303);
    assert!(
        admin
            .get("/admin/orgs/acme/sso")
            .await
            .body
            .contains("no longer trusts the certificate")
    );
    assert!(!app.signs_in("acme", &old, "eve@acme.example").await);
    assert!(app.signs_in("acme", &new, "eve@acme.example").await);

    // The last certificate in force cannot be removed: that would be an outage.
    admin
        .post(
            &path,
            &[
                ("csrf_token", &token),
                ("fingerprint", &new_fingerprint),
                ("confirm", "yes"),
            ],
        )
        .await;
    let page = admin.get("/admin/orgs/acme/sso").await;
    assert!(
        page.body
            .contains("Not removed: that is the connection&#39;s last certificate in force"),
        "{}",
        page.body
    );
    assert!(app.signs_in("acme", &new, "fay@acme.example").await);
    let changed = events(&app, "acme", Action::IdpConnectionChanged);
    assert_eq!(changed.len(), 2, "the update and the removal: {changed:?}");
}

async fn a_retired_certificate_stops_at_its_expiry(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let old = TestIdp::new(IDP);
    let connection = app.connect("acme", &old, Preset::Generic);
    let new = TestIdp::new(IDP);
    let org = app.org("acme");
    let metadata = new.metadata().parse().unwrap();
    {
        let mut conn = app.store.connection().expect("connection");
        seatgate::orgs::connections::rollover::update(
            &mut conn,
            &app.clock.clock(),
            &Actor::Cli,
            &org,
            connection.id,
            &metadata,
        )
        .expect("updated");
    }
    assert!(app.signs_in("acme", &old, "ada@acme.example").await);
    // Past the old certificate's expiry (the new one lives as long): as a
    // retired certificate it is no longer trusted; the listed one still is.
    let expiry = connection.certificates[0].certificate.not_after;
    let now = app.clock.clock().now_naive();
    let mut admin = app.admin_visitor("acme", "ann@acme.example", false);
    assert!(
        !admin
            .get("/admin/orgs/acme")
            .await
            .body
            .contains("signing certificate of")
    );
    // Ten days before: the overview warns.
    app.clock
        .advance(expiry - now - chrono::TimeDelta::days(10));
    // (Signed in again: a session does not last the year.)
    let mut admin = app.admin_visitor("acme", "ann@acme.example", false);
    let overview = admin.get("/admin/orgs/acme").await;
    assert!(
        overview.body.contains("The signing certificate of <strong>Test IdP https://idp.acme.example/entity</strong> expires in 10 days"),
        "{}",
        overview.body
    );
    app.clock.advance(chrono::TimeDelta::days(11));
    assert!(!app.signs_in("acme", &old, "bob@acme.example").await);
    assert!(app.signs_in("acme", &new, "bob@acme.example").await);
}

async fn connections_get_human_names_capped_and_renamable(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut admin = app.admin_visitor("acme", "ann@acme.example", false);
    let token = admin.get("/admin/orgs/acme/sso").await.csrf_token();
    let idp = TestIdp::new("http://www.okta.com/exk1fcia6d6EMsf331d8");
    // The IdP's organization display name, English preferred.
    let metadata = idp.metadata().replace(
        "</md:IDPSSODescriptor>",
        r#"</md:IDPSSODescriptor><md:Organization><md:OrganizationName xml:lang="de">acme-gmbh</md:OrganizationName><md:OrganizationDisplayName xml:lang="de">Acme GmbH Anmeldung</md:OrganizationDisplayName><md:OrganizationDisplayName xml:lang="en">Acme Sign-in</md:OrganizationDisplayName><md:OrganizationURL xml:lang="en">https://acme.example/</md:OrganizationURL></md:Organization>"#,
    );
    let preview = admin
        .post_multipart(
            "/admin/orgs/acme/sso/preview",
            &[("csrf_token", &token), ("source", "file"), ("name", "   ")],
            &[("metadata", "idp.xml", metadata.as_bytes())],
        )
        .await;
    assert_eq!(field(&preview, "name"), "Acme Sign-in");
    // Saved with the name field emptied: the default, never the entity ID.
    let form: Vec<(&str, String)> = [
        "csrf_token",
        "entity_id",
        "sso_url",
        "certificates",
        "metadata_url",
        "display_name",
    ]
    .into_iter()
    .map(|name| (name, field(&preview, name)))
    .chain([("name", String::new()), ("preset", "okta".to_owned())])
    .collect();
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    admin.post("/admin/orgs/acme/sso/connections", &pairs).await;
    let org = app.org("acme");
    let listed = || connections::list(&mut app.store.connection().unwrap(), org.id).unwrap();
    let connection = listed().remove(0);
    assert_eq!(connection.name, "Acme Sign-in");

    // Without a display name, the IdP's host.
    let plain = seatgate::orgs::connections::default_name(
        &TestIdp::new("urn:x").metadata().parse().unwrap(),
    );
    assert_eq!(plain, "idp.example");

    // Renamed; 3,000 characters are cut to 200; blank is refused.
    let path = format!("/admin/orgs/acme/sso/connections/{}/name", connection.id);
    admin
        .post(&path, &[("csrf_token", &token), ("name", "  Acme Okta  ")])
        .await;
    assert_eq!(listed()[0].name, "Acme Okta");
    let long = "x".repeat(3000);
    admin
        .post(&path, &[("csrf_token", &token), ("name", &long)])
        .await;
    assert_eq!(listed()[0].name.chars().count(), 200);
    admin
        .post(&path, &[("csrf_token", &token), ("name", " ")])
        .await;
    let page = admin.get("/admin/orgs/acme/sso").await;
    assert!(
        page.body.contains("Not renamed: a connection needs a name"),
        "{}",
        page.body
    );
    assert_eq!(listed()[0].name.chars().count(), 200);
}

async fn each_connection_says_whether_it_works(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = TestIdp::new(IDP);
    app.connect("acme", &idp, Preset::Generic);
    let mut admin = app.admin_visitor("acme", "ann@acme.example", false);
    let status = async |admin: &mut Visitor| {
        let page = admin.get("/admin/orgs/acme/sso").await;
        let at = page.body.find("connection-status").expect("a status");
        page.body[at..at + page.body[at..].find("</p>").expect("end")].to_owned()
    };
    assert!(status(&mut admin).await.contains("Not yet used"));
    assert!(app.signs_in("acme", &idp, "ada@acme.example").await);
    assert!(
        status(&mut admin)
            .await
            .contains("Working: last successful sign-in")
    );
    // A later refusal: failing, with the reason and the fix.
    app.clock.advance(chrono::TimeDelta::minutes(2));
    let mut spec = idp.spec(&app, "acme", "bob@acme.example");
    spec.audience = Some("https://other-sp.example/".into());
    app.post_response("acme", &idp.mint(&spec), None).await;
    let failing = status(&mut admin).await;
    assert!(
        failing.contains("<strong>Failing</strong> since"),
        "{failing}"
    );
    assert!(failing.contains("Audience was"), "{failing}");
    // Working again after the next good sign-in.
    app.clock.advance(chrono::TimeDelta::minutes(2));
    assert!(app.signs_in("acme", &idp, "cy@acme.example").await);
    assert!(status(&mut admin).await.contains("Working"));
}

async fn saml_options_shape_the_request_and_the_checks(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = TestIdp::new(IDP);
    let connection = app.connect("acme", &idp, Preset::Generic);
    let mut admin = app.admin_visitor("acme", "ann@acme.example", false);
    let test = format!("/admin/orgs/acme/sso/connections/{}/test", connection.id);
    let options = format!(
        "/admin/orgs/acme/sso/connections/{}/saml-options",
        connection.id
    );

    // The defaults: a signed request, no ForceAuthn, no format or context asked.
    let location = submit(&mut admin, &test, &[])
        .await
        .location
        .expect("to the IdP");
    assert!(location.contains("&Signature="), "{location}");
    let xml = authn_request_xml_in(&location);
    assert!(
        !xml.contains("ForceAuthn") && !xml.contains("RequestedAuthnContext"),
        "{xml}"
    );
    assert!(
        xml.contains("<samlp:NameIDPolicy AllowCreate=\"true\"/>"),
        "{xml}"
    );

    let saved = submit(
        &mut admin,
        &options,
        &[
            ("force_authn", "on"),
            ("name_id_format", "persistent"),
            ("authn_context", "password"),
            ("comparison", "minimum"),
        ],
    )
    .await;
    assert_eq!(saved.status.as_u16(), 303);
    let location = submit(&mut admin, &test, &[])
        .await
        .location
        .expect("to the IdP");
    assert!(
        !location.contains("Signature="),
        "unsigned, as asked: {location}"
    );
    let xml = authn_request_xml_in(&location);
    for expected in [
        "ForceAuthn=\"true\"",
        "<samlp:NameIDPolicy Format=\"urn:oasis:names:tc:SAML:2.0:nameid-format:persistent\" AllowCreate=\"true\"/>",
        "<samlp:RequestedAuthnContext Comparison=\"minimum\"><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></samlp:RequestedAuthnContext>",
    ] {
        assert!(xml.contains(expected), "{expected}: {xml}");
    }
    authn_request_in(&location);

    // A custom class; a bad one is refused with the reason, nothing changed.
    submit(
        &mut admin,
        &options,
        &[
            ("sign_requests", "on"),
            ("authn_context", "custom"),
            ("authn_context_custom", "urn:example:mfa"),
        ],
    )
    .await;
    let location = submit(&mut admin, &test, &[])
        .await
        .location
        .expect("to the IdP");
    assert!(
        authn_request_xml_in(&location)
            .contains("<saml:AuthnContextClassRef>urn:example:mfa</saml:AuthnContextClassRef>")
    );
    assert!(location.contains("&Signature="));
    submit(
        &mut admin,
        &options,
        &[
            ("authn_context", "custom"),
            ("authn_context_custom", "not a uri"),
        ],
    )
    .await;
    let page = admin.get("/admin/orgs/acme/sso").await;
    assert!(
        page.body.contains(
            "Not saved: &#34;not a uri&#34; is not an authentication context class reference"
        ),
        "{}",
        page.body
    );

    // Encrypted assertions required: a plain one is refused, an encrypted one signs in.
    submit(
        &mut admin,
        &options,
        &[
            ("sign_requests", "on"),
            ("require_encrypted_assertion", "on"),
        ],
    )
    .await;
    assert!(!app.signs_in("acme", &idp, "ada@acme.example").await);
    assert_eq!(app.sso_errors("acme")[0].reason, "assertion_not_encrypted");
    let mut spec = idp.spec(&app, "acme", "ada@acme.example");
    spec.encrypt_for = Some(app.sp_keys.get().current.cert.clone());
    let (page, _) = app.post_response("acme", &idp.mint(&spec), None).await;
    assert_eq!(page.status.as_u16(), 303, "{:?}", app.sso_errors("acme"));
}

async fn the_post_binding_sends_a_signed_request_in_a_self_posting_form(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = TestIdp::new(IDP);
    let org = app.org("acme");
    // Metadata listing a POST URL beside the redirect one.
    let metadata = idp.metadata().replace(
        "</md:IDPSSODescriptor>",
        r#"<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST" Location="https://idp.example/sso/post"/></md:IDPSSODescriptor>"#,
    );
    let connection = {
        let mut conn = app.store.connection().expect("connection");
        connections::add(
            &mut conn,
            &app.clock.clock(),
            &Actor::Cli,
            &org,
            metadata.parse().expect("metadata"),
            connections::NewConnection {
                name: None,
                metadata_url: None,
                preset: Preset::Generic,
                overrides: Default::default(),
            },
        )
        .expect("connection")
    };
    assert_eq!(
        connection.sso_post_url.as_deref(),
        Some("https://idp.example/sso/post")
    );
    let mut admin = app.admin_visitor("acme", "ann@acme.example", false);
    let options = format!(
        "/admin/orgs/acme/sso/connections/{}/saml-options",
        connection.id
    );
    submit(
        &mut admin,
        &options,
        &[("binding", "post"), ("sign_requests", "on")],
    )
    .await;
    let page = submit(
        &mut admin,
        &format!("/admin/orgs/acme/sso/connections/{}/test", connection.id),
        &[],
    )
    .await;
    assert_eq!(page.status.as_u16(), 200, "a page, not a redirect");
    assert!(
        page.body.contains(
            r#"<form id="saml-post" method="post" action="https://idp.example/sso/post">"#
        ),
        "{}",
        page.body
    );
    let encoded = field(&page, "SAMLRequest");
    use base64::Engine;
    let xml = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(&encoded)
            .expect("base64"),
    )
    .expect("UTF-8");
    assert!(
        xml.contains("Destination=\"https://idp.example/sso/post\""),
        "{xml}"
    );
    // Signed inside, with our key: verified as an IdP would.
    let doc = roxmltree::Document::parse(&xml).expect("XML");
    let keys =
        seatgate::saml::dsig::public_keys(&[app.sp_keys.get().current.cert.to_der().unwrap()]);
    let signed = seatgate::saml::dsig::verify(&doc, &keys, false).expect("a valid signature");
    assert!(signed.covers_root);
    let request: samael::schema::AuthnRequest = xml.parse().expect("an AuthnRequest");
    // The IdP answers it: the test's verdict.
    let mut spec = idp.spec(&app, "acme", "tess@acme.example");
    spec.in_response_to = Some(request.id);
    let (answered, _) = app.post_response("acme", &idp.mint(&spec), None).await;
    assert!(
        answered
            .location
            .expect("to the verdict")
            .contains("/sso/tests/")
    );
}

on_both_databases!(
    the_post_binding_sends_a_signed_request_in_a_self_posting_form,
    saml_options_shape_the_request_and_the_checks,
    each_connection_says_whether_it_works,
    connections_get_human_names_capped_and_renamable,
    a_certificate_rollover_keeps_every_learner_signing_in,
    a_retired_certificate_stops_at_its_expiry,
    metadata_upload_is_previewed_then_saved,
    bad_metadata_gets_a_specific_message_and_saves_nothing,
    connection_options_and_removal_are_changed_and_audited,
    test_sign_in_checks_the_idp_and_signs_nobody_in,
    a_failing_test_sign_in_explains_itself_in_the_console,
    sign_in_errors_show_the_reason_and_the_fix_with_our_values,
);
