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
  #:use-module (swineherd container)
  #:use-module (swineherd declare)
  #:use-module (swineherd events)
  #:use-module (swineherd guest)
  #:use-module (swineherd live-limits)
  #:use-module (swineherd console-log)
  #:use-module (swineherd health)
  #:use-module ((swineherd idmap) #:select (remember-identity!))
  #:use-module (swineherd snapshot-schedule)
  #:use-module (swineherd exec)
  #:use-module (swineherd fs)
  #:use-module (swineherd init)
  #:use-module (swineherd manager)
  #:use-module (swineherd nat)
  #:use-module (swineherd peek)
  #:use-module (swineherd runtime)
  #:use-module (swineherd state)
  #:use-module (srfi srfi-26)
  #:use-module (srfi srfi-111)
  #:re-export (swineherd-configuration
               swineherd-container
               valid-container-id?
               container-service-name)
  #:export (swineherd-service
            container-service))

;;; Commentary:
;;;
;;; The `swineherd' Shepherd service and the `swine:ID' services it creates,
;;; one per Guix System container.  A container is started by its SCRIPT,
;;; what `guix system container os.scm' prints; Shepherd itself spawns the
;;; script, so it monitors the container like any other process.  This
;;; module holds the two service definitions and their actions'
;;; documentation; what they do is in `(swineherd container)' (a
;;; container's service), `(swineherd manager)' (the `swineherd' service),
;;; `(swineherd recovery)', `(swineherd runtime)' and `(swineherd init)'.
;;;
;;; Code:


;;;
;;; A container's service.
;;;

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
                     (lambda ()
                       (limit-options (live-options c)
                                      (swineherd-configuration-default-memory
                                       config)))
                     #:options options))
  (define stop (container-stop config id address ports))
  (remember-identity! id options)
  (service (list (container-service-name id))
    #:documentation
    (format #f "Guix System container ~a, started by ~a." id
            (container-script c))
    #:requirement `(swineherd ,@(map container-service-name
                                     (or (assq-ref options 'requires) '())))
    #:respawn? (and (assq-ref options 'respawn) #t)
    #:start (lambda args
              (want! 'running)
              (let ((value (apply start args)))
                (when value
                  (emit-event 'started id)
                  (start-upkeep config id value (live-options c)))
                value))
    #:stop (lambda (process . args)
             (unless (shutting-down?)
               (want! 'stopped))
             (emit-event 'stopped id)
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
     (snapshot-schedule
      "Print or change the container's scheduled snapshots: herd
snapshot-schedule swine:ID prints the schedule and when the next one is due;
herd snapshot-schedule swine:ID -- --every=DURATION --keep=N (either or
both; DURATION as --snapshot-every of `new' takes it, or `off') changes it
at once and in its record, so a restart or a recovery keeps it.  Values are
checked first: an invalid one changes nothing.  btrfs only."
      (action:snapshot-schedule
       config c (swineherd-configuration-container-root config)
       (lambda (process options)
         (restart-snapshots config id process options))))
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
     (limit
      "Change the container's limits at once and in its record (a restart
or a recovery keeps them): herd limit swine:ID -- --memory=SIZE
--swap=SIZE --cpus=N --cpu-weight=N --pids=N --io-weight=N, any of them,
with the values `new' takes (the `--' keeps herd from taking them).  An
invalid value, or one the kernel refuses (such as less memory than the
container uses, on cgroup v1), leaves the old limits."
      (action:limit config c
                    (lambda (options)
                      (limit-options options
                                     (swineherd-configuration-default-memory
                                      config)))))
     (tail
      "Print the last lines of the container's console log (ID.log, and
the older ID.log.1 when ID.log has fewer): herd tail swine:ID [N] (default
10; also -- -n N).  Control characters are escaped.  (Not `log': herd
1.0 keeps that word for Shepherd's own log.)"
      (action:tail (container-log-file config id)))
     (health
      "Print the container's health: `starting', `healthy' or `unhealthy',
with the failures in a row and the last one's output; see --health-cmd,
--health-guest and --health-on-failure of `new'."
      (action:health id))
     (guest
      "Print the services of the Shepherd inside the container (its PID 1)
and their status, one per line: NAME STATUS, then `disabled' or `one-shot'
when they are.  Its socket, /var/run/shepherd/socket in the container, is
resolved inside the container's root (a symlink never leads out) and the
request is bounded in time and size."
      (action:guest (lambda (process) (container-init config id process))))
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

(define* (swineherd-service #:optional
                            (config (swineherd-configuration)))
  "Return the `swineherd' service, the manager of Guix System containers,
configured with CONFIG (see `swineherd-configuration')."
  (define lock (box #f))                  ;the state directory's lock
  (service '(swineherd)
    #:documentation "Manage Guix System containers as `swine:ID' services."
    #:start (swineherd-start config lock (cut container-service config <...>))
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
configuration isolates by default), --ready[=SERVICE,...] and
--ready-timeout=SECONDS (started only once these guest services run),
--requires=ID,... (containers started first; stopping one stops this),
--health-cmd='COMMAND ARG...' or --health-guest=SERVICE, with
--health-interval=SECONDS, --health-timeout=SECONDS, --health-retries=N and
--health-on-failure=none|restart|stop|kill, --log-size=SIZE and
--log-keep=N (console log rotation), --snapshot-every=DURATION and
--snapshot-keep=N (scheduled read-only snapshots, btrfs only).  The `--'
keeps herd from interpreting options meant for swineherd or the script."
      (action:new config (cut container-service config <...>)))
     (kill
      "Stop container ID, unregister its service `swine:ID' and delete its
data and snapshots: herd kill swineherd ID.  This is the only action that
deletes a container's data."
      (action:kill config))
     (list
      "List the containers, one per line: ID, running or stopped, and
`privileged' or the host ids its root and users are (`ids BASE-LAST')."
      action:list)
     (reconcile
      "Bring the containers in line with the configuration's declared
containers (#:containers; a file given there is read again): create the
missing ones, restart the changed ones (data kept), stop the ones no longer
declared (data kept), leave the others, and every container made with `herd
new', alone.  One line per container says what was done; herd exits 1 if
any could not be done."
      (lambda _
        (check-reconciled
         (reconcile-declared config (cut container-service config <...>)))))
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
