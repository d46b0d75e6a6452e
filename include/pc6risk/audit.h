/*
 * audit — prove from the published disclosure files alone that nothing in a
 * release is disclosive (docs/disclosure.md is the contract).
 *
 * Reads DIR/disclosure/{groups.csv,figures.csv,policy.json} and, optionally, a
 * CSV of public totals an attacker already knows; never the database. Pure
 * code: no libpq; GLPK for the interval check. audit_dir fills a report the
 * caller owns and frees with audit_report_free; every string in it belongs to
 * the report.
 */
#ifndef PC6RISK_AUDIT_H
#define PC6RISK_AUDIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "pc6risk/err.h"

/* The checks of docs/disclosure.md, in the order they are listed. */
enum audit_check {
	AUDIT_SIZE,         /* 1. size variables published and at least their min */
	AUDIT_ROUNDING,     /* 2. counts multiples of their base, group scores bands */
	AUDIT_KIND,         /* 3. income only where households >= min */
	AUDIT_POLICY,       /* the policy itself (dominance share under "public") */
	AUDIT_DIFFERENCING, /* 4. no suppressed count is a combination of known figures */
	AUDIT_INTERVAL      /* 5. every suppressed count's feasible interval is wide enough */
};

/* A short name of a check ("size", "differencing", ...). */
const char *audit_check_name(enum audit_check c);

struct audit_failure {
	enum audit_check check;
	char *level;    /* "group", "buurt", "wijk", "gemeente"; "" for the policy */
	char *region;   /* "" for the policy */
	char *variable; /* "" when not about one variable */
	char *message;  /* one line: region, variable, what is wrong and the numbers */
};

/* The smallest published value of one size variable over the groups. */
struct audit_smallest {
	char *variable;
	char *group; /* NULL when no group publishes the variable */
	double value;
	double min;  /* the policy's minimum */
};

/* The suppressed count whose interval is narrowest relative to its requirement. */
struct audit_interval {
	char *level, *region, *variable;
	double lo, hi;     /* the smallest and largest value it can take */
	double required;   /* max(2 * range * (lo + hi) / 2, 4 * k): ±range and ±2k around the middle */
};

struct audit_report {
	char *policy;           /* the policy's name ("public", ...) */
	long regions[4];        /* regions with figures: group, buurt, wijk, gemeente */
	long figures, published, suppressed;
	long primary, secondary;   /* suppressed figures by the reason's prefix */
	long suppressed_counts;    /* suppressed counts: what checks 4 and 5 examine */
	long public_used;          /* public totals taken as known */
	long public_ignored;       /* public totals of codes or variables not in the release */
	struct audit_smallest *smallest; /* one per size variable of the policy */
	size_t nsmallest;
	bool has_narrowest;     /* false when no suppressed count has a bounded interval */
	struct audit_interval narrowest;
	long components;        /* (variable, component) pairs with a suppressed count */
	long lp_solves;         /* LP optimisations (min and max, deduplicated) */
	double lp_seconds;      /* wall time of checks 4 and 5 */
	int threads;
	bool has_dominance;
	double dominance;       /* the policy's dominance share of income, when given */
	struct audit_failure *failures; /* every failure, by check, then file order */
	size_t nfailures;
};

struct audit_opts {
	const char *public_csv; /* NULL: no public totals */
	int threads;            /* 0: the online CPUs, at most 8 */
};

/*
 * Audit the release in dir (a directory holding disclosure/). Returns 0 when
 * every check passes, 1 when any fails (out->failures lists them all), -1 on
 * an error: ERR_INPUT for unreadable or malformed files, naming file:line:col
 * (policy.json: the key path) and what was expected. opts may be NULL. out is
 * filled in every case and is the caller's to free with audit_report_free.
 */
int audit_dir(const char *dir, const struct audit_opts *opts, struct audit_report *out, struct err *e);

/* Free what out holds and zero it; a zeroed report is fine. */
void audit_report_free(struct audit_report *r);

/* Print the certificate (when nothing failed) or the failures, the first
 * max_failures of them and a count of the rest, to f. */
void audit_print(const struct audit_report *r, const char *dir, size_t max_failures, FILE *f);

#endif
