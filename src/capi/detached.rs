//! Exports for [`crate::detached`].

use std::ffi::{c_char, c_int, CStr};
use std::os::fd::IntoRawFd;

use super::{borrowed, boundary, write_out};
use crate::detached::{self, Pending};
use crate::error::{Error, Result};

/// A request handed to a child process by a `swh_*_start` function: two
/// descriptors, close-on-exec, which the caller owns and passes to
/// `swh_detached_finish`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SwhPending {
    /// A pidfd of the child, readable once it is done.
    pub pidfd: c_int,
    /// The descriptor the child leaves its result in.
    pub result: c_int,
}

/// Hand PENDING over to the caller through OUT (checked beforehand with
/// `require_out`).  Return 1, what the `swh_*_start` functions return when
/// they have started something.
///
/// # Safety
/// OUT must be NULL or valid for writing one `SwhPending`.
pub(crate) unsafe fn hand_over(out: *mut SwhPending, pending: Pending) -> Result<c_int> {
    let fds = SwhPending { pidfd: pending.pidfd.into_raw_fd(), result: pending.result.into_raw_fd() };
    // SAFETY: OUT is NULL (refused) or writable, as the contract says.
    unsafe { write_out(out, fds) }?;
    Ok(1)
}

/// HELPER, the `swh_*_start` functions' first argument: the absolute file
/// name of `swineherd-relay`, which serves as their helper program.
///
/// # Safety
/// HELPER must be NULL (refused) or a NUL-terminated string.
pub(crate) unsafe fn helper_program<'a>(helper: *const c_char) -> Result<&'a CStr> {
    const WHAT: &str = "helper program";
    if helper.is_null() {
        return Err(Error::new(WHAT, libc::EINVAL).detail("NULL helper program (swineherd-relay)"));
    }
    // SAFETY: HELPER is a NUL-terminated string, as the contract says.
    let helper = unsafe { CStr::from_ptr(helper) };
    if !helper.to_bytes().starts_with(b"/") {
        return Err(Error::new(WHAT, libc::EINVAL)
            .path(helper.to_string_lossy().into_owned())
            .detail("not an absolute file name: give swineherd-relay's"));
    }
    Ok(helper)
}

/// Finish a request started by a `swh_*_start` function, given its PIDFD
/// and RESULT descriptor, without blocking: reap its process and return 0
/// if the kernel accepted the request, `-EAGAIN` if it is still under way
/// (wait for PIDFD to become readable), or the kernel's `-errno`.  The
/// descriptors stay open: close them once this has returned anything but
/// `-EAGAIN`.
///
/// # Safety
/// PIDFD and RESULT must be the open descriptors of one `SwhPending`.
#[no_mangle]
pub unsafe extern "C" fn swh_detached_finish(pidfd: c_int, result: c_int) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("netlink request", || unsafe {
        let pidfd = borrowed(pidfd, "netlink request")?;
        let result = borrowed(result, "netlink request")?;
        match detached::finish(&pidfd, &result)? {
            Some(()) => Ok(0),
            None => Err(Error::new("netlink request", libc::EAGAIN).detail("still under way")),
        }
    })
}
