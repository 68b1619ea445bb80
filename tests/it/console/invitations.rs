//! The Invitations page: invite one or many addresses (with or without a
//! seat), the links shown once when no email goes out, email through the
//! tests' SMTP server, a mail server that is down, resend and cancel.

use seatgate::audit::{Action, Actor};
use seatgate::ids::InvitationId;
use seatgate::licensing;

use super::{events, submit};
use crate::common::smtp::SmtpSink;
use crate::common::visitor::Page;
use crate::common::{Backend, TestApp, TestDb, Visitor};
use crate::on_both_databases;

/// The values of the page's read-only link fields, in order.
fn links(body: &str) -> Vec<String> {
    body.split("class=\"copy\" type=\"text\" readonly value=\"")
        .skip(1)
        .map(|rest| rest.split('"').next().expect("closing quote").to_owned())
        .collect()
}

/// What opening an invitation link answers: its HTTP status.
async fn link_status(app: &TestApp, link: &str) -> u16 {
    app.visitor()
        .get(&app.local_path(link))
        .await
        .status
        .as_u16()
}

/// The newest invitation of `email`.
fn newest(app: &TestApp, email: &str) -> InvitationId {
    let org = app.org("acme");
    let mut conn = app.store.connection().expect("connection");
    seatgate::invitations::list(&mut conn, &org)
        .expect("invitations")
        .into_iter()
        .find(|i| i.email.as_str() == email)
        .expect("invitation")
        .id
}

/// An app mailing through `smtp_url`, its admin, and the page answering
/// their invitation of `email`.
async fn invited_through(
    backend: Backend,
    smtp_url: &str,
    email: &str,
) -> (TestApp, Visitor, Page) {
    let app = TestApp::on(TestDb::fresh(backend))
        .smtp(smtp_url)
        .spawn()
        .await;
    app.org("acme");
    let mut admin = app.admin_visitor("acme", "admin@acme.example", false);
    let done = submit(
        &mut admin,
        "/admin/orgs/acme/invitations",
        &[("addresses", email)],
    )
    .await;
    (app, admin, done)
}

async fn admins_invite_resend_and_cancel_and_see_the_links_without_a_mail_server(backend: Backend) {
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
            1,
        )
        .expect("pool");
    }
    let mut admin = app.admin_visitor("acme", "admin@acme.example", false);
    let page = admin.get("/admin/orgs/acme/invitations").await;
    assert_eq!(page.status.as_u16(), 200);
    assert!(
        page.body.contains("this server sends no email"),
        "{}",
        page.body
    );
    assert!(
        page.body
            .contains("<option value=\"Learning\">Learning</option>")
    );

    let empty = submit(
        &mut admin,
        "/admin/orgs/acme/invitations",
        &[("addresses", "  ")],
    )
    .await;
    assert_eq!(empty.status.as_u16(), 400);
    assert!(empty.body.contains("Enter at least one email address."));

    let done = submit(
        &mut admin,
        "/admin/orgs/acme/invitations",
        &[
            ("addresses", "ann@acme.example, bo@acme.example\nnot-valid"),
            ("license_type", "Learning"),
        ],
    )
    .await;
    assert_eq!(done.status.as_u16(), 200, "{}", done.body);
    assert!(done.body.contains("<strong>ann@acme.example</strong>: Invited: copy the link and send it. A seat is assigned."), "{}", done.body);
    assert!(
        done.body.contains(
            "<strong>bo@acme.example</strong>: Invited: copy the link and send it. No seat:"
        ),
        "{}",
        done.body
    );
    assert!(
        done.body.contains(
            "<strong>not-valid</strong>: &#34;not-valid&#34; is not a valid email address."
        ),
        "{}",
        done.body
    );
    let shown = links(&done.body);
    assert_eq!(shown.len(), 2, "{shown:?}");
    let (ann_link, bo_link) = (shown[0].clone(), shown[1].clone());
    assert_eq!(link_status(&app, &ann_link).await, 200);

    // The list, then a resend (new link, old one ends) and a cancel.
    let listed = admin.get("/admin/orgs/acme/invitations").await;
    assert_eq!(listed.body.matches("<td>pending</td>").count(), 2);
    assert!(listed.body.contains("link handed over"));
    let resent = submit(
        &mut admin,
        &format!(
            "/admin/orgs/acme/invitations/{}/resend",
            newest(&app, "ann@acme.example")
        ),
        &[],
    )
    .await;
    assert_eq!(resent.status.as_u16(), 200);
    let new_link = links(&resent.body).pop().expect("the new link");
    assert_ne!(new_link, ann_link);
    assert_eq!(link_status(&app, &ann_link).await, 410);
    assert_eq!(link_status(&app, &new_link).await, 200);

    let cancel_bo = format!(
        "/admin/orgs/acme/invitations/{}/cancel",
        newest(&app, "bo@acme.example")
    );
    let cancelled = submit(&mut admin, &cancel_bo, &[]).await;
    assert_eq!(cancelled.status.as_u16(), 303);
    assert!(
        admin
            .get("/admin/orgs/acme/invitations")
            .await
            .body
            .contains("Invitation cancelled")
    );
    assert_eq!(link_status(&app, &bo_link).await, 410);
    // Cancelling twice says what happened.
    let again = submit(&mut admin, &cancel_bo, &[]).await;
    assert_eq!(again.status.as_u16(), 400);
    assert!(
        again
            .body
            .contains("This invitation was cancelled already."),
        "{}",
        again.body
    );

    assert_eq!(
        events(&app, "acme", Action::LearnerInvited).len(),
        3,
        "two invitations and a resend"
    );
    assert_eq!(events(&app, "acme", Action::InvitationCancelled).len(), 1);
}

async fn admins_invite_by_email_and_see_what_was_not_sent(backend: Backend) {
    let sink = SmtpSink::start();
    let (app, mut admin, done) = invited_through(backend, &sink.url(), "ann@acme.example").await;
    assert!(
        done.body
            .contains("<strong>ann@acme.example</strong>: Invitation emailed."),
        "{}",
        done.body
    );
    assert!(links(&done.body).is_empty(), "an emailed link is not shown");
    let link = sink.link_to("ann@acme.example");
    assert_eq!(link_status(&app, &link).await, 200);
    assert!(
        admin
            .get("/admin/orgs/acme/invitations")
            .await
            .body
            .contains("emailed ")
    );

    // The mail server goes away: the invitation is kept, the link shown, the reason listed.
    let (_down, mut admin, done) =
        invited_through(backend, "smtp://127.0.0.1:1", "bo@acme.example").await;
    assert!(
        done.body
            .contains("Invited, but the email was not sent (the mail server"),
        "{}",
        done.body
    );
    assert_eq!(links(&done.body).len(), 1);
    let listed = admin.get("/admin/orgs/acme/invitations").await;
    assert!(
        listed.body.contains("not sent: the mail server"),
        "{}",
        listed.body
    );
    assert!(listed.body.contains("Resend"));
}

on_both_databases!(
    admins_invite_resend_and_cancel_and_see_the_links_without_a_mail_server,
    admins_invite_by_email_and_see_what_was_not_sent,
);
