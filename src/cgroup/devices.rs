//! The device allow list on cgroup v2 (issue #18): v2 has no `devices`
//! controller; a `BPF_PROG_TYPE_CGROUP_DEVICE` program attached to the
//! cgroup decides each access instead (as runc's and youki's
//! `devicefilter`).  The program is a dozen eBPF instructions per rule,
//! written here by hand (no clang, no libbpf): for a character device whose
//! major, and minor unless the rule has none, match a rule of
//! [`super::ALLOWED_DEVICES`], return 1 (allow); else 0 (EPERM).  Attached
//! with `BPF_PROG_ATTACH`, it lives as long as the cgroup: the descriptor
//! is closed at once.

use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::path::Path;

use crate::error::{Error, Result};

/// One eBPF instruction (`struct bpf_insn`).
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Insn {
    code: u8,
    /// dst_reg in the low nibble, src_reg in the high one (little-endian
    /// bitfield layout; the machines this builds for are little-endian).
    regs: u8,
    off: i16,
    imm: i32,
}

const LDX_MEM_W: u8 = 0x61; // BPF_LDX | BPF_MEM | BPF_W
const ALU32_AND_K: u8 = 0x54;
const JNE_K: u8 = 0x55; // BPF_JMP | BPF_JNE | BPF_K
const MOV64_K: u8 = 0xb7;
const EXIT: u8 = 0x95;

/// `BPF_DEVCG_DEV_CHAR`, the type half of `access_type`.
const DEV_CHAR: i32 = 2;

fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn { code, regs: dst | src << 4, off, imm }
}

/// The program: R1 points to `struct bpf_cgroup_dev_ctx { u32
/// access_type; u32 major; u32 minor; }`.
pub fn program() -> Vec<Insn> {
    let mut prog = vec![
        insn(LDX_MEM_W, 2, 1, 0, 0),        // r2 = access_type
        insn(ALU32_AND_K, 2, 0, 0, 0xffff), // r2 = type
        insn(LDX_MEM_W, 4, 1, 4, 0),        // r4 = major
        insn(LDX_MEM_W, 5, 1, 8, 0),        // r5 = minor
    ];
    for rule in super::ALLOWED_DEVICES.iter() {
        // Each block: [type != char → next; major != M → next;
        // (minor != m → next;) r0 = 1; exit].
        let len: i16 = if rule.minor.is_some() { 5 } else { 4 };
        prog.push(insn(JNE_K, 2, 0, len - 1, DEV_CHAR));
        prog.push(insn(JNE_K, 4, 0, len - 2, rule.major as i32));
        if let Some(minor) = rule.minor {
            prog.push(insn(JNE_K, 5, 0, len - 3, minor as i32));
        }
        prog.push(insn(MOV64_K, 0, 0, 0, 1));
        prog.push(insn(EXIT, 0, 0, 0, 0));
    }
    // Every access to an allowed device (read, write, mknod) is allowed,
    // as LXC's "c M:m rwm"; the access bits are not looked at.
    prog.push(insn(MOV64_K, 0, 0, 0, 0));
    prog.push(insn(EXIT, 0, 0, 0, 0));
    prog
}

const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_PROG_ATTACH: libc::c_long = 8;
const BPF_PROG_TYPE_CGROUP_DEVICE: u32 = 15;
const BPF_CGROUP_DEVICE: u32 = 6;

/// The leading fields of `union bpf_attr` for `BPF_PROG_LOAD`, zero-padded
/// to a size every kernel since 4.15 accepts.
#[repr(C)]
#[derive(Default)]
struct ProgLoad {
    prog_type: u32,
    insn_cnt: u32,
    insns: u64,
    license: u64,
    log_level: u32,
    log_size: u32,
    log_buf: u64,
    kern_version: u32,
    prog_flags: u32,
    padding: [u64; 8],
}

/// `union bpf_attr` for `BPF_PROG_ATTACH`.
#[repr(C)]
#[derive(Default)]
struct ProgAttach {
    target_fd: u32,
    attach_bpf_fd: u32,
    attach_type: u32,
    attach_flags: u32,
    replace_bpf_fd: u32,
    padding: u32,
}

