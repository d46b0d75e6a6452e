#!/bin/sh
# pc6risk load of a national-scale synthetic set (~450,000 PC6 polygons with
# figures, GeoPackage + CSV) against two peers in the same run:
#   ogr2ogr  GDAL's ogr2ogr -f PostgreSQL (PG_USE_COPY=YES) of the same files
#   floor    psql \copy of the rows pc6risk ends up with, from ready binary
#            COPY files, plus CREATE INDEX ... USING gist: what no loader can beat
# The set is generated once with `pc6risk synth --area nl` into build/bench/nl
# (BENCH_NL_DIR to use another directory holding a pc6risk.json).
set -eu
dir=${BENCH_NL_DIR:-$PC6RISK_ROOT/build/bench/nl}
cfg="$dir/pc6risk.json"
bin="$PC6RISK_ROOT/build/bench/floor"
schema=bench_nl
case "$1" in
describe) echo "load ~450,000 PC6 (GeoPackage + CSV) vs ogr2ogr and the COPY floor" ;;
peers) echo ogr2ogr floor ;;
setup)
	if [ ! -f "$cfg" ]; then
		echo "   generating the national set (once) in $dir"
		"$PC6RISK_BIN" synth -q --area nl --postcodes "${BENCH_POSTCODES:-450000}" --seed 1 --out "$dir"
	fi
	"$PC6RISK_BIN" init -q -c "$cfg" --schema $schema
	"$PC6RISK_BIN" load -q --force -c "$cfg" --schema $schema
	# the floor's input: the loaded rows as binary COPY files
	mkdir -p "$bin"
	for t in gemeente wijk buurt pc6 figure; do
		psql -qX -c "\\copy $schema.$t TO '$bin/$t.bin' WITH (FORMAT binary)"
	done
	PGOPTIONS="-c client_min_messages=warning" psql -qX -c "DROP SCHEMA IF EXISTS ${schema}_ogr CASCADE" -c "CREATE SCHEMA ${schema}_ogr" ;;
ours) "$PC6RISK_BIN" load --force -c "$cfg" --schema $schema 2>"$bin/ours.log" ;;
ogr2ogr)
	for f in "$dir"/*.gpkg; do
		PG_USE_COPY=YES ogr2ogr -f PostgreSQL PG: "$f" -overwrite -lco SCHEMA=${schema}_ogr -lco OVERWRITE=YES
	done
	for f in "$dir"/*.csv; do
		PG_USE_COPY=YES ogr2ogr -f PostgreSQL PG: "$f" -overwrite \
			-nln "${schema}_ogr.$(basename "$f" .csv | tr -c 'a-z0-9\n' '_')"
	done ;;
floor)
	{
		echo "DROP SCHEMA IF EXISTS ${schema}_floor CASCADE; CREATE SCHEMA ${schema}_floor;"
		for t in gemeente wijk buurt pc6 figure; do
			echo "CREATE TABLE ${schema}_floor.$t (LIKE $schema.$t);"
			printf '%s\n' "\\copy ${schema}_floor.$t FROM '$bin/$t.bin' WITH (FORMAT binary)"
		done
		echo "CREATE INDEX ON ${schema}_floor.buurt USING gist (geom);"
		echo "CREATE INDEX ON ${schema}_floor.pc6 USING gist (geom);"
	} | PGOPTIONS="-c client_min_messages=warning" psql -qX -v ON_ERROR_STOP=1 ;;
report)
	grep -o 'peak_rss_mb=[0-9]*' "$bin/ours.log" | sed 's/peak_rss_mb=/peak RSS of pc6risk load: /; s/$/ MB (target <= 256)/' || true
	psql -qXAt -c "SELECT format('loaded: %s PC6, %s buurten, %s figure rows', (SELECT count(*) FROM $schema.pc6),
		(SELECT count(*) FROM $schema.buurt), (SELECT count(*) FROM $schema.figure))" ;;
esac
