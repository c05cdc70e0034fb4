;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd upkeep-options)
  #:use-module (swineherd parse)
  #:use-module (ice-9 match)
  #:use-module (srfi srfi-1)
  #:export (parse-ready
            parse-ready-timeout
            parse-requires
            parse-log-size
            parse-log-keep
            parse-health-cmd
            parse-health-on-failure
            parse-duration
            action-words
            parse-schedule-change
            apply-schedule-change
            %default-log-keep
            log-keep
            %upkeep-options
            %upkeep-option-checks))

;;; Commentary:
;;;
;;; The options of `new' that make a container look after itself (issue
;;; #23): readiness from its guest Shepherd, the containers it requires,
;;; and the arguments of the actions that change them later (`limit',
;;; `snapshot-schedule').  Pure: parsing only, checked before anything is
;;; touched.
;;;
;;; Code:

(define (parse-ready value)
  "Parse VALUE, the argument of --ready: none (every enabled guest service
that is neither one-shot nor transient must run) or guest service names
separated by commas.  Return #t or a list of strings."
  (define (valid-name? name)
    (and (<= 1 (string-length name) 128)
         (string-every (lambda (c)
                         (and (char<? #\space c #\delete)
                              (not (memv c '(#\( #\) #\" #\; #\#)))))
                       name)))
  (match value
    (#f #t)
    (_
     (let ((names (string-split value #\,)))
       (unless (every valid-name? names)
         (fail "invalid --ready ~s: give guest service names separated by \
commas (such as --ready=sshd,nginx), or --ready alone for every enabled guest \
service" value))
       names))))

(define (parse-ready-timeout value)
  "Parse VALUE, the argument of --ready-timeout: seconds, 1 to 86400."
  ((seconds-parser "ready-timeout") value))

(define (parse-requires value)
  "Parse VALUE, the argument of --requires: container IDs separated by
commas.  Return them as a list of strings."
  (unless value
    (fail "--requires needs a value: container IDs separated by commas, \
such as --requires=db,cache"))
  (let ((ids (delete-duplicates (string-split value #\,))))
    ;; Looked up at call time: (swineherd arguments) imports this module.
    (for-each (module-ref (resolve-interface '(swineherd arguments))
                          'check-container-id)
              ids)
    ids))

(define (parse-health-cmd value)
  "Parse VALUE, the argument of --health-cmd: a command and its arguments,
separated by spaces (no shell).  Return them as a list of strings."
  (match (and value (string-tokenize value))
    ((or #f ()) (fail "--health-cmd needs a command, such as \
--health-cmd='test -e /run/ok' (words separated by spaces; no shell)"))
    (words words)))

(define (parse-health-guest value)
  "Parse VALUE, the argument of --health-guest: one guest service name."
  (match (and value (parse-ready value))
    (((? string? name)) name)
    (_ (fail "invalid --health-guest ~s: give one guest service name" value))))

(define (seconds-parser option)
  "Return a parser of the argument of --OPTION: whole seconds, 1 to 86400."
  (lambda (value)
    (let ((n (and value (string->number value))))
      (unless (and n (exact-integer? n) (<= 1 n 86400))
        (fail "invalid --~a ~s: give whole seconds from 1 to 86400" option
              value))
      n)))

(define (parse-health-retries value)
  "Parse VALUE, the argument of --health-retries: 1 to 100."
  (let ((n (and value (string->number value))))
    (unless (and n (exact-integer? n) (<= 1 n 100))
      (fail "invalid --health-retries ~s: give 1 to 100" value))
    n))

(define (parse-health-on-failure value)
  "Parse VALUE, the argument of --health-on-failure."
  (match value
    ((or "none" "restart" "stop" "kill") (string->symbol value))
    (_ (fail "invalid --health-on-failure ~s: give none, restart, stop or \
kill" value))))

(define (parse-duration value)
  "Parse VALUE, the argument of --snapshot-every: a whole number of seconds,
or of minutes, hours or days with the suffix s, m, h or d (10s, 30m, 1d);
1 second to 366 days.  Return seconds."
  (let* ((unit (and value (not (string-null? value))
                    (string-index "smhd" (string-ref value
                                                     (- (string-length value) 1)))))
         (digits (if unit (string-drop-right value 1) value))
         (n (and digits (string-every char-set:digit digits)
                 (not (string-null? digits)) (string->number digits)))
         (seconds (and n (* n (list-ref '(1 60 3600 86400) (or unit 0))))))
    (unless (and seconds (<= 1 seconds (* 366 86400)))
      (fail "invalid --snapshot-every ~s: give a duration such as 30s, 10m, \
2h or 1d (1 second to 366 days)" value))
    seconds))

(define (parse-snapshot-keep value)
  "Parse VALUE, the argument of --snapshot-keep: 1 to 1000 snapshots."
  (let ((n (and value (string->number value))))
    (unless (and n (exact-integer? n) (<= 1 n 1000))
      (fail "invalid --snapshot-keep ~s: give how many automatic snapshots \
to keep, 1 to 1000" value))
    n))

(define (action-words action usage args)
  "Return ARGS, the arguments of ACTION, as --NAME=VALUE words: herd turns
`--memory=1G' into the keyword #:memory and the string \"1G\" unless `--'
comes first.  USAGE ends the error for anything else."
  (match args
    (() '())
    (((? keyword? key) (? string? value) . rest)
     (cons (format #f "--~a=~a" (keyword->symbol key) value)
           (action-words action usage rest)))
    (((? string? word) . rest)
     (cons word (action-words action usage rest)))
    ((other . _)
     (fail "~a: unexpected argument ~s; usage: ~a" action other usage))))

(define %schedule-usage
  "herd snapshot-schedule swine:ID -- --every=DURATION|off --keep=N")

(define (parse-schedule-change words)
  "Parse WORDS, the arguments of `snapshot-schedule' as --NAME=VALUE words:
--every=DURATION (as --snapshot-every takes it) or --every=off, and
--keep=N (as --snapshot-keep); the names of `new' are taken too.  Return
an alist of the options of `new' they change, --every=off as
(snapshot-every . #f); raise a clear error for anything else, or for
nothing."
  (when (null? words)
    (fail "snapshot-schedule: nothing to change; usage: ~a" %schedule-usage))
  (map (lambda (word)
         (let* ((sign (or (string-index word #\=) (string-length word)))
                (name (substring word 0 sign))
                (value (and (< sign (string-length word))
                            (substring word (+ sign 1)))))
           (match name
             ((or "--every" "--snapshot-every")
              (cons 'snapshot-every
                    (and (not (equal? value "off")) (parse-duration value))))
             ((or "--keep" "--snapshot-keep")
              (cons 'snapshot-keep (parse-snapshot-keep value)))
             (_ (fail "snapshot-schedule: ~s is not an option; usage: ~a"
                      word %schedule-usage)))))
       words))

(define (apply-schedule-change options changes)
  "Return OPTIONS, those of `new', with CHANGES as `parse-schedule-change'
returns them: each replaces its namesake; (snapshot-every . #f) removes
the schedule."
  (append (remove (lambda (option) (assq (car option) changes)) options)
          (filter cdr changes)))

(define %default-log-keep
  ;; Older generations of a console log kept: ID.log.1, ID.log.2.gz ...
  ;; ID.log.5.gz.
  5)

(define (parse-log-size value)
  "Parse VALUE, the argument of --log-size: 64K to 1G (bytes, or K, M, G)."
  (let ((bytes (and value
                    (false-if-exception
                     (parse-size value)))))
    (unless (and bytes (<= (* 64 1024) bytes (expt 2 30)))
      (fail "invalid --log-size ~s: give a size from 64K to 1G, such as 10M"
            value))
    bytes))

(define (parse-log-keep value)
  "Parse VALUE, the argument of --log-keep: 1 to 100 older console logs."
  (let ((n (and value (string->number value))))
    (unless (and n (exact-integer? n) (<= 1 n 100))
      (fail "invalid --log-keep ~s: give how many older logs to keep, 1 to \
100" value))
    n))

(define (log-keep options)
  "Return how many older console logs a container with OPTIONS keeps."
  (or (assq-ref options 'log-keep) %default-log-keep))

(define %upkeep-options
  ;; Entries of `new''s option table (see `%new-options').
  `(("ready" ,parse-ready
     "--ready[=SERVICE,...]: count the container as started only once these \
services of its own Shepherd run (alone: every enabled one)")
    ("ready-timeout" ,parse-ready-timeout
     "--ready-timeout=SECONDS: how long --ready waits (default: the \
configuration's start-timeout)")
    ("log-size" ,parse-log-size
     "--log-size=SIZE: rotate the console log ID.log at SIZE (default: the \
configuration's log-size)")
    ("log-keep" ,parse-log-keep
     "--log-keep=N: keep N older console logs, ID.log.1 then ID.log.2.gz to \
ID.log.N.gz, gzip'd (default 5)")
    ("health-cmd" ,parse-health-cmd
     "--health-cmd='COMMAND ARG...': a health check run inside the container \
as exec runs it; it passes when it exits 0")
    ("health-guest" ,parse-health-guest
     "--health-guest=SERVICE: a health check that passes while this guest \
service runs")
    ("health-interval" ,(seconds-parser "health-interval")
     "--health-interval=SECONDS: between checks (default 30)")
    ("health-timeout" ,(seconds-parser "health-timeout")
     "--health-timeout=SECONDS: a check that takes longer fails (default 10)")
    ("health-retries" ,parse-health-retries
     "--health-retries=N: failures in a row that make it unhealthy (default 3)")
    ("health-on-failure" ,parse-health-on-failure
     "--health-on-failure=none|restart|stop|kill: what to do then (default \
none)")
    ("snapshot-every" ,parse-duration
     "--snapshot-every=DURATION: take a read-only snapshot auto-TIME of the \
data this often (30s, 10m, 2h, 1d; btrfs only)")
    ("snapshot-keep" ,parse-snapshot-keep
     "--snapshot-keep=N: keep the N newest automatic snapshots (default 7)")
    ("requires" ,parse-requires
     "--requires=ID,...: start only after these containers are started (and \
ready); stopping one of them stops this one")))

(define (service-names? value)
  "Return true if VALUE is a list of names (strings) as --ready and
--requires record them."
  (and (list? value) (pair? value) (every string? value)))

(define (seconds? value)
  "Return true if VALUE is whole seconds from 1 to 86400."
  (and (exact-integer? value) (<= 1 value 86400)))

(define %upkeep-option-checks
  ;; Entries of the record checks' table (see `%option-checks'): option,
  ;; predicate on its recorded value, what it should be.
  `((ready ,(lambda (v) (or (eq? v #t) (service-names? v)))
           "#t or a list of guest service names (strings)")
    (ready-timeout ,seconds? "whole seconds from 1 to 86400")
    (requires ,service-names? "a list of container IDs (strings)")
    (health-cmd ,service-names? "a list of strings")
    (health-guest ,string? "a guest service name (a string)")
    (health-interval ,seconds? "whole seconds from 1 to 86400")
    (health-timeout ,seconds? "whole seconds from 1 to 86400")
    (health-retries ,(lambda (v) (and (exact-integer? v) (<= 1 v 100)))
                    "an integer from 1 to 100")
    (health-on-failure ,(lambda (v) (memq v '(none restart stop kill)))
                       "none, restart, stop or kill")
    (snapshot-every ,(lambda (v) (and (exact-integer? v) (<= 1 v (* 366 86400))))
                    "seconds from 1 to 366 days")
    (snapshot-keep ,(lambda (v) (and (exact-integer? v) (<= 1 v 1000)))
                   "an integer from 1 to 1000")
    (log-size ,(lambda (v) (and (exact-integer? v) (<= 65536 v (expt 2 30))))
              "a number of bytes from 65536 to 2^30")
    (log-keep ,(lambda (v) (and (exact-integer? v) (<= 1 v 100)))
              "an integer from 1 to 100")))

;;; upkeep-options.scm ends here
