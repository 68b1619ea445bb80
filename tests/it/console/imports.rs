//! The CSV import page: upload, the dry-run preview, Apply as a job that
//! outlives the request, results to download, past imports, refused files,
//! an interrupted job applied again, and who may see an import.

use std::time::Duration;

use seatgate::audit::{Action, Actor};
use seatgate::imports::files;
use seatgate::licensing::{self, LicenseType};

use super::events;
use crate::common::visitor::Page;
use crate::common::{Backend, TestApp, Visitor};
use crate::on_both_databases;

const FILE: &str = "email;first_name;license_type\n\
                    ada@acme.example;Ada;Learning\n\
                    bob@acme.example;Bob;Learning\n\
                    cy@acme.example;Cy;Learning\n\
                    not-an-email;Dee;Learning\n";

fn learning() -> LicenseType {
    "Learning".parse().expect("license type")
}

/// Acme with `seats` Learning seats, and its signed-in admin.
fn acme(app: &TestApp, seats: u32) -> Visitor {
    let org = app.org("acme");
    let mut conn = app.store.connection().expect("connection");
    licensing::set_pool(
        &mut conn,
        &app.clock.clock(),
        &Actor::Cli,
        &org,
        &learning(),
        seats,
    )
    .expect("pool");
    app.admin_visitor("acme", "admin@acme.example", false)
}

async fn upload(admin: &mut Visitor, name: &str, content: &[u8]) -> Page {
    let token = admin.get("/admin/orgs/acme/imports").await.csrf_token();
    admin
        .post_multipart(
            "/admin/orgs/acme/imports",
            &[("csrf_token", &token)],
            &[("file", name, content)],
        )
        .await
}

/// Opens the import's page until its status reads `status` (the jobs run
/// on threads of their own); panics after a minute.
async fn until(admin: &mut Visitor, path: &str, status: &str) -> Page {
    let marker = format!("id=\"import-status\">{status}");
    for _ in 0..600 {
        let page = admin.get(path).await;
        assert_eq!(page.status.as_u16(), 200, "{}", page.body);
        if page.body.contains(&marker) {
            return page;
        }
        actix_rt::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path} never reached {status:?}");
}

fn seats_used(app: &TestApp) -> u32 {
    let org = app.org("acme");
    let mut conn = app.store.connection().expect("connection");
    licensing::pools(&mut conn, org.id).expect("pools")[0].assigned
}

async fn upload_preview_apply_and_download_the_results(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut admin = acme(&app, 2);
    let uploaded = upload(&mut admin, "people.csv", FILE.as_bytes()).await;
    assert_eq!(uploaded.status.as_u16(), 303, "{}", uploaded.body);
    let path = uploaded.location.expect("the import's page");

    let preview = until(&mut admin, &path, "ready to apply").await;
    for expected in [
        "<td>create</td><td>2</td>",
        "<td>no seat free</td><td>1</td>",
        "<td>error</td><td>1</td>",
        "Seats free after applying:\n    Learning 0",
        "not-an-email",
    ] {
        assert!(
            preview.body.contains(expected),
            "{expected}: {}",
            preview.body
        );
    }
    // The preview changed nothing.
    assert!(app.learners("acme").is_empty());
    assert_eq!(seats_used(&app), 0);
    let csv = admin.get(&format!("{path}/preview.csv")).await;
    assert!(
        csv.body
            .starts_with("row,email,first_name,license_type,outcome,reason\n"),
        "{}",
        csv.body
    );
    assert!(
        csv.body.contains("5,not-an-email,Dee,Learning,error,"),
        "{}",
        csv.body
    );

    let token = preview.csrf_token();
    let applying = admin
        .post(&format!("{path}/apply"), &[("csrf_token", &token)])
        .await;
    assert_eq!(applying.status.as_u16(), 303, "{}", applying.body);
    let applied = until(&mut admin, &path, "applied").await;
    assert!(
        applied.body.contains("<td>create</td><td>2</td>"),
        "{}",
        applied.body
    );
    assert_eq!(app.learners("acme").len(), 3, "the bad row created nobody");
    assert_eq!(seats_used(&app), 2);

    let result = admin.get(&format!("{path}/result.csv")).await;
    assert_eq!(result.status.as_u16(), 200);
    let lines: Vec<&str> = result.body.lines().collect();
    assert_eq!(lines[0], "row,email,first_name,license_type,outcome,reason");
    assert!(
        lines[1].starts_with("2,ada@acme.example,Ada,Learning,create,"),
        "{}",
        lines[1]
    );
    assert!(
        lines[3].starts_with("4,cy@acme.example,Cy,Learning,no seat free,"),
        "{}",
        lines[3]
    );
    assert!(
        lines[4].starts_with("5,not-an-email,Dee,Learning,error,"),
        "{}",
        lines[4]
    );

    // Applied once: pressing Apply again changes nothing and says why.
    let again = admin
        .post(&format!("{path}/apply"), &[("csrf_token", &token)])
        .await;
    assert_eq!(again.status.as_u16(), 400);
    assert!(
        again.body.contains("This import is applied already."),
        "{}",
        again.body
    );

    let list = admin.get("/admin/orgs/acme/imports").await;
    assert!(list.body.contains("people.csv"), "{}", list.body);
    assert!(
        list.body.contains("create 2, no seat free 1, error 1"),
        "{}",
        list.body
    );
    assert!(
        list.body.contains("admin@acme.example (admin)"),
        "{}",
        list.body
    );
    let audited = events(&app, "acme", Action::ImportApplied);
    assert_eq!(audited.len(), 1);
    assert!(
        matches!(audited[0].actor, Actor::Admin(_)),
        "{:?}",
        audited[0].actor
    );
}

