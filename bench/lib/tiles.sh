# Shared by bench/cases/tiles-*.sh (sourced, POSIX sh): pc6risk publish's
# tiles of the synthetic national set (one scenario, MBTiles + GeoJSON tiles,
# compression and disk writes included) against
#   stmvt      PostGIS ST_AsMVT(ST_AsMVTGeom(...)) per tile, 2 connections
#   stgeojson  a GeoJSON FeatureCollection per tile (ST_ClipByBox2D,
#              ST_Transform to 4326, ST_AsGeoJSON), 2 connections
#   ogr2ogr    ogr2ogr -f MVT into an MBTiles file, GDAL's own threads
# Layers as publish shows them: wijk at z8-10, buurt at z11-13, PC6 at z14-16,
# cut to the case's zoom range. The peers read tables in schema bench_tiles,
# made in setup (untimed) from bench_protect: EPSG:3857, the properties
# joined, a GIST index each. stmvt and stgeojson render exactly the tile list
# made in setup (the tiles whose bbox plus the 64/4096 buffer touches a
# feature's bbox, the rule of pc6risk's tiler); each tile is fetched by psql
# and dropped (only z/x/y and its size are kept, for report): no disk writes.
# ogr2ogr picks its own tiles and writes them compressed, like ours.
#
# The timed `ours` is a whole publish (reading the areas from PostGIS, the
# GeoPackage, CSV, report and audit besides the tiles), so the harness's
# ours/peer ratio understates the tiles; report gives the tiles pass itself
# from publish's log, per zoom and split into its MVT and GeoJSON paths.
#
# The caller sets zooms (A-B) before sourcing, then calls tiles_case "$1".
# BENCH_TILE_SCENARIO picks the scenario (default: the first in the config with
# values for wijk, buurt and PC6 groups). ours publishes with a copy of the
# config holding that scenario only. Needs bench_protect loaded, scored and
# protected (bench/cases/protect-national.sh).
set -eu
PC6RISK_ROOT=${PC6RISK_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
. "$PC6RISK_ROOT/bench/lib/national.sh"
zmin=${zooms%-*}
zmax=${zooms#*-}
work="$dir/tiles-z$zmin-$zmax"
src=bench_protect
peer=bench_tiles
inc=bench_tiles_inc
psql_q() { psql -qXAt -v ON_ERROR_STOP=1 "$@"; }

# The level shown at zoom z.
level_at() { if [ "$1" -le 10 ]; then echo wijk; elif [ "$1" -le 13 ]; then echo buurt; else echo pc6; fi; }

scenario() { cat "$work/scenario"; }

# Make the peers' tables (again when the scenario or bench_protect's last
# protect run changed: a stamp table says which they are made from).
make_peer_tables() {
	s=$1
	stamp="$s $(psql_q -c "SELECT max(id) FROM $src.run WHERE command <> 'publish' AND status = 'succeeded'")"
	if [ "$(psql_q -c "SELECT stamp FROM $peer.made" 2>/dev/null || true)" = "$stamp" ]; then
		return 0
	fi
	psql_q -v s="$s" -v stamp="$stamp" <<-EOF
		SET client_min_messages = warning;
		DROP SCHEMA IF EXISTS $peer CASCADE;
		CREATE SCHEMA $peer;
		-- rows in space order, as a tile server's table would be clustered
		CREATE TABLE $peer.wijk AS
		SELECT a.code, a.name, v.score, v.rank, v.status, ST_Transform(a.geom, 3857) AS geom
		FROM $src.protected_area a
		LEFT JOIN $src.protected_value v ON v.scenario = :'s' AND v.level = a.level AND v.code = a.code
		WHERE a.level = 'wijk' ORDER BY ST_GeoHash(ST_Transform(ST_PointOnSurface(a.geom), 4326));
		CREATE TABLE $peer.buurt AS
		SELECT a.code, a.name, v.score, v.rank, v.status, ST_Transform(a.geom, 3857) AS geom
		FROM $src.protected_area a
		LEFT JOIN $src.protected_value v ON v.scenario = :'s' AND v.level = a.level AND v.code = a.code
		WHERE a.level = 'buurt' ORDER BY ST_GeoHash(ST_Transform(ST_PointOnSurface(a.geom), 4326));
		CREATE TABLE $peer.pc6 AS
		SELECT a.code, a.name, g.band, ST_Transform(a.geom, 3857) AS geom
		FROM $src.protected_area a
		LEFT JOIN $src.protected_group_value g ON g.scenario = :'s' AND g.group_code = a.group_code
		WHERE a.level = 'pc6' ORDER BY ST_GeoHash(ST_Transform(ST_PointOnSurface(a.geom), 4326));
		CREATE INDEX ON $peer.wijk USING gist (geom);
		CREATE INDEX ON $peer.buurt USING gist (geom);
		CREATE INDEX ON $peer.pc6 USING gist (geom);
		ANALYZE $peer.wijk;
		ANALYZE $peer.buurt;
		ANALYZE $peer.pc6;
		CREATE TABLE $peer.made AS SELECT :'stamp'::text AS stamp;
	EOF
}

# The tile list, "z x y" per line, sorted by zoom: every tile whose extent
# grown by 64/4096 of a side touches the bbox of a feature of the zoom's level.
make_tile_list() {
	: > "$work/tiles.txt"
	z=$zmin
	while [ "$z" -le "$zmax" ]; do
		psql_q -F ' ' -v z="$z" >> "$work/tiles.txt" <<-EOF
			WITH p AS (SELECT 20037508.342789244 AS r, 2 * 20037508.342789244 / 2 ^ :z AS w, (1 << :z) - 1 AS top),
			b AS (SELECT greatest(0, floor((ST_XMin(t.geom) - w / 64 + r) / w))::int AS x0,
			             least(top, floor((ST_XMax(t.geom) + w / 64 + r) / w))::int AS x1,
			             greatest(0, floor((r - ST_YMax(t.geom) - w / 64) / w))::int AS y0,
			             least(top, floor((r - ST_YMin(t.geom) + w / 64) / w))::int AS y1
			      FROM $peer.$(level_at "$z") t, p)
			SELECT DISTINCT :z, x, y FROM b, generate_series(x0, x1) x, generate_series(y0, y1) y ORDER BY 2, 3;
		EOF
		z=$((z + 1))
	done
}

# Two SQL scripts per peer (tiles dealt alternately, so both connections work
# through each zoom together), with a time mark row at each zoom's start and end.
# $1 = stmvt or stgeojson.
make_sql() {
	for part in 1 2; do
		{
			echo "SET jit = off;"
			for l in wijk buurt pc6; do
				case $l in
				pc6) props="code, name, band" ;;
				*) props="code, name, score, rank, status" ;;
				esac
				if [ "$1" = stmvt ]; then
					cat <<-EOF
						PREPARE t_$l(int, int, int) AS SELECT \$1, \$2, \$3, octet_length(t), t FROM (
						 SELECT ST_AsMVT(q, '$l', 4096, 'geom') AS t FROM (
						  SELECT $props, ST_AsMVTGeom(geom, ST_TileEnvelope(\$1, \$2, \$3), 4096, 64, true) AS geom
						  FROM $peer.$l WHERE geom && ST_TileEnvelope(\$1, \$2, \$3, margin => 64.0 / 4096)) q) s;
					EOF
				else
					cat <<-EOF
						PREPARE t_$l(int, int, int) AS SELECT \$1, \$2, \$3, octet_length(t), t FROM (
						 SELECT json_build_object('type', 'FeatureCollection', 'features', coalesce(json_agg(
						  json_build_object('type', 'Feature', 'geometry', ST_AsGeoJSON(ST_Transform(c, 4326), 6)::json,
						                    'properties', json_build_object($(echo "$props" | sed "s/\([a-z][a-z]*\)/'\1', \1/g")))), '[]'))::text AS t
						 FROM (SELECT $props, ST_ClipByBox2D(geom, e) AS c
						       FROM $peer.$l, ST_TileEnvelope(\$1, \$2, \$3, margin => 64.0 / 4096) e WHERE geom && e) q
						 WHERE NOT ST_IsEmpty(c)) s;
					EOF
				fi
			done
			awk -v part="$part" '
				function mark(z) { printf "SELECT %s, -1, -1, -1, extract(epoch FROM clock_timestamp());\n", z }
				$1 != last { if (last != "") mark(last); mark($1); last = $1 }
				(NR % 2) == (part % 2) {
					l = $1 <= 10 ? "wijk" : $1 <= 13 ? "buurt" : "pc6"
					printf "EXECUTE t_%s(%s, %s, %s);\n", l, $1, $2, $3
				}
				END { if (last != "") mark(last) }' "$work/tiles.txt"
		} > "$work/$1.$part.sql"
	done
}

