//! Exports for [`crate::detached`].

use std::ffi::c_int;
use std::os::fd::IntoRawFd;

use super::{borrowed, boundary, write_out};
use crate::detached::{self, Pending};
use crate::error::{Error, Result};

/// Hand PENDING over to the caller through OUT (checked beforehand with
/// `require_out`): its pidfd and result descriptor, which the caller now
/// owns and passes to `swh_detached_finish`.  Return 1, what the
/// `swh_*_start` functions return when they have started something.
pub(crate) unsafe fn hand_over(out: *mut [c_int; 2], pending: Pending) -> Result<c_int> {
    write_out(out, [pending.pidfd.into_raw_fd(), pending.result.into_raw_fd()])?;
    Ok(1)
}

/// Finish a request started by a `swh_*_start` function, given its PIDFD
/// and RESULT descriptor, without blocking: reap its process and return 0
/// if the kernel accepted the request, `-EAGAIN` if it is still under way
/// (wait for PIDFD to become readable), or the kernel's `-errno`.  The
/// descriptors stay open: close them once this has returned anything but
/// `-EAGAIN`.
#[no_mangle]
pub extern "C" fn swh_detached_finish(pidfd: c_int, result: c_int) -> c_int {
    boundary("netlink request", || {
        let pidfd = borrowed(pidfd, "netlink request")?;
        let result = borrowed(result, "netlink request")?;
        match detached::finish(&pidfd, &result)? {
            Some(()) => Ok(0),
            None => Err(Error::new("netlink request", libc::EAGAIN).detail("still under way")),
        }
    })
}
