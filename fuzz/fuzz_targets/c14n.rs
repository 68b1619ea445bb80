//! Canonicalization, all four forms, of every document the screen lets
//! through: never a panic, and canonical output read again canonicalizes to
//! itself (canonical XML is a fixed point).
#![no_main]

use std::sync::Once;

use libfuzzer_sys::fuzz_target;
use seatgate::saml::c14n::{Form, canonicalize};
use seatgate::saml::xml;
use seatgate_fuzz::{metadata, responses, seed};

static SEEDS: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    SEEDS.call_once(|| {
        seed("c14n", responses());
        seed("c14n", [("metadata", metadata())]);
    });
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(doc) = xml::parse(text) else {
        return;
    };
    let prefixes = ["saml", "", "ds"];
    for form in [Form::Inclusive, Form::Exclusive(&prefixes)] {
        for with_comments in [false, true] {
            let once = canonicalize(doc.root_element(), None, form, with_comments);
            // Our own output, so read without the hostile-input screen.
            let again = roxmltree::Document::parse(&once)
                .unwrap_or_else(|e| panic!("canonical output is not XML ({e}): {once}"));
            let twice = canonicalize(again.root_element(), None, form, with_comments);
            assert_eq!(once, twice, "canonicalization is not idempotent");
        }
    }
});
