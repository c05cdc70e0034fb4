//! Exports for [`crate::nft`]: Swineherd's NAT table and published ports.

use std::ffi::{c_char, c_int};

use super::detached::{hand_over, SwhPending};
use super::{borrow_str, boundary, ipv4, require_out};
use crate::error::Result;
use crate::nft::nat::{self, Port};

/// Turn IPv4 forwarding on and replace the nftables table `ip TABLE` with
/// Swineherd's NAT for BRIDGE (which must exist) and SUBNET/PREFIX.
///
/// # Safety
/// TABLE, BRIDGE and SUBNET must be NUL-terminated strings.
#[no_mangle]
pub unsafe extern "C" fn swh_nat_setup(
    table: *const c_char,
    bridge: *const c_char,
    subnet: *const c_char,
    prefix: u8,
) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("NAT setup", || unsafe {
        let table = borrow_str(table, "table")?;
        nat::setup(table, borrow_str(bridge, "bridge")?, ipv4(subnet, "subnet")?, prefix)?;
        Ok(0)
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
        let ports = borrow_str(ports, "ports")?
            .lines()
            .filter(|line| !line.trim().is_empty())
            .map(Port::parse)
            .collect::<Result<Vec<_>>>()?;
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
