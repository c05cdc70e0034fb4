//! Run a command inside a container's namespaces (or on the host), without
//! blocking Shepherd and without losing its exit status to Shepherd's
//! reaper.
//!
//! # Shape
//!
//! Shepherd reaps every ordinary child with `waitpid(WAIT_ANY)`.  A child
//! whose exit signal is 0 is invisible to that (only `__WALL`/`__WCLONE`
//! waits see it) — but `execve` resets the exit signal to SIGCHLD
//! (`de_thread` in fs/exec.c).  So the command cannot be Shepherd's child;
//! a *relay* process stands between them, its parent, which writes the
//! command's status to a pipe (the relay's own status may be reaped by
//! Shepherd):
//!
//! 1. Shepherd opens everything first: `/proc/INIT/ns/*`, `/proc/INIT/root`,
//!    the pipes, `/dev/null` (a [`handoff::Handoff`]).
//! 2. Shepherd starts the relay, the program `swineherd-relay`, with
//!    [`crate::spawn`]: a child that shares Shepherd's memory until it
//!    execs, handed exactly those descriptors — no copy of Shepherd's
//!    address space, whose page tables a fork copies (and the command's
//!    fork again).  The relay builds the program's candidate file names
//!    and the seccomp filter ([`Plan`]), closes every descriptor it does
//!    not need, makes
//!    itself non-dumpable, joins the namespaces in [`NAMESPACE_ORDER`] (user
//!    first, mnt last), chroots into the init's root, takes uid/gid 0 of
//!    the container, and clones the command, which is thus created in the
//!    container's PID namespace (`setns(pid)` only affects children: this is
//!    the extra fork).  It reports the command's PID (a [`Report`]).
//! 3. The relay waits for the command with a pidfd, kills it and its
//!    process group at the deadline, if any, reaps it and reports its exact
//!    wait status, then exits.  If the relay is killed, the command is too
//!    (`PR_SET_PDEATHSIG`).
//! 4. Shepherd waits only for the first report (about a millisecond), then
//!    returns the relay's pidfd, the read ends of stdout and stderr and the
//!    report pipe to Scheme, which waits for them with Fibers and calls
//!    [`reap`] once the pidfd is readable.
//!
//! The relay's side lives in [`child`] (only async-signal-safe system
//! calls, no allocation, no panics, as the command's fork requires) and
//! [`handoff`].  Its own exit status carries nothing: after its `execve`,
//! Shepherd's reaper may take it.

mod child;
mod handoff;

pub use handoff::relay_main;

use std::ffi::{c_char, c_int, CStr, CString};
use std::fs::File;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::os::unix::fs::MetadataExt;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{self, fcntl, FcntlArg, OFlag};
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::stat::Mode;
use nix::unistd;

use crate::error::{Context, Error, Result};
pub(crate) use crate::sys::pipe;
use crate::sys::{pidfd_open, pidfd_send_signal};

/// The namespaces a command joins, in this order.  The user namespace comes
/// first: joining it gives the relay every capability inside, which
/// entering the others needs once it has left the host's user namespace.
/// The mount namespace comes last, because it changes how every later file
/// name resolves (and `/proc` with it).
pub const NAMESPACE_ORDER: [(&str, c_int); 8] = [
    ("user", libc::CLONE_NEWUSER),
    ("cgroup", libc::CLONE_NEWCGROUP),
    ("ipc", libc::CLONE_NEWIPC),
    ("uts", libc::CLONE_NEWUTS),
    ("net", libc::CLONE_NEWNET),
    ("pid", libc::CLONE_NEWPID),
    ("time", libc::CLONE_NEWTIME),
    ("mnt", libc::CLONE_NEWNS),
];

/// PATH used to find the program when ENVP has no `PATH=`.
pub const DEFAULT_PATH: &str = "/run/current-system/profile/bin:/run/current-system/profile/sbin:\
/usr/bin:/usr/sbin:/bin:/sbin";

/// How long Shepherd waits for the relay to start the command (it normally
/// needs about a millisecond: a few `setns`, a `chroot`, a `clone`).
const START_TIMEOUT: Duration = Duration::from_secs(2);

