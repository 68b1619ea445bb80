//! The application side of the OpenID Connect provider tests: registering
//! applications, the independent relying party (Authlib, tests/oidc-rp), and
//! raw authorize and token requests for what a well-behaved library never sends.

use std::process::Command;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use seatgate::applications::{self, IdTokenAlg, NewApplication};
use seatgate::audit::Actor;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{TestApp, Visitor};

/// Never contacted: the relying party reads the code from the redirect.
pub const REDIRECT: &str = "http://127.0.0.1:9/callback";

pub struct Registered {
    pub client_id: String,
    pub secret: Option<String>,
}

impl TestApp {
    /// Registers an application "LMS" redirecting to [`REDIRECT`].
    pub fn register_app(&self, public: bool, alg: IdTokenAlg) -> Registered {
        self.register_named_app("LMS", public, alg)
    }

    pub fn register_named_app(&self, name: &str, public: bool, alg: IdTokenAlg) -> Registered {
        let mut conn = self.store.connection().expect("connection");
        let (app, secret) = applications::create(
            &mut conn,
            &self.clock.clock(),
            &Actor::Cli,
            NewApplication {
                name: name.to_owned(),
                redirect_uris: vec![REDIRECT.parse().expect("URI")],
                post_logout_redirect_uris: vec![
                    "http://127.0.0.1:9/signed-out".parse().expect("URI"),
                ],
                launch_url: None,
                public,
                id_token_alg: alg,
            },
        )
        .expect("register application");
        Registered {
            client_id: app.id.to_string(),
            secret: secret.map(|s| s.expose().to_owned()),
        }
    }

    /// The issuer this app's provider names.
    pub fn issuer(&self) -> String {
        self.address.clone()
    }

    /// Runs the Authlib relying party for the learner signed in as
    /// `visitor`; returns its report (claims, header, userinfo).
    pub fn relying_party(&self, client: &Registered, visitor: &Visitor, extra: &[&str]) -> Value {
        let root = env!("CARGO_MANIFEST_DIR");
        let python = format!("{root}/target/oidc-rp-venv/bin/python");
        let mut command = Command::new(&python);
        command
            .arg(format!("{root}/tests/oidc-rp/rp.py"))
            .arg(self.issuer())
            .arg(&client.client_id)
            .arg(REDIRECT)
            .arg(format!(
                "seatgate={}",
                visitor.cookie.as_deref().expect("signed in")
            ))
            .args(extra);
        // One argument: a secret may start with "-" (base64url), which
        // argparse would take for an option.
        if let Some(secret) = &client.secret {
            command.arg(format!("--secret={secret}"));
        }
        let output = command.output().unwrap_or_else(|e| {
            panic!("the relying party needs {python} (run scripts/setup --test): {e}")
        });
        let stdout = String::from_utf8_lossy(&output.stdout);
        assert!(
            output.status.success(),
            "the relying party failed:\n{stdout}\n{}",
            String::from_utf8_lossy(&output.stderr)
        );
        serde_json::from_str(&stdout).expect("the relying party prints JSON")
    }
}

/// A PKCE verifier and its S256 challenge.
pub fn pkce() -> (String, String) {
    let verifier = format!("v{}", uuid::Uuid::new_v4().simple()).repeat(2);
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    (verifier, challenge)
}

/// The authorize URL for `client` with these extra parameters.
pub fn authorize_path(client_id: &str, extra: &[(&str, &str)]) -> String {
    let mut query = url::form_urlencoded::Serializer::new(String::new());
    query
        .append_pair("response_type", "code")
        .append_pair("client_id", client_id)
        .append_pair("redirect_uri", REDIRECT)
        .append_pair("scope", "openid email profile")
        .append_pair("state", "st-1")
        .append_pair("nonce", "n-1");
    for (name, value) in extra {
        query.append_pair(name, value);
    }
    format!("/oauth/authorize?{}", query.finish())
}

/// The value of `name` in the query of `location`.
pub fn query_value(location: &str, name: &str) -> Option<String> {
    url::Url::parse(location)
        .ok()?
        .query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// A code for the signed-in `visitor`, with PKCE `challenge` if given.
pub async fn code_for(visitor: &mut Visitor, client_id: &str, challenge: Option<&str>) -> String {
    let mut extra = vec![];
    if let Some(challenge) = challenge {
        extra.push(("code_challenge", challenge));
        extra.push(("code_challenge_method", "S256"));
    }
    let page = visitor.get(&authorize_path(client_id, &extra)).await;
    assert_eq!(page.status.as_u16(), 303, "{}", page.body);
    let location = page.location.expect("redirect");
    assert!(location.starts_with(REDIRECT), "{location}");
    assert_eq!(query_value(&location, "state").as_deref(), Some("st-1"));
    query_value(&location, "code").expect("a code")
}

/// Posts a token request; returns the status and the JSON answer.
pub async fn token_request(
    app: &TestApp,
    form: &[(&str, &str)],
    basic: Option<(&str, &str)>,
) -> (u16, Value) {
    let mut visitor = app.visitor();
    let authorization = basic.map(|(id, secret)| {
        format!(
            "Basic {}",
            base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
        )
    });
    let headers: Vec<(&str, &str)> = authorization
        .as_deref()
        .map(|value| vec![("Authorization", value)])
        .unwrap_or_default();
    let page = visitor.post_with("/oauth/token", form, &headers).await;
    (
        page.status.as_u16(),
        serde_json::from_str(&page.body).unwrap_or_else(|_| panic!("JSON answer: {}", page.body)),
    )
}
