//! Exports for [`crate::cgroup`].

use std::ffi::{c_char, c_int};

use super::{borrow_array, borrow_str, boundary, write_out};
use crate::cgroup::{self, Limits, Manager};

/// `u64::MAX` means "no limit" across the boundary.
fn opt(value: u64) -> Option<u64> {
    (value != u64::MAX).then_some(value)
}

/// The limits of a cgroup, for `swh_cgroup_create`; `UINT64_MAX` for none.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct SwhCgroupLimits {
    /// Memory, in bytes.
    pub memory: u64,
    /// Swap, in bytes (v1: memory + swap is limited to memory + this).
    pub swap: u64,
    /// CPU time per period, in µs; only with `cpu_period_us`.
    pub cpu_quota_us: u64,
    /// The period of `cpu_quota_us`, in µs.
    pub cpu_period_us: u64,
    /// CPU weight, 1 to 10000 (v1: shares scaled from it).
    pub cpu_weight: u64,
    /// Processes and threads.
    pub pids: u64,
    /// I/O weight, 1 to 10000 (v2 only: refused on v1).
    pub io_weight: u64,
}

/// The manager of the cgroup RELATIVE.
///
/// # Safety
/// As for [`borrow_str`].
unsafe fn manager(relative: *const c_char) -> crate::Result<Manager> {
    // SAFETY: RELATIVE is as `borrow_str` requires, by this function's contract.
    Manager::new(&cgroup::detect_here()?, unsafe { borrow_str(relative, "cgroup") }?)
}

/// Return the cgroup layout: 0 unified (v2), 1 hybrid, 2 legacy (v1).
#[no_mangle]
pub extern "C" fn swh_cgroup_layout() -> c_int {
    boundary("cgroup layout", || {
        Ok(match cgroup::detect_here()? {
            cgroup::Layout::Unified(_) => 0,
            cgroup::Layout::Hybrid(_) => 1,
            cgroup::Layout::Legacy(_) => 2,
        })
    })
}

/// Create the cgroup RELATIVE (e.g. "swineherd/web") in every hierarchy
/// and apply LIMITS (quota and period go together).
///
/// # Safety
/// RELATIVE must be a NUL-terminated string, LIMITS NULL or valid for
/// reading one `SwhCgroupLimits`.
#[no_mangle]
pub unsafe extern "C" fn swh_cgroup_create(relative: *const c_char, limits: *const SwhCgroupLimits) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("create cgroup", || unsafe {
        let Some(l) = limits.as_ref() else {
            return Err(crate::Error::new("create cgroup", libc::EINVAL).detail("NULL limits"));
        };
        let limits = Limits {
            memory: opt(l.memory),
            swap: opt(l.swap),
            cpu_quota: opt(l.cpu_quota_us).zip(opt(l.cpu_period_us)),
            cpu_weight: opt(l.cpu_weight),
            pids: opt(l.pids),
            io_weight: opt(l.io_weight),
        };
        manager(relative)?.create(&limits)?;
        Ok(0)
    })
}

/// Remove the cgroup RELATIVE.  Return 1 once it is gone, 0 if processes
/// were left in it (they were sent SIGKILL: call again shortly).
///
/// # Safety
/// RELATIVE must be a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn swh_cgroup_remove(relative: *const c_char) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("remove cgroup", || unsafe { Ok(manager(relative)?.remove()? as c_int) })
}

/// Store the accounting of the cgroup RELATIVE in OUT (`u64::MAX` for
/// what is not accounted: disk bytes on v1).
///
/// # Safety
/// RELATIVE must be a NUL-terminated string, OUT valid for writing one
/// `SwhCgroupStats`.
#[no_mangle]
pub unsafe extern "C" fn swh_cgroup_stats(relative: *const c_char, out: *mut cgroup::Stats) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("cgroup statistics", || unsafe {
        let stats = manager(relative)?.stats()?;
        write_out(out, stats)
    })
}

/// Limit the devices of the cgroup RELATIVE to the containers' allow list
/// (null, zero, full, tty, console, ptmx, random, urandom, pts, fuse,
/// tun): the v1 `devices` controller, or a BPF device program on v2.
/// Return 1 if done, 0 where a v1 host has no `devices` controller.
///
/// # Safety
/// RELATIVE must be a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn swh_cgroup_restrict_devices(relative: *const c_char) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("limit devices", || unsafe { Ok(manager(relative)?.restrict_devices()? as c_int) })
}

/// Store the accounting of each of the COUNT cgroups RELATIVES[i] in
/// OUT[i], and in FOUND[i] 1, or 0 (and OUT[i] zeroed) for one that cannot
/// be read, as a container that stopped meanwhile: every container's in one
/// call, for `GET /metrics`.  Return how many were found.
///
/// # Safety
/// RELATIVES must be NULL (COUNT 0) or valid for reads of COUNT pointers
/// to NUL-terminated strings; OUT and FOUND valid for writes of COUNT
/// `SwhCgroupStats` and bytes.
#[no_mangle]
pub unsafe extern "C" fn swh_cgroup_stats_many(
    relatives: *const *const c_char,
    count: usize,
    out: *mut cgroup::Stats,
    found: *mut u8,
) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("cgroup statistics", || unsafe { each_cgroup(relatives, count, out, found, cgroup::stats_many) })
}

/// Store the OOM kill count of each of the COUNT cgroups RELATIVES[i] in
/// OUT[i], as `swh_cgroup_stats_many` does: one file per cgroup, for the
/// API's watch for OOM kills.
///
/// # Safety
/// As for `swh_cgroup_stats_many`, OUT holding COUNT `uint64_t`s.
#[no_mangle]
pub unsafe extern "C" fn swh_cgroup_oom_kills_many(
    relatives: *const *const c_char,
    count: usize,
    out: *mut u64,
    found: *mut u8,
) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("cgroup OOM kills", || unsafe { each_cgroup(relatives, count, out, found, cgroup::oom_kills_many) })
}

/// A reader of many cgroups at once, as [`cgroup::stats_many`].
type ReadMany<T> = fn(&cgroup::Layout, &[&str]) -> crate::Result<Vec<Option<T>>>;

/// What READ finds for each of the COUNT cgroups RELATIVES, stored in OUT
/// and FOUND as `swh_cgroup_stats_many` says; the number found.
///
/// # Safety
/// As for `swh_cgroup_stats_many`, OUT holding COUNT `T`s.
unsafe fn each_cgroup<T: Copy + Default>(
    relatives: *const *const c_char,
    count: usize,
    out: *mut T,
    found: *mut u8,
    read: ReadMany<T>,
) -> crate::Result<c_int> {
    // SAFETY: RELATIVES is as `borrow_array` requires, by the contract.
    let names = unsafe { borrow_array(relatives, count, "cgroups") }?
        .iter()
        .map(|&name| {
            // SAFETY: each of RELATIVES is as `borrow_str` requires.
            unsafe { borrow_str(name, "cgroup") }
        })
        .collect::<crate::Result<Vec<_>>>()?;
    if count > 0 && (out.is_null() || found.is_null()) {
        return Err(crate::Error::new("cgroups", libc::EINVAL).detail("NULL out-parameter"));
    }
    let items = read(&cgroup::detect_here()?, &names)?;
    for (i, item) in items.iter().enumerate() {
        // SAFETY: OUT and FOUND hold COUNT items, and I < COUNT.
        unsafe {
            out.add(i).write(item.unwrap_or_default());
            found.add(i).write(item.is_some() as u8);
        }
    }
    Ok(items.iter().flatten().count() as c_int)
}
