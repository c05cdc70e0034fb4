;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.


(define-module (swineherd peek)
  #:use-module (swineherd client)
  #:use-module (swineherd exec)
  #:use-module ((swineherd ffi) #:select (peek-file-name))
  #:use-module (swineherd utils)
  #:use-module (ice-9 match)
  #:use-module (srfi srfi-11)
  #:export (%peek-timeout
            %peek-budget
            peek-in-container
            action:peek))

;;; Commentary:
;;;
;;; `peek': the last line of a file inside a container that matches a
;;; regular expression.  The scan runs in swineherd-peek, a process of its
;;; own started as `exec' starts commands, bounded in time and bytes read;
;;; this fiber only waits for it.  See the node "Reading Files" of the
;;; manual (doc/swineherd.texi) for the design.
;;;
;;; Code:

(define %max-line-length
  ;; Longer lines are skipped: a hostile file with one huge line must not
  ;; fill anybody's memory.
  65536)

(define %peek-timeout
  ;; Seconds a `peek' may take.
  10)

(define %peek-budget
  ;; Bytes a `peek' may read.
  (* 256 1024 1024))

(define (check-peek-argument what text)
  "Raise a clear error if TEXT, peek's argument WHAT, contains a NUL."
  (when (string-index text #\nul)
    (fail "peek: the ~a ~s contains a NUL character, which no ~a can hold"
          what text what)))

(define* (peek-in-container init-pid file regex
                            #:key (timeout %peek-timeout)
                            (budget %peek-budget))
  "Return the last line, a string, of FILE (a file name inside the container
whose init has host PID INIT-PID) that matches REGEX (the syntax of Rust's
regex crate: linear-time matching, no backreferences); #f if no line
matches.  Raise a clear error for a bad REGEX, for a FILE that cannot be
opened, after reading BUDGET bytes or TIMEOUT seconds without an answer,
and if herd's client goes away.

The scan runs in swineherd-peek, a process of its own started as `exec'
starts commands: this fiber only waits for it.  FILE is read backwards from
the size it had when opened (forwards for /proc and /sys files), and lines
longer than %MAX-LINE-LENGTH bytes are skipped."
  (check-peek-argument "file name" file)
  (check-peek-argument "regular expression" regex)
  (let-values (((status stdout stderr timed-out?)
                (catch 'system-error
                  (lambda ()
                    (container-exec
                     #f (list (peek-file-name)
                              (format #f "--budget=~a" budget)
                              (format #f "--max-line=~a" %max-line-length)
                              (number->string init-pid) file regex)
                     #:timeout timeout
                     #:output-limit (+ 2 %max-line-length)
                     #:client (current-client-socket)))
                  (lambda (key . args)
                    (fail "peek: ~a" (exception-text key args))))))
    (define (error-text)
      (escape-control-characters (string-trim-right (decode-output stderr))))
    (cond (timed-out?
           (fail "peek gave up on ~a after ~a s (its time limit) without \
finding a matching line; name a smaller file" file timeout))
          ((status:exit-val status)
           => (match-lambda
                (0 (string-trim-right (decode-output stdout) #\newline))
                (1 #f)
                (3 (fail "peek gave up on ~a after reading ~a MiB (its \
budget) without finding a matching line; is it sparse or endless?" file
                         (quotient budget (* 1024 1024))))
                (_ (fail "~a" (error-text)))))
          (else
           (fail "peek's scan ~a: ~a" (status->message status) (error-text))))))

(define* (action:peek init-pid #:key (timeout %peek-timeout)
                      (budget %peek-budget))
  "Return the `peek' action of a container; INIT-PID is as for
`action:exec'.  A peek takes at most TIMEOUT seconds and reads at most
BUDGET bytes."
  (lambda (running . args)
    (match args
      (((? string? file) (? string? regex))
       (let ((pid (init-pid running)))
         (match (peek-in-container pid file regex
                                   #:timeout timeout #:budget budget)
           (#f (fail "no line of ~a matches ~s" file regex))
           (line (format #t "~a~%" (escape-control-characters line)) #t))))
      (_
       (fail "peek: expected FILE and REGEX; usage: herd peek swine:ID FILE \
REGEX (FILE is a file name inside the container)")))))

;;; peek.scm ends here
