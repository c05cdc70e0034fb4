;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd)
  #:use-module (shepherd service)
  #:use-module (swineherd arguments)
  #:use-module (swineherd config)
  #:use-module (swineherd exec)
  #:use-module (swineherd idmap)
  #:use-module (swineherd lock)
  #:use-module (swineherd ffi)
  #:use-module (swineherd nat)
  #:use-module (swineherd recovery)
  #:use-module (swineherd network)
  #:use-module (swineherd registry)
  #:use-module (swineherd resources)
  #:use-module (swineherd state)
  #:use-module (swineherd stats)
  #:use-module (swineherd storage)
  #:use-module (swineherd utils)
  #:use-module ((fibers) #:select ((sleep . fiber-sleep) spawn-fiber))
  #:use-module (ice-9 match)
  #:use-module (ice-9 rdelim)
  #:use-module (srfi srfi-1)
  #:use-module (srfi srfi-11)
  #:use-module (srfi srfi-26)
  #:use-module (srfi srfi-111)
  #:re-export (swineherd-configuration
               valid-container-id?)
  #:export (swineherd-service
            container-service
            container-service-name))

;;; Commentary:
;;;
;;; The `swineherd' Shepherd service and the `swine:ID' services it creates,
;;; one per Guix System container.  A container is started by its SCRIPT,
;;; what `guix system container os.scm' prints; Shepherd itself spawns the
;;; script, so it monitors the container like any other process.
;;;
;;; Code:


;;;
;;; The container's init.
;;;

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
    (cond ((not (false-if-exception (kill pid 0)))
           (format #t "container ~a: its script exited before starting the \
container; see ~a~a~%" id (container-log-file config id)
                   (limits-sentence limits))
           #f)
          ((false-if-exception (container-init config id process))
           #t)
          ((> (get-internal-real-time) deadline)
           (format #t "container ~a: no init after ~a seconds; killing its \
script~%" id (swineherd-configuration-start-timeout config))
           (false-if-exception (kill (- pid) SIGKILL))
           #f)
          (else
           (fiber-sleep pause)                    ;suspends this fiber only
           (loop (min 0.05 (* 1.25 pause)))))))


;;;
;;; Container services.
;;;

(define (container-command config id script args)
  "Return the command line that starts container ID: SCRIPT with the data
directory shared as /home and a PID file, then ARGS."
  `(,script
    ,(string-append "--share=" (container-data-directory config id) "=/home")
    ,(string-append "--pid-file=" (container-pid-file config id))
    ,@args))

(define (container-netns config id)
  "Return the file on which the network namespace of container ID is
mounted."
  (netns-file (swineherd-configuration-netns-directory config) id))

(define (container-link-owner config id)
  "Return the alias that marks the veth of container ID as its own."
  (link-owner-name (swineherd-configuration-bridge config) id))

(define (nat-table config)
  "Return the name of Swineherd's nftables tables (ip and netdev)."
  (swineherd-configuration-nat-table config))

