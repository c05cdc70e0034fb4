//! Subvolumes: create, snapshot, inspect, delete.

use std::os::fd::{AsRawFd, OwnedFd};
use std::path::Path;

use super::sys::*;
use super::{ioctl, open_dir, parent_and_name, search};
use crate::error::{Error, Result};

/// What `BTRFS_IOC_GET_SUBVOL_INFO` tells about a subvolume.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubvolumeInfo {
    /// The subvolume's id (its tree id; its level-0 qgroup is `0/id`).
    pub id: u64,
    /// The id of the subvolume it lives in.
    pub parent_id: u64,
    /// Whether it is read-only.
    pub readonly: bool,
    /// Whether it was made as a snapshot of another subvolume (it has a
    /// parent UUID), rather than created empty.
    pub snapshot: bool,
}

/// Copy NAME into the kernel's fixed-size, NUL-terminated name buffer.
fn fill_name(buffer: &mut [std::ffi::c_char], name: &std::ffi::CStr) {
    for (dst, src) in buffer.iter_mut().zip(name.to_bytes()) {
        *dst = *src as std::ffi::c_char;
    }
}

/// Create an empty subvolume at PATH, whose parent directory must exist.
pub fn create_subvolume(path: &Path) -> Result<()> {
    const OP: &str = "create subvolume";
    let mut args = btrfs_ioctl_vol_args::default();
    let (parent, name) = parent_and_name(OP, path, args.name.len())?;
    fill_name(&mut args.name, &name);
    ioctl(&parent, BTRFS_IOC_SUBVOL_CREATE, &mut args, OP, path)?;
    Ok(())
}

/// Make DEST a snapshot of the subvolume SOURCE: instant, sharing all data
/// until either side writes.  READONLY makes it a read-only snapshot.
pub fn snapshot(source: &Path, dest: &Path, readonly: bool) -> Result<()> {
    const OP: &str = "snapshot subvolume";
    let source_fd = open_dir(OP, source)?;
    check_subvolume_root(&source_fd, source)?;
    let mut args = btrfs_ioctl_vol_args_v2::default();
    // SAFETY: the union's members are all plain bytes; its length is read.
    let name_len = unsafe { args.__bindgen_anon_2.name.len() };
    let (parent, name) = parent_and_name(OP, dest, name_len)?;
    args.fd = source_fd.as_raw_fd() as i64;
    args.flags = if readonly { BTRFS_SUBVOL_RDONLY as u64 } else { 0 };
    // SAFETY: as above; the name member is the one the request reads.
    fill_name(unsafe { &mut args.__bindgen_anon_2.name }, &name);
    ioctl(&parent, BTRFS_IOC_SNAP_CREATE_V2, &mut args, OP, dest).map_err(|err| match err.errno {
        libc::EXDEV => err.detail(format!("{} is on another file system", source.display())),
        _ => err,
    })?;
    Ok(())
}

fn info_of(fd: &OwnedFd, path: &Path) -> Result<SubvolumeInfo> {
    // SAFETY: plain data, for which all zeroes is a valid value.
    let mut args: btrfs_ioctl_get_subvol_info_args = unsafe { std::mem::zeroed() };
    ioctl(fd, BTRFS_IOC_GET_SUBVOL_INFO, &mut args, "inspect subvolume", path)?;
    Ok(SubvolumeInfo {
        id: args.treeid,
        parent_id: args.parent_id,
        // The root item's flags, not the ioctl's BTRFS_SUBVOL_* ones.
        readonly: args.flags & BTRFS_ROOT_SUBVOL_RDONLY as u64 != 0,
        snapshot: args.parent_uuid.iter().any(|&b| b != 0),
    })
}

/// Information about the subvolume at PATH.  Fails with `EINVAL` if PATH is
/// a directory of a subvolume but not a subvolume's top directory.
pub fn subvolume_info(path: &Path) -> Result<SubvolumeInfo> {
    let fd = open_dir("inspect subvolume", path)?;
    check_subvolume_root(&fd, path)?;
    info_of(&fd, path)
}

/// Fail unless FD is the top directory of a subvolume (inode 256 on btrfs).
fn check_subvolume_root(fd: &OwnedFd, path: &Path) -> Result<()> {
    let st = nix::sys::stat::fstat(fd).map_err(|e| Error::new("stat", e as i32).path(path))?;
    if !super::is_btrfs(path)? || st.st_ino != BTRFS_FIRST_FREE_OBJECTID as u64 {
        return Err(Error::new("inspect subvolume", libc::EINVAL).path(path).detail("not a btrfs subvolume"));
    }
    Ok(())
}

/// The ids of the subvolumes directly inside subvolume ID.
fn children(fd: &OwnedFd, path: &Path, id: u64) -> Result<Vec<u64>> {
    let refs = search::items(fd, path, BTRFS_ROOT_TREE_OBJECTID as u64, id, BTRFS_ROOT_REF_KEY, 0..=u64::MAX)?;
    Ok(refs.into_iter().map(|item| item.offset).collect())
}

/// Delete subvolume ID (through FD, any directory of the same file system)
/// after the subvolumes nested in it, deepest first.
fn delete_by_id(fd: &OwnedFd, path: &Path, id: u64) -> Result<()> {
    for child in children(fd, path, id)? {
        delete_by_id(fd, path, child)?;
    }
    let mut args = btrfs_ioctl_vol_args_v2 { flags: BTRFS_SUBVOL_SPEC_BY_ID as u64, ..Default::default() };
    args.__bindgen_anon_2.subvolid = id;
    ioctl(fd, BTRFS_IOC_SNAP_DESTROY_V2, &mut args, "delete subvolume", path)?;
    Ok(())
}

/// Delete the subvolume at PATH with everything in it, including the
/// subvolumes a container may have created inside it.  Subvolumes are found
/// by id in the file system's metadata, never by walking the container's
/// directories, so no symlink planted there can redirect the deletion.
pub fn delete_subvolume(path: &Path) -> Result<()> {
    let fd = open_dir("delete subvolume", path)?;
    check_subvolume_root(&fd, path)?;
    let info = info_of(&fd, path)?;
    // Delete through the parent directory: the subvolume's own directory
    // goes away with it.
    let (parent, _) = parent_and_name("delete subvolume", path, usize::MAX)?;
    drop(fd);
    delete_by_id(&parent, path, info.id)
}