# Run one SQL peer: two sessions; keep z|x|y|bytes (and the marks), drop the
# tile. A pipeline's status is cut's, so psql's failure is left in a file.
run_sql_peer() {
	rm -f "$work/$1".*.failed
	for part in 1 2; do
		{ psql_q -f "$work/$1.$part.sql" || touch "$work/$1.$part.failed"; } | cut -c 1-60 > "$work/$1.$part.out" &
	done
	wait
	! ls "$work/$1".*.failed >/dev/null 2>&1
}

# Peer report: per zoom tiles, seconds (first start mark to last end mark over
# both sessions), tiles/s, bytes, and the heaviest tile. $1 = stmvt or stgeojson.
sql_peer_report() {
	[ -s "$work/$1.1.out" ] || { echo "$1: no output (not run)"; return 0; }
	cat "$work/$1.1.out" "$work/$1.2.out" | awk -F '|' -v peer="$1" '
		$2 == -1 { if (!($1 in t0) || $5 < t0[$1]) t0[$1] = $5; if ($5 > t1[$1]) t1[$1] = $5; next }
		{ n[$1]++; b[$1] += $4; if ($4 > hb) { hb = $4; h = $1 "/" $2 "/" $3 }
		  if ($4 == 0) e[$1]++ }
		END {
			# the zooms overlap a little (one session starts z+1 before the other ends z)
			for (z = 0; z <= 24; z++) if (z in n) {
				s = t1[z] - t0[z]; na += n[z]; ba += b[z]
				if (!first || t0[z] < first) first = t0[z]; if (t1[z] > last) last = t1[z]
				printf "%s z%d: %d tiles%s, %.1f s, %.0f tiles/s, %.1f MB\n", peer, z, n[z], e[z] ? " (" e[z] " empty)" : "", s, n[z] / s, b[z] / 1e6
			}
			printf "%s all: %d tiles, %.1f s, %.0f tiles/s, %.1f MB (uncompressed, not written), heaviest %d bytes @ %s\n",
				peer, na, last - first, na / (last - first), ba / 1e6, hb, h
		}'
}

