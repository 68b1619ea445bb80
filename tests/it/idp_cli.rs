//! `seatgate idp` and `seatgate user`, as an operator scripts them.

use openssl::asn1::Asn1Time;
use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::rsa::Rsa;
use openssl::x509::{X509, X509NameBuilder};
use seatgate::saml::keys::KeyPair;
use seatgate::saml::mint;

use crate::cli::{stderr, stdout, with_db};
use crate::common::idp::TestIdp;
use crate::common::{Backend, TestApp, TestDb};
use crate::on_both_databases;

fn metadata_with_certificate(cert_base64: &str) -> String {
    format!(
        r#"<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="https://idp.example/"><md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol"><md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{cert_base64}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor><md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.example/sso"/></md:IDPSSODescriptor></md:EntityDescriptor>"#
    )
}

fn expired_certificate() -> String {
    use base64::Engine;
    let key = PKey::from_rsa(Rsa::generate(2048).unwrap()).unwrap();
    let mut name = X509NameBuilder::new().unwrap();
    name.append_entry_by_text("CN", "Old IdP signing").unwrap();
    let name = name.build();
    let mut builder = X509::builder().unwrap();
    builder.set_subject_name(&name).unwrap();
    builder.set_issuer_name(&name).unwrap();
    builder.set_pubkey(&key).unwrap();
    let (start, end) = (
        Asn1Time::from_unix(1_500_000_000).unwrap(),
        Asn1Time::from_unix(1_600_000_000).unwrap(),
    );
    builder.set_not_before(&start).unwrap();
    builder.set_not_after(&end).unwrap();
    builder.sign(&key, MessageDigest::sha256()).unwrap();
    base64::engine::general_purpose::STANDARD.encode(builder.build().to_der().unwrap())
}

async fn broken_metadata_is_refused_with_a_specific_message(backend: Backend) {
    let db = TestDb::fresh(backend);
    with_db(&db, &["org", "create", "acme", "--name", "Acme"]);
    let good_key = KeyPair::generate("idp").unwrap();
    let good = mint::idp_metadata("https://idp.example/", "https://idp.example/sso", &good_key);
    let cases = [
        ("not xml at all", "the metadata is not XML"),
        (
            "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e \"x\">]><md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"&e;\"/>",
            "DTD",
        ),
        (
            "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" entityID=\"https://sp.example/\"><md:SPSSODescriptor protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\"/></md:EntityDescriptor>",
            "no IDPSSODescriptor",
        ),
        (
            &good.replace("HTTP-Redirect", "HTTP-Artifact"),
            "no SingleSignOnService with the HTTP-Redirect binding",
        ),
        (
            &good.replace("use=\"signing\"", "use=\"encryption\""),
            "no signing certificate",
        ),
        (
            &metadata_with_certificate("bm90IGEgY2VydGlmaWNhdGU="),
            "certificate in the metadata cannot be read",
        ),
    ];
    for (i, (xml, message)) in cases.iter().enumerate() {
        let file = db.dir().join(format!("broken-{i}.xml"));
        std::fs::write(&file, xml).unwrap();
        let output = with_db(
            &db,
            &["idp", "add", "acme", "--metadata", file.to_str().unwrap()],
        );
        assert_eq!(output.status.code(), Some(1), "case {i}");
        let text = stderr(&output);
        assert!(
            text.starts_with("error: ") && text.contains(message),
            "case {i}: {text}"
        );
        assert_eq!(text.lines().count(), 1, "one line: {text}");
    }
    assert_eq!(
        stdout(&with_db(&db, &["idp", "list", "acme"])),
        "",
        "nothing was added"
    );

    let expired = db.dir().join("expired.xml");
    std::fs::write(&expired, metadata_with_certificate(&expired_certificate())).unwrap();
    let output = with_db(
        &db,
        &[
            "idp",
            "add",
            "acme",
            "--metadata",
            expired.to_str().unwrap(),
        ],
    );
    assert!(
        output.status.success(),
        "an expired certificate is accepted: {}",
        stderr(&output)
    );
    assert!(
        stderr(&output).starts_with("warning: certificate "),
        "{}",
        stderr(&output)
    );
    assert!(stderr(&output).contains("expired on 2020-09-13"));
}

