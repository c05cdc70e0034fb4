;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd api-routes)
  #:use-module (swineherd api-http)
  #:use-module (swineherd api-backend)
  #:use-module (swineherd arguments)
  #:use-module (swineherd exec)
  #:use-module (json)
  #:use-module ((web uri) #:select (string->uri-reference))
  #:use-module (ice-9 iconv)
  #:use-module (ice-9 match)
  #:use-module (rnrs bytevectors)
  #:use-module (srfi srfi-1)
  #:use-module (srfi srfi-9)
  #:use-module (srfi srfi-34)
  #:use-module (srfi srfi-35)
  #:export (api-settings
            api-settings?
            api-settings-config
            handle-request))

;;; Commentary:
;;;
;;; The API's routes: a request (see `(swineherd api-http)') goes in, a
;;; reply comes out.  Two surfaces: upstream Swineherd's `/api/…' routes,
;;; with its JSON shapes and its habit of answering errors with 200 and
;;; {"error", "message"}, and `/v1/…', with proper status codes (400 naming
;;; the field, 404, 409, 422).  Every effect on Shepherd goes through
;;; `(swineherd api-backend)', which performs the same actions as herd.
;;; (Longer than 400 lines: one route per request shape of both surfaces,
;;; each a short procedure; splitting it by surface would part routes that
;;; share their argument checks.)
;;;
;;; Code:

(define-record-type <api-settings>
  (api-settings config launch-prefix launch-suffixes permitted-command-prefix
                exec-timeout)
  api-settings?
  (config api-settings-config)            ;the swineherd configuration
  (launch-prefix api-settings-launch-prefix) ;upstream's /gnu/store
  (launch-suffixes api-settings-launch-suffixes) ;("-run-container" …)
  (permitted-command-prefix               ;upstream's exec; #f: none
   api-settings-permitted-command-prefix)
  (exec-timeout api-settings-exec-timeout)) ;v1 exec's default, seconds

;;;
;;; Errors.
;;;

(define-condition-type &api-error &error
  api-error?
  (code api-error-code)                   ;HTTP status
  (kind api-error-kind)                   ;the "error" field
  (text api-error-text))                  ;the "message" field

