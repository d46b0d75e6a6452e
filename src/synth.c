#include "pc6risk/synth.h"
#include "pc6risk/cbs.h"
#include "pc6risk/csv.h"
#include "pc6risk/fsx.h"
#include "pc6risk/gen.h"
#include "pc6risk/log.h"
#include "pc6risk/pc6gen.h"
#include "pc6risk/sbuf.h"
#include "pc6risk/signals.h"
#include "pc6risk/vector.h"
#include "pc6risk/vecw.h"
#include "pc6risk/xalloc.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#ifndef PC6RISK_VERSION
#define PC6RISK_VERSION "0.0.0-dev"
#endif

/* The real files synth reads from the data directory. */
#define KWB_FILE "den_haag_buurten_2015_attributes.csv"
#define SIZES_FILE "pc6_amsterdam.csv"
#define PC4_FILE "PC4_CBS_2019_urbanization_index.csv"

/* Rows sent to COPY in batches of about this many bytes. */
#define COPY_BATCH (1 << 20)

/* Den Haag: PC4 per CBS wijk number (WK0518NN) for buurten without real PC6
 * polygons. Den Haag numbers its postcodes by stadsdeel (2491-2498 Leidschenveen-
 * Ypenburg, 251x Centrum, 2521-2526 Laak and Schilderswijk, 253x-254x Escamp, 255x
 * Loosduinen, 256x-257x Segbroek, 258x Scheveningen, 259x Haagse Hout); within that,
 * the wijk a PC4 is given to is a plausible reading, not a checked fact. Every
 * number is one of Den Haag's 61 real PC4 (checked against PC4_FILE at run time).
 * Wijken 32-36 hold the real Zuid-West PC6 and take the PC4 of those. */
static const struct {
	int wijk;
	int pc4[4];
} denhaag_pc4[] = {
	{1, {2597}},       {2, {2587}},       {3, {2587, 2597}},       {4, {2596, 2597}},
	{5, {2517, 2585}}, {6, {2585, 2587}}, {7, {2586, 2583, 2581}}, {8, {2584}},
	{9, {2582, 2581}}, {10, {2517}},      {11, {2518}},            {12, {2565, 2564}},
	{13, {2566}},      {14, {2555}},      {15, {2554}},            {16, {2555, 2553}},
	{17, {2552, 2553}}, {18, {2551, 2552}}, {19, {2563}},          {20, {2562, 2561}},
	{21, {2571, 2572}}, {22, {2518}},     {23, {2514}},            {24, {2595}},
	{25, {2591, 2592}}, {26, {2593, 2594, 2595}}, {27, {2515, 2516}}, {28, {2511, 2512, 2513, 2514}},
	{29, {2525, 2526}}, {30, {2573, 2574}}, {31, {2531, 2532, 2533}}, {32, {2541, 2544}},
	{33, {2541, 2542, 2543}}, {34, {2544, 2545}}, {35, {2531, 2533}}, {36, {2531, 2532, 2533}},
	{37, {2526}},      {38, {2521, 2522, 2523, 2524}}, {39, {2516}}, {40, {2548, 2547}},
	{41, {2497, 2498}}, {42, {2495, 2496, 2497}}, {43, {2491}}, {44, {2491, 2492, 2493}},
};

/* A coarse outline of the Netherlands in RD New (64 vertices, the IJsselmeer
 * counted as land, the Wadden islands left out): where the national set lives. */
static const double nl_outline[] = {
	13000,  378000, 20000,  366000, 45000,  361000, 62000,  358000, 72000,  372000, 86000,  378000,
	102000, 382000, 118000, 384000, 130000, 378000, 142000, 372000, 158000, 366000, 172000, 360000,
	180000, 344000, 174000, 330000, 172000, 318000, 175000, 307000, 186000, 308000, 201000, 307000,
	204000, 320000, 200000, 331000, 196000, 341000, 206000, 354000, 210000, 366000, 215000, 378000,
	209000, 392000, 200000, 404000, 203000, 416000, 212000, 428000, 228000, 435000, 246000, 440000,
	257000, 447000, 262000, 458000, 268000, 470000, 259000, 484000, 256000, 497000, 264000, 505000,
	264000, 520000, 268000, 530000, 272000, 548000, 276000, 572000, 270000, 588000, 258000, 600000,
	246000, 606000, 226000, 603000, 204000, 602000, 185000, 598000, 168000, 590000, 158000, 580000,
	152000, 566000, 124000, 548000, 114000, 556000, 108000, 548000, 104000, 524000, 100000, 500000,
	94000,  482000, 86000,  466000, 78000,  458000, 66000,  446000, 58000,  436000, 50000,  426000,
	44000,  414000, 38000,  404000, 26000,  396000, 18000,  388000,
};

/* Where people live in the national set: the larger Dutch towns (RD New
 * position of the centre, inhabitants in thousands), around which PC6 cluster. */
static const struct {
	double x, y, pop;
} nl_towns[] = {
	{121500, 487000, 870}, {92500, 437500, 650},  {81000, 455000, 545},  {136500, 456000, 360},
	{161500, 383500, 235}, {233500, 582000, 232}, {133000, 397500, 220}, {144000, 486000, 210},
	{112500, 400500, 185}, {187500, 428500, 178}, {194500, 469500, 163}, {190500, 444000, 162},
	{104000, 488500, 162}, {258000, 471500, 159}, {155000, 463000, 157}, {116000, 495000, 156},
	{149500, 411500, 155}, {203000, 502500, 130}, {93500, 464000, 125},  {176500, 318000, 121},
	{106000, 424500, 119}, {92500, 452000, 125},  {174000, 448500, 116}, {182000, 579000, 124},
	{256000, 532500, 107}, {209000, 377000, 101}, {208000, 473500, 100}, {84500, 447000, 103},
	{172000, 384500, 92},  {196000, 322000, 87},  {111500, 516000, 109}, {140000, 471000, 90},
	{162000, 503000, 78},  {31000, 391000, 90},   {196000, 355000, 58},  {233000, 556000, 68},
	{112500, 552500, 56},  {133000, 518000, 73},  {163000, 420000, 92},  {108000, 447500, 73},
	{81000, 389000, 67},   {100000, 393000, 77},  {189000, 336500, 92},  {47000, 370000, 46},
	{203000, 320000, 45},
};

/* National targets per PC6, from the Dutch counts the issue names
 * (about 340 gemeenten, 3,300 wijken, 13,000 buurten for 450,000 PC6). */
#define NL_PC6_PER_BUURT 34.6
#define NL_BUURTEN_PER_WIJK 3.94
#define NL_WIJKEN_PER_GEMEENTE 9.7

struct gm {
	char code[16];
	char name[64];
	double x, y; /* nl: the seed */
};

struct wk {
	char code[12];
	char name[96];
	size_t gm;
	double x, y;
};

struct bu {
	char code[12];
	char name[96];
	size_t wk;
	double x, y;
	struct pc6gen_buurt model;
	struct pc6gen_extras extras;
	size_t first, n; /* its PC6 while they are grouped by buurt */
	size_t nreal;    /* of which real polygons */
	double area, fill_area;
	double bbox[4];  /* of the fill region */
	bool whole;      /* the fill region is the whole buurt */
};

struct pc {
	char code[8];
	size_t bu;
	size_t point; /* nl: the point it grew from */
	double x, y;
	bool real;
	int pc4;
	uint64_t order; /* Hilbert position */
	struct pc6gen_pc6 f;
};

struct world {
	const struct synth_opts *o;
	struct db *db;
	const char *area; /* "denhaag", "nl" */
	struct gm *gm;
	size_t ngm;
	struct wk *wk;
	size_t nwk;
	struct bu *bu;
	size_t nbu;
	struct pc *pc;
	size_t npc, cappc;
	struct pc6gen_sizes sizes;
	int *pc4;     /* real PC4 codes, ascending */
	size_t npc4;
	double x0, y0, side; /* the square the Hilbert order runs over */
	char *kwb_path;      /* Den Haag: the real KWB file, absolute */
	struct timespec t0;
};

/* ------------------------------------------------------------------ helpers */

static int interrupted(struct err *e)
{
	int sig = signals_pending();

	if (sig)
		return err_set(e, ERR_SYSTEM, NULL, "interrupted by signal %d; the output files were not replaced", sig);
	return 0;
}

static double elapsed(const struct world *w)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - w->t0.tv_sec) + (double)(now.tv_nsec - w->t0.tv_nsec) / 1e9;
}

static struct gen_rng stream(const struct world *w, const char *fmt, const char *arg)
{
	struct gen_rng r;
	char name[128];

	snprintf(name, sizeof name, fmt, arg);
	gen_seed(&r, w->o->seed, gen_stream(name));
	return r;
}

static char *data_file(const struct world *w, const char *name)
{
	return xasprintf("%s/%s", w->o->data_dir, name);
}

static int copy_rows(struct db *db, const char *sql, struct sbuf *rows, struct err *e)
{
	if (db_copy_begin(db, sql, e) < 0)
		return -1;
	for (size_t off = 0; off < rows->len; off += COPY_BATCH) {
		size_t n = rows->len - off < COPY_BATCH ? rows->len - off : COPY_BATCH;

		if (db_copy_put(db, rows->s + off, n, e) < 0) {
			struct err ignored;

			db_copy_end(db, &ignored);
			return -1;
		}
	}
	return db_copy_end(db, e);
}

/* Run a query through a cursor, calling fn for every batch of rows. */
static int each_row(struct db *db, const char *sql, int (*fn)(void *, const struct db_result *, struct err *),
		    void *arg, struct err *e)
{
	char *declare = xasprintf("DECLARE synth_rows NO SCROLL CURSOR FOR %s", sql);
	int rc = db_exec(db, declare, e);

	free(declare);
	if (rc < 0)
		return -1;
	for (;;) {
		struct db_result *r = db_query(db, "FETCH 5000 FROM synth_rows", 0, NULL, e);
		int n;

		if (!r)
			return -1;
		n = db_nrows(r);
		rc = n > 0 ? fn(arg, r, e) : 0;
		db_result_free(r);
		if (rc < 0 || n == 0)
			break;
		if ((rc = interrupted(e)) < 0)
			break;
	}
	if (rc == 0)
		rc = db_exec(db, "CLOSE synth_rows", e);
	return rc;
}

static long query_long(struct db *db, const char *sql, struct err *e, bool *ok)
{
	struct db_result *r = db_query(db, sql, 0, NULL, e);
	long v = 0;

	*ok = r != NULL;
	if (r) {
		v = db_value(r, 0, 0) ? atol(db_value(r, 0, 0)) : 0;
		db_result_free(r);
	}
	return v;
}

static struct pc *add_pc(struct world *w)
{
	if (w->npc == w->cappc) {
		w->cappc = w->cappc ? 2 * w->cappc : 4096;
		w->pc = xrealloc(w->pc, w->cappc * sizeof *w->pc);
	}
	memset(&w->pc[w->npc], 0, sizeof *w->pc);
	return &w->pc[w->npc++];
}

static uint64_t hilbert(const struct world *w, double x, double y)
{
	return gen_hilbert(x, y, w->x0, w->y0, w->side);
}

/* ------------------------------------------------------------ output files */

/* A file written under a temporary name and renamed into place when complete. */
struct out {
	char *path, *tmp;
	FILE *f;
	long long bytes;
};

static int out_open(struct world *w, struct out *o, const char *name, struct err *e)
{
	o->path = xasprintf("%s/%s", w->o->out_dir, name);
	o->tmp = xasprintf("%s/.%s.tmp", w->o->out_dir, name);
	o->bytes = 0;
	unlink(o->tmp);
	o->f = fopen(o->tmp, "wbx");
	if (!o->f)
		return err_set(e, ERR_SYSTEM, o->tmp, "cannot create file: %s", strerror(errno));
	return 0;
}

static int out_put(struct out *o, struct sbuf *b, struct err *e)
{
	if (b->len && fwrite(b->s, 1, b->len, o->f) != b->len)
		return err_set(e, ERR_SYSTEM, o->tmp, "cannot write file: %s", strerror(errno));
	o->bytes += (long long)b->len;
	sbuf_reset(b);
	return 0;
}

static void out_drop(struct out *o)
{
	if (o->f)
		fclose(o->f);
	if (o->tmp)
		unlink(o->tmp);
	free(o->path);
	free(o->tmp);
	memset(o, 0, sizeof *o);
}

static int out_close(struct out *o, struct err *e)
{
	int rc = 0;

	if (fflush(o->f) != 0 || fsync(fileno(o->f)) != 0)
		rc = err_set(e, ERR_SYSTEM, o->tmp, "cannot write file: %s", strerror(errno));
	if (fclose(o->f) != 0 && rc == 0)
		rc = err_set(e, ERR_SYSTEM, o->tmp, "cannot close file: %s", strerror(errno));
	o->f = NULL;
	if (rc == 0 && rename(o->tmp, o->path) != 0)
		rc = err_set(e, ERR_SYSTEM, o->path, "cannot rename the finished file into place: %s", strerror(errno));
	if (rc == 0)
		log_msg(LOG_INFO, "wrote %s bytes=%lld", o->path, o->bytes);
	out_drop(o);
	return rc;
}

/* ------------------------------------------------------------- real inputs */

/* The value of a CSV cell as a whole number; -1 for a CBS missing code. */
static int cell_long(struct csv *c, size_t col, long *out, struct err *e)
{
	const char *missing;
	double v;

	if (cbs_parse_value(csv_field(c, col), csv_delimiter(c) == ';', &v, &missing) < 0) {
		char where[600];

		snprintf(where, sizeof where, "%s:%ld:%ld", csv_path(c), csv_field_line(c, col), csv_field_col(c, col));
		return err_set(e, ERR_INPUT, where, "expected a number or a CBS missing-value code, got \"%.40s\"",
			       csv_field(c, col));
	}
	*out = missing ? -1 : lround(v);
	return 0;
}

static int cell_double(struct csv *c, size_t col, double *out, struct err *e)
{
	const char *missing;
	double v;

	if (cbs_parse_value(csv_field(c, col), csv_delimiter(c) == ';', &v, &missing) < 0) {
		char where[600];

		snprintf(where, sizeof where, "%s:%ld:%ld", csv_path(c), csv_field_line(c, col), csv_field_col(c, col));
		return err_set(e, ERR_INPUT, where, "expected a number or a CBS missing-value code, got \"%.40s\"",
			       csv_field(c, col));
	}
	*out = missing ? -1 : v;
	return 0;
}

/* Positions of the named columns in the header row just read. */
static int header_columns(struct csv *c, const char *const *names, size_t *cols, struct err *e)
{
	for (size_t k = 0; names[k]; k++) {
		size_t i;

		for (i = 0; i < csv_nfields(c); i++)
			if (strcmp(csv_field(c, i), names[k]) == 0)
				break;
		if (i == csv_nfields(c))
			return err_set(e, ERR_INPUT, csv_path(c), "the header has no column \"%s\"", names[k]);
		cols[k] = i;
	}
	return 0;
}

