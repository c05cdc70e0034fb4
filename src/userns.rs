//! A container's own user namespace (issue #18): host uids and gids
//! BASE..BASE+COUNT seen as 0..COUNT inside, so that the container's root
//! is not the host's.
//!
//! [`enter`] moves the calling process (`swineherd-cgexec`, before it
//! execs the container's script) into a new user namespace and makes it
//! uid/gid 0 there.  The maps of a namespace can only be written from its
//! parent namespace by a process holding CAP_SETUID/CAP_SETGID there, so a
//! helper is forked first, still in the host's namespace: it waits on a
//! pipe until we have unshared, writes our `uid_map` and `gid_map`, and
//! exits; we reap it (it is our own child, not Shepherd's).  Guix's script
//! then writes `0 0 65536` for its own nested namespace: that lands in our
//! range.  Only for single-threaded programs: it forks.

use std::fs::File;
use std::io::{Read, Write};

use nix::sched::{unshare, CloneFlags};
use nix::sys::wait::{waitpid, WaitStatus};
use nix::unistd::{self, Gid, Pid, Uid};

use crate::error::{Error, Result};

/// A range of host ids: BASE and the COUNT that follow it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct IdRange {
    pub base: u32,
    pub count: u32,
}

impl IdRange {
    /// Parse `BASE:COUNT`, as `swineherd-cgexec --ids` takes it.
    pub fn parse(text: &str) -> Option<IdRange> {
        let (base, count) = text.split_once(':')?;
        let range = IdRange { base: base.parse().ok()?, count: count.parse().ok()? };
        (range.count > 0 && range.base.checked_add(range.count).is_some()).then_some(range)
    }

    /// The line of a `uid_map` or `gid_map` mapping 0..COUNT to the range.
    pub fn map_line(&self) -> String {
        format!("0 {} {}\n", self.base, self.count)
    }
}

fn last_error(op: &'static str) -> Error {
    Error::new(op, std::io::Error::last_os_error().raw_os_error().unwrap_or(libc::EIO))
}

fn pipe() -> Result<(File, File)> {
    let (r, w) = crate::sys::pipe()?;
    Ok((File::from(r), File::from(w)))
}

/// Write RANGE as the uid and gid maps of process PID (the helper's side).
fn write_maps(pid: libc::pid_t, range: IdRange) -> std::io::Result<()> {
    for map in ["uid_map", "gid_map"] {
        File::options().write(true).open(format!("/proc/{pid}/{map}"))?.write_all(range.map_line().as_bytes())?;
    }
    Ok(())
}

/// Move the calling, single-threaded process into a new user namespace
/// mapping 0..COUNT to RANGE, and become uid and gid 0 in it, with no
/// supplementary group: every capability inside, none outside.
pub fn enter(range: IdRange) -> Result<()> {
    let (mut go_r, mut go_w) = pipe()?;
    let me = unistd::getpid().as_raw();
    // SAFETY: the caller is single-threaded (the contract): the helper may
    // run ordinary code, and ends with _exit.
    let helper = unsafe { libc::fork() };
    if helper < 0 {
        return Err(last_error("fork the id-map writer"));
    }
    if helper == 0 {
        drop(go_w);
        let mut byte = [0u8; 1];
        let code = match go_r.read(&mut byte) {
            Ok(1) => write_maps(me, range).map_or_else(|e| e.raw_os_error().unwrap_or(libc::EIO), |()| 0),
            _ => libc::ECANCELED,
        };
        // SAFETY: ends the helper without running the parent's exit code.
        unsafe { libc::_exit(code) }
    }
    drop(go_r);
    let unshare_error =
        unshare(CloneFlags::CLONE_NEWUSER).err().map(|e| Error::new("unshare the user namespace", e as i32));
    if unshare_error.is_none() {
        let _ = go_w.write_all(b"1");
    }
    drop(go_w);
    let status = reap(helper)?;
    if let Some(err) = unshare_error {
        return Err(err);
    }
    match status {
        WaitStatus::Exited(_, 0) => become_root(),
        WaitStatus::Exited(_, errno) => {
            Err(Error::new("write the uid and gid maps", errno).path(format!("/proc/{me}")))
        }
        _ => Err(Error::new("write the uid and gid maps", libc::EIO).path(format!("/proc/{me}"))),
    }
}

