#include "pc6risk/load.h"
#include "pc6risk/cbs.h"
#include "pc6risk/csv.h"
#include "pc6risk/fsx.h"
#include "pc6risk/log.h"
#include "pc6risk/sbuf.h"
#include "pc6risk/sha256.h"
#include "pc6risk/signals.h"
#include "pc6risk/vector.h"
#include "pc6risk/xalloc.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* Rows are sent to COPY in batches of about this many bytes. */
#define COPY_BATCH (1 << 20)
/* How many straddling PC6 and repaired polygons are named in the log. */
#define LOG_EXAMPLES 10

/*
 * Staging tables live for the load's transaction. Each row knows where it came
 * from (src: "file:line:col" or "path#fid=N") and, once a check finds it bad,
 * why (reject). Checks flag rows instead of stopping at once, so that with
 * --max-rejects the bad rows can be skipped and written out; without it the
 * first flagged row is the error.
 */
static const char stage_sql[] =
	"CREATE TEMP TABLE stage_area ("
	" ord bigint PRIMARY KEY, level text NOT NULL, code text NOT NULL, name text, parent text,"
	" share double precision, assigned_by text NOT NULL DEFAULT 'parent', outside boolean NOT NULL DEFAULT false,"
	" src text NOT NULL, geom geometry NOT NULL, reject text, hash text) ON COMMIT DROP;"
	"CREATE TEMP TABLE stage_indicator ("
	" ord bigint NOT NULL, level text NOT NULL, code text NOT NULL, name text NOT NULL,"
	" value double precision, missing text, src text NOT NULL, key_src text NOT NULL, reject text) ON COMMIT DROP;"
	"CREATE TEMP TABLE stage_crosswalk (pc6 text NOT NULL, buurt text NOT NULL) ON COMMIT DROP;"
	"CREATE TEMP TABLE stage_overlap (pc6 text NOT NULL, buurt text NOT NULL, share double precision NOT NULL)"
	" ON COMMIT DROP";

/* A row skipped under --max-rejects. */
struct reject {
	char *where;
	char *code;
	char *reason;
};

/* One load in progress. */
struct loader {
	struct db *db;
	const struct config *cfg;
	const struct load_opts *opts;
	struct load_stats *st;
	long long ord; /* row counter across all staged rows */
	struct reject *rejects;
	size_t nrejects, cap;
};

static int check_interrupt(struct err *e)
{
	int sig = signals_pending();

	if (sig)
		return err_set(e, ERR_SYSTEM, NULL, "interrupted by signal %d; nothing was changed", sig);
	return 0;
}

/* A bad row: skip it when --max-rejects allows, else it is the error. */
static int reject(struct loader *L, const char *where, const char *code, const char *reason, struct err *e)
{
	struct reject *r;

	if ((long long)L->nrejects >= L->opts->max_rejects) {
		err_set(e, ERR_INPUT, where, "%s", reason);
		if (L->opts->max_rejects > 0)
			err_detail(e, "this is bad row %zu; --max-rejects allows %lld", L->nrejects + 1,
				   L->opts->max_rejects);
		return -1;
	}
	if (L->nrejects == L->cap) {
		L->cap = L->cap ? L->cap * 2 : 16;
		L->rejects = xrealloc(L->rejects, L->cap * sizeof *L->rejects);
	}
	r = &L->rejects[L->nrejects++];
	r->where = xstrdup(where ? where : "");
	r->code = xstrdup(code ? code : "");
	r->reason = xstrdup(reason);
	return 0;
}

/* Run a check that flags staged rows and returns (where, code, reason) for
 * each newly flagged row, first first: each becomes a reject. */
static int flag(struct loader *L, const char *sql, int nparams, const char *const *params, struct err *e)
{
	struct db_result *r = db_query(L->db, sql, nparams, params, e);
	int rc = 0;

	if (!r)
		return -1;
	for (int i = 0; i < db_nrows(r) && rc == 0; i++)
		rc = reject(L, db_value(r, i, 0), db_value(r, i, 1), db_value(r, i, 2), e);
	db_result_free(r);
	return rc;
}

/* Send the batch when it is big enough (or when flush is set). */
static int copy_flush(struct db *db, struct sbuf *rows, int flush, struct err *e)
{
	if (rows->len == 0 || (!flush && rows->len < COPY_BATCH))
		return 0;
	if (db_copy_put(db, rows->s, rows->len, e) < 0)
		return -1;
	sbuf_reset(rows);
	return 0;
}

/* End a COPY that is being abandoned so the connection can roll back; the
 * error that made us stop is the one to report. */
static void copy_abandon(struct db *db)
{
	struct err ignored;

	db_copy_end(db, &ignored);
}

/* Check and normalise an area code read from a file. -1 with *why set when it
 * is not a code of the level. */
static int area_code(enum level level, const char *code, char *out, size_t size, char *why, size_t wsize)
{
	const char *reason;

	if (level == LEVEL_PC6) {
		char pc6[7];

		if (cbs_pc6_normalise(code, pc6, &reason) < 0) {
			snprintf(why, wsize, "postcode \"%.40s\" is not valid: %s", code, reason);
			return -1;
		}
		snprintf(out, size, "%s", pc6);
		return 0;
	}
	if (!cbs_area_code_valid(level_name(level), code)) {
		static const char *const examples[] = {"GM0518", "WK051829", "BU05182915"};

		snprintf(why, wsize, "expected a %s code like %s, got \"%.40s\"", level_name(level), examples[level], code);
		return -1;
	}
	snprintf(out, size, "%s", code);
	return 0;
}

/* A buurt code as CBS writes it anywhere: "BU05182915", "05182915" or the bare
 * number 5182915 of the postcode-huisnummer files. */
static int buurt_code(const char *in, char out[11])
{
	const char *p = in;
	size_t n;

	while (*p == ' ')
		p++;
	if (strncmp(p, "BU", 2) == 0)
		p += 2;
	n = strspn(p, "0123456789");
	if (n == 0 || n > 8 || p[n + strspn(p + n, " ")] != '\0')
		return -1;
	snprintf(out, 11, "BU%.*s%.*s", (int)(8 - n), "00000000", (int)n, p);
	return 0;
}

