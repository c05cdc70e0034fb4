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
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::error::{Error, Result};

const OP: &str = "remove tree";

fn cstring(name: &OsStr) -> Result<CString> {
    CString::new(name.as_bytes()).map_err(|_| Error::new(OP, libc::EINVAL).detail("NUL in file name"))
}

use crate::sys::errno as last_errno;

/// Open the directory NAME below DIR, refusing symlinks.
pub(crate) fn open_dir_at(dir: i32, name: &CStr) -> std::result::Result<OwnedFd, i32> {
    let flags = libc::O_RDONLY | libc::O_DIRECTORY | libc::O_NOFOLLOW | libc::O_CLOEXEC;
    // SAFETY: NAME is a NUL-terminated string; a bad DIR fails with EBADF.
    let fd = unsafe { libc::openat(dir, name.as_ptr(), flags) };
    if fd < 0 {
        Err(last_errno())
    } else {
        // SAFETY: FD was just opened and is owned by nothing else.
        Ok(unsafe { OwnedFd::from_raw_fd(fd) })
    }
}

pub(crate) fn stat_at(dir: i32, name: &CStr) -> std::result::Result<libc::stat, i32> {
    // SAFETY: plain data, for which all zeroes is a valid value.
    let mut st: libc::stat = unsafe { std::mem::zeroed() };
    // SAFETY: NAME is a NUL-terminated string, ST a stat to fill.
    let rc = unsafe { libc::fstatat(dir, name.as_ptr(), &mut st, libc::AT_SYMLINK_NOFOLLOW) };
    if rc < 0 {
        Err(last_errno())
    } else {
        Ok(st)
    }
}

/// The names in the directory open as FD, without `.` and `..`.
pub(crate) fn entries(fd: &OwnedFd) -> std::result::Result<Vec<CString>, i32> {
    // (Raw: the DIR stream is read in place, without an allocation per
    // entry beyond the name kept.)
    // SAFETY: fcntl(F_DUPFD_CLOEXEC) takes no pointers.
    let dup = unsafe { libc::fcntl(fd.as_raw_fd(), libc::F_DUPFD_CLOEXEC, 0) };
    if dup < 0 {
        return Err(last_errno());
    }
    // SAFETY: DUP is an open directory descriptor, which DIRP now owns.
    let dirp = unsafe { libc::fdopendir(dup) };
    if dirp.is_null() {
        let errno = last_errno();
        // SAFETY: DUP is still ours: fdopendir failed.
        unsafe { libc::close(dup) };
        return Err(errno);
    }
    let mut names = Vec::new();
    loop {
        // SAFETY: DIRP is an open DIR stream, used by this thread only.
        let entry = unsafe { libc::readdir(dirp) };
        if entry.is_null() {
            break;
        }
        // SAFETY: ENTRY is valid until the next readdir, and its d_name is
        // NUL-terminated; the name is copied before that.
        let name = unsafe { CStr::from_ptr((*entry).d_name.as_ptr()) };
        if name.to_bytes() != b"." && name.to_bytes() != b".." {
            names.push(name.to_owned());
        }
    }
    // SAFETY: DIRP is open, and closed once.
    unsafe { libc::closedir(dirp) };
    Ok(names)
}

fn unlink_at(dir: i32, name: &CStr, flags: i32) -> std::result::Result<(), i32> {
    // SAFETY: NAME is a NUL-terminated string.
    match unsafe { libc::unlinkat(dir, name.as_ptr(), flags) } {
        0 => Ok(()),
        _ => Err(last_errno()),
    }
}

/// One removal in progress: the device it must stay on and what is left of
/// the budget of entries for this step.
struct Removal<'a> {
    dev: libc::dev_t,
    budget: usize,
    path: &'a Path,
}

impl Removal<'_> {
    fn fail(&self, errno: i32, what: &str) -> Error {
        let err = Error::new(OP, errno).path(self.path);
        match errno {
            libc::EXDEV => err.detail(format!("{what} is another file system mounted inside; unmount it first")),
            _ => err.detail(format!("{what}: {}", crate::error::strerror(errno))),
        }
    }

    /// Remove entry NAME of DIR (whose path, for messages, is WHERE).
    /// Return true if it is gone, false if the budget ran out first.
    fn remove(&mut self, dir: i32, name: &CStr, where_: &str) -> Result<bool> {
        let what = format!("{where_}/{}", name.to_string_lossy());
        let st = match stat_at(dir, name) {
            Ok(st) => st,
            Err(libc::ENOENT) => return Ok(true),
            Err(errno) => return Err(self.fail(errno, &what)),
        };
        if st.st_mode & libc::S_IFMT == libc::S_IFDIR {
            if st.st_dev != self.dev {
                return Err(self.fail(libc::EXDEV, &what));
            }
            let sub = open_dir_at(dir, name).map_err(|errno| self.fail(errno, &what))?;
            for entry in entries(&sub).map_err(|errno| self.fail(errno, &what))? {
                if !self.remove(sub.as_raw_fd(), &entry, &what)? {
                    return Ok(false);
                }
            }
        }
        if self.budget == 0 {
            return Ok(false);
        }
        let flags = if st.st_mode & libc::S_IFMT == libc::S_IFDIR { libc::AT_REMOVEDIR } else { 0 };
        match unlink_at(dir, name, flags) {
            Ok(()) | Err(libc::ENOENT) => {
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
    let parent_dir = open_dir_at(libc::AT_FDCWD, &cstring(parent.as_os_str())?)
        .map_err(|errno| Error::new(OP, errno).path(parent))?;
    let name = cstring(name)?;
    let dev = match stat_at(parent_dir.as_raw_fd(), &name) {
        Ok(st) => st.st_dev,
        Err(libc::ENOENT) => return Ok(true),
        Err(errno) => return Err(Error::new(OP, errno).path(path)),
    };
    let mut removal = Removal { dev, budget: budget.max(1), path };
    removal.remove(parent_dir.as_raw_fd(), &name, &parent.to_string_lossy())
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
        // SAFETY: geteuid(2) takes nothing and cannot fail.
        assert_eq!(unsafe { libc::geteuid() }, 0, "this test needs root");
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
