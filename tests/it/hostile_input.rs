//! Property tests of hostile shapes (issue 12): whatever an anonymous poster
//! sends — deep, wide, namespace-heavy, long prefix lists, other encodings,
//! oversized base64, random damage to a valid response — is refused with the
//! reason its shape calls for, before any expensive step, and never accepted
//! as anything but what the IdP signed. How fast the worst of them are
//! refused is measured in `benches/validate.rs`, not asserted here.

use std::sync::LazyLock;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use seatgate::clock::Clock;
use seatgate::saml::dsig;
use seatgate::saml::mint::{self, Harness};
use seatgate::saml::validate::{MAX_RESPONSE_BYTES, Rejection};
use seatgate::signin::Reason;

struct Fixture {
    harness: Harness,
    /// A response the harness accepts.
    signed: String,
}

static FIXTURE: LazyLock<Fixture> = LazyLock::new(|| {
    let harness = Harness::generate(Clock::system().now()).expect("keys");
    let signed = harness.mint(&harness.spec());
    harness
        .validate(&mint::encode(&signed))
        .expect("the fixture's response is valid");
    Fixture { harness, signed }
});

/// The reason code the IdP admin would read.
fn code(rejection: &Rejection) -> &'static str {
    Reason::from(rejection).code()
}

fn refusal(xml: &str) -> Rejection {
    FIXTURE
        .harness
        .validate(&mint::encode(xml))
        .expect_err("hostile input is refused")
}

/// The valid response with `inside` in its (unsigned-for) Extensions.
fn with_extension(inside: &str) -> String {
    FIXTURE.signed.replacen(
        "<samlp:Status>",
        &format!("<samlp:Extensions>{inside}</samlp:Extensions><samlp:Status>"),
        1,
    )
}

fn run<S: Strategy>(cases: u32, strategy: S, test: impl Fn(S::Value) -> Result<(), TestCaseError>) {
    let config = Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    };
    TestRunner::new(config)
        .run(&strategy, test)
        .unwrap_or_else(|e| panic!("{e}"));
}

#[test]
fn nesting_beyond_the_depth_limit_is_refused() {
    run(24, 65usize..6000, |levels| {
        let xml = with_extension(&format!(
            "{}{}",
            "<x>".repeat(levels),
            "</x>".repeat(levels)
        ));
        prop_assert_eq!(code(&refusal(&xml)), "too_deep");
        Ok(())
    });
}

#[test]
fn many_namespaces_are_refused() {
    // On one element: too many in scope. Spread over siblings: too many declared.
    run(16, (65usize..3000, any::<bool>()), |(count, spread)| {
        let inside: String = if spread {
            "<x xmlns:p=\"u\"/>".repeat(count + 4096)
        } else {
            let declarations: String = (0..count).map(|i| format!(" xmlns:p{i}=\"u\"")).collect();
            format!("<x{declarations}/>")
        };
        prop_assert_eq!(code(&refusal(&with_extension(&inside))), "namespaces");
        Ok(())
    });
}

#[test]
fn namespaces_piled_up_by_nesting_are_refused() {
    run(
        16,
        (2usize..12, 33usize..64, 0usize..30_000),
        |(levels, each, leaves)| {
            let open: String = (0..levels)
                .map(|level| {
                    let declarations: String = (0..each)
                        .map(|i| format!(" xmlns:l{level}p{i}=\"u\""))
                        .collect();
                    format!("<x{declarations}>")
                })
                .collect();
            let xml = with_extension(&format!(
                "{open}{}{}",
                "<y/>".repeat(leaves),
                "</x>".repeat(levels)
            ));
            prop_assert_eq!(code(&refusal(&xml)), "namespaces");
            Ok(())
        },
    );
}

#[test]
fn wide_documents_are_refused_without_a_trusted_signature() {
    run(16, (1usize..45_000, "[a-z]"), |(count, name)| {
        let xml = with_extension(&format!("<{name}/>").repeat(count));
        let reason = code(&refusal(&xml));
        // Up to the node limit the digest no longer matches; beyond it the parser stops.
        prop_assert!(reason == "signature" || reason == "not_xml", "{}", reason);
        Ok(())
    });
}

