//! Build script:
//! - generate Rust bindings for the kernel's btrfs ioctl structs from
//!   `linux/btrfs.h` and `linux/btrfs_tree.h` (bindgen; needs libclang and
//!   the linux-libc-dev headers);
//! - generate the constants of the nf_tables netlink interface from
//!   `linux/netfilter/nf_tables.h` and its neighbours, for `src/nft`;
//! - give the shared library its soname, so that an installed
//!   `libswineherd.so` is found by that name through the dynamic loader.

use std::env;
use std::path::PathBuf;

/// Generate BUILDER's bindings of WHAT into FILE in OUT_DIR.
fn generate(builder: bindgen::Builder, what: &str, file: &str) {
    let bindings = builder.generate().unwrap_or_else(|_| panic!("generating {what} bindings (is libclang installed?)"));
    let out = PathBuf::from(env::var("OUT_DIR").unwrap()).join(file);
    bindings.write_to_file(out).unwrap_or_else(|e| panic!("writing {what} bindings: {e}"));
}

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    println!("cargo:rerun-if-changed=src/btrfs/wrapper.h");
    println!("cargo:rerun-if-changed=src/nft/wrapper.h");

    let btrfs = bindgen::Builder::default()
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
        .layout_tests(true);
    generate(btrfs, "btrfs", "btrfs_sys.rs");

    // The kernel's enums become plain constants named as in the headers
    // (NFTA_CHAIN_NAME, NFT_MSG_NEWRULE…), so that the code reads like the
    // kernel's and libnftnl's.
    let nft = bindgen::Builder::default()
        .header("src/nft/wrapper.h")
        .allowlist_file(".*/linux/netfilter(/nfnetlink|/nf_tables|/nf_nat|/nf_conntrack_common)?\\.h")
        .allowlist_item("NLM_F_.*|NLMSG_ERROR|NLMSG_DONE|NLA_F_NESTED|NETLINK_NETFILTER|RTN_LOCAL")
        .default_enum_style(bindgen::EnumVariation::Consts)
        .prepend_enum_name(false)
        .derive_default(true);
    generate(nft, "nf_tables", "nft_sys.rs");

    if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libswineherd.so");
    }
}
