//! Netlink requests that the kernel is slow to answer, sent by a short-lived
//! child so that Shepherd does not wait.
//!
//! Deleting a network device, or nftables chains, waits for an RCU grace
//! period (16–22 ms here) *inside* the `sendmsg` system call: a non-blocking
//! socket would not help.  So the request is prepared first (the message
//! bytes, the socket, a pipe, a receive buffer), then a child cloned with
//! exit signal 0 and `CLONE_PIDFD` — invisible to Shepherd's
//! `waitpid(WAIT_ANY)`, and it never execs, which would reset that — sends
//! it, reads the kernel's acknowledgements, writes the first error (or 0)
//! to the pipe and exits.  The caller waits for the pidfd to become
//! readable (from Scheme, with Fibers), then calls [`finish`].
//!
//! The child makes only async-signal-safe system calls, allocates nothing
//! and panics nowhere; like `exec`'s relay, it blocks every signal (so that
//! Guile's handlers, which write to Shepherd's signal pipe, never run
//! there) and closes every descriptor of Shepherd's but its own two.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

use crate::error::{Error, Result};
use crate::exec::{clone_pidfd, pipe, reap_raw};
use crate::sys::{errno, send_to_kernel, set_socket_timeouts};

/// How long the child waits for the kernel's answers.
const TIMEOUT: Duration = Duration::from_millis(2000);

const NLMSG_HDRLEN: usize = 16;
const NLMSG_ERROR: u16 = 2;

/// The acknowledgements in BYTES, netlink messages as the kernel sends them,
/// as (sequence number, errno) pairs; errno 0 for success.  Allocates
/// nothing, so that the child may use it.
pub struct Acks<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Acks<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Acks { bytes, at: 0 }
    }
}

impl Iterator for Acks<'_> {
    type Item = (u32, i32);

    fn next(&mut self) -> Option<(u32, i32)> {
        let bytes = self.bytes;
        while self.at + NLMSG_HDRLEN <= bytes.len() {
            let at = self.at;
            let word =
                |i: usize| u32::from_ne_bytes([bytes[at + i], bytes[at + i + 1], bytes[at + i + 2], bytes[at + i + 3]]);
            let len = word(0) as usize;
            if len < NLMSG_HDRLEN || at + len > bytes.len() {
                self.at = bytes.len();
                return None;
            }
            self.at += (len + 3) & !3;
            let kind = u16::from_ne_bytes([bytes[at + 4], bytes[at + 5]]);
            if kind == NLMSG_ERROR && len >= NLMSG_HDRLEN + 4 {
                return Some((word(8), -(word(16) as i32)));
            }
        }
        None
    }
}

/// A request under way: the child's pidfd, readable once it has exited, and
/// the read end of its result pipe.
#[derive(Debug)]
pub struct Pending {
    pub pidfd: OwnedFd,
    pub result: OwnedFd,
}

/// Send REQUEST — netlink messages of which EXPECTED ask for an
/// acknowledgement — on SOCKET, from a child; return at once.
pub fn start(socket: OwnedFd, request: &[u8], expected: usize) -> Result<Pending> {
    set_socket_timeouts(&socket, TIMEOUT, false)?;
    let (result_r, result_w) = pipe()?;
    let mut buf = vec![0u8; 32 * 1024];
    let mut pidfd: RawFd = -1;
    // SAFETY: the child runs `child` only, which makes async-signal-safe
    // calls on what was prepared above, and never returns.
    let pid = unsafe { clone_pidfd(0, &mut pidfd) };
    if pid == 0 {
        // SAFETY: this is the clone child, as `child` requires.
        unsafe { child(socket.as_raw_fd(), request, expected, &mut buf, result_w.as_raw_fd()) }
    }
    if pid < 0 {
        return Err(Error::new("start netlink request", errno()).path("clone3"));
    }
    // SAFETY: clone3 stored a new pidfd, owned by nothing else.
    Ok(Pending { pidfd: unsafe { OwnedFd::from_raw_fd(pidfd) }, result: result_r })
}

/// The child's side: see the module's documentation.
///
/// # Safety
/// Only in the child of `clone_pidfd`, which must never return to the
/// caller's code: it closes every descriptor but SOCKET and RESULT, and exits.
unsafe fn child(socket: RawFd, request: &[u8], expected: usize, buf: &mut [u8], result: RawFd) -> ! {
    // SAFETY: plain data, for which all zeroes is a valid value.
    let mut all: libc::sigset_t = unsafe { std::mem::zeroed() };
    // SAFETY: ALL is a sigset_t; the old mask is not wanted (NULL).
    unsafe {
        libc::sigfillset(&mut all);
        libc::sigprocmask(libc::SIG_BLOCK, &all, std::ptr::null_mut());
    }
    let (low, high) = if socket < result { (socket, result) } else { (result, socket) };
    let close = |first: RawFd, last: RawFd| {
        if first <= last {
            // SAFETY: close_range takes no pointers; nothing in this child
            // uses the descriptors it closes (all but SOCKET and RESULT).
            unsafe { libc::syscall(libc::SYS_close_range, first as u32, last as u32, 0u32) };
        }
    };
    close(0, low - 1);
    close(low + 1, high - 1);
    close(high + 1, i32::MAX);

    // Nothing in `exchange` can panic (its slicing is checked); were it to,
    // the unwinding must not leave this copy of Shepherd running Shepherd.
    let report = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| exchange(socket, request, expected, buf)))
        .unwrap_or(libc::EIO);
    let bytes = report.to_ne_bytes();
    // SAFETY: BYTES is valid for its length; _exit ends only this child.
    unsafe {
        libc::write(result, bytes.as_ptr().cast(), bytes.len());
        libc::_exit(0)
    }
}