static int read_sizes(struct world *w, struct err *e)
{
	static const char *const names[] = {"Aantal Huishoudens", "Aantal Inwoners", NULL};
	char *path = data_file(w, SIZES_FILE);
	struct csv *c = csv_open(path, 0, ENCODING_AUTO, e);
	size_t cols[2];
	int rc;

	free(path);
	if (!c)
		return -1;
	if ((rc = csv_next(c, e)) <= 0) {
		if (rc == 0)
			err_set(e, ERR_INPUT, csv_path(c), "the file is empty");
		goto fail;
	}
	if (header_columns(c, names, cols, e) < 0)
		goto fail;
	while ((rc = csv_next(c, e)) == 1) {
		long hh, inh;

		if (cell_long(c, cols[0], &hh, e) < 0 || cell_long(c, cols[1], &inh, e) < 0)
			goto fail;
		pc6gen_sizes_add(&w->sizes, hh, inh);
	}
	if (rc < 0)
		goto fail;
	if (w->sizes.n == 0) {
		err_set(e, ERR_INPUT, csv_path(c), "holds no PC6 sizes");
		goto fail;
	}
	csv_close(c);
	return 0;
fail:
	csv_close(c);
	return -1;
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static int read_pc4(struct world *w, struct err *e)
{
	static const char *const names[] = {"PC4", NULL};
	char *path = data_file(w, PC4_FILE);
	struct csv *c = csv_open(path, 0, ENCODING_AUTO, e);
	size_t col, cap = 0;
	int rc;

	free(path);
	if (!c)
		return -1;
	if ((rc = csv_next(c, e)) <= 0 || header_columns(c, names, &col, e) < 0) {
		if (rc == 0)
			err_set(e, ERR_INPUT, csv_path(c), "the file is empty");
		goto fail;
	}
	while ((rc = csv_next(c, e)) == 1) {
		long v;

		if (cell_long(c, col, &v, e) < 0)
			goto fail;
		if (v < 1000 || v > 9999) {
			char where[600];

			snprintf(where, sizeof where, "%s:%ld", csv_path(c), csv_line(c));
			err_set(e, ERR_INPUT, where, "PC4 %ld is not a four-digit postcode", v);
			goto fail;
		}
		if (w->npc4 == cap) {
			cap = cap ? 2 * cap : 4096;
			w->pc4 = xrealloc(w->pc4, cap * sizeof *w->pc4);
		}
		w->pc4[w->npc4++] = (int)v;
	}
	if (rc < 0)
		goto fail;
	qsort(w->pc4, w->npc4, sizeof *w->pc4, cmp_int);
	csv_close(c);
	return 0;
fail:
	csv_close(c);
	return -1;
}

static bool real_pc4(const struct world *w, int pc4)
{
	return bsearch(&pc4, w->pc4, w->npc4, sizeof *w->pc4, cmp_int) != NULL;
}

static int cmp_bu_code(const void *a, const void *b)
{
	return strcmp(((const struct bu *)a)->code, ((const struct bu *)b)->code);
}

static struct bu *find_bu(struct world *w, const char *code)
{
	struct bu key;

	snprintf(key.code, sizeof key.code, "%s", code);
	return bsearch(&key, w->bu, w->nbu, sizeof *w->bu, cmp_bu_code);
}

/* The real KWB 2015 figures of Den Haag's buurten into their models. */
static int read_kwb(struct world *w, struct err *e)
{
	static const char *const names[] = {"BU_CODE",    "AANT_INW",   "AANTAL_HH",  "WWB_UITTOT", "AO_UIT_TOT",
					    "WW_UIT_TOT", "P_00_14_JR", "P_15_24_JR", "P_25_44_JR", "P_45_64_JR",
					    "P_65_EO_JR", "P_EENP_HH",  "P_HH_Z_K",   "P_HH_M_K",   NULL};
	char *path = data_file(w, KWB_FILE);
	struct csv *c = csv_open(path, 0, ENCODING_AUTO, e);
	size_t cols[14];
	long wwb = 0, hh = 0;
	int rc;

	if (c) {
		char *abs = realpath(path, NULL);

		w->kwb_path = abs ? xstrdup(abs) : xstrdup(path);
		free(abs);
	}
	free(path);
	if (!c)
		return -1;
	if ((rc = csv_next(c, e)) <= 0 || header_columns(c, names, cols, e) < 0) {
		if (rc == 0)
			err_set(e, ERR_INPUT, csv_path(c), "the file is empty");
		goto fail;
	}
	while ((rc = csv_next(c, e)) == 1) {
		struct bu *b = find_bu(w, csv_field(c, cols[0]));
		struct pc6gen_buurt *m;
		long v[5];

		if (!b) {
			char where[600];

			snprintf(where, sizeof where, "%s:%ld", csv_path(c), csv_line(c));
			err_set(e, ERR_INPUT, where, "buurt %s is not among the buurt polygons", csv_field(c, cols[0]));
			goto fail;
		}
		m = &b->model;
		for (int k = 0; k < 5; k++)
			if (cell_long(c, cols[1 + k], &v[k], e) < 0)
				goto fail;
		m->inhabitants = v[0] < 0 ? 0 : v[0];
		m->households = v[1] < 0 ? 0 : v[1];
		m->benefits = v[2];
		m->other_benefits = v[3] >= 0 && v[4] >= 0 ? v[3] + v[4] : -1;
		for (int k = 0; k < PC6GEN_AGES; k++)
			if (cell_double(c, cols[6 + k], &m->age[k], e) < 0)
				goto fail;
		for (int k = 0; k < 3; k++)
			if (cell_double(c, cols[11 + k], &m->hhtype[k], e) < 0)
				goto fail;
		for (int k = 0; k < PC6GEN_AGES; k++)
			m->age[k] = m->age[k] < 0 ? 0 : m->age[k];
		for (int k = 0; k < 3; k++)
			m->hhtype[k] = m->hhtype[k] < 0 ? 0 : m->hhtype[k];
		if (m->benefits >= 0 && m->households > 0) {
			m->deprivation = gen_logit(((double)m->benefits + 0.5) / ((double)m->households + 1));
			wwb += m->benefits;
			hh += m->households;
		} else {
			m->deprivation = NAN;
		}
	}
	if (rc < 0)
		goto fail;
	/* buurten without a bijstand figure: the city's rate */
	for (size_t i = 0; i < w->nbu; i++)
		if (isnan(w->bu[i].model.deprivation))
			w->bu[i].model.deprivation = gen_logit(hh > 0 ? (double)wwb / (double)hh : 0.045);
	csv_close(c);
	return 0;
fail:
	csv_close(c);
	return -1;
}

/* ------------------------------------------------------------- geometry */

/* Read polygons with GDAL into the scratch table src. */
static int stage_polygons(struct world *w, const char *level, const char *file, const char *code_field,
			  const char *name_field, const char *parent_field, struct err *e)
{
	char *path = data_file(w, file);
	struct vec *v = vec_open(path, NULL, NULL, code_field, name_field, parent_field, e);
	struct vec_feature f;
	struct sbuf rows = {0};
	int rc;

	free(path);
	if (!v)
		return -1;
	while ((rc = vec_next(v, &f, e)) == 1) {
		sbuf_printf(&rows, "%s\t", level);
		db_copy_field(&rows, f.code);
		sbuf_putc(&rows, '\t');
		db_copy_field(&rows, f.name);
		sbuf_putc(&rows, '\t');
		db_copy_field(&rows, f.parent);
		sbuf_printf(&rows, "\t%s\n", f.ewkb_hex);
	}
	vec_close(v);
	if (rc == 0)
		rc = copy_rows(w->db, "COPY src (level, code, name, parent, geom) FROM STDIN", &rows, e);
	sbuf_free(&rows);
	return rc;
}

/* A polygon as GEOS wants it: SRID set, repaired when invalid, multi. */
#define FIX(g) "ST_Multi(ST_CollectionExtract(CASE WHEN ST_IsValid(ST_SetSRID(" g ", 28992)) THEN ST_SetSRID(" g \
	", 28992) ELSE ST_MakeValid(ST_SetSRID(" g ", 28992)) END, 3))"

static const char denhaag_sql[] =
	"CREATE TABLE gemeente AS SELECT code, name, " FIX("geom") " AS geom FROM src WHERE level = 'gemeente';"
	"CREATE TABLE wijk AS SELECT code, name, parent AS gemeente, " FIX("geom") " AS geom FROM src"
	" WHERE level = 'wijk';"
	"CREATE TABLE buurt AS SELECT code, name, parent AS wijk, " FIX("geom") " AS geom FROM src"
	" WHERE level = 'buurt';"
	"CREATE INDEX ON buurt USING gist (geom);"
	/* a real PC6 belongs to the buurt it overlaps most, as load decides */
	"CREATE TABLE realpc6 AS SELECT DISTINCT ON (p.code) p.code, b.code AS buurt, " FIX("p.geom") " AS geom"
	" FROM src p JOIN buurt b ON ST_Intersects(ST_SetSRID(p.geom, 28992), b.geom) WHERE p.level = 'pc6'"
	" ORDER BY p.code, ST_Area(ST_Intersection(ST_SetSRID(p.geom, 28992), b.geom)) DESC, b.code;"
	/* what generated cells fill: the whole buurt where no real PC6 overlaps
	 * it, else what the real PC6 (of any buurt) leave free, without the
	 * slivers along them (thinner than 40 m where the simplified 2015 outline
	 * and the real polygons disagree), in parts of at least 1 ha */
	"CREATE INDEX ON realpc6 USING gist (geom);"
	"CREATE TABLE fill AS SELECT b.code AS buurt, u.geom IS NULL AS whole,"
	" CASE WHEN u.geom IS NULL THEN b.geom ELSE ("
	"  SELECT ST_Multi(ST_Collect(d.geom ORDER BY d.path)) FROM ST_Dump(ST_CollectionExtract(ST_Difference(x.rest,"
	"   ST_Intersection(ST_Difference(x.rest, ST_Buffer(ST_Buffer(x.rest, -20), 20)), ST_Buffer(u.geom, 40))), 3)) d"
	"  WHERE ST_Area(d.geom) >= 10000) END AS geom"
	" FROM buurt b"
	" CROSS JOIN LATERAL (SELECT ST_Union(r.geom) AS geom FROM realpc6 r"
	"  WHERE ST_Intersects(r.geom, b.geom) AND ST_Area(ST_Intersection(r.geom, b.geom)) > 0) u"
	" CROSS JOIN LATERAL (SELECT ST_Difference(b.geom, u.geom) AS rest) x";

/* The seeds and regions tables tiles are made from, and the cells they give. */
static const char tile_tables_sql[] =
	"CREATE TABLE seed (id bigint PRIMARY KEY, grp int NOT NULL, geom geometry(Point, 28992) NOT NULL);"
	"CREATE TABLE region (grp int PRIMARY KEY, geom geometry NOT NULL);"
	"CREATE TABLE cell (id bigint PRIMARY KEY, grp int NOT NULL, geom geometry NOT NULL);"
	"CREATE TABLE vor (grp int NOT NULL, geom geometry NOT NULL);"
	"CREATE INDEX ON vor (grp)";

/*
 * Tile every region with the Voronoi cells of its seeds, clipped to it: the
 * cells of a region share their edges and cover it without gap or overlap.
 * A region with one seed is that seed's cell whole. Reads seed and region,
 * appends to cell; groups are done in slices so a terminal shows progress.
 */
static int tile(struct world *w, const char *what, const char *per, struct err *e)
{
	char progress[96];
	struct db_result *r;
	long lo, hi, step;
	size_t done = 0;
	bool ok;

	if (db_exec(w->db, "CREATE INDEX IF NOT EXISTS seed_grp ON seed (grp); ANALYZE seed; ANALYZE region", e) < 0)
		return -1;
	r = db_query(w->db, "SELECT min(grp), max(grp) FROM seed", 0, NULL, e);
	if (!r)
		return -1;
	lo = db_value(r, 0, 0) ? atol(db_value(r, 0, 0)) : 0;
	hi = db_value(r, 0, 1) ? atol(db_value(r, 0, 1)) : -1;
	db_result_free(r);
	step = (hi - lo) / 40 + 1;
	snprintf(progress, sizeof progress, "tiling %s, %s done", what, per);
	for (long a = lo; a <= hi; a += step) {
		char from[32], to[32];
		const char *params[2] = {from, to};

		snprintf(from, sizeof from, "%ld", a);
		snprintf(to, sizeof to, "%ld", a + step - 1);
		if (db_exec(w->db, "TRUNCATE vor", e) < 0 ||
		    db_execp(w->db,
			     "INSERT INTO vor (grp, geom)"
			     " SELECT g.grp, (ST_Dump(ST_VoronoiPolygons(g.pts, 0, r.geom))).geom"
			     " FROM (SELECT grp, ST_Collect(geom ORDER BY id) AS pts FROM seed"
			     "  WHERE grp BETWEEN $1::int AND $2::int GROUP BY grp HAVING count(*) > 1) g"
			     " JOIN region r USING (grp)",
			     2, params, e) < 0 ||
		    db_execp(w->db,
			     "INSERT INTO cell (id, grp, geom)"
			     " SELECT s.id, s.grp, ST_Multi(ST_CollectionExtract(ST_Intersection(v.geom, r.geom), 3))"
			     " FROM seed s JOIN vor v ON v.grp = s.grp AND v.geom && s.geom AND ST_Intersects(v.geom, s.geom)"
			     " JOIN region r ON r.grp = s.grp WHERE s.grp BETWEEN $1::int AND $2::int",
			     2, params, e) < 0 ||
		    db_execp(w->db,
			     "INSERT INTO cell (id, grp, geom)"
			     " SELECT s.id, s.grp, ST_Multi(r.geom) FROM seed s JOIN region r USING (grp)"
			     " WHERE s.grp BETWEEN $1::int AND $2::int"
			     " AND NOT EXISTS (SELECT 1 FROM seed t WHERE t.grp = s.grp AND t.id <> s.id)",
			     2, params, e) < 0)
			return -1;
		done += (size_t)step;
		log_progress(progress, done > (size_t)(hi - lo + 1) ? (size_t)(hi - lo + 1) : done, (size_t)(hi - lo + 1));
		if (interrupted(e) < 0)
			return -1;
	}
	log_progress_end();
	{
		long seeds = query_long(w->db, "SELECT count(*) FROM seed", e, &ok), cells;

		if (!ok)
			return -1;
		cells = query_long(w->db, "SELECT count(*) FROM cell c JOIN seed s USING (id) WHERE NOT ST_IsEmpty(c.geom)", e, &ok);
		if (!ok)
			return -1;
		if (cells != seeds)
			return err_set(e, ERR_INTERNAL, NULL, "%s: %ld seeds gave %ld non-empty cells", what, seeds, cells);
	}
	log_msg(LOG_INFO, "tiled %s seconds=%.1f", what, elapsed(w));
	return 0;
}

/* Move the cells just made into a table of their own, and empty the work tables. */
static int keep_cells(struct world *w, const char *table, struct err *e)
{
	char *sql = xasprintf("CREATE TABLE %s AS SELECT id, grp, geom FROM cell;"
			      "CREATE UNIQUE INDEX ON %s (id);"
			      "TRUNCATE seed, region, cell",
			      table, table);
	int rc = db_exec(w->db, sql, e);

	free(sql);
	return rc;
}

/* The points of a table as COPY rows "id grp EWKT". */
static void seed_row(struct sbuf *rows, size_t id, size_t grp, double x, double y)
{
	sbuf_printf(rows, "%zu\t%zu\tSRID=28992;POINT(%.17g %.17g)\n", id, grp, x, y);
}

/* ------------------------------------------------------- Den Haag: polygons */

static int load_denhaag_areas(struct world *w, struct err *e)
{
	struct db_result *r;
	int n;

	if (db_exec(w->db, "CREATE TABLE src (level text, code text, name text, parent text, geom geometry)", e) < 0 ||
	    stage_polygons(w, "gemeente", "den_haag_gemeente_2015.geojson", "GM_CODE", "GM_NAAM", NULL, e) < 0 ||
	    stage_polygons(w, "wijk", "den_haag_wijken_2015.geojson", "WK_CODE", "WK_NAAM", "GM_CODE", e) < 0 ||
	    stage_polygons(w, "buurt", "den_haag_buurten_2015.geojson", "BU_CODE", "BU_NAAM", "WK_CODE", e) < 0 ||
	    stage_polygons(w, "pc6", "DHZW_PC6_shapefile.shp", "PC6", NULL, NULL, e) < 0)
		return -1;
	if (db_exec(w->db, denhaag_sql, e) < 0)
		return -1;

	r = db_query(w->db, "SELECT code, name FROM gemeente ORDER BY code COLLATE \"C\"", 0, NULL, e);
	if (!r)
		return -1;
	w->ngm = (size_t)db_nrows(r);
	w->gm = xcalloc(w->ngm, sizeof *w->gm);
	for (size_t i = 0; i < w->ngm; i++) {
		snprintf(w->gm[i].code, sizeof w->gm[i].code, "%s", db_value(r, (int)i, 0));
		snprintf(w->gm[i].name, sizeof w->gm[i].name, "%s", db_value(r, (int)i, 1));
	}
	db_result_free(r);

	r = db_query(w->db, "SELECT w.code, w.name, g.code IS NOT NULL, w.gemeente FROM wijk w"
			    " LEFT JOIN gemeente g ON g.code = w.gemeente ORDER BY w.code COLLATE \"C\"",
		     0, NULL, e);
	if (!r)
		return -1;
	n = db_nrows(r);
	w->nwk = (size_t)n;
	w->wk = xcalloc(w->nwk, sizeof *w->wk);
	for (int i = 0; i < n; i++) {
		struct wk *k = &w->wk[i];

		snprintf(k->code, sizeof k->code, "%s", db_value(r, i, 0));
		snprintf(k->name, sizeof k->name, "%s", db_value(r, i, 1));
		if (strcmp(db_value(r, i, 2), "t") != 0) {
			err_set(e, ERR_INPUT, NULL, "wijk %s lies in gemeente %s, which has no polygon", k->code,
				db_value(r, i, 3));
			db_result_free(r);
			return -1;
		}
		for (size_t g = 0; g < w->ngm; g++)
			if (strcmp(w->gm[g].code, db_value(r, i, 3)) == 0)
				k->gm = g;
	}
	db_result_free(r);

	r = db_query(w->db,
		     "SELECT b.code, b.name, b.wijk, ST_Area(b.geom), coalesce(ST_Area(f.geom), 0), f.whole,"
		     " ST_XMin(f.geom), ST_YMin(f.geom), ST_XMax(f.geom), ST_YMax(f.geom)"
		     " FROM buurt b JOIN fill f ON f.buurt = b.code ORDER BY b.code COLLATE \"C\"",
		     0, NULL, e);
	if (!r)
		return -1;
	n = db_nrows(r);
	w->nbu = (size_t)n;
	w->bu = xcalloc(w->nbu, sizeof *w->bu);
	for (int i = 0; i < n; i++) {
		struct bu *b = &w->bu[i];
		size_t k;

		snprintf(b->code, sizeof b->code, "%s", db_value(r, i, 0));
		snprintf(b->name, sizeof b->name, "%s", db_value(r, i, 1));
		for (k = 0; k < w->nwk; k++)
			if (strcmp(w->wk[k].code, db_value(r, i, 2)) == 0)
				break;
		if (k == w->nwk) {
			err_set(e, ERR_INPUT, NULL, "buurt %s lies in wijk %s, which has no polygon", b->code, db_value(r, i, 2));
			db_result_free(r);
			return -1;
		}
		b->wk = k;
		b->area = atof(db_value(r, i, 3));
		b->fill_area = atof(db_value(r, i, 4));
		b->whole = strcmp(db_value(r, i, 5), "t") == 0;
		for (int j = 0; j < 4; j++)
			b->bbox[j] = db_value(r, i, 6 + j) ? atof(db_value(r, i, 6 + j)) : 0;
		b->model.benefits = b->model.other_benefits = -1;
	}
	db_result_free(r);

	r = db_query(w->db,
		     "SELECT ST_XMin(e), ST_YMin(e), greatest(ST_XMax(e) - ST_XMin(e), ST_YMax(e) - ST_YMin(e))"
		     " FROM (SELECT ST_Extent(geom)::geometry AS e FROM buurt) x",
		     0, NULL, e);
	if (!r)
		return -1;
	w->x0 = atof(db_value(r, 0, 0));
	w->y0 = atof(db_value(r, 0, 1));
	w->side = atof(db_value(r, 0, 2)) + 1;
	db_result_free(r);
	log_msg(LOG_INFO, "read Den Haag polygons gemeenten=%zu wijken=%zu buurten=%zu", w->ngm, w->nwk, w->nbu);
	return 0;
}

/* ------------------------------------------------------- PC6 sizes */

struct draws {
	size_t n, cap;
	long *hh, *inh;
	long sum_hh, sum_inh;
};

static void draw(struct world *w, struct gen_rng *r, struct draws *d)
{
	if (d->n == d->cap) {
		d->cap = d->cap ? 2 * d->cap : 64;
		d->hh = xrealloc(d->hh, d->cap * sizeof *d->hh);
		d->inh = xrealloc(d->inh, d->cap * sizeof *d->inh);
	}
	pc6gen_draw_size(&w->sizes, r, &d->hh[d->n], &d->inh[d->n]);
	d->sum_hh += d->hh[d->n];
	d->sum_inh += d->inh[d->n];
	d->n++;
}

static void draws_free(struct draws *d)
{
	free(d->hh);
	free(d->inh);
}

/* How many PC6 a buurt with these totals has when they are all drawn from
 * the real distribution: draw until the households and the inhabitants are
 * reached on average, and keep the last draw only when that lands closer. */
static size_t natural_count(struct world *w, struct gen_rng *r, struct draws *d, long hh, long inh)
{
	double need = (hh > 0) + (inh > 0), got = 0, before = 0;

	if (need == 0)
		return 0;
	while (got < need) {
		before = got;
		draw(w, r, d);
		got = (hh > 0 ? (double)d->sum_hh / (double)hh : 0) + (inh > 0 ? (double)d->sum_inh / (double)inh : 0);
	}
	return d->n > 1 && got - need > need - before ? d->n - 1 : d->n;
}

/* ------------------------------------------------------- Den Haag: cells */

static int add_real(void *arg, const struct db_result *r, struct err *e)
{
	struct world *w = arg;

	(void)e;
	for (int i = 0; i < db_nrows(r); i++) {
		struct pc *p = add_pc(w);
		struct bu *b = find_bu(w, db_value(r, i, 1));

		snprintf(p->code, sizeof p->code, "%s", db_value(r, i, 0));
		p->bu = (size_t)(b - w->bu);
		p->x = atof(db_value(r, i, 2));
		p->y = atof(db_value(r, i, 3));
		p->real = true;
		p->pc4 = atoi(p->code);
	}
	return 0;
}

/* Place `want` points uniformly at random inside each buurt's fill region:
 * candidates in its bounding box, kept when PostGIS finds them inside, in
 * the order drawn, until there are enough. */
static int place_points(struct world *w, const size_t *want, double **px, double **py, struct err *e)
{
	struct gen_rng *rng = xcalloc(w->nbu, sizeof *rng);
	size_t *have = xcalloc(w->nbu, sizeof *have), *ncand = xcalloc(w->nbu, sizeof *ncand);
	double **cx = xcalloc(w->nbu, sizeof *cx), **cy = xcalloc(w->nbu, sizeof *cy);
	struct sbuf rows = {0};
	int rc = -1, round = 0;
	bool more = true;

	for (size_t i = 0; i < w->nbu; i++) {
		rng[i] = stream(w, "%s/points", w->bu[i].code);
		px[i] = xcalloc(want[i] + 1, sizeof **px);
		py[i] = xcalloc(want[i] + 1, sizeof **py);
	}
	if (db_exec(w->db, "CREATE TABLE cand (grp int, seq int, geom geometry(Point, 28992));"
			   "CREATE TABLE region_fill AS SELECT row_number() OVER (ORDER BY buurt COLLATE \"C\") - 1 AS grp,"
			   " geom FROM fill;"
			   "CREATE INDEX ON region_fill (grp)",
		    e) < 0)
		goto out;
	while (more && round++ < 50) {
		struct db_result *r;

		sbuf_reset(&rows);
		more = false;
		for (size_t i = 0; i < w->nbu; i++) {
			struct bu *b = &w->bu[i];
			size_t need = want[i] - have[i], k;
			double box, dx = b->bbox[2] - b->bbox[0], dy = b->bbox[3] - b->bbox[1];

			if (need == 0)
				continue;
			box = dx * dy;
			k = (size_t)ceil((double)need * box / (b->fill_area > 0 ? b->fill_area : box) * 1.3) + 4;
			cx[i] = xrealloc(cx[i], (ncand[i] + k) * sizeof **cx);
			cy[i] = xrealloc(cy[i], (ncand[i] + k) * sizeof **cy);
			for (size_t j = 0; j < k; j++) {
				size_t s = ncand[i]++;

				cx[i][s] = b->bbox[0] + gen_uniform(&rng[i]) * dx;
				cy[i][s] = b->bbox[1] + gen_uniform(&rng[i]) * dy;
				seed_row(&rows, s, i, cx[i][s], cy[i][s]);
			}
		}
		if (rows.len == 0)
			break;
		if (db_exec(w->db, "TRUNCATE cand", e) < 0 ||
		    copy_rows(w->db, "COPY cand (seq, grp, geom) FROM STDIN", &rows, e) < 0)
			goto out;
		r = db_query(w->db,
			     "SELECT c.grp, c.seq FROM cand c JOIN region_fill f USING (grp) WHERE ST_Intersects(f.geom, c.geom)"
			     " ORDER BY c.grp, c.seq",
			     0, NULL, e);
		if (!r)
			goto out;
		for (int j = 0; j < db_nrows(r); j++) {
			size_t i = (size_t)atol(db_value(r, j, 0)), s = (size_t)atol(db_value(r, j, 1));

			if (have[i] < want[i]) {
				px[i][have[i]] = cx[i][s];
				py[i][have[i]] = cy[i][s];
				have[i]++;
			}
		}
		db_result_free(r);
		for (size_t i = 0; i < w->nbu; i++)
			more |= have[i] < want[i];
	}
	if (more) {
		err_set(e, ERR_INTERNAL, NULL, "could not place points inside every buurt's fill region");
		goto out;
	}
	rc = 0;
out:
	for (size_t i = 0; i < w->nbu; i++) {
		free(cx[i]);
		free(cy[i]);
	}
	free(cx);
	free(cy);
	free(rng);
	free(have);
	free(ncand);
	sbuf_free(&rows);
	return rc;
}

/* Which PC6 each buurt gets: its real ones, and generated cells where there
 * are none (the whole buurt) or where the real ones leave room. */
static int denhaag_cells(struct world *w, struct draws *dr, struct err *e)
{
	size_t *want = xcalloc(w->nbu, sizeof *want), nreal;
	double **px = xcalloc(w->nbu, sizeof *px), **py = xcalloc(w->nbu, sizeof *py);
	struct pc *real;
	int rc = -1;

	if (each_row(w->db,
		     "SELECT code, buurt, ST_X(ST_PointOnSurface(geom)), ST_Y(ST_PointOnSurface(geom)) FROM realpc6"
		     " ORDER BY code COLLATE \"C\"",
		     add_real, w, e) < 0)
		goto out;
	nreal = w->npc;
	for (size_t k = 0; k < nreal; k++)
		w->bu[w->pc[k].bu].nreal++;
	for (size_t i = 0; i < w->nbu; i++) {
		struct bu *b = &w->bu[i];
		struct gen_rng r = stream(w, "%s/sizes", b->code);
		size_t natural = natural_count(w, &r, &dr[i], b->model.households, b->model.inhabitants);

		if (natural == 0) /* nobody lives here: a few empty PC6 by area */
			natural = (size_t)fmin(10, fmax(1, round(b->area / 200000)));
		if (b->whole)
			want[i] = natural;
		else if (b->fill_area > 0)
			want[i] = (size_t)fmax(1, round((double)natural * b->fill_area / b->area));
		while (dr[i].n < b->nreal + want[i])
			draw(w, &r, &dr[i]);
		dr[i].n = b->nreal + want[i];
	}
	if (place_points(w, want, px, py, e) < 0)
		goto out;

	/* the PC6 grouped by buurt: real ones first (by code), then generated */
	real = w->pc;
	w->pc = NULL;
	w->npc = w->cappc = 0;
	for (size_t i = 0; i < w->nbu; i++) {
		struct bu *b = &w->bu[i];

		b->first = w->npc;
		for (size_t j = 0; j < nreal; j++)
			if (real[j].bu == i)
				*add_pc(w) = real[j];
		for (size_t j = 0; j < want[i]; j++) {
			struct pc *p = add_pc(w);

			p->bu = i;
			p->x = px[i][j];
			p->y = py[i][j];
		}
		b->n = w->npc - b->first;
		for (size_t j = 0; j < b->n; j++) {
			w->pc[b->first + j].f.w_households = (double)dr[i].hh[j];
			w->pc[b->first + j].f.w_inhabitants = (double)dr[i].inh[j];
		}
	}
	free(real);
	for (size_t k = 0; k < w->npc; k++)
		w->pc[k].order = hilbert(w, w->pc[k].x, w->pc[k].y);
	log_msg(LOG_INFO, "placed PC6 real=%zu generated=%zu", nreal, w->npc - nreal);
	rc = 0;
out:
	for (size_t i = 0; i < w->nbu; i++) {
		free(px[i]);
		free(py[i]);
	}
	free(px);
	free(py);
	free(want);
	return rc;
}

/* ------------------------------------------------------- figures */

/* The outcome layer per buurt. Its spatial fields live on the buurt centres
 * (the mean of their PC6): 1 km, so neighbouring buurten resemble each other,
 * and 10 km, for differences between regions. Streams of their own, so the
 * other figures keep their numbers. */
static void outcomes(struct world *w)
{
	double *x = xcalloc(w->nbu + 1, sizeof *x), *y = xcalloc(w->nbu + 1, sizeof *y);
	double *local = xcalloc(w->nbu + 1, sizeof *local), *regional = xcalloc(w->nbu + 1, sizeof *regional);
	struct gen_rng r = stream(w, "%s/outcome", w->area);

	for (size_t i = 0; i < w->nbu; i++) {
		const struct bu *b = &w->bu[i];

		for (size_t j = 0; j < b->n; j++) {
			x[i] += w->pc[b->first + j].x / (double)b->n;
			y[i] += w->pc[b->first + j].y / (double)b->n;
		}
	}
	gen_smooth_field(&r, w->nbu, x, y, 1000, local);
	gen_smooth_field(&r, w->nbu, x, y, 10000, regional);
	for (size_t i = 0; i < w->nbu; i++) {
		struct gen_rng rb = stream(w, "%s/outcome", w->bu[i].code);

		pc6gen_outcome(&rb, w->bu[i].model.deprivation, local[i], regional[i], &w->bu[i].extras);
	}
	free(x);
	free(y);
	free(local);
	free(regional);
}

static int figures(struct world *w, struct err *e)
{
	double *x = xcalloc(w->npc + 1, sizeof *x), *y = xcalloc(w->npc + 1, sizeof *y);
	double *z = xcalloc(w->npc + 1, sizeof *z);
	struct gen_rng r = stream(w, "%s/field", w->area);
	int rc = 0;

	for (size_t k = 0; k < w->npc; k++) {
		x[k] = w->pc[k].x;
		y[k] = w->pc[k].y;
	}
	/* 200 m: a few street blocks; PC6 200 m apart correlate about 0.6 */
	gen_smooth_field(&r, w->npc, x, y, 200, z);
	for (size_t k = 0; k < w->npc; k++)
		w->pc[k].f.z = z[k];
	for (size_t i = 0; i < w->nbu && rc == 0; i++) {
		struct bu *b = &w->bu[i];
		struct gen_rng rb = stream(w, "%s/figures", b->code), rx = stream(w, "%s/extras", b->code);
		struct pc6gen_pc6 *f = xcalloc(b->n + 1, sizeof *f);

		for (size_t j = 0; j < b->n; j++)
			f[j] = w->pc[b->first + j].f;
		if (pc6gen_buurt(&rb, &b->model, b->n, f) < 0)
			rc = err_set(e, ERR_INTERNAL, NULL, "buurt %s has people but no PC6", b->code);
		for (size_t j = 0; j < b->n; j++)
			w->pc[b->first + j].f = f[j];
		free(f);
		pc6gen_extras(&rx, b->model.deprivation, &b->extras);
	}
	if (rc == 0)
		outcomes(w);
	free(x);
	free(y);
	free(z);
	return rc;
}

/* ------------------------------------------------------- postcodes */

static int cmp_pc_code(const void *a, const void *b)
{
	return strcmp(((const struct pc *)a)->code, ((const struct pc *)b)->code);
}

/* The cells given one PC4, in the order their letters run. */
struct pc4_group {
	int pc4;
	size_t *cells;
	size_t n, cap;
	bool used[GEN_PC6_LETTERS];
};

static struct pc4_group *group_of(struct pc4_group **groups, size_t *ngroups, int pc4)
{
	struct pc4_group *g;

	for (size_t i = 0; i < *ngroups; i++)
		if ((*groups)[i].pc4 == pc4)
			return &(*groups)[i];
	*groups = xrealloc(*groups, (*ngroups + 1) * sizeof **groups);
	g = &(*groups)[(*ngroups)++];
	memset(g, 0, sizeof *g);
	g->pc4 = pc4;
	return g;
}

static void group_add(struct pc4_group *g, size_t cell)
{
	if (g->n == g->cap) {
		g->cap = g->cap ? 2 * g->cap : 64;
		g->cells = xrealloc(g->cells, g->cap * sizeof *g->cells);
	}
	g->cells[g->n++] = cell;
}

static size_t group_free_letters(const struct pc4_group *g)
{
	size_t n = 0;

	for (int i = 0; i < GEN_PC6_LETTERS; i++)
		n += !g->used[i];
	return n;
}

/* The world cmp_cell_order sorts in: qsort passes no context (qsort_r is not
 * POSIX), so it is set just before each qsort. */
static const struct world *sort_world;

static int cmp_cell_order(const void *a, const void *b)
{
	const struct pc *x = &sort_world->pc[*(const size_t *)a], *y = &sort_world->pc[*(const size_t *)b];

	if (x->bu != y->bu)
		return x->bu < y->bu ? -1 : 1;
	return (x->order > y->order) - (x->order < y->order);
}

/* Give each group's cells letters: a random increasing choice among the
 * letters still free, handed out in the order of the cells. */
static int letter_groups(struct world *w, struct pc4_group *groups, size_t ngroups, struct err *e)
{
	for (size_t i = 0; i < ngroups; i++) {
		struct pc4_group *g = &groups[i];
		size_t nfree = group_free_letters(g), *pick, *free_idx, k = 0;
		char name[16];
		struct gen_rng r;

		if (g->n == 0)
			continue;
		if (g->n > nfree)
			return err_set(e, ERR_INTERNAL, NULL, "PC4 %d was given %zu PC6 but has %zu letter pairs free", g->pc4,
				       g->n, nfree);
		snprintf(name, sizeof name, "%d", g->pc4);
		r = stream(w, "PC4 %s/letters", name);
		free_idx = xcalloc(nfree, sizeof *free_idx);
		for (int j = 0; j < GEN_PC6_LETTERS; j++)
			if (!g->used[j])
				free_idx[k++] = (size_t)j;
		pick = xcalloc(g->n, sizeof *pick);
		gen_choose(&r, g->n, nfree, pick);
		sort_world = w;
		qsort(g->cells, g->n, sizeof *g->cells, cmp_cell_order);
		for (size_t j = 0; j < g->n; j++) {
			struct pc *p = &w->pc[g->cells[j]];
			char letters[3];

			gen_pc6_letters((int)free_idx[pick[j]], letters);
			snprintf(p->code, sizeof p->code, "%04d%s", g->pc4, letters);
			p->pc4 = g->pc4;
		}
		free(pick);
		free(free_idx);
	}
	return 0;
}

static void groups_free(struct pc4_group *groups, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(groups[i].cells);
	free(groups);
}

/* Den Haag: generated cells get a PC4 of their buurt's real PC6, else of
 * their wijk (denhaag_pc4), spilling to the nearest Den Haag PC4 with room. */
static int denhaag_codes(struct world *w, struct err *e)
{
	struct pc4_group *groups = NULL;
	size_t ngroups = 0;
	int dh[128];
	size_t ndh = 0;
	int rc = -1;

	for (size_t i = 0; i < w->npc4; i++)
		if (w->pc4[i] >= 2491 && w->pc4[i] <= 2599 && ndh < 128)
			dh[ndh++] = w->pc4[i];
	for (size_t t = 0; t < sizeof denhaag_pc4 / sizeof denhaag_pc4[0]; t++) {
		for (int k = 0; k < 4 && denhaag_pc4[t].pc4[k]; k++) {
			if (!real_pc4(w, denhaag_pc4[t].pc4[k])) {
				err_set(e, ERR_INTERNAL, NULL, "PC4 %d of wijk %d is not a real PC4 of %s", denhaag_pc4[t].pc4[k],
					denhaag_pc4[t].wijk, PC4_FILE);
				goto out;
			}
		}
	}
	for (size_t k = 0; k < ndh; k++)
		group_of(&groups, &ngroups, dh[k]);
	for (size_t k = 0; k < w->npc; k++) {
		if (w->pc[k].real) {
			struct pc4_group *g = group_of(&groups, &ngroups, w->pc[k].pc4);
			int li = gen_pc6_letter_index(w->pc[k].code + 4);

			if (li >= 0)
				g->used[li] = true;
		}
	}
	for (size_t i = 0; i < w->nbu; i++) {
		struct bu *b = &w->bu[i];
		int cand[160], ncand = 0;
		size_t left = b->n - b->nreal, *cells, next = 0;

		if (left == 0)
			continue;
		if (b->nreal > 0) {
			/* the real PC4 of the buurt, most used first */
			for (size_t j = 0; j < b->nreal; j++) {
				int pc4 = w->pc[b->first + j].pc4, seen = 0;

				for (int c = 0; c < ncand; c++)
					seen |= cand[c] == pc4;
				if (!seen)
					cand[ncand++] = pc4;
			}
			for (int a = 0; a < ncand; a++) {
				for (int c = a + 1; c < ncand; c++) {
					size_t na = 0, nc = 0;

					for (size_t j = 0; j < b->nreal; j++) {
						na += w->pc[b->first + j].pc4 == cand[a];
						nc += w->pc[b->first + j].pc4 == cand[c];
					}
					if (nc > na || (nc == na && cand[c] < cand[a])) {
						int t = cand[a];

						cand[a] = cand[c];
						cand[c] = t;
					}
				}
			}
		} else {
			int number = atoi(w->wk[b->wk].code + 6);
			size_t pos = 0, nin = 0;

			for (size_t j = 0; j < w->nbu; j++) {
				if (w->bu[j].wk == b->wk) {
					pos += j < i;
					nin++;
				}
			}
			for (size_t t = 0; t < sizeof denhaag_pc4 / sizeof denhaag_pc4[0]; t++) {
				if (denhaag_pc4[t].wijk != number)
					continue;
				int len = 0;

				while (len < 4 && denhaag_pc4[t].pc4[len])
					len++;
				for (int c = 0; c < len; c++)
					cand[ncand++] = denhaag_pc4[t].pc4[((size_t)c + pos * (size_t)len / nin) % (size_t)len];
			}
			if (ncand == 0) {
				err_set(e, ERR_INPUT, NULL, "wijk %s has no Den Haag PC4 range; is this the 2015 map of Den Haag?",
					w->wk[b->wk].code);
				goto out;
			}
		}
		/* then every other Den Haag PC4, nearest number first */
		for (size_t d = 1; d < 110 && ncand < 160; d++) {
			for (size_t k = 0; k < ndh; k++) {
				int seen = 0;

				if ((size_t)abs(dh[k] - cand[0]) != d)
					continue;
				for (int c = 0; c < ncand; c++)
					seen |= cand[c] == dh[k];
				if (!seen && ncand < 160)
					cand[ncand++] = dh[k];
			}
		}
		cells = xcalloc(left, sizeof *cells);
		for (size_t j = 0; j < left; j++)
			cells[j] = b->first + b->nreal + j;
		sort_world = w;
		qsort(cells, left, sizeof *cells, cmp_cell_order);
		for (int c = 0; c < ncand && next < left; c++) {
			struct pc4_group *g = group_of(&groups, &ngroups, cand[c]);
			size_t room = group_free_letters(g) - g->n;

			while (room-- > 0 && next < left)
				group_add(g, cells[next++]);
		}
		free(cells);
		if (next < left) {
			err_set(e, ERR_INTERNAL, NULL, "buurt %s: no Den Haag PC4 has room for %zu more PC6", b->code, left - next);
			goto out;
		}
	}
	rc = letter_groups(w, groups, ngroups, e);
out:
	groups_free(groups, ngroups);
	return rc;
}

/* ------------------------------------------------------- Den Haag: geometry */

/* Send the cells to PostGIS in code order (id = position) and make their polygons. */
static int denhaag_geometry(struct world *w, struct err *e)
{
	struct sbuf seeds = {0}, reals = {0}, ids = {0};
	int rc = -1;

	/* fill regions are numbered by buurt code, as in place_points */
	for (size_t k = 0; k < w->npc; k++) {
		const struct pc *p = &w->pc[k];

		if (p->real) {
			sbuf_printf(&reals, "%zu\t%zu\t", k, p->bu);
			db_copy_field(&reals, p->code);
			sbuf_putc(&reals, '\n');
		} else {
			seed_row(&seeds, k, p->bu, p->x, p->y);
		}
		sbuf_printf(&ids, "%zu\t%s\t%s\t%s\t%s\n", k, p->code, w->bu[p->bu].code, w->wk[w->bu[p->bu].wk].code,
			    w->gm[w->wk[w->bu[p->bu].wk].gm].code);
	}
	if (db_exec(w->db, tile_tables_sql, e) < 0 ||
	    db_exec(w->db, "INSERT INTO region (grp, geom) SELECT grp, geom FROM region_fill WHERE geom IS NOT NULL", e) < 0 ||
	    copy_rows(w->db, "COPY seed (id, grp, geom) FROM STDIN", &seeds, e) < 0 ||
	    tile(w, "PC6 cells", "buurten", e) < 0)
		goto out;
	if (db_exec(w->db, "CREATE TABLE realid (id bigint, grp int, code text)", e) < 0 ||
	    copy_rows(w->db, "COPY realid (id, grp, code) FROM STDIN", &reals, e) < 0 ||
	    db_exec(w->db,
		    "INSERT INTO cell (id, grp, geom) SELECT i.id, i.grp, r.geom FROM realid i JOIN realpc6 r USING (code);"
		    "CREATE TABLE pc6 AS SELECT id, geom FROM cell;"
		    "CREATE TABLE pc6code (id bigint PRIMARY KEY, code text, buurt text, wijk text, gemeente text)",
		    e) < 0 ||
	    copy_rows(w->db, "COPY pc6code FROM STDIN", &ids, e) < 0)
		goto out;
	rc = 0;
out:
	sbuf_free(&seeds);
	sbuf_free(&reals);
	sbuf_free(&ids);
	return rc;
}

/* ------------------------------------------------------- the national set */

struct nl {
	size_t npts, ngm, nwk, nbu;
	double *x, *y;
	size_t *gm, *wk, *bu; /* per point */
	size_t *gm_seed, *wk_seed, *bu_seed; /* the point each area grows from */
	size_t *wk_gm, *bu_wk;
};

static void nl_free(struct nl *n)
{
	free(n->x);
	free(n->y);
	free(n->gm);
	free(n->wk);
	free(n->bu);
	free(n->gm_seed);
	free(n->wk_seed);
	free(n->bu_seed);
	free(n->wk_gm);
	free(n->bu_wk);
}

/* PC6 positions: around the Dutch towns, around villages scattered over the
 * country, and a thin spread everywhere, all inside the outline. */
static void nl_points(struct world *w, struct nl *n)
{
	enum { NVILLAGES = 600 };
	size_t ntowns = sizeof nl_towns / sizeof nl_towns[0], nv = sizeof nl_outline / sizeof nl_outline[0] / 2;
	double vx[NVILLAGES], vy[NVILLAGES], vsize[NVILLAGES], cum[sizeof nl_towns / sizeof nl_towns[0] + NVILLAGES + 1];
	double town_total = 0, village_total = 0, xmin = 1e9, xmax = 0, ymin = 1e9, ymax = 0;
	struct gen_rng r = stream(w, "%s/places", "nl");
	size_t ncomp = ntowns + NVILLAGES;

	for (size_t i = 0; i < nv; i++) {
		xmin = fmin(xmin, nl_outline[2 * i]);
		xmax = fmax(xmax, nl_outline[2 * i]);
		ymin = fmin(ymin, nl_outline[2 * i + 1]);
		ymax = fmax(ymax, nl_outline[2 * i + 1]);
	}
	for (size_t i = 0; i < ntowns; i++)
		town_total += nl_towns[i].pop;
	for (size_t i = 0; i < NVILLAGES; i++) {
		do {
			vx[i] = xmin + gen_uniform(&r) * (xmax - xmin);
			vy[i] = ymin + gen_uniform(&r) * (ymax - ymin);
		} while (!gen_point_in_ring(vx[i], vy[i], nl_outline, nv));
		vsize[i] = 2 * pow(1 - gen_uniform(&r), -1 / 1.3); /* Pareto: most villages small, a few towns */
		village_total += vsize[i];
	}
	/* 55 % of PC6 around the towns, 35 % around villages, 10 % spread out */
	cum[0] = 0;
	for (size_t i = 0; i < ncomp; i++)
		cum[i + 1] = cum[i] + (i < ntowns ? 0.55 * nl_towns[i].pop / town_total
						  : 0.35 * vsize[i - ntowns] / village_total);
	n->x = xcalloc(n->npts, sizeof *n->x);
	n->y = xcalloc(n->npts, sizeof *n->y);
	r = stream(w, "%s/points", "nl");
	for (size_t k = 0; k < n->npts; k++) {
		double x, y;

		do {
			double u = gen_uniform(&r);
			size_t lo = 0, hi = ncomp;

			if (u >= cum[ncomp]) {
				x = xmin + gen_uniform(&r) * (xmax - xmin);
				y = ymin + gen_uniform(&r) * (ymax - ymin);
				continue;
			}
			while (lo + 1 < hi) {
				size_t mid = (lo + hi) / 2;

				if (cum[mid] <= u)
					lo = mid;
				else
					hi = mid;
			}
			if (lo < ntowns) {
				double sigma = 900 * sqrt(nl_towns[lo].pop / 50);

				x = nl_towns[lo].x + sigma * gen_normal(&r);
				y = nl_towns[lo].y + sigma * gen_normal(&r);
			} else {
				double sigma = 500 * sqrt(vsize[lo - ntowns] / 3);

				x = vx[lo - ntowns] + sigma * gen_normal(&r);
				y = vy[lo - ntowns] + sigma * gen_normal(&r);
			}
		} while (!gen_point_in_ring(x, y, nl_outline, nv));
		n->x[k] = x;
		n->y[k] = y;
	}
}

/* For each point of a group, the nearest of the group's seeds. */
static void nearest(const struct nl *n, const size_t *members, size_t nmembers, const size_t *seeds, size_t nseeds,
		    const size_t *seed_ids, size_t *out)
{
	for (size_t m = 0; m < nmembers; m++) {
		size_t k = members[m], best = 0;
		double bestd = HUGE_VAL;

		for (size_t s = 0; s < nseeds; s++) {
			double dx = n->x[seeds[s]] - n->x[k], dy = n->y[seeds[s]] - n->y[k], d = dx * dx + dy * dy;

			if (d < bestd) {
				bestd = d;
				best = s;
			}
		}
		out[k] = seed_ids[best];
	}
}

/* Members of each group (counting sort), as offsets into one array. */
static size_t *group_members(const size_t *group_of_point, size_t npts, size_t ngroups, size_t **start)
{
	size_t *members = xcalloc(npts + 1, sizeof *members), *fill = xcalloc(ngroups + 1, sizeof *fill);

	*start = xcalloc(ngroups + 1, sizeof **start);
	for (size_t k = 0; k < npts; k++)
		(*start)[group_of_point[k] + 1]++;
	for (size_t g = 0; g < ngroups; g++)
		(*start)[g + 1] += (*start)[g];
	for (size_t k = 0; k < npts; k++)
		members[(*start)[group_of_point[k]] + fill[group_of_point[k]]++] = k;
	free(fill);
	return members;
}

/* Split the points of each parent among `total` children, in proportion to
 * the parent's points (1 to 99 children each, as CBS codes allow), growing
 * each child from a random point and giving every point to the nearest. */
static int nl_split(struct world *w, struct nl *n, const char *what, const size_t *parent, size_t nparents,
		    size_t total, size_t **child_of_point, size_t **child_seed, size_t **child_parent, size_t *nchildren,
		    struct err *e)
{
	size_t *start, *members = group_members(parent, n->npts, nparents, &start);
	double *weight = xcalloc(nparents, sizeof *weight);
	long *lo = xcalloc(nparents, sizeof *lo), *hi = xcalloc(nparents, sizeof *hi), *k = xcalloc(nparents, sizeof *k);
	struct gen_rng r = stream(w, "nl/%s", what);
	size_t c = 0;
	int rc = 0;

	for (size_t p = 0; p < nparents; p++) {
		size_t np = start[p + 1] - start[p];

		weight[p] = (double)np;
		lo[p] = np > 0;
		hi[p] = np < 99 ? (long)np : 99;
	}
	if (gen_allocate(&r, (long)total, nparents, weight, lo, hi, k) < 0) {
		rc = err_set(e, ERR_INTERNAL, NULL, "cannot split %zu points into %zu %s", n->npts, total, what);
		goto out;
	}
	*nchildren = total;
	*child_of_point = xcalloc(n->npts, sizeof **child_of_point);
	*child_seed = xcalloc(total, sizeof **child_seed);
	*child_parent = xcalloc(total, sizeof **child_parent);
	for (size_t p = 0; p < nparents; p++) {
		size_t np = start[p + 1] - start[p], *pick = xcalloc((size_t)k[p] + 1, sizeof *pick);
		size_t *seeds = xcalloc((size_t)k[p] + 1, sizeof *seeds), *ids = xcalloc((size_t)k[p] + 1, sizeof *ids);

		gen_choose(&r, (size_t)k[p], np, pick);
		for (long j = 0; j < k[p]; j++) {
			seeds[j] = members[start[p] + pick[j]];
			ids[j] = c;
			(*child_seed)[c] = seeds[j];
			(*child_parent)[c] = p;
			c++;
		}
		nearest(n, members + start[p], np, seeds, (size_t)k[p], ids, *child_of_point);
		free(pick);
		free(seeds);
		free(ids);
	}
out:
	free(start);
	free(members);
	free(weight);
	free(lo);
	free(hi);
	free(k);
	return rc;
}

/* Order areas along the Hilbert curve (by their seed) within their parent. */
struct ranked {
	size_t id, parent;
	uint64_t order;
};

static int cmp_ranked(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->parent != y->parent)
		return x->parent < y->parent ? -1 : 1;
	if (x->order != y->order)
		return x->order < y->order ? -1 : 1;
	return (x->id > y->id) - (x->id < y->id);
}

