#include "pc6risk/load.h"
#include "pc6risk/cbs.h"
#include "pc6risk/csv.h"
#include "pc6risk/log.h"
#include "pc6risk/sbuf.h"
#include "pc6risk/signals.h"
#include "pc6risk/vector.h"
#include "pc6risk/xalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Rows are sent to COPY in batches of about this many bytes. */
#define COPY_BATCH (1 << 20)

static const char stage_sql[] =
	"CREATE TEMP TABLE stage_area ("
	" ord bigint NOT NULL, level text NOT NULL, code text NOT NULL, name text, parent text,"
	" share double precision, src text NOT NULL, geom geometry NOT NULL) ON COMMIT DROP;"
	"CREATE TEMP TABLE stage_indicator ("
	" ord bigint NOT NULL, level text NOT NULL, code text NOT NULL, name text NOT NULL,"
	" value double precision, missing text, src text NOT NULL, key_src text NOT NULL) ON COMMIT DROP";

static int check_interrupt(struct err *e)
{
	int sig = signals_pending();

	if (sig)
		return err_set(e, ERR_SYSTEM, NULL, "interrupted by signal %d; nothing was changed", sig);
	return 0;
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

/* Check and normalise an area code read from a file. */
static int area_code(enum level level, const char *code, const char *where, char *out, size_t size,
		     struct err *e)
{
	const char *why;

	if (level == LEVEL_PC6) {
		char pc6[7];

		if (cbs_pc6_normalise(code, pc6, &why) < 0)
			return err_set(e, ERR_INPUT, where, "postcode \"%s\" is not valid: %s", code, why);
		snprintf(out, size, "%s", pc6);
		return 0;
	}
	if (!cbs_area_code_valid(level_name(level), code)) {
		static const char *const examples[] = {"GM0518", "WK051829", "BU05182915"};

		return err_set(e, ERR_INPUT, where, "expected a %s code like %s, got \"%s\"", level_name(level),
			       examples[level], code);
	}
	snprintf(out, size, "%s", code);
	return 0;
}

static int stage_areas(struct db *db, const struct config_area *a, long long *ord, long long *count,
		       struct err *e)
{
	struct vec *v;
	struct vec_feature f;
	struct sbuf rows = {0};
	long long total, n = 0;
	char code[64], progress[300];
	int rc;

	v = vec_open(a->path, a->layer, a->srs, a->code_field, a->name_field, a->parent_field, e);
	if (!v)
		return -1;
	total = vec_count(v);
	snprintf(progress, sizeof progress, "loading %s polygons", level_name(a->level));
	if (db_copy_begin(db, "COPY stage_area (ord, level, code, name, parent, src, geom) FROM STDIN", e) < 0)
		goto fail;
	while ((rc = vec_next(v, &f, e)) == 1) {
		if (area_code(a->level, f.code, f.where, code, sizeof code, e) < 0 || check_interrupt(e) < 0)
			goto fail_copy;
		if (!f.name && a->level != LEVEL_PC6)
			log_msg(LOG_WARN, "%s: %s %s has no name; using its code", f.where, level_name(a->level), code);
		sbuf_printf(&rows, "%lld\t%s\t", ++*ord, level_name(a->level));
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
		if (copy_flush(db, &rows, 0, e) < 0)
			goto fail_copy;
		n++;
		log_progress(progress, (size_t)n, total > 0 ? (size_t)total : 0);
	}
	if (rc < 0)
		goto fail_copy;
	if (copy_flush(db, &rows, 1, e) < 0)
		goto fail_copy;
	if (db_copy_end(db, e) < 0)
		goto fail;
	log_progress_end();
	if (n == 0) {
		err_set(e, ERR_INPUT, a->path, "holds no %s polygons", level_name(a->level));
		goto fail;
	}
	*count = n;
	log_msg(LOG_INFO, "read %s polygons rows=%lld file=%s", level_name(a->level), n, a->path);
	vec_close(v);
	sbuf_free(&rows);
	return 0;
fail_copy:
	{
		/* End the COPY so the connection is usable for the rollback; the
		 * error that made us stop is the one to report. */
		struct err ignored;

		db_copy_end(db, &ignored);
	}
fail:
	log_progress_end();
	vec_close(v);
	sbuf_free(&rows);
	return -1;
}

/* Run a check query; when it returns a row, its columns are (where, message)
 * and become an input error. */
static int check(struct db *db, const char *sql, int nparams, const char *const *params, struct err *e)
{
	struct db_result *r = db_query(db, sql, nparams, params, e);
	int rc = 0;

	if (!r)
		return -1;
	if (db_nrows(r) > 0)
		rc = err_set(e, ERR_INPUT, db_value(r, 0, 0), "%s", db_value(r, 0, 1));
	db_result_free(r);
	return rc;
}

static int validate_areas(struct db *db, const struct config *cfg, struct load_stats *st, struct err *e)
{
	static const char *const parents[][2] = {{"wijk", "gemeente"}, {"buurt", "wijk"}, {"pc6", "buurt"}};
	struct db_result *r;
	long long n;

	if (db_exec(db, "CREATE INDEX ON stage_area (level, code); CREATE INDEX ON stage_area USING gist (geom);"
			"ANALYZE stage_area",
		    e) < 0)
		return -1;
	if (check(db,
		  "SELECT src, format('duplicate %s code %s (first at %s)', level, code, first_src)"
		  " FROM (SELECT level, code, src, ord, first_value(src) OVER w AS first_src,"
		  "       row_number() OVER w AS i"
		  "       FROM stage_area WINDOW w AS (PARTITION BY level, code ORDER BY ord)) d"
		  " WHERE i = 2 ORDER BY ord LIMIT 1",
		  0, NULL, e) < 0)
		return -1;

	/* Repair what ST_MakeValid can repair, and say so. */
	r = db_query(db,
		     "UPDATE stage_area SET geom = ST_Multi(ST_CollectionExtract(ST_MakeValid(geom), 3))"
		     " WHERE NOT ST_IsValid(geom) RETURNING src, level, code",
		     0, NULL, e);
	if (!r)
		return -1;
	st->repaired = db_nrows(r);
	for (int i = 0; i < db_nrows(r) && i < 10; i++)
		log_msg(LOG_WARN, "%s: %s %s: invalid polygon repaired with ST_MakeValid", db_value(r, i, 0),
			db_value(r, i, 1), db_value(r, i, 2));
	if (st->repaired > 10)
		log_msg(LOG_WARN, "%lld more invalid polygons repaired", st->repaired - 10);
	db_result_free(r);
	if (check(db,
		  "SELECT src, format('%s %s: the polygon is empty after repairing it', level, code)"
		  " FROM stage_area WHERE ST_IsEmpty(geom) ORDER BY ord LIMIT 1",
		  0, NULL, e) < 0)
		return -1;

	for (size_t i = 0; i < sizeof parents / sizeof parents[0]; i++) {
		const char *params[3] = {parents[i][0], parents[i][1], NULL};
		enum level pl;

		level_parse(parents[i][1], &pl);
		params[2] = config_area(cfg, pl)->path;
		if (check(db,
			  "SELECT s.src, format('%s %s lies in %s %s, which is not among the %s polygons of %s',"
			  "  $1::text, s.code, $2::text, s.parent, $2::text, $3::text)"
			  " FROM stage_area s WHERE s.level = $1 AND s.parent IS NOT NULL"
			  " AND NOT EXISTS (SELECT 1 FROM stage_area p WHERE p.level = $2 AND p.code = s.parent)"
			  " ORDER BY s.ord LIMIT 1",
			  3, params, e) < 0)
			return -1;
	}

	/* PC6 without a parent column go to the buurt they overlap most. */
	n = db_execp(db,
		     "UPDATE stage_area p SET parent = x.buurt, share = x.share FROM ("
		     " SELECT DISTINCT ON (p.code) p.code, b.code AS buurt,"
		     "  ST_Area(ST_Intersection(p.geom, b.geom)) / NULLIF(ST_Area(p.geom), 0) AS share"
		     " FROM stage_area p JOIN stage_area b ON b.level = 'buurt' AND ST_Intersects(p.geom, b.geom)"
		     " WHERE p.level = 'pc6' AND p.parent IS NULL"
		     " ORDER BY p.code, ST_Area(ST_Intersection(p.geom, b.geom)) DESC, b.code) x"
		     " WHERE p.level = 'pc6' AND p.parent IS NULL AND p.code = x.code",
		     0, NULL, e);
	if (n < 0)
		return -1;
	r = db_query(db,
		     "SELECT count(*) FILTER (WHERE parent IS NULL), count(*) FILTER (WHERE share < 0.99)"
		     " FROM stage_area WHERE level = 'pc6'",
		     0, NULL, e);
	if (!r)
		return -1;
	st->outside = atoll(db_value(r, 0, 0));
	st->straddling = atoll(db_value(r, 0, 1));
	db_result_free(r);
	if (n > 0)
		log_msg(LOG_INFO, "assigned PC6 to buurten by largest overlap pc6=%lld straddling=%lld", n,
			st->straddling);
	if (st->outside > 0)
		log_msg(LOG_WARN, "%lld PC6 overlap none of the loaded buurten and are left out", st->outside);
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

static int stage_indicators(struct db *db, const struct config_indicators *in, long long *ord,
			    struct load_stats *st, struct err *e)
{
	struct csv *c = csv_open(in->path, in->delimiter, e);
	size_t key = 0, *cols = NULL, header_fields;
	struct sbuf rows = {0};
	bool decimal_comma;
	long long nrows = 0;
	char where[600];
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
	if (db_copy_begin(db, "COPY stage_indicator (ord, level, code, name, value, missing, src, key_src) FROM STDIN",
			  e) < 0)
		goto fail;
	while ((rc = csv_next(c, e)) == 1) {
		char code[64], key_where[600];

		if (check_interrupt(e) < 0)
			goto fail_copy;
		if (csv_nfields(c) != header_fields) {
			snprintf(where, sizeof where, "%s:%ld", csv_path(c), csv_line(c));
			err_set(e, ERR_INPUT, where, "the row has %zu fields, the header has %zu%s", csv_nfields(c),
				header_fields, csv_nfields(c) < header_fields ? " (is the file cut short?)" : "");
			goto fail_copy;
		}
		snprintf(key_where, sizeof key_where, "%s:%ld:%ld", csv_path(c), csv_field_line(c, key),
			 csv_field_col(c, key));
		if (area_code(in->level, csv_field(c, key), key_where, code, sizeof code, e) < 0)
			goto fail_copy;
		for (size_t j = 0; j < in->ncolumns; j++) {
			const char *text = csv_field(c, cols[j]), *missing;
			double value;

			snprintf(where, sizeof where, "%s:%ld:%ld", csv_path(c), csv_field_line(c, cols[j]),
				 csv_field_col(c, cols[j]));
			if (cbs_parse_value(text, decimal_comma, &value, &missing) < 0) {
				err_set(e, ERR_INPUT, where,
					"column %s: expected a number or a CBS missing-value code, got \"%.40s\"",
					in->columns[j].column, text);
				goto fail_copy;
			}
			sbuf_printf(&rows, "%lld\t%s\t%s\t%s\t", ++*ord, level_name(in->level), code,
				    in->columns[j].indicator);
			if (missing)
				sbuf_printf(&rows, "\\N\t%s\t", missing);
			else
				sbuf_printf(&rows, "%.17g\t\\N\t", value);
			db_copy_field(&rows, where);
			sbuf_putc(&rows, '\t');
			db_copy_field(&rows, key_where);
			sbuf_putc(&rows, '\n');
			st->values++;
			st->missing += missing != NULL;
		}
		if (copy_flush(db, &rows, 0, e) < 0)
			goto fail_copy;
		nrows++;
	}
	if (rc < 0 || copy_flush(db, &rows, 1, e) < 0)
		goto fail_copy;
	if (db_copy_end(db, e) < 0)
		goto fail;
	log_msg(LOG_INFO, "read indicators rows=%lld values=%zu file=%s", nrows, (size_t)nrows * in->ncolumns,
		in->path);
	csv_close(c);
	free(cols);
	sbuf_free(&rows);
	return 0;
fail_copy: {
	struct err ignored;

	db_copy_end(db, &ignored);
}
fail:
	csv_close(c);
	free(cols);
	sbuf_free(&rows);
	return -1;
}

static int validate_indicators(struct db *db, struct err *e)
{
	if (check(db,
		  "SELECT key_src, format('%s %s appears twice in the file (first at %s)', level, code, first_src)"
		  " FROM (SELECT level, code, key_src, ord, first_value(key_src) OVER w AS first_src,"
		  "       row_number() OVER w AS i"
		  "       FROM stage_indicator WINDOW w AS (PARTITION BY level, code, name ORDER BY ord)) d"
		  " WHERE i = 2 ORDER BY ord LIMIT 1",
		  0, NULL, e) < 0)
		return -1;
	return check(db,
		     "SELECT i.key_src, format('%s %s has figures but is not among the loaded %s polygons',"
		     "  i.level, i.code, i.level)"
		     " FROM stage_indicator i WHERE NOT EXISTS"
		     " (SELECT 1 FROM stage_area a WHERE a.level = i.level AND a.code = i.code AND"
		     "  (a.level <> 'pc6' OR a.parent IS NOT NULL))"
		     " ORDER BY i.ord LIMIT 1",
		     0, NULL, e);
}

static const char swap_sql[] =
	"TRUNCATE protected_value, protected_area, score, indicator, pc6, buurt, wijk, gemeente;"
	"INSERT INTO gemeente (code, name, geom)"
	" SELECT code, name, ST_SetSRID(geom, 28992) FROM stage_area WHERE level = 'gemeente' ORDER BY code;"
	"INSERT INTO wijk (code, name, gemeente_code, geom)"
	" SELECT code, name, parent, ST_SetSRID(geom, 28992) FROM stage_area WHERE level = 'wijk' ORDER BY code;"
	"INSERT INTO buurt (code, name, wijk_code, geom)"
	" SELECT code, name, parent, ST_SetSRID(geom, 28992) FROM stage_area WHERE level = 'buurt' ORDER BY code;"
	"INSERT INTO pc6 (code, buurt_code, buurt_share, geom)"
	" SELECT code, parent, coalesce(share, 1), ST_SetSRID(geom, 28992) FROM stage_area"
	" WHERE level = 'pc6' AND parent IS NOT NULL ORDER BY code;"
	"INSERT INTO indicator (level, code, name, value, missing, source)"
	" SELECT level, code, name, value, missing, src FROM stage_indicator ORDER BY level, code, name";

int load_run(struct db *db, const struct config *cfg, struct load_stats *st, struct err *e)
{
	long long ord = 0;

	memset(st, 0, sizeof *st);
	if (db_begin(db, e) < 0)
		return -1;
	if (db_lock(db, "load", false, e) < 0 || db_exec(db, stage_sql, e) < 0)
		goto fail;
	for (int l = 0; l < LEVEL_COUNT; l++) {
		const struct config_area *a = config_area(cfg, (enum level)l);

		if (a && stage_areas(db, a, &ord, &st->areas[l], e) < 0)
			goto fail;
	}
	if (validate_areas(db, cfg, st, e) < 0)
		goto fail;
	st->areas[LEVEL_PC6] -= st->outside;
	for (size_t i = 0; i < cfg->nindicators; i++)
		if (stage_indicators(db, &cfg->indicators[i], &ord, st, e) < 0)
			goto fail;
	if (validate_indicators(db, e) < 0 || check_interrupt(e) < 0)
		goto fail;
	if (db_exec(db, swap_sql, e) < 0 || db_commit(db, e) < 0)
		goto fail;
	if (db_exec(db, "ANALYZE gemeente; ANALYZE wijk; ANALYZE buurt; ANALYZE pc6; ANALYZE indicator", e) < 0)
		return -1;
	log_msg(LOG_INFO,
		"loaded gemeente=%lld wijk=%lld buurt=%lld pc6=%lld values=%lld missing=%lld repaired=%lld",
		st->areas[LEVEL_GEMEENTE], st->areas[LEVEL_WIJK], st->areas[LEVEL_BUURT], st->areas[LEVEL_PC6],
		st->values, st->missing, st->repaired);
	return 0;
fail:
	db_rollback(db);
	return -1;
}
