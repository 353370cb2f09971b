//! Servers die with the test process that started them, however it dies.
//!
//! Each test re-runs this test binary as a *victim* (`IDSYNC_TESTKIT_VICTIM=SERVER`, the same
//! test by `--exact` name): the victim starts the server from a thread that ends at once (as
//! a test thread would), checks the server outlived that thread, prints the server's pid and
//! instance directory, and sleeps. The test then SIGKILLs the victim, so no `Drop` runs, and
//! checks that the server and every process it had forked are gone within a second. Finally
//! it starts the same kind of server itself: that start must remove the victim's instance
//! directory (and, for PostgreSQL, free the shared memory segment the killed postmaster left).
#![allow(clippy::unwrap_used, clippy::expect_used, missing_docs)]

use std::any::Any;
use std::io::{BufRead as _, BufReader, Read as _};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use idsync_testkit::ds389::{Ds389, Ds389Options};
use idsync_testkit::mariadb::MariaDb;
use idsync_testkit::postgres::Postgres;
use idsync_testkit::servers::missing_server;
use idsync_testkit::slapd::{Slapd, SlapdOptions};
use nix::sys::signal::{kill, Signal};
use nix::unistd::Pid;

/// The variable that makes a run of this binary the victim, naming the server.
const VICTIM: &str = "IDSYNC_TESTKIT_VICTIM";
/// How long the victim may take to start its server (a first run builds golden templates).
const START_TIMEOUT: Duration = Duration::from_secs(240);
/// How long the server's processes may outlive the killed victim.
const DEATH_TIMEOUT: Duration = Duration::from_secs(1);

/// A running server of any kind, its pid and its instance directory.
struct Started {
    server: Box<dyn Any + Send>,
    pid: u32,
    dir: PathBuf,
}

/// Starts a server of kind `kind`; `Err` (why) when it is not available here.
fn start(kind: &str) -> Result<Started, String> {
    Ok(match kind {
        "postgres" => {
            Postgres::available()?;
            let server = Postgres::start().unwrap();
            Started {
                pid: server.pid(),
                dir: server.dir().to_path_buf(),
                server: Box::new(server),
            }
        }
        "mariadb" => {
            MariaDb::available()?;
            let server = MariaDb::start().unwrap();
            Started {
                pid: server.pid(),
                dir: server.dir().to_path_buf(),
                server: Box::new(server),
            }
        }
        "slapd" => {
            Slapd::available()?;
            let server = Slapd::start(SlapdOptions::default()).unwrap();
            Started {
                pid: server.pid().unwrap(),
                dir: server.dir().to_path_buf(),
                server: Box::new(server),
            }
        }
        "ds389" => {
            Ds389::available()?;
            let server = Ds389::start(Ds389Options::default()).unwrap();
            Started {
                pid: server.pid().unwrap(),
                dir: server.dir().to_path_buf(),
                server: Box::new(server),
            }
        }
        other => panic!("unknown server kind {other}"),
    })
}

/// True while `pid` runs (exists and is not a zombie).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/status")).is_ok_and(|status| {
        !status
            .lines()
            .any(|line| line.starts_with("State:") && line.contains('Z'))
    })
}

/// `pid` and every process below it (by parent pid), from `/proc`.
fn family(pid: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(Result::ok)
        .filter_map(|entry| {
            let child: u32 = entry.file_name().to_str()?.parse().ok()?;
            let stat = std::fs::read_to_string(entry.path().join("stat")).ok()?;
            let (_, rest) = stat.rsplit_once(')')?;
            let parent = rest.split_whitespace().nth(1)?.parse().ok()?;
            Some((child, parent))
        })
        .collect();
    let mut members = vec![pid];
    let mut index = 0;
    while let Some(&member) = members.get(index) {
        members.extend(
            parents
                .iter()
                .filter(|(_, parent)| *parent == member)
                .map(|(child, _)| *child),
        );
        index += 1;
    }
    members
}

/// The victim's part: start the server from a short-lived thread, report, wait until killed.
fn be_the_victim(kind: &str) -> ! {
    let owned = kind.to_owned();
    let started = std::thread::spawn(move || start(&owned))
        .join()
        .unwrap()
        .unwrap();
    // The starting thread has ended: a parent-death signal tied to it would have fired.
    std::thread::sleep(Duration::from_millis(500));
    if alive(started.pid) {
        // After a newline: libtest printed `test NAME ... ` without one.
        println!("\nREADY {} {}", started.pid, started.dir.display());
    } else {
        println!("\nDIED {}", started.pid);
    }
    // Until killed; should the test end first (a failed assertion), its end of the pipe
    // closes and the victim stops its server and exits.
    drop(std::io::stdin().read_to_end(&mut Vec::new()));
    drop(started.server);
    std::process::exit(0);
}

