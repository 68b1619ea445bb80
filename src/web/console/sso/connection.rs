//! One connection's switches, administrator role, removal and test sign-in.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::ids::{ConnectionId, SsoTestId};
use crate::orgs::connections::{self, AdminRole, IdpConnection, Policy, SamlOptions, rollover};
use crate::saml::request::{
    AuthnContext, Binding, Comparison, PASSWORD_PROTECTED_TRANSPORT, RequestOptions,
};
use crate::signin::LocalPath;
use crate::signin::verdict::Verdict;
use crate::web::console::Console;
use crate::web::console::{Chrome, Section};
use crate::web::csrf::{NoFields, Protected};
use crate::web::pages::{render_with, sentence};
use crate::web::path::PathId;
use crate::web::session::redirect_with_flash;
use crate::web::{AppState, Error};

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route(
        "/admin/orgs/{org}/sso/connections/{id}/policy",
        web::post().to(set_policy),
    )
    .route(
        "/admin/orgs/{org}/sso/connections/{id}/admin-role",
        web::post().to(set_admin_role),
    )
    .route(
        "/admin/orgs/{org}/sso/connections/{id}/remove",
        web::post().to(remove),
    )
    .route(
        "/admin/orgs/{org}/sso/connections/{id}/test",
        web::post().to(test),
    )
    .route("/admin/orgs/{org}/sso/tests/{id}", web::get().to(verdict))
    .route(
        "/admin/orgs/{org}/sso/connections/{id}/saml-options",
        web::post().to(set_saml_options),
    )
    .route(
        "/admin/orgs/{org}/sso/connections/{id}/name",
        web::post().to(rename),
    )
    .route(
        "/admin/orgs/{org}/sso/connections/{id}/metadata",
        web::post().to(update_metadata),
    )
    .route(
        "/admin/orgs/{org}/sso/connections/{id}/certificates/remove",
        web::post().to(remove_certificate),
    );
}

/// The connection `id` of this console's organization, or 404.
async fn connection_of(
    state: &AppState,
    console: &Console,
    id: ConnectionId,
) -> Result<IdpConnection, Error> {
    let org = console.org.clone();
    Ok(state
        .store
        .run(move |conn| connections::find(conn, &org, id))
        .await?)
}

#[derive(Deserialize)]
struct PolicyForm {
    enabled: Option<String>,
    allow_idp_initiated: Option<String>,
    require_signed_assertion: Option<String>,
    allow_sha1: Option<String>,
}

async fn set_policy(
    state: web::Data<AppState>,
    console: Console,
    PathId(id): PathId<ConnectionId>,
    posted: Protected<PolicyForm>,
) -> Result<HttpResponse, Error> {
    let connection = connection_of(&state, &console, id).await?;
    let form = &posted.form;
    let policy = Policy {
        enabled: form.enabled.is_some(),
        allow_idp_initiated: form.allow_idp_initiated.is_some(),
        require_signed_assertion: form.require_signed_assertion.is_some(),
        allow_sha1: form.allow_sha1.is_some(),
    };
    console
        .apply(&state, move |conn, clock, actor, org| {
            connections::set_policy(conn, clock, actor, org, connection.id, policy)
        })
        .await?;
    redirect_with_flash(
        &state,
        &posted.session,
        console.link("/sso"),
        format!("Settings of {} saved.", connection.name),
    )
    .await
}

#[derive(Deserialize)]
struct AdminRoleForm {
    attribute: String,
    value: String,
}

async fn set_admin_role(
    state: web::Data<AppState>,
    console: Console,
    PathId(id): PathId<ConnectionId>,
    posted: Protected<AdminRoleForm>,
) -> Result<HttpResponse, Error> {
    let connection = connection_of(&state, &console, id).await?;
    let role = match AdminRole::from_input(&posted.form.attribute, &posted.form.value) {
        Ok(role) => role,
        Err(e) => {
            tracing::info!(reason = %e, "admin role refused");
            return redirect_with_flash(
                &state,
                &posted.session,
                console.link("/sso"),
                format!("Not saved: {e}."),
            )
            .await;
        }
    };
    let message = match &role {
        Some(r) => format!(
            "Learners of {} whose {} includes {} now open the console.",
            connection.name, r.attribute, r.value
        ),
        None => format!(
            "{} no longer grants the administrator role.",
            connection.name
        ),
    };
    console
        .apply(&state, move |conn, clock, actor, org| {
            connections::set_admin_role(conn, clock, actor, org, connection.id, role)
        })
        .await?;
    redirect_with_flash(&state, &posted.session, console.link("/sso"), message).await
}

