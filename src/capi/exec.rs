//! Exports for [`crate::exec`] and [`crate::inroot`].

use std::ffi::{c_char, c_int};
use std::os::fd::IntoRawFd;
use std::time::Duration;

use super::{borrow_str, borrowed, boundary, require_out, write_out};
use crate::error::{Error, Result};
use crate::exec::{self, Target};
use crate::inroot;

/// Borrow the argz buffer BUF of LEN bytes: NUL-terminated strings one
/// after the other.
///
/// # Safety
/// BUF must be NULL or valid for reads of LEN bytes during 'a.
unsafe fn argz<'a>(buf: *const c_char, len: usize, what: &'static str) -> Result<&'a [u8]> {
    if buf.is_null() {
        if len == 0 {
            return Ok(&[]);
        }
        return Err(Error::new(what, libc::EINVAL).detail("NULL buffer"));
    }
    // SAFETY: BUF is not NULL, so valid for LEN bytes by the contract.
    Ok(unsafe { std::slice::from_raw_parts(buf.cast::<u8>(), len) })
}

/// The descriptors of a command started by `swh_exec_spawn`, all
/// close-on-exec, which the caller owns.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SwhExecFds {
    /// A pidfd of the relay, readable once the command has ended; then
    /// call `swh_exec_reap`, or the relay stays a zombie.
    pub pidfd: c_int,
    /// The non-blocking read end of the command's standard output.
    pub stdout_fd: c_int,
    /// The non-blocking read end of the command's standard error.
    pub stderr_fd: c_int,
    /// The non-blocking read end of the relay's report pipe.
    pub report_fd: c_int,
}

/// How a command ended, from `swh_exec_reap`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SwhExecOutcome {
    /// Its wait status, as `waitpid` makes it.
    pub status: c_int,
    /// The errno of its failed `execve`; 0 if a program ran (the status is
    /// then an exit with 127).
    pub exec_errno: c_int,
    /// 1 if it was killed at its deadline, else 0.
    pub timed_out: c_int,
}

/// Start a command and return its host PID.  ARGV (ARGV_LEN bytes) and
/// ENVP (ENVP_LEN bytes) are argz buffers: NUL-terminated strings one after
/// the other; ARGV's first string is the program, searched in ENVP's PATH.
/// With INIT_PID > 0 the command runs in every namespace and the root of
/// that process (a container's init) as its uid/gid 0; with 0, on the host.
/// Its working directory is `/`, its standard input `/dev/null`, and it
/// leads a session of its own; with TIMEOUT_MS > 0 it is killed, with its
/// process group, after that many milliseconds.
///
/// With CGROUP not NULL (relative to each hierarchy's root, e.g.
/// `swineherd/web`), it starts in that cgroup, so that the container's
/// limits and accounting cover it and removing the cgroup ends it.
///
/// The command is the child of a relay process, the program RELAY
/// (`swineherd-relay`, an absolute file name), started from a child that
/// shares the caller's memory until it execs; the relay reports how the
/// command ended through a pipe, never through its exit status, which
/// Shepherd's reaper may take.  On success OUT receives its descriptors,
/// which the caller must close.
///
/// # Safety
/// ARGV and ENVP must be valid for reads of their lengths, CGROUP NULL or
/// a NUL-terminated string, RELAY a NUL-terminated string; OUT must be
/// valid for writing one `SwhExecFds`.
#[no_mangle]
pub unsafe extern "C" fn swh_exec_spawn(
    init_pid: c_int,
    argv: *const c_char,
    argv_len: usize,
    envp: *const c_char,
    envp_len: usize,
    timeout_ms: u64,
    cgroup: *const c_char,
    relay: *const c_char,
    out: *mut SwhExecFds,
) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("exec spawn", || unsafe {
        if out.is_null() {
            return Err(Error::new("exec spawn", libc::EINVAL).detail("NULL out-parameter"));
        }
        let argv = exec::parse_argz(argz(argv, argv_len, "command")?);
        let envp = exec::parse_argz(argz(envp, envp_len, "environment")?);
        let target = if init_pid == 0 { Target::Host } else { Target::Container(init_pid) };
        let timeout = (timeout_ms > 0).then(|| Duration::from_millis(timeout_ms));
        let cgroup = if cgroup.is_null() { None } else { Some(borrow_str(cgroup, "cgroup")?) };
        if relay.is_null() {
            return Err(Error::new("exec spawn", libc::EINVAL).detail("NULL relay program"));
        }
        let relay = std::ffi::CStr::from_ptr(relay);
        let s = exec::spawn_in(relay, target, cgroup, &argv, &envp, timeout)?;
        let fds = SwhExecFds {
            pidfd: s.pidfd.into_raw_fd(),
            stdout_fd: s.stdout.into_raw_fd(),
            stderr_fd: s.stderr.into_raw_fd(),
            report_fd: s.report.into_raw_fd(),
        };
        write_out(out, fds)?;
        Ok(s.pid)
    })
}

