//! swineherd-cgexec CGROUP -- COMMAND [ARG...]
//!
//! Join the cgroup CGROUP (relative, e.g. `swineherd/web`) in every
//! hierarchy, install the containers' seccomp filter (see
//! `src/seccomp.rs`), then exec COMMAND.  Shepherd spawns containers through it, so
//! a container's script — and everything it starts — runs in the
//! container's cgroup from its first instruction: no window in which a
//! process could escape, as moving a PID after the fact would leave.

use std::os::unix::process::CommandExt;
use std::process::{exit, Command};

use swineherd::cgroup::{self, Manager};

fn fail(message: String) -> ! {
    eprintln!("swineherd-cgexec: {message}");
    exit(127)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (cgroup, command) = match args.as_slice() {
        [cgroup, dashdash, command @ ..] if dashdash == "--" && !command.is_empty() => (cgroup, command),
        _ => fail("usage: swineherd-cgexec CGROUP -- COMMAND [ARG...]".into()),
    };
    let manager = cgroup::detect_here()
        .and_then(|layout| Manager::new(&layout, cgroup))
        .unwrap_or_else(|err| fail(err.to_string()));
    if let Err(err) = manager.join(std::process::id() as i32) {
        fail(err.to_string());
    }
    // No btrfs subvolumes inside: they would escape --disk-limit.
    if let Err(err) = swineherd::seccomp::install(&swineherd::seccomp::container_filter()) {
        fail(err.to_string());
    }
    let err = Command::new(&command[0]).args(&command[1..]).exec();
    fail(format!("cannot run {}: {err}", command[0]))
}
