;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd registry)
  #:use-module (shepherd service)
  #:use-module ((fibers conditions)
                #:select (make-condition signal-condition! wait))
  #:export (call-with-services-in-use
            unregister-container-service))

;;; Commentary:
;;;
;;; Shepherd ends the controller fiber of a service when the service is
;;; unregistered (1.0.3; 1.0.9 too, through `terminate-service-controller').  A fiber that took hold of that service earlier and
;;; sends it a message afterwards waits forever; once it is garbage, its
;;; client's socket is closed and `herd' says "premature end-of-file".
;;; `stop-service' is such a fiber: it walks over every registered service
;;; to find dependents.  So are Swineherd's own walks over its containers
;;; (`list', `stats swineherd').  Fifty concurrent `herd kill' commands
;;; lost a few of their clients this way.
;;;
;;; Hence a readers-writer discipline, cheap because Shepherd runs its
;;; fibers on one thread without preemption: walks over services (readers)
;;; may overlap one another, and an unregistration (the writer) waits until
;;; none is under way and keeps new ones out until the registry has
;;; forgotten the service.  A fiber that must wait suspends on a Fibers
;;; condition that every change of the state signals.  Walks that Shepherd
;;; makes on its own, such as `herd status', are beyond Swineherd's reach.
;;; The report for Shepherd is doc/upstream/shepherd-unregister-race.md.
;;;
;;; Needed with Shepherd 1.0.3 and 1.0.9, the versions tested: both keep the
;;; controller's channel in the service and let a fiber block forever in
;;; `put-message' on the channel of a controller that has ended, and both
;;; `stop-service's walk every registered service (`fold-services', asking
;;; each whether it is running).  Drop it for a Shepherd whose controller
;;; answers, or fails, after unregistration.
;;;
;;; Code:

(define %readers 0)                               ;walks under way
(define %writing? #f)                             ;an unregistration is
(define %changed (make-condition))                ;signalled, then replaced

(define (state-changed!)
  "Wake the fibers waiting for %READERS or %WRITING? to change."
  (let ((changed %changed))
    (set! %changed (make-condition))
    (signal-condition! changed)))

(define (wait-until ready?)
  "Suspend the current fiber until READY? returns true, re-checking it each
time the state changes."
  (let loop ()
    (unless (ready?)
      (wait %changed)
      (loop))))

(define (call-then thunk after)
  "Call THUNK, then AFTER, also when THUNK raises an exception; return the
value of THUNK.  (Not `dynamic-wind': a fiber that suspends in THUNK would
run AFTER at each suspension.)"
  (let ((result (catch #t thunk
                  (lambda (key . args)
                    (after)
                    (apply throw key args)))))
    (after)
    result))

(define (call-with-services-in-use thunk)
  "Call THUNK, which may send messages to any registered service, while no
service is being unregistered; return its value."
  (wait-until (lambda () (not %writing?)))
  (set! %readers (+ %readers 1))
  (call-then thunk (lambda ()
                    (set! %readers (- %readers 1))
                    (state-changed!))))

(define (stop-container-service service)
  "Stop SERVICE, if it is running, as a walk over services."
  (call-with-services-in-use (lambda () (stop-service service))))

(define (unregister-container-service service)
  "Stop SERVICE if needed, then unregister it while no walk over services is
under way.  Return when the registry has forgotten it."
  (stop-container-service service)
  (wait-until (lambda () (and (not %writing?) (zero? %readers))))
  (set! %writing? #t)
  (call-then (lambda ()
               ;; SERVICE is stopped: silence the "not running" notice of
               ;; the `stop-service' in `unregister-services'.  The registry
               ;; handles messages in order: once the lookup answers,
               ;; SERVICE's controller is gone.
               (parameterize ((current-output-port (%make-void-port "w")))
                 (unregister-services (list service)))
               (lookup-service (service-canonical-name service)))
             (lambda ()
               (set! %writing? #f)
               (state-changed!))))

;;; registry.scm ends here
