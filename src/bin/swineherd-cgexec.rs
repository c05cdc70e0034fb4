//! Run COMMAND in the cgroup CGROUP (relative, e.g. `swineherd/web`) from
//! its first instruction, under the containers' seccomp filter (see
//! `src/seccomp.rs`).  Shepherd spawns containers through it, so a
//! container's script — and everything it starts — runs in the container's
//! cgroup: no window in which a process could escape, as moving a PID after
//! the fact would leave.
//!
//! - cgroup v2: COMMAND is cloned straight into the cgroup
//!   (`clone3(CLONE_INTO_CGROUP)`), so its start waits for no migration;
//!   then swineherd-cgexec moves itself in too (off the script's path),
//!   waits for it and exits as it did, re-raising a fatal signal.  It
//!   blocks the signals Shepherd sends to the process group, which reach
//!   the script directly, so that it outlives the script.  On a kernel
//!   without `CLONE_INTO_CGROUP` (before 5.7) it falls back to the v1 way,
//!   and so it does when SWINEHERD_CGEXEC_MIGRATE is set (for
//!   bench/cgroup-start, which compares the two).
//! - cgroup v1: join the cgroup in every hierarchy, then exec COMMAND.
//!
//! Before it execs COMMAND, the process that becomes it confines itself
//! (issue #18, see [`confine`]): with `--ids=BASE:COUNT` it enters a user
//! namespace of its own mapping 0..COUNT to host ids BASE.. and becomes
//! root there (`src/userns.rs`); unless `--keep-caps`, it drops the
//! dangerous capabilities from its bounding set (`src/caps.rs`); it
//! installs the seccomp filter, without its deny list of system calls
//! with `--syscalls=all`.
//!
//! With `--log=FILE`, COMMAND's standard output and error go to a logger
//! process forked here, in the cgroup, which appends them to FILE and
//! rotates it at BYTES, keeping `--log-keep` generations (see
//! `src/console.rs`): Shepherd never reads a
//! container's console.

use std::ffi::CString;
use std::fs::File;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{exit, Command};

use nix::sys::signal::{raise, sigprocmask, SigSet, SigmaskHow, Signal};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{self, Gid, Pid, Uid};
use swineherd::cgroup::{self, Manager};
use swineherd::console::{self, RotatingLog};
use swineherd::exec::fork_into_cgroup;
use swineherd::userns::IdRange;

fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("swineherd-cgexec: {message}");
    exit(127)
}

const USAGE: &str =
    "usage: swineherd-cgexec [--log=FILE --log-size=BYTES --log-keep=N] [--ids=BASE:COUNT] [--keep-caps] \
[--syscalls=all] CGROUP -- COMMAND [ARG...]";

/// What the command line says.
struct Options {
    log: LogSpec,
    confinement: Confinement,
    cgroup: String,
    command: Vec<String>,
}

/// How the process that becomes COMMAND confines itself.
struct Confinement {
    /// The host ids of its user namespace; `None` for the host's own.
    ids: Option<IdRange>,
    /// Whether to keep the whole capability bounding set.
    keep_caps: bool,
    /// The seccomp filter.
    filter: Vec<libc::sock_filter>,
}

/// The console of a container: the read end of the pipe that is now our
/// standard output and error, and the log it goes to.
struct Console {
    read: OwnedFd,
    log: RotatingLog,
}

/// Make a new pipe our standard output and error, for LOG.
fn redirect_to(log: RotatingLog) -> Console {
    let (read, write) = swineherd::sys::pipe().unwrap_or_else(|err| fail(err));
    if let Err(err) = unistd::dup2_stdout(&write).and_then(|()| unistd::dup2_stderr(&write)) {
        fail(format!("dup2: {err}"));
    }
    Console { read, log }
}

/// Give the console's pipe (our standard output, now) to RANGE's root: the
/// container's processes may reopen it through /proc/PID/fd/1, as they
/// could when it was host root's.
fn give_console_to(range: IdRange) {
    let (uid, gid) = (Uid::from_raw(range.base), Gid::from_raw(range.base));
    if let Err(err) = unistd::fchown(std::io::stdout().as_fd(), Some(uid), Some(gid)) {
        fail(format!("give the console to uid {}: {err}", range.base));
    }
}

