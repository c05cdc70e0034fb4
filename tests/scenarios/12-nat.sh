#!/usr/bin/env bash
# Outbound NAT and published ports: a client in an "outside" network
# namespace reaches a container's TCP (and UDP) service through a port
# published on the host; a container reaches a server outside through NAT
# (which sees the host's address); the host itself, its 127.0.0.1 and other
# containers reach published ports too; conflicts and bad specs are refused
# before anything is made; nothing of a container is left in the ruleset
# after stop, kill or death, nothing of swineherd after `down' and stop;
# after a Shepherd crash the rules come back and orphans go.  All traffic
# stays in namespaces this test makes: the sandbox's own (the "host"), the
# containers', and "outside", joined to the host by a veth.  The ruleset is
# checked with nft(8).
. "$(dirname "$0")"/lib.sh

enter_work_directory

make_outside_network

start_shepherd

address_of() { herd ip swine:"$1" | head -n 1 | cut -d/ -f1; }
ruleset() { nft list ruleset; }
ruleset_has() { grep -qF -- "$1" <<<"$(ruleset)"; }
ruleset_lacks() { ! ruleset_has "$1"; }
# echo_via NETNS ADDRESS PORT: send a line to ADDRESS:PORT from NETNS (""
# = the host) and check that it comes back.
echoes() {
  local run=() line="ping-$RANDOM"
  [ -n "$1" ] && run=(ip netns exec "$1")
  [ "$(echo "$line" | "${run[@]}" timeout 5 nc -N -w 3 "$2" "$3" 2>/dev/null)" = "$line" ]
}
refused() { ! echoes "$@"; }

check "swineherd's table is made at start" ruleset_has "table ip swineherd"
check "…masquerading the subnet leaving through other interfaces" \
  ruleset_has 'ip saddr 10.0.0.0/16 oifname != "swineherd0" masquerade'
check "forwarding is on" test "$(cat /proc/sys/net/ipv4/ip_forward)" = 1

check "new web, publishing 8080→80, 192.168.77.1:8081→80, 5353→53/udp" \
  herd new swineherd -- web --publish=8080:80 --publish=192.168.77.1:8081:80/tcp \
  --publish=5353:53/udp "$script"
web=$(address_of web)
check "web's echo service runs" wait_until 30 echoes "" "$web" 80
check "the ruleset has web's chains" ruleset_has "chain swine:web/prerouting"
check "…with its DNAT rules" ruleset_has "fib daddr type local tcp dport 8080 dnat to $web:80"

# (1) From outside, through the published port.
check "outside → 192.168.77.1:8080 reaches web's echo service" echoes outside 192.168.77.1 8080
check "outside → 192.168.77.1:8081 (published on that address) too" echoes outside 192.168.77.1 8081
check "outside → an unpublished port is refused" refused outside 192.168.77.1 8082
ip netns exec swineherd-web timeout 10 socat -u UDP-RECV:53 OPEN:"$work/udp.out",creat 2>/dev/null &
udp=$!
wait_until 5 bash -c "ip netns exec swineherd-web ss -lun | grep -q ':53 '"
echo udp-hello | ip netns exec outside socat -u - UDP-SENDTO:192.168.77.1:5353
check "outside → 192.168.77.1:5353/udp reaches web's port 53" wait_until 5 grep -q udp-hello "$work/udp.out"
kill "$udp" 2>/dev/null

# (2) Outbound: a server outside sees the host's address.
ip netns exec outside socat TCP-LISTEN:9000,reuseaddr,fork SYSTEM:'echo $SOCAT_PEERADDR' 2>/dev/null &
server=$!
wait_until 5 bash -c "ip netns exec outside ss -ltn | grep -q ':9000 '"
peer=$(ip netns exec swineherd-web timeout 5 nc -w 3 192.168.77.2 9000 </dev/null)
check "web → outside: the server sees the host's 192.168.77.1 (masquerade)" test "$peer" = 192.168.77.1
kill "$server" 2>/dev/null

# (3) From the host itself, its loopback, and other containers (hairpin).
check "host → 192.168.77.1:8080" echoes "" 192.168.77.1 8080
check "host → 127.0.0.1:8080 (localhost)" echoes "" 127.0.0.1 8080
check "host → 127.0.0.1:8081 is not published (8081 is for 192.168.77.1 only)" refused "" 127.0.0.1 8081
check "new client, publishing 0.0.0.0:9091→80 (every address)" \
  herd new swineherd -- client --publish=0.0.0.0:9091:80 "$script"
check "outside → 192.168.77.1:9091 reaches client" wait_until 30 echoes outside 192.168.77.1 9091
check "client → 192.168.77.1:8080 (hairpin)" echoes swineherd-client 192.168.77.1 8080
check "client → 10.0.0.1:8080 (the bridge's address)" echoes swineherd-client 10.0.0.1 8080
check "web → 192.168.77.1:8080 (itself, through the host)" echoes swineherd-web 192.168.77.1 8080
check "…which takes hairpin mode on its bridge port (br_netfilter)" bash -c \
  "bridge -d link show dev swh\$(printf '%02x' \$(tr . ' ' <<<$web)) | grep -q 'hairpin on'"
check "containers cannot reach the host's loopback through the bridge" \
  ruleset_has 'iifname "swineherd0" ip daddr 127.0.0.0/8 drop'

