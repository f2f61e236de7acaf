# wsproxy - plain Makefile; local overrides go in config.mak.
#   make            ./wsproxy (TLS compiled in when BearSSL is found, TLS=0 to omit)
#   make static     ./wsproxy-static, fully static with musl-gcc (TLS=1: with
#                   BearSSL built from Debian's source by scripts/build-bearssl.sh)
#   make check      unit + integration suites (plain, ASan+UBSan, valgrind), short fuzz and chaos runs
#   make fuzz       libFuzzer targets in build/
#   make fuzz-long  each fuzzer 10 minutes with ASan+UBSan, stats at the end
#   make valgrind   the integration suite under valgrind memcheck
#   make bench      side-by-side benchmark against nginx and HAProxy (not a test)
#   make install    PREFIX (/usr/local) and DESTDIR: the binary and the manual

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN     = -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wconversion
CPPFLAGS += -D_GNU_SOURCE
LDFLAGS ?=
LDLIBS  ?=

-include config.mak

# The poller backend: epoll on Linux, kqueue elsewhere (ev.h).
EV_SRC = $(if $(filter Linux,$(shell uname -s)),ev_epoll.c,ev_kqueue.c)
SRCS = proxy.c upgrade.c relay.c flow.c ping.c pool.c sock.c config.c routes.c \
    listen.c log.c pairlog.c metrics.c admin.c iplimit.c life.c handshake.c \
    balance.c health.c cmdline.c target.c ws.c proxyproto.c ppconn.c dns.c \
    dnsmsg.c \
    tls.c tls_load.c tls_x509.c $(EV_SRC)
HDRS = proxy.h ws.h target.h config.h handshake.h io.h ev.h pair.h log.h \
    sock.h pool.h tls_int.h listen.h life.h metrics.h pairlog.h \
    admin.h iplimit.h balance.h health.h proxyproto.h cmdline.h dns.h

# TLS (BearSSL).  TLS=auto (the default) compiles it in when the
# compiler itself finds <bearssl.h> (Debian's libbearssl-dev for the
# host's gcc; a cross compiler looks in its own sysroot, not the host's);
# TLS=1 forces it (and fails without BearSSL); TLS=0 leaves it out, and
# that binary rejects the TLS flags and wss:// with exit 64.  The choice
# is recorded in build/tls-on or build/tls-off so switching rebuilds.
TLS ?= auto
ifeq ($(TLS),auto)
TLS_ON := $(shell echo '\#include <bearssl.h>' | \
    $(CC) $(CPPFLAGS) -E -x c - >/dev/null 2>&1 && echo 1 || echo 0)
else
TLS_ON := $(TLS)
endif
ifeq ($(TLS_ON),1)
TLS_FLAGS = -DWSPROXY_TLS
TLS_LIBS = -lbearssl
TLS_STAMP = build/tls-on
else
TLS_STAMP = build/tls-off
endif

all: wsproxy

$(TLS_STAMP):
	@mkdir -p build
	@rm -f build/tls-on build/tls-off
	@touch $@

# Every binary is linked to $@.new and renamed: a failed link (the linker
# removes its output first) never deletes a working binary.
wsproxy: $(SRCS) $(HDRS) Makefile $(TLS_STAMP)
	$(CC) $(WARN) $(CPPFLAGS) $(TLS_FLAGS) $(CFLAGS) -o $@.new $(SRCS) \
	    $(LDFLAGS) $(LDLIBS) $(TLS_LIBS)
	mv -f $@.new $@

# The same sources without TLS, for make check's second suite.
build/wsproxy-notls: $(SRCS) $(HDRS) Makefile
	@mkdir -p build
	$(CC) $(WARN) $(CPPFLAGS) $(CFLAGS) -o $@.new $(SRCS) $(LDFLAGS) \
	    $(LDLIBS)
	mv -f $@.new $@

# The kqueue backend on Linux, for make check's kqueue suite: the same
# sources, TLS like ./wsproxy, with ev_kqueue.c in place of ev_epoll.c
# and a test-only kqueue()/kevent() over epoll (tests/kqshim/).  __linux__
# is still defined, so proxy.c's #ifndef __linux__ paths stay off here.
KQ_SRCS = $(filter-out ev_epoll.c ev_kqueue.c,$(SRCS)) ev_kqueue.c \
    tests/kqshim/kqshim.c
build/wsproxy-kqueue: $(KQ_SRCS) $(HDRS) tests/kqshim/sys/event.h Makefile \
    $(TLS_STAMP)
	@mkdir -p build
	$(CC) $(WARN) $(CPPFLAGS) -Itests/kqshim $(TLS_FLAGS) $(CFLAGS) \
	    -o $@.new $(KQ_SRCS) $(LDFLAGS) $(LDLIBS) $(TLS_LIBS)
	mv -f $@.new $@

