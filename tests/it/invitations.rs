//! Inviting learners by email: `seatgate user invite` (email through a real
//! SMTP conversation with the tests' mail server, or the link printed), the
//! link's page, acceptance at sign-in, and every way a link stops working.

use chrono::TimeDelta;
use seatgate::audit::Actor;
use seatgate::invitations::{self, Status};
use seatgate::saml::attributes::Preset;

use crate::cli::{seatgate, stderr, stdout, with_db};
use crate::common::browser::{Browser, click, fill, wait_for};
use crate::common::idp::TestIdp;
use crate::common::smtp::SmtpSink;
use crate::common::{Backend, TestApp};
use crate::on_both_databases;

/// `seatgate user invite acme ...` against the app's database, mailing through `smtp_url`.
fn invite(app: &TestApp, smtp_url: Option<&str>, args: &[&str]) -> std::process::Output {
    let url = app.db.url_text();
    let base_url = app.settings.base_url.join("/");
    let mut all = vec!["--database-url", url.as_str(), "user", "invite", "acme"];
    all.extend_from_slice(args);
    let mut env = vec![("SEATGATE_BASE_URL", base_url.trim_end_matches('/'))];
    if let Some(smtp_url) = smtp_url {
        env.push(("SEATGATE_SMTP_URL", smtp_url));
        env.push((
            "SEATGATE_MAIL_FROM",
            "Acme Learning <learning@acme.example>",
        ));
    }
    seatgate(&all, &env)
}

fn statuses(app: &TestApp) -> Vec<(String, Status)> {
    let org = app.org("acme");
    let mut conn = app.store.connection().expect("connection");
    let now = app.clock.clock().now_naive();
    let mut list: Vec<_> = invitations::list(&mut conn, &org)
        .expect("invitations")
        .into_iter()
        .map(|i| (i.email.to_string(), i.status(now)))
        .collect();
    list.sort_by(|a, b| a.0.cmp(&b.0));
    list
}

async fn the_cli_emails_invitations_prints_links_and_keeps_what_it_could_not_send(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    app.org("acme");
    let pool = with_db(
        &app.db,
        &[
            "license", "set", "acme", "--type", "Learning", "--seats", "2",
        ],
    );
    assert!(pool.status.success(), "{}", stderr(&pool));
    let sink = SmtpSink::start();

    let sent = invite(
        &app,
        Some(&sink.url()),
        &[
            "Ann@acme.example",
            "bo@acme.example",
            "--license-type",
            "Learning",
        ],
    );
    assert!(sent.status.success(), "{}", stderr(&sent));
    assert_eq!(
        stdout(&sent),
        "invited ann@acme.example: email sent\n  seat: Learning\n\
         invited bo@acme.example: email sent\n  seat: Learning\n"
    );
    let link = sink.link_to("ann@acme.example");
    assert!(
        link.starts_with(&app.settings.base_url.join("/invitations/")),
        "{link}"
    );
    let message = &sink.delivered()[0].data;
    assert!(
        message.contains("From: \"Acme Learning\" <learning@acme.example>"),
        "{message}"
    );
    assert!(
        message.contains("Subject: acme Corp invites you to learning"),
        "{message}"
    );
    assert_ne!(link, sink.link_to("bo@acme.example"), "a link per learner");

    // The pool is full: the third invitation stands, its seat is refused.
    let full = invite(
        &app,
        None,
        &["cy@acme.example", "--license-type", "Learning"],
    );
    assert_eq!(full.status.code(), Some(1));
    let out = stdout(&full);
    assert!(out.starts_with("invited cy@acme.example: http"), "{out}");
    assert!(out.contains("  seat: not assigned ("), "{out}");
    assert_eq!(
        stderr(&full),
        "error: 1 of 1 invitations need attention (see above)\n"
    );

    // The mail server is down: the invitation is kept with the reason, and the link printed.
    let down = invite(&app, Some("smtp://127.0.0.1:1"), &["dee@acme.example"]);
    assert_eq!(down.status.code(), Some(1));
    assert!(
        stdout(&down).starts_with("invited dee@acme.example: email not sent (the mail server"),
        "{}",
        stdout(&down)
    );
    assert!(stdout(&down).contains("; link: http"));
    {
        let org = app.org("acme");
        let mut conn = app.store.connection().expect("connection");
        let dee = invitations::list(&mut conn, &org)
            .unwrap()
            .into_iter()
            .find(|i| i.email.as_str() == "dee@acme.example")
            .expect("kept");
        assert!(dee.sent_at.is_none());
        assert!(
            dee.send_error
                .as_deref()
                .unwrap_or_default()
                .starts_with("the mail server")
        );
    }

    // A bad address is refused; the others still go out. --no-email prints.
    let mixed = invite(
        &app,
        Some(&sink.url()),
        &["not-an-address", "eve@acme.example", "--no-email"],
    );
    assert_eq!(mixed.status.code(), Some(1));
    let out = stdout(&mixed);
    assert!(
        out.starts_with(
            "refused not-an-address: \"not-an-address\" is not a valid email address\n"
        ),
        "{out}"
    );
    assert!(out.contains("invited eve@acme.example: http"), "{out}");
    assert_eq!(sink.delivered().len(), 2, "--no-email sends nothing");

    assert_eq!(
        statuses(&app),
        [
            ("ann@acme.example".to_owned(), Status::Pending),
            ("bo@acme.example".to_owned(), Status::Pending),
            ("cy@acme.example".to_owned(), Status::Pending),
            ("dee@acme.example".to_owned(), Status::Pending),
            ("eve@acme.example".to_owned(), Status::Pending),
        ]
    );
    // Once the organization names its email domains, addresses elsewhere are refused.
    let set = with_db(
        &app.db,
        &["org", "set", "acme", "--email-domains", "acme.example"],
    );
    assert!(set.status.success(), "{}", stderr(&set));
    let outside = invite(&app, None, &["fay@gmail.example", "gus@acme.example"]);
    assert_eq!(outside.status.code(), Some(1));
    assert!(
        stdout(&outside).starts_with(
            "refused fay@gmail.example: fay@gmail.example is not at one of the organization's \
             email domains (acme.example)\ninvited gus@acme.example: http"
        ),
        "{}",
        stdout(&outside)
    );

    let shown = with_db(&app.db, &["user", "show", "acme", "ann@acme.example"]);
    assert!(
        stdout(&shown).contains("license: Learning since"),
        "{}",
        stdout(&shown)
    );
    assert!(stdout(&shown).contains("last_sign_in: never"));
}

