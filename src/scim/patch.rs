//! SCIM PATCH (RFC 7644, 3.5.2) applied to a resource's JSON form, as the
//! real IdPs send it:
//! - Entra ID's default dialect: `Add`/`Replace`/`Remove` capitalised, one op
//!   per attribute, `emails[type eq "work"].value` paths for attributes the
//!   user may not have yet, booleans as the strings `"True"`/`"False"`
//!   (Microsoft Learn, "Known issues and resolutions with SCIM 2.0 protocol
//!   compliance of the Microsoft Entra user provisioning service").
//! - Entra's `aadOptscim062020` flag: lower-case ops, real booleans, and one
//!   `replace` without path whose value has dotted keys (`"name.givenName"`).
//! - Okta: a `replace` without path whose value is an object
//!   (`{"op":"replace","value":{"active":false}}`, Okta's "SCIM 2.0 Protocol
//!   Reference", Update a specific User (PATCH)).
//!
//! The caller turns the patched JSON back into the resource exactly as a
//! PUT body is read, so both verbs apply the same rules.

use serde::Deserialize;
use serde_json::{Map, Value};

use super::Error;
use super::filter::{AttrPath, CompareOp, Filter, PatchPath, member};

/// Most operations in one PATCH request.
const MAX_OPERATIONS: usize = 1000;

#[derive(Deserialize)]
pub struct PatchRequest {
    #[serde(rename = "Operations", alias = "operations")]
    operations: Vec<Operation>,
}

#[derive(Deserialize)]
struct Operation {
    op: String,
    #[serde(default)]
    path: Option<String>,
    #[serde(default)]
    value: Option<Value>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Add,
    Replace,
    Remove,
}

/// Applies every operation to `resource`, in order; all or nothing.
pub fn apply(resource: &mut Value, request: PatchRequest) -> Result<(), Error> {
    if request.operations.len() > MAX_OPERATIONS {
        return Err(Error::InvalidValue(format!(
            "at most {MAX_OPERATIONS} operations per request"
        )));
    }
    for operation in request.operations {
        let op = match operation.op.to_ascii_lowercase().as_str() {
            "add" => Op::Add,
            "replace" => Op::Replace,
            "remove" => Op::Remove,
            other => {
                return Err(Error::InvalidSyntax(format!(
                    "{other:?} is not a PATCH operation (add, replace or remove)"
                )));
            }
        };
        match (operation.path, operation.value) {
            (Some(path), value) => {
                let path: PatchPath = path
                    .parse()
                    .map_err(|e| Error::InvalidPath(format!("path {path:?}: {e}")))?;
                apply_at(resource, op, &path, value)?;
            }
            (None, Some(Value::Object(values))) if op != Op::Remove => {
                // No path: each member is an attribute (or a dotted path, in
                // Entra's aadOptscim062020 form) to add or replace.
                for (key, value) in values {
                    let path: PatchPath = key
                        .parse()
                        .map_err(|e| Error::InvalidPath(format!("attribute {key:?}: {e}")))?;
                    apply_at(resource, op, &path, Some(value))?;
                }
            }
            (None, _) if op == Op::Remove => {
                return Err(Error::NoTarget("a remove operation needs a path".into()));
            }
            (None, _) => {
                return Err(Error::InvalidValue(
                    "an operation without a path needs an object of attributes as its value".into(),
                ));
            }
        }
    }
    Ok(())
}

/// The attributes no client may change (RFC 7643, 3.1: readOnly).
fn read_only(attr: &AttrPath) -> bool {
    attr.is("id") || attr.name.eq_ignore_ascii_case("meta")
}

/// The object an attribute lives in: the resource, or its extension's object.
fn container<'a>(
    resource: &'a mut Value,
    attr: &AttrPath,
) -> Result<&'a mut Map<String, Value>, Error> {
    let object = resource
        .as_object_mut()
        .ok_or_else(|| Error::InvalidValue("the resource is not an object".into()))?;
    match &attr.schema {
        Some(schema) if !schema.to_ascii_lowercase().contains(":core:") => {
            let key = key_of(object, schema);
            let extension = object
                .entry(key)
                .or_insert_with(|| Value::Object(Map::new()));
            if !extension.is_object() {
                *extension = Value::Object(Map::new());
            }
            Ok(extension.as_object_mut().expect("made an object above"))
        }
        _ => Ok(object),
    }
}