/// A running command: what [`spawn`] returns.  Every descriptor is
/// close-on-exec; the pipes' read ends are non-blocking.
#[derive(Debug)]
pub struct Spawned {
    /// The command's host PID (for information: the command is the relay's
    /// child, and only the relay may signal it by PID).
    pub pid: i32,
    /// A pidfd of the relay: readable once the command has exited and the
    /// relay has reported its status.
    pub pidfd: OwnedFd,
    /// Read end of the command's standard output.
    pub stdout: OwnedFd,
    /// Read end of the command's standard error.
    pub stderr: OwnedFd,
    /// Read end of the relay's report pipe, for [`reap`].
    pub report: OwnedFd,
}

/// How a command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Outcome {
    /// Its wait status, as `waitpid` makes it (`WEXITSTATUS`, `WTERMSIG`…).
    pub status: c_int,
    /// The errno of the last `execve` if no program could be run (the
    /// status is then an exit with 127), else 0.
    pub exec_errno: c_int,
    /// Whether the relay killed it at its deadline.
    pub timed_out: bool,
}

/// Where the command runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Target {
    /// In the caller's own namespaces and root (the `fs` action, tests).
    Host,
    /// In every namespace and the root of the process with this host PID,
    /// a container's init, as uid and gid 0 of its user namespace.
    Container(i32),
}

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

/// Parse an argz buffer ("a\0b\0c\0"): NUL-terminated strings one after
/// the other, as `argz_create` makes them.  A final string without its NUL
/// is accepted.
pub fn parse_argz(buf: &[u8]) -> Vec<CString> {
    let buf = buf.strip_suffix(&[0]).unwrap_or(buf);
    if buf.is_empty() {
        return Vec::new();
    }
    buf.split(|&b| b == 0).map(|s| CString::new(s).expect("split on NUL leaves no NUL")).collect()
}

/// The file names to try for PROGRAM with the search path PATH, as
/// `execvp` does: PROGRAM itself if it contains a slash, else PROGRAM in
/// each directory of PATH (an empty entry meaning the current directory,
/// which is `/` for commands run here).
pub fn candidates(program: &CStr, path: &str) -> Vec<CString> {
    let bytes = program.to_bytes();
    if bytes.contains(&b'/') {
        return vec![program.to_owned()];
    }
    path.split(':')
        .map(|dir| {
            let dir = if dir.is_empty() { "." } else { dir.trim_end_matches('/') };
            let mut name = Vec::with_capacity(dir.len() + 1 + bytes.len());
            name.extend_from_slice(dir.as_bytes());
            name.push(b'/');
            name.extend_from_slice(bytes);
            CString::new(name).expect("no NUL in a CStr or a str split")
        })
        .collect()
}

/// The PATH in ENVP, or [`DEFAULT_PATH`].
pub(crate) fn search_path(envp: &[CString]) -> String {
    envp.iter()
        .find_map(|var| var.to_bytes().strip_prefix(b"PATH="))
        .map(|p| String::from_utf8_lossy(p).into_owned())
        .unwrap_or_else(|| DEFAULT_PATH.to_string())
}

fn last_os_error(op: &'static str, what: impl AsRef<std::path::Path>) -> Error {
    Error::io(op, what, &io::Error::last_os_error())
}

/// An error of nix for OP on WHAT.
fn nix_error(op: &'static str, what: impl AsRef<std::path::Path>) -> impl FnOnce(Errno) -> Error {
    move |errno| Error::new(op, errno as i32).path(what)
}

fn set_nonblocking(fd: &OwnedFd) -> Result<()> {
    let flags = fcntl(fd, FcntlArg::F_GETFL).map_err(nix_error("fcntl", "F_GETFL"))?;
    let flags = OFlag::from_bits_retain(flags) | OFlag::O_NONBLOCK;
    fcntl(fd, FcntlArg::F_SETFL(flags)).map_err(nix_error("fcntl", "F_SETFL"))?;
    Ok(())
}

fn open_cloexec(path: &str, flags: OFlag) -> Result<OwnedFd> {
    fcntl::open(path, flags | OFlag::O_CLOEXEC, Mode::empty()).map_err(nix_error("open", path))
}

