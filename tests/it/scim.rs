//! SCIM 2.0 provisioning as Entra ID and Okta really send it (issue 15).
//!
//! The request sequences follow the vendors' documents, deviations included:
//! - Entra ID: "Known issues and resolutions with SCIM 2.0 protocol
//!   compliance of the Microsoft Entra user provisioning service" and
//!   "Tutorial: Develop and plan provisioning for a SCIM endpoint in
//!   Microsoft Entra ID" (learn.microsoft.com): a `userName eq` query before
//!   a create, capitalised ops and `"False"` strings by default, lower-case
//!   ops with real booleans and dotted keys under `aadOptscim062020`, and
//!   deactivation instead of deletion.
//! - Okta: "SCIM 2.0 Protocol Reference" (developer.okta.com): the
//!   connection test `GET /Users?startIndex=1&count=2`, a `userName eq`
//!   query with `startIndex=1&count=100`, PUT for profile changes, and
//!   `{"op":"replace","value":{"active":false}}` without a path.

use serde_json::{Value, json};

use crate::cli::{stderr, stdout, with_db};
use crate::common::idp::TestIdp;
use crate::common::scim::ScimClient;
use crate::common::{Backend, TestApp};
use crate::on_both_databases;
use seatgate::saml::attributes::Preset;

const IDP: &str = "https://idp.acme.example/saml";

pub(crate) fn entra_user(user_name: &str, mail: &str, external_id: &str) -> Value {
    json!({
        "schemas": [
            "urn:ietf:params:scim:schemas:core:2.0:User",
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"
        ],
        "externalId": external_id,
        "userName": user_name,
        "active": true,
        "displayName": "Ann Smith",
        "emails": [{"primary": true, "type": "work", "value": mail}],
        "name": {"formatted": "Ann Smith", "familyName": "Smith", "givenName": "Ann"},
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "employeeNumber": "701984",
            "department": "Sales"
        }
    })
}

pub(crate) fn okta_user(login: &str) -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": login,
        "name": {"givenName": "Bob", "familyName": "Jones"},
        "emails": [{"primary": true, "value": login, "type": "work"}],
        "displayName": "Bob Jones",
        "locale": "en-US",
        // Okta sends its own user id; one per person.
        "externalId": format!(
            "00u{:016x}",
            login.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b))
                .wrapping_mul(0x0100_0000_01b3))
        ),
        "groups": [],
        "password": "1mz050nq",
        "active": true
    })
}

pub(crate) fn user_show(app: &TestApp, email: &str) -> String {
    let output = with_db(&app.db, &["user", "show", "acme", email]);
    assert!(output.status.success(), "{}", stderr(&output));
    stdout(&output)
}

fn pool(app: &TestApp, seats: u32) {
    pool_of(app, "Learning", seats);
}

