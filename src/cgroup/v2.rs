//! cgroup v2: one unified hierarchy; a container's cgroup is one directory
//! whose ancestors delegate the controllers it needs
//! (`cgroup.subtree_control`).

use std::path::{Path, PathBuf};

use super::{create_dir, keyed, kill_each, read, read_u64, remove_dir, write, Limits, Stats};
use crate::error::{Error, Result};

// Controller files.
const CONTROLLERS: &str = "cgroup.controllers";
const SUBTREE_CONTROL: &str = "cgroup.subtree_control";
const PROCS: &str = "cgroup.procs";
// Linux 5.14: writing 1 kills every process in the cgroup, atomically.
const KILL: &str = "cgroup.kill";
const CPU_MAX: &str = "cpu.max";
const CPU_WEIGHT: &str = "cpu.weight";
// Available without any controller enabled: usage_usec, user_usec, system_usec.
const CPU_STAT: &str = "cpu.stat";
const MEMORY_MAX: &str = "memory.max";
// In v2, swap is limited separately from memory (unlike v1's memsw).
const MEMORY_SWAP_MAX: &str = "memory.swap.max";
const MEMORY_CURRENT: &str = "memory.current";
const MEMORY_PEAK: &str = "memory.peak";
const MEMORY_EVENTS: &str = "memory.events";
const PIDS_MAX: &str = "pids.max";
const PIDS_CURRENT: &str = "pids.current";
// Provided by the blk-iocost controller (Debian's kernels have it).
const IO_WEIGHT: &str = "io.weight";
// One line per device: "MAJ:MIN rbytes=N wbytes=N rios=N wios=N ...".
const IO_STAT: &str = "io.stat";

/// The controllers Swineherd uses: exactly these are enabled in the
/// `cgroup.subtree_control` of a container's ancestors (where available).
const USED: [&str; 4] = ["cpu", "io", "memory", "pids"];

/// A container's cgroup in the unified hierarchy.
pub struct Cgroup {
    root: PathBuf,
    dir: PathBuf,
}

fn limit(value: Option<u64>) -> String {
    value.map_or("max".into(), |v| v.to_string())
}

/// The controllers a container with LIMITS cannot do without: cpu, memory
/// and pids always (its accounting and limits), io only for `--io-weight`
/// (without it, disk I/O is simply not accounted).
fn required(limits: &Limits) -> Vec<&'static str> {
    let mut needed = vec!["cpu", "memory", "pids"];
    if limits.io_weight.is_some() {
        needed.insert(1, "io");
    }
    needed
}

/// The error for controllers MISSING from DIR, which offers AVAILABLE;
/// ROOT is the hierarchy's root.
fn not_delegated(root: &Path, dir: &Path, missing: &[&str], available: &[String]) -> Error {
    let (them, are) = if missing.len() > 1 { ("them", "controllers are") } else { ("it", "controller is") };
    let what = format!("the {} {are}", missing.join(", "));
    let detail = match dir.parent() {
        Some(parent) if dir != root => {
            let plus: Vec<String> = missing.iter().map(|c| format!("+{c}")).collect();
            let control = parent.join(SUBTREE_CONTROL);
            format!(
                "{what} not delegated here (cgroup.controllers: \"{}\"); enable {them} with \
                 echo '{}' > {}, or give Swineherd a cgroup parent where {them} is",
                available.join(" "),
                plus.join(" "),
                control.display()
            )
        }
        _ => format!(
            "{what} not available in this cgroup2 hierarchy (cgroup.controllers: \"{}\"): cgroup v1 holds \
             {them}, or the kernel was booted without {them}; boot with cgroup_no_v1=all",
            available.join(" ")
        ),
    };
    Error::new("delegate cgroup controllers", libc::ENOTSUP).path(dir).detail(detail)
}

/// The sum of KEY (`rbytes`, `wbytes`) over the devices of an `io.stat`.
fn io_total(text: &str, key: &str) -> u64 {
    let prefix = format!("{key}=");
    text.lines()
        .flat_map(|line| line.split_whitespace().skip(1))
        .filter_map(|field| field.strip_prefix(&prefix)?.parse::<u64>().ok())
        .sum()
}

