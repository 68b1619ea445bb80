//! Decode, screen, verify and check a posted response. Anything accepted
//! must be exactly what the harness IdP signed: the same NameID and
//! attributes. Anything else is a forgery and fails the run.
#![no_main]

use std::sync::Once;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use libfuzzer_sys::fuzz_target;
use seatgate_fuzz::{HARNESS, responses, seed};

static SEEDS: Once = Once::new();

fuzz_target!(|data: &[u8]| {
    SEEDS.call_once(|| seed("validate", responses()));
    if let Ok(verified) = HARNESS.validate(&STANDARD.encode(data)) {
        let spec = HARNESS.spec();
        assert_eq!(verified.name_id(), spec.name_id);
        assert_eq!(verified.attributes(), spec.attributes.as_slice());
    }
});
