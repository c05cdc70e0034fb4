//! nf_tables expressions, the instructions of a rule's little register
//! machine, and the matches and actions Swineherd builds from them.  Each
//! helper says, in its doc comment, the `nft` syntax it stands for.
//!
//! Registers: `NFT_REG_1` and `NFT_REG_2` (16 bytes each).  Values that the
//! kernel stores in host byte order (ct status, fib's address type) are
//! compared in host byte order; packet data and ports in network order.

use std::net::Ipv4Addr;

use super::message::Message;
use super::sys::*;

/// One expression of a rule.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// `meta KEY` into DREG.
    Meta { key: u32, dreg: u32 },
    /// Compare SREG with DATA using OP (`NFT_CMP_EQ`, `NFT_CMP_NEQ`).
    Cmp { sreg: u32, op: u32, data: Vec<u8> },
    /// Load LEN bytes at OFFSET of header BASE into DREG.
    Payload { base: u32, offset: u32, len: u32, dreg: u32 },
    /// REG = (REG & MASK) ^ 0.
    Mask { reg: u32, mask: Vec<u8> },
    /// `ct KEY` into DREG.
    Ct { key: u32, dreg: u32 },
    /// `fib daddr type` into DREG.
    FibDaddrType { dreg: u32 },
    /// Load DATA into DREG.
    Immediate { dreg: u32, data: Vec<u8> },
    /// `dnat ip to` the address in ADDR_REG and the port in PORT_REG.
    Dnat { addr_reg: u32, port_reg: u32 },
    /// `masquerade`.
    Masquerade,
    /// `drop`.
    Drop,
    /// `accept`.
    Accept,
}

const IFNAMSIZ: usize = 16;

impl Expr {
    /// The kernel's name of this expression's type.
    fn name(&self) -> &'static str {
        match self {
            Expr::Meta { .. } => "meta",
            Expr::Cmp { .. } => "cmp",
            Expr::Payload { .. } => "payload",
            Expr::Mask { .. } => "bitwise",
            Expr::Ct { .. } => "ct",
            Expr::FibDaddrType { .. } => "fib",
            Expr::Immediate { .. } | Expr::Drop | Expr::Accept => "immediate",
            Expr::Dnat { .. } => "nat",
            Expr::Masquerade => "masq",
        }
    }

    /// Add this expression to M as one element of `NFTA_RULE_EXPRESSIONS`.
    pub fn encode(&self, m: &mut Message) {
        m.nest(NFTA_LIST_ELEM, |m| {
            m.string(NFTA_EXPR_NAME, self.name());
            m.nest(NFTA_EXPR_DATA, |m| self.encode_data(m));
        });
    }

    fn encode_data(&self, m: &mut Message) {
        match self {
            Expr::Meta { key, dreg } => {
                m.u32(NFTA_META_DREG, *dreg).u32(NFTA_META_KEY, *key);
            }
            Expr::Cmp { sreg, op, data } => {
                m.u32(NFTA_CMP_SREG, *sreg).u32(NFTA_CMP_OP, *op);
                m.nest(NFTA_CMP_DATA, |m| {
                    m.bytes(NFTA_DATA_VALUE, data);
                });
            }
            Expr::Payload { base, offset, len, dreg } => {
                m.u32(NFTA_PAYLOAD_DREG, *dreg)
                    .u32(NFTA_PAYLOAD_BASE, *base)
                    .u32(NFTA_PAYLOAD_OFFSET, *offset)
                    .u32(NFTA_PAYLOAD_LEN, *len);
            }
            Expr::Mask { reg, mask } => {
                m.u32(NFTA_BITWISE_SREG, *reg).u32(NFTA_BITWISE_DREG, *reg).u32(NFTA_BITWISE_LEN, mask.len() as u32);
                m.nest(NFTA_BITWISE_MASK, |m| {
                    m.bytes(NFTA_DATA_VALUE, mask);
                });
                m.nest(NFTA_BITWISE_XOR, |m| {
                    m.bytes(NFTA_DATA_VALUE, &vec![0; mask.len()]);
                });
            }
            Expr::Ct { key, dreg } => {
                m.u32(NFTA_CT_DREG, *dreg).u32(NFTA_CT_KEY, *key);
            }
            Expr::FibDaddrType { dreg } => {
                m.u32(NFTA_FIB_DREG, *dreg)
                    .u32(NFTA_FIB_RESULT, NFT_FIB_RESULT_ADDRTYPE)
                    .u32(NFTA_FIB_FLAGS, NFTA_FIB_F_DADDR);
            }
            Expr::Immediate { dreg, data } => {
                m.u32(NFTA_IMMEDIATE_DREG, *dreg);
                m.nest(NFTA_IMMEDIATE_DATA, |m| {
                    m.bytes(NFTA_DATA_VALUE, data);
                });
            }
            Expr::Drop | Expr::Accept => {
                let code = if *self == Expr::Drop { NF_DROP } else { NF_ACCEPT };
                m.u32(NFTA_IMMEDIATE_DREG, NFT_REG_VERDICT);
                m.nest(NFTA_IMMEDIATE_DATA, |m| {
                    m.nest(NFTA_DATA_VERDICT, |m| {
                        m.u32(NFTA_VERDICT_CODE, code);
                    });
                });
            }
            Expr::Dnat { addr_reg, port_reg } => {
                m.u32(NFTA_NAT_TYPE, NFT_NAT_DNAT)
                    .u32(NFTA_NAT_FAMILY, NFPROTO_IPV4)
                    .u32(NFTA_NAT_REG_ADDR_MIN, *addr_reg)
                    .u32(NFTA_NAT_REG_PROTO_MIN, *port_reg);
            }
            Expr::Masquerade => {}
        }
    }
}

