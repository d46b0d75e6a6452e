#!/bin/sh
# The demo: make the synthetic Den Haag PC6 set, apply the migrations, run one
# refresh (all of it, even when nothing changed), show where the files went.
# Usage: scripts/demo.sh BINARY CONFIG OUTDIR   (run under scripts/with-pg.sh)
#
# The config's directory holds data/ (real CBS files) and gets synthetic/
# (what `pc6risk synth --area denhaag --seed 1` writes, git-ignored).
set -eu
bin=$1
config=$2
out=$3
dir=$(dirname "$config")
"$bin" synth --area denhaag --seed 1 --data "$dir/data" --out "$dir/synthetic"
"$bin" init -c "$config"
# --force: a demo shows every stage, also when run again on the same database
"$bin" refresh --force -c "$config" --out "$out"
echo
echo "Files (open pc6risk.gpkg, a .geojson or a tiles/*.mbtiles in QGIS):"
(cd "$out/current" && find -L . -type f ! -path './tiles/*' ! -path './viewer/*' | sed "s|^\./|  $out/current/|" | sort)
for m in "$out"/current/tiles/*.mbtiles; do
	[ -e "$m" ] || continue
	s=$(basename "$m" .mbtiles)
	echo "  $m  (and $(find -L "$out/current/tiles/$s" -name '*.geojson' | wc -l) GeoJSON tiles in $out/current/tiles/$s/)"
done
if [ -f "$out/current/viewer/index.html" ]; then
	echo
	echo "Map viewer: run 'make view', then open http://127.0.0.1:8080/"
	echo "  (or serve $out/current with any web server and open viewer/index.html)"
fi
