# wsproxy - plain Makefile; local overrides go in config.mak.
#   make            ./wsproxy (TLS compiled in when BearSSL is found, TLS=0 to omit)
#   make static     ./wsproxy-static, fully static with musl-gcc (TLS=1: with
#                   BearSSL built from Debian's source by scripts/build-bearssl.sh)
#   make check      unit + integration suites (plain, ASan+UBSan, valgrind), short fuzz and chaos runs
#   make check-scale  two wsproxy behind HAProxy (PROXY v2) in network namespaces, a rolling restart (root)
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
    dnsmsg.c workers.c \
    tls.c tls_load.c tls_x509.c x25519.c p256.c $(EV_SRC)
HDRS = proxy.h ws.h target.h config.h handshake.h io.h ev.h pair.h log.h \
    sock.h pool.h tls_int.h listen.h life.h metrics.h pairlog.h \
    admin.h iplimit.h balance.h health.h proxyproto.h cmdline.h dns.h \
    x25519.h p256.h workers.h

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
#   make static                 ./wsproxy-static, with musl-gcc (musl-tools)
#   make static ARCH=aarch64    ./wsproxy-static-aarch64 (also armhf, s390x)
# With ARCH, musl itself is built from Debian's source package with
# Debian's cross compiler into third_party/musl-ARCH
# (scripts/build-musl.sh, run when missing), and its musl-gcc wrapper is
# the compiler (wsproxy(1) PLATFORMS).
# Debian's libbearssl.a is built for glibc and does not link with musl, so
# a static TLS build uses BearSSL compiled from Debian's source package with
# that musl-gcc into third_party/bearssl (third_party/bearssl-ARCH)
# (scripts/build-bearssl.sh, run when missing).
# Static TLS is on with TLS=1, or with TLS=auto when the musl compiler
# finds <bearssl.h> there: musl-gcc searches musl's headers only, so the
# host's libbearssl-dev never counts.
ARCH ?=
CROSS_aarch64 = aarch64-linux-gnu-
CROSS_armhf = arm-linux-gnueabihf-
CROSS_s390x = s390x-linux-gnu-
ifeq ($(ARCH),)
MUSL_CC = musl-gcc
MUSL_DEP =
MUSL_PROBE = musl-gcc
STATIC_BIN = wsproxy-static
STATIC_DIR = build
BEARSSL_DIR = third_party/bearssl
STRIP = strip
else
CROSS = $(CROSS_$(ARCH))
ifeq ($(CROSS),)
$(error ARCH=$(ARCH): one of aarch64, armhf, s390x)
endif
MUSL_CC = third_party/musl-$(ARCH)/bin/musl-gcc
MUSL_DEP = $(MUSL_CC)
# musl may not be built yet when flags are probed; gcc is the same.
MUSL_PROBE = $(CROSS)gcc
STATIC_BIN = wsproxy-static-$(ARCH)
STATIC_DIR = build/$(ARCH)
BEARSSL_DIR = third_party/bearssl-$(ARCH)
STRIP = $(CROSS)strip
endif
BEARSSL_MUSL = $(BEARSSL_DIR)/build/libbearssl.a
ifeq ($(TLS),auto)
STATIC_TLS := $(shell test -f $(BEARSSL_MUSL) && echo '\#include <bearssl.h>' | \
    $(MUSL_CC) -isystem $(BEARSSL_DIR)/inc -E -x c - >/dev/null 2>&1 && \
    echo 1 || echo 0)
else
STATIC_TLS := $(TLS)
endif
ifeq ($(STATIC_TLS),1)
STATIC_FLAGS = -DWSPROXY_TLS -isystem $(BEARSSL_DIR)/inc
STATIC_LIBS = $(BEARSSL_MUSL)
STATIC_STAMP = $(STATIC_DIR)/static-tls-on
else
STATIC_STAMP = $(STATIC_DIR)/static-tls-off
endif

$(STATIC_STAMP):
	@mkdir -p $(@D)
	@rm -f $(@D)/static-tls-on $(@D)/static-tls-off
	@touch $@

$(BEARSSL_MUSL):
	sh scripts/build-bearssl.sh $(ARCH)

