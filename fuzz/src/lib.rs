//! What the fuzz targets share: one SP and one IdP whose keys persist in
//! `fuzz/keys/` (so the corpus stays valid from run to run), a fixed "now",
//! and seed inputs written to `fuzz/corpus/<target>/` on first use: valid
//! responses, encrypted assertions and metadata, for libFuzzer to mutate.

use std::path::{Path, PathBuf};
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use seatgate::saml::keys::{KeyPair, SpKeys};
use seatgate::saml::mint::{self, Encryption, Harness, KeyTransport};

pub static HARNESS: LazyLock<Harness> = LazyLock::new(|| {
    let keys = dir("keys");
    let idp = KeyPair::load_or_generate(&keys, "idp", "fuzz IdP").expect("IdP key");
    let sp_keys = SpKeys::load_or_generate(&keys, now()).expect("SP keys");
    Harness::new(idp, sp_keys, now())
});

/// Fixed, so that the seeds never expire.
fn now() -> DateTime<Utc> {
    "2026-06-01T12:00:00Z".parse().expect("a valid instant")
}

fn dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join(name);
    std::fs::create_dir_all(&dir).expect("fuzz directory");
    dir
}

/// Writes `seeds` into `corpus/<target>/` unless they are there already.
pub fn seed(target: &str, seeds: impl IntoIterator<Item = (&'static str, String)>) {
    let corpus = dir(&format!("corpus/{target}"));
    for (name, content) in seeds {
        let path = corpus.join(format!("seed-{name}"));
        if !path.exists() {
            std::fs::write(path, content).expect("seed written");
        }
    }
}

/// Responses the harness accepts, in the shapes IdPs send.
pub fn responses() -> Vec<(&'static str, String)> {
    let h = &*HARNESS;
    let mut shapes = vec![("signed", h.spec())];
    let mut spec = h.spec();
    spec.inclusive_c14n = true;
    shapes.push(("inclusive", spec));
    let mut spec = h.spec();
    spec.sign_response = false;
    shapes.push(("assertion-signed", spec));
    for (name, gcm, key_beside) in [("gcm", true, false), ("cbc-beside", false, true)] {
        let mut spec = h.spec();
        spec.sign_response = false;
        spec.encrypt_for = Some(h.sp_keys.current.cert.clone());
        spec.encryption = Encryption {
            key_bytes: 32,
            gcm,
            transport: KeyTransport::OaepSha256,
            key_beside,
        };
        shapes.push((name, spec));
    }
    shapes
        .into_iter()
        .map(|(name, spec)| (name, h.mint(&spec)))
        .collect()
}

/// The harness IdP's metadata, as an IdP admin uploads it.
pub fn metadata() -> String {
    mint::idp_metadata(Harness::IDP, "https://idp.example/sso", &HARNESS.idp)
}
