//! A cgroup per container: create it, apply limits, read the kernel's own
//! accounting, remove it — on cgroup v1 (legacy and hybrid layouts) and v2.
//!
//! As in youki's libcgroups: the layout is detected by a pure function of
//! `/proc/self/mountinfo`'s text and a root path ([`detect`]), so tests
//! point it at fixtures; one enum, [`Manager`], dispatches to the v1 or v2
//! back-end chosen at run time; controller files are named by constants in
//! each back-end.
//!
//! A container's cgroup is `PARENT/ID` in every hierarchy used.  Processes
//! enter it through the `swineherd-cgexec` wrapper, which on v2 clones the
//! container script straight into it (`CLONE_INTO_CGROUP`) and on v1 joins
//! it and then execs the script, so nothing of a container ever runs
//! outside its cgroup.

pub mod devices;
pub mod v1;
pub mod v2;

use std::fs;
use std::io;
use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use crate::error::{Context, Error, Result};

/// How cgroups are mounted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Layout {
    /// cgroup2 at the root: Guix System, Debian 13.
    Unified(PathBuf),
    /// v1 controllers, plus a controller-less cgroup2 (at ROOT/unified),
    /// which Swineherd leaves alone: Debian 12 and these machines.
    Hybrid(v1::Hierarchies),
    /// v1 controllers only.
    Legacy(v1::Hierarchies),
}

/// Detect the layout under ROOT (normally /sys/fs/cgroup) from MOUNTINFO,
/// the text of /proc/self/mountinfo.
pub fn detect(mountinfo: &str, root: &Path) -> Result<Layout> {
    let mut v1 = v1::Hierarchies::default();
    let mut unified_at_root = false;
    let mut unified_below = false;
    for line in mountinfo.lines() {
        // ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS [OPTIONAL...] - TYPE SOURCE SUPER-OPTIONS
        let fields: Vec<&str> = line.split_whitespace().collect();
        let Some(dash) = fields.iter().position(|f| *f == "-") else { continue };
        let (Some(mountpoint), Some(fstype), Some(options)) =
            (fields.get(4), fields.get(dash + 1), fields.get(dash + 3))
        else {
            continue;
        };
        let mountpoint = Path::new(mountpoint);
        if !mountpoint.starts_with(root) {
            continue;
        }
        match *fstype {
            "cgroup2" if mountpoint == root => unified_at_root = true,
            "cgroup2" => unified_below = true,
            "cgroup" => v1.add_mount(mountpoint, options),
            _ => {}
        }
    }
    match (unified_at_root, v1.is_empty()) {
        (true, _) => Ok(Layout::Unified(root.to_path_buf())),
        (false, false) if unified_below => Ok(Layout::Hybrid(v1)),
        (false, false) => Ok(Layout::Legacy(v1)),
        (false, true) => {
            Err(Error::new("detect cgroups", libc::ENOENT).path(root).detail("no cgroup file system is mounted there"))
        }
    }
}

/// Detect the layout of this machine's /sys/fs/cgroup, once per process:
/// cgroup file systems are mounted at boot and stay, while the mount table
/// grows by one `/run/netns` mount per container, so that reading and
/// parsing it again on every call cost 2 ms per `new` with 500 containers
/// (bench/swineherd-suite).  A failure is not remembered.
pub fn detect_here() -> Result<Layout> {
    static LAYOUT: OnceLock<Layout> = OnceLock::new();
    if let Some(layout) = LAYOUT.get() {
        return Ok(layout.clone());
    }
    let mountinfo = fs::read_to_string("/proc/self/mountinfo").at("read", "/proc/self/mountinfo")?;
    let layout = detect(&mountinfo, Path::new("/sys/fs/cgroup"))?;
    Ok(LAYOUT.get_or_init(|| layout).clone())
}

/// The accounting of each cgroup of RELATIVES, in LAYOUT, in one call
/// (`GET /metrics` reads every container's at once): `None` for one that
/// cannot be read, as a container that stopped in between.  An invalid
/// name fails the whole call.
pub fn stats_many(layout: &Layout, relatives: &[&str]) -> Result<Vec<Option<Stats>>> {
    each_cgroup(layout, relatives, Manager::stats)
}

/// The OOM kill count of each cgroup of RELATIVES, as [`stats_many`].
pub fn oom_kills_many(layout: &Layout, relatives: &[&str]) -> Result<Vec<Option<u64>>> {
    each_cgroup(layout, relatives, Manager::oom_kills)
}