async fn remove(
    state: web::Data<AppState>,
    console: Console,
    PathId(id): PathId<ConnectionId>,
    posted: Protected<NoFields>,
) -> Result<HttpResponse, Error> {
    let connection = connection_of(&state, &console, id).await?;
    let id = connection.id;
    console
        .apply(&state, move |conn, clock, actor, org| {
            connections::remove(conn, clock, actor, org, id)
        })
        .await?;
    redirect_with_flash(
        &state,
        &posted.session,
        console.link("/sso"),
        format!(
            "{} is removed; its learners keep their accounts.",
            connection.name
        ),
    )
    .await
}

/// Starts a test sign-in: a real SAML round trip whose response is checked
/// like any other, but signs nobody in, so the admin stays in the console.
async fn test(
    state: web::Data<AppState>,
    console: Console,
    PathId(id): PathId<ConnectionId>,
    _posted: Protected<NoFields>,
) -> Result<HttpResponse, Error> {
    let connection = connection_of(&state, &console, id).await?;
    if !connection.enabled {
        return Err(Error::BadRequest(format!(
            "{} is disabled: enable it to test it",
            connection.name
        )));
    }
    let return_to: LocalPath = console
        .link("/sso")
        .parse()
        .map_err(|()| Error::BadRequest("not a local path".into()))?;
    crate::web::sso::send_to_idp(&state, &console.org, &connection, return_to, true).await
}

#[derive(Deserialize)]
struct MetadataForm {
    entity_id: String,
    sso_url: String,
    certificates: String,
}

/// Saves previewed metadata for an existing connection (a rollover).
async fn update_metadata(
    state: web::Data<AppState>,
    console: Console,
    PathId(id): PathId<ConnectionId>,
    posted: Protected<MetadataForm, { super::add::SAVE_LIMIT }>,
) -> Result<HttpResponse, Error> {
    let form = posted.form;
    let metadata = super::add::posted_metadata(form.entity_id, form.sso_url, &form.certificates)?;
    let connection = connection_of(&state, &console, id).await?;
    let changes = console
        .apply(&state, move |conn, clock, actor, org| {
            rollover::update(conn, clock, actor, org, id, &metadata)
        })
        .await?;
    let mut said = vec![format!("{} is updated.", connection.name)];
    if !changes.added.is_empty() {
        said.push(format!("{} certificate(s) added.", changes.added.len()));
    }
    if !changes.retiring.is_empty() {
        said.push(format!(
            "{} certificate(s) no longer in the metadata stay trusted until you remove them or they expire: remove them once sign-ins work with the new one.",
            changes.retiring.len()
        ));
    }
    if changes.sso_url.is_some() {
        said.push("The single sign-on URL changed.".to_owned());
    }
    if changes.is_empty() {
        said = vec![format!(
            "{} already had this metadata: nothing changed.",
            connection.name
        )];
    }
    redirect_with_flash(
        &state,
        &posted.session,
        console.link("/sso"),
        said.join(" "),
    )
    .await
}

#[derive(Deserialize)]
struct CertificateForm {
    fingerprint: String,
}

async fn remove_certificate(
    state: web::Data<AppState>,
    console: Console,
    PathId(id): PathId<ConnectionId>,
    posted: Protected<CertificateForm>,
) -> Result<HttpResponse, Error> {
    let connection = connection_of(&state, &console, id).await?;
    let fingerprint = posted.form.fingerprint.clone();
    let removed = console
        .apply(&state, move |conn, clock, actor, org| {
            rollover::remove_certificate(conn, clock, actor, org, id, &fingerprint)
        })
        .await;
    let message = match removed {
        Ok(certificate) => format!(
            "{} no longer trusts the certificate {}: responses signed with it are refused.",
            connection.name, certificate.fingerprint
        ),
        Err(
            e @ (connections::Error::LastCertificate | connections::Error::NoSuchCertificate(_)),
        ) => {
            tracing::info!(reason = %e, "certificate removal refused");
            format!("Not removed: {}.", e)
        }
        Err(other) => return Err(other.into()),
    };
    redirect_with_flash(&state, &posted.session, console.link("/sso"), message).await
}

