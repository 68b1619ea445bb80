//! A real OpenID Connect provider in LinkedIn's place: panva/oidc-provider
//! (tests/oidc-provider), started on 127.0.0.1 for one test, behaving as
//! LinkedIn does (provider.mjs lists the deviations and where they are
//! reported) or as a standard provider. A missing Node.js or missing
//! node_modules fails the test loudly: `scripts/setup --test` installs both.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use seatgate::config::{ClientSecret, LinkedIn};

pub const CLIENT_ID: &str = "seatgate-test-client";
const CLIENT_SECRET: &str = "seatgate-test-secret-0123456789";

/// How the provider behaves.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Flavor {
    /// As LinkedIn: no nonce in ID tokens, client_secret_post only, an issuer
    /// with a path, `email_verified` as a string; `pkce` as when LinkedIn has
    /// enabled PKCE for the app (else a code_verifier fails the exchange).
    LinkedIn { pkce: bool },
    /// Conforming: nonce echoed, PKCE required.
    Standard,
}

pub struct OidcProvider {
    pub issuer: String,
    flavor: Flavor,
    child: Child,
}

impl OidcProvider {
    /// Starts the provider with one client whose redirect URI is `redirect_uri`.
    pub fn start(redirect_uri: &str, flavor: Flavor) -> Self {
        let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/oidc-provider");
        assert!(
            dir.join("node_modules/oidc-provider").exists(),
            "the OpenID Connect provider for the tests is not installed: run scripts/setup --test \
             (npm ci in {})",
            dir.display()
        );
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut child = Command::new("node")
            .arg("provider.mjs")
            .current_dir(&dir)
            .env("PORT", port.to_string())
            .env("CLIENT_ID", CLIENT_ID)
            .env("CLIENT_SECRET", CLIENT_SECRET)
            .env("REDIRECT_URI", redirect_uri)
            .env(
                "MODE",
                match flavor {
                    Flavor::LinkedIn { .. } => "linkedin",
                    Flavor::Standard => "standard",
                },
            )
            .env(
                "PKCE",
                if flavor == (Flavor::LinkedIn { pkce: true }) {
                    "on"
                } else {
                    "off"
                },
            )
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start node (Node.js is needed: scripts/setup --test installs it)");
        let stdout = child.stdout.take().expect("provider output");
        let mut lines = BufReader::new(stdout);
        let mut first = String::new();
        lines
            .read_line(&mut first)
            .expect("read the provider's first line");
        // Keep reading: a closed pipe would kill the provider at its next line.
        std::thread::spawn(move || std::io::copy(&mut lines, &mut std::io::sink()));
        let issuer = first
            .trim()
            .strip_prefix("ready ")
            .unwrap_or_else(|| panic!("the OpenID Connect provider did not start: {first:?}"))
            .to_owned();
        OidcProvider {
            issuer,
            flavor,
            child,
        }
    }

    /// Seatgate's LinkedIn settings for this provider, as an operator would
    /// set them: `linkedin_pkce` on where the provider does PKCE.
    pub fn linkedin(&self) -> LinkedIn {
        LinkedIn {
            client_id: CLIENT_ID.to_owned(),
            client_secret: ClientSecret::new(CLIENT_SECRET.to_owned()),
            issuer: self.issuer.clone(),
            pkce: self.flavor != (Flavor::LinkedIn { pkce: false }),
        }
    }

    /// Plays `member` at the provider over plain HTTP: follows the
    /// authorization URL through the development login and consent pages and
    /// returns where the provider sends the browser back (Seatgate's callback,
    /// with `code` and `state`). The clicks in a real browser are in
    /// profile_browser.rs.
    pub async fn authorize_as(&self, authorization_url: &str, member: &str) -> String {
        let origin = {
            let url = url::Url::parse(&self.issuer).expect("issuer URL");
            url.origin().ascii_serialization()
        };
        let client = awc::Client::builder().disable_redirects().finish();
        let mut cookies = BTreeMap::<String, String>::new();
        let mut url = authorization_url.to_owned();
        let mut form: Option<Vec<(&str, String)>> = None;
        for _ in 0..12 {
            let cookie = cookies
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("; ");
            let request = if form.is_some() {
                client.post(&url)
            } else {
                client.get(&url)
            }
            .insert_header(("Cookie", cookie));
            let mut response = match form.take() {
                Some(fields) => request.send_form(&fields).await,
                None => request.send().await,
            }
            .expect("the provider answers");
            for value in response.headers().get_all("set-cookie") {
                let pair = value.to_str().expect("ASCII cookie").split(';').next();
                if let Some((name, value)) = pair.and_then(|p| p.split_once('=')) {
                    cookies.insert(name.to_owned(), value.to_owned());
                }
            }
            if response.status().is_redirection() {
                let location = response
                    .headers()
                    .get("location")
                    .expect("Location")
                    .to_str()
                    .expect("ASCII");
                let absolute = if location.starts_with('/') {
                    format!("{origin}{location}")
                } else {
                    location.to_owned()
                };
                if !absolute.starts_with(&origin) {
                    return absolute;
                }
                url = absolute;
                continue;
            }
            let body = response.body().await.expect("page");
            let page = String::from_utf8_lossy(&body);
            assert!(response.status().is_success(), "{url}: {page}");
            let action = page
                .split("action=\"")
                .nth(1)
                .and_then(|rest| rest.split('"').next())
                .unwrap_or_else(|| panic!("a form at {url}: {page}"));
            url = if action.starts_with('/') {
                format!("{origin}{action}")
            } else {
                action.to_owned()
            };
            form = Some(if page.contains("name=\"login\"") {
                vec![
                    ("prompt", "login".to_owned()),
                    ("login", member.to_owned()),
                    ("password", "any password".to_owned()),
                ]
            } else {
                vec![("prompt", "consent".to_owned())]
            });
        }
        panic!("the provider never sent the browser back");
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl super::TestApp {
    /// The LinkedIn member `sub` bound to learner `email` of "acme", if any.
    pub fn bound_member(&self, email: &str) -> Option<String> {
        self.bound_member_of("acme", email)
    }

    /// The LinkedIn member `sub` bound to learner `email` of `org`, if any.
    pub fn bound_member_of(&self, org: &str, email: &str) -> Option<String> {
        let learner = self
            .learners(org)
            .into_iter()
            .find(|l| l.email.as_str() == email)?;
        let mut conn = self.store.connection().expect("connection");
        seatgate::binding::binding_of(&mut conn, learner.id)
            .expect("binding")
            .map(|b| b.member.sub)
    }

    /// The app with LinkedIn binding against a fresh local provider that
    /// behaves as LinkedIn does by default (PKCE not enabled).
    pub async fn spawn_with_linkedin(backend: super::Backend) -> (Self, OidcProvider) {
        Self::spawn_with_provider(backend, Flavor::LinkedIn { pkce: false }).await
    }

    /// The app with LinkedIn binding against a fresh local provider of `flavor`.
    pub async fn spawn_with_provider(
        backend: super::Backend,
        flavor: Flavor,
    ) -> (Self, OidcProvider) {
        let mut provider = None;
        let app = Self::on(super::TestDb::fresh(backend))
            .linkedin(|address| {
                let started =
                    OidcProvider::start(&format!("{address}/profile/linkedin/callback"), flavor);
                let linkedin = started.linkedin();
                provider = Some(started);
                Some(linkedin)
            })
            .spawn()
            .await;
        (app, provider.expect("the provider started"))
    }
}
