//! Benchmark: what the isolation filters of issue #19 cost.
//!
//! 1. Connecting a container (veth, address, route: what `new` and `up`
//!    do for the network), without and with its filters (one more
//!    nf_tables transaction, made before the veth is set up).
//! 2. A bulk TCP transfer between two "containers" (network namespaces
//!    held by `unshare --net sleep`) on the bridge, without and with
//!    their filters (not isolated, since isolated containers do not talk
//!    directly: the data crosses the sender's ingress chain, the
//!    acknowledgements the receiver's).
//!
//! Usage (root, in a network namespace of its own): bench_isolation
//! [ROUNDS] [MIB]; bench/isolation runs it inside the sandbox.

use std::fs::File;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::os::fd::AsRawFd;
use std::process::{Child, Command};
use std::time::{Duration, Instant};

use swineherd::net::link::{self, Connection, Filtering};
use swineherd::nft::{guard, nat};

/// swineherd-relay, the helper of detached requests, as cargo built it:
/// in target/PROFILE/, the parent of this example's directory.
fn relay() -> std::ffi::CString {
    let exe = std::env::current_exe().unwrap();
    let file = exe.parent().and_then(|d| d.parent()).unwrap().join("swineherd-relay");
    std::ffi::CString::new(file.into_os_string().into_encoded_bytes()).unwrap()
}

const BRIDGE: &str = "benchbr0";
const TABLE: &str = "benchswh";
const GATEWAY: Ipv4Addr = Ipv4Addr::new(10, 78, 0, 1);

/// A network namespace, held by a sleeping process.
struct Holder(Child);

impl Holder {
    fn new() -> Holder {
        let child = Command::new("unshare").args(["--net", "--", "sleep", "3600"]).spawn().unwrap();
        let ours = std::fs::read_link("/proc/self/ns/net").unwrap();
        let path = format!("/proc/{}/ns/net", child.id());
        while std::fs::read_link(&path).map(|ns| ns == ours).unwrap_or(true) {
            std::thread::sleep(Duration::from_millis(5));
        }
        Holder(child)
    }

    fn pid(&self) -> i32 {
        self.0.id() as i32
    }

    /// Run F on a thread that has entered this namespace.
    fn run<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> std::thread::JoinHandle<T> {
        let ns = File::open(format!("/proc/{}/ns/net", self.pid())).unwrap();
        std::thread::spawn(move || {
            assert_eq!(unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) }, 0);
            f()
        })
    }
}

impl Drop for Holder {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn host_name(last: u8) -> String {
    format!("benchh{last}")
}

/// The connection of container ID, with filters if ISOLATED is given.
fn connection<'a>(host: &'a str, id: &'a str, last: u8, isolated: Option<bool>) -> Connection<'a> {
    Connection {
        bridge: BRIDGE,
        host,
        owner: "swineherd:bench",
        address: Ipv4Addr::new(10, 78, 0, last),
        prefix: 16,
        gateway: GATEWAY,
        filtering: isolated.map(|isolated| Filtering { table: TABLE, id, isolated }),
    }
}

fn disconnect(host: &str, id: &str) {
    link::delete_link(host).unwrap();
    swineherd::detached::wait(&guard::start_unguard(&relay(), TABLE, id).unwrap()).unwrap();
}

/// The median and the 90th percentile of SAMPLES.
fn median_p90(mut samples: Vec<Duration>) -> (Duration, Duration) {
    samples.sort();
    (samples[samples.len() / 2], samples[samples.len() * 9 / 10])
}

fn bench_connect(rounds: usize, holder: &Holder) {
    let host = host_name(2);
    let variants = [("none", None), ("ingress", Some(false)), ("isolated", Some(true))];
    let mut samples = vec![Vec::with_capacity(rounds); variants.len()];
    // Interleaved, so that the machine's load drifts over all alike.
    for _ in 0..rounds {
        for (i, (_, isolated)) in variants.iter().enumerate() {
            let start = Instant::now();
            link::connect(holder.pid(), &connection(&host, "a", 2, *isolated)).unwrap();
            samples[i].push(start.elapsed());
            disconnect(&host, "a");
        }
    }
    for ((filters, _), samples) in variants.iter().zip(samples) {
        let (median, p90) = median_p90(samples);
        println!("connect filters={filters:<8} rounds={rounds} median={median:?} p90={p90:?}");
    }
}

/// Send MIB mebibytes from B to A, whose address ends in LAST, over TCP;
/// return the rate in Gbit/s.
fn transfer(a: &Holder, last: u8, b: &Holder, mib: usize) -> f64 {
    let (ready_tx, ready_rx) = std::sync::mpsc::channel();
    let server = a.run(move || {
        let listener = TcpListener::bind("0.0.0.0:5001").unwrap();
        ready_tx.send(()).unwrap();
        let (mut stream, _) = listener.accept().unwrap();
        let mut buf = vec![0u8; 1 << 20];
        let mut total = 0usize;
        loop {
            match stream.read(&mut buf).unwrap() {
                0 => return total,
                n => total += n,
            }
        }
    });
    ready_rx.recv().unwrap();
    let start = Instant::now();
    let client = b.run(move || {
        let mut stream = TcpStream::connect((Ipv4Addr::new(10, 78, 0, last), 5001)).unwrap();
        let chunk = vec![7u8; 1 << 20];
        for _ in 0..mib {
            stream.write_all(&chunk).unwrap();
        }
    });
    client.join().unwrap();
    let received = server.join().unwrap();
    let seconds = start.elapsed().as_secs_f64();
    assert_eq!(received, mib << 20);
    (received as f64 * 8.0) / seconds / 1e9
}

/// Two pairs of containers, one without filters (.2, .3), one with (.4,
/// .5); transfers alternate between them.
fn bench_throughput(rounds: usize, mib: usize) {
    let holders: Vec<Holder> = (0..4).map(|_| Holder::new()).collect();
    let names: Vec<String> = (2..6).map(host_name).collect();
    let ids = ["a", "b", "c", "d"];
    for i in 0..4 {
        let isolated = (i >= 2).then_some(false);
        link::connect(holders[i].pid(), &connection(&names[i], ids[i], i as u8 + 2, isolated)).unwrap();
    }
    let mut rates = [Vec::new(), Vec::new()];
    for _ in 0..rounds {
        rates[0].push(transfer(&holders[0], 2, &holders[1], mib));
        rates[1].push(transfer(&holders[2], 4, &holders[3], mib));
    }
    for (filters, mut rates) in ["none", "ingress"].iter().zip(rates) {
        rates.sort_by(|x, y| x.partial_cmp(y).unwrap());
        println!(
            "bulk TCP filters={filters:<8} {mib} MiB x {rounds}: median={:.2} Gbit/s min={:.2} max={:.2}",
            rates[rates.len() / 2],
            rates[0],
            rates[rates.len() - 1]
        );
    }
    for i in 0..4 {
        disconnect(&names[i], ids[i]);
    }
}

fn main() {
    let mut args = std::env::args().skip(1).map(|n| n.parse::<usize>().unwrap());
    let rounds = args.next().unwrap_or(200);
    let mib = args.next().unwrap_or(2048);
    link::ensure_bridge(BRIDGE, GATEWAY, 16).unwrap();
    nat::setup(TABLE, BRIDGE, GATEWAY, 16, &[]).unwrap();
    bench_connect(rounds, &Holder::new());
    bench_throughput(9, mib);
    nat::teardown(TABLE).unwrap();
    link::delete_link(BRIDGE).unwrap();
}
