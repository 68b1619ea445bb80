//! Organizations without SSO: learners are invited, bind their LinkedIn
//! profile from the invitation, and sign in with LinkedIn afterwards, found
//! by member id only. Against the provider that behaves as LinkedIn does.

use seatgate::invitations::{self, Status};

use crate::cli::{seatgate, stderr, with_db};
use crate::common::browser::{Browser, click, wait_for};
use crate::common::oidc::OidcProvider;
use crate::common::smtp::SmtpSink;
use crate::common::visitor::Page;
use crate::common::{Backend, TestApp, Visitor};
use crate::on_both_databases;
use crate::profile_browser::at_linkedin;

/// From `start` (a Seatgate path that sends the browser to LinkedIn) through
/// the provider as `member`, back to Seatgate's callback: its answer.
async fn through_linkedin(
    app: &TestApp,
    provider: &OidcProvider,
    visitor: &mut Visitor,
    start: &str,
    member: &str,
) -> Page {
    let started = visitor.get(start).await;
    assert_eq!(started.status.as_u16(), 303, "{}", started.body);
    let to_linkedin = started.location.expect("to LinkedIn");
    let callback = provider.authorize_as(&to_linkedin, member).await;
    visitor.get(&app.local_path(&callback)).await
}

/// An app with organization "solo", whose learners (at solo.example) sign
/// in with LinkedIn, and the provider that stands in for LinkedIn.
async fn solo_signing_in_with_linkedin(backend: Backend) -> (TestApp, OidcProvider) {
    let (app, provider) = TestApp::spawn_with_linkedin(backend).await;
    app.org("solo");
    let set = with_db(
        &app.db,
        &[
            "org",
            "set",
            "solo",
            "--learner-sign-in",
            "linkedin",
            "--email-domains",
            "solo.example",
        ],
    );
    assert!(set.status.success(), "{}", stderr(&set));
    (app, provider)
}

async fn invited_learners_activate_with_linkedin_then_sign_in_with_it(backend: Backend) {
    let (app, provider) = solo_signing_in_with_linkedin(backend).await;

    // The invitation offers LinkedIn, not a company sign-in.
    let ann = app.invite("solo", "ann@solo.example");
    let mut browser = app.visitor();
    let page = browser.get(&app.local_path(&ann.link)).await;
    let activate = format!("{}/linkedin", app.local_path(&ann.link));
    assert!(
        page.body.contains(&format!("href=\"{activate}\"")),
        "{}",
        page.body
    );
    assert!(!page.body.contains("/sso/solo/login"));

    let back = through_linkedin(&app, &provider, &mut browser, &activate, "ann-member").await;
    assert_eq!(back.status.as_u16(), 303, "{}", back.body);
    assert_eq!(back.location.as_deref(), Some("/"));
    let home = browser.get("/").await;
    assert!(home.body.contains("Welcome"), "{}", home.body);
    assert_eq!(
        app.bound_member_of("solo", "ann@solo.example").as_deref(),
        Some("ann-member")
    );
    let status = |app: &TestApp| {
        let org = app.org("solo");
        let mut conn = app.store.connection().expect("connection");
        let now = app.clock.clock().now_naive();
        invitations::list(&mut conn, &org).unwrap()[0].status(now)
    };
    assert_eq!(status(&app), Status::Accepted);
    assert_eq!(
        browser
            .get(&app.local_path(&ann.link))
            .await
            .status
            .as_u16(),
        410,
        "used"
    );

    // Later, in another browser: "Sign in with LinkedIn" from the start page,
    // or the start page's work email, which routes there.
    let mut later = app.visitor();
    assert!(
        later
            .get("/")
            .await
            .body
            .contains("href=\"/sign-in/linkedin\"")
    );
    let routed = later.get("/sign-in?email=ann%40solo.example").await;
    assert_eq!(routed.location.as_deref(), Some("/sign-in/linkedin"));
    let back = through_linkedin(
        &app,
        &provider,
        &mut later,
        "/sign-in/linkedin",
        "ann-member",
    )
    .await;
    assert_eq!(back.location.as_deref(), Some("/"), "{}", back.body);
    assert!(later.get("/").await.body.contains("Welcome"));

    // A member nobody bound: found by member id only, so nobody.
    let mut stranger = app.visitor();
    let refused = through_linkedin(
        &app,
        &provider,
        &mut stranger,
        "/sign-in/linkedin",
        "stranger",
    )
    .await;
    assert_eq!(refused.status.as_u16(), 400);
    assert!(
        refused.body.contains("not connected to a learner here"),
        "{}",
        refused.body
    );
    assert!(stranger.cookie.is_none(), "no session");

    // Ann's member cannot activate Bo's invitation.
    let bo = app.invite("solo", "bo@solo.example");
    let mut bo_browser = app.visitor();
    let taken = through_linkedin(
        &app,
        &provider,
        &mut bo_browser,
        &format!("{}/linkedin", app.local_path(&bo.link)),
        "ann-member",
    )
    .await;
    assert_eq!(taken.status.as_u16(), 400);
    assert!(
        taken.body.contains("already connected to another learner"),
        "{}",
        taken.body
    );
    assert_eq!(app.bound_member_of("solo", "bo@solo.example"), None);
}

