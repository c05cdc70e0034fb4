;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd)
  #:use-module (shepherd service)
  #:use-module (swineherd ffi)
  #:use-module ((fibers) #:select ((sleep . fiber-sleep)))
  #:use-module (ice-9 match)
  #:use-module (srfi srfi-1)
  #:use-module (srfi srfi-9)
  #:use-module (srfi srfi-11)
  #:export (swineherd-service
            swineherd-configuration
            swineherd-configuration?
            swineherd-configuration-container-root
            swineherd-configuration-log-directory
            swineherd-configuration-run-directory
            container-service
            container-service-name
            valid-container-id?
            parse-new-arguments))

;;; Commentary:
;;;
;;; The `swineherd' Shepherd service and the `swine:ID' services it creates,
;;; one per Guix System container.  A container is started by its SCRIPT,
;;; what `guix system container os.scm' prints; Shepherd itself spawns the
;;; script, so it monitors the container like any other process.
;;;
;;; Code:


;;;
;;; Configuration.
;;;

(define-record-type <swineherd-configuration>
  (%swineherd-configuration container-root log-directory run-directory
                            start-timeout)
  swineherd-configuration?
  (container-root swineherd-configuration-container-root) ;containers' data
  (log-directory  swineherd-configuration-log-directory)  ;ID.log files
  (run-directory  swineherd-configuration-run-directory)  ;ID.pid files
  (start-timeout  swineherd-configuration-start-timeout)) ;seconds

(define (uninstalled?)
  "Return true when running from a checkout, through pre-inst-env."
  (and (getenv "SWINEHERD_UNINSTALLED") #t))

(define (default-container-root)
  "Return the default directory holding the containers' data: ./container-root
when running from a checkout (as the seed README's flow expects), else
/var/lib/swineherd/containers."
  (if (uninstalled?)
      (string-append (getcwd) "/container-root")
      "/var/lib/swineherd/containers"))

(define* (swineherd-configuration #:key
                                  (container-root (default-container-root))
                                  (log-directory "/var/log/swineherd")
                                  (run-directory "/run/swineherd")
                                  (start-timeout 60))
  "Return a Swineherd configuration: containers' data in CONTAINER-ROOT, the
console output of container ID in LOG-DIRECTORY/ID.log, and run-time files
such as the PID files written by container scripts in RUN-DIRECTORY.  A
container counts as started once its init runs in namespaces of its own;
one whose init does not show up within START-TIMEOUT seconds fails to
start."
  (%swineherd-configuration container-root log-directory run-directory
                            start-timeout))

(define (container-file config directory-accessor id extension)
  "Return the file of container ID with EXTENSION in the directory of CONFIG
that DIRECTORY-ACCESSOR returns."
  (string-append (directory-accessor config) "/" id extension))

(define (container-data-directory config id)
  "Return the directory that holds the data of container ID; it is shared
with the container as its /home."
  (container-file config swineherd-configuration-container-root id ""))

(define (container-log-file config id)
  "Return the file that receives the console output of container ID."
  (container-file config swineherd-configuration-log-directory id ".log"))

(define (container-pid-file config id)
  "Return the PID file that the script of container ID writes."
  (container-file config swineherd-configuration-run-directory id ".pid"))


;;;
;;; Errors.
;;;

(define (fail fmt . args)
  "Raise an error whose message, formatted from FMT and ARGS, is what `herd'
shows its user.  It is thrown as a `misc-error' with the message as its only
format argument: Shepherd sends an action's exception to herd as a key and
arguments, and herd prints these nicely only for Guile's classic keys."
  (throw 'misc-error #f "~A" (list (apply format #f fmt args)) #f))

(define (mkdir-p directory)
  "Create DIRECTORY and its missing parents."
  (unless (or (string-null? directory) (file-exists? directory))
    (mkdir-p (dirname directory))
    (mkdir directory)))


;;;
;;; Container identifiers and the arguments of `new'.
;;;

