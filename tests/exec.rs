//! Running a command in another process's namespaces and root, against the
//! real kernel.
//!
//! These tests need root: tests/scenarios/11-exec.sh runs them with
//! `--ignored` inside the sandbox.  The "container" is made by unshare(1):
//! new user (root mapped), mount, PID, UTS, IPC and network namespaces, and
//! a root directory of its own (`--root`), below its mount namespace's
//! root — so entering the mount namespace alone would not be enough.
//! Results are checked from the host, through /proc of the command.

use std::ffi::CString;
use std::os::fd::{AsFd, AsRawFd, FromRawFd, OwnedFd};
use std::path::PathBuf;
use std::process::{Child, Command};
use std::time::Duration;

use nix::poll::{poll, PollFd, PollFlags, PollTimeout};
use swineherd::exec::{self, Outcome, Spawned, Target};

/// The relay program cargo built for these tests.
fn relay() -> &'static std::ffi::CStr {
    static RELAY: std::sync::OnceLock<CString> = std::sync::OnceLock::new();
    RELAY.get_or_init(|| CString::new(env!("CARGO_BIN_EXE_swineherd-relay")).unwrap())
}

/// A process in new namespaces, chrooted into a directory of its own with
/// the host's /usr bind-mounted in it: a stand-in for a container's init.
struct Container {
    unshare: Child,
    init: i32,
    root: PathBuf,
}