# (4) Conflicts and bad specs: clear errors, nothing made.
check "same host port → error naming the owner" \
  fails_with "host port 8080/tcp is already published by container web" \
  herd new swineherd -- other --publish=8080:80 "$script"
check "…nothing was made for it" bash -c \
  "[ ! -e container-root/other ] && [ ! -e swineherd-state/containers/other.scm ] && ! grep -rqx other swineherd-state/addresses swineherd-state/ports"
check "99999:80 → out of range" fails_with 'invalid --publish "99999:80": port 99999 is out of range (1 to 65535)' \
  herd new swineherd -- other --publish=99999:80 "$script"
check "a:b → not a port number" fails_with 'invalid --publish "a:b": "a" is not a port number' \
  herd new swineherd -- other --publish=a:b "$script"
check "80:80/sctp → unsupported protocol" fails_with 'protocol "sctp" is not supported; use /tcp (the default) or /udp' \
  herd new swineherd -- other --publish=80:80/sctp "$script"
check "host address that is not one → error" fails_with '"1.2.3" is not an IPv4 address' \
  herd new swineherd -- other --publish=1.2.3:80:80 "$script"
check "the same host port twice → error" fails_with "host port 9090/tcp is given twice" \
  herd new swineherd -- other --publish=9090:80 --publish=9090:81 "$script"
check "--publish with --network=none → error" fails_with "--publish needs the container's network" \
  herd new swineherd -- other --network=none --publish=9090:80 "$script"
check "after the refusals, no container 'other' and Shepherd serves" output_has "web running" herd list swineherd
jobs=()
for i in 1 2 3 4; do herd new swineherd -- "race$i" --publish=7070:80 "$script" >"$work/race$i.out" 2>&1 & jobs+=($!); done
wait "${jobs[@]}"
check "4 concurrent news for one port: exactly one gets it" test "$(herd list swineherd | grep -c '^race')" = 1
check "…the others were told who holds it" test "$(grep -l 'already published by container race' "$work"/race*.out | wc -l)" = 3
winner=$(herd list swineherd | sed -n 's/^\(race[0-9]\) .*/\1/p')
check "kill the winner ($winner)" herd kill swineherd "$winner"
check "…its port can be published again" herd new swineherd -- reuse --publish=7070:80 "$script"
check "kill reuse" herd kill swineherd reuse
check "…its lease is gone" test -z "$(ls swineherd-state/ports | grep 7070)"

# (5) Rules follow the container's life.
check "stop web" herd stop swine:web
check "stopped: nothing of web in the ruleset" ruleset_lacks "$web"
check "…port 8080 is refused" refused outside 192.168.77.1 8080
check "…but web keeps its port lease" grep -qx web swineherd-state/ports/tcp-8080
check "start web" herd start swine:web
check "started: its rules are back" ruleset_has "dnat to $web:80"
check "…and the port reaches it again" wait_until 30 echoes outside 192.168.77.1 8080
kill -KILL "$(herd pid swine:web)"
check "web's init dies: its rules go at once" wait_until 2 ruleset_lacks "swine:web"
check "herd start web" herd start swine:web
check "…reachable from outside again" wait_until 30 echoes outside 192.168.77.1 8080
check "down swine:web and up again: still published" bash -c \
  "herd -s $socket down swine:web && herd -s $socket up swine:web"
check "…reachable" wait_until 30 echoes outside 192.168.77.1 8080

check "down swineherd" herd down swineherd
check "…no table of swineherd's left" bash -c "! nft list tables | grep -q swineherd"
check "…web is disconnected" test -z "$(herd ip swine:web)"
check "up swineherd" herd up swineherd
check "…the table is back with web's rules" ruleset_has "dnat to $web:80"
check "up swine:web" herd up swine:web
check "…reachable from outside again" wait_until 30 echoes outside 192.168.77.1 8080

# A crash: SIGKILL to Shepherd, with an orphan chain and an orphan lease.
echo '{"nftables":[{"add":{"chain":{"family":"ip","table":"swineherd","name":"swine:ghost/prerouting"}}}]}' | nft -j -f -
echo ghost > swineherd-state/ports/tcp-6060
kill -KILL "$shepherd_pid"; wait "$shepherd_pid" 2>/dev/null; shepherd_pid=
start_shepherd
check "after restart, web runs again" wait_until 30 output_has "It is running" herd status swine:web
check "…its rules are restored" wait_until 10 ruleset_has "dnat to $web:80"
check "…and reachable from outside" wait_until 30 echoes outside 192.168.77.1 8080
check "the orphan chain is gone" ruleset_lacks "swine:ghost"
check "the orphan port lease is released" test ! -e swineherd-state/ports/tcp-6060
check "rules of web, once each (prerouting, output)" test "$(ruleset | grep -c "dnat to $web:80")" = 4

check "kill web" herd kill swineherd web
check "after kill: nothing of web in the ruleset" bash -c "! nft list ruleset | grep -qE 'swine:web|$web'"
check "…no port leases left of web" test -z "$(grep -rlx web swineherd-state/ports)"
check "kill client" herd kill swineherd client
stop_shepherd
check "Shepherd stopped: no table of swineherd's left" bash -c "! nft list tables | grep -q swineherd"
ip netns del outside
finish
