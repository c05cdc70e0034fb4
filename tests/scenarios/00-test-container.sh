#!/usr/bin/env bash
# The Guix-faithful test container script itself (tests/container/smoke):
# options, namespaces, 65536 uids, Shepherd as PID 1, syslog, TCP echo,
# shares, clean shutdown.  The other scenarios rely on it.
. "$(dirname "$0")"/lib.sh
out=$("$top"/tests/container/smoke 2>&1)
status=$?
printf '%s\n' "$out" | grep -vE '^PASS' | sed 's/^/  /'
read -r passed failed < <(sed -nE 's/^([0-9]+) passed, ([0-9]+) failed$/\1 \2/p' <<<"$out" | tail -n 1)
passed=${passed:-0}; failed=${failed:-1}
[ $status -eq 0 ] || [ "$failed" -gt 0 ] || failed=1
finish
