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
for id in 'a/b' '..' '.' '-x' 'x y' ' x' $'x\ty' $'x\ny' '' "$(printf 'x%.0s' {1..65})" \
          "$(printf 'x%.0s' {1..300})" 'é' '../../etc' 'a;b' '$(id)' '*'; do
  check "invalid ID '${id:0:20}' → error" fails_with "invalid container ID" herd new swineherd -- "$id" "$script"
done
# herd cannot pass a NUL; speak Shepherd's protocol directly.
check "ID with a NUL → error" output_has 'invalid container ID \"a\\x00b\"' guile -c '
  (use-modules (shepherd comm))
  (let ((sock (open-connection "'"$socket"'")))
    (write-command (shepherd-command (quote new) (quote swineherd)
                                     #:arguments (list (string #\a #\nul #\b) "'"$script"'"))
                   sock)
    (write (read sock)))'
check "ID with colon is valid (prefix:id)" herd new swineherd web:1 "$script"
check "missing script → error" fails_with "does not exist or is not executable" herd new swineherd x /nonexistent
cp "$script" "$work/not-executable" && chmod -x "$work/not-executable"
check "non-executable script → error" fails_with "does not exist or is not executable" \
  herd new swineherd x "$work/not-executable"
check "directory as script → error" fails_with "does not exist or is not executable" herd new swineherd x /tmp
ln -s /nonexistent "$work/dangling"
check "dangling symlink as script → error" fails_with "does not exist or is not executable" \
  herd new swineherd x "$work/dangling"
for bad in --memory=abc --memory=0 --memory= --disk-limit=-1 --disk-limit=1Q --cpus=0 --cpus=abc \
           --pids=-5 --pids=99999999 --cpu-weight=0 --network=bogus --ip=1.2.3 --respawn=yes; do
  check "bad option $bad → error naming it" fails_with "${bad%%=*}" herd new swineherd -- x "$bad" "$script"
done
check "--from an unknown container → error" fails_with "--from: no container with ID nope" \
  herd new swineherd -- x --from=nope "$script"
check "relative script → error" fails_with "not an absolute file name" herd new swineherd x run-container
check "no script → error" fails_with "no SCRIPT given" herd new swineherd x
check "unknown swineherd option → error" fails_with 'unknown option "--bogus=1"' \
  herd new swineherd -- x --bogus=1 "$script"
check "herd's own option → error naming --" fails_with "put \`--'" \
  herd new swineherd x "$script" --log-file=/tmp/x
check "kill without ID → error" fails_with "expected exactly one container ID" herd kill swineherd
check "stop of a container works" herd stop swine:web:1
check "pid of a stopped container → error" fails_with "is not running" herd pid swine:web:1
for action in ip up exec peek; do
  args=(); case $action in exec) args=(-- true) ;; peek) args=(/etc/passwd root) ;; esac
  check "$action on a stopped container → error" fails_with "is not running; start it with" \
    herd "$action" swine:web:1 "${args[@]}"
done
check "action on an unknown container → error" fails_with "could not be found" herd exec swine:nope -- true
check "exec without COMMAND → usage" fails_with "no COMMAND given" herd exec swine:dup
check "peek without REGEX → usage" fails_with "expected FILE and REGEX" herd peek swine:dup /etc/passwd
check "snapshot with a bad name → error" fails_with "invalid snapshot name" herd snapshot swine:dup ../x
check "delete of a missing snapshot → error" fails_with "has no snapshot named nope" \
  herd delete-snapshot swine:dup nope
check "stats with a bad format → error" fails_with "the argument is \`json' or \`sexp'" \
  herd stats swineherd yaml
check "kill with two IDs → error" fails_with "expected exactly one container ID" herd kill swineherd a b
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
