# Shared helpers for the scenario tests.  Each scenario runs inside the
# sandbox (tests/sandbox/run), as root, with the checkout as working
# directory; it sources this file, calls `check' for each assertion and
# `finish' at the end.
set -uo pipefail

top=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
socket=/run/swineherd.sock
shepherd_log=/tmp/swineherd.log
passed=0
failed=0

herd() { command herd -s "$socket" "$@"; }

# check DESCRIPTION COMMAND...: run COMMAND, count it as passed if it
# succeeds, print the result.
check() {
  local what=$1; shift
  if "$@"; then
    passed=$((passed + 1)); printf 'PASS: %s\n' "$what"
  else
    failed=$((failed + 1)); printf 'FAIL: %s\n' "$what"
  fi
}

# fails_with TEXT COMMAND...: COMMAND exits non-zero and its output
# contains TEXT.
fails_with() {
  local text=$1 out; shift
  out=$("$@" 2>&1) && { echo "  unexpected success: $out"; return 1; }
  grep -qF -- "$text" <<<"$out" || { echo "  output was: $out"; return 1; }
}

# output_has TEXT COMMAND...: COMMAND succeeds and its output contains TEXT.
output_has() {
  local text=$1 out; shift
  out=$("$@" 2>&1) || { echo "  failed: $out"; return 1; }
  grep -qF -- "$text" <<<"$out" || { echo "  output was: $out"; return 1; }
}

# wait_until SECONDS COMMAND...: poll COMMAND every 0.1 s until it succeeds,
# giving up after SECONDS times $SWINEHERD_TIME_SCALE (set by the VM tier
# under emulation, where everything runs several times slower; 1 here).
wait_until() {
  local deadline=$((SECONDS + $1 * ${SWINEHERD_TIME_SCALE:-1})); shift
  until "$@"; do
    [ $SECONDS -lt $deadline ] || return 1
    sleep 0.1
  done
}

# start_shepherd [CONFIG] [WRAPPER...]: start Shepherd in the background
# with CONFIG (default: the checkout's shepherd-config.scm) through
# pre-inst-env, and wait for its socket.
start_shepherd() {
  local config=${1:-$top/shepherd-config.scm}
  shift || true
  rm -f "$socket" "$shepherd_log"
  "${@:-$top/pre-inst-env}" shepherd -c "$config" -s "$socket" --insecure \
    --logfile="$shepherd_log" >/tmp/shepherd.out 2>&1 &
  shepherd_pid=$!
  wait_until 30 grep -qs "Configuration successfully loaded" "$shepherd_log" ||
    { echo "shepherd did not start"; cat /tmp/shepherd.out; return 1; }
}

stop_shepherd() {
  [ -n "${shepherd_pid:-}" ] || return 0
  herd stop root >/dev/null 2>&1 || kill "$shepherd_pid" 2>/dev/null
  wait_until 30 bash -c "! kill -0 $shepherd_pid 2>/dev/null"
  shepherd_pid=
}

# make_container_script DIR: generate the Guix-faithful test container
# script into DIR and print its file name.  DIR's parent (a scenario's
# mktemp -d work directory, 0700) is made searchable: an unprivileged
# container's script runs as its own range of host uids (issue #18), which
# must reach the script and the data directory, as it reaches /gnu/store.
make_container_script() {
  chmod o+x "$(dirname "$1")"
  "$top"/tests/container/make-script "$1" >/dev/null && echo "$1/run-container"
}

# enter_work_directory: make a fresh directory, cd into it and set $work
# to it and $script to a test container script generated there.
enter_work_directory() {
  work=$(mktemp -d)
  cd "$work" || exit 1
  script=$(make_container_script "$work/script")
}

# mount_btrfs_root [OPTION...]: make a 1 GiB btrfs image with quotas and
# loop-mount it on ./container-root with OPTIONs (e.g. compress=zstd), the
# seed README's way.  The mount goes with the sandbox's mount namespace;
# scenarios that unmount it earlier do so in their trap.
mount_btrfs_root() {
  local options
  options=$(IFS=,; echo "loop${1:+,}$*")
  truncate --size=1024M disk.img
  mkfs.btrfs -q -L container-root -R quota disk.img
  mkdir container-root
  mount -o "$options" disk.img container-root/
}

# make_outside_network: the network namespace "outside", joined to the
# host by the veth swhout0 (192.168.77.1/24) whose peer is its eth0
# (192.168.77.2/24).  The caller deletes it (ip netns del outside).
make_outside_network() {
  ip netns add outside
  ip link add swhout0 type veth peer name eth0 netns outside
  ip addr add 192.168.77.1/24 dev swhout0
  ip link set swhout0 up
  ip -n outside addr add 192.168.77.2/24 dev eth0
  ip -n outside link set eth0 up
  ip -n outside link set lo up
}

# main_pid SERVICE: the PID of SERVICE's main process, as `herd status' says.
main_pid() { herd status "$1" | sed -n 's/^ *Main PID: \([0-9]*\)$/\1/p'; }

# Cgroups, on either layout: v1 (the host's hybrid one: a directory per
# controller) or v2 (the test VM: one directory).
cgroup_v2() { [ "$(stat -f -c %T /sys/fs/cgroup)" = cgroup2fs ]; }
# cgroup_dirs RELATIVE: the directories of the cgroup RELATIVE (e.g.
# "$SWINEHERD_CGROUP_PARENT/web") that exist, in every hierarchy.
cgroup_dirs() {
  if cgroup_v2; then ls -d /sys/fs/cgroup/"$1"; else ls -d /sys/fs/cgroup/*/"$1"; fi 2>/dev/null
}
# cgroup_file CONTROLLER RELATIVE FILE: FILE of the cgroup RELATIVE, in
# CONTROLLER's hierarchy on v1.
cgroup_file() {
  if cgroup_v2; then echo "/sys/fs/cgroup/$2/$3"; else echo "/sys/fs/cgroup/$1/$2/$3"; fi
}

# same_ns KIND PID1 PID2: whether two processes share their KIND namespace.
same_ns() { [ "$(readlink /proc/$2/ns/$1)" = "$(readlink /proc/$3/ns/$1)" ]; }
other_ns() { ! same_ns "$@"; }

no_process_matches() { ! pgrep -f -- "$1" >/dev/null; }

gone() { ! kill -0 "$1" 2>/dev/null || grep -q '^State:.*Z' /proc/"$1"/status 2>/dev/null; }

finish() {
  stop_shepherd
  echo "$(basename "$0"): $passed passed, $failed failed"
  if [ "$failed" -gt 0 ]; then
    # What went wrong anywhere in the log (a failure early in a long run
    # is past the tail), then its end.
    echo "--- Shepherd's log: its failures and errors ---"
    grep -iE 'fail|error|died|did not|killing|exception' "$shepherd_log" 2>/dev/null | tail -n 60
    echo "--- Shepherd's log ---"; tail -n 40 "$shepherd_log" 2>/dev/null
    exit 1
  fi
}

trap 'stop_shepherd' EXIT
