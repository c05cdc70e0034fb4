//! The objects of a ruleset as nf_tables messages, for any address family
//! (`NFPROTO_IPV4` for NAT and the host's input, `NFPROTO_NETDEV` for the
//! guards on containers' veths): tables, base chains, rules, and the
//! idempotent idioms built from them.

use super::expr::Expr;
use super::message::{Batch, Message};
use super::sys::*;

/// The hook of a base chain: its number in FAMILY's hooks, its priority,
/// and, for the netdev family, the device it is bound to.
pub struct Hook<'a> {
    pub number: u32,
    pub priority: i32,
    pub device: Option<&'a str>,
}

/// A message of type KIND (`NFT_MSG_NEWTABLE`, `NFT_MSG_DELTABLE`) about
/// table TABLE of FAMILY.
pub fn table(kind: u32, flags: u32, family: u32, table: &str) -> Message {
    let mut m = Message::nft(kind, flags, family);
    m.string(NFTA_TABLE_NAME, table);
    m
}

/// Create (or update) the base chain CHAIN of type KIND (`filter`, `nat`)
/// on HOOK, whose verdict when no rule decides is POLICY.
pub fn base_chain(family: u32, table: &str, chain: &str, kind: &str, hook: &Hook, policy: u32) -> Message {
    let mut m = Message::nft(NFT_MSG_NEWCHAIN, NLM_F_CREATE, family);
    m.string(NFTA_CHAIN_TABLE, table).string(NFTA_CHAIN_NAME, chain);
    m.nest(NFTA_CHAIN_HOOK, |m| {
        m.u32(NFTA_HOOK_HOOKNUM, hook.number).u32(NFTA_HOOK_PRIORITY, hook.priority as u32);
        if let Some(device) = hook.device {
            m.string(NFTA_HOOK_DEV, device);
        }
    });
    m.u32(NFTA_CHAIN_POLICY, policy).string(NFTA_CHAIN_TYPE, kind);
    m
}

/// A message of type KIND about CHAIN: `NFT_MSG_NEWCHAIN` (a regular chain,
/// or no change to an existing one), `NFT_MSG_DELRULE` (flush it) or
/// `NFT_MSG_DELCHAIN`.
pub fn chain(kind: u32, family: u32, table: &str, chain: &str) -> Message {
    let flags = if kind == NFT_MSG_NEWCHAIN { NLM_F_CREATE } else { 0 };
    let mut m = Message::nft(kind, flags, family);
    if kind == NFT_MSG_DELRULE {
        m.string(NFTA_RULE_TABLE, table).string(NFTA_RULE_CHAIN, chain);
    } else {
        m.string(NFTA_CHAIN_TABLE, table).string(NFTA_CHAIN_NAME, chain);
    }
    m
}

/// A rule appended to CHAIN, made of the expressions in PARTS, with
/// COMMENT shown by `nft list ruleset`.
pub fn rule(family: u32, table: &str, chain: &str, parts: &[Vec<Expr>], comment: &str) -> Message {
    let mut m = Message::nft(NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, family);
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

/// Add to B the deletion of table TABLE of FAMILY, whether it exists or not
/// (it is created first, in the same transaction).
pub fn delete_table(b: &mut Batch, family: u32, name: &str) {
    b.push(table(NFT_MSG_NEWTABLE, NLM_F_CREATE, family, name), format!("create table {name}"));
    b.push(table(NFT_MSG_DELTABLE, 0, family, name), format!("delete table {name}"));
}

/// Add to B the replacement of table TABLE of FAMILY by an empty one.
pub fn replace_table(b: &mut Batch, family: u32, name: &str) {
    delete_table(b, family, name);
    b.push(table(NFT_MSG_NEWTABLE, NLM_F_CREATE | NLM_F_EXCL, family, name), format!("create table {name}"));
}

/// Add to B the deletion of CHAIN and its rules, whether it exists or not:
/// a chain that is missing is created first (a regular chain; an existing
/// base chain is left as it is), then flushed, then deleted.  The table
/// must exist.
pub fn delete_chain(b: &mut Batch, family: u32, table: &str, name: &str) {
    b.push(chain(NFT_MSG_NEWCHAIN, family, table, name), format!("create chain {name}"));
    b.push(chain(NFT_MSG_DELRULE, family, table, name), format!("flush chain {name}"));
    b.push(chain(NFT_MSG_DELCHAIN, family, table, name), format!("delete chain {name}"));
}
