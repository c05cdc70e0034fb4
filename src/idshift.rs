//! Giving a container's data to its id range (issue #18): the owner and
//! group of every file of a tree moved from one range of host ids to
//! another, as `new --from` needs when the copy (or snapshot) of another
//! container's data or of a template becomes a new container's.
//!
//! The tree may come from a container and be hostile: like [`crate::tree`],
//! every entry is reached relative to its parent's descriptor, directories
//! are opened with `O_NOFOLLOW`, symbolic links are changed themselves
//! (`AT_SYMLINK_NOFOLLOW`), never followed, and a directory on another
//! device is left alone.  The copy is fresh and not yet any container's, so
//! nothing inside changes it during the walk.  `chown` clears the set-user-
//! and set-group-ID bits: they are put back.

use std::ffi::{CStr, CString};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::dir::Dir;
use nix::errno::Errno;
use nix::fcntl::{AtFlags, AT_FDCWD};
use nix::sys::stat::{fchmodat, FchmodatFlags, FileStat, Mode, SFlag};
use nix::unistd::{fchownat, Gid, Uid};

use crate::error::{Error, Result};
use crate::tree::{dir_flags, entries, is_dir, stat_at};

const OP: &str = "give data to the id range";

/// A move of ids: FROM..FROM+COUNT to TO..TO+COUNT; other ids are kept.
#[derive(Clone, Copy, Debug)]
pub struct Shift {
    pub from: u32,
    pub to: u32,
    pub count: u32,
}

impl Shift {
    /// ID moved.
    pub fn id(&self, id: u32) -> u32 {
        if id >= self.from && id - self.from < self.count {
            id - self.from + self.to
        } else {
            id
        }
    }
}

fn change(dir: BorrowedFd, name: &CStr, st: &FileStat, shift: Shift) -> std::result::Result<(), Errno> {
    let (uid, gid) = (shift.id(st.st_uid), shift.id(st.st_gid));
    if (uid, gid) == (st.st_uid, st.st_gid) {
        return Ok(());
    }
    fchownat(dir, name, Some(Uid::from_raw(uid)), Some(Gid::from_raw(gid)), AtFlags::AT_SYMLINK_NOFOLLOW)?;
    let special = st.st_mode & (libc::S_ISUID | libc::S_ISGID);
    let link = SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFLNK;
    if special != 0 && !link {
        // NAME is no symlink (checked with lstat): following it is moot.
        fchmodat(dir, name, Mode::from_bits_truncate(st.st_mode & 0o7777), FchmodatFlags::FollowSymlink)?;
    }
    Ok(())
}

/// Shift the entries below DIR (on device DEV), depth first.
fn shift_below(dir: &mut Dir, dev: libc::dev_t, shift: Shift) -> std::result::Result<(), Errno> {
    for name in entries(dir)? {
        let st = stat_at(dir.as_fd(), &name)?;
        change(dir.as_fd(), &name, &st, shift)?;
        if is_dir(&st) && st.st_dev == dev {
            shift_below(&mut Dir::openat(dir.as_fd(), name.as_c_str(), dir_flags(), Mode::empty())?, dev, shift)?;
        }
    }
    Ok(())
}

/// Move the owners and groups of the tree at PATH (PATH included) as SHIFT
/// says.
pub fn shift_tree(path: &Path, shift: Shift) -> Result<()> {
    let fail = |errno: Errno| Error::new(OP, errno as i32).path(path);
    let c = CString::new(path.as_os_str().as_bytes()).map_err(|_| fail(Errno::EINVAL))?;
    let mut top = Dir::openat(AT_FDCWD, c.as_c_str(), dir_flags(), Mode::empty()).map_err(fail)?;
    let st = stat_at(AT_FDCWD, &c).map_err(fail)?;
    change(AT_FDCWD, &c, &st, shift).map_err(fail)?;
    shift_below(&mut top, st.st_dev, shift).map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, MetadataExt, PermissionsExt};

    #[test]
    fn ids_move_within_the_range_only() {
        let shift = Shift { from: 0, to: 1_000_000_000, count: 65536 };
        assert_eq!(shift.id(0), 1_000_000_000);
        assert_eq!(shift.id(65535), 1_000_065_535);
        assert_eq!(shift.id(65536), 65536);
    }

    #[test]
    #[ignore = "needs root"]
    fn a_tree_moves_without_following_links() {
        let dir = std::env::temp_dir().join(format!("swh-idshift-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("sub")).unwrap();
        std::fs::write(dir.join("sub/file"), "x").unwrap();
        std::fs::set_permissions(dir.join("sub/file"), std::fs::Permissions::from_mode(0o4755)).unwrap();
        let outside = std::env::temp_dir().join(format!("swh-idshift-out-{}", std::process::id()));
        std::fs::write(&outside, "host").unwrap();
        symlink(&outside, dir.join("link")).unwrap();
        shift_tree(&dir, Shift { from: 0, to: 3_000_000_000, count: 65536 }).unwrap();
        let meta = |p: &Path| std::fs::symlink_metadata(p).unwrap();
        for p in [dir.clone(), dir.join("sub"), dir.join("sub/file"), dir.join("link")] {
            assert_eq!((meta(&p).uid(), meta(&p).gid()), (3_000_000_000, 3_000_000_000), "{}", p.display());
        }
        assert_eq!(meta(&dir.join("sub/file")).mode() & 0o7777, 0o4755);
        assert_eq!(meta(&outside).uid(), 0);
        std::fs::remove_dir_all(&dir).unwrap();
        std::fs::remove_file(&outside).unwrap();
    }
}
