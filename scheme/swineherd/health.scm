;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd health)
  #:use-module (swineherd exec)
  #:use-module (swineherd guest)
  #:use-module (swineherd utils)
  #:use-module (shepherd service)
  #:use-module ((fibers) #:select (spawn-fiber (sleep . fiber-sleep)))
  #:use-module (ice-9 iconv)
  #:use-module (ice-9 match)
  #:use-module (rnrs bytevectors)
  #:use-module (srfi srfi-1)
  #:use-module (srfi srfi-11)
  #:export (health-checked?
            start-health-checks
            container-health
            health-statistics
            action:health))

;;; Commentary:
;;;
;;; Health checks of running containers, podman-like: every --health-interval
;;; seconds, a command runs inside the container as `exec' runs it
;;; (--health-cmd) or its guest Shepherd is asked whether a service runs
;;; (--health-guest); --health-retries failures in a row make the container
;;; unhealthy, and --health-on-failure says what then happens: nothing,
;;; a restart, a stop, or SIGKILL to its init.  Each check runs in a fiber of
;;; its own, which suspends only itself (sleeps, the command, the guest's
;;; answer) and ends when the container stops or starts again.
;;;
;;; Code:

;;; The health of a container: #(STATE FAILURES LAST-OUTPUT GENERATION),
;;; STATE `starting', `healthy' or `unhealthy'.
(define %health (make-hash-table))

(define %generation
  ;; Incremented at each start: a check loop of an earlier start ends.
  (make-hash-table))

(define (health-checked? options)
  "Return true if OPTIONS, those of `new', ask for health checks."
  (or (assq-ref options 'health-cmd) (assq-ref options 'health-guest)))

(define (container-health id)
  "Return the health of container ID as (STATE FAILURES LAST-OUTPUT), or #f
if it has no health checks running."
  (match (hash-ref %health id)
    (#(state failures output _) (list state failures output))
    (#f #f)))

(define (health-statistics id)
  "Return the health of container ID for `stats json' and `stats sexp': an
alist of its state, failures in a row and the last failure's output; none
without health checks."
  (match (container-health id)
    (#f '())
    ((state failures output)
     `((health . ,(symbol->string state))
       (health-failures . ,failures)
       (health-last-failure . ,(and (not (string-null? output)) output))))))

(define (set-health! id state failures output)
  (hash-set! %health id (vector state failures output #f)))

(define (check-once id init-pid cgroup options)
  "Run container ID's health check once; return #f if it passed, else the
text of the failure."
  (define timeout (or (assq-ref options 'health-timeout) 10))
  (match (assq-ref options 'health-guest)
    (#f
     (let-values (((status stdout stderr timed-out?)
                   (container-exec init-pid (assq-ref options 'health-cmd)
                                   #:timeout timeout #:cgroup cgroup
                                   #:output-limit 4096)))
       (cond (timed-out? (format #f "timed out after ~a s" timeout))
             ((zero? status) #f)
             (else
              (format #f "~a: ~a" (status->message status)
                      (escape-control-characters
                       (string-trim-both
                        (bytevector->string
                         (if (zero? (bytevector-length stderr)) stdout stderr)
                         "UTF-8" 'substitute))))))))
    (name
     (match (services-not-ready (guest-services init-pid #:timeout timeout)
                                (list name))
       (() #f)
       (((_ . status))
        (format #f "guest service ~a is ~a" name status))))))

(define (on-failure id action init-pid)
  "Do ACTION (none, restart, stop or kill) to container ID, unhealthy."
  (define service (lookup-service (string->symbol (string-append "swine:" id))))
  (log-line "swineherd: container ~a is unhealthy; on failure: ~a" id action)
  (match action
    ('none #t)
    ('restart (when service
                (stop-service service)
                (start-service service)))
    ('stop (when service (stop-service service)))
    ('kill (false-if-exception (kill init-pid SIGKILL)))))

(define (start-health-checks id init-pid cgroup options)
  "Start, in a fiber of its own, the health checks that OPTIONS ask for of
container ID, whose init has host PID INIT-PID and whose cgroup is CGROUP;
an earlier start's checks end.  Does nothing without --health-cmd or
--health-guest."
  (when (health-checked? options)
    (let ((generation (+ 1 (hash-ref %generation id 0)))
          (interval (or (assq-ref options 'health-interval) 30))
          (retries (or (assq-ref options 'health-retries) 3))
          (action (or (assq-ref options 'health-on-failure) 'none)))
      (hash-set! %generation id generation)
      (set-health! id 'starting 0 "")
      (spawn-fiber
       (lambda ()
         (let loop ((failures 0))
           (fiber-sleep interval)
           (when (and (= generation (hash-ref %generation id 0))
                      (false-if-exception (kill init-pid 0)))
             (match (catch #t
                      (lambda () (check-once id init-pid cgroup options))
                      (lambda (key . args) (exception-text key args)))
               (#f
                (set-health! id 'healthy 0 "")
                (loop 0))
               (failure
                (let ((failures (+ 1 failures)))
                  (log-line "swineherd: container ~a: health check failed \
(~a of ~a): ~a" id failures retries failure)
                  (cond ((< failures retries)
                         (set-health! id (match (container-health id)
                                           (('unhealthy . _) 'unhealthy)
                                           (_ 'starting))
                                      failures failure)
                         (loop failures))
                        ((eq? action 'none)
                         (set-health! id 'unhealthy failures failure)
                         (loop failures))
                        (else
                         (set-health! id 'unhealthy failures failure)
                         ;; A restart starts new checks; this loop ends.
                         (hash-set! %generation id (+ 1 generation))
                         (on-failure id action init-pid))))))))))))
  #t)

(define (action:health id)
  "Return the `health' action of container ID: print its health state."
  (lambda (running . args)
    (match (container-health id)
      (#f (format #t "no health checks (give --health-cmd or --health-guest \
to new)~%"))
      ((state failures output)
       (format #t "~a~a~%" state
               (if (string-null? output)
                   ""
                   (format #f " (failures in a row: ~a; last: ~a)" failures
                           output)))))
    #t))

;;; health.scm ends here
