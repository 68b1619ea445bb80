//! Single sign-on: the values for the IdP, connections (add by metadata file,
//! URL or by hand, with a preview before saving), switches, test sign-in, and
//! the recent sign-in errors with the fix to try.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{NaiveDateTime, TimeDelta};
use serde::Deserialize;

use super::{Chrome, Console, Section, when};
use crate::ids::ConnectionId;
use crate::orgs::connections::metadata_source;
use crate::orgs::connections::{self, AdminRole, IdpConnection, NewConnection, Policy};
use crate::saml::SpEndpoints;
use crate::saml::attributes::Preset;
use crate::saml::metadata::{Certificate, IdpMetadata, MetadataError};
use crate::signin::{LocalPath, Reason};
use crate::web::csrf::{NoFields, Protected, ProtectedUpload};
use crate::web::pages::{render_with, sentence};
use crate::web::session::redirect_with_flash;
use crate::web::{AppState, Error};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/orgs/{org}/sso", web::get().to(show))
        .route("/admin/orgs/{org}/sso/preview", web::post().to(preview))
        .route("/admin/orgs/{org}/sso/connections", web::post().to(save))
        .route(
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
        );
}

/// Certificates expiring sooner than this get a warning.
const EXPIRY_WARNING: TimeDelta = TimeDelta::days(30);

/// A certificate as the console shows it.
pub struct CertificateLine {
    pub subject: String,
    pub fingerprint: String,
    pub not_after: String,
    /// "expired" or "expires in N days", when it needs attention.
    pub warning: Option<String>,
}

fn certificate_line(cert: &Certificate, now: NaiveDateTime) -> CertificateLine {
    let left = cert.not_after - now;
    CertificateLine {
        subject: cert.subject.clone(),
        fingerprint: cert.fingerprint.clone(),
        not_after: when(cert.not_after),
        warning: if left <= TimeDelta::zero() {
            Some("Expired: the IdP must sign with a newer certificate.".to_owned())
        } else if left < EXPIRY_WARNING {
            Some(format!(
                "Expires in {} days: upload the IdP's new certificate before then.",
                left.num_days()
            ))
        } else {
            None
        },
    }
}

struct ConnectionCard {
    connection: IdpConnection,
    certificates: Vec<CertificateLine>,
    fetched: Option<String>,
}

struct ErrorLine {
    at: String,
    connection: String,
    reason: String,
    detail: String,
    reference: String,
    fix: String,
}

/// The add forms' values and problem, kept when a preview is refused.
#[derive(Default)]
struct AddForm {
    source: String,
    name: String,
    metadata_url: String,
    entity_id: String,
    sso_url: String,
    problem: Option<String>,
}

#[derive(Template)]
#[template(path = "console/sso.html")]
struct SsoPage {
    chrome: Chrome,
    sp: SpEndpoints,
    login_url: String,
    certificate_url: String,
    cards: Vec<ConnectionCard>,
    errors: Vec<ErrorLine>,
    add: AddForm,
    presets: Vec<(&'static str, &'static str)>,
}

impl SsoPage {
    /// How the console names an attribute preset.
    fn preset_label(&self, preset: &Preset) -> &'static str {
        self.presets
            .iter()
            .find(|(value, _)| *value == preset.as_str())
            .map_or("", |(_, label)| label)
    }

    fn problem_for(&self, source: &str) -> Option<&str> {
        self.add
            .problem
            .as_deref()
            .filter(|_| self.add.source == source)
    }
}

/// The attribute presets as the forms offer them.
fn presets() -> Vec<(&'static str, &'static str)> {
    Preset::ALL
        .into_iter()
        .map(|p| {
            let label = match p {
                Preset::Entra => "Microsoft Entra ID (Azure AD)",
                Preset::Okta => "Okta",
                Preset::OneLogin => "OneLogin",
                Preset::Adfs => "AD FS",
                Preset::Google => "Google Workspace",
                Preset::Generic => "Other SAML 2.0 IdP",
            };
            (p.as_str(), label)
        })
        .collect()
}

