//! The command line, run as the real binary, as operators script it.

use std::process::{Command, Output};

use crate::common::{Backend, TestApp, TestDb};
use crate::on_both_databases;

/// Runs `seatgate` with a clean environment (no SEATGATE_* from the caller).
pub fn seatgate(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_seatgate"));
    for (var, _) in std::env::vars() {
        if var.starts_with("SEATGATE_") {
            command.env_remove(var);
        }
    }
    command
        .env("SEATGATE_LOG", "warn")
        .args(args)
        .envs(env.iter().copied());
    command.output().expect("run the seatgate binary")
}

pub fn with_db(db: &TestDb, args: &[&str]) -> Output {
    let url = db.url_text();
    let mut all = vec!["--database-url", url.as_str()];
    all.extend_from_slice(args);
    seatgate(&all, &[])
}

pub fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

async fn org_commands_create_list_show_and_refuse_duplicates(backend: Backend) {
    let db = TestDb::fresh(backend);
    let created = with_db(&db, &["org", "create", "acme", "--name", "Acme Corp"]);
    assert!(created.status.success(), "{}", stderr(&created));
    assert_eq!(stdout(&created), "created organization acme (Acme Corp)\n");

    let duplicate = with_db(&db, &["org", "create", "acme", "--name", "Again"]);
    assert_eq!(duplicate.status.code(), Some(1));
    assert_eq!(
        stderr(&duplicate),
        "error: organization \"acme\" already exists\n"
    );

    with_db(&db, &["org", "create", "beta", "--name", "Beta Ltd"]);
    let list = with_db(&db, &["org", "list"]);
    assert_eq!(stdout(&list), "acme\tAcme Corp\nbeta\tBeta Ltd\n");

    let show = stdout(&with_db(&db, &["org", "show", "acme"]));
    assert!(show.contains("slug: acme\n"), "{show}");
    assert!(show.contains("name: Acme Corp\n"));
    assert!(show.contains("auto_assign_licenses: off\n"));
    assert!(show.contains("profile_binding_policy: optional\n"));
    assert!(show.contains("learner_session_minutes: 480\n"));
    assert!(show.contains("clock_skew_seconds: 180\n"));

    let missing = with_db(&db, &["org", "show", "nope"]);
    assert_eq!(missing.status.code(), Some(1));
    assert_eq!(
        stderr(&missing),
        "error: organization \"nope\" does not exist\n"
    );

    let bad_slug = with_db(&db, &["org", "create", "Not A Slug", "--name", "X"]);
    assert_eq!(bad_slug.status.code(), Some(1));
    assert!(
        stderr(&bad_slug).starts_with("error: \"Not A Slug\" is not a valid organization slug")
    );
}

async fn migrate_command_is_idempotent(backend: Backend) {
    let db = TestDb::fresh(backend);
    let first = with_db(&db, &["migrate"]);
    assert!(first.status.success(), "{}", stderr(&first));
    assert!(stdout(&first).starts_with("applied "), "{}", stdout(&first));
    let second = with_db(&db, &["migrate"]);
    assert!(second.status.success(), "{}", stderr(&second));
    assert_eq!(stdout(&second), "database is up to date\n");
}

/// A learner stored before migration 000018 has no SCIM filter keys; the
/// next migration run writes them (Unicode case folding, which SQL cannot
/// do), without changing the learner's version: the learner is found by
/// name and keeps its ETag.
async fn migrate_fills_the_filter_keys_of_learners_stored_before_them(backend: Backend) {
    use diesel::RunQueryDsl;
    use seatgate::accounts::learners::{self, Condition, TextField, TextTest};
    let db = TestDb::fresh(backend);
    let created = with_db(&db, &["org", "create", "acme", "--name", "Acme Corp"]);
    assert!(created.status.success(), "{}", stderr(&created));
    let store = seatgate::store::Store::connect(&db.url).expect("connect");
    let mut conn = store.connection().expect("connection");
    let org = seatgate::orgs::find(&mut conn, "acme").expect("org");
    // As the row was written before the keys existed.
    diesel::sql_query(format!(
        "INSERT INTO users (id, org_id, email, display_name, first_name, created_at) \
         VALUES ('{}', '{}', 'asa@acme.example', 'ÅSA STRÖM', 'ÅSA', '2026-12-01 10:00:00')",
        seatgate::ids::UserId::generate(),
        org.id
    ))
    .execute(&mut *conn)
    .expect("a learner from before");
    let named = |field, value: &str| Condition::Text {
        field,
        test: TextTest::Eq,
        value: value.to_owned(),
    };
    let condition = Condition::And(
        named(TextField::DisplayName, "åsa ström").into(),
        named(TextField::GivenName, "åsa").into(),
    );
    let scim = seatgate::scim::NewConfig {
        name: "Entra".to_owned(),
        auto_assign: false,
        license_type: None,
    };
    let clock = seatgate::clock::Clock::system();
    let (config, _) =
        seatgate::scim::create(&mut conn, &clock, &seatgate::audit::Actor::Cli, &org, scim)
            .expect("configuration");
    let found = |conn: &mut _| {
        learners::scim_page(conn, org.id, config.id, Some(&condition), 0, 10)
            .expect("page")
            .0
    };
    assert!(found(&mut conn).is_empty(), "no keys, so no match yet");
    let migrated = with_db(&db, &["migrate"]);
    assert!(migrated.status.success(), "{}", stderr(&migrated));
    let after = found(&mut conn);
    assert_eq!(after.len(), 1, "the keys were filled");
    assert_eq!(
        after[0].version, 1,
        "filling keys is not a change a client sees"
    );
}