static int stage_areas(struct loader *L, const struct config_area *a, struct err *e)
{
	struct vec *v;
	struct vec_feature f;
	struct sbuf rows = {0};
	long long total, n = 0;
	char code[64], why[200], progress[300];
	int rc;

	v = vec_open(a->path, a->layer, a->srs, a->code_field, a->name_field, a->parent_field, e);
	if (!v)
		return -1;
	total = vec_count(v);
	snprintf(progress, sizeof progress, "reading %s polygons", level_name(a->level));
	if (db_copy_begin(L->db, "COPY stage_area (ord, level, code, name, parent, src, geom) FROM STDIN", e) < 0)
		goto fail;
	for (;;) {
		rc = vec_next(v, &f, e);
		if (rc == 0)
			break;
		if (check_interrupt(e) < 0)
			goto fail_copy;
		if (rc < 0) {
			/* a bad feature (no code, no geometry, not a polygon) */
			if (e->cls != ERR_INPUT || !e->where[0] || !strchr(e->where, '#') ||
			    reject(L, e->where, NULL, e->message, e) < 0)
				goto fail_copy;
			continue;
		}
		if (area_code(a->level, f.code, code, sizeof code, why, sizeof why) < 0) {
			if (reject(L, f.where, f.code, why, e) < 0)
				goto fail_copy;
			continue;
		}
		if (!f.name && a->level != LEVEL_PC6)
			log_msg(LOG_WARN, "%s: %s %s has no name; using its code", f.where, level_name(a->level), code);
		sbuf_printf(&rows, "%lld\t%s\t", ++L->ord, level_name(a->level));
		db_copy_field(&rows, code);
		sbuf_putc(&rows, '\t');
		db_copy_field(&rows, f.name ? f.name : (a->level == LEVEL_PC6 ? NULL : code));
		sbuf_putc(&rows, '\t');
		db_copy_field(&rows, f.parent);
		sbuf_putc(&rows, '\t');
		db_copy_field(&rows, f.where);
		sbuf_putc(&rows, '\t');
		sbuf_puts(&rows, f.wkb_hex);
		sbuf_putc(&rows, '\n');
		if (copy_flush(L->db, &rows, 0, e) < 0)
			goto fail_copy;
		n++;
		log_progress(progress, (size_t)n, total > 0 ? (size_t)total : 0);
	}
	if (copy_flush(L->db, &rows, 1, e) < 0)
		goto fail_copy;
	if (db_copy_end(L->db, e) < 0)
		goto fail;
	log_progress_end();
	if (n == 0) {
		err_set(e, ERR_INPUT, a->path, "holds no usable %s polygons", level_name(a->level));
		goto fail;
	}
	log_msg(LOG_INFO, "read %s polygons rows=%lld file=%s", level_name(a->level), n, a->path);
	vec_close(v);
	sbuf_free(&rows);
	return 0;
fail_copy:
	copy_abandon(L->db);
fail:
	log_progress_end();
	vec_close(v);
	sbuf_free(&rows);
	return -1;
}

static int validate_areas(struct loader *L, struct err *e)
{
	static const char *const parents[][2] = {{"wijk", "gemeente"}, {"buurt", "wijk"}, {"pc6", "buurt"}};
	struct db_result *r;

	if (db_exec(L->db, "CREATE INDEX ON stage_area (level, code); ANALYZE stage_area", e) < 0)
		return -1;
	if (flag(L,
		 "WITH d AS (SELECT ord, first_value(src) OVER w AS first_src, row_number() OVER w AS i"
		 "  FROM stage_area WINDOW w AS (PARTITION BY level, code ORDER BY ord)),"
		 " f AS (UPDATE stage_area s SET reject = format('duplicate %s code %s (first at %s)', s.level, s.code,"
		 "  d.first_src) FROM d WHERE d.ord = s.ord AND d.i > 1 RETURNING s.src, s.code, s.reject, s.ord)"
		 " SELECT src, code, reject FROM f ORDER BY ord",
		 0, NULL, e) < 0)
		return -1;

	/* Repair what ST_MakeValid can repair, and say so. */
	r = db_query(L->db,
		     "UPDATE stage_area SET geom = ST_Multi(ST_CollectionExtract(ST_MakeValid(geom), 3))"
		     " WHERE reject IS NULL AND NOT ST_IsValid(geom) RETURNING src, level, code",
		     0, NULL, e);
	if (!r)
		return -1;
	L->st->repaired = db_nrows(r);
	for (int i = 0; i < db_nrows(r) && i < LOG_EXAMPLES; i++)
		log_msg(LOG_WARN, "%s: %s %s: invalid polygon repaired with ST_MakeValid", db_value(r, i, 0),
			db_value(r, i, 1), db_value(r, i, 2));
	if (L->st->repaired > LOG_EXAMPLES)
		log_msg(LOG_WARN, "%lld more invalid polygons repaired", L->st->repaired - LOG_EXAMPLES);
	db_result_free(r);
	if (flag(L,
		 "WITH f AS (UPDATE stage_area SET reject = format('%s %s: the polygon is empty after repairing it',"
		 "  level, code) WHERE reject IS NULL AND ST_IsEmpty(geom) RETURNING src, code, reject, ord)"
		 " SELECT src, code, reject FROM f ORDER BY ord",
		 0, NULL, e) < 0)
		return -1;

	/* Every area's parent must be there (and not rejected), level by level
	 * so that a rejected wijk takes its buurten with it. */
	for (size_t i = 0; i < sizeof parents / sizeof parents[0]; i++) {
		const char *params[3] = {parents[i][0], parents[i][1], NULL};
		enum level pl;

		level_parse(parents[i][1], &pl);
		params[2] = config_area(L->cfg, pl)->path;
		if (flag(L,
			 "WITH f AS (UPDATE stage_area s SET reject = format('%s %s lies in %s %s, which %s',"
			 "  $1::text, s.code, $2::text, s.parent,"
			 "  CASE WHEN EXISTS (SELECT 1 FROM stage_area p WHERE p.level = $2 AND p.code = s.parent)"
			 "   THEN 'was rejected' ELSE format('is not among the %s polygons of %s', $2::text, $3::text) END)"
			 " WHERE s.level = $1 AND s.reject IS NULL AND s.parent IS NOT NULL AND NOT EXISTS"
			 "  (SELECT 1 FROM stage_area p WHERE p.level = $2 AND p.code = s.parent AND p.reject IS NULL)"
			 " RETURNING s.src, s.code, s.reject, s.ord)"
			 " SELECT src, code, reject FROM f ORDER BY ord",
			 3, params, e) < 0)
			return -1;
	}
	return 0;
}

