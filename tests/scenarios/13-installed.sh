#!/usr/bin/env bash
# The installed copy, not the checkout: `make install prefix=/usr' (where
# Debian's Guile looks for modules; the sandbox's root is a throwaway
# overlay), then a plain Shepherd (no pre-inst-env, no GUILE_LOAD_PATH, no
# auto-compilation) whose configuration is only the three lines of the
# README runs a Guix-faithful container from the installed modules, their
# .go files and the installed library; `make uninstall' leaves no file of
# ours under the prefix.
. "$(dirname "$0")"/lib.sh

work=$(mktemp -d)
script=$(make_container_script "$work/script")
site=$(guile-3.0 -c '(display (%site-dir))')
ccache=$(guile-3.0 -c '(display (%site-ccache-dir))')

files_under_usr() { find /usr -xdev ! -type d ! -path /usr/share/info/dir | sort; }
files_under_usr > "$work/before"

# The sandbox has neither cargo nor makeinfo: the host's `make' (tests/check
# runs it first) must have built the library and the manual.
check "the checkout is built (else: run make on the host first)" \
  make -C "$top" -q target/release/libswineherd.so target/release/swineherd-cgexec doc/swineherd.info
# The .go files are compiled here, against this root's Guile, Shepherd and
# Fibers, in a build directory of this run's (the checkout's build/ may hold
# another root's: Fibers 1.3's inlined records do not fit Fibers 1.4).
check "make install prefix=/usr" bash -c "make -C '$top' install prefix=/usr builddir='$work/build' > '$work/install.log' 2>&1 || { tail -n 30 '$work/install.log'; exit 1; }"

modules=$(cd "$site" && find swineherd.scm swineherd -name '*.scm' | sed 's/\.scm$//' | sort)
expected_modules=$(cd "$top/scheme" && find swineherd.scm swineherd -name '*.scm' | sed 's/\.scm$//' | sort)
check "every module is installed in Guile's site directory" \
  test -n "$modules" -a "$modules" = "$expected_modules"

each_go_newer_than_source() {
  local module
  [ -n "$modules" ] || return 1
  for module in $modules; do
    [ "$ccache/$module.go" -nt "$site/$module.scm" ] || { echo "  $ccache/$module.go missing or older"; return 1; }
  done
}
check "each module has its .go in the site ccache, newer than its source" each_go_newer_than_source
check "the library, swineherd-cgexec, swineherd-peek and swineherd-relay are installed" \
  test -x /usr/lib/libswineherd.so -a -x /usr/libexec/swineherd/swineherd-cgexec \
    -a -x /usr/libexec/swineherd/swineherd-peek -a -x /usr/libexec/swineherd/swineherd-relay
check "the Info manual is installed and registered" \
  bash -c "test -s /usr/share/info/swineherd.info && grep -q '(swineherd)' /usr/share/info/dir"

cat > "$work/shepherd.scm" <<'EOF'
(use-modules (swineherd) (swineherd api))
(register-services (list (swineherd-service) (swineherd-api-service)))
(start-service (lookup-service 'swineherd))
(start-service (lookup-service 'swineherd-api))
EOF
# A plain Shepherd: nothing of the checkout in its environment.  The cgroup
# parent is the sandbox's own (cgroups are not namespaced).
start_shepherd "$work/shepherd.scm" env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
  GUILE_AUTO_COMPILE=0 SWINEHERD_CGROUP_PARENT="$SWINEHERD_CGROUP_PARENT"
check "swineherd runs from the installed modules" output_has "It is running" herd status swineherd
check "its HTTP API answers from the installed modules" \
  bash -c "curl -sf --unix-socket /run/swineherd/api.sock http://localhost/v1/containers | grep -q containers"

maps_all_go() {
  local module
  [ -n "$modules" ] || return 1
  for module in $modules; do
    grep -q " $ccache/$module.go\$" /proc/"$shepherd_pid"/maps || { echo "  $module.go not mapped"; return 1; }
  done
}
check "Shepherd runs every module from its installed .go file" maps_all_go
check "…and the installed library, not the checkout's" \
  bash -c "grep -q ' /usr/lib/libswineherd.so\$' /proc/$shepherd_pid/maps && ! grep -q '$top' /proc/$shepherd_pid/maps"
check "nothing was compiled (Shepherd's log and stderr)" \
  bash -c "! grep -i 'compil' '$shepherd_log' /tmp/shepherd.out"

check "new" herd new swineherd inst "$script"
check "the container runs through the installed swineherd-cgexec" \
  output_has "/usr/libexec/swineherd/swineherd-cgexec" herd status swine:inst
check "exec" output_has "hello from inside" herd exec swine:inst -- echo hello from inside
check "stats" output_has '"cpu_total_ns":' herd stats swine:inst json
check "kill" herd kill swineherd inst
check "kill deleted its data" test ! -e /var/lib/swineherd/containers/inst
stop_shepherd

check "make uninstall prefix=/usr" bash -c "make -C '$top' uninstall prefix=/usr builddir='$work/build' > '$work/uninstall.log' 2>&1 || { tail -n 30 '$work/uninstall.log'; exit 1; }"
check "no file of ours is left under /usr" diff "$work/before" <(files_under_usr)
check "the Info directory no longer lists the manual" bash -c "! grep -qs '(swineherd)' /usr/share/info/dir"

finish