# The first scenario of the config with wijk values and PC6 group bands.
pick_scenario() {
	if [ -n "${BENCH_TILE_SCENARIO:-}" ]; then
		echo "$BENCH_TILE_SCENARIO"
		return 0
	fi
	jq -r '.scenarios[] | .name // .preset' "$cfg" | while read -r s; do
		if [ "$(echo "SELECT EXISTS (SELECT FROM $src.protected_value WHERE scenario = :'s' AND level = 'wijk')
		                 AND EXISTS (SELECT FROM $src.protected_group_value WHERE scenario = :'s')" | psql_q -v s="$s")" = t ]; then
			echo "$s"
			break
		fi
	done
}

# A copy of bench_protect for the incremental run, so its 1 % change never
# touches the schema other cases share (once, and again when bench_protect
# has rows or migrations the copy lacks; run ids get their own sequence).
inc_state() { psql_q -c "SELECT (SELECT count(*) FROM $1.protected_group_value) || '/' || (SELECT max(version) FROM $1.schema_migration)"; }
make_inc_copy() {
	if [ "$(inc_state $inc 2>/dev/null || true)" = "$(inc_state $src)" ]; then
		return 0
	fi
	psql_q -c "SET client_min_messages = warning" -c "DROP SCHEMA IF EXISTS $inc CASCADE" -c "CREATE SCHEMA $inc"
	psql_q -c "SELECT tablename FROM pg_tables WHERE schemaname = '$src' ORDER BY 1" | while read -r t; do
		psql_q -c "CREATE TABLE $inc.$t (LIKE $src.$t INCLUDING ALL)" -c "INSERT INTO $inc.$t SELECT * FROM $src.$t"
	done
	psql_q <<-EOF
		CREATE SEQUENCE $inc.run_id_seq OWNED BY $inc.run.id;
		SELECT setval('$inc.run_id_seq', coalesce((SELECT max(id) FROM $inc.run), 0) + 1, false) \g /dev/null
		ALTER TABLE $inc.run ALTER COLUMN id SET DEFAULT nextval('$inc.run_id_seq');
		ANALYZE;
	EOF
}