/// The prefix mask of PREFIX bits, network order.
fn netmask(prefix: u8) -> [u8; 4] {
    let bits = if prefix == 0 { 0 } else { u32::MAX << (32 - u32::from(prefix.min(32))) };
    bits.to_be_bytes()
}

fn cmp_op(equal: bool) -> u32 {
    if equal {
        NFT_CMP_EQ
    } else {
        NFT_CMP_NEQ
    }
}

/// The bytes at OFFSET of header BASE equal DATA (EQUAL) or differ from it.
fn field(base: u32, offset: u32, equal: bool, data: &[u8]) -> Vec<Expr> {
    vec![
        Expr::Payload { base, offset, len: data.len() as u32, dreg: NFT_REG_1 },
        Expr::Cmp { sreg: NFT_REG_1, op: cmp_op(equal), data: data.to_vec() },
    ]
}

fn address_in(offset: u32, equal: bool, network: Ipv4Addr, prefix: u8) -> Vec<Expr> {
    let mask = netmask(prefix);
    let net: Vec<u8> = network.octets().iter().zip(mask).map(|(a, m)| a & m).collect();
    vec![
        Expr::Payload { base: NFT_PAYLOAD_NETWORK_HEADER, offset, len: 4, dreg: NFT_REG_1 },
        Expr::Mask { reg: NFT_REG_1, mask: mask.to_vec() },
        Expr::Cmp { sreg: NFT_REG_1, op: cmp_op(equal), data: net },
    ]
}

/// `ip saddr NETWORK/PREFIX`.
pub fn saddr_in(network: Ipv4Addr, prefix: u8) -> Vec<Expr> {
    address_in(12, true, network, prefix)
}

/// `ip daddr NETWORK/PREFIX` (EQUAL) or `ip daddr != NETWORK/PREFIX`.
pub fn daddr_in(equal: bool, network: Ipv4Addr, prefix: u8) -> Vec<Expr> {
    address_in(16, equal, network, prefix)
}

/// `ip daddr ADDRESS`.
pub fn daddr_is(address: Ipv4Addr) -> Vec<Expr> {
    field(NFT_PAYLOAD_NETWORK_HEADER, 16, true, &address.octets())
}

/// `ip saddr ADDRESS` (EQUAL) or `ip saddr != ADDRESS`.
pub fn saddr(equal: bool, address: Ipv4Addr) -> Vec<Expr> {
    field(NFT_PAYLOAD_NETWORK_HEADER, 12, equal, &address.octets())
}

