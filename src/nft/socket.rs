//! A blocking `NETLINK_NETFILTER` socket that lives for one transaction.
//!
//! The kernel handles a batch synchronously, inside `sendmsg`: by the time
//! the send returns, its replies are queued on the socket.  Reads still
//! carry a timeout (`SO_RCVTIMEO`), so that a kernel that does not answer
//! can never hold Shepherd for long; no thread is involved, and the socket
//! is closed when the transaction is over.

use std::ffi::CStr;
use std::os::fd::{AsRawFd, OwnedFd};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use nix::sys::socket::{recv, MsgFlags};

use super::message::{acks, Batch};
use crate::error::{Error, Result};
use crate::sys::{errno, send_to_kernel, set_socket_timeouts};

/// How long to wait for the kernel's answers.
const TIMEOUT: Duration = Duration::from_millis(2000);

fn open() -> Result<OwnedFd> {
    use nix::sys::socket::{socket, AddressFamily, SockFlag, SockProtocol, SockType};
    let fd = socket(AddressFamily::Netlink, SockType::Raw, SockFlag::SOCK_CLOEXEC, SockProtocol::NetlinkNetFilter)
        .map_err(|errno| Error::new("open netlink socket", errno as i32).path("NETLINK_NETFILTER"))?;
    set_socket_timeouts(&fd, TIMEOUT, true).map_err(|e| e.path("NETLINK_NETFILTER"))?;
    Ok(fd)
}

fn send(fd: &OwnedFd, bytes: &[u8]) -> Result<()> {
    let sent = send_to_kernel(fd.as_raw_fd(), bytes);
    if sent < 0 {
        return Err(Error::new("send nf_tables batch", errno()));
    }
    if sent as usize != bytes.len() {
        return Err(Error::new("send nf_tables batch", libc::EMSGSIZE).detail("the kernel took part of the batch"));
    }
    Ok(())
}

fn receive(fd: &OwnedFd, buf: &mut [u8]) -> Result<usize> {
    loop {
        match recv(fd.as_raw_fd(), buf, MsgFlags::empty()) {
            Ok(n) => return Ok(n),
            Err(nix::Error::EINTR) => continue,
            Err(nix::Error::EAGAIN) => {
                return Err(Error::new("read nf_tables replies", libc::ETIMEDOUT)
                    .detail(format!("no answer from the kernel within {} ms", TIMEOUT.as_millis())))
            }
            Err(errno) => return Err(Error::new("read nf_tables replies", errno as i32)),
        }
    }
}

/// A sequence number unlikely to match a reply meant for someone else.
fn first_seq() -> u32 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.subsec_nanos() ^ d.as_secs() as u32).unwrap_or(1)
}

/// Start applying BATCH as one transaction from the helper program HELPER,
/// which waits for the kernel in the caller's stead (see
/// [`crate::detached`]); finish it with [`crate::detached::finish`].  An
/// empty batch is sent too (the kernel acknowledges nothing, and the helper
/// is done at once).
pub fn start(helper: &CStr, batch: Batch) -> Result<crate::detached::Pending> {
    let expected = batch.len();
    let (bytes, _) = batch.encode(first_seq());
    crate::detached::start(helper, open()?, &bytes, expected)
}

/// Apply BATCH as one transaction.  On failure, nothing of it was applied;
/// the error is the kernel's errno for the first message it refused, and
/// says which message that was.
pub fn apply(batch: Batch) -> Result<()> {
    if batch.is_empty() {
        return Ok(());
    }
    let expected = batch.len();
    let (bytes, described) = batch.encode(first_seq());
    let fd = open()?;
    send(&fd, &bytes)?;
    let mut buf = vec![0u8; 32 * 1024];
    let mut acked = 0;
    while acked < expected {
        let n = receive(&fd, &mut buf)?;
        for (seq, errno) in acks(&buf[..n]) {
            let Some((_, what)) = described.iter().find(|(s, _)| *s == seq) else { continue };
            if errno != 0 {
                return Err(Error::new("nf_tables transaction", errno).detail(format!(
                    "{what}: {} (nothing of the transaction was applied)",
                    crate::error::strerror(errno)
                )));
            }
            acked += 1;
        }
    }
    Ok(())
}
