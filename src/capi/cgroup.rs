//! Exports for [`crate::cgroup`].

use std::ffi::{c_char, c_int};

use super::{borrow_str, boundary, write_out};
use crate::cgroup::{self, Limits, Manager};

/// `u64::MAX` means "no limit" across the boundary.
fn opt(value: u64) -> Option<u64> {
    (value != u64::MAX).then_some(value)
}

unsafe fn manager(relative: *const c_char) -> crate::Result<Manager> {
    Manager::new(&cgroup::detect_here()?, borrow_str(relative, "cgroup")?)
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
/// and apply LIMITS: memory bytes, swap bytes, CPU quota µs, CPU period
/// µs, CPU weight, pids, I/O weight; `u64::MAX` for none (quota and period
/// go together).
///
/// # Safety
/// RELATIVE must be a NUL-terminated string, LIMITS valid for 7 `u64`.
#[no_mangle]
pub unsafe extern "C" fn swh_cgroup_create(relative: *const c_char, limits: *const [u64; 7]) -> c_int {
    boundary("create cgroup", || {
        if limits.is_null() {
            return Err(crate::Error::new("create cgroup", libc::EINVAL).detail("NULL limits"));
        }
        let l = *limits;
        let limits = Limits {
            memory: opt(l[0]),
            swap: opt(l[1]),
            cpu_quota: opt(l[2]).zip(opt(l[3])),
            cpu_weight: opt(l[4]),
            pids: opt(l[5]),
            io_weight: opt(l[6]),
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
    boundary("remove cgroup", || Ok(manager(relative)?.remove()? as c_int))
}

/// Store the accounting of the cgroup RELATIVE in OUT: CPU total, user and
/// system ns; memory current, peak, limit; pids current, limit; OOM kills;
/// disk bytes read, written (`u64::MAX`: not accounted).
///
/// # Safety
/// RELATIVE must be a NUL-terminated string, OUT valid for 11 `u64`.
#[no_mangle]
pub unsafe extern "C" fn swh_cgroup_stats(relative: *const c_char, out: *mut [u64; 11]) -> c_int {
    boundary("cgroup statistics", || {
        let s = manager(relative)?.stats()?;
        write_out(
            out,
            [
                s.cpu_total_ns,
                s.cpu_user_ns,
                s.cpu_system_ns,
                s.memory_current,
                s.memory_peak,
                s.memory_limit,
                s.pids_current,
                s.pids_limit,
                s.oom_kills,
                s.io_read_bytes.unwrap_or(u64::MAX),
                s.io_write_bytes.unwrap_or(u64::MAX),
            ],
        )
    })
}
