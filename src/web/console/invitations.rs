//! Invitations: invite learners by email (one or many addresses, optionally
//! with a seat), see where each invitation stands, resend or cancel it. With
//! no mail server configured the links are shown to copy, once.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Chrome, Console, Section, when};
use crate::ids::InvitationId;
use crate::invitations::{self, Invitation, Outcome, Status};
use crate::licensing::{self, LicenseType};
use crate::web::csrf::{NoFields, Protected};
use crate::web::pages::{render_with, sentence};
use crate::web::path::PathId;
use crate::web::session::redirect_with_flash;
use crate::web::{AppState, Error};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/orgs/{org}/invitations", web::get().to(show))
        .route("/admin/orgs/{org}/invitations", web::post().to(invite))
        .route(
            "/admin/orgs/{org}/invitations/{id}/resend",
            web::post().to(resend),
        )
        .route(
            "/admin/orgs/{org}/invitations/{id}/cancel",
            web::post().to(cancel),
        );
}

/// Room for a few hundred addresses.
const INVITE_LIMIT: usize = 64 * 1024;
/// At most this many addresses per submission (bulk files are for CSV import).
const MAX_ADDRESSES: usize = 200;

struct Row {
    invitation: Invitation,
    status: Status,
    invited: String,
    delivery: String,
}

/// One address's outcome, as the result page shows it.
struct ResultLine {
    address: String,
    /// What happened, in a sentence.
    said: String,
    /// The link to hand over, when it was not emailed.
    link: Option<String>,
    attention: bool,
}

#[derive(Template)]
#[template(path = "console/invitations.html")]
struct InvitationsPage {
    chrome: Chrome,
    rows: Vec<Row>,
    pools: Vec<String>,
    mail: bool,
    results: Vec<ResultLine>,
    addresses: String,
    problem: Option<String>,
}

async fn page(state: &AppState, console: &Console) -> Result<InvitationsPage, Error> {
    let org = console.org.clone();
    let now = state.clock.now_naive();
    let (list, pools) = state
        .store
        .run(move |conn| {
            Ok::<_, Error>((
                invitations::list(conn, &org)?,
                licensing::pools(conn, org.id)?,
            ))
        })
        .await?;
    Ok(InvitationsPage {
        chrome: console.chrome(Section::Invitations),
        rows: list
            .into_iter()
            .map(|invitation| Row {
                status: invitation.status(now),
                invited: when(invitation.created_at),
                delivery: match (&invitation.sent_at, &invitation.send_error) {
                    (Some(at), _) => format!("emailed {}", when(*at)),
                    (None, Some(error)) => format!("not sent: {error}"),
                    (None, None) => "link handed over".to_owned(),
                },
                invitation,
            })
            .collect(),
        pools: pools
            .into_iter()
            .map(|p| p.license_type.to_string())
            .collect(),
        mail: state.mailer.is_some(),
        results: Vec::new(),
        addresses: String::new(),
        problem: None,
    })
}

async fn show(state: web::Data<AppState>, console: Console) -> Result<HttpResponse, Error> {
    render_with(StatusCode::OK, &page(&state, &console).await?)
}

#[derive(Deserialize)]
struct InviteForm {
    addresses: String,
    #[serde(default)]
    license_type: String,
}

fn result_line(outcome: Outcome) -> ResultLine {
    let attention = outcome.needs_attention();
    let (said, link) = match outcome.result {
        Err(e) => (sentence(&e.to_string()), None),
        Ok(done) => {
            let mut said = match &done.email {
                Some(Ok(())) => "Invitation emailed.".to_owned(),
                Some(Err(e)) => {
                    format!("Invited, but the email was not sent ({e}): copy the link.")
                }
                None => "Invited: copy the link and send it.".to_owned(),
            };
            match &done.seat {
                Some(Ok(())) => said.push_str(" A seat is assigned."),
                Some(Err(e)) => said.push_str(&format!(" No seat: {}", sentence(&e.to_string()))),
                None => {}
            }
            let link = (!matches!(done.email, Some(Ok(())))).then_some(done.invited.link);
            (said, link)
        }
    };
    ResultLine {
        address: outcome.address,
        said,
        link,
        attention,
    }
}

