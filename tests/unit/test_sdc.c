/* sdc: groups, units and suppression on hand-made and random area trees. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pc6risk/sdc.h"
#include "pc6risk/xalloc.h"

#define MAXP 400
#define MAXB 40

/* A test city: one gemeente, wijken, buurten, PC6 with inhabitants (the size
 * rule, >= 5), a person count and an income count with households. */
struct city {
	size_t np, nb, nw;
	char pc[MAXP][32], bc[MAXB][32], wc[MAXB][32];
	const char *pcode[MAXP], *bcode[MAXB], *wcode[MAXB], *gcode[1];
	int pb[MAXP], bw[MAXB], wg[MAXB];
	double risk[MAXP], inh[MAXP], inh_lo[MAXP], hh[MAXP], inc[MAXP];
	size_t pstart[MAXP + 1], bstart[MAXB + 1];
	int padj[8 * MAXP], badj[8 * MAXB];
	int edges[4 * MAXP][2], nedges, bedges[4 * MAXB][2], nbedges;
};

static void city_init(struct city *c, size_t nw, size_t nb, size_t np)
{
	memset(c, 0, sizeof *c);
	c->nw = nw;
	c->nb = nb;
	c->np = np;
	c->gcode[0] = "GM0001";
	for (size_t w = 0; w < nw; w++) {
		snprintf(c->wc[w], sizeof c->wc[w], "WK0001%02zu", w);
		c->wcode[w] = c->wc[w];
	}
	for (size_t b = 0; b < nb; b++) {
		snprintf(c->bc[b], sizeof c->bc[b], "BU0001%04zu", b);
		c->bcode[b] = c->bc[b];
	}
	for (size_t p = 0; p < np; p++) {
		snprintf(c->pc[p], sizeof c->pc[p], "%04zuAA", 1000 + p);
		c->pcode[p] = c->pc[p];
		c->risk[p] = NAN;
	}
}

static void edge(struct city *c, int a, int b)
{
	c->edges[c->nedges][0] = a;
	c->edges[c->nedges++][1] = b;
}

static void bedge(struct city *c, int a, int b)
{
	c->bedges[c->nbedges][0] = a;
	c->bedges[c->nbedges++][1] = b;
}

static void csr(size_t n, int (*e)[2], int ne, size_t *start, int *adj)
{
	size_t at[MAXP + 1];

	memset(start, 0, (n + 1) * sizeof *start);
	for (int i = 0; i < ne; i++) {
		start[e[i][0] + 1]++;
		start[e[i][1] + 1]++;
	}
	for (size_t i = 0; i < n; i++)
		start[i + 1] += start[i];
	memcpy(at, start, (n + 1) * sizeof *at);
	for (int i = 0; i < ne; i++) {
		adj[at[e[i][0]]++] = e[i][1];
		adj[at[e[i][1]]++] = e[i][0];
	}
}

static double dominance = 0.3;

struct run {
	const double *size[1], *val[2], *lo[2];
	int size_min[1];
	enum disclosure kind[2];
	struct sdc_problem p;
	struct sdc_result r;
};

static void solve(struct city *c, struct run *x, bool no_secondary)
{
	csr(c->np, c->edges, c->nedges, c->pstart, c->padj);
	csr(c->nb, c->bedges, c->nbedges, c->bstart, c->badj);
	memset(x, 0, sizeof *x);
	x->size[0] = c->inh_lo;
	x->size_min[0] = 5;
	x->val[0] = c->inh;
	x->lo[0] = c->inh_lo;
	x->val[1] = c->inc;
	x->lo[1] = c->inc;
	x->kind[0] = DISC_PERSON;
	x->kind[1] = DISC_INCOME;
	x->p = (struct sdc_problem){
		.npc6 = c->np, .nbuurt = c->nb, .nwijk = c->nw, .ngemeente = 1,
		.pc6_code = c->pcode, .pc6_buurt = c->pb, .pc6_risk = c->risk,
		.pc6_adj_start = c->pstart, .pc6_adj = c->padj,
		.buurt_code = c->bcode, .buurt_wijk = c->bw, .buurt_risk = NULL,
		.buurt_adj_start = c->bstart, .buurt_adj = c->badj,
		.wijk_code = c->wcode, .wijk_gemeente = c->wg, .gemeente_code = c->gcode,
		.nsize = 1, .size = x->size, .size_min = x->size_min, .obs = c->hh,
		.nvar = 2, .value = x->val, .value_lo = x->lo, .kind = x->kind,
		.no_secondary = no_secondary,
	};
	x->p.rule[DISC_PERSON] = (struct sdc_rule){5, 5, 0, 0};
	x->p.rule[DISC_DWELLING] = (struct sdc_rule){5, 5, 0, 0};
	x->p.rule[DISC_INCOME] = (struct sdc_rule){100, 5, 100, dominance};
	cr_assert_eq(sdc_protect(&x->p, &x->r), 0);
}

