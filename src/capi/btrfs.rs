//! Exports for [`crate::btrfs`].

use std::ffi::{c_char, c_int};
use std::path::Path;

use super::{borrow_str, boundary, write_out};
use crate::btrfs;

/// A subvolume, from `swh_subvolume_info`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SwhSubvolumeInfo {
    pub id: u64,
    pub parent_id: u64,
    /// 1 if it is read-only, else 0.
    pub read_only: u32,
    /// 1 if it was made as a snapshot, else 0.
    pub snapshot: u32,
}

/// The disk usage of a subvolume, from `swh_qgroup_usage`.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SwhQgroupUsage {
    /// Bytes it references.
    pub referenced: u64,
    /// Bytes only it references.
    pub exclusive: u64,
    /// Its limit of referenced bytes; `UINT64_MAX`: none.
    pub limit: u64,
}

/// Borrow the path argument ARG.
///
/// # Safety
/// As for [`borrow_str`].
unsafe fn path<'a>(arg: *const c_char) -> crate::Result<&'a Path> {
    // SAFETY: ARG is as `borrow_str` requires, by this function's contract.
    unsafe { borrow_str(arg, "path") }.map(Path::new)
}

/// Return 1 if PATH is on btrfs, 0 if not.
///
/// # Safety
/// PATH must be a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn swh_is_btrfs(path_: *const c_char) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("is btrfs", || unsafe { Ok(btrfs::is_btrfs(path(path_)?)? as c_int) })
}

/// Create an empty subvolume at PATH.
///
/// # Safety
/// PATH must be a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn swh_subvolume_create(path_: *const c_char) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("create subvolume", || unsafe {
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
    // SAFETY: the arguments are as the contract above says.
    boundary("snapshot subvolume", || unsafe {
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
    // SAFETY: the arguments are as the contract above says.
    boundary("delete subvolume", || unsafe {
        btrfs::delete_subvolume(path(path_)?)?;
        Ok(0)
    })
}

/// Store in OUT what the subvolume at PATH is.  `-EINVAL` if PATH is not a
/// subvolume.
///
/// # Safety
/// PATH must be a NUL-terminated string, OUT valid for writing one
/// `SwhSubvolumeInfo`.
#[no_mangle]
pub unsafe extern "C" fn swh_subvolume_info(path_: *const c_char, out: *mut SwhSubvolumeInfo) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("inspect subvolume", || unsafe {
        let info = btrfs::subvolume_info(path(path_)?)?;
        let info = SwhSubvolumeInfo {
            id: info.id,
            parent_id: info.parent_id,
            read_only: info.readonly.into(),
            snapshot: info.snapshot.into(),
        };
        write_out(out, info)
    })
}

/// Limit the bytes the subvolume at PATH references to LIMIT; `u64::MAX`
/// removes the limit.
///
/// # Safety
/// PATH must be a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn swh_qgroup_limit(path_: *const c_char, limit: u64) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("limit subvolume", || unsafe {
        btrfs::set_limit(path(path_)?, (limit != u64::MAX).then_some(limit))?;
        Ok(0)
    })
}

/// Store in OUT the disk usage of the subvolume at PATH, from its qgroup.
///
/// # Safety
/// PATH must be a NUL-terminated string, OUT valid for writing one
/// `SwhQgroupUsage`.
#[no_mangle]
pub unsafe extern "C" fn swh_qgroup_usage(path_: *const c_char, out: *mut SwhQgroupUsage) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("read qgroup", || unsafe {
        let usage = btrfs::usage(path(path_)?)?;
        let usage = SwhQgroupUsage {
            referenced: usage.referenced,
            exclusive: usage.exclusive,
            limit: usage.limit.unwrap_or(u64::MAX),
        };
        write_out(out, usage)
    })
}
