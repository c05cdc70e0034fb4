//! Exports for [`crate::nft`]: Swineherd's NAT table and published ports.

use std::ffi::{c_char, c_int};

use super::detached::{hand_over, SwhPending};
use super::{borrow_str, boundary, ipv4, require_out};
use crate::error::Result;
use crate::nft::guard::{self, Guard, HostPort};
use crate::nft::nat::{self, Port};

/// Parse TEXT, one item per non-blank line, with PARSE.
fn parse_lines<T>(text: &str, parse: impl Fn(&str) -> Result<T>) -> Result<Vec<T>> {
    text.lines().filter(|line| !line.trim().is_empty()).map(parse).collect()
}

/// Turn IPv4 forwarding on and replace the nftables tables `ip TABLE` and
/// `netdev TABLE` with Swineherd's NAT and filters for BRIDGE (which must
/// exist) and SUBNET/PREFIX.  OPEN holds the host ports that containers
/// may reach, one per line: `PROTOCOL PORT`.
///
/// # Safety
/// TABLE, BRIDGE, SUBNET and OPEN must be NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn swh_nat_setup(
    table: *const c_char,
    bridge: *const c_char,
    subnet: *const c_char,
    prefix: u8,
    open: *const c_char,
) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("NAT setup", || unsafe {
        let open = parse_lines(borrow_str(open, "open host ports")?, HostPort::parse)?;
        let table = borrow_str(table, "table")?;
        nat::setup(table, borrow_str(bridge, "bridge")?, ipv4(subnet, "subnet")?, prefix, &open)?;
        Ok(0)
    })
}

/// Give the host side DEVICE of the veth of container ID, whose address is
/// ADDRESS in GATEWAY/PREFIX, its filters (ISOLATED if non-zero) in the
/// netdev table TABLE, replacing those it had.
///
/// # Safety
/// Every string must be NUL-terminated.
#[no_mangle]
pub unsafe extern "C" fn swh_guard(
    table: *const c_char,
    id: *const c_char,
    device: *const c_char,
    address: *const c_char,
    gateway: *const c_char,
    prefix: u8,
    isolated: c_int,
) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("guard container", || unsafe {
        let address = ipv4(address, "address")?;
        guard::guard(&Guard {
            table: borrow_str(table, "table")?,
            id: borrow_str(id, "id")?,
            device: borrow_str(device, "device")?,
            mac: crate::net::link::container_mac(address),
            address,
            gateway: ipv4(gateway, "gateway")?,
            prefix,
            isolated: isolated != 0,
        })?;
        Ok(0)
    })
}

/// Start removing the filters of container ID from the netdev table TABLE,
/// as `swh_nat_unpublish_start` does; `-ENOENT` from
/// `swh_detached_finish` means that the table is gone, and they with it.
///
/// # Safety
/// TABLE and ID must be NUL-terminated strings, OUT valid for writing one
/// `SwhPending`.
#[no_mangle]
pub unsafe extern "C" fn swh_guard_remove_start(
    table: *const c_char,
    id: *const c_char,
    out: *mut SwhPending,
) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("remove container filters", || unsafe {
        require_out(out, "remove container filters")?;
        hand_over(out, guard::start_unguard(borrow_str(table, "table")?, borrow_str(id, "id")?)?)
    })
}

/// Delete the nftables table `ip TABLE`; a missing one is fine.
///
/// # Safety
/// TABLE must be a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn swh_nat_teardown(table: *const c_char) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("NAT teardown", || unsafe {
        nat::teardown(borrow_str(table, "table")?)?;
        Ok(0)
    })
}

/// Publish the PORTS of container ID, whose address is ADDRESS, in table
/// `ip TABLE`, replacing what it published before.  PORTS holds one port
/// per line: `PROTOCOL HOST-PORT CONTAINER-PORT [HOST-ADDRESS]`.
///
/// # Safety
/// Every argument must be a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn swh_nat_publish(
    table: *const c_char,
    id: *const c_char,
    address: *const c_char,
    ports: *const c_char,
) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("publish ports", || unsafe {
        let ports = parse_lines(borrow_str(ports, "ports")?, Port::parse)?;
        nat::publish(borrow_str(table, "table")?, borrow_str(id, "id")?, ipv4(address, "address")?, &ports)?;
        Ok(0)
    })
}

/// Start removing what container ID published in the table TABLE, from a
/// child process that waits for the kernel in Shepherd's stead: return 1
/// and store in OUT its pidfd and the descriptor to pass on with it to
/// `swh_detached_finish`, whose `-ENOENT` means that the table is gone
/// (and the ports with it).
///
/// # Safety
/// TABLE and ID must be NUL-terminated strings, OUT valid for writing one
/// `SwhPending`.
#[no_mangle]
pub unsafe extern "C" fn swh_nat_unpublish_start(
    table: *const c_char,
    id: *const c_char,
    out: *mut SwhPending,
) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("unpublish ports", || unsafe {
        require_out(out, "unpublish ports")?;
        hand_over(out, nat::start_unpublish(borrow_str(table, "table")?, borrow_str(id, "id")?)?)
    })
}
