;;; Swineherd --- GNU Shepherd's manager of Guix System containers
;;; Copyright © 2026 The Swineherd authors
;;;
;;; This program is free software; you can redistribute it and/or modify it
;;; under the terms of the GNU General Public License as published by the
;;; Free Software Foundation; either version 3 of the License, or (at your
;;; option) any later version.

(define-module (swineherd services)
  #:use-module (gnu services)
  #:use-module (gnu services admin)
  #:use-module (gnu services shepherd)
  #:use-module (gnu system linux-container)
  #:use-module (guix gexp)
  #:use-module (guix records)
  #:use-module (swineherd-package)
  #:use-module (srfi srfi-1)
  #:use-module (srfi srfi-9)
  #:use-module (ice-9 match)
  #:export (swineherd-configuration
            swineherd-configuration?
            swineherd-configuration-package
            swineherd-configuration-container-root
            swineherd-configuration-state-directory
            swineherd-configuration-log-directory
            swineherd-configuration-run-directory
            swineherd-configuration-bridge
            swineherd-configuration-subnet
            swineherd-configuration-cgroup-parent
            swineherd-configuration-nat-table
            swineherd-configuration-open-host-ports
            swineherd-configuration-isolated?
            swineherd-configuration-default-memory
            swineherd-configuration-requirement
            swineherd-configuration-containers

            swineherd-container-configuration
            swineherd-container-configuration?
            swineherd-container-configuration-id
            swineherd-container-configuration-os
            swineherd-container-configuration-arguments
            swineherd-container-configuration-options
            swineherd-container-configuration-memory
            swineherd-container-configuration-cpus
            swineherd-container-configuration-publish
            swineherd-container-configuration-respawn?

            swineherd-extension
            swineherd-extension?
            swineherd-extension-containers

            %swineherd-declarations-file
            swineherd-container-script
            swineherd-container-script?
            swineherd-container-script-os
            swineherd-service-type))

;;; Commentary:
;;;
;;; The Guix System service of Swineherd.  `swineherd-service-type' runs the
;;; `swineherd' Shepherd service in PID 1's Shepherd, the swineherd package
;;; as its extension, configured as `swineherd-configuration' says.  Its
;;; containers, each an `operating-system' turned into its script by Guix's
;;; own `container-script', are written to /etc/swineherd/containers.scm,
;;; which swineherd reconciles when it starts and on `herd reconcile
;;; swineherd' (run it after `guix system reconfigure').  Other services add
;;; containers with `swineherd-extension', as they do with `oci-extension'.
;;;
;;; Code:

