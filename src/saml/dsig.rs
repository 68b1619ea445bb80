//! XML Signature verification of SAML messages, in Rust: the fast path.
//!
//! Covers the profile every mainstream IdP signs with (Entra ID, Okta,
//! OneLogin, AD FS, Google Workspace, Shibboleth, samael/xmlsec): an
//! enveloped signature as the child of the element it signs, one Reference
//! `#ID` to that parent, the transforms enveloped-signature then exclusive
//! C14N (with or without comments, with or without an InclusiveNamespaces
//! prefix list), RSA PKCS#1 v1.5 or ECDSA with SHA-1/256/384/512.
//!
//! Stricter than xmlsec on placement: a signature may sit only on the root
//! element or on an `Assertion` that is a child of the root, and must
//! reference exactly its parent, whose ID occurs once in the document. Key
//! material in the message (KeyInfo) is never read: only the keys passed in,
//! from the connection's configured certificates.
//!
//! A well-placed signature whose algorithms lie outside the profile is
//! reported as [`Outcome::OutOfProfile`] and the caller falls back to xmlsec;
//! a signature inside the profile that does not verify is final.
//!
//! Why our own: xmlsec (through samael) re-parses the IdP certificate and
//! builds a libxml2 tree for every message, which costs four times the
//! budget the issue sets for a validation (docs/performance.md). Differential
//! tests below check that this canonicalisation is byte-for-byte xmlsec's.

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
use roxmltree::{Document, Node, NodeId, NodeType, ParsingOptions};
use subtle::ConstantTimeEq;

use super::ASSERTION_NS;

pub const DSIG_NS: &str = "http://www.w3.org/2000/09/xmldsig#";
const EXC_C14N: &str = "http://www.w3.org/2001/10/xml-exc-c14n#";
const EXC_C14N_WITH_COMMENTS: &str = "http://www.w3.org/2001/10/xml-exc-c14n#WithComments";
const ENVELOPED: &str = "http://www.w3.org/2000/09/xmldsig#enveloped-signature";

/// Nodes in a document we are willing to build a tree for; the body is
/// already bounded to 256 KiB, this bounds what a hostile one can expand to.
const NODES_LIMIT: u32 = 50_000;

/// Why a message's signatures were not accepted. Only for logs and tests:
/// every variant means "not signed by this IdP".
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Failure {
    #[error("not parseable as XML: {0}")]
    Xml(String),
    #[error("no signature on the root element or its assertion")]
    Unsigned,
    #[error("a signature sits where no SAML signature belongs")]
    Misplaced,
    #[error("a signature does not have the structure of an XML signature")]
    Malformed,
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

/// The result of a verification that did not fail.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Every signature verified.
    Verified(Signed),
    /// Some signature uses an algorithm or transform this verifier does not implement.
    OutOfProfile,
}

/// What the signatures cover.
#[derive(Debug, PartialEq, Eq)]
pub struct Signed {
    /// The outermost signed element exactly as its digest was computed:
    /// exclusive C14N, its own signature removed. Nothing else of the
    /// message is trustworthy.
    pub canonical: String,
    /// Whether the `Assertion` carries a verified signature of its own.
    pub assertion_signed: bool,
}

/// Parses a hostile document into a tree: DTDs refused, nodes bounded.
pub fn parse(xml: &str) -> Result<Document<'_>, Failure> {
    Document::parse_with_options(
        xml,
        ParsingOptions {
            allow_dtd: false,
            nodes_limit: NODES_LIMIT,
            ..ParsingOptions::default()
        },
    )
    .map_err(|e| Failure::Xml(e.to_string()))
}

/// How many elements with this namespace and local name the document holds.
pub fn count(doc: &Document, namespace: &str, name: &str) -> usize {
    doc.descendants().filter(|n| is(n, namespace, name)).count()
}

