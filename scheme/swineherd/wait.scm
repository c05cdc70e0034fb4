;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd wait)
  #:use-module (fibers operations)
  #:use-module ((fibers scheduler) #:select (schedule-task-when-fd-readable))
  #:use-module ((ice-9 atomic) #:select (atomic-box-compare-and-swap!))
  #:use-module ((ice-9 ports internal) #:select (port-read-wait-fd))
  #:use-module (ice-9 match)
  #:export (port-readable-operation))

;;; Commentary:
;;;
;;; Waiting for descriptors from a fiber without select(2), which Shepherd
;;; cannot afford once it holds more than 1023 descriptors.  The report for
;;; Fibers is doc/upstream/fibers-select-fd-setsize.md.
;;;
;;; Code:

(define (port-readable-operation port)
  "Return an operation that succeeds when PORT, a non-blocking input port, is
readable.  It is Fibers' `wait-until-port-readable-operation' without its
first check, which calls select(2): glibc aborts the whole process (Shepherd)
when select is given a descriptor above 1023, and Shepherd holds two per
container (bench/swineherd-suite crashed it with `exec' at 500 containers).
This one goes straight to the scheduler's epoll, which has no such limit; a
port that is readable already is reported at once.  Needed with Fibers 1.3.1
and 1.4.3, the versions tested: both check with `select' first."
  (make-base-operation
   #f
   (const #f)
   (lambda (flag sched resume)
     (define (commit)
       (match (atomic-box-compare-and-swap! flag 'W 'S)
         ('W (resume values))
         ('C (commit))
         ('S #f)))
     (schedule-task-when-fd-readable sched (port-read-wait-fd port) commit))))

;;; wait.scm ends here
