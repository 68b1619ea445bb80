//! SCIM filters on users as database conditions, so that a filtered list
//! at 100,000 learners is a query and not a pass over every resource.
//!
//! [`condition`] gives the condition that holds exactly where
//! [`Filter::matches`] holds on the learner's resource ([`super::users::resource`]),
//! or nothing, and then the list matches each resource in memory. Only the
//! attributes stored as they are compared translate: `id`, `externalId`,
//! `userName` (its lower-cased key), `emails` (stored lower-case) and
//! `active`; names, department and `meta` stay in memory. A property test
//! (tests/it/scim_filter_sql.rs) checks both ways agree on both databases.

use serde_json::{Value, json};

use super::filter::{AttrPath, CompareOp, Filter};
use crate::accounts::learners::{Condition, TextField, TextTest};

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
    /// The same for every learner (`emails.type` is always "work"): decided
    /// by matching the comparison on any resource.
    Constant,
}

/// What every learner's resource holds at the paths [`Attribute::Constant`]
/// names (the email sub-attributes other than `value`).
fn constant_resource(scope: Scope) -> Value {
    let email = json!({ "type": "work", "primary": true });
    match scope {
        Scope::Resource => json!({ "emails": [email] }),
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

fn is_core(path: &AttrPath) -> bool {
    path.schema
        .as_deref()
        .is_none_or(|schema| schema.to_ascii_lowercase().contains(":core:"))
}

fn named(path: &AttrPath, name: &str) -> bool {
    path.name.eq_ignore_ascii_case(name)
}

fn attribute(path: &AttrPath, scope: Scope) -> Option<Attribute> {
    if !is_core(path) {
        return None;
    }
    let text = |field, folded| Some(Attribute::Text { field, folded });
    let sub = path.sub.as_deref();
    match scope {
        Scope::Resource => match sub {
            None if named(path, "id") => text(TextField::Id, path.schema.is_some()),
            // Case-exact, unless a schema URN prefix makes the filter fold it
            // (see `filter::case_exact`): then the column is not as compared.
            None if named(path, "externalId") => path.schema.is_none().then_some(Attribute::Text {
                field: TextField::ExternalId,
                folded: false,
            }),
            None if named(path, "userName") => text(TextField::UserNameKey, true),
            None if named(path, "active") => Some(Attribute::Active),
            None if named(path, "emails") => text(TextField::Email, true),
            Some(sub) if named(path, "emails") && sub.eq_ignore_ascii_case("value") => {
                text(TextField::Email, true)
            }
            Some(_) if named(path, "emails") => Some(Attribute::Constant),
            _ => None,
        },
        Scope::Email => match sub {
            None if path.schema.is_none() && named(path, "value") => text(TextField::Email, true),
            None if path.schema.is_none() => Some(Attribute::Constant),
            _ => None,
        },
    }
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
