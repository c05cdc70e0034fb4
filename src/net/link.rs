//! Links and addresses: the bridge, a container's veth pair with its
//! address and default route, statistics, and the addresses a container
//! has.

use std::ffi::CStr;
use std::net::{IpAddr, Ipv4Addr};

use futures_util::TryStreamExt;
use rtnetlink::packet_route::address::{AddressAttribute, AddressScope};
use std::os::fd::{AsRawFd, OwnedFd};

use rtnetlink::packet_route::link::{InfoBridgePort, InfoData, InfoKind, InfoVeth, LinkAttribute, LinkMessage};
use rtnetlink::{LinkBridge, LinkBridgePort, LinkMessageBuilder, LinkUnspec, LinkVeth, RouteMessageBuilder};

use super::{netlink_error, netns, Netlink};
use crate::error::{Error, Result};
use crate::nft::guard::{self, Guard};
use crate::sys::check_ifname;

impl Netlink {
    /// The link named NAME, if there is one.
    pub fn link(&self, name: &str) -> Result<Option<LinkMessage>> {
        check_ifname(name)?;
        self.run(async {
            let mut links = self.handle.link().get().match_name(name.to_string()).execute();
            match links.try_next().await {
                Ok(link) => Ok(link),
                Err(rtnetlink::Error::NetlinkError(msg)) if msg.raw_code().abs() == libc::ENODEV => Ok(None),
                Err(err) => Err(netlink_error("get link", name, err)),
            }
        })
    }

    /// The index of the link named NAME, or `ENODEV`.
    pub fn index(&self, name: &str) -> Result<u32> {
        self.link(name)?.map(|link| link.header.index).ok_or_else(|| Error::new("get link", libc::ENODEV).path(name))
    }

    /// Set the link NAME up.
    pub fn up(&self, name: &str) -> Result<()> {
        let msg = LinkUnspec::new_with_name(name).up().build();
        self.run(self.handle.link().set(msg).execute()).map_err(|e| netlink_error("set link up", name, e))
    }

    /// Give the link NAME the alias ALIAS.
    pub fn set_alias(&self, name: &str, alias: &str) -> Result<()> {
        let mut msg = LinkUnspec::new_with_name(name).build();
        msg.attributes.push(LinkAttribute::IfAlias(alias.to_string()));
        self.run(self.handle.link().set(msg).execute()).map_err(|e| netlink_error("set link alias", name, e))
    }

    /// Let the bridge send frames that came in on its port NAME back out of
    /// it (`hairpin on`).  Needed when the bridge's packets go through the
    /// IP hooks (br_netfilter, `bridge-nf-call-iptables`): a container's
    /// connection to its own published port is translated back to the
    /// container while still being bridged, and leaves by the port it came
    /// in on.
    pub fn hairpin(&self, name: &str) -> Result<()> {
        let msg = LinkBridgePort::new(self.index(name)?).append_info_data(InfoBridgePort::HairpinMode(true)).build();
        self.run(self.handle.link().set_port(msg).execute()).map_err(|e| netlink_error("set hairpin mode", name, e))
    }

    /// Add ADDRESS/PREFIX to link NAME; an address already there is fine.
    pub fn add_address(&self, name: &str, address: Ipv4Addr, prefix: u8) -> Result<()> {
        let index = self.index(name)?;
        match self.run(self.handle.address().add(index, IpAddr::V4(address), prefix).execute()) {
            Err(rtnetlink::Error::NetlinkError(msg)) if msg.raw_code().abs() == libc::EEXIST => Ok(()),
            other => other.map_err(|e| netlink_error("add address", name, e)),
        }
    }

    /// Delete the link NAME; one that does not exist is fine.
    pub fn delete(&self, name: &str) -> Result<()> {
        let Some(link) = self.link(name)? else { return Ok(()) };
        match self.run(self.handle.link().del(link.header.index).execute()) {
            Err(rtnetlink::Error::NetlinkError(msg)) if msg.raw_code().abs() == libc::ENODEV => Ok(()),
            other => other.map_err(|e| netlink_error("delete link", name, e)),
        }
    }