impl Container {
    fn new(name: &str) -> Self {
        let root = std::env::temp_dir().join(format!("swh-exec-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        std::fs::create_dir_all(root.join("usr")).unwrap();
        std::fs::create_dir_all(root.join("tmp")).unwrap();
        for link in ["bin", "sbin", "lib", "lib64"] {
            std::os::unix::fs::symlink(format!("usr/{link}"), root.join(link)).unwrap();
        }
        std::fs::write(root.join("marker-inside"), "inside\n").unwrap();
        let usr = root.join("usr");
        let ok = Command::new("mount").args(["--bind", "/usr"]).arg(&usr).status().unwrap().success();
        assert!(ok, "bind-mount /usr");
        let unshare = Command::new("unshare")
            .args(["--user", "--map-root-user", "--mount", "--pid", "--uts", "--ipc", "--net", "--kill-child"])
            .arg(format!("--root={}", root.display()))
            .args(["--", "/bin/sleep", "60"])
            .spawn()
            .unwrap();
        let mut init = None;
        for _ in 0..400 {
            if let Ok(pid) = swineherd::process::container_init(unshare.id() as i32, 0) {
                // Wait until the init is chrooted (unshare execs sleep last).
                if std::fs::read_to_string(format!("/proc/{pid}/cmdline")).is_ok_and(|c| c.starts_with("/bin/sleep")) {
                    init = Some(pid);
                    break;
                }
            }
            std::thread::sleep(Duration::from_millis(5));
        }
        Container { unshare, init: init.expect("unshare made an init"), root }
    }
}

impl Drop for Container {
    fn drop(&mut self) {
        let _ = self.unshare.kill();
        let _ = self.unshare.wait();
        let _ = Command::new("umount").arg(self.root.join("usr")).status();
        let _ = std::fs::remove_dir_all(&self.root);
    }
}

fn cs(args: &[&str]) -> Vec<CString> {
    args.iter().map(|a| CString::new(*a).unwrap()).collect()
}

fn env() -> Vec<CString> {
    cs(&["PATH=/usr/bin:/bin", "HOME=/root"])
}

fn wait(s: &Spawned) -> Outcome {
    readable(&s.pidfd);
    exec::reap(&s.pidfd, &s.report).unwrap().expect("ended")
}

fn exited(code: i32) -> Outcome {
    Outcome { status: code << 8, exec_errno: 0, timed_out: false }
}

/// Wait until FD has data or its writers are gone (20 s at most).
fn readable(fd: &impl AsFd) {
    let mut pfd = [PollFd::new(fd.as_fd(), PollFlags::POLLIN)];
    assert_eq!(poll(&mut pfd, PollTimeout::from(20_000u16)), Ok(1), "no output within 20 s");
}

fn read_all(fd: OwnedFd) -> String {
    use std::io::Read;
    let mut file = std::fs::File::from(fd);
    let mut out = Vec::new();
    loop {
        let mut buf = [0u8; 4096];
        match file.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => readable(&file),
            Err(e) => panic!("{e}"),
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[test]
#[ignore]
fn enters_every_namespace_and_the_root() {
    let c = Container::new("ns");
    // The command runs until the test opens the FIFO /tmp/go for writing.
    let go = c.root.join("tmp/go");
    let fifo = CString::new(go.to_str().unwrap()).unwrap();
    assert_eq!(unsafe { libc::mkfifo(fifo.as_ptr(), 0o600) }, 0, "mkfifo {go:?}");
    let s = exec::spawn(
        relay(),
        Target::Container(c.init),
        &cs(&["sh", "-c", "cat /marker-inside; pwd; id -u; id -g; echo $$; read go </tmp/go"]),
        &env(),
        None,
    )
    .unwrap();
    // While it runs, compare its namespaces with the init's, from the host.
    for kind in ["user", "mnt", "pid", "net", "uts", "ipc"] {
        let theirs = std::fs::read_link(format!("/proc/{}/ns/{kind}", c.init)).unwrap();
        let ours = std::fs::read_link(format!("/proc/self/ns/{kind}")).unwrap();
        let cmd = std::fs::read_link(format!("/proc/{}/ns/{kind}", s.pid)).unwrap();
        assert_eq!(cmd, theirs, "{kind} namespace");
        assert_ne!(cmd, ours, "{kind} namespace");
    }
    // Its root is the init's (the marker), not the mount namespace's.
    assert!(std::fs::metadata(format!("/proc/{}/root/marker-inside", s.pid)).is_ok());
    let status = std::fs::read_to_string(format!("/proc/{}/status", s.pid)).unwrap();
    let nspid = status.lines().find(|l| l.starts_with("NSpid:")).unwrap();
    assert_eq!(nspid.split_whitespace().count(), 3, "two PID namespaces: {nspid}");
    // Its parent is the relay, the program swineherd-relay (not a copy of
    // the caller), whose parent is the caller.
    let stat = |pid: i32| -> Vec<String> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
        text.rsplit_once(") ").unwrap().1.split(' ').map(String::from).collect()
    };
    let relay_pid: i32 = stat(s.pid)[1].parse().unwrap();
    let exe = std::fs::read_link(format!("/proc/{relay_pid}/exe")).unwrap();
    assert_eq!(exe.as_os_str().as_encoded_bytes(), relay().to_bytes(), "the relay's program");
    assert_eq!(stat(relay_pid)[1].parse::<u32>().unwrap(), std::process::id(), "the relay's parent");
    // The relay is not in the container's PID namespace, nor visible in it.
    let relay_status = std::fs::read_to_string(format!("/proc/{relay_pid}/status")).unwrap();
    let relay_nspid = relay_status.lines().find(|l| l.starts_with("NSpid:")).unwrap();
    assert_eq!(relay_nspid.split_whitespace().count(), 2, "{relay_nspid}");

    std::fs::write(&go, "go\n").unwrap();
    assert_eq!(wait(&s), exited(0));
    let out = read_all(s.stdout);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[..4], ["inside", "/", "0", "0"], "{out}");
    let inner: i32 = lines[4].parse().unwrap();
    assert!(inner > 1 && inner < 100, "PID inside the container's namespace: {inner}");
    assert_eq!(read_all(s.stderr), "");
}

#[test]
#[ignore]
fn immediate_exit_and_missing_program() {
    let c = Container::new("quick");
    let s = exec::spawn(relay(), Target::Container(c.init), &cs(&["true"]), &env(), None).unwrap();
    assert_eq!(wait(&s), exited(0));
    let s = exec::spawn(relay(), Target::Container(c.init), &cs(&["sh", "-c", "exit 7"]), &env(), None).unwrap();
    assert_eq!(wait(&s), exited(7));
    // /etc/passwd exists on the host but not in the container.
    let s = exec::spawn(relay(), Target::Container(c.init), &cs(&["/etc/passwd"]), &env(), None).unwrap();
    assert_eq!(wait(&s), Outcome { status: 127 << 8, exec_errno: libc::ENOENT, timed_out: false });
}

#[test]
#[ignore]
fn gone_init_is_an_error() {
    let c = Container::new("gone");
    let init = c.init;
    drop(c);
    for _ in 0..200 {
        if !swineherd::process::exists(init) {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let err = exec::spawn(relay(), Target::Container(init), &cs(&["true"]), &env(), None).unwrap_err();
    assert_eq!(err.errno, libc::ESRCH, "{err}");
}

/// A cgroup v2 directory made for a test, removed when dropped.
struct V2Cgroup(PathBuf);

impl Drop for V2Cgroup {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir(&self.0);
    }
}

#[test]
#[ignore]
fn a_helper_is_born_in_a_v2_cgroup() {
    use std::io::Read;
    // The cgroup2 hierarchy: /sys/fs/cgroup, or /sys/fs/cgroup/unified on a
    // hybrid host (no controllers needed to hold processes).
    let mounts = std::fs::read_to_string("/proc/self/mounts").unwrap();
    let root = mounts.lines().find_map(|l| {
        let f: Vec<&str> = l.split(' ').collect();
        (f[2] == "cgroup2").then(|| PathBuf::from(f[1]))
    });
    let root = root.expect("a cgroup2 hierarchy");
    let name = format!("swh-relay-test-{}", std::process::id());
    let cgroup = V2Cgroup(root.join(&name));
    std::fs::create_dir(&cgroup.0).unwrap();
    let dir = std::fs::File::open(&cgroup.0).unwrap();
    let mut fds = [0; 2];
    assert_eq!(unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) }, 0);
    let (r, w) = unsafe { (OwnedFd::from_raw_fd(fds[0]), OwnedFd::from_raw_fd(fds[1])) };
    let script = format!("cat /proc/self/cgroup >&{}", w.as_raw_fd());
    let h = swineherd::spawn::spawn(
        c"/bin/sh",
        &cs(&["sh", "-c", &script]),
        &env(),
        &[w.as_raw_fd()],
        Some(std::os::fd::AsFd::as_fd(&dir)),
    )
    .unwrap();
    drop(w);
    let mut out = String::new();
    std::fs::File::from(r).read_to_string(&mut out).unwrap();
    assert_eq!(swineherd::spawn::wait(&h.pidfd).unwrap(), Some(0));
    assert!(out.lines().any(|l| l == format!("0::/{name}")), "{out}");
}
