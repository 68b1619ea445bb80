//! Single sign-on: the page with the values for the IdP, the connections and
//! the recent sign-in errors with the fix to try; adding a connection is in
//! `add`, one connection's switches and test sign-in in `connection`.

mod add;
mod connection;
mod setup_links;

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{NaiveDateTime, TimeDelta};

use super::{Chrome, Console, Section, when};
use crate::orgs::connections::{self, IdpConnection, TrustedCertificate};
use crate::saml::SpEndpoints;
use crate::saml::attributes::Preset;
use crate::saml::metadata::Certificate;
use crate::signin::Reason;
use crate::web::pages::render_with;
use crate::web::{AppState, Error};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/orgs/{org}/sso", web::get().to(show));
    add::routes(cfg);
    connection::routes(cfg);
    setup_links::routes(cfg);
}

/// Certificates expiring sooner than this get a warning.
pub(super) const EXPIRY_WARNING: TimeDelta = TimeDelta::days(30);

/// A certificate as the console shows it.
pub struct CertificateLine {
    pub subject: String,
    pub fingerprint: String,
    pub not_after: String,
    /// "expired" or "expires in N days", when it needs attention.
    pub warning: Option<String>,
    /// Where it stands in a rollover, for a connection's certificates.
    pub status: Option<String>,
    /// It may be removed: another certificate stays in force.
    pub removable: bool,
}

/// A connection's certificates as the console shows them, with where each
/// stands in a rollover.
fn trusted_lines(certificates: &[TrustedCertificate], now: NaiveDateTime) -> Vec<CertificateLine> {
    let in_force = certificates.iter().filter(|t| t.in_force(now)).count();
    certificates
        .iter()
        .map(|t| {
            let mut line = certificate_line(&t.certificate, now);
            line.status = Some(match t.retired_at {
                None => "In the IdP's metadata: trusted.".to_owned(),
                Some(at) if t.in_force(now) => format!(
                    "No longer in the IdP's metadata since {}: still trusted until you remove it or it expires.",
                    when(at)
                ),
                Some(_) => "No longer in the IdP's metadata, and expired: not trusted.".to_owned(),
            });
            line.removable = !t.in_force(now) || in_force > 1;
            line
        })
        .collect()
}

fn certificate_line(cert: &Certificate, now: NaiveDateTime) -> CertificateLine {
    let left = cert.not_after - now;
    CertificateLine {
        subject: cert.subject.clone(),
        fingerprint: cert.fingerprint.clone(),
        not_after: when(cert.not_after),
        status: None,
        removable: false,
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
    status: Status,
    saml: SamlView,
}

/// A connection's SAML options as its form shows them.
struct SamlView {
    binding: &'static str,
    /// "" when none is asked for.
    name_id_format: &'static str,
    /// "", "password" or "custom".
    context: &'static str,
    custom: String,
    comparison: &'static str,
}

impl SamlView {
    fn of(connection: &IdpConnection) -> Self {
        use crate::saml::request::PASSWORD_PROTECTED_TRANSPORT;
        let request = &connection.saml.request;
        let context = request.authn_context.as_ref();
        Self {
            binding: request.binding.as_str(),
            name_id_format: request.name_id_format.map_or("", |f| f.as_str()),
            context: match context {
                None => "",
                Some(c) if c.class_ref() == PASSWORD_PROTECTED_TRANSPORT => "password",
                Some(_) => "custom",
            },
            custom: context
                .filter(|c| c.class_ref() != PASSWORD_PROTECTED_TRANSPORT)
                .map(|c| c.class_ref().to_owned())
                .unwrap_or_default(),
            comparison: context.map_or("exact", |c| c.comparison.as_str()),
        }
    }
}

/// Where a connection stands, from its last sign-in and its last refusal.
enum Status {
    NotYetUsed,
    Working {
        last: String,
    },
    Failing {
        at: String,
        detail: String,
        fix: String,
    },
}

struct ErrorLine {
    at: String,
    connection: String,
    reason: String,
    detail: String,
    reference: String,
    fix: String,
}

use add::AddForm;

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
    name_id_formats: [(&'static str, &'static str); 4],
    /// The organization's setup links (none for a setup link's own session).
    setup_links: Vec<SetupLinkLine>,
    /// A link just created: its URL, shown this once.
    new_setup_link: Option<String>,
}

