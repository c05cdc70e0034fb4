#!/usr/bin/env bash
# Bad input: clear errors naming the problem and the fix, exit code 1, and
# Shepherd keeps serving.
. "$(dirname "$0")"/lib.sh

work=$(mktemp -d)
cd "$work"
script=$(make_container_script "$work/script")
start_shepherd
herd new swineherd dup "$script" >/dev/null

check "duplicate ID → error" fails_with "container dup already exists" herd new swineherd dup "$script"
check "the first container still runs" output_has "It is running" herd status swine:dup
check "unknown ID → error" fails_with "no container with ID nope" herd kill swineherd nope
for id in 'a/b' '..' '-x' 'x y' "$(printf 'x%.0s' {1..65})" 'é'; do
  check "invalid ID '$id' → error" fails_with "invalid container ID" herd new swineherd -- "$id" "$script"
done
check "ID with colon is valid (prefix:id)" herd new swineherd web:1 "$script"
check "missing script → error" fails_with "does not exist or is not executable" herd new swineherd x /nonexistent
check "relative script → error" fails_with "not an absolute file name" herd new swineherd x run-container
check "no script → error" fails_with "no SCRIPT given" herd new swineherd x
check "unknown swineherd option → error" fails_with 'unknown option "--bogus=1"' \
  herd new swineherd -- x --bogus=1 "$script"
check "herd's own option → error naming --" fails_with "put \`--'" \
  herd new swineherd x "$script" --log-file=/tmp/x
check "kill without ID → error" fails_with "expected exactly one container ID" herd kill swineherd
check "stop of a container works" herd stop swine:web:1
check "pid of a stopped container → error" fails_with "is not running" herd pid swine:web:1
check "failed commands created no service" fails_with "could not be found" herd status swine:x
check "Shepherd still serves herd status" output_has "swineherd" herd status
check "script options after -- reach the script" \
  herd new swineherd -- opts "$script" --expose=/etc=/mnt/etc
opts_init=$(herd pid swine:opts)
check "the --expose mapping is in the container" test -e /proc/"$opts_init"/root/mnt/etc/passwd
check "kill after errors works" herd kill swineherd dup
check "kill of a stopped container works" herd kill swineherd web:1
herd kill swineherd opts >/dev/null

finish