ifneq ($(ARCH),)
$(MUSL_CC):
	sh scripts/build-musl.sh $(ARCH)
endif

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
# (WSPROXY_NUM_LIBC).  -fno-unwind-tables: Debian's aarch64 gcc makes
# unwind tables even without the asynchronous ones, 10 KiB of
# .eh_frame nothing reads.  -mcmodel=tiny (aarch64): one ADR where the
# small model needs ADRP and ADD for each address, 4.6 KiB less; the
# whole image, bss included, must then be within 1 MiB of the code (the
# link fails if not).  WSPROXY_NO_WORKERS leaves --workers out and
# -fno-jump-tables saves 352 bytes: the two keep the budget (BENCHMARKS.md,
# "Binary size").  -fomit-frame-pointer: Debian's aarch64 gcc keeps
# the frame pointer at -Os; 1.6 KiB there, nothing on x86-64.  musl_has drops a flag the target's gcc lacks
# (-malign-data is x86 only; -mgeneral-regs-only is x86 and aarch64;
# -mcmodel=tiny aarch64 only): it asks the cross gcc when ARCH is set,
# never the host's.
musl_has = $(shell $(MUSL_PROBE) $(1) -x c -c -o /dev/null /dev/null \
    2>/dev/null && echo $(1))
STATIC_SRCS = $(SRCS) fmt.c mem.c ids.c num.c
STATIC_CFLAGS = -Os -fomit-frame-pointer -fno-jump-tables -fno-pie -flto=auto -flto-partition=one \
    -ffunction-sections -fdata-sections \
    -fno-asynchronous-unwind-tables -fno-unwind-tables \
    $(call musl_has,-malign-data=abi) $(call musl_has,-mgeneral-regs-only) \
    $(call musl_has,-mcmodel=tiny) -DWSPROXY_FMT_LIBC -DWSPROXY_MEM_LIBC \
    -DWSPROXY_IDS_LIBC -DWSPROXY_NUM_LIBC -DWSPROXY_NO_WORKERS
STATIC_LDFLAGS = -static -no-pie -Wl,--gc-sections -Wl,-z,noseparate-code \
    -Wl,-z,norelro -Wl,-z,common-page-size=16 -Wl,--build-id=none

static: $(STATIC_BIN)
$(STATIC_BIN): $(STATIC_SRCS) $(HDRS) fmt.h mem.h num.h Makefile $(STATIC_STAMP) $(STATIC_LIBS) $(MUSL_DEP)
	$(MUSL_CC) $(WARN) $(CPPFLAGS) $(STATIC_FLAGS) $(STATIC_CFLAGS) \
	    $(STATIC_LDFLAGS) -o $@.new $(STATIC_SRCS) $(STATIC_LIBS)
	$(STRIP) -R .comment $@.new
	mv -f $@.new $@
	@file $@; ls -l $@

# The static binary without TLS, as the empty-root PID 1 test runs it
# (make check): alone in a directory, no libraries, no BearSSL needed.
# The same bytes as `make static TLS=0`, so the size check can use it.
# With ARCH: build/ARCH/wsproxy-static-plain, for make check-cross.
$(STATIC_DIR)/wsproxy-static-plain: $(STATIC_SRCS) $(HDRS) fmt.h mem.h num.h Makefile $(MUSL_DEP)
	@mkdir -p $(@D)
	$(MUSL_CC) $(WARN) $(CPPFLAGS) $(STATIC_CFLAGS) $(STATIC_LDFLAGS) \
	    -o $@.new $(STATIC_SRCS)
	$(STRIP) -R .comment $@.new
	mv -f $@.new $@

