#!/usr/bin/env bash
# Network isolation, attacked from inside containers with an attacker's
# tools: `ip addr add` of a neighbour's address, gratuitous ARP (raw frames
# sent through a packet socket, as `arping -U' does), `ip link set
# address`, a forged source address, IPv6; each attack fails and the victim
# keeps its traffic.  The host's own services, on the bridge's address, on
# another host address and over IPv6, are closed to containers unless
# opened in the configuration; published ports and outbound NAT still
# work; --isolated (or the configuration's default) keeps containers
# apart but for published ports.  The filters follow the container (start,
# stop, death, down, up, kill, swineherd down/up, a Shepherd crash).
# Everything is checked with independent tools: nft, ip, bridge, socat,
# nc, ping.  All traffic stays in namespaces this test makes.
. "$(dirname "$0")"/lib.sh

work=$(mktemp -d)
cd "$work"
script=$(make_container_script "$work/script")
background=()
cleanup() {
  for pid in "${background[@]}"; do kill "$pid" 2>/dev/null; done
  stop_shepherd
  ip netns del outside 2>/dev/null
  ip addr del 192.168.50.1/32 dev lo 2>/dev/null
}
trap cleanup EXIT

# "outside": another network, behind the host, which also has another
# address, 192.168.50.1 (on lo), that outside reaches.
make_outside_network
ip addr add 192.168.50.1/32 dev lo
ip -n outside route add 192.168.50.1/32 via 192.168.77.1

# serve NETNS PORT TEXT: a TCP server (IPv4 and IPv6) that says TEXT.
serve() {
  local run=()
  [ -n "$1" ] && run=(ip netns exec "$1")
  "${run[@]}" socat TCP6-LISTEN:"$2",ipv6only=0,reuseaddr,fork SYSTEM:"echo $3" 2>/dev/null &
  background+=($!)
  wait_until 5 bash -c "${run[*]} ss -ltn | grep -q ':$2 '"
}
# says NETNS ADDRESS PORT TEXT: a connection from NETNS ("" = the host) to
# ADDRESS:PORT gets TEXT.  What must work is tried three times (a loaded
# machine can miss one 2 s window); what must not, once.
says_once() {
  local run=()
  [ -n "$1" ] && run=(ip netns exec "$1")
  [ "$("${run[@]}" timeout 5 nc -w 2 "$2" "$3" </dev/null 2>/dev/null)" = "$4" ]
}
# echoes NETNS ADDRESS PORT: what NETNS sends to ADDRESS:PORT comes back.
echoes_once() {
  local run=() line="ping-$RANDOM"
  [ -n "$1" ] && run=(ip netns exec "$1")
  [ "$(echo "$line" | "${run[@]}" timeout 5 nc -N -w 2 "$2" "$3" 2>/dev/null)" = "$line" ]
}
thrice() { "$@" || "$@" || "$@"; }
says() { thrice says_once "$@"; }
silent() { ! says_once "$@"; }
echoes() { thrice echoes_once "$@"; }
refused() { ! echoes_once "$@"; }
in_ns() { local ns=$1; shift; ip netns exec "swineherd-$ns" "$@"; }
address_of() { herd ip swine:"$1" | head -n 1 | cut -d/ -f1; }
mac_of() { printf '02:73:77:00:00:%02x' "${1##*.}"; }
hexbytes() { tr -d ':.' <<<"$1" | sed 's/../\\x&/g'; }
ip_hex() { printf '%02x' $(tr . ' ' <<<"$1"); }
# arp_frame MAC SENDER-IP TARGET-IP OP: an ARP frame from MAC, as a
# printf format (OP 1: request, 2: reply); gratuitous when SENDER-IP is
# TARGET-IP.
arp_frame() {
  local mac op
  mac=$(hexbytes "$(tr -d : <<<"$1")")
  op=$(printf '\\x00\\x%02x' "$4")
  printf '%s' "\xff\xff\xff\xff\xff\xff$mac\x08\x06\x00\x01\x08\x00\x06\x04$op$mac$(hexbytes "$(ip_hex "$2")")"
  printf '%s' "\x00\x00\x00\x00\x00\x00$(hexbytes "$(ip_hex "$3")")"
}
# send_frame CONTAINER FORMAT: send the raw Ethernet frame FORMAT (printf)
# on CONTAINER's eth0, through a packet socket.
send_frame() { printf "$2" | in_ns "$1" socat -u STDIN INTERFACE:eth0; }
# bridge_sees FORMAT CONTAINER: the host's bridge receives the frame
# FORMAT when CONTAINER sends it (a packet socket on swineherd0 listens).
bridge_sees() {
  local want got
  want=$(printf "$1" | od -An -v -tx1 | tr -d ' \n')
  rm -f "$work/cap"
  timeout 2 socat -u INTERFACE:swineherd0 OPEN:"$work/cap",creat 2>/dev/null &
  local capture=$!
  wait_until 2 bash -c 'ss -0 -p | grep -q socat' || return 1
  send_frame "$2" "$1"; send_frame "$2" "$1"
  wait "$capture"
  got=$(od -An -v -tx1 "$work/cap" 2>/dev/null | tr -d ' \n')
  [[ $got == *"$want"* ]]
}
neighbour_mac() { ip "${@:2}" neigh show "$1" | grep -o 'lladdr [0-9a-f:]*' | cut -d' ' -f2; }
ruleset() { nft list ruleset; }
ruleset_has() { grep -qF -- "$1" <<<"$(ruleset)"; }
ruleset_lacks() { ! ruleset_has "$1"; }
not() { ! "$@"; }
# pings CONTAINER ADDRESS [OPTION...]: one ping from CONTAINER is answered.
pings() { in_ns "$1" ping -c 1 -W 2 "${@:3}" "$2" >/dev/null 2>&1; }
# fdb_ports MAC: the bridge ports on which the bridge has learnt MAC.
fdb_ports() { bridge fdb show br swineherd0 | awk -v m="$1" '$1 == m {print $3}' | sort -u | tr '\n' ' '; }