impl Cgroup {
    pub fn new(root: &Path, relative: &str) -> Self {
        Cgroup { root: root.to_path_buf(), dir: root.join(relative) }
    }

    pub fn directory(&self) -> &Path {
        &self.dir
    }

    /// The controllers available in DIR.
    fn available(dir: &Path) -> Vec<String> {
        read(dir, CONTROLLERS).map(|t| t.split_whitespace().map(String::from).collect()).unwrap_or_default()
    }

    /// Enable the controllers Swineherd uses in the subtree of every
    /// ancestor of the container's cgroup, from the root down; fail,
    /// naming them, if one that LIMITS need is not delegated.
    fn delegate(&self, limits: &Limits) -> Result<()> {
        let mut ancestors: Vec<&Path> =
            self.dir.ancestors().skip(1).take_while(|a| a.starts_with(&self.root)).collect();
        ancestors.reverse();
        for dir in ancestors {
            create_dir(dir)?;
            let available = Self::available(dir);
            let has = |c: &&str| available.iter().any(|a| a == *c);
            let missing: Vec<&str> = required(limits).into_iter().filter(|c| !has(c)).collect();
            if !missing.is_empty() {
                return Err(not_delegated(&self.root, dir, &missing, &available));
            }
            let enabled = read(dir, SUBTREE_CONTROL).unwrap_or_default();
            let enable: Vec<String> = USED
                .iter()
                .filter(|c| has(c) && !enabled.split_whitespace().any(|e| e == **c))
                .map(|c| format!("+{c}"))
                .collect();
            if !enable.is_empty() {
                write(dir, SUBTREE_CONTROL, &enable.join(" "))?;
            }
        }
        Ok(())
    }

    pub fn create(&self, limits: &Limits) -> Result<()> {
        self.delegate(limits)?;
        create_dir(&self.dir)?;
        write(&self.dir, MEMORY_MAX, &limit(limits.memory))?;
        // Without swap accounting (or without swap) the file is absent.
        match (limits.swap, self.dir.join(MEMORY_SWAP_MAX).exists()) {
            (_, true) => write(&self.dir, MEMORY_SWAP_MAX, &limit(limits.swap))?,
            (Some(_), false) => {
                return Err(Error::new("limit swap", libc::ENOTSUP)
                    .path(self.dir.join(MEMORY_SWAP_MAX))
                    .detail("this kernel accounts no swap (boot with swapaccount=1)"))
            }
            (None, false) => {}
        }
        let max = limits.cpu_quota.map_or("max 100000".into(), |(q, p)| format!("{q} {p}"));
        write(&self.dir, CPU_MAX, &max)?;
        write(&self.dir, CPU_WEIGHT, &limits.cpu_weight.unwrap_or(100).to_string())?;
        write(&self.dir, PIDS_MAX, &limit(limits.pids))?;
        match (limits.io_weight, self.dir.join(IO_WEIGHT).exists()) {
            (weight, true) => write(&self.dir, IO_WEIGHT, &format!("default {}", weight.unwrap_or(100)))?,
            (Some(_), false) => {
                return Err(Error::new("limit disk I/O", libc::ENOTSUP)
                    .path(self.dir.join(IO_WEIGHT))
                    .detail("this kernel has no io.weight (blk-iocost) for --io-weight"))
            }
            (None, false) => {}
        }
        Ok(())
    }

    pub fn join(&self, pid: i32) -> Result<()> {
        write(&self.dir, PROCS, &pid.to_string())
    }

    /// Processes the OOM killer killed in the cgroup: `oom_kill` of
    /// `memory.events` (0 without the memory controller).
    pub fn oom_kills(&self) -> Result<u64> {
        Ok(keyed(&read(&self.dir, MEMORY_EVENTS)?, "oom_kill").unwrap_or(0))
    }

