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

PKGS       := libbpf libxdp libelf zlib json-c libcap
CFLAGS     ?= -O2 -g
CFLAGS     += -std=gnu11 -Wall -Wextra -Werror -Wno-missing-field-initializers \
              -D_GNU_SOURCE -DPC_VERSION='"$(VERSION)"' \
              -Iinclude -Iuser -I$(BUILD) $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
LDLIBS     += $(shell pkg-config --libs $(PKGS) 2>/dev/null || echo -lbpf -lxdp -lelf -lz -ljson-c -lcap) -lm
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -D__BPF__ -Wall -Werror \
              -Iinclude -Ibpf -I$(BUILD)

# portcanary.bpf.c defines the shared maps; it must come first when linking (libbpf 1.1
# resolves the other files' extern maps only against a definition seen before them).
BPF_SRCS   := bpf/portcanary.bpf.c $(filter-out bpf/portcanary.bpf.c,$(wildcard bpf/*.bpf.c))
BPF_HDRS   := $(wildcard bpf/*.bpf.h) include/portcanary.h
BPF_OBJS   := $(patsubst bpf/%.bpf.c,$(BUILD)/bpf/%.bpf.o,$(BPF_SRCS))
SKEL       := $(BUILD)/portcanary.skel.h
BPF_OBJ    := $(BUILD)/portcanary.bpf.o

USER_SRCS  := $(wildcard user/*.c)
USER_OBJS  := $(patsubst user/%.c,$(BUILD)/user/%.o,$(USER_SRCS))
LIB_OBJS   := $(filter-out $(BUILD)/user/main.o,$(USER_OBJS))
USER_HDRS  := $(wildcard user/*.h) include/portcanary.h

UNIT_SRCS  := $(wildcard tests/unit/test_*.c)
UNIT_BINS  := $(patsubst tests/unit/%.c,$(BUILD)/tests/unit/%,$(UNIT_SRCS))
BPFT_SRCS  := $(wildcard tests/bpf/test_*.c)
BPFT_BINS  := $(patsubst tests/bpf/%.c,$(BUILD)/tests/bpf/%,$(BPFT_SRCS))
TEST_HELPER_SRCS := $(filter-out $(UNIT_SRCS) $(BPFT_SRCS),$(wildcard tests/unit/*.c tests/bpf/*.c))
TEST_HELPER_OBJS := $(patsubst tests/%.c,$(BUILD)/tests/%.o,$(TEST_HELPER_SRCS))

.PHONY: all deps test test-unit test-bpf test-e2e bench demo install clean format
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

# Benchmark programs (tests/bench/*.c): built against the same skeleton and libraries.
$(BUILD)/bench/%: tests/bench/%.c $(LIB_OBJS) $(SKEL)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -Itests $< $(LIB_OBJS) -o $@ $(LDLIBS)

# The XDP benchmark: links the tests' frame builder, and measures our program beside an
# empty XDP program (compiled here, outside the skeleton) and xdp-filter's.
$(BUILD)/bench/empty.bpf.o: tests/bench/empty.bpf.c $(BUILD)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/bench/bench_xdp: tests/bench/bench_xdp.c $(BUILD)/tests/bpf/pkt.o $(SKEL) \
		$(BUILD)/bench/empty.bpf.o
	$(call msg,CC,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CC) $(CFLAGS) -Itests $< $(BUILD)/tests/bpf/pkt.o -o $@ $(LDLIBS)

# Test-only BPF programs of the namespace tests.
E2E_BPF    := $(patsubst tests/e2e/%.bpf.c,$(BUILD)/tests/e2e/%.bpf.o,$(wildcard tests/e2e/*.bpf.c))
$(BUILD)/tests/e2e/%.bpf.o: tests/e2e/%.bpf.c $(BUILD)/vmlinux.h
	$(call msg,BPF,$@)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

test: deps
	$(Q)$(MAKE) --no-print-directory all $(UNIT_BINS) $(BPFT_BINS) $(E2E_BPF)
	$(Q)scripts/run-tests.sh all

test-unit: all $(UNIT_BINS)
	$(Q)scripts/run-tests.sh unit
test-bpf: all $(BPFT_BINS)
	$(Q)scripts/run-tests.sh bpf
test-e2e: all $(E2E_BPF)
	$(Q)scripts/run-tests.sh e2e

bench: deps
	$(Q)$(MAKE) --no-print-directory all $(BUILD)/bench/bench_xdp
	$(Q)scripts/bench.sh

demo: deps
	$(Q)$(MAKE) --no-print-directory all
	$(Q)scripts/demo.sh

install: all
	install -D -m 0755 $(BUILD)/portcanary $(DESTDIR)$(PREFIX)/sbin/portcanary

format:
	clang-format -i include/*.h bpf/*.c bpf/*.h user/*.c user/*.h tests/*/*.c

clean:
	rm -rf $(BUILD)
