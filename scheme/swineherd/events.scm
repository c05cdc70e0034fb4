;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd events)
  #:use-module (fibers conditions)
  #:use-module (ice-9 match)
  #:use-module (srfi srfi-9)
  #:export (emit-event
            subscribe-events
            events-since
            unsubscribe-events
            subscription-wait-operation
            subscription-take!
            subscription-overflowed?))

;;; Commentary:
;;;
;;; What happens to containers, as it happens: the container code calls
;;; `emit-event' (one line at each point: created, started, stopped, died,
;;; respawned, killed, snapshot, up, down, health) and each subscriber (an API client
;;; on GET /v1/events) gets the event in its queue.  Emitting never blocks
;;; nor fails: a subscriber that falls more than `%queue-limit' events behind
;;; is marked overflowed and dropped.  Each event has a sequence number, one
;;; more than the one before, and the last `%kept-events' are kept, so that
;;; a client that lost its connection can have those it missed
;;; (`events-since').  Shepherd runs its fibers on one thread without
;;; preemption, so the queues need no locks.
;;;
;;; Code:

(define-record-type <subscription>
  (make-subscription events count condition overflowed?)
  subscription?
  (events subscription-events set-subscription-events!) ;newest first
  (count subscription-count set-subscription-count!)
  (condition subscription-condition set-subscription-condition!)
  (overflowed? subscription-overflowed? set-subscription-overflowed!))

(define %queue-limit
  ;; Events a subscriber may have waiting before it is dropped.
  10000)

(define %subscriptions '())

(define %sequence
  ;; Number of the last event emitted.
  0)

(define %kept-events
  ;; Events kept for clients that come back (see `events-since').
  1024)

(define %kept
  ;; The last `%kept-events' events, event number N at N modulo the size.
  (make-vector %kept-events #f))

(define (events-since sequence)
  "Return the events emitted after number SEQUENCE, oldest first, or #f if
some of them are no longer kept, or if SEQUENCE is beyond the last event
(a number from before Shepherd restarted)."
  (and (<= (- %sequence %kept-events) sequence %sequence)
       (map (lambda (n) (vector-ref %kept (modulo n %kept-events)))
            (iota (- %sequence sequence) (+ sequence 1)))))

(define* (subscribe-events #:optional (missed '()))
  "Return a new subscription to the events emitted from now on, with
MISSED, a list of events oldest first (see `events-since'), waiting in its
queue already."
  (let ((subscription (make-subscription (reverse missed) (length missed)
                                         (make-condition) #f)))
    (unless (null? missed)
      (signal-condition! (subscription-condition subscription)))
    (set! %subscriptions (cons subscription %subscriptions))
    subscription))

(define (unsubscribe-events subscription)
  "Stop queueing events for SUBSCRIPTION."
  (set! %subscriptions (delq subscription %subscriptions)))

(define (subscription-wait-operation subscription)
  "Return an operation that succeeds once SUBSCRIPTION has events waiting
(at once if it has some already)."
  (wait-operation (subscription-condition subscription)))

(define (subscription-take! subscription)
  "Return the events waiting for SUBSCRIPTION, oldest first, and empty its
queue."
  (let ((events (reverse (subscription-events subscription))))
    (set-subscription-events! subscription '())
    (set-subscription-count! subscription 0)
    (set-subscription-condition! subscription (make-condition))
    events))

(define (queue! subscription event)
  "Add EVENT to the queue of SUBSCRIPTION, or drop SUBSCRIPTION if it is
full."
  (if (>= (subscription-count subscription) %queue-limit)
      (begin
        (set-subscription-overflowed! subscription #t)
        (unsubscribe-events subscription)
        (signal-condition! (subscription-condition subscription)))
      (begin
        (set-subscription-events! subscription
                                  (cons event
                                        (subscription-events subscription)))
        (set-subscription-count! subscription
                                 (+ 1 (subscription-count subscription)))
        (signal-condition! (subscription-condition subscription)))))

(define* (emit-event type id #:optional (details '()))
  "Tell the subscribers that event TYPE (a symbol such as `started')
happened to container ID, with DETAILS, an alist of JSON-ready values.
Never blocks, never raises."
  (set! %sequence (+ 1 %sequence))
  (false-if-exception
   (let ((event `((sequence . ,%sequence)
                  (type . ,(symbol->string type))
                  (id . ,id)
                  (time . ,(/ (exact->inexact
                               (let ((now (gettimeofday)))
                                 (+ (* 1000000 (car now)) (cdr now))))
                              1e6))
                  ,@details)))
     (vector-set! %kept (modulo %sequence %kept-events) event)
     (for-each (lambda (subscription) (queue! subscription event))
               %subscriptions))))

;;; events.scm ends here
