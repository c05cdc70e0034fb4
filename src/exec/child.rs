//! The two children of [`super::spawn`]: the relay, which enters the
//! container, starts the command, waits for it and reports how it ended;
//! and the command before its `execve`.
//!
//! Both run in a copy of Shepherd's address space, made by a raw `clone3`:
//! glibc does not know they exist (its cached thread list, TIDs and locks
//! are Shepherd's).  So only plain system calls are made here — through
//! `libc::syscall` where glibc's wrapper would do more than the system call
//! (`setresuid` and `setgroups` broadcast to "all threads", `sigaction`
//! refuses glibc's own signals) — nothing allocates, nothing can panic,
//! and a failure ends the process with `_exit`.

use std::ffi::c_int;

use super::{clone_pidfd, report, wait_status, Plan, Report};

use crate::sys::errno;

/// Write all of BUF to FD; errors are ignored (the parent sees a missing
/// report and says so).
fn write_all(fd: c_int, buf: &[u8]) {
    let mut done = 0;
    while done < buf.len() {
        let rest = &buf[done..];
        // SAFETY: REST is valid for reads of its length.
        let n = unsafe { libc::write(fd, rest.as_ptr().cast(), rest.len()) };
        if n <= 0 {
            if n < 0 && errno() == libc::EINTR {
                continue;
            }
            return;
        }
        done += n as usize;
    }
}

/// Send REPORT through PLAN's report pipe (one write: atomic).
fn send(plan: &Plan, report: Report) {
    let mut buf = [0u8; 16];
    for (chunk, word) in buf.chunks_exact_mut(4).zip(report) {
        chunk.copy_from_slice(&word.to_ne_bytes());
    }
    write_all(plan.report, &buf);
}

/// Report that step CODE failed with the current errno, and exit.
///
/// # Safety
/// Only in a child of `spawn` (it exits the process).
unsafe fn fail(plan: &Plan, code: i32) -> ! {
    send(plan, [code, errno(), 0, 0]);
    // SAFETY: this is a child, by the contract: exiting ends only it.
    unsafe { libc::_exit(126) }
}

/// `close_range(FIRST, LAST, FLAGS)` (raw: glibc 2.36 and nix 0.30 lack it).
///
/// # Safety
/// Nothing may use the descriptors it closes afterwards.
unsafe fn close_range(first: c_int, last: c_int, flags: u32) -> libc::c_long {
    // SAFETY: close_range takes no pointers; the caller answers for the
    // descriptors.
    unsafe { libc::syscall(libc::SYS_close_range, first as u32, last as u32, flags) }
}

/// Milliseconds of CLOCK_MONOTONIC (vDSO: no allocation, no lock).
fn now_ms() -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: TS is a timespec to fill.
    unsafe { libc::clock_gettime(libc::CLOCK_MONOTONIC, &mut ts) };
    ts.tv_sec as u64 * 1000 + ts.tv_nsec as u64 / 1_000_000
}

