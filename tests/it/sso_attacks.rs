//! Responses that must be refused: forged, wrapped, tampered, stale, misdirected,
//! replayed, malformed. Each refusal leaves no session, no account, and a
//! recorded reason for the IdP admin.

use chrono::TimeDelta;
use seatgate::orgs::connections::{self, Policy};
use seatgate::saml::attributes::Preset;
use seatgate::saml::mint::{self, ResponseSpec};
use seatgate::signin::SsoError;

use crate::common::idp::TestIdp;
use crate::common::{Backend, TestApp};
use crate::on_both_databases;

const IDP: &str = "https://idp.acme.example/saml";
const VICTIM: &str = "ceo@acme.example";
const ATTACKER: &str = "evil@attacker.example";

fn setup(app: &TestApp) -> TestIdp {
    let idp = TestIdp::new(IDP);
    app.connect("acme", &idp, Preset::Generic);
    idp
}

/// Posts an already base64-encoded SAMLResponse and checks the refusal;
/// returns the error recorded for the IdP admin.
async fn expect_refused_encoded(app: &TestApp, encoded: &str, reason: &str) -> SsoError {
    let (page, visitor) = app.post_encoded("acme", encoded, None).await;
    assert_eq!(page.status.as_u16(), 403, "{}", page.body);
    assert!(
        page.body
            .contains("Your company sign-in could not be completed")
    );
    assert!(
        visitor.cookie.is_none(),
        "no session for a refused response"
    );
    assert!(
        app.learners("acme")
            .iter()
            .all(|l| l.email.as_str() != ATTACKER),
        "no account for the attacker"
    );
    let errors = app.sso_errors("acme");
    let shown = errors
        .iter()
        .find(|e| page.body.contains(&format!("<code>{}</code>", e.reference)))
        .unwrap_or_else(|| panic!("the page shows the reference of a recorded error: {errors:?}"));
    assert_eq!(shown.reason, reason, "{shown:?}");
    assert_eq!(
        Some(&shown.reference),
        page.request_id.as_ref(),
        "the reference is the request id in the logs"
    );
    shown.clone()
}

async fn expect_refused(app: &TestApp, xml: &str, reason: &str) -> SsoError {
    expect_refused_encoded(app, &mint::encode(xml), reason).await
}

/// The first `<prefix ...>...</close>` element in `xml`.
fn element<'a>(xml: &'a str, prefix: &str, close: &str) -> &'a str {
    let start = xml
        .find(prefix)
        .unwrap_or_else(|| panic!("{prefix} in {xml}"));
    let end = xml[start..].find(close).expect("closing tag") + start + close.len();
    &xml[start..end]
}

/// A forged copy of the signed assertion: the attacker's NameID, a new ID, no signature.
fn evil_assertion(signed: &str, spec: &ResponseSpec) -> String {
    let original = element(signed, "<saml:Assertion", "</saml:Assertion>");
    let without_signature = match original.find("<ds:Signature") {
        Some(_) => original.replace(element(original, "<ds:Signature", "</ds:Signature>"), ""),
        None => original.to_owned(),
    };
    without_signature
        .replace(&spec.name_id, ATTACKER)
        .replace(&spec.assertion_id, "_evil")
}

async fn unsigned_response_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = setup(&app);
    let mut spec = idp.spec(&app, "acme", ATTACKER);
    spec.sign_response = false;
    spec.sign_assertion = false;
    expect_refused(&app, &idp.mint(&spec), "signature").await;
}

async fn attacker_key_with_its_certificate_in_key_info_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = setup(&app);
    let attacker = TestIdp::new(IDP);
    let xml = attacker.mint(&attacker.spec(&app, "acme", ATTACKER));
    assert!(
        xml.contains("<ds:X509Certificate>"),
        "the attacker ships a certificate in KeyInfo"
    );
    expect_refused(&app, &xml, "signature").await;
    drop(idp);
}

