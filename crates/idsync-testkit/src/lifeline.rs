//! Children that die with the test process, even when it is killed (SIGKILL, a crash, a CI
//! timeout) and no `Drop` runs.
//!
//! Each child gets `PR_SET_PDEATHSIG(SIGKILL)` between `fork` and `exec`. Linux sends that
//! signal when the *thread* that forked the child ends, not the process, and test threads end
//! while what they started may live on (a server handed to another thread, started from a
//! blocking pool, kept in a static). So long-lived children are spawned by one dedicated
//! thread that lives as long as the process ([`spawn`]); a child that the calling thread waits
//! for anyway may be tied to that thread ([`tie_to_this_thread`]).
//!
//! The signal is cleared when the child changes its effective or filesystem user or group id,
//! or executes a set-user-id binary: servers must not switch users themselves (no
//! `--user=mysql`, no `nsslapd-localuser` switch); the kit starts them as their service user
//! with [`std::os::unix::process::CommandExt::uid`] instead: std switches users in the child
//! before it runs the `pre_exec` hook that sets the signal. `tests/die_with_test.rs` checks
//! every server this way: it SIGKILLs a test process and expects the server gone.

use std::io;
use std::os::unix::process::CommandExt as _;
use std::process::{Child, Command};
use std::sync::mpsc::{self, Sender, SyncSender};
use std::sync::OnceLock;

use nix::sys::signal::Signal;
use nix::unistd::{getppid, Pid};

/// What the spawner thread is asked to do: spawn `command`, send the result back.
struct Request {
    command: Command,
    reply: SyncSender<io::Result<Child>>,
}

/// The queue of the spawner thread, started on first use; the thread never ends (its queue is
/// never closed), so the children it forks live until the process ends. None when the thread
/// could not be started.
fn spawner() -> Option<&'static Sender<Request>> {
    static SPAWNER: OnceLock<Option<Sender<Request>>> = OnceLock::new();
    SPAWNER
        .get_or_init(|| {
            let (sender, receiver) = mpsc::channel::<Request>();
            std::thread::Builder::new()
                .name("idsync-testkit-spawner".to_owned())
                .spawn(move || {
                    while let Ok(Request { mut command, reply }) = receiver.recv() {
                        tie_to_this_thread(&mut command);
                        // The caller may have given up waiting; then the child is dropped
                        // (not killed) and dies with the process at the latest.
                        drop(reply.send(command.spawn()));
                    }
                })
                .ok()
                .map(|_| sender)
        })
        .as_ref()
}

/// Spawns `command` from the kit's long-lived spawner thread, so the child is killed
/// (SIGKILL) when this process ends, however it ends.
pub(crate) fn spawn(command: Command) -> io::Result<Child> {
    let (reply, answer) = mpsc::sync_channel(1);
    let gone = || io::Error::other("the idsync-testkit spawner thread is gone");
    spawner()
        .ok_or_else(|| io::Error::other("cannot start the idsync-testkit spawner thread"))?
        .send(Request { command, reply })
        .map_err(|_| gone())?;
    answer.recv().map_err(|_| gone())?
}

/// Makes the child of `command` get SIGKILL when the thread that spawns it ends. Use it only
/// for children that the spawning thread waits for; see [`spawn`] for the others.
pub(crate) fn tie_to_this_thread(command: &mut Command) {
    let parent = Pid::from_raw(i32::try_from(std::process::id()).unwrap_or(i32::MAX));
    let hook = move || die_with_parent(parent);
    // SAFETY: `pre_exec` runs `hook` in the forked child before `exec`; the hook only calls
    // `prctl(2)` and `getppid(2)`, which are async-signal-safe system calls, allocates
    // nothing, takes no lock and touches no state shared with other threads of the parent.
    #[allow(unsafe_code)]
    unsafe {
        command.pre_exec(hook);
    }
}

/// In the child: asks for SIGKILL when the parent thread ends, then fails the spawn if the
/// parent ended already (between `fork` and `prctl` the signal could not yet be delivered).
fn die_with_parent(parent: Pid) -> io::Result<()> {
    nix::sys::prctl::set_pdeathsig(Signal::SIGKILL).map_err(io::Error::from)?;
    if getppid() == parent {
        Ok(())
    } else {
        Err(io::Error::other(
            "the parent ended before the child started",
        ))
    }
}
