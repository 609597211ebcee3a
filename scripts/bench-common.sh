#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# bench-common.sh: what the namespace benchmarks (bench-throughput.sh, bench-drops.sh) share:
# their two arguments and their checks before anything is set up. Sourced, not run.

# bench_args NAME ROUNDS SECS ARGS...: ROUNDS and SECS from --rounds N and --seconds S, with
# the defaults given; NAME is the benchmark's, for its messages (BENCH).
bench_args() {
	BENCH=$1
	ROUNDS=$2
	SECS=$3
	shift 3
	while [ $# -gt 0 ]; do
		case $1 in
		--rounds) ROUNDS=${2:-}; shift 2 ;;
		--seconds) SECS=${2:-}; shift 2 ;;
		*) echo "$BENCH: unknown argument '$1' (--rounds N, --seconds S)" >&2; exit 2 ;;
		esac
	done
	if ! [[ "$ROUNDS" =~ ^[1-9][0-9]?$ && "$SECS" =~ ^[1-9][0-9]?$ ]]; then
		echo "$BENCH: --rounds and --seconds take a number from 1 to 99" >&2
		exit 2
	fi
}

# bench_require TOOL...: root, each tool on the PATH, and the daemon built.
bench_require() {
	local tool
	if [ "$(id -u)" -ne 0 ]; then
		echo "$BENCH: needs root (BPF and network namespaces): sudo make bench" >&2
		exit 2
	fi
	for tool in "$@"; do
		command -v "$tool" >/dev/null ||
			{ echo "$BENCH: $tool is missing: run make deps" >&2; exit 2; }
	done
	[ -x "$ROOT/build/portcanary" ] || { echo "$BENCH: build/portcanary is missing: run make" >&2; exit 2; }
}
