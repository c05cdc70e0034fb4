;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd declare)
  #:use-module (swineherd arguments)
  #:use-module (swineherd declaration)
  #:use-module ((swineherd ffi) #:select (write-file-atomically))
  #:use-module (swineherd utils)
  #:use-module (ice-9 match)
  #:use-module (ice-9 pretty-print)
  #:use-module (srfi srfi-1)
  #:use-module (srfi srfi-9)
  #:use-module (srfi srfi-11)
  #:re-export (swineherd-container)           ;for declaration files
  #:export (load-declarations
            declarations-of
            declaration-directory
            load-recorded-declarations
            container-operations
            reconcile!
            reconcile-configured
            check-reconciled))

;;; Commentary:
;;;
;;; Declared containers: the `#:containers' of `swineherd-configuration', a
;;; list of `swineherd-container' records (or a file evaluating to one),
;;; each what `herd new swineherd -- ID OPTION... SCRIPT ARGUMENT...' would
;;; make.  Reconciling brings the running containers in line with the
;;; declarations: create what is missing, restart what changed (its data
;;; kept), stop what is no longer declared (its data kept: only `kill'
;;; deletes data), leave alone what is unchanged and every container made
;;; with `herd new'.
;;;
;;; Which containers came from declarations, and with which declaration, is
;;; recorded in STATE-DIRECTORY/declared/ID.scm.  The plan (`reconcile-plan'
;;; of `(swineherd declaration)', the pure side) is a function of the
;;; declarations, these records and the existing containers; `reconcile!'
;;; carries it out through a few operations that (swineherd) supplies
;;; (`container-operations').
;;;
;;; Code:


;;;
;;; Reading declarations and records.
;;;

(define (load-declarations file)
  "Evaluate FILE, whose last expression must return a list of
`swineherd-container' records, in a fresh module that uses (swineherd
declare); return that list."
  (let ((module (make-fresh-user-module)))
    (module-use! module (resolve-interface '(swineherd declare)))
    (let ((value (catch #t
                   (lambda ()
                     (call-with-input-file file
                       (lambda (port)
                         (let loop ((value '()))
                           (match (read port)
                             ((? eof-object?) value)
                             (form (loop (eval form module))))))))
                   (lambda (key . args)
                     (fail "cannot load the declared containers from ~a: ~a"
                           file (exception-text key args))))))
      (unless (list? value)
        (fail "~a must end with a list of swineherd-container records; it \
returned ~s" file value))
      value)))

(define (declarations-of containers)
  "Return the declarations that CONTAINERS, the `#:containers' of the
configuration, stands for: a list of records, or a file holding one."
  (match containers
    ((? string? file) (load-declarations file))
    ((? list? declared) declared)
    (_ (fail "#:containers must be a list of swineherd-container records or \
a file name; got ~s" containers))))

(define (declaration-directory state-directory)
  "Return the directory of the records of declared containers."
  (string-append state-directory "/declared"))

(define (declaration-file state-directory id)
  "Return the file that records the declaration of container ID."
  (string-append (declaration-directory state-directory) "/" id ".scm"))

(define (save-declaration state-directory d retired?)
  "Record declaration D, RETIRED? or not, atomically."
  (write-file-atomically
   (declaration-file state-directory (swineherd-container-id d))
   (call-with-output-string
     (lambda (port)
       (display ";; Swineherd declared container; written by swineherd.\n"
                port)
       (pretty-print (declaration->sexp d retired?) port)))))

(define (load-recorded-declarations state-directory)
  "Return the recorded declarations, a list of (DECLARATION . RETIRED?);
a record that cannot be read, or whose ID is not its file's name, is
reported and left alone."
  (let ((directory (declaration-directory state-directory)))
    (filter-map
     (lambda (name)
       (let ((file (string-append directory "/" name)))
         (let-values (((d retired?)
                       (catch #t
                         (lambda ()
                           (let-values (((d retired?)
                                         (sexp->declaration
                                          (call-with-input-file file read))))
                             (if (and d (equal? (string-append
                                                 (swineherd-container-id d)
                                                 ".scm")
                                                name))
                                 (values d retired?)
                                 (values #f #f))))
                         (lambda _ (values #f #f)))))
           (unless d
             (format #t "swineherd: ignoring unreadable declaration record \
~a~%" file))
           (and d (cons d retired?)))))
     (filter (lambda (name) (string-suffix? ".scm" name))
             (entries directory)))))


;;;
;;; Carrying out the plan.
;;;

(define-record-type <container-operations>
  (container-operations existing create remove-keeping-data start stop)
  container-operations?
  (existing operations-existing)     ;-> list of IDs of existing containers
  (create operations-create)         ;words of `new' -> create and start
  (remove-keeping-data operations-remove) ;ID -> unregister, keep data
  (start operations-start)           ;ID -> start it
  (stop operations-stop))            ;ID -> stop it (recorded as stopped)

(define (carry-out step ops state-directory)
  "Carry out STEP, from `reconcile-plan', with the operations OPS; return a
line saying what was done."
  (define (record! d retired?)
    (mkdir-p (declaration-directory state-directory))
    (save-declaration state-directory d retired?))
  (match step
    (('create id d)
     ((operations-create ops) (declaration-words d))
     (record! d #f)
     "created and started")
    (('keep id d) "unchanged, left alone")
    (('replace id d)
     ((operations-remove ops) id)
     ((operations-create ops) (declaration-words d))
     (record! d #f)
     "declaration changed: restarted with the new one, data kept")
    (('resume id d)
     ((operations-start ops) id)
     (record! d #f)
     "declared again: started")
    (('foreign id d)
     (fail "a container ~a made with `herd new' exists; declarations do not \
touch it: `herd kill swineherd ~a' first, or declare another ID" id id))
    (('retire id d)
     ((operations-stop ops) id)
     (record! d #t)
     "no longer declared: stopped, data kept (`herd kill swineherd ID' \
deletes it)")
    (('forget id d)
     (delete-file-if-exists (declaration-file state-directory id))
     "no longer declared and gone: record dropped")))

(define %reconciling?
  ;; True while a reconcile runs: a second one (the one at start, an action)
  ;; is refused rather than interleaved.  Fibers run one at a time and are
  ;; not preempted, so checking and setting it cannot race.
  #f)

(define (reconcile! declared ops state-directory)
  "Bring the containers in line with DECLARED, a list of declarations,
with the operations OPS (see `container-operations'), recording in
STATE-DIRECTORY which containers came from declarations.  Each container
succeeds or fails alone; report each outcome on the current output port
and return the list of (ID . PROBLEM) of those that failed.  Refuse to run
while another reconcile runs."
  (when %reconciling?
    (fail "a reconcile is already running; wait for it and try again"))
  ;; Not `dynamic-wind': suspending the fiber would run its exit thunk.
  (set! %reconciling? #t)
  (let ((failures (catch #t
                    (lambda () (reconcile-now declared ops state-directory))
                    (lambda (key . args)
                      (set! %reconciling? #f)
                      (apply throw key args)))))
    (set! %reconciling? #f)
    failures))

(define (reconcile-now declared ops state-directory)
  "Carry out `reconcile!' for DECLARED with OPS in STATE-DIRECTORY."
  (let*-values (((good problems) (check-declarations declared))
                ((plan) (reconcile-plan
                         good (load-recorded-declarations state-directory)
                         ((operations-existing ops))
                         #:untouchable (filter-map car problems))))
    (define failures
      (append
       problems
       (filter-map
        (match-lambda
          ((and step (action id _))
           (match (catch #t
                    (lambda () (cons 'ok (carry-out step ops state-directory)))
                    (lambda (key . args)
                      (cons 'failed (exception-text key args))))
             (('ok . text)
              (format #t "swineherd: reconcile: ~a: ~a~%" id text)
              #f)
             (('failed . text)
              (cons id text)))))
        plan)))
    (for-each (match-lambda
                ((id . problem)
                 (format #t "swineherd: reconcile: ~a: NOT DONE: ~a~%"
                         (or id "?") problem)))
              failures)
    failures))

(define (reconcile-configured containers ops state-directory)
  "Reconcile the declarations that CONTAINERS, the configuration's
`#:containers', stands for (see `reconcile!'); if they cannot be read,
report why and touch nothing.  Return the list of (ID . PROBLEM) of the
containers that failed, ID #f for the declarations as a whole."
  (catch #t
    (lambda ()
      (reconcile! (declarations-of containers) ops state-directory))
    (lambda (key . args)
      (let ((text (exception-text key args)))
        (format #t "swineherd: reconcile: ~a~%" text)
        (list (cons #f text))))))

(define (check-reconciled failures)
  "Return #t if FAILURES, from `reconcile-configured', is empty; else raise
an error naming the containers that failed, for herd."
  (match failures
    (() #t)
    (_
     (fail "reconcile: not done for ~a; see the lines above"
           (string-join (delete-duplicates
                         (map (lambda (failure)
                                (or (car failure) "the declarations"))
                              failures))
                        ", ")))))

;;; declare.scm ends here
