//! Single sign-on that should work: signatures on either level, encryption,
//! presets, SP- and IdP-initiated, just-in-time accounts.

use seatgate::saml::attributes::Preset;
use seatgate::saml::mint::ResponseSpec;

use crate::common::idp::{TestIdp, authn_request_in};
use crate::common::{Backend, TestApp};
use crate::on_both_databases;

const IDP: &str = "https://idp.acme.example/saml";

/// Posts `spec` signed by `idp` and expects a sign-in landing on `/`.
async fn expect_sign_in(
    app: &TestApp,
    idp: &TestIdp,
    spec: &ResponseSpec,
) -> crate::common::Visitor {
    let (page, mut visitor) = app.post_response("acme", &idp.mint(spec), None).await;
    assert_eq!(
        page.status.as_u16(),
        303,
        "{}\n{:?}",
        page.body,
        app.sso_errors("acme")
    );
    assert_eq!(page.location.as_deref(), Some("/"));
    assert!(visitor.cookie.is_some(), "a session cookie is set");
    let home = visitor.get("/").await;
    assert!(home.body.contains("Welcome, Ann Lee"), "{}", home.body);
    assert!(
        home.body.contains(r#"action="/logout""#),
        "the sign-out button posts there"
    );
    visitor
}

async fn signed_response_and_assertion_create_the_learner(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = TestIdp::new(IDP);
    app.connect("acme", &idp, Preset::Generic);
    expect_sign_in(&app, &idp, &idp.spec(&app, "acme", "ann@acme.example")).await;
    let learners = app.learners("acme");
    assert_eq!(learners.len(), 1);
    assert_eq!(learners[0].email.as_str(), "ann@acme.example");
    assert_eq!(learners[0].first_name.as_deref(), Some("Ann"));
    assert!(learners[0].last_sign_in_at.is_some());
}

async fn signed_response_alone_is_accepted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = TestIdp::new(IDP);
    app.connect("acme", &idp, Preset::Generic);
    let mut spec = idp.spec(&app, "acme", "ann@acme.example");
    spec.sign_assertion = false;
    expect_sign_in(&app, &idp, &spec).await;
}

async fn signed_assertion_alone_is_accepted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = TestIdp::new(IDP);
    app.connect("acme", &idp, Preset::Generic);
    let mut spec = idp.spec(&app, "acme", "ann@acme.example");
    spec.sign_response = false;
    expect_sign_in(&app, &idp, &spec).await;
}

/// AD FS signs with inclusive C14N where it is configured so; verified in Rust like the rest.
async fn inclusive_canonicalisation_signs_in(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = TestIdp::new(IDP);
    app.connect("acme", &idp, Preset::Generic);
    for (sign_response, sign_assertion) in [(true, true), (false, true), (true, false)] {
        let mut spec = idp.spec(&app, "acme", "ann@acme.example");
        spec.inclusive_c14n = true;
        spec.sign_response = sign_response;
        spec.sign_assertion = sign_assertion;
        assert!(idp.mint(&spec).contains("REC-xml-c14n-20010315"));
        expect_sign_in(&app, &idp, &spec).await;
    }
}

async fn encrypted_assertion_is_decrypted_with_our_key(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = TestIdp::new(IDP);
    app.connect("acme", &idp, Preset::Generic);
    let mut spec = idp.spec(&app, "acme", "ann@acme.example");
    spec.encrypt_for = Some(app.sp_keys.get().current.cert.clone());
    let xml = idp.mint(&spec);
    assert!(xml.contains("EncryptedAssertion") && !xml.contains("ann@acme.example"));
    expect_sign_in(&app, &idp, &spec).await;

    let mut unsigned_outside = idp.spec(&app, "acme", "ann@acme.example");
    unsigned_outside.encrypt_for = Some(app.sp_keys.get().current.cert.clone());
    unsigned_outside.sign_response = false;
    expect_sign_in(&app, &idp, &unsigned_outside).await;
}