/* Read the crosswalk: one row per address, PC6 and buurt code. */
static int stage_crosswalk(struct loader *L, const struct config_crosswalk *cw, struct err *e)
{
	enum encoding enc = L->opts->encoding_set ? L->opts->encoding : cw->encoding;
	struct csv *c = csv_open(cw->path, cw->delimiter, enc, e);
	struct sbuf rows = {0};
	size_t ipc6 = 0, ibuurt = 0, nfields;
	long long n = 0;
	int rc;

	if (!c)
		return -1;
	rc = csv_next(c, e);
	if (rc == 0)
		err_set(e, ERR_INPUT, cw->path, "the file is empty; expected a header row");
	if (rc <= 0)
		goto fail;
	nfields = csv_nfields(c);
	for (size_t j = 0; j < 2; j++) {
		const char *want = j == 0 ? cw->pc6_column : cw->buurt_column;
		size_t i;

		for (i = 0; i < nfields && strcmp(csv_field(c, i), want) != 0; i++)
			;
		if (i == nfields) {
			char where[600];

			snprintf(where, sizeof where, "%s:1", cw->path);
			err_set(e, ERR_INPUT, where, "the header has no column \"%s\"", want);
			goto fail;
		}
		*(j == 0 ? &ipc6 : &ibuurt) = i;
	}
	if (db_copy_begin(L->db, "COPY stage_crosswalk (pc6, buurt) FROM STDIN", e) < 0)
		goto fail;
	while ((rc = csv_next(c, e)) == 1) {
		char pc6[7], bu[11], where[600], why[200];
		const char *reason;

		if (check_interrupt(e) < 0)
			goto fail_copy;
		snprintf(where, sizeof where, "%s:%ld", cw->path, csv_line(c));
		if (csv_nfields(c) != nfields) {
			snprintf(why, sizeof why, "the row has %zu fields, the header has %zu", csv_nfields(c), nfields);
			if (reject(L, where, NULL, why, e) < 0)
				goto fail_copy;
			continue;
		}
		if (cbs_pc6_normalise(csv_field(c, ipc6), pc6, &reason) < 0) {
			snprintf(where, sizeof where, "%s:%ld:%ld", cw->path, csv_line(c), csv_field_col(c, ipc6));
			snprintf(why, sizeof why, "postcode \"%.40s\" is not valid: %s", csv_field(c, ipc6), reason);
			if (reject(L, where, csv_field(c, ipc6), why, e) < 0)
				goto fail_copy;
			continue;
		}
		if (buurt_code(csv_field(c, ibuurt), bu) < 0) {
			snprintf(where, sizeof where, "%s:%ld:%ld", cw->path, csv_line(c), csv_field_col(c, ibuurt));
			snprintf(why, sizeof why, "column %s: expected a buurt code (BU05182915 or 5182915), got \"%.40s\"",
				 cw->buurt_column, csv_field(c, ibuurt));
			if (reject(L, where, pc6, why, e) < 0)
				goto fail_copy;
			continue;
		}
		sbuf_printf(&rows, "%s\t%s\n", pc6, bu);
		if (copy_flush(L->db, &rows, 0, e) < 0)
			goto fail_copy;
		if (++n % 65536 == 0)
			log_progress("reading the crosswalk", (size_t)csv_bytes_read(c), (size_t)csv_size(c));
	}
	if (rc < 0 || copy_flush(L->db, &rows, 1, e) < 0)
		goto fail_copy;
	if (db_copy_end(L->db, e) < 0)
		goto fail;
	log_progress_end();
	log_msg(LOG_INFO, "read the crosswalk rows=%lld file=%s", n, cw->path);
	csv_close(c);
	sbuf_free(&rows);
	return 0;
fail_copy:
	copy_abandon(L->db);
fail:
	log_progress_end();
	csv_close(c);
	sbuf_free(&rows);
	return -1;
}

/* Give every PC6 its buurt: from its own parent field, else the crosswalk
 * (the buurt holding most of its addresses), else the buurt it overlaps most.
 * PC6 whose buurt is not loaded lie outside the study area and are left out. */
