//! Network isolation: what a container may send on the bridge, what
//! reaches it, and which of the host's services it reaches.
//!
//! ```text
//! table netdev swineherd {
//!   chain swine:ID/ingress {   # frames the container sends
//!     type filter hook ingress device swhXXXXXXXX priority filter; policy drop;
//!     ether saddr MAC arp htype 1 … arp saddr ether MAC arp saddr ip ADDRESS accept
//!     ether saddr MAC ether type ip ip saddr ADDRESS accept
//!   }
//!   chain swine:ID/egress {    # frames it receives; --isolated only
//!     type filter hook egress device swhXXXXXXXX priority filter; policy accept;
//!     ether type ip ip saddr SUBNET ip saddr != GATEWAY drop
//!     ether type arp arp saddr ip != GATEWAY drop
//!   }
//! }
//! table ip swineherd {
//!   chain input { type filter hook input priority filter
//!     iifname BRIDGE ct state established,related accept
//!     iifname BRIDGE icmp type echo-request accept
//!     iifname BRIDGE meta l4proto udp th dport 53 accept   # open host ports
//!     iifname BRIDGE drop
//!   }
//! }
//! ```
//!
//! A container's two chains are bound to the host side of its veth (the
//! netdev family's hooks see that device's traffic only: no cost for the
//! others), made before that side is set up and removed after it is
//! deleted.  The ingress chain lets through only ARP and IPv4 that carry
//! the container's own MAC and address: a container that takes another's
//! address, or changes its MAC, sends into the void.  IPv6 (which
//! Swineherd does not configure) and every other protocol are dropped.  An
//! isolated container's ingress chain also keeps its IPv4 to the gateway
//! and to other networks, in unicast frames, and its ARP to the gateway;
//! its egress chain drops what other containers send it directly (what
//! goes through a published port comes masqueraded, from the gateway).

use std::ffi::CStr;
use std::net::Ipv4Addr;

use super::expr::{self, Expr};
use super::message::Batch;
use super::nat::Protocol;
use super::objects::{self, Hook};
use super::socket;
use super::sys::*;
use crate::error::{Error, Result};

const NETDEV: u32 = NFPROTO_NETDEV;
const PRIORITY_FILTER: i32 = 0;
const ETHERTYPE_IPV4: u16 = 0x0800;
const ETHERTYPE_ARP: u16 = 0x0806;
const INPUT: &str = "input";

/// A port of the host that containers may reach (`open-host-ports`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HostPort {
    pub protocol: Protocol,
    pub port: u16,
}

/// What one container's chains enforce.
#[derive(Debug, Clone, Copy)]
pub struct Guard<'a> {
    /// Swineherd's table (the netdev one has the same name as the ip one).
    pub table: &'a str,
    pub id: &'a str,
    /// The host side of its veth.
    pub device: &'a str,
    pub mac: [u8; 6],
    pub address: Ipv4Addr,
    pub gateway: Ipv4Addr,
    pub prefix: u8,
    /// Whether it may exchange traffic with other containers directly.
    pub isolated: bool,
}

/// The names of the ingress and egress chains of container ID.
pub fn chain_names(id: &str) -> [String; 2] {
    [format!("swine:{id}/ingress"), format!("swine:{id}/egress")]
}

/// Add to B the `input` chain of the ip table TABLE: from BRIDGE, the host
/// accepts replies, pings and the OPEN ports, and drops the rest.
pub fn push_host_input(b: &mut Batch, table: &str, bridge: &str, open: &[HostPort]) {
    let family = NFPROTO_IPV4;
    let hook = Hook { number: NF_INET_LOCAL_IN, priority: PRIORITY_FILTER, device: None };
    b.push(objects::base_chain(family, table, INPUT, "filter", &hook, NF_ACCEPT), format!("create chain {INPUT}"));
    let from = expr::iifname(bridge);
    let accept = vec![Expr::Accept];
    let mut rules = vec![
        (vec![from.clone(), expr::ct_established_or_related(), accept.clone()], "replies".to_string()),
        (vec![from.clone(), expr::icmp_echo_request(), accept.clone()], "ping".to_string()),
    ];
    for port in open {
        let what = format!("open host port {}/{}", port.port, port.protocol.name());
        rules.push((vec![from.clone(), expr::l4_dport(port.protocol.number(), port.port), accept.clone()], what));
    }
    rules.push((vec![from, vec![Expr::Drop]], "no other host service for containers".to_string()));
    for (parts, comment) in rules {
        b.push(objects::rule(family, table, INPUT, &parts, &comment), format!("add input rule ({comment})"));
    }
}

/// Add to B the replacement of the netdev table TABLE by an empty one.
pub fn push_netdev_table(b: &mut Batch, table: &str) {
    objects::replace_table(b, NETDEV, table);
}

/// Add to B the deletion of the netdev table TABLE.
pub fn push_netdev_teardown(b: &mut Batch, table: &str) {
    objects::delete_table(b, NETDEV, table);
}

