//! cgroup v1: one hierarchy per controller (some co-mounted, such as
//! `cpu,cpuacct`); a container's cgroup is the same relative path in each.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use super::{create_dir, keyed, kill_each, read, read_u64, remove_dir, write, Limits, Stats};
use crate::error::{Error, Result};

/// The v1 controllers Swineherd uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Controller {
    Cpu,
    Cpuacct,
    Memory,
    Pids,
    /// Used where mounted: device access (issue #18).
    Devices,
}

impl Controller {
    /// The controllers a container's cgroup needs.
    const ALL: [Controller; 4] = [Controller::Cpu, Controller::Cpuacct, Controller::Memory, Controller::Pids];
    /// Those it uses where the host mounts them.
    const OPTIONAL: [Controller; 1] = [Controller::Devices];

    fn name(self) -> &'static str {
        match self {
            Controller::Cpu => "cpu",
            Controller::Cpuacct => "cpuacct",
            Controller::Memory => "memory",
            Controller::Pids => "pids",
            Controller::Devices => "devices",
        }
    }
}

// Controller files.
const CPU_QUOTA: &str = "cpu.cfs_quota_us";
const CPU_PERIOD: &str = "cpu.cfs_period_us";
const CPU_SHARES: &str = "cpu.shares";
const CPUACCT_USAGE: &str = "cpuacct.usage";
const CPUACCT_STAT: &str = "cpuacct.stat";
const MEMORY_LIMIT: &str = "memory.limit_in_bytes";
// In v1, this limits memory + swap together, not swap alone.
const MEMSW_LIMIT: &str = "memory.memsw.limit_in_bytes";
const MEMORY_USAGE: &str = "memory.usage_in_bytes";
const MEMORY_MAX_USAGE: &str = "memory.max_usage_in_bytes";
const MEMORY_OOM_CONTROL: &str = "memory.oom_control";
const PIDS_MAX: &str = "pids.max";
const PIDS_CURRENT: &str = "pids.current";
const PROCS: &str = "cgroup.procs";
const DEVICES_DENY: &str = "devices.deny";
const DEVICES_ALLOW: &str = "devices.allow";

/// Where each controller's hierarchy is mounted.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Hierarchies(BTreeMap<Controller, PathBuf>);

impl Hierarchies {
    /// Record a v1 mount at MOUNTPOINT with super options OPTIONS.
    pub(super) fn add_mount(&mut self, mountpoint: &Path, options: &str) {
        for controller in Controller::ALL.into_iter().chain(Controller::OPTIONAL) {
            if options.split(',').any(|o| o == controller.name()) {
                self.0.insert(controller, mountpoint.to_path_buf());
            }
        }
    }

    pub(super) fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The mount point of CONTROLLER's hierarchy.
    pub fn path(&self, controller: Controller) -> Option<&Path> {
        self.0.get(&controller).map(PathBuf::as_path)
    }
}

/// A container's cgroup in every v1 hierarchy.
pub struct Cgroup {
    dirs: BTreeMap<Controller, PathBuf>,
}

/// USER_HZ: the unit of cpuacct.stat.
const USER_HZ: u64 = 100;

impl Cgroup {
    pub fn new(hierarchies: &Hierarchies, relative: &str) -> Result<Self> {
        let mut dirs = BTreeMap::new();
        for controller in Controller::ALL {
            let root = hierarchies.path(controller).ok_or_else(|| {
                Error::new("cgroup v1", libc::ENOENT)
                    .detail(format!("the {} controller is not mounted", controller.name()))
            })?;
            dirs.insert(controller, root.join(relative));
        }
        for controller in Controller::OPTIONAL {
            if let Some(root) = hierarchies.path(controller) {
                dirs.insert(controller, root.join(relative));
            }
        }
        Ok(Cgroup { dirs })
    }

    fn dir(&self, controller: Controller) -> &Path {
        &self.dirs[&controller]
    }

    /// The distinct directories (co-mounted controllers share one).
    pub fn directories(&self) -> Vec<PathBuf> {
        let mut dirs: Vec<PathBuf> = self.dirs.values().cloned().collect();
        dirs.sort();
        dirs.dedup();
        dirs
    }

