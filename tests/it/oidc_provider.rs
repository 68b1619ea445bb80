//! Seatgate as an OpenID Connect provider, driven by an independent relying
//! party (Authlib) for the flows that work, and by raw requests for the
//! refusals a well-behaved library never provokes.

use seatgate::applications::IdTokenAlg;
use seatgate::audit::Actor;
use seatgate::licensing::{self, LicenseType};
use seatgate::saml::attributes::Preset;
use serde_json::Value;

use crate::common::idp::{TestIdp, authn_request_in};
use crate::common::rp::{REDIRECT, authorize_path, code_for, pkce, query_value, token_request};
use crate::common::{Backend, TestApp, TestDb, Visitor};
use crate::on_both_databases;

const IDP: &str = "https://idp.acme.example/saml";

/// Acme with its IdP, five "Learning" seats assigned at first sign-in, and
/// groups made from the `department` attribute.
fn acme(app: &TestApp) -> TestIdp {
    let idp = crate::licensing::auto_assigned_pool(app, 5);
    let org = app.org("acme");
    let mut conn = app.store.connection().expect("connection");
    seatgate::groups::set_attributes(
        &mut conn,
        &app.clock.clock(),
        &Actor::Cli,
        org.id,
        &["department".into()],
    )
    .expect("group attributes");
    idp
}

/// Signs `email` in through the IdP; the visitor holds the session.
async fn signed_in(app: &TestApp, idp: &TestIdp, email: &str) -> Visitor {
    let mut spec = idp.spec(app, "acme", email);
    spec.attributes.push(("department".into(), "Sales".into()));
    let (page, visitor) = app.post_response("acme", &idp.mint(&spec), None).await;
    assert_eq!(page.status.as_u16(), 303, "{:?}", app.sso_errors("acme"));
    visitor
}

fn learner_id(app: &TestApp, email: &str) -> String {
    app.learners("acme")
        .into_iter()
        .find(|l| l.email.as_str() == email)
        .expect("learner")
        .id
        .to_string()
}

async fn authlib_signs_a_learner_in_with_client_secret_basic_and_rs256(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = acme(&app);
    let visitor = signed_in(&app, &idp, "ann@acme.example").await;
    let client = app.register_app(false, IdTokenAlg::Rs256);
    let report = app.relying_party(&client, &visitor, &[]);

    assert_eq!(report["header"]["alg"], "RS256");
    let claims = &report["id_token"];
    assert_eq!(claims["iss"], Value::String(app.issuer()));
    // OpenID Connect Core, 2: aud is an array, or a string when single.
    assert_eq!(claims["aud"], serde_json::json!([client.client_id]));
    assert_eq!(
        claims["sub"],
        Value::String(learner_id(&app, "ann@acme.example"))
    );
    assert_eq!(claims["email"], "ann@acme.example");
    assert_eq!(claims["email_verified"], true);
    assert_eq!(claims["given_name"], "Ann");
    assert_eq!(claims["family_name"], "Lee");
    assert_eq!(claims["org"], "acme");
    assert_eq!(claims["license"], "Learning");
    assert_eq!(claims["license_status"], "active");
    assert_eq!(claims["groups"], serde_json::json!(["Sales"]));
    assert_eq!(claims["linkedin_bound"], false);
    assert!(claims["at_hash"].is_string() && claims["auth_time"].is_number());

    let userinfo = &report["userinfo"];
    for claim in [
        "sub",
        "email",
        "email_verified",
        "name",
        "org",
        "license",
        "license_status",
        "groups",
        "linkedin_bound",
    ] {
        assert_eq!(
            userinfo[claim], claims[claim],
            "userinfo and ID token agree on {claim}"
        );
    }
    let discovery = &report["discovery"];
    assert_eq!(
        discovery["code_challenge_methods_supported"],
        serde_json::json!(["S256"])
    );
    assert_eq!(
        discovery["id_token_signing_alg_values_supported"],
        serde_json::json!(["RS256", "ES256"])
    );
    assert!(
        discovery["end_session_endpoint"]
            .as_str()
            .is_some_and(|e| e.ends_with("/oauth/logout"))
    );
}