/* The new position of each area when sorted by (parent position, Hilbert). */
static size_t *nl_rank(const struct world *w, const struct nl *n, size_t count, const size_t *seed,
		       const size_t *parent)
{
	struct ranked *v = xcalloc(count + 1, sizeof *v);
	size_t *pos = xcalloc(count + 1, sizeof *pos);

	for (size_t i = 0; i < count; i++) {
		v[i].id = i;
		v[i].parent = parent ? parent[i] : 0;
		v[i].order = hilbert(w, n->x[seed[i]], n->y[seed[i]]);
	}
	qsort(v, count, sizeof *v, cmp_ranked);
	for (size_t i = 0; i < count; i++)
		pos[v[i].id] = i;
	free(v);
	return pos;
}

static void remap(size_t *v, size_t n, const size_t *pos)
{
	for (size_t i = 0; i < n; i++)
		v[i] = pos[v[i]];
}

static void permute(size_t *v, size_t n, const size_t *pos)
{
	size_t *t = xcalloc(n + 1, sizeof *t);

	for (size_t i = 0; i < n; i++)
		t[pos[i]] = v[i];
	memcpy(v, t, n * sizeof *v);
	free(t);
}

/* The national hierarchy in C: points, gemeenten, wijken, buurten, codes. */
static int nl_build(struct world *w, struct nl *n, struct err *e)
{
	size_t nb = (size_t)fmax(1, round((double)w->o->postcodes / NL_PC6_PER_BUURT));
	size_t nw = (size_t)fmax(1, round((double)nb / NL_BUURTEN_PER_WIJK));
	size_t ng = (size_t)fmax(1, round((double)nw / NL_WIJKEN_PER_GEMEENTE));
	size_t *all, *pos, *pid;
	struct gen_rng r = stream(w, "%s/gemeenten", "nl");

	n->npts = (size_t)w->o->postcodes;
	w->x0 = 0;
	w->y0 = 300000;
	w->side = 320000;
	nl_points(w, n);
	log_msg(LOG_INFO, "placed national PC6 points pc6=%zu seconds=%.1f", n->npts, elapsed(w));

	/* gemeenten: seeds drawn from the points, so they follow where people live */
	n->ngm = ng;
	n->gm_seed = xcalloc(ng, sizeof *n->gm_seed);
	n->gm = xcalloc(n->npts, sizeof *n->gm);
	gen_choose(&r, ng, n->npts, n->gm_seed);
	all = xcalloc(n->npts, sizeof *all);
	pid = xcalloc(ng, sizeof *pid);
	for (size_t k = 0; k < n->npts; k++)
		all[k] = k;
	for (size_t g = 0; g < ng; g++)
		pid[g] = g;
	nearest(n, all, n->npts, n->gm_seed, ng, pid, n->gm);
	free(all);
	free(pid);
	/* number them along the curve */
	pos = nl_rank(w, n, ng, n->gm_seed, NULL);
	remap(n->gm, n->npts, pos);
	permute(n->gm_seed, ng, pos);
	free(pos);

	if (nl_split(w, n, "wijken", n->gm, ng, nw, &n->wk, &n->wk_seed, &n->wk_gm, &n->nwk, e) < 0)
		return -1;
	pos = nl_rank(w, n, n->nwk, n->wk_seed, n->wk_gm);
	remap(n->wk, n->npts, pos);
	permute(n->wk_seed, n->nwk, pos);
	permute(n->wk_gm, n->nwk, pos);
	free(pos);

	if (nl_split(w, n, "buurten", n->wk, n->nwk, nb, &n->bu, &n->bu_seed, &n->bu_wk, &n->nbu, e) < 0)
		return -1;
	pos = nl_rank(w, n, n->nbu, n->bu_seed, n->bu_wk);
	remap(n->bu, n->npts, pos);
	permute(n->bu_seed, n->nbu, pos);
	permute(n->bu_wk, n->nbu, pos);
	free(pos);

	/* codes and names: GMgggg, WKggggww, BUggggwwbb, numbered within the parent */
	w->ngm = n->ngm;
	w->gm = xcalloc(w->ngm, sizeof *w->gm);
	for (size_t g = 0; g < w->ngm; g++) {
		snprintf(w->gm[g].code, sizeof w->gm[g].code, "GM%04u", (unsigned)(g + 1) % 10000);
		snprintf(w->gm[g].name, sizeof w->gm[g].name, "Synthetisch %04u", (unsigned)(g + 1) % 10000);
		w->gm[g].x = n->x[n->gm_seed[g]];
		w->gm[g].y = n->y[n->gm_seed[g]];
	}
	w->nwk = n->nwk;
	w->wk = xcalloc(w->nwk, sizeof *w->wk);
	for (size_t k = 0, num = 0; k < w->nwk; k++) {
		num = k > 0 && n->wk_gm[k] == n->wk_gm[k - 1] ? num + 1 : 1;
		w->wk[k].gm = n->wk_gm[k];
		snprintf(w->wk[k].code, sizeof w->wk[k].code, "WK%s%02zu", w->gm[n->wk_gm[k]].code + 2, num);
		snprintf(w->wk[k].name, sizeof w->wk[k].name, "Wijk %02zu %s", num, w->gm[n->wk_gm[k]].name);
		w->wk[k].x = n->x[n->wk_seed[k]];
		w->wk[k].y = n->y[n->wk_seed[k]];
	}
	w->nbu = n->nbu;
	w->bu = xcalloc(w->nbu, sizeof *w->bu);
	for (size_t b = 0, num = 0; b < w->nbu; b++) {
		num = b > 0 && n->bu_wk[b] == n->bu_wk[b - 1] ? num + 1 : 1;
		w->bu[b].wk = n->bu_wk[b];
		snprintf(w->bu[b].code, sizeof w->bu[b].code, "BU%s%02zu", w->wk[n->bu_wk[b]].code + 2, num);
		snprintf(w->bu[b].name, sizeof w->bu[b].name, "%s-%.2s-%02zu", w->gm[w->wk[n->bu_wk[b]].gm].name,
			 w->wk[n->bu_wk[b]].code + 6, num);
		w->bu[b].x = n->x[n->bu_seed[b]];
		w->bu[b].y = n->y[n->bu_seed[b]];
	}
	log_msg(LOG_INFO, "built the national hierarchy gemeenten=%zu wijken=%zu buurten=%zu pc6=%zu seconds=%.1f", w->ngm,
		w->nwk, w->nbu, n->npts, elapsed(w));
	return 0;
}

