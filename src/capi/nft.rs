//! Exports for [`crate::nft`]: Swineherd's NAT table and published ports.

use std::ffi::{c_char, c_int};

use std::net::Ipv4Addr;

use super::detached::{hand_over, helper_program, SwhPending};
use super::{borrow_array, borrow_str, boundary, ipv4, require_out};
use crate::error::{Error, Result};
use crate::nft::guard::{self, Guard, HostPort};
use crate::nft::nat::{self, Port, Protocol};

/// A host port that containers may reach, one item of the array that
/// `swh_nat_setup` takes.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SwhHostPort {
    /// `IPPROTO_TCP` or `IPPROTO_UDP`.
    pub protocol: u16,
    /// The port, 1 to 65535.
    pub port: u16,
}

/// A published port, one item of the array that `swh_nat_publish` takes.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SwhPort {
    /// `IPPROTO_TCP` or `IPPROTO_UDP`.
    pub protocol: u32,
    /// The host address that receives the connections, in host byte order;
    /// 0 for all of the host's addresses.
    pub host_address: u32,
    /// The port on the host, 1 to 65535.
    pub host_port: u16,
    /// The port in the container it leads to, 1 to 65535.
    pub container_port: u16,
}

/// The protocol numbered NUMBER (`IPPROTO_*`), or `EINVAL` naming WHAT.
fn protocol(number: u32, what: &str) -> Result<Protocol> {
    Protocol::from_number(number).ok_or_else(|| {
        Error::new("check ports", libc::EINVAL)
            .detail(format!("{what}: protocol {number} is neither TCP (6) nor UDP (17)"))
    })
}

/// PORT, which must not be 0, or `EINVAL` naming WHAT.
fn port_number(port: u16, what: &str) -> Result<u16> {
    if port == 0 {
        return Err(Error::new("check ports", libc::EINVAL).detail(format!("{what}: port 0")));
    }
    Ok(port)
}

impl TryFrom<&SwhHostPort> for HostPort {
    type Error = Error;
    fn try_from(c: &SwhHostPort) -> Result<HostPort> {
        let what = format!("open host port {}", c.port);
        Ok(HostPort { protocol: protocol(c.protocol.into(), &what)?, port: port_number(c.port, &what)? })
    }
}

impl TryFrom<&SwhPort> for Port {
    type Error = Error;
    fn try_from(c: &SwhPort) -> Result<Port> {
        let what = format!("published port {}:{}", c.host_port, c.container_port);
        Ok(Port {
            protocol: protocol(c.protocol, &what)?,
            host_address: (c.host_address != 0).then(|| Ipv4Addr::from(c.host_address)),
            host_port: port_number(c.host_port, &what)?,
            container_port: port_number(c.container_port, &what)?,
        })
    }
}

/// The COUNT items of the caller's array ITEMS, checked and converted.
///
/// # Safety
/// As for [`borrow_array`].
unsafe fn convert_array<'a, C, T>(items: *const C, count: usize, what: &'static str) -> Result<Vec<T>>
where
    C: 'a,
    T: TryFrom<&'a C, Error = Error>,
{
    // SAFETY: ITEMS and COUNT are as `borrow_array` requires, by this
    // function's contract.
    unsafe { borrow_array(items, count, what) }?.iter().map(T::try_from).collect()
}

