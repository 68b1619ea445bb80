//! Secrets: random bearer tokens, their stored hashes, passwords.
//!
//! Every type here prints `[redacted]` for `Debug`, so a secret cannot reach a
//! log line through `?value` by accident.

use std::fmt;

use argon2::Argon2;
use argon2::password_hash::{PasswordHasher, PasswordVerifier, phc::PasswordHash};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// 32 random bytes: far beyond guessing, and short enough for a URL.
const TOKEN_BYTES: usize = 32;

/// A random bearer token (session cookie, one-time link, CSRF token), base64url encoded.
#[derive(Clone, PartialEq, Eq)]
pub struct SecretToken(String);

impl SecretToken {
    pub fn generate() -> Self {
        let mut bytes = [0u8; TOKEN_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        Self(URL_SAFE_NO_PAD.encode(bytes))
    }

    /// Accepts a token presented by a client, refusing anything that cannot be one of ours
    /// before it reaches a hash or a query.
    pub fn from_presented(text: &str) -> Option<Self> {
        let decoded = URL_SAFE_NO_PAD.decode(text).ok()?;
        (decoded.len() == TOKEN_BYTES).then(|| Self(text.to_owned()))
    }

    /// A secret kept in clear because it must be used, not only compared
    /// (a webhook's HMAC key).
    pub fn from_stored(text: String) -> Self {
        Self(text)
    }

    /// The token text, for a cookie, a link or a form field: never for a log.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// What the database keeps instead of the token.
    pub fn hash(&self) -> TokenHash {
        TokenHash(hex::encode(Sha256::digest(self.0.as_bytes())))
    }

    /// Constant-time comparison with another presented value.
    pub fn matches(&self, presented: &str) -> bool {
        self.0.as_bytes().ct_eq(presented.as_bytes()).into()
    }
}

impl fmt::Debug for SecretToken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretToken([redacted])")
    }
}

/// The SHA-256 of a [`SecretToken`], hex encoded: safe to store and to look up by.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenHash(String);

impl TokenHash {
    pub fn from_stored(text: String) -> Self {
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A password typed by a person.
#[derive(Clone)]
pub struct Password(String);

/// Why a new password is refused.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum WeakPassword {
    #[error("the password must have at least {MIN_PASSWORD_CHARS} characters")]
    TooShort,
    #[error("the password must have at most {MAX_PASSWORD_CHARS} characters")]
    TooLong,
}

/// NIST SP 800-63B: at least 8; we ask 12 of administrators.
pub const MIN_PASSWORD_CHARS: usize = 12;
/// Bounds the hashing work one request can cause.
pub const MAX_PASSWORD_CHARS: usize = 256;

impl Password {
    pub fn new(text: String) -> Self {
        Self(text)
    }

    /// Checks the rules for a password being set (not for one being tried).
    pub fn check_strength(&self) -> Result<(), WeakPassword> {
        match self.0.chars().count() {
            n if n < MIN_PASSWORD_CHARS => Err(WeakPassword::TooShort),
            n if n > MAX_PASSWORD_CHARS => Err(WeakPassword::TooLong),
            _ => Ok(()),
        }
    }

    /// Constant-time equality, for a password and its confirmation.
    pub fn matches(&self, other: &Password) -> bool {
        self.0.as_bytes().ct_eq(other.0.as_bytes()).into()
    }

    /// An argon2id PHC string with a fresh salt.
    pub fn hash(&self) -> PasswordDigest {
        let digest = Argon2::default()
            .hash_password(self.0.as_bytes())
            .expect("argon2 with default parameters and a generated salt cannot fail");
        PasswordDigest(digest.to_string())
    }

    /// Verifies against a stored digest; a malformed digest never matches.
    pub fn verify(&self, digest: &PasswordDigest) -> bool {
        if self.0.chars().count() > MAX_PASSWORD_CHARS {
            return false;
        }
        PasswordHash::new(&digest.0)
            .map(|parsed| {
                Argon2::default()
                    .verify_password(self.0.as_bytes(), &parsed)
                    .is_ok()
            })
            .unwrap_or(false)
    }

    /// Burns the time of one verification, so a sign-in for an unknown email
    /// takes as long as one for a known email with a wrong password.
    pub fn verify_against_nothing(&self) {
        static DUMMY: std::sync::OnceLock<PasswordDigest> = std::sync::OnceLock::new();
        let dummy = DUMMY.get_or_init(|| Password::new("seatgate-timing-equaliser".into()).hash());
        let _ = self.verify(dummy);
    }
}

impl fmt::Debug for Password {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Password([redacted])")
    }
}

/// A stored argon2id password hash (PHC string format).
#[derive(Clone, PartialEq, Eq)]
pub struct PasswordDigest(String);

impl PasswordDigest {
    pub fn from_stored(text: String) -> Self {
        Self(text)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for PasswordDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("PasswordDigest([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_tokens_are_distinct_and_accepted_back() {
        let a = SecretToken::generate();
        let b = SecretToken::generate();
        assert_ne!(a, b);
        assert_eq!(SecretToken::from_presented(a.expose()), Some(a));
    }

    #[test]
    fn presented_tokens_of_the_wrong_shape_are_refused() {
        assert_eq!(SecretToken::from_presented(""), None);
        assert_eq!(SecretToken::from_presented("short"), None);
        assert_eq!(SecretToken::from_presented(&"A".repeat(400)), None);
        assert_eq!(SecretToken::from_presented("not base64 at all!"), None);
    }

    #[test]
    fn debug_output_never_shows_a_secret() {
        let token = SecretToken::generate();
        let password = Password::new("correct horse battery staple".into());
        let rendered = format!("{token:?} {password:?} {:?}", password.hash());
        assert!(!rendered.contains(token.expose()));
        assert!(!rendered.contains("horse"));
        assert!(!rendered.contains("argon2"));
    }

    #[test]
    fn password_verifies_only_itself() {
        let digest = Password::new("correct horse battery staple".into()).hash();
        assert!(digest.as_str().starts_with("$argon2id$"));
        assert!(Password::new("correct horse battery staple".into()).verify(&digest));
        assert!(!Password::new("correct horse battery stapler".into()).verify(&digest));
        assert!(!Password::new("x".into()).verify(&PasswordDigest::from_stored("garbage".into())));
    }

    #[test]
    fn short_and_overlong_passwords_are_refused_when_set() {
        assert_eq!(
            Password::new("a".repeat(11)).check_strength(),
            Err(WeakPassword::TooShort)
        );
        assert_eq!(Password::new("a".repeat(12)).check_strength(), Ok(()));
        assert_eq!(
            Password::new("a".repeat(257)).check_strength(),
            Err(WeakPassword::TooLong)
        );
    }
}
