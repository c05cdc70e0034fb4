;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd container)
  #:use-module (shepherd service)
  #:use-module ((swineherd arguments) #:select (check-snapshot-name))
  #:use-module (swineherd config)
  #:use-module (swineherd events)
  #:use-module (swineherd guest)
  #:use-module (swineherd health)
  #:use-module (swineherd idmap)
  #:use-module (swineherd live-limits)
  #:use-module (swineherd snapshot-schedule)
  #:use-module ((swineherd upkeep-options) #:select (log-keep))
  #:use-module ((swineherd ffi) #:select (create-cgroup
                                          container-addresses
                                          link-statistics))
  #:use-module (swineherd init)
  #:use-module (swineherd nat)
  #:use-module ((swineherd network) #:select (guard-network host-interface))
  #:use-module (swineherd resources)
  #:use-module (swineherd runtime)
  #:use-module (swineherd state)
  #:use-module (swineherd stats)
  #:use-module (swineherd storage)
  #:use-module (swineherd survivors)
  #:use-module (swineherd utils)
  #:use-module (ice-9 match)
  #:use-module (srfi srfi-1)
  #:export (keep-for-adoption!
            adoption-pending?

            container-start
            container-stop
            container-termination-handler

            action:up
            action:down
            action:ip
            action:pid
            action:snapshot
            action:snapshots
            action:delete-snapshot
            action:stats
            container-statistics

            start-upkeep
            restart-snapshots
            shutting-down?
            record-wanted))

