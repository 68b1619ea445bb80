//! CSV import in the console: upload a file, read its dry-run preview,
//! apply it, watch the progress, download the results. The preview and the
//! apply run on threads of their own, off the request, so they go on when
//! the page is closed; the pages only read where they stand.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::audit_log::ActorNames;
use super::{Chrome, Console, Section, when};
use crate::ids::ImportId;
use crate::imports::files::{self, Download, ImportFile, Phase};
use crate::imports::{self, Outcome, Source, format};
use crate::web::csrf::{NoFields, Protected, ProtectedUpload};
use crate::web::pages::{csv_download, render_with, sentence};
use crate::web::path::PathId;
use crate::web::session::redirect_with_flash;
use crate::web::{AppState, Error};

pub fn routes(cfg: &mut web::ServiceConfig) {
    // The fixed names before `{id}`, which would take them.
    cfg.route("/admin/orgs/{org}/imports", web::get().to(list))
        .route("/admin/orgs/{org}/imports", web::post().to(upload))
        .route(
            "/admin/orgs/{org}/imports/template.csv",
            web::get().to(template),
        )
        .route(
            "/admin/orgs/{org}/imports/export.csv",
            web::get().to(export),
        )
        .route("/admin/orgs/{org}/imports/{id}", web::get().to(show))
        .route(
            "/admin/orgs/{org}/imports/{id}/preview.csv",
            web::get().to(preview_csv),
        )
        .route(
            "/admin/orgs/{org}/imports/{id}/result.csv",
            web::get().to(result_csv),
        )
        .route(
            "/admin/orgs/{org}/imports/{id}/preview",
            web::post().to(preview_again),
        )
        .route(
            "/admin/orgs/{org}/imports/{id}/apply",
            web::post().to(apply),
        )
        .route(
            "/admin/orgs/{org}/imports/{id}/discard",
            web::post().to(discard),
        );
}

/// The largest file, and room for the form's other fields.
const UPLOAD_LIMIT: usize = format::MAX_BYTES as usize + 64 * 1024;
/// Rows shown on a page; the download has them all.
const ROWS_SHOWN: usize = 1_000;
/// Past imports listed.
const PAST: i64 = 20;

/// A file not yet applied, as listed.
struct PendingLine {
    id: ImportId,
    file_name: String,
    uploaded: String,
    by: String,
    status: String,
}

/// A past import, as listed.
struct PastLine {
    id: ImportId,
    started: String,
    file_name: String,
    source: &'static str,
    by: String,
    outcome: String,
    failure: Option<String>,
    /// Its results are stored here (console imports).
    result: bool,
}

#[derive(Template)]
#[template(path = "console/imports.html")]
struct ImportsPage {
    chrome: Chrome,
    pending: Vec<PendingLine>,
    past: Vec<PastLine>,
    problem: Option<String>,
}

fn source(source: Source) -> &'static str {
    match source {
        Source::Console => "console",
        Source::Cli => "command line",
        Source::DropFolder => "drop folder",
    }
}

/// Where a file stands, in words.
fn status(file: &ImportFile, now: chrono::NaiveDateTime) -> String {
    if file.interrupted(now) {
        return format!("interrupted after {} rows", file.rows_done);
    }
    match file.phase {
        Phase::Previewing => format!("checking: {} rows so far", file.rows_done),
        Phase::Previewed => "ready to apply".to_owned(),
        Phase::Applying => match file.rows_total {
            Some(total) => format!("applying: {} of {total} rows", file.rows_done),
            None => format!("applying: {} rows", file.rows_done),
        },
        Phase::Applied => "applied".to_owned(),
        Phase::Failed => "failed".to_owned(),
    }
}

