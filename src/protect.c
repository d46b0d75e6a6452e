#include "pc6risk/protect.h"
#include "pc6risk/edges.h"
#include "pc6risk/log.h"
#include "pc6risk/pgbin.h"
#include "pc6risk/sbuf.h"
#include "pc6risk/sdc.h"
#include "pc6risk/strmap.h"
#include "pc6risk/xalloc.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char truncate_sql[] =
	"TRUNCATE protected_domain, protected_compare, protected_agreement, protected_compare_run, protected_value,"
	" protected_area,"
	" protected_group, protected_group_value, protected_figure, protected_policy";

/* The tables that take many rows: their keys are built once, after the rows. */
static const char *const keyed_tables[] = {"protected_area",        "protected_value",  "protected_group",
					   "protected_group_value", "protected_domain", "protected_compare"};

static const char areas_sql[] =
	"INSERT INTO protected_area (level, code, name, buurt_code, wijk_code, gemeente_code, geom)"
	" SELECT 'gemeente', code, name, NULL, NULL, code, geom FROM gemeente"
	" UNION ALL SELECT 'wijk', code, name, NULL, code, gemeente_code, geom FROM wijk"
	" UNION ALL SELECT 'buurt', b.code, b.name, b.code, b.wijk_code, w.gemeente_code, b.geom"
	"  FROM buurt b JOIN wijk w ON w.code = b.wijk_code";

/* Each PC6 on the map, with its group and unit (PC6 without a buurt are in
 * no group and not on the map). */
static const char pc6_areas_sql[] =
	"INSERT INTO protected_area (level, code, name, buurt_code, wijk_code, gemeente_code, geom, group_code, unit_code)"
	" SELECT 'pc6', p.code, NULL, m.buurt_code, m.wijk_code, m.gemeente_code, p.geom, m.group_code, m.unit_code"
	" FROM protect_member m JOIN pc6 p ON p.code = m.pc6;"
	"UPDATE protected_area a SET unit_code = g.unit_code"
	" FROM (SELECT DISTINCT buurt_code, unit_code FROM protected_group) g"
	" WHERE a.level = 'buurt' AND a.code = g.buurt_code";

/* $1 scenario, $2 level, $3 size indicator (for messages), $4 k. Without PC6
 * (and so without groups) a unit is published when its size is known and at
 * least k and it has a ranked score. A buurt with PC6 is published when it
 * meets the size rules on its own (protect_buurt, filled from sdc) and has a
 * ranked score; one that does not shows its wijk's score, unranked. Published
 * scores are rounded to one decimal and ranked again among the published
 * units of the same reference area. Returns how many were published and how
 * many suppressed. */
static const char values_sql[] =
	"WITH ins AS (INSERT INTO protected_value (scenario, level, code, status, reason, score, rank, ranked, shown_from)"
	" SELECT $1, $2, code, CASE WHEN why IS NULL OR wijk_score IS NOT NULL THEN 'published' ELSE 'suppressed' END,"
	"  CASE WHEN wijk_score IS NULL THEN why END,"
	"  CASE WHEN why IS NULL THEN shown ELSE wijk_score END,"
	"  CASE WHEN why IS NULL THEN rank() OVER (PARTITION BY why IS NULL, reference ORDER BY shown DESC) END,"
	"  CASE WHEN why IS NULL THEN count(*) FILTER (WHERE why IS NULL) OVER (PARTITION BY reference) END,"
	"  CASE WHEN why IS NOT NULL AND wijk_score IS NOT NULL THEN 'wijk' END"
	" FROM ("
	"  SELECT s.code, s.reference, round(s.value::numeric, 1)::float8 AS shown, CASE"
	"   WHEN pb.meets IS NOT NULL AND NOT pb.meets THEN 'below the size rules on its own'"
	"   WHEN pb.meets IS NULL AND s.size IS NULL THEN format('size unknown: no %s figure', $3::text)"
	"   WHEN pb.meets IS NULL AND s.size < $4::int THEN format('fewer than %s %s', $4::int, $3::text)"
	"   WHEN s.value IS NULL OR s.rank IS NULL THEN s.reason"
	"  END AS why,"
	"  CASE WHEN pb.meets IS NOT NULL AND NOT pb.meets THEN"
	"   (SELECT round(w.value::numeric, 1)::float8 FROM score w JOIN buurt b ON b.wijk_code = w.code"
	"    WHERE w.scenario = $1 AND w.level = 'wijk' AND b.code = s.code) END AS wijk_score"
	"  FROM score s LEFT JOIN protect_buurt pb ON $2 = 'buurt' AND pb.code = s.code"
	"  WHERE s.scenario = $1 AND s.level = $2) j"
	" RETURNING status)"
	" SELECT count(*) FILTER (WHERE status = 'published'), count(*) FILTER (WHERE status = 'suppressed') FROM ins";

/* What compare found, for published areas only. The rank columns stay
 * NULL unless every area compare ranked in that reference area is published
 * (score.ranked_of = protected_value.ranked): otherwise a gap in the ranks
 * would show where a hidden area lies. The agreement statistics are over
 * many areas and released as they are. */
