//! A real OpenID Connect provider in LinkedIn's place: panva/oidc-provider
//! (tests/oidc-provider), started on 127.0.0.1 for one test. A missing Node.js
//! or missing node_modules fails the test loudly: `scripts/setup --test`
//! installs both.

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};

use seatgate::config::{ClientSecret, LinkedIn};

pub const CLIENT_ID: &str = "seatgate-test-client";
const CLIENT_SECRET: &str = "seatgate-test-secret-0123456789";

pub struct OidcProvider {
    pub issuer: String,
    child: Child,
}

impl OidcProvider {
    /// Starts the provider with one client whose redirect URI is `redirect_uri`.
    pub fn start(redirect_uri: &str) -> Self {
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
        OidcProvider { issuer, child }
    }

    /// Seatgate's LinkedIn settings pointing at this provider.
    pub fn linkedin(&self) -> LinkedIn {
        LinkedIn {
            client_id: CLIENT_ID.to_owned(),
            client_secret: ClientSecret::new(CLIENT_SECRET.to_owned()),
            issuer: self.issuer.clone(),
        }
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl super::TestApp {
    /// The app with LinkedIn binding against a fresh local provider.
    pub async fn spawn_with_linkedin(backend: super::Backend) -> (Self, OidcProvider) {
        let mut provider = None;
        let app = Self::on(super::TestDb::fresh(backend))
            .linkedin(|address| {
                let started = OidcProvider::start(&format!("{address}/profile/linkedin/callback"));
                let linkedin = started.linkedin();
                provider = Some(started);
                Some(linkedin)
            })
            .spawn()
            .await;
        (app, provider.expect("the provider started"))
    }
}
