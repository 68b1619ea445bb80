//! IdP metadata as the vendors publish it (`tests/metadata/`, see its
//! README): each file uploaded in the console as an IdP administrator would,
//! previewed, saved, and then signing a learner in with the key whose
//! certificate it carries; the certificates it lists for other uses are not
//! trusted.

use seatgate::saml::keys::KeyPair;

use crate::common::idp::TestIdp;
use crate::common::{Backend, TestApp, Visitor};
use crate::console::{field, save_previewed};
use crate::on_both_databases;

/// What a file must come to.
struct Expected {
    file: &'static str,
    entity_id: &'static str,
    sso_url: &'static str,
    /// The connection's default name.
    name: &'static str,
    /// How many certificates it trusts (signing, or without `use`).
    trusted: usize,
}

const CORPUS: [Expected; 6] = [
    Expected {
        file: "entra.xml",
        entity_id: "https://sts.windows.net/9188040d-6c67-4c5b-b112-36a304b66dad/",
        sso_url: "https://login.microsoftonline.com/9188040d-6c67-4c5b-b112-36a304b66dad/saml2",
        name: "login.microsoftonline.com",
        trusted: 2,
    },
    Expected {
        file: "adfs.xml",
        entity_id: "http://adfs.acme.example/adfs/services/trust",
        sso_url: "https://adfs.acme.example/adfs/ls/",
        name: "adfs.acme.example",
        trusted: 1,
    },
    Expected {
        file: "okta.xml",
        entity_id: "http://www.okta.com/exk1fcia6d6EMsf331d8",
        sso_url: "https://acme.okta.com/app/acme_seatgate_1/exk1fcia6d6EMsf331d8/sso/saml",
        name: "acme.okta.com",
        trusted: 1,
    },
    Expected {
        file: "google.xml",
        entity_id: "https://accounts.google.com/o/saml2?idpid=C01abc2de",
        sso_url: "https://accounts.google.com/o/saml2/idp?idpid=C01abc2de",
        name: "accounts.google.com",
        trusted: 1,
    },
    Expected {
        file: "shibboleth.xml",
        entity_id: "https://idp.acme-university.example/idp/shibboleth",
        sso_url: "https://idp.acme-university.example/idp/profile/SAML2/Redirect/SSO",
        name: "Acme University",
        trusted: 2,
    },
    Expected {
        file: "keycloak.xml",
        entity_id: "https://sso.acme.example/realms/acme",
        sso_url: "https://sso.acme.example/realms/acme/protocol/saml",
        name: "sso.acme.example",
        trusted: 1,
    },
];

/// The file with its placeholders filled: `idp`'s certificate to sign
/// with, and two others.
fn filled(file: &str, idp: &TestIdp, other: &KeyPair, encryption: &KeyPair) -> String {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/metadata")
        .join(file);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .replace("{SIGNING_CERT}", &idp.key.cert_base64())
        .replace("{OTHER_CERT}", &other.cert_base64())
        .replace("{ENCRYPTION_CERT}", &encryption.cert_base64())
}

/// Uploads `metadata` in `slug`'s console, checks the preview, saves it.
async fn upload(admin: &mut Visitor, slug: &str, metadata: &str, expected: &Expected) {
    let token = admin
        .get(&format!("/admin/orgs/{slug}/sso"))
        .await
        .csrf_token();
    let preview = admin
        .post_multipart(
            &format!("/admin/orgs/{slug}/sso/preview"),
            &[("csrf_token", &token), ("source", "file")],
            &[("metadata", expected.file, metadata.as_bytes())],
        )
        .await;
    assert_eq!(
        preview.status.as_u16(),
        200,
        "{}: {}",
        expected.file,
        preview.body
    );
    assert_eq!(
        field(&preview, "entity_id"),
        expected.entity_id,
        "{}",
        expected.file
    );
    assert_eq!(
        field(&preview, "sso_url"),
        expected.sso_url,
        "{}",
        expected.file
    );
    assert_eq!(field(&preview, "name"), expected.name, "{}", expected.file);
    let saved = save_previewed(admin, slug, &preview, "generic").await;
    assert_eq!(saved.status.as_u16(), 303, "{}", expected.file);
}

async fn vendor_metadata_is_accepted_and_signs_learners_in(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    for expected in &CORPUS {
        let slug = expected.file.trim_end_matches(".xml");
        app.org(slug);
        let idp = TestIdp::new(expected.entity_id);
        let other = KeyPair::generate("Other key").expect("key");
        let encryption = KeyPair::generate("Encryption key").expect("key");
        let metadata = filled(expected.file, &idp, &other, &encryption);
        let mut admin = app.admin_visitor(slug, &format!("admin@{slug}.example"), false);
        upload(&mut admin, slug, &metadata, expected).await;

        let org = app.org(slug);
        let mut conn = app.store.connection().expect("connection");
        let connection = seatgate::orgs::connections::list(&mut conn, org.id)
            .expect("connections")
            .remove(0);
        drop(conn);
        assert_eq!(connection.name, expected.name, "{}", expected.file);
        assert_eq!(
            connection.certificates.len(),
            expected.trusted,
            "{}",
            expected.file
        );
        let encryption_fingerprint =
            seatgate::saml::metadata::Certificate::from_base64(&encryption.cert_base64())
                .expect("certificate")
                .fingerprint;
        assert!(
            connection
                .certificates
                .iter()
                .all(|t| t.certificate.fingerprint != encryption_fingerprint),
            "{}: an encryption key is never trusted to sign",
            expected.file
        );

        let email = format!("learner@{slug}.example");
        let (page, _) = app
            .post_response(slug, &idp.mint(&idp.spec(&app, slug, &email)), None)
            .await;
        assert_eq!(
            page.status.as_u16(),
            303,
            "{}: {:?}",
            expected.file,
            app.sso_errors(slug)
        );
        assert!(app.learners(slug).iter().any(|l| l.email.as_str() == email));
    }
}

on_both_databases!(vendor_metadata_is_accepted_and_signs_learners_in);
