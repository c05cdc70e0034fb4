//! swineherd-relay PLAN COMMAND...
//!
//! `exec`'s relay (see `src/exec/mod.rs`): libswineherd starts it from
//! Shepherd with the descriptors it opened, described by PLAN; it enters
//! the container, starts COMMAND with this process's environment, waits
//! for it and reports how it ended through the report pipe.  Not to be run
//! by hand.

use std::ffi::CString;
use std::os::unix::ffi::OsStringExt;

fn main() {
    let args = std::env::args_os()
        .skip(1)
        .map(|arg| CString::new(arg.into_vec()).expect("an argument holds no NUL"))
        .collect();
    swineherd::exec::relay_main(args)
}
