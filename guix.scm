;;; guix.scm --- Swineherd's package, for `guix build -f guix.scm' and
;;; `guix shell -D -f guix.scm' in a checkout.  The package itself is in
;;; .guix/modules/swineherd-package.scm, which this repository, as a Guix
;;; channel (.guix-channel), also provides as the module (swineherd-package).

(add-to-load-path (string-append (dirname (current-filename)) "/.guix/modules"))
(use-modules (swineherd-package))

swineherd