/// Every content cipher and key transport IdPs offer for assertion
/// encryption signs in: Okta offers AES-128/256 in CBC and GCM, Entra ID and
/// AD FS AES-256-CBC with the key beside the data (RetrievalMethod).
async fn every_encryption_shape_idps_use_signs_in(backend: Backend) {
    use seatgate::saml::mint::{Encryption, KeyTransport};
    let app = TestApp::spawn(backend).await;
    let idp = TestIdp::new(IDP);
    app.connect("acme", &idp, Preset::Generic);
    for key_bytes in [16, 24, 32] {
        for gcm in [false, true] {
            for transport in [KeyTransport::OaepMgf1p, KeyTransport::OaepSha256] {
                for key_beside in [false, true] {
                    let mut spec = idp.spec(&app, "acme", "ann@acme.example");
                    spec.encrypt_for = Some(app.sp_keys.get().current.cert.clone());
                    spec.sign_response = key_beside;
                    spec.encryption = Encryption {
                        key_bytes,
                        gcm,
                        transport,
                        key_beside,
                    };
                    expect_sign_in(&app, &idp, &spec).await;
                }
            }
        }
    }
}

async fn every_attribute_preset_reads_email_and_names(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let claims =
        |suffix: &str| format!("http://schemas.xmlsoap.org/ws/2005/05/identity/claims/{suffix}");
    let cases: Vec<(Preset, Vec<(String, String)>)> = vec![
        (
            Preset::Entra,
            vec![
                (claims("emailaddress"), "ann@x.example".into()),
                (claims("givenname"), "Ann".into()),
                (claims("surname"), "Lee".into()),
            ],
        ),
        (
            Preset::Adfs,
            vec![
                (claims("emailaddress"), "ann@x.example".into()),
                (claims("givenname"), "Ann".into()),
                (claims("surname"), "Lee".into()),
            ],
        ),
        (
            Preset::Okta,
            vec![
                ("email".into(), "ann@x.example".into()),
                ("firstName".into(), "Ann".into()),
                ("lastName".into(), "Lee".into()),
            ],
        ),
        (
            Preset::OneLogin,
            vec![
                ("User.email".into(), "ann@x.example".into()),
                ("User.FirstName".into(), "Ann".into()),
                ("User.LastName".into(), "Lee".into()),
            ],
        ),
        (
            Preset::Google,
            vec![
                ("email".into(), "ann@x.example".into()),
                ("firstName".into(), "Ann".into()),
                ("lastName".into(), "Lee".into()),
            ],
        ),
        (
            Preset::Generic,
            vec![
                (
                    "urn:oid:0.9.2342.19200300.100.1.3".into(),
                    "ann@x.example".into(),
                ),
                ("urn:oid:2.5.4.42".into(), "Ann".into()),
                ("urn:oid:2.5.4.4".into(), "Lee".into()),
            ],
        ),
    ];
    for (preset, attributes) in cases {
        let slug = format!("org-{}", preset.as_str());
        let idp = TestIdp::new(&format!("https://{}.idp.example/", preset.as_str()));
        app.connect(&slug, &idp, preset);
        let mut spec = idp.spec(&app, &slug, "opaque-subject-1234");
        spec.attributes = attributes;
        let (page, _) = app.post_response(&slug, &idp.mint(&spec), None).await;
        assert_eq!(
            page.status.as_u16(),
            303,
            "{preset:?}: {:?}",
            app.sso_errors(&slug)
        );
        let learners = app.learners(&slug);
        assert_eq!(learners[0].email.as_str(), "ann@x.example", "{preset:?}");
        assert_eq!(learners[0].display_name, "Ann Lee", "{preset:?}");
    }
}

async fn sp_initiated_sign_in_returns_to_the_requested_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = TestIdp::new(IDP);
    app.connect("acme", &idp, Preset::Generic);
    let mut visitor = app.visitor();
    let redirect = visitor.get("/sso/acme/login?return_to=/courses/7").await;
    assert_eq!(redirect.status.as_u16(), 303);
    let url = url::Url::parse(redirect.location.as_deref().expect("redirect")).expect("URL");
    assert!(
        url.as_str()
            .starts_with("https://idp.example/sso?SAMLRequest=")
    );
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
    };
    assert_eq!(
        param("SigAlg").as_deref(),
        Some("http://www.w3.org/2001/04/xmldsig-more#rsa-sha256")
    );
    let verifier = samael::crypto::UrlVerifier::from_x509(&samael::crypto::CertificateDer::from(
        app.sp_keys.get().current.cert_der(),
    ))
    .expect("verifier");
    assert!(
        verifier.verify_signed_request_url(&url).expect("verify"),
        "the AuthnRequest is signed by our key"
    );
    let request = authn_request_in(url.as_str());
    assert_eq!(
        request.assertion_consumer_service_url.as_deref(),
        Some(app.endpoints("acme").acs_url.as_str())
    );

    let mut spec = idp.spec(&app, "acme", "ann@acme.example");
    spec.in_response_to = Some(request.id.clone());
    let (page, _) = app.post_response("acme", &idp.mint(&spec), None).await;
    assert_eq!(page.status.as_u16(), 303, "{:?}", app.sso_errors("acme"));
    assert_eq!(page.location.as_deref(), Some("/courses/7"));

    let (again, _) = app
        .post_response(
            "acme",
            &idp.mint(&{
                let mut s = spec.clone();
                s.assertion_id = format!("_{}", uuid::Uuid::new_v4().simple());
                s
            }),
            None,
        )
        .await;
    assert_eq!(again.status.as_u16(), 403, "a request is answered once");
}

