#include "pc6risk/load.h"
#include "pc6risk/cbs.h"
#include "pc6risk/csv.h"
#include "pc6risk/fsx.h"
#include "pc6risk/hash128.h"
#include "pc6risk/log.h"
#include "pc6risk/pgbin.h"
#include "pc6risk/sbuf.h"
#include "pc6risk/sha256.h"
#include "pc6risk/signals.h"
#include "pc6risk/strmap.h"
#include "pc6risk/text.h"
#include "pc6risk/vector.h"
#include "pc6risk/xalloc.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/*
 * How a load goes, and why this way:
 *
 * The load runs in one transaction. It first reads the crosswalk and the
 * figure files, then the polygons, coarse to fine. What can be checked row by
 * row (formats, kinds, duplicates, parents, figures without a polygon and the
 * reverse) is checked here, in C, against in-memory maps of the codes seen, so
 * each message can name its file, line and column. Good rows are COPYed
 * straight into the real tables, which were emptied at the start (TRUNCATE)
 * and had their indexes and keys dropped: they are built once at the end,
 * which is far faster than keeping them up to date row by row. Only what needs
 * PostGIS happens in SQL: repairing invalid polygons and placing PC6 that have
 * no buurt by largest overlap. Nothing is visible to others until the commit,
 * so a failure anywhere, or kill -9, leaves the previous data in place.
 */

/* How many examples (straddling PC6, repaired polygons, ...) the log names. */
#define LOG_EXAMPLES 10

/* What the load knows about one code of one level. */
struct area {
	long long fid;     /* its polygon's feature id, when it has one */
	short last_file;   /* the last figure file with a row for it, or -1 */
	int fig_line;      /* where that file's row for it has its key */
	int fig_col;
	unsigned char figs[16]; /* digest of its figure rows, file by file */
	unsigned char nfiles;   /* figure files with a row for it */
	unsigned polygon : 1;   /* its polygon is in the table (or waits for placement) */
	unsigned rejected : 1;  /* its polygon was refused */
	unsigned outside : 1;   /* a PC6 whose buurt is not loaded */
	unsigned had_old : 1;   /* a PC6 of the previous load */
	unsigned char old_hash[16];
	long long old_run;
	unsigned char partial[16]; /* a PC6's polygon and figures, before its buurt is known */
};

/* Every code seen at one level. */
struct level_set {
	struct strmap *map;
	struct area *areas;
	size_t cap;
};

/* A row skipped under --max-rejects. */
struct reject {
	char *where;
	char *code;
	char *reason;
};

/* Where a straddling PC6 lies, per the crosswalk. */
struct straddle {
	char pc6[7];
	char buurt[11];
	double share;
};

/* One load in progress. */
struct loader {
	struct db *db;
	const struct config *cfg;
	const struct load_opts *opts;
	struct load_stats *st;
	struct level_set sets[LEVEL_COUNT];
	/* crosswalk: PC6 -> buurt and share, and the straddling PC6 */
	struct strmap *cw_map;
	char (*cw_buurt)[11];
	double *cw_share;
	struct straddle *straddles;
	size_t nstraddles;
	struct reject *rejects;
	size_t nrejects, cap;
	/* the codes per level whose polygon GEOS found invalid, as an array literal */
	struct sbuf invalid[LEVEL_COUNT];
	/* PC6 in stage_pc6, to be placed by overlap */
	long long nstaged;
	/* the saved definitions of the keys and indexes dropped for the load */
	struct db_result *saved_keys, *saved_indexes;
};

/* Log how long a step took (at debug level, -v), and start the next. */
static void step_done(struct timespec *t, const char *what)
{
	log_step(t, "load", what);
}

static int check_interrupt(struct err *e)
{
	int sig = signals_pending();

	if (sig)
		return err_set(e, ERR_SYSTEM, NULL, "interrupted by signal %d; nothing was changed", sig);
	return 0;
}

/* The entry of code at a level, created when absent. */
static struct area *area_put(struct loader *L, enum level level, const char *code)
{
	struct level_set *s = &L->sets[level];
	bool added;
	size_t i = strmap_put(s->map, code, &added);

	if (i >= s->cap) {
		size_t old = s->cap;

		s->cap = s->cap ? s->cap * 2 : 1024;
		s->areas = xrealloc(s->areas, s->cap * sizeof *s->areas);
		memset(s->areas + old, 0, (s->cap - old) * sizeof *s->areas);
	}
	if (added)
		s->areas[i].last_file = -1;
	return &s->areas[i];
}

/* The entry of code at a level, or NULL. */
static struct area *area_get(struct loader *L, enum level level, const char *code)
{
	long i = strmap_get(L->sets[level].map, code);

