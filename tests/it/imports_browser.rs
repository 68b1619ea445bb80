//! CSV import in real headless Chromium: an admin uploads a file, reads the
//! preview, applies it, watches the progress page refresh itself until the
//! job is done, and downloads the results. Screenshots under
//! `target/screenshots/`.

use std::fmt::Write as _;
use std::time::Duration;

use seatgate::audit::Actor;
use seatgate::imports::files;
use seatgate::licensing;

use crate::common::browser::{Browser, click, element, wait_for, wait_for_within};
use crate::common::{Backend, TestApp};
use crate::on_both_databases;

/// `rows` new learners asking for a Learning seat, and one bad row.
fn people(first: usize, rows: usize) -> String {
    let mut csv = "Email,First_Name,Last_Name,License_Type\r\n".to_owned();
    for i in first..first + rows {
        write!(csv, "learner{i}@acme.example,Learner,{i},Learning\r\n").expect("write");
    }
    csv.push_str("not an email,Bad,Row,Learning\r\n");
    csv
}

async fn admin_imports_a_file_in_chromium(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let org = app.org("acme");
    {
        let mut conn = app.store.connection().expect("connection");
        licensing::set_pool(
            &mut conn,
            &app.clock.clock(),
            &Actor::Cli,
            &org,
            &"Learning".parse().unwrap(),
            150,
        )
        .expect("pool");
    }
    let file = app.db.dir().join("people.csv");
    std::fs::write(&file, people(0, 200)).expect("the CSV file");
    let console = format!("{}/admin/orgs/acme", app.address);

    let admin = Browser::admin(&app, "acme", "ann@acme.example").await;
    let c = &admin.client;

    // Upload: the preview says what each row would do, and changes nothing.
    click(c, "nav.sections a[href$='/imports']").await;
    wait_for(c, "Add, update or revoke learners from a file").await;
    element(c, "#file")
        .await
        .send_keys(file.to_str().expect("UTF-8 path"))
        .await
        .expect("choose the file");
    click(c, "form[enctype] button[type=submit]").await;
    let preview = wait_for_within(c, "ready to apply", Duration::from_secs(60)).await;
    for expected in [
        "What applying would do",
        "create 150",
        "no seat free 50",
        "error 1",
        "Seats free after applying: Learning 0.",
        "not an email",
    ] {
        assert!(preview.contains(expected), "{expected}: {preview}");
    }
    admin.screenshot("console-import-preview").await;
    assert!(
        app.learners("acme").is_empty(),
        "the preview changed nothing"
    );

    // Apply: the page follows the job until it is done.
    click(c, "form[action$='/apply'] button[type=submit]").await;
    let applied = wait_for_within(c, "Status: applied", Duration::from_secs(120)).await;
    assert!(applied.contains("What it did"), "{applied}");
    assert!(applied.contains("Seats free now: Learning 0."), "{applied}");
    admin.screenshot("console-import-applied").await;
    assert_eq!(app.learners("acme").len(), 200);

    // The result of every row, downloaded as a browser does.
    let url = c.current_url().await.expect("url");
    let id = url.path().rsplit('/').next().expect("id").to_owned();
    click(c, "#result-download").await;
    let result = admin
        .downloaded(&format!("seatgate-import-{id}-result.csv"))
        .await;
    let lines: Vec<&str> = result.lines().collect();
    assert_eq!(lines.len(), 202, "a header and every row");
    assert_eq!(
        lines[0],
        "row,email,first_name,last_name,license_type,outcome,reason"
    );
    assert!(
        lines[1].starts_with("2,learner0@acme.example,Learner,0,Learning,create,"),
        "{}",
        lines[1]
    );
    assert!(lines[151].contains(",no seat free,"), "{}", lines[151]);
    assert!(
        lines[201].starts_with("202,not an email,Bad,Row,Learning,error,"),
        "{}",
        lines[201]
    );

    // Past imports list it, with who and what.
    click(c, "nav.sections a[href$='/imports']").await;
    let list = wait_for(c, "Past imports").await;
    assert!(list.contains("people.csv"), "{list}");
    assert!(list.contains("ann@acme.example (admin)"), "{list}");
    assert!(
        list.contains("create 150, no seat free 50, error 1"),
        "{list}"
    );

    // A job in progress: the page shows the bar and refreshes itself, with
    // no click, until the job (run here, as a server would) is done.
    let second = app.db.dir().join("more.csv");
    std::fs::write(&second, people(1000, 20)).expect("the CSV file");
    c.goto(&format!("{console}/imports")).await.unwrap();
    element(c, "#file")
        .await
        .send_keys(second.to_str().expect("UTF-8 path"))
        .await
        .expect("choose the file");
    click(c, "form[enctype] button[type=submit]").await;
    wait_for_within(c, "ready to apply", Duration::from_secs(60)).await;
    let url = c.current_url().await.expect("url");
    let id = url
        .path()
        .rsplit('/')
        .next()
        .expect("id")
        .parse()
        .expect("import id");
    let clock = app.clock.clock();
    {
        let mut conn = app.store.connection().expect("connection");
        files::start_apply(&mut conn, &clock, &org, id, false).expect("marked");
    }
    c.refresh().await.expect("reload");
    wait_for(c, "0 of 21 rows (0%)").await;
    element(c, "progress#import-progress[max='21'][value='0']").await;
    admin.screenshot("console-import-progress").await;
    let store = app.store.clone();
    let job = std::thread::spawn(move || {
        files::apply(&store, &clock, &Actor::Cli, &org, None, id).expect("the job runs")
    });
    let done = wait_for_within(c, "Status: applied", Duration::from_secs(60)).await;
    job.join().expect("the job ends");
    assert!(done.contains("no seat free 20"), "{done}");
    admin.close().await;
}

on_both_databases!(admin_imports_a_file_in_chromium);
