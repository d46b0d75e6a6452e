# Shared by bench/cases/daemon-*.sh (sourced, POSIX sh): tile requests per
# second from `pc6risk daemon` against nginx serving the same release from
# disk, both on loopback, both with 2 worker threads/processes, measured by
# h2load (nghttp2-client, HTTP/1.1, 2 threads, 32 keep-alive connections)
# making a fixed number of tile requests that cycle through every tile of the
# release (so the ratio of the timed runs is the inverse ratio of the request
# rates; h2load and the server share the machine's 2 cores, for both peers). The release is the
# Den Haag demo at z8-16 with every scenario, published once in setup with
# publish.tiles.pbf on (so nginx has .pbf files to serve); the servers start in
# setup and stop in report.
#
# The caller sets ext (geojson or pbf) before sourcing, then calls
# http_case "$1". geojson: both serve the same files (sendfile). pbf: the
# daemon reads the MBTiles and answers gzip as stored (the request says
# Accept-Encoding: gzip, as browsers do); nginx sends the plain .pbf files.
set -eu
PC6RISK_ROOT=${PC6RISK_ROOT:-$(cd "$(dirname "$0")/../.." && pwd)}
work="$PC6RISK_ROOT/build/bench-daemon"
schema=bench_daemon
dport=${BENCH_DAEMON_PORT:-18080}
nport=${BENCH_NGINX_PORT:-18081}
requests=${BENCH_HTTP_REQUESTS:-100000}

load_run() {
	# $1 port, $2 output file
	sed "s|^|http://127.0.0.1:$1|" "$work/paths.$ext" >"$work/urls.$1.$ext"
	h2load --h1 -n "$requests" -c 32 -t 2 -H "Accept-Encoding: gzip" -i "$work/urls.$1.$ext" >"$2" 2>&1
	if ! grep -q "requests: $requests total, $requests started, $requests done, $requests succeeded, 0 failed, 0 errored" "$2" ||
		! grep -q "status codes: $requests 2xx" "$2"; then
		cat "$2" >&2
		echo "bench: errors in the responses" >&2
		exit 1
	fi
}

stop_servers() {
	for p in daemon nginx; do
		if [ -f "$work/$p.pid" ]; then
			kill "$(cat "$work/$p.pid")" 2>/dev/null || true
			rm -f "$work/$p.pid"
		fi
	done
	sleep 1
}

http_setup() {
	mkdir -p "$work"
	stop_servers
	cfg="$work/pc6risk.json"
	demo="$PC6RISK_ROOT/demo"
	"$PC6RISK_BIN" synth -q --area denhaag --seed 1 --data "$demo/data" --out "$demo/synthetic" --schema bench_synth
	# the demo config with absolute input paths, the pbf folder on, and the daemon on our port
	jq --arg demo "$demo" --arg out "$work/out" --arg schema "$schema" --arg listen "127.0.0.1:$dport" '
		.database.schema = $schema
		| .inputs.areas |= map(.path = ($demo + "/" + .path))
		| .inputs.indicators |= map(.path = ($demo + "/" + .path))
		| (if .inputs.crosswalk then .inputs.crosswalk.path = ($demo + "/" + .inputs.crosswalk.path) else . end)
		| .publish.dir = $out | .publish.tiles.pbf = true
		| .daemon = {"schedule": "off", "listen": $listen, "threads": 2}' \
		"$demo/pc6risk.json" >"$cfg"
	"$PC6RISK_BIN" init -q -c "$cfg"
	[ -e "$work/out/current" ] || "$PC6RISK_BIN" refresh -q -c "$cfg" --draws 100 >/dev/null
	rel=$(cd "$work/out/current" && pwd -P)
	(cd "$rel" && find tiles -path "*/[0-9]*/[0-9]*/*.$ext" | sed 's|^|/|' | sort) >"$work/paths.$ext"
	"$PC6RISK_BIN" daemon -q -c "$cfg" >"$work/daemon.log" 2>&1 &
	echo $! >"$work/daemon.pid"
	mkdir -p "$work/nginx"
	cat >"$work/nginx/nginx.conf" <<-CONF
		worker_processes 2;
		daemon off;
		pid $work/nginx/nginx.pid;
		error_log $work/nginx/error.log warn;
		$( [ "$(id -u)" = 0 ] && echo "user root root;" )
		events { worker_connections 1024; }
		http {
		    access_log off;
		    sendfile on;
		    tcp_nopush on;
		    keepalive_requests 100000;
		    types { application/geo+json geojson; application/vnd.mapbox-vector-tile pbf; }
		    server {
		        listen 127.0.0.1:$nport;
		        root $rel;
		    }
		}
	CONF
	nginx -c "$work/nginx/nginx.conf" -p "$work/nginx" &
	echo $! >"$work/nginx.pid"
	# both answer before the timing starts
	first=$(head -1 "$work/paths.$ext")
	for i in $(seq 1 100); do
		if curl -fs -o /dev/null "http://127.0.0.1:$dport$first" && curl -fs -o /dev/null "http://127.0.0.1:$nport$first"; then
			return 0
		fi
		sleep 0.2
	done
	echo "bench: the servers did not answer; daemon log:" >&2
	cat "$work/daemon.log" "$work/nginx/error.log" >&2
	exit 1
}

http_case() {
	case "$1" in
	describe) echo "$requests $ext tile requests over loopback (h2load): pc6risk daemon vs nginx serving the same release" ;;
	peers) echo nginx ;;
	setup) http_setup ;;
	ours) load_run "$dport" "$work/load-daemon.$ext.txt" ;;
	nginx) load_run "$nport" "$work/load-nginx.$ext.txt" ;;
	report)
		d=$(awk '/^finished in/ {print $4}' "$work/load-daemon.$ext.txt")
		n=$(awk '/^finished in/ {print $4}' "$work/load-nginx.$ext.txt")
		echo "last run: daemon $d req/s, nginx $n req/s, daemon/nginx = $(awk "BEGIN {printf \"%.2f\", $d / $n}") (target >= 0.8)"
		echo "tiles cycled through: $(wc -l <"$work/paths.$ext") $ext paths"
		stop_servers ;;
	esac
}
