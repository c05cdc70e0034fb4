//! Benchmark helper: launch to network-ready.  Starts COMMAND (the launch:
//! `herd new …`, `lxc-start -d …`, `podman run -d …`) and, from the same
//! instant, probes ADDRESS until a TCP connection to PORT succeeds and until
//! an ICMP echo is answered.  Prints, in milliseconds since the start:
//!
//!     command_ms=41.20 tcp_ms=52.31 ping_ms=50.02
//!
//! Each TCP attempt is a non-blocking connect given 10 ms (an address that is
//! not there yet costs an ARP timeout, not a refusal), each ping a raw ICMP
//! echo request given 10 ms; a refused attempt is retried after 0.5 ms.
//! Exits 1 if COMMAND fails or nothing answers within the timeout (a real
//! error, not slowness: the timeout is 60 s).
//!
//! Usage (root): bench_ready ADDRESS PORT -- COMMAND [ARG...]
//! bench/launch and bench/peers use it.

use std::io::ErrorKind;
use std::mem::size_of;
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

const ATTEMPT: Duration = Duration::from_millis(10);
const PAUSE: Duration = Duration::from_micros(500);
const TIMEOUT: Duration = Duration::from_secs(60);

/// Milliseconds from START until a TCP connection to ADDRESS succeeds.
fn wait_tcp(start: Instant, address: SocketAddr) -> Option<f64> {
    while start.elapsed() < TIMEOUT {
        match TcpStream::connect_timeout(&address, ATTEMPT) {
            Ok(_) => return Some(millis(start.elapsed())),
            Err(e) if e.kind() == ErrorKind::TimedOut => {}
            Err(_) => thread::sleep(PAUSE),
        }
    }
    None
}

/// The Internet checksum of DATA.
fn checksum(data: &[u8]) -> u16 {
    let mut sum: u32 = data.chunks(2).map(|c| u32::from(c[0]) << 8 | u32::from(*c.get(1).unwrap_or(&0))).sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An ICMP echo request with identifier ID and sequence number SEQ.
fn echo_request(id: u16, seq: u16) -> [u8; 16] {
    let mut packet = [0u8; 16];
    packet[0] = 8; // echo request
    packet[4..6].copy_from_slice(&id.to_be_bytes());
    packet[6..8].copy_from_slice(&seq.to_be_bytes());
    let sum = checksum(&packet);
    packet[2..4].copy_from_slice(&sum.to_be_bytes());
    packet
}

/// Whether BUF, an IPv4 packet read from a raw ICMP socket, is an echo reply
/// with identifier ID.
fn is_reply(buf: &[u8], id: u16) -> bool {
    let header = usize::from(buf.first().map_or(0, |b| b & 0x0f)) * 4;
    buf.len() >= header + 8 && buf[header] == 0 && buf[header + 4..header + 6] == id.to_be_bytes()
}

/// Milliseconds from START until ADDRESS answers an ICMP echo request.
fn wait_ping(start: Instant, address: Ipv4Addr) -> Option<f64> {
    // SAFETY: plain socket calls on a descriptor this function owns; the
    // buffers passed are live and their lengths are theirs.
    unsafe {
        let fd = libc::socket(libc::AF_INET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, libc::IPPROTO_ICMP);
        assert!(fd >= 0, "raw ICMP socket: {}", std::io::Error::last_os_error());
        let mut to: libc::sockaddr_in = std::mem::zeroed();
        to.sin_family = libc::AF_INET as libc::sa_family_t;
        to.sin_addr.s_addr = u32::from(address).to_be();
        let id = std::process::id() as u16;
        let mut result = None;
        let mut seq = 0u16;
        while result.is_none() && start.elapsed() < TIMEOUT {
            seq = seq.wrapping_add(1);
            let packet = echo_request(id, seq);
            let sent = libc::sendto(
                fd,
                packet.as_ptr().cast(),
                packet.len(),
                0,
                (&to as *const libc::sockaddr_in).cast(),
                size_of::<libc::sockaddr_in>() as libc::socklen_t,
            );
            if sent < 0 {
                thread::sleep(PAUSE);
                continue;
            }
            let deadline = Instant::now() + ATTEMPT;
            while let Some(left) = deadline.checked_duration_since(Instant::now()) {
                let mut poll = libc::pollfd { fd, events: libc::POLLIN, revents: 0 };
                if libc::poll(&mut poll, 1, left.as_millis().max(1) as i32) <= 0 {
                    break;
                }
                let mut buf = [0u8; 1500];
                let n = libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), 0);
                if n > 0 && is_reply(&buf[..n as usize], id) {
                    result = Some(millis(start.elapsed()));
                    break;
                }
            }
        }
        libc::close(fd);
        result
    }
}

fn millis(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (address, port, command) = match args.as_slice() {
        [address, port, dashdash, command @ ..] if dashdash == "--" && !command.is_empty() => {
            (address.parse::<Ipv4Addr>().expect("ADDRESS"), port.parse::<u16>().expect("PORT"), command)
        }
        _ => {
            eprintln!("usage: bench_ready ADDRESS PORT -- COMMAND [ARG...]");
            std::process::exit(2);
        }
    };
    let start = Arc::new(Instant::now());
    let tcp = {
        let start = *start;
        thread::spawn(move || wait_tcp(start, SocketAddr::from((address, port))))
    };
    let ping = {
        let start = *start;
        thread::spawn(move || wait_ping(start, address))
    };
    let output = Command::new(&command[0])
        .args(&command[1..])
        .stdin(Stdio::null())
        .output()
        .unwrap_or_else(|e| panic!("{}: {e}", command[0]));
    let command_ms = millis(start.elapsed());
    if !output.status.success() {
        eprintln!(
            "bench_ready: {:?} failed ({}): {}{}",
            command,
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        std::process::exit(1);
    }
    let (tcp, ping) = (tcp.join().unwrap(), ping.join().unwrap());
    match (tcp, ping) {
        (Some(tcp), Some(ping)) => println!("command_ms={command_ms:.2} tcp_ms={tcp:.2} ping_ms={ping:.2}"),
        _ => {
            eprintln!("bench_ready: {address} did not answer within {TIMEOUT:?} (tcp {tcp:?}, ping {ping:?})");
            std::process::exit(1);
        }
    }
}