static const char compare_sql[] =
	"INSERT INTO protected_agreement SELECT * FROM compare_pair;"
	"INSERT INTO protected_compare_run SELECT * FROM compare_run;"
	"INSERT INTO protected_compare (scenario, level, code, median_rank, rank_p05, rank_p95, p_top_3, p_top_5,"
	" p_top_10, robust_top_3, robust_top_5, robust_top_10, drivers)"
	" SELECT c.scenario, c.level, c.code, CASE WHEN all_shown THEN c.median_rank END,"
	"  CASE WHEN all_shown THEN c.rank_p05 END, CASE WHEN all_shown THEN c.rank_p95 END,"
	"  CASE WHEN all_shown THEN c.p_top_3 END, CASE WHEN all_shown THEN c.p_top_5 END,"
	"  CASE WHEN all_shown THEN c.p_top_10 END, CASE WHEN all_shown THEN c.robust_top_3 END,"
	"  CASE WHEN all_shown THEN c.robust_top_5 END, CASE WHEN all_shown THEN c.robust_top_10 END, c.drivers"
	" FROM (SELECT c.*, v.ranked IS NOT DISTINCT FROM s.ranked_of AS all_shown"
	"  FROM compare_area c"
	"  JOIN protected_value v ON v.scenario = c.scenario AND v.level = c.level AND v.code = c.code"
	"  JOIN score s ON s.scenario = c.scenario AND s.level = c.level AND s.code = c.code"
	"  WHERE v.status = 'published' AND v.rank IS NOT NULL) c;"
	/* each domain's percentile among the ranked areas of its level and
	 * reference area (scenarios of more than one domain) */
	"INSERT INTO protected_domain (scenario, level, code, position, domain, percentile)"
	" SELECT s.scenario, s.level, s.code, d.i, p.name,"
	"  round(100 * percent_rank() OVER (PARTITION BY s.scenario, s.level, s.reference, d.i ORDER BY d.v))::int"
	" FROM score s"
	" JOIN protected_value v ON v.scenario = s.scenario AND v.level = s.level AND v.code = s.code"
	" CROSS JOIN LATERAL unnest(s.domains) WITH ORDINALITY AS d(v, i)"
	" JOIN score_part p ON p.scenario = s.scenario AND p.kind = 'domain' AND p.position = d.i"
	" WHERE s.level IN ('wijk', 'buurt') AND v.status = 'published' AND v.rank IS NOT NULL"
	"  AND cardinality(s.domains) > 1 AND d.v IS NOT NULL";

/* Debug log of how long a step took since the last call. */
static void step(const char *what)
{
	static struct timespec last;
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	if (what)
		log_msg(LOG_DEBUG, "protect step=%s seconds=%.3f", what,
			(double)(now.tv_sec - last.tv_sec) + (double)(now.tv_nsec - last.tv_nsec) / 1e9);
	last = now;
}

/* Codes of one level, sorted, with their parent's index. */
struct codes {
	size_t n;
	char **code;
	int *parent;
};

static void codes_free(struct codes *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->code[i]);
	free(c->code);
	free(c->parent);
	memset(c, 0, sizeof *c);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int lookup(const struct codes *c, const char *code)
{
	char *const *hit = bsearch(&code, c->code, c->n, sizeof *c->code, cmp_str);

	return hit ? (int)(hit - c->code) : -1;
}

/* Read "code, parent code" rows ordered by code (COLLATE "C" = strcmp). */
static int read_codes(struct db *db, const char *sql, const struct codes *parents, struct codes *out, struct err *e)
{
	struct db_result *r = db_query(db, sql, 0, NULL, e);

	if (!r)
		return -1;
	out->n = (size_t)db_nrows(r);
	out->code = xcalloc(out->n + 1, sizeof *out->code);
	out->parent = xcalloc(out->n + 1, sizeof *out->parent);
	for (size_t i = 0; i < out->n; i++) {
		out->code[i] = xstrdup(db_value(r, (int)i, 0));
		out->parent[i] = parents ? lookup(parents, db_value(r, (int)i, 1) ? db_value(r, (int)i, 1) : "") : 0;
		if (out->parent[i] < 0) {
			err_set(e, ERR_INPUT, NULL, "%s has no parent in the area tree", out->code[i]);
			db_result_free(r);
			return -1;
		}
	}
	db_result_free(r);
	return 0;
}

/* Neighbours inside the same parent into CSR form over items: rows of
 * "code, parent code, geometry", fetched in binary (the geometry as EWKB).
 * Neighbours share a border segment (edges.h). */
static int read_adjacency(struct db *db, const char *sql, const struct codes *items, size_t **start, int **adj,
			  struct err *e)
{
	struct db_result *r = db_query_binary(db, sql, 0, NULL, e); /* geometry as EWKB, not hex */
	struct edges ed = {0};
	size_t npairs, *at;
	int *pairs;

	if (!r)
		return -1;
	for (int i = 0; i < db_nrows(r); i++) {
		int item = lookup(items, db_value(r, i, 0));
		const unsigned char *wkb = (const unsigned char *)db_value(r, i, 2);

		if (item < 0 || !wkb)
			continue;
		if (edges_add_wkb(&ed, item, items->parent[item], wkb, db_length(r, i, 2)) < 0) {
			err_set(e, ERR_INPUT, NULL, "%s: its geometry is not a polygon", db_value(r, i, 0));
			edges_free(&ed);
			db_result_free(r);
			return -1;
		}
	}
	db_result_free(r);
	edges_pairs(&ed, &pairs, &npairs);
	*start = xcalloc(items->n + 2, sizeof **start);
	*adj = xmalloc((2 * npairs + 1) * sizeof **adj);
	for (size_t i = 0; i < npairs; i++) {
		(*start)[pairs[2 * i] + 1]++;
		(*start)[pairs[2 * i + 1] + 1]++;
	}
	for (size_t i = 0; i < items->n; i++)
		(*start)[i + 1] += (*start)[i];
	at = xmalloc((items->n + 1) * sizeof *at);
	memcpy(at, *start, (items->n + 1) * sizeof *at);
	for (size_t i = 0; i < npairs; i++) {
		(*adj)[at[pairs[2 * i]]++] = pairs[2 * i + 1];
		(*adj)[at[pairs[2 * i + 1]]++] = pairs[2 * i];
	}
	free(at);
	free(pairs);
	return 0;
}

