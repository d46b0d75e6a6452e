#!/bin/sh
# tiles-national at z8-16 (wijk, buurt and PC6 each at all three of its zooms,
# ~20 times the tiles of z10-14). ogr2ogr takes minutes here, so it is a peer
# only when the run is one repetition (REPS=1 bench/run.sh ...).
set -eu
zooms=8-16
. "$(dirname "$0")/../lib/tiles.sh"
if [ "$1" = peers ] && [ "${REPS:-3}" != 1 ]; then
	echo stmvt stgeojson
	exit 0
fi
tiles_case "$1"