(define (isolated? config options)
  "Return true if the container created with OPTIONS is isolated from the
others: --isolated, or the configuration's default unless --isolated=no."
  (match (assq 'isolated options)
    (('isolated . 'no) #f)
    (('isolated . _) #t)
    (#f (swineherd-configuration-isolated? config))))

(define (connect-container config id address isolated process)
  "Connect container ID, whose script runs as PROCESS, with ADDRESS,
ISOLATED or not."
  (connect-init config id address isolated (container-init config id process)))

(define (connect-init config id address isolated init)
  "Connect container ID, whose init has host PID INIT, with ADDRESS,
ISOLATED or not; what is connected already is kept."
  (connect-network init
                   #:bridge (swineherd-configuration-bridge config)
                   #:subnet (swineherd-configuration-subnet config)
                   #:address address
                   #:owner (container-link-owner config id)
                   #:netns (container-netns config id)
                   #:table (nat-table config)
                   #:id id
                   #:isolated? isolated))

(define (disconnect-container config id address)
  "Disconnect container ID, which has ADDRESS; what is gone already is
fine."
  (disconnect-network #:address address
                      #:owner (container-link-owner config id)
                      #:netns (container-netns config id)
                      #:table (nat-table config)
                      #:id id))

(define (start-network config id address isolated ports process)
  "Connect container ID, just started as PROCESS, unless ADDRESS is #f,
ISOLATED or not, and publish its PORTS.  Return #t, or #f after killing
the container if connecting or publishing failed (the caller releases the
rest)."
  (or (not address)
      (catch #t
        (lambda ()
          (connect-container config id address isolated process)
          (publish-container-ports (nat-table config) id address ports)
          #t)
        (lambda (key . args)
          (format #t "container ~a: connecting it failed: ~a~%" id
                  (exception-text key args))
          ((make-kill-destructor) process)
          #f))))

(define* (limit-options options #:optional default-memory)
  "Return the resource limits among OPTIONS, the options of `new', as the
alist `create-cgroup' takes; a container given no --memory gets
DEFAULT-MEMORY (bytes) when it is true."
  (let ((limits (filter-map (match-lambda
                              (('memory . n) `(memory . ,n))
                              (('swap . n) `(swap . ,n))
                              (('cpus . quota) `(cpu-quota . ,quota))
                              (('cpu-weight . n) `(cpu-weight . ,n))
                              (('pids . n) `(pids . ,n))
                              (('io-weight . n) `(io-weight . ,n))
                              (_ #f))
                            options)))
    (if (and default-memory (not (assq 'memory limits)))
        `((memory . ,default-memory) ,@limits)
        limits)))

;;;
;;; Adopted containers: survivors of a Shepherd restart (see `(swineherd
;;; recovery)'), running without being Shepherd's children.
;;;

(define %adoptions
  ;; Container ID -> survivor found when `swineherd' started, to adopt when
  ;; its service starts.
  (make-hash-table))

(define %adopted
  ;; Container ID -> survivor that its service runs as, until it exits or
  ;; is stopped.
  (make-hash-table))

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
                          limits #:optional (options '()))
  "Return the start procedure of container ID, whose address is ADDRESS (#f
for no network), ISOLATED or not, which publishes PORTS and whose cgroup gets LIMITS.  A
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

(define* (container-fresh-start config id script args address isolated
                                ports limits #:optional (options '()))
  "Return the procedure that starts container ID afresh, from its script
(see `container-start'), confined as its OPTIONS say."
  (lambda _
    (let ((data (container-data-directory config id)))
      (unless (file-exists? data)
        (fail "the data of container ~a, ~a, is missing; `herd kill \
swineherd ~a' removes the container" id data id))
      (mkdir-p (swineherd-configuration-log-directory config))
      (mkdir-p (swineherd-configuration-run-directory config))
      (prepare-pid-file (container-pid-file config id) options)
      (let* ((start (get-internal-real-time))
             (_ (create-cgroup (container-cgroup config id) limits))
             (_ (restrict-devices (container-cgroup config id) options))
             (cgroup-done (get-internal-real-time))
             (process ((make-forkexec-constructor
                        (cgroup-command (container-cgroup config id)
                                        (container-command config id script
                                                           args)
                                        #:log-file (container-log-file config id)
                                        #:log-size
                                        (swineherd-configuration-log-size
                                         config)
                                        #:confinement
                                        (confinement-arguments options))
                        #:directory data)))
             (init? (wait-for-container-init config id process limits))
             (init-done (get-internal-real-time))
             (network? (and init? (start-network config id address isolated ports
                                                process))))
        (log-line "swineherd: start ~a: cgroup ~,2f ms, script to init \
~,2f ms, network ~,2f ms"
                  id (milliseconds-between start cgroup-done)
                  (milliseconds-between cgroup-done init-done)
                  (milliseconds-since init-done))
        (or (and network? process)
            (begin
              ;; Shepherd calls no termination handler for a service that
              ;; failed to start: release its resources here.
              (release-runtime config id address ports)
              #f))))))

(define (release-runtime config id address ports)
  "Release what container ID holds only while it runs: its published PORTS,
its veth and network namespace mount (if it has ADDRESS), its cgroup
(killing what is left in it) and its PID file."
  (when address
    (false-if-exception
     (unpublish-container-ports (nat-table config) id ports))
    (false-if-exception (disconnect-container config id address)))
  (unless (remove-cgroup (container-cgroup config id))
    (format #t "container ~a: cgroup ~a could not be removed~%" id
            (container-cgroup config id)))
  (delete-file-if-exists (container-pid-file config id)))

(define (container-stop config id address ports)
  "Return the stop procedure of container ID: disconnect it, then SIGTERM
to the script's process group (the script relays it to the container's
init, Shepherd, which shuts down), SIGKILL after Shepherd's grace period;
then make sure nothing of it is left: the cgroup is emptied and removed."
  (lambda (process . args)
    (when address
      (disconnect-container config id address))
    (let ((s (hash-ref %adopted id)))
      (if (and s (= (process-id process) (survivor-main s)))
          (stop-adopted id s)
          (apply (make-kill-destructor) process args)))
    (release-runtime config id address ports)
    #f))

(define (container-termination-handler config id address ports)
  "Return the termination handler of container ID: when its script exits by
itself, release its published PORTS, veth, network namespace mount and
cgroup at once, then let Shepherd do the rest (respawn or mark it
stopped)."
  (lambda (service process status)
    (release-runtime config id address ports)
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
    #t))

(define (action:down config id address)
  "Return the `down' action of container ID."
  (lambda _
    (when address
      (disconnect-container config id address))
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
    (let ((stats (container-statistics config id address)))
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

(define (container-options* config id)
  "Return the options of container ID, from its record ('() if none)."
  (or (and=> (load-container (swineherd-configuration-state-directory config)
                             id)
             container-options)
      '()))

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
                  (set-container-wanted c wanted)))

(define* (container-service config c #:key recorded?)
  "Return the service `swine:ID' that runs the container C: its script
and arguments, as `guix system container' scripts expect them, connected to
the bridge with its address (#f: no network), in a cgroup with its limits.
Starting it records it as wanted running; stopping it by hand, as wanted
stopped (not when Shepherd or swineherd stops: then it comes back with
them).  RECORDED? says that C is recorded as it is: a record is only
written when the wanted state changes (an fsync'd write each, which
restoring hundreds of containers would wait for)."
  (define recorded (and recorded? (container-wanted c)))
  (define (want! wanted)
    (unless (eq? wanted recorded)
      (record-wanted config c wanted)
      (set! recorded wanted)))
  (define id (container-id c))
  (define address (container-address c))
  (define options (container-options c))
  (define ports (published-ports options))
  (define start
    (container-start config id (container-script c) (container-arguments c)
                     address (isolated? config options) ports
                     (limit-options options
                                    (swineherd-configuration-default-memory
                                     config))
                     options))
  (define stop (container-stop config id address ports))
  (remember-identity! id options)
  (service (list (container-service-name id))
    #:documentation
    (format #f "Guix System container ~a, started by ~a." id
            (container-script c))
    #:requirement '(swineherd)
    #:respawn? (and (assq-ref options 'respawn) #t)
    #:start (lambda args
              (want! 'running)
              (apply start args))
    #:stop (lambda (process . args)
             (unless (shutting-down?)
               (want! 'stopped))
             (apply stop process args))
    #:termination-handler (container-termination-handler config id address
                                                         ports)
    #:actions
    (actions
     (up
      "Connect the container to the bridge (again), with its address and its
filters (made before its veth is up: it can send only with its own MAC and
address, and, if isolated, not to other containers), and publish its
ports; done at start unless it was created with --network=none.  Harmless
when it is connected already."
      (action:up config id address (isolated? config options) ports))
     (down
      "Disconnect the container: remove its veth, its filters and its
/run/netns file.  It keeps its address, for the next `up' or start."
      (action:down config id address))
     (ip
      "Print the container's addresses, ADDRESS/PREFIX, one per line;
nothing when it is disconnected.  Fails when it is not running."
      (action:ip config id address))
     (stats
      "Print the container's statistics.  Without argument, upstream's line
`receive:BYTES transmit:BYTES cputime:TICKS' (host-side veth counters; CPU
time in 1/100 s).  With `json' or `sexp': CPU time (total, user, system),
memory (current, peak, limit), pids (current, limit), OOM kills, network
(rx/tx bytes and packets, host side) and disk (referenced, exclusive,
limit), with units in the names."
      (action:stats config id address))
     (pid
      "Print the host PID of the container's init (its PID 1, usually
Shepherd), for use with nsenter or /proc/PID."
      (action:pid config id))
     (snapshot
      "Save the container's data as a read-only snapshot NAME: herd snapshot
swine:ID NAME.  On btrfs it is an instant subvolume snapshot, elsewhere a
copy.  `herd new swineherd -- NEW --from=ID@NAME SCRIPT' starts a container
from it."
      (action:snapshot config id))
     (snapshots
      "List the container's snapshots, one name per line."
      (action:snapshots config id))
     (delete-snapshot
      "Delete the container's snapshot NAME: herd delete-snapshot swine:ID
NAME."
      (action:delete-snapshot config id))
     (exec
      "Run COMMAND with its ARGs inside the container, in all its namespaces
and its root, as its root user, in /, with a clean environment, in its
cgroup (its limits apply; stopping the container ends it):
herd exec swine:ID -- [--timeout=SECONDS] COMMAND [ARG...].  Its standard
output, then its standard error, are printed; herd exits 0 if it exits 0,
else 1 with its status.  --timeout=SECONDS kills it (and its process group)
after that long (default: the configuration's exec-timeout, an hour), and
it is killed if herd goes away.  The `--' keeps herd from taking options of
COMMAND (or --timeout) for its own."
      (action:exec (lambda (process) (container-init config id process))
                   (container-cgroup config id)
                   #:default-timeout
                   (swineherd-configuration-exec-timeout config)))
     (peek
      "Print the last line of FILE, a file name inside the container, that
matches REGEX (the syntax of Rust's regex crate, matched in linear time: no
backreferences): herd peek swine:ID FILE REGEX.  FILE is resolved inside the
container's root (symbolic links included) and read up to the size it had
when `peek' started.  The scan runs in a process of its own, bounded in
time and bytes read (see the configuration's peek-timeout and
peek-budget), and stops if herd goes away."
      (action:peek (lambda (process) (container-init config id process))
                   #:timeout (swineherd-configuration-peek-timeout config)
                   #:budget (swineherd-configuration-peek-budget config)))
     (fs
      "Run the host command COMMAND with ARGs followed by the container's
root file system (/proc/PID/root): herd fs swine:ID -- [--timeout=SECONDS]
COMMAND [ARG...].  COMMAND must be an absolute file name under the
configured permitted-host-command-prefix; without one, `fs' is disabled."
      (action:fs (swineherd-configuration-permitted-host-command-prefix config)
                 (lambda (process) (container-init config id process))
                 #:default-timeout
                 (swineherd-configuration-exec-timeout config))))))


;;;
;;; The `swineherd' service.
;;;

(define (container-services)
  "Return the registered container services, sorted by name."
  (define (container? service)
    (string-prefix? "swine:" (symbol->string (service-canonical-name service))))
  (define services '())
  (for-each-service (lambda (service)
                      (when (container? service)
                        (set! services (cons service services)))))
  (sort services
        (lambda (a b)
          (string<? (symbol->string (service-canonical-name a))
                    (symbol->string (service-canonical-name b))))))

(define (container-services/status)
  "Return the registered container services, sorted by name, each paired
with whether it is running."
  (call-with-services-in-use
   (lambda ()
     ;; `map', not a C procedure such as `filter': `service-running?'
     ;; suspends the fiber, which a continuation barrier forbids.
     (map (lambda (service)
            (cons service (service-running? service)))
          (container-services)))))

(define (service-id service)
  "Return the container ID of SERVICE, a `swine:ID' service."
  (string-drop (symbol->string (service-canonical-name service))
               (string-length "swine:")))

(define (source-directory config from)
  "Return the directory that --from=FROM designates, checking that it
exists and, on a btrfs container root, that it is a subvolume."
  (define root (swineherd-configuration-container-root config))
  (let ((directory
         (match from
           (('directory file) file)
           (('container id)
            (unless (lookup-service (container-service-name id))
              (fail "--from: no container with ID ~a" id))
            (container-data-directory config id))
           (('snapshot id name)
            (string-append (snapshot-directory root id) "/" name)))))
    (unless (and (false-if-exception (lstat directory))
                 (eq? 'directory (stat:type (lstat directory))))
      (fail "--from: ~a is not a directory" directory))
    (when (and (eq? 'btrfs (storage-kind root))
               (not (subvolume? directory)))
      (fail "--from: ~a is not a btrfs subvolume; on a btrfs container root \
a template must be one (btrfs subvolume create, then fill it), so that \
containers start from a snapshot of it" directory))
    directory))

(define (source-ids config from)
  "Return the base of the host ids that own the data --from=FROM designates:
the range of the container it comes from, or 0 (a template, or a
privileged container's data, is owned by host ids)."
  (match from
    (((or 'container 'snapshot) source . _)
     (or (container-ids (container-options* config source)) 0))
    (_ 0)))

(define (create-container config id options script script-args)
  "Create container ID with OPTIONS (an alist from `parse-new-arguments'),
SCRIPT and SCRIPT-ARGS: its data, then its service, then start it.  If any
step fails, undo the steps before it and raise an error."
  (define data (container-data-directory config id))
  (define from (and=> (assq-ref options 'from)
                      (lambda (from) (source-directory config from))))
  (define leases (address-lease-directory config))
  (define network? (not (eq? 'none (assq-ref options 'network))))
  (define ports (published-ports options))
  (define begun (get-internal-real-time))
  (when (false-if-exception (lstat data))
    (fail "~a already exists, left by an earlier container ~a; move it away \
or pick another ID" data id))
  (when (and (not network?) (assq-ref options 'ip))
    (fail "--ip and --network=none contradict each other"))
  (check-published-ports ports network?)
  (reserve-ports (port-lease-directory config) ports id)
  (let ((address (and network?
                      (catch #t
                        (lambda ()
                          (allocate-address
                           leases (swineherd-configuration-subnet config)
                           id (assq-ref options 'ip)))
                        (lambda args
                          (release-ports (port-lease-directory config) id)
                          (apply throw args))))))
    (define ids (and (not (assq-ref options 'privileged))
                     (catch #t
                       (lambda () (allocate-ids config id))
                       (lambda args
                         (when address (release-address leases address id))
                         (release-ports (port-lease-directory config) id)
                         (apply throw args)))))
    (define (release)
      (when address (release-address leases address id))
      (release-ports (port-lease-directory config) id)
      (release-ids config ids id))
    (catch #t
      (lambda ()
        (create-data (swineherd-configuration-container-root config) data
                     #:from from #:limit (assq-ref options 'disk-limit))
        (give-data-to-range data ids
                            #:from (source-ids config
                                               (assq-ref options 'from))))
      (lambda args
        (when (file-exists? data) (delete-data data))
        (release)
        (apply throw args)))
    (let* ((options (if ids `((ids . ,ids) ,@options) options))
           (c (container id script script-args options address 'running))
           (service (container-service config c))
           (registered (get-internal-real-time)))
      (register-services (list service))
      (unless (catch #t
                (lambda () (start-service service))
                (lambda (key . args)
                  (log-line "swineherd: new ~a: start raised ~a" id
                            (exception-text key args))
                  #f))
        (unregister-container-service service)
        (delete-container-record (swineherd-configuration-state-directory
                                  config)
                                 id)
        (delete-data data)
        (release)
        (fail "container ~a failed to start and was removed; see ~a and \
Shepherd's log~a" id (container-log-file config id)
              (limits-sentence
               (limit-options options
                              (swineherd-configuration-default-memory
                               config)))))
      (log-line "swineherd: new ~a: address and storage ~,2f ms, service and \
start ~,2f ms" id (milliseconds-between begun registered)
                (milliseconds-since registered)))))

(define (action:new config)
  "Return the `new' action."
  (lambda (running . args)
    (let-values (((id options script script-args) (parse-new-arguments args)))
      (check-script script)
      (when (and (assq 'io-weight options)
                 (not (eq? 'unified (cgroup-layout))))
        (fail "--io-weight needs cgroup v2's io controller; this host's \
cgroups are v1: leave it out"))
      (when (lookup-service (container-service-name id))
        (fail "container ~a already exists; pick another ID, or remove it \
first with `herd kill swineherd ~a'" id id))
      (create-container config id options script script-args)
      #t)))

(define (delete-snapshots config id)
  "Delete every snapshot of container ID."
  (let* ((root (swineherd-configuration-container-root config))
         (directory (snapshot-directory root id)))
    (for-each (lambda (name)
                (delete-data (string-append directory "/" name)))
              (snapshot-names root id))
    (when (file-exists? directory)
      (rmdir directory))))

(define (release-leases config id record)
  "Return the address lease of container ID, whose RECORD says which it is,
and its host-port leases.  Without a RECORD (unreadable), look for its
address lease among all of them: that reads one file per container (10 ms
with 500 containers)."
  (let ((directory (address-lease-directory config)))
    (for-each (lambda (address)
                (release-address directory address id))
              (cond ((not record) (entries directory))
                    ((container-address record) => list)
                    (else '()))))
  (release-ports (port-lease-directory config) id))

(define (action:kill config)
  "Return the `kill' action."
  (lambda (running . args)
    (match args
      ((id)
       (check-container-id id)
       (let ((service (lookup-service (container-service-name id)))
             (record (load-container (swineherd-configuration-state-directory
                                      config)
                                     id)))
         (unless service
           (fail "no container with ID ~a; `herd list swineherd' lists \
them" id))
         (unregister-container-service service)
         (delete-container-record (swineherd-configuration-state-directory
                                   config)
                                  id)
         (delete-data (container-data-directory config id))
         (delete-snapshots config id)
         (release-leases config id record)
         (release-ids config (and record (container-ids
                                          (container-options record)))
                      id)
         (forget-identity! id)
         #t))
      (_
       (fail "kill: expected exactly one container ID; usage: \
herd kill swineherd ID")))))

(define (action:swineherd-stats config)
  "Return the `stats' action of the `swineherd' service."
  (lambda (running . args)
    (let* ((services (container-services/status))
           (running (filter-map (match-lambda
                                  ((service . running?)
                                   (and running? service)))
                                services))
           (cgroups (filter-map (lambda (service)
                                  (cgroup-statistics*
                                   (container-cgroup config (service-id service))))
                                running)))
      (display-summary (length services) (length running) cgroups
                       (match args
                         (() 'line)
                         (((or "json" "sexp") . _) (string->symbol (car args)))
                         (_ (fail "stats: the argument is `json' or `sexp'"))))
      #t)))

(define (action:list running)
  "Print one line per container: its ID, whether it is running, and its
identity: `privileged' or its id range (see `container-identity')."
  (for-each (match-lambda
              ((service . running?)
               (format #t "~a ~a ~a~%" (service-id service)
                       (if running? "running" "stopped")
                       (container-identity (service-id service)))))
            (container-services/status))
  #t)

(define (bridge-up! config)
  "Bring the bridge of CONFIG up, creating it if needed."
  (bring-bridge-up (swineherd-configuration-bridge config)
                   (swineherd-configuration-subnet config)))

(define (network-up! config)
  "Bring the bridge of CONFIG up and replace Swineherd's nftables tables
with fresh ones.  Return #f, or a warning text if they could not be set
up."
  (bridge-up! config)
  (let ((warning (start-nat (nat-table config)
                            (swineherd-configuration-bridge config)
                            (swineherd-configuration-subnet config)
                            (swineherd-configuration-open-host-ports
                             config))))
    (when warning
      (format #t "swineherd: WARNING: ~a~%" warning))
    warning))

(define (for-each-connected-container config proc)
  "Call PROC on the record of each running container that has a network."
  (for-each (lambda (c)
              (let ((service (lookup-service
                              (container-service-name (container-id c)))))
                (when (and service (container-address c)
                           (service-running? service))
                  (proc c))))
            (load-containers (swineherd-configuration-state-directory config))))

(define (republish-running-containers config)
  "Publish again the ports of the running containers, and filter again
those that are connected, after Swineherd's tables were replaced."
  (for-each-connected-container
   config
   (lambda (c)
     (guard-network #:subnet (swineherd-configuration-subnet config)
                    #:address (container-address c)
                    #:owner (container-link-owner config (container-id c))
                    #:table (nat-table config)
                    #:id (container-id c)
                    #:isolated? (isolated? config (container-options c)))
     (publish-container-ports (nat-table config) (container-id c)
                              (container-address c)
                              (published-ports (container-options c))))))

(define (network-down! config)
  "Disconnect the running containers, delete the bridge and Swineherd's NAT
table."
  (for-each-connected-container
   config
   (lambda (c)
     (disconnect-container config (container-id c) (container-address c))))
  (delete-link (swineherd-configuration-bridge config))
  (stop-nat (nat-table config)))

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
      (false-if-exception (kill init SIGTERM))
      (let loop ((tries 100))
        (when (and (> tries 0) (false-if-exception (kill init 0)))
          (fiber-sleep 0.05)
          (loop (- tries 1)))))
    (release-runtime config id address '())))

(define (restore-container config c)
  "Register the service of container C, unless it has one already: a
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
            (hash-set! %adoptions id found)
            (begin
              (when found
                (format #t "swineherd: container ~a not adopted: ~a~%"
                        id found))
              (stop-survivors config id (container-address c)))))
      (register-services (list (container-service config c
                                                  #:recorded? #t))))
    problem))

(define (restore-containers config records)
  "Restore each container of RECORDS (see `restore-container'), all
concurrently, each failing alone.  Return the (ID . REASON) pairs of those
that failed or cannot start, after reporting them in the log."
  (let ((failures
         (filter-map (lambda (c result)
                       (match result
                         (('ok . #f) #f)
                         (('ok . problem) (cons (container-id c) problem))
                         (('failed . text) (cons (container-id c) text))))
                     records
                     (map-concurrently (cut restore-container config <>)
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

(define (start-wanted-containers records failures begun)
  "In a new fiber, once `swineherd' runs, start the containers of RECORDS
that are wanted running and not among FAILURES (from `restore-containers'),
all concurrently, each failing alone; then log how many were adopted and
started, and the time since BEGUN (internal time units), when swineherd
began to start.  (Not from swineherd's own start procedure: the containers
require swineherd, which is still starting then.)"
  (spawn-fiber
   (lambda ()
     (let loop ((tries 1200))
       (unless (or (zero? tries)
                   (service-running? (lookup-service 'swineherd)))
         (fiber-sleep 0.05)
         (loop (- tries 1))))
     (let* ((wanted (filter (lambda (c)
                              (and (eq? 'running (container-wanted c))
                                   (not (assoc (container-id c) failures))))
                            records))
            (adopted (count (lambda (c) (hash-ref %adoptions (container-id c)))
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
                 (length failures))))))

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

(define (warning what items)
  "Return \"; WARNING: WHAT: ITEMS\", or \"\" if there are no ITEMS."
  (if (null? items)
      ""
      (format #f "; WARNING: ~a: ~a" what
              (string-join (map (lambda (item) (format #f "~a" item)) items)
                           ", "))))

(define (raise-descriptor-limit)
  "Raise this process's soft limit on open files to its hard limit:
Shepherd holds two descriptors per container, and the usual soft limit,
1024 (the kernel's default for PID 1, and systemd's for services), would
stop it short of 500 containers."
  (call-with-values (lambda () (getrlimit 'nofile))
    (lambda (soft hard)
      (when (and hard soft (< soft hard))
        (setrlimit 'nofile hard hard)))))

(define (swineherd-stop config lock)
  "Return the stop procedure of the `swineherd' service.  The containers,
which require swineherd, are stopped by then, and their chains removed; the
NAT table goes too, and the state directory's lock, held in the box LOCK,
is released."
  (lambda _
    (false-if-exception (stop-nat (nat-table config)))
    (when (unbox lock)
      (unlock-state-directory (unbox lock))
      (set-box! lock #f))
    #f))

(define (swineherd-start config lock)
  "Return the start procedure of the `swineherd' service: take the state
directory's lock into the box LOCK unless it holds it already (refusing to
start if another Shepherd holds it), bring the bridge up (an existing one
is reused), check the container root, restore the recorded containers and
clean up what belongs to none.  The NAT table is
made afresh, which also removes the published ports of containers that
ran before a crash.  Its running value is a line describing storage and
network, which `herd status swineherd' shows, with warnings when the root
is not on btrfs or holds data of no container, or when NAT is missing."
  (lambda _
    (raise-descriptor-limit)
    (let* ((begun (get-internal-real-time))
           (root (swineherd-configuration-container-root config))
           (subnet (swineherd-configuration-subnet config)))
      (unless (unbox lock)
        (set-box! lock (lock-state-directory
                        (swineherd-configuration-state-directory config))))
      (mkdir-p root)
      (let*-values (((nat-warning) (network-up! config))
                    ((records broken)
                     (load-containers
                      (swineherd-configuration-state-directory config)))
                    ((failures) (restore-containers config records))
                    ((orphans) (clean-orphans config records))
                    ((description)
                     (format #f "~a; bridge ~a, ~a/~a; ~a containers~a~a~a~a"
                             (storage-description root)
                             (swineherd-configuration-bridge config)
                             (subnet-gateway subnet) (subnet-prefix subnet)
                             (length records)
                             (if nat-warning
                                 (format #f "; WARNING: ~a" nat-warning)
                                 "")
                             (warning "unreadable records kept" broken)
                             (warning "containers not started"
                                      (if (null? failures)
                                          '()
                                          (list (failures-text failures))))
                             (warning "data of no container kept" orphans))))
        (format #t "swineherd: ~a~%" description)
        (format #t "swineherd: running on ~a~%" (runtime-versions))
        (start-wanted-containers records failures begun)
        description))))

(define* (swineherd-service #:optional
                            (config (swineherd-configuration)))
  "Return the `swineherd' service, the manager of Guix System containers,
configured with CONFIG (see `swineherd-configuration')."
  (define lock (box #f))                  ;the state directory's lock
  (service '(swineherd)
    #:documentation "Manage Guix System containers as `swine:ID' services."
    #:start (swineherd-start config lock)
    #:stop (swineherd-stop config lock)
    #:actions
    (actions
     (new
      "Create and start container ID: herd new swineherd -- ID [OPTION...]
SCRIPT [ARG...].  SCRIPT is the absolute file name of what `guix system
container' printed; ARGs are passed to it.  OPTIONs: --disk-limit=SIZE
(e.g. 512M, 2G; needs btrfs quotas), --from=ID, --from=ID@SNAPSHOT or
--from=/TEMPLATE (start from a snapshot or copy of that data),
--network=none, --ip=ADDRESS, --memory=SIZE, --swap=SIZE, --cpus=N (e.g.
0.5), --cpu-weight=N (1-10000), --pids=N, --io-weight=N (1-10000, cgroup v2),
--publish=[HOST-ADDRESS:]HOST-PORT:CONTAINER-PORT[/tcp|/udp] (repeatable;
forwards the host's port to the container's), --isolated (no traffic with
other containers but through published ports; --isolated=no when the
configuration isolates by default).  The `--' keeps herd from
interpreting options meant for swineherd or the script."
      (action:new config))
     (kill
      "Stop container ID, unregister its service `swine:ID' and delete its
data and snapshots: herd kill swineherd ID.  This is the only action that
deletes a container's data."
      (action:kill config))
     (list
      "List the containers, one per line: ID, running or stopped, and
`privileged' or the host ids its root and users are (`ids BASE-LAST')."
      action:list)
     (stats
      "Summarise all containers: how many, how many run, their total CPU
time and memory.  An argument `json' or `sexp' selects a machine-readable
form."
      (action:swineherd-stats config))
     (up
      "Create the bridge (if needed), set it up and give it its address,
make Swineherd's nftables tables afresh, filter the connected containers
and publish the running containers' ports in them again; done when
swineherd starts."
      (lambda _
        (unless (network-up! config)
          (republish-running-containers config))
        #t))
     (down
      "Disconnect the running containers, delete the bridge and Swineherd's
NAT table; the containers have no network and no published ports until
`herd up swineherd' and `herd up swine:ID'."
      (lambda _
        (network-down! config)
        #t)))))

;;; swineherd.scm ends here
