//! SFTP drop folders: an HR system uploads a CSV file into
//! `<imports_dir>/imports/<org>/incoming/`; Seatgate imports each finished
//! file and moves it to `processed/` with its result CSV beside it, or to
//! `failed/` with the reason. docs/sftp.md sets up OpenSSH for it.
//!
//! A file is finished when it was renamed into place (uploads named
//! `*.part` and hidden files are left alone) or when its size and time
//! stayed the same between two looks [`SETTLE`] apart. When several
//! Seatgate processes watch the same folders, one imports a given file: it
//! holds a PostgreSQL advisory lock on the file's path for the import, or on
//! SQLite (one machine) an exclusive lock on the file itself; the others
//! pass it by.
//!
//! Nothing in a file decides where Seatgate reads or writes: names are
//! taken from the folder listing, only regular files are read (a symbolic
//! link is refused, never followed), and every name written is the file's
//! own under a folder of ours.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use diesel::RunQueryDsl;
use sha2::{Digest, Sha256};

use super::{Request, Source, format};
use crate::audit::Actor;
use crate::clock::Clock;
use crate::ids::{ImportId, OrgSlug};
use crate::orgs;
use crate::store::{DbConn, Store};

/// How long a file's size and time must stay the same to count as written.
pub const SETTLE: Duration = Duration::from_secs(2);

/// A file's size and modification time, as last seen.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Look {
    len: u64,
    modified: SystemTime,
}

/// A file in an organization's `incoming/`.
struct Dropped<'a> {
    slug: &'a OrgSlug,
    path: &'a Path,
    name: &'a str,
    /// Its name in `processed/` or `failed/`.
    stamped: String,
}

/// The watcher of the drop folders under one `imports_dir`.
pub struct DropFolders {
    root: PathBuf,
    /// Each waiting file as last seen, to tell a finished one.
    seen: HashMap<PathBuf, Look>,
}

impl DropFolders {
    pub fn new(imports_dir: &Path) -> Self {
        Self {
            root: imports_dir.join("imports"),
            seen: HashMap::new(),
        }
    }

    /// Looks at every organization's `incoming/` once and imports the
    /// finished files. A file that cannot be imported now (the database
    /// is unreachable) stays for the next look.
    pub fn scan(&mut self, store: &Store, clock: &Clock) {
        let mut still = HashMap::new();
        let Ok(orgs) = fs::read_dir(&self.root) else {
            return;
        };
        for org_dir in orgs.filter_map(Result::ok) {
            let Ok(slug) = org_dir.file_name().to_string_lossy().parse::<OrgSlug>() else {
                continue;
            };
            let incoming = org_dir.path().join("incoming");
            let Ok(entries) = fs::read_dir(&incoming) else {
                continue;
            };
            for entry in entries.filter_map(Result::ok) {
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with('.') || name.ends_with(".part") {
                    continue;
                }
                let path = entry.path();
                let Ok(meta) = fs::symlink_metadata(&path) else {
                    continue;
                };
                let look = Look {
                    len: meta.len(),
                    modified: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                };
                let settled = self.seen.get(&path) == Some(&look)
                    && look.modified.elapsed().is_ok_and(|age| age >= SETTLE);
                if !settled {
                    still.insert(path, look);
                    continue;
                }
                let dropped = Dropped {
                    slug: &slug,
                    path: &path,
                    name: &name,
                    stamped: stamped(clock, &name),
                };
                match self.one(store, clock, &dropped, look) {
                    Ok(true) => {}
                    // Another process has it, or it changed: look again later.
                    Ok(false) => {
                        still.insert(path, look);
                    }
                    Err(e) => {
                        tracing::warn!(org = %slug, file = name, reason = %e, "drop folder import postponed");
                        still.insert(path, look);
                    }
                }
            }
        }
        self.seen = still;
    }