# ours: the publish line's fields for zoom z, or nothing.
# The interface asked for is scenario=NAME; a build that logs level=LEVEL
# instead (one scenario per config here) is read the same way.
ours_line() { grep -E "tiles (scenario=$(scenario)|level=[a-z0-9]+) zoom=$1 " "$2" | tail -n 1; }
field() { echo "$1" | tr ' ' '\n' | sed -n "s/^$2=//p"; }

ours_report() {
	log=$(ls -t "$work"/out.*/ours.log 2>/dev/null | head -n 1 || true)
	if [ -z "$log" ] || ! grep -Eq "tiles (scenario=$(scenario)|level=[a-z0-9]+) zoom=" "$log"; then
		echo "ours: NO 'tiles scenario=$(scenario) zoom=...' line in ${log:-the log (ours did not run)}: ours' tiles are not measured (publish lacks --zooms / the tiles pass?)"
		[ -n "$log" ] && tail -n 3 "$log" | sed 's/^/ours log: /'
		return 0
	fi
	z=$zmin
	ta=0; na=0; bm=0; bg=0; hb=0; h=; tm=0; tg=0
	while [ "$z" -le "$zmax" ]; do
		line=$(ours_line "$z" "$log")
		if [ -z "$line" ]; then
			echo "ours z$z: no log line"
		else
			t=$(field "$line" tiles); s=$(field "$line" seconds); m=$(field "$line" bytes_mvt)
			g=$(field "$line" bytes_geojson); hv=$(field "$line" heaviest)
			t=${t:-0}; s=${s:-0}; m=${m:-0}; g=${g:-0}; hv=${hv:-0@?}
			# the pass's time split (thread-seconds / 2 threads): the MVT path is
			# simplify + clip + encode and gzip + MBTiles insert, the GeoJSON path
			# simplify + clip + encode and write the file
			sm=$(field "$line" simplify_s); cl=$(field "$line" clip_s); mv=$(field "$line" mvt_s)
			gj=$(field "$line" geojson_s); so=$(field "$line" store_s)
			sm=${sm:-0}; cl=${cl:-0}; mv=${mv:-0}; gj=${gj:-0}; so=${so:-0}
			listed=$(awk -v z="$z" '$1 == z' "$work/tiles.txt" | wc -l)
			awk -v z="$z" -v t="$t" -v s="$s" -v m="$m" -v g="$g" -v hv="$hv" -v l="$listed" \
				-v pm="$(awk "BEGIN {print $sm + $cl + $mv + $so}")" -v pg="$(awk "BEGIN {print $sm + $cl + $gj}")" 'BEGIN {
				printf "ours z%d: %d tiles (peers: %d), %.1f s, %.0f tiles/s both encodings; MVT path %.0f tiles/s, GeoJSON path %.0f tiles/s; MVT %.1f MB, GeoJSON %.1f MB, heaviest %s\n",
					z, t, l, s, (s > 0 ? t / s : 0), (pm > 0 ? t / pm : 0), (pg > 0 ? t / pg : 0), m / 1e6, g / 1e6, hv == "0@?" ? "not logged per zoom" : hv }'
			tm=$(awk "BEGIN {print ${tm:-0} + $sm + $cl + $mv + $so}"); tg=$(awk "BEGIN {print ${tg:-0} + $sm + $cl + $gj}")
			ta=$(awk "BEGIN {print $ta + $s}"); na=$((na + t)); bm=$((bm + m)); bg=$((bg + g))
			b=${hv%@*}
			if [ "$b" -gt "$hb" ]; then hb=$b; h=$hv; fi
		fi
		z=$((z + 1))
	done
	# a build may log the heaviest tile once, on its summary line
	[ "$hb" -gt 0 ] || h=$(grep -o 'heaviest=[^=]*[0-9]/[0-9]*' "$log" | tail -n 1 | cut -d = -f 2)
	awk -v t="$na" -v s="$ta" -v m="$bm" -v g="$bg" -v h="$h" -v pm="${tm:-0}" -v pg="${tg:-0}" 'BEGIN {
		printf "ours all: %d tiles, %.1f s in the tiles pass, %.0f tiles/s both encodings; MVT path %.0f tiles/s, GeoJSON path %.0f tiles/s (GeoJSON/MVT time %.2f, target <= 2); MVT %.1f MB, GeoJSON %.1f MB, heaviest %s\n",
			t, s, (s > 0 ? t / s : 0), (pm > 0 ? t / pm : 0), (pg > 0 ? t / pg : 0), (pm > 0 ? pg / pm : 0), m / 1e6, g / 1e6, h }'
	# reading the areas from PostGIS (the peers get their tables prepared in setup)
	grep -o 'tiles: read [0-9]* [a-zA-Z0-9]* areas in [0-9.]* s' "$log" | sed 's/^/ours /'
	out=$(dirname "$log")
	printf 'ours on disk: %s (mbtiles %s)\n' "$(du -sh "$out/out" | cut -f 1)" \
		"$(du -ch "$out"/out/current/tiles/*.mbtiles 2>/dev/null | tail -n 1 | cut -f 1)"
	if [ -s "$out/ours.rss" ]; then
		printf 'ours peak memory: %s MB (target <= 2048)\n' "$(($(tail -n 1 "$out/ours.rss") / 1024))"
	fi
}

