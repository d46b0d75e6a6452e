/*
 * sdc — statistical disclosure control: the pure core of protect (no
 * database; see docs/disclosure.md for what it decides and why).
 *
 * Input: the area tree (PC6 ⊂ buurt ⊂ wijk ⊂ gemeente), which PC6 share a
 * border inside their buurt and which buurten inside their wijk, the size
 * counts the rules are about and the counts to publish, per PC6.
 *
 * What it decides:
 *  1. groups: PC6 below the size rules are merged with adjacent PC6 of the
 *     same buurt (smallest first, the neighbour of most similar risk, then the
 *     smallest) until every group meets the rules; an island merges with the
 *     buurt's group of most similar risk;
 *  2. buurt units: the same for buurten inside their wijk, so a buurt too
 *     small on its own is published as part of a unit;
 *  3. per region (group, unit, wijk, gemeente) and count: published, rounded
 *     to its base, or suppressed: primary when the region fails a rule itself
 *     (also a unit of several buurten when some of them publish on their own,
 *     as CBS does, so the unit minus them would give the others away),
 *     secondary when the figure would let a hidden one be recomputed from a
 *     published parent or from published children.
 *
 * Everything is deterministic: ties are broken by code.
 */
#ifndef PC6RISK_SDC_H
#define PC6RISK_SDC_H

#include "pc6risk/config.h"

#include <stdbool.h>
#include <stddef.h>

enum sdc_level { SDC_GROUP, SDC_UNIT, SDC_WIJK, SDC_GEMEENTE, SDC_NLEVELS };

const char *sdc_level_name(enum sdc_level l);

/* The rules of one kind of count. */
struct sdc_rule {
	int base;         /* published counts are rounded to a multiple of this */
	int k;            /* hidden counts of one parent must together reach 2k */
	int min;          /* income: the region's households (sdc_problem.obs) must reach min; 0: no rule */
	double dominance; /* > 0: the largest PC6 may hold at most this share of the sum */
};

struct sdc_problem {
	size_t npc6, nbuurt, nwijk, ngemeente;
	const char *const *pc6_code;      /* sorted ascending (strcmp) */
	const int *pc6_buurt;
	const double *pc6_risk;           /* similarity when merging; NULL or NAN: none */
	const size_t *pc6_adj_start;      /* npc6 + 1 offsets into pc6_adj: neighbours in the same buurt */
	const int *pc6_adj;
	const char *const *buurt_code;    /* sorted ascending */
	const int *buurt_wijk;
	const double *buurt_risk;         /* NULL or NAN: none */
	const size_t *buurt_adj_start;    /* nbuurt + 1 offsets: neighbours in the same wijk */
	const int *buurt_adj;
	const char *const *wijk_code;     /* sorted ascending */
	const int *wijk_gemeente;
	const char *const *gemeente_code; /* sorted ascending */

	size_t nsize;                     /* size rules: size[s][pc6] >= size_min[s] (lower bounds) */
	const double *const *size;
	const int *size_min;
	const double *obs;                /* households per PC6 for the income rule (lower bound), or NULL */

	size_t nvar;                      /* counts to publish: value[v][pc6] */
	const double *const *value;       /* best estimate (a secret CBS value: the middle of 0-4) */
	const double *const *value_lo;    /* lower bound (a secret CBS value: 0) */
	const enum disclosure *kind;
	struct sdc_rule rule[DISC_COUNT];
	bool no_secondary;                /* tests only: leave secondary protection out */
};

enum sdc_status { SDC_PUBLISHED, SDC_PRIMARY, SDC_SECONDARY };

/* A region of the protection tree. */
struct sdc_region {
	enum sdc_level level;
	int parent;      /* region index, -1 for a gemeente */
	int first;       /* group: its smallest PC6; unit: its smallest buurt; wijk/gemeente: its index */
	int members;     /* PC6 in a group, buurten in a unit */
	bool meets;      /* meets every size rule */
};

struct sdc_result {
	int *pc6_group;                /* region index of each PC6's group */
	int *buurt_unit;               /* region index of each buurt's unit */
	bool *buurt_meets;             /* each buurt meets the size rules on its own */
	struct sdc_region *region;     /* groups, then units, wijken, gemeenten; each by first code */
	size_t nregion;
	size_t level_start[SDC_NLEVELS + 1];
	enum sdc_status *status;       /* [region * nvar + v] */
	double *shown;                 /* [region * nvar + v]: the rounded value when published */
	const char **reason;           /* [region * nvar + v]: why suppressed (static text), or NULL */
};

/* Decide; 0, or -1 when the tree is inconsistent (an index out of range). */
int sdc_protect(const struct sdc_problem *p, struct sdc_result *r);

void sdc_result_free(struct sdc_result *r);

/* x rounded half up to a multiple of base. */
double sdc_round(double x, int base);

#endif
