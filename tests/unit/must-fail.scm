;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

;;; Tests that must fail: tests/unit/run checks that the driver counts a
;;; wrong value, a wrong error and a raise outside a test as 3 failures, so
;;; that the unit tier can fail.

(use-modules (swineherd parse)
             (unit helpers)
             (srfi srfi-64))

(test-begin "must-fail")
(test-equal "a wrong value" (* 512 1024) (parse-size "512M"))
(test-assert "an error that is not raised" (error-text (lambda () (parse-size "x"))))
(test-end "must-fail")
(parse-subnet "not a subnet")
