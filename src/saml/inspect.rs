//! What a response says, read for a person (a test sign-in's report), not
//! for trust: nothing here is verified, and nothing read here decides
//! anything. The response has passed [`Decoded::parse`]'s screens (size,
//! depth, no DTD) before it is read here.

use serde::{Deserialize, Serialize};

use super::dsig::DSIG_NS;
use super::validate::{Decoded, Parsed};
use super::xml;
use super::{ASSERTION_NS, PROTOCOL_NS};

/// A response as sent, for an IdP administrator to read.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Inspection {
    /// The XML, indented.
    pub xml: String,
    pub issuer: Option<String>,
    pub name_id: Option<String>,
    pub name_id_format: Option<String>,
    /// Of a plain assertion (an encrypted one is read only when verified).
    pub attributes: Vec<(String, String)>,
    pub response_signed: bool,
    pub assertion_signed: bool,
    pub encrypted: bool,
    pub issue_instant: Option<String>,
    pub not_before: Option<String>,
    pub not_on_or_after: Option<String>,
    /// SubjectConfirmationData's NotOnOrAfter.
    pub confirmation_not_on_or_after: Option<String>,
    pub destination: Option<String>,
    pub recipient: Option<String>,
    pub audience: Option<String>,
    pub status: Option<String>,
}

/// Reads what `parsed` says; `decoded` is its text, shown indented.
pub fn inspect(decoded: &Decoded, parsed: Option<&Parsed<'_>>) -> Inspection {
    let mut seen = Inspection {
        xml: indented(decoded.text()),
        ..Inspection::default()
    };
    let Some(parsed) = parsed else {
        return seen;
    };
    let root = parsed.root();
    let text =
        |node: Option<roxmltree::Node>| node.and_then(|n| n.text()).map(|t| t.trim().to_owned());
    seen.destination = root.attribute("Destination").map(str::to_owned);
    seen.status = xml::child(root, PROTOCOL_NS, "Status")
        .and_then(|s| xml::child(s, PROTOCOL_NS, "StatusCode"))
        .and_then(|c| c.attribute("Value"))
        .map(str::to_owned);
    seen.response_signed = xml::child(root, DSIG_NS, "Signature").is_some();
    seen.encrypted = xml::child(root, ASSERTION_NS, "EncryptedAssertion").is_some();
    let assertion = xml::child(root, ASSERTION_NS, "Assertion");
    seen.issuer = text(xml::child(root, ASSERTION_NS, "Issuer"))
        .or_else(|| text(assertion.and_then(|a| xml::child(a, ASSERTION_NS, "Issuer"))));
    let Some(assertion) = assertion else {
        return seen;
    };
    seen.assertion_signed = xml::child(assertion, DSIG_NS, "Signature").is_some();
    seen.issue_instant = assertion.attribute("IssueInstant").map(str::to_owned);
    let subject = xml::child(assertion, ASSERTION_NS, "Subject");
    let name_id = subject.and_then(|s| xml::child(s, ASSERTION_NS, "NameID"));
    seen.name_id = text(name_id);
    seen.name_id_format = name_id
        .and_then(|n| n.attribute("Format"))
        .map(str::to_owned);
    let confirmation = subject
        .and_then(|s| xml::child(s, ASSERTION_NS, "SubjectConfirmation"))
        .and_then(|c| xml::child(c, ASSERTION_NS, "SubjectConfirmationData"));
    seen.confirmation_not_on_or_after = confirmation
        .and_then(|c| c.attribute("NotOnOrAfter"))
        .map(str::to_owned);
    seen.recipient = confirmation
        .and_then(|c| c.attribute("Recipient"))
        .map(str::to_owned);
    if let Some(conditions) = xml::child(assertion, ASSERTION_NS, "Conditions") {
        seen.not_before = conditions.attribute("NotBefore").map(str::to_owned);
        seen.not_on_or_after = conditions.attribute("NotOnOrAfter").map(str::to_owned);
        seen.audience = text(
            xml::child(conditions, ASSERTION_NS, "AudienceRestriction")
                .and_then(|r| xml::child(r, ASSERTION_NS, "Audience")),
        );
    }
    if let Some(statement) = xml::child(assertion, ASSERTION_NS, "AttributeStatement") {
        for attribute in statement
            .children()
            .filter(|n| xml::is(n, ASSERTION_NS, "Attribute"))
        {
            let name = attribute.attribute("Name").unwrap_or_default().to_owned();
            for value in attribute
                .children()
                .filter(|n| xml::is(n, ASSERTION_NS, "AttributeValue"))
            {
                seen.attributes.push((
                    name.clone(),
                    value.text().unwrap_or_default().trim().to_owned(),
                ));
            }
        }
    }
    seen
}

/// The XML indented two spaces a level, for reading; as it came when it
/// cannot be read as XML.
fn indented(text: &str) -> String {
    use quick_xml::events::Event;
    let mut reader = quick_xml::Reader::from_str(text);
    reader.config_mut().trim_text(true);
    let mut writer = quick_xml::Writer::new_with_indent(Vec::new(), b' ', 2);
    loop {
        match reader.read_event() {
            Ok(Event::Eof) => break,
            Ok(event) => {
                if writer.write_event(event).is_err() {
                    return text.to_owned();
                }
            }
            Err(_) => return text.to_owned(),
        }
    }
    String::from_utf8(writer.into_inner()).unwrap_or_else(|_| text.to_owned())
}
