//! The C ABI, done once: a panic boundary, the `-errno` convention and the
//! last-error message.
//!
//! Every exported function is written as
//!
//! ```ignore
//! #[no_mangle]
//! pub unsafe extern "C" fn swh_thing(arg: c_int, out: *mut c_int) -> c_int {
//!     boundary("thing", || { let v = thing(arg)?; write_out(out, v) })
//! }
//! ```
//!
//! [`boundary`] runs the body under `catch_unwind`, records the message of
//! an error or a panic for [`swh_last_error`] (and clears it on success),
//! and returns the body's non-negative value, `-errno` (an errno between 1
//! and 4095; anything else becomes `EIO`), or [`SWH_PANIC`] for a panic.
//! Out-parameters are written by the body only after everything that can
//! fail has succeeded; what a function hands back through them is a
//! `#[repr(C)]` struct named in `include/swineherd.h`, never a positional
//! array.  Nothing allocated by Rust crosses the boundary: messages are
//! copied into the caller's buffer.
//!
//! `include/swineherd.h` is generated from this crate by
//! `tools/gen-header/run` and committed; `tests/rust-checks` fails when it
//! differs from the code.  [`SWH_ABI_VERSION`] changes with every
//! incompatible change of it, and `(swineherd ffi)` refuses a library whose
//! [`swh_abi_version`] is not the one it was written for.

mod btrfs;
mod cgroup;
mod detached;
mod exec;
mod net;
mod nft;
mod process;
mod selftest;
mod state;
mod tree;

use std::cell::RefCell;
use std::ffi::{c_char, c_int, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};

use crate::error::{Error, Result};

thread_local! {
    /// The message of the last failed call on this thread.  Shepherd calls
    /// the library from its one thread, and copies the message out right
    /// after the failing call.
    static LAST_ERROR: RefCell<String> = const { RefCell::new(String::new()) };
}

/// The version of the C ABI described by `include/swineherd.h`: raised with
/// every incompatible change (a function's arguments, a struct's fields).
pub const SWH_ABI_VERSION: u32 = 4;

/// What an exported function returns when it panicked: below every
/// `-errno` (errnos are below 4096), so that a bug is never taken for a
/// kernel's answer.  The message, from `swh_last_error`, says where.
pub const SWH_PANIC: c_int = -4096;

fn set_last_error(message: String) {
    LAST_ERROR.with(|last| *last.borrow_mut() = message);
}

/// ERRNO as an exported function returns it: negated, and `EIO` for what is
/// not an errno (zero would read as success, a negative one as a value).
fn negated_errno(errno: i32) -> c_int {
    if (1..4096).contains(&errno) {
        -errno
    } else {
        -libc::EIO
    }
}

/// The text of a panic's PAYLOAD.
fn panic_text(payload: &(dyn std::any::Any + Send)) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}

/// Run BODY behind the panic boundary.  Return its value (which must be
/// non-negative) and clear the last error; or `-errno`, recording the
/// error's message (it names the operation and path) for
/// `swh_last_error`; or [`SWH_PANIC`], recording a message naming WHO.
pub(crate) fn boundary<F>(who: &str, body: F) -> c_int
where
    F: FnOnce() -> Result<c_int>,
{
    let rc = guarded(who, body);
    if rc >= 0 {
        set_last_error(String::new());
    }
    rc
}

/// [`boundary`], but leaving the last error alone on success: for
/// `swh_last_error` itself.
fn guarded<F>(who: &str, body: F) -> c_int
where
    F: FnOnce() -> Result<c_int>,
{
    match catch_unwind(AssertUnwindSafe(body)) {
        Ok(Ok(value)) => {
            debug_assert!(value >= 0);
            value
        }
        Ok(Err(err)) => {
            set_last_error(err.to_string());
            negated_errno(err.errno)
        }
        Err(payload) => {
            let what = panic_text(payload.as_ref());
            set_last_error(format!("{who}: internal error (panic: {what}); please report it"));
            SWH_PANIC
        }
    }
}

/// Write VALUE to the out-parameter OUT, which must not be NULL.
///
/// # Safety
/// OUT must be NULL or valid for a write of one `T`.
pub(crate) unsafe fn write_out<T>(out: *mut T, value: T) -> Result<c_int> {
    require_out(out, "write result")?;
    // SAFETY: OUT is not NULL, so valid for a write by the contract.
    unsafe { out.write(value) };
    Ok(0)
}

/// Fail for OP unless OUT, an out-parameter, is usable: before starting what
/// must be handed over through it.
pub(crate) fn require_out<T>(out: *mut T, op: &'static str) -> Result<()> {
    if out.is_null() {
        return Err(Error::new(op, libc::EINVAL).detail("NULL out-parameter"));
    }
    Ok(())
}