/// On both verification paths: our own (exclusive C14N) and xmlsec's (inclusive).
async fn content_changed_after_signing_fails_the_digest(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = setup(&app);
    for inclusive_c14n in [false, true] {
        let mut spec = idp.spec(&app, "acme", VICTIM);
        spec.inclusive_c14n = inclusive_c14n;
        let tampered = idp.mint(&spec).replace(VICTIM, ATTACKER);
        expect_refused(&app, &tampered, "signature").await;
    }
    // Our own verifier tells the IdP admin what exactly failed.
    assert!(
        app.sso_errors("acme").iter().any(|e| e
            .detail
            .ends_with("(the digest does not match the signed element)")),
        "{:?}",
        app.sso_errors("acme")
    );
}

/// XSW1: the signed Response moved into its own Signature; an evil Response around it.
async fn xsw1_cloned_response_inside_the_signature_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = setup(&app);
    let mut spec = idp.spec(&app, "acme", VICTIM);
    spec.sign_assertion = false;
    let signed = idp.mint(&spec);
    let original = element(&signed, "<samlp:Response", "</samlp:Response>");
    let signature = element(&signed, "<ds:Signature", "</ds:Signature>");
    let wrapped_signature = signature.replace(
        "</ds:Signature>",
        &format!("<ds:Object>{original}</ds:Object></ds:Signature>"),
    );
    let evil = signed
        .replace(signature, &wrapped_signature)
        .replacen(&spec.response_id, "_evil_response", 1)
        .replacen(VICTIM, ATTACKER, 1);
    expect_refused(&app, &evil, "not_a_response").await;
}

/// XSW2: like XSW1, with the signed Response as a detached sibling before the signature.
async fn xsw2_detached_cloned_response_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = setup(&app);
    let mut spec = idp.spec(&app, "acme", VICTIM);
    spec.sign_assertion = false;
    let signed = idp.mint(&spec);
    let original = element(&signed, "<samlp:Response", "</samlp:Response>").to_owned();
    let signature = element(&signed, "<ds:Signature", "</ds:Signature>");
    let evil = signed
        .replacen(signature, &format!("{original}{signature}"), 1)
        .replacen(&spec.response_id, "_evil_response", 1);
    let evil = evil.replacen(
        &format!("{VICTIM}</saml:NameID>"),
        &format!("{ATTACKER}</saml:NameID>"),
        2,
    );
    expect_refused(&app, &evil, "not_a_response").await;
}

/// XSW3: an evil assertion placed before the signed one.
async fn xsw3_evil_assertion_before_the_signed_one_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = setup(&app);
    let mut spec = idp.spec(&app, "acme", VICTIM);
    spec.sign_response = false;
    let signed = idp.mint(&spec);
    let original = element(&signed, "<saml:Assertion", "</saml:Assertion>");
    let evil = signed.replace(
        original,
        &format!("{}{original}", evil_assertion(&signed, &spec)),
    );
    expect_refused(&app, &evil, "assertion_count").await;
}

/// XSW4: the signed assertion wrapped inside the evil one.
async fn xsw4_signed_assertion_inside_the_evil_one_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = setup(&app);
    let mut spec = idp.spec(&app, "acme", VICTIM);
    spec.sign_response = false;
    let signed = idp.mint(&spec);
    let original = element(&signed, "<saml:Assertion", "</saml:Assertion>");
    let evil = evil_assertion(&signed, &spec)
        .replace("</saml:Assertion>", &format!("{original}</saml:Assertion>"));
    expect_refused(&app, &signed.replace(original, &evil), "assertion_count").await;
}

/// XSW5: the evil assertion carries a copy of the original signature; the original is appended.
async fn xsw5_copied_signature_with_the_original_appended_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = setup(&app);
    let mut spec = idp.spec(&app, "acme", VICTIM);
    spec.sign_response = false;
    let signed = idp.mint(&spec);
    let original = element(&signed, "<saml:Assertion", "</saml:Assertion>");
    let signature = element(original, "<ds:Signature", "</ds:Signature>");
    // The evil assertion keeps the signature, whose reference now points at
    // the unsigned original appended at the end.
    let evil = original
        .replace(VICTIM, ATTACKER)
        .replace(&format!("ID=\"{}\"", spec.assertion_id), "ID=\"_evil\"");
    let unsigned_original = original.replace(signature, "");
    let document = signed.replace(original, &evil).replace(
        "</samlp:Response>",
        &format!("{unsigned_original}</samlp:Response>"),
    );
    expect_refused(&app, &document, "assertion_count").await;
}