	return i < 0 ? NULL : &L->sets[level].areas[i];
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

/* End a COPY that is being abandoned so the connection can roll back; the
 * error that made us stop is the one to report. */
static void copy_abandon(struct db *db)
{
	struct err ignored;

	db_copy_end(db, &ignored);
}

static void hex(const unsigned char *b, size_t n, char *out)
{
	static const char digits[] = "0123456789abcdef";

	for (size_t i = 0; i < n; i++) {
		out[2 * i] = digits[b[i] >> 4];
		out[2 * i + 1] = digits[b[i] & 15];
	}
	out[2 * n] = '\0';
}

/* Build an array literal of codes (codes hold only letters and digits). */
static void code_array(struct sbuf *b, const char *code)
{
	sbuf_puts(b, b->len ? "," : "{");
	sbuf_puts(b, code);
}

/* Check and normalise an area code read from a file. -1 with why filled when
 * it is not a code of the level. */
static int area_code(enum level level, const char *code, char *out, size_t size, char *why, size_t wsize)
{
	const char *reason;

	if (level == LEVEL_PC6) {
		char pc6[7];

		if (cbs_pc6_normalise(code, pc6, &reason) < 0) {
			snprintf(why, wsize, "postcode \"%.40s\" is not valid: %s", code, reason);
			return -1;
		}
		memcpy(out, pc6, size < 7 ? size : 7);
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

/* Find the columns of a header row; -1 naming the first one missing. */
static int find_columns(struct csv *c, const char *const *want, size_t n, size_t *at, struct err *e)
{
	size_t nfields = csv_nfields(c);

	for (size_t j = 0; j < n; j++) {
		size_t i;

		for (i = 0; i < nfields && strcmp(csv_field(c, i), want[j]) != 0; i++)
			;
		if (i == nfields) {
			struct sbuf names = {0};
			char where[600];

			for (size_t k = 0; k < nfields; k++)
				sbuf_printf(&names, "%s%s", k ? ", " : "", csv_field(c, k));
			snprintf(where, sizeof where, "%s:%ld", csv_path(c), csv_line(c));
			err_set(e, ERR_INPUT, where, "the header has no column \"%s\"", want[j]);
			err_detail(e, "its columns are: %s", names.s ? names.s : "(none)");
			sbuf_free(&names);
			return -1;
		}
		at[j] = i;
	}
	return 0;
}

/* Open a delimited file and read its header. */
static struct csv *open_table(struct loader *L, const char *path, char delimiter, enum encoding enc, struct err *e)
{
	struct csv *c = csv_open(path, delimiter, L->opts->encoding_set ? L->opts->encoding : enc, e);
	int rc;

	if (!c)
		return NULL;
	rc = csv_next(c, e);
	if (rc == 0)
		err_set(e, ERR_INPUT, path, "the file is empty; expected a header row");
	if (rc <= 0) {
		csv_close(c);
		return NULL;
	}
	return c;
}

/* Read the crosswalk (one row per address) and give each PC6 the buurt that
 * holds most of its addresses (the lower code on a tie). */
static int read_crosswalk(struct loader *L, const struct config_crosswalk *cw, struct err *e)
{
	const char *want[2] = {cw->pc6_column, cw->buurt_column};
	struct strmap *pairs = strmap_new();
	long *pair_n = NULL, *total = NULL, *best = NULL;
	size_t at[2], nfields, cap = 0, npc6;
	long long rows = 0;
	struct csv *c;
	int rc = -1;

	L->cw_map = strmap_new();
	if (!(c = open_table(L, cw->path, cw->delimiter, cw->encoding, e)))
		goto out;
	if (find_columns(c, want, 2, at, e) < 0)
		goto out;
	nfields = csv_nfields(c);
	while ((rc = csv_next(c, e)) == 1) {
		char pc6[7], bu[11], where[600], why[200], key[20];
		const char *reason;
		size_t i;

		rc = -1;
		if (check_interrupt(e) < 0)
			goto out;
		snprintf(where, sizeof where, "%s:%ld", cw->path, csv_line(c));
		if (csv_nfields(c) != nfields) {
			snprintf(why, sizeof why, "the row has %zu fields, the header has %zu", csv_nfields(c), nfields);
			if (reject(L, where, NULL, why, e) < 0)
				goto out;
			continue;
		}
		if (cbs_pc6_normalise(csv_field(c, at[0]), pc6, &reason) < 0) {
			snprintf(where, sizeof where, "%s:%ld:%ld", cw->path, csv_line(c), csv_field_col(c, at[0]));
			snprintf(why, sizeof why, "postcode \"%.40s\" is not valid: %s", csv_field(c, at[0]), reason);
			if (reject(L, where, csv_field(c, at[0]), why, e) < 0)
				goto out;
			continue;
		}
		if (buurt_code(csv_field(c, at[1]), bu) < 0) {
			snprintf(where, sizeof where, "%s:%ld:%ld", cw->path, csv_line(c), csv_field_col(c, at[1]));
			snprintf(why, sizeof why, "column %s: expected a buurt code (BU05182915 or 5182915), got \"%.40s\"",
				 cw->buurt_column, csv_field(c, at[1]));
			if (reject(L, where, pc6, why, e) < 0)
				goto out;
			continue;
		}
		snprintf(key, sizeof key, "%s %s", pc6, bu);
		i = strmap_put(pairs, key, NULL);
		if (i >= cap) {
			size_t old = cap;

			cap = cap ? cap * 2 : 4096;
			pair_n = xrealloc(pair_n, cap * sizeof *pair_n);
			memset(pair_n + old, 0, (cap - old) * sizeof *pair_n);
		}
		pair_n[i]++;
		if (++rows % 65536 == 0)
			log_progress("reading the crosswalk", (size_t)csv_bytes_read(c), (size_t)csv_size(c));
	}
	log_progress_end();
	if (rc < 0)
		goto out;
	rc = -1;
	/* per PC6: total addresses and the pair with most of them */
	for (size_t i = 0; i < strmap_size(pairs); i++) {
		char pc6[7];

		memcpy(pc6, strmap_key(pairs, i), 6);
		pc6[6] = '\0';
		strmap_put(L->cw_map, pc6, NULL);
	}
	npc6 = strmap_size(L->cw_map);
	total = xcalloc(npc6 ? npc6 : 1, sizeof *total);
	best = xcalloc(npc6 ? npc6 : 1, sizeof *best);
	for (size_t p = 0; p < npc6; p++)
		best[p] = -1;
	for (size_t i = 0; i < strmap_size(pairs); i++) {
		char pc6[7];
		long p;

		memcpy(pc6, strmap_key(pairs, i), 6);
		pc6[6] = '\0';
		p = strmap_get(L->cw_map, pc6);
		total[p] += pair_n[i];
		if (best[p] < 0 || pair_n[i] > pair_n[best[p]] ||
		    (pair_n[i] == pair_n[best[p]] && strcmp(strmap_key(pairs, i), strmap_key(pairs, (size_t)best[p])) < 0))
			best[p] = (long)i;
	}
	L->cw_buurt = xcalloc(npc6 ? npc6 : 1, sizeof *L->cw_buurt);
	L->cw_share = xcalloc(npc6 ? npc6 : 1, sizeof *L->cw_share);
	for (size_t p = 0; p < npc6; p++) {
		memcpy(L->cw_buurt[p], strmap_key(pairs, (size_t)best[p]) + 7, 10);
		L->cw_buurt[p][10] = '\0';
		L->cw_share[p] = (double)pair_n[best[p]] / (double)total[p];
	}
	/* every buurt of a PC6 that straddles, with its share of the addresses */
	for (size_t i = 0; i < strmap_size(pairs); i++) {
		char pc6[7];
		long p;

		memcpy(pc6, strmap_key(pairs, i), 6);
		pc6[6] = '\0';
		p = strmap_get(L->cw_map, pc6);
		if (pair_n[i] == total[p])
			continue;
		L->straddles = xrealloc(L->straddles, (L->nstraddles + 1) * sizeof *L->straddles);
		memcpy(L->straddles[L->nstraddles].pc6, pc6, 7);
		memcpy(L->straddles[L->nstraddles].buurt, strmap_key(pairs, i) + 7, 11);
		L->straddles[L->nstraddles].share = (double)pair_n[i] / (double)total[p];
		L->nstraddles++;
	}
	log_msg(LOG_INFO, "read the crosswalk rows=%lld pc6=%zu file=%s", rows, npc6, cw->path);
	rc = 0;
out:
	log_progress_end();
	csv_close(c);
	strmap_free(pairs);
	free(pair_n);
	free(total);
	free(best);
	return rc;
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

/* Read one figure row into a binary COPY row for `figure`; a bad row is
 * rejected whole (and nothing is added to rows). vals, nulls and miss have
 * room for the file's columns. */
static int figure_row(struct loader *L, struct csv *c, const struct config_indicators *in, short file,
		      const size_t *at, size_t nfields, bool decimal_comma, double *vals, bool *nulls,
		      const char **miss, struct sbuf *rows, struct err *e)
{
	char code[64], where[600], why[300];
	struct area *a;
	size_t key = at[0], n = in->ncolumns;
	long long missing = 0;

	if (csv_nfields(c) != nfields) {
		snprintf(where, sizeof where, "%s:%ld", csv_path(c), csv_line(c));
		snprintf(why, sizeof why, "the row has %zu fields, the header has %zu%s", csv_nfields(c), nfields,
			 csv_nfields(c) < nfields ? " (is the file cut short?)" : "");
		return reject(L, where, NULL, why, e);
	}
	if (area_code(in->level, csv_field(c, key), code, sizeof code, why, sizeof why) < 0) {
		snprintf(where, sizeof where, "%s:%ld:%ld", csv_path(c), csv_field_line(c, key), csv_field_col(c, key));
		return reject(L, where, csv_field(c, key), why, e);
	}
	a = area_put(L, in->level, code);
	if (a->last_file == file) {
		snprintf(where, sizeof where, "%s:%ld:%ld", csv_path(c), csv_field_line(c, key), csv_field_col(c, key));
		snprintf(why, sizeof why, "%s %s appears twice in the file (first at %s:%d:%d)", level_name(in->level),
			 code, csv_path(c), a->fig_line, a->fig_col);
		return reject(L, where, code, why, e);
	}
	for (size_t j = 0; j < n; j++) {
		const struct config_column *col = &in->columns[j];
		const char *text = csv_field(c, at[j + 1]);
		char what[100];

		if (cbs_parse_value(text, decimal_comma, &vals[j], &miss[j]) < 0)
			snprintf(why, sizeof why, "column %s: expected a number or a CBS missing-value code, got \"%.40s\"",
				 col->column, text);
		else if (!miss[j] && !kind_ok(col->kind, vals[j], what, sizeof what))
			snprintf(why, sizeof why, "column %s: %s, got \"%.40s\"", col->column, what, text);
		else {
			nulls[j] = miss[j] != NULL;
			if (nulls[j])
				vals[j] = 0;
			missing += nulls[j];
			continue;
		}
		snprintf(where, sizeof where, "%s:%ld:%ld", csv_path(c), csv_field_line(c, at[j + 1]),
			 csv_field_col(c, at[j + 1]));
		return reject(L, where, code, why, e);
	}
	{
		/* chain: what the earlier files said, then this file's row */
		struct sbuf h = {0};

		sbuf_append(&h, (const char *)a->figs, sizeof a->figs);
		sbuf_append(&h, (const char *)&file, sizeof file);
		sbuf_append(&h, (const char *)vals, n * sizeof *vals);
		sbuf_append(&h, (const char *)nulls, n * sizeof *nulls);
		for (size_t j = 0; j < n; j++)
			sbuf_append(&h, miss[j] ? miss[j] : "", miss[j] ? strlen(miss[j]) + 1 : 1);
		hash128(h.s, h.len, 0, a->figs);
		sbuf_free(&h);
	}
	a->fig_line = (int)csv_field_line(c, key);
	a->fig_col = (int)csv_field_col(c, key);
	a->last_file = file;
	a->nfiles++;
	pgbin_row(rows, 6);
	pgbin_text(rows, level_name(in->level));
	pgbin_text(rows, code);
	pgbin_int2(rows, (int16_t)(file + 1));
	pgbin_float8_array(rows, vals, nulls, n);
	pgbin_text_array(rows, miss, n);
	pgbin_int4(rows, (int32_t)csv_line(c));
	L->st->values += (long long)n;
	L->st->missing += missing;
	return 0;
}

static int read_figures(struct loader *L, short file, struct err *e)
{
	const struct config_indicators *in = &L->cfg->indicators[file];
	const char **want = xcalloc(in->ncolumns + 1, sizeof *want);
	size_t *at = xcalloc(in->ncolumns + 1, sizeof *at), nfields;
	double *vals = xcalloc(in->ncolumns, sizeof *vals);
	bool *nulls = xcalloc(in->ncolumns, sizeof *nulls);
	const char **miss = xcalloc(in->ncolumns, sizeof *miss);
	struct sbuf rows = {0};
	long long n = 0;
	char progress[300];
	struct csv *c;
	bool copying = false;
	int rc = -1;

	if (!(c = open_table(L, in->path, in->delimiter, in->encoding, e)))
		goto out;
	want[0] = in->key;
	for (size_t j = 0; j < in->ncolumns; j++)
		want[j + 1] = in->columns[j].column;
	if (find_columns(c, want, in->ncolumns + 1, at, e) < 0)
		goto out;
	nfields = csv_nfields(c);
	snprintf(progress, sizeof progress, "reading %s", in->path);
	if (db_copy_begin(L->db, "COPY figure (level, code, file, vals, missing, line) FROM STDIN WITH (FORMAT binary)",
			  e) < 0)
		goto out;
	copying = true;
	pgbin_header(&rows);
	while ((rc = csv_next(c, e)) == 1) {
		rc = -1;
		if (check_interrupt(e) < 0 ||
		    figure_row(L, c, in, file, at, nfields, csv_delimiter(c) != ',', vals, nulls, miss, &rows, e) < 0 ||
		    db_copy_flush(L->db, &rows, DB_COPY_BATCH, e) < 0)
			goto out;
		if (++n % 65536 == 0)
			log_progress(progress, (size_t)csv_bytes_read(c), (size_t)csv_size(c));
	}
	if (rc < 0)
		goto out;
	rc = -1;
	pgbin_trailer(&rows);
	if (db_copy_flush(L->db, &rows, 0, e) < 0)
		goto out;
	copying = false;
	if ((rc = db_copy_end(L->db, e)) < 0)
		goto out;
	log_msg(LOG_INFO, "read figures rows=%lld encoding=%s file=%s", n, encoding_name(csv_encoding(c)), in->path);
out:
	if (copying)
		copy_abandon(L->db);
	log_progress_end();
	csv_close(c);
	free(want);
	free(at);
	free(vals);
	free(nulls);
	free(miss);
	sbuf_free(&rows);
	return rc;
}

/* The buurt a PC6 lies in, from its own field or the crosswalk, or NULL. */
static const char *pc6_parent(struct loader *L, const struct vec_feature *f, const char *code, double *share,
			      const char **how)
{
	long i;

	*share = 1;
	if (f->parent) {
		static char bu[11];

		*how = "parent";
		return buurt_code(f->parent, bu) == 0 ? bu : f->parent;
	}
	if (L->cw_map && (i = strmap_get(L->cw_map, code)) >= 0) {
		*how = "crosswalk";
		*share = L->cw_share[i];
		return L->cw_buurt[i];
	}
	return NULL;
}

/* The content hash of a PC6 (its polygon, its figures, its buurt) as 32 hex
 * digits; a->partial holds the part without the buurt. */
static void pc6_hash(const struct vec_feature *f, struct area *a)
{
	unsigned char buf[32];

	hash128(f->wkb, f->wkb_len, 0, buf);
	memcpy(buf + 16, a->figs, 16);
	hash128(buf, a->nfiles > 0 ? 32 : 16, 0, a->partial);
}

static void content_hash(const struct area *a, const char *parent, char out[33])
{
	unsigned char buf[32], h[16];
	size_t n = strlen(parent);

	memcpy(buf, a->partial, 16);
	memcpy(buf + 16, parent, n > 16 ? 16 : n);
	hash128(buf, 16 + (n > 16 ? 16 : n), 1, h);
	hex(h, 16, out);
}

/* The run in which a PC6 with content hash `hash` last changed (0: none),
 * counting it as added, changed or the same. */
static long long changed_in_run(struct loader *L, const struct area *a, const char *hash)
{
	char old[33];

	if (!a->had_old) {
		L->st->pc6_added++;
		return L->opts->run_id;
	}
	hex(a->old_hash, 16, old);
	if (strcmp(old, hash) == 0)
		return a->old_run;
	L->st->pc6_changed++;
	return L->opts->run_id;
}

/* A polygon of a level above PC6: code, name, parent checked. */
static int area_row(struct loader *L, const struct config_area *cfg_area, const struct vec_feature *f,
		    const char *code, struct area *a, struct sbuf *rows, struct err *e)
{
	enum level level = cfg_area->level;
	char why[400];

	if (level != LEVEL_GEMEENTE) {
		enum level up = (enum level)(level - 1);
		struct area *p = f->parent ? area_get(L, up, f->parent) : NULL;

		if (!f->parent) {
			snprintf(why, sizeof why, "%s %s: the parent field \"%s\" is empty", level_name(level), code,
				 cfg_area->parent_field);
			a->rejected = 1;
			return reject(L, f->where, code, why, e);
		}
		if (!p || !p->polygon) {
			if (p && p->rejected)
				snprintf(why, sizeof why, "%s %s lies in %s %s, which was rejected", level_name(level), code,
					 level_name(up), f->parent);
			else
				snprintf(why, sizeof why, "%s %s lies in %s %s, which is not among the %s polygons of %s",
					 level_name(level), code, level_name(up), f->parent, level_name(up),
					 config_area(L->cfg, up)->path);
			a->rejected = 1;
			return reject(L, f->where, code, why, e);
		}
	}
	if (!f->name)
		log_msg(LOG_WARN, "%s: %s %s has no name; using its code", f->where, level_name(level), code);
	db_copy_field(rows, code);
	sbuf_putc(rows, '\t');
	db_copy_field(rows, f->name ? f->name : code);
	if (level != LEVEL_GEMEENTE) {
		sbuf_putc(rows, '\t');
		db_copy_field(rows, f->parent);
	}
	sbuf_printf(rows, "\t%s\n", f->ewkb_hex);
	return 0;
}

/* A PC6 polygon: straight into pc6 when its buurt is known and loaded, into
 * stage_pc6 when it must be placed by overlap, nowhere when it lies outside. */
static void pc6_row(struct loader *L, const struct vec_feature *f, const char *code, struct area *a,
		    struct sbuf *rows, struct sbuf *staged)
{
	const char *how, *parent;
	char hash[33];
	double share;
	long long run;
	struct area *b;

	pc6_hash(f, a);
	parent = pc6_parent(L, f, code, &share, &how);
	if (!parent) {
		if (staged->len == 0)
			pgbin_header(staged);
		pgbin_row(staged, 2);
		pgbin_text(staged, code);
		pgbin_bytes(staged, f->ewkb, f->ewkb_len);
		L->nstaged++;
		return;
	}
	b = area_get(L, LEVEL_BUURT, parent);
	if (!b || !b->polygon) {
		a->outside = 1;
		a->polygon = 0;
		if (L->st->outside++ < 5)
			log_msg(LOG_INFO, "%s: PC6 %s lies in buurt %s, which is not loaded; left out", f->where, code,
				parent);
		return;
	}
	content_hash(a, parent, hash);
	pgbin_row(rows, 7);
	pgbin_text(rows, code);
	pgbin_text(rows, parent);
	pgbin_float8(rows, share);
	pgbin_text(rows, how);
	pgbin_bytes(rows, f->ewkb, f->ewkb_len);
	pgbin_text(rows, hash);
	run = changed_in_run(L, a, hash);
	if (run > 0)
		pgbin_int8(rows, run);
	else
		pgbin_null(rows);
}

static int read_polygons(struct loader *L, const struct config_area *ca, struct err *e)
{
	static const char *const copy_sql[] = {
		"COPY gemeente (code, name, geom) FROM STDIN",
		"COPY wijk (code, name, gemeente_code, geom) FROM STDIN",
		"COPY buurt (code, name, wijk_code, geom) FROM STDIN",
		"COPY pc6 (code, buurt_code, buurt_share, assigned_by, geom, content_hash, changed_in_run) FROM STDIN"
		" WITH (FORMAT binary)",
	};
	enum level level = ca->level;
	struct sbuf rows = {0}, staged = {0};
	struct vec *v;
	struct vec_feature f;
	long long total, n = 0;
	char progress[300];
	bool copying = false;
	int rc;

	v = vec_open(ca->path, ca->layer, ca->srs, ca->code_field, ca->name_field, ca->parent_field, e);
	if (!v)
		return -1;
	total = vec_count(v);
	vec_want_hex(v, level != LEVEL_PC6);
	snprintf(progress, sizeof progress, "reading %s polygons", level_name(level));
	if (db_copy_begin(L->db, copy_sql[level], e) < 0)
		goto fail;
	copying = true;
	if (level == LEVEL_PC6)
		pgbin_header(&rows);
	for (;;) {
		char code[64], why[300];
		struct area *a;

		rc = vec_next(v, &f, e);
		if (rc == 0)
			break;
		if (check_interrupt(e) < 0)
			goto fail;
		if (rc < 0) {
			/* a bad feature (no code, no geometry, not a polygon); copied out
			 * of e first, since reject() fills e again */
			char where[sizeof e->where], reason[sizeof e->message];

			if (e->cls != ERR_INPUT || !strchr(e->where, '#'))
				goto fail;
			memcpy(where, e->where, sizeof where);
			memcpy(reason, e->message, sizeof reason);
			if (reject(L, where, NULL, reason, e) < 0)
				goto fail;
			continue;
		}
		if (area_code(level, f.code, code, sizeof code, why, sizeof why) < 0) {
			if (reject(L, f.where, f.code, why, e) < 0)
				goto fail;
			continue;
		}
		a = area_put(L, level, code);
		if (a->polygon || a->outside) {
			char *first = xasprintf("%s#fid=%lld", ca->path, a->fid);

			snprintf(why, sizeof why, "duplicate %s code %s (first at %s)", level_name(level), code, first);
			free(first);
			if (reject(L, f.where, code, why, e) < 0)
				goto fail;
			continue;
		}
		a->fid = f.fid;
		a->polygon = 1;
		if (level == LEVEL_PC6)
			pc6_row(L, &f, code, a, &rows, &staged);
		else if (area_row(L, ca, &f, code, a, &rows, e) < 0)
			goto fail;
		if (a->rejected)
			a->polygon = 0;
		else if (!f.valid)
			code_array(&L->invalid[level], code);
		if (db_copy_flush(L->db, &rows, DB_COPY_BATCH, e) < 0)
			goto fail;
		n++;
		log_progress(progress, (size_t)n, total > 0 ? (size_t)total : 0);
	}
	if (level == LEVEL_PC6)
		pgbin_trailer(&rows);
	if (db_copy_flush(L->db, &rows, 0, e) < 0)
		goto fail;
	copying = false;
	if (db_copy_end(L->db, e) < 0)
		goto fail;
	if (staged.len > 0) {
		pgbin_trailer(&staged);
		if (db_copy_begin(L->db, "COPY stage_pc6 (code, geom) FROM STDIN WITH (FORMAT binary)", e) < 0)
			goto fail;
		copying = true;
		if (db_copy_put(L->db, staged.s, staged.len, e) < 0)
			goto fail;
		copying = false;
		if (db_copy_end(L->db, e) < 0)
			goto fail;
	}
	log_progress_end();
	if (n == 0) {
		err_set(e, ERR_INPUT, ca->path, "holds no usable %s polygons", level_name(level));
		goto fail;
	}
	log_msg(LOG_INFO, "read %s polygons rows=%lld file=%s", level_name(level), n, ca->path);
	vec_close(v);
	sbuf_free(&rows);
	sbuf_free(&staged);
	return 0;
fail:
	if (copying)
		copy_abandon(L->db);
	log_progress_end();
	vec_close(v);
	sbuf_free(&rows);
	sbuf_free(&staged);
	return -1;
}

/* Repair with ST_MakeValid the polygons of a table that GEOS found invalid
 * while reading (vec_feature.valid), and say which. */
static int repair(struct loader *L, const char *table, enum level level, struct err *e)
{
	const struct config_area *ca = config_area(L->cfg, level);
	struct sbuf *bad = &L->invalid[level];
	const char *params[1];
	struct db_result *r;
	char *sql;
	int rc = 0;

	if (bad->len == 0)
		return 0;
	sbuf_putc(bad, '}');
	params[0] = bad->s;
	sql = xasprintf("UPDATE %s t SET geom = ST_Multi(ST_CollectionExtract(ST_MakeValid(t.geom), 3))"
			" WHERE t.code = ANY($1::text[]) RETURNING t.code, ST_IsEmpty(t.geom)",
			table);
	r = db_query(L->db, sql, 1, params, e);
	bad->len--; /* the list stays open for another table of the level */
	bad->s[bad->len] = '\0';
	free(sql);
	if (!r)
		return -1;
	for (int i = 0; i < db_nrows(r) && rc == 0; i++) {
		const struct area *a = area_get(L, level, db_value(r, i, 0));
		char *where = xasprintf("%s#fid=%lld", ca->path, a ? a->fid : -1LL);

		if (strcmp(db_value(r, i, 1), "t") == 0)
			rc = err_set(e, ERR_INPUT, where, "%s %s: the polygon is empty after repairing it", level_name(level),
				     db_value(r, i, 0));
		else if (L->st->repaired + i < LOG_EXAMPLES)
			log_msg(LOG_WARN, "%s: %s %s: invalid polygon repaired with ST_MakeValid", where, level_name(level),
				db_value(r, i, 0));
		free(where);
	}
	L->st->repaired += db_nrows(r);
	db_result_free(r);
	return rc;
}

/* Place the PC6 that came without a buurt by largest overlap; their content
 * hashes (which include the buurt) are filled in afterwards. */
static int place_by_overlap(struct loader *L, struct err *e)
{
	struct db_result *r;
	struct sbuf rows = {0};
	int rc = -1;

	/* every PC6 had its buurt: nothing to place, and no table scan to find
	 * that out (0.46 s nationally) */
	if (L->nstaged == 0)
		return 0;
	if (repair(L, "stage_pc6", LEVEL_PC6, e) < 0 ||
	    db_exec(L->db, "CREATE INDEX ON stage_pc6 USING gist (geom); ANALYZE stage_pc6", e) < 0)
		return -1;
	r = db_query(L->db,
		     "WITH best AS (SELECT DISTINCT ON (p.code) p.code, b.code AS buurt,"
		     "  ST_Area(ST_Intersection(p.geom, b.geom)) / NULLIF(ST_Area(p.geom), 0) AS share"
		     "  FROM stage_pc6 p JOIN buurt b ON ST_Intersects(p.geom, b.geom)"
		     "  ORDER BY p.code, ST_Area(ST_Intersection(p.geom, b.geom)) DESC, b.code)"
		     " INSERT INTO pc6 (code, buurt_code, buurt_share, assigned_by, geom)"
		     " SELECT p.code, best.buurt, best.share, 'overlap', p.geom FROM stage_pc6 p JOIN best USING (code)"
		     " RETURNING code, buurt_code",
		     0, NULL, e);
	if (!r)
		return -1;
	L->st->by_overlap = db_nrows(r);
	for (int i = 0; i < db_nrows(r); i++) {
		struct area *a = area_get(L, LEVEL_PC6, db_value(r, i, 0));
		char hash[33];

		long long run;

		content_hash(a, db_value(r, i, 1), hash);
		run = changed_in_run(L, a, hash);
		sbuf_puts(&rows, db_value(r, i, 0));
		sbuf_putc(&rows, '\t');
		sbuf_puts(&rows, hash);
		sbuf_putc(&rows, '\t');
		if (run > 0)
			sbuf_number(&rows, (double)run);
		else
			sbuf_puts(&rows, "\\N");
		sbuf_putc(&rows, '\n');
	}
	db_result_free(r);
	if (rows.len > 0 &&
	    (db_exec(L->db, "CREATE TEMP TABLE placed (code text, hash text, run bigint) ON COMMIT DROP", e) < 0 ||
	     db_copy_begin(L->db, "COPY placed FROM STDIN", e) < 0 || db_copy_put(L->db, rows.s, rows.len, e) < 0 ||
	     db_copy_end(L->db, e) < 0 ||
	     db_exec(L->db,
		     "UPDATE pc6 SET content_hash = placed.hash, changed_in_run = placed.run FROM placed"
		     " WHERE pc6.code = placed.code",
		     e) < 0))
		goto out;
	/* Those that overlap no buurt lie outside. */
	r = db_query(L->db, "SELECT s.code FROM stage_pc6 s WHERE NOT EXISTS (SELECT 1 FROM pc6 p WHERE p.code = s.code)",
		     0, NULL, e);
	if (!r)
		goto out;
	for (int i = 0; i < db_nrows(r); i++) {
		struct area *a = area_get(L, LEVEL_PC6, db_value(r, i, 0));

		a->polygon = 0;
		a->outside = 1;
		L->st->outside++;
	}
	db_result_free(r);
	if (db_execp(L->db,
		     "INSERT INTO pc6_overlap (pc6_code, buurt_code, share)"
		     " SELECT p.code, b.code, ST_Area(ST_Intersection(p.geom, b.geom)) / ST_Area(p.geom)"
		     " FROM pc6 p JOIN buurt b ON ST_Intersects(p.geom, b.geom)"
		     " WHERE p.assigned_by = 'overlap' AND p.buurt_share < 0.99"
		     "  AND ST_Area(ST_Intersection(p.geom, b.geom)) > 0",
		     0, NULL, e) < 0)
		goto out;
	rc = 0;
out:
	sbuf_free(&rows);
	return rc;
}


/* Figures need a polygon, and a PC6 polygon needs figures when PC6 figures are
 * read at all. What fails either is rejected and taken out again. */
static int match_figures_and_polygons(struct loader *L, struct err *e)
{
	bool pc6_figures = false;

	for (size_t i = 0; i < L->cfg->nindicators; i++)
		pc6_figures |= L->cfg->indicators[i].level == LEVEL_PC6;
	for (int l = 0; l < LEVEL_COUNT; l++) {
		struct level_set *s = &L->sets[l];
		struct sbuf drop_figs = {0}, drop_polys = {0};
		long long outside_figs = 0;
		int rc = 0;

		for (size_t i = 0; i < strmap_size(s->map) && rc == 0; i++) {
			struct area *a = &s->areas[i];
			const char *code = strmap_key(s->map, i);
			char why[300], *where;

			if (a->nfiles > 0 && !a->polygon) {
				code_array(&drop_figs, code);
				if (a->outside) {
					outside_figs++;
					continue;
				}
				where = xasprintf("%s:%d:%d", L->cfg->indicators[a->last_file].path, a->fig_line, a->fig_col);
				if (a->rejected)
					snprintf(why, sizeof why, "%s %s has figures, but its polygon was rejected",
						 level_name((enum level)l), code);
				else
					snprintf(why, sizeof why, "%s %s has figures but is not among the loaded %s polygons",
						 level_name((enum level)l), code, level_name((enum level)l));
				rc = reject(L, where, code, why, e);
				free(where);
			} else if (l == LEVEL_PC6 && pc6_figures && a->polygon && a->nfiles == 0) {
				code_array(&drop_polys, code);
				where = xasprintf("%s#fid=%lld", config_area(L->cfg, LEVEL_PC6)->path, a->fid);
				snprintf(why, sizeof why, "PC6 %s has a polygon but no row in the PC6 figures", code);
				rc = reject(L, where, code, why, e);
				a->polygon = 0;
				a->rejected = 1;
				free(where);
			}
		}
		if (rc == 0 && drop_figs.len) {
			const char *params[2] = {level_name((enum level)l), NULL};

			sbuf_putc(&drop_figs, '}');
			params[1] = drop_figs.s;
			if (db_execp(L->db, "DELETE FROM figure WHERE level = $1 AND code = ANY($2::text[])", 2, params, e) < 0)
				rc = -1;
		}
		if (rc == 0 && drop_polys.len) {
			const char *params[1] = {NULL};

			sbuf_putc(&drop_polys, '}');
			params[0] = drop_polys.s;
			if (db_execp(L->db, "DELETE FROM pc6 WHERE code = ANY($1::text[])", 1, params, e) < 0)
				rc = -1;
		}
		if (outside_figs > 0)
			log_msg(LOG_INFO, "left out the figures of %lld PC6 outside the loaded buurten", outside_figs);
		sbuf_free(&drop_figs);
		sbuf_free(&drop_polys);
		if (rc < 0)
			return -1;
	}
	return 0;
}

/* Remember the keys and indexes of the load tables, and drop them: rows go in
 * faster without them, and they are built once at the end. */
static int drop_keys(struct loader *L, struct err *e)
{
	static const char tables_sql[] =
		"SELECT c.oid FROM pg_class c WHERE c.relnamespace = to_regnamespace(current_schema())"
		" AND c.relname IN ('gemeente', 'wijk', 'buurt', 'pc6', 'figure', 'pc6_overlap')";
	char *sql;
	int rc = 0;

	sql = xasprintf("SELECT conrelid::regclass::text, quote_ident(conname), pg_get_constraintdef(oid), contype,"
			" conrelid::regclass::text IN ('gemeente', 'wijk', 'buurt')"
			" FROM pg_constraint WHERE conrelid IN (%s) AND contype IN ('p', 'u', 'f')"
			" ORDER BY contype = 'f' DESC, conname",
			tables_sql);
	L->saved_keys = db_query(L->db, sql, 0, NULL, e);
	free(sql);
	if (!L->saved_keys)
		return -1;
	sql = xasprintf("SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid),"
			" i.indrelid::regclass::text IN ('gemeente', 'wijk', 'buurt')"
			" FROM pg_index i WHERE i.indrelid IN (%s)"
			" AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)"
			" ORDER BY 1",
			tables_sql);
	L->saved_indexes = db_query(L->db, sql, 0, NULL, e);
	free(sql);
	if (!L->saved_indexes)
		return -1;
	for (int i = 0; i < db_nrows(L->saved_keys) && rc == 0; i++) {
		sql = xasprintf("ALTER TABLE %s DROP CONSTRAINT %s", db_value(L->saved_keys, i, 0),
				db_value(L->saved_keys, i, 1));
		rc = db_exec(L->db, sql, e);
		free(sql);
	}
	for (int i = 0; i < db_nrows(L->saved_indexes) && rc == 0; i++) {
		sql = xasprintf("DROP INDEX %s", db_value(L->saved_indexes, i, 0));
		rc = db_exec(L->db, sql, e);
		free(sql);
	}
	return rc;
}

/* Build again what drop_keys dropped: with upper true only the primary keys
 * and indexes of gemeente, wijk and buurt (needed before the PC6 are placed);
 * else the rest, foreign keys last. */
static int restore_keys(struct loader *L, bool upper, struct err *e)
{
	int rc = 0;

	for (int pass = 0; pass < 3 && rc == 0; pass++) {
		struct db_result *r = pass == 1 ? L->saved_indexes : L->saved_keys;

		for (int i = 0; i < db_nrows(r) && rc == 0; i++) {
			bool is_upper = strcmp(db_value(r, i, pass == 1 ? 2 : 4), "t") == 0;
			bool fk = pass != 1 && strcmp(db_value(r, i, 3), "f") == 0;
			char *sql;

			if ((pass == 2) != fk || (pass != 2 && is_upper != upper) || (pass == 2 && upper))
				continue;
			if (pass == 1)
				sql = xstrdup(db_value(r, i, 1));
			else
				sql = xasprintf("ALTER TABLE %s ADD CONSTRAINT %s %s", db_value(r, i, 0), db_value(r, i, 1),
						db_value(r, i, 2));
			rc = db_exec(L->db, sql, e);
			if (rc < 0)
				err_prefix(e, "rebuilding %s", pass == 1 ? db_value(r, i, 0) : db_value(r, i, 1));
			free(sql);
		}
	}
	return rc;
}

static int old_pc6_row(char *row, size_t len, void *arg, struct err *e)
{
	struct loader *L = arg;
	char *hash = strchr(row, '\t'), *run;
	struct area *a;

	(void)len;
	if (!hash || !(run = strchr(hash + 1, '\t')))
		return err_set(e, ERR_INTERNAL, NULL, "unexpected row from pc6: %.60s", row);
	*hash++ = '\0';
	*run++ = '\0';
	a = area_put(L, LEVEL_PC6, row);
	a->had_old = 1;
	a->old_run = atoll(run);
	if (strlen(hash) == 32)
		for (int k = 0; k < 16; k++)
			a->old_hash[k] = (unsigned char)(text_hexval(hash[2 * k]) << 4 | text_hexval(hash[2 * k + 1]));
	return 0;
}

/* Fetch the content hashes of the PC6 loaded now, to tell what changes. */
static int read_old_pc6(struct loader *L, struct err *e)
{
	return db_copy_out(L->db,
			   "COPY (SELECT code, coalesce(content_hash, ''), coalesce(changed_in_run, 0) FROM pc6) TO STDOUT",
			   old_pc6_row, L, e);
}

static int write_overlap_from_crosswalk(struct loader *L, struct err *e)
{
	struct sbuf rows = {0};
	int rc = 0;

	for (size_t i = 0; i < L->nstraddles; i++) {
		struct area *a = area_get(L, LEVEL_PC6, L->straddles[i].pc6);

		if (a && a->polygon)
			sbuf_printf(&rows, "%s\t%s\t%.17g\n", L->straddles[i].pc6, L->straddles[i].buurt,
				    L->straddles[i].share);
	}
	if (rows.len > 0 && (db_copy_begin(L->db, "COPY pc6_overlap (pc6_code, buurt_code, share) FROM STDIN", e) < 0 ||
			     db_copy_put(L->db, rows.s, rows.len, e) < 0 || db_copy_end(L->db, e) < 0))
		rc = -1;
	sbuf_free(&rows);
	return rc;
}

/* Name the PC6 that straddle buurten most, and count them all. */
static int report_straddlers(struct loader *L, struct err *e)
{
	struct db_result *r = db_query(
		L->db,
		"SELECT p.code, p.buurt_code, round(p.buurt_share * 100), p.assigned_by,"
		" (SELECT string_agg(format('%s %s%%', o.buurt_code, round(o.share * 100)), ', '"
		"   ORDER BY o.share DESC, o.buurt_code) FROM pc6_overlap o WHERE o.pc6_code = p.code"
		"   AND o.buurt_code <> p.buurt_code),"
		" count(*) OVER ()"
		" FROM pc6 p WHERE p.buurt_share < 0.99 ORDER BY p.buurt_share, p.code LIMIT 10",
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

static int write_definitions(struct loader *L, const char *fingerprint, struct sbuf *inputs, struct err *e)
{
	char run[32];
	const char *params[2] = {run, fingerprint};

	snprintf(run, sizeof run, "%lld", L->opts->run_id);
	for (size_t i = 0; i < L->cfg->nindicators; i++) {
		const struct config_indicators *in = &L->cfg->indicators[i];

		for (size_t j = 0; j < in->ncolumns; j++) {
			char file[24], pos[24];
			const char *p[8] = {level_name(in->level), in->columns[j].indicator, kind_name(in->columns[j].kind),
					    in->columns[j].unit, file, pos, in->path, in->columns[j].column};

			snprintf(file, sizeof file, "%zu", i + 1);
			snprintf(pos, sizeof pos, "%zu", j + 1);
			if (db_execp(L->db,
				     "INSERT INTO indicator_def (level, name, kind, unit, file, position, source_file,"
				     " source_column) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
				     8, p, e) < 0)
				return -1;
		}
	}
	if (inputs->len > 0 && (db_copy_begin(L->db, "COPY load_input (path, role, bytes, mtime, sha256) FROM STDIN", e) < 0 ||
				db_copy_put(L->db, inputs->s, inputs->len, e) < 0 || db_copy_end(L->db, e) < 0))
		return -1;
	return db_execp(L->db,
			"INSERT INTO load_state (id, fingerprint, run_id, loaded_at) VALUES (1, $2, nullif($1, '0')::bigint,"
			" clock_timestamp())"
			" ON CONFLICT (id) DO UPDATE SET fingerprint = $2, run_id = nullif($1, '0')::bigint,"
			"  loaded_at = clock_timestamp()",
			2, params, e) < 0
		       ? -1
		       : 0;
}

/*
 * The fingerprint of a load: SHA-256 over the settings that shape what is
 * read and the content of every input file. Its plan (which files, in what
 * role, with what settings) is made first, in this thread, since finding a
 * source's files takes GDAL; the hashing itself touches only plain files, so
 * it can run in a thread of its own while the load goes on.
 */
struct fp_plan {
	struct sbuf settings; /* key=value\0 ..., in config order */
	char **paths;         /* every file with its role, each path once per role */
	char **roles;
	long long *bytes, *mtime; /* from stat */
	size_t n;
	/* what fp_hash computes */
	char digest[65];
	struct sbuf inputs; /* COPY rows for load_input */
	int rc;
	struct err e;
};

static void fp_setting(struct fp_plan *p, const char *key, const char *value)
{
	sbuf_puts(&p->settings, key);
	sbuf_putc(&p->settings, '=');
	sbuf_append(&p->settings, value ? value : "\001", value ? strlen(value) + 1 : 2);
}

static int fp_file(struct fp_plan *p, const char *path, const char *role, struct err *e)
{
	struct stat sb;

	for (size_t i = 0; i < p->n; i++)
		if (strcmp(p->paths[i], path) == 0 && strcmp(p->roles[i], role) == 0)
			return 0;
	if (stat(path, &sb) < 0)
		return err_set(e, ERR_INPUT, path, "cannot read file: %s", strerror(errno));
	p->paths = xrealloc(p->paths, (p->n + 1) * sizeof *p->paths);
	p->roles = xrealloc(p->roles, (p->n + 1) * sizeof *p->roles);
	p->bytes = xrealloc(p->bytes, (p->n + 1) * sizeof *p->bytes);
	p->mtime = xrealloc(p->mtime, (p->n + 1) * sizeof *p->mtime);
	p->paths[p->n] = xstrdup(path);
	p->roles[p->n] = xstrdup(role);
	p->bytes[p->n] = (long long)sb.st_size;
	p->mtime[p->n] = (long long)sb.st_mtim.tv_sec * 1000000000LL + sb.st_mtim.tv_nsec;
	p->n++;
	return 0;
}

/* Which files and settings make up the inputs. */
static int fp_plan_make(struct loader *L, struct fp_plan *p, struct err *e)
{
	const struct config *cfg = L->cfg;
	char buf[64];

	fp_setting(p, "pc6risk-load", "3");
	snprintf(buf, sizeof buf, "%lld", L->opts->max_rejects);
	fp_setting(p, "max_rejects", buf);
	fp_setting(p, "encoding", L->opts->encoding_set ? encoding_name(L->opts->encoding) : NULL);
	for (size_t i = 0; i < cfg->nareas; i++) {
		const struct config_area *a = &cfg->areas[i];
		char **files = vec_files(a->path, e), role[32];
		int rc = 0;

		if (!files)
			return -1;
		snprintf(role, sizeof role, "areas:%s", level_name(a->level));
		fp_setting(p, "role", role);
		fp_setting(p, "layer", a->layer);
		fp_setting(p, "srs", a->srs);
		fp_setting(p, "code", a->code_field);
		fp_setting(p, "name", a->name_field);
		fp_setting(p, "parent", a->parent_field);
		for (char **f = files; *f && rc == 0; f++)
			rc = fp_file(p, *f, role, e);
		vec_files_free(files);
		if (rc < 0)
			return -1;
	}
	for (size_t i = 0; i < cfg->nindicators; i++) {
		const struct config_indicators *in = &cfg->indicators[i];
		char role[32], delim[2] = {in->delimiter, 0};

		snprintf(role, sizeof role, "indicators:%s", level_name(in->level));
		fp_setting(p, "role", role);
		fp_setting(p, "key", in->key);
		fp_setting(p, "delimiter", delim);
		fp_setting(p, "file_encoding", encoding_name(in->encoding));
		for (size_t j = 0; j < in->ncolumns; j++) {
			fp_setting(p, in->columns[j].indicator, in->columns[j].column);
			fp_setting(p, "kind", kind_name(in->columns[j].kind));
			fp_setting(p, "unit", in->columns[j].unit);
		}
		if (fp_file(p, in->path, role, e) < 0)
			return -1;
	}
	if (cfg->crosswalk) {
		char delim[2] = {cfg->crosswalk->delimiter, 0};

		fp_setting(p, "role", "crosswalk");
		fp_setting(p, "crosswalk_pc6", cfg->crosswalk->pc6_column);
		fp_setting(p, "crosswalk_buurt", cfg->crosswalk->buurt_column);
		fp_setting(p, "delimiter", delim);
		fp_setting(p, "file_encoding", encoding_name(cfg->crosswalk->encoding));
		if (fp_file(p, cfg->crosswalk->path, "crosswalk", e) < 0)
			return -1;
	}
	return 0;
}

/* Hash the plan's files (each once, however many roles it plays). A thread's
 * body: the outcome is in p->rc and p->e. */
static void *fp_hash(void *arg)
{
	struct fp_plan *p = arg;
	struct sha256 fp;
	char (*digest)[65] = xcalloc(p->n ? p->n : 1, sizeof *digest);

	p->rc = 0;
	sha256_init(&fp);
	sha256_update(&fp, p->settings.s ? p->settings.s : "", p->settings.len);
	for (size_t i = 0; i < p->n && p->rc == 0; i++) {
		long long bytes;
		size_t k;

		for (k = 0; k < i && strcmp(p->paths[k], p->paths[i]) != 0; k++)
			;
		if (k < i)
			memcpy(digest[i], digest[k], sizeof digest[i]);
		else if (sha256_file(p->paths[i], digest[i], &bytes, &p->e) < 0)
			p->rc = -1;
		sha256_update(&fp, p->roles[i], strlen(p->roles[i]) + 1);
		sha256_update(&fp, digest[i], 64);
		db_copy_field(&p->inputs, p->paths[i]);
		sbuf_printf(&p->inputs, "\t%s\t%lld\t%lld\t%s\n", p->roles[i], p->bytes[i], p->mtime[i], digest[i]);
	}
	sha256_hex(&fp, p->digest);
	free(digest);
	return NULL;
}

static void fp_plan_free(struct fp_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->paths[i]);
		free(p->roles[i]);
	}
	free(p->paths);
	free(p->roles);
	free(p->bytes);
	free(p->mtime);
	sbuf_free(&p->settings);
	sbuf_free(&p->inputs);
}

/* Do the files look as they did at the last load (same paths, sizes and
 * modification times)? Only then is hashing them worth the wait. */
static int looks_unchanged(struct loader *L, const struct fp_plan *p, struct err *e)
{
	struct db_result *r = db_query(L->db, "SELECT path, role, bytes, mtime FROM load_input", 0, NULL, e);
	int same;

	if (!r)
		return -1;
	same = db_nrows(r) == (int)p->n;
	for (int i = 0; i < db_nrows(r) && same; i++) {
		size_t k;

		for (k = 0; k < p->n; k++)
			if (strcmp(p->paths[k], db_value(r, i, 0)) == 0 && strcmp(p->roles[k], db_value(r, i, 1)) == 0)
				break;
		same = k < p->n && p->bytes[k] == atoll(db_value(r, i, 2)) && p->mtime[k] == atoll(db_value(r, i, 3));
	}
	db_result_free(r);
	return same;
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

/* Write the skipped rows as a ';' CSV: where, code, reason. Replaces the file
 * in one rename. */
static int write_rejects(struct loader *L, struct err *e)
{
	struct sbuf b = {0};
	char *tmp;
	int rc;

	sbuf_puts(&b, "where;code;reason\n");
	for (size_t i = 0; i < L->nrejects; i++) {
		sbuf_csv_field(&b, L->rejects[i].where, ';');
		sbuf_putc(&b, ';');
		sbuf_csv_field(&b, L->rejects[i].code, ';');
		sbuf_putc(&b, ';');
		sbuf_csv_field(&b, L->rejects[i].reason, ';');
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

static int count_loaded(struct loader *L, struct err *e)
{
	struct db_result *r = db_query(L->db,
				       "SELECT (SELECT count(*) FROM gemeente), (SELECT count(*) FROM wijk),"
				       " (SELECT count(*) FROM buurt), (SELECT count(*) FROM pc6),"
				       " (SELECT count(*) FILTER (WHERE assigned_by = 'crosswalk') FROM pc6)",
				       0, NULL, e);

	if (!r)
		return -1;
	for (int l = 0; l < LEVEL_COUNT; l++)
		L->st->areas[l] = atoll(db_value(r, 0, l));
	L->st->by_crosswalk = atoll(db_value(r, 0, 4));
	db_result_free(r);
	return 0;
}

static void count_removed(struct loader *L)
{
	struct level_set *s = &L->sets[LEVEL_PC6];

	for (size_t i = 0; i < strmap_size(s->map); i++)
		if (s->areas[i].had_old && !s->areas[i].polygon)
			L->st->pc6_removed++;
}

static void loader_free(struct loader *L)
{
	for (int l = 0; l < LEVEL_COUNT; l++) {
		strmap_free(L->sets[l].map);
		free(L->sets[l].areas);
	}
	for (size_t i = 0; i < L->nrejects; i++) {
		free(L->rejects[i].where);
		free(L->rejects[i].code);
		free(L->rejects[i].reason);
	}
	free(L->rejects);
	for (int l = 0; l < LEVEL_COUNT; l++)
		sbuf_free(&L->invalid[l]);
	strmap_free(L->cw_map);
	free(L->cw_buurt);
	free(L->cw_share);
	free(L->straddles);
	db_result_free(L->saved_keys);
	db_result_free(L->saved_indexes);
}

static int load_everything(struct loader *L, struct timespec *t, struct err *e)
{
	const struct config *cfg = L->cfg;

	if (read_old_pc6(L, e) < 0)
		return -1;
	if (cfg->crosswalk && read_crosswalk(L, cfg->crosswalk, e) < 0)
		return -1;
	step_done(t, "read crosswalk");
	if (db_exec(L->db,
		    "CREATE TEMP TABLE stage_pc6 (code text NOT NULL, geom geometry NOT NULL) ON COMMIT DROP;"
		    "TRUNCATE protected_domain, protected_compare, protected_agreement, protected_compare_run, protected_value,"
		    " protected_area, compare_pair, compare_area, compare_run, score, score_part, rate, rate_part, figure,"
		    " indicator_def, pc6_overlap, pc6, buurt, wijk, gemeente, load_input",
		    e) < 0 ||
	    drop_keys(L, e) < 0)
		return -1;
	step_done(t, "truncate");
	for (size_t i = 0; i < cfg->nindicators; i++)
		if (read_figures(L, (short)i, e) < 0)
			return -1;
	step_done(t, "read figures");
	for (int l = LEVEL_GEMEENTE; l <= LEVEL_BUURT; l++)
		if (read_polygons(L, config_area(cfg, (enum level)l), e) < 0 ||
		    repair(L, level_name((enum level)l), (enum level)l, e) < 0)
			return -1;
	if (restore_keys(L, true, e) < 0)
		return -1;
	step_done(t, "read areas");
	if (config_area(cfg, LEVEL_PC6)) {
		if (read_polygons(L, config_area(cfg, LEVEL_PC6), e) < 0)
			return -1;
		step_done(t, "read pc6");
		if (repair(L, "pc6", LEVEL_PC6, e) < 0 || place_by_overlap(L, e) < 0)
			return -1;
		if (L->st->outside > 0)
			log_msg(LOG_WARN, "%lld PC6 lie outside the loaded buurten and are left out, with their figures",
				L->st->outside);
		step_done(t, "place pc6");
	}
	if (match_figures_and_polygons(L, e) < 0 || check_interrupt(e) < 0)
		return -1;
	if (restore_keys(L, false, e) < 0)
		return -1;
	step_done(t, "build keys");
	if (write_overlap_from_crosswalk(L, e) < 0 || report_straddlers(L, e) < 0)
		return -1;
	count_removed(L);
	return 0;
}

int load_quick_check(struct db *db, const struct config *cfg, const struct load_opts *opts, char fingerprint[65],
		     struct err *e)
{
	struct loader L = {.db = db, .cfg = cfg, .opts = opts};
	struct fp_plan plan = {0};
	struct db_result *r = NULL;
	int same = -1;

	if (fp_plan_make(&L, &plan, e) < 0)
		goto out;
	same = looks_unchanged(&L, &plan, e);
	if (same != 1)
		goto out;
	if (!(r = db_query(db, "SELECT fingerprint FROM load_state", 0, NULL, e))) {
		same = -1;
		goto out;
	}
	same = db_nrows(r) == 1;
	if (same)
		snprintf(fingerprint, 65, "%s", db_value(r, 0, 0));
out:
	db_result_free(r);
	fp_plan_free(&plan);
	return same;
}

int load_run(struct db *db, const struct config *cfg, const struct load_opts *opts, struct load_stats *st,
	     struct err *e)
{
	struct loader L = {.db = db, .cfg = cfg, .opts = opts, .st = st};
	struct fp_plan plan = {0};
	struct rusage ru;
	struct timespec t;
	pthread_t hasher;
	bool hashing = false;
	long long since;
	int same, rc = -1;

	memset(st, 0, sizeof *st);
	for (int l = 0; l < LEVEL_COUNT; l++)
		L.sets[l].map = strmap_new();
	clock_gettime(CLOCK_MONOTONIC, &t);
	if (fp_plan_make(&L, &plan, e) < 0)
		goto out;
	if (db_begin(db, e) < 0 || db_lock(db, "load", false, e) < 0)
		goto out;
	/* with --force the load happens anyway: hash alongside it */
	same = opts->force ? 0 : looks_unchanged(&L, &plan, e);
	if (same < 0)
		goto out;
	if (same) {
		/* probably nothing to do: hash now to be sure */
		fp_hash(&plan);
		if (plan.rc < 0) {
			*e = plan.e;
			goto out;
		}
		memcpy(st->fingerprint, plan.digest, sizeof st->fingerprint);
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
	} else {
		/* changed: hash while loading */
		if (pthread_create(&hasher, NULL, fp_hash, &plan) != 0) {
			err_set(e, ERR_SYSTEM, NULL, "cannot start a thread: %s", strerror(errno));
			goto out;
		}
		hashing = true;
	}
	step_done(&t, "fingerprint");
	if (load_everything(&L, &t, e) < 0)
		goto out;
	if (hashing) {
		pthread_join(hasher, NULL);
		hashing = false;
		if (plan.rc < 0) {
			*e = plan.e;
			goto out;
		}
		memcpy(st->fingerprint, plan.digest, sizeof st->fingerprint);
	}
	if (write_definitions(&L, st->fingerprint, &plan.inputs, e) < 0 || check_interrupt(e) < 0 ||
	    count_loaded(&L, e) < 0 || db_commit(db, e) < 0)
		goto out;
	step_done(&t, "commit");
	st->rejected = (long long)L.nrejects;
	if (db_exec(db, "ANALYZE gemeente; ANALYZE wijk; ANALYZE buurt; ANALYZE pc6; ANALYZE figure", e) < 0)
		goto out;
	step_done(&t, "analyze");
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
	if (hashing)
		pthread_join(hasher, NULL);
	if (rc < 0) {
		db_rollback(db);
		/* too many bad rows: show them all, so they can be fixed in one go */
		if (L.nrejects > 0 && opts->rejects_path && e->cls == ERR_INPUT) {
			struct err ignored;

			if (write_rejects(&L, &ignored) == 0)
				err_hint(e, "the %zu rows skipped before it are in %s", L.nrejects, opts->rejects_path);
		}
	}
	loader_free(&L);
	fp_plan_free(&plan);
	return rc;
}
