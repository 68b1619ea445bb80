//! Settings: "Automatically assign licenses" and the sign-in settings.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::{Chrome, Console, Section};
use crate::binding;
use crate::licensing::{self, LicenseType, Pool};
use crate::orgs::{
    self, ClockSkew, LearnerSignIn, ProfileBindingPolicy, SessionLifetime, SignInSettings,
};
use crate::web::csrf::Protected;
use crate::web::pages::{render_with, sentence};
use crate::web::session::redirect_with_flash;
use crate::web::{AppState, Error};

pub fn routes(cfg: &mut web::ServiceConfig) {
    cfg.route("/admin/orgs/{org}/settings", web::get().to(show))
        .route(
            "/admin/orgs/{org}/settings/licenses",
            web::post().to(save_licenses),
        )
        .route(
            "/admin/orgs/{org}/settings/sign-in",
            web::post().to(save_sign_in),
        )
        .route(
            "/admin/orgs/{org}/settings/applications",
            web::post().to(save_applications),
        );
}

/// The session lifetimes offered, in minutes, with their labels.
const LIFETIMES: [(i64, &str); 7] = [
    (60, "1 hour"),
    (4 * 60, "4 hours"),
    (8 * 60, "8 hours"),
    (12 * 60, "12 hours"),
    (24 * 60, "1 day"),
    (7 * 24 * 60, "7 days"),
    (30 * 24 * 60, "30 days"),
];

const POLICIES: [(ProfileBindingPolicy, &str, &str); 3] = [
    (
        ProfileBindingPolicy::Required,
        "Required",
        "Learners connect their LinkedIn profile before they can start learning.",
    ),
    (
        ProfileBindingPolicy::Optional,
        "Optional",
        "Learners are asked once and can connect or disconnect at any time.",
    ),
    (
        ProfileBindingPolicy::Disabled,
        "Not allowed",
        "Learners are not offered to connect a LinkedIn profile; profiles already connected are disconnected.",
    ),
];

#[derive(Template)]
#[template(path = "console/settings.html")]
struct SettingsPage {
    chrome: Chrome,
    pools: Vec<Pool>,
    auto_assign: bool,
    auto_assign_type: String,
    licenses_problem: Option<String>,
    policy: &'static str,
    learner_sign_in: &'static str,
    lifetime_minutes: i64,
    clock_skew_seconds: String,
    sign_in_problem: Option<String>,
    skew_problem: Option<String>,
    /// Whether this server has a LinkedIn client configured.
    linkedin_available: bool,
    email_domains: Vec<String>,
    start_url: String,
    apps_require_license: bool,
}

impl SettingsPage {
    fn lifetimes(&self) -> Vec<(i64, &'static str)> {
        let mut offered = LIFETIMES.to_vec();
        // A lifetime set by the CLI that is not a standard choice stays selectable.
        if !offered.iter().any(|(m, _)| *m == self.lifetime_minutes) {
            offered.push((self.lifetime_minutes, "current setting"));
            offered.sort();
        }
        offered
    }

    fn sign_in_modes(&self) -> [(&'static str, &'static str); 3] {
        [
            ("sso", "Single sign-on through your identity provider"),
            (
                "linkedin",
                "LinkedIn, for invited learners (no identity provider)",
            ),
            ("both", "Either"),
        ]
    }

    fn policies(&self) -> Vec<(&'static str, &'static str, &'static str)> {
        POLICIES
            .iter()
            .map(|(p, label, hint)| (p.as_str(), *label, *hint))
            .collect()
    }

    fn usage(&self, pool: &Pool) -> String {
        format!("{} of {} seats in use", pool.assigned, pool.seats)
    }
}

async fn page(state: &AppState, console: &Console) -> Result<SettingsPage, Error> {
    let org = console.org.clone();
    let (pools, domains) = state
        .store
        .run(move |conn| {
            Ok::<_, Error>((
                licensing::pools(conn, org.id)?,
                orgs::email_domains(conn, &org)?,
            ))
        })
        .await?;
    let org = &console.org;
    Ok(SettingsPage {
        chrome: console.chrome(Section::Settings),
        auto_assign_type: org
            .auto_assign_license_type
            .as_ref()
            .or(pools.first().map(|p| &p.license_type))
            .map(ToString::to_string)
            .unwrap_or_default(),
        pools,
        auto_assign: org.auto_assign_licenses,
        licenses_problem: None,
        policy: org.profile_binding_policy.as_str(),
        learner_sign_in: org.learner_sign_in.as_str(),
        lifetime_minutes: org.learner_session.minutes(),
        clock_skew_seconds: org.clock_skew.seconds().to_string(),
        sign_in_problem: None,
        skew_problem: None,
        linkedin_available: state.linkedin.is_some(),
        email_domains: domains.iter().map(ToString::to_string).collect(),
        start_url: state.settings.base_url.join("/"),
        apps_require_license: org.apps_require_license,
    })
}

