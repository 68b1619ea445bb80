//! LinkedIn profile binding over HTTP: where each policy sends a learner after
//! sign-in, the authorization request, refused callbacks, an unreachable
//! provider, and what "not allowed" does to existing bindings. The clicks
//! through the provider's pages are in `profile_browser.rs`.

use seatgate::audit::{Action, AuditFilter};
use seatgate::binding::{self, Member};
use seatgate::config::{ClientSecret, LinkedIn};
use seatgate::orgs::ProfileBindingPolicy;
use seatgate::saml::attributes::Preset;

use crate::cli::{stderr, stdout, with_db};
use crate::common::idp::TestIdp;
use crate::common::oidc::{Flavor, OidcProvider};
use crate::common::visitor::Page;
use crate::common::{Backend, TestApp, TestDb, Visitor};
use crate::on_both_databases;

const IDP: &str = "https://idp.acme.example/entity";

/// Signs `email` in through the test IdP: the ACS answer and the learner's visitor.
async fn sign_in(app: &TestApp, idp: &TestIdp, email: &str) -> (Page, Visitor) {
    app.post_response("acme", &idp.mint(&idp.spec(app, "acme", email)), None)
        .await
}

async fn each_policy_sends_the_learner_where_it_should(backend: Backend) {
    let (app, _provider) = TestApp::spawn_with_linkedin(backend).await;
    let idp = TestIdp::new(IDP);
    app.connect("acme", &idp, Preset::Generic);

    app.set_binding_policy(ProfileBindingPolicy::Required);
    let (page, mut learner) = sign_in(&app, &idp, "req@acme.example").await;
    assert_eq!(
        page.location.as_deref(),
        Some("/profile/linkedin/required?return_to=%2F")
    );
    let home = learner.get("/").await;
    assert!(
        home.body.contains("asks every learner to connect"),
        "no learning before connecting"
    );
    assert!(!home.body.contains("Welcome,"));
    assert!(!home.body.contains("Not now"), "required has no way around");

    app.set_binding_policy(ProfileBindingPolicy::Optional);
    let (page, mut learner) = sign_in(&app, &idp, "opt@acme.example").await;
    assert_eq!(
        page.location.as_deref(),
        Some("/profile/linkedin/prompt?return_to=%2F")
    );
    let prompt = learner.get("/profile/linkedin/prompt?return_to=%2F").await;
    assert!(prompt.body.contains("Not now"));
    let later = learner
        .post(
            "/profile/linkedin/not-now",
            &[("csrf_token", &prompt.csrf_token()), ("return_to", "/")],
        )
        .await;
    assert_eq!(later.location.as_deref(), Some("/"));
    assert!(learner.get("/").await.body.contains("Welcome,"));
    let (again, _) = sign_in(&app, &idp, "opt@acme.example").await;
    assert_eq!(
        again.location.as_deref(),
        Some("/"),
        "Not now is remembered"
    );

    app.set_binding_policy(ProfileBindingPolicy::Disabled);
    let (page, mut learner) = sign_in(&app, &idp, "off@acme.example").await;
    assert_eq!(page.location.as_deref(), Some("/"));
    let profile = learner.get("/profile").await;
    assert!(
        profile
            .body
            .contains("does not allow connecting a LinkedIn profile")
    );
    assert!(!profile.body.contains("Connect LinkedIn"));
    let refused = learner
        .post(
            "/profile/linkedin/connect",
            &[("csrf_token", &profile.csrf_token())],
        )
        .await;
    assert_eq!(refused.status.as_u16(), 400);
}

async fn without_a_client_id_nobody_is_held_up(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = TestIdp::new(IDP);
    app.connect("acme", &idp, Preset::Generic);
    app.set_binding_policy(ProfileBindingPolicy::Required);
    let (page, mut learner) = sign_in(&app, &idp, "ann@acme.example").await;
    assert_eq!(page.location.as_deref(), Some("/"));
    let profile = learner.get("/profile").await;
    assert!(profile.body.contains("not available on this server"));
    let mut admin = app.admin_visitor("acme", "admin@acme.example", false);
    let settings = admin.get("/admin/orgs/acme/settings").await;
    assert!(settings.body.contains("no LinkedIn client configured"));
}