    pub fn create(&self, limits: &Limits) -> Result<()> {
        if limits.io_weight.is_some() {
            return Err(Error::new("limit disk I/O", libc::ENOTSUP)
                .detail("--io-weight needs cgroup v2's io controller; this host's cgroups are v1"));
        }
        for dir in self.directories() {
            create_dir(&dir)?;
        }
        let memory = self.dir(Controller::Memory);
        // memsw must stay >= memory: lower memsw last when shrinking, raise
        // it first when growing; writing -1 to both first keeps it simple.
        if memory.join(MEMSW_LIMIT).exists() {
            write(memory, MEMSW_LIMIT, "-1")?;
        }
        write(memory, MEMORY_LIMIT, &limits.memory.map_or("-1".into(), |m| m.to_string()))?;
        if let (Some(mem), Some(swap)) = (limits.memory, limits.swap) {
            if !memory.join(MEMSW_LIMIT).exists() {
                return Err(Error::new("limit swap", libc::ENOTSUP)
                    .path(memory.join(MEMSW_LIMIT))
                    .detail("this kernel accounts no swap (boot with swapaccount=1)"));
            }
            write(memory, MEMSW_LIMIT, &(mem.saturating_add(swap)).to_string())?;
        }
        let cpu = self.dir(Controller::Cpu);
        match limits.cpu_quota {
            Some((quota, period)) => {
                write(cpu, CPU_PERIOD, &period.to_string())?;
                write(cpu, CPU_QUOTA, &quota.to_string())?;
            }
            None => write(cpu, CPU_QUOTA, "-1")?,
        }
        // v2 weight 1..10000 (default 100) to v1 shares 2..262144 (1024).
        let shares = limits.cpu_weight.map_or(1024, |w| (w * 1024 / 100).clamp(2, 262_144));
        write(cpu, CPU_SHARES, &shares.to_string())?;
        write(self.dir(Controller::Pids), PIDS_MAX, &limits.pids.map_or("max".into(), |p| p.to_string()))
    }

    /// Deny every device but [`super::ALLOWED_DEVICES`] (and mknod, which
    /// the user namespace limits anyway).  False where the host mounts no
    /// `devices` controller.
    pub fn restrict_devices(&self) -> Result<bool> {
        let Some(dir) = self.dirs.get(&Controller::Devices) else {
            return Ok(false);
        };
        write(dir, DEVICES_DENY, "a")?;
        for rule in super::ALLOWED_DEVICES {
            write(dir, DEVICES_ALLOW, &rule.v1_line())?;
        }
        Ok(true)
    }

    pub fn join(&self, pid: i32) -> Result<()> {
        for dir in self.directories() {
            write(&dir, PROCS, &pid.to_string())?;
        }
        Ok(())
    }

    /// Processes the OOM killer killed in the cgroup: `oom_kill` of
    /// `memory.oom_control` (Linux 4.13 and later; 0 before).
    pub fn oom_kills(&self) -> Result<u64> {
        Ok(keyed(&read(self.dir(Controller::Memory), MEMORY_OOM_CONTROL)?, "oom_kill").unwrap_or(0))
    }

    pub fn stats(&self) -> Result<Stats> {
        let cpuacct = self.dir(Controller::Cpuacct);
        let memory = self.dir(Controller::Memory);
        let pids = self.dir(Controller::Pids);
        let ticks = read(cpuacct, CPUACCT_STAT)?;
        let to_ns = |key| keyed(&ticks, key).unwrap_or(0) * (1_000_000_000 / USER_HZ);
        // A limit of "no limit" reads as a huge page-aligned number in v1.
        let memory_limit = read_u64(memory, MEMORY_LIMIT)?;
        Ok(Stats {
            cpu_total_ns: read_u64(cpuacct, CPUACCT_USAGE)?,
            cpu_user_ns: to_ns("user"),
            cpu_system_ns: to_ns("system"),
            memory_current: read_u64(memory, MEMORY_USAGE)?,
            memory_peak: read_u64(memory, MEMORY_MAX_USAGE)?,
            memory_limit: if memory_limit >= i64::MAX as u64 & !0xfff { u64::MAX } else { memory_limit },
            pids_current: read_u64(pids, PIDS_CURRENT)?,
            pids_limit: read_u64(pids, PIDS_MAX)?,
            oom_kills: self.oom_kills()?,
            io_read_bytes: u64::MAX,
            io_write_bytes: u64::MAX,
        })
    }

