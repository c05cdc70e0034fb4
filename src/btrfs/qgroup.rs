//! Qgroups: a limit on the bytes a subvolume references, and its usage.
//!
//! Quotas must be enabled on the file system (`mkfs.btrfs -R quota`, or
//! `btrfs quota enable MOUNTPOINT`); otherwise these fail with a message
//! that says so.  Usage numbers are those of the last transaction commit
//! (btrfs commits every 30 s by default, or on `sync`).

use std::path::Path;

use super::sys::*;
use super::{ioctl, open_dir, search, subvolume_info};
use crate::error::{Error, Result};

/// A subvolume's usage, from its level-0 qgroup.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Usage {
    /// Bytes referenced by the subvolume (shared with snapshots or not).
    pub referenced: u64,
    /// Bytes referenced only by this subvolume.
    pub exclusive: u64,
    /// The limit on referenced bytes, if any.
    pub limit: Option<u64>,
}

fn quotas_disabled(err: Error, path: &Path) -> Error {
    match err.errno {
        libc::ENOTCONN | libc::ENOENT => err.detail(format!(
            "quotas are not enabled on the file system of {}; run `btrfs quota enable` \
             on its mount point (or make it with `mkfs.btrfs -R quota`)",
            path.display()
        )),
        _ => err,
    }
}

/// Limit the bytes the subvolume at PATH references to LIMIT; `None`
/// removes the limit.
pub fn set_limit(path: &Path, limit: Option<u64>) -> Result<()> {
    let fd = open_dir("limit subvolume", path)?;
    // qgroupid 0: the subvolume FD is on.
    let mut args = btrfs_ioctl_qgroup_limit_args { qgroupid: 0, ..Default::default() };
    args.lim.flags = BTRFS_QGROUP_LIMIT_MAX_RFER as u64;
    args.lim.max_rfer = limit.unwrap_or(u64::MAX);
    ioctl(&fd, BTRFS_IOC_QGROUP_LIMIT, &mut args, "limit subvolume", path).map_err(|err| quotas_disabled(err, path))?;
    Ok(())
}

/// The usage of the subvolume at PATH.
pub fn usage(path: &Path) -> Result<Usage> {
    let id = subvolume_info(path)?.id;
    let fd = open_dir("read qgroup", path)?;
    let read = |kind| {
        search::items(&fd, path, BTRFS_QUOTA_TREE_OBJECTID as u64, 0, kind, id..=id)
            .map_err(|err| quotas_disabled(err, path))
    };
    let info = read(BTRFS_QGROUP_INFO_KEY)?;
    let Some(info) = info.first() else {
        return Err(quotas_disabled(Error::new("read qgroup", libc::ENOENT).path(path), path));
    };
    // struct btrfs_qgroup_info_item: generation, rfer, rfer_cmpr, excl, …
    // struct btrfs_qgroup_limit_item: flags, max_rfer, max_excl, …
    let limit = read(BTRFS_QGROUP_LIMIT_KEY)?.first().and_then(|item| {
        let flags = search::le64(&item.data, 0);
        let max = search::le64(&item.data, 8);
        (flags & BTRFS_QGROUP_LIMIT_MAX_RFER as u64 != 0 && max != u64::MAX).then_some(max)
    });
    Ok(Usage { referenced: search::le64(&info.data, 8), exclusive: search::le64(&info.data, 24), limit })
}
