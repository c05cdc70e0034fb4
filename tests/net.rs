//! The networking primitives against the real kernel.
//!
//! These tests need root and a network namespace of their own: run them
//! through tests/scenarios/05-library-kernel.sh, which runs them with
//! `--ignored` inside the sandbox (a private network namespace, so nothing
//! touches the host's interfaces).  Results are checked with iproute2.

use std::net::{IpAddr, Ipv4Addr};
use std::path::Path;
use std::process::{Child, Command};

use swineherd::net::{link, netns};

/// The helper program of detached requests, as cargo built it.
fn helper() -> std::ffi::CString {
    std::ffi::CString::new(env!("CARGO_BIN_EXE_swineherd-relay")).unwrap()
}

/// A process in a new network namespace, standing in for a container init.
struct Namespace(Child);

impl Namespace {
    fn new() -> Self {
        let child = Command::new("unshare").args(["--net", "--", "sleep", "60"]).spawn().unwrap();
        let ns = Namespace(child);
        // Wait until unshare has switched namespaces.
        let mine = std::fs::read_link("/proc/self/ns/net").unwrap();
        for _ in 0..200 {
            if std::fs::read_link(format!("/proc/{}/ns/net", ns.pid())).is_ok_and(|l| l != mine) {
                return ns;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        panic!("unshare did not enter a new network namespace");
    }
    fn pid(&self) -> i32 {
        self.0.id() as i32
    }
    /// Run `ip ARGS` (or another command) inside the namespace.
    fn run(&self, args: &[&str]) -> (bool, String) {
        let out =
            Command::new("nsenter").args(["-t", &self.pid().to_string(), "-n", "--"]).args(args).output().unwrap();
        (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

impl Drop for Namespace {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn ip(args: &[&str]) -> String {
    let out = Command::new("ip").args(args).output().unwrap();
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn threads() -> usize {
    std::fs::read_dir("/proc/self/task").unwrap().count()
}

/// The number of threads once it is back to EXPECTED, or after 2 s: a
/// joined thread leaves /proc/self/task a moment after the join returns
/// (the kernel wakes the joiner before it releases the task; seen in the
/// emulated VM of tests/vm/run).
fn threads_back_to(expected: usize) -> usize {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(2);
    loop {
        let n = threads();
        if n == expected || std::time::Instant::now() > deadline {
            return n;
        }
        std::thread::yield_now();
    }
}

fn conn(host: &str, last: u8) -> link::Connection<'_> {
    link::Connection {
        bridge: "swhtest0",
        host,
        owner: "swineherd:test",
        address: Ipv4Addr::new(10, 99, 0, last),
        prefix: 24,
        gateway: Ipv4Addr::new(10, 99, 0, 1),
        filtering: None,
    }
}

#[test]
#[ignore]
fn bridge_veth_address_route_stats() {
    let before = threads();
    link::ensure_bridge("swhtest0", Ipv4Addr::new(10, 99, 0, 1), 24).unwrap();
    link::ensure_bridge("swhtest0", Ipv4Addr::new(10, 99, 0, 1), 24).expect("idempotent");
    assert!(ip(&["-o", "addr", "show", "swhtest0"]).contains("10.99.0.1/24"));
    assert!(
        ip(&["-o", "link", "show", "swhtest0"]).contains("state UP")
            || ip(&["-o", "link", "show", "swhtest0"]).contains(",UP")
    );

    let ns = Namespace::new();
    link::connect(ns.pid(), &conn("swhtesth", 2)).unwrap();
    assert!(ip(&["-o", "link", "show", "master", "swhtest0"]).contains("swhtesth"));
    let (_, eth0) = ns.run(&["ip", "-o", "link", "show", "eth0"]);
    assert!(eth0.contains("link/ether 02:73:77:63:00:02"), "MAC derived from the address: {eth0}");
    let (_, addrs) = ns.run(&["ip", "-o", "addr", "show", "eth0"]);
    assert!(addrs.contains("10.99.0.2/24"), "{addrs}");
    let (_, routes) = ns.run(&["ip", "route"]);
    assert!(routes.contains("default via 10.99.0.1 dev eth0"), "{routes}");
    let (_, lo) = ns.run(&["ip", "-o", "link", "show", "lo"]);
    assert!(lo.contains("UP"), "{lo}");
    let (pinged, _) = ns.run(&["ping", "-c", "1", "-W", "2", "10.99.0.1"]);
    assert!(pinged, "the container reaches the bridge");

    let stats = link::stats("swhtesth").unwrap();
    assert!(stats.rx_packets > 0 && stats.rx_bytes > 0 && stats.tx_packets > 0, "{stats:?}");
    assert_eq!(link::container_addresses(ns.pid()).unwrap(), vec![(IpAddr::V4(Ipv4Addr::new(10, 99, 0, 2)), 24)]);

    assert_eq!(link::owner_of("swhtesth").unwrap(), "swineherd:test");
    assert!(ip(&["-o", "link", "show", "swhtesth"]).contains("alias swineherd:test"));
    assert_eq!(
        link::links_owned_by("swineherd:").unwrap(),
        vec![("swhtesth".to_string(), "swineherd:test".to_string())]
    );
    link::delete_owned_link(&helper(), "swhtesth", "swineherd:other").unwrap();
    assert!(link::stats("swhtesth").is_ok(), "a link with another owner is left alone");
    link::delete_owned_link(&helper(), "swhtesth", "swineherd:test").unwrap();
    link::delete_owned_link(&helper(), "swhtesth", "swineherd:test").expect("deleting a missing link is fine");
    let (_, after) = ns.run(&["ip", "-o", "link"]);
    assert!(!after.contains("eth0"), "the peer went with the host side: {after}");
    ip(&["link", "add", "swhtestd", "type", "veth", "peer", "name", "swhtestp"]);
    assert_eq!(link::owner_of("swhtestd").unwrap(), "", "no alias, no owner");
    link::delete_owned_link(&helper(), "swhtestd", "swineherd:test").unwrap();
    assert!(link::stats("swhtestd").is_ok(), "a link without an owner is left alone");
    link::delete_link("swhtestd").unwrap();
    link::delete_link("swhtestd").expect("deleting a missing link is fine");
    assert_eq!(link::owner_of("swhtestd").unwrap_err().errno, libc::ENODEV);
    assert!(link::container_addresses(ns.pid()).unwrap().is_empty());
    assert_eq!(threads_back_to(before), before, "no thread outlives a call");
}

#[test]
#[ignore]
fn errors_keep_the_kernel_errno() {
    link::ensure_bridge("swhtest0", Ipv4Addr::new(10, 99, 0, 1), 24).unwrap();
    let ns = Namespace::new();
    let mut missing = conn("swhtesth2", 3);
    missing.bridge = "nosuchbridge";
    assert_eq!(link::connect(ns.pid(), &missing).unwrap_err().errno, libc::ENODEV);
    assert!(ip(&["-o", "link"]).lines().all(|l| !l.contains("swhtesth2")), "nothing left after a failure");

    link::connect(ns.pid(), &conn("swhtesth2", 3)).unwrap();
    let other = Namespace::new();
    let err = link::connect(other.pid(), &conn("swhtesth2", 4)).unwrap_err();
    assert_eq!(err.errno, libc::EEXIST);
    assert!(err.to_string().contains("swhtesth2"), "{err}");
    let err = link::connect(other.pid(), &conn("a-name-far-too-long", 4)).unwrap_err();
    assert_eq!(err.errno, libc::EINVAL);
    assert_eq!(link::stats("nosuchlink").unwrap_err().errno, libc::ENODEV);
    assert_eq!(link::connect(i32::MAX, &conn("swhtesth4", 5)).unwrap_err().errno, libc::ENOENT);
    link::delete_link("swhtesth2").unwrap();
}

#[test]
#[ignore]
fn netns_attach_and_detach() {
    let ns = Namespace::new();
    let path = Path::new("/run/netns/swhtest");
    netns::attach(ns.pid(), path).unwrap();
    let listed = ip(&["netns", "list"]);
    assert!(listed.contains("swhtest"), "{listed}");
    let out = Command::new("ip").args(["netns", "exec", "swhtest", "readlink", "/proc/self/ns/net"]).output().unwrap();
    let theirs = std::fs::read_link(format!("/proc/{}/ns/net", ns.pid())).unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), theirs.to_string_lossy());
    assert_eq!(netns::attach(ns.pid(), path).unwrap_err().errno, libc::EEXIST);
    netns::detach(path).unwrap();
    assert!(!path.exists());
    netns::detach(path).expect("detaching twice is fine");
}