/// `ether saddr MAC`.
pub fn ether_saddr_is(mac: [u8; 6]) -> Vec<Expr> {
    field(NFT_PAYLOAD_LL_HEADER, 6, true, &mac)
}

/// `ether type TYPE` (e.g. 0x0800 for IPv4, 0x0806 for ARP).
pub fn ether_type_is(ethertype: u16) -> Vec<Expr> {
    field(NFT_PAYLOAD_LL_HEADER, 12, true, &ethertype.to_be_bytes())
}

/// `ether daddr & 01:00:00:00:00:00 == 00:00:00:00:00:00`: a unicast
/// frame (the group bit of the first byte is clear).
pub fn ether_daddr_unicast() -> Vec<Expr> {
    vec![
        Expr::Payload { base: NFT_PAYLOAD_LL_HEADER, offset: 0, len: 1, dreg: NFT_REG_1 },
        Expr::Mask { reg: NFT_REG_1, mask: vec![1] },
        Expr::Cmp { sreg: NFT_REG_1, op: NFT_CMP_EQ, data: vec![0] },
    ]
}

/// `arp htype 1 arp ptype ip arp hlen 6 arp plen 4`: ARP for IPv4 over
/// Ethernet, whose address fields are where the matches below read them.
pub fn arp_ipv4_over_ethernet() -> Vec<Expr> {
    field(NFT_PAYLOAD_NETWORK_HEADER, 0, true, &[0, 1, 8, 0, 6, 4])
}

/// `arp saddr ether MAC`.
pub fn arp_sha_is(mac: [u8; 6]) -> Vec<Expr> {
    field(NFT_PAYLOAD_NETWORK_HEADER, 8, true, &mac)
}

/// `arp saddr ip ADDRESS` (EQUAL) or `arp saddr ip != ADDRESS`.
pub fn arp_spa(equal: bool, address: Ipv4Addr) -> Vec<Expr> {
    field(NFT_PAYLOAD_NETWORK_HEADER, 14, equal, &address.octets())
}

/// `arp daddr ip ADDRESS`.
pub fn arp_tpa_is(address: Ipv4Addr) -> Vec<Expr> {
    field(NFT_PAYLOAD_NETWORK_HEADER, 24, true, &address.octets())
}

/// `ct state established,related`: a reply, or traffic that a known
/// connection brings about (ICMP errors, FTP data…).
pub fn ct_established_or_related() -> Vec<Expr> {
    let bits = (1u32 << (IP_CT_ESTABLISHED + 1)) | (1u32 << (IP_CT_RELATED + 1));
    vec![
        Expr::Ct { key: NFT_CT_STATE, dreg: NFT_REG_1 },
        Expr::Mask { reg: NFT_REG_1, mask: bits.to_ne_bytes().to_vec() },
        Expr::Cmp { sreg: NFT_REG_1, op: NFT_CMP_NEQ, data: vec![0; 4] },
    ]
}

/// `icmp type echo-request`.
pub fn icmp_echo_request() -> Vec<Expr> {
    let mut exprs = vec![
        Expr::Meta { key: NFT_META_L4PROTO, dreg: NFT_REG_1 },
        Expr::Cmp { sreg: NFT_REG_1, op: NFT_CMP_EQ, data: vec![libc::IPPROTO_ICMP as u8] },
    ];
    exprs.extend(field(NFT_PAYLOAD_TRANSPORT_HEADER, 0, true, &[8]));
    exprs
}

fn ifname(key: u32, equal: bool, name: &str) -> Vec<Expr> {
    let mut data = name.as_bytes().to_vec();
    data.resize(IFNAMSIZ, 0);
    let op = if equal { NFT_CMP_EQ } else { NFT_CMP_NEQ };
    vec![Expr::Meta { key, dreg: NFT_REG_1 }, Expr::Cmp { sreg: NFT_REG_1, op, data }]
}