async fn login_refuses_external_return_to_and_offers_a_choice_of_idps(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let first = TestIdp::new("https://one.idp.example/");
    let second = TestIdp::new("https://two.idp.example/");
    app.connect("acme", &first, Preset::Generic);
    let mut visitor = app.visitor();
    let open_redirect = visitor
        .get("/sso/acme/login?return_to=https://evil.example/")
        .await;
    assert_eq!(open_redirect.status.as_u16(), 400);
    app.connect("acme", &second, Preset::Generic);
    let chooser = visitor.get("/sso/acme/login").await;
    assert_eq!(chooser.status.as_u16(), 200);
    assert!(chooser.body.contains("Test IdP https://one.idp.example/"));
    assert!(chooser.body.contains("Test IdP https://two.idp.example/"));
}

async fn returning_learner_is_matched_by_identity_and_profile_refreshed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = TestIdp::new(IDP);
    app.connect("acme", &idp, Preset::Generic);
    let mut spec = idp.spec(&app, "acme", "subject-42");
    spec.attributes = vec![
        ("email".into(), "ann@acme.example".into()),
        ("displayName".into(), "Ann Lee".into()),
    ];
    expect_sign_in(&app, &idp, &spec).await;
    let mut later = idp.spec(&app, "acme", "subject-42");
    later.attributes = vec![
        ("email".into(), "ann.lee@acme.example".into()),
        ("displayName".into(), "Ann Lee".into()),
    ];
    expect_sign_in(&app, &idp, &later).await;
    let learners = app.learners("acme");
    assert_eq!(learners.len(), 1, "same NameID, same learner");
    assert_eq!(
        learners[0].email.as_str(),
        "ann.lee@acme.example",
        "profile updated from the IdP"
    );
}

async fn existing_learner_is_linked_by_email_but_never_across_organizations(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let old_idp = TestIdp::new("https://old.idp.example/");
    let new_idp = TestIdp::new("https://new.idp.example/");
    let other_org_idp = TestIdp::new("https://beta.idp.example/");
    app.connect("acme", &old_idp, Preset::Generic);
    app.connect("acme", &new_idp, Preset::Generic);
    app.connect("beta", &other_org_idp, Preset::Generic);

    let (first, _) = app
        .post_response(
            "acme",
            &old_idp.mint(&old_idp.spec(&app, "acme", "Ann@Acme.example")),
            None,
        )
        .await;
    assert_eq!(first.status.as_u16(), 303);
    let mut spec = new_idp.spec(&app, "acme", "00u-new-id");
    spec.attributes[0].1 = "ann@acme.example".into();
    let (linked, _) = app.post_response("acme", &new_idp.mint(&spec), None).await;
    assert_eq!(linked.status.as_u16(), 303);
    let acme = app.learners("acme");
    assert_eq!(
        acme.len(),
        1,
        "matched case-insensitively by email and linked"
    );
    let mut conn = app.store.connection().unwrap();
    let identities = seatgate::accounts::learners::identities(&mut conn, acme[0].id).unwrap();
    assert_eq!(identities.len(), 2);

    let (beta, _) = app
        .post_response(
            "beta",
            &other_org_idp.mint(&other_org_idp.spec(&app, "beta", "ann@acme.example")),
            None,
        )
        .await;
    assert_eq!(beta.status.as_u16(), 303);
    let beta_learners = app.learners("beta");
    assert_eq!(beta_learners.len(), 1);
    assert_ne!(
        beta_learners[0].id, acme[0].id,
        "another organization gets its own account"
    );
}