/* Each area's score percentile in one scenario (NAN: none). */
static int read_risk(struct db *db, const char *scenario, const char *level, const struct codes *items, double **out,
		     struct err *e)
{
	const char *params[2] = {scenario, level};
	struct db_result *r;

	*out = xmalloc((items->n + 1) * sizeof **out);
	for (size_t i = 0; i < items->n; i++)
		(*out)[i] = NAN;
	if (!scenario)
		return 0;
	r = db_query(db, "SELECT code, percentile FROM score WHERE scenario = $1 AND level = $2 AND percentile IS NOT NULL",
		     2, params, e);
	if (!r)
		return -1;
	for (int i = 0; i < db_nrows(r); i++) {
		int at = lookup(items, db_value(r, i, 0));

		if (at >= 0)
			(*out)[at] = atof(db_value(r, i, 1));
	}
	db_result_free(r);
	return 0;
}

/* The names protect reads per PC6: size rules (2), households, figures (at
 * most 12, config.c checks). */
struct names {
	size_t n;
	const char *name[16];
};

static size_t name_add(struct names *ns, const char *name)
{
	for (size_t i = 0; i < ns->n; i++)
		if (strcmp(ns->name[i], name) == 0)
			return i;
	ns->name[ns->n] = name;
	return ns->n++;
}

/* Where the PC6 figure arrays hold the names: file (1..63) and position -> name. */
struct value_load {
	const struct codes *pc6;
	double **value, **lo;
	int *slot[64]; /* per file: position - 1 -> name index, -1 when not read */
	size_t nslot[64];
};

/* One row (code, file, vals) of the binary COPY of figure. */
static int value_row(const unsigned char *row, size_t len, void *arg, struct err *e)
{
	struct value_load *V = arg;
	struct pgbin_reader r, vals;
	const unsigned char *code_b, *file_b, *vals_b;
	long code_n, vals_n, file;
	size_t nv;
	char code[64];
	int at;

	pgbin_read(&r, row, len);
	code_n = pgbin_field(&r, &code_b);
	if (pgbin_field(&r, &file_b) != 2 || code_n < 1 || (size_t)code_n >= sizeof code)
		return err_set(e, ERR_INTERNAL, NULL, "unexpected figure row");
	vals_n = pgbin_field(&r, &vals_b);
	memcpy(code, code_b, (size_t)code_n);
	code[code_n] = '\0';
	file = pgbin_get_int2(file_b);
	if ((at = lookup(V->pc6, code)) < 0 || file < 1 || file > 63 || !V->slot[file])
		return 0;
	pgbin_array_open(&vals, vals_b, vals_n, &nv);
	for (size_t j = 0; j < nv && j < V->nslot[file]; j++) {
		const unsigned char *v;
		long vn = pgbin_array_next(&vals, &v);
		int k = V->slot[file][j];

		if (k >= 0 && vn == 8) {
			double x = pgbin_get_float8(v);

			V->value[k][at] = V->lo[k][at] = x > 0 ? x : 0;
		}
	}
	if (r.bad || vals.bad)
		return err_set(e, ERR_INTERNAL, NULL, "figure row of %s cut short", code);
	return 0;
}

/* value[n][pc6] (a secret or unknown figure: 2, the middle of CBS's 0-4) and
 * lo[n][pc6] (then 0), from the figure arrays as stored (binary COPY). */
static int read_values(struct db *db, const struct names *ns, const struct codes *pc6, double **value, double **lo,
		       struct err *e)
{
	struct value_load V = {.pc6 = pc6, .value = value, .lo = lo};
	struct sbuf list = {0};
	const char *params[1];
	struct db_result *r;
	int rc = 0;

	for (size_t i = 0; i < ns->n; i++) {
		value[i] = xcalloc(pc6->n + 1, sizeof **value);
		lo[i] = xcalloc(pc6->n + 1, sizeof **lo);
		for (size_t j = 0; j < pc6->n; j++)
			value[i][j] = 2;
	}
	db_text_array(&list, ns->name, ns->n);
	params[0] = list.s;
	r = db_query(db, "SELECT name, file, position FROM indicator_def WHERE level = 'pc6' AND name = ANY($1::text[])",
		     1, params, e);
	sbuf_free(&list);
	if (!r)
		return -1;
	sbuf_puts(&list, "COPY (SELECT code, file, vals FROM figure WHERE level = 'pc6' AND file IN (0");
	for (int i = 0; i < db_nrows(r); i++) {
		long file = atol(db_value(r, i, 1)), pos = atol(db_value(r, i, 2));
		size_t k = 0;

		while (k < ns->n && strcmp(ns->name[k], db_value(r, i, 0)) != 0)
			k++;
		if (k == ns->n || file < 1 || file > 63 || pos < 1)
			continue;
		if ((size_t)pos > V.nslot[file]) {
			V.slot[file] = xrealloc(V.slot[file], (size_t)pos * sizeof *V.slot[file]);
			for (size_t q = V.nslot[file]; q < (size_t)pos; q++)
				V.slot[file][q] = -1;
			V.nslot[file] = (size_t)pos;
		}
		V.slot[file][pos - 1] = (int)k;
		sbuf_printf(&list, ", %ld", file);
	}
	db_result_free(r);
	sbuf_puts(&list, ")) TO STDOUT WITH (FORMAT binary)");
	rc = db_copy_out_binary(db, list.s, value_row, &V, e);
	sbuf_free(&list);
	for (int q = 0; q < 64; q++)
		free(V.slot[q]);
	return rc;
}