async fn authlib_uses_client_secret_post_and_es256(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = acme(&app);
    let visitor = signed_in(&app, &idp, "ann@acme.example").await;
    let client = app.register_app(false, IdTokenAlg::Es256);
    let report = app.relying_party(&client, &visitor, &["--auth-method", "client_secret_post"]);
    assert_eq!(report["header"]["alg"], "ES256");
    assert_eq!(report["id_token"]["email"], "ann@acme.example");
}

async fn authlib_as_a_public_client_with_pkce_and_the_openid_scope_alone(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = acme(&app);
    let visitor = signed_in(&app, &idp, "ann@acme.example").await;
    let client = app.register_app(true, IdTokenAlg::Rs256);
    assert!(client.secret.is_none());
    let report = app.relying_party(
        &client,
        &visitor,
        &["--auth-method", "none", "--scope", "openid"],
    );
    let claims = &report["id_token"];
    assert_eq!(report["scope"], "openid");
    assert!(
        claims.get("email").is_none(),
        "email needs the email scope: {claims}"
    );
    assert!(claims.get("name").is_none(), "names need the profile scope");
    assert_eq!(claims["org"], "acme", "Seatgate's claims come with openid");
    assert!(report["userinfo"].get("email").is_none());
}

async fn an_unknown_client_or_unregistered_redirect_is_shown_never_followed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = acme(&app);
    let mut visitor = signed_in(&app, &idp, "ann@acme.example").await;
    let client = app.register_app(false, IdTokenAlg::Rs256);

    let unknown = visitor.get(&authorize_path("not-a-client", &[])).await;
    assert_eq!(unknown.status.as_u16(), 400);
    assert!(unknown.location.is_none());
    assert!(unknown.body.contains("not registered"), "{}", unknown.body);

    let path = authorize_path(&client.client_id, &[]).replace(
        &url::form_urlencoded::byte_serialize(REDIRECT.as_bytes()).collect::<String>(),
        "https%3A%2F%2Fevil.example%2Fcallback",
    );
    let elsewhere = visitor.get(&path).await;
    assert_eq!(elsewhere.status.as_u16(), 400, "{}", elsewhere.body);
    assert!(
        elsewhere.location.is_none(),
        "never redirected to an unregistered URI"
    );
}

async fn a_public_client_without_pkce_is_refused_at_its_redirect_uri(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = acme(&app);
    let mut visitor = signed_in(&app, &idp, "ann@acme.example").await;
    let client = app.register_app(true, IdTokenAlg::Rs256);
    let page = visitor.get(&authorize_path(&client.client_id, &[])).await;
    assert_eq!(page.status.as_u16(), 303);
    let location = page.location.expect("back to the application");
    assert_eq!(
        query_value(&location, "error").as_deref(),
        Some("invalid_request")
    );
    assert_eq!(query_value(&location, "state").as_deref(), Some("st-1"));
    assert!(query_value(&location, "code").is_none());

    let plain = visitor
        .get(&authorize_path(
            &client.client_id,
            &[
                ("code_challenge", "abc"),
                ("code_challenge_method", "plain"),
            ],
        ))
        .await;
    let location = plain.location.expect("back to the application");
    assert_eq!(
        query_value(&location, "error").as_deref(),
        Some("invalid_request"),
        "plain is refused"
    );
}