/// The namespaces of INIT to join, in [`NAMESPACE_ORDER`]: those that differ
/// from the caller's (joining one's own user namespace is an error) and
/// that the kernel has.
fn container_namespaces(init: i32) -> Result<Vec<(OwnedFd, c_int, usize)>> {
    let mut joined = Vec::new();
    for (index, (kind, nstype)) in NAMESPACE_ORDER.iter().enumerate() {
        let theirs = format!("/proc/{init}/ns/{kind}");
        let fd = match open_cloexec(&theirs, OFlag::O_RDONLY) {
            Ok(fd) => fd,
            // A kernel without this kind of namespace.
            Err(err) if err.errno == libc::ENOENT && crate::process::exists(init) => continue,
            Err(err) => return Err(err),
        };
        let ours = std::fs::metadata(format!("/proc/self/ns/{kind}"));
        let theirs_meta = File::from(fd.try_clone().at("dup", &theirs)?).metadata().at("stat", &theirs)?;
        if let Ok(ours) = ours {
            if ours.dev() == theirs_meta.dev() && ours.ino() == theirs_meta.ino() {
                continue;
            }
        }
        joined.push((fd, *nstype, index));
    }
    Ok(joined)
}

/// Whether the user namespace of INIT allows `setgroups`.
fn setgroups_allowed(init: i32) -> bool {
    std::fs::read_to_string(format!("/proc/{init}/setgroups")).map_or(true, |s| s.trim() != "deny")
}

/// The `clone_args` of `clone3(2)` (linux/sched.h), version 2.
#[repr(C)]
#[derive(Default)]
pub(crate) struct CloneArgs {
    pub flags: u64,
    pub pidfd: u64,
    pub child_tid: u64,
    pub parent_tid: u64,
    pub exit_signal: u64,
    pub stack: u64,
    pub stack_size: u64,
    pub tls: u64,
    pub set_tid: u64,
    pub set_tid_size: u64,
    pub cgroup: u64,
}

/// `clone3` like `fork`: the child continues on a copy of the stack and
/// gets 0.  Async-signal-safe.  (Raw: neither glibc nor nix wraps clone3.)
///
/// # Safety
/// The child shares nothing with glibc's view of the process (its thread
/// list, locks and TIDs are the parent's): it may make only plain system
/// calls, and must end with `_exit` or `execve`, never return.
unsafe fn clone3(args: &mut CloneArgs) -> libc::c_long {
    // SAFETY: ARGS is a clone_args of the size passed; the caller answers
    // for the child, as the contract says.
    unsafe { libc::syscall(libc::SYS_clone3, args as *mut CloneArgs, std::mem::size_of::<CloneArgs>()) }
}

/// Fork with `CLONE_PIDFD` and EXIT_SIGNAL (0: a child that
/// `waitpid(WAIT_ANY)` never sees, until it execs): 0 in the child; in the
/// parent the child's PID, with PIDFD set to its pidfd; -1 on failure, with
/// errno set.  Async-signal-safe.
///
/// # Safety
/// As for `clone3`: the child must make only plain system calls and end
/// with `_exit` or `execve`.
pub(crate) unsafe fn clone_pidfd(exit_signal: c_int, pidfd: &mut RawFd) -> libc::c_long {
    let mut args = CloneArgs {
        flags: libc::CLONE_PIDFD as u64,
        pidfd: pidfd as *mut RawFd as u64,
        exit_signal: exit_signal as u64,
        ..CloneArgs::default()
    };
    // SAFETY: the caller answers for the child, as the contract says; PIDFD
    // outlives the call.
    unsafe { clone3(&mut args) }
}

/// linux/sched.h (libc's constant is a 32-bit one that overflows).
pub(crate) const CLONE_INTO_CGROUP: u64 = 0x2_0000_0000;

/// Fork straight into the cgroup v2 directory open as CGROUP
/// (`CLONE_INTO_CGROUP`, Linux 5.7), exit signal SIGCHLD: the child is
/// born in it, with no migration (and no wait for the kernel's
/// `cgroup_threadgroup_rwsem`).  0 in the child, its PID in the parent, -1
/// on failure with errno set.  Async-signal-safe.
///
/// # Safety
/// As for `clone3`: the child must make only plain system calls and end
/// with `_exit` or `execve`.
pub unsafe fn fork_into_cgroup(cgroup: BorrowedFd) -> libc::c_long {
    let mut args = CloneArgs {
        flags: CLONE_INTO_CGROUP,
        exit_signal: libc::SIGCHLD as u64,
        cgroup: cgroup.as_raw_fd() as u64,
        ..CloneArgs::default()
    };
    // SAFETY: the caller answers for the child, as the contract says.
    unsafe { clone3(&mut args) }
}

