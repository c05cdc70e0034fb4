#!/usr/bin/env bash
# Networking: the bridge, one veth per container with an address from the
# subnet and a default route, traffic between host and containers, up/down/
# ip, address leases, cleanup when a container dies.  Checked with iproute2
# and real TCP and ICMP traffic, all inside the sandbox's own network
# namespace and the containers' namespaces.
. "$(dirname "$0")"/lib.sh

work=$(mktemp -d)
cd "$work"
script=$(make_container_script "$work/script")
start_shepherd

ns() { echo "swineherd-$1"; }
address_of() { herd ip swine:"$1" | head -n 1 | cut -d/ -f1; }
# echo_via NETNS ADDRESS: send a line to the echo service at ADDRESS:80
# from NETNS ("" = the host side) and print what comes back.
echo_via() {
  local run=()
  [ -n "$1" ] && run=(ip netns exec "$1")
  echo "ping-$RANDOM" | "${run[@]}" timeout 5 nc -N -w 3 "$2" 80
}
echoes() { local out; out=$(echo_via "$1" "$2") && [ -n "$out" ]; }
# The echo service starts with the container's own Shepherd: wait for it.
wait_echo() { wait_until 20 echoes "" "$1"; }

check "the bridge exists with the gateway address" bash -c "ip -o addr show swineherd0 | grep -q '10.0.0.1/16'"
check "status shows the bridge" output_has "bridge swineherd0, 10.0.0.1/16" herd status swineherd

check "new a" herd new swineherd a "$script"
check "new b" herd new swineherd b "$script"
a=$(address_of a); b=$(address_of b)
check "ip prints ADDRESS/PREFIX" bash -c "herd -s $socket ip swine:a | grep -qx '$a/16'"
check "a and b have distinct addresses" test -n "$a" -a -n "$b" -a "$a" != "$b"
check "ip -n shows eth0 with a's address" bash -c "ip -n $(ns a) -o addr show eth0 | grep -q ' $a/16 '"
check "a has a default route via the bridge" bash -c "ip -n $(ns a) route | grep -q '^default via 10.0.0.1 dev eth0'"
check "a's host-side veth is on swineherd0" bash -c "ip -o link show master swineherd0 | grep -q swh"
check "/run/netns/$(ns a) is the init's network namespace" bash -c \
  "[ \"\$(ip netns exec $(ns a) readlink /proc/self/ns/net)\" = \"\$(readlink /proc/\$(herd -s $socket pid swine:a)/ns/net)\" ]"
check "the container's own view: eth0 has the address" bash -c \
  "nsenter -t \$(herd -s $socket pid swine:a) -a ip -o addr show eth0 | grep -q ' $a/16 '"

check "a's TCP service answers the host" wait_echo "$a"
check "…and container b" echoes "$(ns b)" "$a"
check "a pings the bridge" ip netns exec "$(ns a)" ping -c 1 -W 2 10.0.0.1

check "down a" herd down swine:a
check "down: ip prints nothing" test -z "$(herd ip swine:a)"
check "down: the veth is gone" bash -c "! ip -o link show master swineherd0 | grep -q \"\$(printf 'swh%08x' \$(( $(echo $a | awk -F. '{print ($1*2^24)+($2*2^16)+($3*2^8)+$4}') )))\""
check "down: /run/netns entry is gone" test ! -e /run/netns/"$(ns a)"
check "down: a is unreachable" bash -c "! echo x | timeout 3 nc -N -w 2 $a 80"
check "down twice is harmless" herd down swine:a
check "up a" herd up swine:a
check "up: the same address" test "$(address_of a)" = "$a"
check "up: reachable again" wait_until 40 echoes "" "$a" || { ip neigh; ip -n "$(ns a)" -o addr; ip -o link; }
check "up twice is harmless" herd up swine:a

# Bad input.
check "--ip outside the subnet → error" fails_with "outside the containers' subnet" \
  herd new swineherd -- c --ip=192.168.1.5 "$script"
check "--ip taken → error naming the owner" fails_with "already taken by container a" \
  herd new swineherd -- c --ip="$a" "$script"
check "--ip the bridge's → error" fails_with "the bridge's own address" \
  herd new swineherd -- c --ip=10.0.0.1 "$script"
check "--ip=junk → error" fails_with "invalid --ip" herd new swineherd -- c --ip=junk "$script"
check "failed news left no veth, no lease" bash -c "[ \$(ls $work/swineherd-state/addresses | wc -l) -eq 2 ]"
check "--ip fixed address" herd new swineherd -- fixed --ip=10.0.3.7 "$script"
check "it has it" test "$(address_of fixed)" = 10.0.3.7
check "--network=none" herd new swineherd -- offline --network=none "$script"
check "it has no eth0" bash -c "! nsenter -t \$(herd -s $socket pid swine:offline) -n ip link show eth0 2>/dev/null"
check "ip prints nothing for it" test -z "$(herd ip swine:offline)"
check "up on it → error" fails_with "created with --network=none" herd up swine:offline

# A container that dies by itself releases its veth and netns mount at once.
init=$(herd pid swine:b)
kill -KILL "$init"
check "after SIGKILL of b's init its netns mount goes, without any command" \
  wait_until 10 test ! -e /run/netns/"$(ns b)"
check "…and its veth" bash -c "[ \$(ip -o link show master swineherd0 | wc -l) -eq 2 ]"
check "b is stopped, not running" bash -c "herd -s $socket status swine:b | grep -qE 'stopped|disabled'"
check "ip on a stopped container prints nothing, exit 0" test -z "$(herd ip swine:b)"
check "b starts again with its address" bash -c \
  "herd -s $socket enable swine:b >/dev/null; herd -s $socket start swine:b >/dev/null && [ \"\$(herd -s $socket ip swine:b | cut -d/ -f1)\" = '$b' ]"

# Twenty containers, twenty addresses; a killed one's address is free
# again, but never one in use.
for i in $(seq 1 17); do herd new swineherd "n$i" "$script" >/dev/null || echo "  new n$i failed"; done
addresses=$(for s in a b fixed $(seq -f 'n%g' 1 17); do address_of "$s"; done)
check "20 containers, 20 distinct addresses" test "$(sort -u <<<"$addresses" | wc -l)" = 20
check "the leases on disk agree" test "$(ls swineherd-state/addresses | wc -l)" = 20
n5=$(address_of n5)
check "kill n5" herd kill swineherd n5
check "its lease is gone" test ! -e swineherd-state/addresses/"$n5"
check "new n18" herd new swineherd n18 "$script"
n18=$(address_of n18)
check "n18 got a free address, none in use" bash -c "! grep -qx '$n18' <<<\"\$(for s in a b fixed n1 n2 n3 n4 n6 n7 n8 n9 n10 n11 n12 n13 n14 n15 n16 n17; do herd -s $socket ip swine:\$s | cut -d/ -f1; done)\""

for s in a b fixed offline n18 $(seq -f 'n%g' 1 17); do herd kill swineherd "$s" >/dev/null 2>&1; done
check "after kill: no veth left" test -z "$(ip -o link show master swineherd0)"
check "after kill: no netns mounts left" bash -c "! ls /run/netns 2>/dev/null | grep -q swineherd"
check "after kill: no leases left" test -z "$(ls swineherd-state/addresses)"
finish
