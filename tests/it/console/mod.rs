//! The admin console over HTTP: who may see what and CSRF here; every change
//! it makes in one file per console page, as in `src/web/console/`.

mod applications;
mod audit_log;
mod imports;
mod invitations;
mod licenses;
mod settings;
mod setup_links;
mod sso;
mod users;

use seatgate::accounts::learners::{self, Learner};
use seatgate::audit::{self, Action, Actor, AuditFilter};
use seatgate::licensing::{self};
use seatgate::orgs::connections;
use seatgate::saml::attributes::Preset;

use crate::common::idp::TestIdp;
use crate::common::visitor::Page;
use crate::common::{Backend, TestApp, Visitor};
use crate::on_both_databases;

const IDP: &str = "https://idp.acme.example/entity";

/// The value of the form field `name` on a page (first occurrence).
pub(crate) fn field(page: &Page, name: &str) -> String {
    let at = page
        .body
        .find(&format!("name=\"{name}\""))
        .unwrap_or_else(|| panic!("field {name} on the page"));
    let tag = &page.body[at..at + page.body[at..].find('>').expect("end of tag")];
    let start = tag.find("value=\"").expect("a value") + "value=\"".len();
    let end = tag[start..].find('"').expect("closing quote") + start;
    tag[start..end].replace("&amp;", "&").replace("&#x2f;", "/")
}

/// Submits a metadata preview page's "Save connection" form as a browser
/// would, with its hidden fields and `preset`.
pub(crate) async fn save_previewed(
    admin: &mut Visitor,
    slug: &str,
    preview: &Page,
    preset: &str,
) -> Page {
    let form: Vec<(&str, String)> = [
        "csrf_token",
        "entity_id",
        "sso_url",
        "certificates",
        "metadata_url",
        "display_name",
        "name",
    ]
    .into_iter()
    .map(|name| (name, field(preview, name)))
    .chain([("preset", preset.to_owned())])
    .collect();
    let pairs: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    admin
        .post(&format!("/admin/orgs/{slug}/sso/connections"), &pairs)
        .await
}

/// Posts a console form with the page's CSRF token.
pub(crate) async fn submit(visitor: &mut Visitor, path: &str, form: &[(&str, &str)]) -> Page {
    let csrf = visitor.get("/admin").await;
    let token = visitor
        .get(csrf.location.as_deref().expect("console start"))
        .await
        .csrf_token();
    let mut fields = vec![("csrf_token", token.as_str())];
    fields.extend_from_slice(form);
    visitor.post(path, &fields).await
}

/// A learner who signed in to `org` through `idp`, with their signed-in visitor.
async fn sso_learner(app: &TestApp, org: &str, idp: &TestIdp, email: &str) -> (Learner, Visitor) {
    let (page, visitor) = app
        .post_response(org, &idp.mint(&idp.spec(app, org, email)), None)
        .await;
    assert_eq!(page.status.as_u16(), 303, "{:?}", app.sso_errors(org));
    let learner = app
        .learners(org)
        .into_iter()
        .find(|l| l.email.as_str() == email)
        .expect("learner created");
    (learner, visitor)
}

fn events(app: &TestApp, org: &str, action: Action) -> Vec<audit::Event> {
    let org = app.org(org);
    let mut conn = app.store.connection().expect("connection");
    let filter = AuditFilter {
        action: Some(action),
        ..AuditFilter::default()
    };
    audit::search(&mut conn, org.id, &filter, 1, 100)
        .expect("audit")
        .events
}

async fn other_organizations_are_not_found_and_learners_are_forbidden(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = TestIdp::new(IDP);
    let connection = app.connect("beta", &idp, Preset::Generic);
    let (learner, mut learner_visitor) = sso_learner(&app, "beta", &idp, "bo@beta.example").await;
    let mut admin = app.admin_visitor("alpha", "ann@alpha.example", false);

    for path in [
        "/admin/orgs/beta",
        "/admin/orgs/beta/settings",
        "/admin/orgs/beta/sso",
        "/admin/orgs/beta/users",
        "/admin/orgs/beta/licenses",
        "/admin/orgs/beta/audit",
        "/admin/orgs/beta/audit.csv",
        &format!("/admin/orgs/beta/users/{}", learner.id),
        &format!("/admin/orgs/alpha/users/{}", learner.id),
        // A malformed id names nothing either.
        "/admin/orgs/alpha/users/not-an-id",
    ] {
        assert_eq!(admin.get(path).await.status.as_u16(), 404, "{path}");
    }
    assert_eq!(admin.get("/admin/orgs/alpha").await.status.as_u16(), 200);

    // Changes to the other organization are refused the same way, with a valid token.
    let page = submit(
        &mut admin,
        "/admin/orgs/beta/licenses",
        &[("license_type", "Learning"), ("seats", "5")],
    )
    .await;
    assert_eq!(page.status.as_u16(), 404);
    let removal = format!("/admin/orgs/alpha/sso/connections/{}/remove", connection.id);
    assert_eq!(submit(&mut admin, &removal, &[]).await.status.as_u16(), 404);
    let malformed = "/admin/orgs/alpha/sso/connections/not-an-id/remove";
    assert_eq!(
        submit(&mut admin, malformed, &[]).await.status.as_u16(),
        404
    );
    let grant = format!("/admin/orgs/alpha/users/{}/admin", learner.id);
    assert_eq!(
        submit(&mut admin, &grant, &[("role", "grant"), ("confirm", "yes")])
            .await
            .status
            .as_u16(),
        404
    );
    {
        let mut conn = app.store.connection().expect("connection");
        let beta = app.org("beta");
        assert!(licensing::pools(&mut conn, beta.id).unwrap().is_empty());
        assert_eq!(connections::list(&mut conn, beta.id).unwrap().len(), 1);
        assert!(
            !learners::find_by_id(&mut conn, learner.id)
                .unwrap()
                .unwrap()
                .is_admin
        );
    }

    // A learner is signed in, but is no administrator.
    for path in ["/admin", "/admin/orgs/beta", "/admin/orgs/beta/users"] {
        assert_eq!(
            learner_visitor.get(path).await.status.as_u16(),
            403,
            "{path}"
        );
    }

    // An operator sees every organization.
    let mut operator = app.admin_visitor("alpha", "op@seatgate.example", true);
    let start = operator.get("/admin").await;
    assert_eq!(start.location.as_deref(), Some("/admin/orgs"));
    let list = operator.get("/admin/orgs").await;
    assert!(list.body.contains("/admin/orgs/alpha") && list.body.contains("/admin/orgs/beta"));
    assert_eq!(
        operator.get("/admin/orgs/beta/users").await.status.as_u16(),
        200
    );
    assert_eq!(
        operator.get("/admin/orgs/nowhere").await.status.as_u16(),
        404
    );
    // An operator's changes are audited under their name.
    let grant = format!("/admin/orgs/beta/users/{}/admin", learner.id);
    let granted = submit(
        &mut operator,
        &grant,
        &[("role", "grant"), ("confirm", "yes")],
    )
    .await;
    assert_eq!(granted.status.as_u16(), 303);
    let audit = operator
        .get("/admin/orgs/beta/audit?action=sso_admin_granted")
        .await;
    assert!(audit.body.contains("op@seatgate.example (operator)"));
}

