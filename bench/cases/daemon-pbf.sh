#!/bin/sh
# MVT tile requests/s: pc6risk daemon from the MBTiles vs nginx from the .pbf
# folder of the same release (bench/lib/http.sh).
set -eu
ext=pbf
. "$(dirname "$0")/../lib/http.sh"
http_case "$1"