/// A setup link as listed.
struct SetupLinkLine {
    id: crate::ids::SetupLinkId,
    created: String,
    expires: String,
    state: &'static str,
    /// It may still be revoked.
    live: bool,
}

impl SsoPage {
    /// How the console names an attribute preset.
    fn preset_label(&self, preset: &Preset) -> &'static str {
        self.presets
            .iter()
            .find(|(value, _)| *value == preset.as_str())
            .map_or("", |(_, label)| label)
    }

    /// The id of the field a refused add form's problem is about, for the
    /// error summary's link.
    fn problem_field(&self) -> &'static str {
        match self.add.source.as_str() {
            "url" => "metadata_url",
            "manual" => "certificate_pem",
            _ => "metadata",
        }
    }

    fn problem_for(&self, source: &str) -> Option<&str> {
        self.add
            .problem
            .as_deref()
            .filter(|_| self.add.source == source)
    }
}

/// The fix to try for a stored refusal reason.
fn fix_for(reason: &str, sp: &SpEndpoints) -> String {
    reason.parse::<Reason>().map_or_else(
        |()| "Check the detail above; give support the reference if it is unclear.".to_owned(),
        |reason| reason.fix(sp),
    )
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
    let whole_org = console.org.clone();
    let setup = console.user.setup;
    let (connections, errors, links) = state
        .store
        .run(move |conn| {
            let links = if setup {
                Vec::new()
            } else {
                crate::orgs::setup_links::list(conn, &whole_org)?
            };
            Ok::<_, Error>((
                connections::list(conn, org)?,
                crate::signin::recent_errors(conn, org, 20)?,
                links,
            ))
        })
        .await?;
    let setup_links = links
        .into_iter()
        .map(|link| {
            let state = if link.revoked_at.is_some() {
                "revoked"
            } else if !link.usable(now) {
                "expired"
            } else if link.opened_at.is_some() {
                "opened (in use)"
            } else {
                "not opened yet"
            };
            SetupLinkLine {
                id: link.id,
                created: when(link.created_at),
                expires: when(link.expires_at),
                state,
                live: link.usable(now),
            }
        })
        .collect();
    let names: BTreeMap<String, String> = connections
        .iter()
        .map(|c| (c.id.to_string(), c.name.clone()))
        .collect();
    let base = &state.settings.base_url;
    let sp = SpEndpoints::for_org(base, &console.org.slug);
    let cards = connections
        .into_iter()
        .map(|connection| {
            // The errors come newest first.
            let id = connection.id.to_string();
            let last_error = errors
                .iter()
                .find(|e| e.connection_id.as_deref() == Some(id.as_str()));
            let status = match (last_error, connection.last_signed_in_at) {
                (Some(e), last) if last.is_none_or(|at| e.created_at > at) => Status::Failing {
                    at: when(e.created_at),
                    detail: e.detail.clone(),
                    fix: fix_for(&e.reason, &sp),
                },
                (_, Some(at)) => Status::Working { last: when(at) },
                _ => Status::NotYetUsed,
            };
            ConnectionCard {
                certificates: trusted_lines(&connection.certificates, now),
                fetched: connection.metadata_fetched_at.map(when),
                status,
                saml: SamlView::of(&connection),
                connection,
            }
        })
        .collect();
    let errors = errors
        .into_iter()
        .map(|e| ErrorLine {
            at: when(e.created_at),
            connection: e
                .connection_id
                .and_then(|id| names.get(&id).cloned())
                .unwrap_or_else(|| "unknown IdP".to_owned()),
            fix: fix_for(&e.reason, &sp),
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
        name_id_formats: [
            ("unspecified", "Unspecified"),
            ("email", "Email address"),
            ("persistent", "Persistent (a stable opaque id)"),
            ("transient", "Transient"),
        ],
        setup_links,
        new_setup_link: None,
    })
}

async fn show(state: web::Data<AppState>, console: Console) -> Result<HttpResponse, Error> {
    render_with(
        StatusCode::OK,
        &page(&state, &console, AddForm::default()).await?,
    )
}
