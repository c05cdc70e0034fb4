;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd utils)
  #:use-module (ice-9 ftw)
  #:use-module (ice-9 match)
  #:use-module (ice-9 rdelim)
  #:use-module ((shepherd comm) #:select (log-output-port))
  #:use-module ((shepherd config) #:select ((Version . shepherd-version)))
  #:use-module ((ice-9 textual-ports) #:select (put-string))
  #:use-module ((fibers scheduler) #:select (yield-current-task))
  #:use-module ((swineherd parse) #:select (fail exception-text))
  #:re-export (fail exception-text)
  #:export (false-if-system-error
            mkdir-p
            delete-file-if-exists
            entries
            take-lease
            lease-owner
            milliseconds-between
            milliseconds-since
            log-line
            runtime-versions
            escape-control-characters))

;;; Commentary:
;;;
;;; Small helpers shared by Swineherd's modules.
;;;
;;; Code:

(define-syntax-rule (false-if-system-error expression)
  "Return the value of EXPRESSION, or #f if it raises a `system-error' (a
failed system call, errno in hand); other exceptions go through."
  (catch 'system-error
    (lambda () expression)
    (const #f)))

(define (mkdir-p directory)
  "Create DIRECTORY and its missing parents."
  (unless (or (string-null? directory) (file-exists? directory))
    (mkdir-p (dirname directory))
    (mkdir directory)))

(define (delete-file-if-exists file)
  "Delete FILE unless it does not exist."
  (catch 'system-error
    (lambda () (delete-file file))
    (lambda args
      (unless (= ENOENT (system-error-errno args))
        (apply throw args)))))

(define (entries directory)
  "Return the names in DIRECTORY, without `.' and `..', sorted; none if it
is missing."
  (or (scandir directory (lambda (name) (not (member name '("." "..")))))
      '()))

(define (take-lease file id)
  "Lease what FILE stands for to ID by creating FILE, holding ID, with
O_EXCL: atomic, so two concurrent callers never both get it.  Return #t, or
#f if it is already leased."
  (catch 'system-error
    (lambda ()
      (let ((port (open file (logior O_WRONLY O_CREAT O_EXCL) #o644)))
        (display id port)
        (newline port)
        (close-port port)
        #t))
    (lambda args
      (if (= EEXIST (system-error-errno args))
          #f
          (apply throw args)))))

(define (lease-owner file)
  "Return the ID that holds the lease FILE, or #f."
  (false-if-system-error (call-with-input-file file read-line)))

(define (milliseconds-between start end)
  "Return the milliseconds from START to END, values of
`get-internal-real-time', as an inexact number."
  (exact->inexact (/ (* 1000 (- end start)) internal-time-units-per-second)))

(define (milliseconds-since start)
  "Return the milliseconds elapsed since START, a value of
`get-internal-real-time'."
  (milliseconds-between start (get-internal-real-time)))

(define (log-line fmt . args)
  "Write a line, formatted from FMT and ARGS, to Shepherd's log only (not to
the herd client of the current action)."
  (put-string (log-output-port) (string-append (apply format #f fmt args) "\n")))

(define %control-characters
  ;; What a terminal may take for a command: C0 controls but newline and
  ;; tab, DEL, and C1 controls (U+0080-U+009F, which some terminals obey).
  (char-set-union (char-set-difference (ucs-range->char-set 0 32)
                                       (char-set #\newline #\tab))
                  (ucs-range->char-set 127 160)))

(define (char->escape char)
  "Return \\xHH for CHAR, a character below U+0100."
  (let ((hex (number->string (char->integer char) 16)))
    (string-append "\\x" (if (< (char->integer char) 16) "0" "") hex)))

(define (escape-control-characters text)
  "Return TEXT, which comes from a container and may be hostile, with each
control character that a terminal could obey (escape sequences, carriage
returns, bells...) replaced by \\xHH, so that it can be shown to an
administrator as it is.  Newlines and tabs are kept.  Yields to other
fibers now and then when there are many to escape."
  (if (not (string-index text %control-characters))
      text
      (call-with-output-string
        (lambda (port)
          (let loop ((start 0) (n 1))
            (match (string-index text %control-characters start)
              (#f (put-string port text start))
              (index
               (put-string port text start (- index start))
               (put-string port (char->escape (string-ref text index)))
               (when (zero? (modulo n 4096))
                 (yield-current-task))
               (loop (+ index 1) (+ n 1)))))))))

;;;
;;; The versions Swineherd runs on, for the log.
;;;

(define (fibers-version)
  "Return the version of Fibers as a string, or \"< 1.4\" for a Fibers that
does not say it (1.3.1 has no `%fibers-version')."
  (let ((variable (module-variable (resolve-interface '(fibers config))
                                   '%fibers-version)))
    (if variable (variable-ref variable) "< 1.4")))

(define (runtime-versions)
  "Return the versions of Shepherd, Guile and Fibers that this Shepherd
runs, as \"Shepherd 1.0.9, Guile 3.0.11, Fibers 1.4.3\"."
  (format #f "Shepherd ~a, Guile ~a, Fibers ~a"
          shepherd-version (version) (fibers-version)))

;;; utils.scm ends here