/// `oifname NAME` (EQUAL) or `oifname != NAME`.
pub fn oifname(equal: bool, name: &str) -> Vec<Expr> {
    ifname(NFT_META_OIFNAME, equal, name)
}

/// `iifname NAME`.
pub fn iifname(name: &str) -> Vec<Expr> {
    ifname(NFT_META_IIFNAME, true, name)
}

/// `ct status dnat`: the connection's destination was translated.
pub fn ct_dnat() -> Vec<Expr> {
    vec![
        Expr::Ct { key: NFT_CT_STATUS, dreg: NFT_REG_1 },
        Expr::Mask { reg: NFT_REG_1, mask: IPS_DST_NAT.to_ne_bytes().to_vec() },
        Expr::Cmp { sreg: NFT_REG_1, op: NFT_CMP_NEQ, data: vec![0; 4] },
    ]
}

/// `fib daddr type local`: the destination is one of the host's addresses.
pub fn daddr_local() -> Vec<Expr> {
    vec![
        Expr::FibDaddrType { dreg: NFT_REG_1 },
        Expr::Cmp { sreg: NFT_REG_1, op: NFT_CMP_EQ, data: RTN_LOCAL.to_ne_bytes().to_vec() },
    ]
}

/// `meta l4proto PROTOCOL th dport PORT` (PROTOCOL an IP protocol number).
pub fn l4_dport(protocol: u8, port: u16) -> Vec<Expr> {
    vec![
        Expr::Meta { key: NFT_META_L4PROTO, dreg: NFT_REG_1 },
        Expr::Cmp { sreg: NFT_REG_1, op: NFT_CMP_EQ, data: vec![protocol] },
        Expr::Payload { base: NFT_PAYLOAD_TRANSPORT_HEADER, offset: 2, len: 2, dreg: NFT_REG_1 },
        Expr::Cmp { sreg: NFT_REG_1, op: NFT_CMP_EQ, data: port.to_be_bytes().to_vec() },
    ]
}

/// `dnat ip to ADDRESS:PORT`.
pub fn dnat(address: Ipv4Addr, port: u16) -> Vec<Expr> {
    vec![
        Expr::Immediate { dreg: NFT_REG_1, data: address.octets().to_vec() },
        Expr::Immediate { dreg: NFT_REG_2, data: port.to_be_bytes().to_vec() },
        Expr::Dnat { addr_reg: NFT_REG_1, port_reg: NFT_REG_2 },
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn netmasks() {
        assert_eq!(netmask(16), [255, 255, 0, 0]);
        assert_eq!(netmask(8), [255, 0, 0, 0]);
        assert_eq!(netmask(30), [255, 255, 255, 252]);
        assert_eq!(netmask(0), [0, 0, 0, 0]);
    }

    #[test]
    fn subnet_match_compares_the_network_part_only() {
        let exprs = saddr_in(Ipv4Addr::new(10, 0, 0, 1), 16);
        assert_eq!(exprs[0], Expr::Payload { base: NFT_PAYLOAD_NETWORK_HEADER, offset: 12, len: 4, dreg: NFT_REG_1 });
        assert_eq!(exprs[2], Expr::Cmp { sreg: NFT_REG_1, op: NFT_CMP_EQ, data: vec![10, 0, 0, 0] });
    }

    #[test]
    fn interface_names_are_padded_to_ifnamsiz() {
        let exprs = oifname(false, "swineherd0");
        let Expr::Cmp { op, data, .. } = &exprs[1] else { panic!() };
        assert_eq!(*op, NFT_CMP_NEQ);
        assert_eq!(data.len(), 16);
        assert_eq!(&data[..11], b"swineherd0\0");
    }

    #[test]
    fn ports_are_in_network_order() {
        let exprs = l4_dport(6, 8080);
        assert_eq!(exprs[3], Expr::Cmp { sreg: NFT_REG_1, op: NFT_CMP_EQ, data: vec![0x1f, 0x90] });
        assert_eq!(dnat(Ipv4Addr::new(10, 0, 0, 2), 80)[1], Expr::Immediate { dreg: NFT_REG_2, data: vec![0, 80] });
    }
}
