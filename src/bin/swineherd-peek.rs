//! swineherd-peek [--budget=BYTES] [--max-line=BYTES] INIT-PID FILE REGEX
//!
//! Print the last line of FILE, a file name inside the container whose init
//! has host PID INIT-PID, that matches REGEX (the `regex` crate's syntax),
//! followed by a newline.  FILE is resolved inside the container's root as
//! `swh_open_in_root` does (see `src/inroot.rs`).
//!
//! Exit status: 0 a line was found, 1 none matches, 3 BYTES were read
//! without finding one, 2 anything else (with a message on standard
//! error).  Shepherd runs it through `exec`'s relay, so that a scan, however
//! long, never runs on Shepherd's thread, and ends with its time limit or
//! its client.  It also stops when the container does.

use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::process::exit;

use swineherd::error::{Error, Result};
use swineherd::inroot;
use swineherd::peek::{self, Limits, Outcome};

fn fail(message: impl std::fmt::Display) -> ! {
    eprintln!("{message}");
    exit(2)
}

fn parse_size(value: &str, option: &str) -> u64 {
    match value.parse::<u64>() {
        Ok(n) if n > 0 => n,
        _ => fail(format!("invalid {option} {value:?}: give a positive number of bytes")),
    }
}

/// A pidfd of PID, readable once that process has ended.
fn pidfd(pid: i32) -> Result<OwnedFd> {
    swineherd::sys::pidfd_open(pid).map_err(|err| {
        Error::new("find container init", err.errno).detail(format!("no process {pid}: is the container running?"))
    })
}

/// An error if the process behind PIDFD has ended.
fn still_running(pidfd: &OwnedFd) -> Result<()> {
    use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
    if poll(&mut [PollFd::new(pidfd.as_fd(), PollFlags::POLLIN)], PollTimeout::ZERO).is_ok_and(|n| n > 0) {
        return Err(Error::new("read", libc::ESRCH).detail("the container stopped while the file was read"));
    }
    Ok(())
}

/// Whether FILE is on a file system whose sizes say nothing of contents.
fn is_pseudo(file: &std::fs::File) -> bool {
    use nix::sys::statfs::{fstatfs, PROC_SUPER_MAGIC, SYSFS_MAGIC};
    fstatfs(file).is_ok_and(|fs| [PROC_SUPER_MAGIC, SYSFS_MAGIC].contains(&fs.filesystem_type()))
}

fn main() {
    let mut limits = Limits::default();
    let mut args: Vec<String> = Vec::new();
    for arg in std::env::args().skip(1) {
        if let Some(v) = arg.strip_prefix("--budget=") {
            limits.budget = parse_size(v, "--budget");
        } else if let Some(v) = arg.strip_prefix("--max-line=") {
            limits.max_line = parse_size(v, "--max-line") as usize;
        } else {
            args.push(arg);
        }
    }
    let [init, file_name, pattern] = args.as_slice() else {
        fail("usage: swineherd-peek [--budget=BYTES] [--max-line=BYTES] INIT-PID FILE REGEX")
    };
    let init: i32 = init.parse().unwrap_or_else(|_| fail(format!("invalid init PID {init:?}")));
    let regex = peek::compile(pattern).unwrap_or_else(|err| {
        fail(format!("invalid regular expression {pattern:?}: {}", err.detail.unwrap_or_default()))
    });
    let init_fd = pidfd(init).unwrap_or_else(|err| fail(err));
    let mut file = inroot::open_in_container(init, file_name)
        .unwrap_or_else(|err| fail(format!("cannot read {file_name} in the container: {err}")));
    let size = file.metadata().map(|m| m.len()).unwrap_or(0);
    let mut check = || still_running(&init_fd);
    let outcome = if size == 0 || is_pseudo(&file) {
        peek::last_match_forward(&mut file, &regex, limits, &mut check)
    } else {
        peek::last_match_backward(&mut file, size, &regex, limits, &mut check)
    };
    match outcome {
        Ok(Outcome::Found(mut line)) => {
            line.push(b'\n');
            if std::io::stdout().write_all(&line).is_err() {
                exit(2);
            }
        }
        Ok(Outcome::NoMatch) => exit(1),
        Ok(Outcome::OverBudget) => exit(3),
        Err(err) => fail(format!("cannot read {file_name} in the container: {err}")),
    }
}
