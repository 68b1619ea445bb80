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
use openssl::pkey::{Id, PKey, Private, Public};
use openssl::sign::{Signer, Verifier};
use openssl::x509::X509;
use roxmltree::{Document, Node};
use subtle::ConstantTimeEq;

use super::ASSERTION_NS;
use super::c14n::{Form, canonicalize, qname_as_written};
use super::xml::{is, unqualified};

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

/// Why a template could not be signed.
#[derive(Debug, thiserror::Error)]
#[error("cannot sign: {0}")]
pub struct SignError(String);

/// Signs the element with `ID="{id}"` of `xml`: its `ds:Signature` child is
/// an empty template of this profile (RSA), whose DigestValue and
/// SignatureValue are filled in. For the IdPs we play (the demo IdP, the
/// tests); xmlsec verifies the result in the tests.
pub fn sign(xml: &str, id: &str, key: &PKey<Private>) -> Result<String, SignError> {
    let fail = |e: &dyn std::fmt::Display| SignError(e.to_string());
    let doc = super::xml::parse(xml).map_err(|e| fail(&e))?;
    let (parent, signature) = doc
        .descendants()
        .find(|n| id_of(n) == Some(id))
        .and_then(|parent| Some((parent, child(parent, "Signature")?)))
        .ok_or_else(|| fail(&"no element with that ID has a signature template"))?;
    let parts = SignatureParts::read(signature, parent).map_err(|e| fail(&e))?;
    if parts.digest_value.has_children() || parts.signature_value.has_children() {
        return Err(fail(&"the template is signed already"));
    }
    let canonical = canonicalize(
        parent,
        Some(signature.id()),
        parts.reference_c14n.form(),
        false,
    );
    let digest = hash(parts.digest.message_digest(), canonical.as_bytes()).map_err(|e| fail(&e))?;
    let digest = STANDARD.encode(digest);
    // The SignedInfo as it will read once the digest is in: the empty
    // DigestValue canonicalizes as `<q></q>`, and base64 needs no escaping.
    let digest_name = qname_as_written(parts.digest_value);
    let signed_info = canonicalize(
        parts.signed_info,
        None,
        parts.signed_info_c14n.form(),
        parts.signed_info_c14n.with_comments,
    )
    .replacen(
        &format!("<{digest_name}></{digest_name}>"),
        &format!("<{digest_name}>{digest}</{digest_name}>"),
        1,
    );
    let value = STANDARD.encode(parts.method.sign(key, signed_info.as_bytes())?);

    let mut fills = [(parts.digest_value, digest), (parts.signature_value, value)];
    fills.sort_by_key(|(node, _)| std::cmp::Reverse(node.range().start));
    let mut signed = xml.to_owned();
    for (node, value) in fills {
        let name = qname_as_written(node);
        signed.replace_range(node.range(), &format!("<{name}>{value}</{name}>"));
    }
    Ok(signed)
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

    /// Signs with an RSA key (the only kind we mint with).
    fn sign(self, key: &PKey<Private>, data: &[u8]) -> Result<Vec<u8>, SignError> {
        let Self::Rsa(digest) = self else {
            return Err(SignError("only RSA signatures are minted".into()));
        };
        Signer::new(digest.message_digest(), key)
            .and_then(|mut signer| signer.sign_oneshot_to_vec(data))
            .map_err(|e| SignError(e.to_string()))
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
mod tests {
    //! Differential tests: xmlsec (through samael) signs, and our
    //! canonicalisation must be byte-for-byte what xmlsec digested.

    use proptest::prelude::*;
    use samael::crypto::{CertificateDer, Crypto, CryptoProvider, ReduceMode};

    use super::*;
    use crate::clock::Clock;
    use crate::config::BaseUrl;
    use crate::saml::keys::KeyPair;
    use crate::saml::mint::{ResponseSpec, mint};
    use crate::saml::{PROTOCOL_NS, SpEndpoints};

    const RSA_SHA256: &str = "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256";
    const SHA256: &str = "http://www.w3.org/2001/04/xmlenc#sha256";

    fn idp() -> &'static KeyPair {
        static KEY: OnceLock<KeyPair> = OnceLock::new();
        KEY.get_or_init(|| KeyPair::generate("dsig test IdP").expect("key"))
    }

    /// A `ds:Signature` template for xmlsec to fill in.
    fn template(reference: &str, inclusive: Option<&str>, method: &str) -> String {
        let prefixes = inclusive
            .map(|list| {
                format!(r#"<ec:InclusiveNamespaces xmlns:ec="{EXC_C14N}" PrefixList="{list}"/>"#)
            })
            .unwrap_or_default();
        format!(
            r##"<ds:Signature xmlns:ds="{DSIG_NS}"><ds:SignedInfo><ds:CanonicalizationMethod Algorithm="{EXC_C14N}">{prefixes}</ds:CanonicalizationMethod><ds:SignatureMethod Algorithm="{method}"/><ds:Reference URI="#{reference}"><ds:Transforms><ds:Transform Algorithm="{ENVELOPED}"/><ds:Transform Algorithm="{EXC_C14N}">{prefixes}</ds:Transform></ds:Transforms><ds:DigestMethod Algorithm="{SHA256}"/><ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/></ds:Signature>"##
        )
    }

    /// A Response `_r` around `body`, whose `{signature}` becomes a template
    /// referencing `reference`, signed by xmlsec.
    fn signed_response(body: &str, reference: &str, method: &str, key_der: &[u8]) -> String {
        let body = body.replace("{signature}", &template(reference, None, method));
        sign(
            &format!(
                "<samlp:Response xmlns:samlp=\"{PROTOCOL_NS}\" ID=\"_r\">{body}</samlp:Response>"
            ),
            key_der,
        )
    }

    fn sign(xml: &str, key_der: &[u8]) -> String {
        Crypto::sign_xml(xml, key_der).expect("xmlsec signs the template")
    }

    fn xmlsec(xml: &str, cert_der: &[u8]) -> Option<String> {
        Crypto::reduce_xml_to_signed(
            xml,
            &[CertificateDer::from(cert_der.to_vec())],
            ReduceMode::PreDigest,
        )
        .ok()
    }

    fn parse(xml: &str) -> Document<'_> {
        crate::saml::xml::parse(xml).expect("parses")
    }

    fn ours(xml: &str) -> Result<Signed, Failure> {
        verify(&parse(xml), &public_keys(&[idp().cert_der()]), false)
    }

    /// Signs with xmlsec, then both verify: same verdict, same octets.
    fn assert_agree(unsigned: &str) -> Signed {
        let signed = sign(unsigned, &idp().key_der());
        let theirs = xmlsec(&signed, &idp().cert_der()).expect("xmlsec verifies its own signature");
        match ours(&signed) {
            Ok(ours) => {
                assert_eq!(
                    ours.canonical, theirs,
                    "canonical form differs for\n{signed}"
                );
                ours
            }
            other => panic!("expected a verified signature, got {other:?} for\n{signed}"),
        }
    }

    fn tricky_document(inclusive: Option<&str>) -> String {
        format!(
            "<?xml version=\"1.0\"?>\r\n<samlp:Response xmlns:samlp=\"{PROTOCOL_NS}\" xmlns:unused=\"urn:unused\" xmlns=\"urn:default\" xmlns:xs=\"urn:xs\" z=\"1\" ID=\"_r\" a=\"2\" xml:lang=\"en\">{}\r\n\
             <Plain attr=\"x &amp; &lt; &gt; &quot; &#9;&#10;&#13; tab\tand newline\r\ncontinued\" xs:type=\"xs:string\"/>\r\n\
             <inner xmlns=\"\" b:x=\"1\" xmlns:b=\"urn:b\" a:y=\"2\" xmlns:a=\"urn:a\" c=\"3\">text &amp; &lt;&gt; &#13; ]]&gt; <![CDATA[<cdata & stuff>]]><!-- a comment --><?pi some data?><?pi2?><deep><b:deeper xmlns:b=\"urn:other-b\" b:z=\"é\"/></deep></inner>\r\n\
             <a:only xmlns:a=\"urn:a\"><a:again xmlns:a=\"urn:a\"/><empty></empty></a:only>\r\n\
             </samlp:Response>",
            template("_r", inclusive, RSA_SHA256)
        )
    }

    #[test]
    fn tricky_namespaces_text_and_attributes_canonicalise_as_xmlsec_does() {
        assert_agree(&tricky_document(None));
    }

    #[test]
    fn inclusive_namespace_prefix_lists_canonicalise_as_xmlsec_does() {
        assert_agree(&tricky_document(Some("unused xs #default")));
    }

    #[test]
    fn an_unprefixed_signature_canonicalises_as_xmlsec_does() {
        let template = template("_r", None, RSA_SHA256)
            .replace("ds:", "")
            .replace("xmlns:ds=", "xmlns=");
        assert_agree(&format!(
            "<samlp:Response xmlns:samlp=\"{PROTOCOL_NS}\" ID=\"_r\">{template}<samlp:Status/></samlp:Response>"
        ));
    }

    fn sp() -> SpEndpoints {
        SpEndpoints::for_org(
            &BaseUrl::parse("https://sp.example").expect("base URL"),
            &"acme".parse().expect("slug"),
        )
    }

    fn minted(sign_response: bool, sign_assertion: bool) -> String {
        let sp = sp();
        let mut spec = ResponseSpec::new(
            "https://idp.example/",
            &sp,
            "ann@acme.example",
            Clock::system().now(),
        );
        spec.attributes = vec![("email".into(), "ann & co <ann@acme.example>".into())];
        spec.sign_response = sign_response;
        spec.sign_assertion = sign_assertion;
        mint(&spec, idp()).expect("mint")
    }

    #[test]
    fn minted_responses_verify_with_the_same_signed_part_as_xmlsec() {
        for (response, assertion) in [(true, true), (true, false), (false, true)] {
            let xml = minted(response, assertion);
            let theirs = xmlsec(&xml, &idp().cert_der()).expect("xmlsec verifies");
            let Ok(ours) = ours(&xml) else {
                panic!("ours refused a minted response ({response}, {assertion})");
            };
            assert_eq!(ours.canonical, theirs);
            assert_eq!(ours.assertion_signed, assertion);
            let root = if response {
                "<samlp:Response"
            } else {
                "<saml:Assertion"
            };
            assert!(ours.canonical.starts_with(root), "{}", ours.canonical);
        }
    }

    #[test]
    fn inclusive_canonicalisation_verifies_with_the_same_signed_part_as_xmlsec() {
        for (sign_response, sign_assertion) in [(true, false), (false, true), (true, true)] {
            let mut spec = ResponseSpec::new(
                "https://idp.example/",
                &sp(),
                "ann@acme.example",
                Clock::system().now(),
            );
            spec.sign_response = sign_response;
            spec.sign_assertion = sign_assertion;
            spec.inclusive_c14n = true;
            let xml = mint(&spec, idp()).expect("mint");
            let theirs = xmlsec(&xml, &idp().cert_der()).expect("xmlsec verifies");
            let ours = ours(&xml).expect("verifies");
            assert_eq!(
                ours.canonical, theirs,
                "({sign_response}, {sign_assertion})"
            );
        }
    }

    #[test]
    fn inclusive_templates_canonicalise_as_xmlsec_does() {
        let inclusive = |xml: String| {
            xml.replace(EXC_C14N, INCLUSIVE_C14N)
                .replace(&format!("<ec:InclusiveNamespaces xmlns:ec=\"{INCLUSIVE_C14N}\" PrefixList=\"unused xs #default\"/>"), "")
        };
        assert_agree(&inclusive(tricky_document(None)));
        // C14N 1.0, 2.4: the apex inherits xml:lang from outside the subset.
        let assertion = minted(false, false).replace(
            "<samlp:Response ",
            "<samlp:Response xml:lang=\"en\" xml:space=\"preserve\" ",
        );
        let id = assertion
            .split("<saml:Assertion")
            .nth(1)
            .and_then(|a| a.split("ID=\"").nth(1))
            .and_then(|a| a.split('"').next())
            .expect("assertion ID")
            .to_owned();
        let with_template = assertion.replacen(
            "</saml:Issuer><saml:Subject>",
            &format!(
                "</saml:Issuer>{}<saml:Subject>",
                template(&id, None, RSA_SHA256).replace(EXC_C14N, INCLUSIVE_C14N)
            ),
            1,
        );
        let signed = assert_agree(&with_template);
        assert!(
            signed.canonical.starts_with("<saml:Assertion")
                && signed.canonical.contains("xml:lang=\"en\""),
            "{}",
            signed.canonical
        );
    }

    /// RSA PKCS#1 v1.5 is deterministic: the same key over the same
    /// SignedInfo gives the same value, so ours must equal xmlsec's.
    #[test]
    fn our_signatures_are_xmlsecs() {
        let value = |xml: &str, name: &str| -> String {
            let start = xml.find(&format!("<ds:{name}>")).expect(name) + name.len() + 5;
            let end = start + xml[start..].find('<').expect("end");
            xml[start..end].split_ascii_whitespace().collect()
        };
        for inclusive in [None, Some("unused xs #default")] {
            let unsigned = tricky_document(inclusive);
            let theirs = sign(&unsigned, &idp().key_der());
            let ours = super::sign(&unsigned, "_r", &idp().key).expect("signs");
            for name in ["DigestValue", "SignatureValue"] {
                assert_eq!(value(&ours, name), value(&theirs, name), "{name}");
            }
            assert!(xmlsec(&ours, &idp().cert_der()).is_some());
        }
    }

    #[test]
    fn an_unsigned_response_is_refused() {
        assert_eq!(ours(&minted(false, false)), Err(Failure::Unsigned));
    }

    #[test]
    fn changed_content_breaks_the_digest() {
        let xml = minted(true, false).replace("ann@acme.example", "eve@acme.example");
        assert_eq!(ours(&xml), Err(Failure::Digest));
    }

    #[test]
    fn a_changed_signature_value_does_not_verify() {
        let xml = minted(true, false);
        let start = xml.find("<ds:SignatureValue>").expect("value") + "<ds:SignatureValue>".len();
        let mut bytes = xml.into_bytes();
        bytes[start + 10] = if bytes[start + 10] == b'A' {
            b'B'
        } else {
            b'A'
        };
        let xml = String::from_utf8(bytes).expect("utf-8");
        assert_eq!(ours(&xml), Err(Failure::SignatureValue));
    }

    #[test]
    fn a_signature_by_another_key_does_not_verify_whatever_its_key_info_says() {
        let attacker = KeyPair::generate("attacker").expect("key");
        let sp = sp();
        let spec = ResponseSpec::new(
            "https://idp.example/",
            &sp,
            "eve@acme.example",
            Clock::system().now(),
        );
        // mint puts the attacker's own certificate in KeyInfo.
        let xml = mint(&spec, &attacker).expect("mint");
        assert!(xml.contains(&attacker.cert_base64()));
        assert_eq!(ours(&xml), Err(Failure::SignatureValue));
    }

    /// Placement rules, checked before the profile is looked at: they hold
    /// on the xmlsec path too.
    #[test]
    fn signatures_must_sit_on_and_reference_a_uniquely_identified_parent() {
        const INCLUSIVE: &str = "http://www.w3.org/TR/2001/REC-xml-c14n-20010315";
        let cases = [
            (
                "{signature}<samlp:Status ID=\"_s\"/>",
                "_s",
                ("", ""),
                Failure::Reference,
            ),
            (
                "{signature}<samlp:Status ID=\"_s\"/>",
                "_s",
                (EXC_C14N, INCLUSIVE),
                Failure::Reference,
            ),
            (
                "{signature}<samlp:Status/>",
                "_r",
                ("<samlp:Status/>", "<samlp:Status ID=\"_r\"/>"),
                Failure::AmbiguousId,
            ),
            (
                "<samlp:Extensions ID=\"_e\">{signature}</samlp:Extensions>",
                "_e",
                ("", ""),
                Failure::Misplaced,
            ),
        ];
        for (body, reference, (from, to), failure) in cases {
            let mut xml = signed_response(body, reference, RSA_SHA256, &idp().key_der());
            if !from.is_empty() {
                xml = xml.replace(from, to);
            }
            assert_eq!(ours(&xml), Err(failure), "{xml}");
        }
    }

    #[test]
    fn two_signatures_on_one_element_are_refused() {
        let signed = minted(true, false);
        let start = signed.find("<ds:Signature").expect("signature");
        let end = signed.find("</ds:Signature>").expect("end") + "</ds:Signature>".len();
        let doubled = format!("{}{}", &signed[..end], &signed[start..]);
        assert_eq!(ours(&doubled), Err(Failure::Misplaced));
    }

    /// Nothing outside the profile is tried, whatever it is: each of these
    /// would have xmlsec fetch, open or compute on the sender's say-so.
    #[test]
    fn everything_outside_the_profile_is_refused_finally() {
        let signed = minted(true, false);
        let c14n_transform = format!("<ds:Transform Algorithm=\"{EXC_C14N}\"/>");
        let cases = [
            (
                format!("<ds:CanonicalizationMethod Algorithm=\"{EXC_C14N}\""),
                "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/2006/12/xml-c14n11\"".to_owned(),
                Failure::Unsupported("the algorithm http://www.w3.org/2006/12/xml-c14n11".into()),
            ),
            (
                c14n_transform.clone(),
                format!("{c14n_transform}<ds:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xslt-19991116\"><xsl:stylesheet xmlns:xsl=\"http://www.w3.org/1999/XSL/Transform\" version=\"1.0\"><xsl:import href=\"http://127.0.0.1:9/x.xsl\"/></xsl:stylesheet></ds:Transform>"),
                Failure::Unsupported(format!("the transforms [{ENVELOPED}, {EXC_C14N}, http://www.w3.org/TR/1999/REC-xslt-19991116]")),
            ),
            (
                c14n_transform.clone(),
                "<ds:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xpath-19991116\"><ds:XPath>count(//. | //@* | //namespace::*)</ds:XPath></ds:Transform>".to_owned(),
                Failure::Unsupported("the algorithm http://www.w3.org/TR/1999/REC-xpath-19991116".into()),
            ),
            (
                "</ds:SignatureValue>".to_owned(),
                "</ds:SignatureValue><ds:Object><ds:Manifest><ds:Reference URI=\"file:///dev/zero\"><ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/><ds:DigestValue>AA==</ds:DigestValue></ds:Reference></ds:Manifest></ds:Object>".to_owned(),
                Failure::Malformed,
            ),
            (
                "</ds:Reference>".to_owned(),
                "</ds:Reference><ds:Reference URI=\"http://127.0.0.1:9/\"><ds:DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/><ds:DigestValue>AA==</ds:DigestValue></ds:Reference>".to_owned(),
                Failure::Reference,
            ),
            (
                "<ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\"/>".to_owned(),
                "<ds:SignatureMethod Algorithm=\"http://www.w3.org/2000/09/xmldsig#hmac-sha1\"/>".to_owned(),
                Failure::Unsupported("the signature method http://www.w3.org/2000/09/xmldsig#hmac-sha1".into()),
            ),
        ];
        for (from, to, failure) in cases {
            assert!(signed.contains(&from), "{from}");
            let xml = signed.replacen(&from, &to, 1);
            assert_eq!(ours(&xml), Err(failure), "{xml}");
        }
    }

    #[test]
    fn long_prefix_lists_are_refused() {
        let prefixes: Vec<String> = (0..=MAX_INCLUSIVE_PREFIXES)
            .map(|i| format!("p{i}"))
            .collect();
        let xml = signed_response("{signature}", "_r", RSA_SHA256, &idp().key_der());
        let xml = xml.replacen(
            &format!("<ds:Transform Algorithm=\"{EXC_C14N}\"/>"),
            &format!("<ds:Transform Algorithm=\"{EXC_C14N}\"><ec:InclusiveNamespaces xmlns:ec=\"{EXC_C14N}\" PrefixList=\"{}\"/></ds:Transform>", prefixes.join(" ")),
            1,
        );
        assert!(matches!(ours(&xml), Err(Failure::Unsupported(_))), "{xml}");
    }

    /// The referenced element is canonicalized only for a SignedInfo the
    /// IdP signed: an attacker's own SignedInfo stops at its SignatureValue.
    #[test]
    fn the_signature_value_is_checked_before_the_digest() {
        let xml = minted(true, false).replace("ann@acme.example", "eve@acme.example");
        let start = xml.find("<ds:DigestValue>").expect("digest") + "<ds:DigestValue>".len();
        let mut bytes = xml.into_bytes();
        bytes[start] = if bytes[start] == b'A' { b'B' } else { b'A' };
        let xml = String::from_utf8(bytes).expect("utf-8");
        assert_eq!(ours(&xml), Err(Failure::SignatureValue));
    }

    #[test]
    fn a_namespaced_id_is_not_the_id() {
        let xml = signed_response(
            "{signature}<samlp:Status/>",
            "_r",
            RSA_SHA256,
            &idp().key_der(),
        )
        .replacen(" ID=\"_r\"", " xmlns:x=\"urn:x\" x:ID=\"_r\"", 1);
        assert_eq!(ours(&xml), Err(Failure::AmbiguousId));
    }

    #[test]
    fn sha1_is_refused_unless_allowed() {
        let xml = signed_response(
            "{signature}",
            "_r",
            "http://www.w3.org/2000/09/xmldsig#rsa-sha1",
            &idp().key_der(),
        );
        assert_eq!(ours(&xml), Err(Failure::Sha1));
        let keys = public_keys(&[idp().cert_der()]);
        assert!(verify(&parse(&xml), &keys, true).is_ok());
    }

    #[test]
    fn ecdsa_signatures_verify() {
        let group = openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1)
            .expect("curve");
        let key =
            PKey::from_ec_key(openssl::ec::EcKey::generate(&group).expect("key")).expect("pkey");
        let public =
            PKey::public_key_from_der(&key.public_key_to_der().expect("der")).expect("public");
        let xml = sign(
            &format!(
                "<samlp:Response xmlns:samlp=\"{PROTOCOL_NS}\" ID=\"_r\">{}<samlp:Status/></samlp:Response>",
                template(
                    "_r",
                    None,
                    "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256"
                )
            ),
            &key.private_key_to_der().expect("der"),
        );
        let doc = parse(&xml);
        assert!(verify(&doc, &[public], false).is_ok());
        let other =
            PKey::from_ec_key(openssl::ec::EcKey::generate(&group).expect("key")).expect("pkey");
        let other =
            PKey::public_key_from_der(&other.public_key_to_der().expect("der")).expect("public");
        assert_eq!(verify(&doc, &[other], false), Err(Failure::SignatureValue));
    }

    /// A random element tree, namespace-well-formed, written as XML.
    #[derive(Clone, Debug)]
    struct Element {
        declarations: Vec<(usize, usize)>,
        prefix: usize,
        attributes: Vec<(usize, usize, String)>,
        children: Vec<Content>,
    }

    #[derive(Clone, Debug)]
    enum Content {
        Text(String),
        Comment,
        Element(Element),
    }

    const PREFIXES: [&str; 4] = ["", "a", "b", "saml"];
    const URIS: [&str; 3] = ["urn:one", "urn:two", ""];
    const NAMES: [&str; 3] = ["x", "y", "ID2"];

    fn text() -> impl Strategy<Value = String> {
        proptest::collection::vec(
            prop_oneof![
                Just("a"),
                Just(" "),
                Just("&amp;"),
                Just("&lt;"),
                Just(">"),
                Just("\""),
                Just("'"),
                Just("\r\n"),
                Just("\t"),
                Just("&#13;"),
                Just("é"),
                Just("&#x10000;")
            ],
            0..6,
        )
        .prop_map(|parts| parts.concat())
    }

    fn element() -> impl Strategy<Value = Element> {
        let leaf = (
            proptest::collection::vec((0..4usize, 0..3usize), 0..3),
            0..4usize,
            proptest::collection::vec((0..4usize, 0..3usize, text()), 0..3),
        )
            .prop_map(|(declarations, prefix, attributes)| Element {
                declarations,
                prefix,
                attributes,
                children: Vec::new(),
            });
        leaf.prop_recursive(3, 24, 4, |inner| {
            (
                proptest::collection::vec((0..4usize, 0..3usize), 0..3),
                0..4usize,
                proptest::collection::vec((0..4usize, 0..3usize, text()), 0..3),
                proptest::collection::vec(
                    prop_oneof![
                        text().prop_map(Content::Text),
                        Just(Content::Comment),
                        inner.prop_map(Content::Element)
                    ],
                    0..4,
                ),
            )
                .prop_map(|(declarations, prefix, attributes, children)| Element {
                    declarations,
                    prefix,
                    attributes,
                    children,
                })
        })
    }

    /// Writes the tree, dropping whatever would not be namespace-well-formed
    /// (undeclared prefixes, prefixes bound to "", duplicate attributes).
    fn write(element: &Element, scope: &[(usize, usize)], out: &mut String) {
        let mut scope = scope.to_vec();
        let mut declared = Vec::new();
        for &(prefix, uri) in &element.declarations {
            if declared.contains(&prefix) || (prefix != 0 && URIS[uri].is_empty()) {
                continue;
            }
            declared.push(prefix);
            scope.retain(|(p, _)| *p != prefix);
            scope.push((prefix, uri));
        }
        let bound = |p: usize| p == 0 || scope.iter().any(|(q, _)| *q == p);
        let prefix = if bound(element.prefix) {
            element.prefix
        } else {
            0
        };
        let qname = |p: usize, name: &str| {
            if p == 0 {
                name.to_owned()
            } else {
                format!("{}:{name}", PREFIXES[p])
            }
        };
        let name = qname(prefix, "e");
        out.push('<');
        out.push_str(&name);
        for &(p, uri) in scope.iter().filter(|(p, _)| declared.contains(p)) {
            let attribute = if p == 0 {
                "xmlns".to_owned()
            } else {
                format!("xmlns:{}", PREFIXES[p])
            };
            out.push_str(&format!(" {attribute}=\"{}\"", URIS[uri]));
        }
        let mut seen = Vec::new();
        for (p, n, value) in &element.attributes {
            if *p != 0 && !bound(*p) {
                continue;
            }
            let uri = if *p == 0 {
                ""
            } else {
                URIS[scope.iter().find(|(q, _)| q == p).expect("bound").1]
            };
            if seen.contains(&(uri, *n)) {
                continue;
            }
            seen.push((uri, *n));
            let value = value.replace('"', "&quot;").replace('>', "&gt;");
            out.push_str(&format!(" {}=\"{value}\"", qname(*p, NAMES[*n])));
        }
        out.push('>');
        for child in &element.children {
            match child {
                Content::Text(text) => out.push_str(text),
                Content::Comment => out.push_str("<!-- c -->"),
                Content::Element(e) => write(e, &scope, out),
            }
        }
        out.push_str(&format!("</{name}>"));
    }

    fn mutation() -> impl Strategy<Value = (prop::sample::Index, u8, u8)> {
        (
            any::<prop::sample::Index>(),
            0..3u8,
            prop::sample::select(b"<>/\"'= a:_#&;-".to_vec()),
        )
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]
        /// Whatever a one-character change (replace, insert, delete) anywhere
        /// in a signed response does, what verifies is what the IdP signed:
        /// the Response, or (when the change broke the Response's signature
        /// into plain content) the Assertion alone. A change can only hit
        /// what no signature covers (whitespace inside tags, KeyInfo, ...).
        #[test]
        fn a_changed_character_never_changes_what_verifies((at, kind, byte) in mutation()) {
            static ORIGINAL: OnceLock<(String, [String; 2])> = OnceLock::new();
            let (xml, signed_parts) = ORIGINAL.get_or_init(|| {
                let xml = minted(true, true);
                let Ok(signed) = ours(&xml) else { panic!("minted verifies") };
                let doc = parse(&xml);
                let assertion = doc.descendants().find(|n| is(n, ASSERTION_NS, "Assertion")).expect("assertion");
                let signature = child(assertion, "Signature").expect("signed");
                let assertion = canonicalize(assertion, Some(signature.id()), Form::Exclusive(&[]), false);
                (xml.clone(), [signed.canonical, assertion])
            });
            let mut bytes = xml.clone().into_bytes();
            let at = at.index(bytes.len());
            match kind {
                0 => bytes[at] = byte,
                1 => bytes.insert(at, byte),
                _ => { bytes.remove(at); }
            }
            let mutated = String::from_utf8(bytes).expect("ASCII stays UTF-8");
            let keys = public_keys(&[idp().cert_der()]);
            let verified = crate::saml::xml::parse(&mutated).ok().and_then(|doc| verify(&doc, &keys, false).ok());
            if let Some(signed) = verified {
                prop_assert!(signed_parts.contains(&signed.canonical), "accepted a change at {}:\n{}", at, mutated);
            }
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(96))]
        #[test]
        fn random_documents_canonicalise_as_xmlsec_does(tree in element(), inclusive in proptest::option::of(Just("a #default"))) {
            let mut body = String::new();
            write(&tree, &[], &mut body);
            let xml = format!(
                "<samlp:Response xmlns:samlp=\"{PROTOCOL_NS}\" xmlns:a=\"urn:one\" ID=\"_r\">{}{body}</samlp:Response>",
                template("_r", inclusive, RSA_SHA256)
            );
            assert_agree(&xml);
        }
    }
}
