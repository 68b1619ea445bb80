//! CSV bulk changes (issue 16), on both databases: dry run, idempotency,
//! seats in file order, SCIM learners untouched, revoke and remove, export
//! round trip, audit; and the command line's public interface.

use seatgate::accounts::learners::{self, Learner, ScimProfile};
use seatgate::audit::{self, Action, Actor};
use seatgate::clock::Clock;
use seatgate::ids::ImportId;
use seatgate::imports::{self, Outcome, Report, Request, RowResult, Source, format};
use seatgate::licensing::{self, LicenseType};
use seatgate::orgs::Organization;
use seatgate::scim::{self, NewConfig};
use seatgate::store::{DbConn, Store};

use crate::cli::{stderr, stdout, with_db};
use crate::common::{Backend, TestDb, store_with_acme};
use crate::on_both_databases;

/// Every row's result, kept.
#[derive(Default)]
struct Kept(Vec<RowResult>);

impl Report for Kept {
    fn columns(&mut self, _: &[format::Column]) -> std::io::Result<()> {
        Ok(())
    }

    fn row(&mut self, row: &RowResult) -> std::io::Result<()> {
        self.0.push(row.clone());
        Ok(())
    }
}

struct Fixture {
    _db: TestDb,
    store: Store,
    org: Organization,
    clock: Clock,
}

/// Organization "acme" with a pool of `seats` Learning seats.
fn fixture(backend: Backend, seats: u32) -> Fixture {
    let (db, store, org) = store_with_acme(backend);
    let clock = Clock::system();
    let mut conn = store.connection().expect("connection");
    licensing::set_pool(&mut conn, &clock, &Actor::Cli, &org, &learning(), seats).expect("pool");
    Fixture {
        _db: db,
        store,
        org,
        clock,
    }
}

fn learning() -> LicenseType {
    "Learning".parse().unwrap()
}

impl Fixture {
    fn conn(&self) -> impl std::ops::DerefMut<Target = DbConn> {
        self.store.connection().expect("connection")
    }

    fn import(&self, csv: &str, dry_run: bool) -> (imports::Summary, Vec<(Outcome, String)>) {
        let request = Request {
            import: ImportId::generate(),
            clock: &self.clock,
            actor: &Actor::Cli,
            org: &self.org,
            source: Source::Cli,
            file_name: "people.csv",
            dry_run,
        };
        let mut kept = Kept::default();
        let summary = imports::run(&mut self.conn(), &request, csv.as_bytes(), &mut kept)
            .expect("the file reads");
        let rows = kept.0.into_iter().map(|r| (r.outcome, r.reason)).collect();
        (summary, rows)
    }

    /// Everything an import may change, to compare before and after.
    fn state(&self) -> Vec<String> {
        let conn = &mut *self.conn();
        let mut state: Vec<String> = learners::list(conn, self.org.id)
            .unwrap()
            .into_iter()
            .map(|l| {
                let held = licensing::held_types(conn, &l).unwrap();
                let groups: Vec<String> = seatgate::groups::of_learner(conn, l.id)
                    .unwrap()
                    .into_iter()
                    .map(|g| g.display_name)
                    .collect();
                format!(
                    "{} {:?} {:?} {:?} active={} v{} {held:?} {groups:?}",
                    l.email, l.first_name, l.last_name, l.employee_id, l.active, l.version
                )
            })
            .collect();
        state.sort();
        let pool = &licensing::pools(conn, self.org.id).unwrap()[0];
        let waiting: Vec<String> = licensing::waiting_list(conn, pool)
            .unwrap()
            .into_iter()
            .map(|w| w.learner.email.to_string())
            .collect();
        state.push(format!(
            "pool {}/{} waiting {waiting:?}",
            pool.assigned, pool.seats
        ));
        state
    }

    fn events(&self) -> Vec<audit::Event> {
        audit::recent(&mut self.conn(), self.org.id, 1_000).unwrap()
    }
}

fn outcomes(rows: &[(Outcome, String)]) -> Vec<Outcome> {
    rows.iter().map(|(o, _)| *o).collect()
}

const PEOPLE: &str = "\u{feff}Email;First_Name;Last_Name;License_Type;Group;Employee_ID\r\n\
    ann@acme.example;Ann;Smith;Learning;Sales;E1\r\n\
    bob@acme.example;Bob;Jones;Learning;;E2\r\n\
    cat@acme.example;Cat;;Learning;Sales;\r\n\
    dan@acme.example;Dan;;;;\r\n";

