#!/usr/bin/env bash
# Containers that look after themselves (#23), with the Guix-faithful test
# container: readiness from the guest's own Shepherd (waiting for a late
# service, failing clearly for one that never starts, refusing a socket
# planted as a symlink toward the host), containers that require others,
# live limits, and console logs rotated by size.
. "$(dirname "$0")"/lib.sh

work=$(mktemp -d)
# The containers' scripts live here: their id ranges (#18) must reach them.
chmod o+x "$work"
cleanup() {
  [ -z "${events_pid:-}" ] || kill "$events_pid" 2>/dev/null
  stop_shepherd
  umount "$work/btrfs/container-root" 2>/dev/null
  rm -rf /run/host-shepherd
  rm -rf "$work"
}
trap cleanup EXIT
cd "$work"

# A test container whose `loopback' service, which `echo' requires, takes
# LOOPBACK as its start procedure.
container_with_loopback() {
  sed "s|#:start (const #t)|#:start $2|" "$top"/tests/container/shepherd.conf >"$work/$1.conf"
  grep -qF -- "$2" "$work/$1.conf" || { echo "sed did not apply" >&2; return 1; }
  "$top"/tests/container/make-script --shepherd-config "$work/$1.conf" "$work/$1" >/dev/null &&
    echo "$work/$1/run-container"
}
late=$(container_with_loopback late "(lambda () ((@ (fibers) sleep) 3) #t)")
never=$(container_with_loopback never "(const #f)")

# listens PID PORT: whether a TCP socket listens on PORT in PID's network
# namespace (/proc/net/tcp of a process in it; hex port, state 0A).
listens() {
  awk -v port="$(printf ':%04X' "$2")" '$2 ~ port"$" && $4 == "0A" { found = 1 } END { exit !found }' \
    /proc/"$1"/net/tcp /proc/"$1"/net/tcp6
}

not_listening() { ! listens "$@"; }

start_shepherd

### 1. Readiness from the guest's Shepherd.
check "new without --ready returns before the late echo service listens" herd new swineherd plain "$late"
check "…echo does not listen yet" not_listening "$(herd pid swine:plain)" 80
check "new --ready=echo waits for the late echo service" herd new swineherd -- late --ready=echo "$late"
init=$(herd pid swine:late)
check "…echo listens as soon as new returns" listens "$init" 80
check "guest lists the guest services and their status" output_has "echo running" herd guest swine:late
check "…one-shot services say so" output_has "boot-message stopped one-shot" herd guest swine:late
check "a service that never starts fails the start, naming it with the guest's status" \
  fails_with "guest services not running in time: echo (stopped)" \
  herd new swineherd -- never --ready=echo --ready-timeout=$((3 * ${SWINEHERD_TIME_SCALE:-1})) "$never"
check "…the container is removed" fails_with "could not be found" herd status swine:never
no_cgroup() { [ -z "$(cgroup_dirs "$SWINEHERD_CGROUP_PARENT/$1")" ]; }
check "…and its cgroup is gone" no_cgroup never
check "an unknown guest service is named as undefined" \
  fails_with "nosuch (undefined)" herd new swineherd -- never2 --ready=nosuch --ready-timeout=$((5 * ${SWINEHERD_TIME_SCALE:-1})) "$late"
check "--ready without a name waits for every enabled service" herd new swineherd -- all --ready "$late"
check "…echo listens when it returns" listens "$(herd pid swine:all)" 80
check "a bad --ready is refused before anything is made" fails_with "invalid --ready" \
  herd new swineherd -- bad '--ready=a(b' "$late"

# A symlink planted toward the host's Shepherd.  With Shepherd 1.0.9 as the
# guest, a link planted at the socket itself was replaced by a new socket
# within milliseconds; so the guest's socket directory is replaced by the
# link, toward a host directory that holds a hard link to the host
# Shepherd's socket (resolved on the host, it would reach it).
mkdir -p /run/host-shepherd && ln -f "$socket" /run/host-shepherd/socket
plant() {  # TARGET: make the guest's /run/shepherd a symlink to TARGET
  herd exec swine:plain -- sh -c "[ -e /run/shepherd.real ] || mv /run/shepherd /run/shepherd.real;
    rm -f /run/shepherd; ln -s $1 /run/shepherd" >/dev/null
}
check "the hard link reaches the host Shepherd (from the host)" \
  output_has "swineherd" command herd -s /run/host-shepherd/socket status