/// A pool of `license_type` in organization acme (created if needed).
pub(crate) fn pool_of(app: &TestApp, license_type: &str, seats: u32) {
    app.org("acme");
    let seats = seats.to_string();
    let output = with_db(
        &app.db,
        &[
            "license",
            "set",
            "acme",
            "--type",
            license_type,
            "--seats",
            &seats,
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
}

pub(crate) fn pool_line(app: &TestApp) -> String {
    stdout(&with_db(&app.db, &["license", "show", "acme"]))
}

/// `seatgate scim create|list|rotate|remove`: the token is the last line,
/// works at once, stops working when rotated or removed, and every refusal
/// is a 401 in the SCIM Error schema.
async fn scim_tokens_are_created_listed_rotated_and_removed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let entra = app.scim_config("acme", "Entra ID", &[]);
    let config = entra.get("/ServiceProviderConfig").await;
    assert_eq!(config.status, 200, "{}", config.body);
    assert_eq!(
        config.content_type.as_deref(),
        Some("application/scim+json")
    );
    assert_eq!(config.body["patch"]["supported"], true);
    assert_eq!(config.body["filter"]["maxResults"], 1000);
    assert_eq!(config.body["bulk"]["supported"], false);

    let list = stdout(&with_db(&app.db, &["scim", "list", "acme"]));
    let id = list.split('\t').next().expect("an id").to_owned();
    assert!(
        list.contains("\tEntra ID\tauto-assign off\t-\tlast used "),
        "{list}"
    );

    let rotated = with_db(&app.db, &["scim", "rotate", "acme", &id]);
    assert!(rotated.status.success(), "{}", stderr(&rotated));
    let fresh = ScimClient::new(&app, stdout(&rotated).lines().last().expect("token"));
    let old = entra.get("/Users").await;
    assert_eq!(old.status, 401);
    assert_eq!(
        old.body["schemas"][0],
        "urn:ietf:params:scim:api:messages:2.0:Error"
    );
    assert_eq!(old.body["status"], "401");
    assert_eq!(
        old.www_authenticate.as_deref(),
        Some("Bearer realm=\"scim\"")
    );
    assert_eq!(fresh.get("/Users").await.status, 200);

    for junk in ["", "not-a-token", &"A".repeat(43)] {
        assert_eq!(ScimClient::new(&app, junk).get("/Users").await.status, 401);
    }

    let removed = with_db(&app.db, &["scim", "remove", "acme", &id]);
    assert!(removed.status.success(), "{}", stderr(&removed));
    assert_eq!(fresh.get("/Users").await.status, 401);

    let again = with_db(&app.db, &["scim", "remove", "acme", &id]);
    assert_eq!(again.status.code(), Some(1));
    assert!(
        stderr(&again).contains("has no SCIM configuration"),
        "{}",
        stderr(&again)
    );
    let no_pool = with_db(
        &app.db,
        &[
            "scim",
            "create",
            "acme",
            "--name",
            "Okta",
            "--auto-assign",
            "on",
        ],
    );
    assert_eq!(
        stderr(&no_pool),
        "error: auto-assign needs a license type: add --license-type\n"
    );
}

/// Entra's default dialect end to end: look up, create, update with one op
/// per attribute and string booleans, deactivate (never delete), reactivate.
async fn entra_default_dialect_provisions_updates_and_deactivates(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    pool(&app, 5);
    let entra = app.scim_config(
        "acme",
        "Entra ID",
        &["--auto-assign", "on", "--license-type", "Learning"],
    );
    let upn = "ann@contoso.onmicrosoft.com";
    let found = entra
        .get(&format!("/Users?filter=userName+eq+%22{upn}%22"))
        .await;
    assert_eq!(
        (found.status, &found.body["totalResults"]),
        (200, &json!(0))
    );

    let created = entra
        .post("/Users", &entra_user(upn, "ann@acme.example", "e-1"))
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.body["id"].as_str().expect("id").to_owned();
    assert_eq!(
        created.location.as_deref(),
        Some(format!("{}/scim/v2/Users/{id}", app.address).as_str())
    );
    assert_eq!(created.body["meta"]["location"], json!(created.location));
    assert_eq!(
        created.etag.as_deref(),
        created.body["meta"]["version"].as_str()
    );
    assert_eq!(created.body["userName"], upn);
    assert_eq!(created.body["externalId"], "e-1");
    assert_eq!(
        created.body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"],
        "Sales"
    );
    let shown = user_show(&app, "ann@acme.example");
    assert!(shown.contains("source: scim (Entra ID)\n"), "{shown}");
    assert!(shown.contains("license: Learning since "), "{shown}");
    assert!(shown.contains("(scim)"), "{shown}");
    let mut admin = app.admin_visitor("acme", "admin@acme.example", false);
    let list = admin.get("/admin/orgs/acme/users").await;
    assert!(
        list.body.contains(">IdP</span>"),
        "labelled IdP: {}",
        list.body
    );
    let page = admin.get(&format!("/admin/orgs/acme/users/{id}")).await;
    assert!(
        page.body
            .contains("Managed by your identity provider (SCIM)"),
        "{}",
        page.body
    );
    assert!(
        !page.body.contains("Revoke license"),
        "no hand revocation offered"
    );

    let path = format!("/Users/{id}");
    let updated = entra
        .patch(
            &path,
            json!([
                {"op": "Replace", "path": "emails[type eq \"work\"].value", "value": "ann.smith@acme.example"},
                {"op": "Replace", "path": "name.familyName", "value": "Smith-Jones"},
                {"op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager", "value": "m-42"},
            ]),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body["emails"][0]["value"], "ann.smith@acme.example");
    assert_eq!(updated.body["name"]["familyName"], "Smith-Jones");
    assert_eq!(
        updated.body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["manager"]["value"],
        "m-42"
    );
    assert_ne!(updated.etag, created.etag, "a change is a new version");

    let off = entra
        .patch(
            &path,
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
        )
        .await;
    assert_eq!((off.status, &off.body["active"]), (200, &json!(false)));
    assert!(pool_line(&app).contains("0/5"), "{}", pool_line(&app));
    // Entra keeps reading deactivated users: GET and filters still find them.
    assert_eq!(entra.get(&path).await.body["active"], false);
    let inactive = entra.get("/Users?filter=active%20eq%20false").await;
    assert_eq!(inactive.body["totalResults"], 1, "{}", inactive.body);

    let on = entra
        .patch(
            &path,
            json!([{"op": "Replace", "path": "active", "value": "True"}]),
        )
        .await;
    assert_eq!((on.status, &on.body["active"]), (200, &json!(true)));
    assert!(pool_line(&app).contains("1/5"), "{}", pool_line(&app));
}

/// Entra with the `aadOptscim062020` flag: lower-case ops, real booleans,
/// one `replace` without path whose keys are dotted paths.
async fn entra_aad_opt_scim_062020_dialect(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let entra = app.scim_config("acme", "Entra ID", &[]);
    let created = entra
        .post(
            "/Users",
            &entra_user("ann@acme.example", "ann@acme.example", "e-1"),
        )
        .await;
    let path = format!("/Users/{}", created.body["id"].as_str().expect("id"));
    let updated = entra
        .patch(
            &path,
            json!([{"op": "replace", "value": {
                "name.givenName": "Anna",
                "displayName": "Anna Smith",
                "active": false,
                "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department": "Marketing",
            }}]),
        )
        .await;
    assert_eq!(updated.status, 200, "{}", updated.body);
    assert_eq!(updated.body["name"]["givenName"], "Anna");
    assert_eq!(updated.body["displayName"], "Anna Smith");
    assert_eq!(updated.body["active"], false);
    assert_eq!(
        updated.body["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"],
        "Marketing"
    );
    let shown = user_show(&app, "ann@acme.example");
    assert!(shown.contains("active: no\n"), "{shown}");
}

/// Okta: connection test, lookup, create, PUT replacement, PATCH without
/// path, DELETE (then 404, and the same person can be pushed again).
async fn okta_sequence_from_connection_test_to_deletion(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let okta = app.scim_config("acme", "Okta", &[]);
    let test = okta.get("/Users?startIndex=1&count=2").await;
    assert_eq!(test.status, 200, "{}", test.body);
    assert_eq!(test.body["Resources"], json!([]));
    assert_eq!(test.body["startIndex"], 1);

    let login = "bob@acme.example";
    let lookup = okta
        .get("/Users?filter=userName%20eq%20%22bob%40acme.example%22&startIndex=1&count=100")
        .await;
    assert_eq!(lookup.body["totalResults"], 0);
    let created = okta.post("/Users", &okta_user(login)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let path = format!("/Users/{}", created.body["id"].as_str().expect("id"));
    let lookup = okta
        .get("/Users?filter=userName%20eq%20%22BOB%40acme.example%22&startIndex=1&count=100")
        .await;
    assert_eq!(
        lookup.body["totalResults"], 1,
        "userName matches in any case"
    );

    let mut changed = created.body.clone();
    changed["name"]["familyName"] = json!("Jonas");
    changed["displayName"] = json!("Bob Jonas");
    let replaced = okta.put(&path, &changed).await;
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    assert_eq!(replaced.body["displayName"], "Bob Jonas");
    assert_eq!(replaced.body["id"], created.body["id"]);

    let off = okta
        .patch(
            &path,
            json!([{"op": "replace", "value": {"active": false}}]),
        )
        .await;
    assert_eq!((off.status, &off.body["active"]), (200, &json!(false)));

    assert_eq!(okta.delete(&path).await.status, 204);
    assert_eq!(okta.get(&path).await.status, 404);
    assert_eq!(okta.delete(&path).await.status, 404);
    let gone = user_show(&app, login);
    assert!(
        gone.contains("source: local\nactive: no\n"),
        "history kept: {gone}"
    );
    let back = okta.post("/Users", &okta_user(login)).await;
    assert_eq!(back.status, 201, "{}", back.body);
    assert_eq!(
        back.body["id"], created.body["id"],
        "the same account again"
    );
    assert_eq!(back.body["active"], true);
}

/// Errors in the SCIM Error schema, each with its status and `scimType`.
async fn refusals_follow_rfc_7644(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.scim_config("acme", "Okta", &[]);
    let created = client.post("/Users", &okta_user("bob@acme.example")).await;
    let path = format!("/Users/{}", created.body["id"].as_str().expect("id"));

    let duplicate = client.post("/Users", &okta_user("BOB@acme.example")).await;
    assert_eq!(
        (duplicate.status, duplicate.scim_type()),
        (409, "uniqueness")
    );
    let taken = client
        .post(
            "/Users",
            &json!({"userName": "carol@acme.example", "externalId": created.body["externalId"]}),
        )
        .await;
    assert_eq!(
        (taken.status, taken.scim_type()),
        (409, "uniqueness"),
        "{}",
        taken.body
    );
    let filter = client.get("/Users?filter=userName%20zz%20%22x%22").await;
    assert_eq!((filter.status, filter.scim_type()), (400, "invalidFilter"));
    let bad_path = client
        .patch(
            &path,
            json!([{"op": "replace", "path": "emails[type", "value": "x"}]),
        )
        .await;
    assert_eq!(
        (bad_path.status, bad_path.scim_type()),
        (400, "invalidPath")
    );
    let read_only = client
        .patch(
            &path,
            json!([{"op": "replace", "path": "id", "value": "x"}]),
        )
        .await;
    assert_eq!(
        (read_only.status, read_only.scim_type()),
        (400, "mutability")
    );
    let no_target = client.patch(&path, json!([{"op": "remove"}])).await;
    assert_eq!((no_target.status, no_target.scim_type()), (400, "noTarget"));
    let value = client
        .post("/Users", &json!({"userName": "no-address"}))
        .await;
    assert_eq!((value.status, value.scim_type()), (400, "invalidValue"));
    assert!(
        value.body["detail"]
            .as_str()
            .unwrap_or("")
            .contains("needs an email address"),
        "{}",
        value.body
    );
    let syntax = client
        .send_raw("POST", "/Users", Some(b"{not json".to_vec()))
        .await;
    assert_eq!((syntax.status, syntax.scim_type()), (400, "invalidSyntax"));
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let deep = client
        .send_raw("POST", "/Users", Some(deep.into_bytes()))
        .await;
    assert_eq!((deep.status, deep.scim_type()), (400, "invalidSyntax"));
    let large = client
        .send_raw("POST", "/Users", Some(vec![b' '; 1024 * 1024 + 1]))
        .await;
    assert_eq!(large.status, 413);
    let count = client.get("/Users?count=many").await;
    assert_eq!((count.status, count.scim_type()), (400, "invalidValue"));
    assert_eq!(client.get("/Users/not-a-uuid").await.status, 404);
    assert_eq!(
        client
            .get(&format!("/Users/{}", uuid::Uuid::new_v4()))
            .await
            .status,
        404
    );
    assert_eq!(client.get("/Groups/nothing-here").await.status, 404);

    let stale = client
        .send_raw("PUT", &path, Some(created.body.to_string().into_bytes()))
        .await;
    assert_eq!(stale.status, 200, "no If-Match: no precondition");
    let mut conditional = created.body.clone();
    conditional["displayName"] = json!("Changed");
    let precondition = {
        let request = awc::Client::new()
            .put(format!("{}/scim/v2{path}", app.address))
            .insert_header(("Authorization", format!("Bearer {}", client.token)))
            .insert_header(("If-Match", created.etag.clone().expect("etag")));
        request.send_json(&conditional).await.expect("answered")
    };
    assert_eq!(precondition.status().as_u16(), 412, "the version moved on");
}

/// Filters, paging and attribute selection on a handful of learners.
async fn filters_paging_and_attribute_selection(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.scim_config("acme", "Okta", &[]);
    for (i, department) in ["Sales", "Sales", "Support", "Sales", "Legal"]
        .iter()
        .enumerate()
    {
        let mut user = entra_user(
            &format!("user{i}@acme.example"),
            &format!("user{i}@acme.example"),
            &format!("x-{i}"),
        );
        user["urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"]["department"] =
            json!(department);
        assert_eq!(client.post("/Users", &user).await.status, 201);
        app.clock.advance(chrono::TimeDelta::seconds(1));
    }
    let query = |filter: &str| {
        let encoded: String = url::form_urlencoded::byte_serialize(filter.as_bytes()).collect();
        format!("/Users?filter={encoded}")
    };
    for (filter, expected) in [
        (
            r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "sales""#,
            3,
        ),
        (r#"userName sw "user1" or userName ew "4@acme.example""#, 2),
        (r#"emails[type eq "work" and value co "user2"]"#, 1),
        (r#"not (externalId eq "x-0") and active eq true"#, 4),
        (r#"externalId eq "X-0""#, 0),
        (r#"externalId eq "x-0""#, 1),
        ("meta.created pr", 5),
    ] {
        let reply = client.get(&query(filter)).await;
        assert_eq!(reply.status, 200, "{filter}: {}", reply.body);
        assert_eq!(reply.body["totalResults"], expected, "{filter}");
    }
    let page = client.get("/Users?startIndex=2&count=2").await;
    assert_eq!(page.body["totalResults"], 5, "all matches, not the page");
    assert_eq!(page.body["itemsPerPage"], 2);
    assert_eq!(page.body["Resources"][0]["userName"], "user1@acme.example");
    assert_eq!(page.body["Resources"][1]["userName"], "user2@acme.example");
    let slim = client
        .get("/Users?count=1&attributes=userName,name.givenName")
        .await;
    let first = &slim.body["Resources"][0];
    assert!(first["id"].is_string() && first["userName"].is_string());
    assert_eq!(first["name"], json!({"givenName": "Ann"}));
    assert!(
        first.get("emails").is_none() && first.get("meta").is_none(),
        "{first}"
    );
    let without = client
        .get("/Users?count=1&excludedAttributes=emails,meta")
        .await;
    let first = &without.body["Resources"][0];
    assert!(first.get("emails").is_none() && first.get("meta").is_none());
    assert!(first["userName"].is_string());
}

/// A token of one organization never sees or changes another's learners.
async fn one_organizations_token_never_reaches_anothers_learners(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let acme = app.scim_config("acme", "Entra ID", &[]);
    let beta = app.scim_config("beta", "Entra ID", &[]);
    let ann = acme
        .post(
            "/Users",
            &entra_user("ann@acme.example", "ann@acme.example", "e-1"),
        )
        .await;
    let path = format!("/Users/{}", ann.body["id"].as_str().expect("id"));
    assert_eq!(beta.get(&path).await.status, 404);
    assert_eq!(
        beta.patch(
            &path,
            json!([{"op": "replace", "value": {"active": false}}])
        )
        .await
        .status,
        404
    );
    assert_eq!(beta.put(&path, &ann.body).await.status, 404);
    assert_eq!(beta.delete(&path).await.status, 404);
    let listed = beta.get("/Users").await;
    assert_eq!(listed.body["totalResults"], 0);
    let same_name = beta
        .post(
            "/Users",
            &entra_user("ann@acme.example", "ann@acme.example", "e-1"),
        )
        .await;
    assert_eq!(
        same_name.status, 201,
        "another organization's learner: no conflict"
    );
    assert_ne!(same_name.body["id"], ann.body["id"]);
    assert_eq!(acme.get(&path).await.body["active"], true);
}

/// A learner who signed in by SAML and is later pushed over SCIM is one
/// account; so is one pushed first who then signs in with their UPN.
async fn saml_and_scim_learners_are_one_account(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = TestIdp::new(IDP);
    app.connect("acme", &idp, Preset::Generic);
    let (page, _) = app
        .post_response(
            "acme",
            &idp.mint(&idp.spec(&app, "acme", "ann@acme.example")),
            None,
        )
        .await;
    assert_eq!(page.status.as_u16(), 303, "{:?}", app.sso_errors("acme"));
    let entra = app.scim_config("acme", "Entra ID", &[]);
    let before = entra
        .get("/Users?filter=userName%20eq%20%22ann%40acme.example%22")
        .await;
    assert_eq!(
        before.body["totalResults"], 1,
        "found by the email a sign-in made"
    );
    let pushed = entra
        .post(
            "/Users",
            &entra_user("ann@acme.example", "ann@acme.example", "e-1"),
        )
        .await;
    assert_eq!(pushed.status, 201, "{}", pushed.body);
    assert_eq!(pushed.body["id"], before.body["Resources"][0]["id"]);
    assert_eq!(app.learners("acme").len(), 1);

    // Pushed first with the UPN as userName and another mail; the IdP then
    // signs her in with the UPN as NameID.
    let upn = "carol@contoso.onmicrosoft.com";
    let carol = entra
        .post("/Users", &entra_user(upn, "carol.lee@acme.example", "e-2"))
        .await;
    assert_eq!(carol.status, 201);
    let mut spec = idp.spec(&app, "acme", upn);
    spec.attributes.clear();
    let (page, _) = app.post_response("acme", &idp.mint(&spec), None).await;
    assert_eq!(page.status.as_u16(), 303, "{:?}", app.sso_errors("acme"));
    assert_eq!(app.learners("acme").len(), 2, "no third account");
}

/// Deactivation takes the seat at once, ends the learner's sessions and
/// refuses their next sign-in; hand changes to the license are refused.
async fn deactivated_learner_loses_seat_sessions_and_sign_in(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = TestIdp::new(IDP);
    app.connect("acme", &idp, Preset::Generic);
    pool(&app, 1);
    let entra = app.scim_config(
        "acme",
        "Entra ID",
        &["--auto-assign", "on", "--license-type", "Learning"],
    );
    let ann = entra
        .post(
            "/Users",
            &entra_user("ann@acme.example", "ann@acme.example", "e-1"),
        )
        .await;
    let path = format!("/Users/{}", ann.body["id"].as_str().expect("id"));
    let (page, mut visitor) = app
        .post_response(
            "acme",
            &idp.mint(&idp.spec(&app, "acme", "ann@acme.example")),
            None,
        )
        .await;
    assert_eq!(page.status.as_u16(), 303, "{:?}", app.sso_errors("acme"));
    let home = visitor.get("/").await;
    assert!(home.body.contains("License: Learning"), "{}", home.body);

    let by_hand = with_db(&app.db, &["license", "revoke", "acme", "ann@acme.example"]);
    assert_eq!(by_hand.status.code(), Some(1));
    assert!(
        stderr(&by_hand).contains("managed by your identity provider over SCIM"),
        "{}",
        stderr(&by_hand)
    );

    let off = entra
        .patch(
            &path,
            json!([{"op": "Replace", "path": "active", "value": "False"}]),
        )
        .await;
    assert_eq!(off.status, 200);
    assert!(pool_line(&app).contains("0/1"), "{}", pool_line(&app));
    let after = visitor.get("/").await;
    assert!(
        !after.body.contains("License: Learning"),
        "the session ended"
    );
    let (refused, _) = app
        .post_response(
            "acme",
            &idp.mint(&idp.spec(&app, "acme", "ann@acme.example")),
            None,
        )
        .await;
    assert_eq!(refused.status.as_u16(), 403);
    assert!(
        refused.body.contains("deactivated by your company"),
        "{}",
        refused.body
    );
    let errors = app.sso_errors("acme");
    assert_eq!(errors[0].reason, "deactivated", "{errors:?}");

    let log = stdout(&with_db(
        &app.db,
        &["user", "show", "acme", "ann@acme.example"],
    ));
    assert!(log.contains("license: none"), "{log}");
}

/// Auto-assign hands out seats first come first served until the pool is
/// full; the learner beyond it exists without a seat, waits, and gets the
/// seat a deactivation frees.
async fn auto_assign_stops_at_the_pool_size(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    pool(&app, 2);
    let okta = app.scim_config(
        "acme",
        "Okta",
        &["--auto-assign", "on", "--license-type", "Learning"],
    );
    let mut ids = Vec::new();
    for login in ["a@acme.example", "b@acme.example", "c@acme.example"] {
        let created = okta.post("/Users", &okta_user(login)).await;
        assert_eq!(created.status, 201);
        ids.push(created.body["id"].as_str().expect("id").to_owned());
    }
    assert!(pool_line(&app).contains("2/2"), "{}", pool_line(&app));
    assert!(user_show(&app, "a@acme.example").contains("license: Learning"));
    assert!(user_show(&app, "c@acme.example").contains("license: none"));
    let mut conn = app.store.connection().expect("connection");
    let org = app.org("acme");
    for learner in app.learners("acme") {
        let standing = seatgate::licensing::standing(&mut conn, &org, &learner).expect("standing");
        if learner.email.as_str() == "c@acme.example" {
            assert_eq!(standing, seatgate::licensing::Standing::ByIdp);
        }
    }
    drop(conn);
    // c waits; a leaves the company: c gets the seat in the same request.
    let off = okta
        .patch(
            &format!("/Users/{}", ids[0]),
            json!([{"op": "replace", "value": {"active": false}}]),
        )
        .await;
    assert_eq!(off.status, 200);
    assert!(
        user_show(&app, "c@acme.example").contains("license: Learning"),
        "from the waiting list"
    );
    assert!(pool_line(&app).contains("2/2"), "{}", pool_line(&app));
}

/// Each token has its own budget per minute; past it, 429 with Retry-After
/// in the SCIM Error schema, and other tokens go on.
async fn a_token_past_its_rate_limit_waits(backend: Backend) {
    let app = TestApp::on(crate::common::TestDb::fresh(backend))
        .scim_rate_limit(std::num::NonZeroU32::new(3).expect("non-zero"))
        .spawn()
        .await;
    let busy = app.scim_config("acme", "Busy", &[]);
    let calm = app.scim_config("acme", "Calm", &[]);
    for _ in 0..3 {
        assert_eq!(busy.get("/Users").await.status, 200);
    }
    let limited = busy.get("/Users").await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.body["status"], "429");
    let retry: u64 = limited
        .retry_after
        .as_deref()
        .and_then(|s| s.parse().ok())
        .expect("Retry-After");
    assert!((1..=60).contains(&retry), "{retry}");
    assert_eq!(
        calm.get("/Users").await.status,
        200,
        "another token's budget"
    );
}

on_both_databases!(
    a_token_past_its_rate_limit_waits,
    scim_tokens_are_created_listed_rotated_and_removed,
    entra_default_dialect_provisions_updates_and_deactivates,
    entra_aad_opt_scim_062020_dialect,
    okta_sequence_from_connection_test_to_deletion,
    refusals_follow_rfc_7644,
    filters_paging_and_attribute_selection,
    one_organizations_token_never_reaches_anothers_learners,
    saml_and_scim_learners_are_one_account,
    deactivated_learner_loses_seat_sessions_and_sign_in,
    auto_assign_stops_at_the_pool_size,
);
