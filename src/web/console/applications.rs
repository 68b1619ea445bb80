//! The operators' page of applications (`/admin/apps`): register an
//! application, see its client id, give it a new secret, remove it. The same
//! as `seatgate app`; a secret is shown on the answer to the change only.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::ConsoleUser;
use crate::applications::{self, Application, IdTokenAlg, NewApplication, RedirectUri};
use crate::audit::Actor;
use crate::clock::Clock;
use crate::ids::ApplicationId;
use crate::store::DbConn;
use crate::web::csrf::{NoFields, Protected};
use crate::web::pages::{render_with, sentence};
use crate::web::path::PathId;
use crate::web::session::redirect_with_flash;
use crate::web::{AppState, Error};
use crate::webhooks::{self, EventType};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/apps", web::get().to(show))
        .route("/admin/apps", web::post().to(create))
        .route("/admin/apps/{id}/secret", web::post().to(rotate))
        .route("/admin/apps/{id}/remove", web::post().to(remove))
        .route("/admin/apps/{id}/webhook", web::get().to(webhook_page))
        .route("/admin/apps/{id}/webhook", web::post().to(set_webhook))
        .route(
            "/admin/apps/{id}/webhook/remove",
            web::post().to(remove_webhook),
        );
}

#[derive(Template, Default)]
#[template(path = "console/applications.html")]
struct ApplicationsPage {
    csrf_token: String,
    email: String,
    flash: Option<String>,
    issuer: String,
    applications: Vec<Application>,
    /// (application name, client id, secret) just made: shown on this answer only.
    new_secret: Option<(String, String, String)>,
    problem: Option<String>,
    form: CreateForm,
}

impl ApplicationsPage {
    fn uris(&self, uris: &[RedirectUri]) -> String {
        uris.iter()
            .map(RedirectUri::as_str)
            .collect::<Vec<_>>()
            .join(" ")
    }
}

/// Operators only: applications serve every organization.
fn operator(user: &ConsoleUser) -> Result<(), Error> {
    if user.operator {
        Ok(())
    } else {
        Err(Error::NotFound)
    }
}

/// Runs an operator's change on the database, audited as `user` (as
/// `Console::apply` does for an organization's pages).
async fn apply<T, E>(
    state: &AppState,
    user: &ConsoleUser,
    change: impl FnOnce(&mut DbConn, &Clock, &Actor) -> Result<T, E> + Send + 'static,
) -> Result<T, E>
where
    T: Send + 'static,
    E: From<crate::store::Error> + Send + 'static,
{
    let (clock, actor) = (state.clock.clone(), user.actor.clone());
    state
        .store
        .run(move |conn| change(conn, &clock, &actor))
        .await
}

/// The one-time message for this page, used up.
async fn take_flash(state: &AppState, user: &ConsoleUser) -> Result<Option<String>, Error> {
    let session = user.session.clone();
    Ok(state
        .store
        .run(move |conn| crate::sessions::take_flash(conn, &session))
        .await?)
}

async fn page(state: &AppState, user: &ConsoleUser) -> Result<ApplicationsPage, Error> {
    let applications = state.store.run(applications::list).await?;
    Ok(ApplicationsPage {
        csrf_token: user.session.csrf.expose().to_owned(),
        email: user.email.clone(),
        issuer: crate::oidc::issuer(&state.settings.base_url),
        applications,
        ..ApplicationsPage::default()
    })
}

async fn show(state: web::Data<AppState>, user: ConsoleUser) -> Result<HttpResponse, Error> {
    operator(&user)?;
    let flash = take_flash(&state, &user).await?;
    let mut page = page(&state, &user).await?;
    page.flash = flash;
    render_with(StatusCode::OK, &page)
}

#[derive(Clone, Default, Deserialize)]
struct CreateForm {
    #[serde(default)]
    name: String,
    /// One URI per line.
    #[serde(default)]
    redirect_uris: String,
    #[serde(default)]
    post_logout_redirect_uris: String,
    #[serde(default)]
    launch_url: String,
    /// A checkbox: present when ticked.
    public: Option<String>,
    #[serde(default)]
    id_token_alg: String,
}

fn lines(text: &str) -> Result<Vec<RedirectUri>, applications::Error> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::parse)
        .collect()
}

