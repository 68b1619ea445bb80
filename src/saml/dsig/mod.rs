//! XML Signature verification (and, for the IdPs we mint as, signing) of
//! SAML messages, in Rust, for one strict profile and nothing else.
//!
//! The profile, which every mainstream IdP signs with (Entra ID, Okta,
//! OneLogin, AD FS, Google Workspace, Shibboleth, SimpleSAMLphp): an
//! enveloped signature as a child of the element it signs, on the root
//! element or on an `Assertion` child of the root; exactly one Reference,
//! `#ID` of that parent, whose unqualified `ID` occurs once in the document;
//! the transforms enveloped-signature then one canonicalization, or
//! enveloped-signature alone (meaning inclusive C14N 1.0); canonicalization
//! by inclusive or exclusive C14N 1.0, with or without comments; RSA PKCS#1
//! v1.5 or ECDSA with SHA-1 (only where allowed), SHA-256, -384 or -512.
//!
//! Everything else is refused, finally: other transforms (XPath, XSLT,
//! Base64), `ds:Object` and `ds:Manifest`, external or empty URIs, a second
//! Reference. So no signature can make us fetch, open or compute anything
//! beyond the bounded canonicalization of the document we were given. Key
//! material in the message (KeyInfo) is never read: only the keys passed in,
//! from the connection's configured certificates.
//!
//! Order of work, cheapest and most selective first: placement and structure,
//! then the SignatureValue over the (small) SignedInfo, and only for a
//! SignedInfo the IdP really signed, the canonicalization and digest of the
//! referenced element. Differential tests below check the canonical octets
//! against xmlsec's, byte for byte.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use openssl::bn::BigNum;
use openssl::ecdsa::EcdsaSig;
use openssl::hash::{MessageDigest, hash};
use openssl::pkey::{Id, PKey, Public};
use openssl::sign::Verifier;
use openssl::x509::X509;
use roxmltree::{Document, Node};
use subtle::ConstantTimeEq;

use super::ASSERTION_NS;
use super::c14n::{Form, canonicalize};
use super::xml::{is, unqualified};

mod sign;
pub use sign::{SignError, sign};

pub const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
const INCLUSIVE_C14N: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
const INCLUSIVE_C14N_WITH_COMMENTS: &str =
    "http://www.w3.org/TR/2001/REC-xml-c14n-20010315#WithComments";
const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const EXC_C14N_WITH_COMMENTS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments";
const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";

/// Prefixes an InclusiveNamespaces list may name; real IdPs name a handful.
const MAX_INCLUSIVE_PREFIXES: usize = 64;

/// Why a message's signatures were not accepted. Only for logs and tests:
/// every variant means "not signed by this IdP".
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Failure {
    #[error("no signature on the root element or its assertion")]
    Unsigned,
    #[error("a signature sits where no SAML signature belongs")]
    Misplaced,
    #[error("a signature does not have the structure of an XML signature")]
    Malformed,
    #[error("a signature uses {0}, which is not accepted")]
    Unsupported(String),
    #[error("a signature does not reference exactly the element it is in")]
    Reference,
    #[error("the signed element's ID is empty or occurs more than once")]
    AmbiguousId,
    #[error("SHA-1 is not accepted")]
    Sha1,
    #[error("the digest does not match the signed element")]
    Digest,
    #[error("the signature value does not verify with any configured certificate")]
    SignatureValue,
    #[error("no usable certificate is configured")]
    NoKeys,
}

/// What the signatures of a message cover.
#[derive(Debug, PartialEq, Eq)]
pub struct Signed {
    /// The outermost signed element exactly as its digest was computed
    /// (canonical, its own signature removed). Nothing else of the message
    /// is trustworthy.
    pub canonical: String,
    /// Whether that element is the document's root (else its assertion).
    pub covers_root: bool,
    /// Whether the `Assertion` carries a verified signature of its own.
    pub assertion_signed: bool,
}