async fn a_response_without_email_names_the_attributes_to_send(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = TestIdp::new(IDP);
    app.connect("acme", &idp, Preset::Okta);
    let mut spec = idp.spec(&app, "acme", "opaque-subject");
    spec.attributes = vec![("firstName".into(), "Ann".into())];
    let (page, visitor) = app.post_response("acme", &idp.mint(&spec), None).await;
    assert_eq!(page.status.as_u16(), 403);
    assert!(
        page.body.contains("did not send your email address"),
        "{}",
        page.body
    );
    assert!(page.body.contains("email, Email"), "{}", page.body);
    assert!(visitor.cookie.is_none());
    assert!(app.learners("acme").is_empty());
    assert_eq!(app.sso_errors("acme")[0].reason, "no_email");
}

async fn sp_metadata_describes_our_endpoints_and_certificate(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.org("acme");
    let page = app.visitor().get("/sso/acme/metadata").await;
    assert_eq!(page.status.as_u16(), 200);
    let endpoints = app.endpoints("acme");
    assert!(
        page.body
            .contains(&format!("entityID=\"{}\"", endpoints.entity_id))
    );
    assert!(
        page.body
            .contains(&format!("Location=\"{}\"", endpoints.acs_url))
    );
    assert!(page.body.contains("AuthnRequestsSigned=\"true\""));
    assert!(page.body.contains("WantAssertionsSigned=\"true\""));
    assert!(page.body.contains(&app.sp_keys.get().current.cert_base64()));
    assert!(page.body.contains("use=\"encryption\""));
    // What we decrypt, AES-256 first; RSA-1_5 is not offered (it is refused).
    let offered: Vec<&str> = page
        .body
        .split("<md:EncryptionMethod Algorithm=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .take(6)
        .collect();
    assert_eq!(
        offered,
        [
            "http://www.w3.org/2009/xmlenc11#aes256-gcm",
            "http://www.w3.org/2009/xmlenc11#aes128-gcm",
            "http://www.w3.org/2001/04/xmlenc#aes256-cbc",
            "http://www.w3.org/2001/04/xmlenc#aes128-cbc",
            "http://www.w3.org/2009/xmlenc11#rsa-oaep",
            "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p",
        ]
    );
    assert!(!page.body.contains("rsa-1_5"));
    assert_eq!(
        app.visitor()
            .get("/sso/nope/metadata")
            .await
            .status
            .as_u16(),
        404
    );
}

async fn a_session_the_browser_already_had_is_replaced_at_sign_in(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = TestIdp::new(IDP);
    app.connect("acme", &idp, Preset::Generic);
    let mut visitor = app.visitor();
    visitor.get("/admin/login").await;
    let before = visitor.cookie.clone().expect("an anonymous session");
    let xml = idp.mint(&idp.spec(&app, "acme", "ann@acme.example"));
    let page = visitor
        .post(
            "/sso/acme/acs",
            &[("SAMLResponse", seatgate::saml::mint::encode(&xml).as_str())],
        )
        .await;
    assert_eq!(page.status.as_u16(), 303);
    assert_ne!(visitor.cookie.as_ref(), Some(&before), "a new token");
    let old = seatgate::secret::SecretToken::from_presented(&before).expect("token");
    let mut conn = app.store.connection().unwrap();
    let resumed = seatgate::sessions::resume(&mut conn, &app.clock.clock(), &old).unwrap();
    assert!(resumed.is_none(), "the earlier session is gone");
}

on_both_databases!(
    a_session_the_browser_already_had_is_replaced_at_sign_in,
    signed_response_and_assertion_create_the_learner,
    signed_response_alone_is_accepted,
    signed_assertion_alone_is_accepted,
    inclusive_canonicalisation_signs_in,
    encrypted_assertion_is_decrypted_with_our_key,
    every_encryption_shape_idps_use_signs_in,
    every_attribute_preset_reads_email_and_names,
    sp_initiated_sign_in_returns_to_the_requested_page,
    login_refuses_external_return_to_and_offers_a_choice_of_idps,
    returning_learner_is_matched_by_identity_and_profile_refreshed,
    existing_learner_is_linked_by_email_but_never_across_organizations,
    a_response_without_email_names_the_attributes_to_send,
    sp_metadata_describes_our_endpoints_and_certificate,
);
