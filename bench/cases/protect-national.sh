#!/bin/sh
# pc6risk protect of the synthetic national set (groups, units, every count of
# every region, secondary protection, bands) against
#   floor    the SQL pass that computes the buurt aggregates protect starts
#            from: the PC6 counts it reads, summed per buurt
# The full audit of the published files (exact differencing and the GLPK
# intervals) is timed once in report, with its peak memory.
# BENCH_NL_POSTCODES sets the size (default 450000); the set in
# build/bench-nl-N is shared with load-national and score-national.
set -eu
. "$PC6RISK_ROOT/bench/lib/national.sh"
work="$dir/protect"
schema=bench_protect

case "$1" in
describe) echo "protect $n synthetic PC6 vs the SQL pass computing the buurt aggregates" ;;
peers) echo floor ;;
setup)
	national_set
	mkdir -p "$work"
	"$PC6RISK_BIN" init -q -c "$cfg" --schema $schema
	"$PC6RISK_BIN" load -q -c "$cfg" --schema $schema
	"$PC6RISK_BIN" score -q -c "$cfg" --schema $schema
	# the floor's query, from where load put each count protect reads
	psql -qXAt -v ON_ERROR_STOP=1 > "$work/floor.sql" <<-EOF
		SELECT 'SELECT count(*) FROM (SELECT p.buurt_code, '
		       || string_agg(format('sum(f.vals[%s])', d.position), ', ' ORDER BY d.position)
		       || format(' FROM $schema.figure f JOIN $schema.pc6 p ON p.code = f.code'
		                 ' WHERE f.level = %L AND f.file = %s GROUP BY p.buurt_code) x', 'pc6', min(d.file))
		FROM $schema.indicator_def d
		WHERE d.level = 'pc6' AND d.name IN ('inhabitants', 'households', 'dwellings', 'benefit_recipients')
		HAVING count(DISTINCT d.file) = 1
	EOF
	[ -s "$work/floor.sql" ] || { echo "protect-national: the PC6 counts are not in one file" >&2; exit 1; } ;;
ours) "$PC6RISK_BIN" protect -c "$cfg" --schema $schema 2>"$work/ours.log" ;;
floor) psql -qXAt -v ON_ERROR_STOP=1 -f "$work/floor.sql" >/dev/null ;;
report)
	/usr/bin/time -f '%M' -o "$work/protect.rss" "$PC6RISK_BIN" protect -q -c "$cfg" --schema $schema
	printf 'protect peak memory: %s MB\n' "$(($(cat "$work/protect.rss") / 1024))"
	grep -o '"groups": [0-9]*, "merged_pc6": [0-9]*, "merged_buurten": [0-9]*, "figures_published": [0-9]*, "figures_suppressed_primary": [0-9]*, "figures_suppressed_secondary": [0-9]*' \
		"$work/ours.log" | tail -n 1
	# publish (which audits before it switches `current`), then the audit alone
	rm -rf "$work/out"
	"$PC6RISK_BIN" publish -q -c "$cfg" --schema $schema --out "$work/out" >/dev/null
	t0=$(date +%s.%N)
	/usr/bin/time -f '%M' -o "$work/audit.rss" "$PC6RISK_BIN" audit "$work/out/current" > "$work/audit.out" || true
	t1=$(date +%s.%N)
	sed 's/^/   audit: /' "$work/audit.out" | head -n 12
	awk "BEGIN {printf \"audit, all of it: %.1f s, peak memory %d MB\\n\", $t1 - $t0, $(cat "$work/audit.rss") / 1024}" ;;
esac
