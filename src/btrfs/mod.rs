//! btrfs subvolumes, snapshots and qgroups, through the kernel's ioctls
//! (no `btrfs` command).
//!
//! - [`subvolume`]: create, snapshot (writable or read-only), inspect and
//!   delete subvolumes, nested ones included;
//! - [`qgroup`]: per-subvolume limits on referenced bytes, and usage;
//! - [`search`]: the `TREE_SEARCH` ioctl both of them read metadata with.
//!
//! Every function takes host paths that Swineherd chose (the container root
//! and an ID), opens them without following a final symlink, and reports
//! errors with the operation, the path and the kernel's errno.

mod search;
mod sys;

pub mod qgroup;
pub mod subvolume;

use std::ffi::CString;
use std::os::fd::{AsRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::error::{Error, Result};

pub use qgroup::{set_limit, usage, Usage};
pub use subvolume::{create_subvolume, delete_subvolume, snapshot, subvolume_info, SubvolumeInfo};

/// The ioctl requests that create a subvolume or a snapshot.  A subvolume
/// is a qgroup of its own, outside its parent's limit: containers are
/// denied these (see [`crate::seccomp`]).
pub const SUBVOLUME_CREATING_IOCTLS: [u64; 4] = [
    sys::BTRFS_IOC_SNAP_CREATE.code,
    sys::BTRFS_IOC_SUBVOL_CREATE.code,
    sys::BTRFS_IOC_SNAP_CREATE_V2.code,
    sys::BTRFS_IOC_SUBVOL_CREATE_V2.code,
];

use crate::sys::errno;

fn c_path(op: &'static str, path: &Path) -> Result<CString> {
    CString::new(path.as_os_str().as_bytes())
        .map_err(|_| Error::new(op, libc::EINVAL).path(path).detail("NUL byte in path"))
}

/// Open the directory PATH (not following a final symlink) for OP.
fn open_dir(op: &'static str, path: &Path) -> Result<OwnedFd> {
    use nix::fcntl::OFlag;
    let flags = OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC;
    nix::fcntl::open(c_path(op, path)?.as_c_str(), flags, nix::sys::stat::Mode::empty())
        .map_err(|errno| Error::new(op, errno as i32).path(path))
}

/// Issue the ioctl REQUEST on FD with ARG, for OP on PATH.
fn ioctl<T>(fd: &OwnedFd, request: sys::Request<T>, arg: &mut T, op: &'static str, path: &Path) -> Result<i32> {
    // (Raw: one generic helper for the typed requests of `sys`, where nix's
    // ioctl macros would define a function per request.)
    // SAFETY: ARG is the struct REQUEST takes (its type says so), valid and
    // exclusively ours for the call.
    let rc = unsafe { libc::ioctl(fd.as_raw_fd(), request.code as _, arg as *mut T) };
    if rc < 0 {
        return Err(Error::new(op, errno()).path(path));
    }
    Ok(rc)
}

/// Split PATH into its parent directory, opened, and its last component,
/// checked to fit the kernel's name buffers of LIMIT bytes.
fn parent_and_name(op: &'static str, path: &Path, limit: usize) -> Result<(OwnedFd, CString)> {
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(Error::new(op, libc::EINVAL).path(path).detail("no parent directory"));
    };
    if name.len() >= limit {
        return Err(Error::new(op, libc::ENAMETOOLONG).path(path));
    }
    let parent = if parent.as_os_str().is_empty() { Path::new(".") } else { parent };
    let name = CString::new(name.as_bytes())
        .map_err(|_| Error::new(op, libc::EINVAL).path(path).detail("NUL byte in name"))?;
    Ok((open_dir(op, parent)?, name))
}

/// Whether PATH is on a btrfs file system.
pub fn is_btrfs(path: &Path) -> Result<bool> {
    let st = nix::sys::statfs::statfs(path).map_err(|e| Error::new("statfs", e as i32).path(path))?;
    Ok(st.filesystem_type() == nix::sys::statfs::BTRFS_SUPER_MAGIC)
}
