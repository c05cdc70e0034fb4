//! Swineherd's primitives, for GNU Shepherd's manager of Guix System
//! containers.
//!
//! The crate is used from Guile through a C ABI (see [`capi`]): every
//! exported function runs behind a panic boundary, returns 0 (or a
//! non-negative value) on success and `-errno` on failure, writes its
//! out-parameters only on success, and leaves a message that the Scheme side
//! copies out with `swh_last_error`.  The library runs inside Shepherd, often
//! PID 1: it never aborts, never exits, installs no signal handler and leaves
//! no thread running when a call returns.
//!
//! One module per primitive; [`error`] is shared by all of them.

// Every unsafe operation sits in an `unsafe` block of its own, with a
// `SAFETY:` comment saying why it is sound there.
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod btrfs;
pub mod capi;
pub mod caps;
pub mod cgroup;
pub mod console;
pub mod detached;
pub mod error;
pub mod exec;
pub mod idshift;
pub mod inroot;
pub mod net;
pub mod nft;
pub mod peek;
pub mod process;
pub mod seccomp;
pub mod spawn;
pub mod state;
pub mod sys;
pub mod tree;
pub mod userns;

pub use error::{Error, Result};
