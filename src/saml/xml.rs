//! The one screen for hostile XML (SAML responses, decrypted assertions, IdP
//! metadata): cheap text checks first, then one bounded parse.
//!
//! One reading of the input: the text is UTF-8 (the caller decoded it so) and
//! an XML declaration may not claim otherwise, so no parser can read a
//! different document from the same bytes (UTF-7 markup hidden from us).

use roxmltree::{Document, Node, ParsingOptions};

/// Nesting deeper than this is refused right after parsing: SAML messages
/// and metadata need fewer than 20 levels.
pub const MAX_DEPTH: usize = 64;
/// Nodes a document may expand to; the callers bound the bytes.
const MAX_NODES: u32 = 50_000;
/// Namespace declarations a document may make (counted generously, as the
/// text `xmlns`). Okta declares xs and xsi on every attribute value, so a
/// learner in hundreds of groups needs hundreds; the bound keeps the parser's
/// per-element copying of namespaces small.
const MAX_NAMESPACE_DECLARATIONS: usize = 4096;
/// Namespaces in scope at any one element; real messages have about ten.
const MAX_NAMESPACES_IN_SCOPE: usize = 64;

/// Why a document was refused before anything read its content.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Refused {
    #[error("the XML declaration names the encoding {0:?}; only UTF-8 is accepted")]
    Encoding(String),
    #[error("the document contains a DTD or entity declaration")]
    Dtd,
    #[error("the document declares more than {MAX_NAMESPACE_DECLARATIONS} namespaces")]
    NamespaceDeclarations,
    #[error("an element has more than {MAX_NAMESPACES_IN_SCOPE} namespaces in scope")]
    NamespacesInScope,
    #[error("not well-formed XML: {0}")]
    NotXml(String),
    #[error("elements are nested more than {MAX_DEPTH} deep")]
    TooDeep,
}

/// Parses a hostile document: the text checks, then roxmltree without DTDs
/// and with bounded nodes, then depth and namespaces in scope. Linear in the
/// input; nothing is fetched or opened.
pub fn parse(xml: &str) -> Result<Document<'_>, Refused> {
    if let Some(encoding) = declared_encoding(xml)
        && !encoding.eq_ignore_ascii_case("UTF-8")
    {
        return Err(Refused::Encoding(encoding.chars().take(40).collect()));
    }
    if has_dtd(xml) {
        return Err(Refused::Dtd);
    }
    if xml.matches("xmlns").count() > MAX_NAMESPACE_DECLARATIONS {
        return Err(Refused::NamespaceDeclarations);
    }
    let doc = Document::parse_with_options(
        xml,
        ParsingOptions {
            allow_dtd: false,
            nodes_limit: MAX_NODES,
            ..ParsingOptions::default()
        },
    )
    .map_err(|e| Refused::NotXml(e.to_string()))?;
    // Document order visits a parent before its children.
    let mut depth = vec![0u8; doc.descendants().count()];
    for node in doc.descendants().filter(|n| n.is_element()) {
        let level = node
            .parent_element()
            .map_or(1, |parent| depth[parent.id().get_usize()] + 1);
        if usize::from(level) > MAX_DEPTH {
            return Err(Refused::TooDeep);
        }
        depth[node.id().get_usize()] = level;
        if node
            .namespaces()
            .filter(|ns| ns.name() != Some("xml"))
            .nth(MAX_NAMESPACES_IN_SCOPE)
            .is_some()
        {
            return Err(Refused::NamespacesInScope);
        }
    }
    Ok(doc)
}

/// The `encoding` of a leading XML declaration, if it names one.
fn declared_encoding(xml: &str) -> Option<&str> {
    let text = xml.strip_prefix('\u{feff}').unwrap_or(xml);
    let declaration = text.strip_prefix("<?xml")?;
    if !declaration.starts_with(|c: char| c.is_ascii_whitespace()) {
        return None;
    }
    let declaration = &declaration[..declaration.find("?>").unwrap_or(declaration.len())];
    let after = &declaration[declaration.find("encoding")? + "encoding".len()..];
    let value = after.trim_start().strip_prefix('=')?.trim_start();
    // A value we cannot read is reported whole, and so refused.
    let Some(quote) = value.chars().next().filter(|q| matches!(q, '"' | '\'')) else {
        return Some(value);
    };
    let value = &value[1..];
    Some(value.find(quote).map_or(value, |end| &value[..end]))
}

