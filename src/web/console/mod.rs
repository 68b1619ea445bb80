//! The organization admin console under `/admin/orgs/{org}/...`.
//!
//! Who may open it: local administrators (their own organization), operators
//! (every organization) and SSO admins (learners an administrator promoted,
//! their own organization). Another organization's pages answer 404, as if
//! they did not exist; a learner who is no admin gets 403. Every change is a
//! CSRF-protected POST that records an audit event and answers with a
//! redirect and a one-time flash message.

mod applications;
mod audit_log;
mod imports;
mod invitations;
mod licenses;
mod provisioning;
mod settings;
mod sso;
mod users;

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header::LOCATION;
use actix_web::{FromRequest, HttpRequest, HttpResponse, dev::Payload, web};
use askama::Template;

use super::pages::render;
use super::session::{current, state};
use super::{AppState, Error};
use crate::accounts::{admins, learners};
use crate::audit::Actor;
use crate::clock::Clock;
use crate::ids::OrgId;
use crate::orgs::{self, Organization};
use crate::sessions::{self, Principal, Session};
use crate::store::DbConn;

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin", web::get().to(start))
        .route("/admin/orgs", web::get().to(organizations))
        .route("/admin/orgs/{org}", web::get().to(overview));
    applications::routes(cfg);
    settings::routes(cfg);
    sso::routes(cfg);
    users::routes(cfg);
    invitations::routes(cfg);
    imports::routes(cfg);
    licenses::routes(cfg);
    provisioning::routes(cfg);
    audit_log::routes(cfg);
}

/// Someone allowed into the console, whatever organization they look at.
pub struct ConsoleUser {
    pub session: Session,
    pub actor: Actor,
    pub email: String,
    pub home_org: OrgId,
    /// Sees every organization.
    pub operator: bool,
    /// Came with a setup link: the Single sign-on pages of its organization only.
    pub setup: bool,
}

impl FromRequest for ConsoleUser {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let session = current(&req).await?.ok_or(Error::SignInRequired)?;
            console_user(&state(&req), session).await
        })
    }
}

/// Who a session is in the console: checked at every request, so taking
/// rights away takes effect at once.
pub async fn console_user(state: &AppState, session: Session) -> Result<ConsoleUser, Error> {
    let principal = session.principal;
    let now = state.clock.now_naive();
    let found = state
        .store
        .run(move |conn| {
            Ok::<_, Error>(match principal {
                Principal::Anonymous => None,
                // Checked at every request: a revoked or expired link ends its session.
                Principal::Setup(id) => orgs::setup_links::find(conn, id)?
                    .filter(|link| link.usable(now))
                    .map(|link| {
                        (
                            Actor::Setup(link.id),
                            "setup link".to_owned(),
                            link.org,
                            false,
                            true,
                        )
                    }),
                Principal::Admin(id) => admins::find(conn, id)?.map(|a| {
                    (
                        Actor::Admin(a.id),
                        a.email.to_string(),
                        a.org,
                        a.operator,
                        true,
                    )
                }),
                Principal::Learner(id) => learners::find_by_id(conn, id)?.map(|l| {
                    (
                        Actor::Learner(l.id),
                        l.email.to_string(),
                        l.org,
                        false,
                        l.is_admin,
                    )
                }),
            })
        })
        .await?;
    match found {
        None => Err(Error::SignInRequired),
        Some((_, _, _, _, false)) => Err(Error::Forbidden),
        Some((actor, email, home_org, operator, true)) => Ok(ConsoleUser {
            setup: matches!(actor, Actor::Setup(_)),
            session,
            actor,
            email,
            home_org,
            operator,
        }),
    }
}

/// A console page of one organization, for someone allowed to see it.
pub struct Console {
    pub user: ConsoleUser,
    pub org: Organization,
    /// The message left by the previous action, shown once (GET pages only).
    pub flash: Option<String>,
}