/// Read one report from FD, non-blocking: `None` if there is none (yet).
fn read_report(fd: impl AsFd) -> Option<Report> {
    let mut buf = [0u8; 16];
    if unistd::read(fd, &mut buf) != Ok(16) {
        return None;
    }
    let word = |i: usize| i32::from_ne_bytes([buf[i], buf[i + 1], buf[i + 2], buf[i + 3]]);
    Some([word(0), word(4), word(8), word(12)])
}

/// Start ARGV (ARGV[0] is looked up in ENVP's PATH) with environment ENVP
/// in TARGET, with standard input from /dev/null, standard output and
/// error into pipes, in a session of its own, with working directory `/`,
/// killed with its process group after TIMEOUT if one is given.
///
/// Blocks only until the relay has started the command (about a
/// millisecond; at most [`START_TIMEOUT`]); never waits for the command.
///
/// RELAY is the file name of the `swineherd-relay` program.
pub fn spawn(
    relay: &CStr,
    target: Target,
    argv: &[CString],
    envp: &[CString],
    timeout: Option<Duration>,
) -> Result<Spawned> {
    spawn_in(relay, target, None, argv, envp, timeout)
}

/// The cgroup CGROUP (relative to each hierarchy's root, e.g.
/// `swineherd/web`): its directory when it is a v2 one, to clone the relay
/// into, and its `cgroup.procs` files, opened for writing, for the relay
/// to move itself (v1, or a kernel without `CLONE_INTO_CGROUP`).
fn open_cgroup(cgroup: &str) -> Result<(Option<OwnedFd>, Vec<OwnedFd>)> {
    let manager = crate::cgroup::Manager::new(&crate::cgroup::detect_here()?, cgroup)?;
    let dir = match manager.unified_directory() {
        Some(dir) => Some(open_cloexec(&dir.to_string_lossy(), OFlag::O_RDONLY | OFlag::O_DIRECTORY)?),
        None => None,
    };
    let procs = manager
        .directories()
        .iter()
        .map(|dir| open_cloexec(&format!("{}/cgroup.procs", dir.display()), OFlag::O_WRONLY))
        .collect::<Result<_>>()?;
    Ok((dir, procs))
}

/// Start the relay program RELAY for ARGV and ENVP with HANDOFF: born in
/// the cgroup v2 directory CGROUP if given and the kernel can, else moving
/// itself through CGROUP_PROCS.
fn start_relay(
    relay: &CStr,
    mut handoff: handoff::Handoff,
    cgroup: Option<BorrowedFd>,
    cgroup_procs: &[OwnedFd],
    argv: &[CString],
    envp: &[CString],
) -> Result<crate::spawn::Helper> {
    let start = |handoff: &handoff::Handoff, cgroup| {
        let mut relay_argv = vec![relay.to_owned(), CString::new(handoff.encode()).expect("no NUL in numbers")];
        relay_argv.extend_from_slice(argv);
        crate::spawn::spawn(relay, &relay_argv, envp, &handoff.keep(), cgroup)
    };
    if cgroup.is_some() {
        match start(&handoff, cgroup) {
            Err(err) if matches!(err.errno, libc::ENOSYS | libc::E2BIG | libc::EINVAL) => {}
            started => return started,
        }
    }
    handoff.cgroup_procs = cgroup_procs.iter().map(AsRawFd::as_raw_fd).collect();
    start(&handoff, None)
}

