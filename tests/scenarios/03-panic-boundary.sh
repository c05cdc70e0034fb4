#!/usr/bin/env bash
# A panic in libswineherd comes back to Scheme as an error; the Shepherd
# process that made the call keeps running and serving.
. "$(dirname "$0")"/lib.sh

cd "$(mktemp -d)"
start_shepherd
selftest='(begin (use-modules (swineherd ffi)) (setenv "SWINEHERD_SELFTEST" "%s") (selftest-panic))'

check "self-test is refused unless enabled" fails_with "set SWINEHERD_SELFTEST=1" \
  herd eval root "$(printf "$selftest" 0)"
check "a panic becomes an error in herd" fails_with "self-test: internal error (panic: deliberate panic" \
  herd eval root "$(printf "$selftest" 1)"
check "the same Shepherd process is alive" kill -0 "$shepherd_pid"
check "it still serves herd status" output_has "swineherd" herd status
check "swineherd still works" output_has "It is running" herd status swineherd
check "the library still answers" output_has "0.1.0" \
  herd eval root '(begin (use-modules (swineherd ffi)) (library-version))'
check "a second panic is caught too" fails_with "panic" herd eval root "$(printf "$selftest" 1)"
check "Shepherd is still alive after it" output_has "swineherd" herd status

# A library of another C ABI is refused at load, naming both versions and
# the file: here a library that has no swh_abi_version at all.
other=$(ldd "$(command -v guile)" | awk '$1 ~ /^libc\.so/ { print $3 }')
abi=$(sed -n 's/^#define SWH_ABI_VERSION //p' "$top"/include/swineherd.h)
check "a library of another ABI is refused, naming the file and both versions" \
  fails_with "$other implements version 0 (it has no swh_abi_version) of libswineherd's C ABI, but (swineherd ffi) needs version $abi" \
  env SWINEHERD_LIBRARY="$other" guile --no-auto-compile -L "$top"/scheme \
    -c '(use-modules (swineherd ffi)) (library-version)'
check "a missing library is named, with dlopen's reason" \
  fails_with "cannot load /nonexistent/libswineherd.so (" \
  env SWINEHERD_LIBRARY=/nonexistent/libswineherd.so guile --no-auto-compile -L "$top"/scheme \
    -c '(use-modules (swineherd ffi)) (library-version)'
check "the checkout's library is accepted" output_has "0.1.0" \
  guile --no-auto-compile -L "$top"/scheme -c '(use-modules (swineherd ffi)) (display (library-version))'

finish
