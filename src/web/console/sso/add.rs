//! Adding a connection: a metadata file, a metadata URL or the values by
//! hand, previewed before anything is saved. Reading them is `intake`'s, as
//! for the CLI.

use std::collections::BTreeMap;

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;

use super::{CertificateLine, certificate_line, page, presets};
use crate::orgs::connections::intake::{self, Requester, Source};
use crate::orgs::connections::rollover::{self, Changes};
use crate::orgs::connections::{self, IdpConnection, NewConnection};
use crate::saml::attributes::Preset;
use crate::saml::metadata::{Certificate, IdpMetadata};
use crate::web::console::{Chrome, Console, Section};
use crate::web::csrf::{Protected, ProtectedUpload};
use crate::web::pages::{render_with, sentence};
use crate::web::session::redirect_with_flash;
use crate::web::{AppState, Error};

pub(super) fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/orgs/{org}/sso/preview", web::post().to(preview))
        .route("/admin/orgs/{org}/sso/connections", web::post().to(save));
}

/// The add forms' values and problem, kept when a preview is refused.
#[derive(Default)]
pub(super) struct AddForm {
    pub(super) source: String,
    pub(super) name: String,
    pub(super) metadata_url: String,
    pub(super) entity_id: String,
    pub(super) sso_url: String,
    /// A pasted certificate, given back as it was pasted.
    pub(super) certificate_pem: String,
    pub(super) problem: Option<String>,
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

/// Reads what an add form sent into IdP metadata, or says what is wrong.
async fn understood(upload: &ProtectedUpload, source: &str) -> Result<IdpMetadata, String> {
    let source = match source {
        "file" => Source::File(
            upload
                .bytes("metadata")
                .ok_or("Choose the IdP's metadata XML file.")?
                .to_vec(),
        ),
        "url" => Source::Url(
            upload
                .text("metadata_url")
                .ok_or("Enter the IdP's metadata URL.")?,
        ),
        "manual" => Source::Manual {
            entity_id: upload
                .text("entity_id")
                .ok_or("Enter the IdP's entity ID.")?,
            sso_url: upload
                .text("sso_url")
                .ok_or("Enter the IdP's single sign-on URL.")?,
            certificates: vec![
                upload
                    .bytes("certificate")
                    .map(<[u8]>::to_vec)
                    .or_else(|| upload.text("certificate_pem").map(String::into_bytes))
                    .ok_or("Add the IdP's signing certificate (a PEM file, or paste it).")?,
            ],
        },
        _ => return Err("Choose how to add the identity provider.".to_owned()),
    };
    intake::read(source, Requester::OrgAdmin)
        .await
        .map_err(unusable)
}

async fn preview(
    state: web::Data<AppState>,
    console: Console,
    upload: Result<ProtectedUpload, Error>,
) -> Result<HttpResponse, Error> {
    // An oversized upload is refused on the page, next to the file field,
    // like any unreadable metadata (its other fields were not read).
    let upload = match upload {
        Err(Error::UploadTooLarge(_)) => {
            tracing::info!("IdP metadata upload too large");
            let add = AddForm {
                source: "file".to_owned(),
                problem: Some(
                    "The file is larger than 1 MiB: that is not IdP metadata (an IdP's metadata is a few KiB). Choose the IdP's metadata XML file."
                        .to_owned(),
                ),
                ..AddForm::default()
            };
            return render_with(
                StatusCode::PAYLOAD_TOO_LARGE,
                &page(&state, &console, add).await?,
            );
        }
        other => other?,
    };
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
                certificate_pem: upload.text("certificate_pem").unwrap_or_default(),
                source,
                problem: Some(problem),
            };
            return render_with(StatusCode::BAD_REQUEST, &page(&state, &console, add).await?);
        }
    };
    let now = state.clock.now_naive();
    let org = console.org.id;
    let entity_id = metadata.entity_id.clone();
    let existing = state
        .store
        .run(move |conn| connections::list(conn, org))
        .await?
        .into_iter()
        .find(|c| c.entity_id == entity_id);
    if let Some(connection) = existing {
        return update_preview(&console, connection, metadata, now);
    }
    render_with(
        StatusCode::OK,
        &PreviewPage {
            chrome: console.chrome(Section::SingleSignOn),
            name: upload
                .text("name")
                .as_deref()
                .and_then(connections::name_from_input)
                .unwrap_or_else(|| connections::default_name(&metadata)),
            certificates: metadata
                .certificates
                .iter()
                .map(|c| certificate_line(c, now))
                .collect(),
            encoded_certificates: encoded(&metadata.certificates),
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

#[derive(Template)]
#[template(path = "console/sso_update.html")]
struct UpdatePage {
    chrome: Chrome,
    connection: IdpConnection,
    changes: Changes,
    added: Vec<CertificateLine>,
    kept: Vec<CertificateLine>,
    retiring: Vec<CertificateLine>,
    dropped: Vec<CertificateLine>,
    metadata: IdpMetadata,
    encoded_certificates: String,
}

impl UpdatePage {
    /// The certificate tables, captioned.
    fn sections(&self) -> [(&'static str, &[CertificateLine]); 4] {
        [
            ("Certificates added", &self.added),
            ("Certificates kept", &self.kept),
            (
                "No longer in the metadata: still trusted until you remove them or they expire",
                &self.retiring,
            ),
            (
                "No longer in the metadata and expired: no longer trusted",
                &self.dropped,
            ),
        ]
    }
}

/// Metadata for an IdP that already has a connection: what saving it would
/// change there (a rollover keeps the old certificate trusted).
fn update_preview(
    console: &Console,
    connection: IdpConnection,
    metadata: IdpMetadata,
    now: chrono::NaiveDateTime,
) -> Result<HttpResponse, Error> {
    let (changes, _) = rollover::plan(&connection, &metadata, now)?;
    let lines = |certs: &[Certificate]| {
        certs
            .iter()
            .map(|c| certificate_line(c, now))
            .collect::<Vec<_>>()
    };
    render_with(
        StatusCode::OK,
        &UpdatePage {
            chrome: console.chrome(Section::SingleSignOn),
            added: lines(&changes.added),
            kept: lines(&changes.kept),
            retiring: lines(&changes.retiring),
            dropped: lines(&changes.dropped),
            encoded_certificates: encoded(&metadata.certificates),
            changes,
            connection,
            metadata,
        },
    )
}

/// Certificates as base64 DER, space-separated, for a form's hidden field.
fn encoded(certificates: &[Certificate]) -> String {
    certificates
        .iter()
        .map(|c| STANDARD.encode(&c.der))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Metadata as a preview's hidden fields bring it back: checked again, as
/// they come from the browser.
pub(super) fn posted_metadata(
    entity_id: String,
    sso_url: String,
    certificates: &str,
) -> Result<IdpMetadata, Error> {
    let certificates = certificates
        .split_whitespace()
        .map(Certificate::from_base64)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| Error::BadRequest(sentence(&e.to_string())))?;
    IdpMetadata::manual(entity_id, sso_url, certificates)
        .map_err(|e| Error::BadRequest(sentence(&e.to_string())))
}

#[derive(Deserialize)]
struct SaveForm {
    name: String,
    /// The IdP's own display name, from its metadata: the name when `name` is blank.
    #[serde(default)]
    display_name: String,
    entity_id: String,
    sso_url: String,
    certificates: String,
    metadata_url: String,
    preset: String,
}

/// Room for a few certificates in base64 and the other fields.
pub(super) const SAVE_LIMIT: usize = 128 * 1024;

/// Saves a previewed connection. Everything is checked again: the preview's
/// hidden fields come back from the browser.
async fn save(
    state: web::Data<AppState>,
    console: Console,
    posted: Protected<SaveForm, SAVE_LIMIT>,
) -> Result<HttpResponse, Error> {
    let form = posted.form;
    let mut metadata = posted_metadata(form.entity_id, form.sso_url, &form.certificates)?;
    metadata.display_name = connections::name_from_input(&form.display_name);
    let metadata_url = Some(form.metadata_url).filter(|u| !u.is_empty());
    if let Some(url) = &metadata_url {
        intake::check_url(url, Requester::OrgAdmin)
            .map_err(|e| Error::BadRequest(e.to_string()))?;
    }
    let options = NewConnection {
        name: connections::name_from_input(&form.name),
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
