#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# hook.sh DIR: a deliberately slow --exec hook for the tests: records the event's environment
# and its JSON (stdin) under DIR, then sleeps longer than an interval.
dir=$1
name="$dir/hook.$PORTCANARY_PORT.$PORTCANARY_EVENT"
cat > "$name.json"
env | grep '^PORTCANARY_' | sort > "$name.env"
sleep 20
