//! Removing a container's data directory: without following symbolic links,
//! without crossing into other file systems, and in bounded steps.
//!
//! The tree belongs to a container and may be hostile: it can hold symlinks
//! to host files, bind-mount points, or millions of entries.  Every entry is
//! reached with `openat`/`unlinkat` relative to its parent's descriptor and
//! `O_NOFOLLOW`, so a symlink is removed, never followed; a directory on
//! another device stops the removal with `EXDEV` instead of emptying what is
//! mounted there.  [`remove_tree_step`] removes at most a given number of
//! entries per call, so that Shepherd can call it in a loop and serve other
//! clients in between.

use std::ffi::{CStr, CString, OsStr};
use std::os::fd::{AsFd, BorrowedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use nix::dir::Dir;
use nix::errno::Errno;
use nix::fcntl::{openat, OFlag, AT_FDCWD};
use nix::sys::stat::{fstatat, FileStat, Mode, SFlag};
use nix::unistd::{unlinkat, UnlinkatFlags};

use crate::error::{Error, Result};

const OP: &str = "remove tree";

fn cstring(name: &OsStr) -> Result<CString> {
    CString::new(name.as_bytes()).map_err(|_| Error::new(OP, libc::EINVAL).detail("NUL in file name"))
}

/// The flags that open a directory below another, refusing symlinks.
pub(crate) fn dir_flags() -> OFlag {
    OFlag::O_RDONLY | OFlag::O_DIRECTORY | OFlag::O_NOFOLLOW | OFlag::O_CLOEXEC
}

/// The status of NAME below DIR, not following a symlink.
pub(crate) fn stat_at(dir: BorrowedFd, name: &CStr) -> std::result::Result<FileStat, Errno> {
    fstatat(dir, name, nix::fcntl::AtFlags::AT_SYMLINK_NOFOLLOW)
}

pub(crate) fn is_dir(st: &FileStat) -> bool {
    SFlag::from_bits_truncate(st.st_mode) & SFlag::S_IFMT == SFlag::S_IFDIR
}

/// The names in DIR, without `.` and `..`, read before any is removed.
pub(crate) fn entries(dir: &mut Dir) -> std::result::Result<Vec<CString>, Errno> {
    let mut names = Vec::new();
    for entry in dir.iter() {
        let name = entry?.file_name().to_owned();
        if name.to_bytes() != b"." && name.to_bytes() != b".." {
            names.push(name);
        }
    }
    Ok(names)
}

/// One removal in progress: the device it must stay on and what is left of
/// the budget of entries for this step.
struct Removal<'a> {
    dev: libc::dev_t,
    budget: usize,
    path: &'a Path,
}

impl Removal<'_> {
    fn fail(&self, errno: Errno, what: &str) -> Error {
        let errno = errno as i32;
        let err = Error::new(OP, errno).path(self.path);
        match errno {
            libc::EXDEV => err.detail(format!("{what} is another file system mounted inside; unmount it first")),
            _ => err.detail(format!("{what}: {}", crate::error::strerror(errno))),
        }
    }

    /// Remove entry NAME of DIR (whose path, for messages, is WHERE).
    /// Return true if it is gone, false if the budget ran out first.
    fn remove(&mut self, dir: BorrowedFd, name: &CStr, where_: &str) -> Result<bool> {
        let what = format!("{where_}/{}", name.to_string_lossy());
        let st = match stat_at(dir, name) {
            Ok(st) => st,
            Err(Errno::ENOENT) => return Ok(true),
            Err(errno) => return Err(self.fail(errno, &what)),
        };
        if is_dir(&st) {
            if st.st_dev != self.dev {
                return Err(self.fail(Errno::EXDEV, &what));
            }
            let mut sub =
                Dir::openat(dir, name, dir_flags(), Mode::empty()).map_err(|errno| self.fail(errno, &what))?;
            for entry in entries(&mut sub).map_err(|errno| self.fail(errno, &what))? {
                if !self.remove(sub.as_fd(), &entry, &what)? {
                    return Ok(false);
                }
            }
        }
        if self.budget == 0 {
            return Ok(false);
        }
        let flags = if is_dir(&st) { UnlinkatFlags::RemoveDir } else { UnlinkatFlags::NoRemoveDir };
        match unlinkat(dir, name, flags) {
            Ok(()) | Err(Errno::ENOENT) => {
                self.budget -= 1;
                Ok(true)
            }
            Err(errno) => Err(self.fail(errno, &what)),
        }
    }
}

