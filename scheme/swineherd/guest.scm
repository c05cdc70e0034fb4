;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd guest)
  #:use-module (swineherd ffi)
  #:use-module (swineherd utils)
  #:use-module ((swineherd exec) #:select (read-available!))
  #:use-module ((fibers) #:select ((sleep . fiber-sleep)))
  #:use-module (ice-9 binary-ports)
  #:use-module (ice-9 control)
  #:use-module (ice-9 match)
  #:use-module (ice-9 suspendable-ports)
  #:use-module (rnrs bytevectors)
  #:use-module (srfi srfi-1)
  #:export (%guest-socket
            %guest-reply-limit
            guest-services
            sexp-depth
            reply->services
            services-not-ready
            wait-until-guest-ready
            container-ready?
            not-ready-text
            action:guest))

;;; Commentary:
;;;
;;; The Shepherd inside a container, asked from the host: which services
;;; run there.  Every Guix System container runs Shepherd as its PID 1;
;;; its socket is reached from the host through the container's root,
;;; resolved by the library as if chrooted there (a symlink planted at its
;;; place never leads to a host socket, /proc magic links are refused), and
;;; the conversation is bounded in time (a deadline for the whole request,
;;; waited for with Fibers: Shepherd is never blocked) and in size (the
;;; reply, and how deeply it nests, before Guile's reader sees it).  See the
;;; node "Guest Readiness" of the manual.
;;;
;;; Code:

(define %guest-socket
  ;; Where a Guix System's Shepherd listens (its `%system-socket-file').
  "/var/run/shepherd/socket")

(define %guest-reply-limit
  ;; The largest reply read from a guest Shepherd: the status of a few
  ;; hundred services with their recent messages.
  (* 2 1024 1024))

(define %max-depth
  ;; How deeply a reply may nest: a service's status nests 5 deep.
  64)

(define %request-timeout
  ;; Seconds one request may take, at most.
  5)

