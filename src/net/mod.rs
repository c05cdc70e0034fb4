//! Container networking through rtnetlink: the bridge, one veth pair per
//! container, its address and default route, link statistics, and `ip
//! netns`-visible namespace files.  No `ip` command.
//!
//! Shepherd forks, so no thread may outlive a call: each call builds a
//! current-thread tokio runtime (no worker threads), spawns the netlink
//! connection on it, runs its requests with `block_on` and drops the runtime
//! before returning.  A netlink socket belongs to the network namespace it
//! was opened in; to configure a container from inside, the socket is opened
//! by a short-lived thread that joins the container's namespace and is
//! joined before the socket is used ([`netns::socket_in`]).

pub mod link;
pub mod netns;

use std::future::Future;
use std::os::fd::{IntoRawFd, OwnedFd};

use rtnetlink::sys::TokioSocket;
use rtnetlink::Handle;
use tokio::runtime::Runtime;

use crate::error::{Error, Result};

/// Turn an rtnetlink error during OP on OBJECT into an [`Error`] that keeps
/// the kernel's errno (EEXIST, ENODEV, EBUSY…).
pub(crate) fn netlink_error(op: &'static str, object: &str, err: rtnetlink::Error) -> Error {
    match err {
        rtnetlink::Error::NetlinkError(msg) if msg.raw_code() != 0 => Error::new(op, msg.raw_code().abs()).path(object),
        other => Error::new(op, libc::EIO).path(object).detail(other.to_string()),
    }
}

/// A netlink session: a runtime that lives as long as the session and a
/// handle on one rtnetlink connection.
pub struct Netlink {
    runtime: Runtime,
    pub handle: Handle,
}

impl Netlink {
    /// A session in the caller's network namespace.
    pub fn here() -> Result<Self> {
        let socket = netns::netlink_socket().map_err(|e| Error::io("open netlink socket", "NETLINK_ROUTE", &e))?;
        Self::with_socket(socket)
    }

    /// A session whose socket was opened in the network namespace NETNS.
    pub fn inside(netns: &OwnedFd) -> Result<Self> {
        Self::with_socket(netns::socket_in(netns)?)
    }

    fn with_socket(socket: OwnedFd) -> Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()
            .map_err(|e| Error::io("start netlink runtime", "tokio", &e))?;
        let handle = {
            let _context = runtime.enter();
            // SAFETY: SOCKET's descriptor is handed over, owned by nothing else.
            let socket = unsafe { <TokioSocket as std::os::fd::FromRawFd>::from_raw_fd(socket.into_raw_fd()) };
            let (connection, handle, _) = rtnetlink::from_socket(socket);
            runtime.spawn(connection);
            handle
        };
        Ok(Netlink { runtime, handle })
    }

    /// Run FUTURE to completion on this session's runtime.
    pub fn run<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }
}
