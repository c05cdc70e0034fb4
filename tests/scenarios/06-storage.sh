#!/usr/bin/env bash
# Storage on btrfs, the seed README's way (a loop-mounted image with quotas
# as ./container-root): one subvolume per container, kept across stop and
# start, deleted by kill; disk limits; instant clones from a template;
# snapshots.  Checked with the btrfs command, independently of swineherd.
. "$(dirname "$0")"/lib.sh

enter_work_directory
mount_btrfs_root compress=zstd
trap 'stop_shepherd; umount "$work"/container-root 2>/dev/null' EXIT
start_shepherd

subvolumes() { btrfs subvolume list -o "$work"/container-root | awk '{print $NF}'; }
is_subvolume() { btrfs subvolume show "$1" >/dev/null 2>&1; }
inside() { local id=$1; shift; nsenter -t "$(herd pid swine:"$id")" -a "$@"; }

check "status names btrfs" output_has "btrfs subvolumes under $work/container-root" herd status swineherd

check "new creates a container" herd new swineherd test "$script"
check "its data is a subvolume named after it" bash -c "btrfs subvolume list -o $work/container-root | grep -q ' path test$'"
check "btrfs subvolume show agrees" is_subvolume container-root/test
inside test sh -c 'echo kept > /home/probe'
check "a file written to /home is in the subvolume" grep -qx kept container-root/test/probe
herd stop swine:test >/dev/null
check "stop keeps the subvolume and the file" grep -qx kept container-root/test/probe
herd start swine:test >/dev/null
check "start again: the file is still there" bash -c "nsenter -t \$(herd -s $socket pid swine:test) -a cat /home/probe | grep -qx kept"

# Disk limit: past 20 MiB the container's writes fail; another keeps writing.
check "new with --disk-limit" herd new swineherd -- small --disk-limit=20M "$script"
small_id=$(btrfs subvolume show container-root/small | awk '/Subvolume ID:/ {print $3}')
check "btrfs qgroup show has the limit" bash -c \
  "btrfs qgroup show -re --raw $work/container-root | awk '\$1 == \"0/$small_id\" {print \$4}' | grep -qx $((20 << 20))"
check "writing past the limit fails with a quota error" fails_with "Disk quota exceeded" \
  inside small dd if=/dev/urandom of=/home/big bs=1M count=40 conv=fsync
check "another container keeps writing" inside test dd if=/dev/urandom of=/home/big bs=1M count=40 conv=fsync status=none
check "Shepherd is unaffected" output_has "It is running" herd status swineherd

# Instant clone of a 200 MB read-only template.
btrfs -q subvolume create container-root/template-rw
dd if=/dev/urandom of=container-root/template-rw/blob bs=1M count=200 status=none
btrfs -q subvolume snapshot -r container-root/template-rw container-root/template
btrfs -q subvolume delete container-root/template-rw
sum_before=$(md5sum < container-root/template/blob)
start_ns=$(date +%s%N)
check "new --from a template" herd new swineherd -- clone --from="$work/container-root/template" "$script"
echo "  clone of a 200 MB template, whole 'herd new' including container start: $(( ($(date +%s%N) - start_ns) / 1000000 )) ms"
template_uuid=$(btrfs subvolume show container-root/template | awk '$1 == "UUID:" {print $2}')
check "the clone is a snapshot of the template" bash -c \
  "btrfs subvolume show $work/container-root/clone | grep -q 'Parent UUID:.*$template_uuid'"
check "the clone sees the template's data" test -f container-root/clone/blob
inside clone sh -c 'echo new > /home/blob'
check "the clone's writes do not touch the template" bash -c "[ \"\$(md5sum < $work/container-root/template/blob)\" = '$sum_before' ]"

# Snapshots.
check "snapshot action" herd snapshot swine:test s1
check "the snapshot is a read-only subvolume" bash -c \
  "btrfs subvolume show $work/container-root/.snapshots/test/s1 | grep -q 'Flags:.*readonly'"
check "snapshots lists it" output_has "s1" herd snapshots swine:test
check "duplicate snapshot name → error" fails_with "already has a snapshot named s1" herd snapshot swine:test s1
check "new --from=ID@SNAPSHOT" herd new swineherd -- fromsnap --from=test@s1 "$script"
check "it has the snapshot's data" grep -qx kept container-root/fromsnap/probe
check "new --from=ID (a running container)" herd new swineherd -- fromtest --from=test "$script"
check "it has that container's data" grep -qx kept container-root/fromtest/probe

# Bad input: nothing is created.
check "--from a missing container → error" fails_with "no container with ID nope" \
  herd new swineherd -- bad1 --from=nope "$script"
check "--from a missing snapshot → error" fails_with "is not a directory" \
  herd new swineherd -- bad2 --from=test@nope "$script"
check "--disk-limit=abc → error" fails_with "invalid --disk-limit" \
  herd new swineherd -- bad3 --disk-limit=abc "$script"
mkdir container-root/plain
check "--from a plain directory on btrfs → error" fails_with "not a btrfs subvolume" \
  herd new swineherd -- bad4 --from="$work/container-root/plain" "$script"
check "--from a directory elsewhere → error" fails_with "not a btrfs subvolume" \
  herd new swineherd -- bad5 --from=/etc "$script"
rmdir container-root/plain
check "failed news left no subvolume" bash -c "! btrfs subvolume list -o $work/container-root | grep -q ' path bad'"
check "failed news left no service" fails_with "could not be found" herd status swine:bad4

# Kill deletes the subvolume (and nested ones the container made) and the
# snapshots; the clone's source template stays.
inside test sh -c 'true' >/dev/null
btrfs -q subvolume create container-root/test/nested
check "kill test" herd kill swineherd test
check "its subvolume is gone" bash -c "! btrfs subvolume list -o $work/container-root | grep -qE ' path test(/|$)'"
check "its snapshots are gone" test ! -e container-root/.snapshots/test
check "containers made from it keep their data" grep -qx kept container-root/fromsnap/probe
for id in small clone fromsnap fromtest; do herd kill swineherd "$id" >/dev/null; done
check "only the template is left" bash -c "[ \"\$(btrfs subvolume list -o $work/container-root | awk '{print \$NF}' | tr '\n' ' ')\" = 'template ' ]"
# The kernel drops deleted subvolumes in the background, and removes their
# qgroups (with their limits) once they are gone (recent kernels; 6.18 here).
btrfs -q subvolume sync container-root
check "no qgroup of a killed container is left (small's was 0/$small_id)" bash -c \
  "! btrfs qgroup show --raw $work/container-root | awk '{print \$1}' | grep -qx 0/$small_id"

stop_shepherd
umount container-root
finish
