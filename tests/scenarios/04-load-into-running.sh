#!/usr/bin/env bash
# A plain Shepherd, not started from pre-inst-env, gets swineherd through
# `herd load root FILE' or `herd eval root EXPR', and runs containers.
. "$(dirname "$0")"/lib.sh

work=$(mktemp -d)
cd "$work"
script=$(make_container_script "$work/script")
echo '(register-services (list))' > "$work/empty.scm"

# Without pre-inst-env: no GUILE_LOAD_PATH, no SWINEHERD_LIBRARY.
start_shepherd "$work/empty.scm" env
check "plain Shepherd has no swineherd" fails_with "could not be found" herd status swineherd
check "herd load root shepherd-config.scm" herd load root "$top/shepherd-config.scm"
check "swineherd is running" output_has "It is running" herd status swineherd
check "it runs a container" herd new swineherd loaded "$script"
# `new' returns once the container's PID 1 exists, which may still be the
# Guile of its script, about to exec Shepherd: wait for that.
check "the container's init is shepherd" \
  wait_until 10 bash -c "grep -q shepherd /proc/\$(herd -s $socket pid swine:loaded)/cmdline"
check "loading twice keeps the container" herd load root "$top/shepherd-config.scm"
check "the container survived the reload" output_has "It is running" herd status swine:loaded
check "kill works" herd kill swineherd loaded

# Records present when swineherd is loaded: restored into the running
# Shepherd, after a crash of the previous one.
check "new kept (with data)" herd new swineherd kept "$script"
nsenter -t "$(herd pid swine:kept)" -a sh -c 'echo kept > /home/data'
kept_ip=$(herd ip swine:kept)
kill -KILL "$shepherd_pid"; wait "$shepherd_pid" 2>/dev/null; shepherd_pid=
start_shepherd "$work/empty.scm" env
check "a fresh plain Shepherd has no container" fails_with "could not be found" herd status swine:kept
check "herd load root restores the recorded container" herd load root "$top/shepherd-config.scm"
check "…running again" wait_until 30 output_has "It is running" herd status swine:kept
check "…with its address" test "$(herd ip swine:kept)" = "$kept_ip"
check "…and its data" bash -c "nsenter -t \$(herd -s $socket pid swine:kept) -a cat /home/data | grep -qx kept"
check "kill works" herd kill swineherd kept
stop_shepherd

start_shepherd "$work/empty.scm" env
check "herd eval root makes swineherd available" herd eval root \
  "(begin (add-to-load-path \"$top/scheme\")
          (use-modules (swineherd))
          (register-services (list (swineherd-service)))
          (start-service (lookup-service 'swineherd)))"
check "swineherd is running after eval" output_has "It is running" herd status swineherd
check "it runs a container" herd new swineherd evaled "$script"
check "kill works" herd kill swineherd evaled

finish