/// Wait for our child PID to end; return how.
fn reap(pid: libc::pid_t) -> Result<WaitStatus> {
    loop {
        match waitpid(Pid::from_raw(pid), None) {
            Err(nix::errno::Errno::EINTR) => continue,
            Err(e) => return Err(Error::new("wait for the id-map writer", e as i32)),
            Ok(status @ (WaitStatus::Exited(..) | WaitStatus::Signaled(..))) => return Ok(status),
            Ok(_) => continue,
        }
    }
}

/// uid and gid 0 of our (new) user namespace, no supplementary groups (the
/// host's root groups are not mapped).
fn become_root() -> Result<()> {
    let fail = |op| move |e: nix::Error| Error::new(op, e as i32);
    unistd::setgroups(&[]).map_err(fail("setgroups in the user namespace"))?;
    unistd::setresgid(Gid::from_raw(0), Gid::from_raw(0), Gid::from_raw(0))
        .map_err(fail("setresgid 0 in the user namespace"))?;
    unistd::setresuid(Uid::from_raw(0), Uid::from_raw(0), Uid::from_raw(0))
        .map_err(fail("setresuid 0 in the user namespace"))
}

/// The ID range of process PID's user namespace, if its `uid_map` is one
/// line `0 BASE COUNT`; `None` for the host's identity map.
pub fn range_of(pid: libc::pid_t) -> Result<Option<IdRange>> {
    let path = format!("/proc/{pid}/uid_map");
    let text = std::fs::read_to_string(&path).map_err(|e| Error::io("read", &path, &e))?;
    let fields: Vec<u64> = text.split_whitespace().filter_map(|f| f.parse().ok()).collect();
    Ok(match fields.as_slice() {
        [0, 0, _] => None,
        [0, base, count] => Some(IdRange { base: *base as u32, count: *count as u32 }),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_and_print() {
        let range = IdRange::parse("1000000000:65536").unwrap();
        assert_eq!(range, IdRange { base: 1_000_000_000, count: 65536 });
        assert_eq!(range.map_line(), "0 1000000000 65536\n");
        assert_eq!(IdRange::parse("1:0"), None);
        assert_eq!(IdRange::parse("4294967295:2"), None);
        assert_eq!(IdRange::parse("12"), None);
        assert_eq!(IdRange::parse("a:1"), None);
    }

    #[test]
    #[ignore = "needs root"]
    fn entering_maps_the_range_in_a_forked_child() {
        // In a child of our own (enter changes the caller for good and
        // needs a single thread): report its uid_map and ids.
        let (mut r, mut w) = pipe().unwrap();
        // SAFETY: the child only runs enter, writes to a pipe and _exits.
        let pid = unsafe { libc::fork() };
        assert!(pid >= 0);
        if pid == 0 {
            drop(r);
            let text = match enter(IdRange { base: 3_000_000_000, count: 65536 }) {
                Ok(()) => {
                    // SAFETY: getuid and getgid have no preconditions.
                    let ids = unsafe { (libc::getuid(), libc::getgid()) };
                    let map = std::fs::read_to_string("/proc/self/uid_map").unwrap_or_default();
                    format!("{}|{}|{}", map.trim(), ids.0, ids.1)
                }
                Err(err) => format!("error: {err}"),
            };
            let _ = w.write_all(text.as_bytes());
            // SAFETY: ends the forked test child at once.
            unsafe { libc::_exit(0) }
        }
        drop(w);
        let mut text = String::new();
        r.read_to_string(&mut text).unwrap();
        reap(pid).unwrap();
        let fields: Vec<&str> = text.split('|').collect();
        assert_eq!(fields.len(), 3, "{text}");
        assert_eq!(fields[0].split_whitespace().collect::<Vec<_>>(), ["0", "3000000000", "65536"]);
        assert_eq!(&fields[1..], ["0", "0"]);
    }
}
