//! A test IdP that mints signed SAML responses for the app under test, and
//! the helpers to wire an organization to it.

use std::collections::BTreeMap;

use seatgate::audit::Actor;
use seatgate::orgs::connections::{self, IdpConnection, NewConnection};
use seatgate::orgs::{self, Organization};
use seatgate::saml::SpEndpoints;
use seatgate::saml::attributes::Preset;
use seatgate::saml::keys::KeyPair;
use seatgate::saml::mint::{self, ResponseSpec};
use seatgate::signin::SsoError;

use super::TestApp;
use super::visitor::Page;

pub struct TestIdp {
    pub entity_id: String,
    pub key: KeyPair,
}

impl TestIdp {
    pub fn new(entity_id: &str) -> Self {
        Self {
            entity_id: entity_id.to_owned(),
            key: KeyPair::generate("Test IdP").expect("key pair"),
        }
    }

    pub fn metadata(&self) -> String {
        mint::idp_metadata(&self.entity_id, "https://idp.example/sso", &self.key)
    }

    /// A valid response to `org` of `app` for `email` (as NameID and attribute).
    pub fn spec(&self, app: &TestApp, org: &str, email: &str) -> ResponseSpec {
        let mut spec = ResponseSpec::new(
            &self.entity_id,
            &app.endpoints(org),
            email,
            app.clock.clock().now(),
        );
        spec.attributes = vec![
            ("email".into(), email.into()),
            ("firstName".into(), "Ann".into()),
            ("lastName".into(), "Lee".into()),
        ];
        spec
    }

    /// The response XML, signed with this IdP's key.
    pub fn mint(&self, spec: &ResponseSpec) -> String {
        mint::mint(spec, &self.key).expect("mint")
    }
}

/// The AuthnRequest inside an HTTP-Redirect binding URL (`SAMLRequest`:
/// deflated, base64). Checks that no RelayState is sent: the pending request
/// keeps where to return to.
pub fn authn_request_in(location: &str) -> samael::schema::AuthnRequest {
    authn_request_xml_in(location)
        .parse()
        .expect("AuthnRequest")
}

/// The AuthnRequest XML in a redirect `location`, as the IdP reads it.
pub fn authn_request_xml_in(location: &str) -> String {
    use base64::Engine;
    use std::io::Read;
    let url = url::Url::parse(location).expect("redirect URL");
    let param = |name: &str| {
        url.query_pairs()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.into_owned())
            .unwrap_or_else(|| panic!("{name} in {location}"))
    };
    let deflated = base64::engine::general_purpose::STANDARD
        .decode(param("SAMLRequest"))
        .expect("base64");
    let mut xml = String::new();
    flate2::read::DeflateDecoder::new(deflated.as_slice())
        .read_to_string(&mut xml)
        .expect("inflate");
    assert!(
        !url.query_pairs().any(|(k, _)| k == "RelayState"),
        "no RelayState in {location}"
    );
    xml
}

impl TestApp {
    pub fn endpoints(&self, org: &str) -> SpEndpoints {
        SpEndpoints::for_org(&self.settings.base_url, &org.parse().expect("slug"))
    }

    /// Finds or creates organization `slug`.
    pub fn org(&self, slug: &str) -> Organization {
        let mut conn = self.store.connection().expect("connection");
        orgs::find(&mut conn, slug).unwrap_or_else(|_| {
            orgs::create(
                &mut conn,
                &self.clock.clock(),
                &Actor::Cli,
                slug.parse().expect("slug"),
                format!("{slug} Corp").parse().expect("name"),
            )
            .expect("create org")
        })
    }

    /// Gives organization `slug` an email domain, so the start page finds it.
    pub fn set_email_domain(&self, slug: &str, domain: &str) {
        let org = self.org(slug);
        let mut conn = self.store.connection().expect("connection");
        orgs::set_email_domains(
            &mut conn,
            &self.clock.clock(),
            &Actor::Cli,
            &org,
            &[domain.parse().expect("domain")],
        )
        .expect("email domains");
    }

