//! Network namespaces: a container's namespace by PID, netlink sockets
//! opened inside one, and bind mounts under /run/netns for `ip netns`.

use std::fs::File;
use std::io;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

use nix::mount::{mount, umount2, MntFlags, MsFlags};
use nix::sched::{setns, CloneFlags};

use crate::error::{Context, Error, Result};

/// The network namespace of process PID, as an open file.
pub fn of_pid(pid: i32) -> Result<OwnedFd> {
    let path = format!("/proc/{pid}/ns/net");
    Ok(File::open(&path).at("open network namespace", &path)?.into())
}

/// A new NETLINK_ROUTE socket in the caller's network namespace.
pub fn netlink_socket() -> io::Result<OwnedFd> {
    use nix::sys::socket::{socket, AddressFamily, SockFlag, SockProtocol, SockType};
    socket(AddressFamily::Netlink, SockType::Datagram, SockFlag::SOCK_CLOEXEC, SockProtocol::NetlinkRoute)
        .map_err(io::Error::from)
}

/// A NETLINK_ROUTE socket opened inside the network namespace NETNS, by a
/// thread that joins the namespace, opens the socket and ends; it is joined
/// before this returns, so no thread outlives the call.
pub fn socket_in(netns: &OwnedFd) -> Result<OwnedFd> {
    let ns = netns.as_fd();
    let opened = std::thread::scope(|scope| {
        scope
            .spawn(move || {
                // It moves only this short-lived thread.
                setns(ns, CloneFlags::CLONE_NEWNET)
                    .map_err(|e| Error::new("join network namespace", e as i32).path("setns"))?;
                netlink_socket().map_err(|e| Error::io("open netlink socket", "NETLINK_ROUTE", &e))
            })
            .join()
    });
    opened.unwrap_or_else(|_| Err(Error::new("open netlink socket", libc::EFAULT).detail("thread panicked")))
}

/// Make the network namespace of PID visible at PATH (e.g.
/// /run/netns/NAME, for `ip netns exec NAME`), by a bind mount on an empty
/// file.  The mount keeps the namespace alive until [`detach`].
pub fn attach(pid: i32, path: &Path) -> Result<()> {
    const OP: &str = "attach network namespace";
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).at(OP, dir)?;
    }
    std::fs::OpenOptions::new().write(true).create_new(true).open(path).at(OP, path)?;
    let source = format!("/proc/{pid}/ns/net");
    if let Err(errno) = mount(Some(source.as_str()), path, None::<&str>, MsFlags::MS_BIND, None::<&str>) {
        let _ = std::fs::remove_file(path);
        return Err(Error::new(OP, errno as i32).path(path));
    }
    Ok(())
}

/// Undo [`attach`]: unmount PATH and remove it.  A PATH that is not there
/// (any more) is fine.
pub fn detach(path: &Path) -> Result<()> {
    const OP: &str = "detach network namespace";
    if let Err(errno) = umount2(path, MntFlags::MNT_DETACH) {
        // EINVAL: not a mount point (e.g. a half-made attach).
        if !matches!(errno, nix::Error::EINVAL | nix::Error::ENOENT) {
            return Err(Error::new(OP, errno as i32).path(path));
        }
    }
    match std::fs::remove_file(path) {
        Err(err) if err.kind() != io::ErrorKind::NotFound => Err(Error::io(OP, path, &err)),
        _ => Ok(()),
    }
}