/// [`spawn`], with the command in the cgroup CGROUP (relative to each
/// hierarchy's root, e.g. `swineherd/web`), if given, from its start: so
/// are its limits, its accounting, and its end when the cgroup is removed.
pub fn spawn_in(
    relay: &CStr,
    target: Target,
    cgroup: Option<&str>,
    argv: &[CString],
    envp: &[CString],
    timeout: Option<Duration>,
) -> Result<Spawned> {
    const OP: &str = "run command";
    let Some(program) = argv.first() else {
        return Err(Error::new(OP, libc::EINVAL).detail("no command given"));
    };
    if program.as_bytes().is_empty() {
        return Err(Error::new(OP, libc::EINVAL).detail("empty command name"));
    }

    // Everything the children need, opened and built now.
    let (init_pidfd, namespaces, root, set_groups) = match target {
        Target::Host => (None, Vec::new(), None, false),
        Target::Container(init) => {
            if init <= 0 {
                return Err(Error::new(OP, libc::EINVAL).detail(format!("invalid init PID {init}")));
            }
            // Holding a pidfd across the opens, and checking it afterwards,
            // proves that the files belong to INIT, not to a process that
            // took its PID after it died.
            let pidfd = pidfd_open(init)?;
            let namespaces = container_namespaces(init)?;
            let root = open_cloexec(&format!("/proc/{init}/root"), OFlag::O_PATH | OFlag::O_DIRECTORY)?;
            (Some(pidfd), namespaces, Some(root), setgroups_allowed(init))
        }
    };
    let (cgroup_dir, cgroup_procs) = match cgroup {
        Some(cgroup) => open_cgroup(cgroup)?,
        None => (None, Vec::new()),
    };
    let devnull = open_cloexec("/dev/null", OFlag::O_RDONLY)?;
    let (out_r, out_w) = pipe()?;
    let (err_r, err_w) = pipe()?;
    let (exec_r, exec_w) = pipe()?;
    let (report_r, report_w) = pipe()?;
    for fd in [&out_r, &err_r, &report_r, &exec_r] {
        set_nonblocking(fd)?;
    }
    let handoff = handoff::Handoff {
        namespaces: namespaces.iter().map(|(fd, t, i)| (fd.as_raw_fd(), *t, *i)).collect(),
        root: root.as_ref().map(|fd| fd.as_raw_fd()),
        container: matches!(target, Target::Container(_)),
        set_groups,
        pipes: [&devnull, &out_w, &err_w, &exec_r, &exec_w, &report_w].map(|fd| fd.as_raw_fd()),
        cgroup_procs: Vec::new(),
        timeout_ms: timeout.map_or(0, |t| (t.as_millis() as u64).max(1)),
    };
    if let Some(pidfd) = &init_pidfd {
        if pidfd_send_signal(pidfd, 0).is_err() {
            return Err(Error::new(OP, libc::ESRCH).detail("the container's init exited"));
        }
    }

    // The relay.
    let dir = cgroup_dir.as_ref().map(AsFd::as_fd);
    let relay = start_relay(relay, handoff, dir, &cgroup_procs, argv, envp)?.pidfd;
    // The relay has its copies; ours would keep the pipes open.
    drop((out_w, err_w, exec_r, exec_w, report_w, devnull, namespaces, root, cgroup_dir, cgroup_procs));

    match wait_started(&relay, &report_r)? {
        [report::STARTED, pid, _, _] => {
            Ok(Spawned { pid, pidfd: relay, stdout: out_r, stderr: err_r, report: report_r })
        }
        [code, errno, _, _] => {
            // The relay exits right after a failure report.
            let _ = wait_exit(&relay, Duration::from_millis(100));
            Err(step_error(code, errno, target))
        }
    }
}

/// The error for a relay's report that step CODE failed with ERRNO.
fn step_error(code: i32, errno: i32, target: Target) -> Error {
    let init = match target {
        Target::Container(pid) => pid,
        Target::Host => 0,
    };
    let op = match code {
        report::CHROOT => "enter the container's root",
        report::IDS => "become root in the container",
        report::CLONE => "start the command",
        report::DUMPABLE => "protect the relay process",
        report::FDS => "close Shepherd's descriptors in the relay",
        report::CGROUP => "join the container's cgroup",
        report::SECCOMP => "install the container's seccomp filter",
        report::CAPS => "drop capabilities from the bounding set",
        c if c >= report::SETNS => "join namespace",
        _ => "run command",
    };
    let err = Error::new(op, errno);
    match NAMESPACE_ORDER.get((code - report::SETNS) as usize) {
        Some((kind, _)) if code >= report::SETNS => err.path(format!("/proc/{init}/ns/{kind}")),
        _ => err,
    }
}

/// Wait up to LIMIT (at most about 65 s) for one of FDS to be readable.
fn poll_in(fds: &[BorrowedFd], limit: Duration) -> Result<()> {
    let mut pfds: Vec<PollFd> = fds.iter().map(|&fd| PollFd::new(fd, PollFlags::POLLIN)).collect();
    let ms = u16::try_from(limit.as_millis()).unwrap_or(u16::MAX);
    match nix::poll::poll(&mut pfds, PollTimeout::from(ms)) {
        Ok(_) | Err(Errno::EINTR) => Ok(()),
        Err(errno) => Err(nix_error("wait for relay", "poll")(errno)),
    }
}

