//! XML Encryption of an `EncryptedAssertion`, decrypted with OpenSSL.
//!
//! Content: AES-128, -192 or -256 in CBC (XML Encryption 1.0) or GCM (1.1).
//! Key transport: RSA-OAEP only, as `xmlenc#rsa-oaep-mgf1p` (MGF1 with
//! SHA-1) or `xmlenc11#rsa-oaep` (any MGF1), with SHA-1 or SHA-2 digests.
//! RSA PKCS#1 v1.5 key transport is refused: it is open to Bleichenbacher's
//! padding oracle (Jager, Schinzel, Somorovsky 2012). A `CipherReference` or
//! `RetrievalMethod` is never followed: only keys and ciphertext inside the
//! element are read. Okta offers AES-256-CBC and -GCM with RSA-OAEP in its
//! application settings, Entra ID and AD FS AES-256-CBC with RSA-OAEP.

use openssl::encrypt::Decrypter;
use openssl::hash::MessageDigest;
use openssl::pkey::{PKey, Private};
use openssl::rsa::Padding;
use openssl::symm::{Cipher, Crypter, Mode, decrypt_aead};
use roxmltree::Node;

use super::dsig::{self, DSIG_NS};
use super::xml::{child, is, unqualified};

pub const XENC_NS: &str = "http://www.w3.org/2001/04/xmlenc#";
const XENC11_NS: &str = "http://www.w3.org/2009/xmlenc11#";

/// Encrypted keys we try per assertion (one per recipient, normally one).
const MAX_ENCRYPTED_KEYS: usize = 4;

/// Why an encrypted assertion could not be decrypted.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Failure {
    #[error("the encrypted assertion does not have the structure of XML Encryption")]
    Malformed,
    #[error("the encryption algorithm {0} is not accepted")]
    Unsupported(String),
    #[error("RSA PKCS#1 v1.5 key transport (xmlenc#rsa-1_5) is refused; use RSA-OAEP")]
    Rsa15,
    #[error("no encrypted key opens with our keys")]
    Key,
    #[error("the ciphertext does not decrypt with the key it carries")]
    Content,
    #[error("the decrypted assertion is not UTF-8 text")]
    NotUtf8,
}

/// An AES content algorithm: the key length in bytes and the mode.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Content {
    /// 16, 24 or 32.
    pub key_bytes: usize,
    /// GCM (XML Encryption 1.1), else CBC (1.0).
    pub gcm: bool,
}

impl Content {
    /// Every content algorithm accepted.
    const ALL: [Self; 6] = [
        Self::new(16, false),
        Self::new(24, false),
        Self::new(32, false),
        Self::new(16, true),
        Self::new(24, true),
        Self::new(32, true),
    ];

    const fn new(key_bytes: usize, gcm: bool) -> Self {
        Self { key_bytes, gcm }
    }

    fn from_uri(uri: &str) -> Result<Self, Failure> {
        Self::ALL
            .into_iter()
            .find(|content| content.uri() == uri)
            .ok_or_else(|| Failure::Unsupported(uri.to_owned()))
    }

    /// The EncryptionMethod URI.
    pub fn uri(self) -> String {
        let bits = self.key_bytes * 8;
        if self.gcm {
            format!("http://www.w3.org/2009/xmlenc11#aes{bits}-gcm")
        } else {
            format!("http://www.w3.org/2001/04/xmlenc#aes{bits}-cbc")
        }
    }

    /// The OpenSSL cipher; key lengths other than 16 and 24 mean 32.
    pub fn cipher(self) -> Cipher {
        match (self.key_bytes, self.gcm) {
            (16, false) => Cipher::aes_128_cbc(),
            (24, false) => Cipher::aes_192_cbc(),
            (_, false) => Cipher::aes_256_cbc(),
            (16, true) => Cipher::aes_128_gcm(),
            (24, true) => Cipher::aes_192_gcm(),
            (_, true) => Cipher::aes_256_gcm(),
        }
    }