/// Start the logger: a child, in our cgroup, that copies the console's pipe
/// into its log until every writer has closed it.
fn start_logger(console: Console) {
    let Console { read, mut log } = console;
    // SAFETY: this program is single-threaded; the child only runs the copy.
    match unsafe { libc::fork() } {
        -1 => fail(format!("fork: {}", std::io::Error::last_os_error())),
        0 => {
            // Not a writer of its own pipe: standard output and error to
            // /dev/null, so that it sees the end when the command is gone.
            if let Ok(null) = File::options().write(true).open("/dev/null") {
                let _ = unistd::dup2_stdout(&null).and_then(|()| unistd::dup2_stderr(&null));
            }
            // Stopping the container signals its process group: outlive
            // that, to log its last words; EOF ends us, SIGKILL at cgroup
            // removal at the latest.
            for sig in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
                // SAFETY: ignoring a signal installs no handler.
                unsafe { libc::signal(sig, libc::SIG_IGN) };
            }
            let _ = console::copy(&mut File::from(read), &mut log);
            exit(0)
        }
        _ => drop(read),
    }
}

/// The console log: its file, its size limit, how many generations it keeps.
struct LogSpec {
    file: Option<String>,
    size: u64,
    keep: u32,
}

/// Parse the command line: the log file and its size, the confinement,
/// CGROUP and COMMAND.
fn parse(mut args: Vec<String>) -> Options {
    let mut log_file = None;
    let mut log_size: u64 = 16 << 20;
    let mut log_keep: u32 = 1;
    let (mut ids, mut keep_caps, mut all_syscalls) = (None, false, false);
    while let Some(arg) = args.first().cloned() {
        if let Some(file) = arg.strip_prefix("--log=") {
            log_file = Some(file.to_string());
        } else if let Some(size) = arg.strip_prefix("--log-size=") {
            log_size = size.parse().unwrap_or_else(|_| fail(format!("invalid --log-size {size:?}; {USAGE}")));
        } else if let Some(keep) = arg.strip_prefix("--log-keep=") {
            log_keep = keep.parse().unwrap_or_else(|_| fail(format!("invalid --log-keep {keep:?}; {USAGE}")));
        } else if let Some(range) = arg.strip_prefix("--ids=") {
            ids = Some(IdRange::parse(range).unwrap_or_else(|| fail(format!("invalid --ids {range:?}; {USAGE}"))));
        } else if arg == "--keep-caps" {
            keep_caps = true;
        } else if arg == "--syscalls=all" {
            all_syscalls = true;
        } else {
            break;
        }
        args.remove(0);
    }
    // No btrfs subvolumes inside: they would escape --disk-limit.
    let confinement = Confinement { ids, keep_caps, filter: swineherd::seccomp::relaxed_filter(all_syscalls) };
    match args.as_slice() {
        [cgroup, dashdash, command @ ..] if dashdash == "--" && !command.is_empty() => Options {
            log: LogSpec { file: log_file, size: log_size, keep: log_keep },
            confinement,
            cgroup: cgroup.clone(),
            command: command.to_vec(),
        },
        _ => fail(USAGE),
    }
}

/// Confine the calling process as C says, last thing before it execs the
/// container's script: its own user namespace and ids, the bounding set,
/// the seccomp filter (last: it could refuse the calls before it).
fn confine(c: &Confinement) {
    if let Some(range) = c.ids {
        swineherd::userns::enter(range).unwrap_or_else(|err| fail(err));
    }
    if !c.keep_caps {
        swineherd::caps::drop_bounding().unwrap_or_else(|err| fail(err));
    }
    if let Err(err) = swineherd::seccomp::install(&c.filter) {
        fail(err);
    }
}