check "plant /run/shepherd -> /run/host-shepherd in the container" plant /run/host-shepherd
check "a planted symlink toward a host socket resolves inside the container" \
  fails_with "No such file or directory" herd guest swine:plain
check "plant /run/shepherd -> /proc/1/root/run/shepherd.real (a magic link)" \
  plant /proc/1/root/run/shepherd.real
check "a planted magic link is refused" fails_with "refused" herd guest swine:plain
rm -rf /run/host-shepherd
check "…and Shepherd still serves" output_has "It is running" herd status swineherd

for id in plain late all; do herd kill swineherd "$id" >/dev/null; done

script=$(make_container_script "$work/script")

### 3. Containers that require others.
check "new base --ready=echo (its echo starts 3 s late)" herd new swineherd -- base --ready=echo "$late"
check "new dep --requires=base" herd new swineherd -- dep --requires=base "$script"
check "stopping base stops dep" herd stop swine:base
check "…dep is stopped" output_has "It is stopped" herd status swine:dep
mark=$(wc -l <"$shepherd_log")
check "starting dep starts base first" herd start swine:dep
check "…base is running, and ready: its echo listens" listens "$(herd pid swine:base)" 80
started_order() {
  tail -n +"$mark" "$shepherd_log" | grep -nE "Service swine:base has been started|Starting service swine:dep" |
    cut -d: -f1 | tr '\n' ' '
}
check "…base was started (and ready) before dep's start began" \
  bash -c "set -- $(started_order); [ \$# -eq 2 ] && [ \$1 -lt \$2 ]"
check "a required container that does not exist: dep2 fails to start" \
  fails_with "dep2" herd new swineherd -- dep2 --requires=nosuch "$script"
for id in dep base; do herd kill swineherd "$id" >/dev/null; done

### 2. Health checks and their consequences.  The check passes while the
### file ok exists in the container's /home, its data directory here.
health() { herd health "swine:$1" 2>&1; }
is_health() { health "$1" | grep -q "^$2"; }
check_options="--health-interval=1 --health-retries=2"
check "new h with a health check that restarts it" herd new swineherd -- h \
  "--health-cmd=test -e /home/ok" $check_options --health-on-failure=restart "$script"
touch "$work/container-root/h/ok"
check "…it becomes healthy" wait_until 20 is_health h healthy
check "…herd status shows it under its recent messages" \
  output_has "container h: healthy" herd status swine:h
init=$(herd pid swine:h)
rm "$work/container-root/h/ok"
restarted() { grep -q "container h is unhealthy; on failure: restart" "$shepherd_log" &&
  [ -n "$(herd pid swine:h 2>/dev/null)" ] && [ "$(herd pid swine:h 2>/dev/null)" != "$init" ]; }
check "…once the check fails twice it is restarted (a new init)" wait_until 20 restarted
check "…the failure is in the log, with the command's status" \
  grep -q "container h: health check failed (2 of 2): exited with status 1" "$shepherd_log"
herd kill swineherd h >/dev/null
check "new hs whose check fails, on failure: stop" herd new swineherd -- hs \
  "--health-cmd=test -e /home/ok" $check_options --health-on-failure=stop "$script"
stopped() { herd status swine:hs | grep -q "It is stopped"; }
check "…it is stopped" wait_until 20 stopped
check "…its health says why" output_has "unhealthy (failures in a row: 2; last: exited with status 1" herd health swine:hs
check "…and stats json says it too" output_has '"health": "unhealthy", "health_failures": 2, "health_last_failure": "exited with status 1' herd stats swine:hs json
herd kill swineherd hs >/dev/null
curl -sN --unix-socket /run/swineherd/api.sock http://localhost/v1/events >"$work/events" 2>/dev/null &
events_pid=$!
check "subscribed to the API's events" wait_until 10 grep -q '^{"type":"subscribed"}' "$work/events"
check "new hn whose check fails, on failure: none" herd new swineherd -- hn \
  "--health-cmd=test -e /home/ok" $check_options "$script"
check "…it becomes unhealthy" wait_until 20 is_health hn unhealthy
status=$(herd status swine:hn)
check "…herd status says so, with the last failure's output" \
  grep -q "container hn: health check failed (2 of 2): exited with status 1" <<<"$status"
check "…and that it is unhealthy" grep -q "container hn is unhealthy; on failure: none" <<<"$status"
check "…still running" grep -q "It is running" <<<"$status"
check "…the API's events have its change of health" wait_until 10 grep -qE \
  '"type":"health","id":"hn",.*"state":"unhealthy","failures":2,"last_failure":"exited with status 1"' "$work/events"
