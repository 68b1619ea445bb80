//! The keys ID tokens are signed with: an RSA key (RS256) and a P-256 key
//! (ES256), published at `/oauth/jwks` by key id. After `seatgate certs
//! rotate-oidc` the new pair signs and the previous pair stays published, so
//! applications that cached the old key set still verify tokens issued before
//! the rotation and fetch the set again when they meet the new key id.
//!
//! openidconnect builds and encodes the tokens; this module only signs bytes
//! with OpenSSL, through the crate's [`PrivateSigningKey`] trait.

use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use openidconnect::core::{
    CoreJsonCurveType, CoreJsonWebKey, CoreJsonWebKeySet, CoreJwsSigningAlgorithm,
};
use openidconnect::{JsonWebKeyId, PrivateSigningKey, SigningError};
use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey};
use openssl::ecdsa::EcdsaSig;
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Rsa;
use openssl::sign::Signer;
use sha2::{Digest, Sha256};

use crate::applications::IdTokenAlg;
use crate::saml::keys::{KeyError, read_private_key, write_private_key};

/// One signing key and the id it is published under.
#[derive(Clone)]
pub struct SigningKey {
    alg: IdTokenAlg,
    kid: JsonWebKeyId,
    key: PKey<Private>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "SigningKey({}, {}, [redacted])",
            self.alg.as_str(),
            self.kid.as_str()
        )
    }
}

impl SigningKey {
    fn generate(alg: IdTokenAlg) -> Result<Self, KeyError> {
        let key = match alg {
            IdTokenAlg::Rs256 => PKey::from_rsa(Rsa::generate(2048)?)?,
            IdTokenAlg::Es256 => PKey::from_ec_key(EcKey::generate(p256()?.as_ref())?)?,
        };
        Self::new(alg, key)
    }

    /// The key id is derived from the public key, so every process that
    /// loads the same file publishes the same id.
    fn new(alg: IdTokenAlg, key: PKey<Private>) -> Result<Self, KeyError> {
        let digest = Sha256::digest(key.public_key_to_der()?);
        let kid = JsonWebKeyId::new(format!(
            "{}-{}",
            alg.as_str().to_ascii_lowercase(),
            URL_SAFE_NO_PAD.encode(&digest[..12])
        ));
        Ok(Self { alg, kid, key })
    }

    pub fn alg(&self) -> CoreJwsSigningAlgorithm {
        match self.alg {
            IdTokenAlg::Rs256 => CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256,
            IdTokenAlg::Es256 => CoreJwsSigningAlgorithm::EcdsaP256Sha256,
        }
    }

    pub fn kid(&self) -> &str {
        &self.kid
    }

    fn openssl_sign(&self, message: &[u8]) -> Result<Vec<u8>, openssl::error::ErrorStack> {
        let mut signer = Signer::new(MessageDigest::sha256(), &self.key)?;
        signer.update(message)?;
        let signature = signer.sign_to_vec()?;
        match self.alg {
            IdTokenAlg::Rs256 => Ok(signature),
            // OpenSSL writes ECDSA signatures as DER; JWS wants R || S, each
            // 32 bytes for P-256 (RFC 7518, 3.4).
            IdTokenAlg::Es256 => {
                let signature = EcdsaSig::from_der(&signature)?;
                let mut raw = signature.r().to_vec_padded(32)?;
                raw.extend(signature.s().to_vec_padded(32)?);
                Ok(raw)
            }
        }
    }
}

fn p256() -> Result<EcGroup, openssl::error::ErrorStack> {
    EcGroup::from_curve_name(Nid::X9_62_PRIME256V1)
}

impl PrivateSigningKey for SigningKey {
    type VerificationKey = CoreJsonWebKey;

    fn sign(
        &self,
        signature_alg: &CoreJwsSigningAlgorithm,
        message: &[u8],
    ) -> Result<Vec<u8>, SigningError> {
        if *signature_alg != self.alg() {
            return Err(SigningError::UnsupportedAlg(format!("{signature_alg:?}")));
        }
        self.openssl_sign(message)
            .map_err(|_| SigningError::CryptoError)
    }

    fn as_verification_key(&self) -> CoreJsonWebKey {
        let kid = Some(self.kid.clone());
        let public = || -> Result<CoreJsonWebKey, openssl::error::ErrorStack> {
            Ok(match self.alg {
                IdTokenAlg::Rs256 => {
                    let rsa = self.key.rsa()?;
                    CoreJsonWebKey::new_rsa(rsa.n().to_vec(), rsa.e().to_vec(), kid)
                }
                IdTokenAlg::Es256 => {
                    let ec = self.key.ec_key()?;
                    let (mut x, mut y) = (BigNum::new()?, BigNum::new()?);
                    let (group, mut context) = (p256()?, BigNumContext::new()?);
                    ec.public_key()
                        .affine_coordinates(&group, &mut x, &mut y, &mut context)?;
                    CoreJsonWebKey::new_ec(
                        x.to_vec_padded(32)?,
                        y.to_vec_padded(32)?,
                        CoreJsonCurveType::P256,
                        kid,
                    )
                }
            })
        };
        public().expect("a key we generated or loaded as this algorithm has its public parts")
    }
}

/// One RS256 and one ES256 key.
#[derive(Clone, Debug)]
pub struct KeyPairs {
    pub rs256: SigningKey,
    pub es256: SigningKey,
}