    /// The global addresses of every link but loopback, as (address,
    /// prefix); link-local ones (fe80::/64) are left out.
    pub fn addresses(&self) -> Result<Vec<(IpAddr, u8)>> {
        let lo = self.link("lo")?.map(|link| link.header.index);
        self.run(async {
            let mut found = Vec::new();
            let mut stream = self.handle.address().get().execute();
            while let Some(msg) = stream.try_next().await.map_err(|e| netlink_error("list addresses", "*", e))? {
                if Some(msg.header.index) == lo || msg.header.scope != AddressScope::Universe {
                    continue;
                }
                for attr in &msg.attributes {
                    if let AddressAttribute::Address(ip) = attr {
                        found.push((*ip, msg.header.prefix_len));
                    }
                }
            }
            Ok(found)
        })
    }
}

/// Make sure the bridge NAME exists, is up and has ADDRESS/PREFIX.  An
/// existing bridge is reused.
pub fn ensure_bridge(name: &str, address: Ipv4Addr, prefix: u8) -> Result<()> {
    let nl = Netlink::here()?;
    if nl.link(name)?.is_none() {
        let msg = LinkBridge::new(name).up().build();
        match nl.run(nl.handle.link().add(msg).execute()) {
            Err(rtnetlink::Error::NetlinkError(m)) if m.raw_code().abs() == libc::EEXIST => {}
            other => other.map_err(|e| netlink_error("create bridge", name, e))?,
        }
    }
    nl.up(name)?;
    nl.add_address(name, address, prefix)
}

/// Delete the link NAME (a bridge, or a host-side veth, which takes its
/// peer with it).  A missing link is fine.
pub fn delete_link(name: &str) -> Result<()> {
    Netlink::here()?.delete(name)
}

/// What a container's connection is made of.
pub struct Connection<'a> {
    /// The bridge to enslave the host side to.
    pub bridge: &'a str,
    /// The host side's name; the container side is `eth0`.
    pub host: &'a str,
    /// The host side's alias, which says who owns it (see [`owner_of`]).
    pub owner: &'a str,
    pub address: Ipv4Addr,
    pub prefix: u8,
    pub gateway: Ipv4Addr,
    /// The filters on the host side (see [`crate::nft::guard`]), made
    /// before it is set up; `None` only in tests and benchmarks.
    pub filtering: Option<Filtering<'a>>,
}

/// Which filters a container's veth gets: those of container ID, in
/// Swineherd's netdev table TABLE, ISOLATED or not.
#[derive(Debug, Clone, Copy)]
pub struct Filtering<'a> {
    pub table: &'a str,
    pub id: &'a str,
    pub isolated: bool,
}

impl Connection<'_> {
    /// The guard of this connection's host side, if it has filters.
    pub fn guard(&self) -> Option<Guard<'_>> {
        self.filtering.map(|f| Guard {
            table: f.table,
            id: f.id,
            device: self.host,
            mac: container_mac(self.address),
            address: self.address,
            gateway: self.gateway,
            prefix: self.prefix,
            isolated: f.isolated,
        })
    }
}