/* Every region's id as docs/disclosure.md names it: "G" + a group's first
 * PC6, a unit's buurt codes joined by '+', a wijk's or gemeente's code. */
static char **region_ids(const struct sdc_result *res, const struct codes *pc6, const struct codes *buurt,
			 const struct codes *wijk, const struct codes *gem)
{
	char **ids = xcalloc(res->nregion + 1, sizeof *ids);
	struct sbuf *unit;
	size_t u0 = res->level_start[SDC_UNIT], nu = res->level_start[SDC_WIJK] - u0;

	unit = xcalloc(nu + 1, sizeof *unit);
	for (size_t b = 0; b < buurt->n; b++) {
		struct sbuf *s = &unit[(size_t)res->buurt_unit[b] - u0];

		sbuf_printf(s, "%s%s", s->len ? "+" : "", buurt->code[b]);
	}
	for (size_t reg = 0; reg < res->nregion; reg++) {
		const struct sdc_region *g = &res->region[reg];

		switch (g->level) {
		case SDC_GROUP: ids[reg] = xasprintf("G%s", pc6->code[g->first]); break;
		case SDC_UNIT: ids[reg] = sbuf_take(&unit[reg - u0]); break;
		case SDC_WIJK: ids[reg] = xstrdup(wijk->code[g->first]); break;
		default: ids[reg] = xstrdup(gem->code[g->first]); break;
		}
	}
	free(unit);
	return ids;
}

static int copy_rows(struct db *db, const char *sql, struct sbuf *rows, struct err *e)
{
	if (db_copy_begin(db, sql, e) < 0 || db_copy_put(db, rows->s ? rows->s : "", rows->len, e) < 0 ||
	    db_copy_end(db, e) < 0)
		return -1;
	sbuf_reset(rows);
	return 0;
}

/* Round to one decimal as PostgreSQL's round(x::numeric, 1)::float8 does:
 * from the 15 significant digits float8 -> numeric keeps, half away from
 * zero, then the double nearest that decimal (numeric has no -0). */
static double round1(double x)
{
	char buf[64], *dot;
	long long tenths;

	snprintf(buf, sizeof buf, "%.15g", fabs(x));
	if (strchr(buf, 'e') || strchr(buf, 'n') || strchr(buf, 'i'))
		return round(x * 10) / 10;
	dot = strchr(buf, '.');
	tenths = atoll(buf) * 10;
	if (dot && dot[1]) {
		tenths += dot[1] - '0';
		tenths += dot[2] >= '5';
	}
	if (tenths == 0)
		return 0;
	snprintf(buf, sizeof buf, "%s%lld.%lld", x < 0 ? "-" : "", tenths / 10, tenths % 10);
	return strtod(buf, NULL);
}

/* The PC6 scores of every scenario that scores PC6, read once. */
struct pc6_scores {
	const struct codes *pc6;
	struct strmap *scenario;  /* name -> index */
	double **value;           /* [scenario][pc6], NaN: none */
	char ***ref;              /* [scenario][pc6]: reference area (shared strings) */
	struct strmap *refs;      /* the reference areas' names, interned */
};

static int pc6_score_row(const unsigned char *row, size_t len, void *arg, struct err *e)
{
	struct pc6_scores *sc = arg;
	struct pgbin_reader r;
	const unsigned char *f[4];
	long n[4];
	char name[256], code[16], ref[64];
	long k;
	int i;

	pgbin_read(&r, row, len);
	for (int c = 0; c < 4; c++)
		n[c] = pgbin_field(&r, &f[c]);
	if (r.bad || n[0] < 0 || n[0] >= (long)sizeof name || n[1] < 0 || n[1] >= (long)sizeof code || n[2] != 8 ||
	    n[3] < 0 || n[3] >= (long)sizeof ref)
		return err_set(e, ERR_INTERNAL, NULL, "unexpected PC6 score row");
	memcpy(name, f[0], (size_t)n[0]);
	name[n[0]] = '\0';
	memcpy(code, f[1], (size_t)n[1]);
	code[n[1]] = '\0';
	memcpy(ref, f[3], (size_t)n[3]);
	ref[n[3]] = '\0';
	if ((k = strmap_get(sc->scenario, name)) < 0 || (i = lookup(sc->pc6, code)) < 0)
		return 0;
	sc->value[k][i] = pgbin_get_float8(f[2]);
	sc->ref[k][i] = (char *)strmap_key(sc->refs, strmap_put(sc->refs, ref, NULL));
	return 0;
}

/* One group's score in one scenario, for the bands. */
struct group_score {
	const char *ref;
	const char *id;
	double score;
	size_t group;
};

static int by_ref_score_id(const void *a, const void *b)
{
	const struct group_score *x = a, *y = b;
	int c = strcmp(x->ref, y->ref);

	if (c)
		return c;
	if (x->score != y->score)
		return x->score < y->score ? -1 : 1;
	return strcmp(x->id, y->id);
}

/*
 * Each group's score in every scenario that scores PC6: the mean of its
 * members' scores (in code order), banded by rank within its reference area
 * (privacy.bands, 1 = least risk; ntile over score, then group id); the score
 * itself only when exact_scores. Groups that do not meet the size rules, and
 * groups none of whose PC6 has a score, get no row. Computed here from the
 * groups in memory and one read of the PC6 scores, instead of a join per
 * scenario in SQL.
 */