/// READ of the manager of each cgroup of RELATIVES; `None` where it fails.
fn each_cgroup<T>(layout: &Layout, relatives: &[&str], read: fn(&Manager) -> Result<T>) -> Result<Vec<Option<T>>> {
    relatives.iter().map(|relative| Ok(read(&Manager::new(layout, relative)?).ok())).collect()
}

/// Limits of a container.  `None`: no limit.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Memory, in bytes.
    pub memory: Option<u64>,
    /// Swap, in bytes, on top of memory.  (In v1 the kernel limits
    /// memory+swap together; Swineherd writes memory + swap there.)
    pub swap: Option<u64>,
    /// CPU bandwidth: QUOTA microseconds of CPU time per PERIOD.
    pub cpu_quota: Option<(u64, u64)>,
    /// CPU weight, 1 to 10000 (v2 scale; mapped to shares in v1).
    pub cpu_weight: Option<u64>,
    /// Number of processes and threads.
    pub pids: Option<u64>,
    /// Disk I/O weight, 1 to 10000 (v2 `io.weight`; not on v1).
    pub io_weight: Option<u64>,
}

/// What the kernel accounts for a container, from `swh_cgroup_stats` (the
/// C ABI's `SwhCgroupStats`).  Fields the kernel does not provide (e.g.
/// memory peak before Linux 5.19 on v2) are 0; `u64::MAX` is `UINT64_MAX`.
#[repr(C)]
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Stats {
    /// CPU time, nanoseconds: total, user, system.
    pub cpu_total_ns: u64,
    pub cpu_user_ns: u64,
    pub cpu_system_ns: u64,
    /// Memory in use and its peak, bytes.
    pub memory_current: u64,
    pub memory_peak: u64,
    /// The memory limit in force, bytes (`u64::MAX`: none).
    pub memory_limit: u64,
    /// Processes (and threads) in the cgroup.
    pub pids_current: u64,
    /// The pids limit in force (`u64::MAX`: none).
    pub pids_limit: u64,
    /// Processes the OOM killer killed in the cgroup.
    pub oom_kills: u64,
    /// Bytes read from block devices (v2 `io.stat`, summed over devices);
    /// `u64::MAX` where the kernel does not account them here (v1, where
    /// Swineherd uses no blkio hierarchy).
    pub io_read_bytes: u64,
    /// Bytes written to block devices; `u64::MAX`: not accounted.
    pub io_write_bytes: u64,
}

/// A device a container may use: character devices only, MAJOR and MINOR
/// (`None`: any minor).
pub struct DeviceRule {
    pub major: u32,
    pub minor: Option<u32>,
    pub name: &'static str,
}

impl DeviceRule {
    /// The rule as the v1 `devices.allow` file takes it.
    pub fn v1_line(&self) -> String {
        match self.minor {
            Some(minor) => format!("c {}:{minor} rwm", self.major),
            None => format!("c {}:* rwm", self.major),
        }
    }
}

/// The devices a container may open (issue #18; LXC's list): null, zero,
/// full, tty, console, ptmx, random, urandom, the pts, fuse and tun.
pub const ALLOWED_DEVICES: [DeviceRule; 11] = [
    DeviceRule { major: 1, minor: Some(3), name: "null" },
    DeviceRule { major: 1, minor: Some(5), name: "zero" },
    DeviceRule { major: 1, minor: Some(7), name: "full" },
    DeviceRule { major: 5, minor: Some(0), name: "tty" },
    DeviceRule { major: 5, minor: Some(1), name: "console" },
    DeviceRule { major: 5, minor: Some(2), name: "ptmx" },
    DeviceRule { major: 1, minor: Some(8), name: "random" },
    DeviceRule { major: 1, minor: Some(9), name: "urandom" },
    DeviceRule { major: 136, minor: None, name: "pts" },
    DeviceRule { major: 10, minor: Some(229), name: "fuse" },
    DeviceRule { major: 10, minor: Some(200), name: "tun" },
];

/// The cgroup `PARENT/NAME` of one container, in the layout of this
/// machine.
pub enum Manager {
    V1(v1::Cgroup),
    V2(v2::Cgroup),
}

