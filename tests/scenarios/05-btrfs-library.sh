#!/usr/bin/env bash
# The library's btrfs primitives (tests/btrfs.rs, built by `cargo test
# --no-run' on the host) against a real btrfs on a loop device, with
# quotas enabled; the Rust tests check results with the btrfs command.
. "$(dirname "$0")"/lib.sh

binary=$(ls -t "$top"/target/release/deps/btrfs-* 2>/dev/null | grep -v '\.d$' | head -n 1)
check "the btrfs test binary is built" test -x "$binary"

work=$(mktemp -d)
truncate --size=512M "$work"/disk.img
mkfs.btrfs -q -R quota "$work"/disk.img
mkdir "$work"/mnt
mount -o loop "$work"/disk.img "$work"/mnt
export SWH_BTRFS_DIR=$work/mnt

out=$("$binary" --ignored --test-threads=1 2>&1)
status=$?
printf '%s\n' "$out" | grep -E '^test |panicked|assert' | sed 's/^/  /'
check "the btrfs library tests pass on a real btrfs" test $status -eq 0
check "they ran (5 tests)" grep -q "test result: ok. 5 passed" <<<"$out"

umount "$work"/mnt
finish
