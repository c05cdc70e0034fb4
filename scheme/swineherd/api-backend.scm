;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd api-backend)
  #:use-module (shepherd service)
  #:use-module ((shepherd comm) #:select (%current-client-socket))
  #:use-module (swineherd config)
  #:use-module ((swineherd console-log) #:select (log-tail))
  #:use-module (swineherd exec)
  #:use-module ((swineherd listing) #:select (container-services service-id))
  #:use-module ((swineherd ffi) #:select (cgroups-statistics))
  #:use-module ((swineherd network) #:select (swineherd-link-counters))
  #:use-module ((swineherd stats) #:select (statistics-alist))
  #:use-module ((swineherd storage) #:select (data-usage storage-kind))
  #:use-module ((fibers scheduler) #:select (yield-current-task))
  #:use-module (swineherd utils)
  #:use-module (ice-9 binary-ports)
  #:use-module ((ice-9 hash-table) #:select (alist->hash-table))
  #:use-module (ice-9 iconv)
  #:use-module (ice-9 match)
  #:use-module (rnrs bytevectors)
  #:use-module (srfi srfi-1)
  #:use-module (srfi srfi-34)
  #:use-module (srfi srfi-35)
  #:export (&action-failure
            action-failure?
            action-failure-message

            container-running?
            container-list
            start-container
            stop-container
            perform
            perform/text
            container-pid
            container-addresses
            container-stats
            containers-summary
            containers-metrics
            read-cgroups
            run-in-container
            container-log-tail))

;;; Commentary:
;;;
;;; What the API does to Shepherd: it performs the actions of `swineherd'
;;; and `swine:ID' in Shepherd itself, as `herd' would have them performed
;;; (same procedures, same checks, same log), but without a `herd'
;;; process.  What an action prints is captured as herd's reply would be;
;;; an action that fails raises an `&action-failure' with its message.
;;;
;;; Code:

(define-condition-type &action-failure &error
  action-failure?
  (message action-failure-message))

(define (service-name id)
  "Return the name of the service of container ID, a symbol."
  (string->symbol (string-append "swine:" id)))

