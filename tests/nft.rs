//! Swineherd's nftables table against the real kernel, checked with
//! `nft list` (nftables' own command, independent of our encoder).
//!
//! They need root and a network namespace of their own: run them through
//! tests/scenarios/05-library-kernel.sh, which runs them with `--ignored`
//! inside the sandbox.

use std::net::Ipv4Addr;
use std::process::Command;

use swineherd::nft::guard::{self, Guard, HostPort};
use swineherd::nft::nat::{self, Port, Protocol};

const TABLE: &str = "swhtest";

/// The helper program of detached requests, as cargo built it.
fn helper() -> std::ffi::CString {
    std::ffi::CString::new(env!("CARGO_BIN_EXE_swineherd-relay")).unwrap()
}

fn nft(args: &[&str]) -> (bool, String) {
    let out = Command::new("nft").args(args).output().unwrap();
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}

fn ruleset() -> String {
    nft(&["list", "ruleset"]).1
}

fn bridge(name: &str) {
    let exists = Command::new("ip").args(["link", "show", name]).output().unwrap().status.success();
    if !exists {
        assert!(Command::new("ip").args(["link", "add", name, "type", "bridge"]).status().unwrap().success());
    }
}

fn port(protocol: Protocol, host: u16, container: u16, address: Option<Ipv4Addr>) -> Port {
    Port { protocol, host_address: address, host_port: host, container_port: container }
}

