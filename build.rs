//! Build script:
//! - generate Rust bindings for the kernel's btrfs ioctl structs from
//!   `linux/btrfs.h` and `linux/btrfs_tree.h` (bindgen; needs libclang and
//!   the linux-libc-dev headers);
//! - give the shared library its soname, so that an installed
//!   `libswineherd.so` is found by that name through the dynamic loader.

use std::env;
use std::path::PathBuf;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/btrfs/wrapper.h");

    let bindings = bindgen::Builder::default()
        .header("src/btrfs/wrapper.h")
        .allowlist_type("btrfs_ioctl_vol_args")
        .allowlist_type("btrfs_ioctl_vol_args_v2")
        .allowlist_type("btrfs_ioctl_qgroup_limit_args")
        .allowlist_type("btrfs_ioctl_search_args")
        .allowlist_type("btrfs_ioctl_search_header")
        .allowlist_type("btrfs_ioctl_get_subvol_info_args")
        .allowlist_type("btrfs_qgroup_info_item")
        .allowlist_type("btrfs_qgroup_limit_item")
        .allowlist_var("BTRFS_.*")
        .derive_default(true)
        .layout_tests(true)
        .generate()
        .expect("generating btrfs bindings (is libclang installed?)");
    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join("btrfs_sys.rs");
    bindings.write_to_file(out).expect("writing btrfs bindings");

    if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libswineherd.so");
    }
}
