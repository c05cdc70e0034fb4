//! Exports for [`crate::process`].

use std::ffi::c_int;
use std::os::fd::IntoRawFd;

use super::{borrowed, boundary, require_out, write_out};
use crate::{process, sys};

/// Store in *OUT the host PID of the init of the container whose script runs
/// as ROOT; HINT (0 for none) is a candidate PID, e.g. from a `--pid-file`.
/// Return 0, or `-ESRCH` when there is no such init (yet).
///
/// # Safety
/// OUT must be valid for a write of one `int`.
#[no_mangle]
pub unsafe extern "C" fn swh_container_init(root: c_int, hint: c_int, out: *mut c_int) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("container init", || unsafe {
        let pid = process::container_init(root, hint)?;
        write_out(out, pid)
    })
}

/// Store in *OUT a pidfd (close-on-exec) of process PID, which the caller
/// owns and closes; it is readable once PID has exited.  For watching a
/// process that is not the caller's child (a container adopted after a
/// Shepherd restart). Return 0, or `-ESRCH` when PID is gone.
///
/// # Safety
/// OUT must be valid for a write of one `int`.
#[no_mangle]
pub unsafe extern "C" fn swh_pidfd_open(pid: c_int, out: *mut c_int) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("pidfd open", || unsafe {
        require_out(out, "open pidfd")?; // before the fd exists
        let fd = sys::pidfd_open(pid)?;
        write_out(out, fd.into_raw_fd())
    })
}

/// Send SIGNAL (0: only check that it is alive) to the process behind
/// PIDFD, which cannot be another process that reused its PID. Return 0,
/// or `-ESRCH` when it has exited.
///
/// # Safety
/// PIDFD must be negative (refused) or an open descriptor for the call.
#[no_mangle]
pub unsafe extern "C" fn swh_pidfd_signal(pidfd: c_int, signal: c_int) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("pidfd signal", || unsafe {
        sys::pidfd_send_signal(borrowed(pidfd, "signal through pidfd")?, signal)?;
        Ok(0)
    })
}
