#!/bin/sh
# The demo: apply the migrations, run one refresh, show where the files went.
# Usage: scripts/demo.sh BINARY CONFIG OUTDIR   (run under scripts/with-pg.sh)
set -eu
bin=$1
config=$2
out=$3
"$bin" init -c "$config"
"$bin" refresh -c "$config" --out "$out"
echo
echo "Files (RFC 7946 GeoJSON in WGS84; open them in QGIS):"
(cd "$out/current" && find -L . -type f | sed "s|^\./|  $out/current/|" | sort)