/// XSW6: the original assertion inside the evil assertion's signature.
async fn xsw6_original_inside_the_copied_signature_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = setup(&app);
    let mut spec = idp.spec(&app, "acme", VICTIM);
    spec.sign_response = false;
    let signed = idp.mint(&spec);
    let original = element(&signed, "<saml:Assertion", "</saml:Assertion>");
    let signature = element(original, "<ds:Signature", "</ds:Signature>");
    let unsigned_original = original.replace(signature, "");
    let wrapping = signature.replace(
        "</ds:Signature>",
        &format!("<ds:Object>{unsigned_original}</ds:Object></ds:Signature>"),
    );
    let evil = original
        .replace(signature, &wrapping)
        .replace(VICTIM, ATTACKER);
    expect_refused(&app, &signed.replace(original, &evil), "assertion_count").await;
}

/// XSW7: the signed assertion hidden in an Extensions element, the evil one beside it.
async fn xsw7_original_in_extensions_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = setup(&app);
    let mut spec = idp.spec(&app, "acme", VICTIM);
    spec.sign_response = false;
    let signed = idp.mint(&spec);
    let original = element(&signed, "<saml:Assertion", "</saml:Assertion>");
    let replacement = format!(
        "<samlp:Extensions>{original}</samlp:Extensions>{}",
        evil_assertion(&signed, &spec)
    );
    expect_refused(
        &app,
        &signed.replace(original, &replacement),
        "assertion_count",
    )
    .await;
}

/// XSW8: the original assertion inside an Object of the evil assertion's signature.
async fn xsw8_original_in_an_object_of_the_evil_signature_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = setup(&app);
    let mut spec = idp.spec(&app, "acme", VICTIM);
    spec.sign_response = false;
    let signed = idp.mint(&spec);
    let original = element(&signed, "<saml:Assertion", "</saml:Assertion>");
    let signature = element(original, "<ds:Signature", "</ds:Signature>");
    let unsigned_original = original.replace(signature, "");
    let evil_signature = signature.replace(
        "</ds:Signature>",
        &format!("<ds:Object>{unsigned_original}</ds:Object></ds:Signature>"),
    );
    let evil = evil_assertion(&signed, &spec).replacen(
        "</saml:Issuer>",
        &format!("</saml:Issuer>{evil_signature}"),
        1,
    );
    expect_refused(&app, &signed.replace(original, &evil), "assertion_count").await;
}

/// `admin@example.com<!---->.evil.com`: canonicalisation drops comments, so
/// the signature still verifies; the identity must not be cut at the comment.
async fn comment_in_name_id_does_not_shorten_the_identity(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = setup(&app);
    let (victim, _) = app
        .post_response("acme", &idp.mint(&idp.spec(&app, "acme", VICTIM)), None)
        .await;
    assert_eq!(victim.status.as_u16(), 303);

    let crafted = format!("{VICTIM}.evil.com");
    let spec = idp.spec(&app, "acme", &crafted);
    let injected = idp
        .mint(&spec)
        .replace(&crafted, &format!("{VICTIM}<!---->.evil.com"));
    let (page, mut visitor) = app.post_response("acme", &injected, None).await;
    if page.status.as_u16() == 303 {
        let home = visitor.get("/").await;
        assert!(
            !home
                .body
                .contains(&format!("<span class=\"who\">{VICTIM}</span>")),
            "signed in as the victim"
        );
        assert!(
            app.learners("acme")
                .iter()
                .any(|l| l.email.as_str() == crafted)
        );
    } else {
        assert_eq!(page.status.as_u16(), 403);
        assert!(visitor.cookie.is_none());
    }
}

