;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd manager)
  #:use-module (shepherd service)
  #:use-module (swineherd arguments)
  #:use-module (swineherd config)
  #:use-module (swineherd declare)
  #:use-module (swineherd events)
  #:use-module (swineherd idmap)
  #:use-module ((swineherd guest) #:select (not-ready-text))
  #:use-module ((swineherd snapshot-schedule) #:select (check-snapshot-storage))
  #:use-module ((swineherd ffi) #:select (cgroup-layout))
  #:use-module (swineherd init)
  #:use-module (swineherd lock)
  #:use-module (swineherd nat)
  #:use-module (swineherd network)
  #:use-module (swineherd recovery)
  #:use-module (swineherd registry)
  #:use-module (swineherd resources)
  #:use-module (swineherd runtime)
  #:use-module (swineherd state)
  #:use-module (swineherd stats)
  #:use-module (swineherd storage)
  #:use-module (swineherd utils)
  #:use-module (ice-9 match)
  #:use-module (srfi srfi-1)
  #:use-module (srfi srfi-11)
  #:use-module (srfi srfi-111)
  #:export (action:new
            action:kill
            action:swineherd-stats
            action:list
            container-services
            service-id
            reconcile-declared
            swineherd-start
            swineherd-stop))

;;; Commentary:
;;;
;;; The procedures of the `swineherd' service (see `(swineherd)'): creating
;;; a container (its leases, data, service, then start, each undone when a
;;; later one fails) and killing one, listing and summarising them, and
;;; starting and stopping the manager itself.  A container's service is
;;; made by the MAKE-SERVICE procedure the caller passes, (MAKE-SERVICE C
;;; #:recorded? BOOL) for the record C, so that this module does not depend
;;; on the service definitions.
;;;
;;; Code:

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
    (unless (and (false-if-system-error (lstat directory))
                 (eq? 'directory (stat:type (lstat directory))))
      (fail "--from: ~a is not a directory" directory))
    (when (and (eq? 'btrfs (storage-kind root))
               (not (subvolume? directory)))
      (fail "--from: ~a is not a btrfs subvolume; on a btrfs container root \
a template must be one (btrfs subvolume create, then fill it), so that \
containers start from a snapshot of it" directory))
    directory))

(define (container-options* config id)
  "Return the options of container ID, from its record ('() if none)."
  (or (and=> (load-container (swineherd-configuration-state-directory config)
                             id)
             container-options)
      '()))

(define (source-ids config from)
  "Return the base of the host ids that own the data --from=FROM designates:
the range of the container it comes from, or 0 (a template, or a
privileged container's data, is owned by host ids)."
  (match from
    (((or 'container 'snapshot) source . _)
     (or (container-ids (container-options* config source)) 0))
    (_ 0)))

(define* (create-container config make-service id options script script-args
                           #:key reuse-data?)
  "Create container ID with OPTIONS (an alist from `parse-new-arguments'),
SCRIPT and SCRIPT-ARGS: its data, then its service (made by MAKE-SERVICE),
then start it.  If any step fails, undo the steps before it and raise an
error.  With REUSE-DATA?, data of ID that exists already is kept and used
(and never deleted)."
  (define data (container-data-directory config id))
  (define from (and=> (assq-ref options 'from)
                      (lambda (from) (source-directory config from))))
  (define leases (address-lease-directory config))
  (define network? (not (eq? 'none (assq-ref options 'network))))
  (define ports (published-ports options))
  (define begun (get-internal-real-time))
  (when (and (not reuse-data?) (false-if-system-error (lstat data)))
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
    ;; Its own range of host ids, unless --privileged; data kept for ID
    ;; stays with the range that owns it.
    (define ids (and (not (assq-ref options 'privileged))
                     (catch #t
                       (lambda ()
                         (or (and reuse-data? (held-ids config id))
                             (allocate-ids config id)))
                       (lambda args
                         (when address (release-address leases address id))
                         (release-ports (port-lease-directory config) id)
                         (apply throw args)))))
    (define (release)
      (when address (release-address leases address id))
      (release-ports (port-lease-directory config) id)
      (release-ids config ids id))
    (define reused? (and reuse-data? (false-if-system-error (lstat data)) #t))
    (catch #t
      (lambda ()
        (unless reused?
          (create-data (swineherd-configuration-container-root config) data
                       #:from from #:limit (assq-ref options 'disk-limit))
          (give-data-to-range data ids
                              #:from (source-ids config
                                                 (assq-ref options 'from)))))
      (lambda args
        (unless reused?
          (when (file-exists? data) (delete-data data)))
        (release)
        (apply throw args)))
    (let* ((options (if ids `((ids . ,ids) ,@options) options))
           (c (container id script script-args options address 'running))
           (service (make-service c))
           (registered (get-internal-real-time)))
      (register-services (list service))
      (emit-event 'created id)
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
        (unless reuse-data?
          (delete-data data))
        (release)
        (fail "container ~a failed to start and was removed~a; see ~a and \
Shepherd's log~a" id (not-ready-text id) (container-log-file config id)
              (limits-sentence
               (limit-options options
                              (swineherd-configuration-default-memory
                               config)))))
      (log-line "swineherd: new ~a: address and storage ~,2f ms, service and \
start ~,2f ms" id (milliseconds-between begun registered)
                (milliseconds-since registered)))))

(define* (action:new config make-service #:key reuse-data?)
  "Return the `new' action, whose containers' services MAKE-SERVICE makes;
with REUSE-DATA?, it uses data of the ID that exists already (see
`create-container')."
  (lambda (running . args)
    (let-values (((id options script script-args) (parse-new-arguments args)))
      (check-script script)
      (check-snapshot-storage (swineherd-configuration-container-root config)
                              options)
      (when (and (assq 'io-weight options)
                 (not (eq? 'unified (cgroup-layout))))
        (fail "--io-weight needs cgroup v2's io controller; this host's \
cgroups are v1: leave it out"))
      (when (lookup-service (container-service-name id))
        (fail "container ~a already exists; pick another ID, or remove it \
first with `herd kill swineherd ~a'" id id))
      (create-container config make-service id options script script-args
                        #:reuse-data? reuse-data?)
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

(define* (remove-container config id #:key keep-data?)
  "Stop container ID, unregister its service, delete its record and release
its leases; delete its data and snapshots unless KEEP-DATA?."
  (let ((service (lookup-service (container-service-name id)))
        (record (load-container (swineherd-configuration-state-directory
                                 config)
                                id)))
    (unless service
      (fail "no container with ID ~a; `herd list swineherd' lists them" id))
    (unregister-container-service service)
    (delete-container-record (swineherd-configuration-state-directory config)
                             id)
    (unless keep-data?
      (delete-data (container-data-directory config id))
      (delete-snapshots config id)
      ;; The range stays with data that is kept.
      (release-ids config (and record (container-ids
                                       (container-options record)))
                   id))
    (release-leases config id record)
    (forget-identity! id)))

(define (action:kill config)
  "Return the `kill' action."
  (lambda (running . args)
    (match args
      ((id)
       (check-container-id id)
       (remove-container config id)
       (emit-event 'killed id)
       #t)
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

(define (declared-container-operations config make-service)
  "Return the operations with which (swineherd declare) reconciles the
declared containers of CONFIG, whose services MAKE-SERVICE makes."
  (define (service-of id)
    (or (lookup-service (container-service-name id))
        (fail "no container ~a" id)))
  (container-operations
   (lambda ()
     (map (compose service-id car) (container-services/status)))
   (lambda (words)
     (apply (action:new config make-service #:reuse-data? #t) #f words))
   (lambda (id)
     (remove-container config id #:keep-data? #t))
   (lambda (id)
     (unless (start-service (service-of id))
       (fail "swine:~a failed to start; see ~a" id
             (container-log-file config id))))
   (lambda (id)
     (stop-service (service-of id)))))

(define (reconcile-declared config make-service)
  "Reconcile the containers declared in CONFIG (see (swineherd declare)),
whose services MAKE-SERVICE makes; return the list of (ID . PROBLEM) of
those that failed."
  (reconcile-configured (swineherd-configuration-containers config)
                        (declared-container-operations config make-service)
                        (swineherd-configuration-state-directory config)))

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
    (false-if-system-error (stop-nat (nat-table config)))
    (when (unbox lock)
      (unlock-state-directory (unbox lock))
      (set-box! lock #f))
    #f))

(define (swineherd-start config lock make-service)
  "Return the start procedure of the `swineherd' service, whose containers'
services MAKE-SERVICE makes: take the state
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
                    ((failures) (restore-containers config records
                                                        make-service))
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
        (start-wanted-containers records failures begun
                                 (lambda ()
                                   (reconcile-declared config make-service)))
        description))))

;;; manager.scm ends here
