#!/bin/sh
# pc6risk load of the Den Haag demo (GDAL read, reprojection, checks, PC6 to
# buurt by overlap, one transaction) against ogr2ogr loading the same files
# into PostGIS tables with no checks at all.
set -eu
cfg="$PC6RISK_ROOT/demo/pc6risk.json"
data="$PC6RISK_ROOT/demo/data"
case "$1" in
describe) echo "load the Den Haag demo inputs vs ogr2ogr -f PostgreSQL of the same files" ;;
peers) echo ogr2ogr ;;
setup)
	"$PC6RISK_BIN" init -q -c "$cfg" --schema bench_demo
	PGOPTIONS="-c client_min_messages=warning" psql -qX \
		-c "DROP SCHEMA IF EXISTS bench_demo_ogr CASCADE" -c "CREATE SCHEMA bench_demo_ogr" ;;
ours) "$PC6RISK_BIN" load -q --force -c "$cfg" --schema bench_demo ;;
ogr2ogr)
	for f in den_haag_gemeente_2015.geojson den_haag_wijken_2015.geojson den_haag_buurten_2015.geojson \
		DHZW_PC6_shapefile.shp; do
		PG_USE_COPY=YES ogr2ogr -f PostgreSQL PG: "$data/$f" -overwrite -t_srs EPSG:28992 -nlt PROMOTE_TO_MULTI \
			-nln "bench_demo_ogr.$(basename "$f" | cut -d. -f1 | tr 'A-Z' 'a-z')"
	done
	PG_USE_COPY=YES ogr2ogr -f PostgreSQL PG: "$data/den_haag_buurten_2015_attributes.csv" -overwrite \
		-nln bench_demo_ogr.kwb ;;
report) ;;
esac
