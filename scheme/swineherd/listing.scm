;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd listing)
  #:use-module (shepherd service)
  #:use-module (swineherd config)
  #:use-module ((swineherd idmap) #:select (container-identity))
  #:use-module ((swineherd registry) #:select (call-with-services-in-use))
  #:use-module ((swineherd resources) #:select (cgroup-statistics*))
  #:use-module ((swineherd stats) #:select (display-summary))
  #:use-module ((swineherd utils) #:select (fail))
  #:use-module (ice-9 match)
  #:use-module (srfi srfi-1)
  #:export (container-services
            container-services/status
            service-id
            action:list
            action:swineherd-stats))

;;; Commentary:
;;;
;;; The containers as the `swineherd' service sees them: its registered
;;; `swine:ID' services, and the actions that list and summarise them
;;; (`list', `stats').
;;;
;;; Code:

(define (container-services)
  "Return the registered container services, sorted by name."
  (define (container? service)
    (string-prefix? "swine:" (symbol->string (service-canonical-name service))))
  (define services '())
  (for-each-service (lambda (service)
                      (when (container? service)
                        (set! services (cons service services)))))
  (sort services
        (lambda (a b)
          (string<? (symbol->string (service-canonical-name a))
                    (symbol->string (service-canonical-name b))))))

(define (container-services/status)
  "Return the registered container services, sorted by name, each paired
with whether it is running."
  (call-with-services-in-use
   (lambda ()
     ;; `map', not a C procedure such as `filter': `service-running?'
     ;; suspends the fiber, which a continuation barrier forbids.
     (map (lambda (service)
            (cons service (service-running? service)))
          (container-services)))))

(define (service-id service)
  "Return the container ID of SERVICE, a `swine:ID' service."
  (string-drop (symbol->string (service-canonical-name service))
               (string-length "swine:")))

(define (action:swineherd-stats config)
  "Return the `stats' action of the `swineherd' service."
  (lambda (running . args)
    (let* ((services (container-services/status))
           (running (filter-map (match-lambda
                                  ((service . running?)
                                   (and running? service)))
                                services))
           (cgroups (filter-map (lambda (service)
                                  (cgroup-statistics*
                                   (container-cgroup config (service-id service))))
                                running)))
      (display-summary (length services) (length running) cgroups
                       (match args
                         (() 'line)
                         (((or "json" "sexp") . _) (string->symbol (car args)))
                         (_ (fail "stats: the argument is `json' or `sexp'"))))
      #t)))

(define (action:list running)
  "Print one line per container: its ID, whether it is running, and its
identity: `privileged' or its id range (see `container-identity')."
  (for-each (match-lambda
              ((service . running?)
               (format #t "~a ~a ~a~%" (service-id service)
                       (if running? "running" "stopped")
                       (container-identity (service-id service)))))
            (container-services/status))
  #t)

;;; listing.scm ends here
