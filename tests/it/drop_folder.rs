//! The SFTP drop folder end to end: a real OpenSSH server on 127.0.0.1,
//! configured as docs/sftp.md says (internal-sftp, chrooted to the
//! organization's folder, keys only), the real `sftp` client uploading, and
//! `seatgate serve` processes picking the files up. Missing OpenSSH fails
//! loudly: `scripts/setup --test` installs it.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use seatgate::licensing;

use crate::cli::{stderr, with_db};
use crate::common::{Backend, TestDb};
use crate::licensing::{Server, start_server_with};
use crate::on_both_databases;

const SSHD: &str = "/usr/sbin/sshd";
const SFTP: &str = "/usr/bin/sftp";
const SSH_KEYGEN: &str = "/usr/bin/ssh-keygen";

/// An sshd of the test's own, killed when dropped.
struct Sshd {
    child: Child,
    port: u16,
    key: PathBuf,
    /// sshd's own log, to show when sftp fails.
    log: PathBuf,
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn run(command: &mut Command) {
    let output = command.output().expect("run");
    assert!(output.status.success(), "{command:?}: {}", stderr(&output));
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}

impl Sshd {
    /// Serves SFTP only, for `root` (the tests' user) chrooted to `chroot`,
    /// starting in `incoming/`, with a fresh key pair; as docs/sftp.md's
    /// `Match User` block, minus the per-organization system user.
    async fn start(dir: &Path, chroot: &Path) -> Self {
        for binary in [SSHD, SFTP, SSH_KEYGEN] {
            assert!(
                Path::new(binary).exists(),
                "the drop folder test needs {binary}: install Debian's openssh-server and openssh-client (scripts/setup --test)"
            );
        }
        // ChrootDirectory needs root: sshd refuses it to anyone else.
        assert!(
            is_root(),
            "the drop folder test runs sshd with a chroot: run it as root"
        );
        // sshd's privilege separation folder, which its package makes at boot.
        std::fs::create_dir_all("/run/sshd").expect("/run/sshd");
        let host_key = dir.join("host_ed25519");
        let key = dir.join("client_ed25519");
        for path in [&host_key, &key] {
            run(Command::new(SSH_KEYGEN)
                .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                .arg(path));
        }
        let authorized = dir.join("authorized_keys");
        std::fs::copy(key.with_extension("pub"), &authorized).expect("authorized_keys");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let config = dir.join("sshd_config");
        std::fs::write(
            &config,
            format!(
                "Port {port}\nListenAddress 127.0.0.1\nHostKey {host}\nPidFile {dir}/sshd.pid\n\
                 AuthorizedKeysFile {authorized}\nPasswordAuthentication no\nKbdInteractiveAuthentication no\n\
                 PubkeyAuthentication yes\nPermitRootLogin prohibit-password\nUsePAM no\n\
                 StrictModes no\nSubsystem sftp internal-sftp\n\
                 Match User root\n  ChrootDirectory {chroot}\n  ForceCommand internal-sftp -d /incoming\n\
                 \x20 AllowTcpForwarding no\n  X11Forwarding no\n",
                host = host_key.display(),
                dir = dir.display(),
                authorized = authorized.display(),
                chroot = chroot.display(),
            ),
        )
        .expect("sshd_config");
        // -D: stay in the foreground as our child; -E: log to this file.
        let log = dir.join("sshd.log");
        let child = Command::new(SSHD)
            .args(["-D", "-E"])
            .arg(&log)
            .arg("-f")
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start sshd");
        let sshd = Sshd {
            child,
            port,
            key,
            log,
        };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return sshd;
            }
            actix_rt::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("sshd did not listen on {port}");
    }

