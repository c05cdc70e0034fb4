;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd config)
  #:use-module ((swineherd parse) #:select (parse-subnet parse-host-port))
  #:use-module (srfi srfi-9)
  #:export (swineherd-configuration
            swineherd-configuration?
            swineherd-configuration-container-root
            swineherd-configuration-log-directory
            swineherd-configuration-run-directory
            swineherd-configuration-start-timeout
            swineherd-configuration-state-directory
            swineherd-configuration-bridge
            swineherd-configuration-subnet
            swineherd-configuration-netns-directory
            swineherd-configuration-cgroup-parent
            swineherd-configuration-permitted-host-command-prefix
            swineherd-configuration-nat-table
            swineherd-configuration-open-host-ports
            swineherd-configuration-isolated?
            swineherd-configuration-exec-timeout
            swineherd-configuration-peek-timeout
            swineherd-configuration-peek-budget
            swineherd-configuration-log-size
            swineherd-configuration-default-memory
            swineherd-configuration-containers
            address-lease-directory
            port-lease-directory
            container-cgroup
            container-data-directory
            container-log-file
            container-pid-file))

;;; Commentary:
;;;
;;; Swineherd's configuration, and where each container's files live.
;;;
;;; Code:

(define-record-type <swineherd-configuration>
  (%swineherd-configuration container-root log-directory run-directory
                            start-timeout state-directory bridge subnet
                            netns-directory cgroup-parent
                            permitted-host-command-prefix nat-table
                            open-host-ports isolated?
                            exec-timeout peek-timeout peek-budget log-size
                            default-memory containers)
  swineherd-configuration?
  (container-root  swineherd-configuration-container-root) ;containers' data
  (log-directory   swineherd-configuration-log-directory)  ;ID.log files
  (run-directory   swineherd-configuration-run-directory)  ;ID.pid files
  (start-timeout   swineherd-configuration-start-timeout)  ;seconds
  (state-directory swineherd-configuration-state-directory) ;leases, records
  (bridge          swineherd-configuration-bridge)          ;interface name
  (subnet          swineherd-configuration-subnet)          ;(GATEWAY . PREFIX)
  (netns-directory swineherd-configuration-netns-directory) ;/run/netns
  (cgroup-parent   swineherd-configuration-cgroup-parent)   ;relative path
  (permitted-host-command-prefix                            ;#f: no `fs'
   swineherd-configuration-permitted-host-command-prefix)
  (nat-table       swineherd-configuration-nat-table)       ;nftables table
  (open-host-ports swineherd-configuration-open-host-ports) ;((udp 53) …)
  (isolated?       swineherd-configuration-isolated?)       ;default of new
  (exec-timeout    swineherd-configuration-exec-timeout)    ;seconds
  (peek-timeout    swineherd-configuration-peek-timeout)    ;seconds
  (peek-budget     swineherd-configuration-peek-budget)     ;bytes
  (log-size        swineherd-configuration-log-size)        ;bytes
  (default-memory  swineherd-configuration-default-memory) ;bytes or #f
  (containers      swineherd-configuration-containers))  ;declared, or a file

(define (default-container-root)
  "Return the default directory holding the containers' data: ./container-root
when running from a checkout (pre-inst-env sets SWINEHERD_UNINSTALLED), as
the seed README's flow expects, else /var/lib/swineherd/containers."
  (if (getenv "SWINEHERD_UNINSTALLED")
      (string-append (getcwd) "/container-root")
      "/var/lib/swineherd/containers"))

(define (default-state-directory)
  "Return the default directory of Swineherd's records: ./swineherd-state
from a checkout, else /var/lib/swineherd."
  (if (getenv "SWINEHERD_UNINSTALLED")
      (string-append (getcwd) "/swineherd-state")
      "/var/lib/swineherd"))