/// Verifies every signature in the document against `keys`.
pub fn verify(doc: &Document, keys: &[PKey<Public>], allow_sha1: bool) -> Result<Outcome, Failure> {
    if keys.is_empty() {
        return Err(Failure::NoKeys);
    }
    let root = doc.root_element();

    let mut signatures = Vec::new();
    for signature in doc.descendants().filter(|n| is(n, DSIG_NS, "Signature")) {
        let parent = signature.parent_element().ok_or(Failure::Misplaced)?;
        let placed = parent == root
            || (is(&parent, ASSERTION_NS, "Assertion") && parent.parent_element() == Some(root));
        if !placed {
            return Err(Failure::Misplaced);
        }
        if signatures.iter().any(|(p, _)| *p == parent) {
            return Err(Failure::Misplaced);
        }
        signatures.push((parent, signature));
    }

    let mut parsed = Vec::with_capacity(signatures.len());
    for &(parent, signature) in &signatures {
        match SignatureParts::read(signature, parent)? {
            Some(parts) => parsed.push((parent, signature, parts)),
            None => return Ok(Outcome::OutOfProfile),
        }
    }

    let mut outermost: Option<(Node, String)> = None;
    for (parent, signature, parts) in parsed {
        if !allow_sha1 && parts.uses_sha1() {
            return Err(Failure::Sha1);
        }

        let canonical = canonicalize(
            parent,
            Some(signature.id()),
            &parts.reference_prefixes,
            false,
        );
        let digest = hash(parts.digest, canonical.as_bytes()).map_err(|_| Failure::Digest)?;
        if !bool::from(digest.as_ref().ct_eq(&parts.digest_value)) {
            return Err(Failure::Digest);
        }
        let signed_info = canonicalize(
            parts.signed_info,
            None,
            &parts.signed_info_prefixes,
            parts.signed_info_comments,
        );
        if !keys.iter().any(|key| {
            parts
                .method
                .verifies(key, signed_info.as_bytes(), &parts.signature_value)
        }) {
            return Err(Failure::SignatureValue);
        }
        if outermost
            .as_ref()
            .is_none_or(|(node, _)| parent == root && *node != root)
        {
            outermost = Some((parent, canonical));
        }
    }
    let (_, canonical) = outermost.ok_or(Failure::Unsigned)?;
    let assertion_signed = signatures
        .iter()
        .any(|(parent, _)| is(parent, ASSERTION_NS, "Assertion"));
    Ok(Outcome::Verified(Signed {
        canonical,
        assertion_signed,
    }))
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

fn is(node: &Node, namespace: &str, name: &str) -> bool {
    node.is_element()
        && node.tag_name().namespace() == Some(namespace)
        && node.tag_name().name() == name
}

fn child<'a, 'input>(node: Node<'a, 'input>, name: &str) -> Option<Node<'a, 'input>> {
    node.children().find(|n| is(n, DSIG_NS, name))
}

/// The signature algorithms of the profile.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Method {
    Rsa(Digest),
    Ecdsa(Digest),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Digest {
    Sha1,
    Sha256,
    Sha384,
    Sha512,
}

impl Digest {
    fn message_digest(self) -> MessageDigest {
        match self {
            Self::Sha1 => MessageDigest::sha1(),
            Self::Sha256 => MessageDigest::sha256(),
            Self::Sha384 => MessageDigest::sha384(),
            Self::Sha512 => MessageDigest::sha512(),
        }
    }

    fn digest_method(uri: &str) -> Option<Self> {
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

/// One `ds:Signature`, read and checked against the profile.
struct SignatureParts<'a, 'input> {
    signed_info: Node<'a, 'input>,
    signed_info_prefixes: Vec<&'a str>,
    signed_info_comments: bool,
    method: Method,
    reference_prefixes: Vec<&'a str>,
    digest: MessageDigest,
    digest_is_sha1: bool,
    digest_value: Vec<u8>,
    signature_value: Vec<u8>,
}

impl<'a, 'input> SignatureParts<'a, 'input> {
    /// `Ok(None)`: a well-formed signature outside the profile.
    fn read(
        signature: Node<'a, 'input>,
        parent: Node<'a, 'input>,
    ) -> Result<Option<Self>, Failure> {
        let signed_info = child(signature, "SignedInfo").ok_or(Failure::Malformed)?;
        let canonicalization = child(signed_info, "CanonicalizationMethod")
            .and_then(|m| Some((m, m.attribute("Algorithm")?)))
            .ok_or(Failure::Malformed)?;
        let method = child(signed_info, "SignatureMethod")
            .and_then(|m| m.attribute("Algorithm"))
            .ok_or(Failure::Malformed)?;
        let mut references = signed_info
            .children()
            .filter(|n| is(n, DSIG_NS, "Reference"));
        let reference = references.next().ok_or(Failure::Malformed)?;
        if references.next().is_some() {
            return Err(Failure::Reference);
        }
        // Placement rules hold on the xmlsec path too, so they come before the profile.
        let id = parent
            .attribute("ID")
            .filter(|id| !id.is_empty())
            .ok_or(Failure::AmbiguousId)?;
        if reference
            .attribute("URI")
            .and_then(|uri| uri.strip_prefix('#'))
            != Some(id)
        {
            return Err(Failure::Reference);
        }
        if parent
            .document()
            .descendants()
            .filter(|n| n.attribute("ID") == Some(id))
            .count()
            != 1
        {
            return Err(Failure::AmbiguousId);
        }
        let digest_method = child(reference, "DigestMethod")
            .and_then(|m| m.attribute("Algorithm"))
            .ok_or(Failure::Malformed)?;
        let digest_value = base64_text(child(reference, "DigestValue"))?;
        let signature_value = base64_text(child(signature, "SignatureValue"))?;
        let transforms: Vec<Node> = child(reference, "Transforms")
            .map(|t| {
                t.children()
                    .filter(|n| is(n, DSIG_NS, "Transform"))
                    .collect()
            })
            .unwrap_or_default();

        let signed_info_comments = match canonicalization.1 {
            EXC_C14N => false,
            EXC_C14N_WITH_COMMENTS => true,
            _ => return Ok(None),
        };
        let (Some(method), Some(digest)) = (
            Method::from_uri(method),
            Digest::digest_method(digest_method),
        ) else {
            return Ok(None);
        };
        // Comments are never part of a `#ID` reference (XML Signature 4.3.3.3),
        // so both exclusive forms produce the same octets here.
        let [enveloped, c14n] = transforms.as_slice() else {
            return Ok(None);
        };
        if enveloped.attribute("Algorithm") != Some(ENVELOPED)
            || !matches!(
                c14n.attribute("Algorithm"),
                Some(EXC_C14N | EXC_C14N_WITH_COMMENTS)
            )
        {
            return Ok(None);
        }
        Ok(Some(Self {
            signed_info,
            signed_info_prefixes: inclusive_prefixes(canonicalization.0),
            signed_info_comments,
            method,
            reference_prefixes: inclusive_prefixes(*c14n),
            digest: digest.message_digest(),
            digest_is_sha1: digest == Digest::Sha1,
            digest_value,
            signature_value,
        }))
    }

    fn uses_sha1(&self) -> bool {
        self.digest_is_sha1 || self.method.digest() == Digest::Sha1
    }
}

fn base64_text(node: Option<Node>) -> Result<Vec<u8>, Failure> {
    let text: String = node
        .ok_or(Failure::Malformed)?
        .children()
        .filter(|n| n.is_text())
        .filter_map(|n| n.text())
        .flat_map(|t| t.chars())
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    STANDARD.decode(text).map_err(|_| Failure::Malformed)
}

/// The `PrefixList` of an `ec:InclusiveNamespaces` child of a canonicalisation
/// method or transform; `#default` stands for the default namespace.
fn inclusive_prefixes<'a>(method: Node<'a, '_>) -> Vec<&'a str> {
    method
        .children()
        .find(|n| is(n, EXC_C14N, "InclusiveNamespaces"))
        .and_then(|n| n.attribute("PrefixList"))
        .map(|list| list.split_ascii_whitespace().collect())
        .unwrap_or_default()
}

/// Exclusive XML Canonicalization 1.0 of the subtree at `apex`, leaving out
/// the subtree `exclude` (the enveloped signature).
pub fn canonicalize<'a>(
    apex: Node<'a, '_>,
    exclude: Option<NodeId>,
    inclusive: &[&'a str],
    with_comments: bool,
) -> String {
    let mut c14n = Canonicalizer {
        out: String::with_capacity(apex.range().len()),
        rendered: Vec::new(),
        inclusive,
        with_comments,
        exclude,
        input: apex.document().input_text(),
    };
    c14n.node(apex);
    c14n.out
}

struct Canonicalizer<'a, 'l> {
    out: String,
    /// Namespace declarations in effect in the output, innermost last:
    /// (prefix, "" for the default namespace; URI).
    rendered: Vec<(&'a str, &'a str)>,
    inclusive: &'l [&'a str],
    with_comments: bool,
    exclude: Option<NodeId>,
    input: &'a str,
}

impl<'a> Canonicalizer<'a, '_> {
    fn node(&mut self, node: Node<'a, '_>) {
        match node.node_type() {
            NodeType::Element => self.element(node),
            NodeType::Text => escape_text(&mut self.out, node.text().unwrap_or_default()),
            NodeType::Comment if self.with_comments => {
                self.out.push_str("<!--");
                self.out.push_str(node.text().unwrap_or_default());
                self.out.push_str("-->");
            }
            NodeType::PI => {
                if let Some(pi) = node.pi() {
                    self.out.push_str("<?");
                    self.out.push_str(pi.target);
                    if let Some(value) = pi.value.filter(|v| !v.is_empty()) {
                        self.out.push(' ');
                        self.out.push_str(value);
                    }
                    self.out.push_str("?>");
                }
            }
            NodeType::Comment | NodeType::Root => {}
        }
    }

    fn element(&mut self, node: Node<'a, '_>) {
        if Some(node.id()) == self.exclude {
            return;
        }
        let qname = self.element_qname(node);
        let element_prefix = qname.split_once(':').map_or("", |(p, _)| p);

        let mut attributes: Vec<(&str, &str, &str, &str)> = node
            .attributes()
            .map(|a| {
                let qname = &self.input[a.range_qname()];
                (a.namespace().unwrap_or(""), a.name(), qname, a.value())
            })
            .collect();
        attributes.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));

        // Prefixes this element visibly utilizes, plus the inclusive ones in scope.
        let mut prefixes: Vec<&str> = vec![element_prefix];
        prefixes.extend(
            attributes
                .iter()
                .filter_map(|(_, _, qname, _)| qname.split_once(':').map(|(p, _)| p))
                .filter(|p| *p != "xml"),
        );
        prefixes.extend(
            self.inclusive
                .iter()
                .map(|p| if *p == "#default" { "" } else { *p }),
        );
        prefixes.sort_unstable();
        prefixes.dedup();

        let mark = self.rendered.len();
        let mut declarations = Vec::new();
        for prefix in prefixes {
            let uri = if prefix.is_empty() {
                node.default_namespace().unwrap_or("")
            } else {
                match node.lookup_namespace_uri(Some(prefix)) {
                    Some(uri) => uri,
                    None => continue,
                }
            };
            let in_output = self.rendered[..mark]
                .iter()
                .rev()
                .find(|(p, _)| *p == prefix)
                .map(|(_, u)| *u);
            let render = match in_output {
                Some(current) => current != uri,
                // An empty default namespace needs no declaration unless one was rendered.
                None => !uri.is_empty(),
            };
            if render {
                declarations.push((prefix, uri));
            }
        }

        self.out.push('<');
        self.out.push_str(qname);
        for (prefix, uri) in &declarations {
            self.out.push_str(if prefix.is_empty() {
                " xmlns"
            } else {
                " xmlns:"
            });
            self.out.push_str(prefix);
            self.out.push_str("=\"");
            escape_attribute(&mut self.out, uri);
            self.out.push('"');
        }
        self.rendered.extend_from_slice(&declarations);
        for (_, _, qname, value) in &attributes {
            self.out.push(' ');
            self.out.push_str(qname);
            self.out.push_str("=\"");
            escape_attribute(&mut self.out, value);
            self.out.push('"');
        }
        self.out.push('>');
        for child in node.children() {
            self.node(child);
        }
        self.out.push_str("</");
        self.out.push_str(qname);
        self.out.push('>');
        self.rendered.truncate(mark);
    }

    /// The element's name as written, prefix included: c14n keeps prefixes,
    /// and the tree only knows namespace URIs.
    fn element_qname(&self, node: Node<'a, '_>) -> &'a str {
        let tag = &self.input[node.range().start + 1..];
        let end = tag
            .find(|c: char| c.is_ascii_whitespace() || c == '/' || c == '>')
            .unwrap_or(tag.len());
        &tag[..end]
    }
}

