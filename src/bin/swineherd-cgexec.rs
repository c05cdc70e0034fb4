//! swineherd-cgexec CGROUP -- COMMAND [ARG...]
//!
//! Run COMMAND in the cgroup CGROUP (relative, e.g. `swineherd/web`) from
//! its first instruction.  Shepherd spawns containers through it, so a
//! container's script — and everything it starts — runs in the
//! container's cgroup: no window in which a process could escape, as
//! moving a PID after the fact would leave.
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

use std::ffi::CString;
use std::fs::File;
use std::os::fd::AsFd;
use std::os::unix::process::CommandExt;
use std::path::Path;
use std::process::{exit, Command};

use swineherd::cgroup::{self, Manager};
use swineherd::exec::fork_into_cgroup;

fn fail(message: String) -> ! {
    eprintln!("swineherd-cgexec: {message}");
    exit(127)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (cgroup, command) = match args.as_slice() {
        [cgroup, dashdash, command @ ..] if dashdash == "--" && !command.is_empty() => {
            (cgroup, command)
        }
        _ => fail("usage: swineherd-cgexec CGROUP -- COMMAND [ARG...]".into()),
    };
    let manager = cgroup::detect_here()
        .and_then(|layout| Manager::new(&layout, cgroup))
        .unwrap_or_else(|err| fail(err.to_string()));
    // SWINEHERD_CGEXEC_MIGRATE=1 takes the v1 way on v2 too: for
    // bench/cgroup-start, which compares the two.
    if let (Some(dir), None) = (
        manager.unified_directory(),
        std::env::var_os("SWINEHERD_CGEXEC_MIGRATE"),
    ) {
        spawn_into(dir, &manager, command);
    }
    join_and_exec(&manager, command)
}

/// Join the cgroup, then become COMMAND.
fn join_and_exec(manager: &Manager, command: &[String]) -> ! {
    if let Err(err) = manager.join(std::process::id() as i32) {
        fail(err.to_string());
    }
    let err = Command::new(&command[0]).args(&command[1..]).exec();
    fail(format!("cannot run {}: {err}", command[0]))
}

/// Clone COMMAND into the v2 cgroup DIR, join it, wait for COMMAND and exit
/// as it did.  Returns only if the kernel has no `CLONE_INTO_CGROUP`.
fn spawn_into(dir: &Path, manager: &Manager, command: &[String]) {
    let cgroup =
        File::open(dir).unwrap_or_else(|err| fail(format!("open cgroup {}: {err}", dir.display())));
    let argv: Vec<CString> = command
        .iter()
        .map(|a| CString::new(a.as_str()).unwrap_or_else(|_| fail(format!("NUL in {a:?}"))))
        .collect();
    let mut argv_ptrs: Vec<*const libc::c_char> = argv.iter().map(|a| a.as_ptr()).collect();
    argv_ptrs.push(std::ptr::null());
    // SAFETY: the sets are plain stack values, initialised by sigfillset.
    let mut all: libc::sigset_t = unsafe { std::mem::zeroed() };
    let mut old: libc::sigset_t = unsafe { std::mem::zeroed() };
    unsafe {
        libc::sigfillset(&mut all);
        libc::sigprocmask(libc::SIG_BLOCK, &all, &mut old);
    }
    // SAFETY: this program has a single thread: the child may do anything.
    let pid = unsafe { fork_into_cgroup(cgroup.as_fd()) };
    if pid == 0 {
        // SAFETY: OLD is the mask saved above; ARGV_PTRS is NULL-terminated
        // and its strings live in ARGV, both alive until exec.
        unsafe {
            libc::sigprocmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
            libc::execvp(argv_ptrs[0], argv_ptrs.as_ptr());
        }
        fail(format!(
            "cannot run {}: {}",
            command[0],
            std::io::Error::last_os_error()
        ));
    }
    if pid < 0 {
        let err = std::io::Error::last_os_error();
        // SAFETY: restores the mask saved above.
        unsafe { libc::sigprocmask(libc::SIG_SETMASK, &old, std::ptr::null_mut()) };
        match err.raw_os_error() {
            Some(libc::ENOSYS) | Some(libc::E2BIG) | Some(libc::EINVAL) => return,
            _ => fail(format!("clone3 into cgroup {}: {err}", dir.display())),
        }
    }
    drop(cgroup);
    // Every process of the container in its cgroup, this one too.
    if let Err(err) = manager.join(std::process::id() as i32) {
        eprintln!("swineherd-cgexec: {err}");
    }
    exit_as(wait(pid as libc::pid_t))
}

/// Reap PID and return its wait status.
fn wait(pid: libc::pid_t) -> libc::c_int {
    let mut status = 0;
    // SAFETY: STATUS is a valid out-parameter.
    while unsafe { libc::waitpid(pid, &mut status, 0) } < 0 {
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() != Some(libc::EINTR) {
            fail(format!("wait for the command: {err}"));
        }
    }
    status
}

/// Exit with the wait STATUS of the command: its exit code, or its signal.
fn exit_as(status: libc::c_int) -> ! {
    if libc::WIFSIGNALED(status) {
        let signal = libc::WTERMSIG(status);
        // SAFETY: default disposition, then the signal alone unblocked and
        // raised: the process ends as the command did.
        unsafe {
            libc::signal(signal, libc::SIG_DFL);
            let mut set: libc::sigset_t = std::mem::zeroed();
            libc::sigemptyset(&mut set);
            libc::sigaddset(&mut set, signal);
            libc::sigprocmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
            libc::raise(signal);
        }
        exit(128 + signal)
    }
    exit(libc::WEXITSTATUS(status))
}