/// Reap the relay behind PIDFD without blocking, and tell how its command
/// ended, read from REPORT_FD, in OUT.  Return 0, or `-EAGAIN` if it is
/// still running.  The descriptors stay open.
///
/// # Safety
/// PIDFD and REPORT_FD must be the open descriptors of one `SwhExecFds`;
/// OUT must be valid for writing one `SwhExecOutcome`.
#[no_mangle]
pub unsafe extern "C" fn swh_exec_reap(pidfd: c_int, report_fd: c_int, out: *mut SwhExecOutcome) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("exec reap", || unsafe {
        let pidfd = borrowed(pidfd, "exec reap")?;
        let report = borrowed(report_fd, "exec reap")?;
        match exec::reap(&pidfd, report)? {
            Some(o) => {
                let outcome =
                    SwhExecOutcome { status: o.status, exec_errno: o.exec_errno, timed_out: o.timed_out.into() };
                write_out(out, outcome)
            }
            None => Err(Error::new("reap command", libc::EAGAIN).detail("still running")),
        }
    })
}

/// Give up on the command behind PIDFD: SIGKILL its relay, which takes the
/// command with it.  A command that has ended is fine.  Reap it afterwards
/// as usual.
///
/// # Safety
/// PIDFD must be the open pidfd of one `SwhExecFds`.
#[no_mangle]
pub unsafe extern "C" fn swh_exec_kill(pidfd: c_int) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("exec kill", || unsafe {
        exec::kill(borrowed(pidfd, "exec kill")?)?;
        Ok(0)
    })
}

/// Open PATH, a file name inside the container whose init has host PID
/// INIT_PID, for reading; symlinks and `..` are resolved inside the
/// container's root, magic links (`/proc/PID/root`…) are refused, and PATH
/// must name a regular file.  Store the descriptor (close-on-exec; the
/// caller closes it) in *FD.
///
/// # Safety
/// PATH must be a NUL-terminated string; FD valid for a write of one `int`.
#[no_mangle]
pub unsafe extern "C" fn swh_open_in_root(init_pid: c_int, path: *const c_char, fd: *mut c_int) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("open in container", || unsafe {
        require_out(fd, "open in container")?; // before the descriptor exists
        let file = inroot::open_in_container(init_pid, borrow_str(path, "file name")?)?;
        write_out(fd, file.into_raw_fd())
    })
}

/// Connect to the Unix stream socket PATH, a file name inside the container
/// whose init has host PID INIT_PID, resolved as by `swh_open_in_root`
/// (never leading outside the container's root).  Store the connected
/// socket (non-blocking, close-on-exec; the caller closes it) in *FD.  The
/// connection is made at once or refused: it never waits.
///
/// # Safety
/// PATH must be a NUL-terminated string; FD valid for a write of one `int`.
#[no_mangle]
pub unsafe extern "C" fn swh_connect_in_root(init_pid: c_int, path: *const c_char, fd: *mut c_int) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("connect in container", || unsafe {
        require_out(fd, "connect in container")?; // before the descriptor exists
        let socket = inroot::connect_in_container(init_pid, borrow_str(path, "socket name")?)?;
        write_out(fd, socket.into_raw_fd())
    })
}
