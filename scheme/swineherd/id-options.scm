;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd id-options)
  #:use-module (swineherd parse)
  #:use-module (ice-9 match)
  #:export (%id-options))

;;; Commentary:
;;;
;;; The options of `new' about a container's identity and hardening (issue
;;; #18; see `(swineherd idmap)' for what they do).  Pure: loads in a plain
;;; Guile, as `(swineherd arguments)' must.
;;;
;;; Code:

(define (flag-parser option)
  "Return the parser of OPTION, a flag taking no value."
  (lambda (value)
    (when value
      (fail "--~a takes no value (got ~s); give --~a alone" option value
            option))
    #t))

(define (parse-syscalls value)
  "Parse the value of --syscalls: only `all' (no deny list)."
  (match value
    ("all" 'all)
    (_ (fail "invalid --syscalls ~s: give --syscalls=all to allow the \
system calls denied by default (module loading, kexec, open_by_handle_at, \
forced unmounts)" value))))

(define (parse-devices value)
  "Parse the value of --devices: only `all' (no allow list)."
  (match value
    ("all" 'all)
    (_ (fail "invalid --devices ~s: give --devices=all to let the \
container use every device node it can reach (default: null, zero, full, \
tty, console, ptmx, random, urandom, pts, fuse and tun only)" value))))

(define %id-options
  ;; Options of `new' about identity and hardening, as in `%new-options'.
  `(("devices" ,parse-devices
     "--devices=all: no device allow list (cgroup v1 devices controller, \
v2 BPF device program)")
    ("privileged" ,(flag-parser "privileged")
     "--privileged: the container's root is the host's root (no id range \
of its own); only for trusted workloads")
    ("keep-caps" ,(flag-parser "keep-caps")
     "--keep-caps: keep CAP_SYS_MODULE, CAP_SYS_RAWIO, CAP_SYS_TIME, \
CAP_MAC_ADMIN and CAP_MAC_OVERRIDE in the bounding set")
    ("syscalls" ,parse-syscalls
     "--syscalls=all: allow module loading, kexec, open_by_handle_at and \
forced unmounts (denied with EPERM by default)")))

;;; id-options.scm ends here
