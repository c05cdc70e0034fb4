//! swineherd-cgexec [--log=FILE --log-size=BYTES] CGROUP -- COMMAND [ARG...]
//!
//! Join the cgroup CGROUP (relative, e.g. `swineherd/web`) in every
//! hierarchy, install the containers' seccomp filter (see
//! `src/seccomp.rs`), then exec COMMAND.  Shepherd spawns containers
//! through it, so a container's script — and everything it starts — runs in
//! the container's cgroup from its first instruction: no window in which a
//! process could escape, as moving a PID after the fact would leave.
//!
//! With `--log=FILE`, COMMAND's standard output and error go to a logger
//! process forked here, in the cgroup, which appends them to FILE and
//! rotates it at BYTES (see `src/console.rs`): Shepherd never reads a
//! container's console.

use std::fs::File;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{exit, Command};

use swineherd::cgroup::{self, Manager};
use swineherd::console::{self, RotatingLog};

fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("swineherd-cgexec: {message}");
    exit(127)
}

const USAGE: &str =
    "usage: swineherd-cgexec [--log=FILE --log-size=BYTES] CGROUP -- COMMAND [ARG...]";

/// Start the logger: a child that copies a new pipe into LOG until every
/// writer has closed it; make the pipe our standard output and error.
fn start_logger(mut log: RotatingLog) {
    let mut fds = [0; 2];
    // SAFETY: FDS has room for two descriptors.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } < 0 {
        fail(format!("pipe: {}", std::io::Error::last_os_error()));
    }
    // SAFETY: both descriptors were just made and are owned by nobody else.
    let (read, write) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    // SAFETY: this program is single-threaded; the child only runs the copy.
    match unsafe { libc::fork() } {
        -1 => fail(format!("fork: {}", std::io::Error::last_os_error())),
        0 => {
            drop(write);
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
        _ => {
            for target in [1, 2] {
                // SAFETY: WRITE is open; 1 and 2 are ours to replace.
                if unsafe { libc::dup2(write.as_raw_fd(), target) } < 0 {
                    fail(format!("dup2: {}", std::io::Error::last_os_error()));
                }
            }
        }
    }
}

fn main() {
    let mut args: Vec<String> = std::env::args().skip(1).collect();
    let mut log_file = None;
    let mut log_size: u64 = 16 << 20;
    while let Some(arg) = args.first().cloned() {
        if let Some(file) = arg.strip_prefix("--log=") {
            log_file = Some(file.to_string());
        } else if let Some(size) = arg.strip_prefix("--log-size=") {
            log_size = size
                .parse()
                .unwrap_or_else(|_| fail(format!("invalid --log-size {size:?}; {USAGE}")));
        } else {
            break;
        }
        args.remove(0);
    }
    let (cgroup, command) = match args.as_slice() {
        [cgroup, dashdash, command @ ..] if dashdash == "--" && !command.is_empty() => {
            (cgroup, command)
        }
        _ => fail(USAGE),
    };
    let manager = cgroup::detect_here()
        .and_then(|layout| Manager::new(&layout, cgroup))
        .unwrap_or_else(|err| fail(err));
    if let Err(err) = manager.join(std::process::id() as i32) {
        fail(err);
    }
    if let Some(file) = log_file {
        start_logger(RotatingLog::open(Path::new(&file), log_size).unwrap_or_else(|err| fail(err)));
    }
    // No btrfs subvolumes inside: they would escape --disk-limit.
    if let Err(err) = swineherd::seccomp::install(&swineherd::seccomp::container_filter()) {
        fail(err);
    }
    let err = Command::new(&command[0]).args(&command[1..]).exec();
    fail(format!("cannot run {}: {err}", command[0]))
}
