;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd api-http)
  #:use-module (web request)
  #:use-module (web response)
  #:use-module (web uri)
  #:use-module (json)
  #:use-module (ice-9 binary-ports)
  #:use-module (ice-9 iconv)
  #:use-module (ice-9 match)
  #:use-module (rnrs bytevectors)
  #:use-module (srfi srfi-1)
  #:use-module (srfi srfi-9)
  #:export (http-limits
            http-limits?
            http-limits-head-bytes
            http-limits-headers
            http-limits-body-bytes

            read-http-request
            http-request?
            http-request-method
            http-request-path
            http-request-query
            http-request-header
            http-request-authorization
            http-request-body
            http-request-keep-alive?

            reply
            reply?
            reply-code
            reply-headers
            reply-body
            json-reply
            text-reply
            error-reply
            write-reply
            write-reply-head))

;;; Commentary:
;;;
;;; HTTP/1.1 for the API, with keep-alive, with limits: the
;;; request line and headers are read up to a number of bytes and lines
;;; before Guile's `(web request)' parses them, the body up to a number of
;;; bytes given by Content-Length.  What is read is pure data; the replies
;;; are records that `write-reply' writes.  Malformed input becomes a
;;; reply with a 4xx code, never an exception.
;;;
;;; Code:

(define-record-type <http-limits>
  (http-limits head-bytes headers body-bytes)
  http-limits?
  (head-bytes http-limits-head-bytes)     ;request line and headers
  (headers    http-limits-headers)        ;header lines
  (body-bytes http-limits-body-bytes))    ;Content-Length

(define-record-type <http-request>
  (make-http-request method path query headers authorization body
                     keep-alive?)
  http-request?
  (method  http-request-method)           ;symbol: GET, POST…
  (path    http-request-path)             ;list of decoded components
  (query   http-request-query)            ;alist of strings
  (headers http-request-headers)          ;as (web request) parses them
  (authorization http-request-authorization) ;raw header value, or #f
  (body    http-request-body)             ;bytevector
  (keep-alive? http-request-keep-alive?)) ;may another request follow?

(define-record-type <reply>
  (reply code headers body)
  reply?
  (code    reply-code)                    ;HTTP status code
  (headers reply-headers)                 ;extra headers, an alist
  (body    reply-body))                   ;bytevector

(define (http-request-header request name)
  "Return the value of header NAME (a symbol) of REQUEST, or #f."
  (assq-ref (http-request-headers request) name))

;;;
;;; Replies.
;;;

(define* (json-reply code value #:optional (headers '()))
  "Return a reply with CODE whose body is VALUE, a guile-json value
(alists for objects, vectors for arrays), as JSON."
  (reply code
         `((content-type . (application/json (charset . "utf-8"))) ,@headers)
         (string->utf8 (string-append (scm->json-string value) "\n"))))

(define* (text-reply code text #:optional (type 'text/plain))
  "Return a reply with CODE whose body is TEXT, of TYPE."
  (reply code `((content-type . (,type (charset . "utf-8"))))
         (string->utf8 text)))

(define (error-reply code error message)
  "Return a reply with CODE and a JSON body {\"error\": ERROR, \"message\":
MESSAGE}, upstream's shape of errors."
  (json-reply code `((error . ,error) (message . ,message))))

(define %reason-phrases
  ;; Those that Guile's `(web response)' does not know.
  '((422 . "Unprocessable Content")
    (431 . "Request Header Fields Too Large")))