impl Manager {
    /// The cgroup RELATIVE (e.g. `swineherd/web`) under LAYOUT.
    pub fn new(layout: &Layout, relative: &str) -> Result<Self> {
        check_relative(relative)?;
        Ok(match layout {
            Layout::Unified(root) => Manager::V2(v2::Cgroup::new(root, relative)),
            Layout::Hybrid(h) | Layout::Legacy(h) => Manager::V1(v1::Cgroup::new(h, relative)?),
        })
    }

    /// Create the cgroup (and its parents) and apply LIMITS.  An existing
    /// cgroup is reused and its limits replaced.
    pub fn create(&self, limits: &Limits) -> Result<()> {
        match self {
            Manager::V1(c) => c.create(limits),
            Manager::V2(c) => c.create(limits),
        }
    }

    /// Limit the devices the cgroup's processes may use to
    /// [`ALLOWED_DEVICES`]: the v1 `devices` controller, or on v2 a BPF
    /// device program ([`devices`]).  True if done, false where the host
    /// mounts no v1 `devices` controller.
    pub fn restrict_devices(&self) -> Result<bool> {
        match self {
            Manager::V1(c) => c.restrict_devices(),
            Manager::V2(c) => devices::restrict(c.directory()).map(|()| true),
        }
    }

    /// Move process PID (0: the caller) into the cgroup.
    pub fn join(&self, pid: i32) -> Result<()> {
        match self {
            Manager::V1(c) => c.join(pid),
            Manager::V2(c) => c.join(pid),
        }
    }

    /// The kernel's accounting of the cgroup.
    pub fn stats(&self) -> Result<Stats> {
        match self {
            Manager::V1(c) => c.stats(),
            Manager::V2(c) => c.stats(),
        }
    }

    /// Processes the OOM killer killed in the cgroup (one file read: what
    /// the API's watch for OOM kills reads every second).
    pub fn oom_kills(&self) -> Result<u64> {
        match self {
            Manager::V1(c) => c.oom_kills(),
            Manager::V2(c) => c.oom_kills(),
        }
    }

    /// Remove the cgroup.  If processes remain, SIGKILL them and return
    /// false: call again once they are gone.  True once it is removed (or
    /// was not there).
    pub fn remove(&self) -> Result<bool> {
        match self {
            Manager::V1(c) => c.remove(),
            Manager::V2(c) => c.remove(),
        }
    }

    /// The cgroup's directory when it is a v2 one (which a process can be
    /// cloned straight into).
    pub fn unified_directory(&self) -> Option<&Path> {
        match self {
            Manager::V1(_) => None,
            Manager::V2(c) => Some(c.directory()),
        }
    }

    /// The directories of the cgroup, one per hierarchy.
    pub fn directories(&self) -> Vec<PathBuf> {
        match self {
            Manager::V1(c) => c.directories(),
            Manager::V2(c) => vec![c.directory().to_path_buf()],
        }
    }
}

/// A relative cgroup path must stay below the hierarchy's root.
fn check_relative(relative: &str) -> Result<()> {
    let ok = !relative.is_empty()
        && !relative.starts_with('/')
        && relative.split('/').all(|c| !c.is_empty() && c != "." && c != ".." && !c.contains('\n'));
    if ok {
        Ok(())
    } else {
        Err(Error::new("cgroup path", libc::EINVAL).path(relative).detail("must be relative, without `.' or `..'"))
    }
}

/// Write VALUE to the control file DIR/FILE.
fn write(dir: &Path, file: &str, value: &str) -> Result<()> {
    let path = dir.join(file);
    fs::write(&path, value).at("write cgroup file", &path)
}

/// Read the control file DIR/FILE.
fn read(dir: &Path, file: &str) -> Result<String> {
    let path = dir.join(file);
    fs::read_to_string(&path).at("read cgroup file", &path)
}

/// Read DIR/FILE as one number; "max" is `u64::MAX`.
fn read_u64(dir: &Path, file: &str) -> Result<u64> {
    let text = read(dir, file)?;
    parse_u64(text.trim()).ok_or_else(|| Error::new("parse cgroup file", libc::EINVAL).path(dir.join(file)))
}

fn parse_u64(text: &str) -> Option<u64> {
    if text == "max" {
        Some(u64::MAX)
    } else {
        text.parse().ok()
    }
}

