//! Webhooks end to end: what a receiver gets (signed, once), retries with
//! backoff, the console and the command line, deliveries shared between
//! processes, and a delivery that survives `kill -9` of the process that
//! was sending it.

use openssl::hash::MessageDigest;
use openssl::pkey::PKey;
use openssl::sign::Signer;
use seatgate::applications::IdTokenAlg;
use seatgate::audit::Actor;
use seatgate::licensing::{self, LicenseCause};
use seatgate::webhooks::{self, EventType, delivery};
use serde_json::{Value, json};

use crate::cli::{stderr, stdout, with_db};
use crate::common::idp::TestIdp;
use crate::common::receiver::{Received, Receiver};
use crate::common::{Backend, TestApp, TestDb};
use crate::console::submit;
use crate::licensing::start_server;
use crate::on_both_databases;
use crate::scim::entra_user;

/// Acme with two "Learning" seats given at first sign-in.
fn acme_with_seats(app: &TestApp) -> TestIdp {
    crate::licensing::auto_assigned_pool(app, 2)
}

/// Registers an application whose webhook posts `events` to `receiver`;
/// returns its client id and the signing secret.
fn hooked(app: &TestApp, receiver: &Receiver, events: &[EventType]) -> (String, String) {
    let client = app.register_app(false, IdTokenAlg::Rs256);
    let mut conn = app.store.connection().expect("connection");
    let (_, secret) = webhooks::set(
        &mut conn,
        &app.clock.clock(),
        &Actor::Cli,
        &client.client_id,
        &receiver.url,
        events.to_vec(),
    )
    .expect("webhook");
    (client.client_id, secret.expose().to_owned())
}

async fn deliver(app: &TestApp) -> delivery::Round {
    delivery::deliver_due(&app.store, &app.clock.clock())
        .await
        .expect("deliveries")
}

