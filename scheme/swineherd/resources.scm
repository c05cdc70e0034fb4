;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd resources)
  #:use-module (swineherd ffi)
  #:use-module (swineherd utils)
  #:use-module ((fibers) #:select ((sleep . fiber-sleep)))
  #:use-module (ice-9 match)
  #:use-module (ice-9 regex)
  #:use-module (srfi srfi-1)
  #:export (parse-cpus
            parse-cpu-weight
            parse-pids
            parse-io-weight
            cgroup-command
            remove-cgroup
            cgroup-statistics*))

;;; Commentary:
;;;
;;; A cgroup per container: limits given to `new', the wrapper that starts
;;; the container's script inside its cgroup, removal once the container is
;;; gone, and the kernel's accounting.
;;;
;;; Code:

(define %max-cpus
  ;; The most CPUs --cpus accepts: more than any host has.
  4096)

(define (parse-cpus value)
  "Parse VALUE, the argument of --cpus: a positive decimal number of CPUs
such as 0.5 or 2.  Return a (QUOTA . PERIOD) pair of microseconds, with a
period of 100 ms, or raise a clear error."
  (let ((n (and value (string-match "^[0-9]+(\\.[0-9]+)?$" value)
                (string->number value))))
    (unless (and n (>= (* n 100000) 1000) (<= n %max-cpus))
      (fail "invalid --cpus ~s: give a number of CPUs from 0.01 to ~a, such \
as 0.5 or 2" value %max-cpus))
    (cons (inexact->exact (round (* n 100000))) 100000)))

(define (parse-integer value option low high)
  "Parse VALUE, the argument of OPTION, an integer from LOW to HIGH."
  (let ((n (and value (string-match "^[0-9]+$" value) (string->number value))))
    (unless (and n (<= low n high))
      (fail "invalid --~a ~s: give an integer from ~a to ~a" option value
            low high))
    n))

(define (parse-cpu-weight value)
  "Parse VALUE, the argument of --cpu-weight: 1 to 10000 (default 100)."
  (parse-integer value "cpu-weight" 1 10000))

(define (parse-pids value)
  "Parse VALUE, the argument of --pids: how many processes and threads."
  (parse-integer value "pids" 1 4194304))

(define (parse-io-weight value)
  "Parse VALUE, the argument of --io-weight: 1 to 10000 (default 100)."
  (parse-integer value "io-weight" 1 10000))

(define* (cgroup-command relative command #:key log-file log-size
                         (confinement '()))
  "Return COMMAND prefixed with the wrapper that runs it in the cgroup
RELATIVE from its first instruction.  With LOG-FILE, the wrapper also sends
COMMAND's output to LOG-FILE through a logger process in that cgroup,
rotating it at LOG-SIZE bytes.  CONFINEMENT are the wrapper's options that
confine COMMAND (see `confinement-arguments' in (swineherd idmap))."
  `(,(cgexec-file-name)
    ,@(if log-file
          (list (string-append "--log=" log-file)
                (format #f "--log-size=~a" log-size))
          '())
    ,@confinement
    ,relative "--" ,@command))

(define* (remove-cgroup relative #:key (timeout 10))
  "Remove the cgroup RELATIVE, killing what is left in it and waiting (for
TIMEOUT seconds at most, suspending only this fiber) for it to empty.
Return #t once it is gone, #f if it could not be removed in time."
  (let loop ((tries (* timeout 20)))
    (cond ((remove-cgroup-step relative) #t)
          ((zero? tries) #f)
          (else (fiber-sleep 0.05) (loop (- tries 1))))))

(define (cgroup-statistics* relative)
  "Return the accounting of the cgroup RELATIVE, or #f if it does not exist
(the container is not running)."
  (catch 'system-error
    (lambda () (cgroup-statistics relative))
    (const #f)))

;;; resources.scm ends here
