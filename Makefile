# Build libswineherd and pre-inst-env.  The README's two commands are
# tests/demo and tests/check; they call this Makefile.

CARGO ?= cargo
LIBRARY = target/release/libswineherd.so

all: $(LIBRARY) pre-inst-env

$(LIBRARY): FORCE
	$(CARGO) build --release

pre-inst-env: pre-inst-env.in Makefile
	sed -e 's|@abs_top_srcdir@|$(CURDIR)|g' \
	    -e 's|@libswineherd@|$(CURDIR)/$(LIBRARY)|g' $< > $@.tmp
	chmod +x $@.tmp
	mv $@.tmp $@

unit-check:
	$(CARGO) test --release

clean:
	$(CARGO) clean
	rm -f pre-inst-env

.PHONY: all unit-check clean FORCE