async fn assertion_from_another_issuer_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = setup(&app);
    let mut spec = idp.spec(&app, "acme", ATTACKER);
    spec.assertion_issuer = "https://another-idp.example/".into();
    expect_refused(&app, &idp.mint(&spec), "issuer").await;

    let stranger = TestIdp::new("https://stranger.example/");
    expect_refused(
        &app,
        &stranger.mint(&stranger.spec(&app, "acme", ATTACKER)),
        "unknown_issuer",
    )
    .await;
    let said = |detail: &str| app.sso_errors("acme").iter().any(|e| e.detail == detail);
    assert!(said(
        "no enabled IdP connection of this organization has the entity ID \"https://stranger.example/\""
    ));
    assert!(said(
        "Issuer was \"https://another-idp.example/\", expected \"https://idp.acme.example/saml\""
    ));

    // No issuer at all: said so, never "None".
    let nameless = idp
        .mint(&idp.spec(&app, "acme", ATTACKER))
        .replace(&format!("<saml:Issuer>{}</saml:Issuer>", idp.entity_id), "");
    expect_refused(&app, &nameless, "unknown_issuer").await;
    assert!(said("the response names no issuer (no Issuer element)"));
}

async fn replayed_assertion_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = setup(&app);
    let xml = idp.mint(&idp.spec(&app, "acme", "ann@acme.example"));
    let (first, _) = app.post_response("acme", &xml, None).await;
    assert_eq!(first.status.as_u16(), 303);
    let (again, visitor) = app.post_response("acme", &xml, None).await;
    assert_eq!(again.status.as_u16(), 403);
    assert!(visitor.cookie.is_none());
    assert_eq!(app.sso_errors("acme")[0].reason, "replay");
}

async fn unknown_in_response_to_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = setup(&app);
    let mut spec = idp.spec(&app, "acme", ATTACKER);
    spec.in_response_to = Some("_never_issued".into());
    expect_refused(&app, &idp.mint(&spec), "unknown_in_response_to").await;
}

async fn unsolicited_response_is_refused_when_the_connection_disallows_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = TestIdp::new(IDP);
    let connection = app.connect("acme", &idp, Preset::Generic);
    let org = app.org("acme");
    let mut conn = app.store.connection().unwrap();
    connections::set_policy(
        &mut conn,
        &app.clock.clock(),
        &seatgate::audit::Actor::Cli,
        &org,
        connection.id,
        Policy {
            allow_idp_initiated: false,
            require_signed_assertion: true,
            ..connection.policy()
        },
    )
    .unwrap();
    expect_refused(
        &app,
        &idp.mint(&idp.spec(&app, "acme", ATTACKER)),
        "unsolicited",
    )
    .await;

    let mut spec = idp.spec(&app, "acme", ATTACKER);
    spec.sign_assertion = false;
    spec.in_response_to = Some("_whatever".into());
    expect_refused(&app, &idp.mint(&spec), "assertion_not_signed").await;
}

async fn sha1_signature_is_refused_unless_allowed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = TestIdp::new(IDP);
    let connection = app.connect("acme", &idp, Preset::Generic);
    let mut spec = idp.spec(&app, "acme", ATTACKER);
    spec.sha1 = true;
    expect_refused(&app, &idp.mint(&spec), "sha1_signature").await;

    let mut conn = app.store.connection().unwrap();
    connections::set_policy(
        &mut conn,
        &app.clock.clock(),
        &seatgate::audit::Actor::Cli,
        &app.org("acme"),
        connection.id,
        Policy {
            allow_sha1: true,
            ..connection.policy()
        },
    )
    .unwrap();
    let mut legacy = idp.spec(&app, "acme", "legacy@acme.example");
    legacy.sha1 = true;
    let (page, _) = app.post_response("acme", &idp.mint(&legacy), None).await;
    assert_eq!(
        page.status.as_u16(),
        303,
        "allowed for a legacy IdP: {:?}",
        app.sso_errors("acme")
    );
}

async fn dtd_and_external_entities_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = setup(&app);
    let signed = idp.mint(&idp.spec(&app, "acme", VICTIM));
    let body = signed.trim_start_matches(|c| c != '<');
    let body = body.strip_prefix("<?xml version=\"1.0\"?>").unwrap_or(body);
    let xxe = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>{}",
        body.replace(VICTIM, "&xxe;")
    );
    expect_refused(&app, &xxe, "dtd").await;
}