/// Turn IPv4 forwarding on and replace the nftables tables `ip TABLE` and
/// `netdev TABLE` with Swineherd's NAT and filters for BRIDGE (which must
/// exist) and SUBNET/PREFIX.  OPEN holds the OPEN_COUNT host ports that
/// containers may reach.
///
/// # Safety
/// TABLE, BRIDGE and SUBNET must be NUL-terminated strings, OPEN valid for
/// reads of OPEN_COUNT `SwhHostPort`s (or NULL if OPEN_COUNT is 0).
#[no_mangle]
pub unsafe extern "C" fn swh_nat_setup(
    table: *const c_char,
    bridge: *const c_char,
    subnet: *const c_char,
    prefix: u8,
    open: *const SwhHostPort,
    open_count: usize,
) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("NAT setup", || unsafe {
        let open: Vec<HostPort> = convert_array(open, open_count, "open host ports")?;
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
/// from a process of HELPER,
/// as `swh_nat_unpublish_start` does; `-ENOENT` from
/// `swh_detached_finish` means that the table is gone, and they with it.
///
/// # Safety
/// HELPER, TABLE and ID must be NUL-terminated strings, OUT valid for
/// writing one `SwhPending`.
#[no_mangle]
pub unsafe extern "C" fn swh_guard_remove_start(
    helper: *const c_char,
    table: *const c_char,
    id: *const c_char,
    out: *mut SwhPending,
) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("remove container filters", || unsafe {
        require_out(out, "remove container filters")?;
        hand_over(
            out,
            guard::start_unguard(helper_program(helper)?, borrow_str(table, "table")?, borrow_str(id, "id")?)?,
        )
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
/// `ip TABLE`, replacing what it published before: the COUNT items of
/// PORTS.
///
/// # Safety
/// TABLE, ID and ADDRESS must be NUL-terminated strings, PORTS valid for
/// reads of COUNT `SwhPort`s (or NULL if COUNT is 0).
#[no_mangle]
pub unsafe extern "C" fn swh_nat_publish(
    table: *const c_char,
    id: *const c_char,
    address: *const c_char,
    ports: *const SwhPort,
    count: usize,
) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("publish ports", || unsafe {
        let ports: Vec<Port> = convert_array(ports, count, "published ports")?;
        nat::publish(borrow_str(table, "table")?, borrow_str(id, "id")?, ipv4(address, "address")?, &ports)?;
        Ok(0)
    })
}

/// Start removing what container ID published in the table TABLE, from a
/// process of HELPER (the absolute file name of `swineherd-relay`) that
/// waits for the kernel in Shepherd's stead: return 1
/// and store in OUT its pidfd and the descriptor to pass on with it to
/// `swh_detached_finish`, whose `-ENOENT` means that the table is gone
/// (and the ports with it).
///
/// # Safety
/// HELPER, TABLE and ID must be NUL-terminated strings, OUT valid for
/// writing one `SwhPending`.
#[no_mangle]
pub unsafe extern "C" fn swh_nat_unpublish_start(
    helper: *const c_char,
    table: *const c_char,
    id: *const c_char,
    out: *mut SwhPending,
) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("unpublish ports", || unsafe {
        require_out(out, "unpublish ports")?;
        hand_over(
            out,
            nat::start_unpublish(helper_program(helper)?, borrow_str(table, "table")?, borrow_str(id, "id")?)?,
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ports_convert() {
        let c = [SwhPort { protocol: 6, host_address: 0, host_port: 8080, container_port: 80 }];
        // SAFETY: C is an array of one item.
        let ports: Vec<Port> = unsafe { convert_array(c.as_ptr(), 1, "ports") }.unwrap();
        assert_eq!(ports, [Port { protocol: Protocol::Tcp, host_address: None, host_port: 8080, container_port: 80 }]);
        let c = SwhPort { protocol: 17, host_address: 0x7f00_0001, host_port: 53, container_port: 5353 };
        assert_eq!(Port::try_from(&c).unwrap().host_address, Some(Ipv4Addr::LOCALHOST));
        let c = SwhHostPort { protocol: 17, port: 53 };
        assert_eq!(HostPort::try_from(&c).unwrap(), HostPort { protocol: Protocol::Udp, port: 53 });
    }

    #[test]
    fn bad_ports_are_refused() {
        for (protocol, host_port, container_port) in [(132, 80, 80), (6, 0, 80), (6, 80, 0)] {
            let c = SwhPort { protocol, host_address: 0, host_port, container_port };
            assert_eq!(Port::try_from(&c).unwrap_err().errno, libc::EINVAL, "{c:?}");
        }
        for (protocol, port) in [(0, 53), (17, 0)] {
            let c = SwhHostPort { protocol, port };
            assert_eq!(HostPort::try_from(&c).unwrap_err().errno, libc::EINVAL, "{c:?}");
        }
    }

    #[test]
    fn empty_and_null_arrays() {
        // SAFETY: a NULL array of no items is allowed.
        let none: Vec<Port> = unsafe { convert_array(std::ptr::null::<SwhPort>(), 0, "ports") }.unwrap();
        assert!(none.is_empty());
        // SAFETY: the NULL is refused before any read.
        let err = unsafe { convert_array::<SwhPort, Port>(std::ptr::null(), 2, "ports") }.unwrap_err();
        assert_eq!(err.errno, libc::EINVAL);
    }
}
