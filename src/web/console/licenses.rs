//! Licenses: pools, their use over time, seat counts.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Chrome, Console, Section, when};
use crate::licensing::{self, LicenseType, Pool};
use crate::web::csrf::Protected;
use crate::web::pages::{render_with, sentence};
use crate::web::session::redirect_with_flash;
use crate::web::{AppState, Error};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/orgs/{org}/licenses", web::get().to(show))
        .route("/admin/orgs/{org}/licenses", web::post().to(set_pool));
}

/// Days the chart covers.
const CHART_DAYS: u32 = 30;
const CHART_WIDTH: f64 = 600.0;
const CHART_HEIGHT: f64 = 160.0;

/// A pool with what its card shows.
struct PoolCard {
    pool: Pool,
    exhausted_since: Option<String>,
    /// SVG polyline points of seats held per day.
    held_points: String,
    /// The y of the seat-count line.
    seats_y: String,
    first_day: String,
    last_day: String,
    peak: u32,
    /// Who waits for a seat, first arrival first: (email, since).
    waiting: Vec<(String, String)>,
}

#[derive(Template)]
#[template(path = "console/licenses.html")]
struct LicensesPage {
    chrome: Chrome,
    cards: Vec<PoolCard>,
    /// The values of the add/edit form when it was refused, and why.
    form_type: String,
    form_seats: String,
    problem: Option<String>,
    chart_width: f64,
    chart_height: f64,
}

/// Scales a day series into the chart: x across, y up from the bottom, with the
/// seat count (or the peak, if over-allocated) at the top.
fn chart(series: &[(chrono::NaiveDate, u32)], seats: u32) -> (String, String, u32) {
    let peak = series.iter().map(|(_, n)| *n).max().unwrap_or(0);
    let top = f64::from(seats.max(peak).max(1));
    let step = CHART_WIDTH / f64::from(u32::try_from(series.len().max(2) - 1).unwrap_or(1));
    let y = |n: u32| CHART_HEIGHT - f64::from(n) / top * (CHART_HEIGHT - 10.0);
    let points = series
        .iter()
        .enumerate()
        .map(|(i, (_, n))| format!("{:.1},{:.1}", i as f64 * step, y(*n)))
        .collect::<Vec<_>>()
        .join(" ");
    (points, format!("{:.1}", y(seats)), peak)
}

async fn page(state: &AppState, console: &Console) -> Result<LicensesPage, Error> {
    let (org, clock) = (console.org.id, state.clock.clone());
    let pools = state
        .store
        .run(move |conn| {
            licensing::pools(conn, org)?
                .into_iter()
                .map(|pool| {
                    let series = licensing::usage_by_day(conn, &clock, &pool, CHART_DAYS)?;
                    let waiting = licensing::waiting_list(conn, &pool)?;
                    Ok((pool, series, waiting))
                })
                .collect::<Result<Vec<_>, crate::store::Error>>()
        })
        .await?;
    let cards = pools
        .into_iter()
        .map(|(pool, series, waiting)| {
            let (held_points, seats_y, peak) = chart(&series, pool.seats);
            let day = |i: Option<&(chrono::NaiveDate, u32)>| {
                i.map(|(d, _)| d.format("%b %-d").to_string())
                    .unwrap_or_default()
            };
            PoolCard {
                exhausted_since: pool.exhausted_since.map(when),
                first_day: day(series.first()),
                last_day: day(series.last()),
                held_points,
                seats_y,
                peak,
                waiting: waiting
                    .into_iter()
                    .map(|w| (w.learner.email.to_string(), when(w.since)))
                    .collect(),
                pool,
            }
        })
        .collect();
    Ok(LicensesPage {
        chrome: console.chrome(Section::Licenses),
        cards,
        form_type: String::new(),
        form_seats: String::new(),
        problem: None,
        chart_width: CHART_WIDTH,
        chart_height: CHART_HEIGHT,
    })
}

async fn show(state: web::Data<AppState>, console: Console) -> Result<HttpResponse, Error> {
    render_with(StatusCode::OK, &page(&state, &console).await?)
}

#[derive(Deserialize)]
struct PoolForm {
    license_type: String,
    seats: String,
}

/// The largest pool the console accepts; more is surely a typo.
const MAX_SEATS: u32 = 10_000_000;

async fn set_pool(
    state: web::Data<AppState>,
    console: Console,
    posted: Protected<PoolForm>,
) -> Result<HttpResponse, Error> {
    let form = posted.form;
    let license_type = form.license_type.parse::<LicenseType>();
    let seats = form
        .seats
        .trim()
        .parse::<u32>()
        .ok()
        .filter(|n| *n <= MAX_SEATS);
    let (license_type, seats) = match (license_type, seats) {
        (Ok(t), Some(n)) => (t, n),
        (license_type, _) => {
            tracing::info!("license pool change refused: invalid values");
            let mut page = page(&state, &console).await?;
            page.problem = Some(match license_type {
                Err(e) => sentence(&e.to_string()),
                Ok(_) => format!("Enter a whole number of seats from 0 to {MAX_SEATS}."),
            });
            page.form_type = form.license_type;
            page.form_seats = form.seats;
            return render_with(StatusCode::BAD_REQUEST, &page);
        }
    };
    let pool = console
        .apply(&state, move |conn, clock, actor, org| {
            licensing::set_pool(conn, clock, actor, org, &license_type, seats)
        })
        .await?;
    let mut message = format!("{} now has {} seats.", pool.license_type, pool.seats);
    if pool.over_allocated() {
        message.push_str(&format!(
            " {} are in use: new learners wait until seats are free.",
            pool.assigned
        ));
    }
    redirect_with_flash(&state, &posted.session, console.link("/licenses"), message).await
}