/// The authorization request's query parameters.
fn query(location: &str) -> Vec<(String, String)> {
    url::Url::parse(location)
        .expect("URL")
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect()
}

fn param<'a>(pairs: &'a [(String, String)], name: &str) -> &'a str {
    pairs
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("{name} in the authorization request"))
}

async fn refused_callbacks_connect_nothing(backend: Backend) {
    let (app, provider) = TestApp::spawn_with_linkedin(backend).await;
    let idp = TestIdp::new(IDP);
    app.connect("acme", &idp, Preset::Generic);
    let (_, mut ann) = sign_in(&app, &idp, "ann@acme.example").await;
    let profile = ann.get("/profile").await;
    let started = ann
        .post(
            "/profile/linkedin/connect",
            &[
                ("csrf_token", &profile.csrf_token()),
                ("return_to", "/profile"),
            ],
        )
        .await;
    let location = started.location.expect("to the provider");
    assert!(
        location.starts_with(&format!("{}/auth?", provider.issuer)),
        "{location}"
    );
    let pairs = query(&location);
    assert_eq!(param(&pairs, "response_type"), "code");
    assert_eq!(param(&pairs, "client_id"), crate::common::oidc::CLIENT_ID);
    assert_eq!(
        param(&pairs, "redirect_uri"),
        format!("{}/profile/linkedin/callback", app.address)
    );
    let scopes: Vec<&str> = param(&pairs, "scope").split(' ').collect();
    for scope in ["openid", "profile", "email"] {
        assert!(scopes.contains(&scope), "{scope}");
    }
    // LinkedIn takes no PKCE unless it enabled it for the app (linkedin_pkce).
    assert!(pairs.iter().all(|(k, _)| !k.starts_with("code_challenge")));
    assert!(param(&pairs, "nonce").len() >= 16);
    let state = param(&pairs, "state").to_owned();

    // A made-up state, and the real one presented by another learner's session.
    let tampered = ann
        .get("/profile/linkedin/callback?code=abc&state=not-the-state")
        .await;
    assert_eq!(tampered.location.as_deref(), Some("/profile"));
    assert!(
        ann.get("/profile")
            .await
            .body
            .contains("expired or was not started here")
    );
    let (_, mut bo) = sign_in(&app, &idp, "bo@acme.example").await;
    let foreign = bo
        .get(&format!(
            "/profile/linkedin/callback?code=abc&state={state}"
        ))
        .await;
    assert_eq!(foreign.location.as_deref(), Some("/profile"));
    assert!(
        bo.get("/profile")
            .await
            .body
            .contains("expired or was not started here")
    );

    // A cancellation at the provider comes back as access_denied.
    let profile = ann.get("/profile").await;
    let started = ann
        .post(
            "/profile/linkedin/connect",
            &[("csrf_token", &profile.csrf_token())],
        )
        .await;
    let state = param(&query(&started.location.expect("to the provider")), "state").to_owned();
    let cancelled = ann
        .get(&format!(
            "/profile/linkedin/callback?error=access_denied&state={state}"
        ))
        .await;
    assert_eq!(cancelled.location.as_deref(), Some("/profile"));
    let profile = ann.get("/profile").await;
    assert!(
        profile
            .body
            .contains("You cancelled connecting your LinkedIn profile.")
    );
    assert!(
        profile.body.contains("Connect LinkedIn"),
        "with a way to retry"
    );
    assert!(app.learners("acme").iter().all(|l| {
        let mut conn = app.store.connection().unwrap();
        binding::binding_of(&mut conn, l.id).unwrap().is_none()
    }));

    // Callbacks need a signed-in learner.
    let anonymous = app
        .visitor()
        .get(&format!(
            "/profile/linkedin/callback?code=abc&state={state}"
        ))
        .await;
    assert_eq!(anonymous.location.as_deref(), Some("/"));
}