/// The key `name` is stored under in `object` (any case), or `name` itself.
fn key_of(object: &Map<String, Value>, name: &str) -> String {
    object
        .keys()
        .find(|k| k.eq_ignore_ascii_case(name))
        .cloned()
        .unwrap_or_else(|| name.to_owned())
}

fn apply_at(
    resource: &mut Value,
    op: Op,
    path: &PatchPath,
    value: Option<Value>,
) -> Result<(), Error> {
    if read_only(&path.attr) {
        // Okta's group rename repeats the id in the value
        // ({"op":"replace","value":{"id":"...","displayName":"..."}}, Okta's
        // "SCIM 2.0 Protocol Reference", Update a specific Group name): the
        // same value changes nothing and is no error.
        let unchanged = op != Op::Remove
            && path.filter.is_none()
            && path.attr.sub.is_none()
            && value.is_some()
            && member(resource, &path.attr.name) == value.as_ref();
        if unchanged {
            return Ok(());
        }
        return Err(Error::Mutability(format!(
            "{} is read-only",
            path.attr.name
        )));
    }
    let value = match (op, value) {
        (Op::Remove, value) => value,
        (_, Some(value)) => Some(value),
        (_, None) => {
            return Err(Error::InvalidValue(format!(
                "{} needs a value",
                if op == Op::Add { "add" } else { "replace" }
            )));
        }
    };
    let object = container(resource, &path.attr)?;
    let key = key_of(object, &path.attr.name);
    if let Some(filter) = &path.filter {
        return apply_filtered(object, &key, op, filter, path.sub.as_deref(), value);
    }
    match (&path.attr.sub, op) {
        (Some(sub), Op::Remove) => {
            if let Some(Value::Object(parent)) = object.get_mut(&key) {
                let sub_key = key_of(parent, sub);
                parent.remove(&sub_key);
            }
        }
        (Some(sub), _) => {
            let parent = object
                .entry(key)
                .or_insert_with(|| Value::Object(Map::new()));
            if !parent.is_object() {
                *parent = Value::Object(Map::new());
            }
            let parent = parent.as_object_mut().expect("made an object above");
            let sub_key = key_of(parent, sub);
            parent.insert(sub_key, value.unwrap_or(Value::Null));
        }
        (None, Op::Remove) => match (object.get_mut(&key), value) {
            // Entra's member removal: {"op":"Remove","path":"members","value":[{"value":id}]}.
            (Some(Value::Array(items)), Some(Value::Array(gone))) => {
                items.retain(|item| !gone.iter().any(|g| same_element(item, g)));
            }
            _ => {
                object.remove(&key);
            }
        },
        (None, Op::Add) => match (object.get_mut(&key), value) {
            // Adding to a multi-valued attribute appends; an element that is
            // there already stays once (re-adding a member succeeds).
            (Some(Value::Array(items)), Some(value)) => {
                let added = match value {
                    Value::Array(added) => added,
                    one => vec![one],
                };
                for element in added {
                    if !items.iter().any(|item| same_element(item, &element)) {
                        items.push(element);
                    }
                }
            }
            (Some(Value::Object(existing)), Some(Value::Object(added))) => {
                for (k, v) in added {
                    let k = key_of(existing, &k);
                    existing.insert(k, v);
                }
            }
            (_, value) => {
                object.insert(key, value.unwrap_or(Value::Null));
            }
        },
        (None, Op::Replace) => match (object.get_mut(&key), value) {
            (Some(Value::Object(existing)), Some(Value::Object(added))) => {
                for (k, v) in added {
                    let k = key_of(existing, &k);
                    existing.insert(k, v);
                }
            }
            (_, value) => {
                object.insert(key, value.unwrap_or(Value::Null));
            }
        },
    }
    Ok(())
}

