//! Netlink requests that the kernel is slow to answer, sent by a short-lived
//! helper process so that Shepherd does not wait.
//!
//! Deleting a network device, or nftables chains, waits for an RCU grace
//! period (16–22 ms here) *inside* the `sendmsg` system call: a non-blocking
//! socket would not help.  So the request is prepared first (the message
//! bytes in a memfd, the socket, a result pipe), then the helper program —
//! `swineherd-relay`, which serves this when its first argument starts
//! with [`TAG`] — is started with [`crate::spawn`]: from a child that shares
//! Shepherd's memory until it execs, so that no copy of Shepherd's page
//! tables is made, and which makes only async-signal-safe calls before
//! `execve`.  The helper sends the request, reads the kernel's
//! acknowledgements, writes the first error (or 0) to the pipe and exits.
//! The caller waits for the pidfd to become readable (from Scheme, with
//! Fibers), then calls [`finish`].
//!
//! The result travels through the pipe, never through the exit status:
//! after `execve` the helper is an ordinary child whose status Shepherd's
//! reaper may take first, which [`crate::spawn::reap`] accepts.  Every
//! signal stays blocked in the helper (the mask [`crate::spawn`] gives it),
//! so only SIGKILL ends it before its time limit.

use std::ffi::{CStr, CString};
use std::io::{Read, Seek, Write};
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::time::Duration;

use nix::sys::memfd::{memfd_create, MFdFlags};

use crate::error::{Error, Result};
use crate::exec::pipe;
use crate::sys::{errno, send_to_kernel, set_socket_timeouts};

/// How long the helper waits for the kernel's answers.
const TIMEOUT: Duration = Duration::from_millis(2000);

/// How the helper's first argument starts: it names the protocol below.
pub const TAG: &str = "swineherd-netlink/1";

const NLMSG_HDRLEN: usize = 16;
const NLMSG_ERROR: u16 = 2;

/// The acknowledgements in BYTES, netlink messages as the kernel sends them,
/// as (sequence number, errno) pairs; errno 0 for success.
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

/// A request under way: the helper's pidfd, readable once it has exited,
/// and the read end of its result pipe.
#[derive(Debug)]
pub struct Pending {
    pub pidfd: OwnedFd,
    pub result: OwnedFd,
}

/// What the helper is handed: its descriptors and how many
/// acknowledgements to wait for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handoff {
    pub socket: RawFd,
    /// A memfd holding the request's bytes, at offset 0.
    pub request: RawFd,
    pub result: RawFd,
    pub expected: usize,
}

impl Handoff {
    /// The helper's first argument.
    pub fn encode(&self) -> String {
        format!(
            "{TAG} socket={} request={} result={} expected={}",
            self.socket, self.request, self.result, self.expected
        )
    }

    /// Read TEXT, what [`Handoff::encode`] wrote.
    pub fn decode(text: &str) -> Result<Handoff> {
        let bad = |what: &str| {
            Error::new("read the netlink helper's instructions", libc::EINVAL)
                .detail(format!("{what} in {text:?}: this mode of swineherd-relay is started by libswineherd only"))
        };
        let mut words = text.split(' ');
        if words.next() != Some(TAG) {
            return Err(bad("no tag"));
        }
        let mut field = |name: &str| -> Result<i64> {
            let word = words.next().ok_or_else(|| bad("missing field"))?;
            let value =
                word.strip_prefix(name).and_then(|w| w.strip_prefix('=')).ok_or_else(|| bad("unexpected field"))?;
            value.parse().ok().filter(|v: &i64| *v >= 0).ok_or_else(|| bad("bad number"))
        };
        let fd = |v: i64| RawFd::try_from(v).map_err(|_| bad("bad descriptor"));
        let handoff = Handoff {
            socket: fd(field("socket")?)?,
            request: fd(field("request")?)?,
            result: fd(field("result")?)?,
            expected: field("expected")? as usize,
        };
        match words.next() {
            None => Ok(handoff),
            Some(_) => Err(bad("trailing words")),
        }
    }
}

/// A memfd holding BYTES, its offset back at 0.
fn memfd_with(bytes: &[u8]) -> Result<OwnedFd> {
    const OP: &str = "hand a netlink request over";
    let fd = memfd_create(c"swineherd-netlink", MFdFlags::MFD_CLOEXEC)
        .map_err(|e| Error::new(OP, e as i32).path("memfd_create"))?;
    let mut file = std::fs::File::from(fd);
    file.write_all(bytes).and_then(|()| file.rewind()).map_err(|e| Error::io(OP, "memfd", &e))?;
    Ok(file.into())
}

/// Send REQUEST — netlink messages of which EXPECTED ask for an
/// acknowledgement — on SOCKET, from the program HELPER (the absolute file
/// name of `swineherd-relay`); return once it has started.
pub fn start(helper: &CStr, socket: OwnedFd, request: &[u8], expected: usize) -> Result<Pending> {
    set_socket_timeouts(&socket, TIMEOUT, false)?;
    let (result_r, result_w) = pipe()?;
    let message = memfd_with(request)?;
    let handoff =
        Handoff { socket: socket.as_raw_fd(), request: message.as_raw_fd(), result: result_w.as_raw_fd(), expected };
    let argv = [helper.to_owned(), CString::new(handoff.encode()).expect("no NUL in numbers")];
    let keep = [handoff.socket, handoff.request, handoff.result];
    let child = crate::spawn::spawn(helper, &argv, &[], &keep, None)?;
    // The helper has its copies of SOCKET, the memfd and the write end.
    Ok(Pending { pidfd: child.pidfd, result: result_r })
}

