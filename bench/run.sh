#!/bin/sh
# make bench: run every bench/cases/*.sh, ours and its peers interleaved on
# this machine in this run, and print median seconds and the ratios ours/peer.
# Machines here are noisy; only the ratios are meant to be compared over time.
#
# A case is a script taking one argument:
#   describe   one line: what is compared
#   setup      prepare (once; may take long the first time, then reuse)
#   peers      the names of its peers, space-separated
#   ours       the timed run of pc6risk
#   <peer>     the timed run of a peer
#   report     extra lines after the timings (peak memory, sizes, ...)
# Usage: bench/run.sh BINARY   (under scripts/with-pg.sh)
set -eu
PC6RISK_BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
PC6RISK_ROOT=$(cd "$(dirname "$0")/.." && pwd)
export PC6RISK_BIN PC6RISK_ROOT
reps=${REPS:-3}

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }
timed() { t0=$(now); sh "$case" "$1" >/dev/null 2>&1 || { echo "$name: $1 failed" >&2; exit 1; }; t1=$(now); awk "BEGIN {print $t1 - $t0}"; }

for case in "$PC6RISK_ROOT"/bench/cases/*.sh; do
	name=$(basename "$case" .sh)
	echo "== $name: $(sh "$case" describe)"
	sh "$case" setup
	peers=$(sh "$case" peers)
	tmp=$(mktemp -d)
	i=0
	while [ $i -lt "$reps" ]; do
		timed ours >> "$tmp/ours"
		for p in $peers; do timed "$p" >> "$tmp/$p"; done
		i=$((i + 1))
	done
	ours=$(median < "$tmp/ours")
	printf '   %-10s %8.2f s  (median of %d)\n' ours "$ours" "$reps"
	for p in $peers; do
		t=$(median < "$tmp/$p")
		printf '   %-10s %8.2f s  ratio ours/%s = %.2f\n' "$p" "$t" "$p" "$(awk "BEGIN {print $ours / $t}")"
	done
	sh "$case" report | sed 's/^/   /'
	rm -rf "$tmp"
done
