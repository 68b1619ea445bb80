//! The admin console over HTTP: who may see what, CSRF, and every change it makes.

use seatgate::accounts::learners::{self, Learner};
use seatgate::audit::{self, Action, Actor, AuditFilter};
use seatgate::licensing::{self, LicenseCause};
use seatgate::orgs::{ProfileBindingPolicy, connections};
use seatgate::saml::attributes::Preset;

use crate::common::idp::{TestIdp, authn_request_in};
use crate::common::visitor::Page;
use crate::common::{Backend, TestApp, Visitor};
use crate::on_both_databases;

const IDP: &str = "https://idp.acme.example/entity";

/// The value of the form field `name` on a page (first occurrence).
fn field(page: &Page, name: &str) -> String {
    let at = page
        .body
        .find(&format!("name=\"{name}\""))
        .unwrap_or_else(|| panic!("field {name} on the page"));
    let tag = &page.body[at..at + page.body[at..].find('>').expect("end of tag")];
    let start = tag.find("value=\"").expect("a value") + "value=\"".len();
    let end = tag[start..].find('"').expect("closing quote") + start;
    tag[start..end].replace("&amp;", "&").replace("&#x2f;", "/")
}

/// Posts a console form with the page's CSRF token.
async fn submit(visitor: &mut Visitor, path: &str, form: &[(&str, &str)]) -> Page {
    let csrf = visitor.get("/admin").await;
    let token = visitor
        .get(csrf.location.as_deref().expect("console start"))
        .await
        .csrf_token();
    let mut fields = vec![("csrf_token", token.as_str())];
    fields.extend_from_slice(form);
    visitor.post(path, &fields).await
}

/// A learner who signed in to `org` through `idp`, with their signed-in visitor.
async fn sso_learner(app: &TestApp, org: &str, idp: &TestIdp, email: &str) -> (Learner, Visitor) {
    let (page, visitor) = app
        .post_response(org, &idp.mint(&idp.spec(app, org, email)), None)
        .await;
    assert_eq!(page.status.as_u16(), 303, "{:?}", app.sso_errors(org));
    let learner = app
        .learners(org)
        .into_iter()
        .find(|l| l.email.as_str() == email)
        .expect("learner created");
    (learner, visitor)
}

fn events(app: &TestApp, org: &str, action: Action) -> Vec<audit::Event> {
    let org = app.org(org);
    let mut conn = app.store.connection().expect("connection");
    let filter = AuditFilter {
        action: Some(action),
        ..AuditFilter::default()
    };
    audit::search(&mut conn, org.id, &filter, 1, 100)
        .expect("audit")
        .events
}