/// Verifies every signature in the document against `keys`; all must hold.
pub fn verify(doc: &Document, keys: &[PKey<Public>], allow_sha1: bool) -> Result<Signed, Failure> {
    if keys.is_empty() {
        return Err(Failure::NoKeys);
    }
    let root = doc.root_element();

    let mut signatures: Vec<(Node, Node)> = Vec::new();
    for signature in doc.descendants().filter(|n| is(n, DSIG_NS, "Signature")) {
        let parent = signature.parent_element().ok_or(Failure::Misplaced)?;
        let placed = parent == root
            || (is(&parent, ASSERTION_NS, "Assertion") && parent.parent_element() == Some(root));
        if !placed || signatures.iter().any(|(p, _)| *p == parent) {
            return Err(Failure::Misplaced);
        }
        signatures.push((parent, signature));
    }
    if signatures.is_empty() {
        return Err(Failure::Unsigned);
    }

    let parsed = signatures
        .iter()
        .map(|&(parent, signature)| SignatureParts::read(signature, parent))
        .collect::<Result<Vec<_>, _>>()?;
    if !allow_sha1 && parsed.iter().any(SignatureParts::uses_sha1) {
        return Err(Failure::Sha1);
    }

    let mut outermost: Option<(Node, String)> = None;
    for (&(parent, signature), parts) in signatures.iter().zip(&parsed) {
        // The SignatureValue first: it covers only the small SignedInfo, and
        // until it verifies nothing else of the signature is worth any work.
        let signed_info = canonicalize(
            parts.signed_info,
            None,
            parts.signed_info_c14n.form(),
            parts.signed_info_c14n.with_comments,
        );
        let signature_value = base64_text(parts.signature_value)?;
        if !keys.iter().any(|key| {
            parts
                .method
                .verifies(key, signed_info.as_bytes(), &signature_value)
        }) {
            return Err(Failure::SignatureValue);
        }
        // XML Signature 4.3.3.3: a bare `#ID` reference leaves comments out,
        // whichever canonicalization follows.
        let canonical = canonicalize(
            parent,
            Some(signature.id()),
            parts.reference_c14n.form(),
            false,
        );
        let digest = hash(parts.digest.message_digest(), canonical.as_bytes())
            .map_err(|_| Failure::Digest)?;
        if !bool::from(digest.as_ref().ct_eq(&base64_text(parts.digest_value)?)) {
            return Err(Failure::Digest);
        }
        if outermost
            .as_ref()
            .is_none_or(|(node, _)| parent == root && *node != root)
        {
            outermost = Some((parent, canonical));
        }
    }
    let (signed, canonical) = outermost.ok_or(Failure::Unsigned)?;
    let assertion_signed = signatures
        .iter()
        .any(|(parent, _)| is(parent, ASSERTION_NS, "Assertion"));
    Ok(Signed {
        canonical,
        covers_root: signed == root,
        assertion_signed,
    })
}

/// The public keys of DER certificates, parsed once per certificate and
/// process: parsing costs more than verifying a signature with the key.
pub fn public_keys(certificates: &[Vec<u8>]) -> Vec<PKey<Public>> {
    static CACHE: OnceLock<Mutex<HashMap<Vec<u8>, PKey<Public>>>> = OnceLock::new();
    /// Certificates of removed connections stay until the cache is cleared at this size.
    const MAX_CACHED: usize = 1024;
    let mut cache = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    certificates
        .iter()
        .filter_map(|der| {
            if let Some(key) = cache.get(der) {
                return Some(key.clone());
            }
            let key = X509::from_der(der).ok()?.public_key().ok()?;
            if cache.len() >= MAX_CACHED {
                cache.clear();
            }
            cache.insert(der.clone(), key.clone());
            Some(key)
        })
        .collect()
}

fn child<'a, 'input>(node: Node<'a, 'input>, name: &str) -> Option<Node<'a, 'input>> {
    super::xml::child(node, DSIG_NS, name)
}

/// SAML core 1.3.4: the `ID` attribute, unqualified.
fn id_of<'a>(node: &Node<'a, '_>) -> Option<&'a str> {
    unqualified(node, "ID")
}

/// The element children of `node`, which must all be ds elements with the
/// given names in order (`?` suffix: optional); anything else is malformed.
fn children_as<'a, 'input, const N: usize>(
    node: Node<'a, 'input>,
    names: [&str; N],
) -> Result<[Option<Node<'a, 'input>>; N], Failure> {
    let mut found = [None; N];
    let mut elements = node.children().filter(Node::is_element).peekable();
    for (slot, name) in found.iter_mut().zip(names) {
        let (name, optional) = name
            .strip_suffix('?')
            .map_or((name, false), |name| (name, true));
        match elements.peek() {
            Some(element) if is(element, DSIG_NS, name) => *slot = elements.next(),
            _ if optional => {}
            _ => return Err(Failure::Malformed),
        }
    }
    if elements.next().is_some() {
        return Err(Failure::Malformed);
    }
    Ok(found)
}

fn algorithm<'a>(node: Node<'a, '_>) -> Result<&'a str, Failure> {
    unqualified(&node, "Algorithm").ok_or(Failure::Malformed)
}