/// How many elements with this namespace and local name the document holds.
pub fn count(doc: &Document, namespace: &str, name: &str) -> usize {
    doc.descendants().filter(|n| is(n, namespace, name)).count()
}

/// Whether `node` is the element `{namespace}name`.
pub fn is(node: &Node, namespace: &str, name: &str) -> bool {
    node.is_element()
        && node.tag_name().namespace() == Some(namespace)
        && node.tag_name().name() == name
}

/// The first child element `{namespace}name`.
pub fn child<'a, 'input>(
    node: Node<'a, 'input>,
    namespace: &str,
    name: &str,
) -> Option<Node<'a, 'input>> {
    node.children().find(|n| is(n, namespace, name))
}

/// An attribute without a namespace. (roxmltree's `attribute("x")` matches
/// `x` in any namespace, so `foo:ID` would pass for `ID`.)
pub fn unqualified<'a>(node: &Node<'a, '_>, name: &str) -> Option<&'a str> {
    node.attributes()
        .find(|a| a.namespace().is_none() && a.name() == name)
        .map(|a| a.value())
}

/// Refuses document type declarations and entity declarations outright:
/// they enable XXE, billion-laughs expansion and DTD-driven ID tricks, and
/// no SAML message or metadata needs them.
fn has_dtd(xml: &str) -> bool {
    xml.match_indices("<!").any(|(at, _)| {
        let rest = &xml.as_bytes()[at + 2..];
        ["DOCTYPE", "ENTITY"].iter().any(|keyword| {
            rest.get(..keyword.len())
                .is_some_and(|word| word.eq_ignore_ascii_case(keyword.as_bytes()))
        })
    })
}

/// Escapes text for an XML attribute or element (our own templates).
pub fn escape(text: &str) -> String {
    quick_xml::escape::escape(text).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn doctype_and_entities_are_detected_in_any_case() {
        assert!(has_dtd(
            "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"b\">]><x/>"
        ));
        assert!(has_dtd("<!doctype x><x/>"));
        assert!(has_dtd("<x><!-- --><!EnTiTy"));
        assert!(!has_dtd("<x><!-- <!DOCTYP --><![CDATA[ENTITY]]></x>"));
        assert!(!has_dtd("<x>no declarations</x>"));
    }

    #[test]
    fn only_utf8_may_be_declared() {
        for refused in [
            r#"<?xml version="1.0" encoding="UTF-7"?><x/>"#,
            "<?xml version='1.0' encoding='utf-16'?><x/>",
            "\u{feff}<?xml version=\"1.0\" encoding = \"ISO-8859-1\" ?><x/>",
            "<?xml version=\"1.0\" encoding=UTF-7?><x/>",
        ] {
            assert!(
                matches!(parse(refused), Err(Refused::Encoding(_))),
                "{refused}"
            );
        }
        for accepted in [
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?><x/>",
            "<?xml version='1.0' encoding='utf-8'?><x/>",
            "<?xml version=\"1.0\"?><x/>",
            "<x>encoding=\"UTF-7\"</x>",
        ] {
            assert!(parse(accepted).is_ok(), "{accepted}");
        }
    }

    #[test]
    fn depth_is_bounded_right_after_parsing() {
        let nested = |levels: usize| format!("{}{}", "<a>".repeat(levels), "</a>".repeat(levels));
        assert!(parse(&nested(MAX_DEPTH)).is_ok());
        assert_eq!(parse(&nested(MAX_DEPTH + 1)).err(), Some(Refused::TooDeep));
        assert_eq!(parse(&nested(20_000)).err(), Some(Refused::TooDeep));
    }

    #[test]
    fn namespaces_are_bounded() {
        let declarations: String = (0..=MAX_NAMESPACES_IN_SCOPE)
            .map(|i| format!(" xmlns:p{i}=\"urn:{i}\""))
            .collect();
        assert_eq!(
            parse(&format!("<a{declarations}><b/></a>")).err(),
            Some(Refused::NamespacesInScope)
        );
        let many = "<a xmlns:p=\"urn:p\"/>".repeat(MAX_NAMESPACE_DECLARATIONS + 1);
        assert_eq!(
            parse(&format!("<r>{many}</r>")).err(),
            Some(Refused::NamespaceDeclarations)
        );
    }
}