/// Connect the container whose init is PID: a veth pair whose host side is
/// on the bridge and whose other side is `eth0` in the container's
/// namespace — made by one request, so that no device ever has to move
/// between namespaces — then its filters, then the host side up (so that
/// nothing passes unfiltered), then, inside, `lo` and `eth0` up, the
/// address and a default route via the gateway.  On failure, what was
/// made is removed (the filters go with the device, and with
/// [`crate::nft::guard::start_unguard`]).
pub fn connect(pid: i32, conn: &Connection) -> Result<()> {
    check_ifname(conn.host)?;
    let netns = netns::of_pid(pid)?;
    let host = Netlink::here()?;
    let bridge = host.index(conn.bridge)?;
    // The peer cannot be set up in the same request (the kernel refuses
    // with ENOTCONN while the pair is being made): it is set up inside.
    let peer = LinkUnspec::new_with_name("eth0")
        .setns_by_fd(netns.as_raw_fd())
        .address(container_mac(conn.address).to_vec())
        .build();
    let msg = LinkMessageBuilder::<LinkVeth>::new_with_info_kind(InfoKind::Veth)
        .name(conn.host.to_string())
        .controller(bridge)
        .set_info_data(InfoData::Veth(InfoVeth::Peer(peer)))
        .build();
    host.run(host.handle.link().add(msg).execute()).map_err(|e| netlink_error("create veth", conn.host, e))?;
    // The kernel ignores IFLA_IFALIAS in a request that creates a link.
    let result = host
        .set_alias(conn.host, conn.owner)
        .and_then(|()| host.hairpin(conn.host))
        .and_then(|()| conn.guard().map_or(Ok(()), |g| guard::guard(&g)))
        .and_then(|()| host.up(conn.host))
        .and_then(|()| configure_inside(&netns, conn));
    if result.is_err() {
        let _ = host.delete(conn.host);
    }
    result
}

/// The MAC address of the `eth0` of the container with ADDRESS: locally
/// administered (02:…), derived from the address (its low 24 bits, which
/// subnets of /8 or smaller keep unique), so that it is the same after a
/// `down` and an `up`: a random one would leave the host's neighbour entry
/// pointing at the old MAC, and the container unreachable until it expires.
pub fn container_mac(address: Ipv4Addr) -> [u8; 6] {
    let o = address.octets();
    [0x02, 0x73, 0x77, o[1], o[2], o[3]]
}

/// Inside the container's namespace: `lo` and `eth0` up, the address on
/// `eth0` and the default route.
fn configure_inside(netns: &OwnedFd, conn: &Connection) -> Result<()> {
    let inside = Netlink::inside(netns)?;
    inside.up("lo")?;
    inside.up("eth0")?;
    inside.add_address("eth0", conn.address, conn.prefix)?;
    let route = RouteMessageBuilder::<Ipv4Addr>::new().gateway(conn.gateway).build();
    match inside.run(inside.handle.route().add(route).execute()) {
        Err(rtnetlink::Error::NetlinkError(m)) if m.raw_code().abs() == libc::EEXIST => Ok(()),
        other => other.map_err(|e| netlink_error("add default route", &conn.gateway.to_string(), e)),
    }
}

/// The counters of a network link, from `swh_link_stats`.
// The C ABI's struct itself, `SwhLinkStats` in the header (cbindgen.toml
// renames it): one definition, no copy field by field.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct LinkStats {
    pub rx_bytes: u64,
    pub tx_bytes: u64,
    pub rx_packets: u64,
    pub tx_packets: u64,
    pub rx_dropped: u64,
    pub tx_dropped: u64,
}

/// The counters of the link NAME, or `ENODEV`.
pub fn stats(name: &str) -> Result<LinkStats> {
    let link = Netlink::here()?.link(name)?.ok_or_else(|| Error::new("link statistics", libc::ENODEV).path(name))?;
    counters(&link).ok_or_else(|| Error::new("link statistics", libc::ENODATA).path(name))
}

/// The 64-bit counters of LINK, if the kernel sent them.
fn counters(link: &LinkMessage) -> Option<LinkStats> {
    link.attributes.iter().find_map(|attr| match attr {
        LinkAttribute::Stats64(s) => Some(LinkStats {
            rx_bytes: s.rx_bytes,
            tx_bytes: s.tx_bytes,
            rx_packets: s.rx_packets,
            tx_packets: s.tx_packets,
            rx_dropped: s.rx_dropped,
            tx_dropped: s.tx_dropped,
        }),
        _ => None,
    })
}

fn alias(link: &LinkMessage) -> Option<&str> {
    link.attributes.iter().find_map(|attr| match attr {
        LinkAttribute::IfAlias(alias) => Some(alias.as_str()),
        _ => None,
    })
}

fn name(link: &LinkMessage) -> Option<&str> {
    link.attributes.iter().find_map(|attr| match attr {
        LinkAttribute::IfName(name) => Some(name.as_str()),
        _ => None,
    })
}

