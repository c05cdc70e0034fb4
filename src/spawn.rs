//! Start a helper program without copying Shepherd: the child shares
//! Shepherd's memory until it execs, as `posix_spawn` does.
//!
//! A fork copies the page tables of Shepherd's whole address space (45–70
//! MB of Guile heap) and drops them again at the child's `execve`; that is
//! most of what starting a process from Shepherd cost.  Here the child is
//! made with `clone(CLONE_VM | CLONE_VFORK | CLONE_PIDFD)` on a small stack
//! of its own: it shares Shepherd's memory, Shepherd's thread is suspended
//! until the child has exec'd (tens of microseconds), and the child makes
//! only async-signal-safe system calls on what was prepared before the
//! clone: close every descriptor but the ones it hands over, clear their
//! close-on-exec flag, `execve`.  Every signal is blocked across the clone
//! (the child inherits the mask), so none of Shepherd's handlers can run in
//! it; `execve` resets them.  The parent gets a pidfd; the child's exit
//! signal is 0, so `waitpid(WAIT_ANY)` does not see it fail before exec.
//!
//! With a cgroup v2 directory, the child is born in that cgroup
//! (`CLONE_INTO_CGROUP`): no migration, so no wait for the kernel's
//! `cgroup_threadgroup_rwsem` (an RCU grace period when it was not taken
//! lately).  glibc's `clone` has no such flag and glibc 2.36 exports no
//! `clone3`: that call is a few instructions of assembly (x86_64 only;
//! elsewhere [`spawn`] says ENOSYS and the caller migrates the helper).
//!
//! After `execve` the kernel resets the exit signal to SIGCHLD (`de_thread`
//! in fs/exec.c): the helper is then an ordinary child, whose exit status
//! Shepherd's reaper may take first.  So the helpers started here never
//! carry a result in their exit status — they write it to a pipe — and
//! [`reap`] accepts a status already taken.

use std::ffi::{c_char, c_int, c_long, c_void, CStr, CString};
use std::os::fd::{AsRawFd, BorrowedFd, FromRawFd, OwnedFd, RawFd};

use crate::error::{Error, Result};
use crate::sys::errno;

/// The child's stack: it calls `close_range`, `fcntl` and `execve` only.
const STACK_SIZE: usize = 64 * 1024;

/// A helper started by [`spawn`].
#[derive(Debug)]
pub struct Helper {
    pub pid: i32,
    /// Readable once the helper has exited (whoever reaped it).
    pub pidfd: OwnedFd,
}

/// What the child reads, prepared by the parent, and where it writes the
/// errno of a failed `execve` (the parent waits until then: CLONE_VFORK).
struct ChildArgs {
    program: *const c_char,
    argv: *const *const c_char,
    envp: *const *const c_char,
    /// Sorted, without duplicates.
    keep: *const RawFd,
    keep_len: usize,
    errno: c_int,
}

/// A mapping for the child's stack, with a guard page below it.
struct Stack {
    base: *mut c_void,
    len: usize,
}

impl Stack {
    fn new() -> Result<Stack> {
        let page = 4096;
        let len = STACK_SIZE + page;
        // SAFETY: a fresh anonymous mapping, at an address of the kernel's
        // choice: it touches no existing memory.
        let base = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK | libc::MAP_NORESERVE,
                -1,
                0,
            )
        };
        if base == libc::MAP_FAILED {
            return Err(Error::new("map a stack for a helper", errno()).path("mmap"));
        }
        let stack = Stack { base, len };
        // SAFETY: the first page of the mapping just made, which nothing uses.
        if unsafe { libc::mprotect(base, page, libc::PROT_NONE) } < 0 {
            return Err(Error::new("map a stack for a helper", errno()).path("mprotect"));
        }
        Ok(stack)
    }

    /// The top of the stack (it grows down), 16-byte aligned.
    fn top(&self) -> *mut c_void {
        // SAFETY: one past the end of the mapping, which is page-aligned.
        unsafe { self.base.cast::<u8>().add(self.len).cast() }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // SAFETY: the mapping made in `new`; the child that used it has
        // exec'd or exited (CLONE_VFORK), so nothing runs on it.
        unsafe { libc::munmap(self.base, self.len) };
    }
}

/// NULL-terminated pointers to STRINGS, which must outlive the result.
fn pointers(strings: &[CString]) -> Vec<*const c_char> {
    strings.iter().map(|s| s.as_ptr()).chain(std::iter::once(std::ptr::null())).collect()
}

