;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

;;; Unit tests of (swineherd stats), in a plain Guile.

(use-modules (swineherd stats)
             (unit helpers)
             (srfi srfi-64))

(define cgroup
  '((cpu-total-ns . 2500000000) (cpu-user-ns . 2000000000)
    (cpu-system-ns . 500000000) (memory-current . 1048576)
    (memory-peak . 2097152) (memory-limit . 67108864) (pids-current . 3)
    (pids-limit . 100) (oom-kills . 0)))

(define link
  '((rx-bytes . 1500) (tx-bytes . 900) (rx-packets . 12) (tx-packets . 7)))

(define stats (statistics-alist "web\"1" cgroup link #f))

(define (output thunk)
  "Return what THUNK writes on the current output port."
  (with-output-to-string thunk))

(test-begin "stats")

(test-equal "loads nothing with effects" '() (loaded-effectful-modules))
(test-equal "running when it has cgroup statistics" #t (assq-ref stats 'running))
(test-equal "units in the names" 1048576 (assq-ref stats 'memory-current-bytes))
(test-equal "no disk accounting: #f" #f (assq-ref stats 'disk-limit-bytes))
(test-equal "stopped: no cgroup, not running"
  #f (assq-ref (statistics-alist "x" #f #f #f) 'running))
(test-equal "upstream's line: bytes, and CPU time in 1/100 s"
  "receive:1500 transmit:900 cputime:250\n"
  (output (lambda () (display-upstream-stats stats))))
(test-equal "upstream's line when stopped: zeros"
  "receive:0 transmit:0 cputime:0\n"
  (output (lambda () (display-upstream-stats (statistics-alist "x" #f #f #f)))))
(test-assert "JSON: the ID's quote escaped, keys with underscores, null for #f"
  (let ((json (output (lambda () (display-stats stats 'json)))))
    (and (string-contains json "\"id\": \"web\\\"1\"")
         (string-contains json "\"memory_current_bytes\": 1048576")
         (string-contains json "\"disk_limit_bytes\": null")
         (string-contains json "\"running\": true"))))
(test-equal "sexp: reads back as the alist"
  stats (with-input-from-string (output (lambda () (display-stats stats 'sexp))) read))
(test-equal "summary line: totals over the cgroups"
  "containers:3 running:2 cputime:500 memory:2097152\n"
  (output (lambda () (display-summary 3 2 (list cgroup cgroup) 'line))))

(test-end "stats")
