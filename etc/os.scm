;;; etc/os.scm --- a Guix System that runs Swineherd with two declared
;;; containers.  Try it in a virtual machine, from a checkout:
;;;
;;;   guix system vm -L .guix/modules etc/os.scm
;;;
;;; then, in the VM, as root: herd status swineherd; herd list swineherd.
;;; Or with the repository as a channel, (use-modules (swineherd services))
;;; in your own config.scm, as below.

(use-modules (gnu) (swineherd services))
(use-service-modules networking ssh web)

(define web-server
  ;; The first container: a Guix System running nginx.
  (operating-system
    (host-name "web")
    (bootloader (bootloader-configuration (bootloader grub-bootloader)
                                          (targets '("/dev/null"))))
    (file-systems %base-file-systems)
    (services (list (service nginx-service-type)))))

(define sandbox
  ;; The second one: a bare Guix System, for experiments.
  (operating-system
    (inherit web-server)
    (host-name "sandbox")
    (services '())))

(operating-system
  (host-name "swineherd-host")
  (bootloader (bootloader-configuration (bootloader grub-bootloader)
                                        (targets '("/dev/vda"))))
  (file-systems (cons (file-system (device (file-system-label "root"))
                                   (mount-point "/")
                                   (type "ext4"))
                      %base-file-systems))
  (services
   (cons* (service dhcpcd-service-type)
          (service swineherd-service-type
                   (swineherd-configuration
                    (containers
                     (list (swineherd-container-configuration
                            (id "web")
                            (os web-server)
                            (memory "512M")
                            (publish '("8080:80"))
                            (respawn? #t))
                           (swineherd-container-configuration
                            (id "sandbox")
                            (os sandbox)
                            (cpus "0.5")
                            (arguments '("--expose=/srv/data=/data")))))))
          %base-services)))