async fn idp_and_user_commands_list_show_and_remove(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.org("acme");
    let idp = TestIdp::new("https://idp.acme.example/saml");
    let file = app.db.dir().join("metadata.xml");
    std::fs::write(&file, idp.metadata()).unwrap();
    let added = with_db(
        &app.db,
        &[
            "idp",
            "add",
            "acme",
            "--metadata",
            file.to_str().unwrap(),
            "--name",
            "Acme Okta",
            "--preset",
            "okta",
            "--map",
            "email=workEmail",
        ],
    );
    assert!(added.status.success(), "{}", stderr(&added));
    assert!(stdout(&added).starts_with("added IdP connection "));
    let duplicate = with_db(
        &app.db,
        &["idp", "add", "acme", "--metadata", file.to_str().unwrap()],
    );
    assert_eq!(
        stderr(&duplicate),
        "error: organization \"acme\" already has a connection for IdP \"https://idp.acme.example/saml\"\n"
    );
    let bad_map = with_db(
        &app.db,
        &[
            "idp",
            "add",
            "acme",
            "--metadata",
            file.to_str().unwrap(),
            "--map",
            "shoe_size=x",
        ],
    );
    assert!(stderr(&bad_map).starts_with("error: unknown profile field \"shoe_size\""));

    let list = stdout(&with_db(&app.db, &["idp", "list", "acme"]));
    let fields: Vec<&str> = list.trim_end().split('\t').collect();
    assert_eq!(
        fields[1..],
        ["Acme Okta", "https://idp.acme.example/saml", "enabled"]
    );
    let id = fields[0].to_owned();

    let mut spec = idp.spec(&app, "acme", "00u1");
    spec.attributes = vec![
        ("workEmail".into(), "ann@acme.example".into()),
        ("firstName".into(), "Ann".into()),
        ("lastName".into(), "Lee".into()),
    ];
    let (page, _) = app.post_response("acme", &idp.mint(&spec), None).await;
    assert_eq!(
        page.status.as_u16(),
        303,
        "the --map override is used: {:?}",
        app.sso_errors("acme")
    );

    let users = stdout(&with_db(&app.db, &["user", "list", "acme"]));
    assert!(
        users.starts_with("ann@acme.example\tAnn Lee\t20"),
        "{users}"
    );
    let shown = stdout(&with_db(
        &app.db,
        &["user", "show", "acme", "Ann@Acme.example"],
    ));
    assert!(shown.contains("email: ann@acme.example\n"), "{shown}");
    assert!(shown.contains("identity: Acme Okta 00u1\n"), "{shown}");
    let missing = with_db(&app.db, &["user", "show", "acme", "nobody@acme.example"]);
    assert_eq!(
        stderr(&missing),
        "error: organization \"acme\" has no learner \"nobody@acme.example\"\n"
    );

    let disabled = with_db(&app.db, &["idp", "set", "acme", &id, "--enabled", "off"]);
    assert_eq!(
        stdout(&disabled),
        format!(
            "{id}: enabled off, idp-initiated on, require-signed-assertion off, allow-sha1 off\n"
        )
    );
    assert!(
        stdout(&with_db(&app.db, &["idp", "list", "acme"]))
            .trim_end()
            .ends_with("\tdisabled")
    );
    let mut later = idp.spec(&app, "acme", "00u1");
    later.attributes = spec.attributes.clone();
    let (refused, _) = app.post_response("acme", &idp.mint(&later), None).await;
    assert_eq!(
        refused.status.as_u16(),
        403,
        "a disabled connection signs nobody in"
    );
    let bad_switch = with_db(&app.db, &["idp", "set", "acme", &id, "--enabled", "maybe"]);
    assert_eq!(bad_switch.status.code(), Some(2));

    let role = with_db(
        &app.db,
        &[
            "idp",
            "set",
            "acme",
            &id,
            "--admin-role-attribute",
            "groups",
            "--admin-role-value",
            "Admins",
        ],
    );
    assert!(role.status.success(), "{}", stderr(&role));
    let stored = |app: &crate::common::TestApp| {
        let mut conn = app.store.connection().expect("connection");
        seatgate::orgs::connections::list(&mut conn, app.org("acme").id).unwrap()[0]
            .admin_role
            .clone()
    };
    assert_eq!(
        stored(&app).map(|r| (r.attribute, r.value)),
        Some(("groups".to_owned(), "Admins".to_owned()))
    );
    let half = with_db(
        &app.db,
        &[
            "idp",
            "set",
            "acme",
            &id,
            "--admin-role-attribute",
            "groups",
        ],
    );
    assert_eq!(half.status.code(), Some(2), "both parts are needed");
    with_db(&app.db, &["idp", "set", "acme", &id, "--no-admin-role"]);
    assert_eq!(stored(&app), None);

    let removed = with_db(&app.db, &["idp", "remove", "acme", &id]);
    assert!(stdout(&removed).starts_with(&format!("removed IdP connection {id}")));
    assert_eq!(stdout(&with_db(&app.db, &["idp", "list", "acme"])), "");
    let again = with_db(&app.db, &["idp", "remove", "acme", &id]);
    assert_eq!(
        stderr(&again),
        format!("error: organization \"acme\" has no IdP connection \"{id}\"\n")
    );
    let malformed = with_db(&app.db, &["idp", "remove", "acme", "not-an-id"]);
    assert_eq!(malformed.status.code(), Some(1));
    assert_eq!(
        stderr(&malformed),
        "error: organization \"acme\" has no IdP connection \"not-an-id\"\n"
    );
}