impl CreateForm {
    fn parse(&self) -> Result<NewApplication, applications::Error> {
        Ok(NewApplication {
            name: self.name.clone(),
            redirect_uris: lines(&self.redirect_uris)?,
            post_logout_redirect_uris: lines(&self.post_logout_redirect_uris)?,
            launch_url: Some(self.launch_url.trim())
                .filter(|u| !u.is_empty())
                .map(str::parse)
                .transpose()?,
            public: self.public.is_some(),
            id_token_alg: match self.id_token_alg.as_str() {
                "" => IdTokenAlg::default(),
                alg => alg.parse()?,
            },
        })
    }
}

async fn create(
    state: web::Data<AppState>,
    user: ConsoleUser,
    posted: Protected<CreateForm>,
) -> Result<HttpResponse, Error> {
    operator(&user)?;
    let form = posted.form;
    let made = match form.parse() {
        Ok(new) => {
            apply(
                &state,
                &user,
                move |conn, clock, actor| match applications::create(conn, clock, actor, new) {
                    Err(applications::Error::Store(e)) => Err(e),
                    other => Ok(other),
                },
            )
            .await?
        }
        Err(refused) => Err(refused),
    };
    let mut page = page(&state, &user).await?;
    match made {
        Ok((application, secret)) => {
            tracing::info!(application = %application.id, "application registered");
            page.new_secret = Some((
                application.name,
                application.id.to_string(),
                secret.map(|s| s.expose().to_owned()).unwrap_or_default(),
            ));
            render_with(StatusCode::OK, &page)
        }
        Err(refused) => {
            tracing::info!(reason = %refused, "application refused");
            page.problem = Some(sentence(&refused.to_string()));
            page.form = form;
            render_with(StatusCode::BAD_REQUEST, &page)
        }
    }
}

async fn rotate(
    state: web::Data<AppState>,
    user: ConsoleUser,
    PathId(id): PathId<ApplicationId>,
    _posted: Protected<NoFields>,
) -> Result<HttpResponse, Error> {
    operator(&user)?;
    let (application, secret) = apply(&state, &user, move |conn, clock, actor| {
        applications::rotate_secret(conn, clock, actor, &id.to_string())
    })
    .await?;
    let mut page = page(&state, &user).await?;
    page.new_secret = Some((
        application.name,
        application.id.to_string(),
        secret.expose().to_owned(),
    ));
    render_with(StatusCode::OK, &page)
}

/// Removing an application signs nobody in to it any more, so the button
/// only works with its box ticked (checked on the server).
#[derive(Deserialize)]
struct RemoveForm {
    confirm: Option<String>,
}

async fn remove(
    state: web::Data<AppState>,
    user: ConsoleUser,
    PathId(id): PathId<ApplicationId>,
    posted: Protected<RemoveForm>,
) -> Result<HttpResponse, Error> {
    operator(&user)?;
    if posted.form.confirm.as_deref() != Some("yes") {
        let mut page = page(&state, &user).await?;
        page.problem = Some(
            "Nothing was removed: tick \"Learners can no longer sign in to it\" next to Remove to confirm."
                .to_owned(),
        );
        return render_with(StatusCode::BAD_REQUEST, &page);
    }
    let application = apply(&state, &user, move |conn, clock, actor| {
        applications::remove(conn, clock, actor, &id.to_string())
    })
    .await?;
    redirect_with_flash(
        &state,
        &posted.session,
        "/admin/apps",
        format!(
            "{} is removed: its tokens no longer work.",
            application.name
        ),
    )
    .await
}

impl From<applications::Error> for Error {
    fn from(e: applications::Error) -> Self {
        match e {
            applications::Error::NotFound(_) => Error::NotFound,
            applications::Error::Store(e) => Error::Store(e),
            other => Error::BadRequest(sentence(&other.to_string())),
        }
    }
}

#[derive(Template)]
#[template(path = "console/webhook.html")]
struct WebhookPage {
    csrf_token: String,
    email: String,
    flash: Option<String>,
    application: Application,
    webhook: Option<webhooks::Webhook>,
    deliveries: Vec<webhooks::Delivery>,
    /// The signing secret just made: shown on this answer only.
    new_secret: Option<String>,
    problem: Option<String>,
    /// What the form shows: the URL and the events ticked.
    form_url: String,
    form_events: Vec<EventType>,
}

impl WebhookPage {
    fn all_events(&self) -> [EventType; 4] {
        EventType::ALL
    }

    fn ticked(&self, event: &EventType) -> bool {
        self.form_events.contains(event)
    }

    fn when(&self, at: &chrono::NaiveDateTime) -> String {
        super::when(*at)
    }

