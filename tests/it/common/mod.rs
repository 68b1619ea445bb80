//! The test harness: fresh databases, the app on a random port, a cookie-keeping visitor.

pub mod browser;
pub mod idp;
pub mod oidc;
pub mod receiver;
pub mod rp;
pub mod scim;
pub mod smtp;
pub mod visitor;

use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::Arc;

use diesel::{Connection, PgConnection, RunQueryDsl};
use seatgate::app::{Application, Housekeeping};
use seatgate::clock::{Clock, ManualClock};
use seatgate::config::{BaseUrl, DatabaseUrl, LinkedIn, Settings};
use seatgate::saml::keys::SpKeyRing;
use seatgate::store::Store;

pub use visitor::Visitor;

/// Runs an `async fn(Backend)` test once per database backend, as two tests
/// named `<test>::sqlite` and `<test>::postgres`.
#[macro_export]
macro_rules! on_both_databases {
    ($($test:ident),+ $(,)?) => {$(
        mod $test {
            #[actix_rt::test]
            async fn sqlite() {
                super::$test($crate::common::Backend::Sqlite).await
            }
            #[actix_rt::test]
            async fn postgres() {
                super::$test($crate::common::Backend::Postgres).await
            }
        }
    )+};
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// The bearer token of every test app's `/metrics`.
pub const METRICS_TOKEN: &str = "test-metrics-token-0123456789";

const DEFAULT_POSTGRES: &str = "postgres://postgres@127.0.0.1:5432/test";

/// The server tests create their databases on.
pub fn postgres_server_url() -> String {
    std::env::var("SEATGATE_TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_POSTGRES.to_owned())
}

/// A database of its own for one test, removed when dropped.
pub struct TestDb {
    pub url: DatabaseUrl,
    _dir: tempfile::TempDir,
    postgres_name: Option<String>,
}

impl TestDb {
    pub fn fresh(backend: Backend) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        match backend {
            Backend::Sqlite => TestDb {
                url: DatabaseUrl::Sqlite(dir.path().join("seatgate.db")),
                _dir: dir,
                postgres_name: None,
            },
            Backend::Postgres => {
                let name = format!("seatgate_test_{}", uuid::Uuid::new_v4().simple());
                let mut admin = connect_postgres_server();
                diesel::sql_query(format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .expect("CREATE DATABASE on the test PostgreSQL");
                let mut url = url::Url::parse(&postgres_server_url())
                    .expect("SEATGATE_TEST_DATABASE_URL is a URL");
                url.set_path(&name);
                // Loopback needs no TLS, and libpq's OpenSSL handshakes on
                // r2d2's connector threads can crash a test process that
                // exits while one is under way.
                if !url.query_pairs().any(|(k, _)| k == "sslmode") {
                    url.query_pairs_mut().append_pair("sslmode", "disable");
                }
                TestDb {
                    url: DatabaseUrl::parse(url.as_str()).expect("valid PostgreSQL URL"),
                    _dir: dir,
                    postgres_name: Some(name),
                }
            }
        }
    }

    /// A throwaway folder beside the database (for certificates, configs).
    pub fn dir(&self) -> PathBuf {
        self._dir.path().to_path_buf()
    }

    /// The URL as the command line takes it.
    pub fn url_text(&self) -> String {
        match &self.url {
            DatabaseUrl::Sqlite(path) => format!("sqlite://{}", path.display()),
            DatabaseUrl::Postgres(url) => url.clone(),
        }
    }

    /// Makes the database disappear under a running app.
    pub fn destroy(&self) {
        match (&self.url, &self.postgres_name) {
            (DatabaseUrl::Sqlite(path), _) => {
                std::fs::remove_file(path).expect("remove SQLite file")
            }
            (_, Some(name)) => drop_postgres(name),
            _ => unreachable!("a PostgreSQL test database has a name"),
        }
    }
}

/// A fresh, migrated database with the organization "acme" (named "Acme").
pub fn store_with_acme(backend: Backend) -> (TestDb, Store, seatgate::orgs::Organization) {
    let db = TestDb::fresh(backend);
    let store = Store::connect(&db.url).expect("connect");
    store.migrate().expect("migrate");
    let org = seatgate::orgs::create(
        &mut store.connection().expect("connection"),
        &Clock::system(),
        &seatgate::audit::Actor::Cli,
        "acme".parse().expect("slug"),
        "Acme".parse().expect("name"),
    )
    .expect("create");
    (db, store, org)
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Some(name) = &self.postgres_name {
            drop_postgres(name);
        }
    }
}

/// PostgreSQL is part of the suite: a missing server fails the test loudly.
fn connect_postgres_server() -> PgConnection {
    let url = postgres_server_url();
    PgConnection::establish(&url).unwrap_or_else(|e| {
        panic!(
            "PostgreSQL tests need a server at {url} (set SEATGATE_TEST_DATABASE_URL, or run scripts/test, \
             which starts one): {e}"
        )
    })
}

fn drop_postgres(name: &str) {
    let mut admin = connect_postgres_server();
    diesel::sql_query(format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut admin)
        .expect("DROP DATABASE on the test PostgreSQL");
}

/// A running Seatgate on a random port with a fresh, migrated database and a manual clock.
pub struct TestApp {
    pub address: String,
    pub store: Store,
    pub clock: ManualClock,
    pub settings: Arc<Settings>,
    pub sp_keys: Arc<SpKeyRing>,
    /// The server's own thread, stopped and joined when the app is dropped.
    server: Option<(actix_web::dev::ServerHandle, std::thread::JoinHandle<()>)>,
    pub db: TestDb,
}

/// The server runs on a thread of its own and is stopped, and its worker
/// threads joined, before the test database is dropped and the process
/// exits. Left running, worker threads held pooled PostgreSQL connections
/// while the database was dropped `WITH (FORCE)` and while the process ran
/// its exit handlers; libpq and OpenSSL torn down under them made a test
/// process abort now and then with `double free or corruption` (issue 12).
impl Drop for TestApp {
    fn drop(&mut self) {
        if let Some((handle, thread)) = self.server.take() {
            let stopper = std::thread::spawn(move || {
                actix_web::rt::System::new().block_on(handle.stop(false));
            });
            stopper.join().expect("the server stops");
            thread.join().expect("the server thread ends");
        }
    }
}

/// Makes the LinkedIn settings once the app's address is known.
type LinkedInFor<'a> = Box<dyn FnOnce(&str) -> Option<LinkedIn> + 'a>;

/// How to start a [`TestApp`]: `TestApp::spawn(backend)` for the defaults,
/// else `TestApp::on(db)` and the options a test needs.
pub struct TestAppBuilder<'a> {
    db: TestDb,
    base_url: Option<String>,
    linkedin: Option<LinkedInFor<'a>>,
    acs_rate_limit: Option<std::num::NonZeroU32>,
    scim_rate_limit: Option<std::num::NonZeroU32>,
    smtp_url: Option<String>,
    acs_org_rate_limit: Option<std::num::NonZeroU32>,
    admin_login_rate_limit: Option<std::num::NonZeroU32>,
    trusted_proxies: Vec<std::net::IpAddr>,
    demo_app: bool,
    certs_dir: Option<PathBuf>,
}

