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
# The demo config reads the synthetic Den Haag set from demo/synthetic; make
# it once here (seed 1, as make demo does) for the integration tests, which
# find it through PC6RISK_SYNTH_DIR.
echo "== synthetic Den Haag set ($build)"
export PC6RISK_SYNTH_DIR="$root/demo/synthetic"
"$PC6RISK_BIN" synth -q --area denhaag --seed 1 --data "$root/demo/data" --out "$PC6RISK_SYNTH_DIR" \
	--schema "synth_tests_$$"
echo "== integration tests ($build)"
"$root/$build/tests/integration" --jobs "$jobs"
# The viewer's own logic (legend classes, search, the plain-words texts) in Node.
if command -v node >/dev/null 2>&1; then
	echo "== viewer unit tests"
	(cd "$root/maps/viewer" && node --test test/data.test.mjs)
fi
# The map viewer in headless Chromium, when the browser and the built viewer
# are here (make test installs Chromium as root; see the README).
if [ -x /usr/bin/chromium ] && command -v node >/dev/null 2>&1 && [ -f "$root/maps/viewer/dist/index.html" ]; then
	echo "== browser tests ($build)"
	"$root/tests/browser/run.sh" "$build"
else
	echo "== browser tests SKIPPED: they need /usr/bin/chromium (apt-get install chromium), node and the built" \
		"viewer (make viewer)" >&2
fi
