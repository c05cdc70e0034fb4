;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd snapshot-schedule)
  #:use-module (swineherd live-limits)
  #:use-module ((swineherd state) #:select (container-id))
  #:use-module (swineherd storage)
  #:use-module (swineherd upkeep-options)
  #:use-module (swineherd utils)
  #:use-module ((fibers) #:select (spawn-fiber (sleep . fiber-sleep)))
  #:use-module (ice-9 match)
  #:use-module (srfi srfi-1)
  #:export (snapshots-scheduled?
            check-snapshot-storage
            schedule-snapshots
            stop-snapshots
            action:snapshot-schedule
            automatic-snapshot-name))

;;; Commentary:
;;;
;;; Scheduled snapshots (--snapshot-every, --snapshot-keep): while a
;;; container runs, a fiber of its own takes a read-only btrfs snapshot of
;;; its data every so often, named `auto-' and the UTC time, and deletes the
;;; oldest automatic ones beyond the number to keep.  The schedule is in the
;;; container's record, so it starts again with the container after a
;;; restart or a crash; the action `snapshot-schedule' changes it (in the
;;; record too) and says when the next one is due.  Only on btrfs: elsewhere
;;; a snapshot is a full copy.
;;;
;;; Code:

(define %generation
  ;; Container ID -> the number of its latest start or stop of a schedule: a
  ;; schedule of an earlier one ends.
  (make-hash-table))

(define %next
  ;; Container ID -> the time (seconds since the Epoch) its running
  ;; schedule takes the next snapshot; no entry when none runs.
  (make-hash-table))

(define (stop-snapshots id)
  "End container ID's scheduled snapshots, if they run: its schedule's
fiber, asleep, ends without a snapshot when it wakes."
  (hash-set! %generation id (+ 1 (hash-ref %generation id 0)))
  (hash-remove! %next id))

(define (snapshots-scheduled? options)
  "Return true if OPTIONS, those of `new', ask for scheduled snapshots."
  (assq-ref options 'snapshot-every))

(define (check-snapshot-storage root options)
  "Raise a clear error if OPTIONS schedule snapshots and the container root
ROOT is not on btrfs."
  (when (and (snapshots-scheduled? options)
             (not (eq? 'btrfs (storage-kind root))))
    (fail "--snapshot-every needs btrfs: the container root ~a is not on \
btrfs, where each snapshot would be a full copy" root)))

(define (automatic-snapshot-name time)
  "Return the name of an automatic snapshot taken at TIME, a pair of seconds
and microseconds as `gettimeofday' returns: auto-YYYYMMDD-HHMMSS.mmm (UTC),
which sorts by time."
  (match time
    ((seconds . microseconds)
     (string-append (strftime "auto-%Y%m%d-%H%M%S" (gmtime seconds)) "."
                    (string-pad (number->string (quotient microseconds 1000))
                                3 #\0)))))

(define (take-and-prune root id data keep)
  "Snapshot DATA, the data of container ID under ROOT, and delete the
oldest automatic snapshots beyond KEEP."
  (let ((name (automatic-snapshot-name (gettimeofday))))
    (snapshot-data root id data name)
    (let* ((automatic (filter (lambda (n) (string-prefix? "auto-" n))
                              (snapshot-names root id)))
           (old (drop-right automatic (min keep (length automatic)))))
      (for-each (lambda (n)
                  (delete-data (string-append (snapshot-directory root id)
                                              "/" n)))
                old)
      (log-line "swineherd: container ~a: snapshot ~a~a" id name
                (if (null? old)
                    ""
                    (format #f ", deleted ~a" (string-join old " ")))))))

(define (schedule-snapshots id root data alive? options)
  "Start, in a fiber of its own, the snapshots that OPTIONS schedule for
container ID, whose data is DATA under ROOT, while the thunk ALIVE? says
that it runs; an earlier schedule ends (also when OPTIONS schedule none)."
  (stop-snapshots id)
  (when (snapshots-scheduled? options)
    (let ((generation (hash-ref %generation id))
          (every (assq-ref options 'snapshot-every))
          (keep (or (assq-ref options 'snapshot-keep) 7)))
      (define (due!)
        (hash-set! %next id (+ (current-time) every)))
      (due!)
      (spawn-fiber
       (lambda ()
         (define (current?) (= generation (hash-ref %generation id 0)))
         (let loop ()
           (fiber-sleep every)
           (cond ((not (current?)) #t)    ;stopped, or scheduled anew
                 ((not (alive?)) (hash-remove! %next id))
                 (else
                  (catch #t
                    (lambda () (take-and-prune root id data keep))
                    (lambda (key . args)
                      (log-line "swineherd: container ~a: scheduled snapshot \
failed: ~a" id (exception-text key args))))
                  (when (current?)
                    (due!)
                    (loop))))))))))

(define (schedule-text id options)
  "Return a line that tells container ID's schedule of snapshots, as its
OPTIONS set it, and when the next one is due."
  (define every (assq-ref options 'snapshot-every))
  (define keep (or (assq-ref options 'snapshot-keep) 7))
  (cond ((not every)
         (format #f "no scheduled snapshots (keep ~a); --every=DURATION \
schedules them" keep))
        ((hash-ref %next id)
         => (lambda (next)
              (format #f "every ~a s, keep ~a; next in ~a s" every keep
                      (max 0 (- next (current-time))))))
        (else
         (format #f "every ~a s, keep ~a; none due: the container is not \
running" every keep))))

(define (action:snapshot-schedule config c root restart)
  "Return the `snapshot-schedule' action of the container recorded as C,
whose data is under ROOT: without arguments, print its schedule; with
--every and --keep, change it, in its record and, if it runs, at once, by
calling (RESTART RUNNING OPTIONS)."
  (define id (container-id c))
  (lambda (running . args)
    (match args
      (() (format #t "~a~%" (schedule-text id (live-options c))))
      (_
       (let* ((changes (parse-schedule-change
                        (action-words "snapshot-schedule" "herd \
snapshot-schedule swine:ID -- --every=DURATION|off --keep=N" args)))
              (new (apply-schedule-change (live-options c) changes)))
         (check-snapshot-storage root new)
         (set-live-options! config c new)
         (when running (restart running new))
         (format #t "container ~a: ~a~%" id (schedule-text id new)))))
    #t))

;;; snapshot-schedule.scm ends here
