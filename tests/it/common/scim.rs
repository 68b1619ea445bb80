//! A SCIM client for the tests: a bearer token and JSON, as IdPs send them.

use awc::Client;
use serde_json::Value;

use super::TestApp;
use crate::cli::{stderr, stdout, with_db};

pub struct ScimClient {
    client: Client,
    base: String,
    pub token: String,
}

pub struct Reply {
    pub status: u16,
    pub body: Value,
    pub etag: Option<String>,
    pub location: Option<String>,
    pub content_type: Option<String>,
    pub www_authenticate: Option<String>,
    pub retry_after: Option<String>,
}

impl Reply {
    /// The `scimType` of an error body.
    pub fn scim_type(&self) -> &str {
        self.body["scimType"].as_str().unwrap_or("")
    }
}

impl ScimClient {
    pub fn new(app: &TestApp, token: &str) -> Self {
        Self {
            client: Client::builder()
                .timeout(std::time::Duration::from_secs(120))
                .finish(),
            base: format!("{}/scim/v2", app.address),
            token: token.to_owned(),
        }
    }

    /// Sends `body` (raw bytes, so tests can send what no IdP would).
    pub async fn send_raw(&self, method: &str, path: &str, body: Option<Vec<u8>>) -> Reply {
        let method = awc::http::Method::from_bytes(method.as_bytes()).expect("method");
        let request = self
            .client
            .request(method, format!("{}{path}", self.base))
            .insert_header(("Authorization", format!("Bearer {}", self.token)))
            .insert_header(("Content-Type", "application/scim+json"));
        let mut response = match body {
            Some(body) => request.send_body(body).await,
            None => request.send().await,
        }
        .expect("the SCIM request is answered");
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|v| v.to_str().ok())
                .map(str::to_owned)
        };
        let (etag, location, content_type, www_authenticate, retry_after) = (
            header("ETag"),
            header("Location"),
            header("Content-Type"),
            header("WWW-Authenticate"),
            header("Retry-After"),
        );
        let status = response.status().as_u16();
        let bytes = response.body().limit(64 * 1024 * 1024).await.expect("body");
        let body = if bytes.is_empty() {
            Value::Null
        } else {
            serde_json::from_slice(&bytes).unwrap_or_else(|_| {
                panic!("{status}: not JSON: {}", String::from_utf8_lossy(&bytes))
            })
        };
        Reply {
            status,
            body,
            etag,
            location,
            content_type,
            www_authenticate,
            retry_after,
        }
    }

    pub async fn send(&self, method: &str, path: &str, body: Option<&Value>) -> Reply {
        self.send_raw(method, path, body.map(|b| b.to_string().into_bytes()))
            .await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send("GET", path, None).await
    }

    pub async fn post(&self, path: &str, body: &Value) -> Reply {
        self.send("POST", path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: &Value) -> Reply {
        self.send("PUT", path, Some(body)).await
    }

    /// A PatchOp with these operations.
    pub async fn patch(&self, path: &str, operations: Value) -> Reply {
        let body = serde_json::json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": operations,
        });
        self.send("PATCH", path, Some(&body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send("DELETE", path, None).await
    }
}

impl TestApp {
    /// Creates a SCIM configuration of `org` through the CLI, as operators
    /// do; its token is stdout's last line. `extra`: further flags.
    pub fn scim_config(&self, org: &str, name: &str, extra: &[&str]) -> ScimClient {
        self.org(org);
        let mut args = vec!["scim", "create", org, "--name", name];
        args.extend_from_slice(extra);
        let output = with_db(&self.db, &args);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        let token = stdout(&output)
            .lines()
            .last()
            .expect("a last line")
            .to_owned();
        ScimClient::new(self, &token)
    }
}
