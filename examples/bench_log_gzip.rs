//! Benchmark: gzip of one console log generation, as the logger's
//! compressor does it (`console::compress`), ROUNDS times.
//!
//! Usage: bench_log_gzip [MIB] [ROUNDS] (default 16 MiB, 5 rounds).  The
//! generation is made of log-like lines: a time, a counter, a message.

use std::io::Write;
use std::time::Instant;

use swineherd::console;

fn main() {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<usize>().expect("a number"));
    let mib = args.next().unwrap_or(16);
    let rounds = args.next().unwrap_or(5);
    let dir = std::env::temp_dir().join(format!("swh-bench-gzip-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let (plain, gz) = (dir.join("c.log.2"), dir.join("c.log.2.gz"));
    let mut text = Vec::with_capacity(mib << 20);
    let mut n = 0u64;
    while text.len() < mib << 20 {
        n += 1;
        writeln!(
            text,
            "2026-11-29 13:{:02}:{:02} web[{}] GET /item/{} 200 {} bytes in {} ms",
            n / 60 % 60,
            n % 60,
            100 + n % 7,
            n * 7919 % 100_003,
            n * 31 % 9000,
            n % 97
        )
        .unwrap();
    }
    let mut ms = Vec::new();
    for _ in 0..rounds {
        std::fs::write(&plain, &text).unwrap();
        let start = Instant::now();
        console::compress(&plain, &gz).unwrap();
        ms.push(start.elapsed().as_secs_f64() * 1000.0);
    }
    ms.sort_by(f64::total_cmp);
    let size = std::fs::metadata(&gz).unwrap().len();
    println!(
        "gzip of {} MiB of log lines: median {:.0} ms (min {:.0}, max {:.0}), {:.0} MiB/s, \
              {} bytes compressed ({:.1}%)",
        mib,
        ms[ms.len() / 2],
        ms[0],
        ms[ms.len() - 1],
        mib as f64 / ms[ms.len() / 2] * 1000.0,
        size,
        size as f64 * 100.0 / text.len() as f64
    );
    std::fs::remove_dir_all(dir).unwrap();
}
