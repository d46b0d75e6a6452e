/*
 * config — the JSON config file, read and checked into a struct config.
 *
 * This module is the only user of cJSON for configuration. config_load returns
 * a struct the caller frees with config_free; every string in it belongs to it.
 * Relative paths in the file are resolved against the file's own directory, so
 * a config and its inputs can move together. Syntax errors name
 * "file:line:col"; meaning errors name the key path ("privacy.k: ...").
 */
#ifndef PC6RISK_CONFIG_H
#define PC6RISK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include "pc6risk/csv.h"
#include "pc6risk/err.h"
#include "pc6risk/schedule.h"

/* The area tree, coarse to fine: every level nests in the one before it. */
enum level { LEVEL_GEMEENTE, LEVEL_WIJK, LEVEL_BUURT, LEVEL_PC6, LEVEL_COUNT };

/* "gemeente", "wijk", "buurt", "pc6". */
const char *level_name(enum level level);
/* "gemeenten", "wijken", "buurten", "PC6": for counts in messages. */
const char *level_plural(enum level level);
/* Parse a level name; -1 when it is none of them. */
int level_parse(const char *name, enum level *out);

/* inputs.areas[i]: one vector source holding the polygons of one level. */
struct config_area {
	enum level level;
	char *path;         /* resolved */
	char *layer;        /* NULL: the source's first layer */
	char *srs;          /* NULL: the CRS the source declares */
	char *code_field;   /* area code */
	char *name_field;   /* NULL for pc6 */
	char *parent_field; /* code of the parent area; NULL for gemeente, and for pc6 = by overlap */
};

/* One canonical indicator and the source column it is read from. */
/* What a figure is, which says what values are valid. */
enum kind {
	KIND_COUNT,  /* a whole number >= 0 (people, households, dwellings) */
	KIND_SHARE,  /* a percentage, 0 to 100 */
	KIND_AMOUNT  /* any number (a mean value, money) */
};

/* "count", "share", "amount". */
const char *kind_name(enum kind kind);

struct config_column {
	char *indicator;
	char *column;
	enum kind kind; /* "INWONER" alone means a count */
	char *unit;     /* free text for people ("% of households"), or NULL */
};

/* inputs.indicators[i]: one delimited file of figures for areas of one level. */
struct config_indicators {
	char *path; /* resolved */
	enum level level;
	char *key;       /* column holding the area code */
	char delimiter;  /* 0: detect */
	enum encoding encoding;
	struct config_column *columns;
	size_t ncolumns;
};

/* inputs.crosswalk: which buurt each PC6 lies in, CBS "postcode huisnummer" style
 * (one row per address; a PC6 goes to the buurt holding most of its rows). */
struct config_crosswalk {
	char *path; /* resolved */
	char *pc6_column;
	char *buurt_column; /* "BU05182915", "05182915" or CBS's bare 5182915 */
	char delimiter;
	enum encoding encoding;
};

/* privacy.policy: CBS's public rules, or k households for use inside the municipality. */
enum policy { POLICY_PUBLIC, POLICY_INTERNAL };

/* What kind of count a published figure is; each has its own rules. */
enum disclosure { DISC_PERSON, DISC_DWELLING, DISC_INCOME, DISC_COUNT };

const char *disclosure_name(enum disclosure d);

/* A count published per region (privacy.figures). */
struct config_figure {
	char *name;           /* a PC6-level count indicator */
	enum disclosure kind;
};

/* A size rule every published region meets: indicator >= min. */
struct config_size_rule {
	char *name;
	int min;
};

struct config_privacy {
	enum policy policy;
	struct config_size_rule size[2]; /* public: inhabitants and dwellings >= k; internal: count >= k */
	size_t nsize;
	int round;          /* rounding base of person and dwelling counts */
	int income_min;     /* income figures need at least this many households */
	int income_round;   /* rounding base of income counts */
	double dominance;   /* income: largest PC6 at most this share of the region's sum */
	double range;       /* protection range: a hidden count spans max(range * upper, 2k) */
	int bands;          /* PC6 group scores in this many bands */
	bool exact_scores;  /* internal only: group scores exact instead of banded */
	struct config_figure *figures;
	size_t nfigures;
};

/* How a scenario turns its indicators into one score. */
enum combine {
	COMBINE_RATE,    /* one rate, numerator / denominator * per, as it is */
	COMBINE_MEAN,    /* weighted mean of the normalised domains */
	COMBINE_GEOMEAN, /* weighted geometric mean: every domain must be high */
	COMBINE_FLAGS,   /* count of domains at or above a percentile; at risk from `needed` */
	COMBINE_IMD,     /* domain ranks through the IMD exponential transform, weighted */
	COMBINE_PCA      /* the first principal component */
};

/* How indicators are made comparable (the order of stats.h's stats_norm). */
enum norm { NORM_Z, NORM_ROBUST_Z, NORM_RANK, NORM_MINMAX };

const char *combine_name(enum combine c);
const char *norm_name(enum norm n);

/* One indicator of a scenario: a figure as it is, or a rate of summed counts. */
struct config_term {
	char *name;           /* its name in the scenario's outputs */
	char *value;          /* a figure used as it is (a share, an amount), or NULL for a rate */
	char *base;           /* for a share: the count it is a share of (to shrink it), or NULL */
	char **numerator;     /* a rate: sum(numerator) / sum(denominator) */
	size_t nnumerator;
	char **denominator;
	size_t ndenominator;
	int direction;        /* +1: more is more risk ("up"); -1: less is more risk ("down") */
	char *domain;         /* the domain it counts in (its own name when not given) */
	enum level level;     /* where its figures are read: given, or after checking, the scenario's
				 level or the nearest coarser one that has them (inherited) */
	bool level_given;
	bool optional;        /* may be missing from the inputs: then it is left out */
	bool present;         /* after checking: its figures are read */
};

