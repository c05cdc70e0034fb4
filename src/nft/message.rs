//! Netlink messages of the nf_tables subsystem: a builder for one message
//! (header, `nfgenmsg`, attributes, nested attributes) and a batch that
//! wraps messages between `NFNL_MSG_BATCH_BEGIN` and `NFNL_MSG_BATCH_END`,
//! which the kernel applies as one transaction: all or nothing.
//!
//! Layout (linux/netlink.h, linux/netfilter/nfnetlink.h): a 16-byte
//! `nlmsghdr` (length, type, flags, sequence number, port id), a 4-byte
//! `nfgenmsg` (family, version, resource id), then attributes, each a 4-byte
//! `nlattr` (length, type) and its payload padded to 4 bytes.  Integers in
//! nf_tables attributes are big-endian.

use super::sys::*;

const NLA_HDRLEN: usize = 4;

/// Round N up to netlink's 4-byte alignment.
pub(crate) const fn align(n: usize) -> usize {
    (n + 3) & !3
}

/// One netlink message being built.
pub struct Message {
    buf: Vec<u8>,
}

impl Message {
    /// A message of nf_tables type KIND (`NFT_MSG_NEWRULE`…) for the
    /// address family FAMILY, with netlink FLAGS besides `NLM_F_REQUEST`
    /// and `NLM_F_ACK`.
    pub fn nft(kind: u32, flags: u32, family: u32) -> Self {
        let kind = ((NFNL_SUBSYS_NFTABLES << 8) | kind) as u16;
        Self::new(kind, (NLM_F_REQUEST | NLM_F_ACK | flags) as u16, family as u8, 0)
    }

    fn new(kind: u16, flags: u16, family: u8, res_id: u16) -> Self {
        let mut buf = Vec::with_capacity(256);
        buf.extend_from_slice(&0u32.to_ne_bytes()); // length, set by `finish'
        buf.extend_from_slice(&kind.to_ne_bytes());
        buf.extend_from_slice(&flags.to_ne_bytes());
        buf.extend_from_slice(&0u32.to_ne_bytes()); // sequence number, set by `finish'
        buf.extend_from_slice(&0u32.to_ne_bytes()); // port id: the kernel
        buf.extend_from_slice(&[family, NFNETLINK_V0 as u8]);
        buf.extend_from_slice(&res_id.to_be_bytes());
        Message { buf }
    }

    /// Add the attribute KIND with payload DATA.
    pub fn bytes(&mut self, kind: u32, data: &[u8]) -> &mut Self {
        let len = NLA_HDRLEN + data.len();
        self.buf.extend_from_slice(&(len as u16).to_ne_bytes());
        self.buf.extend_from_slice(&(kind as u16).to_ne_bytes());
        self.buf.extend_from_slice(data);
        self.buf.resize(align(self.buf.len()), 0);
        self
    }

    /// Add the attribute KIND holding TEXT, NUL-terminated.
    pub fn string(&mut self, kind: u32, text: &str) -> &mut Self {
        let mut data = Vec::with_capacity(text.len() + 1);
        data.extend_from_slice(text.as_bytes());
        data.push(0);
        self.bytes(kind, &data)
    }

    /// Add the attribute KIND holding VALUE, big-endian.
    pub fn u32(&mut self, kind: u32, value: u32) -> &mut Self {
        self.bytes(kind, &value.to_be_bytes())
    }

    /// Add the nested attribute KIND, whose attributes BODY adds.
    pub fn nest(&mut self, kind: u32, body: impl FnOnce(&mut Self)) -> &mut Self {
        let start = self.buf.len();
        self.bytes(kind | NLA_F_NESTED, &[]);
        body(self);
        let len = (self.buf.len() - start) as u16;
        self.buf[start..start + 2].copy_from_slice(&len.to_ne_bytes());
        self
    }

    /// The message's bytes, with its length and sequence number SEQ.
    fn finish(mut self, seq: u32) -> Vec<u8> {
        let len = self.buf.len() as u32;
        self.buf[0..4].copy_from_slice(&len.to_ne_bytes());
        self.buf[8..12].copy_from_slice(&seq.to_ne_bytes());
        self.buf
    }
}

/// Messages for one transaction, each with a description for errors.
pub struct Batch {
    messages: Vec<(Message, String)>,
}

impl Batch {
    pub fn new() -> Self {
        Batch { messages: Vec::new() }
    }

    /// Append MESSAGE, described by WHAT (e.g. "create chain x") in errors.
    pub fn push(&mut self, message: Message, what: impl Into<String>) {
        self.messages.push((message, what.into()));
    }

    pub fn len(&self) -> usize {
        self.messages.len()
    }

    pub fn is_empty(&self) -> bool {
        self.messages.is_empty()
    }