/// Start PROGRAM (an absolute file name) with ARGV and ENVP, handing it the
/// descriptors KEEP (without close-on-exec) and no other; every signal
/// blocked, which the helper unblocks as it needs; in the cgroup v2
/// directory open as CGROUP if given (ENOSYS where that cannot be done,
/// E2BIG or EINVAL from a kernel older than 5.7).  Blocks the caller only
/// until the child has exec'd.  An `execve` that fails is an error naming
/// PROGRAM, its child reaped.
pub fn spawn(
    program: &CStr,
    argv: &[CString],
    envp: &[CString],
    keep: &[RawFd],
    cgroup: Option<BorrowedFd>,
) -> Result<Helper> {
    const OP: &str = "start helper";
    let mut keep = keep.to_vec();
    keep.sort_unstable();
    keep.dedup();
    let (argv_p, envp_p) = (pointers(argv), pointers(envp));
    let mut args = ChildArgs {
        program: program.as_ptr(),
        argv: argv_p.as_ptr(),
        envp: envp_p.as_ptr(),
        keep: keep.as_ptr(),
        keep_len: keep.len(),
        errno: 0,
    };
    let stack = Stack::new()?;
    let mut pidfd: c_int = -1;
    // SAFETY: plain data, for which all zeroes is a valid value.
    let (mut all, mut old): (libc::sigset_t, libc::sigset_t) = unsafe { (std::mem::zeroed(), std::mem::zeroed()) };
    // SAFETY: ALL and OLD are sigset_t's; the mask is restored below, after
    // the child has exec'd.  `child` runs on STACK with ARGS, both alive
    // until clone returns (CLONE_VFORK); the pidfd goes to PIDFD (the
    // parent_tid argument, as clone(2) says for CLONE_PIDFD).
    let pid = unsafe {
        libc::sigfillset(&mut all);
        libc::pthread_sigmask(libc::SIG_SETMASK, &all, &mut old);
        let (pid, clone_errno) = match cgroup {
            None => {
                // Exit signal 0.
                let flags = libc::CLONE_VM | libc::CLONE_VFORK | libc::CLONE_PIDFD;
                let pid = libc::clone(child, stack.top(), flags, (&mut args as *mut ChildArgs).cast(), &mut pidfd);
                (pid, errno())
            }
            Some(cgroup) => {
                let rc = clone_into(cgroup.as_raw_fd(), &stack, &mut args, &mut pidfd);
                (if rc < 0 { -1 } else { rc as c_int }, -rc as c_int)
            }
        };
        libc::pthread_sigmask(libc::SIG_SETMASK, &old, std::ptr::null_mut());
        if pid < 0 {
            return Err(Error::new(OP, clone_errno).path(if cgroup.is_some() { "clone3" } else { "clone" }));
        }
        pid
    };
    drop(stack);
    // SAFETY: clone stored a new pidfd, owned by nothing else.
    let pidfd = unsafe { OwnedFd::from_raw_fd(pidfd) };
    if args.errno != 0 {
        // The child exited with 127 before exec, its exit signal still 0:
        // only we can reap it, and must.
        let _ = wait(&pidfd);
        return Err(Error::new(OP, args.errno).path(program.to_string_lossy().into_owned()));
    }
    Ok(Helper { pid, pidfd })
}

/// `clone3(CLONE_VM | CLONE_VFORK | CLONE_PIDFD | CLONE_INTO_CGROUP)`, exit
/// signal 0, the child running `child(ARGS)` on STACK: the child's PID or
/// -errno (the raw system call's return: no errno is touched).
///
/// # Safety
/// STACK and ARGS must stay valid until the call returns (CLONE_VFORK
/// ensures the child has exec'd or exited by then); every signal blocked.
#[cfg(target_arch = "x86_64")]
unsafe fn clone_into(cgroup: RawFd, stack: &Stack, args: &mut ChildArgs, pidfd: &mut c_int) -> c_long {
    let clone_args = crate::exec::CloneArgs {
        flags: (libc::CLONE_VM | libc::CLONE_VFORK | libc::CLONE_PIDFD) as u64 | crate::exec::CLONE_INTO_CGROUP,
        pidfd: pidfd as *mut c_int as u64,
        stack: stack.base as u64,
        stack_size: stack.len as u64,
        cgroup: cgroup as u64,
        ..Default::default()
    };
    let ret: c_long;
    // SAFETY: clone3 with CLONE_VM: the parent comes back from `syscall`
    // with the child's PID (or -errno) in rax, every other register but rcx
    // and r11 kept.  The child comes back with rax 0 on STACK, which the
    // kernel set as its stack pointer (the top of the mapping: 16-byte
    // aligned, so the `call` leaves it as the ABI wants); it calls
    // `child(ARGS)` from r12 and r13, which it inherited, and that never
    // returns (exec or _exit); should it, exit(2) ends the child.
    unsafe {
        std::arch::asm!(
            "syscall",
            "test rax, rax",
            "jnz 2f",
            "xor ebp, ebp",
            "mov rdi, r13",
            "call r12",
            "mov edi, eax",
            "mov eax, 60",
            "syscall",
            "ud2",
            "2:",
            inlateout("rax") libc::SYS_clone3 => ret,
            in("rdi") &clone_args as *const crate::exec::CloneArgs,
            in("rsi") std::mem::size_of::<crate::exec::CloneArgs>(),
            in("r12") child as extern "C" fn(*mut c_void) -> c_int,
            in("r13") (args as *mut ChildArgs).cast::<c_void>(),
            lateout("rcx") _,
            lateout("r11") _,
        );
    }
    ret
}

