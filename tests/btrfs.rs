//! The btrfs primitives against a real btrfs file system.
//!
//! These tests need root and a btrfs mount with quotas enabled, named by
//! `SWH_BTRFS_DIR`: tests/scenarios/05-btrfs-library.sh makes one on a loop
//! device inside the sandbox and runs them there with `--ignored`.  Results
//! are checked with the `btrfs` command, independently of the library.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

use swineherd::btrfs;

fn scratch(name: &str) -> PathBuf {
    let top =
        std::env::var_os("SWH_BTRFS_DIR").expect("SWH_BTRFS_DIR: run through tests/scenarios/05-btrfs-library.sh");
    let dir = Path::new(&top).join(name);
    fs::create_dir_all(&dir).unwrap();
    dir
}

/// A new subvolume NAME in the scratch directory DIR: (DIR, the subvolume).
fn scratch_subvolume(dir: &str, name: &str) -> (PathBuf, PathBuf) {
    let dir = scratch(dir);
    let sub = dir.join(name);
    btrfs::create_subvolume(&sub).unwrap();
    (dir, sub)
}

/// `btrfs subvolume show PATH`, or None if it is no subvolume.
fn show(path: &Path) -> Option<String> {
    let out = Command::new("btrfs").args(["subvolume", "show"]).arg(path).output().unwrap();
    out.status.success().then(|| String::from_utf8_lossy(&out.stdout).into_owned())
}

fn sync() {
    Command::new("sync").status().unwrap();
}

#[test]
#[ignore]
fn create_inspect_delete() {
    let (_, sub) = scratch_subvolume("create", "c1");
    let shown = show(&sub).expect("btrfs sees a subvolume");
    let info = btrfs::subvolume_info(&sub).unwrap();
    assert!(shown.contains(&format!("Subvolume ID: \t\t{}", info.id)), "{shown}");
    assert!(!info.readonly && !info.snapshot);
    assert!(btrfs::is_btrfs(&sub).unwrap());
    fs::write(sub.join("file"), "data").unwrap();
    btrfs::delete_subvolume(&sub).unwrap();
    assert!(!sub.exists());
}

#[test]
#[ignore]
fn errors_carry_path_and_errno() {
    let (dir, sub) = scratch_subvolume("errors", "dup");
    let err = btrfs::create_subvolume(&sub).unwrap_err();
    assert_eq!(err.errno, libc::EEXIST);
    assert!(err.to_string().contains(&*sub.to_string_lossy()), "{err}");
    let plain = dir.join("plain");
    fs::create_dir(&plain).unwrap();
    let err = btrfs::delete_subvolume(&plain).unwrap_err();
    assert_eq!(err.errno, libc::EINVAL);
    assert!(err.to_string().contains("not a btrfs subvolume"), "{err}");
    assert!(plain.exists(), "a plain directory is left alone");
    let err = btrfs::create_subvolume(&dir.join("missing/x")).unwrap_err();
    assert_eq!(err.errno, libc::ENOENT);
    let err = btrfs::snapshot(&plain, &dir.join("snap"), false).unwrap_err();
    assert!(err.to_string().contains("not a btrfs subvolume"), "{err}");
    btrfs::delete_subvolume(&sub).unwrap();
}

#[test]
#[ignore]
fn nested_subvolumes_are_deleted_too() {
    let (dir, top) = scratch_subvolume("nested", "top");
    fs::create_dir_all(top.join("a/b")).unwrap();
    btrfs::create_subvolume(&top.join("a/b/inner")).unwrap();
    btrfs::create_subvolume(&top.join("a/b/inner/deeper")).unwrap();
    btrfs::create_subvolume(&top.join("second")).unwrap();
    // A symlink to a subvolume elsewhere must not lead the deletion there.
    let bystander = dir.join("bystander");
    btrfs::create_subvolume(&bystander).unwrap();
    std::os::unix::fs::symlink(&bystander, top.join("a/link")).unwrap();
    btrfs::delete_subvolume(&top).unwrap();
    assert!(!top.exists());
    assert!(show(&bystander).is_some());
    btrfs::delete_subvolume(&bystander).unwrap();
}

#[test]
#[ignore]
fn snapshots_share_data_and_are_independent() {
    let (dir, origin) = scratch_subvolume("snap", "origin");
    fs::write(origin.join("f"), "original").unwrap();
    let clone = dir.join("clone");
    btrfs::snapshot(&origin, &clone, false).unwrap();
    let info = btrfs::subvolume_info(&clone).unwrap();
    assert!(info.snapshot && !info.readonly);
    let shown = show(&clone).unwrap();
    assert!(!shown.contains("Parent UUID: \t\t-"), "a snapshot has a parent UUID: {shown}");
    fs::write(clone.join("f"), "changed").unwrap();
    assert_eq!(fs::read_to_string(origin.join("f")).unwrap(), "original");

    let frozen = dir.join("frozen");
    btrfs::snapshot(&origin, &frozen, true).unwrap();
    assert!(btrfs::subvolume_info(&frozen).unwrap().readonly);
    assert!(show(&frozen).unwrap().contains("readonly"));
    assert_eq!(fs::write(frozen.join("g"), "x").unwrap_err().raw_os_error(), Some(libc::EROFS));
    for sub in [&frozen, &clone, &origin] {
        btrfs::delete_subvolume(sub).unwrap();
    }
}

#[test]
#[ignore]
fn qgroup_limit_and_usage() {
    let (_, sub) = scratch_subvolume("quota", "q");
    btrfs::set_limit(&sub, Some(8 << 20)).unwrap();
    fs::write(sub.join("blob"), vec![7u8; 2 << 20]).unwrap();
    sync();
    let usage = btrfs::usage(&sub).unwrap();
    assert_eq!(usage.limit, Some(8 << 20));
    assert!(usage.referenced >= 2 << 20, "{usage:?}");
    assert!(usage.exclusive >= 2 << 20, "{usage:?}");
    // Independent check: btrfs qgroup show reports the same limit.
    let out = Command::new("btrfs").args(["qgroup", "show", "-re", "--raw"]).arg(&sub).output().unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    let id = btrfs::subvolume_info(&sub).unwrap().id;
    let line = text.lines().find(|l| l.starts_with(&format!("0/{id} "))).expect("qgroup line");
    assert!(line.split_whitespace().any(|w| w == (8u64 << 20).to_string()), "{line}");
    // Past the limit, writes fail with EDQUOT.
    let err = fs::write(sub.join("big"), vec![1u8; 16 << 20]).unwrap_err();
    assert_eq!(err.raw_os_error(), Some(libc::EDQUOT), "{err}");
    btrfs::set_limit(&sub, None).unwrap();
    assert_eq!(btrfs::usage(&sub).unwrap().limit, None);
    btrfs::delete_subvolume(&sub).unwrap();
}
