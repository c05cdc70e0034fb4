#!/usr/bin/env bash
# A hostile container (issue #14): each attack of the issue, run against a
# Shepherd held under an address-space limit (a regression fails here
# instead of taking the machine down), while `herd status root' is timed
# every 0.5 s and Shepherd's memory and CPU are sampled.  Checked with
# independent tools: ps, /proc, btrfs, flock.
. "$(dirname "$0")"/lib.sh

enter_work_directory
mount_btrfs_root
second_pid=
cleanup() {
  [ -z "$second_pid" ] || kill "$second_pid" 2>/dev/null
  stop_shepherd
  umount "$work"/container-root 2>/dev/null
}
trap cleanup EXIT

# Short limits, so that the cases that end at them end soon; a peek budget
# so large that only time, the client or the container can end a scan.
cat > config.scm <<EOF
(add-to-load-path "$top/scheme")
(use-modules (swineherd))
(register-services
 (list (swineherd-service
        (swineherd-configuration #:peek-timeout 8 #:peek-budget (expt 2 40)
                                 #:exec-timeout 30 #:log-size (expt 2 20)
                                 #:default-memory (* 512 1024 1024)))))
(start-service (lookup-service 'swineherd))
EOF
address_space=$((3 << 30))
start_shepherd "$work/config.scm" prlimit --as=$address_space -- "$top/pre-inst-env"
check "Shepherd runs under a $((address_space >> 30)) GiB address-space limit" \
  bash -c "grep -E '^Max address space +$address_space ' /proc/$shepherd_pid/limits"

rss_kib() { awk '/^VmRSS:/ {print $2}' /proc/"$shepherd_pid"/status; }
cpu_ticks() { awk '{print $14 + $15}' /proc/"$shepherd_pid"/stat; }
cpu_ms_since() { echo $((($(cpu_ticks) - $1) * 1000 / $(getconf CLK_TCK))); }

# The bounds below on Shepherd's CPU time and answers were set on real
# hardware (the development machines, 2026-11-29).  A slower or emulated
# machine (the VM tier's TCG) runs Shepherd many times slower, and not
# evenly: a plain Guile workload (tests/cpu-reference.scm: 165 ms there)
# ran 18 to 33 times slower in the VM, Shepherd's work during the attacks
# 22 to 80 times (long replies, sockets, processes).  So the bounds grow by
# how much more CPU Shepherd spends here on a fixed workload of its own,
# never shrink, and stay able to fail: an attack that blocks Shepherd for
# seconds on real hardware blocks it that many times longer here.  The
# workload (tests/status-probe.scm SOCKET 200): 200 `status root', then 20
# replies of 60,000 characters; its least CPU time of three runs, 200 ms
# there (160 to 230).
calibrate() {
  local run cpu0 ms least=
  for run in 1 2 3; do
    cpu0=$(cpu_ticks)
    guile --no-auto-compile "$top"/tests/status-probe.scm "$socket" 200
    ms=$(cpu_ms_since "$cpu0")
    [ -n "$least" ] && [ "$least" -le "$ms" ] || least=$ms
  done
  echo "$least"
}
calibration_ms=$(calibrate)
slowdown=$((calibration_ms * 100 / 200)); [ "$slowdown" -ge 100 ] || slowdown=100
scaled() { echo $(($1 * slowdown / 100)); }
echo "  Shepherd's fixed workload took $calibration_ms ms of CPU (200 on real hardware);" \
  "a plain Guile workload $(guile --no-auto-compile "$top"/tests/cpu-reference.scm) ms (165):" \
  "bounds on Shepherd's CPU and answers ×$((slowdown / 100)).$(printf %02d $((slowdown % 100)))"

# probe_start / probe_stop WHAT: while an attack runs, time Shepherd's
# answer to `status root' every 0.5 s (tests/status-probe.scm: one Guile
# process, so herd's start-up on a busy machine does not count) and sample
# its RSS; probe_stop checks that every answer came within 1 s, that
# Shepherd spent under 500 ms of CPU (both scaled as above) and that its
# RSS grew by at most 40 MiB, and prints the figures (how many answers
# took over 100 ms too).
probe_start() {
  probe_rss0=$(rss_kib)
  probe_cpu0=$(cpu_ticks)
  : > "$work/probe"
  guile --no-auto-compile "$top"/tests/status-probe.scm "$socket" "$shepherd_pid" "$work/probe" &
  probe_pid=$!
  wait_until 10 test -s "$work/probe"
}
probe_stop() {
  # The request in flight, if Shepherd is still busy with the attack, counts
  # too: wait for its answer (written as 99999 ms if it does not come).
  local sent; sent=$(wc -l < "$work/probe")
  wait_until 10 bash -c "[ \$(wc -l < $work/probe) -gt $sent ]" || echo "99999 0" >> "$work/probe"
  kill "$probe_pid"; wait "$probe_pid" 2>/dev/null
  local max_ms max_rss n
  n=$(wc -l < "$work/probe")
  max_ms=$(awk '$1 > m {m = $1} END {print m + 0}' "$work/probe")
  max_rss=$(awk '$2 > m {m = $2} END {print m + 0}' "$work/probe")
  cpu=$(cpu_ms_since "$probe_cpu0")
  echo "  $1: $n probes, Shepherd answered status root in at most $max_ms ms;" \
    "its RSS $((probe_rss0 >> 10)) → at most $((max_rss >> 10)) MiB; its CPU $cpu ms"
  # Wall-clock answers on a loaded 2-core machine vary with the scheduler
  # (600 ms seen with Shepherd's CPU at 60 ms): the bound on them is loose,
  # and the work Shepherd does is bounded by its CPU time, which the
  # scheduler does not inflate.  The issue's attacks blocked it for seconds.
  local late; late=$(awk '$1 > 100' "$work/probe" | wc -l)
  check "$1: Shepherd answered every probe within $(scaled 1000) ms ($late of $n after 100 ms)" \
    test "$n" -ge 1 -a "$max_ms" -le "$(scaled 1000)"
  check "$1: Shepherd's CPU stayed under $(scaled 500) ms ($cpu ms)" test "$cpu" -le "$(scaled 500)"
  check "$1: Shepherd's RSS grew by at most 40 MiB" test $((max_rss - probe_rss0)) -le $((40 << 10))
}

probe_start
probe_stop "0. idle"
check "new t" herd new swineherd t "$script"
memory_limit=memory.limit_in_bytes; ! cgroup_v2 || memory_limit=memory.max
check "t, given no --memory, has the configured default-memory (512 MiB)" \
  test "$(cat "$(cgroup_file memory "$SWINEHERD_CGROUP_PARENT"/t $memory_limit)")" = $((512 << 20))
init=$(herd pid swine:t)
# scans: how many swineherd-peek processes read a file of t.
scans() { pgrep -f "^[^ ]*/swineherd-peek .* $init " | wc -l; }
no_scan() { [ "$(scans)" = 0 ]; }
one_scan() { [ "$(scans)" = 1 ]; }
no_escape() { ! grep -q $'\e' <<<"$1"; }
in_t() { herd exec swine:t -- "$@" >/dev/null; }

### 1. A backtracking regex over a long line: refused at once.
in_t sh -c "head -c 3000 /dev/zero | tr '\\0' a > /var/log/a3000; echo b >> /var/log/a3000"
probe_start
check "1. (a*)*\\1\$: refused, naming backreferences and the fix" \
  fails_with "backreferences are not supported; peek uses the syntax of Rust's regex crate" \
  herd peek swine:t /var/log/a3000 '(a*)*\1$'
check "1. (a*)*\$ without the backreference: answers" output_has "aaaa" herd peek swine:t /var/log/a3000 '(a*)*$'
probe_stop "1. backtracking regex"

### 2. Long lines and patterns that took Guile seconds.
in_t sh -c 'for i in 1 2 3; do head -c 60000 /dev/zero | tr "\0" 7; echo; done > /var/log/app.log
            echo "took 5 ms" >> /var/log/app.log
            head -c 60000 /dev/zero | tr "\0" a > /var/log/as; echo >> /var/log/as
            head -c 60000 /dev/zero | tr "\0" " " > /var/log/spaces; echo >> /var/log/spaces'
probe_start
check "2. [0-9]+ ms\$ after three 60,000-digit lines" output_has "took 5 ms" \
  herd peek swine:t /var/log/app.log '[0-9]+ ms$'
check "2. (a+)+\$ on 60,000 a's" output_has "aaaa" herd peek swine:t /var/log/as '(a+)+$'
check "2. [0-9]+\$ on 60,000 digits" output_has "7777" herd peek swine:t /var/log/app.log '^[0-9]+$'
check "2. ' +\$' on 60,000 spaces (no match elsewhere)" fails_with "no line of /var/log/as matches" \
  herd peek swine:t /var/log/as ' +$'
check "2. ' +\$' on 60,000 spaces" herd peek swine:t /var/log/spaces ' +$'
probe_stop "2. long lines"

### 3. Work for a client that left, for a stopped container, past limits.
in_t truncate -s 4E /var/log/messages.1
check "3. the 4 EiB sparse file exists inside" \
  output_has 4611686018427387904 herd exec swine:t -- stat -c %s /var/log/messages.1
peek_bin=$top/target/release/swineherd-peek
out=$("$peek_bin" --budget=$((64 << 20)) "$init" /var/log/messages.1 x 2>&1); status=$?
check "3. swineherd-peek stops at its byte budget (exit 3)" test $status -eq 3
probe_start
start=$(date +%s%N)
check "3. a peek of it ends at its time limit, saying so" \
  fails_with "gave up on /var/log/messages.1 after 8 s (its time limit)" \
  herd peek swine:t /var/log/messages.1 'x'
echo "  peek of the sparse file ended after $((($(date +%s%N) - start) / 1000000)) ms"
check "3. …and no scan is left" no_scan
probe_stop "3. 4 EiB sparse file until the time limit"

# (`command herd', not the function: $! must be herd itself.)
command herd -s "$socket" peek swine:t /var/log/messages.1 'x' >/dev/null 2>&1 &
client=$!
check "3. a scan runs while its client waits" wait_until 5 one_scan
kill "$client"; wait "$client" 2>/dev/null
left=$(date +%s%N)
check "3. the client left: its scan ends (well before the 8 s limit)" wait_until 3 no_scan
echo "  scan gone $((($(date +%s%N) - left) / 1000000)) ms after its client"

probe_start
command herd -s "$socket" exec swine:t -- sh -c 'yes >&2' >/dev/null 2>&1 &
client=$!
check "3. exec of a flood (yes >&2) runs in the container" wait_until 5 bash -c "pgrep -x yes >/dev/null"
check "3. Shepherd answers during the flood" output_has "It is running" herd status swine:t
kill "$client"; wait "$client" 2>/dev/null
check "3. the client left: the flooding command is killed" wait_until 3 bash -c "! pgrep -x yes >/dev/null"
probe_stop "3. exec flood until its client left"
cpu0=$(cpu_ticks)
idle_window_start=$(date +%s%N)
wait_until 3 bash -c "[ \$((\$(date +%s%N) - $idle_window_start)) -ge 2000000000 ]"
cpu=$(cpu_ms_since "$cpu0")
check "3. afterwards Shepherd is idle: ${cpu} ms of CPU in 2 s (at most $(scaled 200))" test "$cpu" -le "$(scaled 200)"

probe_start
out=$(herd exec swine:t -- --timeout=2 sh -c 'yes | head -c 5000000' 2>&1)
probe_stop "3. exec printing 5 MB"
check "3. exec output is cut at 5000 lines, saying how many were dropped" \
  grep -q "^\[swineherd: [0-9]* more lines of standard output were dropped\]$" <<<"$out"
check "3. …after exactly 5000 lines" test "$(grep -c '^y$' <<<"$out")" = 5000

command herd -s "$socket" peek swine:t /var/log/messages.1 'x' >/dev/null 2>&1 &
client=$!
check "3. (a scan runs again)" wait_until 5 one_scan
herd stop swine:t >/dev/null
check "3. the container stopped: its scan ends" wait_until 3 no_scan
wait "$client" 2>/dev/null
herd start swine:t >/dev/null
init=$(herd pid swine:t)

### 4. A second Shepherd on the same state directory.
rm -f /run/second.sock
"$top"/pre-inst-env shepherd -c "$work/config.scm" -s /run/second.sock --insecure \
  --logfile=/tmp/second.log >/tmp/second.out 2>&1 &
second_pid=$!
wait_until 30 test -S /run/second.sock
check "4. the second Shepherd's swineherd refuses, naming the first's PID" \
  wait_until 10 grep -q "is in use by the swineherd of the Shepherd with PID $shepherd_pid" /tmp/second.log ||
  { echo "  its log:"; sed 's/^/    /' /tmp/second.log; }
check "4. …and runs no container" bash -c "! herd -s /run/second.sock status swine:t >/dev/null 2>&1"
check "4. t still runs once, in the first" test "$(pgrep -fc "^[^ ]*guile .*run-container .*container-root/t=/home")" = 1
herd -s /run/second.sock stop root >/dev/null 2>&1
wait "$second_pid" 2>/dev/null; second_pid=
check "4. the lock is held while swineherd runs" bash -c "! flock -n $work/swineherd-state/lock true"

### 5. Nested subvolumes cannot escape --disk-limit.
check "5. new dq --disk-limit=50M" herd new swineherd -- dq --disk-limit=50M "$script"
dq_init=$(herd pid swine:dq)
check "5. the container's init runs under a seccomp filter" \
  grep -qE '^Seccomp:[[:space:]]+2' /proc/"$dq_init"/status
check "5. btrfs subvolume create inside: refused" fails_with "Operation not permitted" \
  herd exec swine:dq -- btrfs subvolume create /home/sub
check "5. btrfs subvolume snapshot inside: refused" fails_with "Operation not permitted" \
  herd exec swine:dq -- btrfs subvolume snapshot /home /home/snap
check "5. no subvolume below the container's" bash -c "! btrfs subvolume list -o $work/container-root/dq | grep -q ."
check "5. writing 100 MB stops at the limit" fails_with "Disk quota exceeded" \
  herd exec swine:dq -- dd if=/dev/zero of=/home/big bs=1M count=100 conv=fsync
herd kill swineherd dq >/dev/null

### 6. Oversize and tiny options: refused before anything exists.
check "6. --memory=99999999999T: refused, naming the bounds" \
  fails_with "invalid --memory \"99999999999T\": give a size from 1M to 1048576T" \
  herd new swineherd -- big --memory=99999999999T "$script"
check "6. …nothing left: no service, data, record or lease" bash -c \
  "! herd -s $socket status swine:big >/dev/null 2>&1 && [ ! -e $work/container-root/big ] &&
   [ ! -e $work/swineherd-state/containers/big.scm ] && ! grep -rqx big $work/swineherd-state/addresses"
check "6. …so the ID is free" herd new swineherd -- big --network=none "$script"
herd kill swineherd big >/dev/null
for bad in --disk-limit=2000000T --swap=99999999999T --cpus=1000000 --pids=99999999999; do
  check "6. $bad: refused" fails_with "invalid ${bad%%=*}" herd new swineherd -- big "$bad" "$script"
done
check "6. exec --timeout=1e300: refused" fails_with "invalid --timeout \"1e300\"" \
  herd exec swine:t -- --timeout=1e300 true
check "6. exec --timeout=+inf.0: refused" fails_with "invalid --timeout \"+inf.0\"" \
  herd exec swine:t -- --timeout=+inf.0 true
mkdir container-root/plain-dir
check "6. --from=/DIR that is not a subvolume: refused" fails_with "is not a btrfs subvolume" \
  herd new swineherd -- f --from="$work/container-root/plain-dir" "$script"
check "6. --pids=1: the failure names --pids" fails_with "--pids=1" \
  herd new swineherd -- p --pids=1 --network=none "$script"
check "6. --memory=8M: the failure names --memory" fails_with "--memory=8.0MiB" \
  herd new swineherd -- m --memory=8M --network=none "$script"

### 7. A flooding console: written by a logger in the container's cgroup,
### rotated at the configured 1 MiB; Shepherd reads none of it.
log=/var/log/swineherd/t.log
probe_start
herd exec swine:t -- --timeout=4 sh -c 'yes > /proc/1/fd/1' >/dev/null 2>&1
probe_stop "7. console flood (4 s)"
check "7. the flood reached the log" bash -c "grep -qx y $log || grep -qx y $log.1"
check "7. t.log stays under 1 MiB and a read" test "$(stat -c %s $log)" -le $(((1 << 20) + 65536))
check "7. t.log.1 holds the previous MiB" test "$(stat -c %s $log.1)" -ge $((1 << 20))
# The line of the pids hierarchy on v1, of the unified one on v2.
line=':pids:'; ! cgroup_v2 || line='^0::'
# On v2 the swineherd-cgexec that cloned the script waits in the cgroup
# too, under the same command line: every one of them must be there.
check "7. the logger is in the container's cgroup" bash -c \
  "pids=\$(pgrep -f '^[^ ]*swineherd-cgexec --log=$log') && for pid in \$pids; do grep -qE '$line/.*/t\$' /proc/\$pid/cgroup || exit 1; done"

### 8. Terminal escapes from the container are escaped.
out=$(herd exec swine:t -- printf 'a\033[31mred\007\rb\n' 2>&1)
check "8. exec output: ESC, BEL and CR escaped" grep -qF 'a\x1b[31mred\x07\x0db' <<<"$out"
check "8. …no raw ESC reaches herd" no_escape "$out"
in_t sh -c "printf 'x\\033]0;title\\007\\n' > /var/log/esc"
check "8. peek output: escaped" output_has 'x\x1b]0;title\x07' herd peek swine:t /var/log/esc x

### 9. Smaller cases.
check "9. peek on a sysfs file" output_has "[" herd peek swine:t /sys/kernel/mm/transparent_hugepage/enabled never
check "9. peek on a /proc file" output_has "MemTotal" herd peek swine:t /proc/meminfo '^MemTotal'
# A NUL can only come through the raw protocol (here, herd eval).
check "9. a file name with a NUL: refused by name, not cut" fails_with "contains a NUL character" \
  herd eval root "(begin (use-modules (swineherd peek))
                         (peek-in-container $init (string #\\/ #\\e #\\t #\\c (integer->char 0) #\\x) \"x\"))"

### 4, continued: the lock goes with swineherd, and with a crashed Shepherd.
lock=$work/swineherd-state/lock
herd stop swineherd >/dev/null
check "4. swineherd stopped: the lock is free" flock -n "$lock" true
herd start swineherd >/dev/null
check "4. swineherd started again: the lock is held again" bash -c "! flock -n $lock true"
kill -KILL "$shepherd_pid"
# (Its threads release the descriptor table as the last of them exits,
# after the leader shows as a zombie: wait for the lock, not for the PID.)
check "4. Shepherd killed: the lock is free" wait_until 10 flock -n "$lock" true
shepherd_pid=

finish
