#!/usr/bin/env bash
# Container root is not host root (issue #18): each container runs in a
# range of 65536 host ids of its own, leased and recorded, under the
# default hardening (bounding set, seccomp deny list), and its root tries
# to get out through `exec'.  Checked from the host with stat, /proc and
# nc; the probes inside are Guile (the sandbox has no compiler): libc's
# syscall(2) through Guile's FFI.
. "$(dirname "$0")"/lib.sh

work=$(mktemp -d)
cd "$work"
script=$(make_container_script "$work/script")
# A host-root-owned directory shared writable with the containers: only
# the identity map decides whether their root may write there.
mkdir -m 755 "$work/hostdir"; echo host > "$work/hostdir/file"; chmod 644 "$work/hostdir/file"
start_shepherd

# The probe: each line `NAME ERRNO', 0 for success.
cat > "$work/probe.scm" <<'EOF'
(use-modules (system foreign))
(define syscall
  (pointer->procedure long (dynamic-func "syscall" (dynamic-link))
                      (list long '* long '* long) #:return-errno? #t))
(define (report name thunk)
  (format #t "~a ~a~%" name
          (catch 'system-error (lambda () (thunk) 0)
            (lambda args (car (list-ref args 4))))))
(define (call name nr a b c d)
  (call-with-values (lambda () (syscall nr a b c d))
    (lambda (ret errno) (format #t "~a ~a~%" name (if (< ret 0) errno 0)))))
(define missing (string->pointer "/swineherd-missing"))
(call "init_module" 175 %null-pointer 0 (string->pointer "") 0)
(call "finit_module" 313 %null-pointer 0 %null-pointer 0) ;fd 0 as pointer: no matter
(call "delete_module" 176 (string->pointer "ext4") 0 %null-pointer 0)
(call "kexec_load" 246 %null-pointer 0 %null-pointer 0)
(call "open_by_handle_at" 304 %null-pointer 0 %null-pointer 0)
;; Without the filter: ENOENT (the path is looked up first).
(call "umount2_force" 166 missing 1 %null-pointer 0)
(call "umount2" 166 missing 0 %null-pointer 0)
(report "mknod_block" (lambda () (mknod "/tmp/sda" 'block-special #o600 (* 8 256))))
(report "write_shared_host_file"
        (lambda () (call-with-output-file "/mnt/file" (lambda (p) (display "x" p)))))
(report "create_in_shared_host_dir"
        (lambda () (call-with-output-file "/mnt/new" (lambda (p) (display "x" p)))))
(report "open_device"
        (lambda () (close-port (open "/device" O_RDWR))))
(report "create_in_home"
        (lambda () (call-with-output-file "/home/made-inside" (lambda (p) (display "x" p)))))
EOF

# probe ID: run the probe in container ID through exec; print its lines.
probe() { cp "$work/probe.scm" "$work/container-root/$1/probe.scm" &&
          herd exec swine:"$1" -- /usr/bin/guile --no-auto-compile /home/probe.scm; }
# field PID NAME: NAME's value in /proc/PID/status.
field() { sed -n "s/^$2:[[:space:]]*//p" /proc/"$1"/status; }
# errno_is OUTPUT NAME ERRNO: the probe line NAME says ERRNO.
errno_is() { grep -qx "$2 $3" <<<"$1" || { echo "  $2: $(grep "^$2 " <<<"$1" || echo "$1")"; return 1; }; }
EPERM=1 ENOENT=2 EACCES=13
base_of() { awk '{print $2}' /proc/"$1"/uid_map; }
# script_of ID: the PID of container ID's script (Shepherd's main PID on
# v1; on v2 the child that swineherd-cgexec cloned into the cgroup).
# (A Guile script: its command line starts with guile.)
script_of() { pgrep -of -- "^[^ ]*guile .*$script --share=$work/container-root/$1="; }

check "new a (default: unprivileged)" herd new swineherd -- a "$script" --share="$work/hostdir=/mnt"
check "new b" herd new swineherd -- b "$script"
a=$(herd pid swine:a); b=$(herd pid swine:b)
base_a=$(base_of "$a"); base_b=$(base_of "$b")
check "a's uid_map maps 0-65535 to a range at or above 1000000000 ($base_a)" \
  bash -c "grep -Eq '^ +0 +$base_a +65536$' /proc/$a/uid_map && [ $base_a -ge 1000000000 ]"
check "…so does its gid_map" grep -Eq "^ +0 +$base_a +65536$" /proc/"$a"/gid_map
# (swineherd-cgexec's console logger is Swineherd's, outside the
# container's namespaces, in its cgroup: it runs as host root, to write and
# rotate the log in /var/log/swineherd.  It is left out.)
check "no process of a (but the console logger) runs as a host uid below the base" \
  bash -c "for p in \$(cat $(cgroup_dirs "$SWINEHERD_CGROUP_PARENT/a" | head -n 1)/cgroup.procs); do
             grep -q swineherd-cgexec /proc/\$p/cmdline 2>/dev/null && continue
             u=\$(awk '/^Uid:/ {print \$3}' /proc/\$p/status); [ -z \"\$u\" ] || [ \$u -ge $base_a ] || { echo \"  \$p runs as \$u\"; exit 1; }; done"
check "a's and b's ranges are disjoint" test $((base_a > base_b ? base_a - base_b : base_b - base_a)) -ge 65536
check "the lease of a's range is in the state directory" grep -qx a "$work/swineherd-state/ids/$base_a"
check "list shows a's range" output_has "a running ids $base_a-$((base_a + 65535))" herd list swineherd
check "stats json shows it" output_has "\"identity\": \"ids $base_a-" herd stats swine:a json
check "the PID file is owned by a's range" test "$(stat -c %u /run/swineherd/a.pid)" = "$base_a"
check "a's data directory is owned by its range" test "$(stat -c %u:%g container-root/a)" = "$base_a:$base_a"

script_pid=$(script_of a)
check "the script runs as a's root: host uid $base_a" test "$(field "$script_pid" Uid | awk '{print $2}')" = "$base_a"
check "the script's bounding set lacks SYS_MODULE, SYS_RAWIO, SYS_TIME, MAC_*" \
  test $((0x$(field "$script_pid" CapBnd) & 0x302030000)) -eq 0
check "the init runs under seccomp (Seccomp: 2)" test "$(field "$a" Seccomp)" = 2

out=$(probe a)
check "exec: init_module fails with EPERM" errno_is "$out" init_module $EPERM
check "exec: finit_module fails with EPERM" errno_is "$out" finit_module $EPERM
check "exec: delete_module fails with EPERM" errno_is "$out" delete_module $EPERM
check "exec: kexec_load fails with EPERM" errno_is "$out" kexec_load $EPERM
check "exec: open_by_handle_at fails with EPERM" errno_is "$out" open_by_handle_at $EPERM
check "exec: umount2(MNT_FORCE) fails with EPERM (the filter)" errno_is "$out" umount2_force $EPERM
check "exec: umount2 without MNT_FORCE reaches the kernel (ENOENT)" errno_is "$out" umount2 $ENOENT
check "exec: mknod of a block device fails with EPERM" errno_is "$out" mknod_block $EPERM
check "exec: a host-root file shared writable is not writable (EACCES)" errno_is "$out" write_shared_host_file $EACCES
check "exec: nor is the host-root directory (EACCES)" errno_is "$out" create_in_shared_host_dir $EACCES
check "…and the host file is unchanged" grep -qx host "$work/hostdir/file"
check "exec: a file created in /home…" errno_is "$out" create_in_home 0
check "…is owned on the host by a's range" test "$(stat -c %u:%g container-root/a/made-inside)" = "$base_a:$base_a"

inside=$(herd exec swine:a -- /bin/sh -c 'readlink /proc/self/ns/user; grep -E "^(CapBnd|Seccomp):" /proc/self/status; cat /proc/self/cgroup | md5sum; cat /proc/1/cgroup | md5sum; cat /proc/self/uid_map')
check "exec: same user namespace as the init" grep -Fqx "$(readlink /proc/"$a"/ns/user)" <<<"$inside"
check "exec: its bounding set lacks the dropped bits" \
  bash -c "v=\$(sed -n 's/^CapBnd:[[:space:]]*//p' <<<'$inside'); [ \$((0x\$v & 0x302030000)) -eq 0 ]"
check "exec: Seccomp: 2" grep -Eq '^Seccomp:[[:space:]]+2$' <<<"$inside"
check "exec: same cgroups as the init" test "$(sed -n 4p <<<"$inside")" = "$(sed -n 5p <<<"$inside")"

check "a's Shepherd serves TCP on port 80" \
  wait_until 20 bash -c "echo ping | timeout 5 nc -N -w 3 \$(herd -s $socket ip swine:a | cut -d/ -f1) 80 | grep -qx ping"

# The range is in the record: stop and start keep it.
check "stop and start a" bash -c "herd -s $socket stop swine:a >/dev/null && herd -s $socket start swine:a >/dev/null"
check "…with the same range" test "$(base_of "$(herd pid swine:a)")" = "$base_a"

# After a crash of Shepherd: b, running, is adopted in its range; a,
# stopped, starts again from its record in the same range.
herd stop swine:a >/dev/null
kill -KILL "$shepherd_pid"; wait "$shepherd_pid" 2>/dev/null; shepherd_pid=
start_shepherd
check "after Shepherd's SIGKILL, b runs again" wait_until 30 output_has "It is running" herd status swine:b
check "…in its range" test "$(base_of "$(herd pid swine:b)")" = "$base_b"
check "a starts from its record" herd start swine:a
check "…in the same range" test "$(base_of "$(herd pid swine:a)")" = "$base_a"

# A clone gets the data in its own range, offsets kept.
herd exec swine:a -- /bin/sh -c 'mkdir -p /home/u && chown 1000:1000 /home/u'
check "new c --from=a" herd new swineherd -- c --from=a "$script"
base_c=$(base_of "$(herd pid swine:c)")
check "c's copy of a's data is owned by c's range" test "$(stat -c %u container-root/c/made-inside)" = "$base_c"
check "…and uid 1000 of a is uid 1000 of c" test "$(stat -c %u container-root/c/u)" = "$((base_c + 1000))"

# Opting out is explicit.
# A device node outside the allow list, shared into privileged containers
# (whose root passes the node's host-root permissions): only the devices
# cgroup stands in the way.
device=/dev/loop-control
check "new p --privileged" herd new swineherd -- p --privileged "$script" --share="$work/hostdir=/mnt" --share="$device=/device"
p=$(herd pid swine:p)
check "p maps 0 to host 0" grep -Eq '^ +0 +0 +65536$' /proc/"$p"/uid_map
check "list shows p privileged" output_has "p running privileged" herd list swineherd
out=$(probe p)
check "p's root can write the host-root file (what --privileged means)" errno_is "$out" write_shared_host_file 0
check "p still has the seccomp deny list" errno_is "$out" umount2_force $EPERM
# (v1: the devices controller, whose list cat shows; v2: a BPF device
# program attached to the cgroup, which bpftool would show.)
if ! cgroup_v2; then
  check "p's devices cgroup allows only the list" bash -c \
    "grep -qx 'c 1:3 rwm' $(cgroup_file devices "$SWINEHERD_CGROUP_PARENT/p" devices.list) &&
     ! grep -q '^a' $(cgroup_file devices "$SWINEHERD_CGROUP_PARENT/p" devices.list)"
fi
check "p cannot open $device (EPERM: the device allow list)" errno_is "$out" open_device $EPERM
check "new q --privileged --devices=all" \
  herd new swineherd -- q --privileged --devices=all "$script" --share="$device=/device"
out=$(probe q 2>&1)
check "q can open $device" errno_is "$out" open_device 0

check "new r --syscalls=all --keep-caps" herd new swineherd -- r --syscalls=all --keep-caps "$script"
# The relaxations are the container's own processes': its script is
# started without the deny list and the bounding-set drop.  An exec'd
# command always gets the whole default hardening (never more than them).
check "r's script is started with --syscalls=all --keep-caps" \
  output_has "--keep-caps --syscalls=all" herd status swine:r
out=$(probe r 2>&1)
check "r: an exec'd command still gets the deny list" errno_is "$out" umount2_force $EPERM
check "r: its script keeps the whole bounding set" \
  test $((0x$(field "$(script_of r)" CapBnd) & 0x302030000)) -eq $((0x302030000))
check "bad --syscalls is refused with the fix" fails_with "give --syscalls=all" herd new swineherd -- s --syscalls=some "$script"

for id in a b c p q r; do herd kill swineherd "$id" >/dev/null; done
check "kill returned every range lease" test -z "$(ls "$work/swineherd-state/ids")"
finish