/* The national PC6 grouped by buurt, with sizes and buurt models drawn. */
static void nl_cells(struct world *w, struct nl *n)
{
	size_t *start, *members = group_members(n->bu, n->npts, n->nbu, &start);
	size_t ng = w->ngm, nw = w->nwk;
	double *ug = xcalloc(ng, sizeof *ug), *uw = xcalloc(nw, sizeof *uw);
	struct gen_rng r = stream(w, "%s/effects", "nl");

	/* deprivation varies between gemeenten, wijken and buurten */
	for (size_t g = 0; g < ng; g++)
		ug[g] = 0.35 * gen_normal(&r);
	for (size_t k = 0; k < nw; k++)
		uw[k] = 0.3 * gen_normal(&r);
	w->cappc = n->npts;
	w->pc = xcalloc(w->cappc, sizeof *w->pc);
	for (size_t b = 0; b < w->nbu; b++) {
		struct bu *bu = &w->bu[b];
		struct gen_rng rs = stream(w, "%s/sizes", bu->code);
		struct pc6gen_buurt *m = &bu->model;
		double s, dd;
		long hh = 0, inh = 0;

		bu->first = w->npc;
		for (size_t j = start[b]; j < start[b + 1]; j++) {
			struct pc *p = add_pc(w);
			long h, i;

			p->bu = b;
			p->point = members[j];
			p->x = n->x[members[j]];
			p->y = n->y[members[j]];
			p->order = hilbert(w, p->x, p->y);
			pc6gen_draw_size(&w->sizes, &rs, &h, &i);
			p->f.w_households = (double)h;
			p->f.w_inhabitants = (double)i;
			hh += h;
			inh += i;
		}
		bu->n = w->npc - bu->first;
		m->households = hh;
		m->inhabitants = inh;
		m->benefits = m->other_benefits = -1;
		m->deprivation = PC6GEN_NL_DEPRIVATION + ug[w->wk[bu->wk].gm] + uw[bu->wk] + 0.35 * gen_normal(&r);
		/* shares that follow household size and deprivation */
		s = hh > 0 ? (double)inh / (double)hh : 2.15;
		dd = m->deprivation - PC6GEN_NL_DEPRIVATION;
		m->age[0] = fmax(2, 16 + 8 * (s - 2.15) + 2 * dd + gen_normal(&r));
		m->age[1] = fmax(2, 12 + 2 * gen_normal(&r));
		m->age[2] = fmax(5, 25 + 1.5 * dd + 3 * gen_normal(&r));
		m->age[3] = fmax(5, 28 + 2 * gen_normal(&r));
		m->age[4] = fmax(2, 19 - 10 * (s - 2.15) - 2 * dd + 3 * gen_normal(&r));
		m->hhtype[0] = fmin(80, fmax(10, 100 * (1.1 - 0.33 * s)));
		m->hhtype[2] = fmin(60, fmax(5, 100 * (0.29 + 0.35 * (s - 2.15))));
		m->hhtype[1] = fmax(5, 100 - m->hhtype[0] - m->hhtype[2]);
	}
	free(start);
	free(members);
	free(ug);
	free(uw);
}