/// C14N 1.0, 2.3: text nodes and attribute values escape different characters.
fn escape_text(out: &mut String, text: &str) {
    escape(out, text, |c| match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '>' => Some("&gt;"),
        '\r' => Some("&#xD;"),
        _ => None,
    })
}

fn escape_attribute(out: &mut String, value: &str) {
    escape(out, value, |c| match c {
        '&' => Some("&amp;"),
        '<' => Some("&lt;"),
        '"' => Some("&quot;"),
        '\t' => Some("&#x9;"),
        '\n' => Some("&#xA;"),
        '\r' => Some("&#xD;"),
        _ => None,
    })
}

/// Copies `text`, replacing the characters `replacement` names, in runs.
fn escape(out: &mut String, text: &str, replacement: impl Fn(char) -> Option<&'static str>) {
    let mut copied = 0;
    for (at, c) in text.char_indices() {
        if let Some(escaped) = replacement(c) {
            out.push_str(&text[copied..at]);
            out.push_str(escaped);
            copied = at + c.len_utf8();
        }
    }
    out.push_str(&text[copied..]);
}

#[cfg(test)]
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

    fn ours(xml: &str) -> Result<Outcome, Failure> {
        verify(&parse(xml)?, &public_keys(&[idp().cert_der()]), false)
    }

    /// Signs with xmlsec, then both verify: same verdict, same octets.
    fn assert_agree(unsigned: &str) -> Signed {
        let signed = sign(unsigned, &idp().key_der());
        let theirs = xmlsec(&signed, &idp().cert_der()).expect("xmlsec verifies its own signature");
        match ours(&signed) {
            Ok(Outcome::Verified(ours)) => {
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
            let Ok(Outcome::Verified(ours)) = ours(&xml) else {
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
    fn inclusive_canonicalisation_is_left_to_xmlsec_which_verifies_it() {
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
            assert_eq!(ours(&xml), Ok(Outcome::OutOfProfile));
            let verified = Crypto::reduce_xml_to_signed(
                &xml,
                &[CertificateDer::from(idp().cert_der())],
                ReduceMode::PreDigest,
            );
            assert!(
                verified.is_ok(),
                "({sign_response}, {sign_assertion}): {verified:?}\n{xml}"
            );
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

    #[test]
    fn other_canonicalisations_are_left_to_xmlsec() {
        let xml = minted(true, true).replacen(
            &format!("<ds:CanonicalizationMethod Algorithm=\"{EXC_C14N}\""),
            "<ds:CanonicalizationMethod Algorithm=\"http://www.w3.org/TR/2001/REC-xml-c14n-20010315\"",
            1,
        );
        assert_eq!(ours(&xml), Ok(Outcome::OutOfProfile));
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
        assert!(matches!(
            verify(&parse(&xml).expect("parses"), &keys, true),
            Ok(Outcome::Verified(_))
        ));
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
        let doc = parse(&xml).expect("parses");
        assert!(matches!(
            verify(&doc, &[public], false),
            Ok(Outcome::Verified(_))
        ));
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
                let Ok(Outcome::Verified(signed)) = ours(&xml) else { panic!("minted verifies") };
                let doc = parse(&xml).expect("parses");
                let assertion = doc.descendants().find(|n| is(n, ASSERTION_NS, "Assertion")).expect("assertion");
                let signature = child(assertion, "Signature").expect("signed");
                let assertion = canonicalize(assertion, Some(signature.id()), &[], false);
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
            if let Ok(Outcome::Verified(signed)) = ours(&mutated) {
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