(define (api-error code kind fmt . args)
  "Raise an API error with HTTP CODE, KIND (the \"error\" field) and a
message formatted from FMT and ARGS."
  (raise (condition (&api-error (code code) (kind kind)
                                (text (apply format #f fmt args))))))

(define (bad-field name fmt . args)
  "Raise a 400 error about the JSON field NAME."
  (api-error 400 "bad field" "field `~a': ~a" name (apply format #f fmt args)))

(define (json-body request)
  "Return the body of REQUEST parsed as a JSON object (an alist; an empty
body is {}), or raise a 400 error."
  (let ((bytes (http-request-body request)))
    (if (zero? (bytevector-length bytes))
        '()
        (let ((value (catch #t
                       (lambda ()
                         (json-string->scm
                          (bytevector->string bytes "UTF-8" 'error)))
                       (const 'invalid))))
          (match value
            ((? list?) value)
            (_ (api-error 400 "bad JSON"
                          "the body is not a JSON object")))))))

(define (field object name check what)
  "Return field NAME of OBJECT, or #f if it is absent or null; raise a 400
error naming it unless CHECK accepts it (WHAT says what it must be)."
  (match (assoc name object)
    ((or #f (_ . 'null)) #f)
    ((_ . value)
     (if (check value) value (bad-field name "must be ~a" what)))))

(define (required object name check what)
  "Return field NAME of OBJECT, raising a 400 error if it is missing."
  (or (field object name check what)
      (bad-field name "missing; it must be ~a" what)))

(define (string-array? value)
  "Return true if VALUE is a JSON array of strings."
  (and (vector? value) (every string? (vector->list value))))

(define (string-or-number? value)
  "Return true if VALUE is a JSON string or number."
  (or (string? value) (real? value)))

(define (reply/json code value)
  "Return a JSON reply with CODE and VALUE."
  (json-reply code value))

;;;
;;; Upstream's routes.
;;;

(define (upstream-error kind fmt . args)
  "Raise upstream's error KIND, answered with 200 as upstream does."
  (apply api-error 200 kind fmt args))

(define (upstream-payload request mandatory)
  "Return the JSON body of REQUEST, checking that its MANDATORY fields are
there as upstream does (\"missing JSON field\")."
  (let ((object (json-body request)))
    (for-each (lambda (key)
                (unless (assoc key object)
                  (upstream-error "missing JSON field" "~a" key)))
              mandatory)
    object))

(define (upstream-id payload id)
  "Return upstream's container name PREFIX:ID for ID and the prefix of
PAYLOAD, checked."
  (let ((name (match (assoc-ref payload "prefix")
                ((? string? prefix) (string-append prefix ":" id))
                (_ (upstream-error "request error"
                                   "`prefix' must be a string")))))
    (unless (valid-container-id? name)
      (upstream-error "request error" "invalid container name ~s" name))
    name))

(define (known-upstream-container payload id)
  "Return the container name of ID and PAYLOAD, raising upstream's unknown
container error if there is none."
  (let ((name (upstream-id payload id)))
    (unless (container-running? name)
      (upstream-error "request error" "unknown container: `swine:~a'" name))
    name))

(define (succeeds? thunk)
  "Return #t if THUNK returns, #f if it raises an `&action-failure'."
  (guard (c ((action-failure? c) #f))
    (thunk)
    #t))

(define (directory-map-arguments mappings)
  "Return the script arguments of upstream's MAPPINGS, a vector of objects
{source, target, read-only}: --share=SOURCE=TARGET (--expose if read-only)
for those whose source exists, as upstream does."
  (unless (vector? mappings)
    (upstream-error "request error" "`directory-map' must be an array"))
  (filter-map
   (lambda (mapping)
     (match mapping
       ((((? string?) . _) . _)
        (let ((source (assoc-ref mapping "source"))
              (target (assoc-ref mapping "target")))
          (unless (and (string? source) (string? target)
                       (not (string-index source #\=))
                       (not (string-index target #\=)))
            (upstream-error "request error" "each `directory-map' entry \
needs a `source' and a `target', strings without `='"))
          (and (file-exists? source)
               (format #f "--~a=~a=~a"
                       (if (eq? #t (assoc-ref mapping "read-only"))
                           "expose" "share")
                       source target))))
       (_ (upstream-error "request error"
                          "`directory-map' entries must be objects"))))
   (vector->list mappings)))

(define (launchable? settings script)
  "Return true if SCRIPT is one upstream launches: under the launch prefix
and ending in one of the launch suffixes."
  (and (string? script)
       (string-prefix? (api-settings-launch-prefix settings) script)
       (any (lambda (suffix) (string-suffix? suffix script))
            (api-settings-launch-suffixes settings))))

(define (upstream-launch settings request id)
  "Upstream's launch: {\"prefix\", \"script\", \"directory-map\",
\"derivations\"} → {\"success\"}."
  (let* ((payload (upstream-payload request '("prefix" "directory-map"
                                              "script" "derivations")))
         (name (upstream-id payload id))
         (script (assoc-ref payload "script"))
         (arguments (directory-map-arguments
                     (assoc-ref payload "directory-map"))))
    (match (assoc-ref payload "derivations")
      (#() #t)
      ((? vector?)
       (upstream-error "request error" "`derivations' are not built here: \
build them with `guix build' on this host first, then send []"))
      (_ (upstream-error "request error" "`derivations' must be an array")))
    (if (launchable? settings script)
        (reply/json 200 `((success . ,(succeeds?
                                        (lambda ()
                                          (apply perform 'swineherd 'new name
                                                 script arguments))))))
        (reply/json 200
                    `((success . #f)
                      (message . ,(format #f "only scripts under ~a ending \
in ~a are launched" (api-settings-launch-prefix settings)
                                          (string-join
                                           (api-settings-launch-suffixes
                                            settings) " or "))))))))

(define (upstream-command settings request id action)
  "Upstream's exec and fs: {\"prefix\", \"command\", \"arguments\"} →
{\"success\"}; exec only runs commands under the permitted prefix."
  (let* ((payload (upstream-payload request '("prefix" "command" "arguments")))
         (name (known-upstream-container payload id))
         (command (assoc-ref payload "command"))
         (arguments (assoc-ref payload "arguments")))
    (unless (and (string? command) (string-array? arguments))
      (upstream-error "request error" "`command' must be a string and \
`arguments' an array of strings"))
    (when (and (eq? action 'exec)
               (not (and=> (api-settings-permitted-command-prefix settings)
                           (lambda (prefix) (string-prefix? prefix command)))))
      (upstream-error "request error" "command not permitted"))
    (reply/json 200
                `((success . ,(succeeds?
                               (lambda ()
                                 (apply perform
                                        (string->symbol
                                         (string-append "swine:" name))
                                        action command
                                        (vector->list arguments)))))))))

(define (upstream-network request id action)
  "Upstream's connect and disconnect: {\"prefix\"} → {\"success\"}."
  (let* ((payload (upstream-payload request '("prefix")))
         (name (known-upstream-container payload id)))
    (reply/json 200 `((success . ,(succeeds?
                                   (lambda ()
                                     (perform (string->symbol
                                               (string-append "swine:" name))
                                              action))))))))

(define (upstream-destroy request id)
  "Upstream's destroy: {\"prefix\"} → {\"success\": true, \"message\"}."
  (let* ((payload (upstream-payload request '("prefix")))
         (name (known-upstream-container payload id)))
    (unless (succeeds? (lambda () (perform 'swineherd 'kill name)))
      (upstream-error "internal error" "could not destroy container"))
    (reply/json 200 `((success . #t)
                      (message . ,(format #f "destroyed container ~a" id))))))

(define (upstream-pid request id)
  "Upstream's pid: {\"prefix\"} → {\"success\": true, \"pid\"}."
  (let* ((payload (upstream-payload request '("prefix")))
         (name (known-upstream-container payload id))
         (pid (container-pid name)))
    (unless pid
      (upstream-error "internal error"
                      "failed to gather information due to timeout"))
    (reply/json 200 `((success . #t) (pid . ,pid)))))

(define (address->upstream address)
  "Return upstream's {addr, cidr, type} of ADDRESS, \"ADDRESS/PREFIX\"."
  (match (string-split address #\/)
    ((addr . rest)
     `((addr . ,addr)
       (cidr . ,(match rest ((prefix) prefix) (_ #f)))
       (type . ,(if (string-index addr #\:) 6 4))))))

(define (upstream-info request id)
  "Upstream's info: {\"prefix\"} → {\"success\", \"id\", \"container\",
\"ip\", \"received\", \"transmitted\", \"cputime\", \"pid\"}."
  (let* ((payload (upstream-payload request '("prefix")))
         (name (known-upstream-container payload id))
         (pid (container-pid name))
         (stats (guard (c ((action-failure? c) '()))
                  (container-stats name))))
    (unless pid
      (upstream-error "internal error"
                      "failed to gather information due to timeout"))
    (reply/json 200
                `((success . #t)
                  (id . ,id)
                  (container . ,name)
                  (ip . ,(list->vector (map address->upstream
                                            (container-addresses name))))
                  (received . ,(or (assq-ref stats 'net-rx-bytes) 0))
                  (transmitted . ,(or (assq-ref stats 'net-tx-bytes) 0))
                  ;; Upstream's unit: clock ticks, 1/100 s.
                  (cputime . ,(quotient (or (assq-ref stats 'cpu-total-ns) 0)
                                        10000000))
                  (pid . ,pid)))))

(define (upstream-peek request id)
  "Upstream's peek: {\"prefix\", \"file\", \"pattern\"} → {\"success\":
true, \"result\"}, the last matching line or false."
  (let* ((payload (upstream-payload request '("prefix" "file" "pattern")))
         (name (known-upstream-container payload id))
         (file (assoc-ref payload "file"))
         (pattern (assoc-ref payload "pattern")))
    (unless (and (string? file) (string? pattern))
      (upstream-error "request error" "`file' and `pattern' must be strings"))
    (let ((line (guard (c ((action-failure? c) #f))
                  (string-trim-right
                   (perform/text (string->symbol (string-append "swine:" name))
                                 'peek file pattern)
                   #\newline))))
      (reply/json 200 `((success . #t)
                        (result . ,(if (and line (not (string-null? line)))
                                       line
                                       #f)))))))

(define (upstream-route settings request)
  "Answer REQUEST on upstream's routes, or return #f if it is not one."
  (match (cons (http-request-method request) (http-request-path request))
    (('POST "api" "container" id "launch") (upstream-launch settings request id))
    (('POST "api" "container" id "exec")
     (upstream-command settings request id 'exec))
    (('POST "api" "container" id "fs") (upstream-command settings request id 'fs))
    (('PUT "api" "container" id "connect") (upstream-network request id 'up))
    (('PUT "api" "container" id "disconnect") (upstream-network request id 'down))
    (('DELETE "api" "container" id "destroy") (upstream-destroy request id))
    (('GET "api" "containers")
     (reply/json 200 `((containers . ,(list->vector
                                       (map car (container-list)))))))
    (('GET "api" "container" id "pid") (upstream-pid request id))
    (('GET "api" "container" id "info") (upstream-info request id))
    (('GET "api" "container" id "peek") (upstream-peek request id))
    (_ #f)))

;;;
;;; v1.
;;;

(define (existing id)
  "Return ID if container ID exists, else raise a 404 error (400 if ID is
not a valid container ID)."
  (unless (valid-container-id? id)
    (api-error 400 "bad container ID" "invalid container ID ~s: use 1 to 64 \
ASCII letters, digits, `_', `.', `:' or `-', starting with a letter or a digit"
               id))
  (unless (container-running? id)
    (api-error 404 "not found" "no container with ID ~a" id))
  id)

(define (service-of id)
  "Return the name of the service of container ID."
  (string->symbol (string-append "swine:" id)))

(define (container-object id)
  "Return the v1 JSON object of container ID."
  (let ((state (container-running? id)))
    `((id . ,id)
      (status . ,(symbol->string state))
      (running . ,(eq? state 'running))
      (pid . ,(or (container-pid id) 'null))
      (addresses . ,(list->vector (container-addresses id))))))

(define %option-fields
  ;; JSON fields of POST /v1/containers that are options of `new', with
  ;; what their values must be.
  `(("disk-limit" ,string-or-number? "a size such as \"512M\"")
    ("from" ,string? "a string: ID, ID@SNAPSHOT or a directory")
    ("network" ,string? "\"bridge\" or \"none\"")
    ("ip" ,string? "an IPv4 address string")
    ("memory" ,string-or-number? "a size such as \"64M\"")
    ("swap" ,string-or-number? "a size such as \"512M\"")
    ("cpus" ,string-or-number? "a number of CPUs such as 0.5")
    ("cpu-weight" ,string-or-number? "a number from 1 to 10000")
    ("pids" ,string-or-number? "a number of processes")
    ("io-weight" ,string-or-number? "a number from 1 to 10000")
    ("publish" ,string-array? "an array of \"HOST-PORT:CONTAINER-PORT\"")
    ("isolated" ,boolean? "a boolean")
    ("respawn" ,boolean? "a boolean")))

(define (option-word name value)
  "Return the words of `new' for the option field NAME with VALUE."
  (match (cons name value)
    (("respawn" . #t) '("--respawn"))
    (("respawn" . #f) '())
    (("isolated" . #t) '("--isolated"))
    (("isolated" . #f) '("--isolated=no"))
    ((_ . (? vector?))
     (map (lambda (item) (string-append "--" name "=" item))
          (vector->list value)))
    (_ (list (format #f "--~a=~a" name value)))))

(define (option-words object)
  "Return the words of `new' options given by the fields of OBJECT."
  (append-map (match-lambda
                ((name check what)
                 (match (assoc name object)
                   ((or #f (_ . 'null)) '())
                   ((_ . value)
                    (unless (check value)
                      (bad-field name "must be ~a" what))
                    (option-word name value)))))
              %option-fields))

(define %create-fields
  (append '("id" "script" "arguments") (map car %option-fields)))

(define (new-failure-code message)
  "Return the status code for MESSAGE, the error of a `new' that passed
the checks of `parse-new-arguments': 409 for what is taken, 500 for a
container that did not start, 422 for the rest."
  (cond ((string-contains message "already") 409)
        ((string-contains message "failed to start") 500)
        (else 422)))

(define (create-container request)
  "POST /v1/containers: create and start a container → 201."
  (let* ((object (json-body request))
         (id (required object "id" string? "a string"))
         (script (required object "script" string? "an absolute file name"))
         (arguments (or (field object "arguments" string-array?
                               "an array of strings")
                        #()))
         (words `(,id ,@(option-words object) ,script
                      ,@(vector->list arguments))))
    (for-each (match-lambda
                ((name . _)
                 (unless (member name %create-fields)
                   (bad-field name "unknown; known fields: ~a"
                              (string-join %create-fields ", ")))))
              object)
    (catch 'misc-error
      (lambda () (parse-new-arguments words) (check-script script))
      (lambda (key who fmt args . _)
        (api-error 422 "invalid value" "~a" (apply format #f fmt args))))
    (when (container-running? id)
      (api-error 409 "conflict" "container ~a already exists" id))
    (guard (c ((action-failure? c)
               (let ((message (action-failure-message c)))
                 (api-error (new-failure-code message) "not created" "~a"
                            message))))
      (apply perform 'swineherd 'new words))
    (json-reply 201 (container-object id)
                `((location . ,(string->uri-reference
                                (string-append "/v1/containers/" id)))))))

(define-syntax-rule (with-conflict kind body ...)
  "Evaluate BODY, turning an action's failure into a 409 error of KIND."
  (guard (c ((action-failure? c)
             (api-error 409 kind "~a" (action-failure-message c))))
    body ...))

(define (change-state id verb)
  "POST /v1/containers/ID/VERB, VERB one of start, stop, restart, up,
down: do it, then return the container."
  (with-conflict (string-append verb " failed")
    (match verb
      ("start" (start-container id))
      ("stop" (stop-container id))
      (_ (perform (service-of id) (string->symbol verb)))))
  (reply/json 200 (container-object id)))

(define (exec-status status)
  "Return the exit code of wait STATUS, 128 + the signal if killed."
  (or (status:exit-val status)
      (and=> (status:term-sig status) (lambda (signal) (+ 128 signal)))
      status))

(define (decode bytes)
  "Decode BYTES as UTF-8, replacing invalid sequences."
  (bytevector->string bytes "UTF-8" 'substitute))

(define (exec-in settings request id socket)
  "POST /v1/containers/ID/exec {\"command\": [...], \"timeout\": SECONDS}
→ {\"status\", \"stdout\", \"stderr\", \"timed_out\"}."
  (let* ((object (json-body request))
         (command (required object "command"
                            (lambda (v) (and (string-array? v)
                                             (> (vector-length v) 0)))
                            "a non-empty array of strings"))
         (timeout (or (field object "timeout"
                             (lambda (v) (and (real? v) (< 0 v)
                                              (<= v %max-timeout)))
                             (format #f "a number of seconds up to ~a"
                                     %max-timeout))
                      (api-settings-exec-timeout settings))))
    (unless (eq? 'running (container-running? id))
      (api-error 409 "not running" "container ~a is not running; POST \
/v1/containers/~a/start first" id id))
    (call-with-values
        (lambda ()
          (guard (c ((action-failure? c)
                     (api-error 422 "exec failed" "~a"
                                (action-failure-message c))))
            (run-in-container (api-settings-config settings) id
                              (vector->list command) timeout socket)))
      (lambda (status stdout stderr timed-out?)
        (reply/json 200 `((status . ,(exec-status status))
                          (stdout . ,(decode stdout))
                          (stderr . ,(decode stderr))
                          (timed_out . ,timed-out?)))))))

(define (stats->json stats)
  "Return STATS, an alist from `stats sexp', as the object of `stats json':
underscores in keys, #f as null (but `running')."
  (map (match-lambda
         (('running . value) (cons 'running value))
         ((key . value)
          (cons (string->symbol
                 (string-map (lambda (c) (if (char=? c #\-) #\_ c))
                             (symbol->string key)))
                (or value 'null))))
       stats))

(define (snapshot-name object)
  "Return the checked `name' field of OBJECT."
  (let ((name (required object "name" string? "a string")))
    (unless (valid-container-id? name)
      (bad-field "name" "invalid snapshot name ~s: use 1 to 64 ASCII \
letters, digits, `_', `.', `:' or `-', starting with a letter or a digit"
                 name))
    name))

(define (snapshot-list id)
  "Return the snapshot names of container ID."
  (remove string-null?
          (string-split (perform/text (service-of id) 'snapshots) #\newline)))

(define (snapshots-route request id rest)
  "The routes under /v1/containers/ID/snapshots."
  (match (cons (http-request-method request) rest)
    (('GET)
     (reply/json 200 `((snapshots . ,(list->vector (snapshot-list id))))))
    (('POST)
     (let ((name (snapshot-name (json-body request))))
       (when (member name (snapshot-list id))
         (api-error 409 "conflict" "container ~a has a snapshot ~a already"
                    id name))
       (with-conflict "snapshot failed"
         (perform (service-of id) 'snapshot name))
       (reply/json 201 `((id . ,id) (name . ,name)))))
    (('DELETE name)
     (unless (member name (snapshot-list id))
       (api-error 404 "not found" "container ~a has no snapshot ~s" id name))
     (with-conflict "delete failed"
       (perform (service-of id) 'delete-snapshot name))
     (reply/json 200 `((id . ,id) (name . ,name) (deleted . #t))))
    (_ (method-not-allowed))))

(define %max-log-lines 10000)

(define (log-lines request)
  "Return the checked `lines' query parameter of REQUEST (default 100)."
  (match (assoc-ref (http-request-query request) "lines")
    (#f 100)
    (text
     (let ((n (string->number text)))
       (unless (and (exact-integer? n) (<= 1 n %max-log-lines))
         (api-error 400 "bad parameter" "query parameter `lines': give an \
integer from 1 to ~a" %max-log-lines))
       n))))

(define (method-not-allowed)
  "Raise a 405 error."
  (api-error 405 "method not allowed" "this resource has no such method"))

(define (container-route settings request id rest socket)
  "The routes under /v1/containers/ID."
  (existing id)
  (match (cons (http-request-method request) rest)
    (('GET) (reply/json 200 (container-object id)))
    (('DELETE)
     (with-conflict "kill failed" (perform 'swineherd 'kill id))
     (reply/json 200 `((id . ,id) (deleted . #t))))
    (('POST (and verb (or "start" "stop" "restart" "up" "down")))
     (change-state id verb))
    (('POST "exec") (exec-in settings request id socket))
    (('GET "stats")
     (reply/json 200 (stats->json (container-stats id))))
    (('GET "logs")
     (reply/json 200 `((id . ,id)
                       (lines . ,(list->vector
                                  (container-log-tail
                                   (api-settings-config settings) id
                                   (log-lines request)))))))
    ((_ "snapshots" . more) (snapshots-route request id more))
    ((_ (or "start" "stop" "restart" "up" "down" "exec" "stats" "logs"))
     (method-not-allowed))
    ((_) (method-not-allowed))
    (_ (api-error 404 "not found" "no such resource"))))

(define (v1-route settings request socket)
  "Answer REQUEST on the v1 routes, or return #f if it is not one."
  (match (http-request-path request)
    (("v1" "containers")
     (match (http-request-method request)
       ('GET
        (reply/json 200 `((containers
                           . ,(list->vector
                               (map (match-lambda
                                      ((id . running?)
                                       `((id . ,id)
                                         (status . ,(if running? "running"
                                                        "stopped"))
                                         (running . ,running?))))
                                    (container-list)))))))
       ('POST (create-container request))
       (_ (method-not-allowed))))
    (("v1" "containers" id . rest)
     (container-route settings request id rest socket))
    (_ #f)))

;;;
;;; Entry point.
;;;

(define (handle-request settings request socket)
  "Return the reply to REQUEST, an <http-request>, with SETTINGS; SOCKET
is the client's connection (a command run for it is killed if it goes
away).  Never raises for bad input: errors become replies."
  (define upstream?
    (match (http-request-path request) (("api" . _) #t) (_ #f)))
  (guard (c ((api-error? c)
             (error-reply (api-error-code c) (api-error-kind c)
                          (api-error-text c)))
            ((action-failure? c)
             (if upstream?
                 (error-reply 200 "internal error" (action-failure-message c))
                 (error-reply 500 "internal error"
                              (action-failure-message c)))))
    (or (upstream-route settings request)
        (v1-route settings request socket)
        (if upstream?
            (text-reply 404 (string-append "Resource not found: /"
                                           (string-join
                                            (http-request-path request) "/")))
            (error-reply 404 "not found" "no such resource; see \
doc/api/openapi.json")))))

;;; routes.scm ends here
