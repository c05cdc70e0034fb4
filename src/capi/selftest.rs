//! A deliberate panic, to prove the panic boundary from Scheme and from a
//! running Shepherd.  It panics only when the environment variable
//! `SWINEHERD_SELFTEST` is `1` in the calling process; otherwise it fails
//! with `EPERM`.

use std::ffi::c_int;

use super::boundary;
use crate::error::Error;

/// Panic, when `SWINEHERD_SELFTEST=1`: return `SWH_PANIC`.  Otherwise fail
/// with `-EPERM`.
#[no_mangle]
pub extern "C" fn swh_selftest_panic() -> c_int {
    boundary("self-test", || {
        if std::env::var_os("SWINEHERD_SELFTEST").is_some_and(|v| v == "1") {
            panic!("deliberate panic requested by SWINEHERD_SELFTEST=1");
        }
        Err(Error::new("panic", libc::EPERM).detail("disabled; set SWINEHERD_SELFTEST=1 to enable it"))
    })
}