static int place_pc6(struct loader *L, struct err *e)
{
	struct db_result *r;
	long long n;

	if (L->cfg->crosswalk) {
		if (stage_crosswalk(L, L->cfg->crosswalk, e) < 0)
			return -1;
		n = db_execp(L->db,
			     "WITH c AS (SELECT pc6, buurt, count(*) AS n FROM stage_crosswalk GROUP BY pc6, buurt),"
			     " t AS (SELECT pc6, sum(n) AS total FROM c GROUP BY pc6),"
			     " best AS (SELECT DISTINCT ON (pc6) pc6, buurt, n FROM c ORDER BY pc6, n DESC, buurt)"
			     " UPDATE stage_area a SET parent = best.buurt, share = best.n / t.total,"
			     "  assigned_by = 'crosswalk'"
			     " FROM best JOIN t USING (pc6)"
			     " WHERE a.level = 'pc6' AND a.reject IS NULL AND a.parent IS NULL AND a.code = best.pc6",
			     0, NULL, e);
		if (n < 0 || db_execp(L->db,
				      "INSERT INTO stage_overlap (pc6, buurt, share)"
				      " SELECT c.pc6, c.buurt, count(*)::float8 / t.total"
				      " FROM stage_crosswalk c"
				      " JOIN (SELECT pc6, count(*) AS total FROM stage_crosswalk GROUP BY pc6) t USING (pc6)"
				      " WHERE c.pc6 IN (SELECT code FROM stage_area WHERE assigned_by = 'crosswalk'"
				      "  AND share < 1)"
				      " GROUP BY c.pc6, c.buurt, t.total",
				      0, NULL, e) < 0)
			return -1;
		L->st->by_crosswalk = n;
	}
	/* PC6 named in neither way go to the buurt they overlap most. */
	if (db_exec(L->db, "CREATE INDEX ON stage_area USING gist (geom) WHERE level IN ('buurt', 'pc6')", e) < 0)
		return -1;
	n = db_execp(L->db,
		     "UPDATE stage_area p SET parent = x.buurt, share = x.share, assigned_by = 'overlap' FROM ("
		     " SELECT DISTINCT ON (p.ord) p.ord, b.code AS buurt,"
		     "  ST_Area(ST_Intersection(p.geom, b.geom)) / NULLIF(ST_Area(p.geom), 0) AS share"
		     " FROM stage_area p JOIN stage_area b ON b.level = 'buurt' AND b.reject IS NULL"
		     "  AND ST_Intersects(p.geom, b.geom)"
		     " WHERE p.level = 'pc6' AND p.reject IS NULL AND p.parent IS NULL"
		     " ORDER BY p.ord, ST_Area(ST_Intersection(p.geom, b.geom)) DESC, b.code) x"
		     " WHERE p.ord = x.ord",
		     0, NULL, e);
	if (n < 0)
		return -1;
	L->st->by_overlap = n;
	if (n > 0 && db_execp(L->db,
			      "INSERT INTO stage_overlap (pc6, buurt, share)"
			      " SELECT p.code, b.code, ST_Area(ST_Intersection(p.geom, b.geom)) / ST_Area(p.geom)"
			      " FROM stage_area p JOIN stage_area b ON b.level = 'buurt' AND b.reject IS NULL"
			      "  AND ST_Intersects(p.geom, b.geom)"
			      " WHERE p.level = 'pc6' AND p.assigned_by = 'overlap' AND p.share < 0.99"
			      "  AND ST_Area(ST_Intersection(p.geom, b.geom)) > 0",
			      0, NULL, e) < 0)
		return -1;

	/* Outside the loaded buurten: no buurt, or one that is not loaded. */
	n = db_execp(L->db,
		     "UPDATE stage_area p SET outside = true WHERE p.level = 'pc6' AND p.reject IS NULL AND"
		     " (p.parent IS NULL OR NOT EXISTS (SELECT 1 FROM stage_area b WHERE b.level = 'buurt'"
		     "  AND b.code = p.parent AND b.reject IS NULL))",
		     0, NULL, e);
	if (n < 0)
		return -1;
	L->st->outside = n;
	if (n > 0)
		log_msg(LOG_WARN, "%lld PC6 lie outside the loaded buurten and are left out, with their figures", n);

	r = db_query(L->db,
		     "SELECT p.code, p.parent, round(p.share * 100), p.assigned_by,"
		     " (SELECT string_agg(format('%s %s%%', o.buurt, round(o.share * 100)), ', '"
		     "   ORDER BY o.share DESC, o.buurt) FROM stage_overlap o WHERE o.pc6 = p.code AND o.buurt <> p.parent),"
		     " count(*) OVER ()"
		     " FROM stage_area p WHERE p.level = 'pc6' AND NOT p.outside AND p.reject IS NULL AND p.share < 0.99"
		     " ORDER BY p.share, p.code LIMIT 10",
		     0, NULL, e);
	if (!r)
		return -1;
	L->st->straddling = db_nrows(r) ? atoll(db_value(r, 0, 5)) : 0;
	for (int i = 0; i < db_nrows(r); i++)
		log_msg(LOG_INFO, "PC6 %s straddles buurten: %s%% in %s (assigned, by %s), %s", db_value(r, i, 0),
			db_value(r, i, 2), db_value(r, i, 1), db_value(r, i, 3),
			db_value(r, i, 4) ? db_value(r, i, 4) : "rest outside any buurt");
	if (L->st->straddling > db_nrows(r))
		log_msg(LOG_INFO, "%lld PC6 straddle buurten in all; table pc6_overlap lists where every one lies",
			L->st->straddling);
	db_result_free(r);
	return 0;
}

/* Positions of the key and mapped columns in a header row. */
static int map_header(struct csv *c, const struct config_indicators *in, size_t *key, size_t *cols,
		      struct err *e)
{
	size_t n = csv_nfields(c);
	char where[600];

	snprintf(where, sizeof where, "%s:%ld", csv_path(c), csv_line(c));
	for (size_t j = 0; j <= in->ncolumns; j++) {
		const char *want = j == 0 ? in->key : in->columns[j - 1].column;
		size_t i;

		for (i = 0; i < n; i++)
			if (strcmp(csv_field(c, i), want) == 0)
				break;
		if (i == n) {
			struct sbuf names = {0};

			for (size_t k = 0; k < n; k++)
				sbuf_printf(&names, "%s%s", k ? ", " : "", csv_field(c, k));
			err_set(e, ERR_INPUT, where, "the header has no column \"%s\"", want);
			err_detail(e, "its columns are: %s", names.s ? names.s : "(none)");
			sbuf_free(&names);
			return -1;
		}
		if (j == 0)
			*key = i;
		else
			cols[j - 1] = i;
	}
	return 0;
}

/* Is value valid for its kind? Fills why when not. */
static bool kind_ok(enum kind kind, double v, char *why, size_t size)
{
	switch (kind) {
	case KIND_COUNT:
		if (v >= 0 && v == floor(v))
			return true;
		snprintf(why, size, "expected a count (a whole number, 0 or more)");
		return false;
	case KIND_SHARE:
		if (v >= 0 && v <= 100)
			return true;
		snprintf(why, size, "expected a share from 0 to 100");
		return false;
	case KIND_AMOUNT:
		return true;
	}
	return true;
}

/* Parse one CSV row into staged rows; a bad row is rejected whole. */
static int stage_indicator_row(struct loader *L, struct csv *c, const struct config_indicators *in, size_t key,
			       const size_t *cols, size_t header_fields, bool decimal_comma, struct sbuf *rows,
			       struct err *e)
{
	char code[64], key_where[600], where[600], why[300];
	size_t mark = rows->len;
	long long values = 0, missing = 0;

