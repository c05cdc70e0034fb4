//! Exports for [`crate::process`].

use std::ffi::c_int;

use super::{boundary, write_out};
use crate::process;

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
