#!/bin/sh
# Build the map viewer: its npm packages (exactly as package-lock.json says,
# from the npm registry) and the bundle in maps/viewer/dist, which publish
# copies into every release. Nothing is fetched by the page at run time.
# Usage: scripts/build-viewer.sh
set -eu
cd "$(dirname "$0")/../maps/viewer"
if ! command -v npm >/dev/null 2>&1; then
	echo "pc6risk: the map viewer is built with Node.js and npm, and npm is not installed" >&2
	echo "pc6risk: run 'make deps' as root (or: apt-get install -y npm)" >&2
	exit 1
fi
# npm ci again only when the lock file changed since the last install
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
	echo "pc6risk: installing the viewer's npm packages (once)" >&2
	npm ci --no-audit --no-fund --loglevel=error
fi
npm run --silent build
test -f dist/index.html