    /// Sets organization "acme"'s LinkedIn profile binding policy.
    pub fn set_binding_policy(&self, policy: seatgate::orgs::ProfileBindingPolicy) {
        let org = self.org("acme");
        let mut conn = self.store.connection().expect("connection");
        seatgate::binding::set_sign_in_settings(
            &mut conn,
            &self.clock.clock(),
            &Actor::Cli,
            &org,
            &orgs::SignInSettings {
                learner_sign_in: org.learner_sign_in,
                profile_binding: policy,
                learner_session: org.learner_session,
                clock_skew: org.clock_skew,
            },
        )
        .expect("policy");
    }

    /// Wires `slug` (created if needed) to the built-in demo IdP, which
    /// browsers sign in at by typing an email.
    pub fn demo_connection(&self, slug: &str) {
        let org = self.org(slug);
        let idp = seatgate::demo_idp::DemoIdp::load_or_generate(
            &self.settings.certs_dir,
            &self.settings.base_url,
        )
        .expect("demo IdP");
        let mut conn = self.store.connection().expect("connection");
        seatgate::demo_idp::connect(&mut conn, &self.clock.clock(), &org, &idp)
            .expect("wire the demo IdP");
    }

    /// Wires `slug` (created if needed) to `idp`, with a preset.
    pub fn connect(&self, slug: &str, idp: &TestIdp, preset: Preset) -> IdpConnection {
        let org = self.org(slug);
        let mut conn = self.store.connection().expect("connection");
        connections::add(
            &mut conn,
            &self.clock.clock(),
            &Actor::Cli,
            &org,
            idp.metadata().parse().expect("test metadata parses"),
            NewConnection {
                name: Some(format!("Test IdP {}", idp.entity_id)),
                metadata_url: None,
                preset,
                overrides: BTreeMap::new(),
            },
        )
        .expect("add connection")
    }

    /// Whether a fresh response from `idp` for `email` signs in to `org`.
    pub async fn signs_in(&self, org: &str, idp: &TestIdp, email: &str) -> bool {
        let (page, _) = self
            .post_response(org, &idp.mint(&idp.spec(self, org, email)), None)
            .await;
        page.status.as_u16() == 303
    }

    /// Posts a response (XML, base64-encoded here) to the ACS of `org`.
    pub async fn post_response(
        &self,
        org: &str,
        xml: &str,
        relay_state: Option<&str>,
    ) -> (Page, super::Visitor) {
        self.post_encoded(org, &mint::encode(xml), relay_state)
            .await
    }

    pub async fn post_encoded(
        &self,
        org: &str,
        encoded: &str,
        relay_state: Option<&str>,
    ) -> (Page, super::Visitor) {
        let mut visitor = self.visitor();
        let mut form = vec![("SAMLResponse", encoded)];
        if let Some(relay) = relay_state {
            form.push(("RelayState", relay));
        }
        let page = visitor.post(&format!("/sso/{org}/acs"), &form).await;
        (page, visitor)
    }

    pub fn sso_errors(&self, slug: &str) -> Vec<SsoError> {
        let org = self.org(slug);
        let mut conn = self.store.connection().expect("connection");
        seatgate::signin::recent_errors(&mut conn, org.id, 50).expect("errors")
    }

    /// Invites `email` to organization `slug` (created if needed), as the CLI would.
    pub fn invite(&self, slug: &str, email: &str) -> seatgate::invitations::Invited {
        let org = self.org(slug);
        let mut conn = self.store.connection().expect("connection");
        seatgate::invitations::invite(
            &mut conn,
            &self.clock.clock(),
            &Actor::Cli,
            &self.settings.base_url,
            &org,
            &email.parse().expect("email"),
        )
        .expect("invite")
    }

    /// The path of one of this app's URLs (an emailed link), for a Visitor.
    pub fn local_path(&self, url: &str) -> String {
        url.strip_prefix(self.settings.base_url.join("/").trim_end_matches('/'))
            .unwrap_or_else(|| panic!("{url} is not one of ours"))
            .to_owned()
    }

    pub fn learners(&self, slug: &str) -> Vec<seatgate::accounts::learners::Learner> {
        let org = self.org(slug);
        let mut conn = self.store.connection().expect("connection");
        seatgate::accounts::learners::list(&mut conn, org.id).expect("learners")
    }
}
