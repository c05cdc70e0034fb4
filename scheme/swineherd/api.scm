;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd api)
  #:use-module (shepherd service)
  #:use-module (swineherd api-http)
  #:use-module (swineherd api-routes)
  #:use-module (swineherd api-server)
  #:use-module (swineherd api-backend)
  #:use-module (swineherd api-metrics)
  #:use-module (swineherd events)
  #:use-module ((swineherd oom-watch) #:select (watch-oom-kills))
  #:use-module (swineherd wait)
  #:use-module ((fibers) #:select (spawn-fiber))
  #:use-module (fibers operations)
  #:use-module (json)
  #:use-module (srfi srfi-34)
  #:use-module (swineherd config)
  #:use-module (swineherd utils)
  #:use-module (fibers conditions)
  #:use-module (ice-9 match)
  #:use-module (ice-9 textual-ports)
  #:use-module (srfi srfi-9)
  #:use-module (srfi srfi-111)
  #:export (api-configuration
            api-configuration?
            swineherd-api-service))

;;; Commentary:
;;;
;;; The `swineherd-api' Shepherd service: Swineherd's HTTP/JSON API, for
;;; programs, served from inside Shepherd (no `herd' process per request)
;;; on a Unix socket, mode 0600, and optionally on TCP, where every request
;;; must carry the bearer token read from a file.  Routes are in `(swineherd
;;; api routes)', the listener in `(swineherd api-server)'.
;;;
;;; Code:

(define-record-type <api-configuration>
  (%api-configuration socket-file tcp-address tcp-port token-file
                      max-connections head-bytes max-headers body-bytes
                      read-timeout write-timeout launch-prefix
                      launch-suffixes permitted-command-prefix exec-timeout)
  api-configuration?
  (socket-file api-socket-file)             ;#f: no Unix socket
  (tcp-address api-tcp-address)             ;#f: no TCP
  (tcp-port api-tcp-port)
  (token-file api-token-file)               ;bearer token, for TCP
  (max-connections api-max-connections)
  (head-bytes api-head-bytes)
  (max-headers api-max-headers)
  (body-bytes api-body-bytes)
  (read-timeout api-read-timeout)
  (write-timeout api-write-timeout)
  (launch-prefix api-launch-prefix)
  (launch-suffixes api-launch-suffixes)
  (permitted-command-prefix api-permitted-command-prefix)
  (exec-timeout api-exec-timeout))