# Change the band of the groups of 1 % of the PC6 (by a hash of the code) in
# the copy, keeping the old bands; print how many PC6 those groups hold.
inc_change() {
	psql_q -v s="$(scenario)" <<-EOF
		SET client_min_messages = warning;
		CREATE TEMP TABLE g AS SELECT DISTINCT group_code FROM $inc.protected_area
		 WHERE level = 'pc6' AND ('x' || substr(md5(code), 1, 8))::bit(32)::int % 100 = 0;
		DROP TABLE IF EXISTS $inc.tiles_saved_band;
		CREATE TABLE $inc.tiles_saved_band AS SELECT v.group_code, v.band FROM $inc.protected_group_value v
		 JOIN g USING (group_code) WHERE v.scenario = :'s';
		UPDATE $inc.protected_group_value v SET band = v.band % v.bands + 1
		 FROM g WHERE v.scenario = :'s' AND v.group_code = g.group_code AND v.band IS NOT NULL;
		SELECT count(*) FROM $inc.protected_area a JOIN g USING (group_code) WHERE a.level = 'pc6';
	EOF
}

inc_restore() {
	psql_q -v s="$(scenario)" <<-EOF
		UPDATE $inc.protected_group_value v SET band = o.band FROM $inc.tiles_saved_band o
		 WHERE v.scenario = :'s' AND o.group_code = v.group_code;
		DROP TABLE $inc.tiles_saved_band;
	EOF
}

# After a full publish, change the band of the groups of 1 % of the PC6
# (chosen by a hash of the code) in the copy, publish again into the same
# directory and compare; then put the bands back.
incremental_report() {
	log=$(ls -t "$work"/out.*/ours.log 2>/dev/null | head -n 1 || true)
	if [ -z "$log" ] || ! grep -Eq "tiles (scenario=$(scenario)|level=[a-z0-9]+) zoom=" "$log"; then
		echo "incremental: not run (ours' tiles are not measured yet)"
		return 0
	fi
	make_inc_copy
	rm -rf "$work/inc"
	mkdir -p "$work/inc"
	t0=$(date +%s.%N)
	"$PC6RISK_BIN" publish -v -c "$work/pc6risk.json" --schema $inc --out "$work/inc/out" --zooms "$zooms" \
		2>"$work/inc/full.log" || { echo "incremental: the full publish failed (see $work/inc/full.log)"; return 0; }
	t1=$(date +%s.%N)
	changed=$(inc_change)
	t2=$(date +%s.%N)
	"$PC6RISK_BIN" publish -v -c "$work/pc6risk.json" --schema $inc --out "$work/inc/out" --zooms "$zooms" 2>"$work/inc/incr.log" || rc=$?
	t3=$(date +%s.%N)
	inc_restore
	awk -v f="$(awk "BEGIN {print $t1 - $t0}")" -v i="$(awk "BEGIN {print $t3 - $t2}")" -v c="$changed" -v rc="${rc:-0}" 'BEGIN {
		printf "incremental (%d PC6 in changed groups): full %.1f s, incremental %.1f s, ratio %.3f (target <= 0.05)%s\n",
			c, f, i, i / f, rc ? " -- the incremental publish FAILED" : "" }'
}