async fn a_connection_can_be_configured_by_hand(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.org("acme");
    let idp = TestIdp::new("https://manual.idp.example/");
    let pem = app.db.dir().join("signing.pem");
    std::fs::write(&pem, idp.key.cert.to_pem().unwrap()).unwrap();
    let added = with_db(
        &app.db,
        &[
            "idp",
            "add",
            "acme",
            "--entity-id",
            "https://manual.idp.example/",
            "--sso-url",
            "https://manual.idp.example/sso",
            "--certificate",
            pem.to_str().unwrap(),
        ],
    );
    assert!(added.status.success(), "{}", stderr(&added));
    let (page, _) = app
        .post_response(
            "acme",
            &idp.mint(&idp.spec(&app, "acme", "ann@acme.example")),
            None,
        )
        .await;
    assert_eq!(page.status.as_u16(), 303, "{:?}", app.sso_errors("acme"));

    let incomplete = with_db(
        &app.db,
        &["idp", "add", "acme", "--entity-id", "https://x.example/"],
    );
    assert_eq!(
        incomplete.status.code(),
        Some(2),
        "clap names the missing flags"
    );
    let not_pem = with_db(
        &app.db,
        &[
            "idp",
            "add",
            "acme",
            "--entity-id",
            "https://y.example/",
            "--sso-url",
            "https://y.example/sso",
            "--certificate",
            pem.to_str().unwrap().trim_end_matches(".pem"),
        ],
    );
    assert!(
        stderr(&not_pem).starts_with("error: cannot read certificate file"),
        "{}",
        stderr(&not_pem)
    );
}