    pub fn remove(&self) -> Result<bool> {
        let mut gone = true;
        for dir in self.directories() {
            gone &= remove_dir(&dir, kill_each)?;
        }
        Ok(gone)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    /// A fixture tree standing in for the v1 hierarchies.
    fn fixture(name: &str) -> (PathBuf, Hierarchies) {
        let root = std::env::temp_dir().join(format!("swh-cg1-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&root);
        let mut h = Hierarchies::default();
        for c in Controller::ALL {
            let dir = root.join(c.name());
            fs::create_dir_all(dir.join("swineherd/web")).unwrap();
            h.add_mount(&dir, &format!("rw,{}", c.name()));
        }
        (root, h)
    }

    #[test]
    fn devices_are_denied_but_the_allowed_ones() {
        let (root, mut h) = fixture("devices");
        let cg = Cgroup::new(&h, "swineherd/web").unwrap();
        assert!(!cg.restrict_devices().unwrap(), "no devices hierarchy: nothing to do");
        let dir = root.join("devices");
        fs::create_dir_all(dir.join("swineherd/web")).unwrap();
        h.add_mount(&dir, "rw,devices");
        let cg = Cgroup::new(&h, "swineherd/web").unwrap();
        assert!(cg.restrict_devices().unwrap());
        let web = dir.join("swineherd/web");
        assert_eq!(fs::read_to_string(web.join(DEVICES_DENY)).unwrap(), "a");
        // The fixture keeps the last write of each file.
        assert_eq!(fs::read_to_string(web.join(DEVICES_ALLOW)).unwrap(), "c 10:200 rwm");
        assert!(cg.directories().contains(&web));
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn limits_are_written_to_each_controller() {
        let (root, h) = fixture("limits");
        fs::write(root.join("memory/swineherd/web").join(MEMSW_LIMIT), "").unwrap();
        let cg = Cgroup::new(&h, "swineherd/web").unwrap();
        let limits = Limits {
            memory: Some(64 << 20),
            swap: Some(16 << 20),
            cpu_quota: Some((50_000, 100_000)),
            cpu_weight: Some(200),
            pids: Some(50),
            io_weight: None,
        };
        cg.create(&limits).unwrap();
        let file = |c: &str, f: &str| fs::read_to_string(root.join(c).join("swineherd/web").join(f)).unwrap();
        assert_eq!(file("memory", MEMORY_LIMIT), (64u64 << 20).to_string());
        assert_eq!(file("memory", MEMSW_LIMIT), (80u64 << 20).to_string());
        assert_eq!(file("cpu", CPU_QUOTA), "50000");
        assert_eq!(file("cpu", CPU_PERIOD), "100000");
        assert_eq!(file("cpu", CPU_SHARES), "2048");
        assert_eq!(file("pids", PIDS_MAX), "50");
        cg.create(&Limits::default()).unwrap();
        assert_eq!(file("memory", MEMORY_LIMIT), "-1");
        assert_eq!(file("cpu", CPU_QUOTA), "-1");
        assert_eq!(file("pids", PIDS_MAX), "max");
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn swap_without_memsw_is_refused() {
        let (root, h) = fixture("noswap");
        let cg = Cgroup::new(&h, "swineherd/web").unwrap();
        let err = cg.create(&Limits { memory: Some(1 << 20), swap: Some(1 << 20), ..Limits::default() }).unwrap_err();
        assert_eq!(err.errno, libc::ENOTSUP);
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn io_weight_needs_v2() {
        let (root, h) = fixture("noio");
        let cg = Cgroup::new(&h, "swineherd/web").unwrap();
        let err = cg.create(&Limits { io_weight: Some(200), ..Limits::default() }).unwrap_err();
        assert_eq!(err.errno, libc::ENOTSUP);
        assert!(err.to_string().contains("--io-weight needs cgroup v2"), "{err}");
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn stats_are_read_from_the_kernel_files() {
        let (root, h) = fixture("stats");
        let put = |c: &str, f: &str, v: &str| fs::write(root.join(c).join("swineherd/web").join(f), v).unwrap();
        put("cpuacct", CPUACCT_USAGE, "1500000000\n");
        put("cpuacct", CPUACCT_STAT, "user 120\nsystem 30\n");
        put("memory", MEMORY_USAGE, "4096\n");
        put("memory", MEMORY_MAX_USAGE, "8192\n");
        put("memory", MEMORY_LIMIT, "9223372036854771712\n");
        put("memory", MEMORY_OOM_CONTROL, "oom_kill_disable 0\nunder_oom 0\noom_kill 2\n");
        put("pids", PIDS_CURRENT, "7\n");
        put("pids", PIDS_MAX, "max\n");
        let stats = Cgroup::new(&h, "swineherd/web").unwrap().stats().unwrap();
        assert_eq!(stats.cpu_total_ns, 1_500_000_000);
        assert_eq!(stats.cpu_user_ns, 1_200_000_000);
        assert_eq!(stats.cpu_system_ns, 300_000_000);
        assert_eq!((stats.memory_current, stats.memory_peak), (4096, 8192));
        assert_eq!(stats.memory_limit, u64::MAX);
        assert_eq!((stats.pids_current, stats.pids_limit), (7, u64::MAX));
        assert_eq!(stats.oom_kills, 2);
        assert_eq!((stats.io_read_bytes, stats.io_write_bytes), (u64::MAX, u64::MAX));
        fs::remove_dir_all(root).unwrap();
    }

    #[test]
    fn comounted_controllers_share_a_directory() {
        let mut h = Hierarchies::default();
        h.add_mount(Path::new("/cg/cpu,cpuacct"), "rw,cpu,cpuacct");
        h.add_mount(Path::new("/cg/memory"), "rw,memory");
        h.add_mount(Path::new("/cg/pids"), "rw,pids");
        let cg = Cgroup::new(&h, "s/x").unwrap();
        assert_eq!(cg.directories().len(), 3);
    }

    #[test]
    fn a_missing_controller_is_named() {
        let mut h = Hierarchies::default();
        h.add_mount(Path::new("/cg/memory"), "rw,memory");
        let err = Cgroup::new(&h, "s/x").err().unwrap();
        assert!(err.to_string().contains("cpu controller is not mounted"), "{err}");
    }
}