#[test]
fn long_prefix_lists_are_refused_before_canonicalizing() {
    let exc = "http://www.w3.org/2001/10/xml-exc-c14n#";
    run(
        16,
        prop::collection::vec("[a-z]{1,6}", 65..3000),
        |prefixes| {
            let mut distinct = prefixes.clone();
            distinct.sort();
            distinct.dedup();
            prop_assume!(distinct.len() > 64);
            let method = format!("<ds:CanonicalizationMethod Algorithm=\"{exc}\"/>");
            prop_assert!(FIXTURE.signed.contains(&method));
            let listed = format!(
                "<ds:CanonicalizationMethod Algorithm=\"{exc}\"><ec:InclusiveNamespaces xmlns:ec=\"{exc}\" PrefixList=\"{}\"/></ds:CanonicalizationMethod>",
                prefixes.join(" ")
            );
            match refusal(&FIXTURE.signed.replacen(&method, &listed, 1)) {
                Rejection::NoTrustedSignature(dsig::Failure::Unsupported(what)) => {
                    prop_assert!(what.contains("InclusiveNamespaces"), "{}", what)
                }
                other => prop_assert!(false, "{other:?}"),
            }
            Ok(())
        },
    );
}

#[test]
fn encodings_other_than_utf8_are_refused_before_parsing() {
    let body = FIXTURE.signed.trim_start_matches("<?xml version=\"1.0\"?>");
    run(64, "[A-Za-z][A-Za-z0-9._-]{0,15}", |encoding| {
        prop_assume!(!encoding.eq_ignore_ascii_case("UTF-8"));
        let xml = format!("<?xml version=\"1.0\" encoding=\"{encoding}\"?>{body}");
        prop_assert_eq!(code(&refusal(&xml)), "encoding");
        Ok(())
    });
    // A UTF-16 document (with its byte-order mark) is not UTF-8 at all.
    let utf16: Vec<u8> = [0xFF, 0xFE]
        .into_iter()
        .chain(body.encode_utf16().flat_map(u16::to_le_bytes))
        .collect();
    let refused = FIXTURE.harness.validate(&STANDARD.encode(utf16));
    assert_eq!(refused.map_err(|r| code(&r)).err(), Some("not_utf8"));
}

#[test]
fn oversized_base64_is_refused_before_decoding() {
    run(
        16,
        (MAX_RESPONSE_BYTES + 1)..(4 * MAX_RESPONSE_BYTES),
        |length| {
            let refused = FIXTURE.harness.validate(&"A".repeat(length));
            prop_assert_eq!(refused.map_err(|r| code(&r)).err(), Some("too_large"));
            Ok(())
        },
    );
}

#[test]
fn arbitrary_bytes_are_refused() {
    run(128, prop::collection::vec(any::<u8>(), 0..4096), |bytes| {
        prop_assert!(FIXTURE.harness.validate(&STANDARD.encode(&bytes)).is_err());
        Ok(())
    });
}

#[test]
fn damage_to_a_signed_response_never_changes_who_signs_in() {
    let signed = &FIXTURE.signed;
    let spec = FIXTURE.harness.spec();
    let strategy = (
        0..signed.len(),
        0usize..64,
        prop_oneof![
            Just(String::new()),
            "[<>/=\"a-z:# ]{1,12}",
            Just("<saml:Assertion>".to_owned()),
            Just("<!-- -->".to_owned()),
        ],
    );
    run(256, strategy, |(at, cut, insert)| {
        let at = (0..=at)
            .rev()
            .find(|&i| signed.is_char_boundary(i))
            .unwrap_or(0);
        let end = (at + cut..=signed.len())
            .find(|&i| signed.is_char_boundary(i))
            .unwrap_or(signed.len());
        let damaged = format!("{}{insert}{}", &signed[..at], &signed[end..]);
        if let Ok(verified) = FIXTURE.harness.validate(&mint::encode(&damaged)) {
            // Only damage outside what was signed can pass (the XML declaration).
            prop_assert_eq!(verified.name_id(), spec.name_id.as_str());
            prop_assert_eq!(verified.attributes(), spec.attributes.as_slice());
        }
        Ok(())
    });
}
