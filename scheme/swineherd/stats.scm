;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd stats)
  #:use-module (ice-9 format)
  #:use-module (ice-9 match)
  #:use-module (srfi srfi-1)
  #:export (statistics-alist
            display-upstream-stats
            display-stats
            display-summary))

;;; Commentary:
;;;
;;; The `stats' actions' output: upstream's one-line form, and
;;; machine-readable forms (JSON, S-expression) whose keys name their units.
;;;
;;; Code:

(define (statistics-alist id cgroup link disk)
  "Return the statistics of container ID as an alist with unit-named keys,
from CGROUP (see `cgroup-statistics', or #f when not running), LINK (see
`link-statistics', or #f when disconnected) and DISK (see `disk-usage', or #f
without btrfs quotas).  Missing values are #f."
  (define (from alist key)
    (and alist (assq-ref alist key)))
  `((id . ,id)
    (running . ,(and cgroup #t))
    (cpu-total-ns . ,(from cgroup 'cpu-total-ns))
    (cpu-user-ns . ,(from cgroup 'cpu-user-ns))
    (cpu-system-ns . ,(from cgroup 'cpu-system-ns))
    (memory-current-bytes . ,(from cgroup 'memory-current))
    (memory-peak-bytes . ,(from cgroup 'memory-peak))
    (memory-limit-bytes . ,(from cgroup 'memory-limit))
    (pids-current . ,(from cgroup 'pids-current))
    (pids-limit . ,(from cgroup 'pids-limit))
    (oom-kills . ,(from cgroup 'oom-kills))
    ;; Counters of the host side of the veth, as upstream reported them.
    (net-rx-bytes . ,(from link 'rx-bytes))
    (net-tx-bytes . ,(from link 'tx-bytes))
    (net-rx-packets . ,(from link 'rx-packets))
    (net-tx-packets . ,(from link 'tx-packets))
    (disk-referenced-bytes . ,(from disk 'referenced))
    (disk-exclusive-bytes . ,(from disk 'exclusive))
    (disk-limit-bytes . ,(from disk 'limit))))

(define (display-upstream-stats stats)
  "Display STATS in upstream Swineherd's form, `receive:BYTES
transmit:BYTES cputime:TICKS', CPU time in clock ticks (1/100 s)."
  (define (value key) (or (assq-ref stats key) 0))
  (format #t "receive:~a transmit:~a cputime:~a~%"
          (value 'net-rx-bytes) (value 'net-tx-bytes)
          (quotient (value 'cpu-total-ns) 10000000)))

(define (json-string str)
  "Return STR as a JSON string literal."
  (string-append
   "\""
   (string-concatenate
    (map (lambda (c)
           (match c
             (#\" "\\\"")
             (#\\ "\\\\")
             (#\newline "\\n")
             ((? (lambda (c) (< (char->integer c) 32)))
              (format #f "\\u~4,'0x" (char->integer c)))
             (_ (string c))))
         (string->list str)))
   "\""))

(define (json-value value)
  "Return VALUE (a number, string, boolean or #f-as-null) as JSON."
  (match value
    (#t "true")
    (#f "null")
    ((? number?) (number->string value))
    ((? string?) (json-string value))))

(define (display-json alist)
  "Display ALIST as a flat JSON object; #f values are null, except for the
boolean `running'."
  (format #t "{~{~a~^, ~}}~%"
          (map (match-lambda
                 (('running . value)
                  (format #f "\"running\": ~a" (if value "true" "false")))
                 ((key . value)
                  (format #f "~a: ~a"
                          (json-string (string-map (lambda (c)
                                                     (if (char=? c #\-) #\_ c))
                                                   (symbol->string key)))
                          (json-value value))))
               alist)))

(define (display-stats stats style)
  "Display STATS, an alist, in STYLE: `json' or `sexp'."
  (match style
    ('json (display-json stats))
    ('sexp (write stats) (newline))))

(define (display-summary count running cgroups style)
  "Display a summary of COUNT containers, RUNNING of which run, whose
cgroup statistics are CGROUPS, in STYLE: `line', `json' or `sexp'."
  (define (total key)
    (fold + 0 (map (lambda (cgroup) (or (assq-ref cgroup key) 0)) cgroups)))
  (let ((summary `((containers . ,count)
                   (running-containers . ,running)
                   (cpu-total-ns . ,(total 'cpu-total-ns))
                   (memory-current-bytes . ,(total 'memory-current)))))
    (match style
      ('line
       (format #t "containers:~a running:~a cputime:~a memory:~a~%"
               count running (quotient (total 'cpu-total-ns) 10000000)
               (total 'memory-current)))
      (_ (display-stats summary style)))))

;;; stats.scm ends here
