//! Why a sign-in was refused, as the IdP admin reads it: one [`Reason`] per
//! kind of refusal, each with its stable code (kept in the SSO error list and
//! the log) and the fix to try. Both matches are exhaustive, so a new kind of
//! refusal cannot ship without its code and its advice.

use std::str::FromStr;

use super::Failure;
use crate::saml::SpEndpoints;
use crate::saml::validate::Rejection;
use crate::saml::xml::Refused;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reason {
    TooLarge,
    NotBase64,
    NotUtf8,
    Encoding,
    Dtd,
    Namespaces,
    NotXml,
    TooDeep,
    NotAResponse,
    AssertionCount,
    Sha1Signature,
    Signature,
    AssertionNotSigned,
    AssertionNotEncrypted,
    Decryption,
    Destination,
    Issuer,
    Status,
    NoNameId,
    AudienceMissing,
    Audience,
    NotYetValid,
    Expired,
    IssuedInFuture,
    NoAuthnStatement,
    SessionEnded,
    NoBearerConfirmation,
    Recipient,
    InResponseToMismatch,
    Unsolicited,
    UnknownIssuer,
    UnknownInResponseTo,
    Replay,
    NoEmail,
    EmailTaken,
    Deactivated,
    Licensing,
    Storage,
}

impl Reason {
    pub const ALL: [Self; 38] = [
        Self::TooLarge,
        Self::NotBase64,
        Self::NotUtf8,
        Self::Encoding,
        Self::Dtd,
        Self::Namespaces,
        Self::NotXml,
        Self::TooDeep,
        Self::NotAResponse,
        Self::AssertionCount,
        Self::Sha1Signature,
        Self::Signature,
        Self::AssertionNotSigned,
        Self::AssertionNotEncrypted,
        Self::Decryption,
        Self::Destination,
        Self::Issuer,
        Self::Status,
        Self::NoNameId,
        Self::AudienceMissing,
        Self::Audience,
        Self::NotYetValid,
        Self::Expired,
        Self::IssuedInFuture,
        Self::NoAuthnStatement,
        Self::SessionEnded,
        Self::NoBearerConfirmation,
        Self::Recipient,
        Self::InResponseToMismatch,
        Self::Unsolicited,
        Self::UnknownIssuer,
        Self::UnknownInResponseTo,
        Self::Replay,
        Self::NoEmail,
        Self::EmailTaken,
        Self::Deactivated,
        Self::Licensing,
        Self::Storage,
    ];

