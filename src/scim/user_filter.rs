//! SCIM filters on users as database conditions, so that a filtered list
//! at 100,000 learners is a query and not a pass over every resource.
//!
//! [`condition`] gives the condition that holds exactly where
//! [`Filter::matches`] holds on the learner's resource ([`super::users::resource`]),
//! or nothing, and then the list matches each resource in memory. The
//! attributes translate to columns stored as they are compared: `id`,
//! `externalId`, `emails` (stored lower-case), `active`, and lower-cased
//! keys of `userName`, `displayName`, `name.givenName`, `name.familyName`
//! and the enterprise `employeeNumber`, `department` and `manager`;
//! `meta.created`, `meta.lastModified` and `meta.version` are written in SQL
//! as the resource shows them; attributes no learner's resource holds are
//! constants. Only `schemas`, `meta.location` and a value path on anything
//! but `emails` stay in memory. A property test (tests/it/scim_filter_sql.rs)
//! checks both ways agree on both databases.

use serde_json::{Value, json};

use super::ENTERPRISE_SCHEMA;
use super::filter::{AttrPath, CompareOp, Filter};
use crate::accounts::learners::{Condition, Instant, TextField, TextTest};

/// Where a path is resolved: on the resource, or inside `emails[...]`.
#[derive(Clone, Copy)]
enum Scope {
    Resource,
    Email,
}

/// What a path names, as far as the database can tell.
enum Attribute {
    /// A column; `folded` when the filter compares it lower-cased, as the
    /// column is stored.
    Text {
        field: TextField,
        folded: bool,
    },
    Active,
    /// The same for every learner (`emails.type` is always "work", and most
    /// of the schema no learner has): decided by matching the comparison on
    /// any resource.
    Constant,
}

/// What every learner's resource holds at the paths [`Attribute::Constant`]
/// names (the email sub-attributes other than `value`, the resource type),
/// and nothing where none holds anything.
fn constant_resource(scope: Scope) -> Value {
    let email = json!({ "type": "work", "primary": true });
    match scope {
        Scope::Resource => json!({ "emails": [email], "meta": { "resourceType": "User" } }),
        Scope::Email => email,
    }
}

/// The database condition equal to `filter` on learners, where there is one.
pub fn condition(filter: &Filter) -> Option<Condition> {
    translate(filter, Scope::Resource)
}

fn translate(filter: &Filter, scope: Scope) -> Option<Condition> {
    let both = |a: &Filter, b: &Filter| Some((translate(a, scope)?, translate(b, scope)?));
    match filter {
        Filter::And(a, b) => both(a, b).map(|(a, b)| Condition::And(a.into(), b.into())),
        Filter::Or(a, b) => both(a, b).map(|(a, b)| Condition::Or(a.into(), b.into())),
        Filter::Not(a) => Some(Condition::Not(translate(a, scope)?.into())),
        // A learner has exactly one email, so "some element matches" is
        // "the email matches".
        Filter::ValuePath { attr, filter } => match scope {
            Scope::Resource if is_core(attr) && attr.sub.is_none() && named(attr, "emails") => {
                translate(filter, Scope::Email)
            }
            _ => None,
        },
        Filter::Present(path) => Some(present(path, attribute(path, scope)?, scope)),
        Filter::Compare { path, op, value } => {
            let attribute = attribute(path, scope)?;
            if let Attribute::Constant = attribute {
                return Some(Condition::Always(filter.matches(&constant_resource(scope))));
            }
            Some(match (op, value) {
                // `eq null` asks for absence (as `Filter::matches` reads it).
                (CompareOp::Eq, Value::Null) => {
                    Condition::Not(present(path, attribute, scope).into())
                }
                (CompareOp::Ne, Value::Null) => present(path, attribute, scope),
                (_, Value::Null) => Condition::Always(false),
                // "ne" holds where no value equals, an absent one included.
                (CompareOp::Ne, value) => {
                    Condition::Not(compare(attribute, CompareOp::Eq, value).into())
                }
                (op, value) => compare(attribute, *op, value),
            })
        }
    }
}

fn is_enterprise(path: &AttrPath) -> bool {
    path.schema
        .as_deref()
        .is_some_and(|schema| schema.eq_ignore_ascii_case(ENTERPRISE_SCHEMA))
}

fn is_core(path: &AttrPath) -> bool {
    path.schema
        .as_deref()
        .is_none_or(|schema| schema.to_ascii_lowercase().contains(":core:"))
}

fn named(path: &AttrPath, name: &str) -> bool {
    path.name.eq_ignore_ascii_case(name)
}