async fn billion_laughs_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    setup(&app);
    let mut entities = String::from("<!ENTITY lol0 \"lol\">");
    for i in 1..10 {
        let previous = format!("&lol{};", i - 1).repeat(10);
        entities.push_str(&format!("<!ENTITY lol{i} \"{previous}\">"));
    }
    let xml = format!(
        "<?xml version=\"1.0\"?><!DOCTYPE lolz [{entities}]><samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\">&lol9;</samlp:Response>"
    );
    expect_refused(&app, &xml, "dtd").await;
}

async fn oversized_responses_are_refused_before_parsing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    setup(&app);
    expect_refused_encoded(&app, &"A".repeat(300 * 1024), "too_large").await;
    let (page, visitor) = app
        .post_encoded("acme", &"A".repeat(600 * 1024), None)
        .await;
    assert_eq!(
        page.status.as_u16(),
        400,
        "a body over the form limit is refused unread"
    );
    assert!(visitor.cookie.is_none());
}

async fn invalid_base64_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    setup(&app);
    expect_refused_encoded(&app, "this is *not* base64!", "not_base64").await;
    expect_refused_encoded(&app, &mint::encode("<samlp:Response"), "not_xml").await;
}

async fn a_response_for_one_organization_is_refused_by_another(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = setup(&app);
    app.connect("beta", &idp, Preset::Generic);
    let xml = idp.mint(&idp.spec(&app, "acme", ATTACKER));
    let (page, _) = app.post_response("beta", &xml, None).await;
    assert_eq!(page.status.as_u16(), 403);
    assert_eq!(app.sso_errors("beta")[0].reason, "destination");
}

async fn the_idp_session_end_is_honoured(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = setup(&app);
    let mut spec = idp.spec(&app, "acme", ATTACKER);
    spec.session_not_on_or_after = Some(app.clock.clock().now() - TimeDelta::minutes(10));
    expect_refused(&app, &idp.mint(&spec), "session_ended").await;

    // A future end caps our session: the cookie lives no longer than it.
    let mut spec = idp.spec(&app, "acme", "ann@acme.example");
    spec.session_not_on_or_after = Some(app.clock.clock().now() + TimeDelta::minutes(10));
    let (page, visitor) = app.post_response("acme", &idp.mint(&spec), None).await;
    assert_eq!(page.status.as_u16(), 303, "{}", page.body);
    let max_age = visitor
        .cookie_max_age
        .expect("a session cookie with Max-Age");
    assert!(
        (1..=600).contains(&max_age),
        "the session ends with the IdP's: Max-Age {max_age}"
    );
}

/// Issue 12, finding 1: thousands of nested elements under an in-profile
/// signature overflowed the canonicalizer's recursion and killed the process.
async fn deeply_nested_elements_are_refused_and_the_server_lives(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = setup(&app);
    let signed = idp.mint(&idp.spec(&app, "acme", VICTIM));
    let signature = element(&signed, "<ds:Signature", "</ds:Signature>");
    let levels = 20_000;
    let nested = format!("{}{}", "<x>".repeat(levels), "</x>".repeat(levels));
    let hostile = signed.replacen(
        signature,
        &format!("{signature}<samlp:Extensions>{nested}</samlp:Extensions>"),
        1,
    );
    expect_refused(&app, &hostile, "too_deep").await;
    let (page, _) = app
        .post_response("acme", &idp.mint(&idp.spec(&app, "acme", VICTIM)), None)
        .await;
    assert_eq!(
        page.status.as_u16(),
        303,
        "the server still signs people in"
    );
}

/// Issue 12, finding 2: a document declared UTF-7 reads differently to
/// libxml2 than to us; no second reading is allowed.
async fn an_encoding_other_than_utf8_is_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = setup(&app);
    let signed = idp.mint(&idp.spec(&app, "acme", VICTIM));
    let body = signed.trim_start_matches("<?xml version=\"1.0\"?>");
    for encoding in ["UTF-7", "UTF-16", "ISO-8859-1"] {
        let xml = format!("<?xml version=\"1.0\" encoding=\"{encoding}\"?>{body}");
        expect_refused(&app, &xml, "encoding").await;
    }
}

