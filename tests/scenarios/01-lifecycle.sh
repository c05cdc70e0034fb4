#!/usr/bin/env bash
# new → a real Guix System container runs as swine:ID with Shepherd as its
# PID 1; pid, status, the log and the script's arguments are right; kill →
# service and processes gone.  Checked from outside through /proc.
. "$(dirname "$0")"/lib.sh

work=$(mktemp -d)
cd "$work"                      # ./container-root is the default data root
script=$(make_container_script "$work/script")
start_shepherd

versions="Shepherd $(shepherd --version | sed -n '1s/.* //p'), Guile $(guile -c '(display (version))')"
check "the log names what it runs on ($versions)" \
  wait_until 30 grep -qF "swineherd: running on $versions, Fibers" "$shepherd_log"
check "new starts a container" herd new swineherd test "$script" first-arg second-arg
check "swine:test is running" output_has "It is running" herd status swine:test
check "list shows it" output_has "test running" herd list swineherd

init=$(herd pid swine:test)
check "pid prints a number" test -n "$init" -a "$init" -gt 1
# `new' returns once the container's PID 1 exists, which may still be the
# Guile of its script setting up the container (mounts included) before it
# execs Shepherd: wait for that before looking inside.
check "init's command is shepherd" wait_until 10 grep -q shepherd /proc/"$init"/cmdline
for ns in pid user mnt net uts ipc; do
  check "init's $ns namespace differs from the host's" other_ns "$ns" "$init" $$
done
check "init maps 65536 uids of its own range (not host root)" \
  grep -Eq '^ +0 +[1-9][0-9]{9} +65536$' /proc/"$init"/uid_map
check "init is PID 1 inside" grep -Eq "^NSpid:.*[[:space:]]1$" /proc/"$init"/status

script_pid=$(main_pid swine:test)
check "Shepherd spawned the script itself" grep -q "$script" /proc/"$script_pid"/cmdline
check "the script received its arguments" \
  bash -c "tr '\0' '\n' </proc/$script_pid/cmdline | grep -qx first-arg && tr '\0' '\n' </proc/$script_pid/cmdline | grep -qx second-arg"
check "the script got the data directory as /home" \
  bash -c "tr '\0' '\n' </proc/$script_pid/cmdline | grep -qx -- '--share=$work/container-root/test=/home'"

nsenter -t "$init" -a sh -c 'echo written-inside > /home/probe'
check "a file written to /home inside is in the data directory" \
  grep -qx written-inside "$work"/container-root/test/probe


# (The console is written by a logger in the container's cgroup, never read
# by Shepherd: it is not among herd status's Recent messages; see #14.)
check "console output is in the log file while it runs" \
  wait_until 10 grep -q "making '$work/script/os' the current system" /var/log/swineherd/test.log
ln -s /etc "$work"/container-root/test/host-etc   # hostile: must not be followed
check "stop keeps the data" bash -c "herd -s $socket stop swine:test >/dev/null && test -f $work/container-root/test/probe"
# Guix's script writes its "running as PID" notice to a block-buffered
# port: it reaches the log when the script exits.
check "console output is in the container's log file" \
  grep -q "system container is running as PID $init" /var/log/swineherd/test.log
check "start again keeps the data" bash -c "herd -s $socket start swine:test >/dev/null && test -f $work/container-root/test/probe"
init=$(herd pid swine:test)
script_pid=$(main_pid swine:test)
check "kill succeeds" herd kill swineherd test
check "kill did not follow a symlink out of the data" test -f /etc/passwd
check "swine:test is gone" fails_with "could not be found" herd status swine:test
check "the container's init is gone" wait_until 10 gone "$init"
check "the script is gone" wait_until 10 gone "$script_pid"
check "no process of the container is left" no_process_matches "$script"
check "kill deleted the data directory" test ! -e "$work"/container-root/test
check "list is empty" test -z "$(herd list swineherd)"

finish