    fn decrypt(self, key: &[u8], data: &[u8]) -> Result<Vec<u8>, Failure> {
        if key.len() != self.key_bytes {
            return Err(Failure::Content);
        }
        if self.gcm {
            // XML Encryption 1.1, 5.2.4: 96-bit IV, then ciphertext, then a 128-bit tag.
            if data.len() < 12 + 16 {
                return Err(Failure::Content);
            }
            let (iv, rest) = data.split_at(12);
            let (ciphertext, tag) = rest.split_at(rest.len() - 16);
            return decrypt_aead(self.cipher(), key, Some(iv), &[], ciphertext, tag)
                .map_err(|_| Failure::Content);
        }
        // XML Encryption 5.2.1: the IV comes first; the padding is not
        // PKCS#7 (only its last byte, the length, is defined).
        if data.len() < 32 || !data.len().is_multiple_of(16) {
            return Err(Failure::Content);
        }
        let (iv, ciphertext) = data.split_at(16);
        let mut crypter = Crypter::new(self.cipher(), Mode::Decrypt, key, Some(iv))
            .map_err(|_| Failure::Content)?;
        crypter.pad(false);
        let mut plaintext = vec![0; ciphertext.len() + 16];
        let mut written = crypter
            .update(ciphertext, &mut plaintext)
            .map_err(|_| Failure::Content)?;
        written += crypter
            .finalize(&mut plaintext[written..])
            .map_err(|_| Failure::Content)?;
        plaintext.truncate(written);
        let padding = usize::from(*plaintext.last().ok_or(Failure::Content)?);
        if padding == 0 || padding > 16 || padding > plaintext.len() {
            return Err(Failure::Content);
        }
        plaintext.truncate(plaintext.len() - padding);
        Ok(plaintext)
    }
}

/// RSA-OAEP parameters of an EncryptedKey.
struct Oaep {
    digest: MessageDigest,
    mgf1: MessageDigest,
    label: Option<Vec<u8>>,
}

impl Oaep {
    fn read(method: Node) -> Result<Self, Failure> {
        let algorithm = unqualified(&method, "Algorithm").ok_or(Failure::Malformed)?;
        let digest = match child(method, DSIG_NS, "DigestMethod") {
            Some(digest) => {
                digest_from(unqualified(&digest, "Algorithm").ok_or(Failure::Malformed)?)?
            }
            None => MessageDigest::sha1(),
        };
        let mgf1 = match algorithm {
            "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p" => MessageDigest::sha1(),
            "http://www.w3.org/2009/xmlenc11#rsa-oaep" => {
                match child(method, XENC11_NS, "MGF")
                    .map(|mgf| unqualified(&mgf, "Algorithm").ok_or(Failure::Malformed))
                    .transpose()?
                {
                    None | Some("http://www.w3.org/2009/xmlenc11#mgf1sha1") => {
                        MessageDigest::sha1()
                    }
                    Some("http://www.w3.org/2009/xmlenc11#mgf1sha224") => MessageDigest::sha224(),
                    Some("http://www.w3.org/2009/xmlenc11#mgf1sha256") => MessageDigest::sha256(),
                    Some("http://www.w3.org/2009/xmlenc11#mgf1sha384") => MessageDigest::sha384(),
                    Some("http://www.w3.org/2009/xmlenc11#mgf1sha512") => MessageDigest::sha512(),
                    Some(other) => return Err(Failure::Unsupported(other.to_owned())),
                }
            }
            "http://www.w3.org/2001/04/xmlenc#rsa-1_5" => return Err(Failure::Rsa15),
            other => return Err(Failure::Unsupported(other.to_owned())),
        };
        let label = child(method, XENC_NS, "OAEPparams")
            .map(|params| dsig::base64_text(params).map_err(|_| Failure::Malformed))
            .transpose()?
            .filter(|label| !label.is_empty());
        Ok(Self {
            digest,
            mgf1,
            label,
        })
    }

