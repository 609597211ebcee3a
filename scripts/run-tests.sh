#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# run-tests.sh: run the unit, BPF and namespace suites; print each one's output and a closing count.
# usage: scripts/run-tests.sh [all|unit|bpf|e2e]
set -u
cd "$(dirname "$0")/.."
suite=${1:-all}
PASS=0
FAIL=0
FAILED_NAMES=()
LOG=$(mktemp)
trap 'rm -f "$LOG"' EXIT

# cmocka prints "[  PASSED  ] N test(s)." and "[  FAILED  ] N test(s), listed below:"
run_cmocka() {
	local bin=$1 rc p f
	echo "=== $bin"
	timeout 600 "$bin" 2>&1 | tee "$LOG"
	rc=${PIPESTATUS[0]}
	p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' "$LOG" | tail -1)
	f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' "$LOG" | tail -1)
	p=${p:-0}
	f=${f:-0}
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi	# crashed or refused to run
	PASS=$((PASS + p))
	FAIL=$((FAIL + f))
	[ "$f" -eq 0 ] || FAILED_NAMES+=("$bin")
}

# namespace scripts print "ok - ..." / "not ok - ..." and "# NAME: N passed, M failed"
# The host's own ruleset, as a test must leave it: every ruleset a test changes is in a
# namespace of its own.
host_ruleset() { nft list ruleset 2>&1 | sha256sum; }
run_script() {
	local script=$1 rc p f start before
	echo "=== $script"
	start=$(date +%s)
	before=$(host_ruleset)
	timeout 900 bash "$script" 2>&1 | tee "$LOG"
	rc=${PIPESTATUS[0]}
	if [ "$(host_ruleset)" != "$before" ]; then
		echo "not ok - $script changed the host's own nftables ruleset" | tee -a "$LOG"
	fi
	p=$(grep -c '^ok - ' "$LOG")
	f=$(grep -c '^not ok - ' "$LOG")
	if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then f=1; fi
	echo "# $script took $(($(date +%s) - start)) s"
	PASS=$((PASS + p))
	FAIL=$((FAIL + f))
	[ "$f" -eq 0 ] || FAILED_NAMES+=("$script")
}

need_root() {
	if [ "$(id -u)" -ne 0 ]; then
		echo "not ok - the $1 tests need root (BPF, namespaces); they do not skip"
		FAIL=$((FAIL + 1))
		FAILED_NAMES+=("$1 (not root)")
		return 1
	fi
}

if [ "$suite" = all ] || [ "$suite" = unit ]; then
	for t in build/tests/unit/test_*; do [ -x "$t" ] && run_cmocka "$t"; done
fi
if [ "$suite" = all ] || [ "$suite" = bpf ]; then
	if need_root bpf; then
		for t in build/tests/bpf/test_*; do [ -x "$t" ] && run_cmocka "$t"; done
	fi
fi
if [ "$suite" = all ] || [ "$suite" = e2e ]; then
	if need_root e2e; then
		for t in tests/e2e/test_*.sh; do run_script "$t"; done
	fi
fi

echo
[ ${#FAILED_NAMES[@]} -eq 0 ] || echo "failed: ${FAILED_NAMES[*]}"
echo "portcanary: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ] && [ "$PASS" -gt 0 ]
