#!/bin/sh
# GeoJSON tile requests/s: pc6risk daemon vs nginx, the same files (bench/lib/http.sh).
set -eu
ext=geojson
. "$(dirname "$0")/../lib/http.sh"
http_case "$1"