/// The value of KEY in a flat-keyed file ("key value" lines).
fn keyed(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|line| {
        let mut words = line.split_whitespace();
        (words.next() == Some(key)).then(|| words.next().and_then(parse_u64)).flatten()
    })
}

/// Create DIR and its parents; an existing one is fine.
fn create_dir(dir: &Path) -> Result<()> {
    fs::create_dir_all(dir).at("create cgroup", dir)
}

/// Remove the cgroup directory DIR.  Return true once it is gone; if
/// processes remain, call KILL (which SIGKILLs them) and return false.
fn remove_dir(dir: &Path, kill: impl FnOnce(&Path) -> Result<()>) -> Result<bool> {
    match fs::remove_dir(dir) {
        Ok(()) => Ok(true),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(true),
        Err(e) if e.raw_os_error() == Some(libc::EBUSY) => kill(dir).map(|()| false),
        Err(e) => Err(Error::io("remove cgroup", dir, &e)),
    }
}

/// SIGKILL each process listed in DIR's `cgroup.procs`.  (A PID read there
/// may be reused by the time it is signalled: v2's `cgroup.kill` has no
/// such race.)
fn kill_each(dir: &Path) -> Result<()> {
    for pid in read(dir, "cgroup.procs")?.lines().filter_map(|l| l.trim().parse::<i32>().ok()) {
        let _ = nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), nix::sys::signal::SIGKILL);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const HYBRID: &str = "\
31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755
32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu
33 31 0:30 / /sys/fs/cgroup/cpuacct rw,relatime - cgroup cgroup rw,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
40 31 0:37 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,name=systemd
41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw
";
    const UNIFIED: &str = "\
25 22 0:22 / /sys/fs/cgroup rw,nosuid,nodev,noexec,relatime shared:4 - cgroup2 cgroup2 rw,nsdelegate
";
    const LEGACY_COMOUNTED: &str = "\
32 31 0:29 / /sys/fs/cgroup/cpu,cpuacct rw,relatime shared:9 - cgroup cgroup rw,cpu,cpuacct
35 31 0:32 / /sys/fs/cgroup/memory rw,relatime shared:10 - cgroup cgroup rw,memory
39 31 0:36 / /sys/fs/cgroup/pids rw,relatime - cgroup cgroup rw,pids
";

    fn root() -> &'static Path {
        Path::new("/sys/fs/cgroup")
    }

    #[test]
    fn detects_hybrid() {
        let Layout::Hybrid(h) = detect(HYBRID, root()).unwrap() else { panic!("not hybrid") };
        assert_eq!(h.path(v1::Controller::Memory).unwrap(), Path::new("/sys/fs/cgroup/memory"));
        assert_eq!(h.path(v1::Controller::Cpuacct).unwrap(), Path::new("/sys/fs/cgroup/cpuacct"));
        assert!(h.path(v1::Controller::Pids).is_some());
    }

    #[test]
    fn detects_unified() {
        assert_eq!(detect(UNIFIED, root()).unwrap(), Layout::Unified(root().to_path_buf()));
    }

    #[test]
    fn detects_legacy_with_comounted_controllers() {
        let Layout::Legacy(h) = detect(LEGACY_COMOUNTED, root()).unwrap() else { panic!("not legacy") };
        assert_eq!(h.path(v1::Controller::Cpu), h.path(v1::Controller::Cpuacct));
        assert_eq!(h.path(v1::Controller::Cpu).unwrap(), Path::new("/sys/fs/cgroup/cpu,cpuacct"));
    }

    #[test]
    fn nothing_mounted_is_an_error() {
        assert_eq!(detect("", root()).unwrap_err().errno, libc::ENOENT);
        // Mounts elsewhere do not count.
        assert!(detect(UNIFIED, Path::new("/elsewhere")).is_err());
    }

    #[test]
    fn relative_paths_stay_below_the_root() {
        for bad in ["", "/abs", "a/../b", "..", "a//b", "a/./b", "a\nb"] {
            assert!(check_relative(bad).is_err(), "{bad:?}");
        }
        check_relative("swineherd/web:1").unwrap();
    }

    #[test]
    fn keyed_files() {
        let text = "usage_usec 10\nuser_usec 7\nsystem_usec 3\n";
        assert_eq!(keyed(text, "user_usec"), Some(7));
        assert_eq!(keyed(text, "nope"), None);
        assert_eq!(parse_u64("max"), Some(u64::MAX));
    }
}
