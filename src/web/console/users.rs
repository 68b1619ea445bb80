//! Users: search and filter learners, one learner's page, assign and revoke.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::audit_log::{EventLine, lines};
use super::{Chrome, Console, Pager, Section, when};
use crate::accounts::learners::{self, Identity, Learner, LearnerFilter};
use crate::audit::{self, AuditFilter};
use crate::ids::{InvalidLicenseType, UserId};
use crate::licensing::{self, LicenseCause, LicenseType, Pool, Standing};
use crate::orgs::connections::{self, IdpConnection};
use crate::web::csrf::Protected;
use crate::web::pages::encode;
use crate::web::pages::render_with;
use crate::web::path::PathId;
use crate::web::session::redirect_with_flash;
use crate::web::{AppState, Error};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/orgs/{org}/users", web::get().to(list))
        .route("/admin/orgs/{org}/users/{id}", web::get().to(show))
        .route(
            "/admin/orgs/{org}/users/{id}/assign",
            web::post().to(assign),
        )
        .route(
            "/admin/orgs/{org}/users/{id}/revoke",
            web::post().to(revoke),
        )
        .route(
            "/admin/orgs/{org}/users/{id}/admin",
            web::post().to(set_admin),
        );
}

const PER_PAGE: u32 = 25;

#[derive(Deserialize)]
struct ListQuery {
    q: Option<String>,
    license: Option<String>,
    source: Option<String>,
    page: Option<u32>,
}

/// One row of the list.
struct Row {
    learner: Learner,
    license: Option<String>,
    last_sign_in: String,
}

#[derive(Template)]
#[template(path = "console/users.html")]
struct UsersPage {
    chrome: Chrome,
    rows: Vec<Row>,
    pager: Pager,
    q: String,
    license: &'static str,
    source: String,
    connections: Vec<IdpConnection>,
}

impl UsersPage {
    fn license_filters(&self) -> [(&'static str, &'static str); 3] {
        [
            ("any", "Any"),
            ("licensed", "With a license"),
            ("unlicensed", "Without a license"),
        ]
    }

    fn is_license(&self, value: &str) -> bool {
        value == self.license
    }
}

async fn list(
    state: web::Data<AppState>,
    console: Console,
    query: web::Query<ListQuery>,
) -> Result<HttpResponse, Error> {
    let query = query.into_inner();
    let filter = LearnerFilter {
        text: query.q.clone().map(|q| q.trim().to_owned()),
        license: query
            .license
            .as_deref()
            .and_then(|l| l.parse().ok())
            .unwrap_or_default(),
        source: query.source.as_deref().and_then(|s| s.parse().ok()),
    };
    let page = query.page.unwrap_or(1).max(1);
    let org = console.org.id;
    let search = filter.clone();
    let (found, connections) = state
        .store
        .run(move |conn| {
            let found = learners::search(conn, org, &search, page, PER_PAGE)?;
            let mut licenses = licensing::license_types_of(conn, &found.learners)?;
            let rows: Vec<Row> = found
                .learners
                .into_iter()
                .map(|learner| Row {
                    last_sign_in: learner
                        .last_sign_in_at
                        .map(when)
                        .unwrap_or_else(|| "never".into()),
                    license: licenses.remove(&learner.id).map(|t| t.to_string()),
                    learner,
                })
                .collect();
            Ok::<_, Error>(((rows, found.total), connections::list(conn, org)?))
        })
        .await?;
    let q = filter.text.clone().unwrap_or_default();
    let source = filter.source.map(|s| s.to_string()).unwrap_or_default();
    let base = console.link("/users");
    let pager = Pager::new(page, PER_PAGE, found.1, |p| {
        format!(
            "{base}?q={}&license={}&source={}&page={p}",
            encode(&q),
            filter.license.as_str(),
            encode(&source)
        )
    });
    render_with(
        StatusCode::OK,
        &UsersPage {
            chrome: console.chrome(Section::Users),
            rows: found.0,
            pager,
            q,
            license: filter.license.as_str(),
            source,
            connections,
        },
    )
}

#[derive(Template)]
#[template(path = "console/user.html")]
struct UserPage {
    chrome: Chrome,
    learner: Learner,
    identities: Vec<Identity>,
    standing: Standing,
    pools: Vec<Pool>,
    events: Vec<EventLine>,
    binding: Option<crate::binding::Binding>,
    last_sign_in: String,
    created: String,
}

impl UserPage {
    fn when(&self, at: &chrono::NaiveDateTime) -> String {
        when(*at)
    }

    fn licensed(&self) -> bool {
        matches!(self.standing, Standing::Licensed(_))
    }

    fn cause(&self, cause: &LicenseCause) -> &'static str {
        match cause {
            LicenseCause::SsoAutoAssign => "automatically at sign-in",
            LicenseCause::Admin => "by an administrator",
            LicenseCause::Cli => "by the command line",
            LicenseCause::Reclaim => "reclaimed",
            LicenseCause::Scim => "by the identity provider (SCIM)",
            LicenseCause::Csv => "by a CSV import",
        }
    }
}

/// The learner of this console's organization, or 404.
async fn learner_of(state: &AppState, console: &Console, id: UserId) -> Result<Learner, Error> {
    let org = console.org.id;
    state
        .store
        .run(move |conn| learners::find_by_id(conn, id))
        .await?
        .filter(|l| l.org == org)
        .ok_or(Error::NotFound)
}