/// The signature algorithms of the profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Method {
    Rsa(Digest),
    Ecdsa(Digest),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Digest {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Digest {
    pub(super) fn message_digest(self) -> MessageDigest {
        match self {
            Self::Sha1 => MessageDigest::sha1(),
            Self::Sha256 => MessageDigest::sha256(),
            Self::Sha384 => MessageDigest::sha384(),
            Self::Sha512 => MessageDigest::sha512(),
        }
    }

    /// The DigestMethod URIs (XML Signature 6.2, RFC 6931 2.1).
    pub(super) fn from_uri(uri: &str) -> Option<Self> {
        Some(match uri {
            "http://www.w3.org/2000/09/xmldsig#sha1" => Self::Sha1,
            "http://www.w3.org/2001/04/xmlenc#sha256" => Self::Sha256,
            "http://www.w3.org/2001/04/xmldsig-more#sha384" => Self::Sha384,
            "http://www.w3.org/2001/04/xmlenc#sha512" => Self::Sha512,
            _ => return None,
        })
    }
}

impl Method {
    fn from_uri(uri: &str) -> Option<Self> {
        Some(match uri {
            "http://www.w3.org/2000/09/xmldsig#rsa-sha1" => Self::Rsa(Digest::Sha1),
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256" => Self::Rsa(Digest::Sha256),
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384" => Self::Rsa(Digest::Sha384),
            "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512" => Self::Rsa(Digest::Sha512),
            "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha1" => Self::Ecdsa(Digest::Sha1),
            "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256" => Self::Ecdsa(Digest::Sha256),
            "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha384" => Self::Ecdsa(Digest::Sha384),
            "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha512" => Self::Ecdsa(Digest::Sha512),
            _ => return None,
        })
    }

    fn digest(self) -> Digest {
        match self {
            Self::Rsa(d) | Self::Ecdsa(d) => d,
        }
    }

    /// Whether `signature` over `data` verifies with `key`. A key of the
    /// wrong type simply does not verify.
    fn verifies(self, key: &PKey<Public>, data: &[u8], signature: &[u8]) -> bool {
        let der;
        let signature = match self {
            Self::Rsa(_) if key.id() == Id::RSA => signature,
            // XML Signature carries ECDSA as r || s; OpenSSL wants DER.
            Self::Ecdsa(_) if key.id() == Id::EC => {
                let half = signature.len() / 2;
                if half == 0 || !signature.len().is_multiple_of(2) {
                    return false;
                }
                let encoded = BigNum::from_slice(&signature[..half])
                    .and_then(|r| Ok((r, BigNum::from_slice(&signature[half..])?)))
                    .and_then(|(r, s)| EcdsaSig::from_private_components(r, s))
                    .and_then(|sig| sig.to_der());
                match encoded {
                    Ok(encoded) => der = encoded,
                    Err(_) => return false,
                }
                &der
            }
            _ => return false,
        };
        Verifier::new(self.digest().message_digest(), key)
            .and_then(|mut verifier| verifier.verify_oneshot(signature, data))
            .unwrap_or(false)
    }
}

/// A canonicalization method of the profile, with its prefix list.
struct C14n<'a> {
    exclusive: bool,
    with_comments: bool,
    /// Exclusive only: the InclusiveNamespaces prefixes, `""` for `#default`.
    prefixes: Vec<&'a str>,
}

impl<'a> C14n<'a> {
    /// Reads a CanonicalizationMethod or a canonicalization Transform.
    fn read(method: Node<'a, '_>) -> Result<Self, Failure> {
        let (exclusive, with_comments) = match algorithm(method)? {
            INCLUSIVE_C14N => (false, false),
            INCLUSIVE_C14N_WITH_COMMENTS => (false, true),
            EXC_C14N => (true, false),
            EXC_C14N_WITH_COMMENTS => (true, true),
            other => return Err(Failure::Unsupported(format!("the algorithm {other}"))),
        };
        let mut elements = method.children().filter(Node::is_element);
        let prefixes = match (elements.next(), elements.next()) {
            (None, _) => Vec::new(),
            (Some(list), None)
                if exclusive
                    && list.tag_name().namespace() == Some(EXC_C14N)
                    && list.tag_name().name() == "InclusiveNamespaces" =>
            {
                let mut prefixes: Vec<&str> = unqualified(&list, "PrefixList")
                    .unwrap_or_default()
                    .split_ascii_whitespace()
                    .map(|p| if p == "#default" { "" } else { p })
                    .collect();
                prefixes.sort_unstable();
                prefixes.dedup();
                if prefixes.len() > MAX_INCLUSIVE_PREFIXES {
                    return Err(Failure::Unsupported(format!(
                        "an InclusiveNamespaces list of more than {MAX_INCLUSIVE_PREFIXES} prefixes"
                    )));
                }
                prefixes
            }
            _ => return Err(Failure::Malformed),
        };
        Ok(Self {
            exclusive,
            with_comments,
            prefixes,
        })
    }

    /// XML Signature 4.3.3.2: with no canonicalization transform, the
    /// node-set becomes octets by inclusive C14N 1.0 without comments.
    fn default_for_reference() -> Self {
        Self {
            exclusive: false,
            with_comments: false,
            prefixes: Vec::new(),
        }
    }

