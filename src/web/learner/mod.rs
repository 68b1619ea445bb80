//! The learner's pages: home, profile and LinkedIn binding, sign-out. Every
//! page here needs a learner signed in with single sign-on ([`LearnerSession`]).

mod home;
pub mod profile;

use std::future::Future;
use std::pin::Pin;

use actix_web::{FromRequest, HttpRequest, HttpResponse, dev::Payload, web};

pub use home::learner_home;

use super::csrf::{NoFields, Protected};
use super::session::{current, end, state};
use super::{AppState, Error};
use crate::accounts::learners::{self, Learner};
use crate::orgs::{self, Organization};
use crate::sessions::{self, Principal, Session};

pub fn routes(cfg: &mut web::ServiceConfig) {
    profile::routes(cfg);
    cfg.route("/logout", web::post().to(logout));
}

/// A signed-in learner with their organization and the one-time message for them.
pub struct LearnerSession {
    pub session: Session,
    pub learner: Learner,
    pub org: Organization,
    pub flash: Option<String>,
}

impl FromRequest for LearnerSession {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<Self, Error>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let session = current(&req).await?.ok_or(Error::LearnerSignInRequired)?;
            learner_session(
                &state(&req),
                session,
                req.method() == actix_web::http::Method::GET,
            )
            .await?
            .ok_or(Error::LearnerSignInRequired)
        })
    }
}

/// The learner a session belongs to, if it is a learner's; with `take_flash`
/// the pending message is used up.
pub async fn learner_session(
    state: &AppState,
    session: Session,
    take_flash: bool,
) -> Result<Option<LearnerSession>, Error> {
    let Principal::Learner(id) = session.principal else {
        return Ok(None);
    };
    state
        .store
        .run(move |conn| {
            // Deactivation ends the learner's sessions; a session that
            // outlived that (a write lost to a crash) still opens nothing.
            let Some(learner) = learners::find_by_id(conn, id)?.filter(|l| l.active) else {
                return Ok(None);
            };
            let org = orgs::find_by_id(conn, learner.org)?;
            let flash = if take_flash {
                sessions::take_flash(conn, &session)?
            } else {
                None
            };
            Ok::<_, Error>(Some(LearnerSession {
                session,
                learner,
                org,
                flash,
            }))
        })
        .await
}

async fn logout(
    state: web::Data<AppState>,
    posted: Protected<NoFields>,
) -> Result<HttpResponse, Error> {
    end(&state, posted.session, "/").await
}
