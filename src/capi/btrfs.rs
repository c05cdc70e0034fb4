//! Exports for [`crate::btrfs`].

use std::ffi::{c_char, c_int};
use std::path::Path;

use super::{borrow_str, boundary, write_out};
use crate::btrfs;

/// Borrow the path argument ARG.
unsafe fn path<'a>(arg: *const c_char) -> crate::Result<&'a Path> {
    borrow_str(arg, "path").map(Path::new)
}

/// Return 1 if PATH is on btrfs, 0 if not.
///
/// # Safety
/// PATH must be a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn swh_is_btrfs(path_: *const c_char) -> c_int {
    boundary("is btrfs", || Ok(btrfs::is_btrfs(path(path_)?)? as c_int))
}

/// Create an empty subvolume at PATH.
///
/// # Safety
/// PATH must be a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn swh_subvolume_create(path_: *const c_char) -> c_int {
    boundary("create subvolume", || {
        btrfs::create_subvolume(path(path_)?)?;
        Ok(0)
    })
}

/// Make DEST a snapshot of subvolume SOURCE, read-only if READONLY is
/// non-zero.
///
/// # Safety
/// SOURCE and DEST must be NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn swh_subvolume_snapshot(source: *const c_char, dest: *const c_char, readonly: c_int) -> c_int {
    boundary("snapshot subvolume", || {
        btrfs::snapshot(path(source)?, path(dest)?, readonly != 0)?;
        Ok(0)
    })
}

/// Delete the subvolume at PATH and the subvolumes nested in it.
///
/// # Safety
/// PATH must be a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn swh_subvolume_delete(path_: *const c_char) -> c_int {
    boundary("delete subvolume", || {
        btrfs::delete_subvolume(path(path_)?)?;
        Ok(0)
    })
}

/// Store in OUT[0..3] the subvolume at PATH's id, its parent's id, and
/// flags: 1 read-only, 2 made as a snapshot.  `-EINVAL` if PATH is not a
/// subvolume.
///
/// # Safety
/// PATH must be a NUL-terminated string, OUT valid for 3 `u64`.
#[no_mangle]
pub unsafe extern "C" fn swh_subvolume_info(path_: *const c_char, out: *mut [u64; 3]) -> c_int {
    boundary("inspect subvolume", || {
        let info = btrfs::subvolume_info(path(path_)?)?;
        let flags = info.readonly as u64 | (info.snapshot as u64) << 1;
        write_out(out, [info.id, info.parent_id, flags])
    })
}

/// Limit the bytes the subvolume at PATH references to LIMIT; `u64::MAX`
/// removes the limit.
///
/// # Safety
/// PATH must be a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn swh_qgroup_limit(path_: *const c_char, limit: u64) -> c_int {
    boundary("limit subvolume", || {
        btrfs::set_limit(path(path_)?, (limit != u64::MAX).then_some(limit))?;
        Ok(0)
    })
}

/// Store in OUT[0..3] the referenced bytes, exclusive bytes and limit
/// (`u64::MAX`: none) of the subvolume at PATH.
///
/// # Safety
/// PATH must be a NUL-terminated string, OUT valid for 3 `u64`.
#[no_mangle]
pub unsafe extern "C" fn swh_qgroup_usage(path_: *const c_char, out: *mut [u64; 3]) -> c_int {
    boundary("read qgroup", || {
        let usage = btrfs::usage(path(path_)?)?;
        write_out(out, [usage.referenced, usage.exclusive, usage.limit.unwrap_or(u64::MAX)])
    })
}