static void set(struct city *c, int p, int b, double inh)
{
	c->pb[p] = b;
	c->inh[p] = c->inh_lo[p] = inh;
	c->hh[p] = inh / 2;
}

static int group_of(const struct run *x, int p)
{
	return x->r.pc6_group[p];
}

/* Also the attack case of a PC6 straddling a buurt border: it is protected in
 * the buurt load gave it (largest overlap or the crosswalk), and its neighbour
 * across the border never joins its group. */
Test(sdc, small_pc6_joins_adjacent_neighbour_in_its_own_buurt)
{
	struct city c;
	struct run x;

	/* buurt 0: 0-1-2 in a row; buurt 1: 3, adjacent to 2 across the border */
	city_init(&c, 1, 2, 4);
	set(&c, 0, 0, 40);
	set(&c, 1, 0, 30);
	set(&c, 2, 0, 2);
	set(&c, 3, 1, 50);
	c.bw[0] = c.bw[1] = 0;
	edge(&c, 0, 1);
	edge(&c, 1, 2);
	edge(&c, 2, 3);
	bedge(&c, 0, 1);
	solve(&c, &x, false);
	cr_assert_eq(group_of(&x, 2), group_of(&x, 1), "2 joins its only neighbour in buurt 0");
	cr_assert_neq(group_of(&x, 2), group_of(&x, 3), "never across the buurt border");
	cr_assert_neq(group_of(&x, 0), group_of(&x, 1));
	cr_assert_eq(x.r.level_start[SDC_UNIT], 3, "three groups");
	for (size_t g = 0; g < 3; g++)
		cr_assert(x.r.region[g].meets);
	sdc_result_free(&x.r);
}

Test(sdc, merging_prefers_the_neighbour_of_similar_risk)
{
	struct city c;
	struct run x;

	city_init(&c, 1, 1, 3);
	set(&c, 0, 0, 20);
	set(&c, 1, 0, 3);
	set(&c, 2, 0, 20);
	c.risk[0] = 0.9;
	c.risk[1] = 0.2;
	c.risk[2] = 0.25;
	edge(&c, 0, 1);
	edge(&c, 1, 2);
	solve(&c, &x, false);
	cr_assert_eq(group_of(&x, 1), group_of(&x, 2));
	cr_assert_neq(group_of(&x, 1), group_of(&x, 0));
	sdc_result_free(&x.r);
}

Test(sdc, an_island_merges_inside_its_buurt)
{
	struct city c;
	struct run x;

	city_init(&c, 1, 1, 3);
	set(&c, 0, 0, 20);
	set(&c, 1, 0, 20);
	set(&c, 2, 0, 1); /* no shared border with anyone */
	edge(&c, 0, 1);
	solve(&c, &x, false);
	cr_assert(group_of(&x, 2) == group_of(&x, 0) || group_of(&x, 2) == group_of(&x, 1));
	for (size_t g = 0; g < x.r.level_start[SDC_UNIT]; g++)
		cr_assert(x.r.region[g].meets);
	sdc_result_free(&x.r);
}

