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
        &format!("<samlp:Response xmlns:samlp=\"{PROTOCOL_NS}\" ID=\"_r\">{body}</samlp:Response>"),
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
    let group =
        openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).expect("curve");
    let key = PKey::from_ec_key(openssl::ec::EcKey::generate(&group).expect("key")).expect("pkey");
    let public = PKey::public_key_from_der(&key.public_key_to_der().expect("der")).expect("public");
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