# Fully static, musl-based: the binary for embedded boards and FROM scratch.
# Debian's libbearssl.a is built for glibc and does not link with musl, so
# a static TLS build uses BearSSL compiled from Debian's source package with
# musl-gcc into third_party/ (scripts/build-bearssl.sh, run when missing).
# Static TLS is on with TLS=1, or with TLS=auto once third_party/ has it.
BEARSSL_MUSL = third_party/bearssl/build/libbearssl.a
ifeq ($(TLS),auto)
STATIC_TLS := $(if $(wildcard $(BEARSSL_MUSL)),1,0)
else
STATIC_TLS := $(TLS)
endif
ifeq ($(STATIC_TLS),1)
STATIC_FLAGS = -DWSPROXY_TLS -isystem third_party/bearssl/inc
STATIC_LIBS = $(BEARSSL_MUSL)
STATIC_STAMP = build/static-tls-on
else
STATIC_STAMP = build/static-tls-off
endif

$(STATIC_STAMP):
	@mkdir -p build
	@rm -f build/static-tls-on build/static-tls-off
	@touch $@

$(BEARSSL_MUSL):
	sh scripts/build-bearssl.sh

# Both static rules share these flags; what each saves is measured in
# BENCHMARKS.md ("Binary size").  The output was a non-PIE executable
# already, so -fno-pie loses no ASLR and spares PC-relative code and
# relocated constants.  musl's static start-up never applies RELRO,
# which was only page padding here; common-page-size=16 stops ld from
# padding the file so that the data starts a page of its own (it then
# shares the text's last file page, mapped twice).  LTO, in one
# partition, drops and merges across files.  fmt.c replaces musl's
# printf core, which is mostly floating point (WSPROXY_FMT_LIBC);
# -mgeneral-regs-only makes a double passed to a printf ("SSE register
# ... with SSE disabled") a compile error in this build rather than a
# conversion fmt.c refuses.  mem.c replaces musl's malloc
# (WSPROXY_MEM_LIBC): wsproxy allocates while starting and reloading,
# and later only the resolver's TCP buffer.  ids.c makes setuid & co.
# one system call, as they are for one thread (WSPROXY_IDS_LIBC).
# num.c is the strtol family without scanf's scanner
# (WSPROXY_NUM_LIBC).  musl_has drops a flag the machine's gcc lacks
# (-malign-data is x86 only).
musl_has = $(shell musl-gcc $(1) -x c -c -o /dev/null /dev/null \
    2>/dev/null && echo $(1))
STATIC_SRCS = $(SRCS) fmt.c mem.c ids.c num.c
STATIC_CFLAGS = -Os -fno-pie -flto=auto -flto-partition=one \
    -ffunction-sections -fdata-sections \
    -fno-asynchronous-unwind-tables $(call musl_has,-malign-data=abi) \
    $(call musl_has,-mgeneral-regs-only) -DWSPROXY_FMT_LIBC -DWSPROXY_MEM_LIBC \
    -DWSPROXY_IDS_LIBC -DWSPROXY_NUM_LIBC
STATIC_LDFLAGS = -static -no-pie -Wl,--gc-sections -Wl,-z,noseparate-code \
    -Wl,-z,norelro -Wl,-z,common-page-size=16 -Wl,--build-id=none

static: wsproxy-static
wsproxy-static: $(STATIC_SRCS) $(HDRS) fmt.h mem.h num.h Makefile $(STATIC_STAMP) $(STATIC_LIBS)
	musl-gcc $(WARN) $(CPPFLAGS) $(STATIC_FLAGS) $(STATIC_CFLAGS) \
	    $(STATIC_LDFLAGS) -o $@.new $(STATIC_SRCS) $(STATIC_LIBS)
	strip -R .comment $@.new
	mv -f $@.new $@
	@file $@; ls -l $@

# The static binary without TLS, as the empty-root PID 1 test runs it
# (make check): alone in a directory, no libraries, no BearSSL needed.
# The same bytes as `make static TLS=0`, so the size check can use it.
build/wsproxy-static-plain: $(STATIC_SRCS) $(HDRS) fmt.h mem.h num.h Makefile
	@mkdir -p build
	musl-gcc $(WARN) $(CPPFLAGS) $(STATIC_CFLAGS) $(STATIC_LDFLAGS) \
	    -o $@.new $(STATIC_SRCS)
	strip -R .comment $@.new
	mv -f $@.new $@

