//! The `BTRFS_IOC_TREE_SEARCH` ioctl: read the items of one key type for
//! one object id from a btrfs tree (the root tree for subvolume references,
//! the quota tree for qgroups).  Needs CAP_SYS_ADMIN.

use std::os::fd::OwnedFd;
use std::path::Path;

use super::ioctl;
use super::sys::*;
use crate::error::Result;

/// One item found: its key's offset and its payload.
pub struct Item {
    pub offset: u64,
    pub data: Vec<u8>,
}

/// All items of TREE with object id OBJECTID and key type KIND, whose key
/// offset lies in OFFSETS, in key order.
pub fn items(
    fd: &OwnedFd,
    path: &Path,
    tree: u64,
    objectid: u64,
    kind: u32,
    offsets: std::ops::RangeInclusive<u64>,
) -> Result<Vec<Item>> {
    let mut found = Vec::new();
    let mut next = *offsets.start();
    loop {
        let mut args = btrfs_ioctl_search_args::default();
        let key = &mut args.key;
        key.tree_id = tree;
        key.min_objectid = objectid;
        key.max_objectid = objectid;
        key.min_type = kind;
        key.max_type = kind;
        key.min_offset = next;
        key.max_offset = *offsets.end();
        key.max_transid = u64::MAX;
        key.nr_items = 4096;
        ioctl(fd, BTRFS_IOC_TREE_SEARCH, &mut args, "search btrfs tree", path)?;
        let count = args.key.nr_items as usize;
        // SAFETY: ARGS.buf is an initialised array of c_char; viewed as bytes.
        let buf: &[u8] = unsafe { std::slice::from_raw_parts(args.buf.as_ptr().cast(), args.buf.len()) };
        let mut pos = 0;
        let header_size = std::mem::size_of::<btrfs_ioctl_search_header>();
        for _ in 0..count {
            // SAFETY: the kernel wrote a header at POS, within BUF (the
            // slicing panics otherwise, before the read); read_unaligned
            // copes with its alignment, and it is plain data.
            let header: btrfs_ioctl_search_header = unsafe { std::ptr::read_unaligned(buf[pos..].as_ptr().cast()) };
            pos += header_size;
            let len = header.len as usize;
            if header.objectid == objectid && header.type_ == kind {
                found.push(Item { offset: header.offset, data: buf[pos..pos + len].to_vec() });
            }
            pos += len;
            next = header.offset;
        }
        // The kernel stops when the buffer is full; go on after the last
        // offset seen, unless there was nothing (more) to find.
        if count == 0 || next == *offsets.end() {
            return Ok(found);
        }
        next += 1;
    }
}

/// Read a little-endian u64 at byte OFFSET of DATA (0 if DATA is short).
pub fn le64(data: &[u8], offset: usize) -> u64 {
    data.get(offset..offset + 8).map(|b| u64::from_le_bytes(b.try_into().unwrap())).unwrap_or(0)
}
