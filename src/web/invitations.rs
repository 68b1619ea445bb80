//! The page an invitation link opens: who it is for, and the way to sign in.
//! Opening it changes nothing; signing in accepts it.

use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use super::pages::render;
use super::{AppState, Error};
use crate::invitations;
use crate::orgs::{self, LearnerSignIn, connections};
use crate::signin::linkedin::{self, Purpose};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/invitations/{token}", web::get().to(open))
        .route(
            "/invitations/{token}/linkedin",
            web::get().to(with_linkedin),
        );
}

#[derive(Template)]
#[template(path = "invitations/open.html")]
struct InvitationPage {
    org_name: String,
    org_slug: String,
    email: String,
    sso: bool,
    /// The way for organizations whose learners sign in with LinkedIn.
    linkedin: bool,
    token: String,
    until: String,
}

async fn open(
    state: web::Data<AppState>,
    request: HttpRequest,
    token: web::Path<String>,
) -> Result<HttpResponse, Error> {
    // Links are bearer tokens: bound how fast one address may try them.
    state
        .limits
        .by_address(&state.limits.links, &request)
        .map_err(Error::RateLimited)?;
    let clock = state.clock.clone();
    let link = token.clone();
    let (invitation, org, sso) = state
        .store
        .run(move |conn| {
            let invitation =
                invitations::open(conn, &clock, &token).map_err(Error::from_invitation_link)?;
            let org = orgs::find_by_id(conn, invitation.org)?;
            let sso = connections::list(conn, org.id)?.iter().any(|c| c.enabled);
            Ok::<_, Error>((invitation, org, sso))
        })
        .await?;
    render(&InvitationPage {
        org_name: org.display_name,
        org_slug: org.slug.to_string(),
        email: invitation.email.to_string(),
        sso: sso && org.learner_sign_in != LearnerSignIn::Linkedin,
        linkedin: org.learner_sign_in.allows_linkedin() && state.linkedin.is_some(),
        token: link,
        until: invitation.expires_at.format("%Y-%m-%d %H:%M").to_string(),
    })
}

/// "Continue with LinkedIn" on an invitation: to LinkedIn, to bind the
/// learner's profile and sign them in (signin::linkedin).
async fn with_linkedin(
    state: web::Data<AppState>,
    request: HttpRequest,
    token: web::Path<String>,
) -> Result<HttpResponse, Error> {
    state
        .limits
        .by_address(&state.limits.links, &request)
        .map_err(Error::RateLimited)?;
    let begun = linkedin::begin(
        &state.store,
        &state.clock,
        state.linkedin.as_deref(),
        Purpose::Activate(&token),
    )
    .await?;
    Ok(super::start::to_linkedin(&state, begun))
}
