#include "pc6risk/sdc.h"
#include "pc6risk/xalloc.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const level_names[SDC_NLEVELS] = {"group", "buurt", "wijk", "gemeente"};

const char *sdc_level_name(enum sdc_level l)
{
	return l < SDC_NLEVELS ? level_names[l] : "?";
}

double sdc_round(double x, int base)
{
	return floor(x / base + 0.5) * base;
}

/* Items (PC6 or buurten) merged inside blocks (buurten or wijken). */
struct merge {
	size_t n;
	const int *block;
	const size_t *adj_start;
	const int *adj;
	size_t nsize;
	const int *min;
	double *size;     /* [item * nsize + s], summed into the root */
	double *risk_sum; /* per root: sum of known risks and their number */
	int *risk_n;
	int *up;          /* union-find parent; roots are each group's smallest item */
};

static int find(int *up, int i)
{
	while (up[i] != i) {
		up[i] = up[up[i]];
		i = up[i];
	}
	return i;
}

/* How far a group is toward its rules: the smallest size / min (>= 1: meets). */
static double fill(const struct merge *m, int g)
{
	double f = INFINITY;

	for (size_t s = 0; s < m->nsize; s++) {
		double x = m->size[(size_t)g * m->nsize + s] / m->min[s];

		if (x < f)
			f = x;
	}
	return f;
}

static double group_risk(const struct merge *m, int g)
{
	return m->risk_n[g] ? m->risk_sum[g] / m->risk_n[g] : NAN;
}

static void join(struct merge *m, int a, int b)
{
	int lo = a < b ? a : b, hi = a < b ? b : a;

	m->up[hi] = lo;
	for (size_t s = 0; s < m->nsize; s++)
		m->size[(size_t)lo * m->nsize + s] += m->size[(size_t)hi * m->nsize + s];
	m->risk_sum[lo] += m->risk_sum[hi];
	m->risk_n[lo] += m->risk_n[hi];
}

/* Merge the items of one block, items[0..cnt) ascending. Items are indexed so
 * that a smaller index has the smaller code, so roots carry the smallest code. */
static void merge_block(struct merge *m, const int *items, size_t cnt, int *mark)
{
	for (;;) {
		int g = -1, best = -1;
		double gf = INFINITY, gr, best_d = INFINITY, best_f = INFINITY;
		bool adjacent = false;

		for (size_t i = 0; i < cnt; i++) {
			int it = items[i];
			double f;

			if (m->up[it] != it)
				continue;
			f = fill(m, it);
			if (f < 1 && f < gf) {
				gf = f;
				g = it;
			}
		}
		if (g < 0)
			return;
		gr = group_risk(m, g);
		/* neighbours of the group: mark them, then pick */
		for (size_t i = 0; i < cnt; i++) {
			int it = items[i];

			if (find(m->up, it) != g)
				continue;
			for (size_t a = m->adj_start[it]; a < m->adj_start[it + 1]; a++) {
				int nb = m->adj[a];

				if (m->block[nb] != m->block[g])
					continue;
				nb = find(m->up, nb);
				if (nb != g) {
					mark[nb] = g + 1;
					adjacent = true;
				}
			}
		}
		for (size_t i = 0; i < cnt; i++) {
			int c = items[i];
			double d, f, cr;

			if (m->up[c] != c || c == g || (adjacent && mark[c] != g + 1))
				continue;
			cr = group_risk(m, c);
			d = isnan(gr) || isnan(cr) ? 0 : fabs(gr - cr);
			f = fill(m, c);
			if (best < 0 || d < best_d || (d == best_d && (f < best_f || (f == best_f && c < best)))) {
				best = c;
				best_d = d;
				best_f = f;
			}
		}
		for (size_t i = 0; i < cnt; i++)
			mark[items[i]] = 0;
		if (best < 0)
			return; /* the whole block is one group, still too small */
		join(m, g, best);
	}
}

