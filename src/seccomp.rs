//! The seccomp filter every container runs under: no new btrfs subvolumes
//! or snapshots (issue #14); no kernel modules, no kexec, no
//! `open_by_handle_at`, no `umount2(MNT_FORCE)` (issue #18, LXC's
//! defaults).
//!
//! A container's data is a subvolume with a qgroup limit (`--disk-limit`).
//! A subvolume created inside it — which an unprivileged user may do — gets
//! a level-0 qgroup of its own, outside that limit (in full-quota mode the
//! kernel inherits no parent qgroup), so a container could write without
//! bound.  The ioctls that create subvolumes and snapshots
//! ([`crate::btrfs::SUBVOLUME_CREATING_IOCTLS`]) fail with `EPERM` instead;
//! every other system call is allowed.  `swineherd-cgexec` installs the
//! filter before it execs the container's script, so the whole container
//! inherits it, and `exec`'s relay installs the same one before it starts a
//! command, which thus has exactly the container's filters.
//!
//! The program is classic BPF built by hand: a dozen instructions do not
//! justify a dependency (libseccomp is C; `seccompiler` is not among the
//! crates this project keeps).  The request is compared on its low 32 bits,
//! which are all the kernel looks at (`unsigned int cmd`).  32-bit system
//! calls of a 64-bit kernel (i386, x32, arm) are covered too: their btrfs
//! request numbers are the same, the structs having fixed sizes.

use crate::btrfs::SUBVOLUME_CREATING_IOCTLS;
use crate::error::{Error, Result};

/// What the filter knows of one system-call ABI of this machine: its
/// `AUDIT_ARCH_*`, and its numbers of `ioctl`, of the calls denied outright
/// ([`DENIED_CALLS`]) and of `umount2`.
struct Abi {
    arch: u32,
    ioctl: &'static [u32],
    denied: &'static [u32],
    umount2: &'static [u32],
}

/// The system calls a container may not make at all (LXC's
/// `common.seccomp`, issue #18): kexec_load, kexec_file_load,
/// open_by_handle_at, init_module, finit_module, delete_module.  Their
/// numbers are in [`ABIS`], in this order where the ABI has the call.
pub const DENIED_CALLS: [&str; 6] =
    ["kexec_load", "kexec_file_load", "open_by_handle_at", "init_module", "finit_module", "delete_module"];

/// x86_64 (and its x32 ABI, same `AUDIT_ARCH`, numbers with bit 30: x32's
/// own kexec_load is 528) and i386 (no kexec_file_load); aarch64 and arm.
#[cfg(target_arch = "x86_64")]
const ABIS: &[Abi] = &[
    Abi {
        arch: 0xC000_003E,
        ioctl: &[16, X32 | 514],
        denied: &[246, 320, 304, 175, 313, 176, X32 | 528, X32 | 320, X32 | 304, X32 | 175, X32 | 313, X32 | 176],
        umount2: &[166, X32 | 166],
    },
    Abi { arch: 0x4000_0003, ioctl: &[54], denied: &[283, 342, 128, 350, 129], umount2: &[52] },
];
#[cfg(target_arch = "x86_64")]
const X32: u32 = 0x4000_0000;
#[cfg(target_arch = "aarch64")]
const ABIS: &[Abi] = &[
    Abi { arch: 0xC000_00B7, ioctl: &[29], denied: &[104, 294, 265, 105, 273, 106], umount2: &[39] },
    Abi { arch: 0x4000_0028, ioctl: &[54], denied: &[347, 401, 371, 128, 379, 129], umount2: &[52] },
];
#[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
const ABIS: &[Abi] = &[];

/// `MNT_FORCE`, the `umount2` flag the filter refuses.
const MNT_FORCE: u32 = 1;

/// Offsets in `struct seccomp_data`.
const NR: u32 = 0;
const ARCH: u32 = 4;
#[cfg(target_endian = "little")]
const ARG1_LOW: u32 = 24;
#[cfg(target_endian = "big")]
const ARG1_LOW: u32 = 28;

fn stmt(code: u32, k: u32) -> libc::sock_filter {
    libc::sock_filter { code: code as u16, jt: 0, jf: 0, k }
}

/// `if A OP K goto TARGET else fall through`, TARGET an index in the
/// program, HERE the index of this instruction.
fn jump(op: u32, k: u32, here: usize, target: usize) -> libc::sock_filter {
    let jt = u8::try_from(target - here - 1).expect("a short program");
    libc::sock_filter { code: (libc::BPF_JMP | op | libc::BPF_K) as u16, jt, jf: 0, k }
}

