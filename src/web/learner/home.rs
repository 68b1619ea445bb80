//! The learner home.

use actix_web::HttpResponse;
use askama::Template;

use super::{LearnerSession, learner_session, profile};
use crate::applications;
use crate::binding::Gate;
use crate::licensing::{self, Standing};
use crate::web::pages::render;
use crate::web::session::MaybeSession;
use crate::web::{AppState, Error};

#[derive(Template)]
#[template(path = "learner/home.html")]
struct LearnerHome<'a> {
    csrf_token: &'a str,
    name: &'a str,
    email: &'a str,
    org_name: &'a str,
    license_line: &'a str,
    /// An SSO admin gets a link to the console.
    is_admin: bool,
    flash: Option<String>,
    /// The applications to go on to: (name, launch URL).
    applications: Vec<(String, String)>,
}

/// The learner home, for a signed-in learner; `None` for anyone else. While
/// the organization requires a LinkedIn profile that is not connected, the
/// page asking for it stands in its place.
pub async fn learner_home(
    state: &AppState,
    session: MaybeSession,
) -> Result<Option<HttpResponse>, Error> {
    let Some(session) = session.0 else {
        return Ok(None);
    };
    let Some(who) = learner_session(state, session, true).await? else {
        return Ok(None);
    };
    if profile::gate(state, &who).await? == Gate::MustConnect {
        return profile::required_instead_of_home(state, who).map(Some);
    }
    let (org, learner) = (who.org.clone(), who.learner.clone());
    let (license, applications) = state
        .store
        .run(move |conn| {
            Ok::<_, Error>((
                licensing::standing(conn, &org, &learner)?,
                applications::list(conn)?,
            ))
        })
        .await?;
    let LearnerSession {
        session,
        learner,
        org,
        flash,
    } = who;
    let license_line = match license {
        Standing::Licensed(license) => format!("License: {}", license.license_type),
        Standing::WaitingForSeat(_) => {
            "No license is available yet; your administrator has been notified.".to_owned()
        }
        Standing::ByAdministrator => {
            "Your account is ready; an administrator will assign your license.".to_owned()
        }
        Standing::ByIdp => {
            "Your account is ready; your company assigns licenses through its identity provider."
                .to_owned()
        }
    };
    render(&LearnerHome {
        csrf_token: session.csrf.expose(),
        name: &learner.display_name,
        email: learner.email.as_str(),
        org_name: &org.display_name,
        license_line: &license_line,
        is_admin: learner.is_admin,
        flash,
        applications: applications
            .into_iter()
            .map(|app| (app.name, app.launch_url.to_string()))
            .collect(),
    })
    .map(Some)
}
