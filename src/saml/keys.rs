//! Key pairs with self-signed certificates: the service provider's own (for
//! signing AuthnRequests and decrypting assertions) and the demo IdP's.
//!
//! Files live in `certs_dir` as PEM; private keys are written with mode 0600.

use std::fs;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, TimeDelta, Utc};
use openssl::asn1::Asn1Time;
use openssl::bn::{BigNum, MsbOption};
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::x509::{X509, X509NameBuilder};

/// How long a generated certificate is valid.
const CERT_DAYS: u32 = 3 * 365;

#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path} is not a usable PEM key or certificate: {reason}")]
    Unreadable { path: PathBuf, reason: String },
    #[error("cannot generate a key pair: {0}")]
    Generate(#[from] openssl::error::ErrorStack),
    #[error(
        "a new SP certificate is already announced and signs from {0}: rotate again after that"
    )]
    RotationPending(DateTime<Utc>),
}

/// A private key and its self-signed certificate.
#[derive(Clone)]
pub struct KeyPair {
    pub key: PKey<Private>,
    pub cert: X509,
}

impl std::fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("KeyPair([redacted key], certificate)")
    }
}

impl KeyPair {
    /// A new RSA-2048 key with a certificate for `common_name`.
    pub fn generate(common_name: &str) -> Result<Self, KeyError> {
        let key = PKey::from_rsa(Rsa::generate(2048)?)?;
        let mut name = X509NameBuilder::new()?;
        name.append_entry_by_text("CN", common_name)?;
        let name = name.build();
        let mut builder = X509::builder()?;
        let mut serial = BigNum::new()?;
        serial.rand(127, MsbOption::MAYBE_ZERO, false)?;
        let serial = serial.to_asn1_integer()?;
        builder.set_serial_number(&serial)?;
        builder.set_version(2)?;
        builder.set_subject_name(&name)?;
        builder.set_issuer_name(&name)?;
        builder.set_pubkey(&key)?;
        let (not_before, not_after) = (
            Asn1Time::days_from_now(0)?,
            Asn1Time::days_from_now(CERT_DAYS)?,
        );
        builder.set_not_before(&not_before)?;
        builder.set_not_after(&not_after)?;
        builder.sign(&key, MessageDigest::sha256())?;
        Ok(Self {
            key,
            cert: builder.build(),
        })
    }

    /// Loads `{stem}-key.pem` and `{stem}-cert.pem` from `dir`, generating and
    /// saving them first when they do not exist.
    pub fn load_or_generate(dir: &Path, stem: &str, common_name: &str) -> Result<Self, KeyError> {
        match Self::load(dir, stem)? {
            Some(pair) => Ok(pair),
            None => {
                let pair = Self::generate(common_name)?;
                pair.save(dir, stem)?;
                Ok(pair)
            }
        }
    }

    /// The pair saved under `stem`, if both files exist.
    pub fn load(dir: &Path, stem: &str) -> Result<Option<Self>, KeyError> {
        let (key_path, cert_path) = paths(dir, stem);
        if !key_path.exists() || !cert_path.exists() {
            return Ok(None);
        }
        let read = |path: &PathBuf| {
            fs::read(path).map_err(|source| KeyError::Io {
                path: path.clone(),
                source,
            })
        };
        let unreadable = |path: &PathBuf, e: openssl::error::ErrorStack| KeyError::Unreadable {
            path: path.clone(),
            reason: e.to_string(),
        };
        let key =
            PKey::private_key_from_pem(&read(&key_path)?).map_err(|e| unreadable(&key_path, e))?;
        let cert = X509::from_pem(&read(&cert_path)?).map_err(|e| unreadable(&cert_path, e))?;
        Ok(Some(Self { key, cert }))
    }

    fn save(&self, dir: &Path, stem: &str) -> Result<(), KeyError> {
        let (key_path, cert_path) = paths(dir, stem);
        let io = |path: &PathBuf| {
            let path = path.clone();
            move |source| KeyError::Io { path, source }
        };
        write_private_key(&key_path, &self.key)?;
        fs::write(&cert_path, self.cert.to_pem()?).map_err(io(&cert_path))?;
        Ok(())
    }

    fn remove(dir: &Path, stem: &str) -> Result<(), KeyError> {
        let (key_path, cert_path) = paths(dir, stem);
        for path in [key_path, cert_path] {
            if path.exists() {
                fs::remove_file(&path).map_err(|source| KeyError::Io { path, source })?;
            }
        }
        Ok(())
    }

    /// The certificate as base64 DER, as it appears in metadata `X509Certificate` elements.
    pub fn cert_base64(&self) -> String {
        STANDARD.encode(
            self.cert
                .to_der()
                .expect("a certificate we hold encodes to DER"),
        )
    }

    /// The certificate as a PEM file, for IdPs configured by hand.
    pub fn cert_pem(&self) -> String {
        String::from_utf8(
            self.cert
                .to_pem()
                .expect("a certificate we hold encodes to PEM"),
        )
        .expect("PEM is ASCII")
    }