/// The relay: enter the container, start the command, wait for it, report.
///
/// # Safety
/// Only to be called in the child of a fork-like `clone3`, with PLAN
/// prepared by `spawn`.
pub(super) unsafe fn relay(plan: &Plan) -> ! {
    // SAFETY: this runs in the clone child only, as the contract says: a
    // copy of the caller's memory that nobody else uses.  Every call below
    // is a plain system call on descriptors that PLAN holds open for it, or
    // on buffers and structs of this stack frame, valid for the call; a
    // failure ends this child, never the caller.
    unsafe {
        // Shepherd's descriptors (its sockets, logs, other services' pipes)
        // must not stay open for as long as the command runs: close all but
        // PLAN's, including 0, 1 and 2.
        let mut next = 0;
        for &fd in plan.keep.iter() {
            if fd > next && close_range(next, fd - 1, 0) < 0 {
                fail(plan, report::FDS);
            }
            next = fd + 1;
        }
        if close_range(next, c_int::MAX, 0) < 0 {
            fail(plan, report::FDS);
        }
        // Shepherd's signal handlers (Guile's write to Shepherd's own signal
        // pipe) must never run here, and its ignored signals (SIGPIPE) must not
        // stay ignored in the command: back to SIG_DFL, with the raw system
        // call because glibc's wrapper refuses its own signals (32, 33).  An
        // all-zero kernel `struct sigaction` is SIG_DFL, no flags, empty mask,
        // on every architecture; 32 bytes is at least its size.  Every signal
        // stays blocked here; the command unblocks them.
        let mut all: libc::sigset_t = std::mem::zeroed();
        libc::sigfillset(&mut all);
        libc::sigprocmask(libc::SIG_BLOCK, &all, std::ptr::null_mut());
        let dfl = [0u64; 4];
        for sig in 1..=64 {
            if sig != libc::SIGKILL && sig != libc::SIGSTOP {
                libc::syscall(libc::SYS_rt_sigaction, sig, dfl.as_ptr(), std::ptr::null_mut::<u64>(), 8usize);
            }
        }
        // Not dumpable: no process of the container may ptrace us or read our
        // /proc/PID/{fd,root,mem,environ}, nor those of the command before its
        // execve (the mm, and this flag with it, passes to the command until
        // then).  Until setns(mnt) and chroot, our root is the host's.
        if libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0) < 0 {
            fail(plan, report::DUMPABLE);
        }
        // Into the container's cgroup while we are still the host's root: "0"
        // moves the writer, in v1 as in v2.  The command, our child, starts
        // there.  (None to write when we were born there: cgroup v2.)
        for &fd in plan.cgroup_procs.iter() {
            if libc::write(fd, c"0".as_ptr().cast(), 1) < 0 {
                fail(plan, report::CGROUP);
            }
            libc::close(fd);
        }
        for &(fd, nstype, index) in plan.namespaces.iter() {
            if libc::setns(fd, nstype) < 0 {
                fail(plan, report::SETNS + index as i32);
            }
            libc::close(fd);
        }
        if let Some(root) = plan.root {
            // setns(mnt) has put us at the root of the namespace's mount tree;
            // the init may have pivot_root'ed or chroot'ed below it: take the
            // init's own root, from the O_PATH fd opened on the host.
            if libc::fchdir(root) < 0 || libc::chroot(c".".as_ptr()) < 0 {
                fail(plan, report::CHROOT);
            }
            libc::close(root);
        }
        if libc::chdir(c"/".as_ptr()) < 0 {
            fail(plan, report::CHROOT);
        }
        if plan.set_ids {
            let zero: libc::c_long = 0;
            if (plan.set_groups && libc::syscall(libc::SYS_setgroups, zero, std::ptr::null::<libc::gid_t>()) < 0)
                || libc::syscall(libc::SYS_setresgid, zero, zero, zero) < 0
                || libc::syscall(libc::SYS_setresuid, zero, zero, zero) < 0
            {
                fail(plan, report::IDS);
            }
        }
        // The container's bounding set (after setns(user), which gave us a
        // full one) and seccomp filter, for the command to have exactly
        // the container's (we hold every capability of its user namespace
        // now).
        if plan.set_ids && crate::caps::drop_bounding_raw() < 0 {
            fail(plan, report::CAPS);
        }
        if !plan.filter.is_empty() && crate::seccomp::install_raw(&plan.filter) < 0 {
            fail(plan, report::SECCOMP);
        }
        // The command: in the PID namespace we joined (setns(pid) applies to
        // our children only), our child, watched through a pidfd.
        let mut pidfd: c_int = -1;
        let pid = clone_pidfd(libc::SIGCHLD, &mut pidfd);
        if pid == 0 {
            command(plan);
        }
        if pid < 0 {
            fail(plan, report::CLONE);
        }
        let pid = pid as c_int;
        libc::close(plan.stdin);
        libc::close(plan.stdout);
        libc::close(plan.stderr);
        libc::close(plan.exec_w);
        send(plan, [report::STARTED, pid, 0, 0]);

        // Wait, killing the command and its process group at the deadline.
        // Until we reap it, its PID (which is its group's ID: it called
        // setsid) cannot be reused, so kill(-pid) is safe.
        let deadline = if plan.timeout_ms > 0 { now_ms().saturating_add(plan.timeout_ms) } else { 0 };
        let mut timed_out = false;
        loop {
            let wait_ms = if deadline == 0 || timed_out {
                -1
            } else {
                deadline.saturating_sub(now_ms()).min(c_int::MAX as u64) as c_int
            };
            let mut pfd = libc::pollfd { fd: pidfd, events: libc::POLLIN, revents: 0 };
            let n = libc::poll(&mut pfd, 1, wait_ms);
            if n > 0 || (n < 0 && errno() != libc::EINTR) {
                break; // ended, or poll cannot wait: waitid below will
            }
            if n == 0 && !timed_out {
                libc::kill(-pid, libc::SIGKILL);
                crate::sys::pidfd_send_signal_raw(pidfd, libc::SIGKILL);
                timed_out = true;
            }
        }
        let mut info: libc::siginfo_t = std::mem::zeroed();
        while libc::waitid(libc::P_PIDFD, pidfd as libc::id_t, &mut info, libc::WEXITED | libc::__WALL) < 0 {
            if errno() != libc::EINTR {
                libc::_exit(125);
            }
        }
        let status = wait_status(info.si_code, info.si_status());
        // The command wrote an errno to the exec-error pipe if it could not
        // run a program; its write end is closed now (exec or exit).
        let mut buf = [0u8; 4];
        let exec_errno =
            if libc::read(plan.exec_r, buf.as_mut_ptr().cast(), 4) == 4 { i32::from_ne_bytes(buf) } else { 0 };
        send(plan, [report::DONE, status, exec_errno, timed_out as i32]);
        libc::_exit(0)
    }
}