/// Remove at most BUDGET entries of the tree at PATH (a directory, or any
/// other file), depth first.  Return true once PATH is gone (also if it did
/// not exist), false if entries remain: call again.
pub fn remove_tree_step(path: &Path, budget: usize) -> Result<bool> {
    let (Some(parent), Some(name)) = (path.parent(), path.file_name()) else {
        return Err(Error::new(OP, libc::EINVAL).path(path).detail("refusing to remove a root"));
    };
    let parent_dir = openat(AT_FDCWD, cstring(parent.as_os_str())?.as_c_str(), dir_flags(), Mode::empty())
        .map_err(|errno| Error::new(OP, errno as i32).path(parent))?;
    let name = cstring(name)?;
    let dev = match stat_at(parent_dir.as_fd(), &name) {
        Ok(st) => st.st_dev,
        Err(Errno::ENOENT) => return Ok(true),
        Err(errno) => return Err(Error::new(OP, errno as i32).path(path)),
    };
    let mut removal = Removal { dev, budget: budget.max(1), path };
    removal.remove(parent_dir.as_fd(), &name, &parent.to_string_lossy())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::os::unix::fs::symlink;

    fn scratch(name: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("swh-tree-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir).unwrap();
        dir
    }

    #[test]
    fn removes_a_tree_in_steps() {
        let top = scratch("steps");
        let data = top.join("data");
        for i in 0..10 {
            fs::create_dir_all(data.join(format!("d{i}/e"))).unwrap();
            fs::write(data.join(format!("d{i}/e/f")), "x").unwrap();
        }
        let mut steps = 0;
        while !remove_tree_step(&data, 7).unwrap() {
            steps += 1;
            assert!(steps < 100);
        }
        assert!(steps >= 3, "31 entries in steps of 7 take several calls");
        assert!(!data.exists());
        assert!(top.exists());
        fs::remove_dir_all(&top).unwrap();
    }

    #[test]
    fn symlinks_are_removed_not_followed() {
        let top = scratch("symlinks");
        let outside = top.join("outside");
        fs::create_dir(&outside).unwrap();
        fs::write(outside.join("precious"), "keep me").unwrap();
        let data = top.join("data");
        fs::create_dir_all(data.join("sub")).unwrap();
        symlink(&outside, data.join("link-to-dir")).unwrap();
        symlink(outside.join("precious"), data.join("sub/link-to-file")).unwrap();
        assert!(remove_tree_step(&data, usize::MAX).unwrap());
        assert!(!data.exists());
        assert_eq!(fs::read_to_string(outside.join("precious")).unwrap(), "keep me");
        fs::remove_dir_all(&top).unwrap();
    }

    #[test]
    fn missing_path_is_already_removed() {
        assert!(remove_tree_step(&scratch("missing").join("x"), 10).unwrap());
        let err = remove_tree_step(Path::new("/nonexistent-swh/x"), 10).unwrap_err();
        assert_eq!(err.errno, libc::ENOENT);
    }

    #[test]
    fn refuses_the_root() {
        assert_eq!(remove_tree_step(Path::new("/"), 10).unwrap_err().errno, libc::EINVAL);
    }

    #[test]
    #[ignore = "needs root"]
    fn stops_at_a_mount_point() {
        // Removing a tree that holds a mount must fail with EXDEV before
        // touching what is mounted there.  Mounting needs root: tests/check
        // runs it as root with --include-ignored.
        assert!(nix::unistd::geteuid().is_root(), "this test needs root");
        let top = scratch("mount");
        let data = top.join("data");
        let mnt = data.join("mnt");
        fs::create_dir_all(&mnt).unwrap();
        let mounted = std::process::Command::new("mount")
            .args(["-t", "tmpfs", "swh-test", mnt.to_str().unwrap()])
            .status()
            .unwrap();
        assert!(mounted.success());
        // Unmount also when an assertion fails: leave nothing on the host.
        struct Unmount<'a>(&'a Path);
        impl Drop for Unmount<'_> {
            fn drop(&mut self) {
                let _ = std::process::Command::new("umount").arg(self.0).status();
            }
        }
        let guard = Unmount(&mnt);
        fs::write(mnt.join("on-other-fs"), "x").unwrap();
        let err = remove_tree_step(&data, usize::MAX).unwrap_err();
        assert_eq!(err.errno, libc::EXDEV);
        assert!(err.to_string().contains("unmount it first"), "{err}");
        assert!(mnt.join("on-other-fs").exists());
        drop(guard);
        fs::remove_dir_all(&top).unwrap();
    }
}