/* Merge all items block by block; grp[i] = the root (smallest item) of i's group. */
static void merge_all(struct merge *m, size_t nblock, int *grp)
{
	size_t *start = xcalloc(nblock + 1, sizeof *start);
	int *items = xmalloc((m->n + 1) * sizeof *items);
	int *mark = xcalloc(m->n + 1, sizeof *mark);

	for (size_t i = 0; i < m->n; i++)
		start[m->block[i] + 1]++;
	for (size_t b = 0; b < nblock; b++)
		start[b + 1] += start[b];
	{
		size_t *at = xmalloc((nblock + 1) * sizeof *at);

		memcpy(at, start, (nblock + 1) * sizeof *at);
		for (size_t i = 0; i < m->n; i++)
			items[at[m->block[i]]++] = (int)i;
		free(at);
	}
	for (size_t b = 0; b < nblock; b++)
		merge_block(m, items + start[b], start[b + 1] - start[b], mark);
	for (size_t i = 0; i < m->n; i++)
		grp[i] = find(m->up, (int)i);
	free(start);
	free(items);
	free(mark);
}

static void merge_init(struct merge *m, size_t n, size_t nsize, const int *min, const double *risk)
{
	m->n = n;
	m->nsize = nsize;
	m->min = min;
	m->size = xcalloc(n * nsize + 1, sizeof *m->size);
	m->risk_sum = xcalloc(n + 1, sizeof *m->risk_sum);
	m->risk_n = xcalloc(n + 1, sizeof *m->risk_n);
	m->up = xmalloc((n + 1) * sizeof *m->up);
	for (size_t i = 0; i < n; i++) {
		m->up[i] = (int)i;
		if (risk && !isnan(risk[i])) {
			m->risk_sum[i] = risk[i];
			m->risk_n[i] = 1;
		}
	}
}

static void merge_free(struct merge *m)
{
	free(m->size);
	free(m->risk_sum);
	free(m->risk_n);
	free(m->up);
}

/* Per region and variable sums, kept while deciding. */
struct sums {
	size_t nvar;
	double *est;  /* [r * nvar + v] */
	double *lo;
	double *max;  /* the largest PC6 estimate in the region */
	double *obs;  /* [r]: households (lower bound) */
	double *size; /* [r * nsize + s] */
};

/* Are all parts of region c effectively known (false for a group)? */
static bool parts_known(const size_t *kid_start, const int *kids, const unsigned char *eff, size_t c)
{
	size_t n = kid_start[c + 1] - kid_start[c];

	for (size_t k = 0; k < n; k++)
		if (!eff[kids[kid_start[c] + k]])
			return false;
	return n > 0;
}

/* Hiding c (count v) hides nothing while its parts are all known: the part
 * to hide with it, the published one with the smallest estimate that is not
 * CBS's; -1 when c needs none, -2 when it would need one and has none (then
 * down the chain: a part's own chain must end too). */
static int chain_part(const struct sdc_result *r, const size_t *kid_start, const int *kids, const unsigned char *eff,
		      const bool *cbs, const struct sums *sm, size_t c, size_t v)
{
	size_t nvar = sm->nvar;
	int best = -1;

	if (!parts_known(kid_start, kids, eff, c))
		return -1;
	for (size_t k = kid_start[c]; k < kid_start[c + 1]; k++) {
		size_t y = (size_t)kids[k], at = y * nvar + v;

		if (r->status[at] != SDC_PUBLISHED || cbs[at] || chain_part(r, kid_start, kids, eff, cbs, sm, y, v) == -2)
			continue;
		if (best < 0 || sm->est[at] < sm->est[(size_t)best * nvar + v])
			best = (int)y;
	}
	return best >= 0 ? best : -2;
}

