# SPDX-License-Identifier: GPL-2.0
# portcanary: one entry point. Artefacts go to build/. V=1 shows the commands.

VERSION    := 0.1.0
BUILD      := build
CLANG      ?= clang
BPFTOOL    ?= bpftool
CC         ?= gcc
PREFIX     ?= /usr/local
ARCH       := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

PKGS       := libbpf libxdp libelf zlib json-c libcap inih libmicrohttpd libmnl libnftnl libnftables
CFLAGS     ?= -O2 -g
CFLAGS     += -std=gnu11 -Wall -Wextra -Werror -Wno-missing-field-initializers \
              -D_GNU_SOURCE -DPC_VERSION='"$(VERSION)"' \
              -Iinclude -Iuser -I$(BUILD) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS     += $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lbpf -lxdp -lelf -lz -ljson-c -lcap -lmicrohttpd) -lm
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -D__BPF__ -Wall -Werror \
              -Iinclude -Ibpf -I$(BUILD)

# portcanary.bpf.c defines the shared maps; it must come first when linking (libbpf 1.1
# resolves the other files' extern maps only against a definition seen before them).
BPF_SRCS   := bpf/portcanary.bpf.c $(filter-out bpf/portcanary.bpf.c,$(wildcard bpf/*.bpf.c))
BPF_HDRS   := $(wildcard bpf/*.bpf.h) include/portcanary.h
BPF_OBJS   := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
SKEL       := $(BUILD)/portcanary.skel.h
BPF_OBJ    := $(BUILD)/portcanary.bpf.o

# user/ holds the daemon's core; subsystems have folders of their own (user/firewall/, user/preflight/).
USER_SRCS  := $(wildcard user/*.c user/*/*.c)
USER_OBJS  := $(patsubst user/%.c,$(BUILD)/user/%.o,$(USER_SRCS))
LIB_OBJS   := $(filter-out $(BUILD)/user/main.o,$(USER_OBJS))
USER_HDRS  := $(wildcard user/*.h user/*/*.h) include/portcanary.h

UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRCS))
BPFT_SRCS  := $(wildcard tests/bpf/test_*.c)
BPFT_BINS  := $(patsubst tests/bpf/%.c,$(BUILD)/tests/bpf/%,$(BPFT_SRCS))
TEST_HELPER_SRCS := $(filter-out $(UNIT_SRCS) $(BPFT_SRCS) %.bpf.c,$(wildcard tests/unit/*.c tests/bpf/*.c))
TEST_HELPER_OBJS := $(patsubst tests/%.c,$(BUILD)/tests/%.o,$(TEST_HELPER_SRCS))

.PHONY: all deps test test-unit test-bpf test-e2e bench demo install uninstall clean format
all: $(BUILD)/portcanary

deps:
	$(Q)scripts/install-deps.sh

$(BUILD)/vmlinux.h:
	$(call msg,BTF,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c > $@.tmp && mv $@.tmp $@

$(BUILD)/bpf/%.bpf.o: bpf/%.bpf.c $(BPF_HDRS) $(BUILD)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# The drop tracer claims its table's keys with a compare-and-swap: BPF ISA v3 atomics (clang
# 14 defaults to v1). The datapath programs keep the default, as measured in make bench.
$(BUILD)/bpf/drops.bpf.o: BPF_CFLAGS += -mcpu=v3

# All programs are linked into one object and one skeleton.
$(BPF_OBJ): $(BPF_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(BPFTOOL) gen object $@ $^

$(SKEL): $(BPF_OBJ)
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name portcanary_bpf > $@.tmp && mv $@.tmp $@

$(BUILD)/user/%.o: user/%.c $(USER_HDRS) $(SKEL)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/portcanary: $(USER_OBJS)
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

$(BUILD)/tests/%.o: tests/%.c $(USER_HDRS) $(SKEL) $(wildcard tests/*/*.h)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -Itests -c $< -o $@

$(BUILD)/tests/unit/%: $(BUILD)/tests/unit/%.o $(LIB_OBJS) $(filter $(BUILD)/tests/unit/%,$(TEST_HELPER_OBJS))
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS) -lcmocka

$(BUILD)/tests/bpf/%: $(BUILD)/tests/bpf/%.o $(LIB_OBJS) $(filter $(BUILD)/tests/bpf/%,$(TEST_HELPER_OBJS))
	$(call msg,LD,$@)
	$(Q)$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS) -lcmocka

