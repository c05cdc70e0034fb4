//! Benchmark: connect a container (veth pair with the host side on the
//! bridge and `eth0` in the container's namespace, `lo` and `eth0` up,
//! address, default route) and disconnect it, through the library vs `ip`
//! commands, ROUNDS rounds each, in one run.  Connecting and deleting are
//! timed separately: deleting a veth costs the kernel an RCU grace period
//! whoever asks for it.
//!
//! Usage (root, in a network namespace of its own): bench_net [ROUNDS]
//! bench/net-connect runs it inside the sandbox.

use std::net::Ipv4Addr;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use swineherd::net::link;

/// Median, min and max of SAMPLES.
fn summary(mut samples: Vec<Duration>) -> (Duration, Duration, Duration) {
    samples.sort();
    (samples[samples.len() / 2], samples[0], samples[samples.len() - 1])
}

/// Run CONNECT then DISCONNECT ROUNDS times, timing each; print and return
/// the medians.
fn run(label: &str, rounds: usize, connect: impl Fn(), disconnect: impl Fn()) -> (Duration, Duration) {
    let (mut up, mut down) = (Vec::new(), Vec::new());
    for _ in 0..rounds {
        let start = Instant::now();
        connect();
        up.push(start.elapsed());
        let start = Instant::now();
        disconnect();
        down.push(start.elapsed());
    }
    let (up, up_min, up_max) = summary(up);
    let (down, down_min, down_max) = summary(down);
    println!("{label:<8} rounds={rounds} connect median={up:?} min={up_min:?} max={up_max:?}");
    println!("{label:<8} rounds={rounds} delete  median={down:?} min={down_min:?} max={down_max:?}");
    (up, down)
}

fn ip(args: &[&str]) {
    let status = Command::new("ip").args(args).stdout(Stdio::null()).status().unwrap();
    assert!(status.success(), "ip {args:?}");
}

fn main() {
    let rounds = std::env::args().nth(1).map(|n| n.parse().unwrap()).unwrap_or(200);
    link::ensure_bridge("benchbr0", Ipv4Addr::new(10, 77, 0, 1), 16).unwrap();
    let mut holder = Command::new("unshare").args(["--net", "--", "sleep", "600"]).spawn().unwrap();
    std::thread::sleep(Duration::from_millis(100));
    let pid = holder.id() as i32;
    ip(&["netns", "attach", "benchns", &pid.to_string()]);

    let conn = link::Connection {
        bridge: "benchbr0",
        host: "benchh",
        owner: "swineherd:bench",
        address: Ipv4Addr::new(10, 77, 0, 2),
        prefix: 16,
        gateway: Ipv4Addr::new(10, 77, 0, 1),
        filtering: None,
    };
    let (lib, lib_del) =
        run("library", rounds, || link::connect(pid, &conn).unwrap(), || link::delete_link("benchh").unwrap());
    let (cli, cli_del) = run(
        "ip",
        rounds,
        || {
            ip(&["link", "add", "benchh", "type", "veth", "peer", "name", "benchp"]);
            ip(&["link", "set", "benchh", "master", "benchbr0", "up"]);
            ip(&["link", "set", "benchp", "netns", "benchns"]);
            ip(&["-n", "benchns", "link", "set", "benchp", "name", "eth0"]);
            ip(&["-n", "benchns", "link", "set", "lo", "up"]);
            ip(&["-n", "benchns", "link", "set", "eth0", "up"]);
            ip(&["-n", "benchns", "addr", "add", "10.77.0.2/16", "dev", "eth0"]);
            ip(&["-n", "benchns", "route", "add", "default", "via", "10.77.0.1"]);
        },
        || ip(&["link", "del", "benchh"]),
    );
    println!(
        "ratio ip/library (medians): connect {:.1}x, delete {:.1}x",
        cli.as_secs_f64() / lib.as_secs_f64(),
        cli_del.as_secs_f64() / lib_del.as_secs_f64()
    );
    ip(&["netns", "delete", "benchns"]);
    link::delete_link("benchbr0").unwrap();
    holder.kill().unwrap();
    holder.wait().unwrap();
}
