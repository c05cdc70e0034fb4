;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd oom-watch)
  #:use-module ((swineherd api-backend) #:select (read-cgroups))
  #:use-module (swineherd events)
  #:use-module ((swineherd ffi) #:select (cgroups-oom-kills))
  #:use-module ((swineherd listing) #:select (container-services service-id))
  #:use-module ((fibers) #:select (spawn-fiber))
  #:use-module (fibers conditions)
  #:use-module (fibers operations)
  #:use-module ((fibers timers) #:select (sleep-operation))
  #:use-module (ice-9 match)
  #:export (watch-oom-kills))

;;; Commentary:
;;;
;;; The `oom' event: every second, the OOM kill count of each running
;;; container (one file per container: v2's memory.events, v1's
;;; memory.oom_control, read by one library call per chunk of containers)
;;; is compared with the count seen the second before; a count that grew
;;; is an event.  Polling rather than inotify: v1's memory.oom_control
;;; sends no notification that inotify sees (its eventfd interface would
;;; hold two descriptors per container), and one read per container per
;;; second costs little (see the manual).
;;;
;;; Code:

(define %interval
  ;; Seconds between two looks at the counts.
  1)

(define (compare! counts found first?)
  "Emit an `oom' event for each (ID . COUNT) of FOUND whose COUNT grew
since the one in the hash table COUNTS (0 for a container not seen before,
unless FIRST?: the counts of the first look are where the watch starts),
and record COUNT."
  (for-each (match-lambda
              ((id . #f) (hash-remove! counts id))
              ((id . count)
               (let ((before (hash-ref counts id (if first? count 0))))
                 (when (> count before)
                   (emit-event 'oom id `((oom_kills . ,count))))
                 (hash-set! counts id count))))
            found))

(define (watch-oom-kills config stopped)
  "Start a fiber that emits an `oom' event whenever the OOM killer kills a
process in a container of CONFIG, until the condition STOPPED is
signalled."
  (spawn-fiber
   (lambda ()
     (let ((counts (make-hash-table)))
       (let loop ((first? #t))
         ;; A failed look (a library error) is only a missed second.
         (false-if-exception
          (compare! counts
                    (read-cgroups config (map service-id (container-services))
                                  cgroups-oom-kills)
                    first?))
         (when (eq? 'again
                    (perform-operation
                     (choice-operation
                      (wrap-operation (sleep-operation %interval)
                                      (const 'again))
                      (wrap-operation (wait-operation stopped)
                                      (const 'stop)))))
           (loop #f)))))))

;;; oom-watch.scm ends here