/* A domain and its weight. */
struct config_domain {
	char *name;
	double weight;
};

/* scenarios[i], from a preset (presets/NAME.json, changed by the keys given
 * beside "preset") or written out in full; see docs/scenarios.md. */
struct config_scenario {
	char *name;     /* [a-z0-9][a-z0-9_-]*, used in file and property names */
	char *title;
	char *about;    /* what it measures, in a sentence or two, or NULL */
	char *preset;   /* the preset it came from, or NULL */
	enum combine combine;
	enum level level;           /* the level its figures are combined at */
	bool outputs[LEVEL_COUNT];  /* the levels it scores: its own and coarser ones */
	bool reference_all;         /* normalise and rank over everything loaded, else within each gemeente */
	enum norm normalise;
	double winsor_lo, winsor_hi; /* quantiles, 0 and 1 when not winsorising */
	bool shrink;                 /* empirical-Bayes shrinkage of rates toward the buurt (then wijk) */
	struct config_term *terms;
	size_t nterms;
	struct config_domain *domains; /* in order of first mention */
	size_t ndomains;
	double flag_percentile;  /* COMBINE_FLAGS: a domain is flagged at or above this quantile */
	int flags_needed;        /* COMBINE_FLAGS: at risk from this many flags */
	char *weight;            /* the indicator that weights a unit when scores go up a level; NULL: equal */
	char *volume_count;      /* expected number affected = volume_count * term volume_share / 100 */
	char *volume_share;
	char *size;              /* too small to rank when this indicator is below min_size */
	double min_size;
	double per;              /* COMBINE_RATE */
};

struct config {
	char *path; /* as given */
	char *dir;  /* its directory, for resolving */
	char *schema;

	struct config_area *areas;
	size_t nareas;
	struct config_indicators *indicators;
	size_t nindicators;
	struct config_crosswalk *crosswalk; /* NULL: PC6 parents from the polygons or by overlap */
	struct config_scenario *scenarios;
	size_t nscenarios;

	int k;             /* privacy.k: smallest size of a published unit */
	char *k_indicator; /* privacy.count: the indicator that measures size */
	struct config_privacy privacy; /* the rest of privacy; see docs/disclosure.md */

	char *out_dir; /* publish.dir, resolved */
	char **neighbourhoods;
	size_t nneighbourhoods;
	int keep_releases;
	char *attribution; /* publish.attribution: source credit written with every release, or NULL */
	bool synthetic;    /* publish.synthetic; unset: whether the attribution says "synthetic" */
	char *basemap_url; /* publish.basemap.url: an XYZ raster template for the viewer, or NULL */
	char *basemap_attribution;
	bool viewer;      /* publish.viewer: copy the map viewer into each release (true) */
	char *viewer_dir; /* publish.viewer as a folder, resolved; NULL: the built-in one */
	struct config_tiles {
		bool enabled;       /* publish.tiles.enabled (true) */
		int zoom[LEVEL_COUNT][2]; /* min and max zoom per level; min -1: level not tiled */
		bool pbf;           /* publish.tiles.pbf: also a {z}/{x}/{y}.pbf folder (false) */
	} tiles;
	struct config_png {
		bool enabled;       /* publish.png given: every publish writes png/<scenario>.png */
		int width, height;  /* publish.png.width, .height: pixels, 400 to 8000 (1600 x 1200) */
	} png;

	int compare_draws;            /* compare.draws: Monte Carlo draws per scenario */
	unsigned long long compare_seed;

	/* daemon: the nightly refresh and the HTTP server (docs/config.md) */
	struct config_daemon {
		struct schedule schedule;  /* daemon.schedule ("03:00" daily, Europe/Amsterdam time) */
		char *listen;              /* daemon.listen ("127.0.0.1:8080") */
		char *cors_origin;         /* daemon.cors_origin, or NULL: no CORS headers */
		char *public_url;          /* daemon.public_url, or NULL: tile URLs from the Host header */
		long long ready_max_age;   /* seconds; /readyz fails when the last good refresh is older (26 h) */
		long long retry_min;       /* seconds to the first retry after a failed refresh (30 s) ... */
		long long retry_max;       /* ... doubling up to this (30 min) */
		long long stop_timeout;    /* seconds SIGTERM waits for the current step to roll back (60 s) */
		int threads;               /* HTTP worker threads (2) */
		int max_connections;       /* open HTTP connections at most (512) */
	} daemon;

	/* sha256 of the file's bytes and this pc6risk's version: a refresh runs
	 * again when either changed. */
	char hash[65];
};

/* Read and check the file at path. NULL with e filled (ERR_CONFIG) on failure. */
struct config *config_load(const char *path, struct err *e);

/* The same, from text in memory; path is only used in messages and to resolve
 * relative paths. */
struct config *config_parse(const char *text, size_t len, const char *path, struct err *e);

/* The JSON text of a shipped preset (presets/NAME.json), or NULL. */
const char *config_preset(const char *name);
/* The names of the shipped presets, NULL-terminated. */
const char *const *config_preset_names(void);

/* Is name usable as a schema: lowercase letters, digits and _, starting with a
 * letter, at most 40 characters? */
bool config_schema_name_ok(const char *name);

/* Find the area input of a level, or NULL. */
const struct config_area *config_area(const struct config *c, enum level level);

/* Is an indicator of that name read for that level? */
bool config_has_indicator(const struct config *c, enum level level, const char *name);

/* The level a scenario is shown at on maps and in rankings: buurt when it
 * scores buurten, else its own level. */
enum level config_display_level(const struct config_scenario *s);

void config_free(struct config *c);

#endif
