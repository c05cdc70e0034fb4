;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd detached)
  #:use-module ((swineherd ffi) #:select (delete-owned-link-start
                                          unguard-container-start
                                          unpublish-ports-start
                                          detached-finish))
  #:use-module (swineherd wait)
  #:use-module (fibers operations)
  #:use-module ((fibers scheduler) #:select (current-scheduler))
  #:use-module (ice-9 match)
  #:export (delete-owned-link
            unguard-container
            unpublish-ports))

;;; Commentary:
;;;
;;; Slow kernel requests that the library hands to a child process (see
;;; "Detached Requests" in the manual): waiting for them from a fiber, and
;;; which of their errors mean that there was nothing to do.  The binding
;;; of the `swh_*_start' functions is in `(swineherd ffi)'.
;;;
;;; Code:

(define (await-detached who pidfd result)
  "Wait for the request that a `swh_*_start' function handed to a child
process, whose pidfd is PIDFD and result descriptor RESULT: suspend the
current fiber (or, outside Fibers, sleep) until the child is done, close
both descriptors, and raise a `system-error' if the kernel refused the
request."
  (define pidfd-port (fdopen pidfd "r"))          ;closing it closes PIDFD
  (define (close)
    (close-port pidfd-port)
    (close-fdes result))
  (define (wait)
    (if (current-scheduler)
        (perform-operation (port-readable-operation pidfd-port))
        (usleep 1000)))
  (let loop ()
    (unless (catch 'system-error
              (lambda () (detached-finish who pidfd result))
              (lambda args
                (close)
                (apply throw args)))
      (wait)
      (loop)))
  (close))

(define* (call-detached who pending #:key (fine '()))
  "Wait for PENDING, what a `*-start' procedure of `(swineherd ffi)'
returned for WHO: #f (done already) or a (PIDFD . RESULT) pair.  An errno
in FINE means that there was nothing to do."
  (match pending
    (#f #t)
    ((pidfd . result)
     (catch 'system-error
       (lambda () (await-detached who pidfd result))
       (lambda args
         (unless (memv (system-error-errno args) fine)
           (apply throw args)))))))

(define (delete-owned-link name owner)
  "Delete the network link NAME if its alias is OWNER; a missing link, or
one that somebody else owns, is left alone.  The kernel's wait (an RCU
grace period, some 20 ms) is a child process's: only the calling fiber
waits for it."
  (call-detached 'delete-owned-link (delete-owned-link-start name owner)
                 #:fine (list ENODEV)))

(define (unguard-container table id)
  "Remove the filters of container ID from the netdev table TABLE; what is
gone already (the table included) is fine.  The kernel's wait is a child
process's, as for `unpublish-ports'."
  (call-detached 'unguard-container (unguard-container-start table id)
                 #:fine (list ENOENT)))

(define (unpublish-ports table id)
  "Remove what container ID published in table `ip TABLE'; nothing to
remove, or no table, is fine.  The kernel's wait (some 16 ms) is a child
process's: only the calling fiber waits for it."
  (call-detached 'unpublish-ports (unpublish-ports-start table id)
                 #:fine (list ENOENT)))

;;; detached.scm ends here
