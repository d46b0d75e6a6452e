#!/bin/sh
# pc6risk score of the synthetic national set: the bijstand rate and the five
# presets (kansarmoede-3van6, imd-nl, kinderarmoede-kern, generatie,
# data-gedreven), as its generated pc6risk.json lists them, against
#   floor    one SQL pass over the figure rows score reads (PC6 and buurt),
#            summing each figure the scenarios use: reading the data once,
#            with nothing computed and nothing written back
# The Monte Carlo of compare (--draws, per scenario) is timed once in report,
# apart from the ratio: it is not what the floor does.
# BENCH_NL_POSTCODES sets the size (default 450000, the national design point);
# the set in build/bench-nl-N is shared with load-national, and made again
# when it predates the outcome layer generatie needs.
set -eu
. "$PC6RISK_ROOT/bench/lib/national.sh"
work="$dir/score"
schema=bench_score
draws=${BENCH_MC_DRAWS:-1000}

# What the scenarios read, per level: the figures of their terms, their
# weights (inhabitants, children_0_17), sizes and privacy.count (households).
pc6_figures="low_income_share households benefits_below_aow_age inhabitants_15_24 inhabitants_25_44
inhabitants_45_64 one_parent_households two_parent_households woz_value mean_household_size rented_share
dwellings_before_1945 dwellings gas_use income_class children_0_17 inhabitants"
buurt_figures="benefit_recipients households below_110_social_minimum_share low_education_share
poor_health_share crimes_per_1000 mobility_outcome"

case "$1" in
describe) echo "score bijstand and the five presets on $n synthetic PC6 vs one SQL pass over the figures they read" ;;
peers) echo floor ;;
setup)
	national_set
	mkdir -p "$work"
	"$PC6RISK_BIN" init -q -c "$cfg" --schema $schema
	# loads only when the files changed since the last load
	"$PC6RISK_BIN" load -q -c "$cfg" --schema $schema
	# the floor's query, from where load put each figure
	names=$(for f in $pc6_figures; do printf "('pc6','%s')," "$f"; done; for f in $buurt_figures; do
		printf "('buurt','%s')," "$f"; done)
	psql -qXAt -v ON_ERROR_STOP=1 > "$work/floor.sql" <<-EOF
		SELECT 'SELECT count(*), ' || string_agg(format('sum(vals[%s]) FILTER (WHERE level = %L AND file = %s),'
		       ' count(missing[%s]) FILTER (WHERE level = %L AND file = %s)', d.position, d.level, d.file,
		       d.position, d.level, d.file), ', ' ORDER BY d.level, d.file, d.position)
		       || ' FROM $schema.figure WHERE level IN (''pc6'', ''buurt'')'
		FROM $schema.indicator_def d JOIN (VALUES ${names%,}) AS w (level, name) USING (level, name)
		HAVING count(*) = $(echo $pc6_figures $buurt_figures | wc -w)
	EOF
	[ -s "$work/floor.sql" ] || { echo "score-national: the set lacks a figure the scenarios read" >&2; exit 1; } ;;
ours) "$PC6RISK_BIN" score -c "$cfg" --schema $schema 2>"$work/ours.log" ;;
floor) psql -qXAt -v ON_ERROR_STOP=1 -f "$work/floor.sql" >/dev/null ;;
report)
	psql -qXAt -c "SELECT format('scored: %s PC6, %s buurten; %s score rows, %s figure rows read',
		(SELECT count(*) FROM $schema.pc6), (SELECT count(*) FROM $schema.buurt), (SELECT count(*) FROM $schema.score),
		(SELECT count(*) FROM $schema.figure WHERE level IN ('pc6', 'buurt')))"
	printf 'scenarios:%s\n' "$(grep -o 'scenario=[^ ]*' "$work/ours.log" | sed 's/scenario=/ /' | tr -d '\n')"
	# once, untimed by run.sh: compare prints its own Monte Carlo line
	t0=$(date +%s.%N)
	"$PC6RISK_BIN" compare -q -c "$cfg" --schema $schema --draws "$draws" > "$work/compare.out"
	t1=$(date +%s.%N)
	grep '^Monte Carlo:' "$work/compare.out" || true
	awk "BEGIN {printf \"compare, all of it: %.1f s\\n\", $t1 - $t0}" ;;
esac