start_shepherd
check "new a (the victim), publishing 8080→80" herd new swineherd -- a --publish=8080:80 "$script"
check "new b (the attacker)" herd new swineherd -- b "$script"
check "new c --isolated, publishing 8090→80" herd new swineherd -- c --isolated --publish=8090:80 "$script"
a=$(address_of a); b=$(address_of b); c=$(address_of c)
check "a's echo service runs" wait_until 30 echoes "" "$a" 80
check "c's echo service runs" wait_until 30 echoes "" "$c" 80

check "the netdev table holds a's ingress filter on its veth" \
  ruleset_has "type filter hook ingress device \"swh$(ip_hex "$a")\" priority filter; policy drop;"
check "…no egress filter for a (not isolated)" ruleset_lacks "chain swine:a/egress"
check "…and an egress filter for c (isolated)" ruleset_has "chain swine:c/egress"
check "the host's input from the bridge is closed" \
  ruleset_has 'iifname "swineherd0" drop comment "no other host service for containers"'

# (1) The host's services.
serve "" 7000 host-7000
check "control: outside → 192.168.77.1:7000 reaches the host's listener" says outside 192.168.77.1 7000 host-7000
check "control: outside → 192.168.50.1:7000 too" says outside 192.168.50.1 7000 host-7000
check "a → 10.0.0.1:7000 (the bridge's address) does not" silent swineherd-a 10.0.0.1 7000 host-7000
check "a → 192.168.50.1:7000 (another host address) does not" silent swineherd-a 192.168.50.1 7000 host-7000
bridge_ll=$(ip -6 -o addr show dev swineherd0 scope link | awk '{print $4}' | cut -d/ -f1)
check "the bridge has an IPv6 link-local address ($bridge_ll)" test -n "$bridge_ll"
check "b has an IPv6 link-local address of its own (past duplicate detection)" wait_until 10 bash -c \
  "ip netns exec swineherd-b ip -6 -o addr show dev eth0 scope link | grep -v tentative | grep -q fe80"
check "b → [$bridge_ll%eth0]:7000 (IPv6) does not" silent swineherd-b "$bridge_ll%eth0" 7000 host-7000
check "b cannot ping the bridge over IPv6" not pings b "$bridge_ll%eth0" -6
check "a → 10.0.0.1:8080 (a published port, hairpin) works" echoes swineherd-a 10.0.0.1 8080
ip netns exec outside socat TCP-LISTEN:9000,reuseaddr,fork SYSTEM:'echo $SOCAT_PEERADDR' 2>/dev/null &
background+=($!)
wait_until 5 bash -c "ip netns exec outside ss -ltn | grep -q ':9000 '"
check "a → outside works, masqueraded" says swineherd-a 192.168.77.2 9000 192.168.77.1