kill "$events_pid"; events_pid=
herd kill swineherd hn >/dev/null
check "new hk whose guest service check fails, on failure: kill" herd new swineherd -- hk \
  --health-guest=nosuch $check_options --health-on-failure=kill "$script"
init=$(herd pid swine:hk)
check "…its init is killed" wait_until 20 gone "$init"
check "…the guest's word is the failure" grep -q "container hk: health check failed (2 of 2): guest service nosuch is undefined" "$shepherd_log"
herd kill swineherd hk >/dev/null
check "a bad --health-on-failure is refused" fails_with "invalid --health-on-failure" \
  herd new swineherd -- hb --health-cmd=true --health-on-failure=reboot "$script"

### 4. Live limits.
cg=$SWINEHERD_CGROUP_PARENT/lim
memory_limit() {
  if cgroup_v2; then cat "$(cgroup_file memory "$cg" memory.max)"
  else cat "$(cgroup_file memory "$cg" memory.limit_in_bytes)"; fi
}
oom_kills() {
  if cgroup_v2; then f=$(cgroup_file memory "$cg" memory.events); else f=$(cgroup_file memory "$cg" memory.oom_control); fi
  awk '$1 == "oom_kill" { print $2 }' "$f"
}
hog='head -c 150M /dev/zero | tail -n 1 | wc -c'    # tail holds 150 MB
check "new lim with 256 MiB of memory" herd new swineherd -- lim --memory=256M "$script"
check "…150 MB fit in it" output_has 157286400 herd exec swine:lim -- sh -c "$hog"
kills=$(oom_kills)
check "limit -- --memory=96M --pids=300" \
  output_has "memory=100663296 pids=300" herd limit swine:lim -- --memory=96M --pids=300
check "…the cgroup has 96 MiB at once" test "$(memory_limit)" = 100663296
check "…and 300 pids" test "$(cat "$(cgroup_file pids "$cg" pids.max)")" = 300
out=$(herd exec swine:lim -- sh -c "$hog" 2>&1)
check "…the same 150 MB are OOM-killed now" bash -c "! grep -q 157286400 <<<'$out'"
check "…the kernel counted the OOM kill" test "$(oom_kills)" -gt "$kills"
check "an invalid value is refused" fails_with "invalid --memory" herd limit swine:lim -- --memory=lots
check "…a limit that cannot change is refused" fails_with "not a limit" herd limit swine:lim -- --ip=10.0.0.9
check "…and the old limit stays" test "$(memory_limit)" = 100663296
check "the record holds the new limits" grep -q "(memory . 100663296)" "$work/swineherd-state/containers/lim.scm"
check "restart keeps them" herd restart swine:lim
check "…96 MiB after the restart" test "$(memory_limit)" = 100663296
herd kill swineherd lim >/dev/null

### 6. Console logs: rotated by size, N generations kept; the action `tail'.
log=/var/log/swineherd/lg.log
check "new lg --log-size=64K --log-keep=2" herd new swineherd -- lg --log-size=64K --log-keep=2 "$script"
# 400 KB of 11-byte lines (36364) on the container's console (its init's stdout).
herd exec swine:lg -- sh -c 'yes 0123456789 | head -n 36364 >/proc/1/fd/1' >/dev/null
# Rotated and compressed: lg.log.1 plain, lg.log.2.gz complete (no plain
# lg.log.2 nor lg.log.2.gz.part left by the logger's compressor).
rotated() { [ -s "$log.2.gz" ] && [ ! -e "$log.2" ] && [ ! -e "$log.2.gz.part" ] &&
  [ "$(tail -c 11 "$log" 2>/dev/null)" = 0123456789 ]; }
check "the log rotated into lg.log.1 and lg.log.2.gz" wait_until 20 rotated
check "…no third generation is kept" bash -c "! ls $log.3* 2>/dev/null"
check "…each generation stays near 64 KiB (+ one 64 KiB write)" \
  bash -c "for f in $log $log.1; do [ \$(stat -c %s \$f) -le $((128 * 1024)) ] || exit 1; done"
check "…lg.log.2.gz is valid gzip (gzip -t)" gzip -t "$log.2.gz"
check "…smaller than what it holds" \
  test "$(stat -c %s "$log.2.gz")" -lt "$(zcat "$log.2.gz" | wc -c)"