async fn page(state: &AppState, console: &Console) -> Result<ImportsPage, Error> {
    let org = console.org.clone();
    let now = state.clock.now_naive();
    let (pending, past) = state
        .store
        .run(move |conn| {
            let mut names = ActorNames::new(conn, org.id)?;
            let pending = files::pending(conn, &org)?
                .into_iter()
                .map(|file| {
                    Ok::<_, Error>(PendingLine {
                        id: file.id,
                        uploaded: when(file.uploaded_at),
                        by: names.name(conn, &file.uploaded_by)?,
                        status: status(&file, now),
                        file_name: file.file_name,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            let records = imports::recent(conn, &org, PAST)?;
            let ids: Vec<ImportId> = records.iter().map(|r| r.id).collect();
            let stored = files::with_results(conn, &org, &ids)?;
            let past = records
                .into_iter()
                .map(|record| {
                    Ok::<_, Error>(PastLine {
                        id: record.id,
                        started: when(record.started_at),
                        source: source(record.source),
                        by: names.name(conn, &record.started_by)?,
                        outcome: match record.finished_at {
                            Some(_) => record.counts.summary(),
                            None => "not finished".to_owned(),
                        },
                        failure: record.failure.map(|f| sentence(&f)),
                        result: stored.contains(&record.id),
                        file_name: record.file_name,
                    })
                })
                .collect::<Result<Vec<_>, _>>()?;
            Ok::<_, Error>((pending, past))
        })
        .await?;
    Ok(ImportsPage {
        chrome: console.chrome(Section::Imports),
        pending,
        past,
        problem: None,
    })
}

async fn list(state: web::Data<AppState>, console: Console) -> Result<HttpResponse, Error> {
    render_with(StatusCode::OK, &page(&state, &console).await?)
}

/// Runs an import job on a thread of its own: it outlives the request.
fn spawn(
    id: ImportId,
    job: impl FnOnce() -> Result<(), imports::Error> + Send + 'static,
) -> Result<(), Error> {
    let span = tracing::info_span!("import_job", import = %id);
    std::thread::Builder::new()
        .name("import".to_owned())
        .spawn(move || {
            let _entered = span.enter();
            if let Err(e) = job() {
                tracing::error!(reason = %e, "import job stopped");
            }
        })
        .map(|_| ())
        .map_err(|e| {
            tracing::error!(reason = %e, "import job could not start");
            Error::Store(crate::store::Error::WorkerGone)
        })
}

fn start_preview(state: &AppState, console: &Console, id: ImportId) -> Result<(), Error> {
    let (store, clock, org) = (
        state.store.clone(),
        state.clock.clone(),
        console.org.clone(),
    );
    spawn(id, move || files::preview(&store, &clock, &org, id))
}

async fn upload(
    state: web::Data<AppState>,
    console: Console,
    upload: Result<ProtectedUpload<UPLOAD_LIMIT>, Error>,
) -> Result<HttpResponse, Error> {
    // Refused on the page, like any unreadable file. The upload's CSRF
    // token was not checked, but nothing changes: the page is shown again.
    let upload = match upload {
        Err(Error::UploadTooLarge(_)) => {
            let problem = format!("Not uploaded: {}.", format::FileError::TooLarge);
            return refused(&state, &console, problem).await;
        }
        other => other?,
    };
    // A browser sends a chosen empty file with its name, and no file with none.
    let (file_name, content) = match (upload.file_name("file"), upload.bytes("file")) {
        (None, None) => {
            return refused(&state, &console, "Choose a CSV file to upload.".to_owned()).await;
        }
        (name, content) => (
            name.unwrap_or("upload.csv").to_owned(),
            content.map(<[u8]>::to_vec).unwrap_or_default(),
        ),
    };
    let uploaded = console
        .apply(&state, move |conn, clock, actor, org| {
            files::upload(conn, clock, actor, org, &file_name, content)
        })
        .await;
    let id = match uploaded {
        Ok(id) => id,
        Err(imports::Error::File(e)) => {
            return refused(&state, &console, format!("Not uploaded: {}.", e)).await;
        }
        Err(e) => return Err(e.into()),
    };
    start_preview(&state, &console, id)?;
    Ok(see_other(&console.link(&format!("/imports/{id}"))))
}

/// The imports page again, with why the upload was refused.
async fn refused(
    state: &AppState,
    console: &Console,
    problem: String,
) -> Result<HttpResponse, Error> {
    tracing::info!(reason = problem, "import upload refused");
    let mut page = page(state, console).await?;
    page.problem = Some(problem);
    render_with(StatusCode::BAD_REQUEST, &page)
}

fn see_other(location: &str) -> HttpResponse {
    HttpResponse::SeeOther()
        .insert_header((actix_web::http::header::LOCATION, location.to_owned()))
        .finish()
}

#[derive(Template)]
#[template(path = "console/import.html")]
struct FilePage {
    chrome: Chrome,
    file: ImportFile,
    uploaded: String,
    by: String,
    status: String,
    /// A job is on it: the page refreshes itself.
    working: bool,
    interrupted: bool,
    /// Rows by outcome, those that occurred.
    counts: Vec<(&'static str, u64)>,
    seats_free: Vec<(String, i64)>,
    /// The server can send activation emails.
    mail: bool,
    header: Vec<String>,
    rows: Vec<Vec<String>>,
}

impl FilePage {
    /// Percent done, for the progress bar's text.
    fn percent(&self) -> u64 {
        match self.file.rows_total {
            Some(total) if total > 0 => self.file.rows_done.min(total) * 100 / total,
            _ => 0,
        }
    }

    fn refused_row(&self, row: &[String]) -> bool {
        row.get(row.len().saturating_sub(2))
            .is_some_and(|o| o == Outcome::Refused.as_str())
    }
}

async fn show(
    state: web::Data<AppState>,
    console: Console,
    PathId(id): PathId<ImportId>,
) -> Result<HttpResponse, Error> {
    let org = console.org.clone();
    let (file, by, output) = state
        .store
        .run(move |conn| {
            let file = files::find(conn, &org, id)?;
            let by = ActorNames::new(conn, org.id)?.name(conn, &file.uploaded_by)?;
            let which = match file.phase {
                Phase::Previewed => Some(Download::Preview),
                Phase::Applied | Phase::Failed if file.has_result => Some(Download::Result),
                _ => None,
            };
            let output = match which {
                Some(which) => Some(files::download(conn, &org, id, which)?),
                None => None,
            };
            Ok::<_, Error>((file, by, output))
        })
        .await?;
    let now = state.clock.now_naive();
    let (header, rows) = output
        .as_deref()
        .map(|o| files::rows(o, ROWS_SHOWN))
        .unwrap_or_default();
    let tally = file.tally.clone().unwrap_or_default();
    render_with(
        StatusCode::OK,
        &FilePage {
            chrome: console.chrome(Section::Imports),
            uploaded: when(file.uploaded_at),
            by,
            status: status(&file, now),
            working: file.working(now),
            interrupted: file.interrupted(now),
            counts: Outcome::ALL
                .iter()
                .map(|&o| (o.as_str(), tally.of(o)))
                .filter(|(_, n)| *n > 0)
                .collect(),
            seats_free: tally.seats_free.into_iter().collect(),
            mail: state.mailer.is_some(),
            header,
            rows,
            file,
        },
    )
}

async fn download(
    state: &AppState,
    console: &Console,
    id: ImportId,
    which: Download,
) -> Result<HttpResponse, Error> {
    let org = console.org.clone();
    let body = state
        .store
        .run(move |conn| Ok::<_, Error>(files::download(conn, &org, id, which)?))
        .await?;
    let kind = match which {
        Download::Preview => "preview",
        Download::Result => "result",
    };
    // Named by our ids only: the uploaded name is not fit for a header.
    Ok(csv_download(
        &format!("seatgate-import-{id}-{kind}.csv"),
        body,
    ))
}

async fn preview_csv(
    state: web::Data<AppState>,
    console: Console,
    PathId(id): PathId<ImportId>,
) -> Result<HttpResponse, Error> {
    download(&state, &console, id, Download::Preview).await
}

async fn result_csv(
    state: web::Data<AppState>,
    console: Console,
    PathId(id): PathId<ImportId>,
) -> Result<HttpResponse, Error> {
    download(&state, &console, id, Download::Result).await
}

async fn template(_console: Console) -> HttpResponse {
    csv_download(
        "seatgate-import-template.csv",
        format::template().into_bytes(),
    )
}

async fn export(state: web::Data<AppState>, console: Console) -> Result<HttpResponse, Error> {
    let org = console.org.clone();
    let body = state
        .store
        .run(move |conn| {
            let mut out = Vec::new();
            imports::export(conn, &org, &mut out)?;
            Ok::<_, Error>(out)
        })
        .await?;
    Ok(csv_download(
        &format!("seatgate-learners-{}.csv", console.org.slug),
        body,
    ))
}

/// Starts the preview again, after its job was interrupted.
async fn preview_again(
    state: web::Data<AppState>,
    console: Console,
    PathId(id): PathId<ImportId>,
    _posted: Protected<NoFields>,
) -> Result<HttpResponse, Error> {
    let org = console.org.clone();
    let clock = state.clock.clone();
    state
        .store
        .run(move |conn| Ok::<_, Error>(files::start_preview_again(conn, &clock, &org, id)?))
        .await?;
    start_preview(&state, &console, id)?;
    Ok(see_other(&console.link(&format!("/imports/{id}"))))
}

#[derive(Deserialize)]
struct ApplyForm {
    #[serde(default)]
    send_invitations: Option<String>,
}

async fn apply(
    state: web::Data<AppState>,
    console: Console,
    PathId(id): PathId<ImportId>,
    posted: Protected<ApplyForm>,
) -> Result<HttpResponse, Error> {
    let invite = posted.form.send_invitations.is_some() && state.mailer.is_some();
    console
        .apply(&state, move |conn, clock, _actor, org| {
            files::start_apply(conn, clock, org, id, invite)
        })
        .await?;
    let (store, clock, actor, org, mailer, base_url) = (
        state.store.clone(),
        state.clock.clone(),
        console.user.actor.clone(),
        console.org.clone(),
        state.mailer.clone(),
        state.settings.base_url.clone(),
    );
    spawn(id, move || {
        let mail = mailer.as_deref().map(|mailer| files::Mail {
            mailer,
            base_url: &base_url,
        });
        files::apply(&store, &clock, &actor, &org, mail, id)
    })?;
    redirect_with_flash(
        &state,
        &posted.session,
        console.link(&format!("/imports/{id}")),
        "Applying: this goes on if you close the page.".to_owned(),
    )
    .await
}

async fn discard(
    state: web::Data<AppState>,
    console: Console,
    PathId(id): PathId<ImportId>,
    posted: Protected<NoFields>,
) -> Result<HttpResponse, Error> {
    console
        .apply(&state, move |conn, clock, _actor, org| {
            files::discard(conn, clock, org, id)
        })
        .await?;
    redirect_with_flash(
        &state,
        &posted.session,
        console.link("/imports"),
        "Upload discarded: nothing was changed.".to_owned(),
    )
    .await
}