fn jump_if(k: u32, here: usize, target: usize) -> libc::sock_filter {
    jump(libc::BPF_JEQ, k, here, target)
}

fn load(offset: u32) -> libc::sock_filter {
    stmt(libc::BPF_LD | libc::BPF_W | libc::BPF_ABS, offset)
}

fn allow() -> libc::sock_filter {
    stmt(libc::BPF_RET | libc::BPF_K, libc::SECCOMP_RET_ALLOW)
}

/// The filter: `ioctl(fd, R, …)` fails with EPERM for R among REQUESTS;
/// with DENY_CALLS, so do the calls of [`DENIED_CALLS`] and `umount2` with
/// `MNT_FORCE`.
pub fn filter(requests: &[u64], deny_calls: bool) -> Vec<libc::sock_filter> {
    // Layout: [load arch; one jump per ABI to its block; allow]
    //         per ABI: [load nr; jumps: ioctl numbers to IOCTL, denied
    //                   calls to DENY, umount2 to UMOUNT; allow]
    //         IOCTL: [load request; one jump per request to DENY; allow]
    //         UMOUNT: [load flags; jset MNT_FORCE to DENY; allow]
    //         DENY: [return EPERM]
    let denied = |abi: &Abi| if deny_calls { abi.denied.len() + abi.umount2.len() } else { 0 };
    let block_len = |abi: &Abi| 2 + abi.ioctl.len() + denied(abi);
    let mut prog = vec![load(ARCH)];
    let mut block = 2 + ABIS.len();
    for abi in ABIS {
        prog.push(jump_if(abi.arch, prog.len(), block));
        block += block_len(abi);
    }
    prog.push(allow());
    let ioctl = block;
    let umount = ioctl + 2 + requests.len();
    let deny = umount + 3;
    for abi in ABIS {
        prog.push(load(NR));
        for nr in abi.ioctl {
            prog.push(jump_if(*nr, prog.len(), ioctl));
        }
        if deny_calls {
            for nr in abi.denied {
                prog.push(jump_if(*nr, prog.len(), deny));
            }
            for nr in abi.umount2 {
                prog.push(jump_if(*nr, prog.len(), umount));
            }
        }
        prog.push(allow());
    }
    debug_assert_eq!(prog.len(), ioctl);
    prog.push(load(ARG1_LOW));
    for request in requests {
        prog.push(jump_if(*request as u32, prog.len(), deny));
    }
    prog.push(allow());
    debug_assert_eq!(prog.len(), umount);
    prog.push(load(ARG1_LOW));
    prog.push(jump(libc::BPF_JSET, MNT_FORCE, prog.len(), deny));
    prog.push(allow());
    debug_assert_eq!(prog.len(), deny);
    prog.push(stmt(libc::BPF_RET | libc::BPF_K, libc::SECCOMP_RET_ERRNO | libc::EPERM as u32));
    prog
}

/// The filter: `ioctl(fd, R, …)` fails with EPERM for R among REQUESTS.
pub fn deny_ioctls(requests: &[u64]) -> Vec<libc::sock_filter> {
    filter(requests, false)
}

/// The containers' filter: no new subvolumes, none of [`DENIED_CALLS`],
/// no forced unmount.
pub fn container_filter() -> Vec<libc::sock_filter> {
    relaxed_filter(false)
}

/// The containers' filter, without the denied calls if RELAXED (`new
/// --syscalls=all`): only the subvolume ioctls stay refused.
pub fn relaxed_filter(relaxed: bool) -> Vec<libc::sock_filter> {
    filter(&SUBVOLUME_CREATING_IOCTLS, !relaxed)
}

/// Install PROG on the calling thread (and what it forks or clones from
/// now on).  Needs CAP_SYS_ADMIN in the current user namespace, or
/// `no_new_privs`.
pub fn install(prog: &[libc::sock_filter]) -> Result<()> {
    if install_raw(prog) < 0 {
        let errno = std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO);
        return Err(Error::new("install seccomp filter", errno));
    }
    Ok(())
}