/// The alias of the link NAME, which names its owner (empty if it has
/// none), or `ENODEV`.
pub fn owner_of(name: &str) -> Result<String> {
    let link = Netlink::here()?.link(name)?.ok_or_else(|| Error::new("get link", libc::ENODEV).path(name))?;
    Ok(alias(&link).unwrap_or_default().to_string())
}

/// An `RTM_DELLINK` request for the link with INDEX, asking for an
/// acknowledgement.
fn delete_request(index: u32) -> Vec<u8> {
    use rtnetlink::packet_core::{NetlinkMessage, NLM_F_ACK, NLM_F_REQUEST};
    use rtnetlink::packet_route::RouteNetlinkMessage;
    let mut link = LinkMessage::default();
    link.header.index = index;
    let mut msg = NetlinkMessage::from(RouteNetlinkMessage::DelLink(link));
    msg.header.flags = NLM_F_REQUEST | NLM_F_ACK;
    msg.header.sequence_number = 1;
    msg.finalize();
    let mut bytes = vec![0; msg.buffer_len()];
    msg.serialize(&mut bytes);
    bytes
}

/// Start deleting the link NAME if OWNER owns it, from the helper program
/// HELPER (see [`crate::detached`]: the kernel's RCU wait is the helper's,
/// not the caller's).  `None` if there is nothing of OWNER's to delete.
pub fn start_delete_owned(helper: &CStr, name: &str, owner: &str) -> Result<Option<crate::detached::Pending>> {
    let nl = Netlink::here()?;
    match nl.link(name)? {
        Some(link) if alias(&link) == Some(owner) => {
            let socket = netns::netlink_socket().map_err(|e| Error::io("open netlink socket", "NETLINK_ROUTE", &e))?;
            let pending = crate::detached::start(helper, socket, &delete_request(link.header.index), 1)
                .map_err(|e| e.path(name))?;
            Ok(Some(pending))
        }
        _ => Ok(None),
    }
}

/// Delete the link NAME if its owner (its alias) is OWNER; one that does
/// not exist, or that belongs to somebody else, is left alone.  Blocks
/// until done: [`start_delete_owned`] with HELPER, then
/// [`crate::detached::wait`].
pub fn delete_owned_link(helper: &CStr, name: &str, owner: &str) -> Result<()> {
    match start_delete_owned(helper, name, owner)? {
        Some(pending) => match crate::detached::wait(&pending) {
            Err(err) if err.errno == libc::ENODEV => Ok(()),
            other => other,
        },
        None => Ok(()),
    }
}

/// The links of the caller's namespace whose alias starts with PREFIX, as
/// (name, alias).
pub fn links_owned_by(prefix: &str) -> Result<Vec<(String, String)>> {
    Ok(owned_links(prefix)?.into_iter().map(|(name, alias, _)| (name, alias)).collect())
}

/// The links whose alias starts with PREFIX, as (name, alias, counters),
/// from ONE dump of the links, however many there are (`GET /metrics`
/// reads every container's veth at once); counters the kernel did not send
/// are zero.
pub fn owned_links(prefix: &str) -> Result<Vec<(String, String, LinkStats)>> {
    let nl = Netlink::here()?;
    nl.run(async {
        let mut found = Vec::new();
        let mut links = nl.handle.link().get().execute();
        while let Some(link) = links.try_next().await.map_err(|e| netlink_error("list links", prefix, e))? {
            if let (Some(name), Some(alias)) = (name(&link), alias(&link)) {
                if alias.starts_with(prefix) {
                    found.push((name.to_string(), alias.to_string(), counters(&link).unwrap_or_default()));
                }
            }
        }
        Ok(found)
    })
}

/// The addresses of the container whose init is PID, loopback excepted.
pub fn container_addresses(pid: i32) -> Result<Vec<(IpAddr, u8)>> {
    Netlink::inside(&netns::of_pid(pid)?)?.addresses()
}
