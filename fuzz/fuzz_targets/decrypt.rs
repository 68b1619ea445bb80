//! The decryptor on any screened document's first EncryptedAssertion, with
//! the SP's keys (anyone can encrypt to our published certificate): no panic,
//! and the plaintext goes through the screen like any posted document.
#![no_main]

use std::sync::Once;

use libfuzzer_sys::fuzz_target;
use seatgate::saml::{ASSERTION_NS, decrypt, xml};
use seatgate_fuzz::{HARNESS, responses, seed};

static SEEDS: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    SEEDS.call_once(|| {
        seed(
            "decrypt",
            responses()
                .into_iter()
                .filter(|(_, xml)| xml.contains("EncryptedAssertion")),
        )
    });
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(doc) = xml::parse(text) else {
        return;
    };
    let Some(encrypted) = doc
        .descendants()
        .find(|n| xml::is(n, ASSERTION_NS, "EncryptedAssertion"))
    else {
        return;
    };
    let keys = HARNESS.sp_keys.published().map(|pair| &pair.key);
    if let Ok(plaintext) = decrypt::decrypt(encrypted, keys) {
        let _ = xml::parse(&plaintext);
    }
});
