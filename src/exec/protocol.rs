//! What the parent, the relay and the command share: the records of the
//! relay's report pipe, and the plan the relay prepares before it forks
//! the command, which only reads it.

use std::ffi::{c_char, c_int};
use std::os::fd::RawFd;

/// A record of the relay's report pipe: four native-endian `i32`s, written
/// atomically (less than PIPE_BUF).  `[STARTED, pid, 0, 0]`, later
/// `[DONE, status, exec errno, timed out]`; or `[step, errno, 0, 0]` when
/// a step failed before the command started.
pub(crate) type Report = [i32; 4];

pub(crate) mod report {
    pub const STARTED: i32 = 0;
    pub const DONE: i32 = 1;
    pub const CHROOT: i32 = 2;
    pub const IDS: i32 = 3;
    pub const CLONE: i32 = 4;
    pub const DUMPABLE: i32 = 5;
    pub const FDS: i32 = 6;
    pub const CGROUP: i32 = 7;
    pub const SECCOMP: i32 = 8;
    pub const CAPS: i32 = 9;
    /// `SETNS + i`: joining `NAMESPACE_ORDER[i]`.
    pub const SETNS: i32 = 16;
}

/// Everything the relay and the command need, prepared by the relay
/// before it forks the command, which only reads it.
pub(crate) struct Plan {
    /// (namespace fd, CLONE_NEW* type, index in NAMESPACE_ORDER), in order.
    pub namespaces: Vec<(RawFd, c_int, usize)>,
    /// O_PATH fd of the init's root, to chroot into after setns(mnt).
    pub root: Option<RawFd>,
    /// Become uid/gid 0 of the joined user namespace.
    pub set_ids: bool,
    /// …and drop supplementary groups (not allowed when the namespace's
    /// `setgroups` file says `deny`).
    pub set_groups: bool,
    pub stdin: RawFd,
    pub stdout: RawFd,
    pub stderr: RawFd,
    /// The exec-error pipe: the command writes its errno to `exec_w` if no
    /// program could be run; the relay reads `exec_r`.
    pub exec_r: RawFd,
    pub exec_w: RawFd,
    pub report: RawFd,
    /// Write ends of the `cgroup.procs` files of the container's cgroup, one
    /// per hierarchy: the relay moves itself there before it leaves the
    /// host's namespaces, so the command starts inside.
    pub cgroup_procs: Vec<RawFd>,
    /// Every descriptor above, sorted: the relay closes all others.
    pub keep: Vec<RawFd>,
    /// Kill the command after this many milliseconds (0: never).
    pub timeout_ms: u64,
    /// NULL-terminated candidate file names of the program, in PATH order.
    pub programs: Vec<*const c_char>,
    pub argv: Vec<*const c_char>,
    pub envp: Vec<*const c_char>,
    /// The container's seccomp filter (see [`crate::seccomp`]), installed
    /// on the command; empty on the host.
    pub filter: Vec<libc::sock_filter>,
}