#[test]
#[ignore = "needs root in a network namespace of its own (scenario 05)"]
fn setup_makes_the_table_nft_shows() {
    bridge("swhnft0");
    nat::setup(TABLE, "swhnft0", Ipv4Addr::new(10, 7, 0, 1), 16, &[]).unwrap();
    let rules = ruleset();
    assert!(rules.contains(&format!("table ip {TABLE}")), "{rules}");
    assert!(rules.contains("type nat hook postrouting priority srcnat"), "{rules}");
    assert!(rules.contains("ip saddr 10.7.0.0/16 oifname != \"swhnft0\" masquerade"), "{rules}");
    assert!(rules.contains("ct status dnat"), "{rules}");
    assert!(rules.contains("ip saddr 127.0.0.0/8 masquerade"), "{rules}");
    assert!(rules.contains("iifname \"swhnft0\" ip daddr 127.0.0.0/8 drop"), "{rules}");
    assert_eq!(std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward").unwrap().trim(), "1");
    assert_eq!(std::fs::read_to_string("/proc/sys/net/ipv4/conf/swhnft0/route_localnet").unwrap().trim(), "1");
    nat::teardown(TABLE).unwrap();
    assert!(!ruleset().contains(TABLE));
}

#[test]
#[ignore = "needs root in a network namespace of its own (scenario 05)"]
fn publish_and_unpublish_exactly_the_containers_chains() {
    bridge("swhnft0");
    nat::setup(TABLE, "swhnft0", Ipv4Addr::new(10, 7, 0, 1), 16, &[]).unwrap();
    let web = [port(Protocol::Tcp, 8080, 80, None), port(Protocol::Udp, 5353, 53, Some(Ipv4Addr::new(192, 168, 9, 1)))];
    nat::publish(TABLE, "web", Ipv4Addr::new(10, 7, 0, 2), &web).unwrap();
    nat::publish(TABLE, "db", Ipv4Addr::new(10, 7, 0, 3), &[port(Protocol::Tcp, 5432, 5432, None)]).unwrap();
    let rules = ruleset();
    assert!(rules.contains("fib daddr type local tcp dport 8080 dnat to 10.7.0.2:80"), "{rules}");
    assert!(rules.contains("ip daddr 192.168.9.1 udp dport 5353 dnat to 10.7.0.2:53"), "{rules}");
    assert!(rules.contains("comment \"swineherd web: 8080/tcp -> 10.7.0.2:80\""), "{rules}");
    assert!(rules.contains("type nat hook output priority dstnat"), "{rules}");
    assert_eq!(rules.matches("dnat to 10.7.0.2:80").count(), 2, "prerouting and output: {rules}");

    // Publishing again replaces, never duplicates.
    nat::publish(TABLE, "web", Ipv4Addr::new(10, 7, 0, 2), &web[..1]).unwrap();
    let rules = ruleset();
    assert_eq!(rules.matches("dnat to 10.7.0.2:80").count(), 2, "{rules}");
    assert!(!rules.contains("5353"), "{rules}");

    nat::unpublish(&helper(), TABLE, "web").unwrap();
    let rules = ruleset();
    assert!(!rules.contains("swine:web"), "{rules}");
    assert!(rules.contains("dnat to 10.7.0.3:5432"), "the other container's rules stay: {rules}");
    nat::unpublish(&helper(), TABLE, "web").unwrap(); // twice is harmless

    // setup replaces the table: chains of no running container go.
    nat::setup(TABLE, "swhnft0", Ipv4Addr::new(10, 7, 0, 1), 16, &[]).unwrap();
    assert!(!ruleset().contains("swine:db"), "{}", ruleset());

    nat::teardown(TABLE).unwrap();
    nat::teardown(TABLE).unwrap(); // twice is harmless
    nat::unpublish(&helper(), TABLE, "db").unwrap(); // no table: nothing to remove
    let err = nat::publish(TABLE, "db", Ipv4Addr::new(10, 7, 0, 3), &[port(Protocol::Tcp, 1, 1, None)]).unwrap_err();
    assert_eq!(err.errno, libc::ENOENT);
    assert!(err.to_string().contains("herd up swineherd"), "{err}");
}

#[test]
#[ignore = "needs root in a network namespace of its own (scenario 05)"]
fn tables_of_others_are_never_touched() {
    bridge("swhnft0");
    assert!(nft(&["add", "table", "ip", "theirs"]).0);
    assert!(nft(&["add", "chain", "ip", "theirs", "c", "{ type nat hook postrouting priority 100; }"]).0);
    assert!(nft(&["add", "rule", "ip", "theirs", "c", "oifname \"x\" masquerade"]).0);
    nat::setup(TABLE, "swhnft0", Ipv4Addr::new(10, 7, 0, 1), 16, &[]).unwrap();
    nat::teardown(TABLE).unwrap();
    let rules = ruleset();
    assert!(rules.contains("table ip theirs") && rules.contains("oifname \"x\" masquerade"), "{rules}");
    assert!(nft(&["delete", "table", "ip", "theirs"]).0);
}

#[test]
#[ignore = "needs root in a network namespace of its own (scenario 05)"]
fn a_refused_transaction_reports_the_step_and_applies_nothing() {
    bridge("swhnft0");
    nat::setup(TABLE, "swhnft0", Ipv4Addr::new(10, 7, 0, 1), 16, &[]).unwrap();
    // A regular chain where the container's base chain should be: the
    // kernel refuses to turn it into a base chain.
    // (nft's grammar has no syntax for such a name; its JSON input does.)
    let json = format!(
        r#"{{"nftables":[{{"add":{{"chain":{{"family":"ip","table":"{TABLE}","name":"swine:x/prerouting"}}}}}}]}}"#
    );
    let mut child = Command::new("nft").args(["-j", "-f", "-"]).stdin(std::process::Stdio::piped()).spawn().unwrap();
    std::io::Write::write_all(&mut child.stdin.take().unwrap(), json.as_bytes()).unwrap();
    assert!(child.wait().unwrap().success());
    let err = nat::publish(TABLE, "x", Ipv4Addr::new(10, 7, 0, 9), &[port(Protocol::Tcp, 1, 1, None)]).unwrap_err();
    assert!(err.to_string().contains("create chain swine:x/prerouting"), "{err}");
    assert!(err.to_string().contains("nothing of the transaction was applied"), "{err}");
    let rules = ruleset();
    assert!(!rules.contains("swine:x/output") && !rules.contains("10.7.0.9"), "{rules}");
    nat::teardown(TABLE).unwrap();
}

fn veth(name: &str, peer: &str) {
    let exists = Command::new("ip").args(["link", "show", name]).output().unwrap().status.success();
    if !exists {
        assert!(Command::new("ip")
            .args(["link", "add", name, "type", "veth", "peer", "name", peer])
            .status()
            .unwrap()
            .success());
    }
}

#[test]
#[ignore = "needs root in a network namespace of its own (scenario 05)"]
fn guards_filter_the_containers_device_and_go_exactly_once() {
    bridge("swhnft0");
    veth("swhnftg", "swhnftp");
    let g = Guard {
        table: TABLE,
        id: "g",
        device: "swhnftg",
        mac: [2, 0x73, 0x77, 0, 0, 9],
        address: Ipv4Addr::new(10, 7, 0, 9),
        gateway: Ipv4Addr::new(10, 7, 0, 1),
        prefix: 16,
        isolated: true,
    };
    let err = guard::guard(&g).unwrap_err();
    assert_eq!(err.errno, libc::ENOENT, "no table yet: {err}");
    assert!(err.to_string().contains("herd up swineherd"), "{err}");
    let open = [HostPort { protocol: Protocol::Udp, port: 53 }];
    nat::setup(TABLE, "swhnft0", Ipv4Addr::new(10, 7, 0, 1), 16, &open).unwrap();
    guard::guard(&g).unwrap();
    guard::guard(&g).expect("guarding again replaces");
    let rules = ruleset();
    assert!(rules.contains(&format!("table netdev {TABLE}")), "{rules}");
    assert!(rules.contains("type filter hook ingress device \"swhnftg\" priority filter; policy drop;"), "{rules}");
    assert!(rules.contains("type filter hook egress device \"swhnftg\" priority filter; policy accept;"), "{rules}");
    // The source MAC and address, in nft's raw notation.
    assert_eq!(rules.matches("@ll,48,48 0x27377000009").count(), 3, "{rules}");
    assert!(rules.contains("@nh,96,32 0xa070009"), "{rules}");
    assert!(rules.contains("iifname \"swhnft0\" udp dport 53 accept"), "{rules}");
    assert!(rules.contains("iifname \"swhnft0\" drop"), "{rules}");
    for _ in 0..2 {
        swineherd::detached::wait(&guard::start_unguard(&helper(), TABLE, "g").unwrap())
            .expect("removal is idempotent");
    }
    let rules = ruleset();
    assert!(!rules.contains("swine:g/") && !rules.contains("0x27377000009"), "{rules}");
    nat::teardown(TABLE).unwrap();
    assert!(!ruleset().contains(TABLE));
    let gone = swineherd::detached::wait(&guard::start_unguard(&helper(), TABLE, "g").unwrap()).unwrap_err();
    assert_eq!(gone.errno, libc::ENOENT, "no table: {gone}");
}
