//! The unit tests of `exec`: commands run on the host through the relay.

use super::*;

fn cs(args: &[&str]) -> Vec<CString> {
    args.iter().map(|a| CString::new(*a).unwrap()).collect()
}

fn env() -> Vec<CString> {
    cs(&["PATH=/usr/bin:/bin", "HOME=/root", "LANG=C.UTF-8"])
}

/// The `swineherd-relay` cargo built for the test: beside it
/// (tests/rust-checks copies both), else in target/PROFILE/, the
/// parent of its deps/.
pub(crate) fn relay() -> CString {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap();
    let beside = dir.join("swineherd-relay");
    let file = if beside.exists() { beside } else { dir.parent().unwrap().join("swineherd-relay") };
    CString::new(file.into_os_string().into_encoded_bytes()).unwrap()
}

fn run(argv: &[&str], timeout: Option<Duration>) -> Spawned {
    spawn(&relay(), Target::Host, &cs(argv), &env(), timeout).unwrap()
}

/// Poll FD for reading up to MS milliseconds: how many are ready.
fn readable(fd: BorrowedFd, ms: u16) -> c_int {
    nix::poll::poll(&mut [PollFd::new(fd, PollFlags::POLLIN)], PollTimeout::from(ms)).unwrap()
}

/// Wait for the command to end (polling the relay's pidfd), then reap.
fn wait(s: &Spawned) -> Outcome {
    assert_eq!(readable(s.pidfd.as_fd(), 10_000), 1, "command did not end");
    reap(&s.pidfd, &s.report).unwrap().expect("ended")
}

/// Everything left in FD (whose writers are gone) as a string.
fn read_all(fd: OwnedFd) -> String {
    let (mut out, mut buf) = (Vec::new(), [0u8; 4096]);
    loop {
        assert_eq!(readable(fd.as_fd(), 20_000), 1, "no output within 20 s");
        match unistd::read(&fd, &mut buf) {
            Ok(0) => return String::from_utf8_lossy(&out).into_owned(),
            Ok(n) => out.extend_from_slice(&buf[..n]),
            Err(errno) => assert_eq!(errno, Errno::EAGAIN),
        }
    }
}

const EXITED: fn(c_int) -> Outcome = |code| Outcome { status: code << 8, exec_errno: 0, timed_out: false };

#[test]
fn argz_is_split_on_nul() {
    assert_eq!(parse_argz(b"echo\0hello world\0"), cs(&["echo", "hello world"]));
    assert_eq!(parse_argz(b"a\0\0b"), cs(&["a", "", "b"]));
    assert!(parse_argz(b"").is_empty());
}

#[test]
fn candidates_follow_path_like_execvp() {
    let sh = CString::new("sh").unwrap();
    assert_eq!(candidates(&sh, "/a:/b/::/c"), cs(&["/a/sh", "/b/sh", "./sh", "/c/sh"]));
    let abs = CString::new("/x/y").unwrap();
    assert_eq!(candidates(&abs, "/a"), cs(&["/x/y"]));
    let rel = CString::new("x/y").unwrap();
    assert_eq!(candidates(&rel, "/a"), cs(&["x/y"]));
}

#[test]
fn output_status_and_environment() {
    let s = run(&["sh", "-c", "echo out; echo err >&2; pwd; env | grep -v '^PWD=' | sort; exit 3"], None);
    assert!(s.pid > 0);
    assert_eq!(wait(&s), EXITED(3));
    assert_eq!(read_all(s.stdout), "out\n/\nHOME=/root\nLANG=C.UTF-8\nPATH=/usr/bin:/bin\n");
    assert_eq!(read_all(s.stderr), "err\n");
}

#[test]
fn missing_program_reports_its_errno() {
    let s = run(&["no-such-program-swh"], None);
    assert_eq!(wait(&s), Outcome { status: 127 << 8, exec_errno: libc::ENOENT, timed_out: false });
    let s = run(&["/etc/passwd"], None);
    assert_eq!(wait(&s).exec_errno, libc::EACCES);
}

#[test]
fn empty_command_is_refused() {
    assert_eq!(spawn(&relay(), Target::Host, &[], &env(), None).unwrap_err().errno, libc::EINVAL);
    assert_eq!(spawn(&relay(), Target::Host, &cs(&[""]), &env(), None).unwrap_err().errno, libc::EINVAL);
}

