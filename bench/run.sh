#!/bin/sh
# make bench: run every bench/cases/*.sh, ours and a peer interleaved on this
# machine in this run, and print median seconds and the ratio ours/peer.
# Machines here are noisy; only the ratio is meant to be compared over time.
#
# A case is a script taking one argument: "setup" (once), "ours", "peer"
# (timed, REPS times each), or "describe" (one line: what is compared).
# Usage: bench/run.sh BINARY   (under scripts/with-pg.sh)
set -eu
PC6RISK_BIN=$(cd "$(dirname "$1")" && pwd)/$(basename "$1")
PC6RISK_ROOT=$(cd "$(dirname "$0")/.." && pwd)
export PC6RISK_BIN PC6RISK_ROOT
reps=${REPS:-5}

now() { date +%s.%N; }
median() { sort -n | awk '{a[NR]=$1} END {print (NR%2) ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2}'; }

printf '%-24s %10s %10s %8s  %s\n' case ours_s peer_s ratio compared
for case in "$PC6RISK_ROOT"/bench/cases/*.sh; do
	name=$(basename "$case" .sh)
	sh "$case" setup >/dev/null
	ours=""
	peer=""
	i=0
	while [ $i -lt "$reps" ]; do
		t0=$(now); sh "$case" ours >/dev/null 2>&1 || { echo "$name: ours failed" >&2; exit 1; }; t1=$(now)
		sh "$case" peer >/dev/null 2>&1 || { echo "$name: peer failed" >&2; exit 1; }; t2=$(now)
		ours="$ours $(awk "BEGIN {print $t1 - $t0}")"
		peer="$peer $(awk "BEGIN {print $t2 - $t1}")"
		i=$((i + 1))
	done
	mo=$(printf '%s\n' $ours | median)
	mp=$(printf '%s\n' $peer | median)
	printf '%-24s %10.3f %10.3f %8.2f  %s\n' "$name" "$mo" "$mp" "$(awk "BEGIN {print $mo / $mp}")" "$(sh "$case" describe)"
done
