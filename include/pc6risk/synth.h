/*
 * synth — realistic synthetic inputs: the Den Haag demo set (real buurten,
 * real Zuid-West PC6 polygons, synthetic PC6 elsewhere and synthetic PC6
 * figures everywhere) and a national set of any size for benchmarks.
 *
 * synth_run writes into opts->out_dir, in the formats load reads: a
 * GeoPackage (gemeente, wijk, buurt, pc6 layers, EPSG:28992), a CBS-style PC6
 * CSV, a CBS "postcode huisnummer" crosswalk CSV, a CSV of buurt figures that
 * exist only at buurt level, synthetic.json describing them, and a pc6risk.json
 * that loads them. Every data file has "synthetic" in its name and says so in
 * its metadata. The same seed gives the same bytes.
 *
 * Polygon work (Voronoi cells, clipping) runs in PostGIS, in a scratch schema
 * that synth creates inside one transaction and rolls back, so nothing is
 * left behind; all randomness comes from the seeded generator in gen.h.
 * The structs are plain values owned by the caller.
 */
#ifndef PC6RISK_SYNTH_H
#define PC6RISK_SYNTH_H

#include <stdint.h>

#include "pc6risk/config.h"
#include "pc6risk/db.h"
#include "pc6risk/err.h"

enum synth_area { SYNTH_DENHAAG, SYNTH_NL };

/* --postcodes limits for the national set. */
#define SYNTH_MIN_POSTCODES 100L
#define SYNTH_MAX_POSTCODES 1000000L

struct synth_opts {
	enum synth_area area;
	long postcodes;       /* nl: how many PC6 */
	uint64_t seed;
	const char *out_dir;  /* created when missing; synth's files in it are replaced */
	const char *data_dir; /* the real files synth starts from (the repository's demo/data) */
};

struct synth_stats {
	long long areas[LEVEL_COUNT]; /* written per level */
	long long pc6_real;           /* PC6 with real polygons (Den Haag Zuid-West) */
	long long addresses;          /* crosswalk rows */
	double ks_households;         /* KS D of published households per PC6 vs. the real distribution */
	double ks_inhabitants;        /* the same for inhabitants */
};

/* "denhaag" or "nl"; -1 when it is neither. */
int synth_area_parse(const char *name, enum synth_area *out);
const char *synth_area_name(enum synth_area area);

/* Generate the set. db is a connection to a PostgreSQL with PostGIS whose
 * schema (db_schema) is the scratch schema: it must not exist yet; synth
 * creates it inside a transaction it rolls back, so it leaves nothing behind. */
int synth_run(struct db *db, const struct synth_opts *opts, struct synth_stats *st, struct err *e);

#endif
