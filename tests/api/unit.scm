;;; Unit tests of the API's pure modules, (swineherd api-http) and
;;; (swineherd api-metrics), in a plain Guile (no Shepherd):
;;;   guile --no-auto-compile -L scheme tests/api/unit.scm
;;; Exits 1 if a test fails; SRFI-64 writes api.log in the current
;;; directory.  Scenario 21 runs it in the sandbox, in a directory of its own.

(use-modules (swineherd api-http)
             (swineherd api-metrics)
             (rnrs bytevectors)
             (ice-9 binary-ports)
             (ice-9 match)
             (srfi srfi-64))

(define limits (http-limits 1024 8 64))

(define (request text)
  "Read a request from TEXT (a string of bytes 0-255) within LIMITS."
  (read-http-request (open-bytevector-input-port
                      (string->bytevector* text))
                     limits))

(define (string->bytevector* text)
  (u8-list->bytevector (map char->integer (string->list text))))

(define (code-of result)
  (and (reply? result) (reply-code result)))

(test-begin "api")
(test-begin "api-http")

(let ((r (request "POST /v1/containers/a%3Ab/exec?lines=5&x HTTP/1.1\r
Host: x\r
Authorization: Bearer abc=def\r
Content-Length: 7\r
\r
{\"a\":1}")))
  (test-assert "a valid request is read" (http-request? r))
  (test-eq "its method" 'POST (http-request-method r))
  (test-equal "its path, decoded" '("v1" "containers" "a:b" "exec")
    (http-request-path r))
  (test-equal "its query" '(("lines" . "5") ("x" . "")) (http-request-query r))
  (test-equal "its body" "{\"a\":1}" (utf8->string (http-request-body r)))
  (test-equal "the Authorization header as sent" "Bearer abc=def"
    (http-request-authorization r)))

(test-assert "LF line endings are accepted"
  (http-request? (request "GET /v1/containers HTTP/1.1\nHost: x\n\n")))
(test-eq "nothing sent: eof" 'eof (request ""))
(test-eq "half a head: eof" 'eof (request "GET / HTTP/1.1\r\nHost"))
(test-eqv "a head past its byte limit: 431" 431
  (code-of (request (string-append "GET / HTTP/1.1\r\nX: "
                                   (make-string 2000 #\a) "\r\n\r\n"))))
(test-eqv "more header lines than the limit: 431" 431
  (code-of (request (string-append "GET / HTTP/1.1\r\n"
                                   (string-concatenate
                                    (map (lambda (i) (format #f "X-~a: y\r\n" i))
                                         (iota 20)))
                                   "\r\n"))))
(for-each
 (match-lambda
   ((name code text) (test-eqv name code (code-of (request text)))))
 ;; Requests refused with a status: what, which, and the request.
 '(("a body past its limit: 413" 413 "POST / HTTP/1.1\r\nContent-Length: 65\r\n\r\n")
   ("a chunked body: 411" 411 "POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n")
   ("a body shorter than its Content-Length: 400" 400 "POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\n{}")
   ("a malformed request line: 400" 400 "HELLO\r\n\r\n")
   ("a malformed header: 400" 400 "GET / HTTP/1.1\r\nContent-Length: many\r\n\r\n")
   ("a `..' component: 400" 400 "GET /v1/containers/x/snapshots/.. HTTP/1.1\r\n\r\n")
   ("an encoded `..' component: 400" 400 "GET /v1/%2e%2e/x HTTP/1.1\r\n\r\n")))

(test-end "api-http")

(test-begin "api-metrics")

(let ((text (metrics-text
             `(("a" #t . ((cpu-total-ns . 1500000000)
                          (memory-current-bytes . 1000)
                          (memory-limit-bytes . #f)
                          (pids-current . 3)
                          (oom-kills . 0)
                          (net-rx-bytes . 10)
                          (net-tx-bytes . 20)
                          (disk-referenced-bytes . #f)))
               ("b" #f . #f)))))
  (define (has? line)
    (and (string-contains text (string-append "\n" line "\n")) #t))
  (test-assert "a runs" (has? "swineherd_container_up{id=\"a\"} 1"))
  (test-assert "b does not" (has? "swineherd_container_up{id=\"b\"} 0"))
  (test-assert "CPU in seconds" (has? "swineherd_container_cpu_seconds_total{id=\"a\"} 1.5"))
  (test-assert "received is the host side's transmitted"
    (has? "swineherd_container_network_receive_bytes_total{id=\"a\"} 20"))
  (test-assert "no sample for an unknown value"
    (not (string-contains text "memory_limit_bytes{id=\"a\"}")))
  (test-assert "no sample for a stopped container"
    (not (string-contains text "cpu_seconds_total{id=\"b\"}")))
  (test-assert "totals" (has? "swineherd_containers_running 1"))
  (test-assert "HELP and TYPE before each family"
    (has? "# TYPE swineherd_container_pids gauge")))

(test-end "api-metrics")

(define failures (test-runner-fail-count (test-runner-current)))
(test-end "api")
(exit (if (zero? failures) 0 1))