/// Issue 12, findings 2 and 3: references, manifests and XSLT imports made
/// xmlsec fetch URLs and open files before any signature was checked. Now
/// they are refused unread: a loopback listener sees no connection, and a
/// FIFO (whose opening for reading would block) is never opened.
async fn signatures_that_would_fetch_or_open_touch_nothing(backend: Backend) {
    use std::os::unix::fs::OpenOptionsExt;

    let app = TestApp::spawn(backend).await;
    let idp = setup(&app);
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("listener");
    listener.set_nonblocking(true).expect("non-blocking");
    let port = listener.local_addr().expect("address").port();
    let dir = tempfile::tempdir().expect("temp dir");
    let fifo = dir.path().join("fifo");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .expect("mkfifo runs")
            .success()
    );

    let signed = idp.mint(&idp.spec(&app, "acme", VICTIM));
    let c14n = "<ds:Transform Algorithm=\"http://www.w3.org/2001/10/xml-exc-c14n#\"/>";
    let digest = "<ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/><ds:DigestValue>AA==</ds:DigestValue>";
    for target in [
        format!("http://127.0.0.1:{port}/x"),
        format!("file://{}", fifo.display()),
        "file:///dev/zero".to_owned(),
    ] {
        let shapes = [
            (
                "</ds:SignatureValue>",
                format!(
                    "</ds:SignatureValue><ds:Object><ds:Manifest><ds:Reference URI=\"{target}\">{digest}</ds:Reference></ds:Manifest></ds:Object>"
                ),
            ),
            (
                c14n,
                format!(
                    "<ds:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xslt-19991116\"><xsl:stylesheet xmlns:xsl=\"http://www.w3.org/1999/XSL/Transform\" version=\"1.0\"><xsl:import href=\"{target}\"/><xsl:include href=\"{target}\"/></xsl:stylesheet></ds:Transform>"
                ),
            ),
            (
                "</ds:Reference>",
                format!("</ds:Reference><ds:Reference URI=\"{target}\">{digest}</ds:Reference>"),
            ),
        ];
        for (from, to) in shapes {
            assert!(signed.contains(from), "{from}");
            expect_refused(&app, &signed.replacen(from, &to, 1), "signature").await;
        }
    }
    assert!(
        matches!(listener.accept(), Err(e) if e.kind() == std::io::ErrorKind::WouldBlock),
        "nothing connected to the loopback listener"
    );
    // Opening a FIFO for writing without blocking fails with ENXIO while
    // nobody has it open for reading.
    const O_NONBLOCK: i32 = 0o4000;
    const ENXIO: i32 = 6;
    let opened = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(O_NONBLOCK)
        .open(&fifo);
    assert_eq!(
        opened.err().and_then(|e| e.raw_os_error()),
        Some(ENXIO),
        "nobody opened the FIFO"
    );
}

/// Issue 12, finding 6: RSA PKCS#1 v1.5 key transport is open to padding oracles.
async fn rsa_1_5_key_transport_is_refused(backend: Backend) {
    use seatgate::saml::mint::{Encryption, KeyTransport};
    let app = TestApp::spawn(backend).await;
    let idp = setup(&app);
    let mut spec = idp.spec(&app, "acme", VICTIM);
    spec.encrypt_for = Some(app.sp_keys.get().current.cert.clone());
    spec.encryption = Encryption {
        transport: KeyTransport::Rsa15,
        ..Encryption::default()
    };
    let recorded = expect_refused(&app, &idp.mint(&spec), "decryption").await;
    assert!(recorded.detail.contains("rsa-1_5"), "{recorded:?}");
}

/// Issue 12, finding 4: anybody may post to the ACS, so each address gets
/// a budget per minute; past it, 429 with Retry-After, and nothing is read.
async fn posts_to_the_acs_are_limited_per_address(backend: Backend) {
    let app = TestApp::on(crate::common::TestDb::fresh(backend))
        .acs_rate_limit(std::num::NonZeroU32::new(3).expect("not zero"))
        .spawn()
        .await;
    setup(&app);
    for _ in 0..3 {
        let (page, _) = app.post_encoded("acme", "junk", None).await;
        assert_eq!(page.status.as_u16(), 403, "{}", page.body);
    }
    let (page, _) = app.post_encoded("acme", "junk", None).await;
    assert_eq!(page.status.as_u16(), 429, "{}", page.body);
    assert!(
        page.retry_after.is_some_and(|s| (1..=60).contains(&s)),
        "{:?}",
        page.retry_after
    );
    assert!(page.body.contains("Too many attempts"));
    assert_eq!(
        app.sso_errors("acme").len(),
        3,
        "the fourth was not even read"
    );
}

