#!/bin/sh
# pc6risk load of a synthetic national set (`pc6risk synth --area nl`: PC6
# polygons with figures as GeoPackage + CSV) against two peers in the same run:
#   ogr2ogr  GDAL's ogr2ogr -f PostgreSQL (PG_USE_COPY=YES) of the same files
#   floor    psql \copy of the rows pc6risk ends up with, from ready binary
#            COPY files, plus CREATE INDEX ... USING gist: what no loader beats
# BENCH_NL_POSTCODES sets the size (default 450000, the national design point);
# the set is generated once into build/bench-nl-N and reused.
set -eu
. "$PC6RISK_ROOT/bench/lib/national.sh"
bin="$dir/floor"
schema=bench_nl
case "$1" in
describe) echo "load $n synthetic PC6 (GeoPackage + CSV) vs ogr2ogr and the COPY floor" ;;
peers) echo ogr2ogr floor ;;
setup)
	national_set
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
	PG_USE_COPY=YES ogr2ogr -f PostgreSQL PG: "$dir/nl-synthetic.gpkg" -overwrite -lco SCHEMA=${schema}_ogr \
		-lco OVERWRITE=YES -nlt PROMOTE_TO_MULTI
	for f in nl-synthetic-pc6 nl-synthetic-buurt; do
		PG_USE_COPY=YES ogr2ogr -f PostgreSQL PG: "$dir/$f.csv" -overwrite -nln "${schema}_ogr.$(echo $f | tr - _)"
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