fn main() {
    let Options { log, confinement, cgroup, command } = parse(std::env::args().skip(1).collect());
    let manager =
        cgroup::detect_here().and_then(|layout| Manager::new(&layout, &cgroup)).unwrap_or_else(|err| fail(err));
    let mut console = log.file.map(|file| {
        redirect_to(RotatingLog::open(Path::new(&file), log.size, log.keep).unwrap_or_else(|err| fail(err)))
    });
    if let (Some(_), Some(range)) = (&console, confinement.ids) {
        give_console_to(range);
    }
    // SWINEHERD_CGEXEC_MIGRATE=1 takes the v1 way on v2 too: for
    // bench/cgroup-start, which compares the two.
    if let (Some(dir), None) = (manager.unified_directory(), std::env::var_os("SWINEHERD_CGEXEC_MIGRATE")) {
        spawn_into(dir, &manager, &command, &confinement, &mut console);
    }
    join_and_exec(&manager, &command, &confinement, console)
}

/// Join the cgroup, start the logger, confine ourselves, then become
/// COMMAND.
fn join_and_exec(manager: &Manager, command: &[String], confinement: &Confinement, console: Option<Console>) -> ! {
    if let Err(err) = manager.join(std::process::id() as i32) {
        fail(err);
    }
    if let Some(console) = console {
        start_logger(console);
    }
    confine(confinement);
    let err = Command::new(&command[0]).args(&command[1..]).exec();
    fail(format!("cannot run {}: {err}", command[0]))
}

/// Clone COMMAND, confined, into the v2 cgroup DIR, join it, start the
/// logger of CONSOLE, wait for COMMAND and exit as it did.  Returns only
/// if the kernel has no `CLONE_INTO_CGROUP`.
fn spawn_into(
    dir: &Path,
    manager: &Manager,
    command: &[String],
    confinement: &Confinement,
    console: &mut Option<Console>,
) {
    let cgroup = File::open(dir).unwrap_or_else(|err| fail(format!("open cgroup {}: {err}", dir.display())));
    let argv: Vec<CString> =
        command.iter().map(|a| CString::new(a.as_str()).unwrap_or_else(|_| fail(format!("NUL in {a:?}")))).collect();
    let mut old = SigSet::empty();
    let _ = sigprocmask(SigmaskHow::SIG_BLOCK, Some(&SigSet::all()), Some(&mut old));
    // SAFETY: this program has a single thread: the child may do anything.
    let pid = unsafe { fork_into_cgroup(cgroup.as_fd()) };
    if pid == 0 {
        confine(confinement);
        let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&old), None);
        let err = unistd::execvp(&argv[0], &argv).unwrap_err();
        fail(format!("cannot run {}: {err}", command[0]));
    }
    if pid < 0 {
        let err = std::io::Error::last_os_error();
        let _ = sigprocmask(SigmaskHow::SIG_SETMASK, Some(&old), None);
        match err.raw_os_error() {
            Some(libc::ENOSYS) | Some(libc::E2BIG) | Some(libc::EINVAL) => return,
            _ => fail(format!("clone3 into cgroup {}: {err}", dir.display())),
        }
    }
    drop(cgroup);
    // Every process of the container in its cgroup, this one (and so the
    // logger) too.
    if let Err(err) = manager.join(std::process::id() as i32) {
        eprintln!("swineherd-cgexec: {err}");
    }
    if let Some(console) = console.take() {
        start_logger(console);
    }
    exit_as(wait(Pid::from_raw(pid as libc::pid_t)))
}

/// Reap PID and return how it ended.
fn wait(pid: Pid) -> WaitStatus {
    loop {
        match waitpid(pid, None) {
            Ok(status @ (WaitStatus::Exited(..) | WaitStatus::Signaled(..))) => return status,
            Ok(_) | Err(nix::errno::Errno::EINTR) => continue,
            Err(err) => fail(format!("wait for the command: {err}")),
        }
    }
}

/// Exit as the command did (STATUS): with its exit code, or its signal.
fn exit_as(status: WaitStatus) -> ! {
    match status {
        WaitStatus::Signaled(_, signal, _) => {
            // SAFETY: the default disposition installs no handler.
            let _ = unsafe { nix::sys::signal::signal(signal, nix::sys::signal::SigHandler::SigDfl) };
            let _ = SigSet::from(signal).thread_unblock();
            let _ = raise(signal);
            exit(128 + signal as i32)
        }
        WaitStatus::Exited(_, code) => exit(code),
        _ => exit(128 + Signal::SIGKILL as i32),
    }
}