async fn page(state: &AppState, console: &Console, add: AddForm) -> Result<SsoPage, Error> {
    let org = console.org.id;
    let now = state.clock.now_naive();
    let (connections, errors) = state
        .store
        .run(move |conn| {
            Ok::<_, Error>((
                connections::list(conn, org)?,
                crate::signin::recent_errors(conn, org, 20)?,
            ))
        })
        .await?;
    let names: BTreeMap<String, String> = connections
        .iter()
        .map(|c| (c.id.to_string(), c.name.clone()))
        .collect();
    let cards = connections
        .into_iter()
        .map(|connection| ConnectionCard {
            certificates: connection
                .certificates
                .iter()
                .map(|c| certificate_line(c, now))
                .collect(),
            fetched: connection.metadata_fetched_at.map(when),
            connection,
        })
        .collect();
    let base = &state.settings.base_url;
    let sp = SpEndpoints::for_org(base, &console.org.slug);
    let errors = errors
        .into_iter()
        .map(|e| ErrorLine {
            at: when(e.created_at),
            connection: e
                .connection_id
                .and_then(|id| names.get(&id).cloned())
                .unwrap_or_else(|| "unknown IdP".to_owned()),
            fix: e.reason.parse::<Reason>().map_or_else(
                |()| {
                    "Check the detail above; give support the reference if it is unclear."
                        .to_owned()
                },
                |reason| reason.fix(&sp),
            ),
            reason: e.reason,
            detail: e.detail,
            reference: e.reference,
        })
        .collect();
    Ok(SsoPage {
        chrome: console.chrome(Section::SingleSignOn),
        sp,
        login_url: base.join(&format!("/sso/{}/login", console.org.slug)),
        certificate_url: format!("/sso/{}/certificate.pem", console.org.slug),
        cards,
        errors,
        add,
        presets: presets(),
    })
}

async fn show(state: web::Data<AppState>, console: Console) -> Result<HttpResponse, Error> {
    render_with(
        StatusCode::OK,
        &page(&state, &console, AddForm::default()).await?,
    )
}

#[derive(Template)]
#[template(path = "console/sso_preview.html")]
struct PreviewPage {
    chrome: Chrome,
    name: String,
    metadata: IdpMetadata,
    certificates: Vec<CertificateLine>,
    /// The certificates as base64 DER, space-separated, for the save form.
    encoded_certificates: String,
    metadata_url: String,
    preset: String,
    presets: Vec<(&'static str, &'static str)>,
}

/// Why an upload could not be previewed: the message shown next to its form.
fn unusable(e: impl std::fmt::Display) -> String {
    sentence(&e.to_string())
}

/// URLs an org admin may have Seatgate fetch: https only, and no IP literal of
/// a private, loopback or link-local network, so the console cannot be used
/// to probe the server's own network. (Operators add other URLs by CLI.)
fn console_fetchable(text: &str) -> Result<(), String> {
    let url = url::Url::parse(text).map_err(|_| format!("{text:?} is not a URL."))?;
    if url.scheme() != "https" {
        return Err("The metadata URL must start with https://.".to_owned());
    }
    let internal = match url.host() {
        Some(url::Host::Ipv4(ip)) => {
            ip.is_private() || ip.is_loopback() || ip.is_link_local() || ip.is_unspecified()
        }
        Some(url::Host::Ipv6(ip)) => ip.is_loopback() || ip.is_unspecified(),
        Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
        None => true,
    };
    if internal {
        return Err("The metadata URL must name a public host.".to_owned());
    }
    Ok(())
}

/// Reads what an add form sent into IdP metadata, or says what is wrong.
async fn understood(upload: &ProtectedUpload, source: &str) -> Result<IdpMetadata, String> {
    match source {
        "file" => {
            let bytes = upload
                .bytes("metadata")
                .ok_or("Choose the IdP's metadata XML file.")?;
            let text = std::str::from_utf8(bytes)
                .map_err(|_| "The file is not text (UTF-8): upload the metadata XML file.")?;
            text.parse::<IdpMetadata>().map_err(unusable)
        }
        "url" => {
            let url = upload
                .text("metadata_url")
                .ok_or("Enter the IdP's metadata URL.")?;
            console_fetchable(&url)?;
            let text = metadata_source::fetch(&url).await.map_err(unusable)?;
            text.parse::<IdpMetadata>().map_err(unusable)
        }
        "manual" => {
            let entity_id = upload
                .text("entity_id")
                .ok_or("Enter the IdP's entity ID.")?;
            let sso_url = upload
                .text("sso_url")
                .ok_or("Enter the IdP's single sign-on URL.")?;
            let pem = upload
                .bytes("certificate")
                .map(<[u8]>::to_vec)
                .or_else(|| upload.text("certificate_pem").map(String::into_bytes))
                .ok_or("Add the IdP's signing certificate (a PEM file, or paste it).")?;
            let certificate = Certificate::from_pem(&pem).map_err(unusable)?;
            IdpMetadata::manual(entity_id, sso_url, vec![certificate]).map_err(|e| match e {
                MetadataError::NoSsoEndpoint => {
                    "The single sign-on URL must be an http(s) URL.".to_owned()
                }
                other => unusable(other),
            })
        }
        _ => Err("Choose how to add the identity provider.".to_owned()),
    }
}

