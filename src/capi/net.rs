//! Exports for [`crate::net`].

use std::ffi::{c_char, c_int};
use std::path::Path;

use super::detached::{hand_over, SwhPending};
use super::{borrow_str, boundary, copy_text, ipv4, require_out, write_out};
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

/// Start deleting the link NAME if its alias is OWNER, from a child process
/// that waits for the kernel in Shepherd's stead (see `swh_detached_finish`):
/// return 1 and store in OUT its pidfd, readable once it is done, and the
/// descriptor to pass on with it.  Return 0, leaving OUT alone, if there is
/// no link NAME or somebody else owns it.
///
/// # Safety
/// NAME and OWNER must be NUL-terminated strings, OUT valid for writing one
/// `SwhPending`.
#[no_mangle]
pub unsafe extern "C" fn swh_link_delete_owned_start(
    name: *const c_char,
    owner: *const c_char,
    out: *mut SwhPending,
) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("delete link", || unsafe {
        require_out(out, "delete link")?;
        match link::start_delete_owned(borrow_str(name, "link name")?, borrow_str(owner, "owner")?)? {
            Some(pending) => hand_over(out, pending),
            None => Ok(0),
        }
    })
}

/// Write the alias of link NAME, which names its owner (empty if none), to
/// BUF as `swh_container_addresses` does; `-ENODEV` if there is no NAME.
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

/// Write the addresses of the container whose init is PID (loopback
/// excepted) to BUF as "ADDRESS/PREFIX\n" lines, NUL-terminated, if they fit
/// in LEN bytes.  Return the length of the text (without the NUL): if it
/// is LEN or more, BUF was left alone; call again with a larger buffer.
///
/// # Safety
/// BUF must be valid for writes of LEN bytes.
#[no_mangle]
pub unsafe extern "C" fn swh_container_addresses(pid: c_int, buf: *mut c_char, len: usize) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("container addresses", || unsafe {
        let text: String =
            link::container_addresses(pid)?.iter().map(|(ip, prefix)| format!("{ip}/{prefix}\n")).collect();
        copy_text(&text, buf, len)
    })
}

/// Write the links whose alias starts with PREFIX to BUF as "NAME ALIAS"
/// lines, as `swh_container_addresses` does.  Aliases with a space or a
/// newline are left out.
///
/// # Safety
/// PREFIX must be a NUL-terminated string, BUF valid for writes of LEN bytes.
#[no_mangle]
pub unsafe extern "C" fn swh_links_owned_by(prefix: *const c_char, buf: *mut c_char, len: usize) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("list links", || unsafe {
        let text: String = link::links_owned_by(borrow_str(prefix, "prefix")?)?
            .iter()
            .filter(|(_, alias)| !alias.contains([' ', '\n']))
            .map(|(name, alias)| format!("{name} {alias}\n"))
            .collect();
        copy_text(&text, buf, len)
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
