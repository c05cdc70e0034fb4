;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

;;; Unit tests of (swineherd parse), in a plain Guile.

(use-modules (swineherd parse)
             (unit helpers)
             (srfi srfi-64))

(test-begin "parse")

(test-equal "loads nothing with effects" '() (loaded-effectful-modules))

(test-equal "fail: the message is formatted"
  "no container with ID \"x\"" (error-text (lambda () (fail "no container with ID ~s" "x"))))

(test-equal "size: M" (* 512 1024 1024) (parse-size "512M"))
(test-equal "size: G" (* 2 1024 1024 1024) (parse-size "2G"))
(test-equal "size: KiB" 1024 (parse-size "1KiB"))
(test-equal "size: bytes" 1048576 (parse-size "1048576"))
(test-equal "size: 0 is no size" #f (parse-size "0"))
(test-equal "size: a negative one" #f (parse-size "-1M"))
(test-equal "size: a unit that is none" #f (parse-size "3X"))
(test-equal "format-size" "512.0MiB" (format-size (* 512 1024 1024)))
(test-equal "format-size: bytes" "1023.0B" (format-size 1023))

(test-equal "cpus: half" '(50000 . 100000) (parse-cpus "0.5"))
(test-equal "cpus: two" '(200000 . 100000) (parse-cpus "2"))
(test-assert "cpus: too small, named"
  (string-contains (error-text (lambda () (parse-cpus "0.001"))) "invalid --cpus \"0.001\""))
(test-assert "cpus: not a number"
  (error-text (lambda () (parse-cpus "1e3"))))
(test-equal "pids" 100 (parse-pids "100"))
(test-equal "pids: 0 refused, with the bounds"
  "invalid --pids \"0\": give an integer from 1 to 4194304"
  (error-text (lambda () (parse-pids "0"))))
(test-equal "cpu-weight: upper bound" 10000 (parse-cpu-weight "10000"))
(test-assert "io-weight: above the bound" (error-text (lambda () (parse-io-weight "10001"))))

(test-equal "subnet" (cons (address->integer "10.0.0.1") 16) (parse-subnet "10.0.0.1/16"))
(test-equal "subnet: gateway" "10.0.0.1" (subnet-gateway (parse-subnet "10.0.0.1/16")))
(test-equal "subnet: prefix" 24 (subnet-prefix (parse-subnet "192.168.7.1/24")))
(test-assert "subnet: prefix 31 refused"
  (string-contains (error-text (lambda () (parse-subnet "10.0.0.1/31"))) "from 8 to 30"))
(test-assert "subnet: no prefix refused" (error-text (lambda () (parse-subnet "10.0.0.1"))))
(test-assert "subnet: not an address" (error-text (lambda () (parse-subnet "10.0.0.300/16"))))
(test-assert "subnet contains a host"
  (subnet-contains? (parse-subnet "10.0.0.1/24") (address->integer "10.0.0.254")))
(test-assert "subnet: broadcast is no host"
  (not (subnet-contains? (parse-subnet "10.0.0.1/24") (address->integer "10.0.0.255"))))
(test-assert "subnet: network address is no host"
  (not (subnet-contains? (parse-subnet "10.0.0.1/24") (address->integer "10.0.0.0"))))

(test-equal "host port: tcp by default" '(tcp 53) (parse-host-port "53"))
(test-equal "host port: udp" '(udp 53) (parse-host-port "53/udp"))
(test-assert "host port: out of range" (error-text (lambda () (parse-host-port "99999/tcp"))))
(test-assert "host port: unknown protocol" (error-text (lambda () (parse-host-port "53/icmp"))))

(test-end "parse")
