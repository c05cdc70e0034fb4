;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd runtime)
  #:use-module ((shepherd service) #:select (make-kill-destructor
                                             lookup-service
                                             service-running?))
  #:use-module (swineherd config)
  #:use-module ((swineherd ffi) #:select (delete-link))
  #:use-module (swineherd init)
  #:use-module (swineherd nat)
  #:use-module (swineherd network)
  #:use-module (swineherd resources)
  #:use-module (swineherd state)
  #:use-module (swineherd utils)
  #:use-module (ice-9 match)
  #:use-module (srfi srfi-1)
  #:export (container-command
            container-netns
            container-link-owner
            nat-table
            isolated?
            connect-container
            connect-init
            disconnect-container
            start-network
            limit-options
            release-runtime
            release-network
            release-process

            bridge-up!
            network-up!
            for-each-connected-container
            republish-running-containers
            network-down!))

;;; Commentary:
;;;
;;; What a container holds only while it runs, and the one place that
;;; releases it: its command line, its veth and network namespace mount, its
;;; filters and published ports, its cgroup and its PID file.  And the
;;; bridge and Swineherd's nftables tables, which all containers share.
;;;
;;; Code:

(define (container-command config id script args)
  "Return the command line that starts container ID: SCRIPT with the data
directory shared as /home and a PID file, then ARGS."
  `(,script
    ,(string-append "--share=" (container-data-directory config id) "=/home")
    ,(string-append "--pid-file=" (container-pid-file config id))
    ,@args))

(define (container-netns config id)
  "Return the file on which the network namespace of container ID is
mounted."
  (netns-file (swineherd-configuration-netns-directory config) id))

(define (container-link-owner config id)
  "Return the alias that marks the veth of container ID as its own."
  (link-owner-name (swineherd-configuration-bridge config) id))

(define (nat-table config)
  "Return the name of Swineherd's nftables tables (ip and netdev)."
  (swineherd-configuration-nat-table config))

(define (isolated? config options)
  "Return true if the container created with OPTIONS is isolated from the
others: --isolated, or the configuration's default unless --isolated=no."
  (match (assq 'isolated options)
    (('isolated . 'no) #f)
    (('isolated . _) #t)
    (#f (swineherd-configuration-isolated? config))))

(define (connect-container config id address isolated process)
  "Connect container ID, whose script runs as PROCESS, with ADDRESS,
ISOLATED or not."
  (connect-init config id address isolated (container-init config id process)))

(define (connect-init config id address isolated init)
  "Connect container ID, whose init has host PID INIT, with ADDRESS,
ISOLATED or not; what is connected already is kept."
  (connect-network init
                   #:bridge (swineherd-configuration-bridge config)
                   #:subnet (swineherd-configuration-subnet config)
                   #:address address
                   #:owner (container-link-owner config id)
                   #:netns (container-netns config id)
                   #:table (nat-table config)
                   #:id id
                   #:isolated? isolated))

(define (disconnect-container config id address)
  "Disconnect container ID, which has ADDRESS; what is gone already is
fine."
  (disconnect-network #:address address
                      #:owner (container-link-owner config id)
                      #:netns (container-netns config id)
                      #:table (nat-table config)
                      #:id id))

(define (start-network config id address isolated ports process)
  "Connect container ID, just started as PROCESS, unless ADDRESS is #f,
ISOLATED or not, and publish its PORTS.  Return #t, or #f after killing
the container if connecting or publishing failed (the caller releases the
rest)."
  (or (not address)
      (catch #t
        (lambda ()
          (connect-container config id address isolated process)
          (publish-container-ports (nat-table config) id address ports)
          #t)
        (lambda (key . args)
          (format #t "container ~a: connecting it failed: ~a~%" id
                  (exception-text key args))
          ((make-kill-destructor) process)
          #f))))

(define* (limit-options options #:optional default-memory)
  "Return the resource limits among OPTIONS, the options of `new', as the
alist `create-cgroup' takes; a container given no --memory gets
DEFAULT-MEMORY (bytes) when it is true."
  (let ((limits (filter-map (match-lambda
                              (('memory . n) `(memory . ,n))
                              (('swap . n) `(swap . ,n))
                              (('cpus . quota) `(cpu-quota . ,quota))
                              (('cpu-weight . n) `(cpu-weight . ,n))
                              (('pids . n) `(pids . ,n))
                              (('io-weight . n) `(io-weight . ,n))
                              (_ #f))
                            options)))
    (if (and default-memory (not (assq 'memory limits)))
        `((memory . ,default-memory) ,@limits)
        limits)))

(define (release-runtime config id address ports)
  "Release what container ID holds only while it runs: its published PORTS,
its veth and network namespace mount (if it has ADDRESS), its cgroup
(killing what is left in it) and its PID file."
  (release-network config id address ports)
  (release-process config id))

(define (release-network config id address ports)
  "Unpublish the PORTS of container ID and disconnect it, if it has
ADDRESS: its veth, filters and network namespace mount.  What is gone
already is fine; a failure does not stop the release of the rest."
  (when address
    (false-if-exception
     (unpublish-container-ports (nat-table config) id ports))
    (false-if-exception (disconnect-container config id address))))

(define (release-process config id)
  "Remove the cgroup of container ID, killing what is left in it, and its
PID file."
  (unless (remove-cgroup (container-cgroup config id))
    (format #t "container ~a: cgroup ~a could not be removed~%" id
            (container-cgroup config id)))
  (delete-file-if-exists (container-pid-file config id)))

(define (bridge-up! config)
  "Bring the bridge of CONFIG up, creating it if needed."
  (bring-bridge-up (swineherd-configuration-bridge config)
                   (swineherd-configuration-subnet config)))

(define (network-up! config)
  "Bring the bridge of CONFIG up and replace Swineherd's nftables tables
with fresh ones.  Return #f, or a warning text if they could not be set
up."
  (bridge-up! config)
  (let ((warning (start-nat (nat-table config)
                            (swineherd-configuration-bridge config)
                            (swineherd-configuration-subnet config)
                            (swineherd-configuration-open-host-ports
                             config))))
    (when warning
      (format #t "swineherd: WARNING: ~a~%" warning))
    warning))

(define (for-each-connected-container config proc)
  "Call PROC on the record of each running container that has a network."
  (for-each (lambda (c)
              (let ((service (lookup-service
                              (container-service-name (container-id c)))))
                (when (and service (container-address c)
                           (service-running? service))
                  (proc c))))
            (load-containers (swineherd-configuration-state-directory config))))

(define (republish-running-containers config)
  "Publish again the ports of the running containers, and filter again
those that are connected, after Swineherd's tables were replaced."
  (for-each-connected-container
   config
   (lambda (c)
     (guard-network #:subnet (swineherd-configuration-subnet config)
                    #:address (container-address c)
                    #:owner (container-link-owner config (container-id c))
                    #:table (nat-table config)
                    #:id (container-id c)
                    #:isolated? (isolated? config (container-options c)))
     (publish-container-ports (nat-table config) (container-id c)
                              (container-address c)
                              (published-ports (container-options c))))))

(define (network-down! config)
  "Disconnect the running containers, delete the bridge and Swineherd's NAT
table."
  (for-each-connected-container
   config
   (lambda (c)
     (disconnect-container config (container-id c) (container-address c))))
  (delete-link (swineherd-configuration-bridge config))
  (stop-nat (nat-table config)))

;;; runtime.scm ends here