    /// Imports (or files as refused) one finished file under its lock;
    /// false when another process holds it or it is no longer the file that
    /// settled.
    fn one(
        &self,
        store: &Store,
        clock: &Clock,
        dropped: &Dropped,
        look: Look,
    ) -> Result<bool, crate::store::Error> {
        // Never through a link: the SFTP user may make one, pointing at any
        // file Seatgate can read, whose contents would come back in the
        // results. Non-blocking, so that a FIFO cannot hold the watcher.
        let file = match fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .open(dropped.path)
        {
            Ok(file) => file,
            Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
                self.failed(dropped, NOT_A_FILE);
                return Ok(true);
            }
            // Gone: another process imported it.
            Err(_) => return Ok(false),
        };
        let Ok(meta) = file.metadata() else {
            return Ok(false);
        };
        if !meta.is_file() {
            self.failed(dropped, NOT_A_FILE);
            return Ok(true);
        }
        if meta.len() != look.len || meta.modified().ok() != Some(look.modified) {
            return Ok(false);
        }
        let mut conn = store.connection()?;
        let Some(claim) = Claim::take(&mut conn, dropped.path, &file)? else {
            return Ok(false);
        };
        // Still in place? Another process may have imported and moved it
        // between our listing and our lock.
        let in_place = fs::symlink_metadata(dropped.path)
            .is_ok_and(|now| now.ino() == meta.ino() && now.dev() == meta.dev());
        let imported = in_place.then(|| self.import(&mut conn, clock, dropped, &file, look));
        claim.release(&mut conn, &file)?;
        imported.transpose().map(|done| done.is_some())
    }

    fn import(
        &self,
        conn: &mut DbConn,
        clock: &Clock,
        dropped: &Dropped,
        file: &File,
        look: Look,
    ) -> Result<(), crate::store::Error> {
        let Dropped {
            slug,
            path,
            name,
            ref stamped,
        } = *dropped;
        if look.len > format::MAX_BYTES {
            self.failed(dropped, &format::FileError::TooLarge.to_string());
            return Ok(());
        }
        let org = match orgs::find(conn, slug.as_str()) {
            Ok(org) => org,
            Err(orgs::Error::Store(e)) => return Err(e),
            Err(_) => {
                self.failed(dropped, &format!("no organization {slug}"));
                return Ok(());
            }
        };
        let processed = self.root.join(slug.as_str()).join("processed");
        let result_path = processed.join(format!("{stamped}.result.csv"));
        let written = fs::create_dir_all(&processed)
            .and_then(|()| File::create(&result_path))
            .map(|f| FileReport {
                results: format::ResultWriter::new(std::io::BufWriter::new(f)),
                rows: 0,
            });
        let mut report = match written {
            Ok(results) => results,
            Err(e) => {
                tracing::error!(path = %result_path.display(), reason = %e, "drop folder results cannot be written");
                return Err(crate::store::Error::WorkerGone);
            }
        };
        let request = Request {
            import: ImportId::generate(),
            clock,
            actor: &Actor::System,
            org: &org,
            source: Source::DropFolder,
            file_name: name,
            dry_run: false,
        };
        let ran = super::run(conn, &request, file, &mut report);
        let rows = report.rows;
        let flushed = report.results.finish().and_then(|mut w| w.flush());
        match ran {
            Ok(summary) => {
                let moved_to = processed.join(stamped);
                move_file(path, &moved_to);
                tracing::info!(org = %slug, file = name, rows = summary.counts.rows(), outcome = summary.counts.summary(), "drop folder file imported");
                if let Err(e) = flushed {
                    tracing::error!(path = %result_path.display(), reason = %e, "drop folder results incomplete");
                }
                Ok(())
            }
            Err(super::Error::Store(e)) => {
                let _ = fs::remove_file(&result_path);
                Err(e)
            }
            Err(e) => {
                let moved_to = self.failed(dropped, &e.to_string());
                if rows > 0 {
                    // The rows before a fault deep in the file were
                    // applied: their results go with it.
                    let _ = fs::rename(
                        &result_path,
                        moved_to.with_file_name(format!("{stamped}.result.csv")),
                    );
                } else {
                    let _ = fs::remove_file(&result_path);
                }
                Ok(())
            }
        }
    }

    /// Moves a refused file to `failed/`, the reason beside it; where it went.
    fn failed(&self, dropped: &Dropped, reason: &str) -> PathBuf {
        let Dropped {
            slug,
            path,
            name,
            ref stamped,
        } = *dropped;
        let failed = self.root.join(slug.as_str()).join("failed");
        let moved_to = failed.join(stamped);
        let reason_file = failed.join(format!("{stamped}.reason.txt"));
        if let Err(e) = fs::create_dir_all(&failed)
            .and_then(|()| fs::write(&reason_file, format!("{reason}\n")))
        {
            tracing::error!(path = %reason_file.display(), reason = %e, "drop folder reason cannot be written");
        }
        move_file(path, &moved_to);
        tracing::warn!(org = %slug, file = name, reason, "drop folder file refused");
        moved_to
    }
}