    /// The stable short code, for logs and the list of recent SSO errors.
    pub fn code(self) -> &'static str {
        match self {
            Self::TooLarge => "too_large",
            Self::NotBase64 => "not_base64",
            Self::NotUtf8 => "not_utf8",
            Self::Encoding => "encoding",
            Self::Dtd => "dtd",
            Self::Namespaces => "namespaces",
            Self::NotXml => "not_xml",
            Self::TooDeep => "too_deep",
            Self::NotAResponse => "not_a_response",
            Self::AssertionCount => "assertion_count",
            Self::Sha1Signature => "sha1_signature",
            Self::Signature => "signature",
            Self::AssertionNotSigned => "assertion_not_signed",
            Self::AssertionNotEncrypted => "assertion_not_encrypted",
            Self::Decryption => "decryption",
            Self::Destination => "destination",
            Self::Issuer => "issuer",
            Self::Status => "status",
            Self::NoNameId => "no_name_id",
            Self::AudienceMissing => "audience_missing",
            Self::Audience => "audience",
            Self::NotYetValid => "not_yet_valid",
            Self::Expired => "expired",
            Self::IssuedInFuture => "issued_in_future",
            Self::NoAuthnStatement => "no_authn_statement",
            Self::SessionEnded => "session_ended",
            Self::NoBearerConfirmation => "no_bearer_confirmation",
            Self::Recipient => "recipient",
            Self::InResponseToMismatch => "in_response_to_mismatch",
            Self::Unsolicited => "unsolicited",
            Self::UnknownIssuer => "unknown_issuer",
            Self::UnknownInResponseTo => "unknown_in_response_to",
            Self::Replay => "replay",
            Self::NoEmail => "no_email",
            Self::EmailTaken => "email_taken",
            Self::Deactivated => "deactivated",
            Self::Licensing => "licensing",
            Self::Storage => "storage",
        }
    }

    /// The fix to try, phrased for the IdP admin, naming the field in the
    /// common IdPs and the value of ours it must hold.
    pub fn fix(self, sp: &SpEndpoints) -> String {
        let text = match self {
            Self::Audience | Self::AudienceMissing => {
                return format!(
                    "Set the Identifier (Entity ID) in Entra, the Audience URI in Okta, the Audience in OneLogin, the relying party identifier in AD FS, or the Entity ID in Google to {}.",
                    sp.entity_id
                );
            }
            Self::Destination | Self::Recipient => {
                return format!(
                    "Set the Reply URL (Entra), Single sign-on URL (Okta), ACS URL (OneLogin, Google) or the SAML assertion consumer endpoint (AD FS) to {}.",
                    sp.acs_url
                );
            }
            Self::Signature => {
                "The response was not signed by a certificate configured here. The IdP's signing certificate has probably changed: upload its current metadata again, or add the new certificate. If the reason says the digest does not match, the response was changed after the IdP signed it: by something in between (a proxy rewriting it), or by an attacker."
            }
            Self::Sha1Signature => {
                "Switch the IdP to SHA-256 signatures (Entra: SAML signing certificate → Signing algorithm SHA-256; ADFS: relying party → Advanced → SHA-256). Allowing SHA-1 for the connection works but is weak."
            }
            Self::AssertionNotSigned => {
                "This connection requires a signed assertion: have the IdP sign the assertion (Entra: Signing option \"Sign SAML response and assertion\"; OneLogin: SAML signature element \"Both\"), or turn the requirement off."
            }
            Self::AssertionNotEncrypted => {
                "This connection requires encrypted assertions: in the IdP, turn on assertion encryption with our certificate (download it above; Entra: Token encryption; Okta: Assertion Encryption; AD FS: the relying party's Encryption tab), or turn the requirement off here."
            }
            Self::Decryption => {
                "The IdP encrypts assertions with a certificate that is not ours: download our certificate (above) into the IdP again, or turn assertion encryption off there."
            }
            Self::Expired | Self::NotYetValid | Self::IssuedInFuture => {
                "The time window did not fit. Check that the clocks of the IdP and of this server are right, or allow a larger clock difference in Settings. A response kept in the browser's history expires too: sign in again."
            }
            Self::UnknownIssuer | Self::Issuer => {
                "The response came from an IdP entity ID that is not one of the enabled connections: upload that IdP's metadata, or enable its connection."
            }
            Self::UnknownInResponseTo => {
                "The response answers a sign-in we did not start or that took over 10 minutes, or it was used already. Start again from our sign-in page."
            }
            Self::Unsolicited => {
                "The sign-in was started at the IdP (an app tile), which this connection does not accept: allow IdP-initiated sign-in for it, or start from our sign-in URL."
            }
            Self::Replay => {
                "The same response was posted twice (the back button, or somebody replaying it). Sign in again; if it repeats without anybody going back, investigate."
            }
            Self::NoEmail | Self::NoNameId => {
                "Send the user's email address: as the NameID (format emailAddress) or as an email attribute, e.g. http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress (Entra, ADFS) or email (Okta, OneLogin, Google)."
            }
            Self::Status => {
                "The IdP itself refused the sign-in. Usually the user is not assigned to the application in the IdP: assign them (or their group) and try again."
            }
            Self::EmailTaken => {
                "Another learner already has this email address. Check the two accounts on the Users page."
            }
            Self::Deactivated => {
                "This learner is deactivated: by your IdP over SCIM (active: false, or removed from the application), or by an administrator's CSV import (action remove). Assign them to the application again in the IdP, or import them again with action add."
            }
            Self::NoBearerConfirmation
            | Self::NoAuthnStatement
            | Self::InResponseToMismatch
            | Self::AssertionCount
            | Self::NotAResponse => {
                "The IdP sent a SAML response this service provider cannot use. Check the application is set up as a SAML 2.0 web application with the HTTP-POST binding."
            }
            Self::SessionEnded => {
                "The IdP's session for this sign-in had already ended (SessionNotOnOrAfter). Sign in again; if it repeats, check the session lifetime the IdP sets for this application."
            }
            Self::TooLarge
            | Self::NotBase64
            | Self::NotUtf8
            | Self::NotXml
            | Self::Dtd
            | Self::Encoding
            | Self::TooDeep
            | Self::Namespaces => {
                "The posted form was not a SAML response we accept. If it came from your IdP, contact support with the reference; otherwise someone posted junk."
            }
            Self::Licensing | Self::Storage => {
                "The sign-in was valid but could not be completed on our side. Try again; if it repeats, give support the reference."
            }
        };
        text.to_owned()
    }
}

