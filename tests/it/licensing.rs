//! License pools, manual and automatic assignment, and the seat invariant under concurrency.

use seatgate::licensing;
use seatgate::saml::attributes::Preset;

use crate::cli::{stderr, stdout, with_db};
use crate::common::idp::TestIdp;
use crate::common::{Backend, TestApp};
use crate::on_both_databases;

const IDP: &str = "https://idp.acme.example/saml";

async fn sign_in(app: &TestApp, idp: &TestIdp, email: &str) -> String {
    let (page, mut visitor) = app
        .post_response("acme", &idp.mint(&idp.spec(app, "acme", email)), None)
        .await;
    assert_eq!(page.status.as_u16(), 303, "{:?}", app.sso_errors("acme"));
    visitor.get("/").await.body
}

/// Posts each encoded response from a visitor of its own, all at once, round-robin over
/// `servers`, and counts the home pages: `(licensed, "no license")`.
async fn sign_in_concurrently(servers: &[String], responses: Vec<String>) -> (usize, usize) {
    let tasks: Vec<_> = responses
        .into_iter()
        .enumerate()
        .map(|(i, encoded)| {
            let address = servers[i % servers.len()].clone();
            actix_rt::spawn(async move {
                let mut visitor = crate::common::Visitor::new(&address);
                let page = visitor
                    .post("/sso/acme/acs", &[("SAMLResponse", encoded.as_str())])
                    .await;
                assert_eq!(page.status.as_u16(), 303, "{}", page.body);
                visitor.get("/").await.body
            })
        })
        .collect();
    let (mut licensed, mut waiting) = (0, 0);
    for task in tasks {
        let home = task.await.expect("sign-in task");
        if home.contains("License: Learning") {
            licensed += 1;
        } else if home.contains("No license is available yet") {
            waiting += 1;
        }
    }
    (licensed, waiting)
}

/// Organization "acme" wired to a test IdP, with `seats` "Learning" seats assigned automatically.
pub(crate) fn auto_assigned_pool(app: &TestApp, seats: u32) -> TestIdp {
    let idp = TestIdp::new(IDP);
    app.connect("acme", &idp, Preset::Generic);
    auto_assigned_seats(&app.db, seats);
    idp
}

/// A "Learning" pool of `seats` for "acme", assigned at first sign-in, set
/// up at the command line.
fn auto_assigned_seats(db: &crate::common::TestDb, seats: u32) {
    let seats = seats.to_string();
    for args in [
        &[
            "license", "set", "acme", "--type", "Learning", "--seats", &seats,
        ][..],
        &[
            "org",
            "set",
            "acme",
            "--auto-assign",
            "on",
            "--license-type",
            "Learning",
        ],
    ] {
        let output = with_db(db, args);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
    }
}

fn pool_line(app: &TestApp) -> String {
    stdout(&with_db(&app.db, &["license", "show", "acme"]))
}

async fn license_commands_set_show_assign_and_revoke(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = TestIdp::new(IDP);
    app.connect("acme", &idp, Preset::Generic);
    assert_eq!(
        stdout(&with_db(
            &app.db,
            &[
                "license", "set", "acme", "--type", "Learning", "--seats", "2"
            ]
        )),
        "Learning 0/2\n"
    );
    let home = sign_in(&app, &idp, "ann@acme.example").await;
    assert!(
        home.contains("Your account is ready; an administrator will assign your license."),
        "{home}"
    );

    let assigned = with_db(&app.db, &["license", "assign", "acme", "ann@acme.example"]);
    assert_eq!(
        stdout(&assigned),
        "assigned a Learning seat to ann@acme.example\n",
        "{}",
        stderr(&assigned)
    );
    assert_eq!(pool_line(&app), "Learning 1/2\n");
    let shown = stdout(&with_db(
        &app.db,
        &["user", "show", "acme", "ann@acme.example"],
    ));
    assert!(
        shown.contains("license: Learning since 20") && shown.contains("(cli)"),
        "{shown}"
    );
    let twice = with_db(&app.db, &["license", "assign", "acme", "ann@acme.example"]);
    assert_eq!(
        stderr(&twice),
        "error: ann@acme.example already holds a \"Learning\" license\n"
    );
    assert!(
        sign_in(&app, &idp, "ann@acme.example")
            .await
            .contains("License: Learning")
    );

    let revoked = with_db(&app.db, &["license", "revoke", "acme", "ann@acme.example"]);
    assert_eq!(
        stdout(&revoked),
        "revoked the Learning seat of ann@acme.example\n"
    );
    assert_eq!(pool_line(&app), "Learning 0/2\n");
    let again = with_db(&app.db, &["license", "revoke", "acme", "ann@acme.example"]);
    assert_eq!(
        stderr(&again),
        "error: ann@acme.example holds no \"Learning\" license\n"
    );
    let nobody = with_db(
        &app.db,
        &["license", "assign", "acme", "nobody@acme.example"],
    );
    assert_eq!(
        stderr(&nobody),
        "error: organization \"acme\" has no learner \"nobody@acme.example\"\n"
    );
}

