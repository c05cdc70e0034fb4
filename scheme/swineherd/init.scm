;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd init)
  #:use-module ((shepherd service) #:select (process? process-id))
  #:use-module (swineherd config)
  #:use-module ((swineherd ffi) #:select (container-init-pid))
  #:use-module ((swineherd parse) #:select (format-size))
  #:use-module (swineherd utils)
  #:use-module ((fibers) #:select ((sleep . fiber-sleep)))
  #:use-module (srfi srfi-1)
  #:export (container-service-name
            container-init
            limits-sentence
            wait-for-container-init
            pid-file-pid))

;;; Commentary:
;;;
;;; The init of a container, its PID 1: the name of its service, finding
;;; its host PID from its script's process and its PID file, and waiting,
;;; without blocking Shepherd, until a script just started has started it.
;;;
;;; Code:

(define (container-service-name id)
  "Return the name of the service of container ID, a symbol."
  (string->symbol (string-append "swine:" id)))

(define (container-init config id process)
  "Return the host PID of the init of container ID, whose script runs as
PROCESS, or raise a clear error when it is not running."
  (unless (process? process)
    (fail "container ~a is not running; start it with `herd start ~a'"
          id (container-service-name id)))
  (catch 'system-error
    (lambda ()
      (container-init-pid (process-id process)
                          (pid-file-pid (container-pid-file config id))))
    (lambda args
      (fail "container ~a has no init process: ~a" id
            (apply format #f (third args) (fourth args))))))

(define (limits-sentence limits)
  "Return a sentence naming the memory and process LIMITS (as
`create-cgroup' takes them) of a container that failed to start, as likely
causes, or \"\" if it had none."
  (let ((memory (assq-ref limits 'memory))
        (pids (assq-ref limits 'pids)))
    (if (or memory pids)
        (format #f ".  It ran with ~a: too small a limit kills a container \
as it boots; give it more"
                (string-join
                 (append (if memory
                             (list (format #f "--memory=~a" (format-size memory)))
                             '())
                         (if pids (list (format #f "--pids=~a" pids)) '()))
                 " and "))
        "")))

(define* (wait-for-container-init config id process #:optional (limits '()))
  "Wait, without blocking Shepherd, until the script running as PROCESS has
started the init of container ID, whose cgroup has LIMITS.  Return #t, or #f
if the script exited first (naming a limit that may have killed it) or the init did not show up within the configured timeout (the script
is then killed).  It looks after 1 ms, then a quarter longer each time, up
to every 50 ms: an init is seen at most a quarter of its start time late (a
small init starts in about 10 ms, a Guix script's in about 0.1 s), for a
dozen cheap looks at /proc in the first 50 ms."
  (define pid (process-id process))
  (define deadline
    (+ (get-internal-real-time)
       (* (swineherd-configuration-start-timeout config)
          internal-time-units-per-second)))
  (let loop ((pause 0.001))
    (cond ((not (false-if-system-error (kill pid 0)))
           (format #t "container ~a: its script exited before starting the \
container; see ~a~a~%" id (container-log-file config id)
                   (limits-sentence limits))
           #f)
          ((catch 'misc-error            ;not yet: `container-init' fails
             (lambda () (container-init config id process))
             (const #f))
           #t)
          ((> (get-internal-real-time) deadline)
           (format #t "container ~a: no init after ~a seconds; killing its \
script~%" id (swineherd-configuration-start-timeout config))
           (false-if-system-error (kill (- pid) SIGKILL))
           #f)
          (else
           (fiber-sleep pause)                    ;suspends this fiber only
           (loop (min 0.05 (* 1.25 pause)))))))

(define (pid-file-pid file)
  "Return the PID written to FILE, or #f if there is none (yet)."
  (catch 'system-error
    (lambda ()
      (let ((pid (call-with-input-file file read)))
        (and (exact-integer? pid) (positive? pid) pid)))
    (const #f)))

;;; init.scm ends here
