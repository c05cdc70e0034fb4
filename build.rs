//! Build script: give the shared library its soname, so that an installed
//! `libswineherd.so` is found by that name through the dynamic loader.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    if std::env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux") {
        println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,libswineherd.so");
    }
}