/// A code as stored in the SSO error list.
impl FromStr for Reason {
    type Err = ();

    fn from_str(code: &str) -> Result<Self, ()> {
        Self::ALL
            .into_iter()
            .find(|reason| reason.code() == code)
            .ok_or(())
    }
}

impl From<&Rejection> for Reason {
    fn from(rejection: &Rejection) -> Self {
        match rejection {
            Rejection::TooLarge => Self::TooLarge,
            Rejection::NotBase64 => Self::NotBase64,
            Rejection::NotUtf8 => Self::NotUtf8,
            Rejection::Xml(Refused::Encoding(_)) => Self::Encoding,
            Rejection::Xml(Refused::Dtd) => Self::Dtd,
            Rejection::Xml(Refused::NamespaceDeclarations | Refused::NamespacesInScope) => {
                Self::Namespaces
            }
            Rejection::Xml(Refused::NotXml(_)) | Rejection::NotXml(_) => Self::NotXml,
            Rejection::Xml(Refused::TooDeep) => Self::TooDeep,
            Rejection::NotAResponse => Self::NotAResponse,
            Rejection::AssertionCount(_) => Self::AssertionCount,
            Rejection::Sha1Signature => Self::Sha1Signature,
            Rejection::NoTrustedSignature(_) => Self::Signature,
            Rejection::AssertionNotSigned => Self::AssertionNotSigned,
            Rejection::AssertionNotEncrypted => Self::AssertionNotEncrypted,
            Rejection::Decryption(_) => Self::Decryption,
            Rejection::Destination { .. } => Self::Destination,
            Rejection::Issuer { .. } => Self::Issuer,
            Rejection::Status { .. } => Self::Status,
            Rejection::NoNameId => Self::NoNameId,
            Rejection::AudienceMissing { .. } => Self::AudienceMissing,
            Rejection::Audience { .. } => Self::Audience,
            Rejection::NotYetValid(_) => Self::NotYetValid,
            Rejection::Expired(_) => Self::Expired,
            Rejection::IssuedInFuture(_) => Self::IssuedInFuture,
            Rejection::NoAuthnStatement => Self::NoAuthnStatement,
            Rejection::SessionEnded(_) => Self::SessionEnded,
            Rejection::NoBearerConfirmation => Self::NoBearerConfirmation,
            Rejection::Recipient { .. } => Self::Recipient,
            Rejection::InResponseToMismatch => Self::InResponseToMismatch,
            Rejection::UnsolicitedNotAllowed => Self::Unsolicited,
        }
    }
}

impl From<&Failure> for Reason {
    fn from(failure: &Failure) -> Self {
        match failure {
            Failure::Rejected(rejection) => rejection.into(),
            Failure::UnknownIssuer(_) => Self::UnknownIssuer,
            Failure::UnknownRequest(_) => Self::UnknownInResponseTo,
            Failure::Replay(_) => Self::Replay,
            Failure::NoEmail { .. } => Self::NoEmail,
            Failure::EmailTaken(_) => Self::EmailTaken,
            Failure::Deactivated(_) => Self::Deactivated,
            Failure::Licensing(_) => Self::Licensing,
            Failure::Store(_) => Self::Storage,
        }
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
        assert!(
            Reason::Audience
                .fix(&sp())
                .ends_with("to https://sp.example/sso/acme.")
        );
        assert!(
            Reason::Recipient
                .fix(&sp())
                .ends_with("to https://sp.example/sso/acme/acs.")
        );
    }

    #[test]
    fn codes_are_distinct_and_read_back() {
        for reason in Reason::ALL {
            assert_eq!(reason.code().parse(), Ok(reason), "{reason:?}");
        }
        assert_eq!("no such code".parse::<Reason>(), Err(()));
    }

    #[test]
    fn what_the_idp_admin_can_fix_has_its_own_advice() {
        let junk_advice = Reason::TooLarge.fix(&sp());
        for reason in Reason::ALL {
            let junk = matches!(
                reason,
                Reason::TooLarge
                    | Reason::NotBase64
                    | Reason::NotUtf8
                    | Reason::NotXml
                    | Reason::Dtd
                    | Reason::Encoding
                    | Reason::TooDeep
                    | Reason::Namespaces
            );
            assert_eq!(reason.fix(&sp()) == junk_advice, junk, "{reason:?}");
        }
    }
}