/* National PC4: each wijk's buurten in one or more groups of about 110 PC6
 * (whole buurten, at most 673 PC6; larger groups when there are more groups
 * than real PC4 codes), numbered along the Hilbert curve with the real Dutch
 * PC4 codes in order. */
static int nl_codes(struct world *w, struct err *e)
{
	double target = 110;
	struct pc4_group *groups = NULL;
	struct ranked *order;
	size_t ngroups = 0, b = 0, *gpos;
	int rc;

	/* about 110 PC6 per PC4 as in the real country, more when the real PC4
	 * codes would not go round */
	for (;;) {
		size_t need = 0;

		for (size_t j = 0, total = 0; j < w->nbu; j++) {
			total += w->bu[j].n;
			if (j + 1 == w->nbu || w->bu[j + 1].wk != w->bu[j].wk) {
				need += (size_t)fmax(1, round((double)total / target));
				total = 0;
			}
		}
		if (need <= w->npc4 || target > 1e6)
			break;
		target *= 1.05;
	}
	while (b < w->nbu) {
		size_t wk = w->bu[b].wk, end = b, total = 0, acc = 0, k, current = 0;

		for (; end < w->nbu && w->bu[end].wk == wk; end++)
			total += w->bu[end].n;
		k = (size_t)fmax(1, round((double)total / target));
		for (size_t j = b; j < end; j++) {
			struct pc4_group *g = j > b ? &groups[ngroups - 1] : NULL;
			/* the group whose share of the wijk holds this buurt's middle */
			size_t want = (size_t)fmin((double)k - 1, floor((double)k * ((double)acc + (double)w->bu[j].n / 2) / (double)total));

			if (w->bu[j].n > GEN_PC6_LETTERS) {
				groups_free(groups, ngroups);
				return err_set(e, ERR_INTERNAL, NULL, "buurt %s has %zu PC6, more than one PC4 holds",
					       w->bu[j].code, w->bu[j].n);
			}
			if (!g || want != current || g->n + w->bu[j].n > GEN_PC6_LETTERS) {
				groups = xrealloc(groups, (ngroups + 1) * sizeof *groups);
				g = &groups[ngroups++];
				memset(g, 0, sizeof *g);
				current = want;
			}
			for (size_t c = 0; c < w->bu[j].n; c++)
				group_add(g, w->bu[j].first + c);
			acc += w->bu[j].n;
		}
		b = end;
	}
	/* number the groups along the curve by their mean position */
	order = xcalloc(ngroups + 1, sizeof *order);
	for (size_t i = 0; i < ngroups; i++) {
		double x = 0, y = 0;

		for (size_t c = 0; c < groups[i].n; c++) {
			x += w->pc[groups[i].cells[c]].x;
			y += w->pc[groups[i].cells[c]].y;
		}
		order[i].id = i;
		order[i].order = hilbert(w, x / (double)groups[i].n, y / (double)groups[i].n);
	}
	qsort(order, ngroups, sizeof *order, cmp_ranked);
	gpos = xcalloc(ngroups + 1, sizeof *gpos);
	for (size_t i = 0; i < ngroups; i++)
		gpos[order[i].id] = i;
	if (ngroups > 9000) {
		free(order);
		free(gpos);
		groups_free(groups, ngroups);
		return err_set(e, ERR_INTERNAL, NULL, "%zu PC4 areas do not fit in 1000-9999", ngroups);
	}
	for (size_t i = 0; i < ngroups; i++)
		groups[i].pc4 = ngroups <= w->npc4 ? w->pc4[gpos[i] * w->npc4 / ngroups]
						   : (int)(1000 + gpos[i] * 9000 / ngroups);
	free(order);
	free(gpos);
	log_msg(LOG_INFO, "gave the national PC6 codes pc4=%zu", ngroups);
	rc = letter_groups(w, groups, ngroups, e);
	groups_free(groups, ngroups);
	return rc;
}