tiles_case() {
	case "$1" in
	describe)
		echo "publish (whole; the tiles pass itself in report) with tiles z$zmin-$zmax of $n synthetic PC6, one scenario (MBTiles + GeoJSON, written) vs" \
			"ST_AsMVT and ST_AsGeoJSON per tile over 2 connections (fetched, not written) and ogr2ogr -f MVT (MBTiles)" ;;
	peers) echo stmvt stgeojson ogr2ogr ;;
	setup)
		[ -f "$cfg" ] || { echo "tiles: no national set in $dir (run the protect-national case first)" >&2; exit 1; }
		mkdir -p "$work"
		rm -rf "$work"/out.* "$work/ogr"
		s=$(pick_scenario)
		[ -n "$s" ] || { echo "tiles: no scenario with wijk values and PC6 bands in $src" >&2; exit 1; }
		echo "$s" > "$work/scenario"
		jq --arg s "$s" '.scenarios |= map(select((.name // .preset) == $s))' "$cfg" > "$work/pc6risk.json"
		make_peer_tables "$s"
		make_tile_list
		make_sql stmvt
		make_sql stgeojson
		# ogr2ogr's layers, each at the zooms it is shown at within this case's range
		jq -n --argjson a "$zmin" --argjson b "$zmax" '{
			wijk: {minzoom: ([8, $a] | max), maxzoom: ([10, $b] | min)},
			buurt: {minzoom: ([11, $a] | max), maxzoom: ([13, $b] | min)},
			pc6: {minzoom: ([14, $a] | max), maxzoom: ([16, $b] | min)}}
			| with_entries(select(.value.minzoom <= .value.maxzoom))' > "$work/ogr.json"
		command -v /usr/bin/time >/dev/null || echo "tiles: /usr/bin/time is missing (apt-get install time): no peak memory" >&2 ;;
	ours)
		# a new directory per run, so every run is a full publish (old ones go in setup)
		out="$work/out.$(date +%s%N)"
		mkdir -p "$out"
		/usr/bin/time -f '%M' -o "$out/ours.rss" "$PC6RISK_BIN" publish -v -c "$work/pc6risk.json" --schema $src \
			--out "$out/out" --zooms "$zooms" >/dev/null 2>"$out/ours.log" ;;
	stmvt | stgeojson) run_sql_peer "$1" ;;
	ogr2ogr)
		rm -rf "$work/ogr"
		mkdir -p "$work/ogr"
		# shellcheck disable=SC2046
		ogr2ogr -q -f MVT "$work/ogr/tiles.mbtiles" PG:"schemas=$peer" -dsco FORMAT=MBTILES \
			-dsco MINZOOM="$zmin" -dsco MAXZOOM="$zmax" -dsco CONF="$work/ogr.json" $(jq -r 'keys_unsorted[]' "$work/ogr.json") ;;
	report)
		echo "scenario $(scenario); $(wc -l < "$work/tiles.txt") tiles listed:" \
			"$(awk '{n[$1]++} END {for (z = 0; z <= 24; z++) if (z in n) printf " z%d=%d", z, n[z]}' "$work/tiles.txt")"
		ours_report
		sql_peer_report stmvt
		sql_peer_report stgeojson
		if [ -s "$work/ogr/tiles.mbtiles" ]; then
			sqlite3 -separator ' ' "$work/ogr/tiles.mbtiles" \
				"SELECT zoom_level, count(*), sum(length(tile_data)), max(length(tile_data)) FROM tiles GROUP BY 1" |
				awk '{ printf "ogr2ogr z%d: %d tiles, %.1f MB (gzip), largest %d bytes\n", $1, $2, $3 / 1e6, $4 }'
			printf 'ogr2ogr on disk: %s\n' "$(du -sh "$work/ogr/tiles.mbtiles" | cut -f 1)"
		fi
		incremental_report ;;
	*) echo "usage: $0 describe|setup|peers|ours|stmvt|stgeojson|ogr2ogr|report" >&2; exit 2 ;;
	esac
}
