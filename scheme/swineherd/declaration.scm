;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd declaration)
  #:use-module (swineherd arguments)
  #:use-module ((swineherd parse) #:select (exception-text))
  #:use-module (ice-9 match)
  #:use-module (srfi srfi-1)
  #:use-module (srfi srfi-9)
  #:export (swineherd-container
            swineherd-container?
            swineherd-container-id
            swineherd-container-script
            swineherd-container-arguments
            swineherd-container-options
            declaration-words
            same-declaration?
            check-declarations
            reconcile-plan
            declaration->sexp
            sexp->declaration))

;;; Commentary:
;;;
;;; The pure side of declared containers (see `(swineherd declare)'): the
;;; `swineherd-container' record, what it is recorded as, checking a list
;;; of declarations, and the plan that brings the existing containers in
;;; line with them (`reconcile-plan'), a function of the declarations, the
;;; recorded ones and the IDs of the existing containers.  It loads in a
;;; plain Guile, without Shepherd, Fibers or the library.
;;;
;;; Code:

;;;
;;; Declarations.
;;;

(define-record-type <swineherd-container>
  (%swineherd-container id script arguments options)
  swineherd-container?
  (id        swineherd-container-id)            ;string
  (script    swineherd-container-script)        ;absolute file name
  (arguments swineherd-container-arguments)     ;list of strings, for SCRIPT
  (options   swineherd-container-options))      ;list of strings, `new' options

(define* (swineherd-container #:key id script (arguments '()) (options '()))
  "Return the declaration of container ID: what `herd new swineherd -- ID
OPTIONS... SCRIPT ARGUMENTS...' would create.  SCRIPT is what `guix system
container' printed; ARGUMENTS are strings passed to it, such as
\"--share=/srv=/srv\"; OPTIONS are strings, swineherd's options of `new',
such as \"--memory=512M\" or \"--respawn\"."
  (%swineherd-container id script arguments options))

(define (declaration-words d)
  "Return the arguments of `new' that declaration D stands for."
  (append (list (swineherd-container-id d))
          (swineherd-container-options d)
          (list (swineherd-container-script d))
          (swineherd-container-arguments d)))

(define (same-declaration? a b)
  "Return true if declarations A and B make the same container."
  (equal? (declaration-words a) (declaration-words b)))

(define (declaration->sexp d retired?)
  "Return the S-expression recorded for declaration D, RETIRED? saying that
it was stopped because it is no longer declared."
  `(swineherd-declaration
    (version 1)
    (id ,(swineherd-container-id d))
    (script ,(swineherd-container-script d))
    (arguments ,(swineherd-container-arguments d))
    (options ,(swineherd-container-options d))
    (retired? ,retired?)))

(define (sexp->declaration sexp)
  "Return two values, the declaration recorded as SEXP and whether it is
retired, or #f and #f if SEXP is not such a record."
  (define (strings? x) (and (list? x) (every string? x)))
  (match sexp
    (('swineherd-declaration ('version 1) ('id (? valid-container-id? id))
                             ('script (? string? script))
                             ('arguments (? strings? arguments))
                             ('options (? strings? options))
                             ('retired? retired?))
     (values (swineherd-container #:id id #:script script
                                  #:arguments arguments #:options options)
             (eq? retired? #t)))
    (_ (values #f #f))))


;;;
;;; Checking declarations (pure but for SCRIPT-PROBLEM).
;;;

(define (error-text thunk)
  "Call THUNK; return #f if it returns, else the text of its error."
  (catch #t
    (lambda () (thunk) #f)
    (lambda (key . args) (exception-text key args))))

(define (script-problem script)
  "Return #f if SCRIPT is an executable file, else why not."
  (error-text (lambda () (check-script script))))

(define (declaration-problem d script-problem)
  "Return #f if D is a good declaration, else a text saying what is wrong:
its ID, its options (as `new' parses them) or, per SCRIPT-PROBLEM, its
script."
  (cond ((not (swineherd-container? d))
         (format #f "~s is not a swineherd-container record" d))
        ((not (valid-container-id? (swineherd-container-id d)))
         (error-text (lambda ()
                       (check-container-id (swineherd-container-id d)))))
        ((not (and (string? (swineherd-container-script d))
                   (list? (swineherd-container-options d))
                   (every string? (swineherd-container-options d))
                   (list? (swineherd-container-arguments d))
                   (every string? (swineherd-container-arguments d))))
         "its script, options and arguments must be strings")
        ((error-text (lambda ()
                       (parse-new-arguments (declaration-words d))))
         => identity)
        (else (script-problem (swineherd-container-script d)))))

(define* (check-declarations declared #:key
                             (script-problem script-problem))
  "Return two values: the good declarations of DECLARED, and a list of
(ID . PROBLEM) for the others (ID is #f when it cannot be told).  Every
declaration of an ID declared twice is refused: which one is meant cannot
be told.  SCRIPT-PROBLEM returns #f for a usable script, else a text."
  (define (id-of d)
    (and (swineherd-container? d) (swineherd-container-id d)))
  (define duplicates
    (let loop ((ids (filter-map id-of declared)) (seen '()) (twice '()))
      (match ids
        (() twice)
        ((id . rest)
         (loop rest (cons id seen)
               (if (member id seen) (lset-adjoin equal? twice id) twice))))))
  (let loop ((declared declared) (good '()) (problems '()))
    (match declared
      (() (values (reverse good) (reverse problems)))
      ((d . rest)
       (let ((problem (if (member (id-of d) duplicates)
                          "declared more than once; keep one declaration"
                          (declaration-problem d script-problem))))
         (if problem
             (loop rest good (cons (cons (id-of d) problem) problems))
             (loop rest (cons d good) problems)))))))


;;;
;;; The plan (pure).
;;;

(define* (reconcile-plan declared recorded existing #:key (untouchable '()))
  "Return the steps that bring the containers in line with DECLARED, a
list of good declarations with distinct IDs.  RECORDED is a list of
(DECLARATION . RETIRED?), the declarations recorded at the last reconcile;
EXISTING the IDs of the containers that exist; UNTOUCHABLE IDs (of bad
declarations) get no step.  Each step is (ACTION ID DECLARATION):
create (declared, does not exist), keep (exists as declared), replace
(exists, declaration changed: restart with DECLARATION), resume (declared
again as it was after being retired: start it), foreign (declared, but it
exists and was made by `herd new': refused), retire (no longer declared:
stop it, keep its data), forget (no longer declared and gone: drop the
record).  DECLARATION is the new one, or the recorded one for retire and
forget; retired containers still not declared get no step."
  (define (recorded-of id)
    (find (lambda (entry) (equal? id (swineherd-container-id (car entry))))
          recorded))
  (define (exists? id) (member id existing))
  (define (declared-step d)
    (let* ((id (swineherd-container-id d))
           (entry (recorded-of id)))
      (cond ((not (exists? id)) (list 'create id d))
            ((not entry) (list 'foreign id d))
            ((not (same-declaration? (car entry) d)) (list 'replace id d))
            ((cdr entry) (list 'resume id d))
            (else (list 'keep id d)))))
  (define (undeclared-step entry)
    (match entry
      ((old . retired?)
       (let ((id (swineherd-container-id old)))
         (cond ((or (member id untouchable)
                    (any (lambda (d) (equal? id (swineherd-container-id d)))
                         declared))
                #f)
               ((not (exists? id)) (list 'forget id old))
               (retired? #f)
               (else (list 'retire id old)))))))
  (append (map declared-step
               (remove (lambda (d)
                         (member (swineherd-container-id d) untouchable))
                       declared))
          (filter-map undeclared-step recorded)))

;;; declaration.scm ends here