/* The national polygons: gemeenten tile the outline, wijken their gemeente,
 * buurten their wijk, PC6 their buurt; every level is Voronoi cells of its
 * seeds clipped to the level above, so the tree nests exactly. */
static int nl_geometry(struct world *w, const struct nl *n, const size_t *pc_of_point, struct err *e)
{
	struct sbuf rows = {0}, ids = {0};
	int rc = -1;

	if (db_exec(w->db, tile_tables_sql, e) < 0)
		goto out;
	sbuf_puts(&rows, "0\tSRID=28992;POLYGON((");
	for (size_t i = 0; i <= sizeof nl_outline / sizeof nl_outline[0] / 2; i++) {
		size_t j = i % (sizeof nl_outline / sizeof nl_outline[0] / 2);

		sbuf_printf(&rows, "%s%.0f %.0f", i ? "," : "", nl_outline[2 * j], nl_outline[2 * j + 1]);
	}
	sbuf_puts(&rows, "))\n");
	if (copy_rows(w->db, "COPY region (grp, geom) FROM STDIN", &rows, e) < 0)
		goto out;
	sbuf_reset(&rows);
	for (size_t g = 0; g < w->ngm; g++)
		seed_row(&rows, g, 0, w->gm[g].x, w->gm[g].y);
	if (copy_rows(w->db, "COPY seed (id, grp, geom) FROM STDIN", &rows, e) < 0 ||
	    tile(w, "gemeenten", "outline", e) < 0 ||
	    keep_cells(w, "gemeente_cell", e) < 0)
		goto out;

	sbuf_reset(&rows);
	for (size_t k = 0; k < w->nwk; k++)
		seed_row(&rows, k, w->wk[k].gm, w->wk[k].x, w->wk[k].y);
	if (db_exec(w->db, "INSERT INTO region (grp, geom) SELECT id, geom FROM gemeente_cell", e) < 0 ||
	    copy_rows(w->db, "COPY seed (id, grp, geom) FROM STDIN", &rows, e) < 0 ||
	    tile(w, "wijken", "gemeenten", e) < 0 ||
	    keep_cells(w, "wijk_cell", e) < 0)
		goto out;

	sbuf_reset(&rows);
	for (size_t b = 0; b < w->nbu; b++)
		seed_row(&rows, b, w->bu[b].wk, w->bu[b].x, w->bu[b].y);
	if (db_exec(w->db, "INSERT INTO region (grp, geom) SELECT id, geom FROM wijk_cell", e) < 0 ||
	    copy_rows(w->db, "COPY seed (id, grp, geom) FROM STDIN", &rows, e) < 0 ||
	    tile(w, "buurten", "wijken", e) < 0 ||
	    keep_cells(w, "buurt_cell", e) < 0)
		goto out;

	sbuf_reset(&rows);
	for (size_t k = 0; k < n->npts; k++) {
		const struct pc *p = &w->pc[pc_of_point[k]];

		seed_row(&rows, pc_of_point[k], p->bu, p->x, p->y);
	}
	for (size_t k = 0; k < w->npc; k++) {
		const struct pc *p = &w->pc[k];

		sbuf_printf(&ids, "%zu\t%s\t%s\t%s\t%s\n", k, p->code, w->bu[p->bu].code, w->wk[w->bu[p->bu].wk].code,
			    w->gm[w->wk[w->bu[p->bu].wk].gm].code);
	}
	if (db_exec(w->db, "INSERT INTO region (grp, geom) SELECT id, geom FROM buurt_cell", e) < 0 ||
	    copy_rows(w->db, "COPY seed (id, grp, geom) FROM STDIN", &rows, e) < 0 ||
	    tile(w, "PC6 cells", "buurten", e) < 0 ||
	    db_exec(w->db, "CREATE TABLE pc6 AS SELECT id, geom FROM cell;"
			   "CREATE TABLE pc6code (id bigint PRIMARY KEY, code text, buurt text, wijk text, gemeente text)",
		    e) < 0 ||
	    copy_rows(w->db, "COPY pc6code FROM STDIN", &ids, e) < 0)
		goto out;
	rc = 0;
out:
	sbuf_free(&rows);
	sbuf_free(&ids);
	return rc;
}

/* ------------------------------------------------------- writing */

struct gpkg_rows {
	struct vecw *v;
	int nfields;
	size_t done, total;
	const char *what;
};

static int add_features(void *arg, const struct db_result *r, struct err *e)
{
	struct gpkg_rows *g = arg;

	for (int i = 0; i < db_nrows(r); i++) {
		const char *values[8];

		for (int f = 0; f < g->nfields; f++)
			values[f] = db_value(r, i, f);
		if (vecw_add(g->v, values, db_value(r, i, g->nfields), e) < 0)
			return -1;
		g->done++;
	}
	log_progress(g->what, g->done, g->total);
	return 0;
}

static int write_layer(struct world *w, struct vecw *v, const char *layer, const char *description,
		       const char *const *fields, const char *sql, size_t total, struct err *e)
{
	struct gpkg_rows g = {.v = v, .total = total};
	char what[64];
	int rc;

	for (g.nfields = 0; fields[g.nfields]; g.nfields++)
		;
	snprintf(what, sizeof what, "writing the %s layer", layer);
	g.what = what;
	if (vecw_layer(v, layer, description, fields, e) < 0)
		return -1;
	rc = each_row(w->db, sql, add_features, &g, e);
	log_progress_end();
	return rc;
}

static char *file_name(const struct world *w, const char *what)
{
	return xasprintf("%s-synthetic%s", w->area, what);
}