async fn an_unreachable_provider_gets_a_clear_message(backend: Backend) {
    let closed = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port");
    let app = TestApp::on(TestDb::fresh(backend))
        .linkedin(|_| {
            Some(LinkedIn {
                client_id: "client".into(),
                client_secret: ClientSecret::new("secret".into()),
                issuer: format!("http://{closed}"),
                pkce: false,
            })
        })
        .spawn()
        .await;
    let idp = TestIdp::new(IDP);
    app.connect("acme", &idp, Preset::Generic);
    let (_, mut ann) = sign_in(&app, &idp, "ann@acme.example").await;
    let profile = ann.get("/profile").await;
    let started = ann
        .post(
            "/profile/linkedin/connect",
            &[("csrf_token", &profile.csrf_token())],
        )
        .await;
    assert_eq!(started.location.as_deref(), Some("/profile"));
    assert!(
        ann.get("/profile")
            .await
            .body
            .contains("LinkedIn could not be reached just now")
    );
}

async fn not_allowed_disconnects_existing_profiles(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = TestIdp::new(IDP);
    app.connect("acme", &idp, Preset::Generic);
    sign_in(&app, &idp, "ann@acme.example").await;
    let ann = app.learners("acme").remove(0);
    let member = Member {
        sub: "m-42".into(),
        name: Some("Ann Lee".into()),
        email: None,
        picture: None,
    };
    {
        let mut conn = app.store.connection().expect("connection");
        let org = app.org("acme");
        binding::bind(&mut conn, &app.clock.clock(), &org, &ann, &member).expect("bind");
    }
    let shown = with_db(&app.db, &["user", "show", "acme", "ann@acme.example"]);
    assert!(stdout(&shown).contains("linkedin: m-42 (Ann Lee)\n"));
    let mut admin = app.admin_visitor("acme", "admin@acme.example", false);
    let page = admin
        .get(&format!("/admin/orgs/acme/users/{}", ann.id))
        .await;
    assert!(page.body.contains("Ann Lee · member <code>m-42</code>"));

    let set = with_db(
        &app.db,
        &["org", "set", "acme", "--profile-binding", "disabled"],
    );
    assert!(set.status.success(), "{}", stderr(&set));
    assert!(stdout(&set).contains("profile_binding_policy: disabled\n"));
    let shown = with_db(&app.db, &["user", "show", "acme", "ann@acme.example"]);
    assert!(stdout(&shown).contains("linkedin: none\n"), "disconnected");
    let org = app.org("acme");
    let mut conn = app.store.connection().expect("connection");
    let filter = AuditFilter {
        action: Some(Action::ProfileUnbound),
        ..AuditFilter::default()
    };
    let events = seatgate::audit::search(&mut conn, org.id, &filter, 1, 10)
        .unwrap()
        .events;
    assert_eq!(events.len(), 1);
    assert_eq!(events[0].details["reason"], "policy_not_allowed");
    // And binding is refused while it is not allowed.
    assert!(matches!(
        binding::bind(&mut conn, &app.clock.clock(), &org, &ann, &member),
        Err(binding::Error::NotAllowed)
    ));
    let bad = with_db(
        &app.db,
        &["org", "set", "acme", "--profile-binding", "sometimes"],
    );
    assert_eq!(bad.status.code(), Some(2));
}

/// Starts connecting from `learner`'s profile page: the authorization URL.
async fn start_connecting(learner: &mut Visitor) -> String {
    let profile = learner.get("/profile").await;
    let started = learner
        .post(
            "/profile/linkedin/connect",
            &[
                ("csrf_token", &profile.csrf_token()),
                ("return_to", "/profile"),
            ],
        )
        .await;
    started.location.expect("to the provider")
}

/// Brings the provider's answer back to Seatgate as the learner's browser would.
async fn come_back(app: &TestApp, learner: &mut Visitor, callback: &str) -> Page {
    let path = callback
        .strip_prefix(&app.address)
        .unwrap_or_else(|| panic!("back to Seatgate: {callback}"));
    let back = learner.get(path).await;
    assert_eq!(back.location.as_deref(), Some("/profile"), "{}", back.body);
    learner.get("/profile").await
}