Test(sdc, a_buurt_too_small_is_published_in_a_unit_of_its_wijk)
{
	struct city c;
	struct run x;
	int u0, u1;

	/* real case: Kerketuinen en Zichtenburg has 55 inhabitants; here a buurt
	 * of 3 next to one of 200, and a third buurt in another wijk */
	city_init(&c, 2, 3, 3);
	set(&c, 0, 0, 200);
	set(&c, 1, 1, 3);
	set(&c, 2, 2, 100);
	c.bw[0] = c.bw[1] = 0;
	c.bw[2] = 1;
	bedge(&c, 0, 1);
	bedge(&c, 1, 2); /* adjacent, but in another wijk */
	solve(&c, &x, false);
	u0 = x.r.buurt_unit[0];
	u1 = x.r.buurt_unit[1];
	cr_assert_eq(u0, u1);
	cr_assert_neq(x.r.buurt_unit[2], u1);
	cr_assert(!x.r.region[group_of(&x, 1)].meets, "the small buurt's only group fails the rules");
	cr_assert(x.r.region[u0].meets);
	cr_assert_eq(x.r.region[u0].members, 2);
	cr_assert(x.r.buurt_meets[0] && !x.r.buurt_meets[1]);
	/* buurt 0 publishes on its own (CBS): the unit's count would give buurt 1 away */
	cr_assert_eq(x.r.status[(size_t)u0 * 2 + 0], SDC_SECONDARY);
	cr_assert_eq(x.r.status[(size_t)group_of(&x, 1) * 2 + 0], SDC_PRIMARY);
	sdc_result_free(&x.r);
}

/* A buurt of n PC6, each its own group (100 inhabitants), with households
 * and income counts as given; no dominance rule. */
static void buurt_of(struct city *c, struct run *x, size_t n, const double *hh, const double *inc, bool weak)
{
	city_init(c, 1, 1, n);
	for (size_t p = 0; p < n; p++) {
		set(c, (int)p, 0, 100);
		c->hh[p] = hh[p];
		c->inc[p] = inc[p];
		if (p > 0)
			edge(c, (int)p - 1, (int)p);
	}
	dominance = 0;
	solve(c, x, weak);
	dominance = 0.3;
}

static size_t hidden_groups(const struct run *x, size_t v)
{
	size_t n = 0;

	for (size_t g = 0; g < x->r.level_start[SDC_UNIT]; g++)
		n += x->r.status[g * 2 + v] != SDC_PUBLISHED;
	return n;
}

/* Attack: one hidden group in a buurt whose total is published. */
Test(sdc, a_single_hidden_group_gets_a_partner)
{
	static const double hh[4] = {20, 150, 150, 150}, inc[4] = {10, 30, 30, 30};
	struct city c;
	struct run weak, x;

	buurt_of(&c, &weak, 4, hh, inc, true);
	cr_assert_eq(weak.r.status[1], SDC_PRIMARY, "too few households: hidden");
	cr_assert_eq(hidden_groups(&weak, 1), 1, "weak: the buurt minus the others gives it away");
	cr_assert_eq(weak.r.status[(size_t)weak.r.level_start[SDC_UNIT] * 2 + 1], SDC_PUBLISHED);
	buurt_of(&c, &x, 4, hh, inc, false);
	cr_assert_eq(hidden_groups(&x, 1), 2);
	cr_assert_eq(x.r.status[1 * 2 + 1], SDC_SECONDARY, "the smallest published group, first by code");
	cr_assert_eq(x.r.status[2 * 2 + 1], SDC_PUBLISHED);
	sdc_result_free(&weak.r);
	sdc_result_free(&x.r);
}

/* Attack: two hidden groups whose sum is known and too small: each is pinned
 * between 0 and their sum. */
Test(sdc, hidden_groups_under_a_published_buurt_leave_4k_unknown_together)
{
	static const double hh[5] = {20, 20, 150, 150, 150}, inc[5] = {2, 3, 30, 30, 30};
	struct city c;
	struct run x;

	buurt_of(&c, &x, 5, hh, inc, false);
	cr_assert_eq(hidden_groups(&x, 1), 3, "2 + 3 < 4k = 20: a third group is hidden");
	cr_assert_eq(x.r.status[2 * 2 + 1], SDC_SECONDARY);
	sdc_result_free(&x.r);
}

