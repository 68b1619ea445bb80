//! Guards for hostile XML, applied before any parser runs.

use quick_xml::events::Event;
use quick_xml::name::ResolveResult;
use quick_xml::reader::NsReader;

/// Refuses document type declarations and entity declarations outright:
/// they enable XXE, billion-laughs expansion and DTD-driven ID tricks, and
/// no SAML message or metadata needs them.
pub fn has_dtd(xml: &str) -> bool {
    xml.match_indices("<!").any(|(at, _)| {
        let rest = &xml.as_bytes()[at + 2..];
        ["DOCTYPE", "ENTITY"].iter().any(|keyword| {
            rest.get(..keyword.len())
                .is_some_and(|word| word.eq_ignore_ascii_case(keyword.as_bytes()))
        })
    })
}

/// Counts elements by (namespace, local name) in one pass, and reports
/// whether the text is well-formed XML at all. Entities are never expanded
/// here (quick-xml reads no DTD), so this is safe on hostile input.
pub fn count_elements<const N: usize>(
    xml: &str,
    names: [(&str, &str); N],
) -> Result<[usize; N], String> {
    let mut reader = NsReader::from_str(xml);
    let mut counts = [0; N];
    let mut depth = 0usize;
    let mut saw_root = false;
    loop {
        let (ns, local) = match reader.read_resolved_event() {
            Ok((ns, Event::Start(e))) => {
                depth += 1;
                (ns, e.local_name().as_ref().to_vec())
            }
            Ok((ns, Event::Empty(e))) => (ns, e.local_name().as_ref().to_vec()),
            Ok((_, Event::End(_))) => {
                depth = depth.saturating_sub(1);
                continue;
            }
            Ok((_, Event::Eof)) => break,
            Ok(_) => continue,
            Err(e) => return Err(e.to_string()),
        };
        saw_root = true;
        if let ResolveResult::Bound(bound) = ns
            && let Some(i) = names.iter().position(|(n, l)| {
                n.as_bytes() == bound.as_ref() && l.as_bytes() == local.as_slice()
            })
        {
            counts[i] += 1;
        }
    }
    if !saw_root || depth != 0 {
        return Err("no complete root element".into());
    }
    Ok(counts)
}

/// The namespace and local name of the root element, if the text has one.
pub fn root_element(xml: &str) -> Option<(String, String)> {
    let mut reader = NsReader::from_str(xml);
    loop {
        match reader.read_resolved_event().ok()? {
            (ns, Event::Start(e) | Event::Empty(e)) => {
                let namespace = match ns {
                    ResolveResult::Bound(bound) => {
                        String::from_utf8_lossy(bound.as_ref()).into_owned()
                    }
                    _ => String::new(),
                };
                return Some((
                    namespace,
                    String::from_utf8_lossy(e.local_name().as_ref()).into_owned(),
                ));
            }
            (_, Event::Eof) => return None,
            _ => {}
        }
    }
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
    fn elements_are_counted_by_namespace() {
        let xml = r#"<r xmlns:a="urn:a" xmlns:b="urn:b"><a:x/><b:x/><a:x><a:y/></a:x></r>"#;
        assert_eq!(
            count_elements(xml, [("urn:a", "x"), ("urn:a", "y"), ("urn:b", "x")]).unwrap(),
            [2, 1, 1]
        );
        assert!(count_elements("<r><x></r>", [("urn:a", "x")]).is_err());
        assert!(count_elements("not xml", [("urn:a", "x")]).is_err());
    }
}
