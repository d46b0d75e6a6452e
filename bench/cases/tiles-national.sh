#!/bin/sh
# pc6risk publish's tiles of the synthetic national set at z10-14 (or at
# BENCH_TILE_ZOOMS, A-B) vs ST_AsMVT, ST_AsGeoJSON and ogr2ogr -f MVT; see
# bench/lib/tiles.sh. report: tiles/s per zoom, bytes, the heaviest tile,
# peak memory, and an incremental publish after 1 % of the PC6 changed.
set -eu
zooms=${BENCH_TILE_ZOOMS:-10-14}
. "$(dirname "$0")/../lib/tiles.sh"
tiles_case "$1"