/// The helper's whole work, in `swineherd-relay` when its first argument
/// (ARGS, after its name) starts with [`TAG`]: send the request, write the
/// result to the pipe, exit.  Never returns.
pub fn helper_main(args: Vec<CString>) -> ! {
    let handoff = match args.first().map(|a| Handoff::decode(&a.to_string_lossy())) {
        Some(Ok(handoff)) if args.len() == 1 => handoff,
        Some(Err(err)) => {
            eprintln!("swineherd-relay: {err}");
            std::process::exit(2)
        }
        _ => {
            eprintln!("swineherd-relay: {TAG} takes one argument; started by libswineherd only");
            std::process::exit(2)
        }
    };
    // SAFETY: the descriptors the parent handed over, owned by nothing else
    // in this process.
    let (socket, request, result) = unsafe {
        (
            OwnedFd::from_raw_fd(handoff.socket),
            OwnedFd::from_raw_fd(handoff.request),
            OwnedFd::from_raw_fd(handoff.result),
        )
    };
    let mut bytes = Vec::new();
    let report = match std::fs::File::from(request).read_to_end(&mut bytes) {
        Ok(_) => exchange(socket.as_raw_fd(), &bytes, handoff.expected, &mut vec![0u8; 32 * 1024]),
        Err(err) => err.raw_os_error().unwrap_or(libc::EIO),
    };
    let report = report.to_ne_bytes();
    // Nobody to tell if the result pipe is gone: the parent reads EIO then.
    let _ = nix::unistd::write(&result, &report);
    std::process::exit(0)
}

/// Send REQUEST and read acknowledgements until EXPECTED have come or one
/// is an error: return 0 or the errno.
fn exchange(socket: RawFd, request: &[u8], expected: usize, buf: &mut [u8]) -> i32 {
    let sent = send_to_kernel(socket, request);
    if sent < 0 {
        return errno();
    }
    let mut acked = 0;
    while acked < expected {
        let n = match nix::sys::socket::recv(socket, buf, nix::sys::socket::MsgFlags::empty()) {
            Ok(n) => n,
            Err(nix::errno::Errno::EINTR) => continue,
            Err(nix::errno::Errno::EAGAIN) => return libc::ETIMEDOUT,
            Err(e) => return e as i32,
        };
        for (_, error) in Acks::new(&buf[..n]) {
            if error != 0 {
                return error;
            }
            acked += 1;
        }
    }
    0
}

/// Reap the helper of PENDING without blocking (its status may have been
/// taken by Shepherd's reaper already): `Ok(None)` while it runs,
/// `Ok(Some(()))` if the kernel accepted the request, else the kernel's
/// error (`EIO` if the helper died without a word).
pub fn finish(pidfd: &impl AsRawFd, result: &impl AsRawFd) -> Result<Option<()>> {
    const OP: &str = "netlink request";
    if crate::spawn::reap(pidfd)?.is_none() {
        return Ok(None);
    }
    let mut bytes = [0u8; 4];
    // SAFETY: RESULT is the open read end of the helper's result pipe for
    // the duration of the call (borrowed, not owned).
    let result = unsafe { std::os::fd::BorrowedFd::borrow_raw(result.as_raw_fd()) };
    if nix::unistd::read(result, &mut bytes) != Ok(4) {
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
        let mut pfd = [nix::poll::PollFd::new(pending.pidfd.as_fd(), nix::poll::PollFlags::POLLIN)];
        match nix::poll::poll(&mut pfd, nix::poll::PollTimeout::NONE) {
            Ok(_) | Err(nix::errno::Errno::EINTR) => {}
            Err(e) => return Err(Error::new("wait for netlink request", e as i32)),
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
        let pending = start(&crate::exec::tests::relay(), socket, &msg, 1).unwrap();
        let errno = wait(&pending).unwrap_err().errno;
        assert!(errno == libc::ENODEV || errno == libc::EPERM, "errno {errno}");
    }

    #[test]
    fn the_handoff_reads_back_and_anything_else_is_refused() {
        let h = Handoff { socket: 3, request: 7, result: 12, expected: 2 };
        assert_eq!(Handoff::decode(&h.encode()).unwrap(), h);
        for bad in [
            "",
            "swineherd-relay/1 socket=3",
            "swineherd-netlink/1 socket=3 request=7 result=12",
            "swineherd-netlink/1 socket=3 request=7 result=-1 expected=2",
            "swineherd-netlink/1 socket=3 result=7 request=12 expected=2",
            "swineherd-netlink/1 socket=3 request=7 result=12 expected=2 more",
            "swineherd-netlink/1 socket=99999999999 request=7 result=12 expected=2",
        ] {
            let err = Handoff::decode(bad).unwrap_err();
            assert_eq!(err.errno, libc::EINVAL, "{bad}");
            assert!(err.to_string().contains("libswineherd only"), "{err}");
        }
    }
}
