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
/// The same, counted on the text before parsing, where a redeclaration counts
/// again (an upper bound, hence looser). A parser resolves every element's
/// prefix against what is in scope: 4,000 declarations over 45,000 elements
/// cost roxmltree 130 ms, and this check is what keeps that from happening.
const MAX_DECLARATIONS_IN_SCOPE: usize = 256;

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
    if declarations_in_scope_exceed(xml, MAX_DECLARATIONS_IN_SCOPE) {
        return Err(Refused::NamespacesInScope);
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

/// Whether, reading start and end tags on the text, the namespace
/// declarations of an element and its ancestors ever exceed `limit`. Linear;
/// comments, CDATA, processing instructions and quoted attribute values are
/// skipped, and a malformed text is left for the parser to refuse.
fn declarations_in_scope_exceed(xml: &str, limit: usize) -> bool {
    let bytes = xml.as_bytes();
    let skip_past = |from: usize, end: &str| {
        xml[from..]
            .find(end)
            .map_or(bytes.len(), |at| from + at + end.len())
    };
    // Declarations in scope at each open element, innermost last.
    let mut open: Vec<usize> = Vec::new();
    let mut at = 0;
    while let Some(found) = xml[at..].find('<') {
        let start = at + found;
        let rest = &xml[start..];
        if rest.starts_with("<!--") {
            at = skip_past(start, "-->");
        } else if rest.starts_with("<![CDATA[") {
            at = skip_past(start, "]]>");
        } else if rest.starts_with("<?") {
            at = skip_past(start, "?>");
        } else if rest.starts_with("</") {
            open.pop();
            at = skip_past(start, ">");
        } else {
            let (mut end, mut quote, mut declared) = (start + 1, None, 0);
            while end < bytes.len() {
                match (quote, bytes[end]) {
                    (Some(q), c) if c == q => quote = None,
                    (Some(_), _) => {}
                    (None, c @ (b'"' | b'\'')) => quote = Some(c),
                    (None, b'>') => break,
                    (None, c)
                        if c.is_ascii_whitespace() && bytes[end + 1..].starts_with(b"xmlns") =>
                    {
                        declared += 1
                    }
                    _ => {}
                }
                end += 1;
            }
            let in_scope = open.last().copied().unwrap_or(0) + declared;
            if in_scope > limit {
                return true;
            }
            if bytes.get(end.wrapping_sub(1)) != Some(&b'/') {
                open.push(in_scope);
            }
            at = end + 1;
        }
        if at >= bytes.len() {
            break;
        }
    }
    false
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
    fn declarations_in_scope_are_counted_on_the_text() {
        let declarations = |n: usize, prefix: &str| -> String {
            (0..n)
                .map(|i| format!(" xmlns:{prefix}{i}=\"u\""))
                .collect()
        };
        // Nested: 4 levels of 70 add up beyond 256; siblings do not add up.
        let nested = format!(
            "<a{}><b{}><c{}><d{}/></c></b></a>",
            declarations(70, "a"),
            declarations(70, "b"),
            declarations(70, "c"),
            declarations(70, "d")
        );
        assert!(declarations_in_scope_exceed(&nested, 256));
        let siblings = format!(
            "<a><b{}/><b{}></b><b{}/><b{}/></a>",
            declarations(70, "a"),
            declarations(70, "b"),
            declarations(70, "c"),
            declarations(70, "d")
        );
        assert!(!declarations_in_scope_exceed(&siblings, 256));
        // What looks like a declaration in a value, comment or CDATA is none.
        let hidden = format!(
            "<a title=\"{}\"><!--{}--><![CDATA[<b{}>]]></a>",
            declarations(300, "v").replace('"', "'"),
            declarations(300, "c"),
            declarations(300, "d")
        );
        assert!(!declarations_in_scope_exceed(&hidden, 256));
    }

    #[test]
    fn too_many_declarations_in_scope_are_refused_before_parsing() {
        // Unclosed, so the parser would say "not XML": the text check ran first.
        let hostile = format!(
            "<a{}><b/>",
            (0..300)
                .map(|i| format!(" xmlns:p{i}=\"u\""))
                .collect::<String>()
        );
        assert_eq!(parse(&hostile).err(), Some(Refused::NamespacesInScope));
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