async fn admin_create_prints_a_one_time_link_that_works(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    with_db(&app.db, &["org", "create", "acme", "--name", "Acme Corp"]);
    let output = with_db(
        &app.db,
        &[
            "--base-url",
            &app.address,
            "admin",
            "create",
            "--org",
            "acme",
            "--email",
            "Ann@Acme.example",
        ],
    );
    assert!(output.status.success(), "{}", stderr(&output));
    let text = stdout(&output);
    assert!(
        text.starts_with("created administrator ann@acme.example of acme\n"),
        "{text}"
    );
    let link = text.lines().last().expect("the link line");
    let path = link
        .strip_prefix(&app.address)
        .expect("link under the base URL");
    assert!(path.starts_with("/admin/link/"));
    let page = app.visitor().get(path).await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.body);

    let other_org = with_db(&app.db, &["org", "create", "beta", "--name", "Beta"]);
    assert!(other_org.status.success());
    let clash = with_db(
        &app.db,
        &[
            "admin",
            "create",
            "--org",
            "beta",
            "--email",
            "ann@acme.example",
        ],
    );
    assert_eq!(clash.status.code(), Some(1));
    assert_eq!(
        stderr(&clash),
        "error: admin \"ann@acme.example\" belongs to another organization\n"
    );

    let unknown_org = with_db(
        &app.db,
        &["admin", "create", "--org", "nope", "--email", "x@y.example"],
    );
    assert_eq!(
        stderr(&unknown_org),
        "error: organization \"nope\" does not exist\n"
    );
}

/// `seatgate demo` prints where to start, including a working invitation
/// link (no mail server in the demo); the server is stopped once it has.
async fn the_demo_prints_the_start_page_and_an_invitation_link(backend: Backend) {
    use std::io::{BufRead, BufReader};
    let db = TestDb::fresh(backend);
    let url = db.url_text();
    let certs = db.dir().join("certs");
    let mut demo = std::process::Command::new(env!("CARGO_BIN_EXE_seatgate"))
        .env("SEATGATE_LOG", "warn")
        .args([
            "--database-url",
            &url,
            "--bind",
            "127.0.0.1:0",
            "--certs-dir",
        ])
        .arg(&certs)
        .arg("demo")
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start the demo");
    let mut lines = BufReader::new(demo.stdout.take().expect("stdout")).lines();
    let mut printed = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("a line");
        let done = line.starts_with("Administrator console:");
        printed.push(line);
        if done {
            break;
        }
    }
    demo.kill().expect("stop the demo");
    demo.wait().expect("the demo stopped");
    let text = printed.join("\n");
    assert!(
        text.contains(
            "Start page:            http://127.0.0.1:8080/ (type any address at demo.example)"
        ),
        "{text}"
    );
    let link = printed
        .iter()
        .find_map(|l| l.strip_prefix("Invitation link:       "))
        .unwrap_or_else(|| panic!("an invitation link in {text}"));
    let token = link
        .strip_prefix("http://127.0.0.1:8080/invitations/")
        .and_then(|rest| rest.strip_suffix(" (for new.learner@demo.example)"))
        .unwrap_or_else(|| panic!("{link}"));
    let store = seatgate::store::Store::connect(&db.url).expect("connect");
    let mut conn = store.connection().expect("connection");
    let invitation =
        seatgate::invitations::open(&mut conn, &seatgate::clock::Clock::system(), token)
            .expect("the printed link is an open invitation");
    assert_eq!(invitation.email.as_str(), "new.learner@demo.example");
}

on_both_databases!(
    the_demo_prints_the_start_page_and_an_invitation_link,
    org_commands_create_list_show_and_refuse_duplicates,
    migrate_command_is_idempotent,
    migrate_fills_the_filter_keys_of_learners_stored_before_them,
    admin_create_prints_a_one_time_link_that_works,
);