# The static binaries against their budgets (BENCHMARKS.md, "Binary
# size"): 128 KiB without TLS, 300 KiB with; fails when one is over.
# The TLS one (./wsproxy-static, rebuilt with TLS=1) is measured when
# BearSSL for musl is in third_party/.
size: build/wsproxy-static-plain
	@n=$$(wc -c <build/wsproxy-static-plain); \
	echo "static, no TLS: $$n bytes (budget 131072)"; \
	ok=$$([ "$$n" -le 131072 ] && echo 1); \
	if [ -f $(BEARSSL_MUSL) ]; then \
		$(MAKE) -s static TLS=1 >/dev/null && \
		t=$$(wc -c <wsproxy-static) && \
		echo "static, TLS: $$t bytes (budget 307200)" && \
		[ "$$t" -le 307200 ] || ok=; \
	fi; \
	[ -n "$$ok" ]

# make install [PREFIX=/usr/local] [DESTDIR=]: the binary and the manual.
PREFIX ?= /usr/local
BINDIR ?= $(PREFIX)/bin
MANDIR ?= $(PREFIX)/share/man
install: wsproxy
	mkdir -p $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1
	cp wsproxy $(DESTDIR)$(BINDIR)/wsproxy
	chmod 755 $(DESTDIR)$(BINDIR)/wsproxy
	cp man/wsproxy.1 $(DESTDIR)$(MANDIR)/man1/wsproxy.1
	chmod 644 $(DESTDIR)$(MANDIR)/man1/wsproxy.1

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/wsproxy $(DESTDIR)$(MANDIR)/man1/wsproxy.1

SAN = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
build/wsproxy-asan: $(SRCS) $(HDRS) Makefile $(TLS_STAMP)
	@mkdir -p build
	$(CC) $(WARN) $(CPPFLAGS) $(TLS_FLAGS) -O1 -g $(SAN) -o $@ $(SRCS) \
	    $(LDLIBS) $(TLS_LIBS)

# A unit test and its ASan+UBSan twin:
#   $(call unit,NAME,SOURCES LINKED,OTHER PREREQUISITES)
define unit
build/test_$(1): tests/unit/test_$(1).c tests/unit/guard.h $(2) $(3)
	@mkdir -p build
	$$(CC) $$(WARN) $$(CPPFLAGS) -O1 -g -o $$@ tests/unit/test_$(1).c $(2)
build/test_$(1)-asan: tests/unit/test_$(1).c tests/unit/guard.h $(2) $(3)
	@mkdir -p build
	$$(CC) $$(WARN) $$(CPPFLAGS) -O1 -g $$(SAN) -o $$@ tests/unit/test_$(1).c $(2)
endef
HS_SRCS = handshake.c target.c ws.c
UNITS = ws target handshake iplimit balance cmdline proxyproto routes dns \
    fmt mem num pool kqshim
print-units:
	@echo $(UNITS)
$(eval $(call unit,ws,ws.c,proxy.h))
$(eval $(call unit,target,target.c,tests/unit/target_invariants.h target.h))
$(eval $(call unit,handshake,$(HS_SRCS),handshake.h config.h target.h ws.h))
$(eval $(call unit,iplimit,iplimit.c,iplimit.h config.h))
$(eval $(call unit,balance,balance.c,balance.h config.h))
$(eval $(call unit,cmdline,cmdline.c,cmdline.h))
$(eval $(call unit,proxyproto,proxyproto.c,proxyproto.h))
# routes.c is #included by its test, with tests/unit/routes_stubs.h.
$(eval $(call unit,routes,target.c balance.c,routes.c tests/unit/routes_stubs.h config.h target.h))
$(eval $(call unit,dns,dnsmsg.c,dns.h))
$(eval $(call unit,fmt,fmt.c,fmt.h))
# mem.c is #included by its test.
$(eval $(call unit,mem,,mem.c mem.h))
$(eval $(call unit,num,num.c,num.h))
$(eval $(call unit,pool,pool.c,pool.h))
# The kqueue shim's semantics, then ev_kqueue.c on it (<sys/event.h> is
# the shim's).
$(eval $(call unit,kqshim,tests/kqshim/kqshim.c ev_kqueue.c,tests/kqshim/sys/event.h ev.h))
build/test_kqshim build/test_kqshim-asan: CPPFLAGS += -Itests/kqshim

FUZZERS = fuzz_http_request fuzz_http_response fuzz_frame fuzz_pair fuzz_target \
    fuzz_origin fuzz_proxyproto fuzz_dns fuzz_num
FUZZCC  = clang
build/fuzz_%: tests/fuzz/fuzz_%.c tests/fuzz/fuzz_check.h ws.c proxy.h
	@mkdir -p build
	$(FUZZCC) $(CPPFLAGS) -g -O1 -fsanitize=fuzzer,address,undefined -o $@ $< ws.c

build/fuzz_http_response: tests/fuzz/fuzz_http_request.c

