#!/usr/bin/env bash
# The library's primitives against the real kernel: tests/btrfs.rs on a real
# btrfs (a loop device, quotas enabled), tests/net.rs and tests/nft.rs in
# the sandbox's private network namespace, tests/cgroup.rs on the machine's
# cgroups.  They are built by `cargo test' on the host and marked #[ignore]
# there; the Rust tests check results with btrfs(8), ip(8) and nft(8).
. "$(dirname "$0")"/lib.sh

# The newest build of the integration test NAME.
test_binary() { ls -t "$top"/target/release/deps/"$1"-* 2>/dev/null | grep -v '\.d$' | head -n 1; }

# run_ignored NAME COUNT: run the ignored tests of NAME, expect COUNT passes.
run_ignored() {
  local binary out status
  binary=$(test_binary "$1")
  check "the $1 test binary is built" test -x "$binary"
  out=$("$binary" --ignored --test-threads=1 2>&1)
  status=$?
  printf '%s\n' "$out" | grep -E '^test |panicked|assert' | sed 's/^/  /'
  check "the $1 library tests pass on the real kernel" test $status -eq 0
  check "they ran ($2 tests)" grep -q "test result: ok. $2 passed" <<<"$out"
}

work=$(mktemp -d)
truncate --size=512M "$work"/disk.img
mkfs.btrfs -q -R quota "$work"/disk.img
mkdir "$work"/mnt
mount -o loop "$work"/disk.img "$work"/mnt
export SWH_BTRFS_DIR=$work/mnt

run_ignored btrfs 5
umount "$work"/mnt

run_ignored net 3
run_ignored cgroup 3
run_ignored nft 5
finish