    /// Runs `sftp` with these batch commands, as an HR system's job would.
    fn sftp(&self, dir: &Path, commands: &str) -> String {
        let batch = dir.join("batch");
        std::fs::write(&batch, commands).expect("batch file");
        let output = Command::new(SFTP)
            .current_dir(dir)
            .arg("-i")
            .arg(&self.key)
            .args(["-P", &self.port.to_string()])
            .args([
                "-o",
                "StrictHostKeyChecking=no",
                "-o",
                "UserKnownHostsFile=/dev/null",
            ])
            .args(["-o", "BatchMode=yes", "-b"])
            .arg(&batch)
            .arg("root@127.0.0.1")
            .output()
            .expect("run sftp");
        assert!(
            output.status.success(),
            "sftp: {}\nsshd: {}",
            stderr(&output),
            std::fs::read_to_string(&self.log).unwrap_or_default()
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

/// The names in a folder, sorted.
fn names(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .map(|d| {
            d.filter_map(Result::ok)
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    names.sort();
    names
}

/// Waits until `dir` holds `count` names; panics after a minute.
async fn until_holds(dir: &Path, count: usize) -> Vec<String> {
    for _ in 0..600 {
        let found = names(dir);
        if found.len() >= count {
            return found;
        }
        actix_rt::time::sleep(Duration::from_millis(100)).await;
    }
    panic!(
        "{} never held {count} files: {:?}",
        dir.display(),
        names(dir)
    );
}

/// Acme with `seats` Learning seats, and the drop folders' root: under
/// `/run`, because sshd refuses a chroot below a folder others may write to,
/// as `/tmp` (and a checkout may be anywhere, `/tmp` included).
fn acme_with_drop_folder(db: &TestDb, seats: &str) -> tempfile::TempDir {
    for args in [
        &["org", "create", "acme", "--name", "Acme"][..],
        &[
            "license", "set", "acme", "--type", "Learning", "--seats", seats,
        ],
    ] {
        let output = with_db(db, args);
        assert!(output.status.success(), "{args:?}: {}", stderr(&output));
    }
    let parent = Path::new("/run/seatgate-tests");
    std::fs::create_dir_all(parent).expect("/run/seatgate-tests");
    let root = tempfile::tempdir_in(parent).expect("imports_dir");
    std::fs::create_dir_all(root.path().join("imports/acme/incoming")).expect("incoming");
    root
}

async fn serve(db: &TestDb, imports_dir: &Path) -> Server {
    start_server_with(
        db,
        "http://seatgate.test",
        &[
            (
                "SEATGATE_IMPORTS_DIR",
                imports_dir.to_str().expect("UTF-8 path"),
            ),
            ("SEATGATE_IMPORTS_POLL_SECONDS", "1"),
        ],
    )
    .await
}

fn seats_used(db: &TestDb) -> u32 {
    let store = seatgate::store::Store::connect(&db.url).expect("store");
    let mut conn = store.connection().expect("connection");
    let org = seatgate::orgs::find(&mut conn, "acme").expect("acme");
    licensing::pools(&mut conn, org.id).expect("pools")[0].assigned
}

async fn files_uploaded_over_sftp_are_imported_and_filed(backend: Backend) {
    let db = TestDb::fresh(backend);
    let imports_dir = acme_with_drop_folder(&db, "2");
    let acme = imports_dir.path().join("imports/acme");
    let local = tempfile::tempdir().expect("the HR system's folder");
    std::fs::write(
        local.path().join("nightly.csv"),
        "email;first_name;license_type\r\nada@acme.example;Ada;Learning\r\nbob@acme.example;Bob;Learning\r\ncy@acme.example;Cy;Learning\r\nnot-an-email;Dee;Learning\r\n",
    )
    .expect("nightly.csv");
    std::fs::write(
        local.path().join("leavers.csv"),
        "email,action\nada@acme.example,revoke\n",
    )
    .expect("leavers.csv");
    std::fs::write(
        local.path().join("photo.csv"),
        b"\x89PNG\r\n\x1a\n\0\0\0\rIHDR",
    )
    .expect("photo");

    let sshd = Sshd::start(imports_dir.path(), &acme).await;
    let _server = serve(&db, imports_dir.path()).await;

    // Written in place: picked up once its size has settled.
    sshd.sftp(local.path(), "put nightly.csv\nput photo.csv\n");
    let processed = until_holds(&acme.join("processed"), 2).await;
    assert_eq!(processed.len(), 2, "{processed:?}");
    assert!(processed[0].ends_with("-nightly.csv"), "{processed:?}");
    assert_eq!(processed[1], format!("{}.result.csv", processed[0]));
    let result =
        std::fs::read_to_string(acme.join("processed").join(&processed[1])).expect("result");
    let lines: Vec<&str> = result.lines().collect();
    assert_eq!(lines[0], "row,email,first_name,license_type,outcome,reason");
    assert!(
        lines[1].starts_with("2,ada@acme.example,Ada,Learning,create,"),
        "{result}"
    );
    assert!(
        lines[3].starts_with("4,cy@acme.example,Cy,Learning,no seat free,"),
        "{result}"
    );
    assert!(
        lines[4].starts_with("5,not-an-email,Dee,Learning,error,"),
        "{result}"
    );
    assert_eq!(seats_used(&db), 2);

    let failed = until_holds(&acme.join("failed"), 2).await;
    assert!(failed[0].ends_with("-photo.csv"), "{failed:?}");
    assert_eq!(failed[1], format!("{}.reason.txt", failed[0]));
    assert_eq!(
        std::fs::read_to_string(acme.join("failed").join(&failed[1])).expect("reason"),
        "this is not a CSV text file (it holds binary data)\n"
    );

    // A link to a file only Seatgate may read would bring its contents back
    // in the results: refused unread.
    sshd.sftp(local.path(), "ln -s /etc/shadow shadow.csv\n");
    let failed = until_holds(&acme.join("failed"), 4).await;
    let link = failed
        .iter()
        .find(|n| n.ends_with("-shadow.csv"))
        .expect("the link, filed");
    assert!(acme.join("failed").join(link).is_symlink());
    assert_eq!(
        std::fs::read_to_string(acme.join("failed").join(format!("{link}.reason.txt")))
            .expect("reason"),
        "not a regular file (links are not followed)\n"
    );

    // Uploaded as .part and renamed when complete, as many SFTP clients do:
    // never read while partial.
    sshd.sftp(
        local.path(),
        "put leavers.csv leavers.csv.part\nrename leavers.csv.part leavers.csv\n",
    );
    let processed = until_holds(&acme.join("processed"), 4).await;
    assert!(
        processed
            .iter()
            .any(|n| n.ends_with("-leavers.csv.result.csv")),
        "{processed:?}"
    );
    let leavers = processed
        .iter()
        .find(|n| n.ends_with("-leavers.csv.result.csv"))
        .expect("results");
    let result = std::fs::read_to_string(acme.join("processed").join(leavers)).expect("result");
    assert!(
        result.contains("\n2,ada@acme.example,revoke,revoke,"),
        "{result}"
    );
    assert_eq!(
        seats_used(&db),
        2,
        "Ada's seat went to Cy, who was waiting for one"
    );
    assert!(names(&acme.join("incoming")).is_empty());

    // The HR system fetches its results the same way.
    let listing = sshd.sftp(local.path(), "ls -1 /processed\n");
    assert!(listing.contains("-nightly.csv.result.csv"), "{listing}");
}

async fn two_processes_import_each_file_once(backend: Backend) {
    let db = TestDb::fresh(backend);
    let imports_dir = acme_with_drop_folder(&db, "300");
    let acme = imports_dir.path().join("imports/acme");
    let _first = serve(&db, imports_dir.path()).await;
    let _second = serve(&db, imports_dir.path()).await;
    // Renamed into place, as an upload finished: both processes see each.
    for n in 0..6 {
        let part = acme.join(format!("incoming/batch{n}.csv.part"));
        let rows: String = (0..50)
            .map(|i| format!("b{n}-{i}@acme.example,Learning\n"))
            .collect();
        std::fs::write(&part, format!("email,license_type\n{rows}")).expect("write");
        std::fs::rename(&part, part.with_extension("")).expect("rename");
    }
    let processed = until_holds(&acme.join("processed"), 12).await;
    assert_eq!(
        processed.len(),
        12,
        "each file and its result, once: {processed:?}"
    );
    assert!(names(&acme.join("failed")).is_empty());
    let store = seatgate::store::Store::connect(&db.url).expect("store");
    let mut conn = store.connection().expect("connection");
    let org = seatgate::orgs::find(&mut conn, "acme").expect("acme");
    let records = seatgate::imports::recent(&mut conn, &org, 100).expect("imports");
    assert_eq!(records.len(), 6, "one import per file");
    for record in &records {
        assert_eq!(record.counts.summary(), "create 50", "{record:?}");
    }
    assert_eq!(seats_used(&db), 300);
}

on_both_databases!(
    files_uploaded_over_sftp_are_imported_and_filed,
    two_processes_import_each_file_once,
);
