;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd record-check)
  #:use-module ((swineherd arguments) #:select (valid-container-id?))
  #:use-module ((swineherd upkeep-options) #:select (%upkeep-option-checks))
  #:use-module (ice-9 match)
  #:use-module (srfi srfi-1)
  #:use-module (srfi srfi-26)
  #:export (container-record-problem))

;;; Commentary:
;;;
;;; Checking a container record field by field, types and not only syntax,
;;; before anything uses it: a record is a file that a human (or a crash, or
;;; a disk) may have changed, and one whose address is a symbol or whose
;;; arguments are numbers must be reported and skipped, never make
;;; `swineherd' itself fail when it restores the others.  Pure code.
;;;
;;; Code:

(define (value-text value)
  "Return VALUE as written in a record: symbols without Guile's #{ }#, so
that an unquoted 10.0.0.9 shows as 10.0.0.9 (and, with the type named,
apart from \"10.0.0.9\")."
  (let ((text (if (symbol? value)
                  (symbol->string value)
                  (call-with-output-string (cut write value <>)))))
    (cond ((symbol? value) (string-append text ", a symbol,"))
          ((number? value) (string-append text ", a number,"))
          (else text))))

(define (ipv4-text? value)
  "Return true if VALUE is a string holding a dotted IPv4 address."
  (and (string? value)
       (false-if-exception (inet-pton AF_INET value))
       #t))

(define (integer-in? low high)
  "Return a predicate for exact integers from LOW to HIGH (HIGH #f: no
upper bound)."
  (lambda (value)
    (and (exact-integer? value) (>= value low) (or (not high) (<= value high)))))

(define port-number? (integer-in? 1 65535))

(define (published-port? value)
  "Return true if VALUE is a published port as `new' records it:
(PROTOCOL HOST-PORT CONTAINER-PORT [HOST-ADDRESS])."
  (match value
    (((or 'tcp 'udp) (? port-number?) (? port-number?)) #t)
    (((or 'tcp 'udp) (? port-number?) (? port-number?) (? ipv4-text?)) #t)
    (_ #f)))

(define (from-source? value)
  "Return true if VALUE is a --from source as `new' records it."
  (match value
    (('directory (? string? file)) (absolute-file-name? file))
    (('container (? valid-container-id?)) #t)
    (('snapshot (? valid-container-id?) (? valid-container-id?)) #t)
    (_ #f)))

(define %option-checks
  ;; Each recorded option of `new': its name, a predicate on its value and
  ;; what the value should be.
  `((disk-limit ,(integer-in? 1 #f) "a positive number of bytes")
    (memory ,(integer-in? 1 #f) "a positive number of bytes")
    (swap ,(integer-in? 0 #f) "a number of bytes")
    (cpus ,(match-lambda
             (((? (integer-in? 1 #f)) . (? (integer-in? 1 #f))) #t)
             (_ #f))
          "a pair (QUOTA . PERIOD) of microseconds")
    (cpu-weight ,(integer-in? 1 10000) "an integer from 1 to 10000")
    (pids ,(integer-in? 1 4194304) "an integer from 1 to 4194304")
    (from ,from-source?
          "(directory \"/FILE\"), (container \"ID\") or (snapshot \"ID\" \"NAME\")")
    (network ,(cut memq <> '(bridge none)) "bridge or none")
    (ip ,ipv4-text? "an IPv4 address in double quotes")
    (publish ,published-port?
             "(tcp|udp HOST-PORT CONTAINER-PORT [\"HOST-ADDRESS\"])")
    (isolated ,(cut memq <> '(#t no)) "#t or no")
    (respawn ,(cut eq? <> #t) "#t")
    ;; Identity and hardening (issue #18, see (swineherd idmap)).
    (ids ,(integer-in? 1 4294901759) "the base of a range of host ids")
    (privileged ,(cut eq? <> #t) "#t")
    (keep-caps ,(cut eq? <> #t) "#t")
    (syscalls ,(cut eq? <> 'all) "all")
    (devices ,(cut eq? <> 'all) "all")
    ,@%upkeep-option-checks))

(define (option-problem option)
  "Return #f if OPTION, one recorded option of `new', is valid, else a text
saying what is wrong with it."
  (match option
    (((? symbol? name) . value)
     (match (assq name %option-checks)
       ((_ valid? expected)
        (and (not (valid? value))
             (format #f "option ~s: ~a is not ~a" name (value-text value)
                     expected)))
       (#f
        (format #f "unknown option ~s" name))))
    (_
     (format #f "option ~s is not a (NAME . VALUE) pair" option))))

(define (field-problems id script arguments options address wanted)
  "Return the texts saying what is wrong with each of these fields of a
record, or the empty list."
  (define (unless-valid valid? field value expected)
    (if (valid? value)
        '()
        (list (format #f "(~a ~a) is not ~a" field (value-text value)
                      expected))))
  (append
   (unless-valid valid-container-id? 'id id
                 "a valid container ID in double quotes")
   (unless-valid (lambda (script)
                   (and (string? script) (absolute-file-name? script)))
                 'script script "an absolute file name in double quotes")
   (unless-valid (lambda (arguments)
                   (and (list? arguments) (every string? arguments)))
                 'arguments arguments "a list of strings")
   (if (list? options)
       (filter-map option-problem options)
       (list (format #f "(options ~s) is not a list" options)))
   (unless-valid (lambda (address) (or (not address) (ipv4-text? address)))
                 'address address "#f or an IPv4 address in double quotes")
   (unless-valid (cut memq <> '(running stopped))
                 'wanted wanted "running or stopped")))

(define (container-record-problem sexp file-name)
  "Return #f if SEXP, read from the file FILE-NAME (without directory), is
a valid version-1 container record for the ID its name says, else a text
naming what is wrong and where."
  (match sexp
    (('swineherd-container ('version 1)
                           ('id id) ('script script) ('arguments arguments)
                           ('options options) ('address address)
                           ('wanted wanted))
     (match (field-problems id script arguments options address wanted)
       (()
        (and (not (string=? file-name (string-append id ".scm")))
             (format #f "it records container ~s, not the one its file name \
says" id)))
       (problems
        (string-join problems "; "))))
    (('swineherd-container ('version (not 1)) . _)
     "not a version-1 record (written by another Swineherd?)")
    (_
     "not a container record: expected (swineherd-container (version 1) \
(id …) (script …) (arguments …) (options …) (address …) (wanted …))")))

;;; record-check.scm ends here
