//! The seat invariant with SCIM and SSO at once, on two `seatgate serve`
//! processes sharing one PostgreSQL database (issue 15): never one seat
//! more than the pool holds, no learner with two seats of one pool, the
//! waiting list in arrival order, and freed seats going to its first.

use serde_json::json;

use crate::cli::{stdout, with_db};
use crate::common::idp::TestIdp;
use crate::common::{Backend, TestDb};
use crate::licensing::start_server;
use seatgate::store::Store;

const IDP: &str = "https://idp.acme.example/saml";
const SEATS: usize = 30;

async fn scim_post(server: &str, token: &str, login: &str) -> String {
    let mut response = awc::Client::builder()
        .timeout(std::time::Duration::from_secs(120))
        .finish()
        .post(format!("{server}/scim/v2/Users"))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .send_json(&crate::scim::okta_user(login))
        .await
        .expect("answered");
    assert_eq!(response.status().as_u16(), 201);
    let body: serde_json::Value = response.json().await.expect("JSON");
    body["id"].as_str().expect("id").to_owned()
}

async fn scim_deactivate(server: &str, token: &str, id: &str) {
    let response = awc::Client::builder()
        .timeout(std::time::Duration::from_secs(120))
        .finish()
        .patch(format!("{server}/scim/v2/Users/{id}"))
        .insert_header(("Authorization", format!("Bearer {token}")))
        .send_json(&json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:PatchOp"],
            "Operations": [{"op": "replace", "value": {"active": false}}],
        }))
        .await
        .expect("answered");
    assert_eq!(response.status().as_u16(), 200);
}

async fn sso_sign_in(server: &str, encoded: &str) {
    let mut visitor = crate::common::Visitor::new(server);
    let page = visitor
        .post("/sso/acme/acs", &[("SAMLResponse", encoded)])
        .await;
    assert_eq!(page.status.as_u16(), 303, "{}", page.body);
}

#[actix_rt::test]
async fn scim_pushes_and_sso_sign_ins_on_two_processes_keep_the_seat_invariant() {
    let db = TestDb::fresh(Backend::Postgres);
    let idp = TestIdp::new(IDP);
    crate::licensing::acme_from_the_command_line(
        &db,
        &idp,
        u32::try_from(SEATS).expect("few seats"),
    );
    let created = with_db(
        &db,
        &[
            "scim",
            "create",
            "acme",
            "--name",
            "Okta",
            "--auto-assign",
            "on",
            "--license-type",
            "Learning",
        ],
    );
    let token = stdout(&created).lines().last().expect("token").to_owned();
    let public = "http://seatgate.test";
    let servers = [
        start_server(&db, public).await,
        start_server(&db, public).await,
    ];
    let addresses: Vec<String> = servers.iter().map(|s| s.address.clone()).collect();
    let sp = seatgate::saml::SpEndpoints::for_org(
        &seatgate::config::BaseUrl::parse(public).unwrap(),
        &"acme".parse().unwrap(),
    );
    let now = seatgate::clock::Clock::system().now();

    // 60 pushed and 60 signing in, all at once, across both processes.
    let mut tasks = Vec::new();
    for i in 0..60 {
        let (server, token) = (addresses[i % 2].clone(), token.clone());
        tasks.push(actix_rt::spawn(async move {
            scim_post(&server, &token, &format!("pushed{i}@acme.example")).await;
        }));
        let email = format!("signed{i}@acme.example");
        let mut spec = seatgate::saml::mint::ResponseSpec::new(IDP, &sp, &email, now);
        spec.attributes = vec![("email".into(), email)];
        let encoded = seatgate::saml::mint::encode(&idp.mint(&spec));
        let server = addresses[(i + 1) % 2].clone();
        tasks.push(actix_rt::spawn(async move {
            sso_sign_in(&server, &encoded).await
        }));
    }
    for task in tasks {
        task.await.expect("task");
    }

    let store = Store::connect(&db.url).expect("connect");
    let mut conn = store.connection().expect("connection");
    let org = seatgate::orgs::find(&mut conn, "acme").unwrap();
    let pool = seatgate::licensing::pools(&mut conn, org.id)
        .unwrap()
        .remove(0);
    let learners = seatgate::accounts::learners::list(&mut conn, org.id).unwrap();
    assert_eq!(learners.len(), 120);
    let mut holders = Vec::new();
    for learner in &learners {
        let held = seatgate::licensing::held_types(&mut conn, learner).unwrap();
        assert!(held.len() <= 1, "{} holds {held:?}", learner.email);
        if !held.is_empty() {
            holders.push(learner.email.to_string());
        }
    }
    assert_eq!(
        (holders.len(), pool.assigned as usize),
        (SEATS, SEATS),
        "never over the pool"
    );
    let waiting = seatgate::licensing::waiting_list(&mut conn, &pool).unwrap();
    assert_eq!(waiting.len(), 120 - SEATS, "everybody else waits");
    assert!(
        waiting
            .iter()
            .all(|w| !holders.contains(&w.learner.email.to_string()))
    );

    // Ten pushed holders leave at once: the first ten waiters get their seats.
    let leaving: Vec<_> = learners
        .iter()
        .filter(|l| l.scim.managed_by.is_some() && holders.contains(&l.email.to_string()))
        .take(10)
        .map(|l| l.id.to_string())
        .collect();
    assert_eq!(
        leaving.len(),
        10,
        "some pushed learners got seats: {holders:?}"
    );
    drop(conn);
    let tasks: Vec<_> = leaving
        .iter()
        .enumerate()
        .map(|(i, id)| {
            let (server, token, id) = (addresses[i % 2].clone(), token.clone(), id.clone());
            actix_rt::spawn(async move { scim_deactivate(&server, &token, &id).await })
        })
        .collect();
    for task in tasks {
        task.await.expect("task");
    }
    let mut conn = store.connection().expect("connection");
    let pool = seatgate::licensing::pools(&mut conn, org.id)
        .unwrap()
        .remove(0);
    assert_eq!(
        pool.assigned as usize, SEATS,
        "every freed seat taken again"
    );
    for first in &waiting[..10] {
        let held = seatgate::licensing::held_types(&mut conn, &first.learner).unwrap();
        assert_eq!(
            held.len(),
            1,
            "{} was among the first ten to wait",
            first.learner.email
        );
    }
    for later in &waiting[10..] {
        let held = seatgate::licensing::held_types(&mut conn, &later.learner).unwrap();
        assert!(held.is_empty(), "{} jumped the queue", later.learner.email);
    }
    drop(conn);
    drop(servers);
}