(define* (api-configuration #:key
                            (socket-file "/run/swineherd/api.sock")
                            (tcp-address #f)
                            (tcp-port 8080)
                            (token-file #f)
                            (max-connections 256)
                            (head-bytes 16384)
                            (max-headers 64)
                            (body-bytes 65536)
                            (read-timeout 10)
                            (write-timeout 30)
                            (launch-prefix "/gnu/store/")
                            (launch-suffixes '("-run-container" "-run-vm"))
                            (permitted-command-prefix #f)
                            (exec-timeout 60))
  "Return the configuration of the API: it listens on the Unix socket
SOCKET-FILE (mode 0600; #f for none) and, when TCP-ADDRESS is true (a
numeric address such as \"127.0.0.1\"), on TCP-PORT there, where requests
need `Authorization: Bearer TOKEN', TOKEN being the contents of TOKEN-FILE
(required then).  At most MAX-CONNECTIONS are served at once (others get
503); a request's line and headers may take HEAD-BYTES and MAX-HEADERS
lines, its body BODY-BYTES; a client has READ-TIMEOUT seconds to send its
request and WRITE-TIMEOUT to read the reply.  Upstream's launch route runs
only scripts under LAUNCH-PREFIX ending in one of LAUNCH-SUFFIXES, its exec
route only commands under PERMITTED-COMMAND-PREFIX (none if #f); v1's exec
kills a command after EXEC-TIMEOUT seconds unless the request gives a
timeout."
  (%api-configuration socket-file tcp-address tcp-port token-file
                      max-connections head-bytes max-headers body-bytes
                      read-timeout write-timeout launch-prefix
                      launch-suffixes permitted-command-prefix exec-timeout))

(define (read-token file)
  "Return the bearer token in FILE, without surrounding white space, or
raise a clear error."
  (unless file
    (fail "swineherd-api: TCP needs a token-file (a file holding the bearer \
token that clients must send)"))
  (let ((token (string-trim-both
                (catch 'system-error
                  (lambda () (call-with-input-file file get-string-all))
                  (lambda args
                    (fail "swineherd-api: cannot read the token file ~a: ~a"
                          file (strerror (system-error-errno args))))))))
    (when (< (string-length token) 16)
      (fail "swineherd-api: the token in ~a is shorter than 16 characters; \
put a long random one there (e.g. from head -c 32 /dev/urandom | base64)"
            file))
    token))

(define (same-text? a b)
  "Return true if strings A and B are equal, in a time that depends on
their lengths only."
  (and (= (string-length a) (string-length b))
       (let loop ((i 0) (diff 0))
         (if (= i (string-length a))
             (zero? diff)
             (loop (+ i 1)
                   (logior diff (logxor (char->integer (string-ref a i))
                                        (char->integer (string-ref b i)))))))))

(define (authorized? request token)
  "Return true if REQUEST carries `Authorization: Bearer TOKEN'."
  (match (http-request-authorization request)
    (#f #f)
    (value
     (and (string-prefix-ci? "bearer " value)
          (same-text? (string-trim-both (string-drop value 7)) token)))))

(define (stream-events client write-timeout missed)
  "Write MISSED, a list of events, then the events emitted from now on to
CLIENT, one JSON object per line, until CLIENT goes away or falls too far
behind; each batch must be read within WRITE-TIMEOUT seconds."
  (define subscription (subscribe-events missed))
  (define gone (make-condition))
  (define (write-batch thunk)
    (call-with-deadline client write-timeout
                        (lambda () (thunk) (force-output client))))
  ;; One fiber waits for the client to close (or send anything): a wait
  ;; per batch would leave a stale epoll waiter behind each time.
  (spawn-fiber (lambda ()
                 (perform-operation (port-readable-operation client))
                 (signal-condition! gone)))
  (catch #t
    (lambda ()
      ;; A first line tells the client that it is subscribed: what happens
      ;; from then on reaches it.
      (write-batch (lambda ()
                     (write-reply-head client 200
                                       '((content-type
                                          . (application/x-ndjson))))
                     (put-string client "{\"type\":\"subscribed\"}\n")))
      (let loop ()
        (when (eq? 'events
                   (perform-operation
                    (choice-operation
                     (wrap-operation (subscription-wait-operation subscription)
                                     (const 'events))
                     (wrap-operation (wait-operation gone) (const 'gone)))))
          (let ((events (subscription-take! subscription)))
            (write-batch (lambda ()
                           (for-each (lambda (event)
                                       (put-string client
                                                   (scm->json-string event))
                                       (put-string client "\n"))
                                     events)))
            (unless (subscription-overflowed? subscription)
              (loop))))))
    (const #f))
  (unsubscribe-events subscription)
  ;; Wake the waiting fiber, and let it finish before the connection is
  ;; closed (a closed descriptor leaves epoll without a wake-up).
  (false-if-exception (shutdown client 2))
  (perform-operation (wait-operation gone)))

(define (metrics-reply config)
  "Return the reply to GET /metrics: every container of CONFIG, with the
statistics of those running (see `containers-metrics', which yields to
other fibers between chunks of containers)."
  (text-reply 200 (metrics-text (containers-metrics config)) 'text/plain))

(define (events-reply request write-timeout)
  "Return the reply to GET /v1/events: a procedure that streams the events
to the client, first those after the `since' query parameter of REQUEST if
it has one; 400 for a `since' that is not a number, 410 when some of the
events after it are no longer kept."
  (match (assoc-ref (http-request-query request) "since")
    (#f (lambda (client) (stream-events client write-timeout '())))
    (text
     (match (string->number text)
       ((? (lambda (n) (and (exact-integer? n) (>= n 0))) since)
        (match (events-since since)
          (#f (error-reply 410 "gone" (format #f "the events after ~a are no \
longer kept (only the last 1024 are, numbered from 1 again when Shepherd \
restarts): read the containers' state again, then GET /v1/events without \
since" since)))
          (missed (lambda (client)
                    (stream-events client write-timeout missed)))))
       (_ (error-reply 400 "bad parameter" "query parameter `since': give \
the sequence number of the last event received, an integer"))))))

(define (handler settings token write-timeout)
  "Return the request handler of the API with SETTINGS; when TOKEN is
true, requests without it are refused with 401.  GET /v1/events streams,
with WRITE-TIMEOUT seconds for the client to read each batch."
  (lambda (request socket)
    (cond ((and token (not (authorized? request token)))
           (reply 401 '((www-authenticate . ((bearer))))
                  (reply-body (error-reply 401 "unauthorized" "send \
`Authorization: Bearer TOKEN' with the token of the configured token-file"))))
          ((and (eq? 'GET (http-request-method request))
                (equal? '("v1" "events") (http-request-path request)))
           (events-reply request write-timeout))
          ((and (eq? 'GET (http-request-method request))
                (equal? '("metrics") (http-request-path request)))
           (metrics-reply (api-settings-config settings)))
          (else (handle-request settings request socket)))))

(define (listen! api settings limits token stopped)
  "Start serving the listeners that API configures, until STOPPED is
signalled; return the list of what they listen on."
  (append
   (if (api-socket-file api)
       (begin
         (serve (open-unix-listener (api-socket-file api)) limits
                (handler settings #f (api-write-timeout api)) stopped)
         (list (api-socket-file api)))
       '())
   (if (api-tcp-address api)
       (begin
         (serve (open-tcp-listener (api-tcp-address api) (api-tcp-port api))
                limits (handler settings token (api-write-timeout api))
                stopped)
         (list (format #f "~a port ~a (bearer token)" (api-tcp-address api)
                       (api-tcp-port api))))
       '())))

(define (api-start config api stopped)
  "Return the start procedure of `swineherd-api', which puts in the box
STOPPED the condition that stops its listeners.  Its running value says
where it listens.  If a listener cannot be opened, those opened before are
closed again."
  (lambda _
    (let ((settings (api-settings config (api-launch-prefix api)
                                  (api-launch-suffixes api)
                                  (api-permitted-command-prefix api)
                                  (api-exec-timeout api)))
          (limits (server-limits (http-limits (api-head-bytes api)
                                              (api-max-headers api)
                                              (api-body-bytes api))
                                 (api-max-connections api)
                                 (api-read-timeout api)
                                 (api-write-timeout api)))
          (token (and (api-tcp-address api)
                      (read-token (api-token-file api))))
          (condition (make-condition)))
      (catch #t
        (lambda ()
          (let ((where (string-join (listen! api settings limits token
                                             condition)
                                    " and ")))
            (set-box! stopped condition)
            (watch-oom-kills config condition)
            (format #t "swineherd-api: listening on ~a~%" where)
            (string-append "listening on " where)))
        (lambda (key . args)
          (signal-condition! condition)
          (fail "swineherd-api: cannot listen: ~a" (exception-text key args)))))))

(define (api-stop api stopped)
  "Return the stop procedure of `swineherd-api': close its listeners (the
condition in the box STOPPED) and remove its socket file."
  (lambda _
    (when (unbox stopped)
      (signal-condition! (unbox stopped))
      (set-box! stopped #f))
    (when (api-socket-file api)
      (delete-file-if-exists (api-socket-file api)))
    #f))

(define* (swineherd-api-service #:optional
                                (config (swineherd-configuration))
                                (api (api-configuration)))
  "Return the `swineherd-api' service: the HTTP/JSON API of the
containers that `swineherd' (configured with CONFIG) manages, configured
with API (see `api-configuration')."
  (define stopped (box #f))
  (service '(swineherd-api)
    #:documentation "Serve Swineherd's HTTP/JSON API (upstream's /api
routes and /v1) on a Unix socket and optionally TCP."
    #:requirement '(swineherd)
    #:start (api-start config api stopped)
    #:stop (api-stop api stopped)))

;;; api.scm ends here