async fn a_dry_run_changes_nothing_and_foretells_the_import(backend: Backend) {
    let f = fixture(backend, 2);
    let before = f.state();
    let events = f.events().len();
    let (preview, foretold) = f.import(PEOPLE, true);
    assert_eq!(f.state(), before, "a dry run writes nothing");
    assert_eq!(f.events().len(), events, "nor audits anything");
    assert_eq!(preview.import, None, "nor records an import");
    assert_eq!(
        outcomes(&foretold),
        [
            Outcome::Create,
            Outcome::Create,
            Outcome::NoSeatFree,
            Outcome::Create
        ],
        "{foretold:?}"
    );
    assert_eq!(preview.seats_free, [(learning(), 0)]);
    let (applied, happened) = f.import(PEOPLE, false);
    assert_eq!(happened, foretold, "the import did what the dry run said");
    assert_eq!(applied.counts, preview.counts);
    assert!(applied.import.is_some());
}

async fn seats_go_in_file_order_and_the_rest_wait_in_it(backend: Backend) {
    let f = fixture(backend, 1);
    let csv = "email,license_type\nfirst@acme.example,Learning\nsecond@acme.example,Learning\n\
               third@acme.example,Learning\n";
    let (_, rows) = f.import(csv, false);
    assert_eq!(
        outcomes(&rows),
        [Outcome::Create, Outcome::NoSeatFree, Outcome::NoSeatFree]
    );
    assert_eq!(
        rows[1].1,
        "created; no Learning seat free: on the waiting list"
    );
    let state = f.state();
    assert_eq!(
        state.last().unwrap(),
        "pool 1/1 waiting [\"second@acme.example\", \"third@acme.example\"]"
    );
    // Revoking the seat hands it to the longest waiting, in the same change.
    let (_, rows) = f.import("email,action\nfirst@acme.example,revoke\n", false);
    assert_eq!(rows, [(Outcome::Revoke, "revoked Learning".to_owned())]);
    let conn = &mut *f.conn();
    let second = learners::by_email(conn, f.org.id, &"second@acme.example".parse().unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(licensing::held_types(conn, &second).unwrap(), [learning()]);
}

async fn the_same_file_twice_changes_nothing_the_second_time(backend: Backend) {
    let f = fixture(backend, 2);
    f.import(PEOPLE, false);
    let after_first = f.state();
    let events = f.events().len();
    let (summary, rows) = f.import(PEOPLE, false);
    assert_eq!(f.state(), after_first, "{rows:?}");
    assert_eq!(
        outcomes(&rows),
        [Outcome::Unchanged; 4],
        "the waiting learner stays waiting: {rows:?}"
    );
    assert_eq!(rows[2].1, "waits for a Learning seat");
    assert_eq!(summary.counts.of(Outcome::Unchanged), 4);
    let new_events: Vec<Action> = f.events()[..f.events().len() - events]
        .iter()
        .map(|e| e.action)
        .collect();
    assert_eq!(
        new_events,
        [Action::ImportApplied],
        "only the import itself"
    );
}

async fn bad_rows_are_refused_alone_and_scim_learners_are_left_to_the_idp(backend: Backend) {
    let f = fixture(backend, 5);
    let conn = &mut *f.conn();
    let new = NewConfig {
        name: "Entra".to_owned(),
        auto_assign: false,
        license_type: None,
    };
    let (config, _) = scim::create(conn, &f.clock, &Actor::Cli, &f.org, new).unwrap();
    let mut pushed = Learner::new(
        f.org.id,
        "idp@acme.example".parse().unwrap(),
        "Idp".into(),
        f.clock.now_naive(),
    );
    pushed.scim = ScimProfile {
        managed_by: Some(config.id),
        user_name: Some("idp@acme.example".into()),
        ..ScimProfile::default()
    };
    learners::insert(conn, &pushed).unwrap();
    // As stored (PostgreSQL keeps microseconds).
    let pushed = learners::by_email(conn, f.org.id, &pushed.email)
        .unwrap()
        .unwrap();
    let csv = "email,license_type,action,first_name\n\
               idp@acme.example,Learning,,\n\
               not an email,,,\n\
               ok@acme.example,Gold,,\n\
               ok@acme.example,,,\n\
               again@acme.example,,add,Again\n\
               again@acme.example,,remove,\n\
               x@acme.example,,fire,\n\
               y@acme.example,,,Y,extra\n";
    let (summary, rows) = f.import(csv, false);
    let reasons: Vec<&str> = rows.iter().map(|(_, r)| r.as_str()).collect();
    assert_eq!(
        reasons,
        [
            "managed by your identity provider over SCIM: change this learner there",
            "\"not an email\" is not an email address",
            "unknown license type \"Gold\" (the organization has Learning)",
            "the same email as row 4 (one row per learner)",
            "created",
            "the same email as row 6 (one row per learner)",
            "unknown action \"fire\" (add, revoke or remove)",
            "5 cells, but the header has 4 columns",
        ]
    );
    assert_eq!(summary.counts.of(Outcome::Refused), 7);
    let idp = learners::by_email(conn, f.org.id, &"idp@acme.example".parse().unwrap())
        .unwrap()
        .unwrap();
    assert_eq!(idp, pushed, "the IdP's learner is as the IdP left it");
    assert!(licensing::held_types(conn, &idp).unwrap().is_empty());
    assert!(
        learners::by_email(conn, f.org.id, &"x@acme.example".parse().unwrap())
            .unwrap()
            .is_none(),
        "a refused row writes nothing"
    );
}

async fn remove_revokes_and_deactivates_and_add_brings_back(backend: Backend) {
    let f = fixture(backend, 5);
    f.import("email,license_type\nann@acme.example,Learning\n", false);
    let (summary, rows) = f.import(
        "email,action\nann@acme.example,remove\nnobody@acme.example,remove\n",
        false,
    );
    assert_eq!(
        rows,
        [
            (Outcome::Remove, "revoked Learning; deactivated".to_owned()),
            (Outcome::Unchanged, "no learner with this email".to_owned()),
        ]
    );
    assert_eq!(
        summary.seats_free,
        [(learning(), 5)],
        "the seat is free again"
    );
    let conn = &mut *f.conn();
    let ann = learners::by_email(conn, f.org.id, &"ann@acme.example".parse().unwrap())
        .unwrap()
        .unwrap();
    assert!(!ann.active);
    let (_, rows) = f.import("email,action\nann@acme.example,remove\n", false);
    assert_eq!(rows, [(Outcome::Unchanged, "already removed".to_owned())]);
    let (_, rows) = f.import("email,license_type\nann@acme.example,Learning\n", false);
    assert_eq!(
        rows,
        [(Outcome::Assign, "reactivated; assigned Learning".to_owned())]
    );
    // Every change is the import's, with cause csv.
    let events = f.events();
    let import_events: Vec<&audit::Event> = events
        .iter()
        .filter(|e| matches!(e.actor, Actor::Import(_)))
        .collect();
    assert!(
        import_events
            .iter()
            .any(|e| e.action == Action::LearnerDeactivated)
    );
    assert!(import_events.iter().all(|e| e.details["cause"] == "csv"));
    let revoked = import_events
        .iter()
        .find(|e| e.action == Action::LicenseRevoked)
        .expect("the revocation is audited");
    assert_eq!(revoked.target.as_deref(), Some("ann@acme.example"));
}

async fn an_export_imports_back_unchanged(backend: Backend) {
    let f = fixture(backend, 2);
    f.import(
        "email,first_name,last_name,license_type,group,employee_id\n\
         ann@acme.example,=Ann,Smith,Learning,Sales,E1\n\
         bob@acme.example,Bob,,Learning,,\n\
         cat@acme.example,Cat,,,Ops,\n\
         gone@acme.example,Gone,,,,\n",
        false,
    );
    f.import("email,action\ngone@acme.example,remove\n", false);
    let before = f.state();
    let mut exported = Vec::new();
    let rows = imports::export(&mut f.conn(), &f.org, &mut exported).unwrap();
    assert_eq!(rows, 4);
    let text = String::from_utf8(exported).unwrap();
    assert!(
        text.contains("ann@acme.example,'=Ann,Smith,Learning,add,Sales,E1"),
        "formulas are defused: {text}"
    );
    let (_, rows) = f.import(&text, false);
    assert_eq!(outcomes(&rows), [Outcome::Unchanged; 4], "{rows:?}");
    assert_eq!(f.state(), before);
}

on_both_databases!(
    a_dry_run_changes_nothing_and_foretells_the_import,
    seats_go_in_file_order_and_the_rest_wait_in_it,
    the_same_file_twice_changes_nothing_the_second_time,
    bad_rows_are_refused_alone_and_scim_learners_are_left_to_the_idp,
    remove_revokes_and_deactivates_and_add_brings_back,
    an_export_imports_back_unchanged,
);

/// `seatgate import` and `export` as operators script them: the summary
/// line, `<file>.result.csv`, exit 1 when a row was refused, the template.
async fn the_command_line_imports_reports_and_exports(backend: Backend) {
    let db = TestDb::fresh(backend);
    let dir = tempfile::tempdir().unwrap();
    with_db(&db, &["org", "create", "acme", "--name", "Acme"]);
    with_db(
        &db,
        &[
            "license", "set", "acme", "--type", "Learning", "--seats", "1",
        ],
    );
    let file = dir.path().join("people.csv");
    std::fs::write(
        &file,
        "email,license_type\nann@acme.example,Learning\nbob@acme.example,Learning\n",
    )
    .unwrap();
    let path = file.to_str().unwrap();
    let dry = with_db(&db, &["import", "acme", path, "--dry-run"]);
    assert!(dry.status.success(), "{}", stderr(&dry));
    assert!(
        stdout(&dry).starts_with(
            "dry run: 2 rows: create 1, no seat free 1; seats free: Learning 0; results in "
        ),
        "{}",
        stdout(&dry)
    );
    let applied = with_db(&db, &["import", "acme", path]);
    assert!(applied.status.success(), "{}", stderr(&applied));
    let results = std::fs::read_to_string(dir.path().join("people.csv.result.csv")).unwrap();
    assert_eq!(
        results,
        "row,email,license_type,outcome,reason\n\
         2,ann@acme.example,Learning,create,created; assigned Learning\n\
         3,bob@acme.example,Learning,no seat free,created; no Learning seat free: on the waiting list\n"
    );
    std::fs::write(&file, "email\nnot-an-email\nok@acme.example\n").unwrap();
    let refused = with_db(&db, &["import", "acme", path]);
    assert_eq!(
        refused.status.code(),
        Some(1),
        "a refused row fails the command"
    );
    assert_eq!(
        stderr(&refused).trim(),
        format!("error: 1 of 2 rows refused (the others applied): see {path}.result.csv")
    );
    let export = with_db(&db, &["export", "acme"]);
    assert!(export.status.success(), "{}", stderr(&export));
    assert_eq!(
        stdout(&export),
        "email,first_name,last_name,license_type,action,group,employee_id\n\
         ann@acme.example,,,Learning,add,,\n\
         bob@acme.example,,,,add,,\n\
         ok@acme.example,,,,add,,\n"
    );
    // Whole-file refusals: one line, nothing read.
    let big = dir.path().join("big.csv");
    std::fs::File::create(&big)
        .unwrap()
        .set_len(50 * 1024 * 1024)
        .unwrap();
    let too_big = with_db(&db, &["import", "acme", big.to_str().unwrap()]);
    assert_eq!(too_big.status.code(), Some(1));
    assert!(
        stderr(&too_big).ends_with("the file is larger than 32 MiB\n"),
        "{}",
        stderr(&too_big)
    );
    std::fs::write(&file, "first_name\nAnn\n").unwrap();
    let no_email = with_db(&db, &["import", "acme", path]);
    assert_eq!(no_email.status.code(), Some(1));
    assert!(stderr(&no_email).contains("the header has no email column"));
    // Activation emails for the learners the file creates, and only them.
    std::fs::write(&file, "email\nann@acme.example\ncarol@acme.example\n").unwrap();
    let no_mail = with_db(&db, &["import", "acme", path, "--send-invitations"]);
    assert_eq!(no_mail.status.code(), Some(1));
    assert!(stderr(&no_mail).contains("--send-invitations needs a mail server"));
    let sink = crate::common::smtp::SmtpSink::start();
    let url = db.url_text();
    let invited = crate::cli::seatgate(
        &[
            "--database-url",
            &url,
            "import",
            "acme",
            path,
            "--send-invitations",
        ],
        &[
            ("SEATGATE_SMTP_URL", &sink.url()),
            ("SEATGATE_MAIL_FROM", "learning@acme.example"),
        ],
    );
    assert!(invited.status.success(), "{}", stderr(&invited));
    assert!(
        stdout(&invited).contains("; invitations: 1 sent, 0 not sent"),
        "{}",
        stdout(&invited)
    );
    let to: Vec<Vec<String>> = sink.delivered().into_iter().map(|m| m.to).collect();
    assert_eq!(to, [["carol@acme.example"]]);
    let template = crate::cli::seatgate(&["import", "--template"], &[]);
    assert!(template.status.success());
    assert_eq!(stdout(&template), format::template());
}

on_both_databases!(the_command_line_imports_reports_and_exports);
