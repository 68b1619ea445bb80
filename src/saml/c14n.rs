//! XML Canonicalization of one element's subtree: inclusive C14N 1.0 and
//! exclusive C14N 1.0, with or without comments, leaving out one subtree
//! (the enveloped signature).
//!
//! Iterative: the walk keeps its own stack, so no nesting depth can overflow
//! the thread's stack (documents are also refused beyond
//! [`super::xml::MAX_DEPTH`] before any of this runs). Namespaces in effect in
//! the output are kept per prefix, so a lookup costs the same at any depth.

use std::collections::HashMap;

use roxmltree::{Node, NodeId, NodeType};

const XML_NS: &str = "http://www.w3.org/XML/1998/namespace";

/// Which canonicalization, with its parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form<'p, 'a> {
    /// Canonical XML 1.0: every namespace in scope is rendered where it changes.
    Inclusive,
    /// Exclusive XML Canonicalization 1.0: only the namespaces an element
    /// visibly uses, plus those of the InclusiveNamespaces `PrefixList`
    /// (`""` standing for `#default`).
    Exclusive(&'p [&'a str]),
}

/// Canonicalizes the subtree at `apex`, leaving out the subtree `exclude`.
pub fn canonicalize<'a>(
    apex: Node<'a, '_>,
    exclude: Option<NodeId>,
    form: Form<'_, 'a>,
    with_comments: bool,
) -> String {
    let mut writer = Writer {
        out: String::with_capacity(apex.range().len()),
        form,
        with_comments,
        input: apex.document().input_text(),
        in_output: HashMap::new(),
        declared: Vec::new(),
        marks: Vec::new(),
    };
    let skipped = |node: Node| Some(node.id()) == exclude;
    let mut node = apex;
    'walk: loop {
        let descend = !skipped(node) && writer.open(node, node == apex);
        if descend && let Some(child) = node.first_child() {
            node = child;
            continue;
        }
        // `node` and everything below it is written: close elements upwards
        // until a next sibling is found, or the apex is closed.
        loop {
            if node.is_element() && !skipped(node) {
                writer.close(node);
            }
            if node == apex {
                break 'walk;
            }
            if let Some(next) = node.next_sibling() {
                node = next;
                continue 'walk;
            }
            match node.parent() {
                Some(parent) => node = parent,
                // Unreachable for a descendant of the apex; ends the walk all the same.
                None => break 'walk,
            }
        }
    }
    writer.out
}

struct Writer<'a, 'p> {
    out: String,
    form: Form<'p, 'a>,
    with_comments: bool,
    input: &'a str,
    /// Namespace URIs in effect in the output, per prefix ("" for the
    /// default namespace), innermost last.
    in_output: HashMap<&'a str, Vec<&'a str>>,
    /// The prefixes each open element declared, in order, to undo at its end.
    declared: Vec<&'a str>,
    /// Where each open element's declarations start in `declared`.
    marks: Vec<usize>,
}

impl<'a> Writer<'a, '_> {
    /// Writes the node (an element's start tag); true when its children follow.
    fn open(&mut self, node: Node<'a, '_>, apex: bool) -> bool {
        match node.node_type() {
            NodeType::Element => {
                self.start_tag(node, apex);
                true
            }
            NodeType::Text => {
                escape_text(&mut self.out, node.text().unwrap_or_default());
                false
            }
            NodeType::Comment if self.with_comments => {
                self.out.push_str("<!--");
                self.out.push_str(node.text().unwrap_or_default());
                self.out.push_str("-->");
                false
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
                false
            }
            NodeType::Comment | NodeType::Root => false,
        }
    }

    fn start_tag(&mut self, node: Node<'a, '_>, apex: bool) {
        let qname = qname_as_written(node);
        let element_prefix = qname.split_once(':').map_or("", |(p, _)| p);

        // (namespace URI, local name, name as written, value)
        let mut attributes: Vec<(&str, &str, &str, &str)> = node
            .attributes()
            .map(|a| {
                (
                    a.namespace().unwrap_or(""),
                    a.name(),
                    &self.input[a.range_qname()],
                    a.value(),
                )
            })
            .collect();
        if apex && matches!(self.form, Form::Inclusive) {
            inherit_xml_attributes(node, self.input, &mut attributes);
        }
        attributes.sort_unstable_by(|a, b| (a.0, a.1).cmp(&(b.0, b.1)));

        // (prefix, URI) of every namespace that may need rendering here.
        let mut candidates: Vec<(&'a str, &'a str)> = Vec::new();
        match self.form {
            Form::Inclusive => {
                candidates.extend(
                    node.namespaces()
                        .filter_map(|ns| Some((ns.name()?, ns.uri())))
                        .filter(|(prefix, _)| *prefix != "xml"),
                );
                candidates.push(("", node.default_namespace().unwrap_or("")));
            }
            Form::Exclusive(inclusive) => {
                let used = std::iter::once(element_prefix)
                    .chain(
                        attributes
                            .iter()
                            .filter_map(|(_, _, qname, _)| qname.split_once(':').map(|(p, _)| p)),
                    )
                    .filter(|p| *p != "xml");
                for prefix in used.chain(inclusive.iter().copied()) {
                    let uri = if prefix.is_empty() {
                        Some(node.default_namespace().unwrap_or(""))
                    } else {
                        node.lookup_namespace_uri(Some(prefix))
                    };
                    if let Some(uri) = uri {
                        candidates.push((prefix, uri));
                    }
                }
            }
        }
        candidates.sort_unstable();
        candidates.dedup_by_key(|(prefix, _)| *prefix);

        self.marks.push(self.declared.len());
        self.out.push('<');
        self.out.push_str(qname);
        for (prefix, uri) in candidates {
            let current = self.in_output.get(prefix).and_then(|uris| uris.last());
            let render = match current {
                Some(current) => *current != uri,
                // An empty default namespace needs no declaration unless another was rendered.
                None => !uri.is_empty(),
            };
            if !render {
                continue;
            }
            self.out.push_str(if prefix.is_empty() {
                " xmlns"
            } else {
                " xmlns:"
            });
            self.out.push_str(prefix);
            self.out.push_str("=\"");
            escape_attribute(&mut self.out, uri);
            self.out.push('"');
            self.in_output.entry(prefix).or_default().push(uri);
            self.declared.push(prefix);
        }
        for (_, _, qname, value) in &attributes {
            self.out.push(' ');
            self.out.push_str(qname);
            self.out.push_str("=\"");
            escape_attribute(&mut self.out, value);
            self.out.push('"');
        }
        self.out.push('>');
    }

    fn close(&mut self, node: Node<'a, '_>) {
        self.out.push_str("</");
        self.out.push_str(qname_as_written(node));
        self.out.push('>');
        let mark = self.marks.pop().unwrap_or(0);
        for prefix in self.declared.drain(mark..) {
            if let Some(uris) = self.in_output.get_mut(prefix) {
                uris.pop();
            }
        }
    }
}

