//! Validating one signed SAML response (Response and Assertion signed, RSA-2048,
//! SHA-256): screening, verification, parsing of the signed part, checks.
//! Run with `cargo bench --bench validate`; figures in docs/performance.md.

use criterion::{Criterion, criterion_group, criterion_main};
use seatgate::clock::Clock;
use seatgate::saml::SpEndpoints;
use seatgate::saml::keys::{KeyPair, SpKeys};
use seatgate::saml::mint::{self, ResponseSpec};
use seatgate::saml::validate::{Expected, Trust, decode, validate};

fn validation(c: &mut Criterion) {
    let dir = tempfile::tempdir().expect("temp dir");
    let now = Clock::system().now();
    let keys = SpKeys::load_or_generate(dir.path(), now).expect("SP keys");
    let idp = KeyPair::generate("bench IdP").expect("IdP key");
    let sp = SpEndpoints::for_org(
        &seatgate::config::BaseUrl::parse("https://seatgate.example").expect("base URL"),
        &"acme".parse().expect("slug"),
    );
    let mut spec = ResponseSpec::new("https://idp.example/", &sp, "ann@acme.example", now);
    spec.attributes = vec![
        ("email".into(), "ann@acme.example".into()),
        ("firstName".into(), "Ann".into()),
        ("lastName".into(), "Lee".into()),
    ];
    let encoded = mint::encode(&mint::mint(&spec, &idp).expect("mint"));
    let certificates = vec![idp.cert_der()];
    let trust = Trust {
        idp_entity_id: "https://idp.example/",
        certificates: &certificates,
        require_signed_assertion: false,
        allow_sha1: false,
        allow_unsolicited: true,
    };
    let expected = Expected {
        sp: &sp,
        keys: &keys,
        now,
        clock_skew: chrono::TimeDelta::minutes(3),
    };
    let check = |encoded: &str| {
        let decoded = decode(encoded).expect("decodes");
        let parsed = decoded.parse().expect("parses");
        validate(&parsed, &trust, &expected).expect("the bench response is valid")
    };
    check(&encoded);
    c.bench_function("validate_signed_response", |b| {
        b.iter(|| check(std::hint::black_box(&encoded)))
    });
}

criterion_group!(benches, validation);
criterion_main!(benches);