/* Attack: a dominant contributor. */
Test(sdc, a_dominant_pc6_hides_the_income_count)
{
	struct city c;
	struct run x;

	city_init(&c, 1, 1, 4);
	for (int p = 0; p < 4; p++) {
		set(&c, p, 0, 200);
		c.inc[p] = 10;
		if (p > 0)
			edge(&c, p - 1, p);
	}
	c.inc[2] = 100; /* 100 of 130 */
	solve(&c, &x, false);
	{
		size_t u = x.r.level_start[SDC_UNIT];

		cr_assert_eq(x.r.status[u * 2 + 1], SDC_PRIMARY);
		cr_assert_str_eq(x.r.reason[u * 2 + 1], "primary: one PC6 holds too large a share");
		cr_assert_eq(x.r.status[u * 2 + 0], SDC_PUBLISHED);
		cr_assert_eq(x.r.shown[u * 2 + 0], 800);
	}
	sdc_result_free(&x.r);
}

/* Random trees: the invariants hold with secondary protection, and without it
 * they are broken somewhere (so the check can fail). */
static unsigned long long rng;

static double uniform(void)
{
	rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(rng >> 11) / 9007199254740992.0;
}

static void random_city(struct city *c, unsigned seed)
{
	size_t nw, nb, np = 0;

	rng = seed * 0x9E3779B97F4A7C15ULL + 1;
	nw = 1 + (size_t)(uniform() * 3);
	nb = nw + (size_t)(uniform() * 8);
	city_init(c, nw, nb, 0);
	for (size_t b = 0; b < nb; b++) {
		size_t n = 1 + (size_t)(uniform() * 9), first = np;

		c->bw[b] = b < nw ? (int)b : (int)(uniform() * nw);
		for (size_t i = 0; i < n && np < MAXP; i++, np++) {
			double inh = uniform() < 0.3 ? floor(uniform() * 5) : floor(5 + uniform() * 120);

			c->pb[np] = (int)b;
			c->inh[np] = inh < 5 ? 2 : inh;
			c->inh_lo[np] = inh < 5 ? 0 : inh;
			c->hh[np] = floor(c->inh_lo[np] * (0.3 + 0.4 * uniform()));
			c->inc[np] = floor(c->hh[np] * 0.2 * uniform());
			c->risk[np] = uniform();
			if (i > 0 && uniform() < 0.85)
				edge(c, (int)(np - 1), (int)np);
			if (i > 1 && uniform() < 0.3)
				edge(c, (int)first, (int)np);
		}
	}
	c->np = np;
	for (size_t p = 0; p < np; p++) {
		snprintf(c->pc[p], sizeof c->pc[p], "%04zuAA", 1000 + p);
		c->pcode[p] = c->pc[p];
	}
	for (size_t a = 0; a < nb; a++)
		for (size_t b = a + 1; b < nb; b++)
			if (c->bw[a] == c->bw[b] && uniform() < 0.6)
				bedge(c, (int)a, (int)b);
}

/* Under every known parent (published, or a buurt unit CBS publishes): 0 hidden
 * children, or at least 2. Returns violations. */
static int violations(const struct run *x, size_t v)
{
	const struct sdc_result *r = &x->r;
	int bad = 0;

	for (size_t par = r->level_start[SDC_UNIT]; par < r->nregion; par++) {
		size_t hidden = 0, kids = 0;

		if (r->status[par * 2 + v] != SDC_PUBLISHED)
			continue;
		for (size_t ch = 0; ch < r->nregion; ch++)
			if (r->region[ch].parent == (int)par) {
				kids++;
				hidden += r->status[ch * 2 + v] != SDC_PUBLISHED;
			}
		if (hidden == 1 && kids > 1) {
			if (getenv("SDC_DEBUG"))
			{
				fprintf(stderr, "parent %zu level %d v %zu: kids %zu\n", par, r->region[par].level, v, kids);
				for (size_t ch = 0; ch < r->nregion; ch++)
					if (r->region[ch].parent == (int)par)
						fprintf(stderr, "  child %zu level %d status %d reason %s members %d\n", ch,
							r->region[ch].level, r->status[ch * 2 + v], r->reason[ch * 2 + v],
							r->region[ch].members);
			}
			bad++;
		}
	}
	return bad;
}