async fn other_organizations_are_not_found_and_learners_are_forbidden(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = TestIdp::new(IDP);
    let connection = app.connect("beta", &idp, Preset::Generic);
    let (learner, mut learner_visitor) = sso_learner(&app, "beta", &idp, "bo@beta.example").await;
    let mut admin = app.admin_visitor("alpha", "ann@alpha.example", false);

    for path in [
        "/admin/orgs/beta",
        "/admin/orgs/beta/settings",
        "/admin/orgs/beta/sso",
        "/admin/orgs/beta/users",
        "/admin/orgs/beta/licenses",
        "/admin/orgs/beta/audit",
        "/admin/orgs/beta/audit.csv",
        &format!("/admin/orgs/beta/users/{}", learner.id),
        &format!("/admin/orgs/alpha/users/{}", learner.id),
    ] {
        assert_eq!(admin.get(path).await.status.as_u16(), 404, "{path}");
    }
    assert_eq!(admin.get("/admin/orgs/alpha").await.status.as_u16(), 200);

    // Changes to the other organization are refused the same way, with a valid token.
    let page = submit(
        &mut admin,
        "/admin/orgs/beta/licenses",
        &[("license_type", "Learning"), ("seats", "5")],
    )
    .await;
    assert_eq!(page.status.as_u16(), 404);
    let removal = format!("/admin/orgs/alpha/sso/connections/{}/remove", connection.id);
    assert_eq!(submit(&mut admin, &removal, &[]).await.status.as_u16(), 404);
    let grant = format!("/admin/orgs/alpha/users/{}/admin", learner.id);
    assert_eq!(
        submit(&mut admin, &grant, &[("role", "grant")])
            .await
            .status
            .as_u16(),
        404
    );
    {
        let mut conn = app.store.connection().expect("connection");
        let beta = app.org("beta");
        assert!(licensing::pools(&mut conn, beta.id).unwrap().is_empty());
        assert_eq!(connections::list(&mut conn, beta.id).unwrap().len(), 1);
        assert!(
            !learners::find_by_id(&mut conn, learner.id)
                .unwrap()
                .unwrap()
                .is_admin
        );
    }

    // A learner is signed in, but is no administrator.
    for path in ["/admin", "/admin/orgs/beta", "/admin/orgs/beta/users"] {
        assert_eq!(
            learner_visitor.get(path).await.status.as_u16(),
            403,
            "{path}"
        );
    }

    // An operator sees every organization.
    let mut operator = app.admin_visitor("alpha", "op@seatgate.example", true);
    let start = operator.get("/admin").await;
    assert_eq!(start.location.as_deref(), Some("/admin/orgs"));
    let list = operator.get("/admin/orgs").await;
    assert!(list.body.contains("/admin/orgs/alpha") && list.body.contains("/admin/orgs/beta"));
    assert_eq!(
        operator.get("/admin/orgs/beta/users").await.status.as_u16(),
        200
    );
    assert_eq!(
        operator.get("/admin/orgs/nowhere").await.status.as_u16(),
        404
    );
    // An operator's changes are audited under their name.
    let grant = format!("/admin/orgs/beta/users/{}/admin", learner.id);
    let granted = submit(&mut operator, &grant, &[("role", "grant")]).await;
    assert_eq!(granted.status.as_u16(), 303);
    let audit = operator
        .get("/admin/orgs/beta/audit?action=sso_admin_granted")
        .await;
    assert!(audit.body.contains("op@seatgate.example (operator)"));
}

async fn console_forms_need_the_csrf_token_and_the_same_site(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut admin = app.admin_visitor("acme", "ann@acme.example", false);
    let token = admin.get("/admin/orgs/acme/licenses").await.csrf_token();
    let form = [("license_type", "Learning"), ("seats", "5")];
    let path = "/admin/orgs/acme/licenses";

    let none = admin.post(path, &form).await;
    assert_eq!(none.status.as_u16(), 403);
    assert!(none.body.contains("Your form has expired"));
    let mut wrong = vec![("csrf_token", "not-the-token")];
    wrong.extend_from_slice(&form);
    assert_eq!(admin.post(path, &wrong).await.status.as_u16(), 403);
    let mut right = vec![("csrf_token", token.as_str())];
    right.extend_from_slice(&form);
    let cross = admin
        .post_with(path, &right, &[("Sec-Fetch-Site", "cross-site")])
        .await;
    assert_eq!(cross.status.as_u16(), 403);
    let upload = admin
        .post_multipart(
            "/admin/orgs/acme/sso/preview",
            &[("source", "file")],
            &[(
                "metadata",
                "idp.xml",
                TestIdp::new(IDP).metadata().as_bytes(),
            )],
        )
        .await;
    assert_eq!(upload.status.as_u16(), 403, "uploads need the token too");
    {
        let mut conn = app.store.connection().expect("connection");
        assert!(
            licensing::pools(&mut conn, app.org("acme").id)
                .unwrap()
                .is_empty()
        );
    }
    // The same form with the token goes through.
    assert_eq!(admin.post(path, &right).await.status.as_u16(), 303);
}

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
    assert_eq!(org.clock_skew.num_seconds(), 180);
    assert_eq!(org.profile_binding_policy, ProfileBindingPolicy::Optional);

    let refused = submit(
        &mut admin,
        path,
        &[
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
            ("profile_binding", "required"),
            ("learner_session_minutes", "60"),
            ("clock_skew_seconds", "120"),
        ],
    )
    .await;
    assert_eq!(saved.status.as_u16(), 303);
    let org = app.org("acme");
    assert_eq!(org.clock_skew.num_seconds(), 120);
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

