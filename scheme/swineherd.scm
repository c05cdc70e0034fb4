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
  #:use-module (swineherd ffi)
  #:use-module (swineherd network)
  #:use-module (swineherd storage)
  #:use-module (swineherd utils)
  #:use-module ((fibers) #:select ((sleep . fiber-sleep)))
  #:use-module (ice-9 ftw)
  #:use-module (ice-9 match)
  #:use-module (srfi srfi-1)
  #:use-module (srfi srfi-11)
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

(define (read-pid-file file)
  "Return the PID written to FILE, or #f if there is none (yet)."
  (catch 'system-error
    (lambda ()
      (let ((pid (call-with-input-file file read)))
        (and (exact-integer? pid) (positive? pid) pid)))
    (const #f)))

(define (container-init config id process)
  "Return the host PID of the init of container ID, whose script runs as
PROCESS, or raise a clear error when it is not running."
  (unless (process? process)
    (fail "container ~a is not running; start it with `herd start ~a'"
          id (container-service-name id)))
  (catch 'system-error
    (lambda ()
      (container-init-pid (process-id process)
                          (read-pid-file (container-pid-file config id))))
    (lambda args
      (fail "container ~a has no init process: ~a" id
            (apply format #f (third args) (fourth args))))))

(define (wait-for-container-init config id process)
  "Wait, without blocking Shepherd, until the script running as PROCESS has
started the init of container ID.  Return #t, or #f if the script exited
first or the init did not show up within the configured timeout (the script
is then killed)."
  (define pid (process-id process))
  (define deadline
    (+ (get-internal-real-time)
       (* (swineherd-configuration-start-timeout config)
          internal-time-units-per-second)))
  (let loop ()
    (cond ((not (false-if-exception (kill pid 0)))
           (format #t "container ~a: its script exited before starting the \
container; see ~a~%" id (container-log-file config id))
           #f)
          ((false-if-exception (container-init config id process))
           #t)
          ((> (get-internal-real-time) deadline)
           (format #t "container ~a: no init after ~a seconds; killing its \
script~%" id (swineherd-configuration-start-timeout config))
           (false-if-exception (kill (- pid) SIGKILL))
           #f)
          (else
           (fiber-sleep 0.05)                     ;suspends this fiber only
           (loop)))))


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

(define (connect-container config id address process)
  "Connect container ID, whose script runs as PROCESS, with ADDRESS."
  (connect (container-init config id process)
           #:bridge (swineherd-configuration-bridge config)
           #:subnet (swineherd-configuration-subnet config)
           #:address address
           #:netns (container-netns config id)))

(define (disconnect-container config id address)
  "Disconnect container ID, which has ADDRESS; what is gone already is
fine."
  (disconnect #:address address #:netns (container-netns config id)))

(define (start-network config id address process)
  "Connect container ID, just started as PROCESS, unless ADDRESS is #f.
Return #t, or #f after killing the container if connecting failed."
  (or (not address)
      (catch #t
        (lambda ()
          (connect-container config id address process)
          #t)
        (lambda (key . args)
          (format #t "container ~a: connecting it failed: ~a~%" id
                  (exception-text key args))
          (disconnect-container config id address)
          ((make-kill-destructor) process)
          #f))))

(define (container-start config id script args address)
  "Return the start procedure of container ID, whose address is ADDRESS (#f
for no network)."
  (lambda _
    (let ((data (container-data-directory config id)))
      (unless (file-exists? data)
        (fail "the data of container ~a, ~a, is missing; `herd kill \
swineherd ~a' removes the container" id data id))
      (mkdir-p (swineherd-configuration-log-directory config))
      (mkdir-p (swineherd-configuration-run-directory config))
      (delete-file-if-exists (container-pid-file config id))
      (let ((process ((make-forkexec-constructor
                       (container-command config id script args)
                       #:log-file (container-log-file config id)
                       #:directory data))))
        (and (wait-for-container-init config id process)
             (start-network config id address process)
             process)))))

(define (container-stop config id address)
  "Return the stop procedure of container ID: disconnect it, then SIGTERM
to the script's process group (the script relays it to the container's
init, Shepherd, which shuts down), SIGKILL after Shepherd's grace period;
then make sure the init itself is gone too."
  (lambda (process . args)
    (when address
      (disconnect-container config id address))
    (let ((init (false-if-exception (container-init config id process))))
      (apply (make-kill-destructor) process args)
      (when (and init (false-if-exception (kill init 0)))
        (kill init SIGKILL))
      (delete-file-if-exists (container-pid-file config id))
      #f)))

(define (container-termination-handler config id address)
  "Return the termination handler of container ID: when its script exits by
itself, release its veth and network namespace mount at once, then let
Shepherd do the rest (respawn or mark it stopped)."
  (lambda (service process status)
    (when address
      (false-if-exception (disconnect-container config id address)))
    (delete-file-if-exists (container-pid-file config id))
    (default-service-termination-handler service process status)))

(define (action:up config id address)
  "Return the `up' action of container ID."
  (lambda (process . _)
    (unless address
      (fail "container ~a was created with --network=none" id))
    (connect-container config id address process)
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
    (when (and address (process? process))
      (for-each (lambda (address) (format #t "~a~%" address))
                (container-addresses (container-init config id process))))
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

(define (container-service config id script args address)
  "Return the service `swine:ID' that runs container ID with SCRIPT and
ARGS, as `guix system container' scripts expect them, connected to the
bridge with ADDRESS (#f: no network)."
  (service (list (container-service-name id))
    #:documentation
    (format #f "Guix System container ~a, started by ~a." id script)
    #:requirement '(swineherd)
    #:start (container-start config id script args address)
    #:stop (container-stop config id address)
    #:termination-handler (container-termination-handler config id address)
    #:actions
    (actions
     (up
      "Connect the container to the bridge (again), with its address; done
at start unless it was created with --network=none.  Harmless when it is
connected already."
      (action:up config id address))
     (down
      "Disconnect the container: remove its veth and its /run/netns file.
It keeps its address, for the next `up' or start."
      (action:down config id address))
     (ip
      "Print the container's addresses, ADDRESS/PREFIX, one per line;
nothing when it is disconnected or stopped."
      (action:ip config id address))
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
and its root, as its root user, in /, with a clean environment:
herd exec swine:ID -- [--timeout=SECONDS] COMMAND [ARG...].  Its standard
output, then its standard error, are printed; herd exits 0 if it exits 0,
else 1 with its status.  --timeout=SECONDS kills it (and its process group)
after that long.  The `--' keeps herd from taking options of COMMAND (or
--timeout) for its own."
      (action:exec (lambda (process) (container-init config id process))))
     (peek
      "Print the last line of FILE, a file name inside the container, that
matches REGEX, a POSIX extended regular expression: herd peek swine:ID FILE
REGEX.  FILE is resolved inside the container's root (symbolic links
included) and read up to the size it had when `peek' started."
      (action:peek (lambda (process) (container-init config id process))))
     (fs
      "Run the host command COMMAND with ARGs followed by the container's
root file system (/proc/PID/root): herd fs swine:ID -- [--timeout=SECONDS]
COMMAND [ARG...].  COMMAND must be an absolute file name under the
configured permitted-host-command-prefix; without one, `fs' is disabled."
      (action:fs (swineherd-configuration-permitted-host-command-prefix config)
                 (lambda (process) (container-init config id process)))))))


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

(define (service-id service)
  "Return the container ID of SERVICE, a `swine:ID' service."
  (string-drop (symbol->string (service-canonical-name service))
               (string-length "swine:")))

(define (source-directory config from)
  "Return the directory that --from=FROM designates, checking that it
exists."
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
    directory))

(define (create-container config id options script script-args)
  "Create container ID with OPTIONS (an alist from `parse-new-arguments'),
SCRIPT and SCRIPT-ARGS: its data, then its service, then start it.  If any
step fails, undo the steps before it and raise an error."
  (define data (container-data-directory config id))
  (define from (and=> (assq-ref options 'from)
                      (lambda (from) (source-directory config from))))
  (define leases (address-lease-directory config))
  (when (false-if-exception (lstat data))
    (fail "~a already exists, left by an earlier container ~a; move it away \
or pick another ID" data id))
  (when (and (eq? 'none (assq-ref options 'network)) (assq-ref options 'ip))
    (fail "--ip and --network=none contradict each other"))
  (let ((address (and (not (eq? 'none (assq-ref options 'network)))
                      (allocate-address leases
                                        (swineherd-configuration-subnet config)
                                        id (assq-ref options 'ip)))))
    (define (release)
      (when address (release-address leases address id)))
    (catch #t
      (lambda ()
        (create-data (swineherd-configuration-container-root config) data
                     #:from from #:limit (assq-ref options 'disk-limit)))
      (lambda args
        (release)
        (apply throw args)))
    (let ((service (container-service config id script script-args address)))
      (register-services (list service))
      (unless (start-service service)
        (unregister-services (list service))
        (delete-data data)
        (release)
        (fail "container ~a failed to start and was removed; see ~a and \
Shepherd's log" id (container-log-file config id))))))

(define (action:new config)
  "Return the `new' action."
  (lambda (running . args)
    (let-values (((id options script script-args) (parse-new-arguments args)))
      (check-script script)
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

(define (release-leases config id)
  "Return every address lease that container ID holds."
  (let ((directory (address-lease-directory config)))
    (for-each (lambda (address)
                (release-address directory address id))
              (or (scandir directory (lambda (f) (not (member f '("." "..")))))
                  '()))))

(define (action:kill config)
  "Return the `kill' action."
  (lambda (running . args)
    (match args
      ((id)
       (check-container-id id)
       (let ((service (lookup-service (container-service-name id))))
         (unless service
           (fail "no container with ID ~a; `herd list swineherd' lists \
them" id))
         (unregister-services (list service))
         (delete-data (container-data-directory config id))
         (delete-snapshots config id)
         (release-leases config id)
         #t))
      (_
       (fail "kill: expected exactly one container ID; usage: \
herd kill swineherd ID")))))

(define (action:list running)
  "Print one line per container: its ID and whether it is running."
  (for-each (lambda (service)
              (format #t "~a ~a~%" (service-id service)
                      (if (service-running? service) "running" "stopped")))
            (container-services))
  #t)

(define (bridge-up! config)
  "Bring the bridge of CONFIG up, creating it if needed."
  (bring-bridge-up (swineherd-configuration-bridge config)
                   (swineherd-configuration-subnet config)))

(define (swineherd-start config)
  "Return the start procedure of the `swineherd' service: bring the bridge
up (an existing one is reused) and check the container root.  Its running
value is a line describing storage and network, which `herd status
swineherd' shows, with a warning when the root is not on btrfs."
  (lambda _
    (let* ((root (swineherd-configuration-container-root config))
           (subnet (swineherd-configuration-subnet config)))
      (mkdir-p root)
      (bridge-up! config)
      (let ((description
             (format #f "~a; bridge ~a, ~a/~a" (storage-description root)
                     (swineherd-configuration-bridge config)
                     (subnet-gateway subnet) (subnet-prefix subnet))))
        (format #t "swineherd: ~a~%" description)
        description))))

(define* (swineherd-service #:optional
                            (config (swineherd-configuration)))
  "Return the `swineherd' service, the manager of Guix System containers,
configured with CONFIG (see `swineherd-configuration')."
  (service '(swineherd)
    #:documentation "Manage Guix System containers as `swine:ID' services."
    #:start (swineherd-start config)
    #:stop (const #f)
    #:actions
    (actions
     (new
      "Create and start container ID: herd new swineherd -- ID [OPTION...]
SCRIPT [ARG...].  SCRIPT is the absolute file name of what `guix system
container' printed; ARGs are passed to it.  OPTIONs: --disk-limit=SIZE
(e.g. 512M, 2G; needs btrfs quotas), --from=ID, --from=ID@SNAPSHOT or
--from=/TEMPLATE (start from a snapshot or copy of that data).  The `--'
keeps herd from interpreting options meant for swineherd or the script."
      (action:new config))
     (kill
      "Stop container ID, unregister its service `swine:ID' and delete its
data and snapshots: herd kill swineherd ID.  This is the only action that
deletes a container's data."
      (action:kill config))
     (list
      "List the containers, one per line: ID and running or stopped."
      action:list)
     (up
      "Create the bridge (if needed), set it up and give it its address; done
when swineherd starts."
      (lambda _ (bridge-up! config) #t))
     (down
      "Delete the bridge; containers lose their connection until `herd up
swineherd' and `herd up swine:ID'."
      (lambda _ (delete-link (swineherd-configuration-bridge config)) #t)))))

;;; swineherd.scm ends here
