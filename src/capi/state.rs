//! Exports for [`crate::state`].

use std::ffi::{c_char, c_int};
use std::path::Path;

use super::{borrow_str, boundary};
use crate::state;

/// Replace the file PATH with the LEN bytes at DATA, atomically and
/// durably (temporary file, fsync, rename, fsync of the directory).
///
/// # Safety
/// PATH must be a NUL-terminated string, DATA valid for LEN bytes.
#[no_mangle]
pub unsafe extern "C" fn swh_write_atomically(path: *const c_char, data: *const u8, len: usize) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("write record", || unsafe {
        if data.is_null() && len > 0 {
            return Err(crate::Error::new("write record", libc::EINVAL).detail("NULL data"));
        }
        let bytes = if len == 0 { &[][..] } else { std::slice::from_raw_parts(data, len) };
        state::write_atomically(Path::new(borrow_str(path, "path")?), bytes)?;
        Ok(0)
    })
}