/// A descriptor number given by the caller, borrowed for the call.
///
/// # Safety
/// FD must be negative (refused with `EBADF`) or an open descriptor that
/// stays open until the borrow ends, as the exported functions taking one
/// require of their callers.
pub(crate) unsafe fn borrowed<'a>(fd: c_int, what: &'static str) -> Result<std::os::fd::BorrowedFd<'a>> {
    if fd < 0 {
        return Err(Error::new(what, libc::EBADF));
    }
    // SAFETY: FD is open for the call, as this function's contract says.
    Ok(unsafe { std::os::fd::BorrowedFd::borrow_raw(fd) })
}

/// Borrow the NUL-terminated UTF-8 string ARG, naming it WHAT in errors.
///
/// # Safety
/// ARG must be NULL or point to a NUL-terminated string that outlives the call.
pub(crate) unsafe fn borrow_str<'a>(arg: *const c_char, what: &'static str) -> Result<&'a str> {
    if arg.is_null() {
        return Err(Error::new(what, libc::EINVAL).detail("NULL string"));
    }
    // SAFETY: ARG is not NULL, so a NUL-terminated string by the contract.
    unsafe { CStr::from_ptr(arg) }.to_str().map_err(|_| Error::new(what, libc::EINVAL).detail("not valid UTF-8"))
}

/// The caller's array of COUNT items at ITEMS, borrowed for the call: how a
/// list crosses the C ABI (a `#[repr(C)]` struct per item and a count,
/// never text to parse again); ITEMS may be NULL when COUNT is 0.
///
/// # Safety
/// ITEMS must be NULL or valid, and aligned, for reads of COUNT `T`s that
/// stay unchanged until the borrow ends.
pub(crate) unsafe fn borrow_array<'a, T>(items: *const T, count: usize, what: &'static str) -> Result<&'a [T]> {
    if count == 0 {
        return Ok(&[]);
    }
    if items.is_null() {
        return Err(Error::new(what, libc::EINVAL).detail(format!("NULL array of {count} items")));
    }
    // SAFETY: ITEMS is not NULL, so valid for COUNT reads by the contract.
    Ok(unsafe { std::slice::from_raw_parts(items, count) })
}

/// Copy ITEMS into the caller's array OUT of CAPACITY items if they fit,
/// and return their number: a number above CAPACITY tells the caller that
/// OUT was left alone and a larger array is needed (as [`copy_text`] does
/// with bytes).  How a list comes back across the C ABI.
///
/// # Safety
/// OUT must be NULL or valid, and aligned, for writes of CAPACITY `T`s.
pub(crate) unsafe fn fill_array<T: Copy>(items: &[T], out: *mut T, capacity: usize) -> Result<c_int> {
    if out.is_null() && capacity > 0 {
        return Err(Error::new("list", libc::EINVAL).detail(format!("NULL array of {capacity} items")));
    }
    let count = c_int::try_from(items.len()).map_err(|_| Error::new("list", libc::EOVERFLOW))?;
    if items.len() <= capacity {
        // SAFETY: OUT holds CAPACITY items, ITEMS.len() of them fit, and
        // the caller's array cannot overlap this slice of ours.
        unsafe { std::ptr::copy_nonoverlapping(items.as_ptr(), out, items.len()) };
    }
    Ok(count)
}

/// Parse the NUL-terminated string ARG as an IPv4 address, naming it WHAT
/// in errors.
///
/// # Safety
/// As for [`borrow_str`].
pub(crate) unsafe fn ipv4(arg: *const c_char, what: &'static str) -> Result<std::net::Ipv4Addr> {
    // SAFETY: ARG is as `borrow_str` requires, by this function's contract.
    let text = unsafe { borrow_str(arg, what) }?;
    text.parse().map_err(|_| Error::new(what, libc::EINVAL).detail(format!("{text:?} is not an IPv4 address")))
}

/// Copy TEXT, NUL-terminated, into BUF of LEN bytes if it fits, and return
/// its length: a length of LEN or more tells the caller that BUF was left
/// alone and a larger buffer is needed.
///
/// # Safety
/// BUF must be NULL or valid for writes of LEN bytes.
pub(crate) unsafe fn copy_text(text: &str, buf: *mut c_char, len: usize) -> Result<c_int> {
    if text.len() < len && !buf.is_null() {
        // SAFETY: BUF holds LEN bytes, more than TEXT and its NUL, and
        // cannot overlap TEXT, which Rust owns.
        unsafe {
            std::ptr::copy_nonoverlapping(text.as_ptr(), buf.cast::<u8>(), text.len());
            buf.add(text.len()).write(0);
        }
    }
    Ok(c_int::try_from(text.len()).unwrap_or(c_int::MAX))
}