;;; Commentary:
;;;
;;; The procedures of a container's service `swine:ID' (see `(swineherd)'):
;;; starting it (afresh, or by adopting a survivor of a Shepherd restart),
;;; stopping it, handling its exit, and its actions but `exec', `peek' and
;;; `fs' (see `(swineherd exec)', `(swineherd peek)', `(swineherd fs)').
;;;
;;; Code:

;;;
;;; Adopted containers: survivors of a Shepherd restart (see `(swineherd
;;; survivors)'), running without being Shepherd's children.
;;;

(define %adoptions
  ;; Container ID -> survivor found when `swineherd' started, to adopt when
  ;; its service starts.
  (make-hash-table))

(define %adopted
  ;; Container ID -> survivor that its service runs as, until it exits or
  ;; is stopped.
  (make-hash-table))

(define (keep-for-adoption! id s)
  "Keep survivor S of container ID for its service to adopt when it
starts."
  (hash-set! %adoptions id s))

(define (adoption-pending? id)
  "Return true if a survivor of container ID waits for its service to adopt
it."
  (and (hash-ref %adoptions id) #t))

(define handle-service-termination
  ;; Tell a service that its process terminated, as Shepherd's process
  ;; monitor does for its own children: the service's termination handler
  ;; runs (release, respawn).  Internal to (shepherd service) in 1.0.3 and
  ;; 1.0.9 alike, with the same arguments (SERVICE PID STATUS).
  (@@ (shepherd service) handle-service-termination))

(define (adopted-exited id s service)
  "Survivor S of container ID, adopted as SERVICE, has exited: unless it
is being stopped, run SERVICE's termination path, with an exit status of 0
since none is known to a process that is not its parent.  No suspension
between the check and the message: a `kill' stops (and so forgets S)
before it unregisters SERVICE, so SERVICE's controller is there."
  (when (eq? s (hash-ref %adopted id))
    (hash-remove! %adopted id)
    (handle-service-termination service (survivor-main s) 0)
    (log-line "swineherd: adopted container ~a: process ~a exited" id
              (survivor-main s))))

(define (adopt-container config id address isolated ports s)
  "Adopt survivor S of container ID: repair its network (veth, network
namespace mount: kept if there; its filters, ISOLATED or not, and its
published PORTS, in the tables made afresh), watch it and return its main
PID, the running value.  It is
watched first: if a repair fails, `stop-adopted' can wait for it."
  (let ((service (current-service)))              ;set by `start-service'
    (hash-set! %adopted id s)
    (watch-survivor s (lambda () (adopted-exited id s service))))
  (when address
    (connect-init config id address isolated (survivor-init s))
    (guard-network #:subnet (swineherd-configuration-subnet config)
                   #:address address
                   #:owner (container-link-owner config id)
                   #:table (nat-table config)
                   #:id id
                   #:isolated? isolated)
    (publish-container-ports (nat-table config) id address ports))
  (format #t "swineherd: adopted container ~a: script ~a, init ~a, kept \
running~%" id (survivor-main s) (survivor-init s))
  (survivor-main s))

(define (stop-adopted id s)
  "Stop survivor S, the adopted container ID (the caller releases its
runtime resources, which kills what is left in its cgroup)."
  (hash-remove! %adopted id)
  (unless (terminate-survivor s (default-process-termination-grace-period))
    (format #t "container ~a: process ~a still there after the grace \
period; emptying its cgroup~%" id (survivor-main s))))

(define* (container-start config id script args address isolated ports
                          limits #:key (options '()))
  "Return the start procedure of container ID, whose address is ADDRESS (#f
for no network), ISOLATED or not, which publishes PORTS and whose cgroup gets
the limits that the thunk LIMITS returns (they change with `limit').  A
survivor of a Shepherd restart found for ID is adopted instead; if its
network cannot be repaired, it is stopped and ID started afresh."
  (define fresh (container-fresh-start config id script args address
                                       isolated ports limits options))
  (lambda start-args
    (let ((s (hash-ref %adoptions id)))
      (hash-remove! %adoptions id)
      (or (and s
               (catch #t
                 (lambda () (adopt-container config id address isolated ports s))
                 (lambda (key . args)
                   (format #t "swineherd: container ~a not adopted: ~a; \
starting it afresh~%" id (exception-text key args))
                   (stop-adopted id s)
                   (release-runtime config id address ports)
                   #f)))
          (apply fresh start-args)))))

(define (container-fresh-start config id script args address isolated
                               ports limits options)
  "Return the procedure that starts container ID afresh, from its script
(see `container-start')."
  (lambda _
    (let ((data (container-data-directory config id)))
      (unless (file-exists? data)
        (fail "the data of container ~a, ~a, is missing; `herd kill \
swineherd ~a' removes the container" id data id))
      (mkdir-p (swineherd-configuration-log-directory config))
      (mkdir-p (swineherd-configuration-run-directory config))
      (prepare-pid-file (container-pid-file config id) options)
      (let* ((limits (limits))
             (start (get-internal-real-time))
             (_ (create-cgroup (container-cgroup config id) limits))
             (_ (restrict-devices (container-cgroup config id) options))
             (cgroup-done (get-internal-real-time))
             (process ((make-forkexec-constructor
                        (cgroup-command (container-cgroup config id)
                                        (container-command config id script
                                                           args)
                                        #:log-file (container-log-file config id)
                                        #:log-size
                                        (or (assq-ref options 'log-size)
                                            (swineherd-configuration-log-size
                                             config))
                                        #:log-keep (log-keep options)
                                        #:confinement
                                        (confinement-arguments options))
                        #:directory data)))
             (init? (wait-for-container-init config id process limits))
             (init-done (get-internal-real-time))
             (network? (and init? (start-network config id address isolated ports
                                                process)))
             (ready? (and network?
                          (container-ready?
                           id (container-init config id process) options
                           (swineherd-configuration-start-timeout config)
                           start))))
        (log-line "swineherd: start ~a: cgroup ~,2f ms, script to init \
~,2f ms, network ~,2f ms"
                  id (milliseconds-between start cgroup-done)
                  (milliseconds-between cgroup-done init-done)
                  (milliseconds-since init-done))
        (or (and ready? process)
            (begin
              ;; Shepherd calls no termination handler for a service that
              ;; failed to start: release its resources here.
              (release-runtime config id address ports)
              #f))))))

(define (container-stop config id address ports)
  "Return the stop procedure of container ID: end its scheduled snapshots,
unpublish its PORTS and disconnect it, then SIGTERM to the script's process group (the script
relays it to the container's init, Shepherd, which shuts down), SIGKILL
after Shepherd's grace period; then make sure nothing of it is left: the
cgroup is emptied and removed, the PID file deleted."
  (lambda (process . args)
    (stop-snapshots id)
    (release-network config id address ports)
    (let ((s (hash-ref %adopted id)))
      (if (and s (= (process-id process) (survivor-main s)))
          (stop-adopted id s)
          (apply (make-kill-destructor) process args)))
    (release-process config id)
    #f))

(define (container-termination-handler config id address ports)
  "Return the termination handler of container ID: when its script exits by
itself, end its scheduled snapshots, release its published PORTS, veth,
network namespace mount and cgroup at once, then let Shepherd do the rest (respawn or mark it
stopped)."
  (lambda (service process status)
    (stop-snapshots id)
    (release-runtime config id address ports)
    (emit-event (if (respawn-service? service) 'respawned 'died) id
                `((status . ,(or status 'null))))
    (default-service-termination-handler service process status)
    ;; Shepherd 1.0 disables a service whose process exits; unless it is
    ;; respawned, let `herd start' bring the container back.
    (unless (respawn-service? service)
      (enable-service service))))

(define (action:up config id address isolated ports)
  "Return the `up' action of container ID, ISOLATED or not, which publishes
PORTS."
  (lambda (process . _)
    (unless address
      (fail "container ~a was created with --network=none" id))
    (connect-container config id address isolated process)
    (publish-container-ports (nat-table config) id address ports)
    (emit-event 'up id)
    #t))

(define (action:down config id address)
  "Return the `down' action of container ID."
  (lambda _
    (when address
      (disconnect-container config id address))
    (emit-event 'down id)
    #t))

(define (action:ip config id address)
  "Return the `ip' action of container ID."
  (lambda (process . _)
    (let ((init (container-init config id process)))   ;fails unless running
      (when address
        (for-each (lambda (address) (format #t "~a~%" address))
                  (container-addresses init))))
    #t))

(define (action:pid config id)
  "Return the `pid' action of container ID."
  (lambda (process)
    (format #t "~a~%" (container-init config id process))
    #t))

(define (action:snapshot config id)
  "Return the `snapshot' action of container ID."
  (lambda (process . args)
    (match args
      ((name)
       (check-snapshot-name name)
       (snapshot-data (swineherd-configuration-container-root config) id
                      (container-data-directory config id) name)
       (emit-event 'snapshot id `((name . ,name)))
       #t)
      (_
       (fail "snapshot: expected one snapshot NAME; usage: herd snapshot \
~a NAME" (container-service-name id))))))

(define (action:snapshots config id)
  "Return the `snapshots' action of container ID."
  (lambda _
    (for-each (lambda (name) (format #t "~a~%" name))
              (snapshot-names (swineherd-configuration-container-root config)
                              id))
    #t))

(define (action:delete-snapshot config id)
  "Return the `delete-snapshot' action of container ID."
  (lambda (process . args)
    (match args
      ((name)
       (check-snapshot-name name)
       (let ((file (string-append (snapshot-directory
                                   (swineherd-configuration-container-root
                                    config)
                                   id)
                                  "/" name)))
         (unless (file-exists? file)
           (fail "container ~a has no snapshot named ~a; `herd snapshots ~a' \
lists them" id name (container-service-name id)))
         (delete-data file)
         #t))
      (_
       (fail "delete-snapshot: expected one snapshot NAME")))))

(define (action:stats config id address)
  "Return the `stats' action of container ID."
  (lambda (process . args)
    (let ((stats (append (container-statistics config id address)
                         (health-statistics id))))
      (match args
        (() (display-upstream-stats stats))
        (((or "json" "sexp") . _)
         (display-stats stats (string->symbol (car args))))
        (_ (fail "stats: the argument is `json' or `sexp' (default: \
upstream's one-line form)"))))
    #t))

(define (container-statistics config id address)
  "Return the statistics of container ID, with ADDRESS, as an alist."
  (let ((cgroup (cgroup-statistics* (container-cgroup config id)))
        (link (and address
                   (catch 'system-error
                     (lambda () (link-statistics (host-interface address)))
                     (const #f))))
        (disk (data-usage (container-data-directory config id))))
    (append (statistics-alist id cgroup link disk)
            `((identity . ,(container-identity id))))))

(define (shutting-down?)
  "Return true if Shepherd or the `swineherd' service is being stopped, as
opposed to a container being stopped on its own."
  (any (lambda (name)
         (let ((service (lookup-service name)))
           (and service (eq? 'stopping (service-status service)))))
       '(root swineherd)))

(define (record-wanted config c wanted)
  "Record that container C is wanted WANTED (`running' or `stopped')."
  (save-container (swineherd-configuration-state-directory config)
                  (set-container-wanted (with-live-options c) wanted)))

(define (schedule-container-snapshots config id init options)
  "Schedule the snapshots of container ID, whose init has host PID INIT, as
OPTIONS say (none: end its schedule)."
  (schedule-snapshots id (swineherd-configuration-container-root config)
                      (container-data-directory config id)
                      (lambda () (false-if-exception (kill init 0)))
                      options))

(define (start-upkeep config id process options)
  "Start what looks after container ID, just started as PROCESS, as its
OPTIONS ask: its health checks and its scheduled snapshots (see `(swineherd
health)' and `(swineherd snapshot-schedule)')."
  (when (or (health-checked? options) (snapshots-scheduled? options))
    (and=> (false-if-exception (container-init config id process))
           (lambda (init)
             (start-health-checks id init (container-cgroup config id)
                                  options)
             (schedule-container-snapshots config id init options)))))

(define (restart-snapshots config id process options)
  "Schedule again the snapshots of container ID, running as PROCESS, as
OPTIONS now say (the action `snapshot-schedule')."
  (and=> (false-if-exception (container-init config id process))
         (lambda (init)
           (schedule-container-snapshots config id init options))))

;;; container.scm ends here
