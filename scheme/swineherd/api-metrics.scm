;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd api-metrics)
  #:use-module (ice-9 match)
  #:use-module (srfi srfi-1)
  #:use-module (srfi srfi-26)
  #:export (metrics-text))

;;; Commentary:
;;;
;;; GET /metrics: the containers' statistics in the Prometheus text
;;; exposition format (version 0.0.4), which OpenMetrics parsers read too.
;;; Pure: the statistics come in, the text goes out.
;;;
;;; Code:

(define (cut-stat key)
  "Return a procedure that takes KEY from a `stats' alist."
  (lambda (stats) (assq-ref stats key)))

(define (cpu-seconds stats)
  "Return the CPU time of STATS, a `stats' alist, in seconds, or #f."
  (and=> (assq-ref stats 'cpu-total-ns) (lambda (ns) (/ ns 1e9))))

(define %container-metrics
  ;; One row per metric: its name after "swineherd_container_", its type,
  ;; the `stats' key of its value (or a procedure of the `stats' alist),
  ;; and its help text.
  `(("cpu_seconds_total" counter ,cpu-seconds "CPU time used by the container's processes, in seconds.")
    ("memory_bytes" gauge memory-current-bytes "Memory used by the container's cgroup, in bytes.")
    ("memory_limit_bytes" gauge memory-limit-bytes "Memory limit of the container's cgroup, in bytes.")
    ("pids" gauge pids-current "Processes and threads in the container's cgroup.")
    ("oom_kills_total" counter oom-kills "Processes of the container killed for lack of memory.")
    ("network_receive_bytes_total" counter net-tx-bytes "Bytes the container received (host side of its veth).")
    ("network_transmit_bytes_total" counter net-rx-bytes "Bytes the container sent (host side of its veth).")
    ("disk_bytes" gauge disk-referenced-bytes "Bytes of the container's data (btrfs quotas only).")))

(define (container-family row containers)
  "Return the text of the per-container metric family of ROW, a row of
`%container-metrics', for CONTAINERS, a list of (ID RUNNING? . STATS)."
  (match row
    ((suffix type key help)
     (let ((name (string-append "swineherd_container_" suffix))
           (getter (if (procedure? key) key (cut-stat key))))
       (family name type help
               (filter-map (match-lambda
                             ((id _ . stats)
                              (and=> (and stats (getter stats))
                                     (lambda (value) (sample name id value)))))
                           containers))))))

(define (sample name id value)
  "Return the sample line of metric NAME for container ID with VALUE.
(`string-append', not `format': a scrape of 500 containers writes 4500 of
these.)"
  (string-append name "{id=\"" id "\"} " (number->text value) "\n"))

(define (number->text value)
  "Return VALUE as Prometheus writes numbers."
  (if (and (exact? value) (integer? value))
      (number->string value)
      (number->string (exact->inexact value))))

(define (family name type help samples)
  "Return the text of the metric family NAME with its SAMPLES."
  (string-concatenate
   (cons* "# HELP " name " " help "\n# TYPE " name " " (symbol->string type) "\n"
          samples)))

(define (metrics-text containers)
  "Return the metrics of CONTAINERS, a list of (ID RUNNING? . STATS),
STATS the alist of `stats sexp' (#f when unavailable), as text."
  (define (running? c) (cadr c))
  (define (total getter)
    (fold (lambda (c sum) (+ sum (or (and (cddr c) (getter (cddr c))) 0)))
          0 containers))
  (string-append
   (family "swineherd_containers" 'gauge "Containers, running or not."
           (list (format #f "swineherd_containers ~a~%" (length containers))))
   (family "swineherd_containers_running" 'gauge "Containers running."
           (list (format #f "swineherd_containers_running ~a~%"
                         (count running? containers))))
   (family "swineherd_container_up" 'gauge
           "Whether the container runs (1) or not (0)."
           (map (lambda (c) (sample "swineherd_container_up" (car c)
                                    (if (running? c) 1 0)))
                containers))
   (string-concatenate
    (map (cut container-family <> containers) %container-metrics))
   (family "swineherd_cpu_seconds_total" 'counter
           "CPU time used by all containers, in seconds."
           (list (format #f "swineherd_cpu_seconds_total ~a~%"
                         (number->text (total cpu-seconds)))))
   (family "swineherd_memory_bytes" 'gauge
           "Memory used by all containers, in bytes."
           (list (format #f "swineherd_memory_bytes ~a~%"
                         (total (cut-stat 'memory-current-bytes)))))))

;;; api-metrics.scm ends here