async fn idp_update_rolls_certificates_over_without_an_outage(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let old = TestIdp::new("https://idp.acme.example/entity");
    let connection = app.connect("acme", &old, seatgate::saml::attributes::Preset::Generic);
    let id = connection.id.to_string();
    let old_fingerprint = connection.certificates[0].certificate.fingerprint.clone();
    let new = TestIdp::new("https://idp.acme.example/entity");
    let new_fingerprint = new
        .metadata()
        .parse::<seatgate::saml::metadata::IdpMetadata>()
        .unwrap()
        .certificates[0]
        .fingerprint
        .clone();
    let file = app.db.dir().join("new.xml");
    std::fs::write(&file, new.metadata()).unwrap();

    let updated = with_db(
        &app.db,
        &[
            "idp",
            "update",
            "acme",
            &id,
            "--metadata",
            file.to_str().unwrap(),
        ],
    );
    assert!(updated.status.success(), "{}", stderr(&updated));
    assert_eq!(
        stdout(&updated),
        format!(
            "{id}: certificate added: {new_fingerprint}\n{id}: certificate retiring (trusted until removed or expired): {old_fingerprint}\n"
        )
    );
    let again = with_db(
        &app.db,
        &[
            "idp",
            "update",
            "acme",
            &id,
            "--metadata",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(stdout(&again), format!("{id}: unchanged\n"));
    assert!(app.signs_in("acme", &old, "ada@acme.example").await);
    assert!(app.signs_in("acme", &new, "bob@acme.example").await);

    // The fingerprint as IdP consoles show it, or without colons in lower case.
    let compact = old_fingerprint.replace(':', "").to_lowercase();
    let removed = with_db(
        &app.db,
        &[
            "idp",
            "update",
            "acme",
            &id,
            "--remove-certificate",
            &compact,
        ],
    );
    assert!(removed.status.success(), "{}", stderr(&removed));
    assert_eq!(
        stdout(&removed),
        format!("{id}: certificate removed: {old_fingerprint}\n")
    );
    assert!(!app.signs_in("acme", &old, "cy@acme.example").await);

    let last = with_db(
        &app.db,
        &[
            "idp",
            "update",
            "acme",
            &id,
            "--remove-certificate",
            &new_fingerprint,
        ],
    );
    assert_eq!(last.status.code(), Some(1));
    assert_eq!(
        stderr(&last),
        "error: that is the connection's last certificate in force: add the new one before removing it\n"
    );

    // Added by hand (a PEM the IdP admin sent), then known.
    let pem = app.db.dir().join("old.pem");
    std::fs::write(&pem, old.key.cert.to_pem().unwrap()).unwrap();
    let added = with_db(
        &app.db,
        &[
            "idp",
            "update",
            "acme",
            &id,
            "--add-certificate",
            pem.to_str().unwrap(),
        ],
    );
    assert_eq!(
        stdout(&added),
        format!("{id}: certificate added: {old_fingerprint}\n"),
        "{}",
        stderr(&added)
    );
    assert!(app.signs_in("acme", &old, "dee@acme.example").await);
    let twice = with_db(
        &app.db,
        &[
            "idp",
            "update",
            "acme",
            &id,
            "--add-certificate",
            pem.to_str().unwrap(),
        ],
    );
    assert_eq!(
        stderr(&twice),
        format!("error: the certificate {old_fingerprint} is trusted already\n")
    );

    // SAML options, as operators script them.
    let set = with_db(
        &app.db,
        &[
            "idp",
            "set",
            "acme",
            &id,
            "--force-authn",
            "on",
            "--name-id-format",
            "email",
            "--authn-context",
            "password-protected-transport",
            "--authn-context-comparison",
            "minimum",
            "--sign-requests",
            "off",
        ],
    );
    assert!(set.status.success(), "{}", stderr(&set));
    assert!(
        stdout(&set).starts_with(&format!(
            "{id}: binding redirect, sign-requests off, force-authn on, require-encrypted-assertion off, name-id-format email, authn-context urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport (minimum)\n"
        )),
        "{}",
        stdout(&set)
    );
    // TestIdp's metadata lists no POST URL.
    let post = with_db(&app.db, &["idp", "set", "acme", &id, "--binding", "post"]);
    assert_eq!(
        stderr(&post),
        "error: the IdP's metadata lists no HTTP-POST single sign-on URL: keep HTTP-Redirect, or upload metadata that has one\n"
    );
    let bad = with_db(
        &app.db,
        &["idp", "set", "acme", &id, "--name-id-format", "x500"],
    );
    assert_eq!(
        stderr(&bad),
        "error: unknown NameID format \"x500\" (unspecified, email, persistent, transient)\n"
    );

    let other = TestIdp::new("https://other.idp.example/");
    std::fs::write(&file, other.metadata()).unwrap();
    let wrong = with_db(
        &app.db,
        &[
            "idp",
            "update",
            "acme",
            &id,
            "--metadata",
            file.to_str().unwrap(),
        ],
    );
    assert_eq!(
        stderr(&wrong),
        "error: this metadata is for the IdP \"https://other.idp.example/\", not for this connection's \"https://idp.acme.example/entity\"\n"
    );
}

on_both_databases!(
    idp_update_rolls_certificates_over_without_an_outage,
    a_connection_can_be_configured_by_hand,
    broken_metadata_is_refused_with_a_specific_message,
    idp_and_user_commands_list_show_and_remove,
);