async fn metadata_upload_is_previewed_then_saved(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut admin = app.admin_visitor("acme", "ann@acme.example", false);
    let page = admin.get("/admin/orgs/acme/sso").await;
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

    let saved = save_previewed(&mut admin, &preview).await;
    assert_eq!(saved.status.as_u16(), 303);
    let page = admin.get("/admin/orgs/acme/sso").await;
    assert!(page.body.contains("Acme Entra is connected."));
    let mut conn = app.store.connection().expect("connection");
    let added = connections::list(&mut conn, org.id).unwrap();
    assert_eq!(added.len(), 1);
    assert_eq!(added[0].name, "Acme Entra");
    assert_eq!(added[0].mapping.preset, Preset::Entra);
    assert_eq!(added[0].certificates, parsed.certificates);
    drop(conn);
    assert_eq!(events(&app, "acme", Action::IdpConnectionAdded).len(), 1);

    // Saving the same IdP again is refused with a message, not a second row.
    let again = save_previewed(&mut admin, &preview).await;
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

/// Submits a preview page's "Save connection" form as shown.
async fn save_previewed(admin: &mut Visitor, preview: &Page) -> Page {
    let form: Vec<(&str, String)> = [
        "csrf_token",
        "entity_id",
        "sso_url",
        "certificates",
        "metadata_url",
        "name",
    ]
    .into_iter()
    .map(|name| (name, field(preview, name)))
    .chain([("preset", "entra".to_owned())])
    .collect();
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    admin.post("/admin/orgs/acme/sso/connections", &pairs).await
}

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
        (&[("source", "file")], &huge, "larger than"),
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
            "cannot be read",
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
        assert_eq!(page.status.as_u16(), 400, "{message}");
        assert!(page.body.contains(message), "{message}: {}", page.body);
    }
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
    let (request, relay) = authn_request_in(&location);

    let mut spec = idp.spec(&app, "acme", "tess@acme.example");
    spec.in_response_to = Some(request.id);
    let (page, visitor) = app
        .post_response("acme", &idp.mint(&spec), Some(&relay))
        .await;
    assert_eq!(page.status.as_u16(), 200, "{:?}", app.sso_errors("acme"));
    assert!(page.body.contains("Test sign-in succeeded"));
    assert!(page.body.contains("tess@acme.example"));
    assert!(page.body.contains("firstName"), "the attributes are listed");
    assert!(page.body.contains("href=\"/admin/orgs/acme/sso\""));
    assert!(visitor.cookie.is_none(), "no session for anybody");
    assert!(app.learners("acme").is_empty(), "no account created");
    assert_eq!(events(&app, "acme", Action::SsoTestSignIn).len(), 1);
    // The admin is still signed in to the console.
    assert_eq!(admin.get("/admin/orgs/acme/sso").await.status.as_u16(), 200);
}

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

    submit(
        &mut admin,
        &format!("{}/revoke", user(&ann)),
        &[("license_type", "Learning")],
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

async fn audit_log_filters_pages_and_exports_csv(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut admin = app.admin_visitor("acme", "ann@acme.example", false);
    for (kind, seats) in [
        ("Learning", "5"),
        ("=HYPERLINK(\"x\")", "1"),
        ("Coaching", "2"),
    ] {
        submit(
            &mut admin,
            "/admin/orgs/acme/licenses",
            &[("license_type", kind), ("seats", seats)],
        )
        .await;
    }
    let all = admin.get("/admin/orgs/acme/audit").await;
    assert!(all.body.contains("license_pool_set") && all.body.contains("org_created"));
    assert!(
        all.body.contains("ann@acme.example (admin)"),
        "actors by name"
    );

    let pools = admin
        .get("/admin/orgs/acme/audit?action=license_pool_set")
        .await;
    assert!(pools.body.contains("3 events"));
    assert!(!pools.body.contains("<code>org_created</code>"));
    let cli = admin.get("/admin/orgs/acme/audit?actor=cli").await;
    assert!(
        cli.body.contains("org_created") && !cli.body.contains("<code>license_pool_set</code>")
    );
    let today = app.clock.clock().now_naive().date();
    let tomorrow = today.succ_opt().unwrap();
    let future = admin
        .get(&format!("/admin/orgs/acme/audit?from={tomorrow}"))
        .await;
    assert!(future.body.contains("0 events"));
    let range = admin
        .get(&format!(
            "/admin/orgs/acme/audit?action=license_pool_set&from={today}&to={today}"
        ))
        .await;
    assert!(range.body.contains("3 events"));
    let bad = admin.get("/admin/orgs/acme/audit?from=yesterday").await;
    assert_eq!(bad.status.as_u16(), 400);
    assert!(bad.body.contains("The from filter could not be read"));

    let csv = admin
        .get("/admin/orgs/acme/audit.csv?action=license_pool_set")
        .await;
    assert_eq!(csv.status.as_u16(), 200);
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines[0], "time,actor,action,target,details");
    assert_eq!(lines.len(), 4);
    assert!(
        csv.body.contains("'=HYPERLINK"),
        "formulas are defused: {}",
        csv.body
    );
    assert_eq!(
        admin
            .get("/admin/orgs/acme/audit.csv?to=never")
            .await
            .status
            .as_u16(),
        400
    );
}

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