(define* (swineherd-configuration #:key
                                  (container-root (default-container-root))
                                  (log-directory "/var/log/swineherd")
                                  (run-directory "/run/swineherd")
                                  (start-timeout 60)
                                  (state-directory (default-state-directory))
                                  (bridge "swineherd0")
                                  (subnet "10.0.0.1/16")
                                  (netns-directory "/run/netns")
                                  (cgroup-parent
                                   (or (getenv "SWINEHERD_CGROUP_PARENT")
                                       "swineherd"))
                                  (permitted-host-command-prefix #f)
                                  (nat-table "swineherd")
                                  (open-host-ports '())
                                  (isolated? #f)
                                  (exec-timeout 3600)
                                  (peek-timeout 10)
                                  (peek-budget (* 256 1024 1024))
                                  (log-size (* 16 1024 1024))
                                  (default-memory #f)
                                  (containers '()))
  "Return a Swineherd configuration: containers' data in CONTAINER-ROOT, the
console output of container ID in LOG-DIRECTORY/ID.log, and run-time files
such as the PID files written by container scripts in RUN-DIRECTORY.  A
container counts as started once its init runs in namespaces of its own;
one whose init does not show up within START-TIMEOUT seconds fails to
start.  Records that must survive restarts, such as address leases, live in
STATE-DIRECTORY.  Containers are connected to the bridge BRIDGE, whose
address and prefix are SUBNET, and get addresses from it; their network
namespaces are mounted in NETNS-DIRECTORY for `ip netns'.  Container ID
runs in the cgroup CGROUP-PARENT/ID of every hierarchy.  The `fs' action
runs only host commands below the directory PERMITTED-HOST-COMMAND-PREFIX,
and none when it is #f.  Outbound NAT and published ports live in the
nftables table `ip NAT-TABLE', which Swineherd owns, and the containers'
filters in `netdev NAT-TABLE'.  Containers reach none of the host's own
services but the OPEN-HOST-PORTS, a list of strings such as \"53/udp\"
(PORT, or PORT/tcp or PORT/udp).  When ISOLATED? is true, containers
created without --isolated=no exchange no traffic with each other but
through published ports.  An `exec' or `fs' command given no --timeout is
killed after EXEC-TIMEOUT seconds; a `peek' gives up after PEEK-TIMEOUT
seconds or PEEK-BUDGET bytes read.  A console log is rotated (ID.log
becomes ID.log.1) when it reaches LOG-SIZE bytes.  A container given no
--memory is limited to DEFAULT-MEMORY bytes when it is true (what a
container writes to its tmpfs root counts as its memory).  CONTAINERS
declares containers (see `swineherd-container' in (swineherd declare)), as
a list or as the name of a file that returns one; `swineherd' reconciles
them when it starts and on `herd reconcile swineherd'."
  (%swineherd-configuration container-root log-directory run-directory
                            start-timeout state-directory bridge
                            (parse-subnet subnet) netns-directory
                            cgroup-parent permitted-host-command-prefix
                            nat-table (map parse-host-port open-host-ports)
                            isolated? exec-timeout peek-timeout peek-budget
                            log-size default-memory containers))

(define (container-file directory id extension)
  "Return the file of container ID with EXTENSION in DIRECTORY."
  (string-append directory "/" id extension))

(define (container-data-directory config id)
  "Return the directory that holds the data of container ID; it is shared
with the container as its /home."
  (container-file (swineherd-configuration-container-root config) id ""))

(define (container-log-file config id)
  "Return the file that receives the console output of container ID."
  (container-file (swineherd-configuration-log-directory config) id ".log"))

(define (container-pid-file config id)
  "Return the PID file that the script of container ID writes."
  (container-file (swineherd-configuration-run-directory config) id ".pid"))

(define (address-lease-directory config)
  "Return the directory of the address leases."
  (string-append (swineherd-configuration-state-directory config)
                 "/addresses"))

(define (port-lease-directory config)
  "Return the directory of the leases of published host ports."
  (string-append (swineherd-configuration-state-directory config) "/ports"))

(define (container-cgroup config id)
  "Return the cgroup of container ID, relative to each hierarchy's root."
  (string-append (swineherd-configuration-cgroup-parent config) "/" id))

;;; config.scm ends here