#[test]
fn bad_configuration_is_refused_with_the_key_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("sqlite://{}/x.db", dir.path().display());

    let bad_flag = seatgate(&["--database-url", &db, "--bind", "nonsense", "serve"], &[]);
    assert_eq!(bad_flag.status.code(), Some(1));
    assert!(
        stderr(&bad_flag)
            .starts_with("error: bind (from flag --bind): \"nonsense\" is not an address")
    );

    let bad_env = seatgate(
        &["--database-url", &db, "serve"],
        &[("SEATGATE_BASE_URL", "ftp://x")],
    );
    assert!(
        stderr(&bad_env)
            .starts_with("error: base_url (from environment variable SEATGATE_BASE_URL)")
    );

    let file = dir.path().join("seatgate.toml");
    std::fs::write(&file, "colour = \"blue\"\n").expect("write config");
    let unknown_key = seatgate(&["--config", file.to_str().unwrap(), "serve"], &[]);
    assert_eq!(unknown_key.status.code(), Some(1));
    assert!(
        stderr(&unknown_key).contains("unknown field `colour`"),
        "{}",
        stderr(&unknown_key)
    );

    let wrong_scheme = seatgate(&["--database-url", "mysql://x/y", "migrate"], &[]);
    assert!(
        stderr(&wrong_scheme)
            .starts_with("error: database_url (from flag --database-url): unsupported database")
    );

    let unreachable = seatgate(
        &[
            "--database-url",
            "postgres://postgres@127.0.0.1:1/nothing",
            "migrate",
        ],
        &[],
    );
    assert_eq!(unreachable.status.code(), Some(1));
    let message = stderr(&unreachable);
    assert!(
        message.starts_with(
            "error: database_url: cannot connect to postgres://postgres@127.0.0.1:1/nothing"
        ),
        "{message}"
    );
    assert_eq!(message.lines().count(), 1, "one line: {message}");
}

#[test]
fn json_log_format_writes_one_json_object_per_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let db = format!("sqlite://{}/x.db", dir.path().display());
    let output = seatgate(
        &["--database-url", &db, "--log-format", "json", "org", "list"],
        &[("SEATGATE_LOG", "info")],
    );
    assert!(output.status.success());
    let logs = stderr(&output);
    assert!(!logs.is_empty(), "migrations are logged at info");
    for line in logs.lines() {
        let event: serde_json::Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("{e}: {line}"));
        assert!(
            event.get("level").is_some() && event.get("fields").is_some(),
            "{line}"
        );
    }
}

#[test]
fn version_and_help_are_printed() {
    let version = seatgate(&["--version"], &[]);
    assert_eq!(
        stdout(&version),
        format!("seatgate {}\n", env!("CARGO_PKG_VERSION"))
    );
    for command in [
        &["--help"][..],
        &["org", "create", "--help"],
        &["admin", "create", "--help"],
        &["serve", "--help"],
    ] {
        let help = seatgate(command, &[]);
        assert!(help.status.success());
        assert!(stdout(&help).contains("Usage: seatgate"), "{command:?}");
    }
}

async fn app_commands_register_list_rotate_and_remove(backend: Backend) {
    let db = TestDb::fresh(backend);
    let created = with_db(
        &db,
        &[
            "app",
            "create",
            "--name",
            "Academy",
            "--redirect-uri",
            "https://academy.example/cb",
            "--redirect-uri",
            "https://academy.example/cb2",
        ],
    );
    assert!(created.status.success(), "{}", stderr(&created));
    let out = stdout(&created);
    assert!(
        out.starts_with("created confidential application \"Academy\"\n"),
        "{out}"
    );
    let client_id = out
        .lines()
        .find_map(|l| l.strip_prefix("client id: "))
        .expect("client id")
        .to_owned();
    let secret = out.lines().last().expect("secret last").to_owned();
    assert_eq!(secret.len(), 43, "{out}");

    let public = with_db(
        &db,
        &[
            "app",
            "create",
            "--name",
            "Mobile",
            "--redirect-uri",
            "https://m.example/cb",
            "--public",
            "--id-token-alg",
            "es256",
        ],
    );
    assert!(
        stdout(&public)
            .lines()
            .last()
            .is_some_and(|l| l.starts_with("client id: "))
    );

    let list = stdout(&with_db(&db, &["app", "list"]));
    assert!(list.contains(&format!("{client_id}\tAcademy\tconfidential\tRS256\thttps://academy.example/cb https://academy.example/cb2\n")), "{list}");
    assert!(list.contains("\tMobile\tpublic\tES256\t"));

    let rotated = with_db(&db, &["app", "rotate-secret", &client_id]);
    let new_secret = stdout(&rotated).lines().last().expect("secret").to_owned();
    assert_ne!(new_secret, secret);

    let refused = with_db(
        &db,
        &[
            "app",
            "create",
            "--name",
            "Bad",
            "--redirect-uri",
            "http://bad.example/cb",
        ],
    );
    assert_eq!(refused.status.code(), Some(1));
    assert_eq!(
        stderr(&refused),
        "error: the redirect URI \"http://bad.example/cb\" must use https (http only on localhost)\n"
    );
    let removed = with_db(&db, &["app", "remove", &client_id]);
    assert_eq!(
        stdout(&removed),
        "removed application \"Academy\"; its tokens no longer work\n"
    );
    let unknown = with_db(&db, &["app", "remove", &client_id]);
    assert_eq!(
        stderr(&unknown),
        format!("error: no application {client_id:?}\n")
    );
}

on_both_databases!(app_commands_register_list_rotate_and_remove);
