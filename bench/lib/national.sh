# Shared by the bench cases on the synthetic national set (sourced, POSIX sh):
# where the set lives and how it is made. BENCH_NL_POSTCODES sets the size
# (default 450000, the national design point); the set in build/bench-nl-N
# (BENCH_NL_DIR) is made once and shared by every case.
n=${BENCH_NL_POSTCODES:-450000}
dir=${BENCH_NL_DIR:-$PC6RISK_ROOT/build/bench-nl-$n}
cfg="$dir/pc6risk.json"

# Make the set when it is missing, or older than the buurt columns the
# scenarios read now (P_KIND_LAAGINK came with the outcome layer).
national_set() {
	if [ ! -f "$cfg" ] || ! head -n 1 "$dir/nl-synthetic-buurt.csv" | grep -q P_KIND_LAAGINK; then
		echo "   generating the national set in $dir"
		"$PC6RISK_BIN" synth -q --area nl --postcodes "$n" --seed 1 --data "$PC6RISK_ROOT/demo/data" \
			--out "$dir" --schema bench_synth
	fi
}
