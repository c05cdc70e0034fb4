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
//! [`handoff`]; what the three processes share in [`protocol`]; the
//! program's file names in [`program`]; `clone3` and reaping in
//! [`crate::sys::process`].  The relay's own exit status carries nothing:
//! after its `execve`, Shepherd's reaper may take it.  (Over 400 lines
//! only with this account of the design: the code is about 380.)

mod child;
mod handoff;
mod program;
mod protocol;

pub use handoff::relay_main;
pub(crate) use program::search_path;
pub use program::{candidates, parse_argz, DEFAULT_PATH};
pub(crate) use protocol::{report, Plan, Report};

use std::ffi::{c_int, CStr, CString};
use std::fs::File;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd};
use std::os::unix::fs::MetadataExt;
use std::time::{Duration, Instant};

use nix::errno::Errno;
use nix::fcntl::{self, fcntl, FcntlArg, OFlag};
use nix::poll::{PollFd, PollFlags, PollTimeout};
use nix::sys::stat::Mode;
use nix::unistd;

use crate::error::{Context, Error, Result};
pub(crate) use crate::sys::pipe;
pub use crate::sys::process::fork_into_cgroup;
pub(crate) use crate::sys::process::{clone_pidfd, reap_raw, wait_status, CloneArgs, CLONE_INTO_CGROUP};
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
pub(crate) mod tests;