	snprintf(key_where, sizeof key_where, "%s:%ld:%ld", csv_path(c), csv_field_line(c, key), csv_field_col(c, key));
	if (csv_nfields(c) != header_fields) {
		snprintf(where, sizeof where, "%s:%ld", csv_path(c), csv_line(c));
		snprintf(why, sizeof why, "the row has %zu fields, the header has %zu%s", csv_nfields(c), header_fields,
			 csv_nfields(c) < header_fields ? " (is the file cut short?)" : "");
		return reject(L, where, NULL, why, e);
	}
	if (area_code(in->level, csv_field(c, key), code, sizeof code, why, sizeof why) < 0)
		return reject(L, key_where, csv_field(c, key), why, e);
	for (size_t j = 0; j < in->ncolumns; j++) {
		const struct config_column *col = &in->columns[j];
		const char *text = csv_field(c, cols[j]), *miss;
		double value;
		char what[100];

		snprintf(where, sizeof where, "%s:%ld:%ld", csv_path(c), csv_field_line(c, cols[j]),
			 csv_field_col(c, cols[j]));
		if (cbs_parse_value(text, decimal_comma, &value, &miss) < 0) {
			snprintf(why, sizeof why, "column %s: expected a number or a CBS missing-value code, got \"%.40s\"",
				 col->column, text);
			rows->len = mark;
			return reject(L, where, code, why, e);
		}
		if (!miss && !kind_ok(col->kind, value, what, sizeof what)) {
			snprintf(why, sizeof why, "column %s: %s, got \"%.40s\"", col->column, what, text);
			rows->len = mark;
			return reject(L, where, code, why, e);
		}
		sbuf_printf(rows, "%lld\t%s\t%s\t%s\t", ++L->ord, level_name(in->level), code, col->indicator);
		if (miss)
			sbuf_printf(rows, "\\N\t%s\t", miss);
		else
			sbuf_printf(rows, "%.17g\t\\N\t", value);
		db_copy_field(rows, where);
		sbuf_putc(rows, '\t');
		db_copy_field(rows, key_where);
		sbuf_putc(rows, '\n');
		values++;
		missing += miss != NULL;
	}
	L->st->values += values;
	L->st->missing += missing;
	return 0;
}

static int stage_indicators(struct loader *L, const struct config_indicators *in, struct err *e)
{
	enum encoding enc = L->opts->encoding_set ? L->opts->encoding : in->encoding;
	struct csv *c = csv_open(in->path, in->delimiter, enc, e);
	size_t key = 0, *cols = NULL, header_fields;
	struct sbuf rows = {0};
	bool decimal_comma;
	long long nrows = 0;
	char progress[300];
	int rc;

	if (!c)
		return -1;
	decimal_comma = csv_delimiter(c) != ',';
	rc = csv_next(c, e);
	if (rc == 0)
		err_set(e, ERR_INPUT, in->path, "the file is empty; expected a header row");
	if (rc <= 0)
		goto fail;
	cols = xcalloc(in->ncolumns, sizeof *cols);
	if (map_header(c, in, &key, cols, e) < 0)
		goto fail;
	header_fields = csv_nfields(c);
	snprintf(progress, sizeof progress, "reading %s", in->path);
	if (db_copy_begin(L->db,
			  "COPY stage_indicator (ord, level, code, name, value, missing, src, key_src) FROM STDIN", e) < 0)
		goto fail;
	while ((rc = csv_next(c, e)) == 1) {
		if (check_interrupt(e) < 0 ||
		    stage_indicator_row(L, c, in, key, cols, header_fields, decimal_comma, &rows, e) < 0 ||
		    copy_flush(L->db, &rows, 0, e) < 0)
			goto fail_copy;
		if (++nrows % 65536 == 0)
			log_progress(progress, (size_t)csv_bytes_read(c), (size_t)csv_size(c));
	}
	if (rc < 0 || copy_flush(L->db, &rows, 1, e) < 0)
		goto fail_copy;
	if (db_copy_end(L->db, e) < 0)
		goto fail;
	log_progress_end();
	log_msg(LOG_INFO, "read indicators rows=%lld encoding=%s file=%s", nrows, encoding_name(csv_encoding(c)),
		in->path);
	csv_close(c);
	free(cols);
	sbuf_free(&rows);
	return 0;
fail_copy:
	copy_abandon(L->db);
fail:
	log_progress_end();
	csv_close(c);
	free(cols);
	sbuf_free(&rows);
	return -1;
}

static bool has_pc6_indicators(const struct config *cfg)
{
	for (size_t i = 0; i < cfg->nindicators; i++)
		if (cfg->indicators[i].level == LEVEL_PC6)
			return true;
	return false;
}

static int validate_indicators(struct loader *L, struct err *e)
{
	long long n;

	if (db_exec(L->db, "CREATE INDEX ON stage_indicator (level, code); ANALYZE stage_indicator", e) < 0)
		return -1;
	/* A second row for the same area: the whole row goes. */
	if (flag(L,
		 "WITH d AS (SELECT ord, key_src, first_value(key_src) OVER w AS first_src, row_number() OVER w AS i"
		 "  FROM stage_indicator WINDOW w AS (PARTITION BY level, code, name ORDER BY ord)),"
		 " f AS (UPDATE stage_indicator s SET reject = format('%s %s appears twice in the file (first at %s)',"
		 "  s.level, s.code, d.first_src) FROM d WHERE d.i > 1 AND s.key_src = d.key_src"
		 "  RETURNING s.key_src, s.code, s.reject, s.ord)"
		 " SELECT key_src, min(code), min(reject) FROM f GROUP BY key_src ORDER BY min(ord)",
		 0, NULL, e) < 0)
		return -1;
	/* Figures of PC6 outside the loaded buurten leave with their polygons. */
	n = db_execp(L->db,
		     "DELETE FROM stage_indicator i USING stage_area a"
		     " WHERE i.level = 'pc6' AND a.level = 'pc6' AND a.code = i.code AND a.outside",
		     0, NULL, e);
	if (n < 0)
		return -1;
	if (n > 0)
		log_msg(LOG_INFO, "left out %lld figures of PC6 outside the loaded buurten", n);
	/* Figures need a polygon. */
	if (flag(L,
		 "WITH f AS (UPDATE stage_indicator i SET reject = CASE WHEN EXISTS (SELECT 1 FROM stage_area a"
		 "   WHERE a.level = i.level AND a.code = i.code)"
		 "  THEN format('%s %s has figures, but its polygon was rejected', i.level, i.code)"
		 "  ELSE format('%s %s has figures but is not among the loaded %s polygons', i.level, i.code, i.level) END"
		 " WHERE i.reject IS NULL AND NOT EXISTS (SELECT 1 FROM stage_area a WHERE a.level = i.level"
		 "  AND a.code = i.code AND a.reject IS NULL)"
		 " RETURNING i.key_src, i.code, i.reject, i.ord)"
		 " SELECT key_src, min(code), min(reject) FROM f GROUP BY key_src ORDER BY min(ord)",
		 0, NULL, e) < 0)
		return -1;
	/* And a PC6 polygon needs figures, when PC6 figures are read at all. */
	if (has_pc6_indicators(L->cfg) &&
	    flag(L,
		 "WITH f AS (UPDATE stage_area a SET reject = format('PC6 %s has a polygon but no row in the PC6 figures',"
		 "  a.code)"
		 " WHERE a.level = 'pc6' AND a.reject IS NULL AND NOT a.outside AND NOT EXISTS"
		 "  (SELECT 1 FROM stage_indicator i WHERE i.level = 'pc6' AND i.code = a.code AND i.reject IS NULL)"
		 " RETURNING a.src, a.code, a.reject, a.ord)"
		 " SELECT src, code, reject FROM f ORDER BY ord",
		 0, NULL, e) < 0)
		return -1;
	return 0;
}

