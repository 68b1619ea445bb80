//! What an IdP admin should try for each kind of refused sign-in.

use super::SpEndpoints;

/// The fix to try for a refused sign-in with this reason code (the codes of
/// `signin::Failure::code`), phrased for the IdP admin, naming the field in
/// the common IdPs and the value it must hold.
pub fn fix_for(code: &str, sp: &SpEndpoints) -> String {
    match code {
        "audience" | "audience_missing" => format!(
            "Set the Identifier (Entity ID) in Entra, the Audience URI in Okta, the Audience in OneLogin, the relying party identifier in AD FS, or the Entity ID in Google to {}.",
            sp.entity_id
        ),
        "destination" | "recipient" => format!(
            "Set the Reply URL (Entra), Single sign-on URL (Okta), ACS URL (OneLogin, Google) or the SAML assertion consumer endpoint (AD FS) to {}.",
            sp.acs_url
        ),
        other => fixed(other).to_owned(),
    }
}

/// The fixes that need none of our values.
fn fixed(code: &str) -> &'static str {
    match code {
        "signature" => {
            "The response was not signed by a certificate configured here. The IdP's signing certificate has probably changed: upload its current metadata again, or add the new certificate. If the reason says the digest does not match, the response was changed after the IdP signed it: by something in between (a proxy rewriting it), or by an attacker."
        }
        "sha1_signature" => {
            "Switch the IdP to SHA-256 signatures (Entra: SAML signing certificate → Signing algorithm SHA-256; ADFS: relying party → Advanced → SHA-256). Allowing SHA-1 for the connection works but is weak."
        }
        "assertion_not_signed" => {
            "This connection requires a signed assertion: have the IdP sign the assertion (Entra: Signing option \"Sign SAML response and assertion\"; OneLogin: SAML signature element \"Both\"), or turn the requirement off."
        }
        "decryption" => {
            "The IdP encrypts assertions with a certificate that is not ours: download our certificate (above) into the IdP again, or turn assertion encryption off there."
        }
        "expired" | "not_yet_valid" | "issued_in_future" => {
            "The time window did not fit. Check that the clocks of the IdP and of this server are right, or allow a larger clock difference in Settings. A response kept in the browser's history expires too: sign in again."
        }
        "unknown_issuer" | "issuer" => {
            "The response came from an IdP entity ID that is not one of the enabled connections: upload that IdP's metadata, or enable its connection."
        }
        "unknown_in_response_to" => {
            "The response answers a sign-in we did not start or that took over 10 minutes, or it was used already. Start again from our sign-in page."
        }
        "unsolicited" => {
            "The sign-in was started at the IdP (an app tile), which this connection does not accept: allow IdP-initiated sign-in for it, or start from our sign-in URL."
        }
        "replay" => {
            "The same response was posted twice (the back button, or somebody replaying it). Sign in again; if it repeats without anybody going back, investigate."
        }
        "no_email" | "no_name_id" => {
            "Send the user's email address: as the NameID (format emailAddress) or as an email attribute, e.g. http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress (Entra, ADFS) or email (Okta, OneLogin, Google)."
        }
        "status" => {
            "The IdP itself refused the sign-in. Usually the user is not assigned to the application in the IdP: assign them (or their group) and try again."
        }
        "email_taken" => {
            "Another learner already has this email address. Check the two accounts on the Users page."
        }
        "no_bearer_confirmation"
        | "no_authn_statement"
        | "in_response_to_mismatch"
        | "assertion_count"
        | "not_a_response" => {
            "The IdP sent a SAML response this service provider cannot use. Check the application is set up as a SAML 2.0 web application with the HTTP-POST binding."
        }
        "session_ended" => {
            "The IdP's session for this sign-in had already ended (SessionNotOnOrAfter). Sign in again; if it repeats, check the session lifetime the IdP sets for this application."
        }
        "too_large" | "not_base64" | "not_utf8" | "not_xml" | "dtd" | "encoding" | "too_deep"
        | "namespaces" => {
            "The posted form was not a SAML response we accept. If it came from your IdP, contact support with the reference; otherwise someone posted junk."
        }
        _ => "Check the detail above; give support the reference if it is unclear.",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sp() -> SpEndpoints {
        SpEndpoints {
            entity_id: "https://sp.example/sso/acme".into(),
            acs_url: "https://sp.example/sso/acme/acs".into(),
            metadata_url: "https://sp.example/sso/acme/metadata".into(),
        }
    }

    #[test]
    fn audience_and_destination_fixes_name_our_values() {
        assert!(fix_for("audience", &sp()).ends_with("to https://sp.example/sso/acme."));
        assert!(fix_for("recipient", &sp()).ends_with("to https://sp.example/sso/acme/acs."));
    }

    #[test]
    fn every_refusal_code_has_its_own_fix() {
        let generic = fix_for("no such code", &sp());
        for code in [
            "audience",
            "destination",
            "recipient",
            "signature",
            "sha1_signature",
            "assertion_not_signed",
            "decryption",
            "expired",
            "unknown_issuer",
            "unknown_in_response_to",
            "unsolicited",
            "replay",
            "no_email",
            "status",
        ] {
            assert_ne!(fix_for(code, &sp()), generic, "{code}");
        }
    }
}
