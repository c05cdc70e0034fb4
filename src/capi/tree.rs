//! Exports for [`crate::tree`].

use std::ffi::{c_char, c_int};
use std::path::Path;

use super::{borrow_str, boundary};
use crate::tree;

/// Remove at most BUDGET entries of the tree at PATH, never following
/// symlinks nor crossing mount points.  Return 1 once PATH is gone, 0 if
/// entries remain (call again), or -errno.
///
/// # Safety
/// PATH must be a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn swh_remove_tree_step(path: *const c_char, budget: usize) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("remove tree", || unsafe {
        let path = borrow_str(path, "path")?;
        Ok(tree::remove_tree_step(Path::new(path), budget)? as c_int)
    })
}

/// Move the owners and groups of the tree at PATH from host ids
/// FROM..FROM+COUNT to TO..TO+COUNT, never following symlinks nor crossing
/// mount points (see [`crate::idshift`]).  Return 0 or -errno.
///
/// # Safety
/// PATH must be a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn swh_shift_ids(path: *const c_char, from: u32, to: u32, count: u32) -> c_int {
    // SAFETY: the arguments are as the contract above says.
    boundary("give data to the id range", || unsafe {
        let path = borrow_str(path, "path")?;
        crate::idshift::shift_tree(Path::new(path), crate::idshift::Shift { from, to, count })?;
        Ok(0)
    })
}
