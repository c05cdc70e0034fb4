//! cgroup v2: one unified hierarchy; a container's cgroup is one directory
//! whose parent delegates the controllers it needs (`cgroup.subtree_control`).

use std::path::{Path, PathBuf};

use super::{create_dir, keyed, read, read_u64, remove_dir, write, Limits, Stats};
use crate::error::Result;

// Controller files.
const CONTROLLERS: &str = "cgroup.controllers";
const SUBTREE_CONTROL: &str = "cgroup.subtree_control";
const PROCS: &str = "cgroup.procs";
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

/// The controllers a container's cgroup needs.
const WANTED: [&str; 3] = ["cpu", "memory", "pids"];

/// A container's cgroup in the unified hierarchy.
pub struct Cgroup {
    root: PathBuf,
    dir: PathBuf,
}

fn limit(value: Option<u64>) -> String {
    value.map_or("max".into(), |v| v.to_string())
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

    /// Enable the wanted controllers, where available, in the subtree of
    /// every ancestor of the container's cgroup, from the root down.
    fn delegate(&self) -> Result<()> {
        let mut ancestors: Vec<&Path> = self.dir.ancestors().skip(1).take_while(|a| a.starts_with(&self.root)).collect();
        ancestors.reverse();
        for dir in ancestors {
            create_dir(dir)?;
            let available = Self::available(dir);
            let enable: Vec<String> =
                WANTED.iter().filter(|c| available.iter().any(|a| a == *c)).map(|c| format!("+{c}")).collect();
            if !enable.is_empty() {
                write(dir, SUBTREE_CONTROL, &enable.join(" "))?;
            }
        }
        Ok(())
    }

    pub fn create(&self, limits: &Limits) -> Result<()> {
        self.delegate()?;
        create_dir(&self.dir)?;
        let has = |file: &str| self.dir.join(file).exists();
        if has(MEMORY_MAX) {
            write(&self.dir, MEMORY_MAX, &limit(limits.memory))?;
        }
        if has(MEMORY_SWAP_MAX) {
            write(&self.dir, MEMORY_SWAP_MAX, &limit(limits.swap))?;
        }
        if has(CPU_MAX) {
            let max = limits.cpu_quota.map_or("max 100000".into(), |(q, p)| format!("{q} {p}"));
            write(&self.dir, CPU_MAX, &max)?;
            write(&self.dir, CPU_WEIGHT, &limits.cpu_weight.unwrap_or(100).to_string())?;
        }
        if has(PIDS_MAX) {
            write(&self.dir, PIDS_MAX, &limit(limits.pids))?;
        }
        // A limit that cannot be applied must not pass silently.
        let available = Self::available(&self.dir);
        let missing = [
            (limits.memory.is_some() || limits.swap.is_some(), "memory"),
            (limits.cpu_quota.is_some() || limits.cpu_weight.is_some(), "cpu"),
            (limits.pids.is_some(), "pids"),
        ];
        for (wanted, controller) in missing {
            if wanted && !available.iter().any(|a| a == controller) {
                return Err(crate::Error::new("limit cgroup", libc::ENOTSUP)
                    .path(&self.dir)
                    .detail(format!("the {controller} controller is not available in this cgroup hierarchy")));
            }
        }
        Ok(())
    }

    pub fn join(&self, pid: i32) -> Result<()> {
        write(&self.dir, PROCS, &pid.to_string())
    }

    pub fn stats(&self) -> Result<Stats> {
        let cpu = read(&self.dir, CPU_STAT)?;
        let usec = |key| keyed(&cpu, key).unwrap_or(0) * 1000;
        let optional = |file| read_u64(&self.dir, file).unwrap_or(0);
        let events = read(&self.dir, MEMORY_EVENTS).unwrap_or_default();
        Ok(Stats {
            cpu_total_ns: usec("usage_usec"),
            cpu_user_ns: usec("user_usec"),
            cpu_system_ns: usec("system_usec"),
            memory_current: optional(MEMORY_CURRENT),
            memory_peak: optional(MEMORY_PEAK),
            memory_limit: read_u64(&self.dir, MEMORY_MAX).unwrap_or(u64::MAX),
            pids_current: optional(PIDS_CURRENT),
            pids_limit: read_u64(&self.dir, PIDS_MAX).unwrap_or(u64::MAX),
            oom_kills: keyed(&events, "oom_kill").unwrap_or(0),
        })
    }

    pub fn remove(&self) -> Result<bool> {
        remove_dir(&self.dir)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// A fixture unified hierarchy whose root offers CONTROLLERS.
    fn fixture(name: &str, controllers: &str) -> PathBuf {
        let root = std::env::temp_dir().join(format!("swh-cg2-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(root.join("swineherd/web")).unwrap();
        for dir in [root.clone(), root.join("swineherd"), root.join("swineherd/web")] {
            fs::write(dir.join(CONTROLLERS), controllers).unwrap();
        }
        for file in [MEMORY_MAX, MEMORY_SWAP_MAX, CPU_MAX, CPU_WEIGHT, PIDS_MAX] {
            fs::write(root.join("swineherd/web").join(file), "").unwrap();
        }
        root
    }

    fn file(root: &Path, name: &str) -> String {
        fs::read_to_string(root.join(name)).unwrap()
    }

    #[test]
    fn delegates_controllers_and_writes_limits() {
        let root = fixture("limits", "cpuset cpu io memory pids\n");
        let cg = Cgroup::new(&root, "swineherd/web");
        let limits = Limits {
            memory: Some(64 << 20),
            swap: Some(0),
            cpu_quota: Some((50_000, 100_000)),
            cpu_weight: Some(200),
            pids: Some(50),
        };
        cg.create(&limits).unwrap();
        assert_eq!(file(&root, SUBTREE_CONTROL), "+cpu +memory +pids");
        assert_eq!(file(&root, "swineherd/cgroup.subtree_control"), "+cpu +memory +pids");
        assert_eq!(file(&root, "swineherd/web/memory.max"), (64u64 << 20).to_string());
        assert_eq!(file(&root, "swineherd/web/memory.swap.max"), "0");
        assert_eq!(file(&root, "swineherd/web/cpu.max"), "50000 100000");
        assert_eq!(file(&root, "swineherd/web/cpu.weight"), "200");
        assert_eq!(file(&root, "swineherd/web/pids.max"), "50");
        cg.create(&Limits::default()).unwrap();
        assert_eq!(file(&root, "swineherd/web/memory.max"), "max");
        assert_eq!(file(&root, "swineherd/web/cpu.max"), "max 100000");
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn a_limit_without_its_controller_is_an_error() {
        // Like the controller-less cgroup2 of a hybrid layout.
        let root = fixture("nocontrollers", "\n");
        for file in [MEMORY_MAX, MEMORY_SWAP_MAX, CPU_MAX, CPU_WEIGHT, PIDS_MAX] {
            fs::remove_file(root.join("swineherd/web").join(file)).unwrap();
        }
        let cg = Cgroup::new(&root, "swineherd/web");
        cg.create(&Limits::default()).expect("no limits, no controllers needed");
        let err = cg.create(&Limits { pids: Some(10), ..Limits::default() }).unwrap_err();
        assert_eq!(err.errno, libc::ENOTSUP);
        assert!(err.to_string().contains("pids controller"), "{err}");
        fs::remove_dir_all(root).unwrap();
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
        let stats = Cgroup::new(&root, "swineherd/web").stats().unwrap();
        assert_eq!((stats.cpu_total_ns, stats.cpu_user_ns, stats.cpu_system_ns), (1_500_000, 1_000_000, 500_000));
        assert_eq!((stats.memory_current, stats.memory_peak, stats.memory_limit), (4096, 8192, u64::MAX));
        assert_eq!((stats.pids_current, stats.pids_limit, stats.oom_kills), (3, 50, 1));
        fs::remove_dir_all(root).unwrap();
    }
}
