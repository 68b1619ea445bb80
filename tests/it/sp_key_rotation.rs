//! Rotating our own SP certificate without an outage: `seatgate certs
//! rotate` publishes the new certificate in the metadata at once, running
//! servers pick it up without a restart, sign with it only after the
//! overlap, and decrypt with either certificate meanwhile.

use samael::crypto::{CertificateDer, UrlVerifier};
use seatgate::saml::attributes::Preset;

use crate::cli::{stderr, stdout, with_db};
use crate::common::idp::TestIdp;
use crate::common::{Backend, TestApp};
use crate::on_both_databases;

const IDP: &str = "https://idp.acme.example/saml";

/// Which of `certs` signed the AuthnRequest of a fresh SP-initiated sign-in.
async fn request_signed_by(app: &TestApp, certs: &[&[u8]]) -> Vec<bool> {
    let redirect = app.visitor().get("/sso/acme/login").await;
    let url = url::Url::parse(redirect.location.as_deref().expect("to the IdP")).expect("URL");
    certs
        .iter()
        .map(|der| {
            UrlVerifier::from_x509(&CertificateDer::from(der.to_vec()))
                .expect("verifier")
                .verify_signed_request_url(&url)
                .unwrap_or(false)
        })
        .collect()
}

async fn a_new_sp_certificate_is_announced_then_signs_without_a_restart(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = TestIdp::new(IDP);
    app.connect("acme", &idp, Preset::Generic);
    let old = app.sp_keys.get().current.clone();
    let certs_dir = app.settings.certs_dir.to_str().expect("UTF-8").to_owned();

    let rotated = with_db(&app.db, &["--certs-dir", &certs_dir, "certs", "rotate"]);
    assert!(rotated.status.success(), "{}", stderr(&rotated));
    assert!(
        stdout(&rotated).contains("is published in the metadata now; Seatgate signs with it from"),
        "{}",
        stdout(&rotated)
    );
    let pending = with_db(&app.db, &["--certs-dir", &certs_dir, "certs", "rotate"]);
    assert_eq!(pending.status.code(), Some(1));
    assert!(
        stderr(&pending).contains("is already announced"),
        "{}",
        stderr(&pending)
    );

    // What the minute's reload does in a running server.
    app.sp_keys.reload(app.clock.clock().now()).expect("reload");
    let keys = app.sp_keys.get();
    let (new, _) = keys.next.clone().expect("announced");
    let metadata = app.visitor().get("/sso/acme/metadata").await.body;
    assert!(metadata.contains(&old.cert_base64()) && metadata.contains(&new.cert_base64()));
    assert_eq!(
        request_signed_by(&app, &[&old.cert_der(), &new.cert_der()]).await,
        [true, false],
        "the old key signs during the overlap"
    );
    // IdPs that already encrypt for the new certificate are understood.
    let mut spec = idp.spec(&app, "acme", "ann@acme.example");
    spec.encrypt_for = Some(new.cert.clone());
    assert_eq!(
        app.post_response("acme", &idp.mint(&spec), None)
            .await
            .0
            .status
            .as_u16(),
        303
    );

    // The command line read the real clock a moment after the app's started.
    app.clock
        .advance(chrono::TimeDelta::days(7) + chrono::TimeDelta::minutes(1));
    app.sp_keys.reload(app.clock.clock().now()).expect("reload");
    assert_eq!(
        request_signed_by(&app, &[&old.cert_der(), &new.cert_der()]).await,
        [false, true],
        "the new key signs after the overlap"
    );
    let metadata = app.visitor().get("/sso/acme/metadata").await.body;
    assert!(
        metadata.contains(&old.cert_base64()),
        "the old certificate stays published"
    );
    let mut spec = idp.spec(&app, "acme", "bob@acme.example");
    spec.encrypt_for = Some(old.cert.clone());
    assert_eq!(
        app.post_response("acme", &idp.mint(&spec), None)
            .await
            .0
            .status
            .as_u16(),
        303,
        "IdPs still encrypting for the old certificate are understood"
    );
}

on_both_databases!(a_new_sp_certificate_is_announced_then_signs_without_a_restart);
