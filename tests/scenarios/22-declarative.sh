#!/usr/bin/env bash
# Declared containers (#22): a Shepherd configuration declares containers
# in a file (#:containers "FILE"); swineherd brings them up when it starts.
# The file is edited (one changed, one dropped, one added) and `herd
# reconcile swineherd' applies it: the unchanged one keeps its init, the
# changed one restarts with its new limits and its data, the dropped one is
# stopped with its data kept, the new one runs, a `herd new' container is
# untouched.  Bad declarations fail alone, naming the container.  The pure
# plan of (swineherd declaration) is checked first.
. "$(dirname "$0")"/lib.sh

work=$(mktemp -d)
cd "$work"
minimal=$top/bench/minimal-container
parent=$SWINEHERD_CGROUP_PARENT

# The plan, pure: declarations × records × existing containers.
plan=$(GUILE_AUTO_COMPILE=0 "$top"/pre-inst-env guile -c '
(use-modules (swineherd declaration) (ice-9 match))
(define (c id . options)
  (swineherd-container #:id id #:script "/s" #:options options))
(define plan
  (reconcile-plan (list (c "new") (c "same") (c "changed" "--memory=1G")
                        (c "again") (c "foreign") (c "bad"))
                  (list (cons (c "same") #f) (cons (c "changed") #f)
                        (cons (c "again") #t) (cons (c "dropped") #f)
                        (cons (c "gone") #f) (cons (c "old") #t)
                        (cons (c "bad") #f))
                  (list "same" "changed" "again" "foreign" "dropped" "old"
                        "bad")
                  #:untouchable (list "bad")))
(for-each (match-lambda ((action id _) (format #t "~a:~a " action id)))
          plan)
(call-with-values
    (lambda ()
      (check-declarations (list (c "a") (c "a") (c "b" "--memory=lots")
                                (c "no/slash") (c "ok"))
                          #:script-problem (const #f)))
  (lambda (good problems)
    (format #t "| good:~a bad:~a"
            (map swineherd-container-id good) (map car problems))))' 2>plan.err)
check "plan: create, keep, replace, resume, foreign, retire, forget; the bad one untouched" \
  test "$plan" = "create:new keep:same replace:changed resume:again foreign:foreign retire:dropped forget:gone | good:(ok) bad:(a a b no/slash)"
[ "$plan" = "create:new keep:same replace:changed resume:again foreign:foreign retire:dropped forget:gone | good:(ok) bad:(a a b no/slash)" ] || { echo "  plan was: $plan"; cat plan.err; }

declare_containers() {          # write the declarations file from $@ (Scheme forms)
  { echo "(list"; printf '  %s\n' "$@"; echo ")"; } > "$work/containers.scm.new"
  mv "$work/containers.scm.new" "$work/containers.scm"
}
decl() { echo "(swineherd-container #:id \"$1\" #:script \"$minimal\" #:options '($2))"; }

declare_containers "$(decl a '"--memory=256M"')" "$(decl b '"--memory=256M"')" "$(decl c '')"
cat > config.scm <<EOF
(add-to-load-path "$top/scheme")
(use-modules (swineherd))
(register-services
 (list (swineherd-service
        (swineherd-configuration #:containers "$work/containers.scm"))))
(start-service (lookup-service 'swineherd))
EOF
start_shepherd "$work/config.scm"

status_of() { herd status "swine:$1" 2>&1 || true; }
running() { grep -q "It is running" <<<"$(status_of "$1")"; }
stopped() { grep -qE "It is stopped|disabled" <<<"$(status_of "$1")"; }
memory_limit() {
  if cgroup_v2; then cat "$(cgroup_file memory "$parent/$1" memory.max)"
  else cat "$(cgroup_file memory "$parent/$1" memory.limit_in_bytes)"; fi
}

for id in a b c; do
  check "declared $id runs after start" wait_until 30 running $id
done
check "new h (by hand)" herd new swineherd h "$minimal" >/dev/null
echo payload > container-root/b/kept
echo payload > container-root/c/kept
pid_a=$(herd pid swine:a); pid_b=$(herd pid swine:b); pid_c=$(herd pid swine:c)
pid_h=$(herd pid swine:h)
check "b's memory limit is 256M (cgroup file)" test "$(memory_limit b)" = $((256 << 20))
check "the declarations are recorded" test -e swineherd-state/declared/a.scm -a ! -e swineherd-state/declared/h.scm

# Reconcile with nothing changed: nothing restarts.
begun=$(date +%s%N)
check "reconcile, unchanged" output_has "a: unchanged" herd reconcile swineherd
echo "  reconcile of 3 unchanged containers: $(( ($(date +%s%N) - begun) / 1000000 )) ms (herd included)"
check "…a keeps its init" test "$(herd pid swine:a)" = "$pid_a"

# Change b, drop c, add d.
declare_containers "$(decl a '"--memory=256M"')" "$(decl b '"--memory=128M"')" "$(decl d '')"
begun=$(date +%s%N)
out=$(herd reconcile swineherd 2>&1); status=$?
echo "  reconcile: 1 kept, 1 replaced, 1 retired, 1 created: $(( ($(date +%s%N) - begun) / 1000000 )) ms (herd included)"
echo "$out" | grep 'reconcile:' | sed 's/^/  | /'
check "reconcile succeeds" test $status = 0
check "a: unchanged, same init (pid $pid_a)" test "$(herd pid swine:a)" = "$pid_a"
check "b: restarted, new init" bash -c "[ \"\$(command herd -s $socket pid swine:b)\" != $pid_b ]"
check "b: its new limit, 128M (cgroup file)" test "$(memory_limit b)" = $((128 << 20))
check "b: its data kept" grep -q payload container-root/b/kept
check "c: stopped" stopped c
check "c: its init (pid $pid_c) is gone" gone "$pid_c"
check "c: its data kept" grep -q payload container-root/c/kept
check "c: reported" grep -q "c: no longer declared: stopped" <<<"$out"
check "d: created and running" running d
check "h (herd new): untouched, same init" test "$(herd pid swine:h)" = "$pid_h"
check "h is still not a declared container" test ! -e swineherd-state/declared/h.scm

# Bad declarations: named, the others still reconciled.
declare_containers "$(decl a '"--memory=256M"')" "$(decl b '"--memory=128M"')" "$(decl d '')" \
  "$(decl e '"--memory=lots"')" "$(decl f '')" "$(decl f '')" \
  "(swineherd-container #:id \"g\" #:script \"/nonexistent/run-container\")" \
  "$(decl h '')" "$(decl i '')"
out=$(herd reconcile swineherd 2>&1); status=$?
echo "$out" | grep 'reconcile' | sed 's/^/  | /'
check "reconcile with bad declarations fails (exit 1)" test $status != 0
check "…naming e's bad option" grep -q "e: NOT DONE: .*memory" <<<"$out"
check "…naming f, declared twice" grep -q "f: NOT DONE: declared more than once" <<<"$out"
check "…naming g's missing script" grep -q "g: NOT DONE: .*/nonexistent/run-container does not exist" <<<"$out"
check "…refusing h, made with herd new" grep -q "h: NOT DONE: .*herd new" <<<"$out"
check "…while i was created" running i
check "…and a kept its init" test "$(herd pid swine:a)" = "$pid_a"
check "h still runs with its init" test "$(herd pid swine:h)" = "$pid_h"
check "no e, f, g containers" bash -c "for id in e f g; do ! command herd -s $socket status swine:\$id >/dev/null 2>&1 || exit 1; done"

# A declarations file that does not load: a clear error, nothing touched.
echo "(list (swineherd-container #:id" > containers.scm
check "an unreadable declarations file is named" fails_with "cannot load the declared containers from $work/containers.scm" herd reconcile swineherd
check "…and nothing was stopped" running a

# A record whose ID is not its file name (tampered with) is ignored: its
# "forget" would otherwise delete a file outside the records.
declare_containers "$(decl a '"--memory=256M"')" "$(decl b '"--memory=128M"')" "$(decl d '')" "$(decl i '')"
echo keep > "$work/victim.scm"
printf '%s\n' '(swineherd-declaration (version 1) (id "../../victim") (script "/x")' \
  '  (arguments ()) (options ()) (retired? #f))' > swineherd-state/declared/evil.scm
check "a tampered record is reported" output_has "ignoring unreadable declaration record" herd reconcile swineherd
check "…and nothing outside the records is deleted" test -e "$work/victim.scm"
rm swineherd-state/declared/evil.scm

# Restart Shepherd: declared ones come back as they were, c stays stopped.
declare_containers "$(decl a '"--memory=256M"')" "$(decl b '"--memory=128M"')" "$(decl d '')" "$(decl i '')"
pid_b=$(herd pid swine:b)
stop_shepherd
start_shepherd "$work/config.scm"
for id in a b d i h; do
  check "$id runs after Shepherd's restart" wait_until 30 running $id
done
check "c stays stopped (retired), data kept" bash -c "grep -q payload container-root/c/kept"
wait_until 10 grep -q "swineherd: reconcile: a" "$shepherd_log"
check "the start reconciled: a unchanged" grep -q "swineherd: reconcile: a: unchanged" "$shepherd_log"

# Declared again: c resumes with its data.
declare_containers "$(decl a '"--memory=256M"')" "$(decl b '"--memory=128M"')" "$(decl c '')" "$(decl d '')" "$(decl i '')"
check "c declared again: started" output_has "c: declared again: started" herd reconcile swineherd
check "…with its data" grep -q payload container-root/c/kept

for id in a b c d h i; do herd kill swineherd $id >/dev/null; done
finish
