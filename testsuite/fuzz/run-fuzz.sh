#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# Run one libFuzzer harness: first every saved regression input (each must pass), then
# fuzzing for SECONDS from the committed seeds, new inputs going to a work directory
# outside the source tree. A crash, leak, timeout or sanitizer report fails the run and
# leaves the input in the work directory (see testsuite/fuzz/README.md).
#   run-fuzz.sh HARNESS SEED_DIR REGRESSION_DIR WORK_DIR SECONDS
set -eu
harness=$1 seeds=$2 regressions=$3 work=$4 seconds=${FUZZ_SECONDS:-$5}
mkdir -p "$work/corpus" "$work/artifacts"
if [ -d "$regressions" ] && [ -n "$(ls -A "$regressions" 2>/dev/null)" ]; then
	"$harness" -runs=1 -timeout=10 -error_exitcode=1 -timeout_exitcode=1 "$regressions"/*
fi
exec "$harness" -max_total_time="$seconds" -timeout=10 -error_exitcode=1 -timeout_exitcode=1 -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="$work/artifacts/" "$work/corpus" "$seeds"