/// The documented recipe, done independently: HMAC-SHA256 keyed with the
/// secret over "<t>.<body>", hex, compared with v1.
fn signed_by(received: &Received, secret: &str) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in received.signature.split(',') {
        match part.split_once('=') {
            Some(("t", value)) => t = Some(value.to_owned()),
            Some(("v1", value)) => v1 = Some(value.to_owned()),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    let key = PKey::hmac(secret.as_bytes()).expect("key");
    let mut signer = Signer::new(MessageDigest::sha256(), &key).expect("signer");
    signer
        .update(format!("{t}.{}", received.body).as_bytes())
        .expect("update");
    hex::encode(signer.sign_to_vec().expect("sign")) == v1
}

fn payload(received: &Received) -> Value {
    serde_json::from_str(&received.body).expect("JSON body")
}

async fn a_seat_taken_at_sign_in_reaches_the_application_signed(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = acme_with_seats(&app);
    let receiver = Receiver::start();
    let (_, secret) = hooked(&app, &receiver, &EventType::ALL);
    assert!(app.signs_in("acme", &idp, "ann@acme.example").await);

    assert_eq!(
        deliver(&app).await,
        delivery::Round {
            delivered: 1,
            failed: 0
        }
    );
    let received = receiver.accepted(1, 5).await;
    let event = &received[0];
    assert_eq!(event.event, "license.assigned");
    assert!(
        signed_by(event, &secret),
        "the signature checks out: {}",
        event.signature
    );
    assert!(!signed_by(event, "another secret"));
    let body = payload(event);
    assert_eq!(body["type"], "license.assigned");
    let learner = app.learners("acme").remove(0);
    assert_eq!(body["data"]["sub"], Value::String(learner.id.to_string()));
    assert_eq!(body["data"]["email"], "ann@acme.example");
    assert_eq!(body["data"]["org"], "acme");
    assert_eq!(body["data"]["license"], "Learning");
    assert_eq!(body["data"]["cause"], "sso_auto_assign");
    assert_eq!(
        deliver(&app).await,
        delivery::Round::default(),
        "delivered once"
    );

    let org = app.org("acme");
    {
        let mut conn = app.store.connection().expect("connection");
        licensing::revoke(
            &mut conn,
            &app.clock.clock(),
            &Actor::Cli,
            LicenseCause::Cli,
            &org,
            &learner,
            &"Learning".parse().expect("type"),
        )
        .expect("revoke");
    }
    deliver(&app).await;
    let received = receiver.accepted(2, 5).await;
    assert_eq!(received[1].event, "license.revoked");
    assert_ne!(payload(&received[0])["id"], payload(&received[1])["id"]);
}

async fn only_subscribed_events_are_sent(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = acme_with_seats(&app);
    let receiver = Receiver::start();
    hooked(&app, &receiver, &[EventType::LicenseRevoked]);
    assert!(app.signs_in("acme", &idp, "ann@acme.example").await);
    assert_eq!(deliver(&app).await, delivery::Round::default());
    assert!(receiver.received().is_empty());
}

async fn a_failing_receiver_gets_the_event_again_after_a_backoff(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = acme_with_seats(&app);
    let receiver = Receiver::start();
    let (client_id, secret) = hooked(&app, &receiver, &EventType::ALL);
    receiver.fail_next(2);
    assert!(app.signs_in("acme", &idp, "ann@acme.example").await);

    assert_eq!(deliver(&app).await.failed, 1);
    assert_eq!(
        deliver(&app).await,
        delivery::Round::default(),
        "not due before its backoff"
    );
    app.clock.advance(chrono::TimeDelta::seconds(10));
    assert_eq!(deliver(&app).await.failed, 1);
    app.clock.advance(chrono::TimeDelta::seconds(19));
    assert_eq!(
        deliver(&app).await,
        delivery::Round::default(),
        "the backoff doubled"
    );
    app.clock.advance(chrono::TimeDelta::seconds(1));
    assert_eq!(deliver(&app).await.delivered, 1);

    let all = receiver.received();
    assert_eq!(all.len(), 3);
    assert!(
        all.iter().all(|r| r.delivery == all[0].delivery),
        "the same delivery each time"
    );
    assert!(signed_by(&all[2], &secret));
    let id: seatgate::ids::ApplicationId = client_id.parse().expect("id");
    let recorded =
        webhooks::recent_deliveries(&mut app.store.connection().expect("connection"), id, 10)
            .expect("deliveries");
    assert_eq!(recorded.len(), 1);
    assert_eq!(recorded[0].attempts, 3);
    assert!(recorded[0].delivered_at.is_some() && recorded[0].last_error.is_none());

    let mut conn = app.store.connection().expect("connection");
    let now = app.clock.clock().now_naive();
    assert_eq!(
        webhooks::purge_finished(&mut conn, now + chrono::TimeDelta::days(29)).expect("purge"),
        0
    );
    assert_eq!(
        webhooks::purge_finished(&mut conn, now + chrono::TimeDelta::days(30)).expect("purge"),
        1
    );
}

async fn scim_deactivation_and_updates_are_sent(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let receiver = Receiver::start();
    hooked(
        &app,
        &receiver,
        &[EventType::LearnerDeactivated, EventType::LearnerUpdated],
    );
    let scim = app.scim_config("acme", "Entra", &[]);
    let created = scim
        .post(
            "/Users",
            &entra_user("ann@acme.example", "ann@acme.example", "e-1"),
        )
        .await;
    assert_eq!(created.status, 201);
    let id = created.body["id"].as_str().expect("id").to_owned();
    let renamed = scim
        .patch(
            &format!("/Users/{id}"),
            json!([{"op": "replace", "path": "displayName", "value": "Ann Lee"}]),
        )
        .await;
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    let off = scim
        .patch(
            &format!("/Users/{id}"),
            json!([{"op": "replace", "path": "active", "value": false}]),
        )
        .await;
    assert_eq!(off.status, 200);
    deliver(&app).await;
    let received = receiver.accepted(2, 5).await;
    let events: Vec<&str> = received.iter().map(|r| r.event.as_str()).collect();
    assert_eq!(events, ["learner.updated", "learner.deactivated"]);
    assert_eq!(payload(&received[0])["data"]["name"], "Ann Lee");
    assert_eq!(payload(&received[1])["data"]["active"], false);
}

async fn operators_set_a_webhook_and_see_its_deliveries_in_the_console(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = acme_with_seats(&app);
    let receiver = Receiver::start();
    let client = app.register_app(false, IdTokenAlg::Rs256);
    let mut operator = app.admin_visitor("acme", "op@acme.example", true);
    let path = format!("/admin/apps/{}/webhook", client.client_id);
    let refused = submit(
        &mut operator,
        &path,
        &[("url", "ftp://x.example/"), ("events", "license.revoked")],
    )
    .await;
    assert_eq!(refused.status.as_u16(), 400);
    assert!(refused.body.contains("must use https"), "{}", refused.body);
    assert!(
        refused.body.contains(r#"value="license.revoked" checked"#),
        "what was ticked stays ticked"
    );
    let none = submit(&mut operator, &path, &[("url", &receiver.url)]).await;
    assert!(none.body.contains("Subscribe to at least one event."));
    let set = submit(
        &mut operator,
        &path,
        &[("url", &receiver.url), ("events", "license.assigned")],
    )
    .await;
    assert_eq!(set.status.as_u16(), 200, "{}", set.body);
    assert!(set.body.contains("Signing secret, shown this once"));
    assert!(app.signs_in("acme", &idp, "ann@acme.example").await);
    receiver.fail_next(1);
    deliver(&app).await;
    let page = operator.get(&path).await;
    assert!(page.body.contains("Trying again"), "{}", page.body);
    assert!(page.body.contains("the endpoint answered HTTP 500"));
    app.clock.advance(chrono::TimeDelta::seconds(10));
    deliver(&app).await;
    assert!(operator.get(&path).await.body.contains("Delivered"));
    let removed = submit(&mut operator, &format!("{path}/remove"), &[]).await;
    assert_eq!(removed.status.as_u16(), 303);
    assert!(
        operator
            .get(&path)
            .await
            .body
            .contains("The webhook is removed")
    );
}

async fn the_command_line_sets_and_lists_webhooks(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let receiver = Receiver::start();
    let client = app.register_app(false, IdTokenAlg::Rs256);
    let set = with_db(
        &app.db,
        &[
            "app",
            "webhook",
            &client.client_id,
            "--url",
            &receiver.url,
            "--events",
            "license.revoked,learner.updated",
        ],
    );
    assert!(set.status.success(), "{}", stderr(&set));
    let out = stdout(&set);
    assert!(
        out.starts_with(&format!(
            "webhook {} for license.revoked, learner.updated\n",
            receiver.url
        )),
        "{out}"
    );
    assert_eq!(out.lines().last().expect("secret").len(), 43);
    let unknown = with_db(
        &app.db,
        &[
            "app",
            "webhook",
            &client.client_id,
            "--url",
            &receiver.url,
            "--events",
            "license.stolen",
        ],
    );
    assert_eq!(unknown.status.code(), Some(1));
    assert!(stderr(&unknown).starts_with("error: unknown webhook event \"license.stolen\""));
    assert_eq!(
        stdout(&with_db(&app.db, &["app", "deliveries", &client.client_id])),
        ""
    );
    let removed = with_db(&app.db, &["app", "webhook-remove", &client.client_id]);
    assert!(removed.status.success());
    let again = with_db(&app.db, &["app", "webhook-remove", &client.client_id]);
    assert_eq!(
        stderr(&again),
        "error: the application \"LMS\" has no webhook\n"
    );
}

/// As an operator sets it up at the command line: organization "acme"
/// with a "Learning" pool, an application whose webhook posts `events` (all
/// when empty) to `receiver`, and learners imported from a CSV file with a
/// seat each (by processes that never deliver). Returns the client id.
fn hooked_from_the_command_line(
    db: &TestDb,
    receiver: &Receiver,
    events: &str,
    learners: usize,
) -> String {
    let run = |args: &[&str]| {
        let output = with_db(db, args);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
        stdout(&output)
    };
    run(&["org", "create", "acme", "--name", "Acme"]);
    run(&[
        "license", "set", "acme", "--type", "Learning", "--seats", "50",
    ]);
    let created = run(&[
        "app",
        "create",
        "--name",
        "LMS",
        "--redirect-uri",
        "https://lms.example/cb",
    ]);
    let client_id = created
        .lines()
        .find_map(|l| l.strip_prefix("client id: "))
        .expect("id")
        .to_owned();
    let mut webhook = vec![
        "app",
        "webhook",
        client_id.as_str(),
        "--url",
        receiver.url.as_str(),
    ];
    if !events.is_empty() {
        webhook.extend(["--events", events]);
    }
    run(&webhook);
    let csv = db.dir().join("people.csv");
    let rows: String = (0..learners)
        .map(|i| format!("learner{i}@acme.example,Learning\n"))
        .collect();
    std::fs::write(&csv, format!("email,license_type\n{rows}")).expect("csv");
    run(&["import", "acme", csv.to_str().expect("path")]);
    client_id
}

/// Events written by command-line processes (which never deliver) and sent
/// by two `seatgate serve` processes: each delivery reaches the receiver once.
async fn two_processes_deliver_each_event_once(backend: Backend) {
    let db = TestDb::fresh(backend);
    let receiver = Receiver::start();
    let _first = start_server(&db, "http://seatgate.test").await;
    let _second = start_server(&db, "http://seatgate.test").await;
    hooked_from_the_command_line(&db, &receiver, "license.assigned", 12);
    let received = receiver.accepted(12, 60).await;
    // A moment more, for a second copy of anything to arrive.
    actix_rt::time::sleep(std::time::Duration::from_secs(5)).await;
    let all = receiver.received();
    let mut ids: Vec<&str> = all.iter().map(|r| r.delivery.as_str()).collect();
    ids.sort_unstable();
    ids.dedup();
    assert_eq!(
        (all.len(), ids.len()),
        (12, 12),
        "each delivery once: {all:?}"
    );
    assert_eq!(received.len(), 12);
}

/// The process sending a delivery is killed (SIGKILL) while the receiver
/// holds the request; its claim expires and a new process delivers it.
async fn a_delivery_outlives_the_process_killed_while_sending_it(backend: Backend) {
    let db = TestDb::fresh(backend);
    let receiver = Receiver::start();
    let client_id = hooked_from_the_command_line(&db, &receiver, "", 1);
    receiver.hang(true);
    let sending = start_server(&db, "http://seatgate.test").await;
    for _ in 0..100 {
        if !receiver.received().is_empty() {
            break;
        }
        actix_rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    assert_eq!(receiver.received().len(), 1, "the first process is sending");
    drop(sending); // SIGKILL, mid-request
    receiver.hang(false);
    let _next = start_server(&db, "http://seatgate.test").await;
    let accepted = receiver.accepted(1, 60).await;
    let all = receiver.received();
    assert_eq!(
        accepted[0].delivery, all[0].delivery,
        "the same delivery, sent again"
    );
    let deliveries = stdout(&with_db(&db, &["app", "deliveries", &client_id]));
    assert!(
        deliveries.contains("\tlicense.assigned\tdelivered "),
        "{deliveries}"
    );
    assert!(deliveries.contains("\tattempts 2\t"), "{deliveries}");
}

on_both_databases!(
    a_seat_taken_at_sign_in_reaches_the_application_signed,
    only_subscribed_events_are_sent,
    a_failing_receiver_gets_the_event_again_after_a_backoff,
    scim_deactivation_and_updates_are_sent,
    operators_set_a_webhook_and_see_its_deliveries_in_the_console,
    the_command_line_sets_and_lists_webhooks,
    two_processes_deliver_each_event_once,
    a_delivery_outlives_the_process_killed_while_sending_it,
);