/// Every provider binds: LinkedIn as it is (no nonce in the ID token, no
/// PKCE), LinkedIn with PKCE enabled for the app, and a standard provider
/// (nonce echoed, PKCE required). With LinkedIn, the token carries no nonce,
/// so a pending attempt whose nonce was changed still binds; with the
/// standard provider the echoed nonce must match.
async fn linkedin_as_it_is_and_a_standard_provider_both_bind(backend: Backend) {
    for flavor in [
        Flavor::LinkedIn { pkce: false },
        Flavor::LinkedIn { pkce: true },
        Flavor::Standard,
    ] {
        let (app, provider) = TestApp::spawn_with_provider(backend, flavor).await;
        let idp = TestIdp::new(IDP);
        app.connect("acme", &idp, Preset::Generic);
        let (_, mut ann) = sign_in(&app, &idp, "ann@acme.example").await;
        let location = start_connecting(&mut ann).await;
        let pairs = query(&location);
        let pkce = flavor != (Flavor::LinkedIn { pkce: false });
        assert_eq!(
            pairs
                .iter()
                .any(|(k, v)| k == "code_challenge_method" && v == "S256"),
            pkce,
            "{flavor:?}: {location}"
        );
        let callback = provider.authorize_as(&location, "ann-member").await;
        let profile = come_back(&app, &mut ann, &callback).await;
        assert!(
            profile.body.contains("Member ann-member is now connected."),
            "{flavor:?}: {}",
            profile.body
        );
        assert_eq!(
            app.bound_member("ann@acme.example").as_deref(),
            Some("ann-member")
        );

        // The same again, with the remembered nonce changed before the answer.
        let (_, mut bo) = sign_in(&app, &idp, "bo@acme.example").await;
        let location = start_connecting(&mut bo).await;
        {
            use diesel::connection::SimpleConnection;
            let mut conn = app.store.connection().expect("connection");
            conn.batch_execute("UPDATE oidc_pending SET nonce = 'not-the-nonce-sent'")
                .expect("change the nonce");
        }
        let callback = provider.authorize_as(&location, "bo-member").await;
        let profile = come_back(&app, &mut bo, &callback).await;
        let bound = app.bound_member("bo@acme.example");
        if flavor == Flavor::Standard {
            assert!(
                profile
                    .body
                    .contains("could not be verified, so nothing was connected"),
                "{}",
                profile.body
            );
            assert_eq!(bound, None, "an echoed nonce must match");
        } else {
            assert_eq!(
                bound.as_deref(),
                Some("bo-member"),
                "{flavor:?}: no nonce to match"
            );
        }
    }
}

/// An operator who switches linkedin_pkce on for an app where LinkedIn has
/// not enabled PKCE: LinkedIn answers invalid_client, the learner is told
/// calmly, the log says what to change.
async fn pkce_where_linkedin_has_not_enabled_it_is_refused_clearly(backend: Backend) {
    let mut provider = None;
    let app = TestApp::on(TestDb::fresh(backend))
        .linkedin(|address| {
            let started = OidcProvider::start(
                &format!("{address}/profile/linkedin/callback"),
                Flavor::LinkedIn { pkce: false },
            );
            let mut settings = started.linkedin();
            settings.pkce = true;
            provider = Some(started);
            Some(settings)
        })
        .spawn()
        .await;
    let provider = provider.expect("started");
    let idp = TestIdp::new(IDP);
    app.connect("acme", &idp, Preset::Generic);
    let (_, mut ann) = sign_in(&app, &idp, "ann@acme.example").await;
    let location = start_connecting(&mut ann).await;
    assert_eq!(param(&query(&location), "code_challenge_method"), "S256");
    let callback = provider.authorize_as(&location, "ann-member").await;
    let profile = come_back(&app, &mut ann, &callback).await;
    assert!(
        profile
            .body
            .contains("LinkedIn does not accept this server&#39;s settings just now"),
        "{}",
        profile.body
    );
    assert_eq!(app.bound_member("ann@acme.example"), None);
}

on_both_databases!(
    linkedin_as_it_is_and_a_standard_provider_both_bind,
    pkce_where_linkedin_has_not_enabled_it_is_refused_clearly,
    each_policy_sends_the_learner_where_it_should,
    without_a_client_id_nobody_is_held_up,
    refused_callbacks_connect_nothing,
    an_unreachable_provider_gets_a_clear_message,
    not_allowed_disconnects_existing_profiles,
);