static int write_gpkg(struct world *w, struct err *e)
{
	bool dh = strcmp(w->area, "denhaag") == 0;
	char *name = file_name(w, ".gpkg"), *path = xasprintf("%s/%s", w->o->out_dir, name);
	char *tmp = xasprintf("%s/.%s.tmp", w->o->out_dir, name), seed[32];
	const char *meta[6];
	const char *real_geom = "echt: CBS/Kadaster wijk- en buurtkaart 2015";
	struct vecw *v;
	char *sql = NULL, *d_gm, *d_wk, *d_bu, *d_pc6;
	int rc = -1;

	snprintf(seed, sizeof seed, "%llu", (unsigned long long)w->o->seed);
	meta[0] = "SYNTHETIC=yes";
	meta[1] = dh ? "DESCRIPTION=SYNTHETIC PC6 data for Den Haag made by pc6risk synth. Gemeente, wijk and buurt "
		       "polygons are the real CBS/Kadaster 2015 ones; the PC6 polygons of Zuid-West are real CBS PC6 "
		       "polygons, all other PC6 polygons are synthetic (Voronoi cells); every PC6 code outside the real "
		       "polygons is synthetic."
		     : "DESCRIPTION=SYNTHETIC national data made by pc6risk synth: every polygon, code and name is "
		       "synthetic and describes no real place.";
	meta[2] = xasprintf("SEED=%s", seed);
	meta[3] = xasprintf("GENERATOR=pc6risk synth %s (pc6risk %s)", w->area, PC6RISK_VERSION);
	meta[4] = "BRON=" PC6GEN_BRON;
	meta[5] = NULL;
	d_gm = xasprintf("gemeente: %s (SYNTHETIC set)", dh ? "real CBS/Kadaster 2015 polygon" : "synthetic polygons");
	d_wk = xasprintf("wijken: %s (SYNTHETIC set)", dh ? "real CBS/Kadaster 2015 polygons" : "synthetic polygons");
	d_bu = xasprintf("buurten: %s (SYNTHETIC set)", dh ? "real CBS/Kadaster 2015 polygons" : "synthetic polygons");
	d_pc6 = xasprintf("PC6: SYNTHETIC; %s",
			  dh ? "real CBS PC6 polygons in Zuid-West (GEOMETRIE), elsewhere synthetic Voronoi cells"
			     : "synthetic Voronoi cells");
	unlink(tmp);
	v = vecw_create(tmp, meta, e);
	if (!v)
		goto out;
	if (dh) {
		const struct {
			const char *layer, *description, *const *fields, *sql;
			size_t n;
		} layers[] = {
			{"gemeente", d_gm, (const char *const[]){"GM_CODE", "GM_NAAM", "GEOMETRIE", NULL},
			 "SELECT code, name, $g$, encode(ST_AsBinary(geom), 'hex') FROM gemeente ORDER BY code COLLATE \"C\"",
			 w->ngm},
			{"wijk", d_wk, (const char *const[]){"WK_CODE", "WK_NAAM", "GM_CODE", "GEOMETRIE", NULL},
			 "SELECT code, name, gemeente, $g$, encode(ST_AsBinary(geom), 'hex') FROM wijk"
			 " ORDER BY code COLLATE \"C\"",
			 w->nwk},
			{"buurt", d_bu, (const char *const[]){"BU_CODE", "BU_NAAM", "WK_CODE", "GM_CODE", "GEOMETRIE", NULL},
			 "SELECT b.code, b.name, b.wijk, w.gemeente, $g$, encode(ST_AsBinary(b.geom), 'hex') FROM buurt b"
			 " JOIN wijk w ON w.code = b.wijk ORDER BY b.code COLLATE \"C\"",
			 w->nbu},
		};

		rc = 0;
		for (size_t i = 0; i < sizeof layers / sizeof layers[0] && rc == 0; i++) {
			/* $g$ is the constant GEOMETRIE value, spliced in as a literal */
			const char *at = strstr(layers[i].sql, "$g$");

			sql = xasprintf("%.*s'%s'%s", (int)(at - layers[i].sql), layers[i].sql, real_geom, at + 3);
			rc = write_layer(w, v, layers[i].layer, layers[i].description, layers[i].fields, sql, layers[i].n, e);
			free(sql);
		}
	} else {
		struct sbuf names = {0};

		/* the names and codes of the national areas live in C; send them */
		for (size_t g = 0; g < w->ngm; g++)
			sbuf_printf(&names, "gemeente\t%zu\t%s\t%s\t\t\n", g, w->gm[g].code, w->gm[g].name);
		for (size_t k = 0; k < w->nwk; k++)
			sbuf_printf(&names, "wijk\t%zu\t%s\t%s\t%s\t\n", k, w->wk[k].code, w->wk[k].name,
				    w->gm[w->wk[k].gm].code);
		for (size_t b = 0; b < w->nbu; b++)
			sbuf_printf(&names, "buurt\t%zu\t%s\t%s\t%s\t%s\n", b, w->bu[b].code, w->bu[b].name,
				    w->wk[w->bu[b].wk].code, w->gm[w->wk[w->bu[b].wk].gm].code);
		rc = db_exec(w->db, "CREATE TABLE names (level text, id bigint, code text, name text, parent text, gm text)",
			     e);
		if (rc == 0)
			rc = copy_rows(w->db, "COPY names FROM STDIN", &names, e);
		sbuf_free(&names);
		rc = rc < 0 ? rc
			    : write_layer(w, v, "gemeente", d_gm, (const char *const[]){"GM_CODE", "GM_NAAM", "GEOMETRIE", NULL},
					  "SELECT n.code, n.name, 'synthetisch', encode(ST_AsBinary(c.geom), 'hex')"
					  " FROM gemeente_cell c JOIN names n ON n.level = 'gemeente' AND n.id = c.id ORDER BY c.id",
					  w->ngm, e);
		rc = rc < 0 ? rc
			    : write_layer(w, v, "wijk", d_wk,
					  (const char *const[]){"WK_CODE", "WK_NAAM", "GM_CODE", "GEOMETRIE", NULL},
					  "SELECT n.code, n.name, n.parent, 'synthetisch', encode(ST_AsBinary(c.geom), 'hex')"
					  " FROM wijk_cell c JOIN names n ON n.level = 'wijk' AND n.id = c.id ORDER BY c.id",
					  w->nwk, e);
		rc = rc < 0 ? rc
			    : write_layer(w, v, "buurt", d_bu,
					  (const char *const[]){"BU_CODE", "BU_NAAM", "WK_CODE", "GM_CODE", "GEOMETRIE", NULL},
					  "SELECT n.code, n.name, n.parent, n.gm, 'synthetisch', encode(ST_AsBinary(c.geom), 'hex')"
					  " FROM buurt_cell c JOIN names n ON n.level = 'buurt' AND n.id = c.id ORDER BY c.id",
					  w->nbu, e);
	}
	if (rc == 0) {
		sql = xasprintf("SELECT k.code, k.buurt, k.wijk, k.gemeente,"
				" CASE WHEN r.code IS NULL THEN 'synthetisch' ELSE 'echt: CBS PC6 (Den Haag Zuid-West)' END,"
				" encode(ST_AsBinary(p.geom), 'hex') FROM pc6 p JOIN pc6code k USING (id)"
				" LEFT JOIN %s r ON r.code = k.code ORDER BY p.id",
				dh ? "realpc6" : "(SELECT NULL::text AS code) ");
		rc = write_layer(w, v, "pc6", d_pc6,
				 (const char *const[]){"PC6", "BU_CODE", "WK_CODE", "GM_CODE", "GEOMETRIE", NULL}, sql,
				 w->npc, e);
		free(sql);
	}
	if (rc < 0) {
		vecw_abort(v);
		goto out;
	}
	if ((rc = vecw_close(v, e)) < 0)
		goto out;
	if (rename(tmp, path) != 0) {
		rc = err_set(e, ERR_SYSTEM, path, "cannot rename the finished file into place: %s", strerror(errno));
		unlink(tmp);
		goto out;
	}
	log_msg(LOG_INFO, "wrote %s", path);
out:
	free((char *)meta[2]);
	free((char *)meta[3]);
	free(d_gm);
	free(d_wk);
	free(d_bu);
	free(d_pc6);
	free(name);
	free(path);
	free(tmp);
	return rc;
}

static int write_pc6_csv(struct world *w, struct err *e)
{
	char *name = file_name(w, "-pc6.csv");
	struct sbuf b = {0};
	struct out o = {0};
	int rc = out_open(w, &o, name, e);

	free(name);
	if (rc < 0)
		return -1;
	pc6gen_csv_header(&b);
	for (size_t k = 0; k < w->npc && rc == 0; k++) {
		pc6gen_csv_row(&b, w->pc[k].code, &w->pc[k].f);
		if (b.len > COPY_BATCH)
			rc = out_put(&o, &b, e);
	}
	if (rc == 0)
		rc = out_put(&o, &b, e);
	sbuf_free(&b);
	if (rc < 0) {
		out_drop(&o);
		return -1;
	}
	return out_close(&o, e);
}

/* A CBS code without its letters and leading zeros, as the CBS crosswalk
 * writes it: BU05182915 -> 5182915. */
static long bare(const char *code)
{
	return atol(code + 2);
}

static int write_crosswalk(struct world *w, struct synth_stats *st, struct err *e)
{
	char *name = file_name(w, "-pc6hnr.csv");
	struct sbuf b = {0};
	struct out o = {0};
	int rc = out_open(w, &o, name, e);

	free(name);
	if (rc < 0)
		return -1;
	sbuf_puts(&b, "PC6;Huisnummer;Buurt2015;Wijk2015;Gemeente2015\n");
	for (size_t k = 0; k < w->npc && rc == 0; k++) {
		const struct pc *p = &w->pc[k];
		const struct bu *bu = &w->bu[p->bu];
		struct gen_rng r = stream(w, "%s/addresses", p->code);
		long n = p->f.dwellings + gen_poisson(&r, 0.4), number = 1 + (long)gen_below(&r, 120);
		long step = gen_uniform(&r) < 0.65 ? 2 : 1, bb = bare(bu->code), wb = bare(w->wk[bu->wk].code);
		long gb = bare(w->gm[w->wk[bu->wk].gm].code);

		/* a postcode exists because it has addresses: at least one */
		if (n < 1)
			n = 1 + gen_poisson(&r, 1.5);
		for (long i = 0; i < n; i++, number += step)
			sbuf_printf(&b, "%s;%ld;%ld;%ld;%ld\n", p->code, number, bb, wb, gb);
		st->addresses += n;
		if (b.len > COPY_BATCH)
			rc = out_put(&o, &b, e);
		if (k % 4096 == 0)
			log_progress("writing the crosswalk", k, w->npc);
	}
	log_progress_end();
	if (rc == 0)
		rc = out_put(&o, &b, e);
	sbuf_free(&b);
	if (rc < 0) {
		out_drop(&o);
		return -1;
	}
	return out_close(&o, e);
}

static void put_share(struct sbuf *b, double v, bool secret)
{
	sbuf_printf(b, ";%ld", secret ? GEN_CBS_SECRET : lround(v));
}

static int write_buurt_csv(struct world *w, struct err *e)
{
	bool nl = strcmp(w->area, "nl") == 0;
	char *name = file_name(w, "-buurt.csv");
	struct sbuf b = {0};
	struct out o = {0};
	int rc = out_open(w, &o, name, e);

	free(name);
	if (rc < 0)
		return -1;
	sbuf_printf(&b,
		    "BU_CODE;BU_NAAM;WK_CODE;GM_CODE;%sP_LAAG_OPL;P_SLECHT_GEZ;P_HH_110SM;P_HH_120SM;MISDR_1000;"
		    "P_KIND_LAAGINK;BRON\n",
		    nl ? "AANT_INW;AANTAL_HH;WWB_UITTOT;AO_WW_UIT;" : "");
	for (size_t i = 0; i < w->nbu; i++) {
		const struct bu *bu = &w->bu[i];
		bool secret = bu->model.inhabitants < 5;

		sbuf_printf(&b, "%s;%s;%s;%s", bu->code, bu->name, w->wk[bu->wk].code, w->gm[w->wk[bu->wk].gm].code);
		if (nl) {
			sbuf_printf(&b, ";%ld;%ld", gen_cbs_round5(bu->model.inhabitants), gen_cbs_round5(bu->model.households));
			sbuf_printf(&b, ";%ld;%ld", secret ? GEN_CBS_SECRET : gen_cbs_round5(bu->model.benefits),
				    secret ? GEN_CBS_SECRET : gen_cbs_round5(bu->model.other_benefits));
		}
		put_share(&b, bu->extras.low_education, secret);
		put_share(&b, bu->extras.poor_health, secret);
		put_share(&b, bu->extras.below110, secret);
		put_share(&b, bu->extras.below120, secret);
		put_share(&b, bu->extras.crime, secret);
		put_share(&b, bu->extras.child_outcome, bu->model.inhabitants < PC6GEN_OUTCOME_MIN_INHABITANTS);
		sbuf_puts(&b, ";" PC6GEN_BRON "\n");
	}
	rc = out_put(&o, &b, e);
	sbuf_free(&b);
	if (rc < 0) {
		out_drop(&o);
		return -1;
	}
	return out_close(&o, e);
}

static const struct {
	const char *column, *indicator, *kind;
} buurt_columns[] = {
	{"P_LAAG_OPL", "low_education_share", "share"},
	{"P_SLECHT_GEZ", "poor_health_share", "share"},
	{"P_HH_110SM", "below_110_social_minimum_share", "share"},
	{"P_HH_120SM", "below_120_social_minimum_share", "share"},
	{"MISDR_1000", "crimes_per_1000", "amount"},
	{"P_KIND_LAAGINK", "mobility_outcome", "share"},
};

static void config_columns(struct sbuf *b, bool pc6, bool nl)
{
	const char *sep = "";

	if (pc6) {
		for (const struct pc6gen_column *c = pc6gen_columns; c->column; c++) {
			sbuf_printf(b, "%s\n          \"%s\": {\"column\": \"%s\", \"kind\": \"%s\"}", sep, c->indicator,
				    c->column, c->kind);
			sep = ",";
		}
		return;
	}
	if (nl) {
		sbuf_puts(b, "\n          \"inhabitants\": \"AANT_INW\",\n          \"households\": \"AANTAL_HH\","
			     "\n          \"benefit_recipients\": \"WWB_UITTOT\"");
		sep = ",";
	}
	for (size_t i = 0; i < sizeof buurt_columns / sizeof buurt_columns[0]; i++) {
		sbuf_printf(b, "%s\n          \"%s\": {\"column\": \"%s\", \"kind\": \"%s\"}", sep, buurt_columns[i].indicator,
			    buurt_columns[i].column, buurt_columns[i].kind);
		sep = ",";
	}
}

static int write_small(struct world *w, const char *name, struct sbuf *b, struct err *e)
{
	struct out o = {0};

	if (out_open(w, &o, name, e) < 0)
		return -1;
	if (out_put(&o, b, e) < 0) {
		out_drop(&o);
		return -1;
	}
	return out_close(&o, e);
}

static int write_config(struct world *w, struct err *e)
{
	bool nl = strcmp(w->area, "nl") == 0;
	char *gpkg = file_name(w, ".gpkg"), *pc6 = file_name(w, "-pc6.csv"), *buurt = file_name(w, "-buurt.csv");
	struct sbuf b = {0};
	int rc;

	sbuf_puts(&b, "{\n  \"database\": {\"schema\": \"pc6risk\"},\n  \"inputs\": {\n    \"areas\": [\n");
	sbuf_printf(&b, "      {\"level\": \"gemeente\", \"path\": \"%s\", \"layer\": \"gemeente\", \"code\": \"GM_CODE\","
			" \"name\": \"GM_NAAM\"},\n", gpkg);
	sbuf_printf(&b, "      {\"level\": \"wijk\", \"path\": \"%s\", \"layer\": \"wijk\", \"code\": \"WK_CODE\","
			" \"name\": \"WK_NAAM\", \"parent\": \"GM_CODE\"},\n", gpkg);
	sbuf_printf(&b, "      {\"level\": \"buurt\", \"path\": \"%s\", \"layer\": \"buurt\", \"code\": \"BU_CODE\","
			" \"name\": \"BU_NAAM\", \"parent\": \"WK_CODE\"},\n", gpkg);
	sbuf_printf(&b, "      {\"level\": \"pc6\", \"path\": \"%s\", \"layer\": \"pc6\", \"code\": \"PC6\","
			" \"parent\": \"BU_CODE\"}\n    ],\n    \"indicators\": [\n", gpkg);
	if (!nl) {
		sbuf_puts(&b, "      {\n        \"path\": ");
		sbuf_json_string(&b, w->kwb_path);
		sbuf_puts(&b, ",\n        \"level\": \"buurt\",\n        \"key\": \"BU_CODE\",\n        \"columns\": {\n"
			      "          \"inhabitants\": \"AANT_INW\",\n          \"households\": \"AANTAL_HH\",\n"
			      "          \"benefit_recipients\": \"WWB_UITTOT\"\n        }\n      },\n");
	}
	sbuf_printf(&b, "      {\n        \"path\": \"%s\",\n        \"level\": \"buurt\",\n        \"key\": \"BU_CODE\","
			"\n        \"delimiter\": \";\",\n        \"columns\": {", buurt);
	config_columns(&b, false, nl);
	sbuf_printf(&b, "\n        }\n      },\n      {\n        \"path\": \"%s\",\n        \"level\": \"pc6\","
			"\n        \"key\": \"PC6\",\n        \"delimiter\": \";\",\n        \"columns\": {", pc6);
	config_columns(&b, true, nl);
	sbuf_puts(&b, "\n        }\n      }\n    ]\n  },\n  \"scenarios\": [\n    {\n      \"name\": \"bijstand\",\n");
	sbuf_printf(&b, "      \"title\": \"Bijstandsuitkeringen per 100 huishoudens (%s)\",\n",
		    nl ? "SYNTHETISCH" : "CBS KWB 2015");
	sbuf_puts(&b, "      \"level\": \"buurt\",\n      \"numerator\": \"benefit_recipients\",\n"
		      "      \"denominator\": \"households\",\n      \"per\": 100\n    },\n"
		      "    {\"preset\": \"kansarmoede-3van6\"},\n    {\"preset\": \"imd-nl\"},\n"
		      "    {\"preset\": \"kinderarmoede-kern\"},\n    {\"preset\": \"generatie\"},\n"
		      "    {\"preset\": \"data-gedreven\"}\n  ],\n"
		      "  \"privacy\": {\"policy\": \"public\"},\n  \"publish\": {\n"
		      "    \"dir\": \"maps/out\",\n");
	sbuf_printf(&b, "    \"neighbourhoods\": [%s],\n", nl ? "" : "\"Schildersbuurt\", \"Laakkwartier\", \"Bouwlust\"");
	{
		char *attribution = nl ? xasprintf("SYNTHETISCHE gegevens (pc6risk synth --area nl --postcodes %ld --seed %llu)",
						   w->o->postcodes, (unsigned long long)w->o->seed)
				       : xasprintf("SYNTHETISCHE PC6-gegevens (pc6risk synth --area denhaag --seed %llu);"
						   " buurten en KWB 2015: Bron: CBS, Kadaster, CC BY 4.0",
						   (unsigned long long)w->o->seed);

		sbuf_puts(&b, "    \"synthetic\": true,\n    \"attribution\": ");
		sbuf_json_string(&b, attribution);
		sbuf_puts(&b, "\n  }\n}\n");
		free(attribution);
	}
	rc = write_small(w, "pc6risk.json", &b, e);
	sbuf_free(&b);
	free(gpkg);
	free(pc6);
	free(buurt);
	return rc;
}