/// Copy the message of the last failed call on this thread into BUF, which
/// holds LEN bytes, truncated and always NUL-terminated when LEN > 0.
/// Return the message's full length in bytes (without the NUL), so that a
/// caller whose buffer was too small can call again with a larger one.
///
/// # Safety
/// BUF must be NULL (with LEN 0) or valid for writes of LEN bytes.
#[no_mangle]
pub unsafe extern "C" fn swh_last_error(buf: *mut c_char, len: usize) -> c_int {
    let copy = || {
        LAST_ERROR.with(|last| {
            let last = last.borrow();
            let bytes = last.as_bytes();
            if !buf.is_null() && len > 0 {
                let n = bytes.len().min(len - 1);
                // SAFETY: BUF holds LEN > N bytes, by the contract, and
                // cannot overlap the message, which Rust owns.
                unsafe {
                    std::ptr::copy_nonoverlapping(bytes.as_ptr(), buf.cast::<u8>(), n);
                    buf.add(n).write(0);
                }
            }
            Ok(c_int::try_from(bytes.len()).unwrap_or(c_int::MAX))
        })
    };
    guarded("last error", copy)
}

/// The library's version, a static NUL-terminated string (never freed).
#[no_mangle]
pub extern "C" fn swh_version() -> *const c_char {
    concat!(env!("CARGO_PKG_VERSION"), "\0").as_ptr().cast()
}

/// The version of the C ABI this library implements, `SWH_ABI_VERSION` of
/// the header it was built with: a caller written for another version must
/// not call anything else.
#[no_mangle]
pub extern "C" fn swh_abi_version() -> u32 {
    SWH_ABI_VERSION
}

#[cfg(test)]
mod tests {
    use super::*;

    fn last_error() -> String {
        let mut buf = [0 as c_char; 256];
        // SAFETY: BUF holds its length in bytes.
        let n = unsafe { swh_last_error(buf.as_mut_ptr(), buf.len()) };
        assert!(n >= 0);
        // SAFETY: swh_last_error NUL-terminated what it wrote in BUF.
        unsafe { CStr::from_ptr(buf.as_ptr()) }.to_string_lossy().into_owned()
    }

    #[test]
    fn error_becomes_negative_errno_and_message() {
        let rc = boundary("probe", || Err(Error::new("open", libc::ENOENT).path("/x")));
        assert_eq!(rc, -libc::ENOENT);
        assert_eq!(last_error(), "open /x: No such file or directory");
    }

    #[test]
    fn panic_is_caught_and_reported() {
        let rc = boundary("probe", || panic!("boom"));
        assert_eq!(rc, SWH_PANIC);
        assert!(last_error().contains("panic: boom"), "{}", last_error());
    }

    #[test]
    fn errno_that_is_not_one_becomes_eio() {
        for errno in [0, -2, 4096, SWH_PANIC.abs()] {
            let rc = boundary("probe", || Err(Error::new("odd", errno)));
            assert_eq!(rc, -libc::EIO, "errno {errno}");
        }
    }

    #[test]
    fn success_clears_the_last_error_but_reading_it_does_not() {
        boundary("probe", || Err(Error::new("open", libc::ENOENT)));
        assert_eq!(last_error(), "open: No such file or directory");
        assert_eq!(last_error(), "open: No such file or directory", "read twice");
        assert_eq!(boundary("probe", || Ok(3)), 3);
        assert_eq!(last_error(), "");
    }

    #[test]
    fn last_error_reports_full_length_and_truncates() {
        set_last_error("0123456789".into());
        let mut buf = [0 as c_char; 4];
        // SAFETY: BUF holds its length in bytes.
        let n = unsafe { swh_last_error(buf.as_mut_ptr(), buf.len()) };
        assert_eq!(n, 10);
        // SAFETY: swh_last_error NUL-terminated what it wrote in BUF.
        assert_eq!(unsafe { CStr::from_ptr(buf.as_ptr()) }.to_str().unwrap(), "012");
    }

    #[test]
    fn out_param_untouched_on_failure() {
        let mut out: c_int = 42;
        let rc = boundary("probe", || {
            Err::<(), _>(Error::new("x", libc::EIO))?;
            // SAFETY: OUT is a live c_int.
            unsafe { write_out(&mut out, 7) }
        });
        assert_eq!(rc, -libc::EIO);
        assert_eq!(out, 42);
    }
}
