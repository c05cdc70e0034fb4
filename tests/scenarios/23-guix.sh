#!/usr/bin/env bash
# The Guix side (#22), with Guix 1.5's own modules (no daemon, no store):
# guix.scm evaluates to the swineherd package, whose inputs are Guix 1.5
# packages and Cargo.lock's crates (tests/guix/package.scm); an
# operating-system with swineherd-service-type, two containers and a
# swineherd-extension folds into the expected Shepherd service, /etc file,
# activation, profile and log rotation (tests/guix/service.scm); and the
# declarations file the service type writes is one that (swineherd
# declare), the runtime, accepts; etc/os.scm, the example, folds too.
. "$(dirname "$0")"/lib.sh

work=$(mktemp -d)
guix_guile() {
  guile -L /opt/guix/site -C /opt/guix/site-ccache --no-auto-compile "$@"
}
# run_tier NAME FILE: run a tests/guix script, echo its lines, add its counts.
run_tier() {
  local out line
  out=$(cd "$top" && guix_guile "$2" 2>&1)
  printf '%s\n' "$out" | grep -E '^(PASS|FAIL)' | sed "s/^\(PASS\|FAIL\): /\1: $1: /"
  line=$(grep -E "^$1: [0-9]+ passed, [0-9]+ failed$" <<<"$out")
  if [ -z "$line" ]; then
    echo "FAIL: $1 did not finish"; printf '%s\n' "$out" | tail -n 20 | cut -c1-300
    failed=$((failed + 1)); return
  fi
  passed=$((passed + $(sed -E 's/.*: ([0-9]+) passed.*/\1/' <<<"$line")))
  failed=$((failed + $(sed -E 's/.*, ([0-9]+) failed/\1/' <<<"$line")))
}

run_tier package.scm tests/guix/package.scm
export SWINEHERD_DECLARED_OUT=$work/containers.scm SWINEHERD_DECLARED_SCRIPT=$top/bench/minimal-container
run_tier service.scm tests/guix/service.scm
run_tier os.scm tests/guix/os.scm

accepted=$(GUILE_AUTO_COMPILE=0 "$top"/pre-inst-env guile -c "
(use-modules (swineherd declare) (swineherd declaration) (srfi srfi-11))
(let-values (((good bad) (check-declarations
                          (load-declarations \"$work/containers.scm\"))))
  (format #t \"~a ~a\" (map swineherd-container-id good) bad))" 2>"$work/err")
check "the runtime accepts the service type's declarations file: $accepted" \
  test "$accepted" = "(web db extra) ()"
[ "$accepted" = "(web db extra) ()" ] || cat "$work/err"
rm -rf "$work"
finish
