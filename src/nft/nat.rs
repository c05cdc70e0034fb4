//! Swineherd's NAT: one nftables table of its own, `ip TABLE`, that nothing
//! else touches and that nothing of Swineherd lives outside of.
//!
//! ```text
//! table ip swineherd {
//!   chain postrouting { type nat hook postrouting priority srcnat
//!     ip saddr SUBNET oifname != BRIDGE masquerade          # outbound
//!     oifname BRIDGE ip saddr SUBNET ct status dnat masquerade  # hairpin
//!     oifname BRIDGE ip saddr 127.0.0.0/8 masquerade        # localhost
//!   }
//!   chain guard { type filter hook prerouting priority raw
//!     iifname BRIDGE ip daddr 127.0.0.0/8 drop   # see route_localnet
//!   }
//!   chain swine:ID/prerouting { type nat hook prerouting priority dstnat
//!     fib daddr type local meta l4proto tcp th dport 8080 dnat ip to 10.0.0.2:80
//!   }
//!   chain swine:ID/output { type nat hook output priority dstnat  (same rules) }
//! }
//! ```
//!
//! Each container's published ports are two base chains of its own, made
//! and removed in one transaction each: no rule handles to remember, and
//! removal is exactly-once by construction.  [`setup`] replaces the whole
//! table, which is also the orphan cleanup after a crash: at that moment
//! no container of this Shepherd runs, and each adds its chains when it
//! starts.

use std::net::Ipv4Addr;

use super::expr::{self, Expr};
use super::message::{Batch, Message};
use super::socket;
use super::sys::*;
use crate::error::{Context, Error, Result};

/// A transport protocol of a published port.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    Tcp,
    Udp,
}

impl Protocol {
    fn number(self) -> u8 {
        match self {
            Protocol::Tcp => libc::IPPROTO_TCP as u8,
            Protocol::Udp => libc::IPPROTO_UDP as u8,
        }
    }

    fn name(self) -> &'static str {
        match self {
            Protocol::Tcp => "tcp",
            Protocol::Udp => "udp",
        }
    }
}

/// A published port: connections to HOST_PORT (on HOST_ADDRESS, or any
/// of the host's addresses) go to the container's CONTAINER_PORT.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Port {
    pub protocol: Protocol,
    pub host_address: Option<Ipv4Addr>,
    pub host_port: u16,
    pub container_port: u16,
}

impl Port {
    /// Parse one line of the form `PROTOCOL HOST-PORT CONTAINER-PORT
    /// [HOST-ADDRESS]`, as the Scheme side writes it.
    pub fn parse(line: &str) -> Result<Port> {
        let bad = || Error::new("parse published port", libc::EINVAL).detail(format!("malformed port {line:?}"));
        let words: Vec<&str> = line.split_whitespace().collect();
        let (protocol, host, container, address) = match words.as_slice() {
            [p, h, c] => (p, h, c, None),
            [p, h, c, a] => (p, h, c, Some(a.parse().map_err(|_| bad())?)),
            _ => return Err(bad()),
        };
        let protocol = match *protocol {
            "tcp" => Protocol::Tcp,
            "udp" => Protocol::Udp,
            _ => return Err(bad()),
        };
        let port = |text: &str| text.parse::<u16>().ok().filter(|p| *p > 0).ok_or_else(bad);
        Ok(Port { protocol, host_address: address, host_port: port(host)?, container_port: port(container)? })
    }
}

const POSTROUTING: &str = "postrouting";
const GUARD: &str = "guard";
const PRIORITY_RAW: i32 = -300;
const PRIORITY_DSTNAT: i32 = -100;
const PRIORITY_SRCNAT: i32 = 100;

fn table_message(kind: u32, flags: u32, table: &str) -> Message {
    let mut m = Message::nft(kind, flags, NFPROTO_IPV4);
    m.string(NFTA_TABLE_NAME, table);
    m
}

fn base_chain(table: &str, chain: &str, kind: &str, hook: u32, priority: i32) -> Message {
    let mut m = Message::nft(NFT_MSG_NEWCHAIN, NLM_F_CREATE, NFPROTO_IPV4);
    m.string(NFTA_CHAIN_TABLE, table).string(NFTA_CHAIN_NAME, chain);
    m.nest(NFTA_CHAIN_HOOK, |m| {
        m.u32(NFTA_HOOK_HOOKNUM, hook).u32(NFTA_HOOK_PRIORITY, priority as u32);
    });
    m.u32(NFTA_CHAIN_POLICY, NF_ACCEPT).string(NFTA_CHAIN_TYPE, kind);
    m
}

fn chain_message(kind: u32, table: &str, chain: &str) -> Message {
    let mut m = Message::nft(kind, 0, NFPROTO_IPV4);
    if kind == NFT_MSG_DELRULE {
        m.string(NFTA_RULE_TABLE, table).string(NFTA_RULE_CHAIN, chain);
    } else {
        m.string(NFTA_CHAIN_TABLE, table).string(NFTA_CHAIN_NAME, chain);
    }
    m
}

