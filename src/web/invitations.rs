//! The page an invitation link opens: who it is for, and the way to sign in.
//! Opening it changes nothing; signing in accepts it.

use actix_web::{HttpResponse, web};
use askama::Template;

use super::pages::render;
use super::{AppState, Error};
use crate::invitations;
use crate::orgs::{self, connections};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/invitations/{token}", web::get().to(open));
}

#[derive(Template)]
#[template(path = "invitations/open.html")]
struct InvitationPage {
    org_name: String,
    org_slug: String,
    email: String,
    sso: bool,
    until: String,
}

async fn open(state: web::Data<AppState>, token: web::Path<String>) -> Result<HttpResponse, Error> {
    let clock = state.clock.clone();
    let (invitation, org, sso) = state
        .store
        .run(move |conn| {
            let invitation = invitations::open(conn, &clock, &token).map_err(|e| match e {
                invitations::Error::NotFound => Error::InvitationUnusable(None),
                invitations::Error::Ended(status) => Error::InvitationUnusable(Some(status)),
                other => other.into(),
            })?;
            let org = orgs::find_by_id(conn, invitation.org)?;
            let sso = connections::list(conn, org.id)?.iter().any(|c| c.enabled);
            Ok::<_, Error>((invitation, org, sso))
        })
        .await?;
    render(&InvitationPage {
        org_name: org.display_name,
        org_slug: org.slug.to_string(),
        email: invitation.email.to_string(),
        sso,
        until: invitation.expires_at.format("%Y-%m-%d %H:%M").to_string(),
    })
}
