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

use std::ffi::CStr;
use std::net::Ipv4Addr;

use super::expr::{self, Expr};
use super::guard::{self, HostPort};
use super::message::{Batch, Message};
use super::objects::{self, Hook};
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
    /// The protocol numbered NUMBER (`IPPROTO_TCP` or `IPPROTO_UDP`).
    pub fn from_number(number: u32) -> Option<Protocol> {
        match i32::try_from(number).ok()? {
            libc::IPPROTO_TCP => Some(Protocol::Tcp),
            libc::IPPROTO_UDP => Some(Protocol::Udp),
            _ => None,
        }
    }

    pub(crate) fn number(self) -> u8 {
        match self {
            Protocol::Tcp => libc::IPPROTO_TCP as u8,
            Protocol::Udp => libc::IPPROTO_UDP as u8,
        }
    }

    pub(crate) fn name(self) -> &'static str {
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

const POSTROUTING: &str = "postrouting";
const GUARD: &str = "guard";
const PRIORITY_RAW: i32 = -300;
const PRIORITY_DSTNAT: i32 = -100;
const PRIORITY_SRCNAT: i32 = 100;

const IPV4: u32 = NFPROTO_IPV4;

fn hook(number: u32, priority: i32) -> Hook<'static> {
    Hook { number, priority, device: None }
}

fn rule(table: &str, chain: &str, parts: &[Vec<Expr>], comment: &str) -> Message {
    objects::rule(IPV4, table, chain, parts, comment)
}

const LOOPBACK: Ipv4Addr = Ipv4Addr::new(127, 0, 0, 0);

/// The batch that replaces TABLE with a fresh one: masquerading for
/// SUBNET/PREFIX leaving through other interfaces than BRIDGE, for
/// connections to published ports from other containers (hairpin) and from
/// the host's loopback, the guard against packets from BRIDGE to the
/// loopback network, and the host's input from BRIDGE closed but for the
/// OPEN ports; and that replaces the netdev table TABLE, which holds the
/// containers' guards (see [`super::guard`]), with an empty one.
pub fn setup_batch(table: &str, bridge: &str, subnet: Ipv4Addr, prefix: u8, open: &[HostPort]) -> Batch {
    let mut b = Batch::new();
    objects::replace_table(&mut b, IPV4, table);
    b.push(
        objects::base_chain(IPV4, table, POSTROUTING, "nat", &hook(NF_INET_POST_ROUTING, PRIORITY_SRCNAT), NF_ACCEPT),
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
    b.push(
        objects::base_chain(IPV4, table, GUARD, "filter", &hook(NF_INET_PRE_ROUTING, PRIORITY_RAW), NF_ACCEPT),
        format!("create chain {GUARD}"),
    );
    let guard = [expr::iifname(bridge), expr::daddr_in(true, LOOPBACK, 8), vec![Expr::Drop]];
    b.push(rule(table, GUARD, &guard, "no loopback from containers"), "add loopback guard rule");
    guard::push_host_input(&mut b, table, bridge, open);
    guard::push_netdev_table(&mut b, table);
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
    for (chain, number) in container_chains(id) {
        b.push(
            objects::base_chain(IPV4, table, &chain, "nat", &hook(number, PRIORITY_DSTNAT), NF_ACCEPT),
            format!("create chain {chain}"),
        );
        b.push(objects::chain(NFT_MSG_DELRULE, IPV4, table, &chain), format!("flush chain {chain}"));
        for port in ports {
            let destination = match port.host_address {
                Some(host) => expr::daddr_is(host),
                None => expr::daddr_local(),
            };
            let parts = [
                destination,
                expr::l4_dport(port.protocol.number(), port.host_port),
                expr::dnat(address, port.container_port),
            ];
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
    for (chain, _) in container_chains(id) {
        objects::delete_chain(&mut b, IPV4, table, &chain);
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

/// Set up Swineherd's NAT and filters for BRIDGE (which must exist) and
/// SUBNET/PREFIX in the nftables tables TABLE (ip and netdev): forwarding
/// on, the loopback network routable on BRIDGE (for connections from the
/// host's 127.0.0.1 to published ports), and both tables replaced by fresh
/// ones, the host's input from BRIDGE open only on OPEN ports.
pub fn setup(table: &str, bridge: &str, subnet: Ipv4Addr, prefix: u8, open: &[HostPort]) -> Result<()> {
    crate::sys::check_ifname(bridge)?;
    enable_forwarding()?;
    write_sysctl(&format!("/proc/sys/net/ipv4/conf/{bridge}/route_localnet"), "1")?;
    socket::apply(setup_batch(table, bridge, subnet, prefix, open))
}

/// Delete both tables TABLE (ip and netdev) and everything in them; a
/// missing table is fine.
pub fn teardown(table: &str) -> Result<()> {
    let mut b = Batch::new();
    objects::delete_table(&mut b, IPV4, table);
    guard::push_netdev_teardown(&mut b, table);
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
/// they, and that is fine.  HELPER: as for [`start_unpublish`].
pub fn unpublish(helper: &CStr, table: &str, id: &str) -> Result<()> {
    match crate::detached::wait(&start_unpublish(helper, table, id)?) {
        Err(err) if err.errno == libc::ENOENT => Ok(()),
        other => other,
    }
}

/// [`unpublish`], from the helper program HELPER (see [`crate::detached`]):
/// removing chains waits for the kernel (about 16 ms here), and only the
/// helper should.  Its `ENOENT` means that the table is gone, which is fine.
pub fn start_unpublish(helper: &CStr, table: &str, id: &str) -> Result<crate::detached::Pending> {
    socket::start(helper, unpublish_batch(table, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_by_number() {
        assert_eq!(Protocol::from_number(6), Some(Protocol::Tcp));
        assert_eq!(Protocol::from_number(17), Some(Protocol::Udp));
        for bad in [0, 132, u32::MAX] {
            assert_eq!(Protocol::from_number(bad), None, "{bad}");
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
        // The ip table (3), postrouting (1 + 3), guard (1 + 1), input (1 +
        // 3, no open port), the netdev table (3).
        assert_eq!(setup_batch("t", "br0", Ipv4Addr::new(10, 0, 0, 1), 16, &[]).len(), 16);
        let port = Port { protocol: Protocol::Tcp, host_address: None, host_port: 1, container_port: 2 };
        // Per chain: create, flush, one rule per port.
        assert_eq!(publish_batch("t", "a", Ipv4Addr::new(10, 0, 0, 2), &[port, port]).len(), 8);
        assert_eq!(unpublish_batch("t", "a").len(), 6);
    }

    #[test]
    fn the_bridge_name_is_checked_before_use_in_a_path() {
        let err = setup("t", "../../x", Ipv4Addr::new(10, 0, 0, 0), 16, &[]).unwrap_err();
        assert_eq!(err.errno, libc::EINVAL);
        assert!(err.to_string().contains("interface names"), "{err}");
    }
}