impl<'a> TestAppBuilder<'a> {
    /// At most `limit` posts to the ACS per minute and organization.
    pub fn acs_org_rate_limit(mut self, limit: std::num::NonZeroU32) -> Self {
        self.acs_org_rate_limit = Some(limit);
        self
    }

    /// At most `limit` administrator sign-in attempts per minute and address,
    /// the client address read through `trusted_proxies`.
    pub fn admin_login_rate_limit(
        mut self,
        limit: std::num::NonZeroU32,
        trusted_proxies: &[&str],
    ) -> Self {
        self.admin_login_rate_limit = Some(limit);
        self.trusted_proxies = trusted_proxies
            .iter()
            .map(|p| p.parse().expect("an IP address"))
            .collect();
        self
    }

    /// Keys and certificates from `dir` (shared with another app) instead of
    /// a folder of the app's own.
    pub fn certs_dir(mut self, dir: PathBuf) -> Self {
        self.certs_dir = Some(dir);
        self
    }

    /// Serves the demo application at `/demo-app`, as `seatgate demo` does.
    pub fn demo_app(mut self) -> Self {
        self.demo_app = true;
        self
    }

    /// Email goes out through the SMTP server at `url`.
    pub fn smtp(mut self, url: &str) -> Self {
        self.smtp_url = Some(url.to_owned());
        self
    }

    /// A public base URL other than the app's own address (as behind a
    /// TLS-terminating proxy).
    pub fn base_url(mut self, base_url: &str) -> Self {
        self.base_url = Some(base_url.to_owned());
        self
    }

    /// LinkedIn binding against `linkedin(address)`, which gets the app's
    /// address before the app starts (to register the callback).
    pub fn linkedin(mut self, linkedin: impl FnOnce(&str) -> Option<LinkedIn> + 'a) -> Self {
        self.linkedin = Some(Box::new(linkedin));
        self
    }

    /// At most `limit` posts to the ACS per minute and address. Off by
    /// default: tests post many responses from one address.
    pub fn acs_rate_limit(mut self, limit: std::num::NonZeroU32) -> Self {
        self.acs_rate_limit = Some(limit);
        self
    }