/// The test: run `test` of this binary as the victim for `kind`, kill it, check the server
/// died and its directory is removed by the next start.
fn server_dies_with_the_test_process(kind: &str, test: &str) {
    if std::env::var(VICTIM).is_ok_and(|victim| victim == kind) {
        be_the_victim(kind);
    }
    let available = match kind {
        "postgres" => Postgres::available(),
        "mariadb" => MariaDb::available(),
        "slapd" => Slapd::available(),
        _ => Ds389::available(),
    };
    if let Err(why) = available {
        missing_server(kind, &why);
        return;
    }

    let mut victim = Command::new(std::env::current_exe().unwrap())
        .args([test, "--exact", "--nocapture", "--test-threads=1"])
        .env(VICTIM, kind)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let stdout = victim.stdout.take().unwrap();
    let (lines, reports) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    let deadline = Instant::now() + START_TIMEOUT;
    let report = loop {
        let left = deadline.saturating_duration_since(Instant::now());
        match reports.recv_timeout(left) {
            Ok(line) if line.starts_with("READY ") || line.starts_with("DIED ") => break line,
            Ok(_) => {}
            Err(error) => {
                drop(victim.kill());
                drop(victim.wait());
                panic!("the victim did not report its {kind} server: {error}");
            }
        }
    };
    let mut words = report.split_whitespace().skip(1);
    let pid: u32 = words.next().unwrap().parse().unwrap();
    if report.starts_with("DIED ") {
        drop(victim.kill());
        drop(victim.wait());
        panic!("{kind} (pid {pid}) died when the thread that started it ended");
    }
    let dir = PathBuf::from(words.collect::<Vec<_>>().join(" "));
    let processes = family(pid);
    assert!(processes.iter().all(|&member| alive(member)));
    eprintln!(
        "{kind}: server pid {pid} with {} processes, dir {}",
        processes.len(),
        dir.display()
    );

    let segment = (kind == "postgres").then(|| postgres_segment(&dir));

    kill(
        Pid::from_raw(i32::try_from(victim.id()).unwrap()),
        Signal::SIGKILL,
    )
    .unwrap();
    victim.wait().unwrap();
    let killed = Instant::now();
    while processes.iter().any(|&member| alive(member)) && killed.elapsed() < DEATH_TIMEOUT * 10 {
        std::thread::sleep(Duration::from_millis(10));
    }
    let survivors: Vec<u32> = processes
        .iter()
        .copied()
        .filter(|&member| alive(member))
        .collect();
    let took = killed.elapsed();
    eprintln!("{kind}: all processes gone {took:?} after the victim was killed");
    assert!(
        survivors.is_empty(),
        "{kind}: processes {survivors:?} outlived the killed test process"
    );
    assert!(
        took <= DEATH_TIMEOUT,
        "{kind}: its processes took {took:?} to die"
    );

    // Left behind (unless a concurrent start already removed it).
    eprintln!("{kind}: victim's dir still there: {}", dir.exists());
    let next = start(kind).unwrap();
    assert!(
        !Path::new(&dir).exists(),
        "{kind}: the next start left the killed process's {} behind",
        dir.display()
    );
    assert_ne!(next.dir, dir);
    if let Some((key, id)) = segment {
        assert!(
            !shared_memory_ids().contains(&(key.clone(), id.clone())),
            "the killed postgres's shared memory segment {key}/{id} was not freed"
        );
    }
    drop(next.server);
}

/// The System V shared memory key and id of the postgres in `dir` (`postmaster.pid` line 7).
fn postgres_segment(dir: &Path) -> (String, String) {
    let pid_file = std::fs::read_to_string(dir.join("data/postmaster.pid")).unwrap();
    let mut words = pid_file.lines().nth(6).unwrap().split_whitespace();
    let segment = (
        words.next().unwrap().to_owned(),
        words.next().unwrap().to_owned(),
    );
    assert!(shared_memory_ids().contains(&segment));
    segment
}

/// The (key, id) of every System V shared memory segment.
fn shared_memory_ids() -> Vec<(String, String)> {
    std::fs::read_to_string("/proc/sysvipc/shm")
        .unwrap()
        .lines()
        .skip(1)
        .filter_map(|row| {
            let mut columns = row.split_whitespace();
            Some((columns.next()?.to_owned(), columns.next()?.to_owned()))
        })
        .collect()
}

#[test]
fn postgres_dies_with_the_test_process() {
    server_dies_with_the_test_process("postgres", "postgres_dies_with_the_test_process");
}

#[test]
fn mariadb_dies_with_the_test_process() {
    server_dies_with_the_test_process("mariadb", "mariadb_dies_with_the_test_process");
}

#[test]
fn slapd_dies_with_the_test_process() {
    server_dies_with_the_test_process("slapd", "slapd_dies_with_the_test_process");
}

#[test]
fn ds389_dies_with_the_test_process() {
    server_dies_with_the_test_process("ds389", "ds389_dies_with_the_test_process");
}