# The oldest generation kept may begin in the middle of a line.
check "…and the three generations, in order, hold only the lines written" \
  bash -c "set -o pipefail; { zcat $log.2.gz && cat $log.1 $log; } | tail -n +2 >all &&
    [ \$(wc -l <all) -gt 11000 ] && ! grep -vx 0123456789 all | head -c 300 | grep ."
out=$(herd tail swine:lg 3)
check "tail N prints the last N lines" test "$out" = "$(printf '0123456789\n0123456789\n0123456789')"
check "tail -- -n 5 too" test "$(herd tail swine:lg -- -n 5 | wc -l)" = 5
check "a bad count is refused" fails_with "invalid number of lines" herd tail swine:lg -- -n 0
herd kill swineherd lg >/dev/null

### 5. Scheduled snapshots, pruned: refused off btrfs, then on a btrfs.
check "--snapshot-every off btrfs is refused" fails_with "--snapshot-every needs btrfs" \
  herd new swineherd -- sn --snapshot-every=1s "$script"
check "…before anything is made" test ! -e "$work/container-root/sn"
stop_shepherd
mkdir "$work/btrfs" && cd "$work/btrfs"
truncate --size=1024M disk.img && mkfs.btrfs -q disk.img && mkdir container-root &&
  mount -o loop disk.img container-root
start_shepherd
check "new sn --snapshot-every=1s --snapshot-keep=3 on btrfs" \
  herd new swineherd -- sn --snapshot-every=1s --snapshot-keep=3 "$script"
automatic() { herd snapshots swine:sn | grep -c '^auto-'; }
taken() { [ "$(grep -c 'container sn: snapshot auto-' "$shepherd_log")" -ge "$1" ]; }
check "snapshots appear every second: 5 taken" wait_until 30 taken 5
record=swineherd-state/containers/sn.scm
check "snapshot-schedule prints the schedule and the next one due" \
  output_has "every 1 s, keep 3; next in" herd snapshot-schedule swine:sn
check "…a bad duration is refused, naming the option" \
  fails_with "invalid --snapshot-every" herd snapshot-schedule swine:sn -- --keep=2 --every=soon
check "…and changes nothing, not even the valid --keep" \
  bash -c "grep -q '(snapshot-every . 1)' $record && grep -q '(snapshot-keep . 3)' $record"
check "…an unknown option is refused" \
  fails_with "is not an option" herd snapshot-schedule swine:sn -- --memory=1G
check "--every=1h --keep=2 changes it at once" \
  output_has "every 3600 s, keep 2; next in 3" herd snapshot-schedule swine:sn -- --every=1h --keep=2
check "…and in the record" \
  bash -c "grep -q '(snapshot-every . 3600)' $record && grep -q '(snapshot-keep . 2)' $record"
check "…a restart keeps it" herd restart swine:sn
check "…(the schedule after the restart)" \
  output_has "every 3600 s, keep 2; next in" herd snapshot-schedule swine:sn
check "--every=off ends it" output_has "no scheduled snapshots (keep 2)" \
  herd snapshot-schedule swine:sn -- --every=off
check "…and the record has no schedule" bash -c "! grep -q snapshot-every $record"
n=$(grep -c 'container sn: snapshot auto-' "$shepherd_log")
check "--every=1s --keep=3 again: snapshots go on" \
  herd snapshot-schedule swine:sn -- --every=1s --keep=3
check "…one more taken" wait_until 30 taken $((n + 1))
check "a stopped container has none due" bash -c "herd -s $socket stop swine:sn >/dev/null &&
  herd -s $socket snapshot-schedule swine:sn | grep -q 'every 1 s, keep 3; none due: the container is not running'"
check "…pruned to the 3 newest" test "$(automatic)" = 3
check "…the oldest were deleted, as the log says" grep -q "container sn: snapshot auto-.*, deleted auto-" "$shepherd_log"
newest=$(herd snapshots swine:sn | grep '^auto-' | tail -n 1)
check "…read-only btrfs subvolumes (btrfs says so)" \
  bash -c "btrfs subvolume show container-root/.snapshots/sn/$newest | grep -q 'Flags:.*readonly'"
check "…btrfs lists exactly 3 under .snapshots/sn" \
  test "$(btrfs subvolume list container-root | grep -c ' path .snapshots/sn/auto-')" = 3
check "the schedule is in the record" grep -q "(snapshot-every . 1)" swineherd-state/containers/sn.scm
herd kill swineherd sn >/dev/null
check "kill deletes them" test ! -e container-root/.snapshots/sn
finish