/// No `CLONE_INTO_CGROUP` here (see the module's documentation).
///
/// # Safety
/// None needed: nothing is done.
#[cfg(not(target_arch = "x86_64"))]
unsafe fn clone_into(_: RawFd, _: &Stack, _: &mut ChildArgs, _: &mut c_int) -> c_long {
    -(libc::ENOSYS as c_long)
}

/// The child: see the module's documentation.
extern "C" fn child(arg: *mut c_void) -> c_int {
    // SAFETY: ARG is the parent's ChildArgs, alive and untouched while this
    // child runs (the parent is suspended until it execs or exits).  Only
    // plain system calls follow, on descriptors and strings it points to;
    // the errno location written is the parent's thread's, whose thread is
    // suspended and reads it only if clone itself failed.
    unsafe {
        let args = &mut *arg.cast::<ChildArgs>();
        let keep = std::slice::from_raw_parts(args.keep, args.keep_len);
        let mut next: RawFd = 0;
        for &fd in keep {
            if fd > next {
                libc::syscall(libc::SYS_close_range, next as u32, (fd - 1) as u32, 0u32);
            }
            if libc::fcntl(fd, libc::F_SETFD, 0) < 0 {
                args.errno = errno();
                libc::_exit(127);
            }
            next = fd + 1;
        }
        libc::syscall(libc::SYS_close_range, next as u32, u32::MAX, 0u32);
        libc::execve(args.program, args.argv, args.envp);
        args.errno = errno();
        libc::_exit(127)
    }
}

/// Reap the helper behind PIDFD without blocking: `Ok(None)` while it
/// runs; once it has ended, its wait status, or `Some(None)` if Shepherd's
/// reaper took it first.
pub fn reap(pidfd: &impl AsRawFd) -> Result<Option<Option<c_int>>> {
    match crate::exec::reap_raw(pidfd) {
        Ok(status) => Ok(status.map(Some)),
        Err(err) if err.errno == libc::ECHILD && ended(pidfd.as_raw_fd()) => Ok(Some(None)),
        Err(err) => Err(err),
    }
}

/// Whether the process behind PIDFD has ended (its pidfd is readable).
fn ended(pidfd: RawFd) -> bool {
    let mut pfd = libc::pollfd { fd: pidfd, events: libc::POLLIN, revents: 0 };
    // SAFETY: PFD is one valid pollfd for the call.
    unsafe { libc::poll(&mut pfd, 1, 0) == 1 }
}

/// Wait for the helper behind PIDFD to end, blocking the caller, and reap
/// it (for failures and tests: Shepherd waits with Fibers instead).
pub fn wait(pidfd: &impl AsRawFd) -> Result<Option<c_int>> {
    loop {
        let mut pfd = libc::pollfd { fd: pidfd.as_raw_fd(), events: libc::POLLIN, revents: 0 };
        // SAFETY: PFD is one valid pollfd for the call.
        if unsafe { libc::poll(&mut pfd, 1, -1) } < 0 && errno() != libc::EINTR {
            return Err(Error::new("wait for helper", errno()).path("poll"));
        }
        if let Some(status) = reap(pidfd)? {
            return Ok(status);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cs(args: &[&str]) -> Vec<CString> {
        args.iter().map(|a| CString::new(*a).unwrap()).collect()
    }

    #[test]
    fn a_helper_gets_the_descriptors_handed_over_and_no_other() {
        use std::io::Read;
        let (r, w) = crate::exec::pipe().unwrap();
        // SAFETY: dup takes no pointers; its result (not close-on-exec) is
        // owned below.
        let inherited = unsafe { OwnedFd::from_raw_fd(libc::dup(w.as_raw_fd())) };
        let script = format!("ls /proc/self/fd >&{}", w.as_raw_fd());
        let h = spawn(c"/bin/sh", &cs(&["sh", "-c", &script]), &cs(&["PATH=/bin"]), &[w.as_raw_fd()], None).unwrap();
        let inherited_fd = inherited.as_raw_fd();
        drop((w, inherited));
        assert!(h.pid > 0);
        // Nothing else reaps in a test: the status is ours.
        assert_eq!(wait(&h.pidfd).unwrap(), Some(0));
        let mut out = String::new();
        std::fs::File::from(r).read_to_string(&mut out).unwrap();
        let fds: Vec<RawFd> = out.split_whitespace().map(|fd| fd.parse().unwrap()).collect();
        assert!(!fds.contains(&inherited_fd), "{fds:?}");
    }

    #[test]
    fn a_program_that_cannot_run_is_an_error_naming_it() {
        let err = spawn(c"/nonexistent/helper", &cs(&["helper"]), &[], &[], None).unwrap_err();
        assert_eq!(err.errno, libc::ENOENT);
        assert!(err.to_string().contains("/nonexistent/helper"), "{err}");
    }
}
