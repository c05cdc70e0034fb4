//! The cgroup primitives against this machine's real cgroups.
//!
//! They need root: tests/scenarios/05-library-kernel.sh runs them with
//! `--ignored` inside the sandbox, under the cgroup parent the sandbox
//! names in SWINEHERD_CGROUP_PARENT (removed by the sandbox if a test
//! leaves it behind).  Results are checked by reading /sys/fs/cgroup.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::Duration;

use swineherd::cgroup::{self, Layout, Limits, Manager};

fn relative(name: &str) -> String {
    let parent = std::env::var("SWINEHERD_CGROUP_PARENT").expect("SWINEHERD_CGROUP_PARENT: run in the sandbox");
    format!("{parent}/{name}")
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

#[test]
#[ignore]
fn v1_controllers_on_this_machine() {
    let layout = cgroup::detect_here().unwrap();
    assert!(matches!(layout, Layout::Hybrid(_) | Layout::Legacy(_)), "these machines are hybrid: {layout:?}");
    let rel = relative("v1");
    let manager = Manager::new(&layout, &rel).unwrap();
    let limits = Limits { memory: Some(64 << 20), pids: Some(50), cpu_quota: Some((50_000, 100_000)), ..Limits::default() };
    manager.create(&limits).unwrap();
    let dir = |c: &str| PathBuf::from("/sys/fs/cgroup").join(c).join(&rel);
    assert_eq!(fs::read_to_string(dir("memory").join("memory.limit_in_bytes")).unwrap().trim(), (64u64 << 20).to_string());
    assert_eq!(fs::read_to_string(dir("pids").join("pids.max")).unwrap().trim(), "50");
    assert_eq!(fs::read_to_string(dir("cpu").join("cpu.cfs_quota_us")).unwrap().trim(), "50000");

    let mut child = sleeper();
    manager.join(child.id() as i32).unwrap();
    for c in ["memory", "pids", "cpu", "cpuacct"] {
        let procs = fs::read_to_string(dir(c).join("cgroup.procs")).unwrap();
        assert!(procs.lines().any(|l| l == child.id().to_string()), "{c}: {procs}");
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
    for c in ["memory", "pids", "cpu", "cpuacct"] {
        assert!(!dir(c).exists(), "{c} cgroup left behind");
    }
}

#[test]
#[ignore]
fn v2_on_the_controllerless_unified_hierarchy() {
    // Hybrid layout: cgroup2 at /sys/fs/cgroup/unified has no controllers,
    // but membership and cpu.stat work.
    let root = Path::new("/sys/fs/cgroup/unified");
    let layout = Layout::Unified(root.to_path_buf());
    let rel = relative("v2");
    let manager = Manager::new(&layout, &rel).unwrap();
    manager.create(&Limits::default()).unwrap();
    let err = manager.create(&Limits { memory: Some(1 << 20), ..Limits::default() }).unwrap_err();
    assert_eq!(err.errno, libc::ENOTSUP, "{err}");
    let mut child = Command::new("sh").args(["-c", "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; sleep 60"]).spawn().unwrap();
    manager.join(child.id() as i32).unwrap();
    std::thread::sleep(Duration::from_millis(300));
    let procs = fs::read_to_string(root.join(&rel).join("cgroup.procs")).unwrap();
    assert!(procs.contains(&child.id().to_string()));
    let stats = manager.stats().unwrap();
    assert!(stats.cpu_total_ns > 0, "{stats:?}");
    assert!(!manager.remove().unwrap());
    child.wait().unwrap();
    remove(&manager);
    assert!(!root.join(&rel).exists());
}

#[test]
#[ignore]
fn cgexec_runs_the_command_inside_the_cgroup() {
    let layout = cgroup::detect_here().unwrap();
    let rel = relative("cgexec");
    let manager = Manager::new(&layout, &rel).unwrap();
    manager.create(&Limits::default()).unwrap();
    let exe = env!("CARGO_BIN_EXE_swineherd-cgexec");
    let out = Command::new(exe).args([rel.as_str(), "--", "cat", "/proc/self/cgroup"]).output().unwrap();
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.lines().any(|l| l.contains(":memory:") && l.ends_with(&format!("/{rel}"))), "{text}");
    let out = Command::new(exe).args([rel.as_str(), "--", "/nonexistent"]).output().unwrap();
    assert_eq!(out.status.code(), Some(127));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot run /nonexistent"));
    remove(&manager);
}
