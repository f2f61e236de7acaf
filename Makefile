# wsproxy - plain Makefile; local overrides go in config.mak.
#   make            ./wsproxy (TLS compiled in when BearSSL is found, TLS=0 to omit)
#   make static     ./wsproxy-static, fully static with musl-gcc
#   make check      unit + integration suites, plain and ASan+UBSan, short fuzz runs
#   make fuzz       libFuzzer targets in build/
#   make bench      side-by-side benchmark against nginx and HAProxy (not a test)

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN     = -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wstrict-prototypes \
           -Wmissing-prototypes -Wconversion
CPPFLAGS += -D_GNU_SOURCE
LDFLAGS ?=
LDLIBS  ?=

-include config.mak

SRCS = proxy.c config.c handshake.c ws.c tls.c
HDRS = proxy.h ev_epoll.c ev_kqueue.c

all: wsproxy

wsproxy: $(SRCS) $(HDRS) Makefile
	$(CC) $(WARN) $(CPPFLAGS) $(CFLAGS) -o $@ $(SRCS) $(LDFLAGS) $(LDLIBS)

# Fully static, musl-based: the binary for embedded boards and FROM scratch.
static: wsproxy-static
wsproxy-static: $(SRCS) $(HDRS) Makefile
	musl-gcc $(WARN) $(CPPFLAGS) -Os -static -ffunction-sections \
	    -fdata-sections -fno-asynchronous-unwind-tables \
	    -Wl,--gc-sections -Wl,-z,noseparate-code -Wl,--build-id=none \
	    -o $@ $(SRCS)
	strip -R .comment $@
	@file $@; ls -l $@

SAN = -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
build/wsproxy-asan: $(SRCS) $(HDRS) Makefile
	@mkdir -p build
	$(CC) $(WARN) $(CPPFLAGS) -O1 -g $(SAN) -o $@ $(SRCS) $(LDLIBS)

build/test_ws: tests/unit/test_ws.c ws.c proxy.h
	@mkdir -p build
	$(CC) $(WARN) $(CPPFLAGS) -O1 -g -o $@ tests/unit/test_ws.c ws.c
build/test_ws-asan: tests/unit/test_ws.c ws.c proxy.h
	@mkdir -p build
	$(CC) $(WARN) $(CPPFLAGS) -O1 -g $(SAN) -o $@ tests/unit/test_ws.c ws.c

FUZZERS = fuzz_http_request fuzz_http_response fuzz_frame
FUZZCC  = clang
build/fuzz_%: tests/fuzz/fuzz_%.c ws.c proxy.h
	@mkdir -p build
	$(FUZZCC) $(CPPFLAGS) -g -O1 -fsanitize=fuzzer,address,undefined -o $@ $< ws.c

build/fuzz_http_response: tests/fuzz/fuzz_http_request.c

fuzz: $(FUZZERS:%=build/%)

# Installs missing test packages first (tests/deps.sh), then builds.
check:
	sh tests/deps.sh
	$(MAKE) check-build
	sh tests/check.sh

check-build: wsproxy build/wsproxy-asan build/test_ws build/test_ws-asan fuzz

bench: wsproxy
	sh bench/run.sh

# Static analysis: cppcheck's variableScope is off because KNF declares
# variables at the top of a function; clang-tidy's choices are in .clang-tidy.
lint:
	cppcheck --enable=warning,style,performance,portability --std=c11 \
	    -D__linux__ -D_GNU_SOURCE --suppress=variableScope \
	    --error-exitcode=1 --quiet $(SRCS)
	clang-tidy --quiet $(SRCS) -- -std=c11 -D_GNU_SOURCE

clean:
	rm -rf wsproxy wsproxy-static build

.PHONY: all static check check-build fuzz bench lint clean