async fn wrong_secret_wrong_verifier_and_wrong_redirect_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = acme(&app);
    let mut visitor = signed_in(&app, &idp, "ann@acme.example").await;
    let client = app.register_app(false, IdTokenAlg::Rs256);
    let secret = client.secret.clone().expect("secret");
    let (verifier, challenge) = pkce();
    let exchange = async |code: &str, verifier: Option<&str>, redirect: &str, secret: &str| {
        let mut form = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", redirect),
        ];
        if let Some(verifier) = verifier {
            form.push(("code_verifier", verifier));
        }
        let (status, answer) = token_request(&app, &form, Some((&client.client_id, secret))).await;
        (
            status,
            answer["error"].as_str().unwrap_or_default().to_owned(),
        )
    };

    let code = code_for(&mut visitor, &client.client_id, Some(&challenge)).await;
    assert_eq!(
        exchange(&code, Some(&verifier), REDIRECT, "not-the-secret").await,
        (401, "invalid_client".to_owned())
    );
    let (other_verifier, _) = pkce();
    assert_eq!(
        exchange(&code, Some(&other_verifier), REDIRECT, &secret).await,
        (400, "invalid_grant".to_owned())
    );
    // The refused exchange used the code: one try per code.
    assert_eq!(
        exchange(&code, Some(&verifier), REDIRECT, &secret).await,
        (400, "invalid_grant".to_owned())
    );

    let code = code_for(&mut visitor, &client.client_id, Some(&challenge)).await;
    assert_eq!(
        exchange(&code, Some(&verifier), "http://127.0.0.1:9/other", &secret).await,
        (400, "invalid_grant".to_owned())
    );
    let code = code_for(&mut visitor, &client.client_id, Some(&challenge)).await;
    assert_eq!(
        exchange(&code, None, REDIRECT, &secret).await,
        (400, "invalid_grant".to_owned()),
        "PKCE started must finish"
    );
    let code = code_for(&mut visitor, &client.client_id, Some(&challenge)).await;
    assert_eq!(
        exchange(&code, Some(&verifier), REDIRECT, &secret).await.0,
        200
    );
}

async fn a_replayed_code_is_refused_and_revokes_the_first_access_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = acme(&app);
    let mut visitor = signed_in(&app, &idp, "ann@acme.example").await;
    let client = app.register_app(false, IdTokenAlg::Rs256);
    let secret = client.secret.clone().expect("secret");
    let code = code_for(&mut visitor, &client.client_id, None).await;
    let form = [
        ("grant_type", "authorization_code"),
        ("code", code.as_str()),
        ("redirect_uri", REDIRECT),
        ("client_id", client.client_id.as_str()),
        ("client_secret", secret.as_str()),
    ];
    let (status, first) = token_request(&app, &form, None).await;
    assert_eq!(status, 200, "{first}");
    let access = first["access_token"]
        .as_str()
        .expect("access token")
        .to_owned();
    let mut api = app.visitor();
    let bearer = format!("Bearer {access}");
    let info = api
        .post_with("/oauth/userinfo", &[], &[("Authorization", &bearer)])
        .await;
    assert_eq!(info.status.as_u16(), 200, "{}", info.body);

    let (status, second) = token_request(&app, &form, None).await;
    assert_eq!(
        (status, second["error"].as_str()),
        (400, Some("invalid_grant"))
    );
    let revoked = api
        .get_with("/oauth/userinfo", &[("Authorization", &bearer)])
        .await;
    assert_eq!(
        revoked.status.as_u16(),
        401,
        "the first exchange's token is revoked"
    );
    assert!(revoked.body.contains("invalid_token"));
}