    /// The bytes to send, the messages numbered from FIRST_SEQ + 1 (the
    /// batch's begin marker has FIRST_SEQ), and the description of each
    /// message by sequence number.
    pub fn encode(self, first_seq: u32) -> (Vec<u8>, Vec<(u32, String)>) {
        let res_id = NFNL_SUBSYS_NFTABLES as u16;
        let mut bytes = Message::new(NFNL_MSG_BATCH_BEGIN as u16, NLM_F_REQUEST as u16, 0, res_id).finish(first_seq);
        let mut described = Vec::with_capacity(self.messages.len());
        let mut seq = first_seq;
        for (message, what) in self.messages {
            seq = seq.wrapping_add(1);
            bytes.extend_from_slice(&message.finish(seq));
            described.push((seq, what));
        }
        let end = Message::new(NFNL_MSG_BATCH_END as u16, NLM_F_REQUEST as u16, 0, res_id);
        bytes.extend_from_slice(&end.finish(seq.wrapping_add(1)));
        (bytes, described)
    }
}

impl Default for Batch {
    fn default() -> Self {
        Self::new()
    }
}

/// A reply of the kernel: the sequence number it answers and its errno (0
/// for an acknowledgement), for each `NLMSG_ERROR` message in BYTES.
pub fn acks(bytes: &[u8]) -> Vec<(u32, i32)> {
    crate::detached::Acks::new(bytes).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_padded_and_nested_lengths_cover_their_content() {
        let mut m = Message::nft(NFT_MSG_NEWTABLE, NLM_F_CREATE, NFPROTO_IPV4);
        m.string(NFTA_TABLE_NAME, "ab");
        m.nest(NFTA_TABLE_USERDATA, |m| {
            m.u32(1, 0x01020304);
        });
        let bytes = m.finish(7);
        assert_eq!(u32::from_ne_bytes(bytes[0..4].try_into().unwrap()) as usize, bytes.len());
        assert_eq!(u16::from_ne_bytes([bytes[4], bytes[5]]), (10 << 8) as u16);
        assert_eq!(u32::from_ne_bytes(bytes[8..12].try_into().unwrap()), 7);
        assert_eq!(&bytes[16..20], &[NFPROTO_IPV4 as u8, 0, 0, 0]);
        // "ab\0" is 3 bytes: attribute length 7, padded to 8.
        assert_eq!(&bytes[20..28], &[7, 0, NFTA_TABLE_NAME as u8, 0, b'a', b'b', 0, 0]);
        // The nest: header (4) + one u32 attribute (8), NLA_F_NESTED set.
        assert_eq!(&bytes[28..32], &[12, 0, NFTA_TABLE_USERDATA as u8, 0x80]);
        assert_eq!(&bytes[32..40], &[8, 0, 1, 0, 1, 2, 3, 4]);
        assert_eq!(bytes.len(), 40);
    }

    #[test]
    fn a_batch_is_framed_by_begin_and_end_and_numbered() {
        let mut batch = Batch::new();
        batch.push(Message::nft(NFT_MSG_NEWTABLE, 0, NFPROTO_IPV4), "one");
        batch.push(Message::nft(NFT_MSG_DELTABLE, 0, NFPROTO_IPV4), "two");
        let (bytes, described) = batch.encode(100);
        assert_eq!(described, vec![(101, "one".to_string()), (102, "two".to_string())]);
        let types: Vec<u16> = frames(&bytes).iter().map(|f| u16::from_ne_bytes([f[4], f[5]])).collect();
        assert_eq!(types, vec![16, (10 << 8) as u16, (10 << 8 | 2) as u16, 17]);
        let begin = &frames(&bytes)[0];
        assert_eq!(&begin[18..20], &(10u16).to_be_bytes(), "res_id names the nf_tables subsystem");
    }

    #[test]
    fn acks_are_read_with_their_errno() {
        let mut reply = Vec::new();
        for (seq, error) in [(5u32, 0i32), (6, -libc::ENOENT)] {
            reply.extend_from_slice(&36u32.to_ne_bytes());
            reply.extend_from_slice(&(NLMSG_ERROR as u16).to_ne_bytes());
            reply.extend_from_slice(&0u16.to_ne_bytes());
            reply.extend_from_slice(&seq.to_ne_bytes());
            reply.extend_from_slice(&0u32.to_ne_bytes());
            reply.extend_from_slice(&error.to_ne_bytes());
            reply.extend_from_slice(&[0; 16]);
        }
        assert_eq!(acks(&reply), vec![(5, 0), (6, libc::ENOENT)]);
    }

    fn frames(bytes: &[u8]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut at = 0;
        while at < bytes.len() {
            let len = u32::from_ne_bytes(bytes[at..at + 4].try_into().unwrap()) as usize;
            out.push(bytes[at..at + len].to_vec());
            at += align(len);
        }
        out
    }
}
