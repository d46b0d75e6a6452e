#!/bin/sh
# Run a command against a PostgreSQL+PostGIS database.
#
# Usage: scripts/with-pg.sh COMMAND [ARG...]
#
# When PGHOST, PGDATABASE or PGSERVICE is set, COMMAND runs against that
# database as is. Otherwise a throwaway server is started for the duration of
# COMMAND: initdb + pg_ctl in a short temporary directory, listening only on a
# private unix socket there (no TCP), owned by an unprivileged user (initdb
# refuses root; as root the `postgres` system user runs it), and removed on
# exit. COMMAND sees PGHOST, PGUSER and PGDATABASE pointing at it. If the server
# does not start, its log is printed.
set -eu

if [ $# -eq 0 ]; then
	echo "usage: scripts/with-pg.sh COMMAND [ARG...]" >&2
	exit 2
fi

if [ -n "${PGHOST:-}${PGDATABASE:-}${PGSERVICE:-}" ]; then
	echo "pc6risk: using the database from the environment" \
		"(PGHOST=${PGHOST:-} PGDATABASE=${PGDATABASE:-} PGSERVICE=${PGSERVICE:-})" >&2
	exec "$@"
fi

bindir=""
for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
	if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then
		bindir=$d
		break
	fi
done
if [ -z "$bindir" ]; then
	echo "pc6risk: no PostgreSQL server binaries under /usr/lib/postgresql; run scripts/deps.sh" >&2
	exit 1
fi

# The socket path must stay under ~100 bytes, so the directory lives in /tmp.
dir=$(mktemp -d /tmp/pc6pg.XXXXXX)
runas=""
if [ "$(id -u)" = 0 ]; then
	if ! id postgres >/dev/null 2>&1; then
		echo "pc6risk: running as root, but there is no 'postgres' user to own the throwaway server" >&2
		rm -rf "$dir"
		exit 1
	fi
	chown postgres "$dir"
	runas="runuser -u postgres --"
fi
chmod 700 "$dir"

started=0
cleanup() {
	if [ "$started" = 1 ]; then
		(cd / && $runas "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1) || true
	fi
	rm -rf "$dir"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

if ! (cd / && $runas "$bindir/initdb" -D "$dir/data" -U pc6risk -A trust -E UTF8 \
	--locale=C >"$dir/initdb.log" 2>&1); then
	echo "pc6risk: initdb failed; its output:" >&2
	cat "$dir/initdb.log" >&2
	exit 1
fi

opts="-c listen_addresses='' -k $dir -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
if ! (cd / && $runas "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
	-o "$opts" start >/dev/null 2>&1); then
	echo "pc6risk: the throwaway PostgreSQL server did not start; its log:" >&2
	cat "$dir/server.log" >&2 2>/dev/null || true
	exit 1
fi
started=1

if ! "$bindir/createdb" -h "$dir" -U pc6risk pc6risk; then
	echo "pc6risk: could not create the throwaway database; server log:" >&2
	cat "$dir/server.log" >&2
	exit 1
fi

export PGHOST="$dir" PGUSER=pc6risk PGDATABASE=pc6risk
unset PGPORT PGHOSTADDR PGPASSWORD
echo "pc6risk: throwaway PostgreSQL running at $dir (removed on exit)" >&2
status=0
"$@" || status=$?
exit $status
