//! `seatgate app ...`: the applications Seatgate signs learners in to
//! (issue 18's public interface). The secret is the last line of stdout.

use std::io::Write;

use clap::Subcommand;

use crate::applications::{self, Application, IdTokenAlg, NewApplication, RedirectUri};
use crate::audit::Actor;
use crate::clock::Clock;
use crate::config::Settings;
use crate::store::Store;
use crate::webhooks;

#[derive(Subcommand)]
pub(super) enum AppCommand {
    /// Register an application; prints its client id and, for a
    /// confidential application, its secret as the last line (shown once)
    Create {
        #[arg(long, value_name = "NAME")]
        name: String,
        /// Where the application receives codes; exact match; repeat for several
        #[arg(long = "redirect-uri", value_name = "URI", required = true)]
        redirect_uris: Vec<String>,
        /// A single-page or mobile application: no secret, PKCE required
        #[arg(long)]
        public: bool,
        /// Where learners go after signing out through the application; repeat for several
        #[arg(long = "post-logout-redirect-uri", value_name = "URI")]
        post_logout_redirect_uris: Vec<String>,
        /// Where "Go to <application>" leads [default: the first redirect URI's origin]
        #[arg(long, value_name = "URL")]
        launch_url: Option<String>,
        /// How ID tokens are signed
        #[arg(long, value_name = "RS256|ES256", default_value = "RS256")]
        id_token_alg: String,
    },
    /// One line per application: client id, name, kind, redirect URIs
    List,
    /// A new secret for a confidential application; the old one stops working
    RotateSecret { client_id: String },
    /// Remove an application; its tokens stop working
    Remove { client_id: String },
    /// Send license and learner events to the application's endpoint;
    /// prints the signing secret as the last line (shown once)
    Webhook {
        client_id: String,
        /// https, or http on localhost
        #[arg(long, value_name = "URL")]
        url: String,
        /// Comma-separated: license.assigned, license.revoked,
        /// learner.deactivated, learner.updated [default: all]
        #[arg(long, value_name = "EVENT,...", default_value = "")]
        events: String,
    },
    /// Stop sending events to the application; pending deliveries are dropped
    WebhookRemove { client_id: String },
    /// The application's latest webhook deliveries, one per line
    Deliveries {
        client_id: String,
        #[arg(long, default_value_t = 20)]
        limit: i64,
    },
}

fn uris(texts: Vec<String>) -> anyhow::Result<Vec<RedirectUri>> {
    Ok(texts
        .iter()
        .map(|t| t.parse())
        .collect::<Result<_, applications::Error>>()?)
}

fn describe(app: &Application) -> &'static str {
    if app.is_public() {
        "public"
    } else {
        "confidential"
    }
}

pub(super) fn run(
    command: AppCommand,
    settings: &Settings,
    store: &Store,
    clock: &Clock,
) -> anyhow::Result<()> {
    let mut conn = store.connection()?;
    let mut out = std::io::stdout().lock();
    match command {
        AppCommand::Create {
            name,
            redirect_uris,
            public,
            post_logout_redirect_uris,
            launch_url,
            id_token_alg,
        } => {
            let new = NewApplication {
                name,
                redirect_uris: uris(redirect_uris)?,
                post_logout_redirect_uris: uris(post_logout_redirect_uris)?,
                launch_url: launch_url.map(|u| u.parse()).transpose()?,
                public,
                id_token_alg: id_token_alg.parse::<IdTokenAlg>()?,
            };
            let (app, secret) = applications::create(&mut conn, clock, &Actor::Cli, new)?;
            writeln!(out, "created {} application {:?}", describe(&app), app.name)?;
            writeln!(
                out,
                "issuer: {} (discovery: {})",
                settings.base_url.as_str(),
                settings.base_url.join("/.well-known/openid-configuration")
            )?;
            writeln!(out, "client id: {}", app.id)?;
            if let Some(secret) = secret {
                writeln!(out, "client secret (shown once):")?;
                writeln!(out, "{}", secret.expose())?;
            }
        }
        AppCommand::List => {
            for app in applications::list(&mut conn)? {
                let redirects: Vec<&str> =
                    app.redirect_uris.iter().map(RedirectUri::as_str).collect();
                writeln!(
                    out,
                    "{}\t{}\t{}\t{}\t{}",
                    app.id,
                    app.name,
                    describe(&app),
                    app.id_token_alg.as_str(),
                    redirects.join(" ")
                )?;
            }
        }
        AppCommand::RotateSecret { client_id } => {
            let (app, secret) =
                applications::rotate_secret(&mut conn, clock, &Actor::Cli, &client_id)?;
            writeln!(
                out,
                "new secret for {:?}; the old one no longer works:",
                app.name
            )?;
            writeln!(out, "{}", secret.expose())?;
        }
        AppCommand::Webhook {
            client_id,
            url,
            events,
        } => {
            let events = webhooks::parse_events(&events)?;
            let (webhook, secret) =
                webhooks::set(&mut conn, clock, &Actor::Cli, &client_id, &url, events)?;
            let names: Vec<&str> = webhook.events.iter().map(|e| e.as_str()).collect();
            writeln!(out, "webhook {} for {}", webhook.url, names.join(", "))?;
            writeln!(out, "signing secret (shown once):")?;
            writeln!(out, "{}", secret.expose())?;
        }
        AppCommand::WebhookRemove { client_id } => {
            webhooks::remove(&mut conn, clock, &Actor::Cli, &client_id)?;
            writeln!(out, "webhook removed; pending deliveries are dropped")?;
        }
        AppCommand::Deliveries { client_id, limit } => {
            let app = applications::find(&mut conn, &client_id)?
                .ok_or_else(|| applications::Error::NotFound(client_id.clone()))?;
            for delivery in webhooks::recent_deliveries(&mut conn, app.id, limit)? {
                let status = match (delivery.delivered_at, delivery.failed_at) {
                    (Some(at), _) => format!("delivered {}", at.and_utc().to_rfc3339()),
                    (None, Some(at)) => format!("given up {}", at.and_utc().to_rfc3339()),
                    (None, None) if delivery.attempts == 0 => "pending".to_owned(),
                    (None, None) => format!(
                        "retrying at {}",
                        delivery.next_attempt_at.and_utc().to_rfc3339()
                    ),
                };
                writeln!(
                    out,
                    "{}\t{}\t{}\tattempts {}\t{}",
                    delivery.id,
                    delivery.event_type,
                    status,
                    delivery.attempts,
                    delivery.last_error.as_deref().unwrap_or("-")
                )?;
            }
        }
        AppCommand::Remove { client_id } => {
            let app = applications::remove(&mut conn, clock, &Actor::Cli, &client_id)?;
            writeln!(
                out,
                "removed application {:?}; its tokens no longer work",
                app.name
            )?;
        }
    }
    Ok(())
}
