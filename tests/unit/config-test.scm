;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

;;; Unit tests of (swineherd config), in a plain Guile.

(use-modules (swineherd config)
             (unit helpers)
             (srfi srfi-64))

(define config
  (swineherd-configuration #:container-root "/c" #:run-directory "/r"
                           #:log-directory "/l" #:state-directory "/s"
                           #:cgroup-parent "p" #:subnet "10.1.0.1/24"
                           #:open-host-ports '("53/udp" "22")))

(test-begin "config")

(test-equal "loads nothing with effects" '() (loaded-effectful-modules))
(test-equal "subnet parsed" '(167837697 . 24) (swineherd-configuration-subnet config))
(test-equal "open host ports parsed" '((udp 53) (tcp 22))
  (swineherd-configuration-open-host-ports config))
(test-equal "data directory" "/c/web" (container-data-directory config "web"))
(test-equal "log file" "/l/web.log" (container-log-file config "web"))
(test-equal "PID file" "/r/web.pid" (container-pid-file config "web"))
(test-equal "address leases" "/s/addresses" (address-lease-directory config))
(test-equal "port leases" "/s/ports" (port-lease-directory config))
(test-equal "cgroup" "p/web" (container-cgroup config "web"))
(test-assert "a bad subnet is refused at configuration time"
  (string-contains (error-text (lambda () (swineherd-configuration #:subnet "10.0.0.1")))
                   "invalid subnet"))
(test-assert "a bad open host port is refused"
  (string-contains (error-text (lambda ()
                                 (swineherd-configuration #:open-host-ports '("99999/tcp"))))
                   "invalid open host port"))

(test-end "config")
