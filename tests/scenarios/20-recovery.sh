#!/usr/bin/env bash
# Recovery after a Shepherd crash: one bad container never costs the
# others.  A container whose data is gone, records whose arguments are
# numbers or whose address is not quoted: each is reported with its reason
# (log and `herd status swineherd'), and every other container comes back.
. "$(dirname "$0")"/lib.sh

work=$(mktemp -d)
cd "$work"
script=$(make_container_script "$work/script")
parent=$SWINEHERD_CGROUP_PARENT
records=swineherd-state/containers
start_shepherd

ids=(a0 b1 b2 b3 c)
for id in "${ids[@]}"; do
  check "new $id" herd new swineherd "$id" "$script"
done
c_init=$(herd pid swine:c)
c_veth=$(ip -o link show master swineherd0 | grep -F "swineherd:swineherd0:c" | awk -F'[:@ ]+' '{print $2}')
check "c has a veth on the bridge ($c_veth)" test -n "$c_veth"

kill -KILL "$shepherd_pid"; wait "$shepherd_pid" 2>/dev/null; shepherd_pid=
# a0's data is gone; b2's record has numbers as arguments; c's record an
# address without quotes (a symbol when read).
mv container-root/a0 "$work"/a0-away
sed -i 's/(arguments ())/(arguments (1 2))/' $records/b2.scm
sed -i 's/(address "\(10[.0-9]*\)")/(address \1)/' $records/c.scm
check "b2's record has numbers as arguments" grep -q '(arguments (1 2))' $records/b2.scm
check "c's record has an unquoted address" grep -Eq '\(address 10[.0-9]+\)' $records/c.scm

restarted=$(date +%s%N)
start_shepherd
check "swineherd itself starts" output_has "It is running" herd status swineherd
for id in b1 b3; do
  check "$id is running again" wait_until 30 output_has "It is running" herd status swine:$id
done
echo "  b1 and b3 running $(( ($(date +%s%N) - restarted) / 1000000 )) ms after Shepherd's restart"
check "a0 is stopped" output_has "It is stopped" herd status swine:a0
check "…the log says why" grep -q "swineherd: container a0 not started: its data .*/container-root/a0 is missing" "$shepherd_log"
check "…and so does herd status swineherd" output_has "containers not started: a0 (its data" herd status swineherd
check "b2's record is reported, with the field" grep -q \
  "ignoring container record .*/b2.scm: (arguments (1 2)) is not a list of strings" "$shepherd_log"
check "c's record is reported, with the field" grep -q \
  "ignoring container record .*/c.scm: (address 10[.0-9]*, a symbol,) is not #f or an IPv4 address" "$shepherd_log"
check "both are in herd status swineherd" output_has "unreadable records kept: b2.scm, c.scm" herd status swineherd
check "c's old init is gone (its cgroup emptied)" wait_until 10 gone "$c_init"
check "…and its veth" bash -c "! ip link show $c_veth 2>/dev/null"
check "only b1's and b3's veths are on the bridge" test "$(ip -o link show master swineherd0 | wc -l)" = 2

# Repaired, a0 starts again with its data.
mv "$work"/a0-away container-root/a0
check "a0, its data back, starts" herd start swine:a0
check "…and runs" output_has "It is running" herd status swine:a0

for id in a0 b1 b3; do herd kill swineherd "$id" >/dev/null; done
rm -f $records/b2.scm $records/c.scm
finish