async fn auto_assign_is_first_come_first_served_and_respects_revocations(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = TestIdp::new(IDP);
    app.connect("acme", &idp, Preset::Generic);
    let no_pool = with_db(
        &app.db,
        &[
            "org",
            "set",
            "acme",
            "--auto-assign",
            "on",
            "--license-type",
            "Learning",
        ],
    );
    assert_eq!(
        stderr(&no_pool),
        "error: organization \"acme\" has no \"Learning\" license pool\n"
    );
    with_db(
        &app.db,
        &[
            "license", "set", "acme", "--type", "Learning", "--seats", "1",
        ],
    );
    let on = with_db(
        &app.db,
        &[
            "org",
            "set",
            "acme",
            "--auto-assign",
            "on",
            "--license-type",
            "Learning",
        ],
    );
    assert!(
        stdout(&on).contains("auto_assign_licenses: on\nauto_assign_license_type: Learning\n"),
        "{}",
        stderr(&on)
    );

    assert!(
        sign_in(&app, &idp, "first@acme.example")
            .await
            .contains("License: Learning")
    );
    let second = sign_in(&app, &idp, "second@acme.example").await;
    assert!(
        second.contains("No license is available yet; your administrator has been notified."),
        "{second}"
    );
    assert_eq!(pool_line(&app), "Learning 1/1\n");

    // An admin takes the first seat back: the next sign-in of the second learner gets it,
    // and the revoked learner is not handed one again automatically.
    with_db(
        &app.db,
        &["license", "revoke", "acme", "first@acme.example"],
    );
    with_db(
        &app.db,
        &[
            "license", "set", "acme", "--type", "Learning", "--seats", "3",
        ],
    );
    assert!(
        sign_in(&app, &idp, "second@acme.example")
            .await
            .contains("License: Learning")
    );
    let revoked = sign_in(&app, &idp, "first@acme.example").await;
    assert!(
        revoked.contains("Your account is ready; an administrator will assign your license."),
        "revocation is sticky: {revoked}"
    );
    assert_eq!(pool_line(&app), "Learning 1/3\n");

    // Shrinking below use revokes nothing and stops new assignments.
    assert!(
        sign_in(&app, &idp, "third@acme.example")
            .await
            .contains("License: Learning")
    );
    let shrunk = with_db(
        &app.db,
        &[
            "license", "set", "acme", "--type", "Learning", "--seats", "1",
        ],
    );
    assert_eq!(stdout(&shrunk), "Learning 2/1\n");
    assert!(stderr(&shrunk).contains("over-allocated"));
    assert!(
        !sign_in(&app, &idp, "fourth@acme.example")
            .await
            .contains("License: Learning")
    );
    assert!(
        sign_in(&app, &idp, "third@acme.example")
            .await
            .contains("License: Learning"),
        "nobody loses a seat"
    );
}

async fn concurrent_first_sign_ins_never_take_more_seats_than_the_pool_holds(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = auto_assigned_pool(&app, 50);

    let responses: Vec<String> = (0..200)
        .map(|i| {
            seatgate::saml::mint::encode(&idp.mint(&idp.spec(
                &app,
                "acme",
                &format!("learner{i}@acme.example"),
            )))
        })
        .collect();
    let (licensed, waiting) =
        sign_in_concurrently(std::slice::from_ref(&app.address), responses).await;
    assert_eq!((licensed, waiting), (50, 150));
    assert_eq!(pool_line(&app), "Learning 50/50\n");
    let org = app.org("acme");
    let mut conn = app.store.connection().unwrap();
    let holders = app
        .learners("acme")
        .iter()
        .filter(|l| licensing::license_of(&mut conn, l).unwrap().is_some())
        .count();
    assert_eq!(holders, 50, "exactly as many active assignments as seats");
    assert_eq!(licensing::pools(&mut conn, org.id).unwrap()[0].assigned, 50);
    assert!(
        app.sso_errors("acme").is_empty(),
        "no errors under concurrency"
    );
}