async fn preview(
    state: web::Data<AppState>,
    console: Console,
    upload: ProtectedUpload,
) -> Result<HttpResponse, Error> {
    let source = upload.text("source").unwrap_or_default();
    let preset = upload
        .text("preset")
        .filter(|p| p.parse::<Preset>().is_ok())
        .unwrap_or_else(|| Preset::Generic.as_str().to_owned());
    let metadata = match understood(&upload, &source).await {
        Ok(metadata) => metadata,
        Err(problem) => {
            tracing::info!(source, reason = problem, "IdP metadata refused");
            let add = AddForm {
                name: upload.text("name").unwrap_or_default(),
                metadata_url: upload.text("metadata_url").unwrap_or_default(),
                entity_id: upload.text("entity_id").unwrap_or_default(),
                sso_url: upload.text("sso_url").unwrap_or_default(),
                source,
                problem: Some(problem),
            };
            return render_with(StatusCode::BAD_REQUEST, &page(&state, &console, add).await?);
        }
    };
    let now = state.clock.now_naive();
    render_with(
        StatusCode::OK,
        &PreviewPage {
            chrome: console.chrome(Section::SingleSignOn),
            name: upload
                .text("name")
                .unwrap_or_else(|| metadata.entity_id.clone()),
            certificates: metadata
                .certificates
                .iter()
                .map(|c| certificate_line(c, now))
                .collect(),
            encoded_certificates: metadata
                .certificates
                .iter()
                .map(|c| STANDARD.encode(&c.der))
                .collect::<Vec<_>>()
                .join(" "),
            metadata_url: if source == "url" {
                upload.text("metadata_url").unwrap_or_default()
            } else {
                String::new()
            },
            metadata,
            preset,
            presets: presets(),
        },
    )
}

#[derive(Deserialize)]
struct SaveForm {
    name: String,
    entity_id: String,
    sso_url: String,
    certificates: String,
    metadata_url: String,
    preset: String,
}

/// Room for a few certificates in base64 and the other fields.
const SAVE_LIMIT: usize = 128 * 1024;

/// Saves a previewed connection. Everything is checked again: the preview's
/// hidden fields come back from the browser.
async fn save(
    state: web::Data<AppState>,
    console: Console,
    posted: Protected<SaveForm, SAVE_LIMIT>,
) -> Result<HttpResponse, Error> {
    let form = posted.form;
    let certificates = form
        .certificates
        .split_whitespace()
        .map(Certificate::from_base64)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::BadRequest(e.to_string()))?;
    let metadata = IdpMetadata::manual(form.entity_id, form.sso_url, certificates)
        .map_err(|e| Error::BadRequest(e.to_string()))?;
    let metadata_url = Some(form.metadata_url).filter(|u| !u.is_empty());
    if let Some(url) = &metadata_url {
        console_fetchable(url).map_err(Error::BadRequest)?;
    }
    let options = NewConnection {
        name: Some(form.name.trim().to_owned()).filter(|n| !n.is_empty()),
        metadata_url,
        preset: form
            .preset
            .parse()
            .map_err(|e: String| Error::BadRequest(e))?,
        overrides: BTreeMap::new(),
    };
    let outcome = console
        .apply(&state, move |conn, clock, actor, org| {
            connections::add(conn, clock, actor, org, metadata, options)
        })
        .await;
    let message = match outcome {
        Ok(connection) => format!(
            "{} is connected. Use \"Test sign-in\" to check it end to end.",
            connection.name
        ),
        Err(e @ connections::Error::Duplicate { .. }) => {
            tracing::info!(reason = %e, "IdP connection refused");
            format!("Not saved: {e}. Remove the old connection first to replace it.")
        }
        Err(other) => return Err(other.into()),
    };
    redirect_with_flash(&state, &posted.session, console.link("/sso"), message).await
}

/// The connection `id` of this console's organization, or 404.
async fn connection_of(
    state: &AppState,
    console: &Console,
    id: &str,
) -> Result<IdpConnection, Error> {
    let id: ConnectionId = id.parse().map_err(|_| Error::NotFound)?;
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
    path: web::Path<(String, String)>,
    posted: Protected<PolicyForm>,
) -> Result<HttpResponse, Error> {
    let connection = connection_of(&state, &console, &path.1).await?;
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
    path: web::Path<(String, String)>,
    posted: Protected<AdminRoleForm>,
) -> Result<HttpResponse, Error> {
    let connection = connection_of(&state, &console, &path.1).await?;
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
    path: web::Path<(String, String)>,
    posted: Protected<NoFields>,
) -> Result<HttpResponse, Error> {
    let connection = connection_of(&state, &console, &path.1).await?;
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
    path: web::Path<(String, String)>,
    _posted: Protected<NoFields>,
) -> Result<HttpResponse, Error> {
    let connection = connection_of(&state, &console, &path.1).await?;
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn console_fetches_only_public_https_urls() {
        assert!(
            console_fetchable("https://login.microsoftonline.com/x/federationmetadata.xml").is_ok()
        );
        for refused in [
            "http://idp.example/metadata",
            "https://127.0.0.1/metadata",
            "https://10.1.2.3/metadata",
            "https://192.168.0.1/m",
            "https://169.254.169.254/latest/meta-data",
            "https://[::1]/m",
            "https://localhost/m",
            "file:///etc/passwd",
            "not a url",
        ] {
            assert!(console_fetchable(refused).is_err(), "{refused}");
        }
    }
}
