//! The built-in development IdP at `/demo-idp`, enabled only by `seatgate demo`
//! or `demo_idp = true`. It lets a person click through a real sign-in: it
//! reads our signed AuthnRequest, asks for an email and a name, and posts a
//! signed response to the real ACS, where it is validated like any other.

use std::io::Read;
use std::path::Path;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use flate2::read::DeflateDecoder;
use samael::crypto::{CertificateDer, UrlVerifier};
use samael::schema::AuthnRequest;

use crate::config::BaseUrl;
use crate::saml::SpEndpoints;
use crate::saml::keys::{KeyError, KeyPair, SpKeys};
use crate::saml::mint::{self, ResponseSpec};

/// The IdP and its signing key.
pub struct DemoIdp {
    key: KeyPair,
    pub entity_id: String,
    pub sso_url: String,
}

/// A sign-in request the demo IdP received from us.
#[derive(Debug)]
pub struct IncomingRequest {
    pub id: String,
    pub acs_url: String,
    pub relay_state: Option<String>,
}

impl DemoIdp {
    pub fn load_or_generate(certs_dir: &Path, base_url: &BaseUrl) -> Result<Self, KeyError> {
        Ok(Self {
            key: KeyPair::load_or_generate(certs_dir, "demo-idp", "Seatgate demo IdP")?,
            entity_id: base_url.join("/demo-idp"),
            sso_url: base_url.join("/demo-idp/sso"),
        })
    }

    /// Metadata, as an IdP admin would upload it.
    pub fn metadata(&self) -> String {
        mint::idp_metadata(&self.entity_id, &self.sso_url, &self.key)
    }

    /// Reads an HTTP-Redirect AuthnRequest from the query string. The
    /// signature must verify with one of our SP certificates, and the ACS must
    /// be one of ours: the demo IdP posts to nowhere else.
    pub fn read_request(
        &self,
        query: &str,
        keys: &SpKeys,
        base_url: &BaseUrl,
    ) -> Result<IncomingRequest, String> {
        let url =
            url::Url::parse(&format!("{}?{query}", self.sso_url)).map_err(|e| e.to_string())?;
        let signed = keys.published().any(|pair| {
            UrlVerifier::from_x509(&CertificateDer::from(pair.cert_der()))
                .and_then(|v| v.verify_signed_request_url(&url))
                .unwrap_or(false)
        });
        if !signed {
            return Err(
                "the AuthnRequest signature does not verify with Seatgate's certificate".into(),
            );
        }
        let param = |name: &str| {
            url.query_pairs()
                .find(|(k, _)| k == name)
                .map(|(_, v)| v.into_owned())
        };
        let encoded = param("SAMLRequest").ok_or("no SAMLRequest")?;
        let deflated = STANDARD
            .decode(encoded)
            .map_err(|_| "SAMLRequest is not base64")?;
        let mut xml = String::new();
        DeflateDecoder::new(deflated.as_slice())
            .take(64 * 1024)
            .read_to_string(&mut xml)
            .map_err(|_| "SAMLRequest is not deflated XML")?;
        let request: AuthnRequest = xml
            .parse()
            .map_err(|_| "SAMLRequest is not an AuthnRequest")?;
        let acs_url = request
            .assertion_consumer_service_url
            .ok_or("the AuthnRequest names no ACS")?;
        if !is_our_acs(&acs_url, base_url) {
            return Err(format!("{acs_url} is not an ACS of this Seatgate"));
        }
        Ok(IncomingRequest {
            id: request.id,
            acs_url,
            relay_state: param("RelayState"),
        })
    }

    /// A signed response (Response and Assertion signed) for the person typed in.
    pub fn respond(
        &self,
        sp: &SpEndpoints,
        in_response_to: Option<&str>,
        email: &str,
        first_name: &str,
        last_name: &str,
        now: DateTime<Utc>,
    ) -> Result<String, mint::MintError> {
        let mut spec = ResponseSpec::new(&self.entity_id, sp, email, now);
        spec.in_response_to = in_response_to.map(str::to_owned);
        spec.attributes = vec![
            ("email".into(), email.into()),
            ("firstName".into(), first_name.into()),
            ("lastName".into(), last_name.into()),
        ];
        Ok(mint::encode(&mint::mint(&spec, &self.key)?))
    }
}

/// Wires `org` to the demo IdP (once): what `seatgate demo` does for organization `demo`.
pub fn connect(
    conn: &mut crate::store::DbConn,
    clock: &crate::clock::Clock,
    org: &crate::orgs::Organization,
    idp: &DemoIdp,
) -> Result<(), crate::orgs::connections::Error> {
    use crate::orgs::connections::{self, NewConnection};
    if connections::list(conn, org.id)?
        .iter()
        .any(|c| c.entity_id == idp.entity_id)
    {
        return Ok(());
    }
    let metadata = idp
        .metadata()
        .parse()
        .expect("the demo IdP's own metadata is valid");
    connections::add(
        conn,
        clock,
        &crate::audit::Actor::Cli,
        org,
        metadata,
        NewConnection {
            name: Some("Demo identity provider".into()),
            metadata_url: None,
            preset: crate::saml::attributes::Preset::Generic,
            overrides: Default::default(),
        },
    )?;
    Ok(())
}

/// The organization slug of one of our ACS URLs.
pub fn acs_org<'a>(acs_url: &'a str, base_url: &BaseUrl) -> Option<&'a str> {
    acs_url
        .strip_prefix(base_url.as_str())?
        .strip_prefix("/sso/")?
        .strip_suffix("/acs")
        .filter(|slug| !slug.contains('/'))
}

fn is_our_acs(acs_url: &str, base_url: &BaseUrl) -> bool {
    acs_org(acs_url, base_url).is_some()
}

/// Where the demo application (`/demo-app`, `seatgate demo` only) lives.
pub const DEMO_APP_PATH: &str = "/demo-app/";
/// The demo application's redirect URI path.
pub const DEMO_APP_CALLBACK: &str = "/demo-app/callback";
const DEMO_APP_NAME: &str = "Demo application";

/// The demo application's registration: its client id and a fresh secret.
pub struct DemoApp {
    pub client_id: String,
    pub secret: crate::secret::SecretToken,
}

/// Registers the demo application with this Seatgate (or gives the one
/// registered before a new secret: only hashes are kept).
pub fn register_demo_app(
    conn: &mut crate::store::DbConn,
    clock: &crate::clock::Clock,
    base_url: &BaseUrl,
) -> Result<DemoApp, crate::applications::Error> {
    use crate::applications::{self, NewApplication};
    use crate::audit::Actor;
    let existing = applications::list(conn)?
        .into_iter()
        .find(|app| app.name == DEMO_APP_NAME);
    let (id, secret) = match existing {
        Some(app) => {
            let (app, secret) =
                applications::rotate_secret(conn, clock, &Actor::Cli, &app.id.to_string())?;
            (app.id, secret)
        }
        None => {
            let (app, secret) = applications::create(
                conn,
                clock,
                &Actor::Cli,
                NewApplication {
                    name: DEMO_APP_NAME.to_owned(),
                    redirect_uris: vec![base_url.join(DEMO_APP_CALLBACK).parse()?],
                    post_logout_redirect_uris: vec![base_url.join(DEMO_APP_PATH).parse()?],
                    launch_url: Some(base_url.join(DEMO_APP_PATH).parse()?),
                    public: false,
                    id_token_alg: applications::IdTokenAlg::Rs256,
                },
            )?;
            (
                app.id,
                secret.expect("a confidential application has a secret"),
            )
        }
    };
    Ok(DemoApp {
        client_id: id.to_string(),
        secret,
    })
}