/// [`install`] as one system call, nothing else (for a forked child):
/// `prctl`'s result, errno set on failure.
pub(crate) fn install_raw(prog: &[libc::sock_filter]) -> libc::c_int {
    let fprog = libc::sock_fprog { len: prog.len() as u16, filter: prog.as_ptr() as *mut libc::sock_filter };
    // (Raw: nix has no PR_SET_SECCOMP, and a forked child may make this one
    // plain system call only.)
    // SAFETY: FPROG points to PROG, valid for the call; the kernel copies it.
    unsafe { libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER as libc::c_ulong, &fprog) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::os::fd::AsRawFd;

    /// Run F in a thread of its own with PROG installed (a filter is per
    /// thread), under no_new_privs so that no privilege is needed.
    fn filtered<T: Send + 'static>(prog: Vec<libc::sock_filter>, f: impl FnOnce() -> T + Send + 'static) -> T {
        std::thread::spawn(move || {
            nix::sys::prctl::set_no_new_privs().unwrap();
            install(&prog).unwrap();
            f()
        })
        .join()
        .unwrap()
    }

    fn ioctl_errno(fd: i32, request: u64) -> i32 {
        let mut buf = [0u8; 4096];
        // SAFETY: BUF is large enough for any of the requests tried here.
        let ret = unsafe { libc::ioctl(fd, request as _, buf.as_mut_ptr()) };
        if ret < 0 {
            std::io::Error::last_os_error().raw_os_error().unwrap()
        } else {
            0
        }
    }

    #[test]
    fn subvolume_ioctls_fail_with_eperm_and_others_pass() {
        let dir = std::fs::File::open(std::env::temp_dir()).unwrap();
        let fd = dir.as_raw_fd();
        let (denied, other, high_bits, fionread) = filtered(container_filter(), move || {
            let denied: Vec<i32> = SUBVOLUME_CREATING_IOCTLS.iter().map(|&r| ioctl_errno(fd, r)).collect();
            // A btrfs ioctl not in the list reaches the file system (ENOTTY
            // on a temp dir that is not btrfs, or its own error on btrfs).
            let other = ioctl_errno(fd, 0x8030_942b);
            // Bits above 32 are ignored by the kernel: by the filter too.
            let high_bits = ioctl_errno(fd, SUBVOLUME_CREATING_IOCTLS[1] | (1 << 40));
            let (read_end, _write_end) = nix::unistd::pipe().unwrap();
            let fionread = ioctl_errno(read_end.as_raw_fd(), libc::FIONREAD);
            (denied, other, high_bits, fionread)
        });
        assert_eq!(denied, vec![libc::EPERM; 4]);
        assert_ne!(other, libc::EPERM);
        assert_eq!(high_bits, libc::EPERM);
        assert_eq!(fionread, 0);
    }

    /// The errno of a system call that returned RET (0 if it succeeded).
    fn errno_of(ret: libc::c_long) -> i32 {
        if ret < 0 {
            std::io::Error::last_os_error().raw_os_error().unwrap()
        } else {
            0
        }
    }

    /// The errnos of delete_module, open_by_handle_at, umount2 with and
    /// without MNT_FORCE, on things that do not exist, under PROG.
    fn denied_call_errnos(prog: Vec<libc::sock_filter>) -> [i32; 4] {
        filtered(prog, || {
            // SAFETY: every pointer is a NUL-terminated literal or null, as
            // the calls allow; nothing is loaded, opened or unmounted.
            unsafe {
                [
                    errno_of(libc::syscall(libc::SYS_delete_module, c"swineherd-none".as_ptr(), 0)),
                    errno_of(libc::syscall(libc::SYS_open_by_handle_at, -1, std::ptr::null::<u8>(), 0)),
                    errno_of(libc::syscall(libc::SYS_umount2, c"/swineherd-none".as_ptr(), libc::MNT_FORCE)),
                    errno_of(libc::syscall(libc::SYS_umount2, c"/swineherd-none".as_ptr(), 0)),
                ]
            }
        })
    }

    #[test]
    fn denied_calls_fail_with_eperm_unless_relaxed() {
        let [module, handle, forced, plain] = denied_call_errnos(container_filter());
        assert_eq!((module, handle, forced), (libc::EPERM, libc::EPERM, libc::EPERM));
        // Without MNT_FORCE, umount2 reaches the kernel.
        assert_ne!(plain, libc::EPERM);
        // Relaxed: the kernel answers (the tests run as root: EBADF or
        // EFAULT for the handle, ENOENT for the path).
        let [_, handle, forced, _] = denied_call_errnos(relaxed_filter(true));
        assert_ne!(handle, libc::EPERM);
        assert_eq!(forced, libc::ENOENT);
    }

    #[test]
    fn the_program_is_well_formed() {
        let prog = container_filter();
        assert!(prog.len() < 64, "{}", prog.len());
        // Every jump lands inside the program.
        for (i, insn) in prog.iter().enumerate() {
            if insn.code == (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K) as u16 {
                assert!(i + 1 + (insn.jt as usize) < prog.len(), "jump at {i}");
            }
        }
    }
}
