#!/bin/sh
# pc6risk load of a synthetic national set (`pc6risk synth --area nl`) against
# ogr2ogr loading the same GeoPackage layers and CSV files into PostGIS with no
# checks. BENCH_NL_POSTCODES sets its size: 100000 by default to keep
# `make bench` short; 450000 is the national design point (about 140 s per
# load on the project's 2-core machines).
set -eu
n=${BENCH_NL_POSTCODES:-100000}
dir="$PC6RISK_ROOT/build/bench-nl-$n"
cfg="$dir/pc6risk.json"
case "$1" in
describe) echo "load a synthetic national set of $n PC6 vs ogr2ogr of the same files" ;;
setup)
	"$PC6RISK_BIN" synth -q --area nl --postcodes "$n" --seed 1 --data "$PC6RISK_ROOT/demo/data" --out "$dir" \
		--schema bench_synth
	"$PC6RISK_BIN" init -q -c "$cfg" --schema bench_nl
	PGOPTIONS="-c client_min_messages=warning" psql -qX \
		-c "DROP SCHEMA IF EXISTS bench_nl_peer CASCADE" -c "CREATE SCHEMA bench_nl_peer" ;;
ours) "$PC6RISK_BIN" load -q -c "$cfg" --schema bench_nl ;;
peer)
	for layer in gemeente wijk buurt pc6; do
		ogr2ogr -f PostgreSQL PG: "$dir/nl-synthetic.gpkg" "$layer" -overwrite -nlt PROMOTE_TO_MULTI \
			-nln "bench_nl_peer.$layer"
	done
	ogr2ogr -f PostgreSQL PG: "$dir/nl-synthetic-buurt.csv" -overwrite -nln bench_nl_peer.buurt_figures
	ogr2ogr -f PostgreSQL PG: "$dir/nl-synthetic-pc6.csv" -overwrite -nln bench_nl_peer.pc6_figures ;;
esac