impl KeyPairs {
    fn load(dir: &Path, generation: &str) -> Result<Option<Self>, KeyError> {
        let load = |alg: IdTokenAlg| -> Result<Option<SigningKey>, KeyError> {
            let path = key_path(dir, generation, alg);
            match read_private_key(&path)? {
                Some(key) => {
                    let expected = match alg {
                        IdTokenAlg::Rs256 => openssl::pkey::Id::RSA,
                        IdTokenAlg::Es256 => openssl::pkey::Id::EC,
                    };
                    if key.id() != expected {
                        return Err(KeyError::Unreadable {
                            path,
                            reason: format!("not a key for {}", alg.as_str()),
                        });
                    }
                    SigningKey::new(alg, key).map(Some)
                }
                None => Ok(None),
            }
        };
        match (load(IdTokenAlg::Rs256)?, load(IdTokenAlg::Es256)?) {
            (Some(rs256), Some(es256)) => Ok(Some(Self { rs256, es256 })),
            _ => Ok(None),
        }
    }

    fn generate() -> Result<Self, KeyError> {
        Ok(Self {
            rs256: SigningKey::generate(IdTokenAlg::Rs256)?,
            es256: SigningKey::generate(IdTokenAlg::Es256)?,
        })
    }

    fn save(&self, dir: &Path, generation: &str) -> Result<(), KeyError> {
        write_private_key(
            &key_path(dir, generation, IdTokenAlg::Rs256),
            &self.rs256.key,
        )?;
        write_private_key(
            &key_path(dir, generation, IdTokenAlg::Es256),
            &self.es256.key,
        )
    }

    pub fn for_alg(&self, alg: IdTokenAlg) -> &SigningKey {
        match alg {
            IdTokenAlg::Rs256 => &self.rs256,
            IdTokenAlg::Es256 => &self.es256,
        }
    }
}

fn key_path(dir: &Path, generation: &str, alg: IdTokenAlg) -> PathBuf {
    dir.join(format!(
        "{generation}-{}-key.pem",
        alg.as_str().to_ascii_lowercase()
    ))
}

const CURRENT: &str = "oidc";
const PREVIOUS: &str = "oidc-previous";

/// The provider's signing keys: the current pair signs, the previous pair
/// (after a rotation) is still published.
#[derive(Clone, Debug)]
pub struct OidcKeys {
    pub current: KeyPairs,
    pub previous: Option<KeyPairs>,
}

impl OidcKeys {
    /// Loads the keys from `dir`, generating the current pair on first start.
    pub fn load_or_generate(dir: &Path) -> Result<Self, KeyError> {
        let current = match KeyPairs::load(dir, CURRENT)? {
            Some(current) => current,
            None => {
                let current = KeyPairs::generate()?;
                current.save(dir, CURRENT)?;
                current
            }
        };
        Ok(Self {
            current,
            previous: KeyPairs::load(dir, PREVIOUS)?,
        })
    }

    /// A new current pair; the old current pair becomes the previous one
    /// (replacing an older previous pair, whose tokens have long expired).
    pub fn rotate(dir: &Path) -> Result<Self, KeyError> {
        let old = Self::load_or_generate(dir)?.current;
        old.save(dir, PREVIOUS)?;
        let current = KeyPairs::generate()?;
        current.save(dir, CURRENT)?;
        Ok(Self {
            current,
            previous: Some(old),
        })
    }

    /// Every published key, current first: the JSON Web Key Set.
    pub fn jwks(&self) -> CoreJsonWebKeySet {
        CoreJsonWebKeySet::new(
            std::iter::once(&self.current)
                .chain(self.previous.as_ref())
                .flat_map(|pair| [&pair.rs256, &pair.es256])
                .map(SigningKey::as_verification_key)
                .collect(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_generated_once_and_rotation_keeps_the_old_ones_published() {
        let dir = tempfile::tempdir().expect("temp dir");
        let first = OidcKeys::load_or_generate(dir.path()).expect("generate");
        let again = OidcKeys::load_or_generate(dir.path()).expect("load");
        assert_eq!(first.current.rs256.kid(), again.current.rs256.kid());
        assert_eq!(first.jwks().keys().len(), 2);
        let rotated = OidcKeys::rotate(dir.path()).expect("rotate");
        assert_ne!(rotated.current.es256.kid(), first.current.es256.kid());
        let kids: Vec<String> = OidcKeys::load_or_generate(dir.path())
            .unwrap()
            .jwks()
            .keys()
            .iter()
            .filter_map(|k| openidconnect::JsonWebKey::key_id(k).map(|id| id.to_string()))
            .collect();
        assert_eq!(kids.len(), 4);
        assert!(kids.contains(&first.current.rs256.kid().to_owned()));
        assert!(kids.contains(&rotated.current.rs256.kid().to_owned()));
    }

    #[test]
    fn both_algorithms_sign_what_their_published_key_verifies() {
        let dir = tempfile::tempdir().expect("temp dir");
        let keys = OidcKeys::load_or_generate(dir.path()).expect("generate");
        for key in [&keys.current.rs256, &keys.current.es256] {
            let signature = key.sign(&key.alg(), b"header.payload").expect("sign");
            openidconnect::JsonWebKey::verify_signature(
                &key.as_verification_key(),
                &key.alg(),
                b"header.payload",
                &signature,
            )
            .expect("verifies with the published key");
            assert!(
                openidconnect::JsonWebKey::verify_signature(
                    &key.as_verification_key(),
                    &key.alg(),
                    b"header.payload!",
                    &signature,
                )
                .is_err()
            );
        }
    }
}