async fn console_forms_need_the_csrf_token_and_the_same_site(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut admin = app.admin_visitor("acme", "ann@acme.example", false);
    let token = admin.get("/admin/orgs/acme/licenses").await.csrf_token();
    let form = [("license_type", "Learning"), ("seats", "5")];
    let path = "/admin/orgs/acme/licenses";

    let none = admin.post(path, &form).await;
    assert_eq!(none.status.as_u16(), 403);
    assert!(none.body.contains("Your form has expired"));
    let mut wrong = vec![("csrf_token", "not-the-token")];
    wrong.extend_from_slice(&form);
    assert_eq!(admin.post(path, &wrong).await.status.as_u16(), 403);
    let mut right = vec![("csrf_token", token.as_str())];
    right.extend_from_slice(&form);
    let cross = admin
        .post_with(path, &right, &[("Sec-Fetch-Site", "cross-site")])
        .await;
    assert_eq!(cross.status.as_u16(), 403);
    let upload = admin
        .post_multipart(
            "/admin/orgs/acme/sso/preview",
            &[("source", "file")],
            &[(
                "metadata",
                "idp.xml",
                TestIdp::new(IDP).metadata().as_bytes(),
            )],
        )
        .await;
    assert_eq!(upload.status.as_u16(), 403, "uploads need the token too");
    {
        let mut conn = app.store.connection().expect("connection");
        assert!(
            licensing::pools(&mut conn, app.org("acme").id)
                .unwrap()
                .is_empty()
        );
    }
    // The same form with the token goes through.
    assert_eq!(admin.post(path, &right).await.status.as_u16(), 303);
}

async fn an_idp_group_grants_the_console_at_each_sign_in(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let idp = TestIdp::new(IDP);
    let connection = app.connect("acme", &idp, Preset::Generic);
    let mut admin = app.admin_visitor("acme", "ann@acme.example", false);
    let path = format!(
        "/admin/orgs/acme/sso/connections/{}/admin-role",
        connection.id
    );
    let half = submit(&mut admin, &path, &[("attribute", "groups"), ("value", "")]).await;
    assert_eq!(half.status.as_u16(), 303);
    assert!(
        admin
            .get("/admin/orgs/acme/sso")
            .await
            .body
            .contains("Not saved: the administrator role needs both")
    );
    submit(
        &mut admin,
        &path,
        &[("attribute", "groups"), ("value", "Seatgate Admins")],
    )
    .await;

    let minted = |groups: &str| {
        let mut spec = idp.spec(&app, "acme", "it@acme.example");
        spec.attributes.push(("groups".into(), groups.into()));
        idp.mint(&spec)
    };
    let (_, mut member) = app
        .post_response("acme", &minted("Seatgate Admins"), None)
        .await;
    assert_eq!(
        member.get("/admin/orgs/acme/users").await.status.as_u16(),
        200
    );
    let (_, mut former) = app.post_response("acme", &minted("Everyone"), None).await;
    assert_eq!(
        former.get("/admin/orgs/acme").await.status.as_u16(),
        403,
        "the IdP took it back"
    );
    assert_eq!(
        member.get("/admin/orgs/acme").await.status.as_u16(),
        403,
        "for every session"
    );
    let granted = events(&app, "acme", Action::SsoAdminGranted);
    assert!(matches!(granted[0].actor, Actor::System));
    assert_eq!(events(&app, "acme", Action::SsoAdminRevoked).len(), 1);
}

on_both_databases!(
    other_organizations_are_not_found_and_learners_are_forbidden,
    console_forms_need_the_csrf_token_and_the_same_site,
    an_idp_group_grants_the_console_at_each_sign_in,
);
