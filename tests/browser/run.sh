#!/bin/sh
# The viewer in a real browser: publish the demo into a scratch schema and
# folder, serve it with the daemon, and drive headless Chromium through it
# (tests/browser/viewer.test.mjs, playwright-core); then the same folder
# from a plain static file server (tests/browser/static-server.mjs), as a
# publication folder is served without the daemon. Screenshots land in
# BUILD/browser-artifacts.
# Usage: tests/browser/run.sh BUILD   (under scripts/with-pg.sh, after the synthetic set is made)
set -eu
build=${1:-build}
root=$(cd "$(dirname "$0")/../.." && pwd)
bin="$root/$build/pc6risk"
work=$(mktemp -d /tmp/pc6browser.XXXXXX)
schema="browser_$$"
daemon=""
cleanup() {
	[ -n "$daemon" ] && kill "$daemon" 2>/dev/null && wait "$daemon" 2>/dev/null || true
	psql -q -X -c "DROP SCHEMA IF EXISTS $schema CASCADE" >/dev/null 2>&1 || true
	rm -rf "$work"
}
trap cleanup EXIT INT TERM

cd "$root/tests/browser"
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
	npm ci --no-audit --no-fund --loglevel=error
fi
cd "$root"
"$bin" init -q -c demo/pc6risk.json --schema "$schema"
"$bin" refresh -q -c demo/pc6risk.json --schema "$schema" --out "$work/out" --draws 100 >"$work/refresh.log" 2>&1 || {
	cat "$work/refresh.log" >&2
	exit 1
}
test -f "$work/out/current/viewer/index.html" || {
	echo "the release has no viewer/index.html" >&2
	exit 1
}
"$bin" daemon -c demo/pc6risk.json --schema "$schema" --out "$work/out" --listen 127.0.0.1:0 \
	>"$work/daemon.log" 2>&1 &
daemon=$!
port=""
for _ in $(seq 1 100); do
	port=$(sed -n 's/.*serving .* port=\([0-9]*\).*/\1/p' "$work/daemon.log" | head -1)
	[ -n "$port" ] && break
	sleep 0.1
done
if [ -z "$port" ]; then
	echo "the daemon did not start:" >&2
	cat "$work/daemon.log" >&2
	exit 1
fi
mkdir -p "$root/$build/browser-artifacts"
echo "-- served by pc6risk daemon"
status=0
VIEWER_URL="http://127.0.0.1:$port/" ARTIFACTS="$root/$build/browser-artifacts" \
	node tests/browser/viewer.test.mjs || status=$?
if [ "$status" != 0 ]; then
	echo "== daemon log" >&2
	tail -50 "$work/daemon.log" >&2
	exit "$status"
fi

# The same publication folder from a plain static web server.
node tests/browser/static-server.mjs "$work/out" >"$work/static.log" 2>&1 &
static=$!
port=""
for _ in $(seq 1 100); do
	port=$(sed -n 's/^port=\([0-9]*\)$/\1/p' "$work/static.log")
	[ -n "$port" ] && break
	sleep 0.1
done
[ -n "$port" ] || {
	cat "$work/static.log" >&2
	kill "$static"
	exit 1
}
echo "-- served as static files"
VIEWER_URL="http://127.0.0.1:$port/current/viewer/index.html" ARTIFACTS="$root/$build/browser-artifacts/static" \
	node tests/browser/viewer.test.mjs || status=$?
kill "$static" 2>/dev/null || true
exit "$status"