async fn an_idp_group_grants_the_console_at_each_sign_in(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = TestIdp::new(IDP);
    let connection = app.connect("acme", &idp, Preset::Generic);
    let mut admin = app.admin_visitor("acme", "ann@acme.example", false);
    let path = format!(
        "/admin/orgs/acme/sso/connections/{}/admin-role",
        connection.id
    );
    let half = submit(&mut admin, &path, &[("attribute", "groups"), ("value", "")]).await;
    assert_eq!(half.status.as_u16(), 303);
    assert!(
        admin
            .get("/admin/orgs/acme/sso")
            .await
            .body
            .contains("Not saved: the administrator role needs both")
    );
    submit(
        &mut admin,
        &path,
        &[("attribute", "groups"), ("value", "Seatgate Admins")],
    )
    .await;

    let minted = |groups: &str| {
        let mut spec = idp.spec(&app, "acme", "it@acme.example");
        spec.attributes.push(("groups".into(), groups.into()));
        idp.mint(&spec)
    };
    let (_, mut member) = app
        .post_response("acme", &minted("Seatgate Admins"), None)
        .await;
    assert_eq!(
        member.get("/admin/orgs/acme/users").await.status.as_u16(),
        200
    );
    let (_, mut former) = app.post_response("acme", &minted("Everyone"), None).await;
    assert_eq!(
        former.get("/admin/orgs/acme").await.status.as_u16(),
        403,
        "the IdP took it back"
    );
    assert_eq!(
        member.get("/admin/orgs/acme").await.status.as_u16(),
        403,
        "for every session"
    );
    let granted = events(&app, "acme", Action::SsoAdminGranted);
    assert!(matches!(granted[0].actor, Actor::System));
    assert_eq!(events(&app, "acme", Action::SsoAdminRevoked).len(), 1);
}

on_both_databases!(
    sign_in_errors_show_the_reason_and_the_fix_with_our_values,
    an_idp_group_grants_the_console_at_each_sign_in,
    other_organizations_are_not_found_and_learners_are_forbidden,
    console_forms_need_the_csrf_token_and_the_same_site,
    auto_assign_is_switched_on_in_settings,
    invalid_settings_are_shown_at_the_field_and_change_nothing,
    learner_sessions_last_as_the_settings_say,
    metadata_upload_is_previewed_then_saved,
    bad_metadata_gets_a_specific_message_and_saves_nothing,
    connection_options_and_removal_are_changed_and_audited,
    test_sign_in_checks_the_idp_and_signs_nobody_in,
    users_are_searched_filtered_and_paged,
    admins_assign_revoke_and_promote_on_the_user_page,
    audit_log_filters_pages_and_exports_csv,
    out_of_seats_shows_a_banner_on_the_licenses_page,
);
