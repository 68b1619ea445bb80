//! `seatgate app ...`: the applications Seatgate signs learners in to
//! (issue 18's public interface). The secret is the last line of stdout.

use std::io::Write;

use clap::Subcommand;

use crate::applications::{self, Application, IdTokenAlg, NewApplication, RedirectUri};
use crate::audit::Actor;
use crate::clock::Clock;
use crate::config::Settings;
use crate::store::Store;

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
