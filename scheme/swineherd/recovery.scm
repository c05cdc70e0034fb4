;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd recovery)
  #:use-module (shepherd service)
  #:use-module (swineherd config)
  #:use-module ((swineherd container) #:select (keep-for-adoption!
                                                adoption-pending?))
  #:use-module ((swineherd detached) #:select (delete-owned-link))
  #:use-module ((swineherd ffi) #:select (detach-netns))
  #:use-module ((swineherd idmap) #:select (release-orphaned-ids))
  #:use-module (swineherd init)
  #:use-module (swineherd nat)
  #:use-module (swineherd network)
  #:use-module (swineherd resources)
  #:use-module (swineherd runtime)
  #:use-module (swineherd state)
  #:use-module (swineherd survivors)
  #:use-module (swineherd utils)
  #:use-module ((fibers) #:select (spawn-fiber))
  #:use-module ((fibers conditions) #:select (make-condition
                                              signal-condition!
                                              wait))
  #:use-module (ice-9 match)
  #:use-module (srfi srfi-1)
  #:use-module (srfi srfi-26)
  #:export (map-concurrently
            container-start-problem
            failures-text

            restore-containers
            start-wanted-containers
            clean-orphans))

;;; Commentary:
;;;
;;; Restoring the recorded containers when `swineherd' starts, so that one
;;; bad container never costs the others: each container's steps run in a
;;; fiber of their own, concurrently (a survivor's grace period delays no
;;; one else), and what goes wrong with one is caught, reported with its
;;; reason, and kept to that one.  A survivor of a Shepherd restart (see
;;; `(swineherd survivors)') is kept for its service to adopt; what is left
;;; of a container that cannot be adopted is stopped.  Then what belongs to
;;; no recorded container (leases, veths, network namespace mounts, cgroups)
;;; is removed; data never is.
;;;
;;; Code:

