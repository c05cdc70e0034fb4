//! Exports for [`crate::net`].

use std::ffi::{c_char, c_int};
use std::net::IpAddr;
use std::path::Path;

use super::detached::{hand_over, helper_program, SwhPending};
use super::{borrow_str, boundary, copy_text, fill_array, ipv4, require_out, write_out};
use crate::error::{Error, Result};
use crate::net::{link, netns};

/// Create the bridge NAME if needed, set it up and give it ADDRESS/PREFIX.
///
/// # Safety
/// NAME and ADDRESS must be NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn swh_bridge_up(name: *const c_char, address: *const c_char, prefix: u8) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("bridge up", || unsafe {
        link::ensure_bridge(borrow_str(name, "bridge name")?, ipv4(address, "bridge address")?, prefix)?;
        Ok(0)
    })
}

/// Delete the link NAME; a missing link is fine.
///
/// # Safety
/// NAME must be a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn swh_link_delete(name: *const c_char) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("delete link", || unsafe {
        link::delete_link(borrow_str(name, "link name")?)?;
        Ok(0)
    })
}

/// Start deleting the link NAME if its alias is OWNER, from a process of
/// HELPER (the absolute file name of `swineherd-relay`) that waits for the
/// kernel in Shepherd's stead (see `swh_detached_finish`):
/// return 1 and store in OUT its pidfd, readable once it is done, and the
/// descriptor to pass on with it.  Return 0, leaving OUT alone, if there is
/// no link NAME or somebody else owns it.
///
/// # Safety
/// HELPER, NAME and OWNER must be NUL-terminated strings, OUT valid for
/// writing one `SwhPending`.
#[no_mangle]
pub unsafe extern "C" fn swh_link_delete_owned_start(
    helper: *const c_char,
    name: *const c_char,
    owner: *const c_char,
    out: *mut SwhPending,
) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("delete link", || unsafe {
        require_out(out, "delete link")?;
        match link::start_delete_owned(
            helper_program(helper)?,
            borrow_str(name, "link name")?,
            borrow_str(owner, "owner")?,
        )? {
            Some(pending) => hand_over(out, pending),
            None => Ok(0),
        }
    })
}

/// Write the alias of link NAME, which names its owner (empty if none), to
/// BUF, NUL-terminated, if it fits in LEN bytes; return its length
/// (without the NUL): if that is LEN or more, BUF was left alone and a
/// larger one is needed.  `-ENODEV` if there is no NAME.
///
/// # Safety
/// NAME must be a NUL-terminated string, BUF valid for writes of LEN bytes.
#[no_mangle]
pub unsafe extern "C" fn swh_link_owner(name: *const c_char, buf: *mut c_char, len: usize) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("link owner", || unsafe { copy_text(&link::owner_of(borrow_str(name, "link name")?)?, buf, len) })
}

/// Connect the container whose init is PID to BRIDGE through a veth pair
/// whose host side is HOST and whose other side is `eth0` inside, with
/// ADDRESS/PREFIX and a default route via GATEWAY.  HOST gets OWNER as its
/// alias: only links with that alias are deleted as the container's.
/// Before HOST is set up, it gets the filters of container ID (ISOLATED if
/// non-zero) in the netdev table TABLE, which must exist.
///
/// # Safety
/// Every string must be NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn swh_connect(
    pid: c_int,
    bridge: *const c_char,
    host: *const c_char,
    owner: *const c_char,
    address: *const c_char,
    prefix: u8,
    gateway: *const c_char,
    table: *const c_char,
    id: *const c_char,
    isolated: c_int,
) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("connect", || unsafe {
        let conn = link::Connection {
            bridge: borrow_str(bridge, "bridge")?,
            host: borrow_str(host, "host interface")?,
            owner: borrow_str(owner, "owner")?,
            address: ipv4(address, "address")?,
            prefix,
            gateway: ipv4(gateway, "gateway")?,
            filtering: Some(link::Filtering {
                table: borrow_str(table, "table")?,
                id: borrow_str(id, "id")?,
                isolated: isolated != 0,
            }),
        };
        link::connect(pid, &conn)?;
        Ok(0)
    })
}

/// Store in OUT the counters of link NAME.
///
/// # Safety
/// NAME must be a NUL-terminated string, OUT valid for writing one
/// `SwhLinkStats`.
#[no_mangle]
pub unsafe extern "C" fn swh_link_stats(name: *const c_char, out: *mut link::LinkStats) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("link statistics", || unsafe { write_out(out, link::stats(borrow_str(name, "link name")?)?) })
}

/// An address of a container, one item of what `swh_container_addresses`
/// fills.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SwhAddress {
    /// `AF_INET` or `AF_INET6`.
    pub family: u32,
    /// The prefix length.
    pub prefix: u32,
    /// The address in network byte order: its first 4 bytes for `AF_INET`.
    pub address: [u8; 16],
}

impl From<&(IpAddr, u8)> for SwhAddress {
    fn from(&(ip, prefix): &(IpAddr, u8)) -> SwhAddress {
        let mut address = [0; 16];
        let family = match ip {
            IpAddr::V4(v4) => {
                address[..4].copy_from_slice(&v4.octets());
                libc::AF_INET
            }
            IpAddr::V6(v6) => {
                address = v6.octets();
                libc::AF_INET6
            }
        };
        SwhAddress { family: family as u32, prefix: prefix.into(), address }
    }
}

