//! Processes at the system-call level: `clone3` (which neither glibc 2.36
//! nor nix 0.30 wraps) for children that Shepherd's reaper does not see or
//! that are born in their cgroup, and reaping a child through its pidfd
//! with the raw wait status the C ABI hands on.

use std::ffi::c_int;
use std::os::fd::{AsRawFd, BorrowedFd, RawFd};

use crate::error::{Error, Result};
use crate::sys::errno;

/// The `clone_args` of `clone3(2)` (linux/sched.h), version 2.
#[repr(C)]
#[derive(Default)]
pub(crate) struct CloneArgs {
    pub flags: u64,
    pub pidfd: u64,
    pub child_tid: u64,
    pub parent_tid: u64,
    pub exit_signal: u64,
    pub stack: u64,
    pub stack_size: u64,
    pub tls: u64,
    pub set_tid: u64,
    pub set_tid_size: u64,
    pub cgroup: u64,
}

/// `clone3` like `fork`: the child continues on a copy of the stack and
/// gets 0.  Async-signal-safe.  (Raw: neither glibc nor nix wraps clone3.)
///
/// # Safety
/// The child shares nothing with glibc's view of the process (its thread
/// list, locks and TIDs are the parent's): it may make only plain system
/// calls, and must end with `_exit` or `execve`, never return.
unsafe fn clone3(args: &mut CloneArgs) -> libc::c_long {
    // SAFETY: ARGS is a clone_args of the size passed; the caller answers
    // for the child, as the contract says.
    unsafe { libc::syscall(libc::SYS_clone3, args as *mut CloneArgs, std::mem::size_of::<CloneArgs>()) }
}

/// Fork with `CLONE_PIDFD` and EXIT_SIGNAL (0: a child that
/// `waitpid(WAIT_ANY)` never sees, until it execs): 0 in the child; in the
/// parent the child's PID, with PIDFD set to its pidfd; -1 on failure, with
/// errno set.  Async-signal-safe.
///
/// # Safety
/// As for `clone3`: the child must make only plain system calls and end
/// with `_exit` or `execve`.
pub(crate) unsafe fn clone_pidfd(exit_signal: c_int, pidfd: &mut RawFd) -> libc::c_long {
    let mut args = CloneArgs {
        flags: libc::CLONE_PIDFD as u64,
        pidfd: pidfd as *mut RawFd as u64,
        exit_signal: exit_signal as u64,
        ..CloneArgs::default()
    };
    // SAFETY: the caller answers for the child, as the contract says; PIDFD
    // outlives the call.
    unsafe { clone3(&mut args) }
}

/// linux/sched.h (libc's constant is a 32-bit one that overflows).
pub(crate) const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// Fork straight into the cgroup v2 directory open as CGROUP
/// (`CLONE_INTO_CGROUP`, Linux 5.7), exit signal SIGCHLD: the child is
/// born in it, with no migration (and no wait for the kernel's
/// `cgroup_threadgroup_rwsem`).  0 in the child, its PID in the parent, -1
/// on failure with errno set.  Async-signal-safe.
///
/// # Safety
/// As for `clone3`: the child must make only plain system calls and end
/// with `_exit` or `execve`.
pub unsafe fn fork_into_cgroup(cgroup: BorrowedFd) -> libc::c_long {
    let mut args = CloneArgs {
        flags: CLONE_INTO_CGROUP,
        exit_signal: libc::SIGCHLD as u64,
        cgroup: cgroup.as_raw_fd() as u64,
        ..CloneArgs::default()
    };
    // SAFETY: the caller answers for the child, as the contract says.
    unsafe { clone3(&mut args) }
}

/// Reap the exited child behind PIDFD without blocking: its wait status,
/// or `None` while it runs.
pub(crate) fn reap_raw(pidfd: &impl AsRawFd) -> Result<Option<c_int>> {
    // SAFETY: plain data, for which all zeroes is a valid value.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: INFO is a siginfo_t to fill.
    let rc = unsafe {
        libc::waitid(
            libc::P_PIDFD,
            pidfd.as_raw_fd() as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::__WALL,
        )
    };
    if rc < 0 {
        return Err(Error::new("reap", errno()).path("waitid"));
    }
    // SAFETY: waitid filled INFO for a child event (or left it zero, with
    // WNOHANG): the pid and status fields are the ones set.
    let (pid, status) = unsafe { (info.si_pid(), info.si_status()) };
    if pid == 0 {
        return Ok(None);
    }
    Ok(Some(wait_status(info.si_code, status)))
}

/// The `waitpid`-style status for a `waitid` CODE (CLD_*) and STATUS.
pub(crate) fn wait_status(code: c_int, status: c_int) -> c_int {
    match code {
        libc::CLD_EXITED => (status & 0xff) << 8,
        libc::CLD_KILLED => status & 0x7f,
        libc::CLD_DUMPED => (status & 0x7f) | 0x80,
        _ => status,
    }
}