    pub fn cert_der(&self) -> Vec<u8> {
        self.cert
            .to_der()
            .expect("a certificate we hold encodes to DER")
    }

    pub fn key_der(&self) -> Vec<u8> {
        self.key
            .rsa()
            .and_then(|rsa| rsa.private_key_to_der())
            .expect("our keys are RSA keys")
    }

    fn expired_at(&self, now: DateTime<Utc>) -> bool {
        Asn1Time::from_unix(now.timestamp())
            .map(|now| self.cert.not_after() < now)
            .unwrap_or(false)
    }
}

/// Writes `key` as PKCS#8 PEM to `path` with mode 0600, creating its folder.
pub(crate) fn write_private_key(path: &Path, key: &PKey<Private>) -> Result<(), KeyError> {
    let io = |source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    };
    if let Some(dir) = path.parent() {
        fs::create_dir_all(dir).map_err(io)?;
    }
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(path)
        .map_err(io)?;
    file.write_all(&key.private_key_to_pem_pkcs8()?).map_err(io)
}

/// Reads a PEM private key from `path`, if the file exists.
pub(crate) fn read_private_key(path: &Path) -> Result<Option<PKey<Private>>, KeyError> {
    if !path.exists() {
        return Ok(None);
    }
    let pem = fs::read(path).map_err(|source| KeyError::Io {
        path: path.to_path_buf(),
        source,
    })?;
    PKey::private_key_from_pem(&pem)
        .map(Some)
        .map_err(|e| KeyError::Unreadable {
            path: path.to_path_buf(),
            reason: e.to_string(),
        })
}

fn paths(dir: &Path, stem: &str) -> (PathBuf, PathBuf) {
    (
        dir.join(format!("{stem}-key.pem")),
        dir.join(format!("{stem}-cert.pem")),
    )
}

const CURRENT: &str = "sp";
const PREVIOUS: &str = "sp-previous";
const NEXT: &str = "sp-next";
/// When the announced pair starts signing: RFC 3339 text.
const NEXT_ACTIVATES: &str = "sp-next-activates-at";

/// The service provider's keys at one moment: the pair that signs, the pair
/// announced to sign next (published in the metadata from the rotation on,
/// so IdPs that fetch metadata learn it before it is used), and the previous
/// pair (still published and used for decryption until it expires).
#[derive(Clone, Debug)]
pub struct SpKeys {
    pub current: KeyPair,
    pub previous: Option<KeyPair>,
    /// The announced pair, and when it takes over.
    pub next: Option<(KeyPair, DateTime<Utc>)>,
}

impl SpKeys {
    /// The keys in `dir` as they stand at `now`, generating the current pair
    /// on first start. An announced pair whose time has come signs; the pair
    /// it replaces becomes the previous one.
    pub fn load_or_generate(dir: &Path, now: DateTime<Utc>) -> Result<Self, KeyError> {
        let current = KeyPair::load_or_generate(dir, CURRENT, "Seatgate service provider")?;
        let previous = KeyPair::load(dir, PREVIOUS)?.filter(|pair| !pair.expired_at(now));
        let keys = match (KeyPair::load(dir, NEXT)?, activation(dir)?) {
            (Some(next), Some(at)) if at <= now => Self {
                current: next,
                previous: Some(current),
                next: None,
            },
            (Some(next), Some(at)) => Self {
                current,
                previous,
                next: Some((next, at)),
            },
            _ => Self {
                current,
                previous,
                next: None,
            },
        };
        Ok(keys)
    }

    /// Makes a new pair that signs from `now + overlap`, published at once.
    /// A pair announced earlier whose time has come is first made current on
    /// disk; one still waiting is an error (IdPs may have fetched it).
    /// With no overlap the new pair signs at once.
    pub fn rotate(dir: &Path, now: DateTime<Utc>, overlap: TimeDelta) -> Result<Self, KeyError> {
        let keys = Self::load_or_generate(dir, now)?;
        if let Some((_, at)) = keys.next {
            return Err(KeyError::RotationPending(at));
        }
        if keys.previous.is_some() || KeyPair::load(dir, NEXT)?.is_some() {
            // Settle an activated announcement on disk: previous, current.
            KeyPair::remove(dir, PREVIOUS)?;
            if let Some(previous) = &keys.previous {
                previous.save(dir, PREVIOUS)?;
            }
            keys.current.save(dir, CURRENT)?;
            KeyPair::remove(dir, NEXT)?;
            remove_file(&dir.join(NEXT_ACTIVATES))?;
        }
        let new = KeyPair::generate("Seatgate service provider")?;
        if overlap <= TimeDelta::zero() {
            KeyPair::remove(dir, PREVIOUS)?;
            keys.current.save(dir, PREVIOUS)?;
            new.save(dir, CURRENT)?;
        } else {
            new.save(dir, NEXT)?;
            let at = now + overlap;
            fs::write(dir.join(NEXT_ACTIVATES), at.to_rfc3339()).map_err(|source| {
                KeyError::Io {
                    path: dir.join(NEXT_ACTIVATES),
                    source,
                }
            })?;
        }
        Self::load_or_generate(dir, now)
    }

