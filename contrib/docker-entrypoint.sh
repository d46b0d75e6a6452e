#!/bin/sh
# Container entry point: read the database password from the Docker secret
# (never from the config or the command line), apply migrations, then run the
# given pc6risk command.
set -eu
if [ -z "${PGPASSWORD:-}" ] && [ -r /run/secrets/pgpassword ]; then
	PGPASSWORD=$(cat /run/secrets/pgpassword)
	export PGPASSWORD
fi
config=/inputs/pc6risk.json
prev=""
for a in "$@"; do
	if [ "$prev" = "-c" ] || [ "$prev" = "--config" ]; then config=$a; fi
	prev=$a
done
pc6risk init -c "$config"
exec pc6risk "$@"
