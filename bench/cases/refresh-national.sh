#!/bin/sh
# The nightly refresh when nothing changed, at national scale: pc6risk
# refresh finding inputs and config as the last good refresh left them (what
# the daemon does every night without new data) against
#   full     the same refresh forced: load, score, compare, protect, publish
#            (tiles, GeoPackage, audit) of every stage again
# Target: the no-change refresh takes at most 1 % of the full one.
# BENCH_NL_POSTCODES sets the size (default 450000); the set in
# build/bench-nl-N is shared with the other national cases; this case keeps
# its own schema and publish dir (BENCH_REFRESH_DRAWS Monte Carlo draws, 100
# by default, set in its copy of the config).
set -eu
. "$PC6RISK_ROOT/bench/lib/national.sh"
work="$dir/refresh"
schema=bench_refresh
rcfg="$work/pc6risk.json"

case "$1" in
describe) echo "a no-change refresh of $n synthetic PC6 vs a full (forced) refresh of the same" ;;
peers) echo full ;;
setup)
	national_set
	mkdir -p "$work"
	jq --arg dir "$dir" --arg out "$work/out" --argjson draws "${BENCH_REFRESH_DRAWS:-100}" '
		.inputs.areas |= map(.path = ($dir + "/" + .path))
		| .inputs.indicators |= map(.path = ($dir + "/" + .path))
		| (if .inputs.crosswalk then .inputs.crosswalk.path = ($dir + "/" + .inputs.crosswalk.path) else . end)
		| .publish.dir = $out | .compare.draws = $draws' "$cfg" >"$rcfg"
	"$PC6RISK_BIN" init -q -c "$rcfg" --schema $schema
	# one good refresh for the no-change ones to find (skipped itself when one is there)
	"$PC6RISK_BIN" refresh -q -c "$rcfg" --schema $schema >/dev/null ;;
ours) "$PC6RISK_BIN" refresh -c "$rcfg" --schema $schema >/dev/null 2>"$work/ours.log" ;;
full) "$PC6RISK_BIN" refresh -q --force -c "$rcfg" --schema $schema >/dev/null ;;
report)
	grep -o 'skipped: .*' "$work/ours.log" | head -1 | sed 's/^/no-change run: /'
	psql -qXAt -v ON_ERROR_STOP=1 -c "SELECT 'full refresh stages (last): ' || round(extract(epoch FROM finished_at - started_at))::text || ' s'
		FROM $schema.run WHERE command = 'refresh' AND status = 'succeeded' ORDER BY id DESC LIMIT 1" ;;
esac