/// A network link and its alias, one item of what `swh_links_owned_by`
/// fills; both NUL-terminated.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SwhOwnedLink {
    /// The link's name (at most 15 bytes).
    pub name: [u8; 16],
    /// The link's alias (at most 255 bytes).
    pub alias: [u8; 256],
}

/// TEXT, NUL-terminated in a field of N bytes, or `E2BIG` if it does not fit.
fn c_field<const N: usize>(text: &str) -> Result<[u8; N]> {
    let mut field = [0; N];
    if text.len() >= N || text.contains('\0') {
        return Err(Error::new("list links", libc::E2BIG).detail(format!("{text:?} does not fit in {} bytes", N - 1)));
    }
    field[..text.len()].copy_from_slice(text.as_bytes());
    Ok(field)
}

/// Fill ITEMS, an array of CAPACITY `SwhAddress`es, with the addresses of
/// the container whose init is PID (loopback excepted), as
/// `fill_array` does: the return value is their number, and ITEMS is
/// left alone if that is more than CAPACITY.
///
/// # Safety
/// ITEMS must be NULL or valid for writes of CAPACITY `SwhAddress`es.
#[no_mangle]
pub unsafe extern "C" fn swh_container_addresses(pid: c_int, items: *mut SwhAddress, capacity: usize) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("container addresses", || unsafe {
        let addresses: Vec<SwhAddress> = link::container_addresses(pid)?.iter().map(SwhAddress::from).collect();
        fill_array(&addresses, items, capacity)
    })
}

/// Fill ITEMS, an array of CAPACITY `SwhOwnedLink`s, with the links whose
/// alias starts with PREFIX, as `swh_container_addresses` does.
///
/// # Safety
/// PREFIX must be a NUL-terminated string, ITEMS NULL or valid for writes
/// of CAPACITY `SwhOwnedLink`s.
#[no_mangle]
pub unsafe extern "C" fn swh_links_owned_by(prefix: *const c_char, items: *mut SwhOwnedLink, capacity: usize) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("list links", || unsafe {
        let links = link::links_owned_by(borrow_str(prefix, "prefix")?)?
            .iter()
            .map(|(name, alias)| Ok(SwhOwnedLink { name: c_field(name)?, alias: c_field(alias)? }))
            .collect::<Result<Vec<_>>>()?;
        fill_array(&links, items, capacity)
    })
}

/// Fill LINKS and STATS, two arrays of CAPACITY items, with the links
/// whose alias starts with PREFIX and their counters (STATS[i] those of
/// LINKS[i]), from one dump of the links, as `swh_links_owned_by` does.
///
/// # Safety
/// PREFIX must be a NUL-terminated string, LINKS and STATS NULL or valid
/// for writes of CAPACITY `SwhOwnedLink`s and `SwhLinkStats`.
#[no_mangle]
pub unsafe extern "C" fn swh_owned_link_stats(
    prefix: *const c_char,
    links: *mut SwhOwnedLink,
    stats: *mut link::LinkStats,
    capacity: usize,
) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("link statistics", || unsafe {
        let found = link::owned_links(borrow_str(prefix, "prefix")?)?;
        let names = found
            .iter()
            .map(|(name, alias, _)| Ok(SwhOwnedLink { name: c_field(name)?, alias: c_field(alias)? }))
            .collect::<Result<Vec<_>>>()?;
        let counters: Vec<link::LinkStats> = found.iter().map(|(_, _, counters)| *counters).collect();
        if names.len() <= capacity {
            fill_array(&counters, stats, capacity)?;
        }
        fill_array(&names, links, capacity)
    })
}

/// Bind-mount the network namespace of PID on PATH (e.g. /run/netns/NAME).
///
/// # Safety
/// PATH must be a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn swh_netns_attach(pid: c_int, path: *const c_char) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("attach network namespace", || unsafe {
        netns::attach(pid, Path::new(borrow_str(path, "path")?))?;
        Ok(0)
    })
}

/// Unmount and remove PATH, made by `swh_netns_attach`; a missing PATH is
/// fine.
///
/// # Safety
/// PATH must be a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn swh_netns_detach(path: *const c_char) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("detach network namespace", || unsafe {
        netns::detach(Path::new(borrow_str(path, "path")?))?;
        Ok(0)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    #[test]
    fn addresses_convert() {
        let a = SwhAddress::from(&(IpAddr::V4(Ipv4Addr::new(10, 0, 0, 2)), 16));
        assert_eq!((a.family, a.prefix, &a.address[..5]), (libc::AF_INET as u32, 16, &[10, 0, 0, 2, 0][..]));
        let a = SwhAddress::from(&(IpAddr::V6(Ipv6Addr::LOCALHOST), 128));
        assert_eq!((a.family, a.address[15]), (libc::AF_INET6 as u32, 1));
    }

    #[test]
    fn fields_hold_what_fits() {
        assert_eq!(&c_field::<16>("veth0").unwrap()[..6], b"veth0\0");
        assert_eq!(c_field::<16>(&"x".repeat(16)).unwrap_err().errno, libc::E2BIG);
        assert_eq!(c_field::<16>("a\0b").unwrap_err().errno, libc::E2BIG);
    }
}