impl FromRequest for Console {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let state = state(&req);
            let session = current(&req).await?.ok_or(Error::SignInRequired)?;
            let user = console_user(&state, session).await?;
            let slug = req.match_info().get("org").unwrap_or_default().to_owned();
            let is_get = req.method() == actix_web::http::Method::GET;
            let session = user.session.clone();
            let (org, flash) = state
                .store
                .run(move |conn| {
                    let org = orgs::find(conn, &slug)?;
                    let flash = if is_get {
                        sessions::take_flash(conn, &session)?
                    } else {
                        None
                    };
                    Ok::<_, Error>((org, flash))
                })
                .await?;
            // Not "forbidden": another organization's pages do not exist for this admin.
            if !user.operator && org.id != user.home_org {
                return Err(Error::NotFound);
            }
            // Nor do the other pages for a setup link.
            if user.setup
                && !req
                    .path()
                    .starts_with(&format!("/admin/orgs/{}/sso", org.slug))
            {
                return Err(Error::NotFound);
            }
            Ok(Console { user, org, flash })
        })
    }
}

/// The parts of every console page around its content.
pub struct Chrome {
    pub csrf_token: String,
    pub email: String,
    pub operator: bool,
    pub org_slug: String,
    pub org_name: String,
    pub section: Section,
    pub flash: Option<String>,
    /// A setup link's session: the Single sign-on section only.
    pub setup: bool,
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Section {
    Overview,
    Settings,
    SingleSignOn,
    Users,
    Invitations,
    Imports,
    Licenses,
    Provisioning,
    AuditLog,
}

impl Section {
    const ALL: [Section; 9] = [
        Section::Overview,
        Section::Settings,
        Section::SingleSignOn,
        Section::Users,
        Section::Invitations,
        Section::Imports,
        Section::Licenses,
        Section::Provisioning,
        Section::AuditLog,
    ];

    fn path(self) -> &'static str {
        match self {
            Section::Overview => "",
            Section::Settings => "/settings",
            Section::SingleSignOn => "/sso",
            Section::Users => "/users",
            Section::Invitations => "/invitations",
            Section::Imports => "/imports",
            Section::Licenses => "/licenses",
            Section::Provisioning => "/provisioning",
            Section::AuditLog => "/audit",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Section::Overview => "Overview",
            Section::Settings => "Settings",
            Section::SingleSignOn => "Single sign-on",
            Section::Users => "Users",
            Section::Invitations => "Invitations",
            Section::Imports => "CSV import",
            Section::Licenses => "Licenses",
            Section::Provisioning => "Provisioning",
            Section::AuditLog => "Audit log",
        }
    }
}

impl Chrome {
    /// The navigation: (label, link, current?).
    pub fn nav(&self) -> Vec<(&'static str, String, bool)> {
        Section::ALL
            .into_iter()
            .filter(|s| !self.setup || *s == Section::SingleSignOn)
            .map(|s| (s.label(), self.link(s.path()), s == self.section))
            .collect()
    }

    /// A link inside this organization's console.
    pub fn link(&self, rest: &str) -> String {
        format!("/admin/orgs/{}{rest}", self.org_slug)
    }

    pub fn title(&self) -> &'static str {
        self.section.label()
    }
}

impl Console {
    pub fn chrome(&self, section: Section) -> Chrome {
        Chrome {
            csrf_token: self.user.session.csrf.expose().to_owned(),
            email: self.user.email.clone(),
            operator: self.user.operator,
            org_slug: self.org.slug.to_string(),
            org_name: self.org.display_name.clone(),
            section,
            flash: self.flash.clone(),
            setup: self.user.setup,
        }
    }

    /// A link inside this organization's console.
    pub fn link(&self, rest: &str) -> String {
        format!("/admin/orgs/{}{rest}", self.org.slug)
    }

