;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

;;; Commentary:
;;;
;;; Run the SRFI-64 test files named on the command line, each under a
;;; runner of its own that counts and reports every test, and print one
;;; closing line, "scheme-unit: N passed, N failed" (tests/check sums it
;;; with the other tiers).  A file that raises outside a test counts as one
;;; failure.  Exit status 0 only when nothing failed.  Run in a plain Guile
;;; (see tests/unit/run): no Shepherd, Fibers or libswineherd.
;;;
;;; Code:

(use-modules (srfi srfi-64)
             (ice-9 match))

(define passed 0)
(define failed 0)

(define (counting-runner file)
  "Return a SRFI-64 runner that counts the tests of FILE into PASSED and
FAILED and prints each failure with what it expected and got."
  (let ((runner (test-runner-null)))
    (test-runner-on-test-end!
     runner
     (lambda (runner)
       (match (test-result-kind runner)
         ((or 'pass 'xfail) (set! passed (+ 1 passed)))
         ((or 'fail 'xpass)
          (set! failed (+ 1 failed))
          (format #t "FAIL ~a: ~a~%     ~s~%" file
                  (test-runner-test-name runner)
                  (test-result-alist runner)))
         (_ #f))))
    runner))

(define (run-file file)
  "Run the tests of FILE; a FILE that raises outside a test is one failure."
  (test-runner-current (counting-runner file))
  (catch #t
    (lambda () (load (canonicalize-path file)))
    (lambda (key . args)
      (set! failed (+ 1 failed))
      (format #t "FAIL ~a: raised ~s ~s outside a test~%" file key args)))
  (test-runner-current #f))

(for-each run-file (cdr (command-line)))
(format #t "scheme-unit: ~a passed, ~a failed~%" passed failed)
(exit (zero? failed))

;;; driver.scm ends here
