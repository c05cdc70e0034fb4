//! Processes, read from `/proc`: the process tree below a PID, and the
//! container init among it.
//!
//! A container script (what `guix system container` prints) is a Guile
//! program that forks the container's PID 1 into new namespaces and waits for
//! it; it may also exec directly into the init.  The init is found without
//! assuming either shape: it is the topmost process below the script whose
//! PID namespace differs from the caller's.

use std::collections::VecDeque;
use std::fs;
use std::os::unix::fs::MetadataExt;
use std::path::PathBuf;

use crate::error::{Context, Error, Result};

/// A namespace's identity: the device and inode of its `/proc/PID/ns/KIND`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NamespaceId {
    pub dev: u64,
    pub ino: u64,
}

/// The procfs directory of PID (`None`: the calling process).
fn proc_dir(pid: Option<i32>) -> PathBuf {
    match pid {
        Some(pid) => PathBuf::from(format!("/proc/{pid}")),
        None => PathBuf::from("/proc/self"),
    }
}

/// The namespace of KIND (`"pid"`, `"net"`, …) that PID (or the caller) is in.
pub fn namespace(pid: Option<i32>, kind: &str) -> Result<NamespaceId> {
    let path = proc_dir(pid).join("ns").join(kind);
    let meta = fs::metadata(&path).at("stat namespace", &path)?;
    Ok(NamespaceId { dev: meta.dev(), ino: meta.ino() })
}

/// The children of PID, over all its threads.  A process that is gone has
/// no children.
pub fn children(pid: i32) -> Vec<i32> {
    let tasks = proc_dir(Some(pid)).join("task");
    let Ok(entries) = fs::read_dir(&tasks) else { return Vec::new() };
    entries
        .flatten()
        .filter_map(|task| fs::read_to_string(task.path().join("children")).ok())
        .flat_map(|text| text.split_whitespace().filter_map(|w| w.parse().ok()).collect::<Vec<_>>())
        .collect()
}

/// Whether PID exists (as a process or a zombie).
pub fn exists(pid: i32) -> bool {
    proc_dir(Some(pid)).exists()
}

/// PID and its descendants, breadth first (PID first).
pub fn descendants(pid: i32) -> Vec<i32> {
    let mut seen = vec![pid];
    let mut queue = VecDeque::from([pid]);
    while let Some(next) = queue.pop_front() {
        for child in children(next) {
            if !seen.contains(&child) {
                seen.push(child);
                queue.push_back(child);
            }
        }
    }
    seen
}

/// The host PID of the init of the container started by ROOT (the container
/// script's PID).  HINT, when positive, is a candidate (e.g. read from the
/// script's `--pid-file`); it is used only if it really is such an init below
/// ROOT.  Fails with `ESRCH` when ROOT is gone or no process below it has
/// entered a PID namespace of its own yet.
pub fn container_init(root: i32, hint: i32) -> Result<i32> {
    const OP: &str = "find container init";
    if root <= 0 {
        return Err(Error::new(OP, libc::EINVAL).detail(format!("invalid PID {root}")));
    }
    if !exists(root) {
        return Err(Error::new(OP, libc::ESRCH).detail(format!("container process {root} is gone")));
    }
    let ours = namespace(None, "pid")?;
    let is_init = |pid: i32| namespace(Some(pid), "pid").is_ok_and(|ns| ns != ours);
    let tree = descendants(root);
    if hint > 0 && tree.contains(&hint) && is_init(hint) {
        return Ok(hint);
    }
    // Breadth first: the first process in another PID namespace is the
    // topmost one there, the container's PID 1.
    tree.into_iter().find(|&pid| is_init(pid)).ok_or_else(|| {
        Error::new(OP, libc::ESRCH)
            .detail(format!("no process below PID {root} runs in a PID namespace of its own (yet)"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    #[test]
    fn namespace_is_the_kernels_inode_of_that_kind_and_process() {
        // The inode matches readlink's "pid:[INODE]", checked independently.
        let ours = namespace(None, "pid").unwrap();
        let link = fs::read_link("/proc/self/ns/pid").unwrap();
        assert_eq!(link.to_str().unwrap(), format!("pid:[{}]", ours.ino));
        // Another kind is another namespace; a child shares ours.
        assert_ne!(namespace(None, "net").unwrap(), ours);
        let mut child = Command::new("sleep").arg("5").spawn().unwrap();
        assert_eq!(namespace(Some(child.id() as i32), "pid").unwrap(), ours);
        child.kill().unwrap();
        child.wait().unwrap();
        // A process that is gone has none.
        let err = namespace(Some(child.id() as i32), "pid").unwrap_err();
        assert_eq!(err.errno, libc::ENOENT, "{err}");
    }

    #[test]
    fn descendants_include_a_spawned_child() {
        let mut child = Command::new("sleep").arg("5").spawn().unwrap();
        let me = std::process::id() as i32;
        let tree = descendants(me);
        assert_eq!(tree[0], me);
        assert!(tree.contains(&(child.id() as i32)));
        child.kill().unwrap();
        child.wait().unwrap();
    }

    #[test]
    fn no_init_below_a_plain_process() {
        let mut child = Command::new("sleep").arg("5").spawn().unwrap();
        let err = container_init(child.id() as i32, 0).unwrap_err();
        assert_eq!(err.errno, libc::ESRCH);
        // A hint that is no init below the root is ignored.
        let err = container_init(child.id() as i32, 1).unwrap_err();
        assert_eq!(err.errno, libc::ESRCH);
        child.kill().unwrap();
        child.wait().unwrap();
    }

    #[test]
    #[ignore = "needs root"]
    fn finds_the_init_of_a_new_pid_namespace() {
        // unshare(1) forks the namespace's PID 1 below itself.
        let mut child = Command::new("unshare")
            .args(["--pid", "--fork", "--kill-child", "--", "sleep", "5"])
            .spawn()
            .expect("unshare(1) from util-linux");
        let root = child.id() as i32;
        let mut init = Err(Error::new("", 0));
        for _ in 0..100 {
            init = container_init(root, 0);
            if init.is_ok() {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        }
        let init = init.expect("an init below unshare (needs root)");
        assert_ne!(init, root);
        assert!(children(root).contains(&init));
        let status = fs::read_to_string(format!("/proc/{init}/status")).unwrap();
        let nspid = status.lines().find(|l| l.starts_with("NSpid:")).unwrap();
        assert!(nspid.ends_with("\t1"), "{nspid}");
        // A correct hint is taken; a wrong one is ignored.
        assert_eq!(container_init(root, init).unwrap(), init);
        assert_eq!(container_init(root, root).unwrap(), init);
        child.kill().unwrap();
        child.wait().unwrap();
    }

    #[test]
    fn gone_and_invalid_roots_are_errors() {
        assert_eq!(container_init(-3, 0).unwrap_err().errno, libc::EINVAL);
        assert_eq!(container_init(i32::MAX, 0).unwrap_err().errno, libc::ESRCH);
    }
}
