;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd health)
  #:use-module ((swineherd events) #:select (emit-event))
  #:use-module (swineherd exec)
  #:use-module (swineherd guest)
  #:use-module (swineherd utils)
  #:use-module (shepherd service)
  #:use-module ((shepherd logger) #:select (spawn-service-builtin-logger))
  #:use-module ((shepherd support) #:select (non-blocking-port))
  #:use-module ((fibers) #:select (spawn-fiber (sleep . fiber-sleep)))
  #:use-module (ice-9 iconv)
  #:use-module (ice-9 match)
  #:use-module (ice-9 textual-ports)
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
;;; answer) and ends when the container stops or starts again.  Its
;;; transitions and failures go to a logger of Shepherd's own registered as
;;; the service's, so `herd status swine:ID' shows them as recent messages.
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

;;;
;;; The health log: recent messages of the container's service.
;;;

(define (open-health-log id)
  "Return the output port of a log of container ID's health: a pipe read by
a Shepherd builtin logger registered as the logger of the service
`swine:ID', so that each line written shows under `Recent messages' in
`herd status swine:ID' (with Shepherd 1.0.3 and 1.0.9 alike) and in
Shepherd's log.  Return #f when there is no such service, or no pipe (out of
descriptors): the lines then go to Shepherd's log only."
  (and=> (lookup-service (string->symbol (string-append "swine:" id)))
         (lambda (service)
           (match (catch 'system-error pipe (const #f))
             (#f #f)
             ((in . out)
              (fcntl in F_SETFD FD_CLOEXEC)
              (fcntl out F_SETFD FD_CLOEXEC)
              (spawn-service-builtin-logger "health" (non-blocking-port in)
                                            #:service service)
              (non-blocking-port out))))))

(define (note port fmt . args)
  "Write a line formatted from FMT and ARGS to PORT, the health log, or to
Shepherd's log when PORT is #f or broken."
  (let ((line (apply format #f fmt args)))
    (unless (and port
                 (catch 'system-error
                   (lambda ()
                     (put-string port (string-append line "\n"))
                     (force-output port)
                     #t)
                   (const #f)))
      (log-line "~a" line))))

(define (close-health-log port)
  "Close PORT, the health log: its logger reads the end of file and, once
Shepherd has replaced or dropped it, ends."
  (when port (close-port port)))

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
       (define output
         (escape-control-characters
          (string-trim-both
           (bytevector->string
            (if (zero? (bytevector-length stderr)) stdout stderr)
            "UTF-8" 'substitute))))
       (cond (timed-out? (format #f "timed out after ~a s" timeout))
             ((zero? status) #f)
             ((string-null? output) (status->message status))
             (else (format #f "~a: ~a" (status->message status) output)))))
    (name
     (match (services-not-ready (guest-services init-pid #:timeout timeout)
                                (list name))
       (() #f)
       (((_ . status))
        (format #f "guest service ~a is ~a" name status))))))

(define (on-failure id action init-pid)
  "Do ACTION (none, restart, stop or kill) to container ID, unhealthy."
  (define service (lookup-service (string->symbol (string-append "swine:" id))))
  (match action
    ('none #t)
    ('restart (when service
                (stop-service service)
                (start-service service)))
    ('stop (when service (stop-service service)))
    ('kill (false-if-exception (kill init-pid SIGKILL)))))

(define (health-event id state failures output)
  "Emit the API event `health' of container ID, now in STATE."
  (emit-event 'health id `((state . ,(symbol->string state))
                           (failures . ,failures)
                           (last_failure . ,(if (string-null? output)
                                                'null
                                                output)))))

(define (record-result! id log failure failures retries)
  "Record the result of one of container ID's checks: FAILURE, its text,
or #f if it passed, after FAILURES failures in a row, out of RETRIES that
make it unhealthy; write what changed to LOG, and a change of state as an
API event.  Return the new count of failures in a row."
  (define was (match (container-health id) ((state . _) state) (#f #f)))
  (match failure
    (#f
     (unless (eq? was 'healthy)
       (note log "container ~a: healthy" id)
       (health-event id 'healthy 0 ""))
     (set-health! id 'healthy 0 "")
     0)
    (_
     (let* ((failures (+ 1 failures))
            (state (cond ((>= failures retries) 'unhealthy)
                         ((eq? was 'unhealthy) 'unhealthy)
                         (else 'starting))))
       (note log "container ~a: health check failed (~a): ~a" id
             (if (<= failures retries)
                 (format #f "~a of ~a" failures retries)
                 (format #f "~a in a row" failures))
             failure)
       (set-health! id state failures failure)
       (unless (eq? state was)
         (health-event id state failures failure))
       failures))))

(define (start-health-checks id init-pid cgroup options)
  "Start, in a fiber of its own, the health checks that OPTIONS ask for of
container ID, whose init has host PID INIT-PID and whose cgroup is CGROUP;
an earlier start's checks end.  Does nothing without --health-cmd or
--health-guest."
  (when (health-checked? options)
    (let ((generation (+ 1 (hash-ref %generation id 0)))
          (interval (or (assq-ref options 'health-interval) 30))
          (retries (or (assq-ref options 'health-retries) 3))
          (action (or (assq-ref options 'health-on-failure) 'none))
          (log (open-health-log id)))
      (hash-set! %generation id generation)
      (set-health! id 'starting 0 "")
      (note log "container ~a: health starting: a check every ~a s" id
            interval)
      (spawn-fiber
       (lambda ()
         (let loop ((failures 0))
           (fiber-sleep interval)
           (if (and (= generation (hash-ref %generation id 0))
                    (false-if-exception (kill init-pid 0)))
               (let ((failures
                      (record-result!
                       id log
                       (catch #t
                         (lambda () (check-once id init-pid cgroup options))
                         (lambda (key . args) (exception-text key args)))
                       failures retries)))
                 (cond ((or (< failures retries) (eq? action 'none))
                        (when (= failures retries)
                          (note log "container ~a is unhealthy; on failure: \
none" id))
                        (loop failures))
                       (else
                        (note log "container ~a is unhealthy; on failure: ~a"
                              id action)
                        ;; A restart starts new checks; this loop ends.
                        (hash-set! %generation id (+ 1 generation))
                        (close-health-log log)
                        (on-failure id action init-pid))))
               (close-health-log log)))))))
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