/// Elements of a multi-valued attribute are the same when their `value` is.
fn same_element(a: &Value, b: &Value) -> bool {
    match (member(a, "value"), member(b, "value")) {
        (Some(x), Some(y)) => x == y,
        _ => a == b,
    }
}

/// `attr[filter]` or `attr[filter].sub`.
fn apply_filtered(
    object: &mut Map<String, Value>,
    key: &str,
    op: Op,
    filter: &Filter,
    sub: Option<&str>,
    value: Option<Value>,
) -> Result<(), Error> {
    let items = object
        .entry(key.to_owned())
        .or_insert_with(|| Value::Array(Vec::new()));
    if !items.is_array() {
        *items = Value::Array(vec![items.take()]);
    }
    let items = items.as_array_mut().expect("made an array above");
    let matching: Vec<usize> = (0..items.len())
        .filter(|&i| filter.matches(&items[i]))
        .collect();
    match op {
        Op::Remove => {
            match sub {
                Some(sub) => {
                    for &i in &matching {
                        if let Value::Object(element) = &mut items[i] {
                            let sub_key = key_of(element, sub);
                            element.remove(&sub_key);
                        }
                    }
                }
                None => {
                    let mut index = 0;
                    items.retain(|_| {
                        let keep = !matching.contains(&index);
                        index += 1;
                        keep
                    });
                }
            }
            Ok(())
        }
        Op::Add | Op::Replace => {
            let value = value.unwrap_or(Value::Null);
            if matching.is_empty() {
                // Entra sets attributes the user lacks through a filtered path
                // (`emails[type eq "work"].value` for a user with no work email):
                // the element is made from the filter's equalities.
                let mut element = equalities(filter).ok_or_else(|| {
                    Error::NoTarget(format!("no element of {key} matches the filter"))
                })?;
                match (sub, value) {
                    (Some(sub), value) => {
                        element.insert(sub.to_owned(), value);
                    }
                    (None, Value::Object(fields)) => element.extend(fields),
                    (None, other) => {
                        element.insert("value".to_owned(), other);
                    }
                }
                items.push(Value::Object(element));
                return Ok(());
            }
            for &i in &matching {
                match (sub, &value, &mut items[i]) {
                    (Some(sub), value, Value::Object(element)) => {
                        let sub_key = key_of(element, sub);
                        element.insert(sub_key, value.clone());
                    }
                    (None, Value::Object(fields), Value::Object(element)) => {
                        for (k, v) in fields {
                            let k = key_of(element, k);
                            element.insert(k, v.clone());
                        }
                    }
                    (_, value, element) => *element = value.clone(),
                }
            }
            Ok(())
        }
    }
}

