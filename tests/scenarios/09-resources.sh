#!/usr/bin/env bash
# Resources: every process of a container in its cgroup from the start,
# limits (memory with OOM kills, pids against a fork bomb), the kernel's
# accounting in `stats', cleanup at kill.  Checked by reading
# /sys/fs/cgroup and /proc directly, on cgroup v1 (the host's hybrid layout)
# and on v2 (the test VM, tests/vm/run).
. "$(dirname "$0")"/lib.sh

work=$(mktemp -d)
cd "$work"
script=$(make_container_script "$work/script")
start_shepherd
parent=$SWINEHERD_CGROUP_PARENT

v2=false
cgroup_v2 && v2=true
echo "cgroups: /sys/fs/cgroup is $(stat -f -c %T /sys/fs/cgroup)"

# in_cgroup ID CMD...: run CMD in container ID's cgroup.
in_cgroup() {
  local id=$1; shift
  bash -c 'for d in '"$(cgroup_dirs "$parent/$id" | tr '\n' ' ')"'; do echo $$ > "$d"/cgroup.procs; done; exec "$@"' _ "$@"
}
# in_container ID CMD...: run CMD inside container ID: its cgroup first,
# then its namespaces (nsenter alone would leave it in the host's cgroup).
in_container() {
  local id=$1; shift
  in_cgroup "$id" nsenter -t "$(herd pid swine:"$id")" -a "$@"
}
json() { herd stats swine:"$1" json | grep -oE "\"$2\": [0-9a-z]+" | cut -d' ' -f2; }
# all_in_cgroup ID: every process of the container (the script, its init
# and all their descendants, from /proc) is in ID's memory and pids cgroups.
all_in_cgroup() {
  local id=$1 pids pid
  pids=$(descendants "$(main_pid swine:"$id")")
  [ "$(wc -w <<<"$pids")" -ge 2 ] || { echo "  too few processes: $pids"; return 1; }
  for pid in $pids; do
    # A short-lived process of the guest may have exited since the walk.
    [ -e /proc/"$pid" ] || continue
    if $v2; then
      grep -qx "0::/$parent/$id" /proc/"$pid"/cgroup
    else
      grep -qE "^[0-9]+:memory:/$parent/$id\$" /proc/"$pid"/cgroup &&
        grep -qE "^[0-9]+:pids:/$parent/$id\$" /proc/"$pid"/cgroup
    fi || [ ! -e /proc/"$pid" ] ||
      { echo "  $pid ($(cat /proc/$pid/comm)) is elsewhere: $(tr '\n' ' ' </proc/$pid/cgroup)"; return 1; }
  done
}
descendants() {
  local pid=$1 child
  echo "$pid"
  for child in $(cat /proc/"$pid"/task/*/children 2>/dev/null); do descendants "$child"; done
}

# An idle test container uses about 30 MiB (its script and its Shepherd).
if $v2; then
  check "new with limits" herd new swineherd -- r --memory=128M --pids=50 --cpus=1.5 --io-weight=300 "$script"
  check "its cgroup is /sys/fs/cgroup/$parent/r" test "$(cgroup_dirs "$parent"/r)" = /sys/fs/cgroup/"$parent"/r
  check "the parent delegates exactly cpu, io, memory, pids" \
    test "$(cat /sys/fs/cgroup/$parent/cgroup.subtree_control)" = "cpu io memory pids"
  check "memory limit is in memory.max" test "$(cat "$(cgroup_file memory "$parent"/r memory.max)")" = $((128 << 20))
  check "cpu limit is in cpu.max" test "$(cat "$(cgroup_file cpu "$parent"/r cpu.max)")" = "150000 100000"
  check "io weight is in io.weight" test "$(cat "$(cgroup_file io "$parent"/r io.weight)")" = "default 300"
else
  check "new with limits" herd new swineherd -- r --memory=128M --pids=50 --cpus=1.5 "$script"
  check "its cgroup exists in every hierarchy" test "$(cgroup_dirs "$parent"/r | wc -l)" -ge 4
  check "memory limit is in memory.limit_in_bytes" \
    test "$(cat "$(cgroup_file memory "$parent"/r memory.limit_in_bytes)")" = $((128 << 20))
  check "cpu limit is in cpu.cfs_quota_us" test "$(cat "$(cgroup_file cpu "$parent"/r cpu.cfs_quota_us)")" = 150000
  check "--io-weight on cgroup v1 → error" fails_with "--io-weight needs cgroup v2" \
    herd new swineherd -- io --io-weight=300 "$script"
fi
check "pids limit is in pids.max" test "$(cat "$(cgroup_file pids "$parent"/r pids.max)")" = 50
echo "  processes in $(cgroup_dirs "$parent"/r | head -n 1): $(cat "$(cgroup_file pids "$parent"/r cgroup.procs)" | tr '\n' ' ')"
check "every process of the container is in its cgroup" all_in_cgroup r
check "Shepherd spawned the script through swineherd-cgexec (in the cgroup from its first instruction)" \
  output_has "swineherd-cgexec --log=/var/log/swineherd/r.log --log-size=16777216 --log-keep=5 --ids=" herd status swine:r
check "…with its id range (#18), its cgroup and its script" \
  bash -c "herd -s $socket status swine:r | grep -Eq -- '--ids=[0-9]+:65536 $parent/r -- $script'"

# A 1 s busy loop's CPU time, as its shell's `times' says (children's user
# and system time, "0m0.52s 0m0.00s"), must show in the container's: on a
# busy machine the loop gets less than a whole CPU, so it is measured.
cpu_before=$(json r cpu_total_ns)
# A loop that ends when it has itself used 1 s of CPU time (RLIMIT_CPU sends
# SIGXCPU), whatever else the machine is doing.
in_container r sh -c 'ulimit -t 1; while :; do :; done'
cpu_after=$(json r cpu_total_ns)
check "a loop that used 1 s of CPU time adds at least 0.9 s to the container's" \
  test $((cpu_after - cpu_before)) -ge 900000000
mem_before=$(json r memory_current_bytes)
in_container r sh -c 'head -c 40M /dev/zero > /dev/shm/blob'
check "40 MiB written to tmpfs inside shows in memory current" \
  test $(( $(json r memory_current_bytes) - mem_before )) -ge $((30 << 20))
in_container r rm /dev/shm/blob

check "new a neighbour" herd new swineherd neighbour "$script"
out=$(in_container r sh -c 'head -c 200M /dev/zero | tail' 2>&1); status=$?
check "allocating 200M under a 128M limit is OOM-killed (status $status)" test $status -eq 137
check "the OOM kill shows in stats" test "$(json r oom_kills)" -ge 1
check "the container survives it" output_has "It is running" herd status swine:r
check "the neighbour keeps running" output_has "It is running" herd status swine:neighbour
check "Shepherd keeps running" kill -0 "$shepherd_pid"

in_container r timeout 10 sh -c 'for i in $(seq 200); do sleep 30 & done; wait' >/dev/null 2>&1
check "a fork bomb stays within pids.max" test "$(cat "$(cgroup_file pids "$parent"/r pids.current)")" -le 50
check "pids.events counts the refused forks" grep -qE '^max [1-9]' "$(cgroup_file pids "$parent"/r pids.events)"
check "Shepherd keeps answering" output_has "swine:r" herd status

check "stats: upstream's one-line form" bash -c \
  "herd -s $socket stats swine:r | grep -qE '^receive:[0-9]+ transmit:[0-9]+ cputime:[0-9]+\$'"
check "stats json names units" output_has '"memory_limit_bytes": 134217728' herd stats swine:r json
check "stats json has the pids limit" output_has '"pids_limit": 50' herd stats swine:r json
if $v2; then
  # A file of the VM's disk nobody read since boot: its reads reach the disk.
  module=$(find /lib/modules -name 'amdgpu.ko*' | head -n 1)
  read_before=$(json r disk_read_bytes)
  in_cgroup r cat "$module" >/dev/null
  check "reading $(du -h "$module" | cut -f1) from the disk in its cgroup shows in disk_read_bytes" \
    test $(( $(json r disk_read_bytes) - read_before )) -ge $(( $(stat -c %s "$module") / 2 ))
  check "disk_read_bytes is io.stat's rbytes" bash -c \
    "[ \$(awk '{for (i = 2; i <= NF; i++) if (\$i ~ /^rbytes=/) s += substr(\$i, 8)} END {print s + 0}' $(cgroup_file io "$parent"/r io.stat)) = \$(herd -s $socket stats swine:r json | grep -oE '\"disk_read_bytes\": [0-9]+' | cut -d' ' -f2) ]"
else
  check "disk I/O is not accounted on v1: null" output_has '"disk_read_bytes": null' herd stats swine:r json
fi
check "stats sexp is readable" bash -c \
  "herd -s $socket stats swine:r sexp | guile -c '(exit (pair? (assq (quote cpu-total-ns) (read))))'"
check "stats of swineherd summarises" output_has "containers:2 running:2" herd stats swineherd
check "stats with a bad argument → error" fails_with "json' or \`sexp'" herd stats swine:r xml

check "kill r" herd kill swineherd r
check "its cgroups are gone in every hierarchy" test -z "$(cgroup_dirs "$parent"/r)"
check "stop neighbour" herd stop swine:neighbour
check "a stopped container has no cgroup" test -z "$(cgroup_dirs "$parent"/neighbour)"
check "stats of a stopped container: not running" output_has '"running": false' herd stats swine:neighbour json

for bad in --memory=-1 --memory=12XB --memory=0 --pids=0 --pids=-1 --cpus=0 --cpus=-1 --cpus=abc \
           --cpu-weight=0 --cpu-weight=10001 --swap=1Q --io-weight=0 --io-weight=10001; do
  check "$bad → error" fails_with "invalid ${bad%%=*}" herd new swineherd -- bad "$bad" "$script"
done
check "…and nothing was created" bash -c \
  "test ! -e $work/container-root/bad && test -z \"\$(ls -d /sys/fs/cgroup/$parent/bad /sys/fs/cgroup/*/$parent/bad 2>/dev/null)\""
herd kill swineherd neighbour >/dev/null
finish
