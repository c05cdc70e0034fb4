;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd client)
  #:use-module (swineherd wait)
  #:use-module (fibers operations)
  #:use-module ((system vm frame) #:select (frame-lookup-binding binding-ref))
  #:use-module ((system vm program) #:select (program? program-free-variables))
  #:use-module (ice-9 match)
  #:use-module ((rnrs bytevectors) #:select (make-bytevector))
  #:export (current-client-socket
            client-gone-operation))

;;; Commentary:
;;;
;;; Knowing when the herd client of an action has gone away, so that the
;;; work done for it (a command, a scan) stops instead of running on for
;;; nobody (issue #14).
;;;
;;; Shepherd 1.0 does not tell an action which connection it serves: the
;;; socket is a local variable of `process-connection' (shepherd.scm), and
;;; what actions print goes to a string port.  But the action runs in that
;;; connection's fiber, below a closure of `process-connection' that
;;; captures the socket: `current-client-socket' finds it on the stack.  If
;;; a later Shepherd changes that shape, it finds nothing and the work ends
;;; at its time limit instead.
;;;
;;; Code:

(define (socket-port? object)
  "Return true if OBJECT is an open port on a socket."
  (and (port? object)
       (not (port-closed? object))
       (false-if-exception (eq? 'socket (stat:type (stat object))))))

(define (frame-closure-sockets frame)
  "Return the socket ports among the free variables of FRAME's closure."
  (let* ((binding (false-if-exception (frame-lookup-binding frame 'closure)))
         (closure (and binding (false-if-exception (binding-ref binding)))))
    (if (program? closure)
        (filter socket-port?
                (or (false-if-exception (program-free-variables closure)) '()))
        '())))

(define (current-client-socket)
  "Return the socket port of the herd client whose request the current
fiber serves, or #f if it cannot be found (outside an action, or a Shepherd
whose `process-connection' has another shape)."
  (let ((stack (make-stack #t)))
    (let loop ((i (- (stack-length stack) 1)))
      (and (>= i 0)
           (match (frame-closure-sockets (stack-ref stack i))
             ((socket . _) socket)
             (() (loop (- i 1))))))))

(define (peer-closed? socket)
  "Return true if SOCKET's peer has closed the connection (or reset it);
#f if it sent data instead."
  (let ((buffer (make-bytevector 1)))
    (catch 'system-error
      (lambda () (zero? (recv! socket buffer (logior MSG_PEEK MSG_DONTWAIT))))
      (lambda args
        (not (memv (system-error-errno args) (list EAGAIN EWOULDBLOCK)))))))

(define (client-gone-operation socket)
  "Return an operation that succeeds with 'gone when the herd client at the
other end of SOCKET goes away, and with 'data if it sends something
instead (herd never does; wait no more on SOCKET then).  herd sends its
request then only reads: its socket becomes readable at end of file."
  (wrap-operation (port-readable-operation socket)
                  (lambda ()
                    (if (peer-closed? socket) 'gone 'data))))

;;; client.scm ends here