build/fuzz_target: tests/fuzz/fuzz_target.c tests/fuzz/fuzz_check.h tests/unit/target_invariants.h target.c target.h
	@mkdir -p build
	$(FUZZCC) $(CPPFLAGS) -g -O1 -fsanitize=fuzzer,address,undefined -o $@ $< target.c

build/fuzz_origin: tests/fuzz/fuzz_origin.c tests/fuzz/fuzz_check.h $(HS_SRCS) handshake.h config.h ws.h
	@mkdir -p build
	$(FUZZCC) $(CPPFLAGS) -g -O1 -fsanitize=fuzzer,address,undefined -o $@ $< $(HS_SRCS)

build/fuzz_proxyproto: tests/fuzz/fuzz_proxyproto.c tests/fuzz/fuzz_check.h proxyproto.c proxyproto.h
	@mkdir -p build
	$(FUZZCC) $(CPPFLAGS) -g -O1 -fsanitize=fuzzer,address,undefined -o $@ $< proxyproto.c
# The upstream URI parser: routes.c is #included by the harness.
FUZZERS += fuzz_uri
build/fuzz_uri: tests/fuzz/fuzz_uri.c tests/fuzz/fuzz_check.h tests/unit/routes_stubs.h routes.c target.c config.h target.h
	@mkdir -p build
	$(FUZZCC) $(CPPFLAGS) -g -O1 -fsanitize=fuzzer,address,undefined -o $@ $< target.c balance.c

build/fuzz_dns: tests/fuzz/fuzz_dns.c tests/fuzz/fuzz_check.h dnsmsg.c dns.h
	@mkdir -p build
	$(FUZZCC) $(CPPFLAGS) -g -O1 -fsanitize=fuzzer,address,undefined -o $@ $< dnsmsg.c

build/fuzz_num: tests/fuzz/fuzz_num.c tests/fuzz/fuzz_check.h num.c num.h
	@mkdir -p build
	$(FUZZCC) $(CPPFLAGS) -g -O1 -fsanitize=fuzzer,address,undefined -o $@ $< num.c

# The certificate SAN walker lives in tls.c and needs BearSSL.
ifeq ($(TLS_ON),1)
FUZZERS += fuzz_san
build/fuzz_san: tests/fuzz/fuzz_san.c tests/fuzz/fuzz_check.h tls_x509.c $(HDRS)
	@mkdir -p build
	$(FUZZCC) $(CPPFLAGS) -DWSPROXY_TLS -g -O1 \
	    -fsanitize=fuzzer,address,undefined -o $@ tests/fuzz/fuzz_san.c \
	    -lbearssl
endif
# The whole pair state machine: proxy.c is #included by the harness (its
# main renamed), so it is not compiled again here.  Built like ./wsproxy
# (TLS compiled in when it is), plain ends only.
build/fuzz_pair: tests/fuzz/fuzz_pair.c $(SRCS) $(HDRS) $(TLS_STAMP)
	@mkdir -p build
	$(FUZZCC) $(CPPFLAGS) $(TLS_FLAGS) -g -O1 \
	    -fsanitize=fuzzer,address,undefined -o $@ tests/fuzz/fuzz_pair.c \
	    $(filter-out proxy.c,$(SRCS)) $(LDLIBS) $(TLS_LIBS)

fuzz: $(FUZZERS:%=build/%)

# Each fuzzer for 10 minutes (FUZZ_LONG_SECONDS), two at a time.
fuzz-long: fuzz
	sh tests/fuzz/long.sh

# The integration suite with every wsproxy under valgrind's memcheck.
valgrind: wsproxy
	sh tests/valgrind.sh

# Installs missing test packages first (tests/deps.sh), then builds.
check:
	sh tests/deps.sh
	$(MAKE) check-build
	sh tests/check.sh

check-build: wsproxy build/wsproxy-notls build/wsproxy-asan \
    build/wsproxy-kqueue $(UNITS:%=build/test_%) $(UNITS:%=build/test_%-asan) \
    build/wsproxy-static-plain fuzz

bench: wsproxy
	sh bench/run.sh

# Static analysis: cppcheck's variableScope is off because KNF declares
# variables at the top of a function; clang-tidy's choices are in .clang-tidy.
lint:
	cppcheck --enable=warning,style,performance,portability --std=c11 \
	    -D__linux__ -D_GNU_SOURCE $(TLS_FLAGS) --suppress=variableScope \
	    --error-exitcode=1 --quiet $(STATIC_SRCS)
	clang-tidy --quiet $(STATIC_SRCS) -- -std=c11 -D_GNU_SOURCE $(TLS_FLAGS)

clean:
	rm -rf wsproxy wsproxy-static build

.PHONY: all static size install uninstall check check-build print-units fuzz fuzz-long \
    valgrind bench lint clean
