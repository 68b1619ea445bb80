//! The operators' page of applications (`/admin/apps`): register an
//! application, see its client id, give it a new secret, remove it. The same
//! as `seatgate app`; a secret is shown on the answer to the change only.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::ConsoleUser;
use crate::applications::{self, Application, IdTokenAlg, NewApplication, RedirectUri};
use crate::ids::ApplicationId;
use crate::web::csrf::{NoFields, Protected};
use crate::web::pages::{render_with, sentence};
use crate::web::path::PathId;
use crate::web::session::redirect_with_flash;
use crate::web::{AppState, Error};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/apps", web::get().to(show))
        .route("/admin/apps", web::post().to(create))
        .route("/admin/apps/{id}/secret", web::post().to(rotate))
        .route("/admin/apps/{id}/remove", web::post().to(remove));
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
    let session = user.session.clone();
    let flash = state
        .store
        .run(move |conn| crate::sessions::take_flash(conn, &session))
        .await?;
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
    let (clock, actor) = (state.clock.clone(), user.actor.clone());
    let made = match form.parse() {
        Ok(new) => {
            state
                .store
                .run(
                    move |conn| match applications::create(conn, &clock, &actor, new) {
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
    let (clock, actor) = (state.clock.clone(), user.actor.clone());
    let (application, secret) = state
        .store
        .run(move |conn| applications::rotate_secret(conn, &clock, &actor, &id.to_string()))
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
    let (clock, actor) = (state.clock.clone(), user.actor.clone());
    let application = state
        .store
        .run(move |conn| applications::remove(conn, &clock, &actor, &id.to_string()))
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