    /// Runs a change to this organization on the database, as this console's
    /// user: `change` gets the clock, the actor to audit and the organization.
    pub async fn apply<T, E>(
        &self,
        state: &AppState,
        change: impl FnOnce(&mut DbConn, &Clock, &Actor, &Organization) -> Result<T, E> + Send + 'static,
    ) -> Result<T, E>
    where
        T: Send + 'static,
        E: From<crate::store::Error> + Send + 'static,
    {
        let (clock, actor, org) = (
            state.clock.clone(),
            self.user.actor.clone(),
            self.org.clone(),
        );
        state
            .store
            .run(move |conn| change(conn, &clock, &actor, &org))
            .await
    }
}

/// Page numbers for a list: the current one, the last, and links to neighbours.
pub struct Pager {
    pub page: u32,
    pub pages: u32,
    pub total: i64,
    pub previous: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    /// `link(page)` is the address of another page with the same filters.
    pub fn new(page: u32, per_page: u32, total: i64, link: impl Fn(u32) -> String) -> Self {
        let pages = u32::try_from((total.max(1) + i64::from(per_page) - 1) / i64::from(per_page))
            .unwrap_or(u32::MAX);
        Pager {
            page,
            pages,
            total,
            previous: (page > 1).then(|| link(page - 1)),
            next: (page < pages).then(|| link(page + 1)),
        }
    }
}

/// A date and time as the console shows them.
pub fn when(at: chrono::NaiveDateTime) -> String {
    at.format("%Y-%m-%d %H:%M UTC").to_string()
}

async fn start(state: web::Data<AppState>, user: ConsoleUser) -> Result<HttpResponse, Error> {
    let setup = user.setup;
    let location = if user.operator {
        "/admin/orgs".to_owned()
    } else {
        let home = user.home_org;
        let org = state
            .store
            .run(move |conn| orgs::find_by_id(conn, home))
            .await?;
        if setup {
            format!("/admin/orgs/{}/sso", org.slug)
        } else {
            format!("/admin/orgs/{}", org.slug)
        }
    };
    Ok(HttpResponse::SeeOther()
        .insert_header((LOCATION, location))
        .finish())
}

#[derive(Template)]
#[template(path = "console/organizations.html")]
struct OrganizationsPage {
    csrf_token: String,
    email: String,
    orgs: Vec<Organization>,
}

/// Operators choose an organization; everyone else goes to their own.
async fn organizations(
    state: web::Data<AppState>,
    user: ConsoleUser,
) -> Result<HttpResponse, Error> {
    if !user.operator {
        return start(state, user).await;
    }
    let orgs = state.store.run(orgs::list).await?;
    render(&OrganizationsPage {
        csrf_token: user.session.csrf.expose().to_owned(),
        email: user.email,
        orgs,
    })
}

#[derive(Template)]
#[template(path = "console/overview.html")]
struct OverviewPage {
    chrome: Chrome,
    pools: Vec<crate::licensing::Pool>,
    connections: usize,
    learners: i64,
    recent_errors: usize,
    auto_assign: bool,
    /// Connections whose last certificate expires within 30 days (or has):
    /// (name, days left).
    expiring: Vec<(String, i64)>,
}

async fn overview(state: web::Data<AppState>, console: Console) -> Result<HttpResponse, Error> {
    let org = console.org.id;
    let now = state.clock.now_naive();
    let (pools, connections, learners, recent_errors) = state
        .store
        .run(move |conn| {
            let pools = crate::licensing::pools(conn, org)?;
            let connections = orgs::connections::list(conn, org)?;
            let learners =
                learners::search(conn, org, &learners::LearnerFilter::default(), 1, 1)?.total;
            let errors = crate::signin::recent_errors(conn, org, 20)?.len();
            Ok::<_, Error>((pools, connections, learners, errors))
        })
        .await?;
    let expiring = connections
        .iter()
        .filter(|c| c.enabled)
        .filter_map(|c| {
            let left = c.trust_ends(now)? - now;
            (left < sso::EXPIRY_WARNING).then(|| (c.name.clone(), left.num_days()))
        })
        .collect();
    render(&OverviewPage {
        chrome: console.chrome(Section::Overview),
        pools,
        connections: connections.len(),
        expiring,
        learners,
        recent_errors,
        auto_assign: console.org.auto_assign_licenses,
    })
}