/// The element's name as written, prefix included: c14n keeps prefixes,
/// and the tree only knows namespace URIs.
pub(super) fn qname_as_written<'a>(node: Node<'a, '_>) -> &'a str {
    let tag = &node.document().input_text()[node.range().start + 1..];
    let end = tag
        .find(|c: char| c.is_ascii_whitespace() || c == '/' || c == '>')
        .unwrap_or(tag.len());
    &tag[..end]
}

/// C14N 1.0, 2.4: a document subset's apex carries the `xml:` attributes
/// (xml:lang, xml:space, ...) it inherits from ancestors outside the subset.
fn inherit_xml_attributes<'a>(
    apex: Node<'a, '_>,
    input: &'a str,
    attributes: &mut Vec<(&'a str, &'a str, &'a str, &'a str)>,
) {
    for ancestor in apex.ancestors().skip(1).filter(Node::is_element) {
        for attribute in ancestor.attributes() {
            if attribute.namespace() == Some(XML_NS)
                && !attributes
                    .iter()
                    .any(|(ns, name, _, _)| *ns == XML_NS && *name == attribute.name())
            {
                attributes.push((
                    XML_NS,
                    attribute.name(),
                    &input[attribute.range_qname()],
                    attribute.value(),
                ));
            }
        }
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
    use roxmltree::Document;

    use super::*;

    /// The walk keeps its own stack: a tree far deeper than any thread's
    /// stack allows for recursion canonicalizes (the XML screen refuses such
    /// documents before, this is the second line).
    #[test]
    fn a_deep_tree_does_not_overflow_the_stack() {
        let levels = 200_000;
        let xml = format!("{}{}", "<a>".repeat(levels), "</a>".repeat(levels));
        let doc = Document::parse_with_options(
            &xml,
            roxmltree::ParsingOptions {
                nodes_limit: u32::MAX,
                ..roxmltree::ParsingOptions::default()
            },
        )
        .expect("parses");
        for form in [Form::Inclusive, Form::Exclusive(&[])] {
            assert_eq!(canonicalize(doc.root_element(), None, form, false), xml);
        }
    }

    #[test]
    fn inclusive_renders_the_namespaces_in_scope_at_the_apex_and_changes_below() {
        let doc = Document::parse(
            r#"<r xmlns="urn:d" xmlns:a="urn:a" xmlns:u="urn:u" xml:lang="en"><x a:k="1"><y xmlns="" xmlns:a="urn:a"/></x></r>"#,
        )
        .expect("parses");
        let x = doc.root_element().first_child().expect("x");
        assert_eq!(
            canonicalize(x, None, Form::Inclusive, false),
            // Attributes sort by namespace URI: the XML namespace (http://...) before urn:a.
            r#"<x xmlns="urn:d" xmlns:a="urn:a" xmlns:u="urn:u" xml:lang="en" a:k="1"><y xmlns=""></y></x>"#
        );
        assert_eq!(
            canonicalize(x, None, Form::Exclusive(&[]), false),
            r#"<x xmlns="urn:d" xmlns:a="urn:a" a:k="1"><y xmlns=""></y></x>"#
        );
    }
}