fn exhaustion_alerts(app: &TestApp) -> usize {
    let org = app.org("acme");
    let mut conn = app.store.connection().unwrap();
    seatgate::audit::recent(&mut conn, org.id, 500)
        .unwrap()
        .iter()
        .filter(|e| e.action == seatgate::audit::Action::LicensePoolExhausted)
        .count()
}

async fn out_of_seats_is_alerted_once_per_exhaustion_episode(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = auto_assigned_pool(&app, 1);
    sign_in(&app, &idp, "a@acme.example").await;
    sign_in(&app, &idp, "b@acme.example").await;
    sign_in(&app, &idp, "c@acme.example").await;
    assert_eq!(
        exhaustion_alerts(&app),
        1,
        "two learners turned away, one alert"
    );
    with_db(&app.db, &["license", "revoke", "acme", "a@acme.example"]);
    assert!(
        sign_in(&app, &idp, "b@acme.example")
            .await
            .contains("License: Learning")
    );
    sign_in(&app, &idp, "d@acme.example").await;
    assert_eq!(exhaustion_alerts(&app), 2, "a new episode, a new alert");
}

async fn reclaim_revokes_the_seats_of_inactive_learners_after_listing_them(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = auto_assigned_pool(&app, 5);
    app.clock.advance(chrono::TimeDelta::days(-40));
    sign_in(&app, &idp, "idle@acme.example").await;
    app.clock.advance(chrono::TimeDelta::days(40));
    sign_in(&app, &idp, "busy@acme.example").await;
    assert_eq!(pool_line(&app), "Learning 2/5\n");

    let dry = stdout(&with_db(
        &app.db,
        &[
            "license",
            "reclaim",
            "acme",
            "--inactive-days",
            "30",
            "--dry-run",
        ],
    ));
    assert_eq!(dry, "idle@acme.example\tLearning\nwould reclaim 1 seats\n");
    assert_eq!(
        pool_line(&app),
        "Learning 2/5\n",
        "a dry run changes nothing"
    );
    let done = stdout(&with_db(
        &app.db,
        &["license", "reclaim", "acme", "--inactive-days", "30"],
    ));
    assert_eq!(done, "idle@acme.example\tLearning\nreclaimed 1 seats\n");
    assert_eq!(pool_line(&app), "Learning 1/5\n");
    assert!(
        stdout(&with_db(
            &app.db,
            &["user", "show", "acme", "idle@acme.example"]
        ))
        .contains("license: none")
    );
    assert!(
        sign_in(&app, &idp, "idle@acme.example")
            .await
            .contains("License: Learning"),
        "reclaim is not sticky"
    );
}

on_both_databases!(
    out_of_seats_is_alerted_once_per_exhaustion_episode,
    reclaim_revokes_the_seats_of_inactive_learners_after_listing_them,
    license_commands_set_show_assign_and_revoke,
    auto_assign_is_first_come_first_served_and_respects_revocations,
    concurrent_first_sign_ins_never_take_more_seats_than_the_pool_holds,
);

/// Organization "acme" as an operator sets it up with the command line:
/// wired to `idp` from its metadata file, with `seats` "Learning" seats
/// assigned at first sign-in.
pub(crate) fn acme_from_the_command_line(db: &crate::common::TestDb, idp: &TestIdp, seats: u32) {
    let metadata = db.dir().join("idp.xml");
    std::fs::write(&metadata, idp.metadata()).expect("metadata file");
    for args in [
        &["org", "create", "acme", "--name", "Acme"][..],
        &[
            "idp",
            "add",
            "acme",
            "--metadata",
            metadata.to_str().expect("UTF-8 path"),
        ],
    ] {
        let output = with_db(db, args);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
    }
    auto_assigned_seats(db, seats);
}

/// A `seatgate serve` process on its own port, killed when dropped.
pub(crate) struct Server {
    child: std::process::Child,
    pub(crate) address: String,
}

impl Server {
    /// Sends SIGTERM, as a service manager stopping the server does.
    pub(crate) fn terminate(&self) {
        let sent = std::process::Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .expect("run kill");
        assert!(sent.success(), "SIGTERM sent");
    }