(define (map-concurrently proc items)
  "Call PROC on each of ITEMS, each call in a fiber of its own, and return
once all have returned: the list, in the order of ITEMS, of (ok . VALUE)
for a call that returned VALUE and (failed . TEXT) for one that raised an
exception, TEXT saying which."
  (define (run item)
    (let ((done (make-condition))
          (result #f))
      (spawn-fiber
       (lambda ()
         (set! result
           (catch #t
             (lambda () (cons 'ok (proc item)))
             (lambda (key . args)
               (cons 'failed (exception-text key args)))))
         (signal-condition! done)))
      (lambda ()
        (wait done)
        result)))
  (map (lambda (join) (join)) (map run items)))

(define (container-start-problem config c)
  "Return #f if container C, recorded as wanted running, can be started as
far as can be told without starting it, else a text saying why not and what
to do: its script must be an executable file and its data must exist."
  (define id (container-id c))
  (define script (container-script c))
  (define data (container-data-directory config id))
  (cond ((not (false-if-system-error (access? script X_OK)))
         (format #f "its script ~a is missing or not executable; put it back \
and `herd start swine:~a', or `herd kill swineherd ~a'" script id id))
        ((not (false-if-system-error (eq? 'directory (stat:type (stat data)))))
         (format #f "its data ~a is missing; restore it and `herd start \
swine:~a', or `herd kill swineherd ~a'" data id id))
        (else #f)))

(define (failures-text failures)
  "Return FAILURES, a list of (ID . REASON) pairs, as one line for
`herd status swineherd'."
  (string-join (map (match-lambda
                      ((id . reason) (format #f "~a (~a)" id reason)))
                    failures)
               ", "))

;;;
;;; Restoring containers, and cleaning up after crashes.
;;;

(define (stop-survivors config id address)
  "Stop what is left of container ID from before a Shepherd crash or
restart, since Shepherd cannot monitor processes it did not fork: SIGTERM
to its init (found through its PID file, and only if it is in the
container's cgroup), a grace period, then SIGKILL to everything left in
its cgroup; then release its veth and network namespace mount.  (Its
published ports went with the NAT table, which `swineherd-start' replaced
before.)"
  (let ((init (pid-file-pid (container-pid-file config id)))
        (cgroup (container-cgroup config id)))
    (when (and init (in-cgroup? init cgroup))
      (format #t "swineherd: stopping container ~a left from before (init ~a)~%"
              id init)
      (catch 'system-error                       ;gone already: fine
        (lambda () (kill init SIGTERM))
        (const #f))
      (wait-for-exit init 5))
    (release-runtime config id address '())))

(define (restore-container config c make-service)
  "Register the service of container C, made by MAKE-SERVICE, unless it has one already: a
survivor of it is kept for adoption if C is wanted running and can start,
else stopped.  Return #f, or a text saying why C, wanted running, cannot be
started."
  (let* ((id (container-id c))
         (problem (and (eq? 'running (container-wanted c))
                       (container-start-problem config c))))
    (unless (lookup-service (container-service-name id))
      (let ((found (and (eq? 'running (container-wanted c)) (not problem)
                        (find-survivor config id))))
        (if (survivor? found)
            (keep-for-adoption! id found)
            (begin
              (when found
                (format #t "swineherd: container ~a not adopted: ~a~%"
                        id found))
              (stop-survivors config id (container-address c)))))
      (register-services (list (make-service c #:recorded? #t))))
    problem))

(define (restore-containers config records make-service)
  "Restore each container of RECORDS, their services made by MAKE-SERVICE
(see `restore-container'), all
concurrently, each failing alone.  Return the (ID . REASON) pairs of those
that failed or cannot start, after reporting them in the log."
  (let ((failures
         (filter-map (lambda (c result)
                       (match result
                         (('ok . #f) #f)
                         (('ok . problem) (cons (container-id c) problem))
                         (('failed . text) (cons (container-id c) text))))
                     records
                     (map-concurrently (cut restore-container config <> make-service)
                                       records))))
    (for-each (match-lambda
                ((id . reason)
                 (format #t "swineherd: container ~a not started: ~a~%"
                         id reason)))
              failures)
    failures))

(define (start-container service)
  "Start SERVICE, a container's; report in the log if it fails."
  (catch #t
    (lambda ()
      (unless (start-service service)
        (format #t "swineherd: ~a failed to start; see its log~%"
                (service-canonical-name service))))
    (lambda (key . args)
      (format #t "swineherd: ~a failed to start: ~a~%"
              (service-canonical-name service) (exception-text key args)))))

(define* (start-wanted-containers records failures begun
                                  #:optional (then (const #t)))
  "In a new fiber, once `swineherd' runs, start the containers of RECORDS
that are wanted running and not among FAILURES (from `restore-containers'),
all concurrently, each failing alone; then log how many were adopted and
started, and the time since BEGUN (internal time units), when swineherd
began to start; then call THEN.  (Not from swineherd's own start procedure:
the containers require swineherd, which is still starting then.)"
  (spawn-fiber
   (lambda ()
     (if (swineherd-started?)
         (begin
           (start-wanted records failures begun)
           (then))
         (log-line "swineherd: did not start; its containers are not \
started")))))

(define (swineherd-started?)
  "Wait, suspending this fiber only, until the `swineherd' service is no
longer starting, and return true if it runs.  The wait is on the Fibers
condition that Shepherd signals when a start ends: `start-service' of a
service that is starting waits on it, then returns its running value
without starting it again (Shepherd 1.0.3 and 1.0.9 alike).  A `swineherd'
stopped by then is left stopped."
  (let ((service (lookup-service 'swineherd)))
    (and service
         (memq (service-status service) '(starting running))
         (start-service service)
         #t)))

(define (start-wanted records failures begun)
  "Start the containers of RECORDS that are wanted running and not among
FAILURES, all concurrently, each failing alone; then log how many were
adopted and started, and the time since BEGUN."
  (let* ((wanted (filter (lambda (c)
                           (and (eq? 'running (container-wanted c))
                                (not (assoc (container-id c) failures))))
                         records))
         (adopted (count (lambda (c) (adoption-pending? (container-id c)))
                         wanted)))
    (map-concurrently
     (lambda (c)
       (let ((service (lookup-service
                       (container-service-name (container-id c)))))
         (when (and service (not (service-running? service)))
           (start-container service))))
     wanted)
    (log-line "swineherd: restored ~a containers in ~,1f ms: ~a to \
adopt, ~a to start afresh, ~a not started" (length records)
              (milliseconds-since begun) adopted (- (length wanted) adopted)
              (length failures))))

(define (cgroup-parents config)
  "Return the directories of the cgroup parent of CONFIG in every
hierarchy where it exists."
  (let ((parent (swineherd-configuration-cgroup-parent config)))
    (filter file-exists?
            (cons (string-append "/sys/fs/cgroup/" parent)
                  (map (lambda (hierarchy)
                         (string-append "/sys/fs/cgroup/" hierarchy "/" parent))
                       (entries "/sys/fs/cgroup"))))))

(define (clean-orphans config records)
  "Remove what belongs to no recorded container: address and host-port
leases, veths, network namespace mounts, cgroups.  (Their published ports
went with the NAT table, which `swineherd-start' replaced before.)  Data is never deleted: return the
names of the data directories that belong to no record, for the log and
`herd status swineherd'."
  (define ids (map container-id records))
  (define (orphan? id) (not (member id ids)))
  (define leases (address-lease-directory config))
  (define addresses (filter-map container-address records))
  (for-each (lambda (address)
              (let ((owner (address-owner leases address)))
                (when (orphan? owner)
                  (format #t "swineherd: releasing orphaned lease ~a (~a)~%"
                          address owner)
                  (release-address leases address owner))))
            (entries leases))
  (release-orphaned-ports (port-lease-directory config)
                          (lambda (owner) (not (orphan? owner))))
  (release-orphaned-ids config orphan?)
  (for-each (match-lambda
              ((link . id)
               (unless (member link (map host-interface addresses))
                 (format #t "swineherd: deleting orphaned veth ~a (~a)~%"
                         link id)
                 (delete-owned-link link (container-link-owner config id)))))
            (swineherd-links (swineherd-configuration-bridge config)))
  (let ((directory (swineherd-configuration-netns-directory config)))
    (for-each (lambda (name)
                (when (orphan? (string-drop name (string-length "swineherd-")))
                  (format #t "swineherd: unmounting orphaned ~a/~a~%" directory
                          name)
                  (detach-netns (string-append directory "/" name))))
              (filter (lambda (name) (string-prefix? "swineherd-" name))
                      (entries directory))))
  (for-each (lambda (id)
              (when (orphan? id)
                (format #t "swineherd: removing orphaned cgroup ~a~%" id)
                (remove-cgroup (container-cgroup config id))))
            (delete-duplicates
             (append-map (lambda (parent)
                           (filter (lambda (name)
                                     (file-is-directory?
                                      (string-append parent "/" name)))
                                   (entries parent)))
                         (cgroup-parents config))))
  (let ((orphans (filter (lambda (name)
                           (and (not (string-prefix? "." name)) (orphan? name)))
                         (entries (swineherd-configuration-container-root
                                   config)))))
    (for-each (lambda (name)
                (format #t "swineherd: WARNING: ~a/~a belongs to no container; \
kept (data is only deleted by `kill')~%"
                        (swineherd-configuration-container-root config) name))
              orphans)
    orphans))

;;; recovery.scm ends here