/* A hash of everything loaded about each PC6, and how the PC6 set changed
 * since the previous load. */
static int hash_pc6(struct loader *L, struct err *e)
{
	struct db_result *r;

	if (db_exec(L->db,
		    "UPDATE stage_area a SET hash = md5(encode(ST_AsEWKB(a.geom), 'hex') || '|' || a.parent || '|'"
		    "  || coalesce(x.figures, ''))"
		    " FROM (SELECT p.ord, string_agg(i.name || '=' || coalesce(i.value::text, 'missing:' || i.missing),"
		    "   ';' ORDER BY i.name) AS figures"
		    "  FROM stage_area p LEFT JOIN stage_indicator i ON i.level = 'pc6' AND i.code = p.code"
		    "   AND i.reject IS NULL"
		    "  WHERE p.level = 'pc6' AND p.reject IS NULL AND NOT p.outside GROUP BY p.ord) x"
		    " WHERE a.ord = x.ord",
		    e) < 0)
		return -1;
	r = db_query(L->db,
		     "SELECT count(*) FILTER (WHERE o.code IS NULL), count(*) FILTER (WHERE o.code IS NOT NULL"
		     "  AND o.content_hash IS DISTINCT FROM s.hash),"
		     " (SELECT count(*) FROM pc6 WHERE code NOT IN (SELECT code FROM stage_area WHERE level = 'pc6'"
		     "  AND reject IS NULL AND NOT outside))"
		     " FROM stage_area s LEFT JOIN pc6 o ON o.code = s.code"
		     " WHERE s.level = 'pc6' AND s.reject IS NULL AND NOT s.outside",
		     0, NULL, e);
	if (!r)
		return -1;
	L->st->pc6_added = atoll(db_value(r, 0, 0));
	L->st->pc6_changed = atoll(db_value(r, 0, 1));
	L->st->pc6_removed = atoll(db_value(r, 0, 2));
	db_result_free(r);
	return 0;
}

/* The indexes of a table other than its primary key, to drop before a bulk
 * insert and build again after it (much faster than updating them row by row). */
static struct db_result *secondary_indexes(struct loader *L, struct err *e)
{
	return db_query(L->db,
			"SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)"
			" FROM pg_index i JOIN pg_class t ON t.oid = i.indrelid"
			" WHERE t.relnamespace = to_regnamespace(current_schema()) AND NOT i.indisprimary"
			" AND NOT i.indisunique AND t.relname IN ('gemeente', 'wijk', 'buurt', 'pc6', 'indicator')"
			" ORDER BY 1",
			0, NULL, e);
}

static int swap(struct loader *L, const char *fingerprint, struct sbuf *inputs, struct err *e)
{
	char run[32];
	const char *params[2] = {run, fingerprint};
	struct db_result *idx = NULL;
	int rc = -1;

	snprintf(run, sizeof run, "%lld", L->opts->run_id);
	if (db_exec(L->db,
		    "CREATE TEMP TABLE old_pc6 ON COMMIT DROP AS SELECT code, content_hash, changed_in_run FROM pc6;"
		    "TRUNCATE protected_value, protected_area, score, indicator, indicator_def, pc6_overlap, pc6, buurt,"
		    " wijk, gemeente, load_input",
		    e) < 0)
		goto out;
	if (!(idx = secondary_indexes(L, e)))
		goto out;
	for (int i = 0; i < db_nrows(idx); i++) {
		char *sql = xasprintf("DROP INDEX %s", db_value(idx, i, 0));
		int r = db_exec(L->db, sql, e);

		free(sql);
		if (r < 0)
			goto out;
	}
	if (db_exec(L->db,
		    "INSERT INTO gemeente (code, name, geom)"
		    " SELECT code, name, ST_SetSRID(geom, 28992) FROM stage_area"
		    " WHERE level = 'gemeente' AND reject IS NULL ORDER BY code;"
		    "INSERT INTO wijk (code, name, gemeente_code, geom)"
		    " SELECT code, name, parent, ST_SetSRID(geom, 28992) FROM stage_area"
		    " WHERE level = 'wijk' AND reject IS NULL ORDER BY code;"
		    "INSERT INTO buurt (code, name, wijk_code, geom)"
		    " SELECT code, name, parent, ST_SetSRID(geom, 28992) FROM stage_area"
		    " WHERE level = 'buurt' AND reject IS NULL ORDER BY code",
		    e) < 0)
		goto out;
	if (db_execp(L->db,
		     "INSERT INTO pc6 (code, buurt_code, buurt_share, assigned_by, geom, content_hash, changed_in_run)"
		     " SELECT s.code, s.parent, coalesce(s.share, 1), s.assigned_by, ST_SetSRID(s.geom, 28992), s.hash,"
		     "  CASE WHEN o.content_hash = s.hash THEN o.changed_in_run ELSE $1::bigint END"
		     " FROM stage_area s LEFT JOIN old_pc6 o ON o.code = s.code"
		     " WHERE s.level = 'pc6' AND s.reject IS NULL AND NOT s.outside ORDER BY s.code",
		     1, params, e) < 0)
		goto out;
	for (int i = 0; i < db_nrows(idx); i++)
		if (db_exec(L->db, db_value(idx, i, 1), e) < 0)
			goto out;
	if (db_exec(L->db,
		    "INSERT INTO indicator (level, code, name, value, missing, source)"
		    " SELECT level, code, name, value, missing, src FROM stage_indicator WHERE reject IS NULL"
		    " ORDER BY level, code, name;"
		    "INSERT INTO pc6_overlap (pc6_code, buurt_code, share)"
		    " SELECT o.pc6, o.buurt, o.share FROM stage_overlap o JOIN pc6 p ON p.code = o.pc6"
		    " WHERE o.share > 0 ON CONFLICT DO NOTHING",
		    e) < 0)
		goto out;
	for (size_t i = 0; i < L->cfg->nindicators; i++) {
		const struct config_indicators *in = &L->cfg->indicators[i];

		for (size_t j = 0; j < in->ncolumns; j++) {
			const char *p[6] = {level_name(in->level), in->columns[j].indicator, kind_name(in->columns[j].kind),
					    in->columns[j].unit, in->path, in->columns[j].column};

			if (db_execp(L->db,
				     "INSERT INTO indicator_def (level, name, kind, unit, source_file, source_column)"
				     " VALUES ($1, $2, $3, $4, $5, $6)",
				     6, p, e) < 0)
				goto out;
		}
	}
	if (inputs->len > 0) {
		if (db_copy_begin(L->db, "COPY load_input (path, role, bytes, sha256) FROM STDIN", e) < 0 ||
		    db_copy_put(L->db, inputs->s, inputs->len, e) < 0 || db_copy_end(L->db, e) < 0)
			goto out;
	}
	if (db_execp(L->db,
		     "INSERT INTO load_state (id, fingerprint, run_id, loaded_at) VALUES (1, $2, nullif($1, '0')::bigint,"
		     " clock_timestamp())"
		     " ON CONFLICT (id) DO UPDATE SET fingerprint = $2, run_id = nullif($1, '0')::bigint,"
		     "  loaded_at = clock_timestamp()",
		     2, params, e) < 0)
		goto out;
	rc = 0;
out:
	db_result_free(idx);
	return rc;
}