/// Issue 12, finding 1 inside the ciphertext: anyone may encrypt to our
/// published certificate, so the plaintext passes the same screens as a
/// posted document, and the server lives on.
async fn hostile_plaintext_in_an_encrypted_assertion_is_refused(backend: Backend) {
    use seatgate::saml::mint::Encryption;
    let app = TestApp::spawn(backend).await;
    let idp = setup(&app);
    let mut spec = idp.spec(&app, "acme", VICTIM);
    spec.encrypt_for = Some(app.sp_keys.get().current.cert.clone());
    spec.sign_response = false;
    let honest = idp.mint(&spec);
    let ciphertext = element(
        &honest,
        "<saml:EncryptedAssertion",
        "</saml:EncryptedAssertion>",
    );
    let open = r#"<saml:Assertion xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_x">"#;
    let levels = 20_000;
    let deep = format!(
        "{open}{}{}</saml:Assertion>",
        "<x>".repeat(levels),
        "</x>".repeat(levels)
    );
    let cases: [(Vec<u8>, &str, &str); 4] = [
        (deep.into_bytes(), "too_deep", "nested"),
        (
            [open.as_bytes(), b"\xff\xfe</saml:Assertion>"].concat(),
            "decryption",
            "not UTF-8",
        ),
        (
            format!("<?xml version=\"1.0\" encoding=\"UTF-7\"?>{open}</saml:Assertion>")
                .into_bytes(),
            "encoding",
            "UTF-7",
        ),
        (
            format!(
                "<!DOCTYPE a [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>{open}&e;</saml:Assertion>"
            )
            .into_bytes(),
            "dtd",
            "DTD",
        ),
    ];
    for (plaintext, reason, detail) in cases {
        let encrypted = mint::encrypt(
            &plaintext,
            &app.sp_keys.get().current.cert,
            Encryption::default(),
        )
        .expect("encrypts");
        let recorded =
            expect_refused(&app, &honest.replacen(ciphertext, &encrypted, 1), reason).await;
        assert!(
            recorded.detail.contains(detail),
            "{detail:?} in {recorded:?}"
        );
    }
    let (page, _) = app.post_response("acme", &honest, None).await;
    assert_eq!(
        page.status.as_u16(),
        303,
        "the server still signs people in"
    );
}

on_both_databases!(
    unsigned_response_is_refused,
    attacker_key_with_its_certificate_in_key_info_is_refused,
    content_changed_after_signing_fails_the_digest,
    xsw1_cloned_response_inside_the_signature_is_refused,
    xsw2_detached_cloned_response_is_refused,
    xsw3_evil_assertion_before_the_signed_one_is_refused,
    xsw4_signed_assertion_inside_the_evil_one_is_refused,
    xsw5_copied_signature_with_the_original_appended_is_refused,
    xsw6_original_inside_the_copied_signature_is_refused,
    xsw7_original_in_extensions_is_refused,
    xsw8_original_in_an_object_of_the_evil_signature_is_refused,
    comment_in_name_id_does_not_shorten_the_identity,
    assertion_from_another_issuer_is_refused,
    replayed_assertion_is_refused,
    unknown_in_response_to_is_refused,
    unsolicited_response_is_refused_when_the_connection_disallows_it,
    sha1_signature_is_refused_unless_allowed,
    dtd_and_external_entities_are_refused,
    billion_laughs_is_refused,
    oversized_responses_are_refused_before_parsing,
    invalid_base64_is_refused,
    a_response_for_one_organization_is_refused_by_another,
    the_idp_session_end_is_honoured,
    deeply_nested_elements_are_refused_and_the_server_lives,
    an_encoding_other_than_utf8_is_refused,
    signatures_that_would_fetch_or_open_touch_nothing,
    rsa_1_5_key_transport_is_refused,
    hostile_plaintext_in_an_encrypted_assertion_is_refused,
    posts_to_the_acs_are_limited_per_address,
);