#[test]
fn only_standard_fds_session_and_signals() {
    // ls opens the directory itself: its fd is 3.
    let s = run(
        &[
            "sh",
            "-c",
            "ls /proc/self/fd | tr '\\n' ' '; echo; \
           read pid comm state ppid pgrp session rest </proc/$$/stat; \
           [ $session = $$ ] && [ $pgrp = $$ ] && echo session-leader; \
           cat; grep -E '^Sig(Blk|Ign)' /proc/self/status",
        ],
        None,
    );
    assert_eq!(wait(&s), EXITED(0));
    let out = read_all(s.stdout);
    assert!(out.starts_with("0 1 2 3 \n"), "{out}");
    assert!(out.contains("session-leader"), "{out}");
    assert!(out.contains("SigBlk:\t0000000000000000"), "{out}");
    assert!(out.contains("SigIgn:\t0000000000000000"), "{out}");
}

#[test]
#[ignore = "needs root"]
fn the_relay_keeps_only_its_own_descriptors() {
    let s = run(&["sleep", "5"], None);
    let relay: i32 = std::fs::read_to_string(format!("/proc/self/fdinfo/{}", s.pidfd.as_raw_fd()))
        .unwrap()
        .lines()
        .find_map(|l| l.strip_prefix("Pid:"))
        .unwrap()
        .trim()
        .parse()
        .unwrap();
    // The report pipe, the exec-error pipe and the command's pidfd.
    let fds = std::fs::read_dir(format!("/proc/{relay}/fd")).unwrap().count();
    assert_eq!(fds, 3);
    // The program swineherd-relay, not a copy of this process.
    let exe = std::fs::read_link(format!("/proc/{relay}/exe")).unwrap();
    assert_eq!(exe.as_os_str().as_encoded_bytes(), super::tests::relay().to_bytes());
    // Killing the relay kills the command (PDEATHSIG).
    kill(&s.pidfd).unwrap();
    let outcome = wait(&s);
    assert_eq!(outcome.status, libc::SIGKILL);
    // The command was the relay's child: once orphaned and killed, init
    // reaps it, some time later; it must be dead (a zombie, or gone).
    let dead = || {
        let state = std::fs::read_to_string(format!("/proc/{}/stat", s.pid)).unwrap_or_default();
        state.is_empty() || state.contains(") Z ")
    };
    let start = Instant::now();
    while !dead() && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(dead(), "the command survived its relay");
    kill(&s.pidfd).unwrap(); // already gone: fine
}

#[test]
fn the_deadline_kills_the_process_group() {
    let start = Instant::now();
    let s = run(&["sh", "-c", "sleep 30 & echo $!; wait"], Some(Duration::from_millis(300)));
    assert_eq!(reap(&s.pidfd, &s.report).unwrap(), None, "still running");
    let outcome = wait(&s);
    assert!(start.elapsed() < Duration::from_secs(5));
    assert_eq!(outcome, Outcome { status: libc::SIGKILL, exec_errno: 0, timed_out: true });
    let sleeper: i32 = read_all(s.stdout).trim().parse().unwrap();
    let gone = || {
        std::fs::read_to_string(format!("/proc/{sleeper}/stat"))
            .map_or(true, |s| s.rsplit_once(") ").unwrap().1.starts_with('Z'))
    };
    let start = Instant::now();
    while !gone() && start.elapsed() < Duration::from_secs(5) {
        std::thread::sleep(Duration::from_millis(10));
    }
    assert!(gone(), "the background sleep survived the deadline");
}

#[test]
fn a_quick_command_within_its_deadline() {
    let s = run(&["true"], Some(Duration::from_secs(10)));
    assert_eq!(wait(&s), EXITED(0));
}

#[test]
fn invalid_init_is_an_error() {
    let err = spawn(&relay(), Target::Container(-1), &cs(&["true"]), &env(), None).unwrap_err();
    assert_eq!(err.errno, libc::EINVAL);
    let err = spawn(&relay(), Target::Container(i32::MAX), &cs(&["true"]), &env(), None).unwrap_err();
    assert_eq!(err.errno, libc::ESRCH);
}
