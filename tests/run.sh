#!/bin/sh
# Run the unit and the integration tests of one build directory.
# Usage: tests/run.sh BUILD   (run under scripts/with-pg.sh for a database)
set -eu
build=${1:-build}
root=$(cd "$(dirname "$0")/.." && pwd)
export PC6RISK_ROOT="$root"
export PC6RISK_BIN="$root/$build/pc6risk"
# Sanitizer builds: fail on the first report, and know GDAL's one-time caches.
export ASAN_OPTIONS="${ASAN_OPTIONS:-abort_on_error=0:detect_leaks=1}"
export LSAN_OPTIONS="${LSAN_OPTIONS:-suppressions=$root/tests/lsan.supp:print_suppressions=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
cd "$root"
jobs=${TEST_JOBS:-2}
echo "== unit tests ($build)"
"$root/$build/tests/unit" --jobs "$jobs"
echo "== integration tests ($build)"
"$root/$build/tests/integration" --jobs "$jobs"