    fn form(&self) -> Form<'_, 'a> {
        if self.exclusive {
            Form::Exclusive(&self.prefixes)
        } else {
            Form::Inclusive
        }
    }
}

/// One `ds:Signature`, read and checked against the profile.
struct SignatureParts<'a, 'input> {
    signed_info: Node<'a, 'input>,
    signed_info_c14n: C14n<'a>,
    method: Method,
    reference_c14n: C14n<'a>,
    digest: Digest,
    digest_value: Node<'a, 'input>,
    signature_value: Node<'a, 'input>,
}

impl<'a, 'input> SignatureParts<'a, 'input> {
    /// Reads the structure and algorithms; the values stay unread (a
    /// template to sign has none yet). Placement comes first: it says more
    /// than "unsupported".
    fn read(signature: Node<'a, 'input>, parent: Node<'a, 'input>) -> Result<Self, Failure> {
        let [signed_info, signature_value, _] =
            children_as(signature, ["SignedInfo", "SignatureValue", "KeyInfo?"])?;
        let (signed_info, signature_value) = (
            signed_info.ok_or(Failure::Malformed)?,
            signature_value.ok_or(Failure::Malformed)?,
        );
        if signed_info
            .children()
            .filter(|n| is(n, DSIG_NS, "Reference"))
            .count()
            != 1
        {
            return Err(Failure::Reference);
        }
        let [canonicalization, method, reference] = children_as(
            signed_info,
            ["CanonicalizationMethod", "SignatureMethod", "Reference"],
        )?;
        let (canonicalization, method, reference) = (
            canonicalization.ok_or(Failure::Malformed)?,
            method.ok_or(Failure::Malformed)?,
            reference.ok_or(Failure::Malformed)?,
        );

        let id = id_of(&parent)
            .filter(|id| !id.is_empty())
            .ok_or(Failure::AmbiguousId)?;
        if unqualified(&reference, "URI").and_then(|uri| uri.strip_prefix('#')) != Some(id) {
            return Err(Failure::Reference);
        }
        if parent
            .document()
            .descendants()
            .filter(|n| id_of(n) == Some(id))
            .count()
            != 1
        {
            return Err(Failure::AmbiguousId);
        }

        let [transforms, digest_method, digest_value] =
            children_as(reference, ["Transforms", "DigestMethod", "DigestValue"])?;
        let (transforms, digest_method, digest_value) = (
            transforms.ok_or(Failure::Malformed)?,
            digest_method.ok_or(Failure::Malformed)?,
            digest_value.ok_or(Failure::Malformed)?,
        );
        let transforms: Vec<Node> = transforms.children().filter(Node::is_element).collect();
        if transforms.iter().any(|t| !is(t, DSIG_NS, "Transform")) {
            return Err(Failure::Malformed);
        }
        let reference_c14n = match transforms.as_slice() {
            [enveloped] if algorithm(*enveloped)? == ENVELOPED => C14n::default_for_reference(),
            [enveloped, c14n] if algorithm(*enveloped)? == ENVELOPED => C14n::read(*c14n)?,
            _ => {
                let algorithms: Vec<&str> = transforms
                    .iter()
                    .map(|t| algorithm(*t).unwrap_or("(none)"))
                    .collect();
                return Err(Failure::Unsupported(format!(
                    "the transforms [{}]",
                    algorithms.join(", ")
                )));
            }
        };
        // Parameters (XPath, HMACOutputLength, ...) belong to nothing in the profile.
        if [transforms[0], method, digest_method]
            .iter()
            .any(|n| n.children().any(|c| c.is_element()))
        {
            return Err(Failure::Malformed);
        }

        let method_uri = algorithm(method)?;
        let method = Method::from_uri(method_uri)
            .ok_or_else(|| Failure::Unsupported(format!("the signature method {method_uri}")))?;
        let digest_uri = algorithm(digest_method)?;
        let digest = Digest::from_uri(digest_uri)
            .ok_or_else(|| Failure::Unsupported(format!("the digest method {digest_uri}")))?;
        Ok(Self {
            signed_info,
            signed_info_c14n: C14n::read(canonicalization)?,
            method,
            reference_c14n,
            digest,
            digest_value,
            signature_value,
        })
    }

    fn uses_sha1(&self) -> bool {
        self.digest == Digest::Sha1 || self.method.digest() == Digest::Sha1
    }
}

/// The base64 content of an element that may hold nothing else.
pub(super) fn base64_text(node: Node) -> Result<Vec<u8>, Failure> {
    if node.children().any(|n| n.is_element()) {
        return Err(Failure::Malformed);
    }
    let text: String = node
        .children()
        .filter_map(|n| n.text())
        .flat_map(|t| t.chars())
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    STANDARD.decode(text).map_err(|_| Failure::Malformed)
}

#[cfg(test)]
#[allow(clippy::disallowed_methods)] // xmlsec, the oracle
mod tests;
