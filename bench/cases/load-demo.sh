#!/bin/sh
# pc6risk load of the Den Haag demo (GDAL read, reprojection, checks, one
# transaction; its PC6 are the synthetic set `make demo` writes) against
# ogr2ogr loading the same files into PostGIS tables with no checks at all.
set -eu
cfg="$PC6RISK_ROOT/demo/pc6risk.json"
data="$PC6RISK_ROOT/demo/data"
synth="$PC6RISK_ROOT/demo/synthetic"
case "$1" in
describe) echo "load the Den Haag demo inputs vs ogr2ogr -f PostgreSQL of the same files" ;;
peers) echo ogr2ogr ;;
setup)
	"$PC6RISK_BIN" synth -q --area denhaag --seed 1 --data "$data" --out "$synth" --schema bench_synth
	"$PC6RISK_BIN" init -q -c "$cfg" --schema bench_demo
	PGOPTIONS="-c client_min_messages=warning" psql -qX \
		-c "DROP SCHEMA IF EXISTS bench_demo_ogr CASCADE" -c "CREATE SCHEMA bench_demo_ogr" ;;
ours) "$PC6RISK_BIN" load -q --force -c "$cfg" --schema bench_demo ;;
ogr2ogr)
	for f in den_haag_gemeente_2015.geojson den_haag_wijken_2015.geojson den_haag_buurten_2015.geojson; do
		PG_USE_COPY=YES ogr2ogr -f PostgreSQL PG: "$data/$f" -overwrite -t_srs EPSG:28992 -nlt PROMOTE_TO_MULTI \
			-nln "bench_demo_ogr.$(basename "$f" | cut -d. -f1 | tr 'A-Z' 'a-z')"
	done
	PG_USE_COPY=YES ogr2ogr -f PostgreSQL PG: "$synth/denhaag-synthetic.gpkg" pc6 -overwrite -nlt PROMOTE_TO_MULTI \
		-nln bench_demo_ogr.pc6
	PG_USE_COPY=YES ogr2ogr -f PostgreSQL PG: "$data/den_haag_buurten_2015_attributes.csv" -overwrite \
		-nln bench_demo_ogr.kwb
	PG_USE_COPY=YES ogr2ogr -f PostgreSQL PG: "$synth/denhaag-synthetic-pc6.csv" -overwrite \
		-nln bench_demo_ogr.pc6_figures ;;
report) ;;
esac