    fn outcome(&self, delivery: &webhooks::Delivery) -> String {
        match (delivery.delivered_at, delivery.failed_at) {
            (Some(at), _) => format!("Delivered {}", super::when(at)),
            (None, Some(at)) => format!("Given up {}", super::when(at)),
            (None, None) if delivery.attempts == 0 => "Waiting to be sent".to_owned(),
            (None, None) => format!("Trying again {}", super::when(delivery.next_attempt_at)),
        }
    }
}

/// Deliveries the page lists.
const RECENT: i64 = 50;

async fn webhook_page_for(
    state: &AppState,
    user: &ConsoleUser,
    id: ApplicationId,
) -> Result<WebhookPage, Error> {
    let (application, webhook, deliveries) = state
        .store
        .run(move |conn| {
            let application = applications::find(conn, &id.to_string())?.ok_or(Error::NotFound)?;
            let webhook = webhooks::of_application(conn, id)?;
            let deliveries = webhooks::recent_deliveries(conn, id, RECENT)?;
            Ok::<_, Error>((application, webhook, deliveries))
        })
        .await?;
    Ok(WebhookPage {
        csrf_token: user.session.csrf.expose().to_owned(),
        email: user.email.clone(),
        flash: None,
        form_url: webhook
            .as_ref()
            .map(|w| w.url.to_string())
            .unwrap_or_default(),
        form_events: webhook
            .as_ref()
            .map_or(EventType::ALL.to_vec(), |w| w.events.clone()),
        application,
        webhook,
        deliveries,
        new_secret: None,
        problem: None,
    })
}

async fn webhook_page(
    state: web::Data<AppState>,
    user: ConsoleUser,
    PathId(id): PathId<ApplicationId>,
) -> Result<HttpResponse, Error> {
    operator(&user)?;
    let flash = take_flash(&state, &user).await?;
    let mut page = webhook_page_for(&state, &user, id).await?;
    page.flash = flash;
    render_with(StatusCode::OK, &page)
}

async fn set_webhook(
    state: web::Data<AppState>,
    user: ConsoleUser,
    PathId(id): PathId<ApplicationId>,
    posted: Protected<Vec<(String, String)>>,
) -> Result<HttpResponse, Error> {
    operator(&user)?;
    // Repeated `events` checkboxes: the form is read as its list of pairs.
    let field = |name: &'static str| -> Vec<String> {
        posted
            .form
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.trim().to_owned())
            .collect()
    };
    let form_url = field("url").into_iter().next().unwrap_or_default();
    let ticked = field("events");
    let events: Result<Vec<EventType>, webhooks::Error> =
        ticked.iter().map(|e| e.parse()).collect();
    let url = form_url.clone();
    let outcome = match events {
        Ok(events) => {
            apply(
                &state,
                &user,
                move |conn, clock, actor| match webhooks::set(
                    conn,
                    clock,
                    actor,
                    &id.to_string(),
                    &url,
                    events,
                ) {
                    Err(webhooks::Error::Store(e)) => Err(e),
                    other => Ok(other),
                },
            )
            .await?
        }
        Err(e) => Err(e),
    };
    let mut page = webhook_page_for(&state, &user, id).await?;
    match outcome {
        Ok((_, secret)) => {
            page.new_secret = Some(secret.expose().to_owned());
            render_with(StatusCode::OK, &page)
        }
        Err(refused) => {
            tracing::info!(reason = %refused, "webhook refused");
            page.problem = Some(sentence(&refused.to_string()));
            page.form_url = form_url;
            page.form_events = ticked.iter().filter_map(|e| e.parse().ok()).collect();
            render_with(StatusCode::BAD_REQUEST, &page)
        }
    }
}

async fn remove_webhook(
    state: web::Data<AppState>,
    user: ConsoleUser,
    PathId(id): PathId<ApplicationId>,
    posted: Protected<NoFields>,
) -> Result<HttpResponse, Error> {
    operator(&user)?;
    apply(&state, &user, move |conn, clock, actor| {
        webhooks::remove(conn, clock, actor, &id.to_string())
    })
    .await?;
    redirect_with_flash(
        &state,
        &posted.session,
        format!("/admin/apps/{id}/webhook"),
        "The webhook is removed; its pending deliveries are dropped.".to_owned(),
    )
    .await
}

impl From<webhooks::Error> for Error {
    fn from(e: webhooks::Error) -> Self {
        match e {
            webhooks::Error::Application(e) => e.into(),
            webhooks::Error::Store(e) => Error::Store(e),
            other => Error::BadRequest(sentence(&other.to_string())),
        }
    }
}
