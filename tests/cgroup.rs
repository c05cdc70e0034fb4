//! The cgroup primitives against this machine's real cgroups.
//!
//! They need root: tests/scenarios/05-library-kernel.sh runs them with
//! `--ignored` inside the sandbox, under the cgroup parent the sandbox
//! names in SWINEHERD_CGROUP_PARENT (removed by the sandbox if a test
//! leaves it behind).  Results are checked by reading /sys/fs/cgroup.

use std::fs;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use swineherd::cgroup::{self, Layout, Limits, Manager};

fn relative(name: &str) -> String {
    let parent = std::env::var("SWINEHERD_CGROUP_PARENT").expect("SWINEHERD_CGROUP_PARENT: run in the sandbox");
    format!("{parent}/{name}")
}

/// This machine's layout, and a manager of the cgroup NAME under the
/// sandbox's parent: (layout, relative name, manager).
fn managed(name: &str) -> (Layout, String, Manager) {
    let layout = cgroup::detect_here().unwrap();
    let rel = relative(name);
    let manager = Manager::new(&layout, &rel).unwrap();
    (layout, rel, manager)
}

fn sleeper() -> Child {
    Command::new("sleep").arg("60").spawn().unwrap()
}

/// Remove the cgroup, waiting for killed processes to go.
fn remove(manager: &Manager) {
    for _ in 0..200 {
        if manager.remove().unwrap() {
            return;
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    panic!("cgroup not removed");
}

/// The file holding LIMIT (`"memory"`, `"pids"`, `"cpu"`) of the cgroup
/// REL in LAYOUT, and the text the limits of `limits_on_this_machine` leave
/// in it.
fn limit_file(layout: &Layout, rel: &str, limit: &str) -> (PathBuf, &'static str) {
    let v1 = |controller: &str, file: &str| PathBuf::from("/sys/fs/cgroup").join(controller).join(rel).join(file);
    match (layout, limit) {
        (Layout::Unified(root), "memory") => (root.join(rel).join("memory.max"), "67108864"),
        (Layout::Unified(root), "pids") => (root.join(rel).join("pids.max"), "50"),
        (Layout::Unified(root), _) => (root.join(rel).join("cpu.max"), "50000 100000"),
        (_, "memory") => (v1("memory", "memory.limit_in_bytes"), "67108864"),
        (_, "pids") => (v1("pids", "pids.max"), "50"),
        _ => (v1("cpu", "cpu.cfs_quota_us"), "50000"),
    }
}

#[test]
#[ignore = "needs root and a cgroup parent: run in the sandbox"]
fn limits_on_this_machine() {
    // Whatever the layout (v2 only, hybrid or v1 only), the controllers'
    // own files show the limits, and every directory holds the process.
    let (layout, rel, manager) = managed("limits");
    let limits =
        Limits { memory: Some(64 << 20), pids: Some(50), cpu_quota: Some((50_000, 100_000)), ..Limits::default() };
    manager.create(&limits).unwrap();
    for limit in ["memory", "pids", "cpu"] {
        let (file, expected) = limit_file(&layout, &rel, limit);
        assert_eq!(fs::read_to_string(&file).unwrap().trim(), expected, "{file:?}");
    }

    let mut child = sleeper();
    manager.join(child.id() as i32).unwrap();
    for dir in manager.directories() {
        let procs = fs::read_to_string(dir.join("cgroup.procs")).unwrap();
        assert!(procs.lines().any(|l| l == child.id().to_string()), "{dir:?}: {procs}");
    }
    let stats = manager.stats().unwrap();
    assert_eq!(stats.pids_current, 1);
    assert_eq!(stats.pids_limit, 50);
    assert_eq!(stats.memory_limit, 64 << 20);
    // (Memory is charged where pages were allocated; v1 does not move the
    // sleeper's charges with it.  Containers are born in their cgroup.)

    // Removal kills what is left, then removes every directory.
    assert!(!manager.remove().unwrap(), "busy the first time: the sleeper is in it");
    child.wait().unwrap();
    remove(&manager);
    for dir in manager.directories() {
        assert!(!dir.exists(), "{dir:?} left behind");
    }
}

#[test]
#[ignore = "needs root and a cgroup parent: run in the sandbox"]
fn v2_membership_and_cpu_accounting() {
    // The cgroup2 hierarchy: at the root (v2 only), membership and cpu.stat;
    // controller-less at /sys/fs/cgroup/unified (hybrid), a container's
    // cgroup is refused, naming the controllers that are missing.
    let root = match cgroup::detect_here().unwrap() {
        Layout::Unified(root) => root,
        Layout::Hybrid(_) => {
            let layout = Layout::Unified(PathBuf::from("/sys/fs/cgroup/unified"));
            let manager = Manager::new(&layout, &relative("v2")).unwrap();
            let err = manager.create(&Limits::default()).unwrap_err();
            assert_eq!(err.errno, libc::ENOTSUP, "{err}");
            assert!(err.to_string().contains("controllers are not available"), "{err}");
            return;
        }
        Layout::Legacy(_) => return eprintln!("no cgroup2 hierarchy on this machine: nothing to test"),
    };
    let layout = Layout::Unified(root.clone());
    let rel = relative("v2");
    let manager = Manager::new(&layout, &rel).unwrap();
    manager.create(&Limits::default()).unwrap();
    // The shell waits for a line, so that it spins only once in the cgroup,
    // and says when it is done spinning.
    let mut child = Command::new("sh")
        .args(["-c", "read go; i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; echo spun; exec sleep 60"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    manager.join(child.id() as i32).unwrap();
    let procs = fs::read_to_string(root.join(&rel).join("cgroup.procs")).unwrap();
    assert!(procs.lines().any(|l| l == child.id().to_string()), "{procs}");
    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let mut spun = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut spun).unwrap();
    assert_eq!(spun, "spun\n");
    let stats = manager.stats().unwrap();
    assert!(stats.cpu_total_ns > 0, "{stats:?}");
    assert!(!manager.remove().unwrap());
    child.wait().unwrap();
    remove(&manager);
    assert!(!root.join(&rel).exists());
}

#[test]
#[ignore = "needs root and a cgroup parent: run in the sandbox"]
fn cgexec_runs_the_command_inside_the_cgroup() {
    let (layout, rel, manager) = managed("cgexec");
    manager.create(&Limits::default()).unwrap();
    let exe = env!("CARGO_BIN_EXE_swineherd-cgexec");
    let out = Command::new(exe).args([rel.as_str(), "--", "cat", "/proc/self/cgroup"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    // v2's line is "0::/PATH"; v1's memory hierarchy's "N:memory:/PATH".
    let hierarchy = if matches!(layout, Layout::Unified(_)) { "0::" } else { ":memory:" };
    assert!(text.lines().any(|l| l.contains(hierarchy) && l.ends_with(&format!("/{rel}"))), "{text}");
    let out = Command::new(exe).args([rel.as_str(), "--", "/nonexistent"]).output().unwrap();
    assert_eq!(out.status.code(), Some(127));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot run /nonexistent"));
    remove(&manager);
}
