//! Signing, for the IdPs we play (the demo IdP, the tests): fills in an
//! enveloped signature template of the profile `verify` accepts.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use openssl::hash::hash;
use openssl::pkey::{PKey, Private};

use openssl::sign::Signer;

use super::{Method, SignatureParts, child, id_of};
use crate::saml::c14n::{canonicalize, qname_as_written};

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
    let doc = crate::saml::xml::parse(xml).map_err(|e| fail(&e))?;
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

impl Method {
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
