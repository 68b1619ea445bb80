//! The console's audit log: filters, paging, CSV export.

use super::submit;
use crate::common::{Backend, TestApp};
use crate::on_both_databases;

async fn audit_log_filters_pages_and_exports_csv(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut admin = app.admin_visitor("acme", "ann@acme.example", false);
    for (kind, seats) in [
        ("Learning", "5"),
        ("=HYPERLINK(\"x\")", "1"),
        ("Coaching", "2"),
    ] {
        submit(
            &mut admin,
            "/admin/orgs/acme/licenses",
            &[("license_type", kind), ("seats", seats)],
        )
        .await;
    }
    let all = admin.get("/admin/orgs/acme/audit").await;
    // What happened in words; the code kept in the title (and in the CSV).
    assert!(
        all.body
            .contains(r#"<span title="license_pool_set">set a license pool</span>"#)
            && all
                .body
                .contains(r#"<span title="org_created">created the organization</span>"#),
        "{}",
        all.body
    );
    assert!(
        all.body.contains("ann@acme.example (admin)"),
        "actors by name"
    );

    let pools = admin
        .get("/admin/orgs/acme/audit?action=license_pool_set")
        .await;
    assert!(pools.body.contains("3 events"));
    assert!(!pools.body.contains(r#"title="org_created""#));
    let cli = admin.get("/admin/orgs/acme/audit?actor=cli").await;
    assert!(
        cli.body.contains(r#"title="org_created""#)
            && !cli.body.contains(r#"title="license_pool_set""#)
    );
    let today = app.clock.clock().now_naive().date();
    let tomorrow = today.succ_opt().unwrap();
    let future = admin
        .get(&format!("/admin/orgs/acme/audit?from={tomorrow}"))
        .await;
    assert!(future.body.contains("0 events"));
    let range = admin
        .get(&format!(
            "/admin/orgs/acme/audit?action=license_pool_set&from={today}&to={today}"
        ))
        .await;
    assert!(range.body.contains("3 events"));
    let bad = admin.get("/admin/orgs/acme/audit?from=yesterday").await;
    assert_eq!(bad.status.as_u16(), 400);
    assert!(bad.body.contains("The from filter could not be read"));

    let csv = admin
        .get("/admin/orgs/acme/audit.csv?action=license_pool_set")
        .await;
    assert_eq!(csv.status.as_u16(), 200);
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines[0], "time,actor,action,target,details");
    assert_eq!(lines.len(), 4);
    assert!(
        csv.body.contains("'=HYPERLINK"),
        "formulas are defused: {}",
        csv.body
    );
    assert_eq!(
        admin
            .get("/admin/orgs/acme/audit.csv?to=never")
            .await
            .status
            .as_u16(),
        400
    );
}

on_both_databases!(audit_log_filters_pages_and_exports_csv,);