async fn a_learner_without_a_session_signs_in_through_their_idp_and_comes_back(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = acme(&app);
    app.set_email_domain("acme", "acme.example");
    let client = app.register_app(false, IdTokenAlg::Rs256);
    let mut browser = app.visitor();
    let authorize = authorize_path(&client.client_id, &[]);
    let first = browser.get(&authorize).await;
    assert_eq!(first.status.as_u16(), 303);
    let start = first.location.expect("to the start page");
    assert!(start.starts_with("/?return_to="), "{start}");
    let page = browser.get(&start).await;
    assert!(
        page.body.contains(r#"name="return_to""#),
        "the start page keeps where to return"
    );

    let lookup = format!(
        "/sign-in?email=ann%40acme.example&return_to={}",
        url::form_urlencoded::byte_serialize(authorize.as_bytes()).collect::<String>()
    );
    // An application that knows the address skips the start page.
    let hinted = authorize_path(&client.client_id, &[("login_hint", "ann@acme.example")]);
    let skipped = app.visitor().get(&hinted).await.location.expect("redirect");
    assert!(
        skipped.starts_with("/sign-in?email=ann%40acme.example&return_to="),
        "{skipped}"
    );
    let to_sso = browser.get(&lookup).await;
    let login = to_sso.location.expect("to the organization's sign-in");
    assert!(login.starts_with("/sso/acme/login?return_to="), "{login}");
    let to_idp = browser.get(&login).await;
    let request = authn_request_in(&to_idp.location.expect("to the IdP"));

    let mut spec = idp.spec(&app, "acme", "ann@acme.example");
    spec.in_response_to = Some(request.id.clone());
    let (back, mut learner) = app.post_response("acme", &idp.mint(&spec), None).await;
    assert_eq!(
        back.location.as_deref(),
        Some(authorize.as_str()),
        "back to the authorization request"
    );
    let code = learner.get(&authorize).await;
    let location = code.location.expect("to the application");
    assert!(
        location.starts_with(REDIRECT) && query_value(&location, "code").is_some(),
        "{location}"
    );
}

async fn prompt_none_without_a_session_answers_login_required(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    acme(&app);
    let client = app.register_app(false, IdTokenAlg::Rs256);
    let page = app
        .visitor()
        .get(&authorize_path(&client.client_id, &[("prompt", "none")]))
        .await;
    let location = page.location.expect("back to the application");
    assert!(location.starts_with(REDIRECT));
    assert_eq!(
        query_value(&location, "error").as_deref(),
        Some("login_required")
    );
}

async fn a_required_license_keeps_an_unlicensed_learner_on_seatgates_page(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = TestIdp::new(IDP);
    app.connect("acme", &idp, Preset::Generic);
    let org = app.org("acme");
    {
        let mut conn = app.store.connection().expect("connection");
        seatgate::orgs::set_apps_require_license(
            &mut conn,
            &app.clock.clock(),
            &Actor::Cli,
            &org,
            true,
        )
        .expect("require licenses");
    }
    let mut visitor = signed_in(&app, &idp, "ann@acme.example").await;
    let client = app.register_app(false, IdTokenAlg::Rs256);
    let page = visitor.get(&authorize_path(&client.client_id, &[])).await;
    assert_eq!(page.status.as_u16(), 403);
    assert!(page.location.is_none(), "never the application");
    assert!(
        page.body.contains("A license is needed for LMS"),
        "{}",
        page.body
    );

    let learning: LicenseType = "Learning".parse().expect("type");
    let learner = app.learners("acme").remove(0);
    {
        let mut conn = app.store.connection().expect("connection");
        let clock = app.clock.clock();
        licensing::set_pool(&mut conn, &clock, &Actor::Cli, &org, &learning, 1).expect("pool");
        licensing::assign(
            &mut conn,
            &clock,
            &Actor::Cli,
            licensing::LicenseCause::Admin,
            &org,
            &learner,
            &learning,
        )
        .expect("assign");
    }
    code_for(&mut visitor, &client.client_id, None).await;
}

async fn userinfo_refuses_a_missing_or_unknown_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    // Browsers' preflight for single-page applications.
    let preflight = awc::Client::new()
        .request(
            awc::http::Method::OPTIONS,
            format!("{}/oauth/token", app.address),
        )
        .insert_header(("Origin", "https://spa.example"))
        .insert_header(("Access-Control-Request-Method", "POST"))
        .send()
        .await
        .expect("preflight");
    assert_eq!(preflight.status().as_u16(), 204);
    assert_eq!(
        preflight
            .headers()
            .get("access-control-allow-origin")
            .map(|v| v.as_bytes()),
        Some(&b"*"[..])
    );
    let mut api = app.visitor();
    let none = api.get("/oauth/userinfo").await;
    assert_eq!(none.status.as_u16(), 401);
    let unknown = api
        .get_with(
            "/oauth/userinfo",
            &[(
                "Authorization",
                "Bearer AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
            )],
        )
        .await;
    assert_eq!(unknown.status.as_u16(), 401);
    assert!(unknown.body.contains("invalid_token"));
}