async fn show(
    state: web::Data<AppState>,
    console: Console,
    PathId(id): PathId<UserId>,
) -> Result<HttpResponse, Error> {
    let learner = learner_of(&state, &console, id).await?;
    let org = console.org.clone();
    let subject = learner.clone();
    let (identities, standing, pools, events, binding) = state
        .store
        .run(move |conn| {
            let identities = learners::identities(conn, subject.id)?;
            let standing = licensing::standing(conn, &org, &subject)?;
            let pools = licensing::pools(conn, org.id)?;
            let filter = AuditFilter {
                target: Some(subject.email.to_string()),
                ..AuditFilter::default()
            };
            let events = audit::search(conn, org.id, &filter, 1, 50)?.events;
            let events = lines(conn, org.id, events)?;
            let binding = crate::binding::binding_of(conn, subject.id)?;
            Ok::<_, Error>((identities, standing, pools, events, binding))
        })
        .await?;
    render_with(
        StatusCode::OK,
        &UserPage {
            chrome: console.chrome(Section::Users),
            last_sign_in: learner
                .last_sign_in_at
                .map(when)
                .unwrap_or_else(|| "never".into()),
            created: when(learner.created_at),
            learner,
            identities,
            standing,
            pools,
            events,
            binding,
        },
    )
}

#[derive(Deserialize)]
struct LicenseForm {
    license_type: String,
    /// The box ticked to confirm a revocation.
    confirm: Option<String>,
}

async fn assign(
    state: web::Data<AppState>,
    console: Console,
    PathId(id): PathId<UserId>,
    posted: Protected<LicenseForm>,
) -> Result<HttpResponse, Error> {
    change_license(state, console, id, posted, true).await
}

async fn revoke(
    state: web::Data<AppState>,
    console: Console,
    PathId(id): PathId<UserId>,
    posted: Protected<LicenseForm>,
) -> Result<HttpResponse, Error> {
    change_license(state, console, id, posted, false).await
}

/// Assigns or revokes a seat, by an administrator (a revocation is sticky:
/// automatic assignment does not give this learner a seat again).
async fn change_license(
    state: web::Data<AppState>,
    console: Console,
    user: UserId,
    posted: Protected<LicenseForm>,
    give: bool,
) -> Result<HttpResponse, Error> {
    let learner = learner_of(&state, &console, user).await?;
    let location = console.link(&format!("/users/{}", learner.id));
    // Checked here too: the box's `required` is only the browser's.
    if !give && posted.form.confirm.is_none() {
        let message = "Not revoked: tick the box to confirm that this learner loses the seat.";
        return redirect_with_flash(&state, &posted.session, location, message.to_owned()).await;
    }
    let license_type: LicenseType = posted
        .form
        .license_type
        .parse()
        .map_err(|e: InvalidLicenseType| Error::BadRequest(e.to_string()))?;
    let (subject, kind) = (learner.clone(), license_type.clone());
    let outcome = console
        .apply(&state, move |conn, clock, actor, org| {
            let change = if give {
                licensing::assign
            } else {
                licensing::revoke
            };
            change(
                conn,
                clock,
                actor,
                LicenseCause::Admin,
                org,
                &subject,
                &kind,
            )
        })
        .await;
    let message = match outcome {
        Ok(()) if give => format!("{} now holds a {license_type} license.", learner.email),
        Ok(()) => format!(
            "The {license_type} license of {} is revoked.",
            learner.email
        ),
        // A refusal the admin can act on is the flash message, not an error page.
        Err(
            e @ (licensing::Error::NoSeatFree { .. }
            | licensing::Error::ManagedByIdp { .. }
            | licensing::Error::AlreadyHolds { .. }
            | licensing::Error::NotHeld { .. }),
        ) => {
            tracing::info!(reason = %e, "license change refused");
            crate::web::pages::sentence(&e.to_string())
        }
        Err(other) => return Err(other.into()),
    };
    redirect_with_flash(&state, &posted.session, location, message).await
}

#[derive(Deserialize)]
struct AdminForm {
    /// "grant" or "revoke".
    role: String,
    /// The box ticked to confirm a grant.
    confirm: Option<String>,
}

async fn set_admin(
    state: web::Data<AppState>,
    console: Console,
    PathId(id): PathId<UserId>,
    posted: Protected<AdminForm>,
) -> Result<HttpResponse, Error> {
    let learner = learner_of(&state, &console, id).await?;
    let grant = match posted.form.role.as_str() {
        "grant" => true,
        "revoke" => false,
        _ => return Err(Error::BadRequest("role must be grant or revoke".into())),
    };
    if grant && posted.form.confirm.is_none() {
        return redirect_with_flash(
            &state,
            &posted.session,
            console.link(&format!("/users/{}", learner.id)),
            "Not changed: tick the box to confirm that this learner may run the console."
                .to_owned(),
        )
        .await;
    }
    let subject = learner.clone();
    console
        .apply(&state, move |conn, clock, actor, _| {
            learners::set_admin(conn, clock, actor, &subject, grant)
        })
        .await?;
    let message = if grant {
        format!(
            "{} can now open this console after signing in with single sign-on.",
            learner.email
        )
    } else {
        format!("{} is no longer an administrator.", learner.email)
    };
    redirect_with_flash(
        &state,
        &posted.session,
        console.link(&format!("/users/{}", learner.id)),
        message,
    )
    .await
}
