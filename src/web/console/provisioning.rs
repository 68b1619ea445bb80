//! Provisioning: the organization's SCIM configurations (tenant URL, a
//! token shown once, last used) and the groups its IdP pushed, each of
//! which an administrator may map to a license type.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Chrome, Console, Section, when};
use crate::ids::{GroupId, LicenseType, ScimConfigId};
use crate::licensing;
use crate::scim::{self, NewConfig};
use crate::secret::SecretToken;
use crate::web::csrf::{NoFields, Protected};
use crate::web::pages::{render_with, sentence};
use crate::web::path::PathId;
use crate::web::session::redirect_with_flash;
use crate::web::{AppState, Error};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/orgs/{org}/provisioning", web::get().to(show))
        .route(
            "/admin/orgs/{org}/provisioning/scim",
            web::post().to(create),
        )
        .route(
            "/admin/orgs/{org}/provisioning/scim/{id}/rotate",
            web::post().to(rotate),
        )
        .route(
            "/admin/orgs/{org}/provisioning/scim/{id}/remove",
            web::post().to(remove),
        )
        .route(
            "/admin/orgs/{org}/provisioning/groups/{id}/license",
            web::post().to(map_license),
        );
}

struct ConfigRow {
    id: String,
    name: String,
    assigns: String,
    last_used: String,
    /// The most recent refused requests: (when, method and path, status, reason).
    errors: Vec<(String, String, u16, String)>,
}

/// Refused requests shown per configuration.
const RECENT_ERRORS: i64 = 10;

struct GroupRow {
    id: String,
    name: String,
    source: String,
    /// Pushed over SCIM: its license mapping applies (to SCIM-managed members).
    pushed: bool,
    members: usize,
    license_type: Option<String>,
}

#[derive(Template)]
#[template(path = "console/provisioning.html")]
struct ProvisioningPage {
    chrome: Chrome,
    tenant_url: String,
    configs: Vec<ConfigRow>,
    groups: Vec<GroupRow>,
    pools: Vec<String>,
    /// A token just made: shown on this response only, never stored in clear.
    new_token: Option<(String, String)>,
    /// Why the create form was refused.
    problem: Option<String>,
    /// Why a removal was refused (shown by the configurations, not the form).
    removal_problem: Option<String>,
    form_name: String,
}

async fn page(state: &AppState, console: &Console) -> Result<ProvisioningPage, Error> {
    let org = console.org.id;
    let (configs, groups, pools) = state
        .store
        .run(move |conn| {
            let configs = scim::list(conn, org)?
                .into_iter()
                .map(|c| {
                    let errors = scim::recent_request_errors(conn, c.id, RECENT_ERRORS)?;
                    Ok((c, errors))
                })
                .collect::<Result<Vec<_>, crate::store::Error>>()?;
            let mut groups = Vec::new();
            for group in crate::groups::list(conn, org)? {
                let members = crate::groups::members(conn, group.id)?.len();
                groups.push((group, members));
            }
            let pools = licensing::pools(conn, org)?;
            Ok::<_, crate::store::Error>((configs, groups, pools))
        })
        .await?;
    let name_of = |id: Option<ScimConfigId>| {
        configs
            .iter()
            .map(|(c, _)| c)
            .find(|c| Some(c.id) == id)
            .map_or_else(|| "removed configuration".to_owned(), |c| c.name.clone())
    };
    Ok(ProvisioningPage {
        chrome: console.chrome(Section::Provisioning),
        tenant_url: state.settings.base_url.join("/scim/v2"),
        groups: groups
            .into_iter()
            .map(|(g, members)| GroupRow {
                id: g.id.to_string(),
                source: match &g.from_attribute {
                    Some(attribute) => format!("SAML attribute {attribute}"),
                    None => format!("IdP · {}", name_of(g.managed_by)),
                },
                pushed: g.from_attribute.is_none(),
                name: g.display_name,
                members,
                license_type: g.license_type.map(|t| t.to_string()),
            })
            .collect(),
        configs: configs
            .iter()
            .map(|(c, errors)| ConfigRow {
                id: c.id.to_string(),
                name: c.name.clone(),
                assigns: c
                    .assigns()
                    .map_or("No (data and groups only)".to_owned(), |t| {
                        format!("Yes: {t}")
                    }),
                last_used: c.last_used_at.map_or("Never".to_owned(), when),
                errors: errors
                    .iter()
                    .map(|e| {
                        (
                            when(e.at),
                            format!("{} {}", e.method, e.path),
                            e.status,
                            e.detail.clone(),
                        )
                    })
                    .collect(),
            })
            .collect(),
        pools: pools
            .into_iter()
            .map(|p| p.license_type.to_string())
            .collect(),
        new_token: None,
        problem: None,
        removal_problem: None,
        form_name: String::new(),
    })
}