(define-record-type* <swineherd-container-configuration>
  swineherd-container-configuration make-swineherd-container-configuration
  swineherd-container-configuration?
  (id        swineherd-container-configuration-id)        ;string
  (os        swineherd-container-configuration-os)        ;<operating-system>
  (arguments swineherd-container-configuration-arguments  ;strings, for the script
             (default '()))
  (options   swineherd-container-configuration-options    ;strings, of `new'
             (default '()))
  (memory    swineherd-container-configuration-memory     ;"512M" or #f
             (default #f))
  (cpus      swineherd-container-configuration-cpus       ;"0.5" or #f
             (default #f))
  (publish   swineherd-container-configuration-publish    ;("8080:80" …)
             (default '()))
  (respawn?  swineherd-container-configuration-respawn?
             (default #f)))

(define-record-type* <swineherd-configuration>
  swineherd-configuration make-swineherd-configuration
  swineherd-configuration?
  (package         swineherd-configuration-package (default swineherd))
  (container-root  swineherd-configuration-container-root
                   (default "/var/lib/swineherd/containers"))
  (state-directory swineherd-configuration-state-directory
                   (default "/var/lib/swineherd"))
  (log-directory   swineherd-configuration-log-directory
                   (default "/var/log/swineherd"))
  (run-directory   swineherd-configuration-run-directory
                   (default "/run/swineherd"))
  (bridge          swineherd-configuration-bridge (default "swineherd0"))
  (subnet          swineherd-configuration-subnet (default "10.0.0.1/16"))
  (cgroup-parent   swineherd-configuration-cgroup-parent
                   (default "swineherd"))
  (nat-table       swineherd-configuration-nat-table (default "swineherd"))
  (open-host-ports swineherd-configuration-open-host-ports ;("53/udp" …)
                   (default '()))
  (isolated?       swineherd-configuration-isolated? (default #f))
  (default-memory  swineherd-configuration-default-memory ;bytes or #f
                   (default #f))
  (requirement     swineherd-configuration-requirement
                   (default '(user-processes file-systems)))
  (containers      swineherd-configuration-containers ;list of
                   (default '())))                     ;<swineherd-container-configuration>

(define-record-type* <swineherd-extension>
  swineherd-extension make-swineherd-extension
  swineherd-extension?
  (containers swineherd-extension-containers (default '())))

(define %swineherd-declarations-file
  ;; Where the declared containers are, for `herd reconcile swineherd'.
  "/etc/swineherd/containers.scm")


;;;
;;; A container's script, as `guix system container' makes it.
;;;

(define-record-type <swineherd-container-script>
  (swineherd-container-script os)
  swineherd-container-script?
  (os swineherd-container-script-os))

(define-gexp-compiler (swineherd-container-script-compiler
                       (script <swineherd-container-script>) system target)
  ;; The derivation of the script that runs OS in a container: Guix's own
  ;; `container-script', what `guix system container' builds.
  (container-script (swineherd-container-script-os script)))

(define (container-options c)
  "Return the options of `herd new' that container configuration C stands
for: its OPTIONS, then those its MEMORY, CPUS, PUBLISH and RESPAWN? fields
make."
  (append (swineherd-container-configuration-options c)
          (match (swineherd-container-configuration-memory c)
            (#f '())
            (size (list (string-append "--memory=" size))))
          (match (swineherd-container-configuration-cpus c)
            (#f '())
            (cpus (list (string-append "--cpus=" cpus))))
          (map (lambda (spec) (string-append "--publish=" spec))
               (swineherd-container-configuration-publish c))
          (if (swineherd-container-configuration-respawn? c)
              '("--respawn")
              '())))

(define (container-declaration c)
  "Return the gexp of the runtime declaration (see (swineherd declare)) of
container configuration C."
  #~(swineherd-container
     #:id #$(swineherd-container-configuration-id c)
     #:script #$(swineherd-container-script
                 (swineherd-container-configuration-os c))
     #:arguments '#$(swineherd-container-configuration-arguments c)
     #:options '#$(container-options c)))

(define (swineherd-declarations config)
  "Return the file that declares the containers of CONFIG."
  (scheme-file "swineherd-containers.scm"
               #~(list #$@(map container-declaration
                               (swineherd-configuration-containers config)))))


;;;
;;; Extensions.
;;;

(define (swineherd-shepherd-services config)
  "Return the `swineherd' Shepherd service of CONFIG: `(swineherd)''s own
service, loaded from the package into PID 1's Shepherd."
  (match-record config <swineherd-configuration>
    (package container-root state-directory log-directory run-directory
             bridge subnet cgroup-parent nat-table open-host-ports isolated?
             default-memory requirement)
    (list (shepherd-service
           (provision '(swineherd))
           (requirement requirement)
           (documentation "Manage Guix System containers as `swine:ID'
services.")
           (modules `((swineherd) ,@%default-modules))
           (free-form
            (with-extensions (list package)
              #~(swineherd-service
                 (swineherd-configuration
                  #:container-root #$container-root
                  #:state-directory #$state-directory
                  #:log-directory #$log-directory
                  #:run-directory #$run-directory
                  #:bridge #$bridge
                  #:subnet #$subnet
                  #:cgroup-parent #$cgroup-parent
                  #:nat-table #$nat-table
                  #:open-host-ports '#$open-host-ports
                  #:isolated? #$isolated?
                  #:default-memory #$default-memory
                  #:containers #$%swineherd-declarations-file))))))))

(define (swineherd-activation config)
  "Return the gexp that creates the directories of CONFIG."
  (match-record config <swineherd-configuration>
    (container-root state-directory log-directory run-directory)
    #~(begin
        (use-modules (guix build utils))
        (for-each mkdir-p (list #$container-root #$log-directory
                                #$run-directory))
        (mkdir-p #$state-directory)
        (chmod #$state-directory #o700))))

(define (swineherd-etc-files config)
  "Return the declared containers of CONFIG as a file of /etc."
  `(("swineherd/containers.scm" ,(swineherd-declarations config))))

(define (swineherd-log-files config)
  "Return the console logs that Shepherd's log rotation compresses and
expires: the ID.log.1 files that swineherd rotates its containers' logs to
(ID.log itself is held open by the container's log writer, which rotates it
by size)."
  (map (lambda (c)
         (string-append (swineherd-configuration-log-directory config) "/"
                        (swineherd-container-configuration-id c) ".log.1"))
       (swineherd-configuration-containers config)))

(define (swineherd-extend config extensions)
  "Return CONFIG with the containers of EXTENSIONS added."
  (swineherd-configuration
   (inherit config)
   (containers (append (swineherd-configuration-containers config)
                       (append-map swineherd-extension-containers
                                   extensions)))))

(define swineherd-service-type
  (service-type
   (name 'swineherd)
   (extensions
    (list (service-extension shepherd-root-service-type
                             swineherd-shepherd-services)
          (service-extension activation-service-type swineherd-activation)
          (service-extension profile-service-type
                             (compose list swineherd-configuration-package))
          (service-extension etc-service-type swineherd-etc-files)
          (service-extension log-rotation-service-type
                             swineherd-log-files)))
   (compose identity)
   (extend swineherd-extend)
   (default-value (swineherd-configuration))
   (description
    "Run Swineherd, the Shepherd extension that manages Guix System
containers, each a Shepherd service @code{swine:ID}; the declared containers
are created, restarted when their declaration changes and stopped when it is
gone, their data kept.")))

;;; services.scm ends here