# (2) Isolation.
check "a ↔ b talk directly (not isolated)" echoes swineherd-a "$b" 80
check "a → c (isolated) does not" refused swineherd-a "$c" 80
check "b → c does not" refused swineherd-b "$c" 80
check "c → a does not" refused swineherd-c "$a" 80
check "a → 10.0.0.1:8090 (c's published port) reaches c" echoes swineherd-a 10.0.0.1 8090
check "c → 10.0.0.1:8080 (a's published port) reaches a" echoes swineherd-c 10.0.0.1 8080
check "host → c works" echoes "" "$c" 80
check "outside → 192.168.77.1:8090 reaches c" echoes outside 192.168.77.1 8090
check "c → outside works" says swineherd-c 192.168.77.2 9000 192.168.77.1
check "--isolated=maybe is refused" fails_with 'invalid --isolated "maybe": give --isolated alone, or --isolated=no' \
  herd new swineherd -- x --isolated=maybe "$script"

# (3) b takes a's address, announces it with gratuitous ARP.
check "host ↔ a: the host's neighbour entry for a is a's MAC" \
  test "$(neighbour_mac "$a")" = "$(mac_of "$a")"
in_ns b socat TCP-LISTEN:8088,reuseaddr,fork SYSTEM:'echo attacker' 2>/dev/null &
background+=($!)
check "b can add a's address inside (its own namespace)" in_ns b ip addr add "$a"/32 dev eth0
garp_spoof=$(arp_frame "$(mac_of "$b")" "$a" "$a" 1)
garp_own=$(arp_frame "$(mac_of "$b")" "$b" "$b" 1)
check "control: b's gratuitous ARP for its own address reaches the bridge" bridge_sees "$garp_own" b
check "b's gratuitous ARP claiming a's address does not" not bridge_sees "$garp_spoof" b
# poisoned [-n NETNS] ADDRESS: b sends gratuitous ARP replies claiming
# ADDRESS; the neighbour entry for it (on the host, or in NETNS) is b's MAC.
poisoned() {
  local where=("${@:1:$#-1}") address=${*: -1}
  send_frame b "$(arp_frame "$(mac_of "$b")" "$address" "$address" 2)"
  test "$(neighbour_mac "$address" "${where[@]}")" = "$(mac_of "$b")"
}
# (The kernel ignores an update within a second of the last one: keep
# trying for three.)
check "…nor its ARP replies: the host's entry for a stays a's MAC" not wait_until 3 poisoned "$a"
check "host → a:8088 never reaches b's listener" silent "" "$a" 8088 attacker
check "host → a:80 still reaches a" echoes "" "$a" 80
check "host → 127.0.0.1:8080 (a's published port) still reaches a" echoes "" 127.0.0.1 8080
check "outside → 192.168.77.1:8080 still reaches a" echoes outside 192.168.77.1 8080

# (4) b forges a's source address toward another network.
ip netns exec outside socat -u UDP-RECV:9999 OPEN:"$work/udp.out",creat 2>/dev/null &
background+=($!)
wait_until 5 bash -c "ip netns exec outside ss -lun | grep -q ':9999 '"
echo forged | in_ns b socat -u - UDP-SENDTO:192.168.77.2:9999,bind="$a" 2>/dev/null
echo honest | in_ns b socat -u - UDP-SENDTO:192.168.77.2:9999,bind="$b"
check "control: b's datagram from its own address gets out" wait_until 5 grep -q honest "$work/udp.out"
check "b's datagram with a's source address does not" not grep -q forged "$work/udp.out"
in_ns b ip addr del "$a"/32 dev eth0

# (5) b impersonates the gateway.
bridge_mac=$(cat /sys/class/net/swineherd0/address)
check "a pings the gateway (its neighbour entry is the bridge's MAC)" pings a 10.0.0.1
send_frame b "$(arp_frame "$(mac_of "$b")" 10.0.0.1 10.0.0.1 1)"
check "b's gratuitous ARP for 10.0.0.1 leaves a's entry for it alone" not wait_until 3 poisoned -n swineherd-a 10.0.0.1
check "…which is the bridge's MAC" test "$(neighbour_mac 10.0.0.1 -n swineherd-a)" = "$bridge_mac"
check "…and a reaches the host" pings a 10.0.0.1