/// The sub-attributes a filter of `eq` comparisons joined by `and` fixes,
/// as a new element's fields; `None` for any other filter.
fn equalities(filter: &Filter) -> Option<Map<String, Value>> {
    match filter {
        Filter::Compare {
            path,
            op: CompareOp::Eq,
            value,
        } if path.schema.is_none() && path.sub.is_none() => {
            let mut fields = Map::new();
            fields.insert(path.name.clone(), value.clone());
            Some(fields)
        }
        Filter::And(a, b) => {
            let mut fields = equalities(a)?;
            fields.extend(equalities(b)?);
            Some(fields)
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn patched(mut resource: Value, ops: Value) -> Result<Value, Error> {
        let request: PatchRequest = serde_json::from_value(json!({
            "schemas": [super::super::PATCH_SCHEMA],
            "Operations": ops,
        }))
        .expect("a PATCH body");
        apply(&mut resource, request)?;
        Ok(resource)
    }

    fn ann() -> Value {
        json!({
            "id": "1", "userName": "ann@acme.example", "active": true,
            "name": {"givenName": "Ann", "familyName": "Smith"},
            "emails": [{"value": "ann@acme.example", "type": "work", "primary": true}],
        })
    }

    #[test]
    fn entra_default_dialect() {
        let after = patched(
            ann(),
            json!([
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "ann.smith@acme.example"},
                {"op": "Add", "path": "emails[type eq \"home\"].value", "value": "ann@home.example"},
                {"op": "Replace", "path": "name.familyName", "value": "Jones"},
                {"op": "Replace", "path": "active", "value": "False"},
                {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Sales"},
            ]),
        )
        .expect("applies");
        assert_eq!(after["emails"][0]["value"], "ann.smith@acme.example");
        assert_eq!(
            after["emails"][1],
            json!({"type": "home", "value": "ann@home.example"})
        );
        assert_eq!(after["name"]["familyName"], "Jones");
        assert_eq!(
            after["active"], "False",
            "string booleans are read by the resource"
        );
        assert_eq!(
            after["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"],
            "Sales"
        );
    }

    #[test]
    fn entra_aad_opt_scim_062020_and_okta_without_path() {
        let after = patched(
            ann(),
            json!([{"op": "replace", "value": {
                "name.givenName": "Anna",
                "active": false,
                "displayName": "Anna Smith",
            }}]),
        )
        .expect("applies");
        assert_eq!(
            after["name"],
            json!({"givenName": "Anna", "familyName": "Smith"})
        );
        assert_eq!(after["active"], false);
        assert_eq!(after["displayName"], "Anna Smith");
        let okta = patched(
            ann(),
            json!([{"op": "replace", "value": {"active": false}}]),
        )
        .expect("applies");
        assert_eq!(okta["active"], false);
    }

    #[test]
    fn member_removal_both_ways_and_re_adding_a_member() {
        let group = json!({"displayName": "Sales", "members": [{"value": "a"}, {"value": "b"}, {"value": "c"}]});
        let after = patched(
            group,
            json!([
                {"op": "Remove", "path": "members", "value": [{"value": "a"}]},
                {"op": "remove", "path": "members[value eq \"b\"]"},
                {"op": "add", "path": "members", "value": [{"value": "c"}, {"value": "d"}]},
            ]),
        )
        .expect("applies");
        assert_eq!(after["members"], json!([{"value": "c"}, {"value": "d"}]));
    }

    #[test]
    fn a_path_naming_the_extension_reaches_the_whole_object() {
        let ext = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";
        let added = patched(
            ann(),
            json!([{"op": "add", "path": ext, "value": {"department": "D"}}]),
        )
        .expect("applies");
        assert_eq!(added[ext], json!({"department": "D"}));
        let removed = patched(added, json!([{"op": "remove", "path": ext}])).expect("applies");
        assert!(removed.get(ext).is_none(), "{removed}");
    }

    #[test]
    fn okta_rename_repeats_the_unchanged_id() {
        let group = json!({"id": "g-1", "displayName": "Sales"});
        let after = patched(
            group,
            json!([{"op": "replace", "value": {"id": "g-1", "displayName": "Sales EMEA"}}]),
        )
        .expect("the same id is no change");
        assert_eq!(after["displayName"], "Sales EMEA");
    }

    #[test]
    fn refusals_name_the_scim_error() {
        let cases = [
            (
                json!([{"op": "Replace", "path": "id", "value": "x"}]),
                "Mutability",
            ),
            (json!([{"op": "remove"}]), "NoTarget"),
            (json!([{"op": "copy", "path": "a"}]), "InvalidSyntax"),
            (
                json!([{"op": "add", "path": "emails[", "value": "x"}]),
                "InvalidPath",
            ),
            (json!([{"op": "add", "value": "x"}]), "InvalidValue"),
            (
                json!([{"op": "replace", "path": "emails[value co \"zzz\"].value", "value": "y"}]),
                "NoTarget",
            ),
        ];
        for (ops, kind) in cases {
            let error = patched(ann(), ops.clone()).expect_err("refused");
            assert!(format!("{error:?}").starts_with(kind), "{ops}: {error:?}");
        }
    }
}
