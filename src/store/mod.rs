//! The database: the only module that knows diesel.
//!
//! One diesel code base serves SQLite (embedded default) and PostgreSQL
//! (production) through `#[derive(MultiConnection)]`; see docs/architecture.md.
//! This module keeps the pool, the transaction helpers, the migrations and
//! `schema.rs`, and imports no area: each area owns its queries (its
//! `queries.rs`, private to it) and hands out domain types. Dialect-specific
//! statements (advisory locks, `BEGIN IMMEDIATE`) live here behind named
//! functions.

pub(crate) mod schema;

use std::path::PathBuf;
use std::sync::{Mutex, PoisonError};
use std::time::Duration;

use diesel::connection::{AnsiTransactionManager, SimpleConnection, TransactionManager};
use diesel::r2d2::{self, ManageConnection, Pool, PooledConnection};
use diesel::{Connection, PgConnection, RunQueryDsl, SqliteConnection};
use diesel_migrations::{EmbeddedMigrations, MigrationHarness, embed_migrations};

use crate::config::DatabaseUrl;

const SQLITE_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/sqlite");
const POSTGRES_MIGRATIONS: EmbeddedMigrations = embed_migrations!("migrations/postgres");

/// Any key will do as long as no other application on the same PostgreSQL uses it.
const MIGRATION_LOCK_KEY: i64 = 0x5ea7_6a7e;

/// How long a request waits for a pooled connection before it fails.
const CHECKOUT_TIMEOUT: Duration = Duration::from_secs(5);

/// A connection to either backend.
#[derive(diesel::MultiConnection)]
pub enum DbConn {
    Sqlite(SqliteConnection),
    Postgres(PgConnection),
}

