//! One home for what the primitives share at the system-call level: the
//! errno, socket options, a netlink send that is safe after `clone`, and the
//! kernel's rule for interface names.  `nix` is used where it has the call;
//! a raw `libc` call remains only where `nix` has none, or where the code
//! runs in a clone child and must stay async-signal-safe.  The pidfd
//! calls are here, raw, because neither glibc 2.36 nor nix 0.30 wraps them.

pub mod process;

use std::ffi::c_int;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

use nix::sys::socket::{setsockopt, sockopt};
use nix::sys::time::TimeVal;

use crate::error::{Error, Result};

/// The calling thread's errno, `EIO` if there is none.  Async-signal-safe.
pub fn errno() -> c_int {
    std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO)
}

/// Give SOCKET a receive timeout of TIMEOUT, and a send timeout too if
/// SEND, so that a kernel that does not answer never holds the caller.
pub fn set_socket_timeouts(socket: &impl AsFd, timeout: Duration, send: bool) -> Result<()> {
    let tv = TimeVal::new(timeout.as_secs() as _, timeout.subsec_micros() as _);
    let fail = |e: nix::Error| Error::new("set socket timeout", e as i32);
    setsockopt(socket, sockopt::ReceiveTimeout, &tv).map_err(fail)?;
    if send {
        setsockopt(socket, sockopt::SendTimeout, &tv).map_err(fail)?;
    }
    Ok(())
}

/// Send BYTES on the netlink socket SOCKET to the kernel: `sendto`'s
/// result, the bytes sent or -1 with errno set.  Raw and allocation-free,
/// as it runs in clone children too (see `crate::detached`).
pub fn send_to_kernel(socket: c_int, bytes: &[u8]) -> isize {
    // SAFETY: an all-zero sockaddr_nl is valid (port 0: the kernel).
    let mut kernel: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    kernel.nl_family = libc::AF_NETLINK as libc::sa_family_t;
    // SAFETY: BYTES is valid for reads of its length, KERNEL for its size;
    // an invalid SOCKET makes the call fail with EBADF, nothing worse.
    unsafe {
        libc::sendto(
            socket,
            bytes.as_ptr().cast(),
            bytes.len(),
            0,
            (&kernel as *const libc::sockaddr_nl).cast(),
            std::mem::size_of::<libc::sockaddr_nl>() as libc::socklen_t,
        )
    }
}

/// A pipe, both ends close-on-exec: (read, write).
pub fn pipe() -> Result<(OwnedFd, OwnedFd)> {
    nix::unistd::pipe2(nix::fcntl::OFlag::O_CLOEXEC).map_err(|e| Error::new("create pipe", e as i32).path("pipe2"))
}

/// `pidfd_open(PID, 0)`: a close-on-exec descriptor of process PID, readable
/// once it has ended.
pub fn pidfd_open(pid: i32) -> Result<OwnedFd> {
    // SAFETY: pidfd_open takes a PID and flags, no pointers.
    let fd = unsafe { libc::syscall(libc::SYS_pidfd_open, pid, 0) };
    if fd < 0 {
        return Err(Error::new("open pidfd", errno()).path(format!("PID {pid}")));
    }
    // SAFETY: FD was just returned by the kernel and is owned by nothing else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd as RawFd) })
}

/// `pidfd_send_signal(PIDFD, SIGNAL, NULL, 0)`: 0, or -1 with errno set.
/// Allocation-free and async-signal-safe, for clone children too.
pub fn pidfd_send_signal_raw(pidfd: RawFd, signal: c_int) -> libc::c_long {
    // SAFETY: no siginfo is passed (NULL); an invalid PIDFD makes the call
    // fail with EBADF, nothing worse.
    unsafe { libc::syscall(libc::SYS_pidfd_send_signal, pidfd, signal, 0usize, 0) }
}

/// Send SIGNAL (0: only check that it lives) to the process behind PIDFD.
pub fn pidfd_send_signal(pidfd: impl AsFd, signal: c_int) -> Result<()> {
    if pidfd_send_signal_raw(pidfd.as_fd().as_raw_fd(), signal) < 0 {
        return Err(Error::new("signal", errno()).path("pidfd_send_signal"));
    }
    Ok(())
}

/// IFNAMSIZ - 1: the longest interface name the kernel takes.
pub const MAX_IFNAME: usize = 15;

/// Check NAME against the kernel's rule for interface names
/// (`dev_valid_name`): 1 to 15 bytes, not `.` or `..`, no `/`, `:`, white
/// space or NUL.
pub fn check_ifname(name: &str) -> Result<()> {
    let bad = |c: char| c == '/' || c == ':' || c == '\0' || c.is_whitespace();
    if name.is_empty() || name.len() > MAX_IFNAME || name == "." || name == ".." || name.contains(bad) {
        return Err(Error::new("check interface name", libc::EINVAL).path(name).detail(format!(
            "interface names have 1 to {MAX_IFNAME} bytes, are not '.' or '..', and have no '/', ':' or white space"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn interface_names_follow_the_kernels_rule() {
        for good in ["swineherd0", "vh-0123456789ab", "a", "eth0.1"] {
            assert!(check_ifname(good).is_ok(), "{good}");
        }
        for bad in ["", ".", "..", "a/b", "a:b", "a b", "a\tb", "a\0b", "sixteen-bytes-xx"] {
            let err = check_ifname(bad).unwrap_err();
            assert_eq!(err.errno, libc::EINVAL, "{bad:?}");
            assert!(err.to_string().contains("1 to 15 bytes"), "{err}");
        }
    }

    #[test]
    fn socket_timeouts_are_set() {
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        set_socket_timeouts(&a, Duration::from_millis(2500), true).unwrap();
        assert_eq!(a.read_timeout().unwrap(), Some(Duration::from_millis(2500)));
        assert_eq!(a.write_timeout().unwrap(), Some(Duration::from_millis(2500)));
    }
}
