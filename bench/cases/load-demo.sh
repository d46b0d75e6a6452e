#!/bin/sh
# pc6risk load of the Den Haag demo (GDAL read, reprojection, COPY, validation,
# one swap transaction) against ogr2ogr loading the same files into PostGIS
# tables with no checks: the peer does less, so a ratio near 1 means our checks
# cost little. The demo's PC6 are the synthetic set `make demo` writes.
set -eu
cfg="$PC6RISK_ROOT/demo/pc6risk.json"
data="$PC6RISK_ROOT/demo/data"
synth="$PC6RISK_ROOT/demo/synthetic"
case "$1" in
describe) echo "load demo inputs vs ogr2ogr -f PostgreSQL of the same files" ;;
setup)
	"$PC6RISK_BIN" synth -q --area denhaag --seed 1 --data "$data" --out "$synth" --schema bench_synth
	"$PC6RISK_BIN" init -q -c "$cfg" --schema bench_load
	PGOPTIONS="-c client_min_messages=warning" psql -qX \
		-c "DROP SCHEMA IF EXISTS bench_peer CASCADE" -c "CREATE SCHEMA bench_peer" ;;
ours) "$PC6RISK_BIN" load -q -c "$cfg" --schema bench_load ;;
peer)
	for f in den_haag_gemeente_2015.geojson den_haag_wijken_2015.geojson den_haag_buurten_2015.geojson; do
		ogr2ogr -f PostgreSQL PG: "$data/$f" -overwrite -t_srs EPSG:28992 -nlt PROMOTE_TO_MULTI \
			-nln "bench_peer.$(basename "$f" | cut -d. -f1 | tr 'A-Z' 'a-z')"
	done
	ogr2ogr -f PostgreSQL PG: "$synth/denhaag-synthetic.gpkg" pc6 -overwrite -nlt PROMOTE_TO_MULTI -nln bench_peer.pc6
	ogr2ogr -f PostgreSQL PG: "$data/den_haag_buurten_2015_attributes.csv" -overwrite -nln bench_peer.kwb
	ogr2ogr -f PostgreSQL PG: "$synth/denhaag-synthetic-pc6.csv" -overwrite -nln bench_peer.pc6_figures ;;
esac