/* Hash the files behind one input into the fingerprint and the input list. */
static int hash_files(char **files, const char *role, struct sha256 *fp, struct sbuf *inputs, struct err *e)
{
	for (char **f = files; *f; f++) {
		char hex[65];
		long long bytes;

		if (sha256_file(*f, hex, &bytes, e) < 0)
			return -1;
		sha256_update(fp, role, strlen(role));
		sha256_update(fp, hex, 64);
		db_copy_field(inputs, *f);
		sbuf_printf(inputs, "\t%s\t%lld\t%s\n", role, bytes, hex);
	}
	return 0;
}

static void fp_text(struct sha256 *fp, const char *key, const char *value)
{
	sha256_update(fp, key, strlen(key));
	sha256_update(fp, "=", 1);
	if (value)
		sha256_update(fp, value, strlen(value) + 1);
	else
		sha256_update(fp, "\x01", 1);
}

/* One fingerprint over the content of every input file and every config
 * setting that shapes what is loaded (not the file names: moving files
 * changes nothing). Fills inputs with COPY rows for load_input. */
static int fingerprint(struct loader *L, char out[65], struct sbuf *inputs, struct err *e)
{
	const struct config *cfg = L->cfg;
	struct sha256 fp;
	char buf[64];

	sha256_init(&fp);
	fp_text(&fp, "pc6risk-load", "1");
	snprintf(buf, sizeof buf, "%lld", L->opts->max_rejects);
	fp_text(&fp, "max_rejects", buf);
	fp_text(&fp, "encoding", L->opts->encoding_set ? encoding_name(L->opts->encoding) : NULL);
	for (size_t i = 0; i < cfg->nareas; i++) {
		const struct config_area *a = &cfg->areas[i];
		char **files = vec_files(a->path, e), role[32];
		int rc;

		if (!files)
			return -1;
		snprintf(role, sizeof role, "areas:%s", level_name(a->level));
		fp_text(&fp, "layer", a->layer);
		fp_text(&fp, "srs", a->srs);
		fp_text(&fp, "code", a->code_field);
		fp_text(&fp, "name", a->name_field);
		fp_text(&fp, "parent", a->parent_field);
		rc = hash_files(files, role, &fp, inputs, e);
		vec_files_free(files);
		if (rc < 0)
			return -1;
	}
	for (size_t i = 0; i < cfg->nindicators; i++) {
		const struct config_indicators *in = &cfg->indicators[i];
		char *files[2] = {in->path, NULL}, role[32], delim[2] = {in->delimiter, 0};

		snprintf(role, sizeof role, "indicators:%s", level_name(in->level));
		fp_text(&fp, "key", in->key);
		fp_text(&fp, "delimiter", delim);
		fp_text(&fp, "file_encoding", encoding_name(in->encoding));
		for (size_t j = 0; j < in->ncolumns; j++) {
			fp_text(&fp, in->columns[j].indicator, in->columns[j].column);
			fp_text(&fp, "kind", kind_name(in->columns[j].kind));
			fp_text(&fp, "unit", in->columns[j].unit);
		}
		if (hash_files(files, role, &fp, inputs, e) < 0)
			return -1;
	}
	if (cfg->crosswalk) {
		char *files[2] = {cfg->crosswalk->path, NULL}, delim[2] = {cfg->crosswalk->delimiter, 0};

		fp_text(&fp, "crosswalk_pc6", cfg->crosswalk->pc6_column);
		fp_text(&fp, "crosswalk_buurt", cfg->crosswalk->buurt_column);
		fp_text(&fp, "delimiter", delim);
		fp_text(&fp, "file_encoding", encoding_name(cfg->crosswalk->encoding));
		if (hash_files(files, "crosswalk", &fp, inputs, e) < 0)
			return -1;
	}
	sha256_hex(&fp, out);
	return 0;
}

/* Is the fingerprint that of the data loaded now? Says which run loaded it. */
static int unchanged_since(struct loader *L, const char *fp, long long *run, struct err *e)
{
	const char *params[1] = {fp};
	struct db_result *r = db_query(L->db, "SELECT coalesce(run_id, 0) FROM load_state WHERE fingerprint = $1",
				       1, params, e);
	int same;

	if (!r)
		return -1;
	same = db_nrows(r) == 1;
	*run = same ? atoll(db_value(r, 0, 0)) : 0;
	db_result_free(r);
	return same;
}

