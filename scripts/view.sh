#!/bin/sh
# Serve the demo with its map viewer: init, a refresh that skips when the
# demo's release is current for this database, then the daemon in the
# foreground until Ctrl-C.
# Usage: scripts/view.sh BINARY CONFIG OUTDIR   (run under scripts/with-pg.sh)
set -eu
bin=$1
config=$2
out=$3
dir=$(dirname "$config")
listen=${PC6RISK_LISTEN:-127.0.0.1:8080}
[ -f "$dir/synthetic/pc6risk.json" ] ||
	"$bin" synth -q --area denhaag --seed 1 --data "$dir/data" --out "$dir/synthetic"
"$bin" init -q -c "$config"
"$bin" refresh -c "$config" --out "$out"
echo
echo "Map viewer: http://$listen/  (Ctrl-C stops the server)"
echo
exec "$bin" daemon -c "$config" --out "$out" --listen "$listen"