static int by_name(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Group indexes in order of their ids (qsort_r is not C11: ids in a static). */
static char *const *sort_ids;

static int by_group_id(const void *a, const void *b)
{
	return strcmp(sort_ids[*(const size_t *)a], sort_ids[*(const size_t *)b]);
}

static int write_group_values(struct db *db, const struct config *cfg, const struct codes *pc6,
			      const struct sdc_result *res, char **ids, size_t ngroups, const size_t *member_start,
			      const int *members, long long *written, struct err *e)
{
	struct pc6_scores sc = {.pc6 = pc6, .scenario = strmap_new(), .refs = strmap_new()};
	struct group_score *gs = xmalloc((ngroups + 1) * sizeof *gs);
	int *band = xmalloc((ngroups + 1) * sizeof *band);
	double *score = xmalloc((ngroups + 1) * sizeof *score);
	size_t *by_id = xmalloc((ngroups + 1) * sizeof *by_id);
	const char **names = xcalloc(cfg->nscenarios + 1, sizeof *names);
	struct sbuf rows = {0};
	bool copying = false;
	size_t ns = 0;
	int rc = -1;

	/* scenarios in name order and groups in id order: rows in key order */
	for (size_t i = 0; i < cfg->nscenarios; i++)
		if (cfg->scenarios[i].outputs[LEVEL_PC6])
			names[ns++] = cfg->scenarios[i].name;
	qsort(names, ns, sizeof *names, by_name);
	for (size_t k = 0; k < ns; k++)
		strmap_put(sc.scenario, names[k], NULL);
	for (size_t g = 0; g < ngroups; g++)
		by_id[g] = g;
	sort_ids = ids;
	qsort(by_id, ngroups, sizeof *by_id, by_group_id);
	sc.value = xcalloc(ns + 1, sizeof *sc.value);
	sc.ref = xcalloc(ns + 1, sizeof *sc.ref);
	for (size_t k = 0; k < ns; k++) {
		sc.value[k] = xmalloc((pc6->n + 1) * sizeof **sc.value);
		sc.ref[k] = xcalloc(pc6->n + 1, sizeof **sc.ref);
		for (size_t i = 0; i < pc6->n; i++)
			sc.value[k][i] = NAN;
	}
	if (ns == 0) {
		rc = 0;
		goto out;
	}
	if (db_copy_out_binary(db,
			       "COPY (SELECT scenario, code, value, reference FROM score"
			       " WHERE level = 'pc6' AND value IS NOT NULL) TO STDOUT WITH (FORMAT binary)",
			       pc6_score_row, &sc, e) < 0 ||
	    db_copy_begin(db,
			  "COPY protected_group_value (scenario, group_code, band, bands, score) FROM STDIN"
			  " WITH (FORMAT binary)",
			  e) < 0)
		goto out;
	copying = true;
	pgbin_header(&rows);
	for (size_t k = 0; k < ns; k++) {
		size_t n = 0;

		for (size_t g = 0; g < ngroups; g++) {
			double sum = 0;
			size_t count = 0;
			const char *ref = NULL;

			band[g] = 0;
			if (!res->region[g].meets)
				continue;
			for (size_t m = member_start[g]; m < member_start[g + 1]; m++) {
				int i = members[m];

				if (isnan(sc.value[k][i]))
					continue;
				sum += sc.value[k][i];
				count++;
				if (!ref || strcmp(sc.ref[k][i], ref) < 0)
					ref = sc.ref[k][i];
			}
			if (count > 0) {
				score[g] = sum / (double)count;
				gs[n++] = (struct group_score){ref, ids[g], score[g], g};
			}
		}
		qsort(gs, n, sizeof *gs, by_ref_score_id);
		for (size_t a = 0; a < n;) {
			size_t b = a, size, per, extra;

			while (b < n && strcmp(gs[b].ref, gs[a].ref) == 0)
				b++;
			/* ntile: the first size % bands bands hold one more */
			size = b - a;
			per = size / (size_t)cfg->privacy.bands;
			extra = size % (size_t)cfg->privacy.bands;
			for (size_t q = 0, bd = 1, left = per + (extra > 0); q < size; q++) {
				if (left == 0) {
					bd++;
					left = per + (bd <= extra);
				}
				left--;
				band[gs[a + q].group] = (int)bd;
			}
			a = b;
		}
		for (size_t j = 0; j < ngroups; j++) {
			size_t g = by_id[j];

			if (!band[g])
				continue;
			(*written)++;
			pgbin_row(&rows, 5);
			pgbin_text(&rows, names[k]);
			pgbin_text(&rows, ids[g]);
			pgbin_int4(&rows, band[g]);
			pgbin_int4(&rows, cfg->privacy.bands);
			if (cfg->privacy.exact_scores)
				pgbin_float8(&rows, round1(score[g]));
			else
				pgbin_null(&rows);
			if (db_copy_flush(db, &rows, DB_COPY_BATCH, e) < 0)
				goto out;
		}
	}
	pgbin_trailer(&rows);
	if (db_copy_flush(db, &rows, 0, e) < 0)
		goto out;
	copying = false;
	if (db_copy_end(db, e) < 0)
		goto out;
	rc = 0;
out:
	if (copying) {
		struct err ignored;

		db_copy_end(db, &ignored);
	}
	for (size_t k = 0; k < ns; k++) {
		free(sc.value[k]);
		free(sc.ref[k]);
	}
	free(sc.value);
	free(sc.ref);
	strmap_free(sc.scenario);
	strmap_free(sc.refs);
	free(gs);
	free(band);
	free(score);
	free(by_id);
	free(names);
	sbuf_free(&rows);
	return rc;
}

/* Groups, units and figures: read the tree and counts, decide with sdc, write. */
static int protect_counts(struct db *db, const struct config *cfg, struct protect_stats *st, struct err *e)
{
	const struct config_privacy *pv = &cfg->privacy;
	struct codes gem = {0}, wijk = {0}, buurt = {0}, pc6 = {0};
	size_t *pc6_adj_start = NULL, *buurt_adj_start = NULL;
	int *pc6_adj = NULL, *buurt_adj = NULL, rc = -1;
	double *pc6_risk = NULL, *buurt_risk = NULL, *value[16] = {0}, *lo[16] = {0};
	const double *size[2], *vals[16], *vlo[16];
	int size_min[2];
	enum disclosure kind[16];
	struct names ns = {0};
	size_t obs_at = 0;
	bool have_obs = config_has_indicator(cfg, LEVEL_PC6, "households");
	const char *risk_scenario = NULL;
	struct sdc_problem p = {0};
	struct sdc_result res = {0};
	struct sbuf rows = {0};
	bool copying = false;
	char **ids = NULL;
	size_t ngroups = 0, *member_start = NULL;
	int *members = NULL;

	if (read_codes(db, "SELECT code FROM gemeente ORDER BY code COLLATE \"C\"", NULL, &gem, e) < 0 ||
	    read_codes(db, "SELECT code, gemeente_code FROM wijk ORDER BY code COLLATE \"C\"", &gem, &wijk, e) < 0 ||
	    read_codes(db, "SELECT code, wijk_code FROM buurt ORDER BY code COLLATE \"C\"", &wijk, &buurt, e) < 0 ||
	    read_codes(db, "SELECT code, buurt_code FROM pc6 WHERE buurt_code IS NOT NULL ORDER BY code COLLATE \"C\"",
		       &buurt, &pc6, e) < 0)
		goto out;
	step("tree");
	if (read_adjacency(db, "SELECT code, buurt_code, geom FROM pc6 WHERE buurt_code IS NOT NULL", &pc6,
			   &pc6_adj_start, &pc6_adj, e) < 0 ||
	    read_adjacency(db, "SELECT code, wijk_code, geom FROM buurt", &buurt, &buurt_adj_start, &buurt_adj, e) < 0)
		goto out;
	step("adjacency");
	/* merging prefers neighbours of similar risk in the first scenario that scores PC6 */
	for (size_t i = 0; i < cfg->nscenarios && !risk_scenario; i++)
		if (cfg->scenarios[i].outputs[LEVEL_PC6])
			risk_scenario = cfg->scenarios[i].name;
	if (read_risk(db, risk_scenario, "pc6", &pc6, &pc6_risk, e) < 0 ||
	    read_risk(db, risk_scenario, "buurt", &buurt, &buurt_risk, e) < 0)
		goto out;

	for (size_t s = 0; s < pv->nsize; s++)
		name_add(&ns, pv->size[s].name);
	if (have_obs)
		obs_at = name_add(&ns, "households");
	for (size_t f = 0; f < pv->nfigures; f++)
		name_add(&ns, pv->figures[f].name);
	if (read_values(db, &ns, &pc6, value, lo, e) < 0)
		goto out;
	for (size_t s = 0; s < pv->nsize; s++) {
		size[s] = lo[name_add(&ns, pv->size[s].name)];
		size_min[s] = pv->size[s].min;
	}
	for (size_t f = 0; f < pv->nfigures; f++) {
		size_t at = name_add(&ns, pv->figures[f].name);

		vals[f] = value[at];
		vlo[f] = lo[at];
		kind[f] = pv->figures[f].kind;
	}

	p.npc6 = pc6.n;
	p.nbuurt = buurt.n;
	p.nwijk = wijk.n;
	p.ngemeente = gem.n;
	p.pc6_code = (const char *const *)pc6.code;
	p.pc6_buurt = pc6.parent;
	p.pc6_risk = pc6_risk;
	p.pc6_adj_start = pc6_adj_start;
	p.pc6_adj = pc6_adj;
	p.buurt_code = (const char *const *)buurt.code;
	p.buurt_wijk = buurt.parent;
	p.buurt_risk = buurt_risk;
	p.buurt_adj_start = buurt_adj_start;
	p.buurt_adj = buurt_adj;
	p.wijk_code = (const char *const *)wijk.code;
	p.wijk_gemeente = wijk.parent;
	p.gemeente_code = (const char *const *)gem.code;
	p.nsize = pv->nsize;
	p.size = size;
	p.size_min = size_min;
	p.obs = have_obs ? lo[obs_at] : NULL;
	p.nvar = pv->nfigures;
	p.value = vals;
	p.value_lo = vlo;
	p.kind = kind;
	p.rule[DISC_PERSON] = (struct sdc_rule){pv->round, cfg->k, 0, 0};
	p.rule[DISC_DWELLING] = (struct sdc_rule){pv->round, cfg->k, 0, 0};
	p.rule[DISC_INCOME] = (struct sdc_rule){pv->income_round, cfg->k, pv->income_min, pv->dominance};
	step("read figures");
	if (sdc_protect(&p, &res) < 0) {
		err_set(e, ERR_INTERNAL, NULL, "protect: the area tree is inconsistent");
		goto out;
	}

	step("sdc");
	/* groups, and each PC6's group and unit on the map; members in code order */
	ids = region_ids(&res, &pc6, &buurt, &wijk, &gem);
	ngroups = res.level_start[SDC_UNIT];
	member_start = xcalloc(ngroups + 2, sizeof *member_start);
	members = xmalloc((pc6.n + 1) * sizeof *members);
	for (size_t i = 0; i < pc6.n; i++)
		member_start[res.pc6_group[i] + 1]++;
	for (size_t g = 0; g < ngroups; g++)
		member_start[g + 1] += member_start[g];
	{
		size_t *at = xmalloc((ngroups + 1) * sizeof *at);

		memcpy(at, member_start, (ngroups + 1) * sizeof *at);
		for (size_t i = 0; i < pc6.n; i++)
			members[at[res.pc6_group[i]]++] = (int)i;
		free(at);
	}
	for (size_t g = 0; g < ngroups; g++) {
		const struct sdc_region *r = &res.region[g];
		int b = pc6.parent[r->first], w = buurt.parent[b];

		sbuf_printf(&rows, "%s\t%s\t%s\t%s\t%s\t{", ids[g], buurt.code[b], wijk.code[w], gem.code[wijk.parent[w]],
			    ids[r->parent]);
		for (size_t m = member_start[g]; m < member_start[g + 1]; m++)
			sbuf_printf(&rows, "%s%s", m > member_start[g] ? "," : "", pc6.code[members[m]]);
		sbuf_printf(&rows, "}\t%s\n", r->meets ? "t" : "f");
		if (rows.len > (1 << 20) && copy_rows(db, "COPY protected_group FROM STDIN", &rows, e) < 0)
			goto out;
		st->groups++;
		st->merged_pc6 += r->members > 1 ? (long long)r->members : 0;
	}
	if (copy_rows(db, "COPY protected_group FROM STDIN", &rows, e) < 0)
		goto out;
	/* each PC6 with its group's codes, for the map (no join with the groups there) */
	for (size_t i = 0; i < pc6.n; i++) {
		int g = res.pc6_group[i], b = pc6.parent[i], w = buurt.parent[b];

		sbuf_printf(&rows, "%s\t%s\t%s\t%s\t%s\t%s\n", pc6.code[i], ids[g], buurt.code[b], wijk.code[w],
			    gem.code[wijk.parent[w]], ids[res.region[g].parent]);
		if (rows.len > (1 << 20) && copy_rows(db, "COPY protect_member FROM STDIN", &rows, e) < 0)
			goto out;
	}
	if (copy_rows(db, "COPY protect_member FROM STDIN", &rows, e) < 0 ||
	    db_exec(db, "ANALYZE protect_member", e) < 0)
		goto out;
	step("write groups");
	if (write_group_values(db, cfg, &pc6, &res, ids, ngroups, member_start, members, &st->group_values, e) < 0)
		goto out;
	step("group bands");
	if (db_exec(db, pc6_areas_sql, e) < 0)
		goto out;
	for (size_t b = 0; b < buurt.n; b++)
		sbuf_printf(&rows, "%s\t%s\n", buurt.code[b], res.buurt_meets[b] ? "t" : "f");
	if (copy_rows(db, "COPY protect_buurt FROM STDIN", &rows, e) < 0)
		goto out;

	step("groups on the map");
	/* every count of every region */
	if (db_copy_begin(db, "COPY protected_figure FROM STDIN WITH (FORMAT binary)", e) < 0)
		goto out;
	copying = true;
	pgbin_header(&rows);
	for (size_t reg = 0; reg < res.nregion; reg++) {
		const struct sdc_region *r = &res.region[reg];

		if (r->level == SDC_UNIT && r->members > 1)
			st->merged_buurten += r->members;
		for (size_t v = 0; v < p.nvar; v++) {
			size_t at = reg * p.nvar + v;
			bool published = res.status[at] == SDC_PUBLISHED;

			pgbin_row(&rows, 8);
			pgbin_text(&rows, sdc_level_name(r->level));
			pgbin_text(&rows, ids[reg]);
			pgbin_text(&rows, pv->figures[v].name);
			pgbin_text(&rows, disclosure_name(kind[v]));
			pgbin_text(&rows, published ? "published" : "suppressed");
			if (published)
				pgbin_float8(&rows, nearbyint(res.shown[at]));
			else
				pgbin_null(&rows);
			pgbin_int4(&rows, p.rule[kind[v]].base);
			if (published)
				pgbin_null(&rows);
			else
				pgbin_text(&rows, res.reason[at]);
			if (published)
				st->figures_published++;
			else if (res.status[at] == SDC_PRIMARY)
				st->figures_primary++;
			else
				st->figures_secondary++;
		}
		if (db_copy_flush(db, &rows, DB_COPY_BATCH, e) < 0)
			goto out;
	}
	pgbin_trailer(&rows);
	if (db_copy_flush(db, &rows, 0, e) < 0)
		goto out;
	copying = false;
	if (db_copy_end(db, e) < 0)
		goto out;
	step("write figures");
	rc = 0;
out:
	if (copying) {
		struct err ignored;

		db_copy_end(db, &ignored);
	}
	for (size_t i = 0; ids && i < res.nregion; i++)
		free(ids[i]);
	free(ids);
	free(member_start);
	free(members);
	sdc_result_free(&res);
	sbuf_free(&rows);
	for (size_t i = 0; i < 16; i++) {
		free(value[i]);
		free(lo[i]);
	}
	free(pc6_adj_start);
	free(pc6_adj);
	free(buurt_adj_start);
	free(buurt_adj);
	free(pc6_risk);
	free(buurt_risk);
	codes_free(&gem);
	codes_free(&wijk);
	codes_free(&buurt);
	codes_free(&pc6);
	return rc;
}

/* The policy as docs/disclosure.md writes it, into protected_policy. */
static int write_policy(struct db *db, const struct config *cfg, struct err *e)
{
	const struct config_privacy *pv = &cfg->privacy;
	struct sbuf b = {0};
	const char *params[1];
	long long rc;

	sbuf_printf(&b, "{\"policy\": \"%s\", \"size\": [", pv->policy == POLICY_PUBLIC ? "public" : "internal");
	for (size_t s = 0; s < pv->nsize; s++) {
		sbuf_printf(&b, "%s{\"variable\": ", s ? ", " : "");
		sbuf_json_string(&b, pv->size[s].name);
		sbuf_printf(&b, ", \"min\": %d}", pv->size[s].min);
	}
	sbuf_printf(&b,
		    "], \"kinds\": {\"person\": {\"base\": %d, \"k\": %d}, \"dwelling\": {\"base\": %d, \"k\": %d},"
		    " \"income\": {\"base\": %d, \"k\": %d, \"min_variable\": \"households\", \"min\": %d,"
		    " \"dominance\": %g}}, \"range\": %g, \"bands\": %d, \"exact_scores\": %s}",
		    pv->round, cfg->k, pv->round, cfg->k, pv->income_round, cfg->k, pv->income_min, pv->dominance,
		    pv->range, pv->bands, pv->exact_scores ? "true" : "false");
	params[0] = b.s;
	rc = db_execp(db, "INSERT INTO protected_policy (policy) VALUES ($1::jsonb)", 1, params, e);
	sbuf_free(&b);
	return rc < 0 ? -1 : 0;
}

int protect_run(struct db *db, const struct config *cfg, struct protect_stats *st, struct err *e)
{
	char k[16];
	bool with_pc6;
	struct db_result *r;
	struct db_keys *keys = NULL;

	memset(st, 0, sizeof *st);
	snprintf(k, sizeof k, "%d", cfg->k);
	if (db_begin(db, e) < 0)
		return -1;
	step(NULL);
	/* the sorts of the window functions below fit in memory nationally */
	if (db_lock(db, "protect", false, e) < 0 || db_exec(db, truncate_sql, e) < 0 ||
	    db_exec(db, "SET LOCAL work_mem = '256MB'", e) < 0 ||
	    !(keys = db_keys_drop(db, keyed_tables, sizeof keyed_tables / sizeof *keyed_tables, e)) ||
	    db_exec(db, areas_sql, e) < 0 ||
	    db_exec(db,
		    "CREATE TEMP TABLE protect_buurt (code text PRIMARY KEY, meets boolean NOT NULL) ON COMMIT DROP;"
		    "CREATE TEMP TABLE protect_member (pc6 text NOT NULL, group_code text NOT NULL, buurt_code text NOT NULL,"
		    " wijk_code text NOT NULL, gemeente_code text NOT NULL, unit_code text NOT NULL)"
		    " ON COMMIT DROP",
		    e) < 0 ||
	    write_policy(db, cfg, e) < 0)
		goto fail;
	if (!(r = db_query(db, "SELECT EXISTS (SELECT 1 FROM pc6)", 0, NULL, e)))
		goto fail;
	with_pc6 = db_value(r, 0, 0)[0] == 't';
	db_result_free(r);
	/* groups need the size counts per PC6; PC6 polygons with figures only
	 * per buurt are protected as without PC6 */
	for (size_t i = 0; i < cfg->privacy.nsize; i++)
		if (!config_has_indicator(cfg, LEVEL_PC6, cfg->privacy.size[i].name))
			with_pc6 = false;
	if (!with_pc6)
		log_msg(LOG_INFO, "protect without PC6 groups: %s", "no PC6, or no size counts per PC6");
	step("areas");
	if (with_pc6 && protect_counts(db, cfg, st, e) < 0)
		goto fail;
	for (size_t i = 0; i < cfg->nscenarios; i++) {
		const struct config_scenario *s = &cfg->scenarios[i];
		const char *params[4] = {s->name, NULL, cfg->k_indicator, k};
		long long published = 0, suppressed = 0;

		/* PC6 scores only as their group's band: written with the groups */
		for (int l = LEVEL_GEMEENTE; l <= LEVEL_BUURT; l++) {
			if (!s->outputs[l])
				continue;
			params[1] = level_name((enum level)l);
			if (!(r = db_query(db, values_sql, 4, params, e)))
				goto fail;
			published += atoll(db_value(r, 0, 0));
			suppressed += atoll(db_value(r, 0, 1));
			db_result_free(r);
		}
		step(s->name);
		if (published + suppressed == 0) {
			err_set(e, ERR_INPUT, NULL, "scenario %s has no scores to protect", s->name);
			err_hint(e, "run `pc6risk score` first");
			goto fail;
		}
		st->published += published;
		st->suppressed += suppressed;
		log_msg(LOG_INFO, "protected scenario=%s policy=%s published=%lld suppressed=%lld", s->name,
			cfg->privacy.policy == POLICY_PUBLIC ? "public" : "internal", published, suppressed);
	}
	if (db_exec(db, compare_sql, e) < 0)
		goto fail;
	step("compare");
	if (db_keys_restore(db, &keys, e) < 0)
		goto fail;
	step("keys");
	if (db_commit(db, e) < 0)
		goto fail;
	step("commit");
	return 0;
fail:
	db_keys_free(keys);
	db_rollback(db);
	return -1;
}