/* A CSV field, quoted when it has to be. */
static void csv_put(struct sbuf *b, const char *s)
{
	if (!strpbrk(s, ";\"\r\n")) {
		sbuf_puts(b, s);
		return;
	}
	sbuf_putc(b, '"');
	for (; *s; s++) {
		if (*s == '"')
			sbuf_putc(b, '"');
		sbuf_putc(b, *s);
	}
	sbuf_putc(b, '"');
}

/* Write the skipped rows as a ';' CSV: where, code, reason. Replaces the file
 * in one rename. */
static int write_rejects(struct loader *L, struct err *e)
{
	struct sbuf b = {0};
	char *tmp;
	int rc;

	sbuf_puts(&b, "where;code;reason\n");
	for (size_t i = 0; i < L->nrejects; i++) {
		csv_put(&b, L->rejects[i].where);
		sbuf_putc(&b, ';');
		csv_put(&b, L->rejects[i].code);
		sbuf_putc(&b, ';');
		csv_put(&b, L->rejects[i].reason);
		sbuf_putc(&b, '\n');
	}
	tmp = xasprintf("%s.tmp.%ld", L->opts->rejects_path, (long)getpid());
	unlink(tmp);
	rc = fsx_write_file(tmp, b.s, b.len, e);
	if (rc == 0 && rename(tmp, L->opts->rejects_path) < 0)
		rc = err_set(e, ERR_SYSTEM, L->opts->rejects_path, "cannot write rejects file: %s", strerror(errno));
	if (rc < 0)
		unlink(tmp);
	free(tmp);
	sbuf_free(&b);
	return rc;
}

static void free_rejects(struct loader *L)
{
	for (size_t i = 0; i < L->nrejects; i++) {
		free(L->rejects[i].where);
		free(L->rejects[i].code);
		free(L->rejects[i].reason);
	}
	free(L->rejects);
}

static int count_loaded(struct loader *L, struct err *e)
{
	struct db_result *r = db_query(L->db,
				       "SELECT (SELECT count(*) FROM gemeente), (SELECT count(*) FROM wijk),"
				       " (SELECT count(*) FROM buurt), (SELECT count(*) FROM pc6)",
				       0, NULL, e);

	if (!r)
		return -1;
	for (int l = 0; l < LEVEL_COUNT; l++)
		L->st->areas[l] = atoll(db_value(r, 0, l));
	db_result_free(r);
	return 0;
}

int load_run(struct db *db, const struct config *cfg, const struct load_opts *opts, struct load_stats *st,
	     struct err *e)
{
	struct loader L = {.db = db, .cfg = cfg, .opts = opts, .st = st};
	struct sbuf inputs = {0};
	struct rusage ru;
	long long since;
	int same, rc = -1;

	memset(st, 0, sizeof *st);
	if (fingerprint(&L, st->fingerprint, &inputs, e) < 0)
		goto out;
	if (db_begin(db, e) < 0)
		goto out;
	if (db_lock(db, "load", false, e) < 0)
		goto out;
	same = unchanged_since(&L, st->fingerprint, &since, e);
	if (same < 0)
		goto out;
	if (same && !opts->force) {
		st->unchanged = true;
		if (count_loaded(&L, e) < 0)
			goto out;
		log_msg(LOG_INFO, "inputs unchanged since the load of run %lld; nothing changed (--force reloads)"
			" fingerprint=%.12s", since, st->fingerprint);
		db_rollback(db);
		rc = 0;
		goto out;
	}
	if (db_exec(db, stage_sql, e) < 0)
		goto out;
	for (int l = 0; l < LEVEL_COUNT; l++) {
		const struct config_area *a = config_area(cfg, (enum level)l);

		if (a && stage_areas(&L, a, e) < 0)
			goto out;
	}
	if (validate_areas(&L, e) < 0 || (config_area(cfg, LEVEL_PC6) && place_pc6(&L, e) < 0))
		goto out;
	for (size_t i = 0; i < cfg->nindicators; i++)
		if (stage_indicators(&L, &cfg->indicators[i], e) < 0)
			goto out;
	if (validate_indicators(&L, e) < 0 || check_interrupt(e) < 0 || hash_pc6(&L, e) < 0)
		goto out;
	if (swap(&L, st->fingerprint, &inputs, e) < 0 || check_interrupt(e) < 0)
		goto out;
	if (count_loaded(&L, e) < 0 || db_commit(db, e) < 0)
		goto out;
	st->rejected = (long long)L.nrejects;
	if (db_exec(db, "ANALYZE gemeente; ANALYZE wijk; ANALYZE buurt; ANALYZE pc6; ANALYZE indicator", e) < 0)
		goto out;
	if (L.nrejects > 0) {
		if (opts->rejects_path && write_rejects(&L, e) < 0)
			goto out;
		log_msg(LOG_WARN, "skipped %zu bad rows (--max-rejects %lld) rejects=%s", L.nrejects, opts->max_rejects,
			opts->rejects_path ? opts->rejects_path : "(not written)");
	}
	getrusage(RUSAGE_SELF, &ru);
	st->peak_rss_kb = ru.ru_maxrss;
	log_msg(LOG_INFO,
		"loaded gemeente=%lld wijk=%lld buurt=%lld pc6=%lld values=%lld missing=%lld repaired=%lld"
		" pc6_added=%lld pc6_changed=%lld pc6_removed=%lld rejected=%zu peak_rss_mb=%lld",
		st->areas[LEVEL_GEMEENTE], st->areas[LEVEL_WIJK], st->areas[LEVEL_BUURT], st->areas[LEVEL_PC6],
		st->values, st->missing, st->repaired, st->pc6_added, st->pc6_changed, st->pc6_removed, L.nrejects,
		st->peak_rss_kb / 1024);
	rc = 0;
out:
	if (rc < 0) {
		db_rollback(db);
		/* too many bad rows: show them all, so they can be fixed in one go */
		if (L.nrejects > 0 && opts->rejects_path && e->cls == ERR_INPUT) {
			struct err ignored;

			if (write_rejects(&L, &ignored) == 0)
				err_hint(e, "the %zu rows skipped before it are in %s", L.nrejects, opts->rejects_path);
		}
	}
	free_rejects(&L);
	sbuf_free(&inputs);
	return rc;
}
