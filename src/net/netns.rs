//! Network namespaces: a container's namespace by PID, netlink sockets
//! opened inside one, and bind mounts under /run/netns for `ip netns`.

use std::ffi::CString;
use std::fs::File;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use crate::error::{Context, Error, Result};

/// The network namespace of process PID, as an open file.
pub fn of_pid(pid: i32) -> Result<OwnedFd> {
    let path = format!("/proc/{pid}/ns/net");
    Ok(File::open(&path).at("open network namespace", &path)?.into())
}

/// A new NETLINK_ROUTE socket in the caller's network namespace.
pub fn netlink_socket() -> io::Result<OwnedFd> {
    // SAFETY: socket(2) takes no pointers.
    let fd = unsafe {
        libc::socket(libc::AF_NETLINK, libc::SOCK_DGRAM | libc::SOCK_CLOEXEC, libc::NETLINK_ROUTE)
    };
    if fd < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: FD was just opened and is owned by nothing else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// A NETLINK_ROUTE socket opened inside the network namespace NETNS, by a
/// thread that joins the namespace, opens the socket and ends; it is joined
/// before this returns, so no thread outlives the call.
pub fn socket_in(netns: &OwnedFd) -> Result<OwnedFd> {
    let ns = netns.as_raw_fd();
    let opened = std::thread::scope(|scope| {
        scope
            .spawn(move || {
                // SAFETY: setns(2) takes no pointers; it moves only this
                // short-lived thread.
                if unsafe { libc::setns(ns, libc::CLONE_NEWNET) } < 0 {
                    return Err(Error::io("join network namespace", "setns", &io::Error::last_os_error()));
                }
                netlink_socket().map_err(|e| Error::io("open netlink socket", "NETLINK_ROUTE", &e))
            })
            .join()
    });
    opened.unwrap_or_else(|_| Err(Error::new("open netlink socket", libc::EFAULT).detail("thread panicked")))
}

fn c_path(op: &'static str, path: &Path) -> Result<CString> {
    CString::new(path.as_os_str().as_bytes()).map_err(|_| Error::new(op, libc::EINVAL).path(path))
}

/// Make the network namespace of PID visible at PATH (e.g.
/// /run/netns/NAME, for `ip netns exec NAME`), by a bind mount on an empty
/// file.  The mount keeps the namespace alive until [`detach`].
pub fn attach(pid: i32, path: &Path) -> Result<()> {
    const OP: &str = "attach network namespace";
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).at(OP, dir)?;
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)
        .at(OP, path)?;
    let source = c_path(OP, Path::new(&format!("/proc/{pid}/ns/net")))?;
    let target = c_path(OP, path)?;
    // SAFETY: SOURCE and TARGET are NUL-terminated strings; NULL type and
    // data are allowed for a bind mount.
    let rc = unsafe {
        libc::mount(source.as_ptr(), target.as_ptr(), std::ptr::null(), libc::MS_BIND, std::ptr::null())
    };
    if rc < 0 {
        let err = Error::io(OP, path, &io::Error::last_os_error());
        let _ = std::fs::remove_file(path);
        return Err(err);
    }
    Ok(())
}

/// Undo [`attach`]: unmount PATH and remove it.  A PATH that is not there
/// (any more) is fine.
pub fn detach(path: &Path) -> Result<()> {
    const OP: &str = "detach network namespace";
    let target = c_path(OP, path)?;
    // SAFETY: TARGET is a NUL-terminated string.
    if unsafe { libc::umount2(target.as_ptr(), libc::MNT_DETACH) } < 0 {
        let err = io::Error::last_os_error();
        // EINVAL: not a mount point (e.g. a half-made attach).
        if !matches!(err.raw_os_error(), Some(libc::EINVAL) | Some(libc::ENOENT)) {
            return Err(Error::io(OP, path, &err));
        }
    }
    match std::fs::remove_file(path) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => Err(Error::io(OP, path, &err)),
        _ => Ok(()),
    }
}
