#!/usr/bin/env bash
# Adoption: containers keep running while Shepherd is killed (SIGKILL) and
# started again.  20 containers, one of them (Guix-faithful) with a TCP
# stream from outside that keeps flowing (a line every 10 ms, echoed): after
# the restart every container runs with the same init, the stream never
# broke, no veth, netns mount, cgroup or nft rule is missing or duplicated.
# Then: an adopted container whose init dies is noticed (stopped; respawned
# with --respawn); stop, start, exec, ip, stats, peek, snapshot, down, up on
# adopted ones; kill leaves nothing; a PID file naming an unrelated process
# is not adopted.
. "$(dirname "$0")"/lib.sh

enter_work_directory
minimal=$top/bench/minimal-container
parent=$SWINEHERD_CGROUP_PARENT
start_shepherd

check "new web (Guix-faithful, port 8080 published)" herd new swineherd -- web --publish=8080:80 "$script"
check "new r (--respawn)" herd new swineherd -- r --respawn "$minimal"
ids=(web r)
for i in $(seq 1 18); do
  herd new swineherd "m$i" "$minimal" >/dev/null && ids+=("m$i")
done
check "20 containers" test ${#ids[@]} = 20

# State as seen from outside, to compare after the restart.
inits() { for id in "${ids[@]}"; do echo "$id $(herd pid swine:$id)"; done; }
veths() { ip -o link show master swineherd0 | awk -F'[:@ ]+' '{print $2}' | sort; }
netns() { ls /run/netns | sort; }
cgroups() { (cd "$(cgroup_file pids "$parent" "")" && ls -d */ | tr -d / | sort); }
rules() { nft list table ip swineherd | grep -c 'dnat to'; }
inits > inits.before; veths > veths.before; netns > netns.before; cgroups > cgroups.before
rules_before=$(rules)

# The stream: a line every 10 ms to web's echo service, through its
# address, echoed back into echoed.
web_ip=$(herd ip swine:web | cut -d/ -f1)
(while :; do echo x; sleep 0.01; done) | socat - TCP:"$web_ip":80 > echoed 2>stream.err &
stream=$!
check "the stream flows" wait_until 10 test -s echoed

kill -KILL "$shepherd_pid"; wait "$shepherd_pid" 2>/dev/null; shepherd_pid=
lines_at_crash=$(wc -l < echoed)
restarted=$(date +%s%N)
start_shepherd
all_running() {
  local id
  for id in "${ids[@]}"; do
    herd status swine:$id > status.last 2>&1
    grep -q "It is running" status.last || return 1
  done
}
check "every container is running again" wait_until 30 all_running
all_running || sed 's/^/  /' status.last
echo "  all 20 running $(( ($(date +%s%N) - restarted) / 1000000 )) ms after Shepherd's restart (herd polling included)"
wait_until 10 grep -q "swineherd: restored" "$shepherd_log"
echo "  $(grep -o 'swineherd: restored.*' "$shepherd_log")"
inits > inits.after
check "…each with the same init (adopted, not restarted)" diff inits.before inits.after
check "the log says they were adopted" test "$(grep -c 'swineherd: adopted container' "$shepherd_log")" = 20
check "the stream never broke" kill -0 "$stream"
check "…and still flows" wait_until 10 test "$(wc -l < echoed)" -gt $((lines_at_crash + 50))
check "veths: the same, none missing or duplicated" diff veths.before <(veths)
check "netns mounts: the same" diff netns.before <(netns)
check "cgroups: the same" diff cgroups.before <(cgroups)
check "published port rules: as many as before ($rules_before)" test "$(rules)" = "$rules_before"
check "web's published port answers through the new NAT table" \
  bash -c "echo ping | timeout 5 socat - TCP:127.0.0.1:8080 | grep -qx ping"
check "exec works in an adopted container" output_has hello herd exec swine:web echo hello
check "ip too" test "$(herd ip swine:web | cut -d/ -f1)" = "$web_ip"
check "stats too" output_has '"running": true' herd stats swine:web json
kill "$stream" 2>/dev/null
herd exec swine:web -- logger hello-adopted >/dev/null
check "peek too" wait_until 10 output_has "hello-adopted" \
  herd peek swine:web /var/log/messages hello-adopted
check "snapshot too" herd snapshot swine:web s1
check "down disconnects it" herd down swine:web
check "…up connects it again, same address" bash -c \
  "herd -s $socket up swine:web && [ \"\$(herd -s $socket ip swine:web | cut -d/ -f1)\" = $web_ip ]"

# The adopted r's init dies: its service notices, and respawns it.
r_init=$(herd pid swine:r)
died=$(date +%s%N)
kill -KILL "$r_init"
check "r (--respawn) is respawned with a new init" wait_until 10 bash -c \
  "p=\$(herd -s $socket pid swine:r 2>/dev/null) && [ -n \"\$p\" ] && [ \"\$p\" != $r_init ]"
echo "  r respawned $(( ($(date +%s%N) - died) / 1000000 )) ms after its init was killed"
# m1's init dies: stopped, its resources released.
m1_init=$(herd pid swine:m1)
died=$(date +%s%N)
kill -KILL "$m1_init"
check "m1's death is noticed: stopped" wait_until 10 output_has "It is stopped" herd status swine:m1
echo "  m1 seen stopped $(( ($(date +%s%N) - died) / 1000000 )) ms after its init was killed"
check "…its cgroup is gone" wait_until 5 bash -c "! ls -d /sys/fs/cgroup/$parent/m1 /sys/fs/cgroup/*/$parent/m1 2>/dev/null"
check "…and its netns mount" test ! -e /run/netns/swineherd-m1
check "herd start m1 starts it afresh" herd start swine:m1

# stop and start of an adopted container.
m2_init=$(herd pid swine:m2)
check "stop of adopted m2" herd stop swine:m2
check "…its init is gone" wait_until 5 gone "$m2_init"
check "…and its cgroup" bash -c "! ls -d /sys/fs/cgroup/$parent/m2 /sys/fs/cgroup/*/$parent/m2 2>/dev/null"
check "start m2 again" herd start swine:m2
check "…a new init" test "$(herd pid swine:m2)" != "$m2_init"

# kill of an adopted container leaves nothing behind.
m3_init=$(herd pid swine:m3)
m3_veth=$(ip -o link show master swineherd0 | grep -F 'swineherd:swineherd0:m3' | awk -F'[:@ ]+' '{print $2}')
check "kill of adopted m3" timeout 30 herd -s "$socket" kill swineherd m3
check "…its init is gone" wait_until 5 gone "$m3_init"
check "…nothing of m3 is left" bash -c \
  "[ -z \"\$(ls -d container-root/m3 swineherd-state/containers/m3.scm /sys/fs/cgroup/$parent/m3 /sys/fs/cgroup/*/$parent/m3 /run/netns/swineherd-m3 2>/dev/null)\" ] && ! ip link show $m3_veth 2>/dev/null"

# A PID file that names an unrelated process, the container's own processes
# gone: not adopted, the process left alone, the container started afresh.
kill -KILL "$shepherd_pid"; wait "$shepherd_pid" 2>/dev/null; shepherd_pid=
for pid in $(cat "$(cgroup_file pids "$parent"/m4 cgroup.procs)"); do kill -KILL "$pid"; done
sleep 600 & unrelated=$!
echo "$unrelated" > /run/swineherd/m4.pid
start_shepherd
check "m4 is running again" wait_until 30 output_has "It is running" herd status swine:m4
check "…with an init of its own, not the unrelated process" test "$(herd pid swine:m4)" != "$unrelated"
check "…which is left alone" kill -0 "$unrelated"
check "…and m4 was not adopted" bash -c "! grep -q 'adopted container m4' $shepherd_log"
kill "$unrelated"
finish