(define (sexp-depth text)
  "Return how deeply the parentheses of TEXT, an S-expression's text, nest,
outside strings and character literals."
  (let loop ((i 0) (depth 0) (deepest 0) (state 'code))
    (if (>= i (string-length text))
        deepest
        (let ((c (string-ref text i)))
          (match state
            ('string (match c
                       (#\\ (loop (+ i 2) depth deepest 'string))
                       (#\" (loop (+ i 1) depth deepest 'code))
                       (_ (loop (+ i 1) depth deepest 'string))))
            ('code
             (cond ((char=? c #\") (loop (+ i 1) depth deepest 'string))
                   ((and (char=? c #\#) (< (+ i 1) (string-length text))
                         (char=? (string-ref text (+ i 1)) #\\))
                    (loop (+ i 3) depth deepest 'code))
                   ((memv c '(#\( #\[))
                    (loop (+ i 1) (+ depth 1) (max deepest (+ depth 1)) 'code))
                   ((memv c '(#\) #\]))
                    (loop (+ i 1) (- depth 1) deepest 'code))
                   (else (loop (+ i 1) depth deepest 'code)))))))))

(define (text->sexp text)
  "Read TEXT, a guest Shepherd's reply, as one S-expression, or raise a
clear error: it may be hostile (bad syntax, `#.' read-eval, deep nesting)."
  (when (> (sexp-depth text) %max-depth)
    (fail "the guest Shepherd's reply nests more than ~a deep; refused"
          %max-depth))
  (catch #t
    (lambda ()
      (call-with-input-string text
        (lambda (port)
          ;; Guile's reader refuses `#.' (read-eval? is off by default).
          (read port))))
    (lambda (key . args)
      (fail "the guest Shepherd's reply is unreadable: ~a"
            (exception-text key args)))))

(define (read-reply port deadline)
  "Read what PORT, a non-blocking socket, sends until it closes, before
DEADLINE (internal real time) and up to %GUEST-REPLY-LIMIT bytes; return it
as a string.  Only the calling fiber waits: it looks again after 2 ms, then
a quarter longer each time, up to every 50 ms.  (Waiting on the port
through Fibers' epoll would wake it sooner; polling keeps this simple, and
costs a dozen wakeups per request.)"
  (define buffer (make-bytevector 65536))
  (let loop ((chunks '()) (size 0) (pause 0.002))
    (match (read-available! port buffer)
      ((? eof-object?)
       (utf8->string (bytevector-concatenate (reverse chunks))))
      (#f
       (when (> (get-internal-real-time) deadline)
         (fail "the guest Shepherd did not answer in time"))
       (fiber-sleep pause)
       (loop chunks size (min 0.05 (* 1.25 pause))))
      (count
       (when (> (+ size count) %guest-reply-limit)
         (fail "the guest Shepherd's reply exceeds ~a KiB; refused"
               (quotient %guest-reply-limit 1024)))
       (let ((chunk (make-bytevector count)))
         (bytevector-copy! buffer 0 chunk 0 count)
         (loop (cons chunk chunks) (+ size count) pause))))))

(define (bytevector-concatenate bvs)
  "Return the concatenation of the bytevectors BVS."
  (let ((out (make-bytevector (fold + 0 (map bytevector-length bvs)))))
    (fold (lambda (bv offset)
            (bytevector-copy! bv 0 out offset (bytevector-length bv))
            (+ offset (bytevector-length bv)))
          0 bvs)
    out))

(define (send-command port action service)
  "Write to PORT, a fresh non-blocking socket, the command ACTION on SERVICE
in Shepherd's protocol (version 0).  The command is small: it fits in the
socket's empty buffer, and if it does not the request fails."
  (parameterize ((current-write-waiter
                  (lambda (port)
                    (fail "the guest Shepherd's socket is not accepting \
the request"))))
    (write `(shepherd-command (version 0) (action ,action) (service ,service)
                              (arguments ()) (directory "/"))
           port)
    (force-output port)))

(define* (guest-request init-pid action service
                        #:key (timeout %request-timeout))
  "Send ACTION on SERVICE to the Shepherd of the container whose init has
host PID INIT-PID and return its reply, an S-expression.  Throw a
`system-error' if its socket cannot be reached; raise a clear error when it
does not answer within TIMEOUT seconds, or answers too much or nonsense."
  (define deadline (+ (get-internal-real-time)
                      (* timeout internal-time-units-per-second)))
  (let ((port (fdopen (connect-in-container init-pid %guest-socket) "r+")))
    (setvbuf port 'block 65536)
    ;; Not dynamic-wind: suspending the fiber would run its exit thunk.
    (let ((text (catch #t
                  (lambda ()
                    (send-command port action service)
                    (read-reply port deadline))
                  (lambda (key . args)
                    (close-port port)
                    (apply throw key args)))))
      (close-port port)
      (text->sexp text))))

;;; A guest service, as this module sees it: (NAME STATUS ENABLED? ONE-SHOT?
;;; TRANSIENT?), NAME a symbol, STATUS one of Shepherd's (running,
;;; stopped, starting, stopping).

(define (service-sexp->service sexp)
  "Return the guest service described by SEXP, a `service' form of
Shepherd's protocol, or #f if it is not one."
  (match sexp
    (('service ('version 0 _ ...) fields ...)
     (let ((field (lambda (name default)
                    (match (assq name fields)
                      ((_ value) value)
                      (_ default)))))
       (match (field 'provides #f)
         (((? symbol? name) _ ...)
          (list name
                (match (field 'status #f)
                  ((? symbol? status) status)
                  ;; Shepherd 0.9 and older: no status, a running value.
                  (#f (if (field 'running #f) 'running 'stopped))
                  (_ 'unknown))
                (eq? #t (field 'enabled? #t))
                (eq? #t (field 'one-shot? #f))
                (eq? #t (field 'transient? #f))))
         (_ #f))))
    (_ #f)))

(define (reply->services reply)
  "Return the guest services listed in REPLY, a guest Shepherd's reply to
`status' on `root', sorted by name, or raise a clear error for a reply that
is not one (an error reply says the guest's own words)."
  (match reply
    (('reply ('version 0 _ ...) ('result result) ('error #f) _ ...)
     (let ((forms (match result
                    ((((? pair? forms) ...)) forms)
                    (((? pair? forms) ...) forms)
                    (_ '()))))
       (sort (filter-map service-sexp->service forms)
             (lambda (a b)
               (string<? (symbol->string (first a))
                         (symbol->string (first b)))))))
    (('reply ('version 0 _ ...) _ ('error error) _ ...)
     (fail "the guest Shepherd answered with an error: ~s" error))
    (_
     (fail "the guest Shepherd's answer is not a reply of protocol \
version 0"))))

(define* (guest-services init-pid #:key (timeout %request-timeout))
  "Return the services of the Shepherd of the container whose init has host
PID INIT-PID (see `reply->services'), asking it for at most TIMEOUT seconds."
  (reply->services (guest-request init-pid 'status 'root #:timeout timeout)))


;;;
;;; Readiness.
;;;

(define (services-not-ready services wanted)
  "Return the guest SERVICES wanted and not running, as (NAME . STATUS)
pairs, STATUS `undefined' for a name the guest does not know.  WANTED is #t
(every enabled service that is neither one-shot nor transient) or a list of
names."
  (match wanted
    (#t
     (filter-map (match-lambda
                   ((name status enabled? one-shot? transient?)
                    (and enabled? (not one-shot?) (not transient?)
                         (not (eq? status 'running))
                         (cons name status))))
                 services))
    ((names ...)
     (filter-map (lambda (name)
                   (match (assq (string->symbol name) services)
                     ((_ 'running _ ...) #f)
                     ((_ status _ ...) (cons (string->symbol name) status))
                     (#f (cons (string->symbol name) 'undefined))))
                 names))))

(define (describe-not-ready pending)
  "Return the text that names the PENDING guest services and their status."
  (string-join (map (match-lambda
                      ((name . status) (format #f "~a (~a)" name status)))
                    pending)
               ", "))

(define (probe init-pid wanted deadline)
  "Ask the guest Shepherd of INIT-PID once, before DEADLINE at the latest.
Return (ready), (pending . PAIRS) or (unreachable . TEXT).  A socket that
resolves to a refused place (ELOOP: a magic link) is an error at once."
  (define timeout
    (min %request-timeout
         (max 0.01 (/ (- deadline (get-internal-real-time))
                      internal-time-units-per-second))))
  (catch 'system-error
    (lambda ()
      ;; A request cut short by its time limit (a `misc-error' from the
      ;; reader) is one more unanswered probe, not the end of the wait.
      (match (catch 'misc-error
               (lambda ()
                 (services-not-ready (guest-services init-pid
                                                     #:timeout timeout)
                                     wanted))
               (lambda (key . args)
                 (cons 'unreachable (exception-text key args))))
        (() '(ready))
        (('unreachable . text) (cons 'unreachable text))
        (pending (cons 'pending pending))))
    (lambda (key . args)
      (when (memv (system-error-errno (cons key args)) (list ELOOP ENOTSOCK))
        (fail "the guest Shepherd's socket ~a: ~a; refused" %guest-socket
              (exception-text key args)))
      (cons 'unreachable (exception-text key args)))))

(define (wait-until-guest-ready init-pid wanted deadline)
  "Wait, suspending only this fiber, until the guest services WANTED (see
`services-not-ready') of the container whose init has host PID INIT-PID
run, asking its Shepherd every 20 ms at first, then a quarter longer each
time up to every 250 ms.  Return #t, or raise a clear error naming what
did not run at DEADLINE (internal real time), or why the guest Shepherd
could not be asked."
  (let loop ((pause 0.02) (pending #f))
    (match (probe init-pid wanted deadline)
      (('ready) #t)
      (outcome
       (if (< (get-internal-real-time) deadline)
           (begin
             (fiber-sleep pause)
             (loop (min 0.25 (* 1.25 pause))
                   (match outcome (('pending . _) outcome) (_ pending))))
           ;; What the guest said last counts more than a last request cut
           ;; short by the deadline.
           (match (match outcome
                    (('pending . _) outcome)
                    (_ (or pending outcome)))
             (('pending . pending)
              (fail "guest services not running in time: ~a"
                    (describe-not-ready pending)))
             (('unreachable . text)
              (fail "the guest Shepherd could not be asked in time: ~a"
                    text))))))))


(define %not-ready
  ;; Container ID -> why its last start was not ready, for `new''s error
  ;; (Shepherd 1.0.9 does not pass on what a start procedure prints).
  (make-hash-table))

(define (not-ready-text id)
  "Return \": WHY\" if the last start of container ID failed for want of
readiness, else \"\"; forget it."
  (let ((why (hash-ref %not-ready id)))
    (hash-remove! %not-ready id)
    (if why (string-append ": not ready: " why) "")))

(define (container-ready? id init-pid options start-timeout begun)
  "Return #t once the guest services that OPTIONS (of `new') name with
--ready run in container ID, whose init has host PID INIT-PID, or at once
without --ready; wait at most --ready-timeout seconds (else START-TIMEOUT)
from BEGUN (internal real time).  Print why and return #f when they do not
run in time."
  (match (assq-ref options 'ready)
    (#f #t)
    (wanted
     (let* ((seconds (or (assq-ref options 'ready-timeout) start-timeout))
            (deadline (+ begun (* seconds internal-time-units-per-second))))
       (catch #t
         (lambda ()
           (wait-until-guest-ready init-pid wanted deadline)
           (log-line "swineherd: container ~a ready after ~,2f ms" id
                     (milliseconds-since begun))
           #t)
         (lambda (key . args)
           (let ((why (exception-text key args)))
             (hash-set! %not-ready id why)
             (format #t "container ~a: not ready: ~a~%" id why))
           #f))))))


;;;
;;; The `guest' action.
;;;

(define (action:guest init-pid)
  "Return the `guest' action of a container: print its guest Shepherd's
services and their status.  INIT-PID maps the service's running value to
the host PID of the container's init (raising an error when it does not
run)."
  (lambda (running . args)
    (unless (null? args)
      (fail "guest: no argument expected; usage: herd guest swine:ID"))
    (let ((services (catch 'system-error
                      (lambda () (guest-services (init-pid running)))
                      (lambda (key . args)
                        (fail "guest: cannot reach the guest Shepherd at ~a: ~a"
                              %guest-socket (exception-text key args))))))
      (for-each (match-lambda
                  ((name status enabled? one-shot? transient?)
                   (format #t "~a ~a~a~a~%"
                           (escape-control-characters (symbol->string name))
                           status
                           (if enabled? "" " disabled")
                           (if one-shot? " one-shot" ""))))
                services)
      #t)))

;;; guest.scm ends here