/// The results file, and how many rows went into it.
struct FileReport {
    results: format::ResultWriter<std::io::BufWriter<File>>,
    rows: u64,
}

impl super::Report for FileReport {
    fn columns(&mut self, columns: &[format::Column]) -> std::io::Result<()> {
        self.results.header(columns)
    }

    fn row(&mut self, row: &super::RowResult) -> std::io::Result<()> {
        self.rows += 1;
        super::Report::row(&mut self.results, row)
    }
}

/// `20261204T180000Z-people.csv`: names in `processed/` and `failed/` sort
/// by time, and a nightly file of the same name never replaces yesterday's.
fn stamped(clock: &Clock, name: &str) -> String {
    format!("{}-{name}", clock.now().format("%Y%m%dT%H%M%S%.3fZ"))
}

fn move_file(from: &Path, to: &Path) {
    if let Err(e) = fs::rename(from, to) {
        tracing::error!(from = %from.display(), to = %to.display(), reason = %e, "drop folder file cannot be moved");
    }
}

const NOT_A_FILE: &str = "not a regular file (links are not followed)";

/// The right to import one file, held while importing.
enum Claim {
    /// A session advisory lock on the connection that imports.
    Postgres(i64),
    /// An exclusive lock on the open file itself.
    Sqlite,
}

impl Claim {
    fn take(
        conn: &mut DbConn,
        path: &Path,
        file: &File,
    ) -> Result<Option<Self>, crate::store::Error> {
        match conn {
            DbConn::Postgres(pg) => {
                let digest = Sha256::digest(format!("seatgate-drop:{}", path.display()));
                let key = i64::from_be_bytes(digest[..8].try_into().expect("eight bytes"));
                let taken: Locked = diesel::sql_query("SELECT pg_try_advisory_lock($1) AS locked")
                    .bind::<diesel::sql_types::BigInt, _>(key)
                    .get_result(pg)?;
                Ok(taken.locked.then_some(Self::Postgres(key)))
            }
            DbConn::Sqlite(_) => Ok(file.try_lock().is_ok().then_some(Self::Sqlite)),
        }
    }

    fn release(self, conn: &mut DbConn, file: &File) -> Result<(), crate::store::Error> {
        match (self, conn) {
            (Self::Postgres(key), DbConn::Postgres(pg)) => {
                diesel::sql_query("SELECT pg_advisory_unlock($1)")
                    .bind::<diesel::sql_types::BigInt, _>(key)
                    .execute(pg)?;
            }
            (Self::Sqlite, _) => {
                // Closing it would release the lock too; an error here only
                // means it is released already.
                let _ = file.unlock();
            }
            (Self::Postgres(_), DbConn::Sqlite(_)) => {}
        }
        Ok(())
    }
}

#[derive(diesel::QueryableByName)]
struct Locked {
    #[diesel(sql_type = diesel::sql_types::Bool)]
    locked: bool,
}

/// Watches the drop folders every `poll`, on a thread of its own, for as
/// long as the process runs.
pub fn watch(store: Store, clock: Clock, imports_dir: PathBuf, poll: Duration) {
    let spawned = std::thread::Builder::new()
        .name("drop-folders".to_owned())
        .spawn(move || {
            tracing::info!(imports_dir = %imports_dir.display(), "watching the drop folders");
            let mut folders = DropFolders::new(&imports_dir);
            loop {
                folders.scan(&store, &clock);
                std::thread::sleep(poll);
            }
        });
    if let Err(e) = spawned {
        tracing::error!(reason = %e, "the drop folder watcher could not start");
    }
}