# (6) b takes a's MAC.
check "b can change its MAC to a's inside" in_ns b ip link set eth0 address "$(mac_of "$a")"
check "with a's MAC, b reaches nothing (not even the gateway)" not pings b 10.0.0.1
check "…the bridge knows a's MAC on a's port only" test "$(fdb_ports "$(mac_of "$a")")" = "swh$(ip_hex "$a") "
check "…and a still reaches the host" echoes "" "$a" 80
in_ns b ip link set eth0 address "$(mac_of "$b")"
check "control: with its own MAC back, b reaches the gateway" wait_until 10 pings b 10.0.0.1

# (7) The filters follow the container.
check "down swine:a: its filter goes" bash -c "herd -s $socket down swine:a && ! nft list ruleset | grep -q 'swine:a/ingress'"
check "up swine:a: back" bash -c "herd -s $socket up swine:a && nft list ruleset | grep -q 'swine:a/ingress'"
check "stop swine:c: both its filters go" bash -c "herd -s $socket stop swine:c && ! nft list ruleset | grep -q 'swine:c/'"
check "start swine:c: back" bash -c "herd -s $socket start swine:c && nft list ruleset | grep -q 'swine:c/egress'"
kill -KILL "$(herd pid swine:b)"
check "b's init dies: its filter goes at once" wait_until 5 ruleset_lacks "swine:b/"
check "down swineherd: no table left" bash -c "herd -s $socket down swineherd && ! nft list tables | grep -q swineherd"
check "up swineherd: both tables back" bash -c "herd -s $socket up swineherd && nft list tables | grep -q 'netdev swineherd'"
check "up swine:a: filtered again" bash -c "herd -s $socket up swine:a && nft list ruleset | grep -q 'swine:a/ingress'"
check "…and reachable" wait_until 10 echoes "" "$a" 80

# (8) A crash, then a configuration that opens 7001/tcp and isolates by
# default; an orphan chain in the netdev table.
nft add chain netdev swineherd ghost '{ type filter hook ingress device "swhout0" priority 0; }'
check "an orphan chain is planted" ruleset_has "chain ghost"
kill -KILL "$shepherd_pid"; wait "$shepherd_pid" 2>/dev/null; shepherd_pid=
cat >"$work/config.scm" <<EOF
(add-to-load-path "$top/scheme")
(use-modules (swineherd))
(register-services
 (list (swineherd-service
        (swineherd-configuration #:open-host-ports '("7001/tcp")
                                 #:isolated? #t))))
(start-service (lookup-service 'swineherd))
EOF
start_shepherd "$work/config.scm"
check "after the crash, a runs again" wait_until 30 output_has "It is running" herd status swine:a
check "…filtered again, isolated by the configuration's default" wait_until 10 ruleset_has "chain swine:a/egress"
check "the orphan chain is gone" ruleset_lacks "ghost"
check "the open host port is in the input chain" ruleset_has 'tcp dport 7001 accept comment "open host port 7001/tcp"'
serve "" 7001 host-7001
check "a's echo service runs" wait_until 30 echoes "" "$a" 80
check "a → 10.0.0.1:7001 (opened) reaches the host" says swineherd-a 10.0.0.1 7001 host-7001
check "a → 10.0.0.1:7000 still does not" silent swineherd-a 10.0.0.1 7000 host-7000
check "new e and f --isolated=no" bash -c \
  "herd -s $socket new swineherd -- e --isolated=no '$script' && herd -s $socket new swineherd -- f --isolated=no '$script'"
e=$(address_of e); f=$(address_of f)
check "f's echo service runs" wait_until 30 echoes "" "$f" 80
check "e ↔ f talk (--isolated=no)" echoes swineherd-e "$f" 80
check "e → a does not (a isolated by default)" refused swineherd-e "$a" 80
check "a bad open host port is refused with its syntax" fails_with \
  'invalid open host port "99999/tcp": give PORT, PORT/tcp or PORT/udp' \
  "$top"/pre-inst-env guile -c "(use-modules (swineherd config)) (swineherd-configuration #:open-host-ports '(\"99999/tcp\"))"

for id in a b c e f; do herd kill swineherd "$id" >/dev/null; done
check "after kill: no chain of any container left" bash -c "! nft list ruleset | grep -q 'swine:'"
check "…no address or MAC of theirs either" not grep -qE "$a|$c|0x27377" <<<"$(ruleset)"
stop_shepherd
check "Shepherd stopped: no table of swineherd's left" bash -c "! nft list tables | grep -q swineherd"
finish
