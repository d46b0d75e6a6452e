/*
 * publish — protected tables into files a GIS user opens.
 *
 * Reads only protected_area and protected_value (what protect wrote). Writes a
 * release directory <out>/releases/<id>/ holding buurten.geojson (every buurt,
 * RFC 7946), neighbourhoods/<slug>.geojson per selected wijk or buurt (its
 * buurten and their PC6), and release.json (what, when, from which run). The
 * release is built in a hidden staging directory, renamed into place and then
 * <out>/current is swapped to it in one rename, so a failure leaves the previous
 * publication as it was. Same data and config give byte-identical GeoJSON.
 */
#ifndef PC6RISK_PUBLISH_H
#define PC6RISK_PUBLISH_H

#include <stdbool.h>
#include <stddef.h>

#include "pc6risk/config.h"
#include "pc6risk/db.h"
#include "pc6risk/err.h"

struct publish_opts {
	const char *out_dir;         /* NULL: the config's publish.dir */
	const char *const *select;   /* NULL: the config's publish.neighbourhoods */
	size_t nselect;
	long long run_id;            /* recorded in release.json and the release id */
	bool print_ranking;          /* print the ranked table on stdout */
	int minzoom, maxzoom;        /* tiles of these zooms only; -1, -1: publish.tiles */
	bool no_tiles;               /* no tiles at all */
	bool png;                    /* PNG maps even when publish.png is not configured */
};

struct publish_stats {
	long long features;
	long long files;
	long long audited_figures; /* what the audit of the release checked */
	long long audit_lp_solves;
	long long tiles;           /* tiles written, all scenarios */
	long long tiles_reused;    /* of which taken unchanged from the previous release */
	long long pngs;            /* PNG maps written (png/<scenario>.png) */
	char release[64];    /* the release id */
	char dir[1024];      /* the release directory */
};

int publish_run(struct db *db, const struct config *cfg, const struct publish_opts *opts,
		struct publish_stats *st, struct err *e);

/* An area a user can select by name or code. */
struct area_ref {
	const char *level; /* "wijk" or "buurt" */
	const char *code;
	const char *name;
};

/* Find the one area query means: an exact code; else the wijk whose name
 * matches (text_name_matches), else the buurt; among several matches of a
 * level, the one whose folded name equals the query. Sets *found to its index,
 * or fails (ERR_INPUT) saying no area matches or listing the ambiguous ones. */
int publish_select(const struct area_ref *areas, size_t n, const char *query, size_t *found, struct err *e);

#endif
