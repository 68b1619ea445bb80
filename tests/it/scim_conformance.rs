//! scim2-tester, an independent SCIM 2.0 conformance checker (PyPI, pinned
//! in tests/scim-conformance/requirements.txt, installed by `scripts/setup
//! --test`), run against the live server: discovery, then create, read,
//! replace, patch and delete of Users and Groups. Deliberate deviations are
//! listed, with their reasons, in tests/scim-conformance/check.py.

use std::process::Command;

use crate::common::{Backend, TestApp};
use crate::on_both_databases;

async fn scim2_tester_finds_no_violation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.scim_config("acme", "scim2-tester", &[]);
    let root = env!("CARGO_MANIFEST_DIR");
    let python = format!("{root}/target/scim-venv/bin/python");
    let output = Command::new(&python)
        .arg(format!("{root}/tests/scim-conformance/check.py"))
        .arg(&app.address)
        .arg(&client.token)
        .output()
        .unwrap_or_else(|e| {
            panic!("the SCIM conformance checker needs {python} (run scripts/setup --test): {e}")
        });
    let report = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "scim2-tester found violations:\n{report}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let passed: usize = report
        .lines()
        .last()
        .and_then(|line| line.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(passed >= 70, "the checker ran its checks:\n{report}");
}

on_both_databases!(scim2_tester_finds_no_violation);
