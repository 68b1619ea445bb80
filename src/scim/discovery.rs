//! What a SCIM client asks before provisioning (RFC 7644, 4):
//! `/ServiceProviderConfig`, `/ResourceTypes` and `/Schemas`, saying only
//! what this server really does.

use chrono::NaiveDateTime;
use serde_json::{Value, json};

use super::{ENTERPRISE_SCHEMA, GROUP_SCHEMA, LIST_SCHEMA, MAX_RESULTS, USER_SCHEMA};
use crate::config::BaseUrl;

/// A stored instant as SCIM writes it (RFC 3339, UTC).
pub fn instant(at: NaiveDateTime) -> String {
    at.and_utc()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
}

pub fn service_provider_config(base_url: &BaseUrl) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
        "patch": { "supported": true },
        "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
        "filter": { "supported": true, "maxResults": MAX_RESULTS },
        "changePassword": { "supported": false },
        "sort": { "supported": false },
        "etag": { "supported": true },
        "authenticationSchemes": [{
            "type": "oauthbearertoken",
            "name": "Bearer token",
            "description": "The token `seatgate scim create` printed, as `Authorization: Bearer <token>`.",
            "primary": true,
        }],
        "meta": {
            "resourceType": "ServiceProviderConfig",
            "location": base_url.join("/scim/v2/ServiceProviderConfig"),
        },
    })
}

fn user_resource_type(base_url: &BaseUrl) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": "User",
        "name": "User",
        "endpoint": "/Users",
        "description": "A learner",
        "schema": USER_SCHEMA,
        "schemaExtensions": [{ "schema": ENTERPRISE_SCHEMA, "required": false }],
        "meta": {
            "resourceType": "ResourceType",
            "location": base_url.join("/scim/v2/ResourceTypes/User"),
        },
    })
}

fn group_resource_type(base_url: &BaseUrl) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
        "id": "Group",
        "name": "Group",
        "endpoint": "/Groups",
        "description": "A group of learners",
        "schema": GROUP_SCHEMA,
        "meta": {
            "resourceType": "ResourceType",
            "location": base_url.join("/scim/v2/ResourceTypes/Group"),
        },
    })
}

/// `/ResourceTypes`, or the one named `id`.
pub fn resource_types(base_url: &BaseUrl, id: Option<&str>) -> Option<Value> {
    let all = [user_resource_type(base_url), group_resource_type(base_url)];
    match id {
        None => Some(list(all.to_vec())),
        Some(id) => all.into_iter().find(|t| t["id"] == id),
    }
}

fn attribute(name: &str, kind: &str, required: bool, mutability: &str, uniqueness: &str) -> Value {
    json!({
        "name": name,
        "type": kind,
        "multiValued": false,
        "required": required,
        "caseExact": false,
        "mutability": mutability,
        "returned": "default",
        "uniqueness": uniqueness,
    })
}

fn complex(name: &str, multi_valued: bool, subs: Vec<Value>) -> Value {
    json!({
        "name": name,
        "type": "complex",
        "multiValued": multi_valued,
        "required": false,
        "mutability": "readWrite",
        "returned": "default",
        "subAttributes": subs,
    })
}

fn schemas_known(base_url: &BaseUrl) -> Vec<Value> {
    let rw = |name: &str| attribute(name, "string", false, "readWrite", "none");
    let user = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": USER_SCHEMA,
        "name": "User",
        "description": "A learner",
        "attributes": [
            attribute("userName", "string", true, "readWrite", "server"),
            rw("displayName"),
            attribute("active", "boolean", false, "readWrite", "none"),
            complex("name", false, vec![rw("givenName"), rw("familyName"), rw("formatted")]),
            // Required here because a learner needs an address: the emails,
            // or a userName that is one.
            json!({
                "name": "emails",
                "type": "complex",
                "multiValued": true,
                "required": true,
                "mutability": "readWrite",
                "returned": "default",
                "subAttributes": [
                    attribute("value", "string", true, "readWrite", "none"),
                    rw("type"),
                    attribute("primary", "boolean", false, "readWrite", "none"),
                ],
            }),
        ],
        "meta": {
            "resourceType": "Schema",
            "location": base_url.join(&format!("/scim/v2/Schemas/{USER_SCHEMA}")),
        },
    });
    let enterprise = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": ENTERPRISE_SCHEMA,
        "name": "EnterpriseUser",
        "description": "Enterprise User",
        "attributes": [
            rw("employeeNumber"),
            rw("department"),
            complex("manager", false, vec![rw("value")]),
        ],
        "meta": {
            "resourceType": "Schema",
            "location": base_url.join(&format!("/scim/v2/Schemas/{ENTERPRISE_SCHEMA}")),
        },
    });
    let group = json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
        "id": GROUP_SCHEMA,
        "name": "Group",
        "description": "A group of learners",
        "attributes": [
            attribute("displayName", "string", true, "readWrite", "none"),
            // Members are users (no nested groups).
            complex("members", true, vec![
                attribute("value", "string", false, "immutable", "none"),
                attribute("display", "string", false, "readOnly", "none"),
                json!({
                    "name": "$ref",
                    "type": "reference",
                    "referenceTypes": ["User"],
                    "multiValued": false,
                    "required": false,
                    "caseExact": true,
                    "mutability": "immutable",
                    "returned": "default",
                    "uniqueness": "none",
                }),
            ]),
        ],
        "meta": {
            "resourceType": "Schema",
            "location": base_url.join(&format!("/scim/v2/Schemas/{GROUP_SCHEMA}")),
        },
    });
    vec![user, enterprise, group]
}

/// `/Schemas`, or the one named `id`.
pub fn schemas(base_url: &BaseUrl, id: Option<&str>) -> Option<Value> {
    let all = schemas_known(base_url);
    match id {
        None => Some(list(all)),
        Some(id) => all.into_iter().find(|s| s["id"] == id),
    }
}

/// A ListResponse of every resource given (no paging: a handful).
fn list(resources: Vec<Value>) -> Value {
    json!({
        "schemas": [LIST_SCHEMA],
        "totalResults": resources.len(),
        "startIndex": 1,
        "itemsPerPage": resources.len(),
        "Resources": resources,
    })
}