fn ingress_rules(g: &Guard) -> Vec<(Vec<Vec<Expr>>, &'static str)> {
    let me = expr::ether_saddr_is(g.mac);
    let accept = vec![Expr::Accept];
    let mut arp = vec![
        me.clone(),
        expr::ether_type_is(ETHERTYPE_ARP),
        expr::arp_ipv4_over_ethernet(),
        expr::arp_sha_is(g.mac),
        expr::arp_spa(true, g.address),
    ];
    let ipv4 = vec![me, expr::ether_type_is(ETHERTYPE_IPV4), expr::saddr(true, g.address)];
    if !g.isolated {
        arp.push(accept.clone());
        let mut ipv4 = ipv4;
        ipv4.push(accept);
        return vec![(arp, "ARP as itself"), (ipv4, "IPv4 as itself")];
    }
    arp.extend([expr::arp_tpa_is(g.gateway), accept.clone()]);
    let unicast = |last: Vec<Expr>| {
        let mut parts = ipv4.clone();
        parts.extend([expr::ether_daddr_unicast(), last, accept.clone()]);
        parts
    };
    vec![
        (arp, "ARP as itself, to the gateway (isolated)"),
        (unicast(expr::daddr_is(g.gateway)), "IPv4 as itself, to the host (isolated)"),
        (unicast(expr::daddr_in(false, g.gateway, g.prefix)), "IPv4 as itself, to other networks (isolated)"),
    ]
}

fn egress_rules(g: &Guard) -> Vec<(Vec<Vec<Expr>>, &'static str)> {
    let drop = vec![Expr::Drop];
    vec![
        (
            vec![
                expr::ether_type_is(ETHERTYPE_IPV4),
                expr::saddr_in(g.gateway, g.prefix),
                expr::saddr(false, g.gateway),
                drop.clone(),
            ],
            "no IPv4 from other containers (isolated)",
        ),
        (
            vec![expr::ether_type_is(ETHERTYPE_ARP), expr::arp_spa(false, g.gateway), drop],
            "no ARP from other containers (isolated)",
        ),
    ]
}

/// The batch that makes G's chains hold exactly its rules.
pub fn guard_batch(g: &Guard) -> Batch {
    let mut b = Batch::new();
    let [ingress, egress] = chain_names(g.id);
    let chains = [
        (ingress, NF_NETDEV_INGRESS, NF_DROP, ingress_rules(g)),
        (egress, NF_NETDEV_EGRESS, NF_ACCEPT, if g.isolated { egress_rules(g) } else { Vec::new() }),
    ];
    // No egress chain when not isolated.  (Not deleted either: deleting a
    // chain makes the transaction wait for an RCU grace period, some 17 ms
    // here, and a container's isolation does not change while it runs.)
    for (chain, number, policy, rules) in chains.into_iter().filter(|chain| !chain.3.is_empty()) {
        let hook = Hook { number, priority: PRIORITY_FILTER, device: Some(g.device) };
        b.push(objects::base_chain(NETDEV, g.table, &chain, "filter", &hook, policy), format!("create chain {chain}"));
        b.push(objects::chain(NFT_MSG_DELRULE, NETDEV, g.table, &chain), format!("flush chain {chain}"));
        for (parts, comment) in rules {
            let comment = format!("swineherd {}: {comment}", g.id);
            b.push(objects::rule(NETDEV, g.table, &chain, &parts, &comment), format!("add rule ({comment})"));
        }
    }
    b
}

/// Make the chains of G, replacing those it had.  The netdev table and
/// G's device must exist.
pub fn guard(g: &Guard) -> Result<()> {
    socket::apply(guard_batch(g)).map_err(|err| {
        if err.errno == libc::ENOENT {
            Error::new("guard container", libc::ENOENT).detail(format!(
                "table netdev {} or device {} is missing; `herd up swineherd' creates the table",
                g.table, g.device
            ))
        } else {
            err
        }
    })
}

/// The batch that removes the chains of container ID from the netdev
/// table TABLE, whether they exist or not.
pub fn unguard_batch(table: &str, id: &str) -> Batch {
    let mut b = Batch::new();
    for chain in chain_names(id) {
        objects::delete_chain(&mut b, NETDEV, table, &chain);
    }
    b
}

/// [`unguard_batch`], applied from the helper program HELPER (see
/// [`crate::detached`]): deleting a base chain waits for the kernel.  Its
/// `ENOENT` means that the table is gone, and the chains with it.
pub fn start_unguard(helper: &CStr, table: &str, id: &str) -> Result<crate::detached::Pending> {
    socket::start(helper, unguard_batch(table, id))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn guard(isolated: bool) -> Guard<'static> {
        Guard {
            table: "t",
            id: "web",
            device: "swh0a000002",
            mac: [2, 0x73, 0x77, 0, 0, 2],
            address: Ipv4Addr::new(10, 0, 0, 2),
            gateway: Ipv4Addr::new(10, 0, 0, 1),
            prefix: 16,
            isolated,
        }
    }

    #[test]
    fn every_rule_checks_the_source_mac_and_accepts() {
        for isolated in [false, true] {
            for (parts, comment) in ingress_rules(&guard(isolated)) {
                assert_eq!(parts[0], expr::ether_saddr_is([2, 0x73, 0x77, 0, 0, 2]), "{comment}");
                assert_eq!(parts.last().unwrap(), &vec![Expr::Accept], "{comment}");
            }
        }
    }

    #[test]
    fn batches_have_one_message_per_step() {
        // Ingress: create, flush, 2 rules; no egress chain.
        assert_eq!(guard_batch(&guard(false)).len(), 4);
        // Ingress: create, flush, 3 rules; egress: create, flush, 2 rules.
        assert_eq!(guard_batch(&guard(true)).len(), 9);
        assert_eq!(unguard_batch("t", "web").len(), 6);
        let mut b = Batch::new();
        push_host_input(&mut b, "t", "br0", &[HostPort { protocol: Protocol::Udp, port: 53 }]);
        // The chain, replies, ping, one open port, the drop.
        assert_eq!(b.len(), 5);
    }
}
