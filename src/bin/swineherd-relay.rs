//! swineherd-relay PLAN COMMAND...
//! swineherd-relay REQUEST
//!
//! `exec`'s relay (see `src/exec/mod.rs`): libswineherd starts it from
//! Shepherd with the descriptors it opened, described by PLAN; it enters
//! the container, starts COMMAND with this process's environment, waits
//! for it and reports how it ended through the report pipe.  With a
//! REQUEST (`swineherd-netlink/1 …`), the helper of a detached netlink
//! request instead (see `src/detached.rs`).  Not to be run by hand.

use std::ffi::CString;
use std::os::unix::ffi::OsStringExt;

fn main() {
    let args = std::env::args_os()
        .skip(1)
        .map(|arg| CString::new(arg.into_vec()).expect("an argument holds no NUL"))
        .collect::<Vec<_>>();
    if args.first().is_some_and(|a| a.to_bytes().starts_with(swineherd::detached::TAG.as_bytes())) {
        swineherd::detached::helper_main(args)
    }
    swineherd::exec::relay_main(args)
}