async fn an_answer_counts_only_in_the_browser_that_asked(backend: Backend) {
    let (app, provider) = TestApp::spawn_with_linkedin(backend).await;
    app.org("solo");
    let set = with_db(
        &app.db,
        &["org", "set", "solo", "--learner-sign-in", "both"],
    );
    assert!(set.status.success(), "{}", stderr(&set));
    let ann = app.invite("solo", "ann@solo.example");

    // The victim starts; the attacker's browser brings the answer (login CSRF
    // the other way round: it lacks the victim's attempt cookie).
    let mut victim = app.visitor();
    let started = victim
        .get(&format!("{}/linkedin", app.local_path(&ann.link)))
        .await;
    let callback = provider
        .authorize_as(&started.location.expect("to LinkedIn"), "ann-member")
        .await;
    let mut attacker = app.visitor();
    let refused = attacker.get(&app.local_path(&callback)).await;
    assert_eq!(refused.status.as_u16(), 400);
    assert!(
        refused.body.contains("started in another browser"),
        "{}",
        refused.body
    );
    // Used up: the right browser cannot replay it either (it is no sign-in
    // any more, and without a session it is sent to the start page).
    let replay = victim.get(&app.local_path(&callback)).await;
    assert_eq!(replay.location.as_deref(), Some("/"));
    assert_eq!(app.bound_member_of("solo", "ann@solo.example"), None);
    assert!(attacker.cookie.is_none() && victim.cookie.is_none());
}

async fn sso_organizations_do_not_take_linkedin_sign_ins(backend: Backend) {
    let (app, provider) = TestApp::spawn_with_linkedin(backend).await;
    app.org("acme");
    let cy = app.invite("acme", "cy@acme.example");
    let mut browser = app.visitor();
    let page = browser.get(&app.local_path(&cy.link)).await;
    assert!(
        !page.body.contains("Continue with LinkedIn"),
        "{}",
        page.body
    );
    let refused = browser
        .get(&format!("{}/linkedin", app.local_path(&cy.link)))
        .await;
    assert_eq!(refused.status.as_u16(), 400);
    assert!(
        refused.body.contains("do not sign in with LinkedIn"),
        "{}",
        refused.body
    );

    // A member bound by an acme learner (profile binding) does not sign in with it.
    let learner = {
        let mut conn = app.store.connection().expect("connection");
        seatgate::accounts::learners::by_email(
            &mut conn,
            app.org("acme").id,
            &"cy@acme.example".parse().unwrap(),
        )
        .unwrap()
        .expect("invited learner")
    };
    {
        let mut conn = app.store.connection().expect("connection");
        seatgate::binding::bind(
            &mut conn,
            &app.clock.clock(),
            &app.org("acme"),
            &learner,
            &seatgate::binding::Member {
                sub: "cy-member".into(),
                name: None,
                email: None,
                picture: None,
            },
        )
        .expect("bind");
    }
    let mut later = app.visitor();
    let refused = through_linkedin(
        &app,
        &provider,
        &mut later,
        "/sign-in/linkedin",
        "cy-member",
    )
    .await;
    assert_eq!(refused.status.as_u16(), 400);
    assert!(refused.body.contains("not connected to a learner here"));
}

