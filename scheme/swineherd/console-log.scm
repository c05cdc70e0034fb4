;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd console-log)
  #:use-module (swineherd utils)
  #:use-module (ice-9 binary-ports)
  #:use-module (rnrs bytevectors)
  #:use-module (ice-9 match)
  #:use-module (srfi srfi-1)
  #:export (log-tail
            parse-tail-arguments
            action:tail))

;;; Commentary:
;;;
;;; The tail of a container's console log, ID.log, which swineherd-cgexec's
;;; logger writes and rotates (ID.log.1, then ID.log.2.gz ... ID.log.N.gz
;;; compressed, see src/console.rs):
;;; the action `tail'.  The log is read from its end, a bounded number of
;;; bytes, so that a huge log costs Shepherd a few milliseconds at most.
;;;
;;; Code:

(define %max-lines 10000)

(define %bytes-per-line
  ;; Bytes read per line asked for; a longer line shows cut.
  4096)

(define (decode bytes)
  "Return BYTES as text: UTF-8, or ASCII with `?' for every other byte when
it is not valid UTF-8 (a console may print anything)."
  (catch 'decoding-error
    (lambda () (utf8->string bytes))
    (lambda _
      (list->string (map (lambda (b) (if (< b 128) (integer->char b) #\?))
                         (bytevector->u8-list bytes))))))

(define (lines-of text cut?)
  "Return the lines of TEXT; the first is dropped when CUT? (it was cut)."
  (let ((lines (string-split (string-trim-right text #\newline) #\newline)))
    (cond ((equal? lines '("")) '())
          ((and cut? (pair? lines)) (cdr lines))
          (else lines))))

(define (file-tail file count)
  "Return the last COUNT lines of FILE, a list of strings (fewer if FILE has
fewer; none if it does not exist), reading at most COUNT × %BYTES-PER-LINE
bytes from its end."
  (match (catch 'system-error
           (lambda () (open-file file "rb"))
           (lambda args
             (if (= ENOENT (system-error-errno args)) #f (apply throw args))))
    (#f '())
    (port
     (let* ((size (stat:size (stat port)))
            (start (max 0 (- size (* count %bytes-per-line)))))
       (seek port start SEEK_SET)
       (let* ((bytes (get-bytevector-n port (- size start)))
              (lines (lines-of (if (eof-object? bytes) "" (decode bytes))
                               (> start 0))))
         (close-port port)
         (take-right lines (min count (length lines))))))))

(define (log-tail file count)
  "Return the last COUNT lines of the console log FILE, continuing into
FILE.1 when FILE has fewer (it was just rotated)."
  (let* ((recent (file-tail file count))
         (missing (- count (length recent))))
    (if (> missing 0)
        (append (file-tail (string-append file ".1") missing) recent)
        recent)))

(define (parse-tail-arguments args)
  "Parse ARGS, the arguments of `tail': none, N, -n N or -nN.  Return how
many lines to print."
  (define (lines text)
    (let ((n (and (string? text) (string->number text))))
      (unless (and n (exact-integer? n) (<= 1 n %max-lines))
        (fail "tail: invalid number of lines ~s; give 1 to ~a: herd tail \
swine:ID [N]" text %max-lines))
      n))
  (match args
    (() 10)
    ((n) (if (string-prefix? "-n" n) (lines (string-drop n 2)) (lines n)))
    (("-n" n) (lines n))
    (_ (fail "tail: usage: herd tail swine:ID [N] (or -- -n N)"))))

(define (action:tail file)
  "Return the `tail' action of a container whose console log is FILE."
  (lambda (running . args)
    (for-each (lambda (line)
                (format #t "~a~%" (escape-control-characters line)))
              (log-tail file (parse-tail-arguments args)))
    #t))

;;; console-log.scm ends here