static int write_metadata(struct world *w, const struct synth_stats *st, struct err *e)
{
	bool nl = strcmp(w->area, "nl") == 0;
	char *gpkg = file_name(w, ".gpkg"), *pc6 = file_name(w, "-pc6.csv"), *cw = file_name(w, "-pc6hnr.csv");
	char *buurt = file_name(w, "-buurt.csv");
	struct sbuf b = {0};
	int rc;

	sbuf_puts(&b, "{\n  \"synthetic\": true,\n  \"description\": ");
	sbuf_json_string(&b, nl ? "SYNTHETIC national set for benchmarks: every polygon, code, name and figure is "
				  "synthetic and describes no real place."
				: "SYNTHETIC PC6 data for Den Haag: the PC6 figures are synthetic everywhere; the PC6 "
				  "polygons are real in Zuid-West and synthetic elsewhere; gemeente, wijk and buurt polygons "
				  "and the buurt totals the PC6 figures add up to are real (CBS/Kadaster 2015, KWB 2015).");
	sbuf_printf(&b, ",\n  \"generator\": \"pc6risk synth\",\n  \"version\": \"%s\",\n  \"area\": \"%s\",\n"
			"  \"seed\": %llu,\n",
		    PC6RISK_VERSION, w->area, (unsigned long long)w->o->seed);
	if (nl)
		sbuf_printf(&b, "  \"postcodes\": %ld,\n", w->o->postcodes);
	sbuf_printf(&b, "  \"counts\": {\"gemeente\": %lld, \"wijk\": %lld, \"buurt\": %lld, \"pc6\": %lld,"
			" \"pc6_real_polygons\": %lld, \"addresses\": %lld},\n",
		    st->areas[LEVEL_GEMEENTE], st->areas[LEVEL_WIJK], st->areas[LEVEL_BUURT], st->areas[LEVEL_PC6],
		    st->pc6_real, st->addresses);
	sbuf_puts(&b, "  \"size_distribution\": {\"reference\": \"CBS PC6 2020, Amsterdam (" SIZES_FILE ")\",");
	sbuf_printf(&b, " \"ks_d_households\": %.4f, \"ks_d_inhabitants\": %.4f},\n", st->ks_households,
		    st->ks_inhabitants);
	sbuf_puts(&b, "  \"files\": [\n");
	sbuf_printf(&b, "    {\"name\": \"%s\", \"synthetic\": true, \"what\": \"GeoPackage, EPSG:28992, layers gemeente,"
			" wijk, buurt, pc6; metadata SYNTHETIC=yes; field GEOMETRIE says per feature whether its polygon is"
			" real\"},\n", gpkg);
	sbuf_printf(&b, "    {\"name\": \"%s\", \"synthetic\": true, \"what\": \"PC6 figures, CBS style: ';', secret"
			" -99997, counts rounded to 5; column BRON = %s\"},\n", pc6, PC6GEN_BRON);
	sbuf_printf(&b, "    {\"name\": \"%s\", \"synthetic\": true, \"what\": \"CBS 'postcode huisnummer' crosswalk:"
			" PC6;Huisnummer;Buurt2015;Wijk2015;Gemeente2015, one row per synthetic address\"},\n", cw);
	sbuf_printf(&b, "    {\"name\": \"%s\", \"synthetic\": true, \"what\": \"buurt figures that exist only at buurt"
			" level (%% low education, %% poor health, %% below 110/120 %% of the social minimum, crimes per"
			" 1,000, and P_KIND_LAAGINK: %% of children from low-income households who have a low income as"
			" adults, an outcome layer like the Kansenkaart's, secret below %d inhabitants)%s; column BRON ="
			" %s\"},\n",
		    buurt, PC6GEN_OUTCOME_MIN_INHABITANTS, nl ? " and the buurt totals (sums of the PC6)" : "",
		    PC6GEN_BRON);
	sbuf_puts(&b, "    {\"name\": \"pc6risk.json\", \"synthetic\": true, \"what\": \"a config that loads this set;"
		      " publish.attribution says SYNTHETISCH\"}\n  ]");
	if (!nl) {
		sbuf_puts(&b, ",\n  \"real_inputs\": [\n    {\"path\": ");
		sbuf_json_string(&b, w->kwb_path);
		sbuf_puts(&b, ", \"what\": \"CBS KWB 2015 buurt figures (real; read in place, not copied)\"},\n"
			      "    {\"file\": \"den_haag_{gemeente,wijken,buurten}_2015.geojson\", \"what\": \"CBS/Kadaster"
			      " wijk- en buurtkaart 2015 polygons (real; copied into the GeoPackage)\"},\n"
			      "    {\"file\": \"DHZW_PC6_shapefile.shp\", \"what\": \"CBS PC6 polygons of Den Haag Zuid-West"
			      " (real; copied into the GeoPackage)\"},\n"
			      "    {\"file\": \"" SIZES_FILE "\", \"what\": \"CBS PC6 2020 sizes of Amsterdam (real; the"
			      " distribution PC6 sizes are drawn from)\"},\n"
			      "    {\"file\": \"" PC4_FILE "\", \"what\": \"CBS PC4 2019 codes (real; Den Haag's PC4"
			      " list)\"}\n  ]");
	}
	sbuf_puts(&b, "\n}\n");
	rc = write_small(w, "synthetic.json", &b, e);
	sbuf_free(&b);
	free(gpkg);
	free(pc6);
	free(cw);
	free(buurt);
	return rc;
}

/* KS D between what the set publishes and the real distribution, secret
 * values counted as -1 on both sides. */
static void ks(struct world *w, struct synth_stats *st)
{
	size_t n = w->npc, m = w->sizes.n;
	double *a = xcalloc(n + 1, sizeof *a), *b = xcalloc(m + 1, sizeof *b);

	for (size_t k = 0; k < n; k++) {
		const struct pc6gen_pc6 *f = &w->pc[k].f;

		a[k] = f->inhabitants < 5 || f->households < 5 ? -1 : (double)gen_cbs_round5(f->households);
	}
	for (size_t k = 0; k < m; k++)
		b[k] = (double)w->sizes.households[k];
	st->ks_households = gen_ks2(a, n, b, m);
	for (size_t k = 0; k < n; k++) {
		const struct pc6gen_pc6 *f = &w->pc[k].f;

		a[k] = f->inhabitants < 5 ? -1 : (double)gen_cbs_round5(f->inhabitants);
	}
	for (size_t k = 0; k < m; k++)
		b[k] = (double)w->sizes.inhabitants[k];
	st->ks_inhabitants = gen_ks2(a, n, b, m);
	free(a);
	free(b);
}

/* ------------------------------------------------------- the run */

int synth_area_parse(const char *name, enum synth_area *out)
{
	if (strcmp(name, "denhaag") == 0)
		*out = SYNTH_DENHAAG;
	else if (strcmp(name, "nl") == 0)
		*out = SYNTH_NL;
	else
		return -1;
	return 0;
}

const char *synth_area_name(enum synth_area area)
{
	return area == SYNTH_NL ? "nl" : "denhaag";
}

static int create_scratch(struct world *w, struct err *e)
{
	const char *params[1] = {db_schema(w->db)};
	struct db_result *r;
	int rc;

	if (db_begin(w->db, e) < 0)
		return -1;
	r = db_query(w->db, "SELECT format('CREATE SCHEMA %I', $1::text)", 1, params, e);
	if (!r)
		return -1;
	rc = db_exec(w->db, db_value(r, 0, 0), e);
	db_result_free(r);
	if (rc < 0 && strcmp(e->sqlstate, "42P06") == 0)
		err_hint(e, "synth needs a scratch schema of its own; pass --schema with a name not in use");
	if (rc == 0)
		/* many small statements with costly PostGIS functions: compiling each
		 * one with JIT would take longer than running it */
		rc = db_exec(w->db, "SET LOCAL client_min_messages = warning; SET LOCAL jit = off", e);
	/* a database without PostGIS yet (before `pc6risk init`) gets it for the
	 * length of the transaction, which is rolled back like everything else */
	if (rc == 0 && (rc = db_exec(w->db, "CREATE EXTENSION IF NOT EXISTS postgis SCHEMA public", e)) < 0)
		err_hint(e, "synth needs PostGIS: run `pc6risk init` first, or connect as a role that may create it");
	return rc;
}

static void world_free(struct world *w)
{
	free(w->gm);
	free(w->wk);
	free(w->bu);
	free(w->pc);
	free(w->pc4);
	free(w->kwb_path);
	pc6gen_sizes_free(&w->sizes);
}

static int run_denhaag(struct world *w, struct err *e)
{
	struct draws *dr = NULL;
	int rc = -1;

	if (read_kwb(w, e) < 0)
		return -1;
	dr = xcalloc(w->nbu, sizeof *dr);
	if (denhaag_cells(w, dr, e) < 0 || interrupted(e) < 0 || figures(w, e) < 0 || denhaag_codes(w, e) < 0)
		goto out;
	/* from here on the PC6 are in code order, which is their id in PostGIS */
	qsort(w->pc, w->npc, sizeof *w->pc, cmp_pc_code);
	for (size_t i = 0; i < w->nbu; i++)
		w->bu[i].first = w->bu[i].n = 0;
	if (denhaag_geometry(w, e) < 0)
		goto out;
	rc = 0;
out:
	for (size_t i = 0; dr && i < w->nbu; i++)
		draws_free(&dr[i]);
	free(dr);
	return rc;
}

static int run_nl(struct world *w, struct err *e)
{
	struct nl n = {0};
	size_t *pc_of_point = NULL;
	int rc = -1;

	if (nl_build(w, &n, e) < 0)
		goto out;
	nl_cells(w, &n);
	if (figures(w, e) < 0 || nl_codes(w, e) < 0 || interrupted(e) < 0)
		goto out;
	/* the buurt totals of the drawn figures, for the buurt file */
	for (size_t b = 0; b < w->nbu; b++) {
		long wwb = 0, all = 0;

		for (size_t j = 0; j < w->bu[b].n; j++) {
			wwb += w->pc[w->bu[b].first + j].f.benefits;
			all += w->pc[w->bu[b].first + j].f.benefits_all;
		}
		w->bu[b].model.benefits = wwb;
		w->bu[b].model.other_benefits = all - wwb;
	}
	/* from here on the PC6 are in code order, which is their id in PostGIS */
	qsort(w->pc, w->npc, sizeof *w->pc, cmp_pc_code);
	pc_of_point = xcalloc(n.npts + 1, sizeof *pc_of_point);
	for (size_t k = 0; k < w->npc; k++)
		pc_of_point[w->pc[k].point] = k;
	if (nl_geometry(w, &n, pc_of_point, e) < 0)
		goto out;
	rc = 0;
out:
	free(pc_of_point);
	nl_free(&n);
	return rc;
}

/* Say up front when the data directory lacks a file the area needs. */
static int check_data(const struct world *w, struct err *e)
{
	static const char *const common[] = {SIZES_FILE, PC4_FILE, NULL};
	static const char *const denhaag[] = {KWB_FILE, "den_haag_gemeente_2015.geojson", "den_haag_wijken_2015.geojson",
					      "den_haag_buurten_2015.geojson", "DHZW_PC6_shapefile.shp", NULL};

	for (int k = 0; k < 2; k++) {
		for (const char *const *f = k ? denhaag : common; *f; f++) {
			char *path;

			if (k && w->o->area != SYNTH_DENHAAG)
				break;
			path = data_file(w, *f);
			if (access(path, R_OK) != 0) {
				err_set(e, ERR_INPUT, path, "cannot read %s: %s", *f, strerror(errno));
				err_hint(e, "point --data at pc6risk's demo/data folder: it holds the real files synth starts from");
				free(path);
				return -1;
			}
			free(path);
		}
	}
	return 0;
}

int synth_run(struct db *db, const struct synth_opts *o, struct synth_stats *st, struct err *e)
{
	struct world w = {.o = o, .db = db, .area = synth_area_name(o->area)};
	int rc = -1;

	memset(st, 0, sizeof *st);
	clock_gettime(CLOCK_MONOTONIC, &w.t0);
	if (fsx_mkdirs(o->out_dir, e) < 0)
		return -1;
	if (check_data(&w, e) < 0 || read_sizes(&w, e) < 0 || read_pc4(&w, e) < 0)
		goto out;
	if (create_scratch(&w, e) < 0)
		goto out;
	if (o->area == SYNTH_DENHAAG) {
		if (load_denhaag_areas(&w, e) < 0 || run_denhaag(&w, e) < 0)
			goto out;
	} else {
		if (db_exec(db, "CREATE TABLE src (level text)", e) < 0 || run_nl(&w, e) < 0)
			goto out;
	}
	st->areas[LEVEL_GEMEENTE] = (long long)w.ngm;
	st->areas[LEVEL_WIJK] = (long long)w.nwk;
	st->areas[LEVEL_BUURT] = (long long)w.nbu;
	st->areas[LEVEL_PC6] = (long long)w.npc;
	for (size_t k = 0; k < w.npc; k++)
		st->pc6_real += w.pc[k].real;
	ks(&w, st);
	if (write_gpkg(&w, e) < 0 || interrupted(e) < 0 || write_pc6_csv(&w, e) < 0 || write_buurt_csv(&w, e) < 0 ||
	    write_crosswalk(&w, st, e) < 0 || write_config(&w, e) < 0 || write_metadata(&w, st, e) < 0 ||
	    fsx_fsync_dir(o->out_dir, e) < 0)
		goto out;
	log_msg(LOG_INFO,
		"wrote a synthetic set area=%s seed=%llu gemeenten=%zu wijken=%zu buurten=%zu pc6=%zu real_pc6=%lld"
		" addresses=%lld ks_households=%.3f ks_inhabitants=%.3f seconds=%.1f dir=%s",
		w.area, (unsigned long long)o->seed, w.ngm, w.nwk, w.nbu, w.npc, st->pc6_real, st->addresses,
		st->ks_households, st->ks_inhabitants, elapsed(&w), o->out_dir);
	rc = 0;
out:
	db_rollback(db);
	world_free(&w);
	return rc;
}
