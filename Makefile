# Build and install Swineherd.  The README's two commands are tests/demo and
# tests/check; they call this Makefile.
#
#   make                        the library, swineherd-cgexec, pre-inst-env,
#                               the Info manual and, when Guile can compile
#                               them, the modules' .go files
#   make install                install under $(prefix) (GNU conventions:
#                               prefix, DESTDIR, libdir, libexecdir, infodir,
#                               guilemoduledir, guileobjectdir)
#   make uninstall              remove what `make install' installed

# Installation directories (GNU Coding Standards, "Directory Variables").
prefix = /usr/local
exec_prefix = $(prefix)
libdir = $(exec_prefix)/lib
libexecdir = $(exec_prefix)/libexec
datarootdir = $(prefix)/share
infodir = $(datarootdir)/info
# Guile's site directories: Guile's own when prefix is Guile's prefix (so
# `make install prefix=/usr' lands where Debian's Guile looks), else the
# same layout under $(prefix).
guilemoduledir = $(if $(filter $(prefix),$(guile_prefix)),$(guile_site_dir),$(datarootdir)/guile/site/$(GUILE_EFFECTIVE_VERSION))
guileobjectdir = $(if $(filter $(prefix),$(guile_prefix)),$(guile_site_ccache_dir),$(libdir)/guile/$(GUILE_EFFECTIVE_VERSION)/site-ccache)

CARGO = cargo
MAKEINFO = makeinfo
INSTALL = install
INSTALL_PROGRAM = $(INSTALL)
INSTALL_DATA = $(INSTALL) -m 644
INSTALL_INFO = install-info
GUILE := $(firstword $(shell command -v guile-3.0 2>/dev/null) $(shell command -v guile 2>/dev/null) guile)
GUILD := $(firstword $(shell command -v guild-3.0 2>/dev/null) $(shell command -v guild 2>/dev/null) guild)
GUILE_EFFECTIVE_VERSION = 3.0
# Every warning is fatal (see compile_go below).
GUILD_WARNINGS = -Wunbound-variable -Warity-mismatch -Wformat

guile_query = $(shell $(GUILE) -c '(display $(1))' 2>/dev/null)
guile_prefix = $(call guile_query,(assq-ref %guile-build-info (quote prefix)))
guile_site_dir = $(call guile_query,(%site-dir))
guile_site_ccache_dir = $(call guile_query,(%site-ccache-dir))