    /// At most `limit` SCIM requests per minute and token. Off by default:
    /// provisioning tests send many.
    pub fn scim_rate_limit(mut self, limit: std::num::NonZeroU32) -> Self {
        self.scim_rate_limit = Some(limit);
        self
    }

    /// Starts the app through [`Application::build`], as `seatgate serve` does,
    /// on its own thread.
    pub async fn spawn(self) -> TestApp {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind a free port");
        let bind = listener.local_addr().expect("local address");
        let address = format!("http://{bind}");
        let public = self.base_url.as_deref().unwrap_or(&address);
        let store = Store::connect(&self.db.url).expect("connect to the test database");
        store.migrate().expect("migrate the test database");
        let settings = Settings {
            bind,
            database_url: self.db.url.clone(),
            base_url: BaseUrl::parse(public).expect("valid base URL"),
            certs_dir: self
                .certs_dir
                .unwrap_or_else(|| self.db.dir().join("certs")),
            demo_idp: true,
            acs_rate_limit: self.acs_rate_limit,
            scim_rate_limit: self.scim_rate_limit,
            acs_org_rate_limit: self.acs_org_rate_limit,
            // Tests sign administrators in and open links many times.
            admin_login_rate_limit: self.admin_login_rate_limit,
            link_rate_limit: None,
            trusted_proxies: self.trusted_proxies.clone(),
            linkedin: self.linkedin.and_then(|linkedin| linkedin(&address)),
            mail: self.smtp_url.map(|url| seatgate::config::Mail {
                smtp_url: seatgate::config::ClientSecret::new(url),
                from: "Acme Learning <learning@acme.example>".to_owned(),
            }),
            imports_dir: None,
            imports_poll: std::time::Duration::from_secs(10),
            shutdown_drain: std::time::Duration::ZERO,
            shutdown_timeout: std::time::Duration::from_secs(30),
            housekeeping_interval: std::time::Duration::from_secs(600),
            metrics_token: Some(seatgate::config::ClientSecret::new(
                METRICS_TOKEN.to_owned(),
            )),
        };
        let clock = ManualClock::starting_at(Clock::system().now());
        let mut app = Application::build(settings, store.clone(), clock.clock(), listener)
            .expect("the application starts");
        if self.demo_app {
            let registered = seatgate::demo_idp::register_demo_app(
                &mut store.connection().expect("connection"),
                &clock.clock(),
                &app.state.settings.base_url,
            )
            .expect("register the demo application");
            app = app.with_demo_app(registered);
        }
        let (settings, sp_keys) = (
            Arc::clone(&app.state.settings),
            Arc::clone(&app.state.sp_keys),
        );
        let (sender, receiver) = std::sync::mpsc::channel();
        let thread = std::thread::spawn(move || {
            actix_web::rt::System::new().block_on(async move {
                let server = app.run(Housekeeping::Manual).expect("start the server");
                sender.send(server.handle()).expect("hand over the handle");
                server.await.expect("the server runs");
            });
        });
        let handle = receiver.recv().expect("the server starts");
        TestApp {
            address,
            store,
            clock,
            settings,
            sp_keys,
            server: Some((handle, thread)),
            db: self.db,
        }
    }
}

impl TestApp {
    pub async fn spawn(backend: Backend) -> Self {
        Self::on(TestDb::fresh(backend)).spawn().await
    }

    pub fn on<'a>(db: TestDb) -> TestAppBuilder<'a> {
        TestAppBuilder {
            db,
            base_url: None,
            linkedin: None,
            acs_rate_limit: None,
            scim_rate_limit: None,
            smtp_url: None,
            acs_org_rate_limit: None,
            admin_login_rate_limit: None,
            trusted_proxies: Vec::new(),
            demo_app: false,
            certs_dir: None,
        }
    }

    pub fn visitor(&self) -> Visitor {
        Visitor::new(&self.address)
    }

    /// A visitor signed in as administrator `email` of `org` (created if
    /// needed). The session is started directly: password sign-in has its own tests.
    pub fn admin_visitor(&self, org: &str, email: &str, operator: bool) -> Visitor {
        let org = self.org(org);
        let mut conn = self.store.connection().expect("connection");
        let clock = self.clock.clock();
        let issued = seatgate::accounts::admins::create_with_link(
            &mut conn,
            &clock,
            &self.settings.base_url,
            &org,
            email.parse().expect("email"),
            operator,
        )
        .expect("admin");
        let started = seatgate::sessions::start(
            &mut conn,
            &clock,
            seatgate::sessions::Principal::Admin(issued.admin.id),
        )
        .expect("session");
        let mut visitor = self.visitor();
        visitor.cookie = Some(started.token.expose().to_owned());
        visitor
    }
}