async fn invite(
    state: web::Data<AppState>,
    console: Console,
    posted: Protected<InviteForm, INVITE_LIMIT>,
) -> Result<HttpResponse, Error> {
    let addresses: Vec<String> = posted
        .form
        .addresses
        .split(|c: char| c == ',' || c == ';' || c.is_whitespace())
        .filter(|a| !a.is_empty())
        .map(str::to_owned)
        .collect();
    let license_type = match posted.form.license_type.trim() {
        "" => None,
        text => Some(
            text.parse::<LicenseType>()
                .map_err(|e| Error::BadRequest(e.to_string()))?,
        ),
    };
    let refused = if addresses.is_empty() {
        Some("Enter at least one email address.".to_owned())
    } else if addresses.len() > MAX_ADDRESSES {
        Some(format!(
            "At most {MAX_ADDRESSES} addresses at a time; for more, use a CSV import."
        ))
    } else {
        None
    };
    if let Some(problem) = refused {
        tracing::info!(reason = problem, "invitations refused");
        let mut page = page(&state, &console).await?;
        page.addresses = posted.form.addresses.clone();
        page.problem = Some(problem);
        return render_with(StatusCode::BAD_REQUEST, &page);
    }
    let base_url = state.settings.base_url.clone();
    let outcomes = console
        .apply(&state, move |conn, clock, actor, org| {
            invitations::invite_many(
                conn,
                clock,
                actor,
                &base_url,
                org,
                &addresses,
                license_type.as_ref(),
            )
        })
        .await?;
    let outcomes = deliver(&state, &console, outcomes).await?;
    let mut page = page(&state, &console).await?;
    page.results = outcomes.into_iter().map(result_line).collect();
    render_with(StatusCode::OK, &page)
}

/// Emails the invitations made, when a mail server is configured: on the
/// blocking pool without a database connection, then records the outcome.
async fn deliver(
    state: &AppState,
    console: &Console,
    mut outcomes: Vec<Outcome>,
) -> Result<Vec<Outcome>, Error> {
    let Some(mailer) = state.mailer.clone() else {
        return Ok(outcomes);
    };
    let org = console.org.clone();
    let outcomes = web::block(move || {
        invitations::deliver(&mailer, &org, &mut outcomes);
        outcomes
    })
    .await
    .map_err(|_| Error::Store(crate::store::Error::WorkerGone))?;
    let clock = state.clock.clone();
    state
        .store
        .run(move |conn| {
            invitations::record_deliveries(conn, &clock, &outcomes)?;
            Ok::<_, Error>(outcomes)
        })
        .await
}

async fn resend(
    state: web::Data<AppState>,
    console: Console,
    PathId(id): PathId<InvitationId>,
    _posted: Protected<NoFields>,
) -> Result<HttpResponse, Error> {
    let base_url = state.settings.base_url.clone();
    let invited = console
        .apply(&state, move |conn, clock, actor, org| {
            invitations::resend(conn, clock, actor, &base_url, org, id)
        })
        .await?;
    let outcome = Outcome {
        address: invited.invitation.email.to_string(),
        result: Ok(invitations::Delivered {
            invited,
            email: None,
            seat: None,
        }),
    };
    let outcomes = deliver(&state, &console, vec![outcome]).await?;
    let mut page = page(&state, &console).await?;
    page.results = outcomes.into_iter().map(result_line).collect();
    render_with(StatusCode::OK, &page)
}

async fn cancel(
    state: web::Data<AppState>,
    console: Console,
    PathId(id): PathId<InvitationId>,
    posted: Protected<NoFields>,
) -> Result<HttpResponse, Error> {
    console
        .apply(&state, move |conn, clock, actor, org| {
            invitations::cancel(conn, clock, actor, org, id)
        })
        .await?;
    redirect_with_flash(
        &state,
        &posted.session,
        console.link("/invitations"),
        "Invitation cancelled: its link no longer works.".to_owned(),
    )
    .await
}