# Where the .go files and the installed (swineherd ffi) are made: they are
# compiled against the Guile, Shepherd and Fibers found by this make run,
# so a build for another set of them (a second sandbox root) needs its own.
builddir = build
LIBRARY = target/release/libswineherd.so
CGEXEC = target/release/swineherd-cgexec
PEEK = target/release/swineherd-peek
RELAY = target/release/swineherd-relay
RUST_SOURCES = $(shell find src -name '*.rs') build.rs Cargo.toml Cargo.lock
MODULES = swineherd $(patsubst scheme/%.scm,%,$(wildcard scheme/swineherd/*.scm))
SCM_SOURCES = $(MODULES:%=scheme/%.scm)
GO_FILES = $(MODULES:%=$(builddir)/go/%.go)
# (swineherd ffi) with the installed library's and swineherd-cgexec's
# absolute file names written in.
FFI_INSTALLED = $(builddir)/scheme/swineherd/ffi.scm
INFO = doc/swineherd.info
# Present when this make run compiled (or found up to date) every .go file.
GO_STAMP = $(builddir)/go/.up-to-date

all: $(LIBRARY) $(CGEXEC) $(PEEK) $(RELAY) pre-inst-env $(INFO) $(FFI_INSTALLED) scheme-objects

$(LIBRARY) $(CGEXEC) $(PEEK) $(RELAY) &: $(RUST_SOURCES)
	$(CARGO) build --release
	touch $(LIBRARY) $(CGEXEC) $(PEEK) $(RELAY)

pre-inst-env: pre-inst-env.in Makefile
	sed -e 's|@abs_top_srcdir@|$(CURDIR)|g' \
	    -e 's|@libswineherd@|$(CURDIR)/$(LIBRARY)|g' \
	    -e 's|@cgexec@|$(CURDIR)/$(CGEXEC)|g' \
	    -e 's|@peek@|$(CURDIR)/$(PEEK)|g' \
	    -e 's|@relay@|$(CURDIR)/$(RELAY)|g' $< > $@.tmp
	chmod +x $@.tmp
	mv $@.tmp $@

$(INFO): doc/swineherd.texi
	@command -v $(MAKEINFO) >/dev/null || { \
	  echo "make: $(MAKEINFO) not found: install texinfo (tests/install-deps does)" >&2; exit 1; }
	$(MAKEINFO) --no-split -o $@ $<

# The .go files need guild and the modules Swineherd's code imports at
# compile time: Shepherd ≥ 1.0 and Fibers (Debian 13, Guix System).  Debian
# 12 has neither: the sources are then installed alone, and the sandbox's
# scenario 13 compiles and installs them.
scheme-objects:
	@if ! command -v $(GUILD) >/dev/null; then \
	  echo "make: not compiling the Scheme modules: guild not found (package guile-3.0-dev)"; \
	  rm -f $(GO_STAMP); \
	elif ! $(GUILE) -c '(use-modules (shepherd service) (fibers) (json))' >/dev/null 2>&1; then \
	  echo "make: not compiling the Scheme modules: $(GUILE) finds no (shepherd service) 1.0, (fibers) or (json) (packages shepherd, guile-fibers, guile-json)"; \
	  rm -f $(GO_STAMP); \
	else \
	  $(MAKE) --no-print-directory go-files && touch $(GO_STAMP); \
	fi

go-files: $(GO_FILES)

# Rewritten only when the directories change, so that a different prefix
# rebuilds (swineherd ffi) and nothing else.
$(builddir)/dirs: FORCE
	@mkdir -p $(@D)
	@echo '$(libdir) $(libexecdir)' > $@.tmp
	@if cmp -s $@.tmp $@; then rm $@.tmp; else mv $@.tmp $@; fi

$(FFI_INSTALLED): scheme/swineherd/ffi.scm $(builddir)/dirs
	@mkdir -p $(@D)
	sed -e 's|^(define %installed-library #f)$$|(define %installed-library "$(libdir)/libswineherd.so")|' \
	    -e 's|^(define %installed-cgexec #f)$$|(define %installed-cgexec "$(libexecdir)/swineherd/swineherd-cgexec")|' \
	    -e 's|^(define %installed-peek #f)$$|(define %installed-peek "$(libexecdir)/swineherd/swineherd-peek")|' \
	    -e 's|^(define %installed-relay #f)$$|(define %installed-relay "$(libexecdir)/swineherd/swineherd-relay")|' \
	    $< > $@.tmp
	@test $$(grep -c '^(define %installed-[a-z]* "' $@.tmp) = 4 || { \
	  echo "make: $<: the %installed-library, -cgexec, -peek and -relay lines were not found" >&2; exit 1; }
	mv $@.tmp $@

# compile_go SOURCE: compile SOURCE into $@ with every warning fatal.  Each
# module is compiled against the sources of the modules it imports (all of
# them, hence the coarse dependency on every source).
define compile_go
	@mkdir -p $(@D)
	@echo "  GUILD    $@"
	@GUILE_AUTO_COMPILE=0 $(GUILD) compile $(GUILD_WARNINGS) -L scheme -o $@ $(1) \
	    2> $@.log >/dev/null; \
	  status=$$?; cat $@.log >&2; \
	  if [ $$status -ne 0 ] || grep -q 'warning:' $@.log; then \
	    echo "make: $(1): compilation failed or warned (warnings are errors)" >&2; \
	    rm -f $@ $@.log; exit 1; \
	  fi; rm -f $@.log
endef

$(builddir)/go/swineherd/ffi.go: $(FFI_INSTALLED) $(SCM_SOURCES)
	$(call compile_go,$<)

$(builddir)/go/%.go: scheme/%.scm $(SCM_SOURCES)
	$(call compile_go,$<)

install: all
	$(INSTALL) -d $(DESTDIR)$(libdir) $(DESTDIR)$(libexecdir)/swineherd \
	  $(DESTDIR)$(guilemoduledir)/swineherd $(DESTDIR)$(infodir)
	$(INSTALL_PROGRAM) $(LIBRARY) $(DESTDIR)$(libdir)/libswineherd.so
	$(INSTALL_PROGRAM) $(CGEXEC) $(DESTDIR)$(libexecdir)/swineherd/swineherd-cgexec
	$(INSTALL_PROGRAM) $(PEEK) $(DESTDIR)$(libexecdir)/swineherd/swineherd-peek
	$(INSTALL_PROGRAM) $(RELAY) $(DESTDIR)$(libexecdir)/swineherd/swineherd-relay
	$(INSTALL_DATA) scheme/swineherd.scm $(DESTDIR)$(guilemoduledir)/swineherd.scm
	$(INSTALL_DATA) $(filter-out scheme/swineherd.scm scheme/swineherd/ffi.scm,$(SCM_SOURCES)) \
	  $(FFI_INSTALLED) $(DESTDIR)$(guilemoduledir)/swineherd/
# After the sources, so that each .go is newer than its source; only .go
# files that this run found up to date (not compiled for another prefix).
	@if [ -e $(GO_STAMP) ]; then \
	  set -ex; \
	  $(INSTALL) -d $(DESTDIR)$(guileobjectdir)/swineherd; \
	  $(INSTALL_DATA) $(builddir)/go/swineherd.go $(DESTDIR)$(guileobjectdir)/swineherd.go; \
	  $(INSTALL_DATA) $(filter-out $(builddir)/go/swineherd.go,$(GO_FILES)) $(DESTDIR)$(guileobjectdir)/swineherd/; \
	else \
	  echo "make: installing the Scheme sources without .go files (none are up to date; see above): Guile will compile or interpret them"; \
	fi
	$(INSTALL_DATA) $(INFO) $(DESTDIR)$(infodir)/swineherd.info
	@if command -v $(INSTALL_INFO) >/dev/null; then \
	  echo $(INSTALL_INFO) --info-dir=$(DESTDIR)$(infodir) $(DESTDIR)$(infodir)/swineherd.info; \
	  $(INSTALL_INFO) --info-dir=$(DESTDIR)$(infodir) $(DESTDIR)$(infodir)/swineherd.info; \
	fi

uninstall:
	@if command -v $(INSTALL_INFO) >/dev/null && [ -e $(DESTDIR)$(infodir)/dir ] && \
	    [ -e $(DESTDIR)$(infodir)/swineherd.info ]; then \
	  echo $(INSTALL_INFO) --delete --info-dir=$(DESTDIR)$(infodir) $(DESTDIR)$(infodir)/swineherd.info; \
	  $(INSTALL_INFO) --delete --info-dir=$(DESTDIR)$(infodir) $(DESTDIR)$(infodir)/swineherd.info; \
	fi
	rm -f $(DESTDIR)$(libdir)/libswineherd.so \
	  $(DESTDIR)$(libexecdir)/swineherd/swineherd-cgexec \
	  $(DESTDIR)$(libexecdir)/swineherd/swineherd-peek \
	  $(DESTDIR)$(libexecdir)/swineherd/swineherd-relay \
	  $(MODULES:%=$(DESTDIR)$(guilemoduledir)/%.scm) \
	  $(MODULES:%=$(DESTDIR)$(guileobjectdir)/%.go) \
	  $(DESTDIR)$(infodir)/swineherd.info
	rmdir $(DESTDIR)$(libexecdir)/swineherd $(DESTDIR)$(guilemoduledir)/swineherd \
	  $(DESTDIR)$(guileobjectdir)/swineherd 2>/dev/null || true

unit-check:
	$(CARGO) test --release

clean:
	$(CARGO) clean
	rm -rf pre-inst-env $(builddir) $(INFO)

.PHONY: all scheme-objects go-files install uninstall unit-check clean FORCE