    /// Every published pair, the signing one first.
    pub fn published(&self) -> impl Iterator<Item = &KeyPair> {
        std::iter::once(&self.current)
            .chain(self.next.as_ref().map(|(pair, _)| pair))
            .chain(self.previous.as_ref())
    }
}

/// When the announced pair takes over, if one is announced.
fn activation(dir: &Path) -> Result<Option<DateTime<Utc>>, KeyError> {
    let path = dir.join(NEXT_ACTIVATES);
    if !path.exists() {
        return Ok(None);
    }
    let text = fs::read_to_string(&path).map_err(|source| KeyError::Io {
        path: path.clone(),
        source,
    })?;
    DateTime::parse_from_rfc3339(text.trim())
        .map(|at| Some(at.with_timezone(&Utc)))
        .map_err(|e| KeyError::Unreadable {
            path,
            reason: e.to_string(),
        })
}

fn remove_file(path: &Path) -> Result<(), KeyError> {
    match fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(KeyError::Io {
            path: path.to_path_buf(),
            source: e,
        }),
        _ => Ok(()),
    }
}

/// The keys every request sees, read again from `certs_dir` every minute,
/// so a rotation made by `seatgate certs rotate` (another process) is
/// published, and later signs, without a restart.
#[derive(Debug)]
pub struct SpKeyRing {
    dir: PathBuf,
    keys: std::sync::RwLock<std::sync::Arc<SpKeys>>,
}

impl SpKeyRing {
    pub fn load(dir: &Path, now: DateTime<Utc>) -> Result<Self, KeyError> {
        Ok(Self {
            dir: dir.to_path_buf(),
            keys: std::sync::RwLock::new(std::sync::Arc::new(SpKeys::load_or_generate(dir, now)?)),
        })
    }

    /// The keys as last read.
    pub fn get(&self) -> std::sync::Arc<SpKeys> {
        self.keys
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }

    /// Reads the folder again as it stands at `now`; on failure the keys
    /// in use stay.
    pub fn reload(&self, now: DateTime<Utc>) -> Result<(), KeyError> {
        let keys = SpKeys::load_or_generate(&self.dir, now)?;
        *self
            .keys
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = std::sync::Arc::new(keys);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::PermissionsExt;

    use super::*;

    fn now() -> DateTime<Utc> {
        crate::clock::Clock::system().now()
    }

    #[test]
    fn keys_are_generated_once_with_a_private_key_file_mode() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = SpKeys::load_or_generate(dir.path(), now()).expect("generate");
        let mode = fs::metadata(dir.path().join("sp-key.pem"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
        let again = SpKeys::load_or_generate(dir.path(), now()).expect("load");
        assert_eq!(
            first.current.cert_der(),
            again.current.cert_der(),
            "reused, not regenerated"
        );
        assert!(again.previous.is_none());
    }

    #[test]
    fn a_rotation_is_announced_before_the_new_pair_signs() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = SpKeys::load_or_generate(dir.path(), now()).expect("generate");
        let week = TimeDelta::days(7);
        let announced = SpKeys::rotate(dir.path(), now(), week).expect("rotate");
        assert_eq!(
            announced.current.cert_der(),
            first.current.cert_der(),
            "the old pair still signs"
        );
        let (next, at) = announced.next.clone().expect("announced");
        assert_eq!(announced.published().count(), 2, "both published");
        assert!(matches!(
            SpKeys::rotate(dir.path(), now(), week),
            Err(KeyError::RotationPending(_))
        ));
        let later = SpKeys::load_or_generate(dir.path(), at).expect("load");
        assert_eq!(
            later.current.cert_der(),
            next.cert_der(),
            "the new pair signs from its time"
        );
        assert_eq!(
            later.previous.as_ref().unwrap().cert_der(),
            first.current.cert_der()
        );
        assert!(later.next.is_none());
        // The next rotation settles the files, then announces again.
        let again = SpKeys::rotate(dir.path(), at, week).expect("rotate again");
        assert_eq!(again.current.cert_der(), next.cert_der());
        assert_eq!(
            again.previous.as_ref().unwrap().cert_der(),
            first.current.cert_der()
        );
        assert_eq!(again.published().count(), 3);
    }

    #[test]
    fn rotation_keeps_the_old_pair_published() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = SpKeys::load_or_generate(dir.path(), now()).expect("generate");
        let rotated = SpKeys::rotate(dir.path(), now(), TimeDelta::zero()).expect("rotate");
        assert_ne!(rotated.current.cert_der(), first.current.cert_der());
        assert_eq!(
            rotated.previous.as_ref().unwrap().cert_der(),
            first.current.cert_der()
        );
        assert_eq!(rotated.published().count(), 2);
        let reloaded = SpKeys::load_or_generate(dir.path(), now()).expect("load");
        assert_eq!(reloaded.published().count(), 2);
        let later = now() + chrono::TimeDelta::days(4 * 365);
        assert!(
            SpKeys::load_or_generate(dir.path(), later)
                .unwrap()
                .previous
                .is_none(),
            "an expired old pair is dropped"
        );
    }
}