/// Wait for the relay's first report; kill it if it takes longer than
/// [`START_TIMEOUT`] or dies without reporting.
fn wait_started(relay: &OwnedFd, report_r: &OwnedFd) -> Result<Report> {
    let deadline = Instant::now() + START_TIMEOUT;
    loop {
        if let Some(report) = read_report(report_r) {
            return Ok(report);
        }
        if let Some(status) = crate::spawn::reap(relay)? {
            let status = status.map_or("taken by Shepherd".into(), |s| format!("{s:#x}"));
            return Err(Error::new("run command", libc::ECHILD)
                .detail(format!("the relay process ended without a report (wait status {status})")));
        }
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            let _ = pidfd_send_signal(relay, libc::SIGKILL);
            let _ = wait_exit(relay, Duration::from_millis(100));
            return Err(Error::new("run command", libc::ETIMEDOUT)
                .detail("the relay process did not manage to enter the container; killed"));
        }
        poll_in(&[report_r.as_fd(), relay.as_fd()], left.min(Duration::from_secs(10)))?;
    }
}

/// Wait up to LIMIT for the relay behind PIDFD to exit, and reap it.
fn wait_exit(pidfd: &OwnedFd, limit: Duration) -> Result<()> {
    poll_in(&[pidfd.as_fd()], limit)?;
    crate::spawn::reap(pidfd).map(drop)
}

/// Reap the exited child behind PIDFD without blocking: its wait status,
/// or `None` while it runs.
pub(crate) fn reap_raw(pidfd: &impl AsRawFd) -> Result<Option<c_int>> {
    // SAFETY: plain data, for which all zeroes is a valid value.
    let mut info: libc::siginfo_t = unsafe { std::mem::zeroed() };
    // SAFETY: INFO is a siginfo_t to fill.
    let rc = unsafe {
        libc::waitid(
            libc::P_PIDFD,
            pidfd.as_raw_fd() as libc::id_t,
            &mut info,
            libc::WEXITED | libc::WNOHANG | libc::__WALL,
        )
    };
    if rc < 0 {
        return Err(last_os_error("reap", "waitid"));
    }
    // SAFETY: waitid filled INFO for a child event (or left it zero, with
    // WNOHANG): the pid and status fields are the ones set.
    let (pid, status) = unsafe { (info.si_pid(), info.si_status()) };
    if pid == 0 {
        return Ok(None);
    }
    Ok(Some(wait_status(info.si_code, status)))
}

/// The `waitpid`-style status for a `waitid` CODE (CLD_*) and STATUS.
pub(crate) fn wait_status(code: c_int, status: c_int) -> c_int {
    match code {
        libc::CLD_EXITED => (status & 0xff) << 8,
        libc::CLD_KILLED => status & 0x7f,
        libc::CLD_DUMPED => (status & 0x7f) | 0x80,
        _ => status,
    }
}

/// Reap the relay behind PIDFD without blocking and return how the command
/// ended, from REPORT (the report pipe); `None` while it runs.  A relay
/// that died without reporting (killed by [`kill`]) took the command with
/// it (`PR_SET_PDEATHSIG`): the command was killed by SIGKILL.
pub fn reap(pidfd: &impl AsRawFd, report: impl AsFd) -> Result<Option<Outcome>> {
    if crate::spawn::reap(pidfd)?.is_none() {
        return Ok(None);
    }
    Ok(Some(match read_report(report) {
        // The STARTED record was consumed by spawn; DONE follows.
        Some([report::DONE, status, exec_errno, timed_out]) => {
            Outcome { status, exec_errno, timed_out: timed_out != 0 }
        }
        _ => Outcome { status: libc::SIGKILL, exec_errno: 0, timed_out: false },
    }))
}

