;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd state)
  #:use-module (swineherd ffi)
  #:use-module (swineherd record-check)
  #:use-module (swineherd utils)
  #:use-module (ice-9 ftw)
  #:use-module (ice-9 match)
  #:use-module (ice-9 pretty-print)
  #:use-module (srfi srfi-9)
  #:use-module (srfi srfi-11)
  #:export (container
            container?
            container-id
            container-script
            container-arguments
            container-options
            container-address
            container-wanted
            set-container-wanted
            save-container
            delete-container-record
            load-container
            load-containers))

;;; Commentary:
;;;
;;; Each container's definition — ID, script, its arguments, the options of
;;; `new', its address and whether it is wanted running — is recorded in
;;; STATE-DIRECTORY/containers/ID.scm, a human-readable S-expression,
;;; replaced atomically (temporary file, fsync, rename, fsync of the
;;; directory) whenever it changes.  When `swineherd' starts, it restores
;;; the containers from these records.
;;;
;;; Code:

(define-record-type <container>
  (container id script arguments options address wanted)
  container?
  (id        container-id)                        ;string
  (script    container-script)                    ;string
  (arguments container-arguments)                 ;list of strings
  (options   container-options)                   ;alist, see `parse-new-arguments'
  (address   container-address)                   ;string or #f
  (wanted    container-wanted))                   ;'running or 'stopped

(define (set-container-wanted c wanted)
  "Return container C with WANTED as its wanted state."
  (container (container-id c) (container-script c) (container-arguments c)
             (container-options c) (container-address c) wanted))

(define (record-directory state-directory)
  (string-append state-directory "/containers"))

(define (record-file state-directory id)
  (string-append (record-directory state-directory) "/" id ".scm"))

(define (container->sexp c)
  `(swineherd-container
    (version 1)
    (id ,(container-id c))
    (script ,(container-script c))
    (arguments ,(container-arguments c))
    (options ,(container-options c))
    (address ,(container-address c))
    (wanted ,(container-wanted c))))

(define (sexp->container sexp)
  "Return the container SEXP describes, a record that
`container-record-problem' found valid."
  (match sexp
    (('swineherd-container _ ('id id) ('script script)
                           ('arguments arguments) ('options options)
                           ('address address) ('wanted wanted))
     (container id script arguments options address wanted))))

(define (save-container state-directory c)
  "Record container C in STATE-DIRECTORY, atomically and durably."
  (mkdir-p (record-directory state-directory))
  (write-file-atomically
   (record-file state-directory (container-id c))
   (call-with-output-string
     (lambda (port)
       (display ";; Swineherd container record; written by swineherd.\n" port)
       (pretty-print (container->sexp c) port)))))

(define (delete-container-record state-directory id)
  "Delete the record of container ID."
  (delete-file-if-exists (record-file state-directory id)))

(define (read-record file)
  "Return two values: the container recorded in FILE, or #f, and #f, or a
text saying why FILE holds no valid record (it cannot be read, is not an
S-expression, or a field is wrong: see `container-record-problem')."
  (catch #t
    (lambda ()
      (let* ((sexp (call-with-input-file file read))
             (problem (container-record-problem sexp (basename file))))
        (if problem
            (values #f problem)
            (values (sexp->container sexp) #f))))
    (lambda (key . args)
      (values #f (format #f "cannot be read: ~a" (exception-text key args))))))

(define (load-container state-directory id)
  "Return the recorded container ID, or #f if it has no valid record."
  (let-values (((c problem) (read-record (record-file state-directory id))))
    c))

(define (load-containers state-directory)
  "Return two values: the containers recorded in STATE-DIRECTORY, sorted by
ID, and the names of the record files that cannot be read.  These are
reported on the current output port and left in place for a human to look
at."
  (define directory (record-directory state-directory))
  (define files
    (or (scandir directory (lambda (file) (string-suffix? ".scm" file)))
        '()))
  (let loop ((files files) (records '()) (broken '()))
    (match files
      (()
       (values (reverse records) (reverse broken)))
      ((file . rest)
       (let*-values (((path) (string-append directory "/" file))
                     ((c problem) (read-record path)))
         (unless c
           (format #t "swineherd: ignoring container record ~a: ~a~%"
                   path problem))
         (if c
             (loop rest (cons c records) broken)
             (loop rest records (cons file broken))))))))

;;; state.scm ends here
