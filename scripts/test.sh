#!/bin/sh
# SPDX-License-Identifier: GPL-2.0-or-later
# The whole test suite: set up (packages, build with -Werror), run every suite, then the
# same suites (but the VM one) again in an ASan+UBSan build, depmod's threads under
# ThreadSanitizer, and the fuzz smoke runs. Fails on the first failure.
set -eu
top=$(cd "$(dirname "$0")/.." && pwd)
build=${BUILD:-$top/build}
asan=${BUILD_ASAN:-$top/build-asan}
MESON_ARGS="-Dwerror=true ${MESON_ARGS:-}" BUILD=$build "$top/scripts/setup.sh"
meson test -C "$build" --print-errorlogs --num-processes 2
if [ ! -f "$asan/build.ninja" ]; then
	meson setup "$asan" "$top" -Dwerror=true -Db_sanitize=address,undefined -Db_lundef=false \
		-Dbuildtype=debug
fi
ninja -C "$asan"
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
	KMODX_TEST_SANITIZED=1 meson test -C "$asan" --print-errorlogs --num-processes 2 --no-suite vm --no-suite valgrind --timeout-multiplier 4
# ThreadSanitizer on depmod's threads (directory, module and cache pools, the indexes'
# tasks, the cache built beside the writing): a build of the tools alone
tsan=${BUILD_TSAN:-$top/build-tsan}
if [ ! -f "$tsan/build.ninja" ]; then
	meson setup "$tsan" "$top" -Dwerror=true -Db_sanitize=thread -Dlibkmod=disabled \
		-Dstatic_tools=disabled
fi
ninja -C "$tsan" tools/depmod
python3 "$top/testsuite/tsan/depmod-threads.py" "$tsan/tools" || [ $? = 77 ]
# libFuzzer smoke runs (30 s per harness) in a clang build with the sanitizers
fuzz=${BUILD_FUZZ:-$top/build-fuzz}
if command -v clang >/dev/null; then
	if [ ! -f "$fuzz/build.ninja" ]; then
		CC=clang meson setup "$fuzz" "$top" -Dfuzzing=true -Db_sanitize=address,undefined \
			-Db_lundef=false
	fi
	ninja -C "$fuzz"
	meson test -C "$fuzz" --suite fuzz --print-errorlogs --num-processes 2
else
	echo "test: clang is missing: fuzz suite not run" >&2
	exit 1
fi
echo "test: every suite passed (including ASan+UBSan, ThreadSanitizer and the fuzz smoke runs)"