(define* (write-reply-head port code headers #:key keep-alive?)
  "Write the status line and HEADERS of a reply with CODE to PORT, with
`Connection: keep-alive' when KEEP-ALIVE?, else `close'."
  (write-response (build-response #:code code
                                  #:reason-phrase
                                  (assv-ref %reason-phrases code)
                                  #:headers `((connection
                                               . (,(if keep-alive?
                                                       'keep-alive
                                                       'close)))
                                              ,@headers))
                  port))

(define* (write-reply port reply #:key keep-alive?)
  "Write REPLY to PORT, then flush it; KEEP-ALIVE? tells the client that
the connection stays open for another request."
  (let ((body (reply-body reply)))
    (write-reply-head port (reply-code reply)
                      `((content-length . ,(bytevector-length body))
                        ,@(reply-headers reply))
                      #:keep-alive? keep-alive?)
    (put-bytevector port body)
    (force-output port)))

;;;
;;; Requests.
;;;

(define (head-end? buffer end)
  "Return true if the bytes of BUFFER before END finish with an empty line
(CRLF CRLF, or LF LF as lenient servers accept)."
  (define (byte-at i) (bytevector-u8-ref buffer (- end i)))
  (or (and (>= end 2) (= 10 (byte-at 1)) (= 10 (byte-at 2)))
      (and (>= end 4) (= 10 (byte-at 1)) (= 13 (byte-at 2))
           (= 10 (byte-at 3)) (= 13 (byte-at 4)))))

(define (read-head port limit)
  "Read the request line and headers from PORT, up to and including the
empty line, reading at most LIMIT bytes.  Return them as a bytevector, or
'eof if PORT closed first (after nothing or part of them), or 'too-large."
  (let ((buffer (make-bytevector limit)))
    (let loop ((end 0))
      (if (= end limit)
          'too-large
          (let ((byte (get-u8 port)))
            (cond ((eof-object? byte) 'eof)
                  (else
                   (bytevector-u8-set! buffer end byte)
                   (if (head-end? buffer (+ end 1))
                       (let ((head (make-bytevector (+ end 1))))
                         (bytevector-copy! buffer 0 head 0 (+ end 1))
                         head)
                       (loop (+ end 1))))))))))

(define (line-count bytes)
  "Return the number of line feeds in BYTES."
  (let loop ((i 0) (count 0))
    (if (= i (bytevector-length bytes))
        count
        (loop (+ i 1) (if (= 10 (bytevector-u8-ref bytes i)) (+ count 1) count)))))

(define (parse-head head)
  "Parse HEAD, the bytes of a request line and headers, with Guile's
`(web request)'; return the request, or #f if it is malformed."
  (catch #t
    (lambda ()
      (let ((request (read-request (open-bytevector-input-port head))))
        ;; Parse every header now: Guile parses some lazily.
        (request-headers request)
        request))
    (const #f)))

(define (query-alist uri)
  "Return the query of URI as an alist of decoded strings."
  (match (uri-query uri)
    (#f '())
    (query
     (filter-map (lambda (pair)
                   (match (string-split pair #\=)
                     ((key) (cons (uri-decode key) ""))
                     ((key . value)
                      (cons (uri-decode key)
                            (uri-decode (string-join value "="))))))
                 (remove string-null? (string-split query #\&))))))

(define (raw-header head name)
  "Return the value of the header NAME in HEAD, the request's bytes, as
sent (Guile parses an Authorization header of a scheme it does not know
into parameters), or #f."
  (let ((prefix (string-append name ":")))
    (any (lambda (line)
           (and (string-prefix-ci? prefix line)
                (string-trim-both (string-drop line (string-length prefix)))))
         (string-split (bytevector->string head "ISO-8859-1") #\newline))))

(define (path-components path)
  "Return the decoded components of PATH, or #f if one of them is `.' or
`..' (Guile's `split-and-decode-uri-path' would resolve them, turning
/v1/containers/ID/snapshots/.. into /v1/containers/ID)."
  (let ((components (map uri-decode
                         (remove string-null? (string-split path #\/)))))
    (and (not (any (lambda (c) (member c '("." ".."))) components))
         components)))

(define (decode-target uri)
  "Return the pair of the decoded path components and query alist of URI,
or #f if its percent-encoding is malformed or its path has `.' or `..'
components."
  (catch #t
    (lambda ()
      (let ((components (path-components (uri-path uri))))
        (and components (cons components (query-alist uri)))))
    (const #f)))

(define (read-body port request limit)
  "Read the body of REQUEST from PORT as its Content-Length says, up to
LIMIT bytes.  Return a bytevector, or a reply refusing the request."
  (let ((length (or (request-content-length request) 0)))
    (cond ((assq 'transfer-encoding (request-headers request))
           (error-reply 411 "length required"
                        "send the body with a Content-Length, not chunked"))
          ((> length limit)
           (error-reply 413 "request too large"
                        (format #f "the body has ~a bytes; at most ~a are \
accepted" length limit)))
          ((zero? length) (make-bytevector 0))
          (else
           (let ((body (get-bytevector-n port length)))
             (if (and (bytevector? body) (= length (bytevector-length body)))
                 body
                 (error-reply 400 "bad request"
                              "the body is shorter than its Content-Length")))))))

(define (keep-alive? request)
  "Return true if the client of REQUEST, a (web request) record, keeps its
connection for another request: HTTP/1.1 unless it says `Connection:
close', HTTP/1.0 only if it says `Connection: keep-alive'."
  (let ((connection (or (assq-ref (request-headers request) 'connection)
                        '())))
    (if (equal? '(1 . 1) (request-version request))
        (not (memq 'close connection))
        (and (memq 'keep-alive connection) #t))))

(define (read-http-request port limits)
  "Read one request from PORT within LIMITS.  Return an <http-request>, a
<reply> refusing it (400, 411, 413, 431), or 'eof if the client sent
nothing complete."
  (match (read-head port (http-limits-head-bytes limits))
    ('eof 'eof)
    ('too-large
     (error-reply 431 "request header fields too large"
                  (format #f "the request line and headers exceed ~a bytes"
                          (http-limits-head-bytes limits))))
    (head
     (let ((request (parse-head head)))
       (cond ((> (- (line-count head) 2) (http-limits-headers limits))
              (error-reply 431 "request header fields too large"
                           (format #f "more than ~a header lines"
                                   (http-limits-headers limits))))
             ((not request)
              (error-reply 400 "bad request"
                           "malformed request line or header"))
             (else
              (let ((body (read-body port request
                                     (http-limits-body-bytes limits)))
                    (target (decode-target (request-uri request))))
                (cond ((reply? body) body)
                      ((not target)
                       (error-reply 400 "bad request"
                                    "malformed percent-encoding in the URI, \
or a `.' or `..' path component"))
                      (else
                       (make-http-request (request-method request)
                                          (car target) (cdr target)
                                          (request-headers request)
                                          (raw-header head "authorization")
                                          body
                                          (keep-alive? request)))))))))))

;;; http.scm ends here