# Test-only BPF programs of the BPF tests (tests/bpf/*.bpf.c), loaded at run time from
# beside the test binary; built with it (order-only: not linked in).
BPFT_BPF   := $(patsubst tests/bpf/%.bpf.c,$(BUILD)/tests/bpf/%.bpf.o,$(wildcard tests/bpf/*.bpf.c))
$(BUILD)/tests/bpf/%.bpf.o: tests/bpf/%.bpf.c $(BUILD)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@
$(BPFT_BINS): | $(BPFT_BPF)

# Benchmark programs (tests/bench/*.c): built against the same skeleton and libraries.
$(BUILD)/bench/%: tests/bench/%.c $(LIB_OBJS) $(SKEL)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -Itests $< $(LIB_OBJS) -o $@ $(LDLIBS)

# The XDP benchmark: links the tests' frame builder, and measures our program beside the
# reference programs of tests/bench/*.bpf.c (an empty one, a minimal SYN counter; compiled
# here with the same flags, outside the skeleton) and xdp-filter's.
BENCH_BPF  := $(patsubst tests/bench/%.bpf.c,$(BUILD)/bench/%.bpf.o,$(wildcard tests/bench/*.bpf.c))

$(BUILD)/bench/%.bpf.o: tests/bench/%.bpf.c $(BUILD)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bench/bench_xdp: tests/bench/bench_xdp.c $(BUILD)/tests/bpf/pkt.o $(LIB_OBJS) $(SKEL) $(BENCH_BPF)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -Itests $< $(BUILD)/tests/bpf/pkt.o $(LIB_OBJS) -o $@ $(LDLIBS)

# Test-only BPF programs of the namespace tests.
E2E_BPF    := $(patsubst tests/e2e/%.bpf.c,$(BUILD)/tests/e2e/%.bpf.o,$(wildcard tests/e2e/*.bpf.c))
$(BUILD)/tests/e2e/%.bpf.o: tests/e2e/%.bpf.c $(BUILD)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

# Helper programs of the namespace tests (tests/e2e/*.c, e.g. exporter_probe): linked with
# the daemon's objects.
E2E_BINS   := $(patsubst tests/e2e/%.c,$(BUILD)/tests/e2e/%,$(filter-out %.bpf.c,$(wildcard tests/e2e/*.c)))
$(BUILD)/tests/e2e/%: tests/e2e/%.c $(LIB_OBJS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -Itests $< $(LIB_OBJS) -o $@ $(LDLIBS)

test: deps
	$(Q)$(MAKE) --no-print-directory all $(UNIT_BINS) $(BPFT_BINS) $(E2E_BPF) $(E2E_BINS)
	$(Q)scripts/run-tests.sh all

test-unit: all $(UNIT_BINS)
	$(Q)scripts/run-tests.sh unit
test-bpf: all $(BPFT_BINS)
	$(Q)scripts/run-tests.sh bpf
test-e2e: all $(E2E_BPF) $(E2E_BINS)
	$(Q)scripts/run-tests.sh e2e

# Every benchmark runs; a missed target (a script's exit 1) fails `make bench` at the end.
bench: deps
	$(Q)$(MAKE) --no-print-directory all $(BUILD)/bench/bench_xdp $(BUILD)/bench/bench_flood
	$(Q)rc=0; scripts/bench.sh || rc=1; scripts/bench-daemon.sh || rc=1; \
		scripts/bench-throughput.sh || rc=1; scripts/bench-drops.sh || rc=1; exit $$rc

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/demo.sh

# make install [PREFIX=/usr/local] [DESTDIR=] [UNITDIR=/lib/systemd/system] [SYSCONFDIR=/etc]
# The unit's ExecStart follows PREFIX. An existing portcanary.conf is never overwritten;
# when there is none, the example (every setting commented: the defaults) becomes it, so
# the unit starts as installed.
UNITDIR    ?= /lib/systemd/system
SYSCONFDIR ?= /etc
MANDIR     ?= $(PREFIX)/share/man
DATADIR    ?= $(PREFIX)/share/portcanary
PC_CONFDIR  = $(DESTDIR)$(SYSCONFDIR)/portcanary
PROM_FILES := $(wildcard deploy/prometheus/*)
GRAF_FILES := $(wildcard deploy/grafana/*)
AM_FILES   := $(wildcard deploy/alertmanager/*)

install: all
	install -D -m 0755 $(BUILD)/portcanary $(DESTDIR)$(PREFIX)/sbin/portcanary
	install -d -m 0755 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(MANDIR)/man8 $(PC_CONFDIR)
	sed -e 's|/usr/local/sbin/portcanary|$(PREFIX)/sbin/portcanary|' \
	    -e 's|/etc/portcanary/|$(SYSCONFDIR)/portcanary/|' \
	    deploy/systemd/portcanary.service > $(DESTDIR)$(UNITDIR)/portcanary.service
	chmod 0644 $(DESTDIR)$(UNITDIR)/portcanary.service
	install -m 0644 docs/portcanary.8 $(DESTDIR)$(MANDIR)/man8/portcanary.8
	install -m 0644 deploy/portcanary.conf.example $(PC_CONFDIR)/portcanary.conf.example
	[ -e $(PC_CONFDIR)/portcanary.conf ] || \
		install -m 0644 deploy/portcanary.conf.example $(PC_CONFDIR)/portcanary.conf
	$(if $(PROM_FILES),install -D -m 0644 -t $(DESTDIR)$(DATADIR)/prometheus $(PROM_FILES))
	$(if $(GRAF_FILES),install -D -m 0644 -t $(DESTDIR)$(DATADIR)/grafana $(GRAF_FILES))
	$(if $(AM_FILES),install -D -m 0644 -t $(DESTDIR)$(DATADIR)/alertmanager $(AM_FILES))

# Leaves portcanary.conf (the operator's) and the pinned counters alone.
uninstall:
	rm -f $(DESTDIR)$(PREFIX)/sbin/portcanary $(DESTDIR)$(UNITDIR)/portcanary.service \
	      $(DESTDIR)$(MANDIR)/man8/portcanary.8 $(PC_CONFDIR)/portcanary.conf.example
	rm -rf $(DESTDIR)$(DATADIR)

format:
	clang-format -i include/*.h bpf/*.c bpf/*.h user/*.c user/*.h user/*/*.c user/*/*.h tests/*/*.c

clean:
	rm -rf $(BUILD)