async fn logout_asks_then_returns_to_the_registered_uri_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = acme(&app);
    let mut visitor = signed_in(&app, &idp, "ann@acme.example").await;
    let client = app.register_app(false, IdTokenAlg::Rs256);
    let path = format!(
        "/oauth/logout?client_id={}&post_logout_redirect_uri=http%3A%2F%2F127.0.0.1%3A9%2Fsigned-out&state=s9",
        client.client_id
    );
    let ask = visitor.get(&path).await;
    assert_eq!(ask.status.as_u16(), 200, "a link alone signs nobody out");
    assert!(ask.body.contains("Sign out of Seatgate?"));
    let form = [
        ("csrf_token", ask.csrf_token()),
        ("client_id", client.client_id.clone()),
        (
            "post_logout_redirect_uri",
            "http://127.0.0.1:9/signed-out".to_owned(),
        ),
        ("state", "s9".to_owned()),
    ];
    let borrowed: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let done = visitor.post("/oauth/logout", &borrowed).await;
    assert_eq!(done.status.as_u16(), 303);
    assert_eq!(
        done.location.as_deref(),
        Some("http://127.0.0.1:9/signed-out?state=s9")
    );
    assert!(visitor.cookie.is_none(), "the session is gone");

    let elsewhere = app
        .visitor()
        .get("/oauth/logout?post_logout_redirect_uri=https%3A%2F%2Fevil.example%2F")
        .await;
    assert_eq!(
        elsewhere.location.as_deref(),
        Some("/"),
        "an unregistered URI is not followed"
    );
}

/// After `certs rotate-oidc` and a restart, an application that cached the
/// key set meets a new key id, fetches the set again, and verifies; the set
/// still has the previous keys for tokens issued before.
async fn applications_follow_a_key_rotation(backend: Backend) {
    let certs = tempfile::tempdir().expect("certs folder");
    let cache = certs.path().join("jwks-cache.json");
    let cache_arg = cache.to_str().expect("UTF-8 path");
    let before = TestApp::on(TestDb::fresh(backend))
        .certs_dir(certs.path().to_path_buf())
        .spawn()
        .await;
    let idp = acme(&before);
    let visitor = signed_in(&before, &idp, "ann@acme.example").await;
    let client = before.register_app(false, IdTokenAlg::Rs256);
    let first = before.relying_party(&client, &visitor, &["--jwks-cache", cache_arg]);
    let old_kid = first["header"]["kid"].clone();
    drop(before);

    seatgate::oidc::keys::OidcKeys::rotate(certs.path()).expect("rotate");
    let after = TestApp::on(TestDb::fresh(backend))
        .certs_dir(certs.path().to_path_buf())
        .spawn()
        .await;
    let idp = acme(&after);
    let visitor = signed_in(&after, &idp, "ann@acme.example").await;
    let client = after.register_app(false, IdTokenAlg::Rs256);
    let second = after.relying_party(&client, &visitor, &["--jwks-cache", cache_arg]);
    assert_ne!(second["header"]["kid"], old_kid, "signed with the new key");
    assert_eq!(
        second["jwks_refetched"], true,
        "a new key id: the set is fetched again"
    );
    let published: Vec<Value> =
        serde_json::from_str::<Value>(&std::fs::read_to_string(&cache).expect("cache"))
            .expect("JSON")["keys"]
            .as_array()
            .expect("keys")
            .iter()
            .map(|k| k["kid"].clone())
            .collect();
    assert!(
        published.contains(&old_kid),
        "the previous key is still published"
    );
    assert_eq!(published.len(), 4);
    let third = after.relying_party(&client, &visitor, &["--jwks-cache", cache_arg]);
    assert_eq!(
        third["jwks_refetched"], false,
        "a known key id: the cache serves"
    );
}

on_both_databases!(
    applications_follow_a_key_rotation,
    authlib_signs_a_learner_in_with_client_secret_basic_and_rs256,
    authlib_uses_client_secret_post_and_es256,
    authlib_as_a_public_client_with_pkce_and_the_openid_scope_alone,
    an_unknown_client_or_unregistered_redirect_is_shown_never_followed,
    a_public_client_without_pkce_is_refused_at_its_redirect_uri,
    wrong_secret_wrong_verifier_and_wrong_redirect_are_refused,
    a_replayed_code_is_refused_and_revokes_the_first_access_token,
    a_learner_without_a_session_signs_in_through_their_idp_and_comes_back,
    prompt_none_without_a_session_answers_login_required,
    a_required_license_keeps_an_unlicensed_learner_on_seatgates_page,
    userinfo_refuses_a_missing_or_unknown_token,
    logout_asks_then_returns_to_the_registered_uri_only,
);