(define (container-running? id)
  "Return #f if container ID does not exist, else 'running or 'stopped."
  (match (lookup-service (service-name id))
    (#f #f)
    (service (if (service-running? service) 'running 'stopped))))

(define (failure-text condition)
  "Return the message of CONDITION, raised by an action, as herd shows it."
  (cond ((action-runtime-error? condition)
         (exception-text (action-runtime-error-key condition)
                         (action-runtime-error-arguments condition)))
        ((message-condition? condition) (condition-message condition))
        (else (format #f "~a" condition))))

(define %queries
  ;; Actions that only read: what they print is not copied to Shepherd's
  ;; log (a client polling them would fill it).
  '(list pid ip stats snapshots peek))

(define (call-capturing port action thunk)
  "Call THUNK with what ACTION prints going to PORT, and also to Shepherd's
log unless ACTION is one of `%queries', as for herd."
  (if (memq action %queries)
      (parameterize ((current-output-port port)) (thunk))
      (parameterize ((%current-client-socket port)) (thunk))))

(define (perform/text service action . args)
  "Perform ACTION of SERVICE (a symbol, `swineherd' or `swine:ID') with
ARGS, as herd does; return what it printed, as a string.  Raise an
`&action-failure' with the action's error message if it fails."
  (let ((port (open-output-string)))
    (match (lookup-service service)
      (#f (raise (condition (&action-failure
                             (message (format #f "no service ~a" service))))))
      (found
       (let ((value
              (guard (c (#t (raise (condition
                                    (&action-failure
                                     (message (failure-text c)))))))
                (call-capturing port action
                                (lambda ()
                                  (apply perform-service-action found action
                                         args))))))
         (unless value
           (raise (condition (&action-failure
                              (message (string-trim-right
                                        (get-output-string port)))))))
         (get-output-string port))))))

(define (perform service action . args)
  "Perform ACTION of SERVICE with ARGS as `perform/text' does; return #t."
  (apply perform/text service action args)
  #t)

(define (with-failure thunk)
  "Call THUNK, turning any exception into an `&action-failure'."
  (guard (c ((action-failure? c) (raise c))
            (#t (raise (condition (&action-failure
                                   (message (failure-text c)))))))
    (thunk)))

(define (start-container id)
  "Start the service of container ID, as `herd start' does."
  (with-failure
   (lambda ()
     (unless (start-service (lookup-service (service-name id)))
       (raise (condition (&action-failure
                          (message (format #f "container ~a failed to start; \
see its log" id)))))))))

(define (stop-container id)
  "Stop the service of container ID, as `herd stop' does."
  (with-failure (lambda () (stop-service (lookup-service (service-name id))))))

(define (output-lines text)
  "Return the non-empty lines of TEXT."
  (remove string-null? (string-split text #\newline)))

(define (container-list)
  "Return the containers as (ID . RUNNING?) pairs, sorted by ID, from the
`list' action of `swineherd'."
  (map (lambda (line)
         (match (string-split line #\space)
           ((id state . _) (cons id (string=? state "running")))))
       (output-lines (perform/text 'swineherd 'list))))

(define (container-pid id)
  "Return the host PID of the init of container ID, or #f when it is not
running."
  (and (eq? 'running (container-running? id))
       (false-if-exception
        (string->number (string-trim-both
                         (perform/text (service-name id) 'pid))))))

(define (container-addresses id)
  "Return the addresses of container ID, \"ADDRESS/PREFIX\" strings; none
when it is not running or disconnected."
  (if (eq? 'running (container-running? id))
      (output-lines (perform/text (service-name id) 'ip))
      '()))

(define (read-sexp text)
  "Read the first datum of TEXT, an action's `sexp' output."
  (call-with-input-string text read))

(define (container-stats id)
  "Return the statistics of container ID (the alist of `stats sexp')."
  (read-sexp (perform/text (service-name id) 'stats "sexp")))

(define (containers-summary)
  "Return the totals over all containers (the alist of `stats sexp' of
`swineherd')."
  (read-sexp (perform/text 'swineherd 'stats "sexp")))

(define %metrics-chunk
  ;; Containers whose cgroups are read in one library call before other
  ;; fibers get their turn: 1 to 4 ms of Shepherd's time (see the manual).
  25)

(define (chunks items size)
  "Return ITEMS cut into lists of at most SIZE items, in order."
  (if (<= (length items) size)
      (if (null? items) '() (list items))
      (cons (list-head items size) (chunks (list-tail items size) size))))

(define (read-cgroups config ids read)
  "Return the pairs of each of IDS, container IDs, and what READ (such as
`cgroups-statistics') found for its cgroup, #f for one that does not exist
(its container does not run): `%metrics-chunk' cgroups per call of READ,
yielding to other fibers in between."
  (append-map (lambda (chunk)
                (let ((found (read (map (lambda (id)
                                          (container-cgroup config id))
                                        chunk))))
                  (yield-current-task)
                  (map cons chunk found)))
              (chunks ids %metrics-chunk)))

(define (statistics-table config ids links)
  "Return a hash table from each of IDS whose container runs (whose cgroup
exists) to its statistics (the alist of `stats sexp', without health and
identity), LINKS a hash table of the counters of their veths by ID."
  (let ((table (make-hash-table))
        ;; Disk usage is a btrfs quota: not asked for, one failed ioctl per
        ;; container, where the data are plain directories.
        (btrfs? (eq? 'btrfs (storage-kind
                             (swineherd-configuration-container-root config)))))
    (for-each (match-lambda
                ((id . #f) #f)
                ((id . cgroup)
                 (hash-set! table id
                            (statistics-alist
                             id cgroup (hash-ref links id)
                             (and btrfs?
                                  (data-usage
                                   (container-data-directory config id)))))))
              (read-cgroups config ids cgroups-statistics))
    table))

(define (containers-metrics config)
  "Return every container as (ID RUNNING? . STATS), STATS its statistics
when it runs (see `statistics-table'), else #f: for GET /metrics, with one
library call per `%metrics-chunk' cgroups and one dump of the network
links, however many containers there are.  A container runs when its
cgroup exists: asking each service for its status would cost a message to
its fiber and back (0.2 to 0.3 ms each under load, 100 ms for 500)."
  (let* ((ids (map service-id (container-services)))
         (links (alist->hash-table
                 (swineherd-link-counters
                  (swineherd-configuration-bridge config))))
         (table (statistics-table config ids links)))
    (map (lambda (id)
           (let ((stats (hash-ref table id)))
             (cons* id (and stats #t) stats)))
         ids)))

(define (run-in-container config id command timeout socket)
  "Run COMMAND (a list of strings) in container ID for at most TIMEOUT
seconds, in its cgroup, killed if the client at SOCKET goes away.  Return
four values: the wait status, standard output and error (bytevectors,
bounded by `%output-limit') and whether it timed out.  Raise an
`&action-failure' if the container does not run or the command cannot
start."
  (let ((init (container-pid id)))
    (unless init
      (raise (condition (&action-failure
                         (message (format #f "container ~a is not running"
                                          id))))))
    (catch 'system-error
      (lambda ()
        (container-exec init command #:timeout timeout
                        #:cgroup (container-cgroup config id)
                        #:client socket))
      (lambda (key . args)
        (raise (condition (&action-failure
                           (message (exception-text key args)))))))))

(define (container-log-tail config id lines)
  "Return the last LINES lines of the console log of container ID (going on
into the rotated ID.log.1 when ID.log has fewer), as strings with control
characters escaped as `herd tail' prints them; '() if it has none."
  (map escape-control-characters
       (log-tail (container-log-file config id) lines)))

;;; backend.scm ends here