/// The journey in Chromium: the invitation email (with a seat), LinkedIn's
/// login and consent pages, the learner's home.
async fn an_invited_learner_signs_in_with_linkedin_in_chromium(backend: Backend) {
    let (app, _provider) = TestApp::spawn_with_linkedin(backend).await;
    app.org("solo");
    for args in [
        &["org", "set", "solo", "--learner-sign-in", "linkedin"][..],
        &[
            "license", "set", "solo", "--type", "Learning", "--seats", "5",
        ][..],
    ] {
        let done = with_db(&app.db, args);
        assert!(done.status.success(), "{}", stderr(&done));
    }
    let sink = SmtpSink::start();
    let url = app.db.url_text();
    let base_url = app.settings.base_url.join("/");
    let sent = seatgate(
        &[
            "--database-url",
            &url,
            "user",
            "invite",
            "solo",
            "grace@solo.example",
            "--license-type",
            "Learning",
        ],
        &[
            ("SEATGATE_BASE_URL", base_url.trim_end_matches('/')),
            ("SEATGATE_SMTP_URL", &sink.url()),
            ("SEATGATE_MAIL_FROM", "learning@solo.example"),
        ],
    );
    assert!(sent.status.success(), "{}", stderr(&sent));

    let browser = Browser::start().await;
    let c = &browser.client;
    c.goto(&sink.link_to("grace@solo.example"))
        .await
        .expect("the emailed link");
    wait_for(c, "Continue with LinkedIn").await;
    click(c, "a.button").await;
    at_linkedin(&browser, "grace-member").await;
    let home = wait_for(c, "Welcome").await;
    assert!(
        home.contains("Learning"),
        "the seat from the invitation: {home}"
    );
    browser.screenshot("linkedin-sign-in-home").await;
    browser.close().await;
    assert_eq!(
        app.bound_member_of("solo", "grace@solo.example").as_deref(),
        Some("grace-member")
    );
}

/// An application's authorization request survives the LinkedIn sign-in of
/// an organization without SSO: start page, LinkedIn, back to the request.
async fn a_linkedin_learner_comes_back_to_the_application_that_sent_them(backend: Backend) {
    use crate::common::rp::{REDIRECT, authorize_path, query_value};
    use seatgate::applications::IdTokenAlg;

    let (app, provider) = solo_signing_in_with_linkedin(backend).await;
    let ann = app.invite("solo", "ann@solo.example");
    let mut first = app.visitor();
    let activate = format!("{}/linkedin", app.local_path(&ann.link));
    let activated = through_linkedin(&app, &provider, &mut first, &activate, "ann-member").await;
    assert_eq!(activated.location.as_deref(), Some("/"));

    let client = app.register_app(false, IdTokenAlg::Rs256);
    let authorize = authorize_path(&client.client_id, &[]);
    let mut browser = app.visitor();
    let start = browser
        .get(&authorize)
        .await
        .location
        .expect("to the start page");
    let found = browser
        .get(&format!(
            "/sign-in?email=ann%40solo.example&{}",
            start.trim_start_matches("/?")
        ))
        .await;
    let to_linkedin = found.location.expect("to LinkedIn sign-in");
    assert!(
        to_linkedin.starts_with("/sign-in/linkedin?return_to="),
        "{to_linkedin}"
    );
    let back = through_linkedin(&app, &provider, &mut browser, &to_linkedin, "ann-member").await;
    assert_eq!(
        back.location.as_deref(),
        Some(authorize.as_str()),
        "{}",
        back.body
    );
    let code = browser
        .get(&authorize)
        .await
        .location
        .expect("to the application");
    assert!(
        code.starts_with(REDIRECT) && query_value(&code, "code").is_some(),
        "{code}"
    );
}

on_both_databases!(
    a_linkedin_learner_comes_back_to_the_application_that_sent_them,
    an_invited_learner_signs_in_with_linkedin_in_chromium,
    invited_learners_activate_with_linkedin_then_sign_in_with_it,
    an_answer_counts_only_in_the_browser_that_asked,
    sso_organizations_do_not_take_linkedin_sign_ins,
);