Test(sdc, random_trees_keep_the_invariants_and_the_weak_version_breaks_them)
{
	int weak_bad = 0;

	for (unsigned seed = 1; seed <= 2000; seed++) {
		struct city *c = xcalloc(1, sizeof *c);
		struct run *x = xcalloc(1, sizeof *x), *again = xcalloc(1, sizeof *again), *weak = xcalloc(1, sizeof *weak);

		random_city(c, seed);
		solve(c, x, false);
		solve(c, again, false);
		solve(c, weak, true);
		/* every PC6 in one group inside its buurt; groups meet the rules
		 * unless their buurt does not */
		for (size_t p = 0; p < c->np; p++) {
			const struct sdc_region *g = &x->r.region[x->r.pc6_group[p]];

			cr_assert_eq(c->pb[g->first], c->pb[p], "seed %u: PC6 %zu grouped across a buurt border", seed, p);
			cr_assert(g->meets || !x->r.buurt_meets[c->pb[p]], "seed %u: group of %zu fails in a buurt that meets",
				  seed, p);
		}
		for (size_t v = 0; v < 2; v++)
			cr_assert_eq(violations(x, v), 0, "seed %u: a lone hidden child under a published parent", seed);
		weak_bad += violations(weak, 0) + violations(weak, 1);
		/* deterministic */
		cr_assert_eq(x->r.nregion, again->r.nregion);
		cr_assert_eq(memcmp(x->r.status, again->r.status, x->r.nregion * 2 * sizeof *x->r.status), 0, "seed %u",
			     seed);
		cr_assert_eq(memcmp(x->r.pc6_group, again->r.pc6_group, c->np * sizeof *x->r.pc6_group), 0);
		sdc_result_free(&x->r);
		sdc_result_free(&again->r);
		sdc_result_free(&weak->r);
		free(c);
		free(x);
		free(again);
		free(weak);
	}
	cr_assert_gt(weak_bad, 0, "without secondary protection some hidden figure stands alone");
}

Test(sdc, rounding_is_half_up_to_the_base)
{
	cr_assert_eq(sdc_round(2, 5), 0);
	cr_assert_eq(sdc_round(2.5, 5), 5);
	cr_assert_eq(sdc_round(7, 5), 5);
	cr_assert_eq(sdc_round(8, 5), 10);
	cr_assert_eq(sdc_round(49, 100), 0);
	cr_assert_eq(sdc_round(50, 100), 100);
}

/* ---- protect's decisions through the audit, on random trees ------------- */

#include "pc6risk/audit.h"
#include "pc6risk/fsx.h"
#include "pc6risk/sbuf.h"

#include <sys/stat.h>
#include <unistd.h>

static const char *const var_names[3] = {"inhabitants", "households", "benefit_recipients"};
static const char *const kind_names[3] = {"person", "person", "income"};

