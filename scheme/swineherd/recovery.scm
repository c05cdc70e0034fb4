;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd recovery)
  #:use-module (swineherd config)
  #:use-module (swineherd state)
  #:use-module (swineherd utils)
  #:use-module ((fibers) #:select (spawn-fiber))
  #:use-module ((fibers conditions) #:select (make-condition
                                              signal-condition!
                                              wait))
  #:use-module (ice-9 match)
  #:use-module (srfi srfi-1)
  #:export (map-concurrently
            container-start-problem
            failures-text))

;;; Commentary:
;;;
;;; Restoring the recorded containers when `swineherd' starts, so that one
;;; bad container never costs the others: each container's steps run in a
;;; fiber of their own, concurrently (a survivor's grace period delays no
;;; one else), and what goes wrong with one is caught, reported with its
;;; reason, and kept to that one.
;;;
;;; Code:

(define (map-concurrently proc items)
  "Call PROC on each of ITEMS, each call in a fiber of its own, and return
once all have returned: the list, in the order of ITEMS, of (ok . VALUE)
for a call that returned VALUE and (failed . TEXT) for one that raised an
exception, TEXT saying which."
  (define (run item)
    (let ((done (make-condition))
          (result #f))
      (spawn-fiber
       (lambda ()
         (set! result
           (catch #t
             (lambda () (cons 'ok (proc item)))
             (lambda (key . args)
               (cons 'failed (exception-text key args)))))
         (signal-condition! done)))
      (lambda ()
        (wait done)
        result)))
  (map (lambda (join) (join)) (map run items)))

(define (container-start-problem config c)
  "Return #f if container C, recorded as wanted running, can be started as
far as can be told without starting it, else a text saying why not and what
to do: its script must be an executable file and its data must exist."
  (define id (container-id c))
  (define script (container-script c))
  (define data (container-data-directory config id))
  (cond ((not (false-if-exception (access? script X_OK)))
         (format #f "its script ~a is missing or not executable; put it back \
and `herd start swine:~a', or `herd kill swineherd ~a'" script id id))
        ((not (false-if-exception (eq? 'directory (stat:type (stat data)))))
         (format #f "its data ~a is missing; restore it and `herd start \
swine:~a', or `herd kill swineherd ~a'" data id id))
        (else #f)))

(define (failures-text failures)
  "Return FAILURES, a list of (ID . REASON) pairs, as one line for
`herd status swineherd'."
  (string-join (map (match-lambda
                      ((id . reason) (format #f "~a (~a)" id reason)))
                    failures)
               ", "))

;;; recovery.scm ends here