async fn show(state: web::Data<AppState>, console: Console) -> Result<HttpResponse, Error> {
    render_with(StatusCode::OK, &page(&state, &console).await?)
}

#[derive(Deserialize)]
struct LicensesForm {
    /// A checkbox: present when ticked.
    auto_assign: Option<String>,
    license_type: Option<String>,
}

async fn save_licenses(
    state: web::Data<AppState>,
    console: Console,
    posted: Protected<LicensesForm>,
) -> Result<HttpResponse, Error> {
    let form = posted.form;
    let on = form.auto_assign.is_some();
    let license_type = match form.license_type.as_deref().filter(|t| !t.is_empty()) {
        Some(text) => Some(
            text.parse::<LicenseType>()
                .map_err(|e| Error::BadRequest(e.to_string()))?,
        ),
        None => None,
    };
    let chosen = license_type.clone();
    let outcome = console
        .apply(&state, move |conn, clock, actor, org| {
            licensing::set_auto_assign(conn, clock, actor, org, on, chosen)
        })
        .await;
    match outcome {
        Ok(()) => {
            let message = match (on, &license_type) {
                (true, Some(t)) => format!("Automatic license assignment is on, drawing from {t}."),
                (true, None) => "Automatic license assignment is on.".to_owned(),
                (false, _) => "Automatic license assignment is off.".to_owned(),
            };
            redirect_with_flash(&state, &posted.session, console.link("/settings"), message).await
        }
        Err(licensing::Error::NoPool { .. }) => {
            tracing::info!("auto-assign refused: no such pool");
            let mut page = page(&state, &console).await?;
            page.auto_assign = on;
            page.licenses_problem = Some(
                "Choose a license pool to draw from. Create one on the Licenses page first."
                    .to_owned(),
            );
            render_with(StatusCode::BAD_REQUEST, &page)
        }
        Err(other) => Err(other.into()),
    }
}

#[derive(Deserialize)]
struct SignInForm {
    learner_sign_in: String,
    profile_binding: String,
    learner_session_minutes: String,
    clock_skew_seconds: String,
}

async fn save_sign_in(
    state: web::Data<AppState>,
    console: Console,
    posted: Protected<SignInForm>,
) -> Result<HttpResponse, Error> {
    let form = posted.form;
    let policy = form
        .profile_binding
        .parse::<ProfileBindingPolicy>()
        .map_err(|()| Error::BadRequest("choose required, optional or not allowed".into()))?;
    let learner_sign_in = form
        .learner_sign_in
        .parse::<LearnerSignIn>()
        .map_err(|()| Error::BadRequest("choose how learners sign in".into()))?;
    let lifetime = form
        .learner_session_minutes
        .trim()
        .parse::<i64>()
        .map_err(|_| orgs::Error::InvalidSessionLifetime)
        .and_then(SessionLifetime::from_minutes);
    let skew = form
        .clock_skew_seconds
        .trim()
        .parse::<i64>()
        .ok()
        .and_then(|seconds| ClockSkew::from_seconds(seconds).ok());
    let (lifetime, skew) = match (lifetime, skew) {
        (Ok(lifetime), Some(skew)) => (lifetime, skew),
        (lifetime, skew) => {
            tracing::info!("sign-in settings refused: invalid values");
            let mut page = page(&state, &console).await?;
            page.policy = policy.as_str();
            page.learner_sign_in = learner_sign_in.as_str();
            page.clock_skew_seconds = form.clock_skew_seconds.clone();
            page.sign_in_problem = lifetime.err().map(|e| sentence(&e.to_string()));
            page.skew_problem = skew
                .is_none()
                .then(|| "Enter a number of seconds from 0 to 600.".to_owned());
            return render_with(StatusCode::BAD_REQUEST, &page);
        }
    };
    let settings = SignInSettings {
        learner_sign_in,
        profile_binding: policy,
        learner_session: lifetime,
        clock_skew: skew,
    };
    console
        .apply(&state, move |conn, clock, actor, org| {
            binding::set_sign_in_settings(conn, clock, actor, org, &settings)
        })
        .await?;
    redirect_with_flash(
        &state,
        &posted.session,
        console.link("/settings"),
        "Sign-in settings saved.".to_owned(),
    )
    .await
}

#[derive(Deserialize)]
struct ApplicationsForm {
    /// A checkbox: present when ticked.
    require_license: Option<String>,
}

async fn save_applications(
    state: web::Data<AppState>,
    console: Console,
    posted: Protected<ApplicationsForm>,
) -> Result<HttpResponse, Error> {
    let required = posted.form.require_license.is_some();
    console
        .apply(&state, move |conn, clock, actor, org| {
            orgs::set_apps_require_license(conn, clock, actor, org, required)
        })
        .await?;
    let message = if required {
        "Learners now need a license to open the learning applications."
    } else {
        "Every learner can open the learning applications."
    };
    redirect_with_flash(
        &state,
        &posted.session,
        console.link("/settings"),
        message.to_owned(),
    )
    .await
}