# The static binaries against their budgets (BENCHMARKS.md, "Binary
# size"): 128 KiB without TLS, 300 KiB with; fails when one is over.
# The TLS one (./wsproxy-static or ./wsproxy-static-ARCH, rebuilt with
# TLS=1) is measured when BearSSL for musl is in third_party/.
size: $(STATIC_DIR)/wsproxy-static-plain
	@n=$$(wc -c <$(STATIC_DIR)/wsproxy-static-plain); \
	echo "static$(ARCH:%= %), no TLS: $$n bytes (budget 131072)"; \
	ok=$$([ "$$n" -le 131072 ] && echo 1); \
	if [ -f $(BEARSSL_MUSL) ]; then \
		$(MAKE) -s static TLS=1 >/dev/null && \
		t=$$(wc -c <$(STATIC_BIN)) && \
		echo "static$(ARCH:%= %), TLS: $$t bytes (budget 307200)" && \
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
# UNIT_LIBS, set for a test's targets, is linked after the sources.
define unit
build/test_$(1): tests/unit/test_$(1).c tests/unit/guard.h tests/unit/check.h $(2) $(3)
	@mkdir -p build
	$$(CC) $$(WARN) $$(CPPFLAGS) -O1 -g -o $$@ tests/unit/test_$(1).c $(2) $$(UNIT_LIBS)
build/test_$(1)-asan: tests/unit/test_$(1).c tests/unit/guard.h tests/unit/check.h $(2) $(3)
	@mkdir -p build
	$$(CC) $$(WARN) $$(CPPFLAGS) -O1 -g $$(SAN) -o $$@ tests/unit/test_$(1).c $(2) $$(UNIT_LIBS)
ifneq ($(ARCH),)
# With ARCH: static against that musl, for make check-cross (qemu-user).
$(STATIC_DIR)/test_$(1): tests/unit/test_$(1).c tests/unit/guard.h tests/unit/check.h $(2) $(3) $(MUSL_DEP)
	@mkdir -p $$(@D)
	$$(MUSL_CC) $$(WARN) $$(CPPFLAGS) -O1 -g -static -o $$@.new tests/unit/test_$(1).c $(2) $$(UNIT_LIBS)
	mv -f $$@.new $$@
endif
endef
HS_SRCS = handshake.c target.c ws.c
UNITS = ws target handshake iplimit balance cmdline proxyproto routes dns \
    fmt mem num pool kqshim
# x25519.c and p256.c are compared with BearSSL's own: only where
# BearSSL is.
ifeq ($(TLS_ON),1)
UNITS += x25519 p256
endif
print-units:
	@echo $(UNITS)
# The kqueue shim is a Linux host's test of ev_kqueue.c: not cross-built;
# nor p256, which links the host's BearSSL.
CROSS_UNITS = $(filter-out kqshim p256,$(UNITS))
print-cross-units:
	@echo $(CROSS_UNITS)
# make units-cross ARCH=...: every unit test for that machine.
units-cross: $(CROSS_UNITS:%=$(STATIC_DIR)/test_%)
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
# x25519.c as the TLS build has it, against Debian's BearSSL; cross-built
# against the musl BearSSL of make static ARCH=... TLS=1.
$(eval $(call unit,x25519,x25519.c p256.c,x25519.h p256.h))
build/test_x25519 build/test_x25519-asan: CPPFLAGS += -DWSPROXY_TLS
build/test_x25519 build/test_x25519-asan: UNIT_LIBS = -lbearssl
ifneq ($(ARCH),)
$(STATIC_DIR)/test_x25519: CPPFLAGS += -DWSPROXY_TLS -isystem $(BEARSSL_DIR)/inc
$(STATIC_DIR)/test_x25519: UNIT_LIBS = $(BEARSSL_MUSL)
$(STATIC_DIR)/test_x25519: $(BEARSSL_MUSL)
endif

$(eval $(call unit,p256,p256.c,p256.h))
build/test_p256 build/test_p256-asan: CPPFLAGS += -DWSPROXY_TLS
build/test_p256 build/test_p256-asan: UNIT_LIBS = -lbearssl

# make bench-p256: microseconds per mulgen and mul, p256.c against
# br_ec_p256_m31 (not a test).
build/bench_p256: bench/p256.c p256.c p256.h Makefile
	@mkdir -p build
	$(CC) $(WARN) $(CPPFLAGS) -DWSPROXY_TLS -O2 -o $@ bench/p256.c p256.c \
	    -lbearssl