    fn unwrap(&self, key: &PKey<Private>, wrapped: &[u8]) -> Option<Vec<u8>> {
        let mut decrypter = Decrypter::new(key).ok()?;
        decrypter.set_rsa_padding(Padding::PKCS1_OAEP).ok()?;
        decrypter.set_rsa_oaep_md(self.digest).ok()?;
        decrypter.set_rsa_mgf1_md(self.mgf1).ok()?;
        if let Some(label) = &self.label {
            decrypter.set_rsa_oaep_label(label).ok()?;
        }
        let mut out = vec![0; decrypter.decrypt_len(wrapped).ok()?];
        let len = decrypter.decrypt(wrapped, &mut out).ok()?;
        out.truncate(len);
        Some(out)
    }
}

/// XML Encryption 1.1, 5.1: the digests for RSA-OAEP are XML Signature's,
/// and SHA-224 (RFC 6931 2.1.2).
fn digest_from(uri: &str) -> Result<MessageDigest, Failure> {
    match uri {
        "http://www.w3.org/2001/04/xmldsig-more#sha224" => Ok(MessageDigest::sha224()),
        uri => dsig::Digest::from_uri(uri)
            .map(dsig::Digest::message_digest)
            .ok_or_else(|| Failure::Unsupported(uri.to_owned())),
    }
}

/// Decrypts a `saml:EncryptedAssertion` with the first of `keys` that opens
/// one of its encrypted keys. The plaintext is as hostile as any posted
/// document: the caller screens it the same way.
pub fn decrypt<'k>(
    encrypted_assertion: Node,
    keys: impl IntoIterator<Item = &'k PKey<Private>>,
) -> Result<String, Failure> {
    let data = child(encrypted_assertion, XENC_NS, "EncryptedData").ok_or(Failure::Malformed)?;
    let content = Content::from_uri(
        child(data, XENC_NS, "EncryptionMethod")
            .and_then(|m| unqualified(&m, "Algorithm"))
            .ok_or(Failure::Malformed)?,
    )?;
    let ciphertext = cipher_value(data)?;

    // In the EncryptedData's KeyInfo (Shibboleth, Okta) or beside it, pointed
    // at by a RetrievalMethod we do not follow (AD FS, Entra ID).
    let encrypted_keys: Vec<Node> = encrypted_assertion
        .descendants()
        .filter(|n| is(n, XENC_NS, "EncryptedKey"))
        .take(MAX_ENCRYPTED_KEYS + 1)
        .collect();
    if encrypted_keys.is_empty() || encrypted_keys.len() > MAX_ENCRYPTED_KEYS {
        return Err(Failure::Malformed);
    }
    let mut transports = Vec::with_capacity(encrypted_keys.len());
    for encrypted_key in encrypted_keys {
        let method = child(encrypted_key, XENC_NS, "EncryptionMethod").ok_or(Failure::Malformed)?;
        transports.push((Oaep::read(method)?, cipher_value(encrypted_key)?));
    }
    let keys: Vec<&PKey<Private>> = keys.into_iter().collect();
    let content_key = transports
        .iter()
        .find_map(|(oaep, wrapped)| keys.iter().find_map(|key| oaep.unwrap(key, wrapped)))
        .ok_or(Failure::Key)?;
    let plaintext = content.decrypt(&content_key, &ciphertext)?;
    String::from_utf8(plaintext).map_err(|_| Failure::NotUtf8)
}

/// The `CipherData/CipherValue` of an EncryptedData or EncryptedKey; a
/// `CipherReference` (a URI to fetch) is malformed here.
fn cipher_value(node: Node) -> Result<Vec<u8>, Failure> {
    let cipher_data = child(node, XENC_NS, "CipherData").ok_or(Failure::Malformed)?;
    let value = child(cipher_data, XENC_NS, "CipherValue").ok_or(Failure::Malformed)?;
    dsig::base64_text(value).map_err(|_| Failure::Malformed)
}