/* Write r as a release in docs/disclosure.md's format into a new temp dir. */
static char *write_release(const struct city *c, const struct sdc_problem *p, const struct sdc_result *r, int base)
{
	char tmpl[] = "/tmp/pc6risk-sdc-XXXXXX", *dir, *path;
	struct sbuf g = {0}, f = {0}, *ids = xcalloc(r->nregion + 1, sizeof *ids);
	FILE *out;

	cr_assert(mkdtemp(tmpl));
	dir = xstrdup(tmpl);
	path = xasprintf("%s/disclosure", dir);
	cr_assert_eq(mkdir(path, 0700), 0);
	free(path);
	for (size_t b = 0; b < c->nb; b++) {
		struct sbuf *s = &ids[r->buurt_unit[b]];

		sbuf_printf(s, "%s%s", s->len ? "+" : "", c->bcode[b]);
	}
	for (size_t reg = 0; reg < r->nregion; reg++) {
		const struct sdc_region *x = &r->region[reg];

		if (x->level == SDC_GROUP)
			sbuf_printf(&ids[reg], "G%s", c->pcode[x->first]);
		else if (x->level == SDC_WIJK)
			sbuf_puts(&ids[reg], c->wcode[x->first]);
		else if (x->level == SDC_GEMEENTE)
			sbuf_puts(&ids[reg], c->gcode[x->first]);
	}
	sbuf_puts(&g, "group,buurt,wijk,gemeente,members\n");
	for (size_t reg = 0; reg < r->level_start[SDC_UNIT]; reg++) {
		int b = c->pb[r->region[reg].first];

		sbuf_printf(&g, "%s,%s,%s,%s,", ids[reg].s, c->bcode[b], c->wcode[c->bw[b]], c->gcode[0]);
		for (size_t i = 0, n = 0; i < c->np; i++)
			if ((size_t)r->pc6_group[i] == reg)
				sbuf_printf(&g, "%s%s", n++ ? " " : "", c->pcode[i]);
		sbuf_putc(&g, '\n');
	}
	sbuf_puts(&f, "level,region,variable,kind,status,value,base,reason\n");
	for (size_t reg = 0; reg < r->nregion; reg++)
		for (size_t v = 0; v < p->nvar; v++) {
			size_t at = reg * p->nvar + v;

			sbuf_printf(&f, "%s,%s,%s,%s,", sdc_level_name(r->region[reg].level), ids[reg].s, var_names[v],
				    kind_names[v]);
			if (r->status[at] == SDC_PUBLISHED)
				sbuf_printf(&f, "published,%.0f,%d,\n", r->shown[at], p->rule[p->kind[v]].base);
			else
				sbuf_printf(&f, "suppressed,,%d,%s\n", p->rule[p->kind[v]].base, r->reason[at]);
		}
	path = xasprintf("%s/disclosure/groups.csv", dir);
	cr_assert((out = fopen(path, "w")));
	fputs(g.s, out);
	fclose(out);
	free(path);
	path = xasprintf("%s/disclosure/figures.csv", dir);
	cr_assert((out = fopen(path, "w")));
	fputs(f.s, out);
	fclose(out);
	free(path);
	path = xasprintf("%s/disclosure/policy.json", dir);
	cr_assert((out = fopen(path, "w")));
	fprintf(out,
		"{\"policy\": \"%s\", \"size\": [{\"variable\": \"inhabitants\", \"min\": 5}],"
		" \"kinds\": {\"person\": {\"base\": %d, \"k\": 5}, \"income\": {\"base\": 100, \"k\": 5,"
		" \"min_variable\": \"households\", \"min\": 100, \"dominance\": 0.3}}, \"range\": 0.5, \"bands\": 10}\n",
		base < 5 ? "internal" : "public", base);
	fclose(out);
	free(path);
	for (size_t reg = 0; reg < r->nregion; reg++)
		sbuf_free(&ids[reg]);
	free(ids);
	sbuf_free(&g);
	sbuf_free(&f);
	return dir;
}

static void remove_release(char *dir)
{
	struct err e;

	cr_assert_eq(fsx_rmtree(dir, &e), 0, "%s", e.message);
	free(dir);
}

/* Protect a random city with inhabitants, households and an income count
 * (size rule >= min_given) and audit what it would publish. */