fn bpf<T>(cmd: libc::c_long, attr: &mut T) -> libc::c_long {
    // SAFETY: ATTR is a valid, initialised bpf_attr prefix of the size
    // passed; the kernel reads (and may write) at most that much.
    unsafe { libc::syscall(libc::SYS_bpf, cmd, attr as *mut T, std::mem::size_of::<T>()) }
}

/// Load [`program`] and attach it to the v2 cgroup DIR.
pub fn restrict(dir: &Path) -> Result<()> {
    let prog = program();
    let license = c"GPL";
    let mut load = ProgLoad {
        prog_type: BPF_PROG_TYPE_CGROUP_DEVICE,
        insn_cnt: prog.len() as u32,
        insns: prog.as_ptr() as u64,
        license: license.as_ptr() as u64,
        ..Default::default()
    };
    let fd = bpf(BPF_PROG_LOAD, &mut load);
    if fd < 0 {
        return Err(Error::new("load the device program", crate::sys::errno()).path(dir));
    }
    // SAFETY: FD was just returned by the kernel and is owned by nobody else.
    let prog_fd = unsafe { OwnedFd::from_raw_fd(fd as i32) };
    let cgroup = std::fs::File::open(dir).map_err(|e| Error::io("open cgroup", dir, &e))?;
    let mut attach = ProgAttach {
        target_fd: cgroup.as_raw_fd() as u32,
        attach_bpf_fd: prog_fd.as_raw_fd() as u32,
        attach_type: BPF_CGROUP_DEVICE,
        ..Default::default()
    };
    if bpf(BPF_PROG_ATTACH, &mut attach) < 0 {
        return Err(Error::new("attach the device program", crate::sys::errno()).path(dir));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_jump_lands_on_the_next_block_or_the_default() {
        let prog = program();
        for (i, insn) in prog.iter().enumerate() {
            if insn.code == JNE_K {
                let target = i as i64 + 1 + insn.off as i64;
                let t = &prog[target as usize];
                // A block starts with the type check, or the default deny.
                assert!(t.code == JNE_K && t.imm == DEV_CHAR || t.code == MOV64_K && t.imm == 0, "jump at {i}");
            }
        }
        assert_eq!(prog.last().unwrap().code, EXIT);
    }

    /// In a cgroup v2 directory of its own (under the hybrid layout's
    /// `unified` mount, or the v2 root), a child can open /dev/null but
    /// not /dev/loop-control.
    #[test]
    #[ignore = "needs root"]
    fn the_program_denies_what_is_not_listed() {
        let root = ["/sys/fs/cgroup/unified", "/sys/fs/cgroup"]
            .into_iter()
            .map(Path::new)
            .find(|p| p.join("cgroup.procs").exists() && p.join("cgroup.subtree_control").exists())
            .expect("a cgroup v2 mount");
        let dir = root.join(format!("swh-devices-test-{}", std::process::id()));
        std::fs::create_dir(&dir).unwrap();
        restrict(&dir).unwrap();
        let procs = dir.join("cgroup.procs");
        let cprocs = std::ffi::CString::new(procs.to_str().unwrap()).unwrap();
        // SAFETY: the child makes only system calls before _exit.
        let pid = unsafe { libc::fork() };
        if pid == 0 {
            // SAFETY: plain system calls on NUL-terminated literals.
            unsafe {
                let fd = libc::open(cprocs.as_ptr(), libc::O_WRONLY);
                if fd < 0 || libc::write(fd, c"0".as_ptr().cast(), 1) < 0 {
                    libc::_exit(10);
                }
                let null = libc::open(c"/dev/null".as_ptr(), libc::O_RDWR);
                let other = libc::open(c"/dev/loop-control".as_ptr(), libc::O_RDWR);
                let code = if null < 0 {
                    11
                } else if other >= 0 {
                    12
                } else if crate::sys::errno() != libc::EPERM {
                    13
                } else {
                    0
                };
                libc::_exit(code)
            }
        }
        let mut status = 0;
        // SAFETY: STATUS is a valid out-parameter.
        unsafe { libc::waitpid(pid, &mut status, 0) };
        std::fs::remove_dir(&dir).unwrap();
        assert!(libc::WIFEXITED(status));
        assert_eq!(libc::WEXITSTATUS(status), 0);
    }
}
