//! Benchmark: publish a container's ports (its two chains with one rule
//! each per port) and remove them again, through the library vs `nft -f`
//! with the same rules, ROUNDS rounds each, with 50 other containers'
//! chains in the table; and the table's setup.
//!
//! Usage (root, in a network namespace of its own): bench_nft [ROUNDS]
//! bench/nft-publish runs it inside the sandbox.

use std::io::Write;
use std::net::Ipv4Addr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use swineherd::nft::nat::{self, Port, Protocol};

/// swineherd-relay, the helper of detached requests, as cargo built it:
/// in target/PROFILE/, the parent of this example's directory.
fn relay() -> std::ffi::CString {
    let exe = std::env::current_exe().unwrap();
    let file = exe.parent().and_then(|d| d.parent()).unwrap().join("swineherd-relay");
    std::ffi::CString::new(file.into_os_string().into_encoded_bytes()).unwrap()
}

const TABLE: &str = "swhbench";

/// Median, min and max of SAMPLES.
fn summary(mut samples: Vec<Duration>) -> (Duration, Duration, Duration) {
    samples.sort();
    (samples[samples.len() / 2], samples[0], samples[samples.len() - 1])
}

fn report(label: &str, samples: Vec<Duration>) -> Duration {
    let rounds = samples.len();
    let (median, min, max) = summary(samples);
    println!("{label:<24} rounds={rounds} median={median:?} min={min:?} max={max:?}");
    median
}

fn time(step: &impl Fn()) -> Duration {
    let start = Instant::now();
    step();
    start.elapsed()
}

fn timed(label: &str, rounds: usize, step: impl Fn()) -> Duration {
    report(label, (0..rounds).map(|_| time(&step)).collect())
}

/// Alternate ADD and REMOVE ROUNDS times, timing each; print and return
/// the medians.
fn alternate(label: &str, rounds: usize, add: impl Fn(), remove: impl Fn()) -> (Duration, Duration) {
    let (mut up, mut down) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        up.push(time(&add));
        down.push(time(&remove));
    }
    (report(&format!("publish ({label})"), up), report(&format!("unpublish ({label})"), down))
}

fn nft(script: &str) {
    let mut child = Command::new("nft").args(["-f", "-"]).stdin(Stdio::piped()).spawn().unwrap();
    child.stdin.take().unwrap().write_all(script.as_bytes()).unwrap();
    assert!(child.wait().unwrap().success(), "nft -f: {script}");
}

fn main() {
    let rounds = std::env::args().nth(1).map(|n| n.parse().unwrap()).unwrap_or(200);
    assert!(Command::new("ip").args(["link", "add", "benchbr0", "type", "bridge"]).status().unwrap().success());
    let subnet = Ipv4Addr::new(10, 77, 0, 1);
    timed("setup (library)", rounds, || nat::setup(TABLE, "benchbr0", subnet, 16, &[]).unwrap());
    let ports = [
        Port { protocol: Protocol::Tcp, host_address: None, host_port: 8080, container_port: 80 },
        Port { protocol: Protocol::Udp, host_address: None, host_port: 5353, container_port: 53 },
    ];
    for i in 0..50u8 {
        let others = [Port { host_port: 10000 + u16::from(i), ..ports[0] }];
        nat::publish(TABLE, &format!("other{i}"), Ipv4Addr::new(10, 77, 1, i), &others).unwrap();
    }
    let address = Ipv4Addr::new(10, 77, 0, 2);
    let (lib_up, lib_down) = alternate(
        "library",
        rounds,
        || nat::publish(TABLE, "web", address, &ports).unwrap(),
        || nat::unpublish(&relay(), TABLE, "web").unwrap(),
    );
    nat::publish(TABLE, "web", address, &ports).unwrap();
    timed("publish again (library)", rounds, || nat::publish(TABLE, "web", address, &ports).unwrap());
    nat::unpublish(&relay(), TABLE, "web").unwrap();
    let rules = "fib daddr type local tcp dport 8080 dnat to 10.77.0.2:80\n\
                 fib daddr type local udp dport 5353 dnat to 10.77.0.2:53";
    let add = format!(
        "table ip {TABLE} {{\n chain web_pre {{ type nat hook prerouting priority dstnat; {}; }}\n \
         chain web_out {{ type nat hook output priority dstnat; {}; }}\n}}\n",
        rules.replace('\n', "; "),
        rules.replace('\n', "; ")
    );
    let del = format!("delete chain ip {TABLE} web_pre\ndelete chain ip {TABLE} web_out\n");
    let (cli_up, cli_down) = alternate("nft -f", rounds, || nft(&add), || nft(&del));
    println!(
        "ratio nft/library (medians): publish {:.1}x, unpublish {:.1}x",
        cli_up.as_secs_f64() / lib_up.as_secs_f64(),
        cli_down.as_secs_f64() / lib_down.as_secs_f64()
    );
    nat::teardown(TABLE).unwrap();
}
