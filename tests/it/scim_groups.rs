//! SCIM groups as Entra ID and Okta push them, and groups mapped to
//! license types in the console (issue 15).
//!
//! Entra ID ("Tutorial: Develop and plan provisioning for a SCIM endpoint",
//! learn.microsoft.com) looks a group up with `displayName eq` and
//! `excludedAttributes=members`, creates it without members, then adds and
//! removes members one PATCH at a time (`Add`/`Remove` with a value list;
//! under `aadOptscim062020`, `members[value eq "..."]` paths). Okta ("SCIM
//! 2.0 Protocol Reference", developer.okta.com) renames with the group's id
//! in the value and removes members by a filtered path.

use serde_json::json;

use crate::common::scim::ScimClient;
use crate::common::{Backend, TestApp};
use crate::console::submit;
use crate::on_both_databases;
use crate::scim::{okta_user, pool_line, pool_of, user_show};

async fn user(client: &ScimClient, login: &str) -> String {
    let created = client.post("/Users", &okta_user(login)).await;
    assert_eq!(created.status, 201, "{}", created.body);
    created.body["id"].as_str().expect("id").to_owned()
}

async fn group(client: &ScimClient, name: &str, members: &[&str]) -> String {
    let members: Vec<_> = members.iter().map(|id| json!({ "value": id })).collect();
    let created = client
        .post(
            "/Groups",
            &json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": name,
                "externalId": format!("ext-{name}"),
                "members": members,
            }),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.body);
    created.body["id"].as_str().expect("id").to_owned()
}

