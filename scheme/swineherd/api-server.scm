;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd api-server)
  #:use-module (swineherd api-http)
  #:use-module (swineherd utils)
  #:use-module (swineherd wait)
  #:use-module ((shepherd comm) #:select (%current-client-socket))
  #:use-module ((fibers) #:select (spawn-fiber))
  #:use-module (fibers conditions)
  #:use-module (fibers operations)
  #:use-module (fibers timers)
  #:use-module (ice-9 match)
  #:use-module (srfi srfi-9)
  #:export (server-limits
            call-with-deadline
            open-unix-listener
            open-tcp-listener
            serve))

;;; Commentary:
;;;
;;; The listener of the API, inside Shepherd's Fibers event loop: a fiber
;;; accepts connections on a non-blocking socket, each connection gets a
;;; fiber that reads one request (within the limits of `(swineherd api
;;; http)' and a deadline), answers it and closes.  A client too slow to
;;; send its request or to read the reply has its socket shut down at the
;;; deadline, which wakes its fiber; past the connection limit, clients
;;; get 503 at once.  Nothing here blocks: every wait goes through the
;;; scheduler's epoll (see `(swineherd wait)').
;;;
;;; Code:

(define-record-type <server-limits>
  (server-limits http connections read-timeout write-timeout)
  server-limits?
  (http          server-limits-http)          ;<http-limits>
  (connections   server-limits-connections)   ;at once
  (read-timeout  server-limits-read-timeout)  ;seconds to send a request
  (write-timeout server-limits-write-timeout)) ;seconds to read a reply

(define (set-non-blocking! port)
  "Make PORT, a socket, non-blocking and close-on-exec."
  (fcntl port F_SETFL (logior O_NONBLOCK (fcntl port F_GETFL)))
  (fcntl port F_SETFD FD_CLOEXEC))

(define (stream-socket family)
  "Return a new non-blocking, close-on-exec stream socket of FAMILY."
  (socket family (logior SOCK_STREAM SOCK_NONBLOCK SOCK_CLOEXEC) 0))

(define (open-unix-listener file)
  "Listen on the Unix socket FILE, mode 0600 from the start (a stale
socket there is replaced; any other file is an error).  Return the socket."
  (mkdir-p (dirname file))
  (match (false-if-exception (lstat file))
    (#f #t)
    ((= stat:type 'socket) (delete-file file))
    (_ (fail "~a exists and is not a socket; move it away or configure \
another socket-file for swineherd-api" file)))
  (let ((sock (stream-socket PF_UNIX))
        (mask (umask #o177)))                ;no suspension until restored
    (catch #t
      (lambda () (bind sock AF_UNIX file))
      (lambda args
        (umask mask)
        (close-port sock)
        (apply throw args)))
    (umask mask)
    (chmod file #o600)
    (listen sock 128)
    sock))

(define (open-tcp-listener address port)
  "Listen on TCP at ADDRESS (a numeric IPv4 or IPv6 address string) and
PORT.  Return the socket."
  (let* ((info (car (getaddrinfo address (number->string port)
                                 (logior AI_NUMERICHOST AI_NUMERICSERV)
                                 AF_UNSPEC SOCK_STREAM)))
         (sock (stream-socket (addrinfo:fam info))))
    (setsockopt sock SOL_SOCKET SO_REUSEADDR 1)
    (catch #t
      (lambda () (bind sock (addrinfo:addr info)))
      (lambda args
        (close-port sock)
        (apply throw args)))
    (listen sock 128)
    sock))

(define (call-with-deadline port seconds thunk)
  "Call THUNK; if it has not returned after SECONDS, shut PORT down, which
makes THUNK's reads see end of file and its writes fail.  Return THUNK's
value."
  (define finished (make-condition))
  (spawn-fiber
   (lambda ()
     (when (perform-operation
            (choice-operation (wrap-operation (wait-operation finished)
                                              (const #f))
                              (wrap-operation (sleep-operation seconds)
                                              (const #t))))
       (false-if-exception (shutdown port 2)))))
  (let ((value (catch #t
                 thunk
                 (lambda (key . args)
                   (signal-condition! finished)
                   (apply throw key args)))))
    (signal-condition! finished)
    value))

(define (handle client request handler)
  "Return HANDLER's reply to REQUEST from CLIENT; an unexpected exception
(a bug) is logged and answered with 500."
  (catch #t
    (lambda () (handler request client))
    (lambda (key . args)
      (log-line "swineherd-api: ~a ~a: ~a" (http-request-method request)
                (string-join (http-request-path request) "/")
                (exception-text key args))
      (error-reply 500 "internal error" (exception-text key args)))))

(define %requests-per-connection
  ;; Requests one kept-alive connection may carry before it is closed.
  100)

(define (answer client limits handler)
  "Read requests from CLIENT within LIMITS and write HANDLER's replies (a
<reply>, or a procedure that writes to CLIENT itself, for streams): one
after the other while the client keeps the connection alive (HTTP/1.1),
each within the read timeout, up to `%requests-per-connection'."
  (let loop ((served 1))
    (let ((request (call-with-deadline
                    client (server-limits-read-timeout limits)
                    (lambda ()
                      (read-http-request client
                                         (server-limits-http limits))))))
      (unless (eq? request 'eof)
        (let ((reply (if (reply? request)
                         request
                         (handle client request handler))))
          (if (reply? reply)
              (let ((again? (and (http-request? request)
                                 (http-request-keep-alive? request)
                                 (< served %requests-per-connection))))
                (call-with-deadline client
                                    (server-limits-write-timeout limits)
                                    (lambda ()
                                      (write-reply client reply
                                                   #:keep-alive? again?)))
                (when again? (loop (+ served 1))))
              (reply client)))))))

(define (serve-connection client limits handler)
  "Serve CLIENT, a connected socket, in the current fiber, then close it.
Errors (a client that went away, a deadline) end the connection only."
  (catch #t
    (lambda () (answer client limits handler))
    (lambda (key . args)
      (unless (eq? key 'system-error)         ;EPIPE, ECONNRESET: the client's
        (log-line "swineherd-api: request failed: ~a"
                  (exception-text key args)))))
  (close-port client))

(define (refuse client)
  "Answer CLIENT 503 at once, without reading its request, and close it."
  (catch #t
    (lambda ()
      (call-with-deadline client 1
                          (lambda ()
                            (write-reply client
                                         (error-reply 503 "busy" "too many \
connections; try again later")))))
    (const #f))
  (close-port client))

(define (accept-ready listener)
  "Return the next connection waiting on LISTENER, made non-blocking, or
#f if there is none."
  (match (catch 'system-error
           (lambda () (accept listener))
           (const #f))
    ((client . _) (set-non-blocking! client) client)
    (_ #f)))

(define (serve listener limits handler stopped)
  "Accept connections on LISTENER in a new fiber until the condition
STOPPED is signalled, then close it.  Each connection is served in a fiber
of its own with LIMITS; HANDLER maps a request and the client's socket to
a reply.  Return immediately."
  (define connections 0)
  (define (stopped-or-ready)
    (perform-operation
     (choice-operation (wrap-operation (wait-operation stopped) (const 'stop))
                       (wrap-operation (port-readable-operation listener)
                                       (const 'ready)))))
  (spawn-fiber
   (lambda ()
     ;; Not the herd client of whoever started the service: what this
     ;; fiber and its children print goes to Shepherd's log.
     (parameterize ((%current-client-socket #f))
       (let loop ()
         (match (stopped-or-ready)
           ('stop (close-port listener))
           ('ready
            (let next ()
              (let ((client (accept-ready listener)))
                (when client
                  (if (>= connections (server-limits-connections limits))
                      (spawn-fiber (lambda () (refuse client)))
                      (begin
                        (set! connections (+ connections 1))
                        (spawn-fiber
                         (lambda ()
                           (serve-connection client limits handler)
                           (set! connections (- connections 1))))))
                  (next))))
            (loop))))))))

;;; server.scm ends here
