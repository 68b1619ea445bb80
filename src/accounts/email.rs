//! Email addresses, normalised once.

use std::fmt;
use std::str::FromStr;

/// An email address, trimmed and lower-cased, so equality is the
/// case-insensitive match people expect (`Ann@Example.com` is `ann@example.com`).
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Email(String);

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0:?} is not a valid email address")]
pub struct InvalidEmail(pub String);

impl FromStr for Email {
    type Err = InvalidEmail;

    fn from_str(text: &str) -> Result<Self, InvalidEmail> {
        let normalised = text.trim().to_lowercase();
        let invalid = || InvalidEmail(text.to_owned());
        // RFC 5321, 4.5.3.1: 64 octets of local part, 254 in all in practice.
        if normalised.len() > 254 {
            return Err(invalid());
        }
        let (local, domain) = normalised.split_once('@').ok_or_else(invalid)?;
        let forbidden =
            |c: char| c.is_whitespace() || c.is_control() || "<>()[],;:\"\\@".contains(c);
        let valid = !local.is_empty()
            && local.len() <= 64
            && !domain.is_empty()
            && !domain.starts_with('.')
            && !domain.ends_with('.')
            && !domain.contains("..")
            && !local.chars().any(forbidden)
            && !domain.chars().any(forbidden);
        if valid {
            Ok(Self(normalised))
        } else {
            Err(invalid())
        }
    }
}

impl Email {
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// What follows the `@`.
    pub fn domain(&self) -> &str {
        self.0.rsplit_once('@').map_or("", |(_, domain)| domain)
    }
}

impl fmt::Display for Email {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_normalised() {
        let email: Email = "  Ann.Lee@Example.COM ".parse().expect("valid");
        assert_eq!(email.as_str(), "ann.lee@example.com");
        assert_eq!(email, "ann.lee@example.com".parse().expect("valid"));
    }

    #[test]
    fn malformed_emails_are_refused() {
        for bad in [
            "",
            "ann",
            "@example.com",
            "ann@",
            "ann@@example.com",
            "ann lee@example.com",
            "ann@example..com",
            "ann@.example.com",
            "<ann@example.com>",
        ] {
            assert!(bad.parse::<Email>().is_err(), "{bad:?}");
        }
        assert!("ann@exa\u{0}mple.com".parse::<Email>().is_err());
        assert!(
            format!("{}@example.com", "a".repeat(65))
                .parse::<Email>()
                .is_err()
        );
    }
}
