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
fn v1_host_unified_hierarchy_without_controllers_is_refused_by_name() {
    // Hybrid layout: the cgroup2 at /sys/fs/cgroup/unified has no
    // controllers; a v2 cgroup there is refused, naming what is missing.
    let root = Path::new("/sys/fs/cgroup/unified");
    let manager = Manager::new(&Layout::Unified(root.to_path_buf()), &relative("v2")).unwrap();
    let err = manager.create(&Limits::default()).unwrap_err();
    assert_eq!(err.errno, libc::ENOTSUP, "{err}");
    assert!(err.to_string().contains("the cpu, memory, pids controllers are not available in this cgroup2 hierarchy"), "{err}");
    assert!(err.to_string().contains("boot with cgroup_no_v1=all"), "{err}");
    remove(&manager);
}

/// The v2 cgroup directory of RELATIVE.
fn v2_dir(rel: &str) -> PathBuf {
    PathBuf::from("/sys/fs/cgroup").join(rel)
}

fn cat(path: &Path) -> String {
    fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display())).trim().to_string()
}

#[test]
#[ignore]
fn v2_controllers_on_this_machine() {
    let layout = cgroup::detect_here().unwrap();
    assert!(matches!(layout, Layout::Unified(_)), "not a cgroup v2 machine: {layout:?}");
    let rel = relative("v2");
    let manager = Manager::new(&layout, &rel).unwrap();
    let limits = Limits {
        memory: Some(64 << 20),
        pids: Some(50),
        cpu_quota: Some((50_000, 100_000)),
        cpu_weight: Some(200),
        io_weight: Some(300),
        ..Limits::default()
    };
    manager.create(&limits).unwrap();
    let dir = v2_dir(&rel);
    // The parent delegates exactly the controllers Swineherd uses.
    assert_eq!(cat(&dir.parent().unwrap().join("cgroup.subtree_control")), "cpu io memory pids");
    assert_eq!(cat(&dir.join("memory.max")), (64u64 << 20).to_string());
    assert_eq!(cat(&dir.join("pids.max")), "50");
    assert_eq!(cat(&dir.join("cpu.max")), "50000 100000");
    assert_eq!(cat(&dir.join("cpu.weight")), "200");
    assert_eq!(cat(&dir.join("io.weight")), "default 300");

    // Reads go to the disk (not the page cache): io.stat counts them.
    let mut child = Command::new("sh")
        .args(["-c", "read x; dd if=/proc/self/exe of=/dev/null iflag=direct bs=4k count=16 2>/dev/null; sleep 60"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    manager.join(child.id() as i32).unwrap();
    assert_eq!(cat(&dir.join("cgroup.procs")), child.id().to_string());
    use std::io::Write;
    child.stdin.take().unwrap().write_all(b"go\n").unwrap();
    let stats = manager.stats().unwrap();
    assert!(stats.pids_current >= 1, "{stats:?}");
    assert_eq!((stats.pids_limit, stats.memory_limit), (50, 64 << 20));
    assert!(stats.io_read_bytes.is_some() && stats.io_write_bytes.is_some(), "{stats:?}");

    // Removal kills what is left through cgroup.kill, then removes it.
    assert!(!manager.remove().unwrap(), "busy the first time: the child is in it");
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(child.wait().unwrap().signal(), Some(libc::SIGKILL));
    remove(&manager);
    assert!(!dir.exists());
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
    let line = match layout {
        Layout::Unified(_) => "0::",   // cloned into it (CLONE_INTO_CGROUP)
        _ => ":memory:",
    };
    assert!(text.lines().any(|l| l.contains(line) && l.ends_with(&format!("/{rel}"))), "{text}");
    let out = Command::new(exe).args([rel.as_str(), "--", "/nonexistent"]).output().unwrap();
    assert_eq!(out.status.code(), Some(127));
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot run /nonexistent"));
    // It ends as the command did: exit code, or signal.
    let status = |script: &str| Command::new(exe).args([rel.as_str(), "--", "sh", "-c", script]).status().unwrap();
    assert_eq!(status("exit 3").code(), Some(3));
    use std::os::unix::process::ExitStatusExt;
    assert_eq!(status("kill -TERM $$").signal(), Some(libc::SIGTERM));
    remove(&manager);
}