async fn an_invitation_link_leads_to_sign_in_and_works_until_used_cancelled_or_expired(
    backend: Backend,
) {
    let app = TestApp::spawn(backend).await;
    let idp = TestIdp::new("https://idp.acme.example/saml");
    app.connect("acme", &idp, Preset::Generic);
    let org = app.org("acme");
    let mut visitor = app.visitor();

    let ann = app.invite("acme", "ann@acme.example");
    let page = visitor.get(&app.local_path(&ann.link)).await;
    assert_eq!(page.status.as_u16(), 200, "{}", page.body);
    assert!(page.body.contains("<strong>ann@acme.example</strong>"));
    assert!(
        page.body.contains("href=\"/sso/acme/login\""),
        "{}",
        page.body
    );
    assert_eq!(
        statuses(&app)[0].1,
        Status::Pending,
        "opening changes nothing"
    );

    // Signing in as the invited learner accepts it; the link is then used up.
    let (signed_in, _) = app
        .post_response(
            "acme",
            &idp.mint(&idp.spec(&app, "acme", "ann@acme.example")),
            None,
        )
        .await;
    assert_eq!(signed_in.status.as_u16(), 303, "{}", signed_in.body);
    assert_eq!(statuses(&app)[0].1, Status::Accepted);
    assert_eq!(
        app.learners("acme").len(),
        1,
        "the invited account, not a second one"
    );
    let used = visitor.get(&app.local_path(&ann.link)).await;
    assert_eq!(used.status.as_u16(), 410);
    assert!(used.body.contains("It was used already"));
    // And a learner who signed in is not invited again.
    let mut conn = app.store.connection().expect("connection");
    let again = invitations::invite(
        &mut conn,
        &app.clock.clock(),
        &Actor::Cli,
        &app.settings.base_url,
        &org,
        &"ann@acme.example".parse().unwrap(),
    );
    assert!(
        matches!(again, Err(invitations::Error::AlreadyActive(_))),
        "{again:?}"
    );

    // Cancelled, replaced by a resend, expired, unknown.
    let bo = app.invite("acme", "bo@acme.example");
    invitations::cancel(
        &mut conn,
        &app.clock.clock(),
        &Actor::Cli,
        &org,
        bo.invitation.id,
    )
    .expect("cancel");
    let cancelled = visitor.get(&app.local_path(&bo.link)).await;
    assert_eq!(cancelled.status.as_u16(), 410);
    assert!(cancelled.body.contains("cancelled this invitation"));

    let cy = app.invite("acme", "cy@acme.example");
    let resent = invitations::resend(
        &mut conn,
        &app.clock.clock(),
        &Actor::Cli,
        &app.settings.base_url,
        &org,
        cy.invitation.id,
    )
    .expect("resend");
    assert_eq!(
        visitor.get(&app.local_path(&cy.link)).await.status.as_u16(),
        410,
        "the old link ends"
    );
    assert_eq!(
        visitor
            .get(&app.local_path(&resent.link))
            .await
            .status
            .as_u16(),
        200
    );

    let dee = app.invite("acme", "dee@acme.example");
    app.clock
        .advance(TimeDelta::days(14) + TimeDelta::seconds(1));
    let expired = visitor.get(&app.local_path(&dee.link)).await;
    assert_eq!(expired.status.as_u16(), 410);
    assert!(expired.body.contains("work for 14 days"));

    let unknown = visitor
        .get("/invitations/not-a-real-token-at-all-0123456789abcdef")
        .await;
    assert_eq!(unknown.status.as_u16(), 404);
    assert!(unknown.body.contains("opened the whole link"));
}

async fn an_invited_learner_follows_the_emailed_link_in_chromium(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    app.demo_connection("acme");
    let sink = SmtpSink::start();
    let sent = invite(&app, Some(&sink.url()), &["grace@acme.example"]);
    assert!(sent.status.success(), "{}", stderr(&sent));
    let link = sink.link_to("grace@acme.example");

    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&link).await.expect("the emailed link");
    wait_for(c, "This invitation is for grace@acme.example").await;
    browser.screenshot("invitation").await;
    click(c, "a.button").await;
    wait_for(c, "Sign in at your company").await;
    fill(c, "email", "grace@acme.example").await;
    click(c, "button[type=submit]").await;
    wait_for(c, "Welcome, ").await;
    browser.close().await;
    assert_eq!(
        statuses(&app),
        [("grace@acme.example".to_owned(), Status::Accepted)]
    );
}

on_both_databases!(
    the_cli_emails_invitations_prints_links_and_keeps_what_it_could_not_send,
    an_invitation_link_leads_to_sign_in_and_works_until_used_cancelled_or_expired,
    an_invited_learner_follows_the_emailed_link_in_chromium,
);
