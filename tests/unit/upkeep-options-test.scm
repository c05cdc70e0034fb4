;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

;;; Unit tests of (swineherd upkeep-options)' parsers of the actions that
;;; change a container after `new', in a plain Guile.

(use-modules (swineherd upkeep-options)
             (unit helpers)
             (srfi srfi-64))

(define (schedule . args)
  "Parse ARGS, the arguments of `snapshot-schedule' as herd passes them."
  (parse-schedule-change (action-words "snapshot-schedule" "usage" args)))

(test-begin "upkeep-options")

(test-equal "loads nothing with effects" '() (loaded-effectful-modules))

(test-equal "action words: herd's keywords and plain words"
  '("--memory=1G" "--pids=5")
  (action-words "limit" "usage" (list #:memory "1G" "--pids=5")))
(test-equal "action words: anything else is refused with the usage"
  "limit: unexpected argument 5; usage: herd limit"
  (error-text (lambda () (action-words "limit" "herd limit" (list 5)))))

(test-equal "schedule: --every and --keep"
  '((snapshot-every . 600) (snapshot-keep . 2))
  (schedule "--every=10m" "--keep=2"))
(test-equal "schedule: herd's keywords, the names of new"
  '((snapshot-every . 30) (snapshot-keep . 4))
  (schedule #:every "30s" "--snapshot-keep=4"))
(test-equal "schedule: --every=off" '((snapshot-every . #f)) (schedule "--every=off"))
(test-equal "schedule: a bad duration names the option and the fix"
  "invalid --snapshot-every \"soon\": give a duration such as 30s, 10m, 2h or 1d (1 second to 366 days)"
  (error-text (lambda () (schedule "--keep=3" "--every=soon"))))
(test-assert "schedule: a bad count is refused"
  (string-prefix? "invalid --snapshot-keep \"0\""
                  (error-text (lambda () (schedule "--keep=0")))))
(test-assert "schedule: an unknown option is refused"
  (string-prefix? "snapshot-schedule: \"--memory=1G\" is not an option"
                  (error-text (lambda () (schedule "--memory=1G")))))
(test-assert "schedule: --every without a value is refused"
  (string-prefix? "invalid --snapshot-every #f"
                  (error-text (lambda () (schedule "--every")))))
(test-assert "schedule: nothing to change is refused"
  (string-prefix? "snapshot-schedule: nothing to change"
                  (error-text (lambda () (schedule)))))

(test-equal "apply: replaces the namesakes, keeps the rest"
  '((memory . 1) (snapshot-keep . 7) (snapshot-every . 60))
  (apply-schedule-change '((memory . 1) (snapshot-every . 1) (snapshot-keep . 7))
                         '((snapshot-every . 60))))
(test-equal "apply: off removes the schedule"
  '((memory . 1) (snapshot-keep . 7))
  (apply-schedule-change '((memory . 1) (snapshot-every . 1) (snapshot-keep . 7))
                         '((snapshot-every . #f))))

(test-end "upkeep-options")

;;; upkeep-options-test.scm ends here
