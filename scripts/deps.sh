#!/bin/sh
# Install the Debian packages pc6risk needs to build, test and run its demo.
#
# Usage: scripts/deps.sh [--print] [EXTRA-PACKAGE...]
#   As root, missing packages are installed with apt-get. As any other user the
#   exact apt-get line is printed and the script fails, so nothing half-installs.
#   --print only prints the package list (for Dockerfiles and docs). Extra
#   packages (clang for `make fuzz`) are checked and installed the same way.
set -eu

# The build needs a compiler and the libraries (GLPK for audit; SQLite and libdeflate for the MBTiles;
# libmicrohttpd for the daemon's HTTP server; cairo and the DejaVu fonts for the PNG maps); the tests
# and the demo need a PostgreSQL+PostGIS server and the GDAL command-line tools (ogrinfo). `make test`
# adds Chromium for the browser tests.
PACKAGES="gcc libc6-dev make pkg-config
libpq-dev libgdal-dev libcjson-dev libglpk-dev libcriterion-dev libsqlite3-dev libdeflate-dev libmicrohttpd-dev
libcairo2-dev fonts-dejavu-core
postgresql-15 postgresql-15-postgis-3 gdal-bin"
# The map viewer is bundled with npm (Debian's, unless Node.js with its npm is here already).
command -v npm >/dev/null 2>&1 || PACKAGES="$PACKAGES npm"

if [ "${1:-}" = "--print" ]; then
	echo $PACKAGES
	exit 0
fi
if [ $# -gt 0 ]; then
	PACKAGES="$*"
fi

missing=""
for p in $PACKAGES; do
	status=$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)
	case "$status" in
	*"install ok installed"*) ;;
	*) missing="$missing $p" ;;
	esac
done
[ -z "$missing" ] && exit 0

line="apt-get install -y --no-install-recommends$missing"
if [ "$(id -u)" != 0 ]; then
	echo "pc6risk: missing Debian packages:$missing" >&2
	echo "pc6risk: install them as root with:" >&2
	echo "  sudo apt-get update && sudo $line" >&2
	exit 1
fi

echo "pc6risk: installing missing Debian packages (a few minutes on a fresh machine):$missing" >&2
export DEBIAN_FRONTEND=noninteractive
# A fresh machine may have empty package lists; update once, then install.
# apt's own lines (one per package fetched and set up) are the progress.
apt-get update -q
# shellcheck disable=SC2086
apt-get install -y -q --no-install-recommends $missing
echo "pc6risk: packages installed" >&2