static int protect_and_audit(unsigned seed, bool no_secondary, int min_given, int base, size_t *failures)
{
	struct city *c = xcalloc(1, sizeof *c);
	const double *size[1], *val[3], *lo[3];
	int size_min[1] = {min_given};
	enum disclosure kind[3] = {DISC_PERSON, DISC_PERSON, DISC_INCOME};
	struct sdc_problem p;
	struct sdc_result r;
	struct audit_report rep;
	struct err e;
	char *dir;
	int rc;

	random_city(c, seed);
	/* some small PC6 known exactly (as in a municipality's own register), and
	 * larger counts, so that income figures sometimes publish */
	for (size_t i = 0; i < c->np; i++) {
		if (c->inh_lo[i] == 0 && i % 2 == 0)
			c->inh[i] = c->inh_lo[i] = (double)(1 + (seed + i) % 4);
		c->hh[i] = floor(c->inh_lo[i] * 0.9);
		c->inc[i] = floor(c->hh[i] * 0.5);
	}
	csr(c->np, c->edges, c->nedges, c->pstart, c->padj);
	csr(c->nb, c->bedges, c->nbedges, c->bstart, c->badj);
	size[0] = c->inh_lo;
	val[0] = c->inh;
	lo[0] = c->inh_lo;
	val[1] = lo[1] = c->hh;
	val[2] = lo[2] = c->inc;
	p = (struct sdc_problem){
		.npc6 = c->np, .nbuurt = c->nb, .nwijk = c->nw, .ngemeente = 1,
		.pc6_code = c->pcode, .pc6_buurt = c->pb, .pc6_risk = c->risk,
		.pc6_adj_start = c->pstart, .pc6_adj = c->padj,
		.buurt_code = c->bcode, .buurt_wijk = c->bw,
		.buurt_adj_start = c->bstart, .buurt_adj = c->badj,
		.wijk_code = c->wcode, .wijk_gemeente = c->wg, .gemeente_code = c->gcode,
		.nsize = 1, .size = size, .size_min = size_min, .obs = c->hh,
		.nvar = 3, .value = val, .value_lo = lo, .kind = kind, .no_secondary = no_secondary,
	};
	p.rule[DISC_PERSON] = (struct sdc_rule){base, 5, 0, 0};
	p.rule[DISC_DWELLING] = (struct sdc_rule){base, 5, 0, 0};
	p.rule[DISC_INCOME] = (struct sdc_rule){100, 5, 100, 0.3};
	cr_assert_eq(sdc_protect(&p, &r), 0);
	dir = write_release(c, &p, &r, base);
	rc = audit_dir(dir, NULL, &rep, &e);
	cr_assert_geq(rc, 0, "seed %u: %s %s", seed, e.where, e.message);
	*failures = rep.nfailures;
	if (rc == 1 && !no_secondary && min_given == 5 && getenv("SDC_DEBUG"))
		for (size_t i = 0; i < rep.nfailures; i++)
			fprintf(stderr, "seed %u: %s\n", seed, rep.failures[i].message);
	audit_report_free(&rep);
	if (rc == 1 && !no_secondary && min_given == 5 && getenv("SDC_DEBUG"))
		fprintf(stderr, "kept %s\n", dir), free(dir);
	else
		remove_release(dir);
	sdc_result_free(&r);
	free(c);
	return rc;
}

Test(sdc, the_audit_passes_what_protect_publishes_and_catches_a_weakened_protect, .timeout = 120)
{
	size_t weak_caught = 0, off_by_one_caught = 0, n;

	for (unsigned seed = 1; seed <= 1000; seed++) {
		cr_assert_eq(protect_and_audit(seed, false, 5, 5, &n), 0, "seed %u: %zu audit failures", seed, n);
		cr_assert_eq(protect_and_audit(seed, false, 5, 1, &n), 0, "seed %u, exact counts: %zu audit failures", seed,
			     n);
		weak_caught += protect_and_audit(seed, true, 5, 5, &n) == 1;
		/* counts rounded to 5 show a group of 4 as 5: the off-by-one shows in exact counts */
		off_by_one_caught += protect_and_audit(seed, false, 4, 1, &n) == 1;
	}
	cr_assert_gt(weak_caught, 0, "without secondary protection the audit must fail somewhere");
	cr_assert_gt(off_by_one_caught, 0, "with the size rule off by one the audit must fail somewhere");
}