async fn refused_files_stay_in_the_console_and_leave_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut admin = acme(&app, 2);
    for (content, says) in [
        (&b""[..], "Not uploaded: the file is empty."),
        (
            &b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR"[..],
            "Not uploaded: this is not a CSV text file",
        ),
        (
            &b"first_name,last_name\nAda,Lovelace\n"[..],
            "Not uploaded: the header has no email column",
        ),
        (
            &b"email,colour\nada@acme.example,red\n"[..],
            "Not uploaded: unknown column &#34;colour&#34;",
        ),
    ] {
        let page = upload(&mut admin, "people.csv", content).await;
        assert_eq!(page.status.as_u16(), 400, "{}", page.body);
        assert!(page.body.contains(says), "{says}: {}", page.body);
        assert!(page.body.contains("role=\"alert\""), "{}", page.body);
    }
    // 50 MB: refused on the page while it streams in, never stored.
    let mut huge = b"email\n".to_vec();
    huge.resize(50 * 1024 * 1024, b'a');
    let page = upload(&mut admin, "huge.csv", &huge).await;
    assert_eq!(page.status.as_u16(), 400, "{}", page.body);
    assert!(
        page.body
            .contains("Not uploaded: the file is larger than 32 MiB."),
        "{}",
        page.body
    );
    let mut conn = app.store.connection().expect("connection");
    let pending = files::pending(&mut conn, &app.org("acme")).expect("pending");
    assert!(pending.is_empty(), "{pending:?}");
    assert!(app.learners("acme").is_empty());
}

async fn an_interrupted_apply_can_be_applied_again(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut admin = acme(&app, 5);
    let uploaded = upload(&mut admin, "people.csv", FILE.as_bytes()).await;
    let path = uploaded.location.expect("the import's page");
    until(&mut admin, &path, "ready to apply").await;
    let id = path
        .rsplit('/')
        .next()
        .expect("id")
        .parse()
        .expect("an import id");
    // As if a server had started the job and died: marked, never run.
    let org = app.org("acme");
    let mut conn = app.store.connection().expect("connection");
    files::start_apply(&mut conn, &app.clock.clock(), &org, id, false).expect("marked");
    let working = until(&mut admin, &path, "applying: 0 of 4 rows").await;
    assert!(
        working.body.contains("http-equiv=\"refresh\""),
        "{}",
        working.body
    );

    app.clock.advance(chrono::TimeDelta::minutes(3));
    let stopped = until(&mut admin, &path, "interrupted after 0 rows").await;
    assert!(stopped.body.contains("Apply again"), "{}", stopped.body);
    assert!(!stopped.body.contains("http-equiv=\"refresh\""));
    let token = stopped.csrf_token();
    let applying = admin
        .post(&format!("{path}/apply"), &[("csrf_token", &token)])
        .await;
    assert_eq!(applying.status.as_u16(), 303, "{}", applying.body);
    until(&mut admin, &path, "applied").await;
    assert_eq!(app.learners("acme").len(), 3);
    assert_eq!(seats_used(&app), 3);
}

async fn other_organizations_and_forged_forms_get_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut admin = acme(&app, 2);
    let uploaded = upload(&mut admin, "people.csv", FILE.as_bytes()).await;
    let path = uploaded.location.expect("the import's page");
    until(&mut admin, &path, "ready to apply").await;

    let mut other = app.admin_visitor("beta", "admin@beta.example", false);
    assert_eq!(other.get(&path).await.status.as_u16(), 404);
    let beta_path = path.replace("/acme/", "/beta/");
    assert_eq!(other.get(&beta_path).await.status.as_u16(), 404);
    assert_eq!(
        other
            .get(&format!("{beta_path}/preview.csv"))
            .await
            .status
            .as_u16(),
        404
    );

    // Without the CSRF token nothing is uploaded or applied.
    let forged = admin.post(&format!("{path}/apply"), &[]).await;
    assert_eq!(forged.status.as_u16(), 403);
    let forged_upload = admin
        .post_multipart(
            "/admin/orgs/acme/imports",
            &[],
            &[("file", "x.csv", FILE.as_bytes())],
        )
        .await;
    assert_eq!(forged_upload.status.as_u16(), 403);
    let mut conn = app.store.connection().expect("connection");
    assert_eq!(
        files::pending(&mut conn, &app.org("acme"))
            .expect("pending")
            .len(),
        1
    );
    assert!(app.learners("acme").is_empty());
}

on_both_databases!(
    upload_preview_apply_and_download_the_results,
    refused_files_stay_in_the_console_and_leave_nothing,
    an_interrupted_apply_can_be_applied_again,
    other_organizations_and_forged_forms_get_nothing,
);
