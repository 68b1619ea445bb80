//! IdP metadata as an IdP admin uploads it (or a metadata URL returns it):
//! any outcome but a panic or a hang is fine.
#![no_main]

use std::sync::Once;

use libfuzzer_sys::fuzz_target;
use seatgate::saml::metadata::IdpMetadata;
use seatgate_fuzz::{metadata, seed};

static SEEDS: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    SEEDS.call_once(|| seed("metadata", [("idp", metadata())]));
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = text.parse::<IdpMetadata>();
    }
});