/// A rule appended to CHAIN, made of the expressions in PARTS, with
/// COMMENT shown by `nft list ruleset`.
fn rule(table: &str, chain: &str, parts: &[Vec<Expr>], comment: &str) -> Message {
    let mut m = Message::nft(NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, NFPROTO_IPV4);
    m.string(NFTA_RULE_TABLE, table).string(NFTA_RULE_CHAIN, chain);
    m.nest(NFTA_RULE_EXPRESSIONS, |m| {
        for expr in parts.iter().flatten() {
            expr.encode(m);
        }
    });
    // libnftnl's user data: type 0 (NFTNL_UDATA_RULE_COMMENT), length, text.
    let text = &comment.as_bytes()[..comment.len().min(250)];
    let mut udata = vec![0, text.len() as u8 + 1];
    udata.extend_from_slice(text);
    udata.push(0);
    m.bytes(NFTA_RULE_USERDATA, &udata);
    m
}

const LOOPBACK: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 0);

/// The batch that replaces TABLE with a fresh one: masquerading for
/// SUBNET/PREFIX leaving through other interfaces than BRIDGE, for
/// connections to published ports from other containers (hairpin) and from
/// the host's loopback, and the guard against packets from BRIDGE to the
/// loopback network.
pub fn setup_batch(table: &str, bridge: &str, subnet: Ipv4Addr, prefix: u8) -> Batch {
    let mut b = Batch::new();
    // Creating it first makes the deletion succeed whether it existed or not.
    b.push(table_message(NFT_MSG_NEWTABLE, NLM_F_CREATE, table), format!("create table ip {table}"));
    b.push(table_message(NFT_MSG_DELTABLE, 0, table), format!("delete table ip {table}"));
    b.push(table_message(NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL, table), format!("create table ip {table}"));
    b.push(
        base_chain(table, POSTROUTING, "nat", NF_INET_POST_ROUTING, PRIORITY_SRCNAT),
        format!("create chain {POSTROUTING}"),
    );
    let masquerade = vec![Expr::Masquerade];
    let rules = [
        (vec![expr::saddr_in(subnet, prefix), expr::oifname(false, bridge), masquerade.clone()], "outbound"),
        (
            vec![expr::oifname(true, bridge), expr::saddr_in(subnet, prefix), expr::ct_dnat(), masquerade.clone()],
            "containers to published ports",
        ),
        (vec![expr::oifname(true, bridge), expr::saddr_in(LOOPBACK, 8), masquerade], "localhost to published ports"),
    ];
    for (parts, comment) in rules {
        b.push(rule(table, POSTROUTING, &parts, comment), format!("add masquerading rule ({comment})"));
    }
    b.push(base_chain(table, GUARD, "filter", NF_INET_PRE_ROUTING, PRIORITY_RAW), format!("create chain {GUARD}"));
    let guard = [expr::iifname(bridge), expr::daddr_in(LOOPBACK, 8), vec![Expr::Drop]];
    b.push(rule(table, GUARD, &guard, "no loopback from containers"), "add loopback guard rule");
    b
}

/// The names of the two chains of container ID.
pub fn container_chains(id: &str) -> [(String, u32); 2] {
    [(format!("swine:{id}/prerouting"), NF_INET_PRE_ROUTING), (format!("swine:{id}/output"), NF_INET_LOCAL_OUT)]
}

/// The batch that makes the chains of container ID hold exactly the rules
/// for PORTS, to the container's ADDRESS.
pub fn publish_batch(table: &str, id: &str, address: Ipv4Addr, ports: &[Port]) -> Batch {
    let mut b = Batch::new();
    for (chain, hook) in container_chains(id) {
        b.push(base_chain(table, &chain, "nat", hook, PRIORITY_DSTNAT), format!("create chain {chain}"));
        b.push(chain_message(NFT_MSG_DELRULE, table, &chain), format!("flush chain {chain}"));
        for port in ports {
            let destination = match port.host_address {
                Some(host) => expr::daddr_is(host),
                None => expr::daddr_local(),
            };
            let parts =
                [destination, expr::l4_dport(port.protocol.number(), port.host_port), expr::dnat(address, port.container_port)];
            let what = format!(
                "{}{}/{} -> {address}:{}",
                port.host_address.map(|a| format!("{a}:")).unwrap_or_default(),
                port.host_port,
                port.protocol.name(),
                port.container_port
            );
            b.push(rule(table, &chain, &parts, &format!("swineherd {id}: {what}")), format!("publish {what}"));
        }
    }
    b
}

/// The batch that removes the chains of container ID; chains that are
/// missing are created first, so that it succeeds whether they exist or not.
pub fn unpublish_batch(table: &str, id: &str) -> Batch {
    let mut b = Batch::new();
    for (chain, hook) in container_chains(id) {
        b.push(base_chain(table, &chain, "nat", hook, PRIORITY_DSTNAT), format!("create chain {chain}"));
        b.push(chain_message(NFT_MSG_DELRULE, table, &chain), format!("flush chain {chain}"));
        b.push(chain_message(NFT_MSG_DELCHAIN, table, &chain), format!("delete chain {chain}"));
    }
    b
}