/// Kill the relay behind PIDFD (SIGKILL); the command dies with it
/// (`PR_SET_PDEATHSIG`).  A relay that has exited already is fine.  For
/// giving up on a command; a deadline is better given to [`spawn`], whose
/// relay kills the command's whole process group and reports its status.
pub fn kill(pidfd: impl AsFd) -> Result<()> {
    match pidfd_send_signal(pidfd, libc::SIGKILL) {
        Err(err) if err.errno != libc::ESRCH => Err(err),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cs(args: &[&str]) -> Vec<CString> {
        args.iter().map(|a| CString::new(*a).unwrap()).collect()
    }

    fn env() -> Vec<CString> {
        cs(&["PATH=/usr/bin:/bin", "HOME=/root", "LANG=C.UTF-8"])
    }

    /// The `swineherd-relay` cargo built for the test: beside it
    /// (tests/rust-checks copies both), else in target/PROFILE/, the
    /// parent of its deps/.
    pub(crate) fn relay() -> CString {
        let exe = std::env::current_exe().unwrap();
        let dir = exe.parent().unwrap();
        let beside = dir.join("swineherd-relay");
        let file = if beside.exists() { beside } else { dir.parent().unwrap().join("swineherd-relay") };
        CString::new(file.into_os_string().into_encoded_bytes()).unwrap()
    }

    fn run(argv: &[&str], timeout: Option<Duration>) -> Spawned {
        spawn(&relay(), Target::Host, &cs(argv), &env(), timeout).unwrap()
    }

    /// Poll FD for reading up to MS milliseconds: how many are ready.
    fn readable(fd: BorrowedFd, ms: u16) -> c_int {
        nix::poll::poll(&mut [PollFd::new(fd, PollFlags::POLLIN)], PollTimeout::from(ms)).unwrap()
    }

    /// Wait for the command to end (polling the relay's pidfd), then reap.
    fn wait(s: &Spawned) -> Outcome {
        assert_eq!(readable(s.pidfd.as_fd(), 10_000), 1, "command did not end");
        reap(&s.pidfd, &s.report).unwrap().expect("ended")
    }

    /// Everything left in FD (whose writers are gone) as a string.
    fn read_all(fd: OwnedFd) -> String {
        let (mut out, mut buf) = (Vec::new(), [0u8; 4096]);
        loop {
            assert_eq!(readable(fd.as_fd(), 20_000), 1, "no output within 20 s");
            match unistd::read(&fd, &mut buf) {
                Ok(0) => return String::from_utf8_lossy(&out).into_owned(),
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(errno) => assert_eq!(errno, Errno::EAGAIN),
            }
        }
    }

    const EXITED: fn(c_int) -> Outcome = |code| Outcome { status: code << 8, exec_errno: 0, timed_out: false };

    #[test]
    fn argz_is_split_on_nul() {
        assert_eq!(parse_argz(b"echo\0hello world\0"), cs(&["echo", "hello world"]));
        assert_eq!(parse_argz(b"a\0\0b"), cs(&["a", "", "b"]));
        assert!(parse_argz(b"").is_empty());
    }

    #[test]
    fn candidates_follow_path_like_execvp() {
        let sh = CString::new("sh").unwrap();
        assert_eq!(candidates(&sh, "/a:/b/::/c"), cs(&["/a/sh", "/b/sh", "./sh", "/c/sh"]));
        let abs = CString::new("/x/y").unwrap();
        assert_eq!(candidates(&abs, "/a"), cs(&["/x/y"]));
        let rel = CString::new("x/y").unwrap();
        assert_eq!(candidates(&rel, "/a"), cs(&["x/y"]));
    }

    #[test]
    fn output_status_and_environment() {
        let s = run(&["sh", "-c", "echo out; echo err >&2; pwd; env | grep -v '^PWD=' | sort; exit 3"], None);
        assert!(s.pid > 0);
        assert_eq!(wait(&s), EXITED(3));
        assert_eq!(read_all(s.stdout), "out\n/\nHOME=/root\nLANG=C.UTF-8\nPATH=/usr/bin:/bin\n");
        assert_eq!(read_all(s.stderr), "err\n");
    }

    #[test]
    fn missing_program_reports_its_errno() {
        let s = run(&["no-such-program-swh"], None);
        assert_eq!(wait(&s), Outcome { status: 127 << 8, exec_errno: libc::ENOENT, timed_out: false });
        let s = run(&["/etc/passwd"], None);
        assert_eq!(wait(&s).exec_errno, libc::EACCES);
    }

    #[test]
    fn empty_command_is_refused() {
        assert_eq!(spawn(&relay(), Target::Host, &[], &env(), None).unwrap_err().errno, libc::EINVAL);
        assert_eq!(spawn(&relay(), Target::Host, &cs(&[""]), &env(), None).unwrap_err().errno, libc::EINVAL);
    }

    #[test]
    fn only_standard_fds_session_and_signals() {
        // ls opens the directory itself: its fd is 3.
        let s = run(
            &[
                "sh",
                "-c",
                "ls /proc/self/fd | tr '\\n' ' '; echo; \
               read pid comm state ppid pgrp session rest </proc/$$/stat; \
               [ $session = $$ ] && [ $pgrp = $$ ] && echo session-leader; \
               cat; grep -E '^Sig(Blk|Ign)' /proc/self/status",
            ],
            None,
        );
        assert_eq!(wait(&s), EXITED(0));
        let out = read_all(s.stdout);
        assert!(out.starts_with("0 1 2 3 \n"), "{out}");
        assert!(out.contains("session-leader"), "{out}");
        assert!(out.contains("SigBlk:\t0000000000000000"), "{out}");
        assert!(out.contains("SigIgn:\t0000000000000000"), "{out}");
    }

    #[test]
    #[ignore = "needs root"]
    fn the_relay_keeps_only_its_own_descriptors() {
        let s = run(&["sleep", "5"], None);
        let relay: i32 = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", s.pidfd.as_raw_fd()))
            .unwrap()
            .lines()
            .find_map(|l| l.strip_prefix("Pid:"))
            .unwrap()
            .trim()
            .parse()
            .unwrap();
        // The report pipe, the exec-error pipe and the command's pidfd.
        let fds = std::fs::read_dir(format!("/proc/{relay}/fd")).unwrap().count();
        assert_eq!(fds, 3);
        // The program swineherd-relay, not a copy of this process.
        let exe = std::fs::read_link(format!("/proc/{relay}/exe")).unwrap();
        assert_eq!(exe.as_os_str().as_encoded_bytes(), super::tests::relay().to_bytes());
        // Killing the relay kills the command (PDEATHSIG).
        kill(&s.pidfd).unwrap();
        let outcome = wait(&s);
        assert_eq!(outcome.status, libc::SIGKILL);
        // The command was the relay's child: once orphaned and killed, init
        // reaps it, some time later; it must be dead (a zombie, or gone).
        let dead = || {
            let state = std::fs::read_to_string(format!("/proc/{}/stat", s.pid)).unwrap_or_default();
            state.is_empty() || state.contains(") Z ")
        };
        let start = Instant::now();
        while !dead() && start.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(dead(), "the command survived its relay");
        kill(&s.pidfd).unwrap(); // already gone: fine
    }

    #[test]
    fn the_deadline_kills_the_process_group() {
        let start = Instant::now();
        let s = run(&["sh", "-c", "sleep 30 & echo $!; wait"], Some(Duration::from_millis(300)));
        assert_eq!(reap(&s.pidfd, &s.report).unwrap(), None, "still running");
        let outcome = wait(&s);
        assert!(start.elapsed() < Duration::from_secs(5));
        assert_eq!(outcome, Outcome { status: libc::SIGKILL, exec_errno: 0, timed_out: true });
        let sleeper: i32 = read_all(s.stdout).trim().parse().unwrap();
        let gone = || {
            std::fs::read_to_string(format!("/proc/{sleeper}/stat"))
                .map_or(true, |s| s.rsplit_once(") ").unwrap().1.starts_with('Z'))
        };
        let start = Instant::now();
        while !gone() && start.elapsed() < Duration::from_secs(5) {
            std::thread::sleep(Duration::from_millis(10));
        }
        assert!(gone(), "the background sleep survived the deadline");
    }

    #[test]
    fn a_quick_command_within_its_deadline() {
        let s = run(&["true"], Some(Duration::from_secs(10)));
        assert_eq!(wait(&s), EXITED(0));
    }

    #[test]
    fn invalid_init_is_an_error() {
        let err = spawn(&relay(), Target::Container(-1), &cs(&["true"]), &env(), None).unwrap_err();
        assert_eq!(err.errno, libc::EINVAL);
        let err = spawn(&relay(), Target::Container(i32::MAX), &cs(&["true"]), &env(), None).unwrap_err();
        assert_eq!(err.errno, libc::ESRCH);
    }
}
