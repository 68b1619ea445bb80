//! Validating SAML responses: one signed response (Response and Assertion
//! signed, RSA-2048, SHA-256) through screening, verification, parsing of the
//! signed part and checks; and the most expensive hostile shapes at the size
//! limit, which must be refused in a fraction of that time or little more.
//! Run with `cargo bench --bench validate`; figures in docs/performance.md.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use seatgate::clock::Clock;
use seatgate::saml::mint::{self, Harness};
use seatgate::saml::validate::MAX_RESPONSE_BYTES;

/// The largest XML that still fits the posted-size limit once in base64.
const MAX_XML: usize = MAX_RESPONSE_BYTES / 4 * 3;

/// `signed` with `filler` repeated (then closed by `close`) inside its Extensions, up to the size limit.
fn padded(signed: &str, open: &str, filler: &str, close: &str) -> String {
    let room = MAX_XML.saturating_sub(signed.len() + open.len() + close.len() + 40);
    let filler = filler.repeat(room / filler.len());
    signed.replacen(
        "<samlp:Status>",
        &format!("<samlp:Extensions>{open}{filler}{close}</samlp:Extensions><samlp:Status>"),
        1,
    )
}

fn validation(c: &mut Criterion) {
    let harness = Harness::generate(Clock::system().now()).expect("keys");
    let signed = harness.mint(&harness.spec());
    let encoded = mint::encode(&signed);
    harness
        .validate(&encoded)
        .expect("the bench response is valid");
    c.bench_function("validate_signed_response", |b| {
        b.iter(|| harness.validate(black_box(&encoded)))
    });

    // The most namespaces in scope the text check lets through to the parser
    // (four nested elements of 63 declarations, with the root's two), over as
    // many elements as fit.
    let scopes: String = (0..4)
        .map(|level| {
            let declarations: String = (0..63)
                .map(|i| format!(" xmlns:p{level}x{i}=\"urn:p\""))
                .collect();
            format!("<x{declarations}>")
        })
        .collect();
    let hostile = [
        ("wide", padded(&signed, "", "<x/>", "")),
        ("deep", {
            let levels = (MAX_XML - signed.len()) / 8;
            padded(&signed, &"<x>".repeat(levels), " ", &"</x>".repeat(levels))
        }),
        (
            "namespaces",
            padded(&signed, &scopes, "<y/>", &"</x>".repeat(4)),
        ),
        ("text", padded(&signed, "", "a", "")),
    ];
    let mut group = c.benchmark_group("refuse_at_size_limit");
    for (name, xml) in &hostile {
        let encoded = mint::encode(xml);
        assert!(
            encoded.len() <= MAX_RESPONSE_BYTES,
            "{name}: {}",
            encoded.len()
        );
        let refused = harness
            .validate(&encoded)
            .expect_err("hostile input is refused");
        println!("{name}: {} bytes, refused: {refused}", encoded.len());
        group.bench_function(*name, |b| b.iter(|| harness.validate(black_box(&encoded))));
    }
    group.finish();
}

criterion_group!(benches, validation);
criterion_main!(benches);
