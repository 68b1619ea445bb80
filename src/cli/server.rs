//! `seatgate serve` and `seatgate demo`.

use super::{GlobalArgs, open_store, settings};
use std::net::TcpListener;
use std::path::PathBuf;

use anyhow::Context;

use crate::accounts::admins;
use crate::app::{Application, Housekeeping};
use crate::audit::Actor;
use crate::clock::Clock;
use crate::config::{DatabaseUrl, Settings};
use crate::demo_idp::{self, DemoApp, DemoIdp};
use crate::invitations;
use crate::licensing::{self, LicenseType};
use crate::orgs;
use crate::store::Store;

pub(super) fn serve(settings: Settings, store: Store, clock: Clock) -> anyhow::Result<()> {
    serve_with(settings, store, clock, None)
}

/// Serves, with the demo application when `seatgate demo` registered one.
fn serve_with(
    settings: Settings,
    store: Store,
    clock: Clock,
    demo_app: Option<DemoApp>,
) -> anyhow::Result<()> {
    let listener = TcpListener::bind(settings.bind)
        .with_context(|| format!("bind: cannot listen on {}", settings.bind))?;
    tracing::info!(
        bind = %settings.bind,
        base_url = settings.base_url.as_str(),
        database = %settings.database_url,
        "Seatgate is listening"
    );
    let mut app = Application::build(settings, store, clock, listener)?;
    if let Some(demo_app) = demo_app {
        app = app.with_demo_app(demo_app);
    }
    actix_web::rt::System::new().block_on(async move { app.run(Housekeeping::Periodic)?.await })?;
    Ok(())
}

/// A fresh SQLite database (unless one is named) with an organization "demo"
/// wired to the built-in demo IdP, an administrator, then the server.
pub(super) fn demo(global: &GlobalArgs, clock: Clock) -> anyhow::Result<()> {
    let mut settings = settings(global)?;
    if global.database_url.is_none() && std::env::var_os("SEATGATE_DATABASE_URL").is_none() {
        let path = PathBuf::from("data/demo.db");
        for suffix in ["", "-wal", "-shm"] {
            let file = PathBuf::from(format!("{}{suffix}", path.display()));
            if file.exists() {
                std::fs::remove_file(&file).with_context(|| {
                    format!("cannot remove old demo database {}", file.display())
                })?;
            }
        }
        settings.database_url = DatabaseUrl::Sqlite(path);
    }
    let store = open_store(&settings)?;
    let mut conn = store.connection()?;
    let org = match orgs::find(&mut conn, "demo") {
        Ok(org) => org,
        Err(orgs::Error::NotFound(_)) => orgs::create(
            &mut conn,
            &clock,
            &Actor::Cli,
            "demo".parse()?,
            "Demo Company".parse()?,
        )?,
        Err(other) => return Err(other.into()),
    };
    settings.demo_idp = true;
    let idp =
        DemoIdp::load_or_generate(&settings.certs_dir, &settings.base_url).context("certs_dir")?;
    demo_idp::connect(&mut conn, &clock, &org, &idp)?;
    // Five seats, assigned at first sign-in, so the demo shows the product's promise.
    let learning: LicenseType = "Learning".parse()?;
    licensing::set_pool(&mut conn, &clock, &Actor::Cli, &org, &learning, 5)?;
    licensing::set_auto_assign(&mut conn, &clock, &Actor::Cli, &org, true, Some(learning))?;
    let issued = admins::create_with_link(
        &mut conn,
        &clock,
        &settings.base_url,
        &org,
        "admin@demo.example".parse()?,
        false,
    )?;
    // The start page finds the demo company from any demo.example address,
    // and one learner is invited (no mail server: the link is printed).
    orgs::set_email_domains(
        &mut conn,
        &clock,
        &Actor::Cli,
        &org,
        &["demo.example".parse()?],
    )?;
    let invited = match invitations::invite(
        &mut conn,
        &clock,
        &Actor::Cli,
        &settings.base_url,
        &org,
        &"new.learner@demo.example".parse()?,
    ) {
        Ok(invited) => Some(invited),
        // A demo database kept from an earlier run: that learner signed in already.
        Err(invitations::Error::AlreadyActive(_)) => None,
        Err(other) => return Err(other.into()),
    };
    // The learning platform behind Seatgate, as a tiny OpenID Connect client.
    let demo_app = demo_idp::register_demo_app(&mut conn, &clock, &settings.base_url)?;
    drop(conn);
    println!();
    println!("Seatgate demo is starting.");
    println!(
        "Start page:            {} (type any address at demo.example)",
        settings.base_url.join("/")
    );
    println!(
        "Learner sign-in:       {}",
        settings.base_url.join("/sso/demo/login")
    );
    if let Some(invited) = invited {
        println!(
            "Invitation link:       {} (for new.learner@demo.example)",
            invited.link
        );
    }
    println!(
        "Administrator console: {} (set a password; valid 15 minutes)",
        issued.url
    );
    println!(
        "Demo application:      {} (signs in through Seatgate, shows the claims)",
        settings.base_url.join(demo_idp::DEMO_APP_PATH)
    );
    println!();
    serve_with(settings, store, clock, Some(demo_app))
}