#[derive(Template)]
#[template(path = "console/sso_test.html")]
struct VerdictPage {
    chrome: Chrome,
    verdict: Verdict,
    /// (what, as sent, against our clock) for each instant the IdP sent.
    times: Vec<(&'static str, String, String)>,
}

/// `12 s before our clock`, for an instant as the IdP wrote it.
fn against(instant: &str, ours: chrono::DateTime<chrono::FixedOffset>) -> String {
    match chrono::DateTime::parse_from_rfc3339(instant) {
        Ok(at) => {
            let seconds = (at - ours).num_seconds();
            match seconds {
                0 => "the same second as our clock".to_owned(),
                s if s < 0 => format!("{} s before our clock", -s),
                s => format!("{s} s after our clock"),
            }
        }
        Err(_) => "not a time Seatgate can read".to_owned(),
    }
}

/// A test sign-in's verdict, for the organization's administrators.
async fn verdict(
    state: web::Data<AppState>,
    console: Console,
    PathId(id): PathId<SsoTestId>,
) -> Result<HttpResponse, Error> {
    let org = console.org.id;
    let verdict = state
        .store
        .run(move |conn| crate::signin::verdict::find(conn, org, id))
        .await?
        .ok_or(Error::NotFound)?;
    let ours = chrono::DateTime::parse_from_rfc3339(&verdict.checked_at)
        .unwrap_or_else(|_| state.clock.now().fixed_offset());
    let sent = &verdict.sent;
    let times = [
        ("Issued (IssueInstant)", &sent.issue_instant),
        ("Valid from (Conditions NotBefore)", &sent.not_before),
        (
            "Valid until (Conditions NotOnOrAfter)",
            &sent.not_on_or_after,
        ),
        (
            "Answer accepted until (SubjectConfirmationData NotOnOrAfter)",
            &sent.confirmation_not_on_or_after,
        ),
    ]
    .into_iter()
    .filter_map(|(what, at)| at.as_ref().map(|at| (what, at.clone(), against(at, ours))))
    .collect();
    render_with(
        StatusCode::OK,
        &VerdictPage {
            chrome: console.chrome(Section::SingleSignOn),
            verdict,
            times,
        },
    )
}

#[derive(Deserialize)]
struct NameForm {
    name: String,
}

async fn rename(
    state: web::Data<AppState>,
    console: Console,
    PathId(id): PathId<ConnectionId>,
    posted: Protected<NameForm>,
) -> Result<HttpResponse, Error> {
    let connection = connection_of(&state, &console, id).await?;
    let name = posted.form.name.clone();
    let renamed = console
        .apply(&state, move |conn, clock, actor, org| {
            connections::rename(conn, clock, actor, org, id, &name)
        })
        .await;
    let message = match renamed {
        Ok(name) => format!("{} is now called {name}.", connection.name),
        Err(e @ connections::Error::BlankName) => {
            tracing::info!(reason = %e, "connection name refused");
            format!("Not renamed: {e}.")
        }
        Err(other) => return Err(other.into()),
    };
    redirect_with_flash(&state, &posted.session, console.link("/sso"), message).await
}

#[derive(Deserialize)]
struct SamlOptionsForm {
    /// "redirect" or "post".
    #[serde(default)]
    binding: String,
    sign_requests: Option<String>,
    force_authn: Option<String>,
    #[serde(default)]
    name_id_format: String,
    /// "", "password" or "custom".
    #[serde(default)]
    authn_context: String,
    #[serde(default)]
    authn_context_custom: String,
    #[serde(default)]
    comparison: String,
    require_encrypted_assertion: Option<String>,
}

/// The options a form asked for, or why they cannot be.
fn saml_options(form: &SamlOptionsForm) -> Result<SamlOptions, String> {
    let comparison = match form.comparison.as_str() {
        "" => Comparison::Exact,
        text => text.parse()?,
    };
    let authn_context = match form.authn_context.as_str() {
        "" => None,
        "password" => Some(AuthnContext::new(PASSWORD_PROTECTED_TRANSPORT, comparison)?),
        _ => Some(AuthnContext::new(&form.authn_context_custom, comparison)?),
    };
    Ok(SamlOptions {
        sign_requests: form.sign_requests.is_some(),
        request: RequestOptions {
            binding: match form.binding.as_str() {
                "" => Binding::Redirect,
                text => text.parse()?,
            },
            force_authn: form.force_authn.is_some(),
            name_id_format: match form.name_id_format.as_str() {
                "" => None,
                text => Some(text.parse()?),
            },
            authn_context,
        },
        require_encrypted_assertion: form.require_encrypted_assertion.is_some(),
    })
}

async fn set_saml_options(
    state: web::Data<AppState>,
    console: Console,
    PathId(id): PathId<ConnectionId>,
    posted: Protected<SamlOptionsForm>,
) -> Result<HttpResponse, Error> {
    let connection = connection_of(&state, &console, id).await?;
    let options = match saml_options(&posted.form) {
        Ok(options) => options,
        Err(e) => {
            tracing::info!(reason = %e, "SAML options refused");
            return redirect_with_flash(
                &state,
                &posted.session,
                console.link("/sso"),
                format!("Not saved: {}", sentence(&e)),
            )
            .await;
        }
    };
    let saved = console
        .apply(&state, move |conn, clock, actor, org| {
            connections::set_saml_options(conn, clock, actor, org, id, &options)
        })
        .await;
    let message = match saved {
        Ok(()) => format!("SAML options of {} saved.", connection.name),
        Err(e @ connections::Error::NoPostUrl) => {
            tracing::info!(reason = %e, "SAML options refused");
            format!("Not saved: {e}.")
        }
        Err(other) => return Err(other.into()),
    };
    redirect_with_flash(&state, &posted.session, console.link("/sso"), message).await
}