fn attribute(path: &AttrPath, scope: Scope) -> Option<Attribute> {
    use TextField::*;
    let folded = |field| {
        Some(Attribute::Text {
            field,
            folded: true,
        })
    };
    let sub = path.sub.as_deref();
    let sub_is = |name: &str| sub.is_some_and(|s| s.eq_ignore_ascii_case(name));
    match scope {
        Scope::Resource if is_enterprise(path) => match sub {
            None if named(path, "employeeNumber") => folded(EmployeeNumber),
            None if named(path, "department") => folded(Department),
            _ if named(path, "manager") && (sub.is_none() || sub_is("value")) => folded(Manager),
            // The rest of the extension is never stored.
            _ => Some(Attribute::Constant),
        },
        // Another extension's attributes: no learner has any.
        Scope::Resource if !is_core(path) => Some(Attribute::Constant),
        Scope::Resource => match sub {
            // Case-exact (`filter::case_exact`), as stored.
            None if named(path, "id") => Some(Attribute::Text {
                field: Id,
                folded: false,
            }),
            None if named(path, "externalId") => Some(Attribute::Text {
                field: ExternalId,
                folded: false,
            }),
            None if named(path, "userName") => folded(UserNameKey),
            None if named(path, "displayName") => folded(DisplayName),
            None if named(path, "active") => Some(Attribute::Active),
            None if named(path, "emails") => folded(Email),
            _ if named(path, "emails") && sub_is("value") => folded(Email),
            _ if named(path, "name") && sub_is("givenName") => folded(GivenName),
            _ if named(path, "name") && sub_is("familyName") => folded(FamilyName),
            _ if named(path, "meta") && sub_is("created") => folded(Created),
            _ if named(path, "meta") && sub_is("lastModified") => folded(LastModified),
            _ if named(path, "meta") && sub_is("version") => folded(Version),
            // Made of more than a column: matched on the resource.
            _ if named(path, "schemas") || (named(path, "meta") && sub_is("location")) => None,
            // The other email and meta sub-attributes, a sub-attribute of a
            // plain value, and the attributes no learner's resource holds.
            _ => Some(Attribute::Constant),
        },
        Scope::Email => match sub {
            None if path.schema.is_none() && named(path, "value") => folded(Email),
            None if path.schema.is_none() => Some(Attribute::Constant),
            _ => None,
        },
    }
}

/// `meta.created` or `meta.lastModified` ordered against an instant written
/// as resources write theirs (whole seconds, UTC), as a range of the stored
/// instant: the resource's text orders as its instant truncated to the
/// second does, and a range reads the column, not a string made from it
/// for every learner. Other texts (another format, `co`) compare as text.
fn within(field: TextField, op: CompareOp, text: &str) -> Option<Condition> {
    let instant = match field {
        TextField::Created => Instant::Created,
        TextField::LastModified => Instant::LastModified,
        _ => return None,
    };
    let folded = text.to_lowercase();
    let at = chrono::NaiveDateTime::parse_from_str(&folded, "%Y-%m-%dt%H:%M:%Sz").ok()?;
    if super::discovery::instant(at).to_lowercase() != folded {
        return None;
    }
    let next = at.checked_add_signed(chrono::Duration::seconds(1))?;
    let (from, before) = match op {
        CompareOp::Eq => (Some(at), Some(next)),
        CompareOp::Gt => (Some(next), None),
        CompareOp::Ge => (Some(at), None),
        CompareOp::Lt => (None, Some(at)),
        CompareOp::Le => (None, Some(next)),
        _ => return None,
    };
    Some(Condition::Within {
        instant,
        from,
        before,
    })
}

/// Whether the attribute has a value (`pr`).
fn present(path: &AttrPath, attribute: Attribute, scope: Scope) -> Condition {
    match attribute {
        Attribute::Text { field, .. } => Condition::Text {
            field,
            test: TextTest::Present,
            value: String::new(),
        },
        Attribute::Active => Condition::Always(true),
        Attribute::Constant => {
            Condition::Always(Filter::Present(path.clone()).matches(&constant_resource(scope)))
        }
    }
}

/// `attribute op value` for an operator other than `ne` and a value other
/// than null, as `filter::compare` decides it.
fn compare(attribute: Attribute, op: CompareOp, value: &Value) -> Condition {
    match (attribute, value) {
        (Attribute::Text { field, .. }, Value::String(text))
            if let Some(condition) = within(field, op, text) =>
        {
            condition
        }
        (Attribute::Text { field, folded }, Value::String(value)) => Condition::Text {
            field,
            test: match op {
                CompareOp::Eq | CompareOp::Ne => TextTest::Eq,
                CompareOp::Co => TextTest::Contains,
                CompareOp::Sw => TextTest::StartsWith,
                CompareOp::Ew => TextTest::EndsWith,
                CompareOp::Gt => TextTest::Greater,
                CompareOp::Ge => TextTest::GreaterOrEqual,
                CompareOp::Lt => TextTest::Less,
                CompareOp::Le => TextTest::LessOrEqual,
            },
            value: if folded {
                value.to_lowercase()
            } else {
                value.clone()
            },
        },
        (Attribute::Active, Value::Bool(active)) if op == CompareOp::Eq => {
            Condition::Active(*active)
        }
        // A boolean only equals or differs; a value of another type never
        // compares (`ne` is handled by the caller).
        _ => Condition::Always(false),
    }
}