bench-p256: build/bench_p256
	build/bench_p256

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
# tls.c's engine ends between idle (record buffer parked) and active,
# against a BearSSL client: tls.c is #included by the harness.
FUZZERS += fuzz_tls
build/fuzz_tls: tests/fuzz/fuzz_tls.c tests/fuzz/fuzz_check.h tls.c tls_load.c \
    tls_x509.c x25519.c p256.c pool.c log.c $(HDRS)
	@mkdir -p build
	$(FUZZCC) $(CPPFLAGS) -DWSPROXY_TLS -g -O1 \
	    -fsanitize=fuzzer,address,undefined -o $@ tests/fuzz/fuzz_tls.c \
	    tls_load.c tls_x509.c x25519.c p256.c pool.c log.c -lbearssl
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

# The static musl builds for other machines under qemu-user
# (tests/cross.sh; wsproxy(1) PLATFORMS): aarch64, armhf, s390x,
# each plain and with TLS, a smoke suite and the unit tests.  CROSS_ARCHS
# picks some of them.
check-cross:
	sh tests/deps.sh
	sh tests/cross.sh $(CROSS_ARCHS)

# wsproxy scaled out in network namespaces (tests/scale/cluster.sh;
# wsproxy(1) SCALING OUT): HAProxy in TCP mode with PROXY v2 in front of
# two wsproxy hosts, a rolling restart under load.  Needs root (skips
# without it); about 20 seconds.
check-scale: wsproxy
	sh tests/deps.sh
	sh tests/scale/cluster.sh

check-build: wsproxy build/wsproxy-notls build/wsproxy-asan \
    build/wsproxy-kqueue $(UNITS:%=build/test_%) $(UNITS:%=build/test_%-asan) \
    build/wsproxy-static-plain fuzz

bench: wsproxy
	sh bench/run.sh

# The bench's load generator on its own (bench/run.sh builds its own copy
# into bench/out); loadgen-tls, the wss:// client of the TLS scenarios,
# links OpenSSL (a bench tool only) and exists only where its headers do.
BENCH_LG_SRCS = bench/loadgen.c bench/measure.c bench/probe.c
BENCH_LG_HDRS = bench/measure.h bench/probe.h bench/tlsclient.h bench/wsutil.h
build/loadgen: $(BENCH_LG_SRCS) $(BENCH_LG_HDRS)
	@mkdir -p build
	$(CC) -O2 -std=c11 -Wall -Wextra -o $@ $(BENCH_LG_SRCS)

ifneq ($(wildcard /usr/include/openssl/ssl.h),)
build/loadgen-tls: $(BENCH_LG_SRCS) bench/tlsclient.c $(BENCH_LG_HDRS)
	@mkdir -p build
	$(CC) -O2 -std=c11 -Wall -Wextra -DBENCH_TLS -o $@ $(BENCH_LG_SRCS) \
	    bench/tlsclient.c -lssl -lcrypto
endif

# Microseconds per X25519 multiplication, x25519.c against BearSSL's m31
# (bench/x25519.c; not a test), built like ./wsproxy.
build/bench_x25519: bench/x25519.c x25519.c x25519.h p256.c p256.h Makefile
	@mkdir -p build
	$(CC) $(WARN) $(CPPFLAGS) -DWSPROXY_TLS $(CFLAGS) -o $@ bench/x25519.c \
	    x25519.c p256.c $(LDFLAGS) -lbearssl

# Static analysis: cppcheck's variableScope is off because KNF declares
# variables at the top of a function; clang-tidy's choices are in .clang-tidy.
lint:
	cppcheck --enable=warning,style,performance,portability --std=c11 \
	    -D__linux__ -D_GNU_SOURCE $(TLS_FLAGS) --suppress=variableScope \
	    --error-exitcode=1 --quiet $(STATIC_SRCS)
	clang-tidy --quiet $(STATIC_SRCS) -- -std=c11 -D_GNU_SOURCE $(TLS_FLAGS)

clean:
	rm -rf wsproxy wsproxy-static wsproxy-static-aarch64 wsproxy-static-armhf \
	    wsproxy-static-s390x build

.PHONY: all static size install uninstall check check-build check-cross check-scale \
    print-units print-cross-units units-cross fuzz fuzz-long valgrind bench \
    bench-p256 lint clean
