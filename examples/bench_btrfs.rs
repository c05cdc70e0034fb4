//! Benchmark: create + delete of a btrfs subvolume through the library's
//! ioctls vs the `btrfs` command, ROUNDS rounds each, in one run.
//!
//! Usage (root, DIR on btrfs): bench_btrfs DIR [ROUNDS]
//! bench/btrfs-subvolume runs it inside the sandbox on a loop device.

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use swineherd::btrfs;

fn stats(mut samples: Vec<Duration>) -> (Duration, Duration, Duration) {
    samples.sort();
    (samples[samples.len() / 2], samples[0], samples[samples.len() - 1])
}

fn run(label: &str, rounds: usize, mut round: impl FnMut(usize)) -> Duration {
    let samples: Vec<Duration> = (0..rounds)
        .map(|i| {
            let start = Instant::now();
            round(i);
            start.elapsed()
        })
        .collect();
    let (median, min, max) = stats(samples);
    println!("{label:<8} rounds={rounds} median={median:?} min={min:?} max={max:?}");
    median
}

fn cli(args: &[&str], path: &Path) {
    let status = Command::new("btrfs").args(args).arg(path).stdout(std::process::Stdio::null()).status().unwrap();
    assert!(status.success());
}

fn main() {
    let mut args = std::env::args().skip(1);
    let dir = args.next().expect("usage: bench_btrfs DIR [ROUNDS]");
    let rounds = args.next().map(|n| n.parse().unwrap()).unwrap_or(200);
    let dir = Path::new(&dir);
    let lib = run("library", rounds, |i| {
        let path = dir.join(format!("lib-{i}"));
        btrfs::create_subvolume(&path).unwrap();
        btrfs::delete_subvolume(&path).unwrap();
    });
    let cmd = run("cli", rounds, |i| {
        let path = dir.join(format!("cli-{i}"));
        cli(&["subvolume", "create"], &path);
        cli(&["subvolume", "delete"], &path);
    });
    println!("ratio cli/library (medians): {:.1}x", cmd.as_secs_f64() / lib.as_secs_f64());
}