async fn show(state: web::Data<AppState>, console: Console) -> Result<HttpResponse, Error> {
    render_with(StatusCode::OK, &page(&state, &console).await?)
}

/// The page showing a token once (after create or rotate).
async fn with_token(
    state: &AppState,
    console: &Console,
    name: String,
    token: &SecretToken,
) -> Result<HttpResponse, Error> {
    let mut page = page(state, console).await?;
    page.new_token = Some((name, token.expose().to_owned()));
    render_with(StatusCode::OK, &page)
}

#[derive(Deserialize)]
struct CreateForm {
    name: String,
    /// A license type, or "" for none.
    license_type: String,
}

async fn create(
    state: web::Data<AppState>,
    console: Console,
    posted: Protected<CreateForm>,
) -> Result<HttpResponse, Error> {
    let form = posted.form;
    let license_type = match form.license_type.trim() {
        "" => None,
        text => Some(
            text.parse::<LicenseType>()
                .map_err(|e| Error::BadRequest(sentence(&e.to_string())))?,
        ),
    };
    let new = NewConfig {
        name: form.name.clone(),
        auto_assign: license_type.is_some(),
        license_type,
    };
    let made = console
        .apply(&state, move |conn, clock, actor, org| {
            match scim::create(conn, clock, actor, org, new) {
                Err(scim::ConfigError::Store(e)) => Err(e),
                other => Ok(other),
            }
        })
        .await?;
    match made {
        Ok((config, token)) => with_token(&state, &console, config.name, &token).await,
        Err(refused) => {
            tracing::info!(reason = %refused, "SCIM configuration refused");
            let mut page = page(&state, &console).await?;
            page.problem = Some(sentence(&refused.to_string()));
            page.form_name = form.name;
            render_with(StatusCode::BAD_REQUEST, &page)
        }
    }
}

async fn rotate(
    state: web::Data<AppState>,
    console: Console,
    PathId(id): PathId<ScimConfigId>,
    _posted: Protected<NoFields>,
) -> Result<HttpResponse, Error> {
    let (config, token) = console
        .apply(&state, move |conn, clock, actor, org| {
            scim::rotate(conn, clock, actor, org, &id.to_string())
        })
        .await?;
    with_token(&state, &console, config.name, &token).await
}

/// Removing a configuration cuts the IdP off at once, so the button only
/// works with its box ticked (no script: the server checks it).
#[derive(Deserialize)]
struct RemoveForm {
    confirm: Option<String>,
}

async fn remove(
    state: web::Data<AppState>,
    console: Console,
    PathId(id): PathId<ScimConfigId>,
    posted: Protected<RemoveForm>,
) -> Result<HttpResponse, Error> {
    if posted.form.confirm.as_deref() != Some("yes") {
        tracing::info!(config = %id, "SCIM configuration removal not confirmed");
        let mut page = page(&state, &console).await?;
        page.removal_problem = Some(
            "Nothing was removed: tick \"Its token stops working\" next to Remove to confirm."
                .to_owned(),
        );
        return render_with(StatusCode::BAD_REQUEST, &page);
    }
    let config = console
        .apply(&state, move |conn, clock, actor, org| {
            scim::remove(conn, clock, actor, org, &id.to_string())
        })
        .await?;
    redirect_with_flash(
        &state,
        &posted.session,
        console.link("/provisioning"),
        format!(
            "{} is removed: its token no longer works, and its learners are managed here again.",
            config.name
        ),
    )
    .await
}

#[derive(Deserialize)]
struct MappingForm {
    /// A license type, or "" for none.
    license_type: String,
}

async fn map_license(
    state: web::Data<AppState>,
    console: Console,
    PathId(id): PathId<GroupId>,
    posted: Protected<MappingForm>,
) -> Result<HttpResponse, Error> {
    let license_type = match posted.form.license_type.trim() {
        "" => None,
        text => Some(
            text.parse::<LicenseType>()
                .map_err(|e| Error::BadRequest(sentence(&e.to_string())))?,
        ),
    };
    let group = console
        .apply(&state, move |conn, clock, actor, org| {
            scim::groups::map_license(conn, clock, actor, org, id, license_type)
        })
        .await?;
    let message = match &group.license_type {
        Some(t) => format!("Members of {} now hold a {t} license.", group.display_name),
        None => format!("{} gives no license any more.", group.display_name),
    };
    redirect_with_flash(
        &state,
        &posted.session,
        console.link("/provisioning"),
        message,
    )
    .await
}
