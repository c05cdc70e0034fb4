//! The capability bounding set of a container (issue #18): LXC's
//! `common.conf` drops CAP_SYS_MODULE, CAP_SYS_RAWIO, CAP_SYS_TIME,
//! CAP_MAC_ADMIN and CAP_MAC_OVERRIDE; so does `swineherd-cgexec` before
//! it execs a container's script, and `exec`'s relay before it starts a
//! command.  Dropping needs CAP_SETPCAP in the caller's user namespace.
//!
//! A kernel fact to know: a process entering a *new* user namespace
//! (`clone`/`unshare(CLONE_NEWUSER)`, `setns`) gets a full bounding set in
//! it.  Guix's script makes such a namespace for the container's init, so
//! the init's `CapBnd` is full again — but its capabilities are those of a
//! user namespace that is not the host's, and the kernel checks these five
//! against the host's (`capable()`), so they grant nothing there.  The
//! drop binds the script itself and every `exec`'d command, which joins
//! the init's namespace first and drops after.

/// The capabilities dropped from the bounding set, by number
/// (`linux/capability.h`) and name.
pub const DROPPED: [(u32, &str); 5] = [
    (16, "CAP_SYS_MODULE"),
    (17, "CAP_SYS_RAWIO"),
    (25, "CAP_SYS_TIME"),
    (32, "CAP_MAC_OVERRIDE"),
    (33, "CAP_MAC_ADMIN"),
];

/// Drop [`DROPPED`] from the calling thread's bounding set: one `prctl`
/// per capability, nothing else (for a forked child too).  Returns 0, or
/// -1 with errno set.  A capability the kernel does not know (EINVAL) is
/// not an error: nobody can have it.
pub fn drop_bounding_raw() -> libc::c_int {
    for (cap, _) in DROPPED {
        // SAFETY: plain prctl with integer arguments.
        if unsafe { libc::prctl(libc::PR_CAPBSET_DROP, cap as libc::c_ulong, 0, 0, 0) } < 0
            && crate::sys::errno() != libc::EINVAL
        {
            return -1;
        }
    }
    0
}

/// [`drop_bounding_raw`], with a clear error.
pub fn drop_bounding() -> crate::Result<()> {
    if drop_bounding_raw() < 0 {
        return Err(crate::Error::new("drop capabilities from the bounding set", crate::sys::errno()));
    }
    Ok(())
}

/// The bounding set's mask of [`DROPPED`], as `CapBnd` in
/// `/proc/PID/status` would show it.
pub fn dropped_mask() -> u64 {
    DROPPED.iter().fold(0, |mask, (cap, _)| mask | 1 << cap)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cap_bnd() -> u64 {
        let status = std::fs::read_to_string("/proc/thread-self/status").unwrap();
        let line = status.lines().find(|l| l.starts_with("CapBnd:")).unwrap();
        u64::from_str_radix(line.split_whitespace().nth(1).unwrap(), 16).unwrap()
    }

    #[test]
    #[ignore = "needs root"]
    fn the_dropped_bits_leave_the_bounding_set_of_this_thread_only() {
        let before = cap_bnd();
        let after = std::thread::spawn(|| {
            drop_bounding().unwrap();
            cap_bnd()
        })
        .join()
        .unwrap();
        assert_eq!(after & dropped_mask(), 0);
        assert_eq!(after, before & !dropped_mask());
        assert_eq!(dropped_mask(), 0x3_0203_0000);
    }
}