/// What went wrong in the storage layer.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("cannot connect to {url}: {reason}")]
    Connect { url: String, reason: String },
    #[error("no database connection available: {0}")]
    Pool(#[from] r2d2::PoolError),
    #[error("database error: {0}")]
    Query(#[from] diesel::result::Error),
    #[error("migration failed: {0}")]
    Migration(String),
    #[error("the SQLite database file {0} is gone")]
    FileGone(PathBuf),
    #[error("a row with the same unique key exists")]
    Duplicate,
    #[error("stored value {value:?} is not a valid {what}")]
    Corrupt { what: &'static str, value: String },
    #[error("the database worker stopped")]
    WorkerGone,
}

/// Decodes a text column into a typed value, or reports the row as corrupt.
pub(crate) fn decode<T: std::str::FromStr>(what: &'static str, value: String) -> Result<T, Error> {
    value.parse().map_err(|_| Error::Corrupt { what, value })
}

/// Maps a unique-constraint violation of an insert to [`Error::Duplicate`].
pub(crate) fn unique(e: diesel::result::Error) -> Error {
    use diesel::result::{DatabaseErrorKind, Error as Diesel};
    match e {
        Diesel::DatabaseError(DatabaseErrorKind::UniqueViolation, _) => Error::Duplicate,
        other => Error::Query(other),
    }
}

/// libpq's messages span lines; errors here end up on one line of stderr or log.
fn one_line(text: &str) -> String {
    text.split_whitespace().collect::<Vec<_>>().join(" ")
}

/// Opens connections for the pool, with per-backend settings applied.
#[derive(Debug)]
pub struct Connector {
    url: DatabaseUrl,
}

impl ManageConnection for Connector {
    type Connection = DbConn;
    type Error = r2d2::Error;

    fn connect(&self) -> Result<DbConn, r2d2::Error> {
        match &self.url {
            DatabaseUrl::Sqlite(path) => {
                let mut conn = SqliteConnection::establish(&path.to_string_lossy())?;
                // WAL lets readers proceed during a write; busy_timeout makes a
                // writer wait for the lock instead of failing at once. The
                // statement journals of savepoints (an import's rows) stay in
                // memory instead of a temporary file written for every row.
                conn.batch_execute(
                    "PRAGMA journal_mode = WAL; PRAGMA busy_timeout = 10000; \
                     PRAGMA foreign_keys = ON; PRAGMA synchronous = NORMAL; \
                     PRAGMA temp_store = MEMORY;",
                )
                .map_err(r2d2::Error::QueryError)?;
                Ok(DbConn::Sqlite(conn))
            }
            DatabaseUrl::Postgres(url) => {
                let mut conn = PgConnection::establish(url)?;
                // diesel prepares every statement once per connection, and after
                // five executions PostgreSQL may keep a generic plan made while
                // a table was still small: for `org_id = $1 AND email = $2` on an
                // empty `users` table it picked the (org_id, created_at) index
                // and filtered email, scanning the whole organization per
                // lookup until autovacuum's first ANALYZE replaced the plan (a
                // SCIM initial sync ran at 150 users/s instead of 650). Planning
                // each execution with its parameters costs microseconds.
                conn.batch_execute("SET plan_cache_mode = force_custom_plan")
                    .map_err(r2d2::Error::QueryError)?;
                Ok(DbConn::Postgres(conn))
            }
        }
    }

    fn is_valid(&self, conn: &mut DbConn) -> Result<(), r2d2::Error> {
        conn.batch_execute("SELECT 1")
            .map_err(r2d2::Error::QueryError)
    }

    fn has_broken(&self, _conn: &mut DbConn) -> bool {
        false
    }
}

pub type PooledConn = PooledConnection<Connector>;

/// The connection pool. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    pool: Pool<Connector>,
    url: DatabaseUrl,
}

impl Store {
    /// Connects (creating a SQLite file and its folder if needed) and checks
    /// that the database answers; does not migrate.
    pub fn connect(url: &DatabaseUrl) -> Result<Self, Error> {
        if let DatabaseUrl::Sqlite(path) = url
            && let Some(parent) = path.parent().filter(|p| !p.as_os_str().is_empty())
        {
            std::fs::create_dir_all(parent).map_err(|e| Error::Connect {
                url: url.to_string(),
                reason: format!("cannot create folder {}: {e}", parent.display()),
            })?;
        }
        let max_size = match url {
            // One writer at a time anyway; a few readers beside it.
            DatabaseUrl::Sqlite(_) => 8,
            DatabaseUrl::Postgres(_) => 16,
        };
        let connector = Connector { url: url.clone() };
        // Connect once by hand first: r2d2 would retry until its timeout and
        // then report only "timed out", hiding the real reason.
        connector.connect().map_err(|e| Error::Connect {
            url: url.to_string(),
            reason: one_line(&e.to_string()),
        })?;
        let pool = Pool::builder()
            .max_size(max_size)
            // No idle minimum: r2d2 would keep opening connections on its
            // worker threads, and a CLI process exiting while libpq is
            // mid-handshake crashes in OpenSSL's exit-time clean-up.
            .min_idle(Some(0))
            .connection_timeout(CHECKOUT_TIMEOUT)
            .test_on_check_out(false)
            .build(connector)
            .map_err(|e| Error::Connect {
                url: url.to_string(),
                reason: one_line(&e.to_string()),
            })?;
        Ok(Self {
            pool,
            url: url.clone(),
        })
    }

    /// A connection for synchronous callers (the CLI, tests).
    pub fn connection(&self) -> Result<PooledConn, Error> {
        Ok(self.pool.get()?)
    }

    /// Runs blocking database work on actix's blocking thread pool, off the async workers.
    pub async fn run<R, E>(
        &self,
        job: impl FnOnce(&mut DbConn) -> Result<R, E> + Send + 'static,
    ) -> Result<R, E>
    where
        R: Send + 'static,
        E: From<Error> + Send + 'static,
    {
        let pool = self.pool.clone();
        actix_web::web::block(move || {
            let mut conn = pool.get().map_err(Error::from)?;
            job(&mut conn)
        })
        .await
        .map_err(|_| E::from(Error::WorkerGone))?
    }

    /// Applies pending migrations; returns the versions applied (none when up to date).
    pub fn migrate(&self) -> Result<Vec<String>, Error> {
        let mut conn = self.connection()?;
        migrate(&mut conn)
    }

    /// How many migrations this binary has that the database has not applied
    /// yet (another process may be applying them): not ready while any are.
    pub async fn pending_migrations(&self) -> Result<usize, Error> {
        let pool = self.pool.clone();
        actix_web::web::block(move || {
            let mut conn = pool.get()?;
            let pending = match &mut *conn {
                DbConn::Sqlite(conn) => conn.pending_migrations(SQLITE_MIGRATIONS).map(|p| p.len()),
                DbConn::Postgres(conn) => conn
                    .pending_migrations(POSTGRES_MIGRATIONS)
                    .map(|p| p.len()),
            };
            pending.map_err(|e| Error::Migration(e.to_string()))
        })
        .await
        .map_err(|_| Error::WorkerGone)?
    }

    /// The pool's connections: (in use, idle).
    pub fn pool_use(&self) -> (u32, u32) {
        let state = self.pool.state();
        (
            state.connections - state.idle_connections,
            state.idle_connections,
        )
    }

    /// Whether the database answers a query right now (for `/healthz`).
    pub async fn ping(&self) -> Result<(), Error> {
        if let DatabaseUrl::Sqlite(path) = &self.url
            && !path.exists()
        {
            // An open SQLite handle keeps working on a deleted file, silently
            // writing data nobody will ever see again: report it as down.
            return Err(Error::FileGone(path.clone()));
        }
        let pool = self.pool.clone();
        actix_web::web::block(move || {
            let mut conn = pool.get()?;
            diesel::sql_query("SELECT 1").execute(&mut *conn)?;
            Ok(())
        })
        .await
        .map_err(|_| Error::WorkerGone)?
    }

    pub fn url(&self) -> &DatabaseUrl {
        &self.url
    }
}

/// SQLite has one writer at a time. A writer that finds the lock taken waits
/// in SQLite's busy handler, which sleeps in steps of up to 100 ms, so under
/// load a few sign-ins would wait far longer than the writer ahead of them
/// needs. Writers of this process queue here first instead; writers of other
/// processes still meet the busy handler, and correctness never depends on
/// this lock (the database transaction provides it).
static SQLITE_WRITER: Mutex<()> = Mutex::new(());

/// Runs `work` in a database transaction meant to write; every domain
/// transaction goes through here. `work`'s error rolls the transaction back
/// and comes out unchanged; a failure of the transaction itself comes out as
/// [`Error::Query`]. Not reentrant: domain functions that run inside another
/// one's transaction take the connection and open none of their own.
pub fn write_transaction<T, E>(
    conn: &mut DbConn,
    work: impl FnOnce(&mut DbConn) -> Result<T, E>,
) -> Result<T, E>
where
    E: From<Error>,
{
    let _queued = match conn {
        DbConn::Sqlite(inner) => {
            let queued = SQLITE_WRITER.lock().unwrap_or_else(PoisonError::into_inner);
            // BEGIN IMMEDIATE takes the write lock before the first read. A
            // deferred transaction reads first, and when another connection
            // (the SCIM token's last-used stamp, a CLI process) commits a
            // write in between, its upgrade to writer fails at once with
            // "database is locked", without the busy handler's wait: four of
            // 100,000 SCIM creates failed so in a load run.
            AnsiTransactionManager::begin_transaction_sql(inner, "BEGIN IMMEDIATE")
                .map_err(|e| E::from(Error::Query(e)))?;
            Some(queued)
        }
        DbConn::Postgres(inner) => {
            AnsiTransactionManager::begin_transaction(inner)
                .map_err(|e| E::from(Error::Query(e)))?;
            None
        }
    };
    let outcome = work(conn);
    type Manager = <DbConn as Connection>::TransactionManager;
    let ended = match &outcome {
        Ok(_) => Manager::commit_transaction(conn).inspect_err(|_| {
            // As diesel's own `transaction` does: a failed commit is rolled back.
            let _ = Manager::rollback_transaction(conn);
        }),
        Err(_) => Manager::rollback_transaction(conn),
    };
    ended.map_err(|e| E::from(Error::Query(e)))?;
    outcome
}

fn migrate(conn: &mut DbConn) -> Result<Vec<String>, Error> {
    let applied = match conn {
        DbConn::Sqlite(conn) => {
            // An immediate transaction holds the write lock, so two processes
            // starting together apply each migration once.
            conn.immediate_transaction(|conn| run_migrations(conn, SQLITE_MIGRATIONS))?
        }
        DbConn::Postgres(conn) => {
            diesel::sql_query(format!("SELECT pg_advisory_lock({MIGRATION_LOCK_KEY})"))
                .execute(conn)?;
            let applied = run_migrations(conn, POSTGRES_MIGRATIONS);
            diesel::sql_query(format!("SELECT pg_advisory_unlock({MIGRATION_LOCK_KEY})"))
                .execute(conn)?;
            applied?
        }
    };
    Ok(applied)
}

fn run_migrations<C>(conn: &mut C, migrations: EmbeddedMigrations) -> Result<Vec<String>, Error>
where
    C: MigrationHarness<C::Backend> + Connection,
{
    conn.run_pending_migrations(migrations)
        .map(|versions| versions.iter().map(ToString::to_string).collect())
        .map_err(|e| Error::Migration(e.to_string()))
}