    pub fn stats(&self) -> Result<Stats> {
        let cpu = read(&self.dir, CPU_STAT)?;
        let usec = |key| keyed(&cpu, key).unwrap_or(0) * 1000;
        let optional = |file| read_u64(&self.dir, file).unwrap_or(0);
        let io = read(&self.dir, IO_STAT).ok();
        Ok(Stats {
            cpu_total_ns: usec("usage_usec"),
            cpu_user_ns: usec("user_usec"),
            cpu_system_ns: usec("system_usec"),
            memory_current: optional(MEMORY_CURRENT),
            memory_peak: optional(MEMORY_PEAK),
            memory_limit: read_u64(&self.dir, MEMORY_MAX).unwrap_or(u64::MAX),
            pids_current: optional(PIDS_CURRENT),
            pids_limit: read_u64(&self.dir, PIDS_MAX).unwrap_or(u64::MAX),
            oom_kills: self.oom_kills().unwrap_or(0),
            io_read_bytes: io.as_deref().map_or(u64::MAX, |t| io_total(t, "rbytes")),
            io_write_bytes: io.as_deref().map_or(u64::MAX, |t| io_total(t, "wbytes")),
        })
    }

    /// Remove the cgroup; processes left in it are killed all at once
    /// through `cgroup.kill` (no PID to reuse in between), or one by one on
    /// kernels older than 5.14.
    pub fn remove(&self) -> Result<bool> {
        remove_dir(&self.dir, |dir| if dir.join(KILL).exists() { write(dir, KILL, "1") } else { kill_each(dir) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// A fixture unified hierarchy whose cgroups offer CONTROLLERS.
    fn fixture(name: &str, controllers: &str) -> PathBuf {
        let root = std::env::temp_dir().join(format!("swh-cg2-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("swineherd/web")).unwrap();
        for dir in [root.clone(), root.join("swineherd"), root.join("swineherd/web")] {
            fs::write(dir.join(CONTROLLERS), controllers).unwrap();
        }
        for file in [MEMORY_MAX, MEMORY_SWAP_MAX, CPU_MAX, CPU_WEIGHT, PIDS_MAX, IO_WEIGHT] {
            fs::write(root.join("swineherd/web").join(file), "").unwrap();
        }
        root
    }

    fn file(root: &Path, name: &str) -> String {
        fs::read_to_string(root.join(name)).unwrap()
    }

    #[test]
    fn delegates_exactly_the_used_controllers_and_writes_limits() {
        let root = fixture("limits", "cpuset cpu io memory pids rdma\n");
        fs::write(root.join(SUBTREE_CONTROL), "cpuset memory").unwrap();
        let cg = Cgroup::new(&root, "swineherd/web");
        let limits = Limits {
            memory: Some(64 << 20),
            swap: Some(0),
            cpu_quota: Some((50_000, 100_000)),
            cpu_weight: Some(200),
            pids: Some(50),
            io_weight: Some(300),
        };
        cg.create(&limits).unwrap();
        // Only what is not enabled yet is written (a fixture file keeps
        // the last write, not the kernel's set).
        assert_eq!(file(&root, SUBTREE_CONTROL), "+cpu +io +pids");
        assert_eq!(file(&root, "swineherd/cgroup.subtree_control"), "+cpu +io +memory +pids");
        assert_eq!(file(&root, "swineherd/web/memory.max"), (64u64 << 20).to_string());
        assert_eq!(file(&root, "swineherd/web/memory.swap.max"), "0");
        assert_eq!(file(&root, "swineherd/web/cpu.max"), "50000 100000");
        assert_eq!(file(&root, "swineherd/web/cpu.weight"), "200");
        assert_eq!(file(&root, "swineherd/web/pids.max"), "50");
        assert_eq!(file(&root, "swineherd/web/io.weight"), "default 300");
        cg.create(&Limits::default()).unwrap();
        assert_eq!(file(&root, "swineherd/web/memory.max"), "max");
        assert_eq!(file(&root, "swineherd/web/cpu.max"), "max 100000");
        assert_eq!(file(&root, "swineherd/web/io.weight"), "default 100");
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_controller_not_delegated_is_named_with_the_fix() {
        // A parent that does not get pids from the root (as when the root
        // of Shepherd's cgroup namespace was given none).
        let root = fixture("nopids", "cpu io memory pids\n");
        fs::write(root.join("swineherd").join(CONTROLLERS), "cpu io memory\n").unwrap();
        let err = Cgroup::new(&root, "swineherd/web").create(&Limits::default()).unwrap_err();
        assert_eq!(err.errno, libc::ENOTSUP);
        let text = err.to_string();
        assert!(text.contains("the pids controller is not delegated here"), "{text}");
        assert!(text.contains(&format!("echo '+pids' > {}", root.join(SUBTREE_CONTROL).display())), "{text}");
        // At the hierarchy's root: not available at all.
        let root = fixture("nomemory", "cpu pids\n");
        let err = Cgroup::new(&root, "swineherd/web").create(&Limits::default()).unwrap_err();
        assert!(err.to_string().contains("the memory controller is not available in this cgroup2 hierarchy"), "{err}");
        // io is needed only for --io-weight.
        let root = fixture("noio", "cpu memory pids\n");
        let cg = Cgroup::new(&root, "swineherd/web");
        cg.create(&Limits::default()).expect("io is optional");
        let err = cg.create(&Limits { io_weight: Some(10), ..Limits::default() }).unwrap_err();
        assert!(err.to_string().contains("the io controller is not available"), "{err}");
        for name in ["nopids", "nomemory", "noio"] {
            let _ = fs::remove_dir_all(std::env::temp_dir().join(format!("swh-cg2-{name}-{}", std::process::id())));
        }
    }

    #[test]
    fn stats_from_fixture_files() {
        let root = fixture("stats", "cpu memory pids\n");
        let dir = root.join("swineherd/web");
        fs::write(dir.join(CPU_STAT), "usage_usec 1500\nuser_usec 1000\nsystem_usec 500\n").unwrap();
        fs::write(dir.join(MEMORY_CURRENT), "4096\n").unwrap();
        fs::write(dir.join(MEMORY_PEAK), "8192\n").unwrap();
        fs::write(dir.join(MEMORY_MAX), "max\n").unwrap();
        fs::write(dir.join(MEMORY_EVENTS), "low 0\nhigh 0\nmax 3\noom 1\noom_kill 1\n").unwrap();
        fs::write(dir.join(PIDS_CURRENT), "3\n").unwrap();
        fs::write(dir.join(PIDS_MAX), "50\n").unwrap();
        let cg = Cgroup::new(&root, "swineherd/web");
        let stats = cg.stats().unwrap();
        assert_eq!((stats.cpu_total_ns, stats.cpu_user_ns, stats.cpu_system_ns), (1_500_000, 1_000_000, 500_000));
        assert_eq!((stats.memory_current, stats.memory_peak, stats.memory_limit), (4096, 8192, u64::MAX));
        assert_eq!((stats.pids_current, stats.pids_limit, stats.oom_kills), (3, 50, 1));
        assert_eq!((stats.io_read_bytes, stats.io_write_bytes), (u64::MAX, u64::MAX), "no io controller");
        fs::write(
            dir.join(IO_STAT),
            "254:0 rbytes=4096 wbytes=1000 rios=1 wios=2 dbytes=0 dios=0\n7:0 rbytes=1 wbytes=24 rios=1 wios=1 dbytes=0 dios=0\n",
        )
        .unwrap();
        let stats = cg.stats().unwrap();
        assert_eq!((stats.io_read_bytes, stats.io_write_bytes), (4097, 1024));
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn many_cgroups_in_one_call_with_the_gone_ones_as_none() {
        use crate::cgroup::{stats_many, Layout};
        let root = fixture("many", "cpu memory pids\n");
        fs::write(root.join("swineherd/web").join(CPU_STAT), "usage_usec 7\n").unwrap();
        let layout = Layout::Unified(root.clone());
        let stats = stats_many(&layout, &["swineherd/web", "swineherd/gone"]).unwrap();
        assert_eq!(stats[0].map(|s| s.cpu_total_ns), Some(7000));
        assert_eq!(stats[1], None, "a stopped container's cgroup is gone");
        assert!(stats_many(&layout, &["swineherd/web", "../escape"]).is_err(), "an invalid name fails the call");
        fs::remove_dir_all(root).unwrap();
    }
}