/// Make FD a descriptor above 2, so that the dup2 calls onto 0, 1 and 2
/// cannot overwrite it; return it.
fn above_stdio(fd: c_int) -> c_int {
    if fd > 2 {
        return fd;
    }
    // SAFETY: fcntl(F_DUPFD_CLOEXEC) takes no pointers.
    unsafe { libc::fcntl(fd, libc::F_DUPFD_CLOEXEC, 3) }
}

/// Tell the relay why exec failed, and exit like a shell does.
///
/// # Safety
/// Only in the command's child (it exits the process).
unsafe fn exec_failed(fd: c_int, err: c_int) -> ! {
    write_all(fd, &err.to_ne_bytes());
    // SAFETY: this is the command's child, by the contract.
    unsafe { libc::_exit(127) }
}

/// The command, between `clone3` and `execve`.
///
/// # Safety
/// Only in the child that `relay` clones for the command.
unsafe fn command(plan: &Plan) -> ! {
    // SAFETY: this runs in the command's child only, as the contract says;
    // every call is a plain system call on descriptors PLAN holds open, or
    // on buffers PLAN prepared before the fork (argv, envp and the
    // programs, NUL-terminated, NULL-ended), which live as long as it.
    unsafe {
        let exec_w = above_stdio(plan.exec_w);
        if exec_w < 0 {
            libc::_exit(127);
        }
        // Die with the relay: if Shepherd gives up on the command, it kills
        // the relay.
        if libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL, 0, 0, 0) < 0 {
            exec_failed(exec_w, errno());
        }
        // A session and process group of its own, without a terminal: the
        // deadline kills the group.
        libc::setsid();

        let sources = [above_stdio(plan.stdin), above_stdio(plan.stdout), above_stdio(plan.stderr)];
        for (target, &source) in sources.iter().enumerate() {
            if source < 0 || libc::dup2(source, target as c_int) < 0 {
                exec_failed(exec_w, errno());
            }
        }
        // Nothing else survives the exec.  (The exec-error pipe must stay open
        // until then.)
        if close_range(3, c_int::MAX, libc::CLOSE_RANGE_CLOEXEC) < 0 {
            exec_failed(exec_w, errno());
        }
        libc::umask(0o022);
        // The relay blocked every signal; the command starts with none blocked.
        let mut none: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut none);
        libc::sigprocmask(libc::SIG_SETMASK, &none, std::ptr::null_mut());

        // execvp's search, without its allocation: the candidates were built
        // before the fork.  EACCES is remembered but does not stop the search.
        let mut err = libc::ENOENT;
        let mut denied = false;
        for &program in plan.programs.iter() {
            if program.is_null() {
                break;
            }
            libc::execve(program, plan.argv.as_ptr(), plan.envp.as_ptr());
            err = errno();
            match err {
                libc::EACCES => denied = true,
                libc::ENOENT | libc::ENOTDIR | libc::ESTALE | libc::ENODEV | libc::ETIMEDOUT => {}
                _ => break,
            }
        }
        if denied && matches!(err, libc::ENOENT | libc::ENOTDIR | libc::ESTALE | libc::ENODEV | libc::ETIMEDOUT) {
            err = libc::EACCES;
        }
        exec_failed(exec_w, err)
    }
}