fn write_sysctl(path: &str, value: &str) -> Result<()> {
    std::fs::write(path, value).at("write", path)
}

/// Turn IPv4 forwarding on, unless it is on already; it is never turned
/// off again (something else may have come to rely on it).
pub fn enable_forwarding() -> Result<()> {
    const PATH: &str = "/proc/sys/net/ipv4/ip_forward";
    let current = std::fs::read_to_string(PATH).at("read", PATH)?;
    if current.trim() != "1" {
        write_sysctl(PATH, "1")?;
    }
    Ok(())
}

/// Set up Swineherd's NAT for BRIDGE (which must exist) and SUBNET/PREFIX
/// in the nftables table TABLE: forwarding on, the loopback network
/// routable on BRIDGE (for connections from the host's 127.0.0.1 to
/// published ports), and TABLE replaced by a fresh one.
pub fn setup(table: &str, bridge: &str, subnet: Ipv4Addr, prefix: u8) -> Result<()> {
    crate::sys::check_ifname(bridge)?;
    enable_forwarding()?;
    write_sysctl(&format!("/proc/sys/net/ipv4/conf/{bridge}/route_localnet"), "1")?;
    socket::apply(setup_batch(table, bridge, subnet, prefix))
}

/// Delete TABLE and everything in it; a missing table is fine.
pub fn teardown(table: &str) -> Result<()> {
    let mut b = Batch::new();
    b.push(table_message(NFT_MSG_NEWTABLE, NLM_F_CREATE, table), format!("create table ip {table}"));
    b.push(table_message(NFT_MSG_DELTABLE, 0, table), format!("delete table ip {table}"));
    socket::apply(b)
}

/// Publish PORTS of container ID, whose address is ADDRESS, replacing what
/// it published before.  TABLE must exist (see [`setup`]).
pub fn publish(table: &str, id: &str, address: Ipv4Addr, ports: &[Port]) -> Result<()> {
    socket::apply(publish_batch(table, id, address, ports)).map_err(|err| {
        if err.errno == libc::ENOENT {
            Error::new("publish ports", libc::ENOENT)
                .detail(format!("table ip {table} is missing; `herd up swineherd' creates it"))
        } else {
            err
        }
    })
}

/// Remove every port container ID published; when TABLE is gone, so are
/// they, and that is fine.
pub fn unpublish(table: &str, id: &str) -> Result<()> {
    match crate::detached::wait(&start_unpublish(table, id)?) {
        Err(err) if err.errno == libc::ENOENT => Ok(()),
        other => other,
    }
}

/// [`unpublish`], from a child process (see [`crate::detached`]): removing
/// chains waits for the kernel (about 16 ms here), and only the child
/// should.  Its `ENOENT` means that the table is gone, which is fine.
pub fn start_unpublish(table: &str, id: &str) -> Result<crate::detached::Pending> {
    socket::start(unpublish_batch(table, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn port_lines_parse() {
        let p = Port::parse("tcp 8080 80").unwrap();
        assert_eq!(p, Port { protocol: Protocol::Tcp, host_address: None, host_port: 8080, container_port: 80 });
        let p = Port::parse("udp 53 5353 127.0.0.1").unwrap();
        assert_eq!(p.host_address, Some(Ipv4Addr::LOCALHOST));
        assert_eq!(p.protocol, Protocol::Udp);
    }

    #[test]
    fn bad_port_lines_are_refused() {
        for line in ["", "tcp 8080", "sctp 80 80", "tcp 0 80", "tcp 99999 80", "tcp a b", "tcp 1 2 nowhere", "tcp 1 2 3 4"] {
            let err = Port::parse(line).unwrap_err();
            assert_eq!(err.errno, libc::EINVAL, "{line:?}");
        }
    }

    #[test]
    fn chain_names_carry_the_id() {
        let [(pre, h1), (out, h2)] = container_chains("web:1");
        assert_eq!((pre.as_str(), h1), ("swine:web:1/prerouting", NF_INET_PRE_ROUTING));
        assert_eq!((out.as_str(), h2), ("swine:web:1/output", NF_INET_LOCAL_OUT));
    }

    #[test]
    fn batches_have_one_message_per_step() {
        assert_eq!(setup_batch("t", "br0", Ipv4Addr::new(10, 0, 0, 1), 16).len(), 9);
        let port = Port { protocol: Protocol::Tcp, host_address: None, host_port: 1, container_port: 2 };
        // Per chain: create, flush, one rule per port.
        assert_eq!(publish_batch("t", "a", Ipv4Addr::new(10, 0, 0, 2), &[port, port]).len(), 8);
        assert_eq!(unpublish_batch("t", "a").len(), 6);
    }

    #[test]
    fn the_bridge_name_is_checked_before_use_in_a_path() {
        let err = setup("t", "../../x", Ipv4Addr::new(10, 0, 0, 0), 16).unwrap_err();
        assert_eq!(err.errno, libc::EINVAL);
        assert!(err.to_string().contains("interface names"), "{err}");
    }
}
