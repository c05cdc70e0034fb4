#!/usr/bin/env bash
# A container root that is not on btrfs (here a tmpfs): plain directories,
# with a loud warning; clones and snapshots are copies; disk limits are
# refused with a clear error.  A full file system gives a clear error and
# leaves nothing half-created.
. "$(dirname "$0")"/lib.sh

work=$(mktemp -d)
cd "$work"
script=$(make_container_script "$work/script")
start_shepherd

check "status warns that the root is not btrfs" \
  output_has "WARNING: container root $work/container-root is not on btrfs" herd status swineherd
check "the warning is in Shepherd's log" grep -q "WARNING: container root" "$shepherd_log"
check "new works" herd new swineherd plain "$script"
check "its data is a plain directory" test -d container-root/plain
nsenter -t "$(herd pid swine:plain)" -a sh -c 'echo hello > /home/f; ln -s /etc/shadow /home/link'
check "--disk-limit → clear error" fails_with "disk limits need a btrfs container root" \
  herd new swineherd -- limited --disk-limit=10M "$script"
check "…and nothing was created" test ! -e container-root/limited
check "--from=ID copies" herd new swineherd -- copy --from=plain "$script"
check "the copy has the data" grep -qx hello container-root/copy/f
check "the copy keeps symlinks as symlinks" test -L container-root/copy/link
check "snapshot copies" herd snapshot swine:plain s1
check "snapshots lists it" output_has s1 herd snapshots swine:plain
check "delete-snapshot" herd delete-snapshot swine:plain s1
check "the snapshot is gone" test ! -e container-root/.snapshots/plain/s1
check "kill plain" herd kill swineherd plain
check "its directory is gone" test ! -e container-root/plain
check "the host file behind its symlink is intact" test -s /etc/shadow
check "kill copy" herd kill swineherd copy
stop_shepherd

# A full file system: cloning a container whose data does not fit fails
# clearly, and the half-made copy is removed.
mkdir -p full/container-root
mount -t tmpfs -o size=16M full full/container-root
trap 'stop_shepherd; umount "$work"/full/container-root 2>/dev/null' EXIT
cd full
start_shepherd
check "new on a small file system" herd new swineherd big "$script"
dd if=/dev/urandom of=container-root/big/blob bs=1M count=10 status=none
out=$(herd new swineherd -- big2 --from=big "$script" 2>&1)
echo "  on a full file system: $(tail -n 1 <<<"$out")"
check "cloning it fails: no space" grep -q "copying .* failed" <<<"$out"
check "…without leaving a half copy" test ! -e container-root/big2
check "…nor a service" fails_with "could not be found" herd status swine:big2
check "Shepherd still serves" output_has "It is running" herd status swine:big
check "cp's own message is in Shepherd's log" grep -q "No space left on device" "$shepherd_log"
herd kill swineherd big >/dev/null
stop_shepherd
umount "$work"/full/container-root
finish