    /// The exit status once the process has ended, waiting up to `seconds`.
    pub(crate) async fn exited_within(&mut self, seconds: u64) -> Option<std::process::ExitStatus> {
        for _ in 0..seconds * 10 {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return Some(status);
            }
            actix_rt::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        None
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

pub(crate) async fn start_server(db: &crate::common::TestDb, base_url: &str) -> Server {
    start_server_with(db, base_url, &[]).await
}

/// `seatgate serve` with more settings from the environment.
pub(crate) async fn start_server_with(
    db: &crate::common::TestDb,
    base_url: &str,
    env: &[(&str, &str)],
) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_seatgate"))
        .env("SEATGATE_LOG", "warn")
        .envs(env.iter().copied())
        .args([
            "--database-url",
            &db.url_text(),
            "--base-url",
            base_url,
            "--bind",
            &format!("127.0.0.1:{port}"),
        ])
        .args([
            "--certs-dir",
            db.dir().join("certs").to_str().unwrap(),
            "serve",
        ])
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start seatgate serve");
    // Owned by `Server` at once, so every path below kills and reaps it.
    let server = Server {
        child,
        address: format!("http://127.0.0.1:{port}"),
    };
    for _ in 0..100 {
        if awc::Client::new()
            .get(format!("{}/healthz", server.address))
            .send()
            .await
            .is_ok_and(|r| r.status().is_success())
        {
            return server;
        }
        actix_rt::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    panic!("seatgate serve did not answer on {}", server.address);
}

#[actix_rt::test]
async fn two_processes_on_one_postgres_never_take_more_seats_than_the_pool_holds() {
    let db = crate::common::TestDb::fresh(Backend::Postgres);
    let idp = TestIdp::new(IDP);
    acme_from_the_command_line(&db, &idp, 50);
    // Two processes behind one public URL, as behind a load balancer.
    let public = "http://seatgate.test";
    let servers = [
        start_server(&db, public).await,
        start_server(&db, public).await,
    ];
    let sp = seatgate::saml::SpEndpoints::for_org(
        &seatgate::config::BaseUrl::parse(public).unwrap(),
        &"acme".parse().unwrap(),
    );
    let now = seatgate::clock::Clock::system().now();
    let responses: Vec<String> = (0..200)
        .map(|i| {
            let email = format!("learner{i}@acme.example");
            let mut spec = seatgate::saml::mint::ResponseSpec::new(IDP, &sp, &email, now);
            spec.attributes = vec![("email".into(), email)];
            seatgate::saml::mint::encode(&idp.mint(&spec))
        })
        .collect();
    let addresses: Vec<String> = servers.iter().map(|s| s.address.clone()).collect();
    let (licensed, waiting) = sign_in_concurrently(&addresses, responses).await;
    assert_eq!((licensed, waiting), (50, 150));
    assert_eq!(
        stdout(&with_db(&db, &["license", "show", "acme"])),
        "Learning 50/50\n"
    );
    drop(servers);
}

/// The waiting list: learners refused a seat wait in arrival order, and a
/// freed seat (revocation, a larger pool) goes to the longest waiting at
/// once, before anybody who signs in later.
async fn a_freed_seat_goes_to_the_longest_waiting_learner(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = auto_assigned_pool(&app, 1);
    sign_in(&app, &idp, "first@acme.example").await;
    for later in ["second@acme.example", "third@acme.example"] {
        app.clock.advance(chrono::TimeDelta::seconds(1));
        let home = sign_in(&app, &idp, later).await;
        assert!(home.contains("No license is available yet"), "{home}");
    }
    let show = |email: &str| stdout(&with_db(&app.db, &["user", "show", "acme", email]));
    with_db(
        &app.db,
        &["license", "revoke", "acme", "first@acme.example"],
    );
    assert!(
        show("second@acme.example").contains("license: Learning"),
        "the first to wait"
    );
    assert!(show("third@acme.example").contains("license: none"));
    assert_eq!(pool_line(&app), "Learning 1/1\n");
    let newcomer = sign_in(&app, &idp, "fourth@acme.example").await;
    assert!(
        newcomer.contains("No license is available yet"),
        "{newcomer}"
    );
    with_db(
        &app.db,
        &[
            "license", "set", "acme", "--type", "Learning", "--seats", "2",
        ],
    );
    assert!(
        show("third@acme.example").contains("license: Learning"),
        "before fourth"
    );
    assert!(show("fourth@acme.example").contains("license: none"));
    let mut admin = app.admin_visitor("acme", "admin@acme.example", false);
    let licenses = admin.get("/admin/orgs/acme/licenses").await;
    assert!(
        licenses.body.contains("Waiting for a seat"),
        "{}",
        licenses.body
    );
    assert!(
        licenses.body.contains("fourth@acme.example"),
        "{}",
        licenses.body
    );
}

on_both_databases!(a_freed_seat_goes_to_the_longest_waiting_learner);