/// Send REQUEST and read acknowledgements until EXPECTED have come or one
/// is an error: return 0 or the errno.  Async-signal-safe (the child's).
fn exchange(socket: RawFd, request: &[u8], expected: usize, buf: &mut [u8]) -> i32 {
    let sent = send_to_kernel(socket, request);
    if sent < 0 {
        return errno();
    }
    let mut acked = 0;
    while acked < expected {
        // SAFETY: BUF is valid for writes of its length.
        let n = unsafe { libc::recv(socket, buf.as_mut_ptr().cast(), buf.len(), 0) };
        if n < 0 {
            match errno() {
                libc::EINTR => continue,
                libc::EAGAIN => return libc::ETIMEDOUT,
                e => return e,
            }
        }
        for (_, error) in Acks::new(&buf[..n as usize]) {
            if error != 0 {
                return error;
            }
            acked += 1;
        }
    }
    0
}

/// Reap the child of PENDING without blocking: `Ok(None)` while it runs,
/// `Ok(Some(()))` if the kernel accepted the request, else the kernel's
/// error (`EIO` if the child died without a word).
pub fn finish(pidfd: &impl AsRawFd, result: &impl AsRawFd) -> Result<Option<()>> {
    const OP: &str = "netlink request";
    if reap_raw(pidfd)?.is_none() {
        return Ok(None);
    }
    let mut bytes = [0u8; 4];
    // SAFETY: BYTES is valid for writes of its length.
    let n = unsafe { libc::read(result.as_raw_fd(), bytes.as_mut_ptr().cast(), bytes.len()) };
    if n != 4 {
        return Err(Error::new(OP, libc::EIO).detail("its process ended without an answer"));
    }
    match i32::from_ne_bytes(bytes) {
        0 => Ok(Some(())),
        errno => Err(Error::new(OP, errno)),
    }
}

/// Wait for PENDING, blocking the caller (not for Shepherd's thread, which
/// waits for the pidfd with Fibers instead: for tests and tools), and
/// return what [`finish`] says.
pub fn wait(pending: &Pending) -> Result<()> {
    loop {
        let mut pfd = libc::pollfd { fd: pending.pidfd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: PFD is one valid pollfd for the call.
        if unsafe { libc::poll(&mut pfd, 1, -1) } < 0 && errno() != libc::EINTR {
            return Err(Error::new("wait for netlink request", errno()));
        }
        if let Some(()) = finish(&pending.pidfd, &pending.result)? {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ack(seq: u32, error: i32) -> Vec<u8> {
        let mut m = Vec::new();
        m.extend_from_slice(&36u32.to_ne_bytes());
        m.extend_from_slice(&NLMSG_ERROR.to_ne_bytes());
        m.extend_from_slice(&0u16.to_ne_bytes());
        m.extend_from_slice(&seq.to_ne_bytes());
        m.extend_from_slice(&0u32.to_ne_bytes());
        m.extend_from_slice(&error.to_ne_bytes());
        m.extend_from_slice(&[0; 16]);
        m
    }

    #[test]
    fn acks_are_read_with_their_errno_and_truncation_ends_them() {
        let mut reply = ack(5, 0);
        reply.extend(ack(6, -libc::ENOENT));
        assert_eq!(Acks::new(&reply).collect::<Vec<_>>(), vec![(5, 0), (6, libc::ENOENT)]);
        reply.truncate(40);
        assert_eq!(Acks::new(&reply).collect::<Vec<_>>(), vec![(5, 0)]);
    }

    #[test]
    fn a_request_the_kernel_refuses_comes_back_as_its_errno() {
        // RTM_DELLINK for interface index 0x7fffffff, which does not exist.
        let socket = crate::net::netns::netlink_socket().unwrap();
        let mut msg = Vec::new();
        msg.extend_from_slice(&32u32.to_ne_bytes());
        msg.extend_from_slice(&(libc::RTM_DELLINK).to_ne_bytes());
        msg.extend_from_slice(&((libc::NLM_F_REQUEST | libc::NLM_F_ACK) as u16).to_ne_bytes());
        msg.extend_from_slice(&1u32.to_ne_bytes());
        msg.extend_from_slice(&0u32.to_ne_bytes());
        msg.extend_from_slice(&[0u8; 4]); // ifi_family, pad, ifi_type
        msg.extend_from_slice(&0x7fff_ffffi32.to_ne_bytes());
        msg.extend_from_slice(&[0u8; 8]); // flags, change
        let pending = start(socket, &msg, 1).unwrap();
        let errno = wait(&pending).unwrap_err().errno;
        assert!(errno == libc::ENODEV || errno == libc::EPERM, "errno {errno}");
    }
}
