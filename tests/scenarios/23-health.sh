#!/usr/bin/env bash
# Containers that look after themselves (#23), with the Guix-faithful test
# container: readiness from the guest's own Shepherd (waiting for a late
# service, failing clearly for one that never starts, refusing a socket
# planted as a symlink toward the host), containers that require others,
# live limits, and console logs rotated by size.
. "$(dirname "$0")"/lib.sh

work=$(mktemp -d)
cleanup() { stop_shepherd; rm -rf "$work"; }
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
  herd new swineherd -- never --ready=echo --ready-timeout=3 "$never"
check "…the container is removed" fails_with "could not be found" herd status swine:never
no_cgroup() { [ -z "$(cgroup_dirs "$SWINEHERD_CGROUP_PARENT/$1")" ]; }
check "…and its cgroup is gone" no_cgroup never
check "an unknown guest service is named as undefined" \
  fails_with "nosuch (undefined)" herd new swineherd -- never2 --ready=nosuch --ready-timeout=2 "$late"
check "--ready without a name waits for every enabled service" herd new swineherd -- all --ready "$late"
check "…echo listens when it returns" listens "$(herd pid swine:all)" 80
check "a bad --ready is refused before anything is made" fails_with "invalid --ready" \
  herd new swineherd -- bad '--ready=a(b' "$late"

# A symlink planted at the guest socket's place, toward the host's Shepherd.
herd exec swine:plain -- sh -c "rm -f /var/run/shepherd/socket && ln -s $socket /var/run/shepherd/socket" >/dev/null
check "a planted symlink toward a host socket path resolves inside the container" \
  fails_with "No such file or directory" herd guest swine:plain
herd exec swine:plain -- sh -c "ln -sfn /proc/1/root$socket /var/run/shepherd/socket" >/dev/null
check "a planted magic link is refused" fails_with "refused" herd guest swine:plain
check "…and Shepherd still serves" output_has "It is running" herd status swineherd

for id in plain late all; do herd kill swineherd "$id" >/dev/null; done
finish