(define (valid-container-id? id)
  "Return true if ID is a valid container identifier: 1 to 64 characters,
ASCII letters, digits and `_' `.' `:' `-', starting with a letter or a digit.
Such an ID is safe as a file name and as part of a service name; the colon
allows upstream-style `prefix:id' names."
  (define (id-char? c)
    (or (char-set-contains? char-set:letter+digit c)
        (memv c '(#\_ #\. #\: #\-))))
  (and (string? id)
       (<= 1 (string-length id) 64)
       (string-every (lambda (c) (char<? c #\delete)) id)
       (string-every id-char? id)
       (char-set-contains? char-set:letter+digit (string-ref id 0))))

(define (check-container-id id)
  "Raise a clear error unless ID is a valid container identifier."
  (unless (valid-container-id? id)
    (fail "invalid container ID ~s: use 1 to 64 ASCII letters, digits, \
`_', `.', `:' or `-', starting with a letter or a digit" id)))

(define %new-options
  ;; Swineherd's own options of `new', as an alist from name to a
  ;; description.  None yet: storage, networking and resources add theirs.
  '())

(define (option-word? word)
  "Return true if WORD, an argument of `new', is a swineherd option."
  (string-prefix? "--" word))

(define (parse-option word)
  "Parse WORD, of the form --NAME=VALUE, into a (NAME . VALUE) pair."
  (let* ((body (string-drop word 2))
         (index (string-index body #\=))
         (name (if index (string-take body index) body)))
    (unless (assoc name %new-options)
      (fail "unknown option ~s for new; swineherd's own options go between ID \
and SCRIPT~a, and options for the container script after SCRIPT" word
            (if (null? %new-options)
                " (there are none yet)"
                (format #f " (~{--~a~^, ~})" (map car %new-options)))))
    (cons name (and index (string-drop body (+ 1 index))))))

(define (parse-new-arguments args)
  "Parse ARGS, the arguments of `new', of the form
ID [--OPTION=VALUE...] SCRIPT [SCRIPT-ARGUMENT...], and return four values:
ID, an alist of options, SCRIPT and the list of SCRIPT-ARGUMENTs.  Raise a
clear error for anything else, including the keyword arguments that `herd'
makes of its own options."
  (when (any keyword? args)
    (fail "herd turned an option into ~s: put `--' right after `new \
swineherd' so that options reach swineherd and the container script intact"
          (find keyword? args)))
  (match args
    ((id . rest)
     (check-container-id id)
     (let-values (((options rest) (span option-word? rest)))
       (match rest
         ((script . script-args)
          (values id (map parse-option options) script script-args))
         (()
          (fail "new: no SCRIPT given; usage: \
herd new swineherd -- ID [OPTION...] SCRIPT [ARG...]")))))
    (()
     (fail "new: no ID given; usage: \
herd new swineherd -- ID [OPTION...] SCRIPT [ARG...]"))))

(define (check-script script)
  "Raise a clear error unless SCRIPT is the absolute file name of an
executable regular file."
  (unless (absolute-file-name? script)
    (fail "container script ~s is not an absolute file name; give its full \
path (Shepherd does not know herd's working directory)" script))
  (unless (and (file-exists? script)
               (eq? 'regular (stat:type (stat script)))
               (access? script X_OK))
    (fail "container script ~a does not exist or is not executable; give \
what `guix system container' printed" script)))


;;;
;;; Container services.
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

(define (delete-file-if-exists file)
  "Delete FILE unless it does not exist."
  (catch 'system-error
    (lambda () (delete-file file))
    (lambda args
      (unless (= ENOENT (system-error-errno args))
        (apply throw args)))))

(define (container-command config id script args)
  "Return the command line that starts container ID: SCRIPT with the data
directory shared as /home and a PID file, then ARGS."
  `(,script
    ,(string-append "--share=" (container-data-directory config id) "=/home")
    ,(string-append "--pid-file=" (container-pid-file config id))
    ,@args))

(define (container-start config id script args)
  "Return the start procedure of container ID."
  (lambda _
    (let ((data (container-data-directory config id)))
      (mkdir-p data)
      (mkdir-p (swineherd-configuration-log-directory config))
      (mkdir-p (swineherd-configuration-run-directory config))
      (delete-file-if-exists (container-pid-file config id))
      (let ((process ((make-forkexec-constructor
                       (container-command config id script args)
                       #:log-file (container-log-file config id)
                       #:directory data))))
        (and (wait-for-container-init config id process)
             process)))))

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

(define (container-stop config id)
  "Return the stop procedure of container ID: SIGTERM to the script's
process group (the script relays it to the container's init, Shepherd,
which shuts down), SIGKILL after Shepherd's grace period; then make sure the
init itself is gone too."
  (lambda (process . args)
    (let ((init (false-if-exception (container-init config id process))))
      (apply (make-kill-destructor) process args)
      (when (and init (false-if-exception (kill init 0)))
        (kill init SIGKILL))
      (delete-file-if-exists (container-pid-file config id))
      #f)))

(define (action:pid config id)
  "Return the `pid' action of container ID."
  (lambda (process)
    (format #t "~a~%" (container-init config id process))
    #t))

(define (container-service config id script args)
  "Return the service `swine:ID' that runs container ID with SCRIPT and
ARGS, as `guix system container' scripts expect them."
  (service (list (container-service-name id))
    #:documentation
    (format #f "Guix System container ~a, started by ~a." id script)
    #:requirement '(swineherd)
    #:start (container-start config id script args)
    #:stop (container-stop config id)
    #:actions
    (actions
     (pid
      "Print the host PID of the container's init (its PID 1, usually
Shepherd), for use with nsenter or /proc/PID."
      (action:pid config id)))))


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

(define (action:new config)
  "Return the `new' action."
  (lambda (running . args)
    (let-values (((id options script script-args) (parse-new-arguments args)))
      (check-script script)
      (when (lookup-service (container-service-name id))
        (fail "container ~a already exists; pick another ID, or remove it \
first with `herd kill swineherd ~a'" id id))
      (let ((service (container-service config id script script-args)))
        (register-services (list service))
        (unless (start-service service)
          (fail "container ~a was created but failed to start; see ~a and \
`herd status ~a'" id (container-log-file config id)
                (container-service-name id)))
        #t))))

(define (remove-tree file)
  "Remove the tree at FILE, a container's data, a thousand entries at a
time so that Shepherd serves its other clients in between."
  (let loop ()
    (unless (remove-tree-step file 1000)
      (fiber-sleep 0.001)
      (loop))))

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
         (remove-tree (container-data-directory config id))
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

(define* (swineherd-service #:optional
                            (config (swineherd-configuration)))
  "Return the `swineherd' service, the manager of Guix System containers,
configured with CONFIG (see `swineherd-configuration')."
  (service '(swineherd)
    #:documentation "Manage Guix System containers as `swine:ID' services."
    #:start (lambda _
              (mkdir-p (swineherd-configuration-container-root config))
              #t)
    #:stop (const #f)
    #:actions
    (actions
     (new
      "Create and start container ID: herd new swineherd -- ID [OPTION...]
SCRIPT [ARG...].  SCRIPT is the absolute file name of what `guix system
container' printed; ARGs are passed to it.  The `--' keeps herd from
interpreting options meant for swineherd or for the script."
      (action:new config))
     (kill
      "Stop container ID, unregister its service `swine:ID' and delete its
data: herd kill swineherd ID.  This is the only action that deletes a
container's data."
      (action:kill config))
     (list
      "List the containers, one per line: ID and running or stopped."
      action:list))))

;;; swineherd.scm ends here