int sdc_protect(const struct sdc_problem *p, struct sdc_result *r)
{
	struct merge m = {0};
	size_t nvar = p->nvar, nreg, *kid_start;
	int *grp_root, *unit_root, *kids;
	struct sums sm = {0};
	bool *bok, *mixed, *cbs;
	unsigned char *eff;
	double *unk;

	memset(r, 0, sizeof *r);
	for (size_t i = 0; i < p->npc6; i++)
		if (p->pc6_buurt[i] < 0 || (size_t)p->pc6_buurt[i] >= p->nbuurt)
			return -1;
	for (size_t i = 0; i < p->nbuurt; i++)
		if (p->buurt_wijk[i] < 0 || (size_t)p->buurt_wijk[i] >= p->nwijk)
			return -1;
	for (size_t i = 0; i < p->nwijk; i++)
		if (p->wijk_gemeente[i] < 0 || (size_t)p->wijk_gemeente[i] >= p->ngemeente)
			return -1;

	/* 1. groups of PC6 inside each buurt */
	grp_root = xmalloc((p->npc6 + 1) * sizeof *grp_root);
	merge_init(&m, p->npc6, p->nsize, p->size_min, p->pc6_risk);
	m.block = p->pc6_buurt;
	m.adj_start = p->pc6_adj_start;
	m.adj = p->pc6_adj;
	for (size_t i = 0; i < p->npc6; i++)
		for (size_t s = 0; s < p->nsize; s++)
			m.size[i * p->nsize + s] = p->size[s][i];
	merge_all(&m, p->nbuurt, grp_root);
	merge_free(&m);

	/* 2. buurt units inside each wijk, on the buurten's summed sizes */
	unit_root = xmalloc((p->nbuurt + 1) * sizeof *unit_root);
	merge_init(&m, p->nbuurt, p->nsize, p->size_min, p->buurt_risk);
	m.block = p->buurt_wijk;
	m.adj_start = p->buurt_adj_start;
	m.adj = p->buurt_adj;
	for (size_t i = 0; i < p->npc6; i++)
		for (size_t s = 0; s < p->nsize; s++)
			m.size[(size_t)p->pc6_buurt[i] * p->nsize + s] += p->size[s][i];
	merge_all(&m, p->nwijk, unit_root);
	merge_free(&m);

	/* 3. regions: groups (by smallest PC6), units (by smallest buurt), wijken, gemeenten */
	{
		size_t ng = 0, nu = 0;

		for (size_t i = 0; i < p->npc6; i++)
			ng += grp_root[i] == (int)i;
		for (size_t i = 0; i < p->nbuurt; i++)
			nu += unit_root[i] == (int)i;
		nreg = ng + nu + p->nwijk + p->ngemeente;
		r->nregion = nreg;
		r->region = xcalloc(nreg + 1, sizeof *r->region);
		r->level_start[SDC_GROUP] = 0;
		r->level_start[SDC_UNIT] = ng;
		r->level_start[SDC_WIJK] = ng + nu;
		r->level_start[SDC_GEMEENTE] = ng + nu + p->nwijk;
		r->level_start[SDC_NLEVELS] = nreg;
	}
	r->pc6_group = xmalloc((p->npc6 + 1) * sizeof *r->pc6_group);
	r->buurt_unit = xmalloc((p->nbuurt + 1) * sizeof *r->buurt_unit);
	{
		size_t g = 0, u = r->level_start[SDC_UNIT];

		for (size_t i = 0; i < p->nbuurt; i++)
			if (unit_root[i] == (int)i) {
				r->region[u] = (struct sdc_region){SDC_UNIT, (int)(r->level_start[SDC_WIJK]) + p->buurt_wijk[i],
								   (int)i, 0, true};
				r->buurt_unit[i] = (int)u++;
			}
		for (size_t i = 0; i < p->nbuurt; i++) {
			r->buurt_unit[i] = r->buurt_unit[unit_root[i]];
			r->region[r->buurt_unit[i]].members++;
		}
		for (size_t i = 0; i < p->npc6; i++)
			if (grp_root[i] == (int)i) {
				r->region[g] = (struct sdc_region){SDC_GROUP, r->buurt_unit[p->pc6_buurt[i]], (int)i, 0, true};
				r->pc6_group[i] = (int)g++;
			}
		for (size_t i = 0; i < p->npc6; i++) {
			r->pc6_group[i] = r->pc6_group[grp_root[i]];
			r->region[r->pc6_group[i]].members++;
		}
		for (size_t w = 0; w < p->nwijk; w++)
			r->region[r->level_start[SDC_WIJK] + w] = (struct sdc_region){
				SDC_WIJK, (int)r->level_start[SDC_GEMEENTE] + p->wijk_gemeente[w], (int)w, 0, true};
		for (size_t gm = 0; gm < p->ngemeente; gm++)
			r->region[r->level_start[SDC_GEMEENTE] + gm] = (struct sdc_region){SDC_GEMEENTE, -1, (int)gm, 0, true};
	}
	free(grp_root);
	free(unit_root);

	/* 4. sums per region, and which regions meet the size rules */
	sm.nvar = nvar;
	sm.est = xcalloc(nreg * nvar + 1, sizeof *sm.est);
	sm.lo = xcalloc(nreg * nvar + 1, sizeof *sm.lo);
	sm.max = xcalloc(nreg * nvar + 1, sizeof *sm.max);
	sm.obs = xcalloc(nreg + 1, sizeof *sm.obs);
	sm.size = xcalloc(nreg * p->nsize + 1, sizeof *sm.size);
	for (size_t i = 0; i < p->npc6; i++) {
		int path[SDC_NLEVELS];

		path[SDC_GROUP] = r->pc6_group[i];
		path[SDC_UNIT] = r->region[path[SDC_GROUP]].parent;
		path[SDC_WIJK] = r->region[path[SDC_UNIT]].parent;
		path[SDC_GEMEENTE] = r->region[path[SDC_WIJK]].parent;
		for (int l = 0; l < SDC_NLEVELS; l++) {
			size_t reg = (size_t)path[l];

			for (size_t v = 0; v < nvar; v++) {
				double x = p->value[v][i];

				sm.est[reg * nvar + v] += x;
				sm.lo[reg * nvar + v] += p->value_lo[v][i];
				if (x > sm.max[reg * nvar + v])
					sm.max[reg * nvar + v] = x;
			}
			for (size_t s = 0; s < p->nsize; s++)
				sm.size[reg * p->nsize + s] += p->size[s][i];
			if (p->obs)
				sm.obs[reg] += p->obs[i];
		}
	}
	for (size_t reg = 0; reg < nreg; reg++)
		for (size_t s = 0; s < p->nsize; s++)
			if (sm.size[reg * p->nsize + s] < p->size_min[s])
				r->region[reg].meets = false;

	/* 5. what CBS publishes of a buurt anyway (its own figures, treated as
	 * known to anyone): each buurt and count that passes the rules on its own */
	bok = xcalloc(p->nbuurt * nvar + 1, sizeof *bok);
	{
		double *bsum = xcalloc(p->nbuurt * nvar + 1, sizeof *bsum), *bmax = xcalloc(p->nbuurt * nvar + 1, sizeof *bmax);
		double *bobs = xcalloc(p->nbuurt + 1, sizeof *bobs), *bsize = xcalloc(p->nbuurt * p->nsize + 1, sizeof *bsize);

		for (size_t i = 0; i < p->npc6; i++) {
			size_t b = (size_t)p->pc6_buurt[i];

			for (size_t v = 0; v < nvar; v++) {
				bsum[b * nvar + v] += p->value[v][i];
				if (p->value[v][i] > bmax[b * nvar + v])
					bmax[b * nvar + v] = p->value[v][i];
			}
			for (size_t s = 0; s < p->nsize; s++)
				bsize[b * p->nsize + s] += p->size[s][i];
			if (p->obs)
				bobs[b] += p->obs[i];
		}
		r->buurt_meets = xcalloc(p->nbuurt + 1, sizeof *r->buurt_meets);
		for (size_t b = 0; b < p->nbuurt; b++) {
			bool ok = true;

			for (size_t s = 0; s < p->nsize; s++)
				ok = ok && bsize[b * p->nsize + s] >= p->size_min[s];
			r->buurt_meets[b] = ok;
			for (size_t v = 0; v < nvar; v++) {
				const struct sdc_rule *rule = &p->rule[p->kind[v]];

				bok[b * nvar + v] = ok && !(rule->min > 0 && (!p->obs || bobs[b] < rule->min)) &&
						    !(rule->dominance > 0 && bmax[b * nvar + v] > rule->dominance * bsum[b * nvar + v]);
			}
		}
		free(bsum);
		free(bmax);
		free(bobs);
		free(bsize);
	}
	/* a unit of several buurten where some publish on their own and some do
	 * not: its sum minus theirs would give the others away */
	mixed = xcalloc(nreg * nvar + 1, sizeof *mixed);
	{
		unsigned char *seen = xcalloc(nreg * nvar + 1, 1);

		for (size_t b = 0; b < p->nbuurt; b++)
			for (size_t v = 0; v < nvar; v++)
				seen[(size_t)r->buurt_unit[b] * nvar + v] |= bok[b * nvar + v] ? 1 : 2;
		for (size_t at = 0; at < nreg * nvar; at++)
			mixed[at] = seen[at] == 3;
		free(seen);
	}

	/* 5. primary: each region and count on its own */
	r->status = xcalloc(nreg * nvar + 1, sizeof *r->status);
	r->shown = xcalloc(nreg * nvar + 1, sizeof *r->shown);
	r->reason = xcalloc(nreg * nvar + 1, sizeof *r->reason);
	for (size_t reg = 0; reg < nreg; reg++) {
		for (size_t v = 0; v < nvar; v++) {
			const struct sdc_rule *rule = &p->rule[p->kind[v]];
			size_t at = reg * nvar + v;
			const char *why = NULL;

			if (!r->region[reg].meets)
				why = "primary: below the size rules";
			else if (rule->min > 0 && (!p->obs || sm.obs[reg] < rule->min))
				why = "primary: too few households for an income figure";
			else if (rule->dominance > 0 && sm.max[at] > rule->dominance * sm.est[at])
				why = "primary: one PC6 holds too large a share";
			else if (mixed[at])
				why = "secondary: a buurt of this unit publishes on its own and the unit would give the others away";
			if (why) {
				r->status[at] = why[0] == 'p' ? SDC_PRIMARY : SDC_SECONDARY;
				r->reason[at] = why;
			} else {
				r->shown[at] = sdc_round(sm.est[at], rule->base);
			}
		}
	}

	/* 6. what anyone knows besides us: CBS publishes each buurt's figures
	 * that pass the rules (its KWB), so a unit of buurten that all pass is
	 * known whatever we do */
	cbs = xcalloc(nreg * nvar + 1, sizeof *cbs);
	for (size_t u = r->level_start[SDC_UNIT]; u < r->level_start[SDC_WIJK]; u++)
		for (size_t v = 0; v < nvar; v++)
			cbs[u * nvar + v] = true;
	for (size_t b = 0; b < p->nbuurt; b++)
		for (size_t v = 0; v < nvar; v++)
			cbs[(size_t)r->buurt_unit[b] * nvar + v] &= bok[b * nvar + v];
	free(bok);
	free(mixed);

	/* 7. secondary, to a fixed point. A region is effectively known when we
	 * publish it, CBS does, or all its parts are effectively known. Under an
	 * effectively known parent the parts that are not number 0 or at least 2
	 * and what they leave unknown reaches 4k together (±2k), else the smallest published
	 * part that hiding protects (not CBS's, not itself the sum of known
	 * parts) is hidden too, or when there is none the parent. A primary
	 * region known only as the sum of its parts gets a part hidden. */
	kid_start = xcalloc(nreg + 2, sizeof *kid_start);
	kids = xmalloc((nreg + 1) * sizeof *kids);
	for (size_t reg = 0; reg < nreg; reg++)
		if (r->region[reg].parent >= 0)
			kid_start[r->region[reg].parent + 1]++;
	for (size_t reg = 0; reg < nreg; reg++)
		kid_start[reg + 1] += kid_start[reg];
	{
		size_t *at = xmalloc((nreg + 1) * sizeof *at);

		memcpy(at, kid_start, (nreg + 1) * sizeof *at);
		for (size_t reg = 0; reg < nreg; reg++)
			if (r->region[reg].parent >= 0)
				kids[at[r->region[reg].parent]++] = (int)reg;
		free(at);
	}
	eff = xmalloc(nreg + 1);
	unk = xmalloc((nreg + 1) * sizeof *unk);
	for (size_t v = 0; v < nvar && !p->no_secondary; v++) {
		int fourk = 4 * p->rule[p->kind[v]].k;
		bool changed = true;

		while (changed) {
			changed = false;
			/* regions are ordered by level, so parts come before wholes */
			for (size_t reg = 0; reg < nreg; reg++) {
				size_t at = reg * nvar + v, n = kid_start[reg + 1] - kid_start[reg];
				bool all = n > 0;
				double u = 0;

				for (size_t i = 0; i < n; i++) {
					int c = kids[kid_start[reg] + i];

					all = all && eff[c] != 0;
					u += unk[c];
				}
				eff[reg] = r->status[at] == SDC_PUBLISHED || cbs[at] ? 1 : all ? 2 : 0;
				/* what stays unknown of it: its own value for a group, else
				 * what its parts leave unknown */
				unk[reg] = eff[reg] ? 0 : n == 0 ? sm.lo[at] : u;
			}
			for (size_t par = r->level_start[SDC_UNIT]; par < nreg; par++) {
				const int *ch = kids + kid_start[par];
				size_t n = kid_start[par + 1] - kid_start[par], hidden = 0, at = par * nvar + v;
				double hsum = 0;
				int best = -1;
				const char *why;

				if (!eff[par])
					continue;
				for (size_t i = 0; i < n; i++)
					if (!eff[ch[i]]) {
						hidden++;
						hsum += unk[ch[i]];
					}
				if (eff[par] == 2 && r->status[at] == SDC_PRIMARY) {
					why = "secondary: so the hidden region is not the sum of its parts";
				} else {
					if (hidden == 0 || (hidden >= 2 && hsum >= fourk))
						continue;
					why = "secondary: so a hidden figure under the same parent cannot be recomputed";
				}
				/* the smallest published part whose hiding hides something;
				 * failing that, the smallest whose parts are all known taken
				 * down with its own smallest part (to a group) - rather than
				 * the whole parent */
				for (int deep = 0; deep < 2 && best < 0; deep++)
					for (size_t i = 0; i < n; i++) {
						size_t c = (size_t)ch[i], cat = c * nvar + v;

						if (r->status[cat] != SDC_PUBLISHED || cbs[cat])
							continue;
						if (parts_known(kid_start, kids, eff, c) != (deep == 1))
							continue;
						if (deep && chain_part(r, kid_start, kids, eff, cbs, &sm, c, v) == -2)
							continue;
						if (best < 0 || sm.est[cat] < sm.est[(size_t)best * nvar + v])
							best = (int)c;
					}
				if (best >= 0) {
					/* best, and down from it while its parts are all known */
					for (int x = best; x >= 0; x = chain_part(r, kid_start, kids, eff, cbs, &sm, (size_t)x, v)) {
						r->status[(size_t)x * nvar + v] = SDC_SECONDARY;
						r->reason[(size_t)x * nvar + v] = why;
						eff[x] = 0;
					}
					changed = true;
				} else if (r->status[at] == SDC_PUBLISHED && !cbs[at]) {
					r->status[at] = SDC_SECONDARY;
					r->reason[at] = "secondary: so a hidden part cannot be recomputed from it";
					changed = true;
				}
			}
		}
	}
	free(eff);
	free(unk);
	free(cbs);
	free(kid_start);
	free(kids);
	free(sm.est);
	free(sm.lo);
	free(sm.max);
	free(sm.obs);
	free(sm.size);
	return 0;
}

void sdc_result_free(struct sdc_result *r)
{
	free(r->pc6_group);
	free(r->buurt_unit);
	free(r->buurt_meets);
	free(r->region);
	free(r->status);
	free(r->shown);
	free(r->reason);
	memset(r, 0, sizeof *r);
}