fn member_ids(body: &serde_json::Value) -> Vec<String> {
    let mut ids: Vec<String> = body["members"]
        .as_array()
        .map(|m| {
            m.iter()
                .filter_map(|m| m["value"].as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    ids.sort();
    ids
}

async fn entra_pushes_a_group_and_its_members_one_at_a_time(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let entra = app.scim_config("acme", "Entra ID", &[]);
    let (a, b) = (
        user(&entra, "a@acme.example").await,
        user(&entra, "b@acme.example").await,
    );
    let lookup = entra
        .get("/Groups?filter=displayName+eq+%22Sales%22&excludedAttributes=members")
        .await;
    assert_eq!(
        (lookup.status, &lookup.body["totalResults"]),
        (200, &json!(0))
    );
    let id = group(&entra, "Sales", &[]).await;
    let path = format!("/Groups/{id}");
    for member in [&a, &a, &b] {
        let added = entra
            .patch(
                &path,
                json!([{"op": "Add", "path": "members", "value": [{"value": member}]}]),
            )
            .await;
        assert_eq!(
            added.status, 200,
            "re-adding a member succeeds: {}",
            added.body
        );
    }
    let mut both = vec![a.clone(), b.clone()];
    both.sort();
    assert_eq!(member_ids(&entra.get(&path).await.body), both);
    let slim = entra
        .get(&format!("{path}?excludedAttributes=members"))
        .await;
    assert!(slim.body.get("members").is_none() && slim.body["displayName"] == "Sales");
    let found = entra
        .get("/Groups?filter=displayName+eq+%22sales%22&excludedAttributes=members")
        .await;
    assert_eq!(found.body["totalResults"], 1);

    let removed = entra
        .patch(
            &path,
            json!([{"op": "Remove", "path": "members", "value": [{"value": a}]}]),
        )
        .await;
    assert_eq!(member_ids(&removed.body), vec![b.clone()]);
    let aad = entra
        .patch(
            &path,
            json!([{"op": "remove", "path": format!("members[value eq \"{b}\"]")}]),
        )
        .await;
    assert_eq!(member_ids(&aad.body), Vec::<String>::new());

    let stranger = entra
        .patch(
            &path,
            json!([{"op": "Add", "path": "members", "value": [{"value": uuid::Uuid::new_v4().to_string()}]}]),
        )
        .await;
    assert_eq!(
        (stranger.status, stranger.scim_type()),
        (400, "invalidValue")
    );
    let other = app.scim_config("beta", "Entra ID", &[]);
    assert_eq!(
        other.get(&path).await.status,
        404,
        "another organization's group"
    );
    assert_eq!(other.get("/Groups").await.body["totalResults"], 0);

    assert_eq!(entra.delete(&path).await.status, 204);
    assert_eq!(entra.get(&path).await.status, 404);
}

async fn okta_renames_with_the_id_and_removes_by_path(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let okta = app.scim_config("acme", "Okta", &[]);
    let a = user(&okta, "a@acme.example").await;
    let id = group(&okta, "Support", &[&a]).await;
    let path = format!("/Groups/{id}");
    let renamed = okta
        .patch(
            &path,
            json!([{"op": "replace", "value": {"id": id, "displayName": "Support EMEA"}}]),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    assert_eq!(renamed.body["displayName"], "Support EMEA");
    let changed_id = okta
        .patch(
            &path,
            json!([{"op": "replace", "value": {"id": "another"}}]),
        )
        .await;
    assert_eq!(
        (changed_id.status, changed_id.scim_type()),
        (400, "mutability")
    );
    let put = okta
        .put(
            &path,
            &json!({"displayName": "Support EMEA", "members": []}),
        )
        .await;
    assert_eq!((put.status, member_ids(&put.body)), (200, vec![]));
}

/// A mapped group's members hold its license; leaving takes it back (to the
/// next waiter), moving switches it, unmapping ends it.
async fn mapped_groups_give_and_take_licenses(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    pool_of(&app, "Learning", 5);
    pool_of(&app, "Premium", 1);
    let okta = app.scim_config("acme", "Okta", &[]);
    let (a, b) = (
        user(&okta, "a@acme.example").await,
        user(&okta, "b@acme.example").await,
    );
    let premium = group(&okta, "Leaders", &[&a]).await;
    let learning = group(&okta, "Everyone", &[]).await;
    assert!(
        user_show(&app, "a@acme.example").contains("license: none"),
        "not mapped yet"
    );

    let mut admin = app.admin_visitor("acme", "admin@acme.example", false);
    let page = admin.get("/admin/orgs/acme/provisioning").await;
    assert!(
        page.body.contains("Leaders") && page.body.contains("IdP · Okta"),
        "{}",
        page.body
    );
    for (group, license_type) in [(&premium, "Premium"), (&learning, "Learning")] {
        let mapped = submit(
            &mut admin,
            &format!("/admin/orgs/acme/provisioning/groups/{group}/license"),
            &[("license_type", license_type)],
        )
        .await;
        assert_eq!(mapped.status.as_u16(), 303, "{}", mapped.body);
    }
    assert!(user_show(&app, "a@acme.example").contains("license: Premium"));

    let leaders = format!("/Groups/{premium}");
    let add_b = okta
        .patch(
            &leaders,
            json!([{"op": "add", "path": "members", "value": [{"value": b}]}]),
        )
        .await;
    assert_eq!(add_b.status, 200);
    assert!(
        user_show(&app, "b@acme.example").contains("license: none"),
        "Premium is full"
    );
    okta.patch(
        &leaders,
        json!([{"op": "remove", "path": format!("members[value eq \"{a}\"]")}]),
    )
    .await;
    assert!(
        user_show(&app, "a@acme.example").contains("license: none"),
        "left the group"
    );
    assert!(
        user_show(&app, "b@acme.example").contains("license: Premium"),
        "the waiter"
    );

    // b moves from Leaders to Everyone: Premium back, Learning given.
    okta.patch(
        &leaders,
        json!([{"op": "remove", "path": format!("members[value eq \"{b}\"]")}]),
    )
    .await;
    okta.patch(
        &format!("/Groups/{learning}"),
        json!([{"op": "add", "path": "members", "value": [{"value": b}]}]),
    )
    .await;
    let b_now = user_show(&app, "b@acme.example");
    assert!(b_now.contains("license: Learning"), "{b_now}");
    assert!(
        pool_line(&app).contains("Premium 0/1"),
        "{}",
        pool_line(&app)
    );

    let unmapped = submit(
        &mut admin,
        &format!("/admin/orgs/acme/provisioning/groups/{learning}/license"),
        &[("license_type", "")],
    )
    .await;
    assert_eq!(unmapped.status.as_u16(), 303);
    assert!(
        user_show(&app, "b@acme.example").contains("license: none"),
        "unmapped"
    );
    let no_pool = submit(
        &mut admin,
        &format!("/admin/orgs/acme/provisioning/groups/{learning}/license"),
        &[("license_type", "Gold")],
    )
    .await;
    assert_eq!(no_pool.status.as_u16(), 400);
    assert!(
        no_pool.body.contains("There is no Gold license pool"),
        "{}",
        no_pool.body
    );
}

/// The console's SCIM section: a configuration made there shows its token
/// once, the token works, a new token replaces it.
async fn the_console_creates_scim_configurations_and_shows_the_token_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    pool_of(&app, "Learning", 3);
    let mut admin = app.admin_visitor("acme", "admin@acme.example", false);
    let made = submit(
        &mut admin,
        "/admin/orgs/acme/provisioning/scim",
        &[("name", "Entra ID"), ("license_type", "Learning")],
    )
    .await;
    assert_eq!(made.status.as_u16(), 200, "{}", made.body);
    let token = between(&made.body, "<code id=\"scim-token\">", "</code>");
    assert!(
        made.body.contains(&format!("{}/scim/v2", app.address)),
        "tenant URL"
    );
    let entra = ScimClient::new(&app, &token);
    assert_eq!(
        entra
            .post("/Users", &okta_user("a@acme.example"))
            .await
            .status,
        201
    );
    assert!(user_show(&app, "a@acme.example").contains("license: Learning"));
    let again = admin.get("/admin/orgs/acme/provisioning").await;
    assert!(!again.body.contains(&token), "shown once");
    assert!(again.body.contains("Yes: Learning"));

    let refused = entra
        .post("/Users", &json!({"userName": "no-address"}))
        .await;
    assert_eq!(refused.status, 400);
    let listed = admin.get("/admin/orgs/acme/provisioning").await;
    assert!(
        listed
            .body
            .contains("Recent refused requests from Entra ID"),
        "{}",
        listed.body
    );
    assert!(
        listed.body.contains("<code>POST /scim/v2/Users</code>"),
        "{}",
        listed.body
    );
    assert!(
        listed.body.contains("a learner needs an email address"),
        "{}",
        listed.body
    );

    let blank = submit(
        &mut admin,
        "/admin/orgs/acme/provisioning/scim",
        &[("name", " "), ("license_type", "")],
    )
    .await;
    assert_eq!(blank.status.as_u16(), 400);
    assert!(
        blank.body.contains("The name must be 1 to 100 characters"),
        "{}",
        blank.body
    );

    let id = app_config_id(&app);
    let rotated = submit(
        &mut admin,
        &format!("/admin/orgs/acme/provisioning/scim/{id}/rotate"),
        &[],
    )
    .await;
    let fresh = between(&rotated.body, "<code id=\"scim-token\">", "</code>");
    assert_ne!(fresh, token);
    assert_eq!(entra.get("/Users").await.status, 401);
    assert_eq!(
        ScimClient::new(&app, &fresh).get("/Users").await.status,
        200
    );
    let audit = admin.get("/admin/orgs/acme/audit").await;
    assert!(audit.body.contains("scim_token_rotated"), "{}", audit.body);
    assert!(
        audit.body.contains("Entra ID (SCIM)"),
        "the configuration is named as actor"
    );

    // Removing cuts the IdP off, so it takes the ticked box; without it
    // nothing changes and the page says why.
    let fresh_client = ScimClient::new(&app, &fresh);
    let remove = format!("/admin/orgs/acme/provisioning/scim/{id}/remove");
    let unconfirmed = submit(&mut admin, &remove, &[]).await;
    assert_eq!(unconfirmed.status.as_u16(), 400);
    assert!(
        unconfirmed.body.contains("Nothing was removed"),
        "{}",
        unconfirmed.body
    );
    assert_eq!(
        fresh_client.get("/Users").await.status,
        200,
        "the token still works"
    );
    let confirmed = submit(&mut admin, &remove, &[("confirm", "yes")]).await;
    assert_eq!(confirmed.status.as_u16(), 303);
    assert_eq!(
        fresh_client.get("/Users").await.status,
        401,
        "removed: the token is dead"
    );
}

fn app_config_id(app: &TestApp) -> String {
    let list = crate::cli::stdout(&crate::cli::with_db(&app.db, &["scim", "list", "acme"]));
    list.split('\t').next().expect("an id").to_owned()
}

fn between(text: &str, start: &str, end: &str) -> String {
    let from = text
        .find(start)
        .unwrap_or_else(|| panic!("{start} in {text}"))
        + start.len();
    let to = text[from..].find(end).expect("end") + from;
    text[from..to].to_owned()
}

on_both_databases!(
    entra_pushes_a_group_and_its_members_one_at_a_time,
    okta_renames_with_the_id_and_removes_by_path,
    mapped_groups_give_and_take_licenses,
    the_console_creates_scim_configurations_and_shows_the_token_once,
);

/// Groups made from a SAML attribute's values (issue 15: "automatic groups
/// from SAML attributes"): each sign-in puts the learner in the groups its
/// values name and out of those it no longer sends.
async fn saml_attribute_values_make_groups_at_sign_in(backend: Backend) {
    use crate::cli::{stderr, stdout, with_db};
    use crate::common::idp::TestIdp;
    let app = TestApp::spawn(backend).await;
    let idp = TestIdp::new("https://idp.acme.example/saml");
    app.connect("acme", &idp, seatgate::saml::attributes::Preset::Generic);
    let set = with_db(
        &app.db,
        &["org", "set", "acme", "--group-attributes", "department"],
    );
    assert!(set.status.success(), "{}", stderr(&set));
    assert!(
        stdout(&set).contains("group_attributes: department\n"),
        "{}",
        stdout(&set)
    );
    let bad = with_db(
        &app.db,
        &["org", "set", "acme", "--group-attributes", "has space"],
    );
    assert_eq!(bad.status.code(), Some(1));
    assert!(
        stderr(&bad).contains("is not an attribute name"),
        "{}",
        stderr(&bad)
    );

    let sign_in = |email: &'static str, department: &'static str| {
        let mut spec = idp.spec(&app, "acme", email);
        spec.attributes
            .push(("department".into(), department.into()));
        idp.mint(&spec)
    };
    for (email, department) in [
        ("ann@acme.example", "Sales"),
        ("bob@acme.example", "Sales"),
        ("ann@acme.example", "Support"),
    ] {
        let (page, _) = app
            .post_response("acme", &sign_in(email, department), None)
            .await;
        assert_eq!(page.status.as_u16(), 303, "{:?}", app.sso_errors("acme"));
    }
    let mut conn = app.store.connection().expect("connection");
    let org = app.org("acme");
    let members = |conn: &mut _, name: &str| -> Vec<String> {
        let group = seatgate::groups::list(conn, org.id)
            .unwrap()
            .into_iter()
            .find(|g| g.display_name == name)
            .unwrap_or_else(|| panic!("group {name}"));
        assert_eq!(group.from_attribute.as_deref(), Some("department"));
        let mut emails: Vec<String> = seatgate::groups::members(conn, group.id)
            .unwrap()
            .into_iter()
            .map(|id| {
                seatgate::accounts::learners::find_by_id(conn, id)
                    .unwrap()
                    .unwrap()
                    .email
                    .to_string()
            })
            .collect();
        emails.sort();
        emails
    };
    assert_eq!(
        members(&mut conn, "Sales"),
        vec!["bob@acme.example"],
        "ann moved on"
    );
    assert_eq!(members(&mut conn, "Support"), vec!["ann@acme.example"]);
    assert_eq!(seatgate::groups::list(&mut conn, org.id).unwrap().len(), 2);
    drop(conn);

    let mut admin = app.admin_visitor("acme", "admin@acme.example", false);
    let page = admin.get("/admin/orgs/acme/provisioning").await;
    assert!(
        page.body.contains("SAML attribute department"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("Licenses follow groups pushed over SCIM")
    );
}

on_both_databases!(saml_attribute_values_make_groups_at_sign_in);
