#include "pc6risk/publish.h"
#include "pc6risk/areas.h"
#include "pc6risk/audit.h"
#include "pc6risk/fsx.h"
#include "pc6risk/gpkg.h"
#include "pc6risk/log.h"
#include "pc6risk/pngpub.h"
#include "pc6risk/report.h"
#include "pc6risk/sbuf.h"
#include "pc6risk/signals.h"
#include "pc6risk/text.h"
#include "pc6risk/tiles.h"
#include "pc6risk/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

/* Rows of the ranking shown before only the pilot areas are. */
#define RANKING_TOP 10

/* One selected neighbourhood. */
struct selection {
	const char *query;
	char slug[128];
	char *level;
	char *code;
	char *name;
};

/* Areas for a file: every buurt of the scope, and its PC6 when with_pc6.
 * $1 scope level ('all', 'wijk' or 'buurt'), $2 scope code, $3 with_pc6. */
#define SCOPE_WHERE                                                                                       \
	" WHERE (a.level = 'buurt' OR (a.level = 'pc6' AND $3::bool))"                                    \
	" AND CASE $1 WHEN 'wijk' THEN a.wijk_code = $2 WHEN 'buurt' THEN a.buurt_code = $2 ELSE true END"

static const char areas_sql[] =
	"SELECT a.level, a.code, a.name, a.buurt_code, a.wijk_code, a.gemeente_code,"
	" ST_AsGeoJSON(ST_ForcePolygonCCW(ST_Transform(a.geom, 4326)), 6), a.group_code, a.unit_code"
	" FROM protected_area a" SCOPE_WHERE " ORDER BY a.level = 'pc6', a.code COLLATE \"C\"";

/* The band of each PC6's group, per scenario, in the order of areas_sql. */
static const char bands_sql[] =
	"SELECT a.code, g.scenario, g.band, g.bands, g.score"
	" FROM protected_area a JOIN protected_group_value g ON g.group_code = a.group_code" SCOPE_WHERE
	" AND a.level = 'pc6' ORDER BY a.code COLLATE \"C\", g.scenario COLLATE \"C\"";

static const char values_sql[] =
	"SELECT v.level, v.code, v.scenario, v.status,"
	" coalesce(v.reason, 'below the size rules on its own: shows its ' || v.shown_from || '''s score'),"
	" v.score, v.rank, v.ranked"
	" FROM protected_value v JOIN protected_area a USING (level, code)" SCOPE_WHERE
	" ORDER BY a.level = 'pc6', a.code COLLATE \"C\", v.scenario COLLATE \"C\"";

int publish_select(const struct area_ref *areas, size_t n, const char *query, size_t *found, struct err *e)
{
	static const char *const levels[] = {"wijk", "buurt"};

	for (size_t i = 0; i < n; i++) {
		if (strcasecmp(areas[i].code, query) == 0) {
			*found = i;
			return 0;
		}
	}
	for (size_t l = 0; l < 2; l++) {
		size_t matches = 0, exact = 0, last = 0, last_exact = 0;

		for (size_t i = 0; i < n; i++) {
			if (strcmp(areas[i].level, levels[l]) != 0 || !text_name_matches(areas[i].name, query))
				continue;
			matches++;
			last = i;
			if (text_name_equals(areas[i].name, query)) {
				exact++;
				last_exact = i;
			}
		}
		if (matches == 1 || exact == 1) {
			*found = matches == 1 ? last : last_exact;
			return 0;
		}
		if (matches > 1) {
			struct sbuf list = {0};

			for (size_t i = 0; i < n; i++)
				if (strcmp(areas[i].level, levels[l]) == 0 && text_name_matches(areas[i].name, query))
					sbuf_printf(&list, "\n  %s %s \"%s\"", areas[i].level, areas[i].code,
						    areas[i].name);
			err_set(e, ERR_INPUT, NULL, "\"%s\" matches %zu %s areas", query, matches, levels[l]);
			err_detail(e, "the matches are:%s", list.s);
			err_hint(e, "give the code, or more of the name");
			sbuf_free(&list);
			return -1;
		}
	}
	err_set(e, ERR_INPUT, NULL, "no wijk or buurt is named like \"%s\"", query);
	return err_hint(e, "give a name as CBS writes it (\"Schildersbuurt\") or a code (\"WK051829\")");
}

static int resolve_selections(struct db *db, const char *const *queries, size_t n, struct selection *sel,
			      struct err *e)
{
	struct db_result *r;
	struct area_ref *refs;
	size_t nrefs;
	int rc = 0;

	r = db_query(db,
		     "SELECT level, code, name FROM protected_area WHERE level IN ('wijk', 'buurt')"
		     " ORDER BY level DESC, code COLLATE \"C\"",
		     0, NULL, e);
	if (!r)
		return -1;
	nrefs = (size_t)db_nrows(r);
	refs = xcalloc(nrefs, sizeof *refs);
	for (size_t i = 0; i < nrefs; i++) {
		refs[i].level = db_value(r, (int)i, 0);
		refs[i].code = db_value(r, (int)i, 1);
		refs[i].name = db_value(r, (int)i, 2);
	}
	for (size_t i = 0; i < n && rc == 0; i++) {
		size_t k;

		sel[i].query = queries[i];
		if (publish_select(refs, nrefs, queries[i], &k, e) < 0) {
			rc = -1;
			break;
		}
		text_slug(queries[i], sel[i].slug, sizeof sel[i].slug);
		if (sel[i].slug[0] == '\0')
			text_slug(refs[k].code, sel[i].slug, sizeof sel[i].slug);
		for (size_t j = 0; j < i; j++) {
			if (strcmp(sel[j].slug, sel[i].slug) == 0) {
				rc = err_set(e, ERR_INPUT, NULL, "\"%s\" and \"%s\" would both be written to %s.geojson",
					     sel[j].query, sel[i].query, sel[i].slug);
				break;
			}
		}
		sel[i].level = xstrdup(refs[k].level);
		sel[i].code = xstrdup(refs[k].code);
		sel[i].name = xstrdup(refs[k].name);
		log_msg(LOG_INFO, "selected \"%s\" as %s %s (%s)", queries[i], sel[i].level, sel[i].code, sel[i].name);
	}
	free(refs);
	db_result_free(r);
	return rc;
}

static void put_value_props(struct sbuf *b, const struct config_scenario *s, struct db_result *v, int row)
{
	const char *status = row >= 0 ? db_value(v, row, 3) : "not_scored";
	const char *reason = row >= 0 ? db_value(v, row, 4) : NULL;
	const char *score = row >= 0 ? db_value(v, row, 5) : NULL;
	const char *rank = row >= 0 ? db_value(v, row, 6) : NULL;
	const char *ranked = row >= 0 ? db_value(v, row, 7) : NULL;

	sbuf_printf(b, ",\"%s_score\":", s->name);
	if (score)
		sbuf_json_number(b, strtod(score, NULL), 1);
	else
		sbuf_puts(b, "null");
	sbuf_printf(b, ",\"%s_rank\":%s", s->name, rank ? rank : "null");
	sbuf_printf(b, ",\"%s_ranked_of\":%s", s->name, ranked ? ranked : "null");
	sbuf_printf(b, ",\"%s_band\":null", s->name);
	sbuf_printf(b, ",\"%s_status\":", s->name);
	sbuf_json_string(b, status);
	sbuf_printf(b, ",\"%s_note\":", s->name);
	sbuf_json_string(b, reason);
}

/* A PC6: its group's band (and exact score where the policy allows), or why
 * it has none. The same keys as put_value_props. */
static void put_band_props(struct sbuf *b, const struct config_scenario *s, struct db_result *v, int row,
			   const char *group)
{
	const char *score = row >= 0 ? db_value(v, row, 4) : NULL;

	sbuf_printf(b, ",\"%s_score\":", s->name);
	if (score)
		sbuf_json_number(b, strtod(score, NULL), 1);
	else
		sbuf_puts(b, "null");
	sbuf_printf(b, ",\"%s_rank\":null,\"%s_ranked_of\":null,\"%s_band\":%s", s->name, s->name, s->name,
		    row >= 0 ? db_value(v, row, 2) : "null");
	sbuf_printf(b, ",\"%s_status\":\"%s\",\"%s_note\":", s->name,
		    row >= 0 ? "published" : s->outputs[LEVEL_PC6] ? "suppressed" : "not_scored", s->name);
	if (row >= 0) {
		struct sbuf note = {0};

		sbuf_printf(&note, "band %s of %s (1 = least risk) of group %s", db_value(v, row, 2), db_value(v, row, 3),
			    group ? group : "?");
		sbuf_json_string(b, note.s);
		sbuf_free(&note);
	} else {
		sbuf_json_string(b, s->outputs[LEVEL_PC6] ? "its buurt is below the size rules: see the buurt" : NULL);
	}
}

/* Write a FeatureCollection of the scope into out; one feature per line. */
static int build_geojson(struct db *db, const struct config *cfg, const char *scope_level, const char *scope_code,
			 bool with_pc6, struct sbuf *out, long long *nfeatures, struct err *e)
{
	const char *params[3] = {scope_level, scope_code, with_pc6 ? "true" : "false"};
	struct db_result *a = NULL, *v = NULL, *bands = NULL;
	int j = 0, nv, jb = 0, nb, rc = -1;

	a = db_query(db, areas_sql, 3, params, e);
	if (!a)
		goto out;
	v = db_query(db, values_sql, 3, params, e);
	if (!v)
		goto out;
	nv = db_nrows(v);
	if (with_pc6 && !(bands = db_query(db, bands_sql, 3, params, e)))
		goto out;
	nb = bands ? db_nrows(bands) : 0;
	sbuf_puts(out, "{\"type\":\"FeatureCollection\",\"features\":[\n");
	for (int i = 0; i < db_nrows(a); i++) {
		const char *level = db_value(a, i, 0), *code = db_value(a, i, 1);
		bool pc6 = strcmp(level, "pc6") == 0;
		int first = j, first_band = jb;

		while (j < nv && strcmp(db_value(v, j, 0), level) == 0 && strcmp(db_value(v, j, 1), code) == 0)
			j++;
		while (pc6 && jb < nb && strcmp(db_value(bands, jb, 0), code) == 0)
			jb++;
		sbuf_puts(out, i ? ",\n{\"type\":\"Feature\",\"id\":" : "{\"type\":\"Feature\",\"id\":");
		sbuf_json_string(out, code);
		sbuf_puts(out, ",\"properties\":{\"code\":");
		sbuf_json_string(out, code);
		sbuf_puts(out, ",\"name\":");
		sbuf_json_string(out, db_value(a, i, 2));
		sbuf_puts(out, ",\"level\":");
		sbuf_json_string(out, level);
		sbuf_puts(out, ",\"buurt_code\":");
		sbuf_json_string(out, db_value(a, i, 3));
		sbuf_puts(out, ",\"wijk_code\":");
		sbuf_json_string(out, db_value(a, i, 4));
		sbuf_puts(out, ",\"gemeente_code\":");
		sbuf_json_string(out, db_value(a, i, 5));
		sbuf_puts(out, ",\"group\":");
		sbuf_json_string(out, db_value(a, i, 7));
		sbuf_puts(out, ",\"unit\":");
		sbuf_json_string(out, db_value(a, i, 8));
		for (size_t s = 0; s < cfg->nscenarios; s++) {
			int row = -1;

			if (pc6) {
				for (int k = first_band; k < jb; k++)
					if (strcmp(db_value(bands, k, 1), cfg->scenarios[s].name) == 0)
						row = k;
				put_band_props(out, &cfg->scenarios[s], bands, row, db_value(a, i, 7));
				continue;
			}
			for (int k = first; k < j; k++)
				if (strcmp(db_value(v, k, 2), cfg->scenarios[s].name) == 0)
					row = k;
			put_value_props(out, &cfg->scenarios[s], v, row);
		}
		sbuf_puts(out, "},\"geometry\":");
		sbuf_puts(out, db_value(a, i, 6));
		sbuf_putc(out, '}');
	}
	sbuf_puts(out, "\n]}\n");
	*nfeatures = db_nrows(a);
	rc = 0;
out:
	db_result_free(a);
	db_result_free(v);
	db_result_free(bands);
	return rc;
}

static int write_geojson(struct db *db, const struct config *cfg, const char *dir, const char *file,
			 const char *scope_level, const char *scope_code, bool with_pc6, struct publish_stats *st,
			 struct err *e)
{
	struct sbuf b = {0};
	char *path = xasprintf("%s/%s", dir, file);
	long long n = 0;
	int rc = -1;

	if (build_geojson(db, cfg, scope_level, scope_code, with_pc6, &b, &n, e) == 0 &&
	    fsx_write_file(path, b.s, b.len, e) == 0) {
		st->features += n;
		st->files++;
		log_msg(LOG_DEBUG, "wrote %s features=%lld bytes=%zu", file, n, b.len);
		rc = 0;
	}
	sbuf_free(&b);
	free(path);
	return rc;
}

static int write_release_json(struct db *db, const struct config *cfg, const char *dir, const char *release,
			      long long run_id, const struct selection *sel, size_t nsel, struct err *e)
{
	struct sbuf b = {0};
	char stamp[32], *path;
	time_t now = time(NULL);
	struct tm tm;
	int rc = 0;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
	sbuf_puts(&b, "{\n  \"release\": ");
	sbuf_json_string(&b, release);
	sbuf_printf(&b, ",\n  \"run\": %lld,\n  \"created_at\": \"%s\",\n  \"schema\": ", run_id, stamp);
	sbuf_json_string(&b, db_schema(db));
	sbuf_printf(&b, ",\n  \"privacy\": {\"k\": %d, \"count\": ", cfg->k);
	sbuf_json_string(&b, cfg->k_indicator);
	sbuf_puts(&b, "},\n  \"scenarios\": [");
	for (size_t i = 0; i < cfg->nscenarios; i++) {
		const struct config_scenario *s = &cfg->scenarios[i];
		const char *params[1] = {s->name};
		struct db_result *r = db_query(db,
					       "SELECT count(*) FILTER (WHERE status = 'published'),"
					       " count(*) FILTER (WHERE status = 'suppressed')"
					       " FROM protected_value WHERE scenario = $1",
					       1, params, e);

		if (!r) {
			rc = -1;
			goto out;
		}
		sbuf_printf(&b, "%s\n    {\"name\": ", i ? "," : "");
		sbuf_json_string(&b, s->name);
		sbuf_puts(&b, ", \"title\": ");
		sbuf_json_string(&b, s->title);
		sbuf_printf(&b, ", \"level\": \"%s\", \"properties\": \"%s_*\", \"published\": %s, \"suppressed\": %s}",
			    level_name(config_display_level(s)), s->name, db_value(r, 0, 0), db_value(r, 0, 1));
		db_result_free(r);
	}
	sbuf_puts(&b, "\n  ],\n  \"neighbourhoods\": [");
	for (size_t i = 0; i < nsel; i++) {
		sbuf_printf(&b, "%s\n    {\"query\": ", i ? "," : "");
		sbuf_json_string(&b, sel[i].query);
		sbuf_printf(&b, ", \"file\": \"neighbourhoods/%s.geojson\", \"level\": \"%s\", \"code\": ", sel[i].slug,
			    sel[i].level);
		sbuf_json_string(&b, sel[i].code);
		sbuf_puts(&b, ", \"name\": ");
		sbuf_json_string(&b, sel[i].name);
		sbuf_putc(&b, '}');
	}
	sbuf_puts(&b, nsel ? "\n  ]" : "]");
	if (cfg->attribution) {
		sbuf_puts(&b, ",\n  \"attribution\": ");
		sbuf_json_string(&b, cfg->attribution);
	}
	sbuf_puts(&b, "\n}\n");
	path = xasprintf("%s/release.json", dir);
	rc = fsx_write_file(path, b.s, b.len, e);
	free(path);
out:
	sbuf_free(&b);
	return rc;
}

static int by_name(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Remove staging directories left by publishers that died (kill -9, a crash):
 * their names end in the pid, and that process is gone. */
static void remove_dead_staging(const char *releases)
{
	DIR *d = opendir(releases);
	struct dirent *ent;

	if (!d)
		return;
	while ((ent = readdir(d)) != NULL) {
		const char *dash = strrchr(ent->d_name, '-');
		char *end, *path;
		struct err e;
		long pid;

		if (strncmp(ent->d_name, ".staging-", 9) != 0 || !dash)
			continue;
		pid = strtol(dash + 1, &end, 10);
		if (*end != '\0' || pid <= 0 || kill((pid_t)pid, 0) == 0 || errno != ESRCH)
			continue;
		path = xasprintf("%s/%s", releases, ent->d_name);
		if (fsx_rmtree(path, &e) == 0)
			log_msg(LOG_INFO, "removed %s, left by a publish that did not finish", path);
		free(path);
	}
	closedir(d);
}

/* Remove all but the newest `keep` releases; never the one current points to. */
static void prune_releases(const char *out_dir, const char *current, int keep)
{
	char *dir = xasprintf("%s/releases", out_dir);
	DIR *d = opendir(dir);
	struct dirent *ent;
	char **names = NULL;
	size_t n = 0, cap = 0;

	if (!d) {
		free(dir);
		return;
	}
	while ((ent = readdir(d)) != NULL) {
		if (ent->d_name[0] == '.')
			continue;
		if (n == cap) {
			cap = cap ? cap * 2 : 16;
			names = xrealloc(names, cap * sizeof *names);
		}
		names[n++] = xstrdup(ent->d_name);
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof *names, by_name);
	for (size_t i = 0; i < n; i++) {
		if (i + (size_t)keep < n && strcmp(names[i], current) != 0) {
			char *path = xasprintf("%s/%s", dir, names[i]);
			struct err e;

			if (fsx_rmtree(path, &e) < 0)
				log_msg(LOG_WARN, "cannot remove old release %s: %s", path, e.message);
			else
				log_msg(LOG_DEBUG, "removed old release %s", names[i]);
			free(path);
		}
		free(names[i]);
	}
	free(names);
	free(dir);
}

static void pad(const char *s, size_t width)
{
	size_t w = text_width(s);

	fputs(s, stdout);
	for (; w < width; w++)
		putchar(' ');
}

/* The label of the selection an area belongs to, or NULL. */
static const char *pilot_of(const struct selection *sel, size_t nsel, const char *code, const char *wijk_code)
{
	for (size_t i = 0; i < nsel; i++) {
		if (strcmp(sel[i].level, "wijk") == 0 ? wijk_code && strcmp(sel[i].code, wijk_code) == 0
						      : strcmp(sel[i].code, code) == 0)
			return sel[i].query;
	}
	return NULL;
}

/* The ranked table on stdout: the top rows, every row of a selected area, and
 * a line per selection saying where it stands. */
static int print_ranking(struct db *db, const struct config *cfg, const struct selection *sel, size_t nsel,
			 struct err *e)
{
	for (size_t s = 0; s < cfg->nscenarios; s++) {
		const struct config_scenario *sc = &cfg->scenarios[s];
		const char *params[2] = {sc->name, level_name(config_display_level(sc))};
		struct db_result *r;
		int n, suppressed = 0, unranked = 0, ranked, shown_to = 0;

		r = db_query(db,
			     "SELECT v.status, v.rank, v.ranked, a.code, a.name, a.wijk_code, w.name, v.score"
			     " FROM protected_value v JOIN protected_area a USING (level, code)"
			     " LEFT JOIN protected_area w ON w.level = 'wijk' AND w.code = a.wijk_code"
			     " WHERE v.scenario = $1 AND v.level = $2"
			     " ORDER BY v.status, v.rank, a.code COLLATE \"C\"",
			     2, params, e);
		if (!r)
			return -1;
		n = db_nrows(r);
		for (int i = 0; i < n; i++) {
			suppressed += strcmp(db_value(r, i, 0), "suppressed") == 0;
			unranked += strcmp(db_value(r, i, 0), "published") == 0 && !db_value(r, i, 1);
		}
		/* published and ranked first (rank ascending), then published
		 * with a coarser level's score (no rank), then suppressed */
		ranked = n - suppressed - unranked;
		printf("\n%s: %s\n", sc->name, sc->title);
		printf("%d %s ranked (highest score first)", ranked, level_plural(config_display_level(sc)));
		if (unranked)
			printf(", %d below the size rules on their own (shown with their wijk's score)", unranked);
		if (suppressed)
			printf(", %d suppressed (below the size rules, or no figure)", suppressed);
		printf("\n\n");
		printf("%5s  %-10s  ", "rank", "code");
		pad(level_name(config_display_level(sc)), 30);
		printf("  ");
		pad("wijk", 34);
		printf("  %7s\n", "score");
		for (int i = 0; i < ranked; i++) {
			const char *code = db_value(r, i, 3), *wijk = db_value(r, i, 6);
			const char *pilot = pilot_of(sel, nsel, code, db_value(r, i, 5));

			if (i >= RANKING_TOP && !pilot)
				continue;
			if (i > shown_to)
				printf("%5s\n", "...");
			shown_to = i + 1;
			printf("%5s  %-10s  ", db_value(r, i, 1), code);
			pad(db_value(r, i, 4), 30);
			printf("  ");
			pad(wijk ? wijk : "", 34);
			printf("  %7.1f%s%s\n", strtod(db_value(r, i, 7), NULL), pilot ? "  <- " : "", pilot ? pilot : "");
		}
		if (shown_to < ranked)
			printf("%5s\n", "...");
		if (nsel)
			printf("\n");
		for (size_t k = 0; k < nsel; k++) {
			struct sbuf ranks = {0};
			int count = 0, hidden = 0;

			for (int i = 0; i < n; i++) {
				if (pilot_of(&sel[k], 1, db_value(r, i, 3), db_value(r, i, 5)) == NULL)
					continue;
				if (!db_value(r, i, 1)) {
					hidden++;
					continue;
				}
				sbuf_printf(&ranks, "%s%s", count ? ", " : "", db_value(r, i, 1));
				count++;
			}
			printf("%s (%s %s, %s): %d %s ranked %s of %d", sel[k].query, sel[k].level, sel[k].code,
			       sel[k].name, count,
			       count == 1 ? level_name(config_display_level(sc)) : level_plural(config_display_level(sc)),
			       count ? ranks.s : "-", ranked);
			if (hidden)
				printf(", %d not ranked", hidden);
			printf("\n");
			sbuf_free(&ranks);
		}
		db_result_free(r);
	}
	return 0;
}

/* COPY rows appended to a buffer. */
static int append_row(char *row, size_t len, void *arg, struct err *e)
{
	(void)e;
	sbuf_append(arg, row, len);
	if (len == 0 || row[len - 1] != '\n')
		sbuf_putc(arg, '\n');
	return 0;
}

/* COPY rows written to a file as they come (figures.csv is 200 MB nationally). */
static int stream_row(char *row, size_t len, void *arg, struct err *e)
{
	struct fsx_out *o = arg;

	append_row(row, len, &o->b, e);
	return fsx_out_flush(o, FSX_OUT_BATCH, e);
}

/* disclosure/: the groups, every count and group band, and the policy, as
 * docs/disclosure.md defines them; what `pc6risk audit` reads. */
static int write_disclosure(struct db *db, const char *staging, struct publish_stats *st, struct err *e)
{
	static const char *const files[3] = {"groups.csv", "figures.csv", "policy.json"};
	static const char *const sql[3] = {
		"COPY (SELECT code AS group, buurt_code AS buurt, wijk_code AS wijk, gemeente_code AS gemeente,"
		" array_to_string(members, ' ') AS members FROM protected_group ORDER BY code COLLATE \"C\")"
		" TO STDOUT WITH (FORMAT csv, HEADER)",
		"COPY (SELECT level, region, variable, kind, status, value, base, reason FROM ("
		"  SELECT level, region, variable, kind, status, value::bigint::text AS value, base::text, reason"
		"  FROM protected_figure"
		"  UNION ALL SELECT 'group', group_code, 'score:' || scenario, 'score', 'published',"
		"   coalesce(score::text, band::text), NULL, NULL"
		"  FROM protected_group_value WHERE band IS NOT NULL) f"
		" ORDER BY array_position(ARRAY['group', 'buurt', 'wijk', 'gemeente'], level),"
		"  region COLLATE \"C\", variable COLLATE \"C\") TO STDOUT WITH (FORMAT csv, HEADER)",
		"COPY (SELECT jsonb_pretty(policy) FROM protected_policy) TO STDOUT",
	};
	char *dir = xasprintf("%s/disclosure", staging), *path = NULL;
	struct sbuf b = {0}, json = {0};
	int rc = -1;

	if (fsx_mkdirs(dir, e) < 0)
		goto out;
	for (int i = 0; i < 2; i++) {
		struct fsx_out o;
		int w = fsx_out_open(&o, dir, files[i], e);

		if (w == 0)
			w = db_copy_out(db, sql[i], stream_row, &o, e);
		if (fsx_out_close(&o, w == 0, e) < 0 || w < 0)
			goto out;
		st->files++;
	}
	/* policy.json, small: COPY text escapes the newlines jsonb_pretty writes */
	if (db_copy_out(db, sql[2], append_row, &b, e) < 0)
		goto out;
	if (b.len == 0) {
		err_set(e, ERR_INPUT, NULL, "nothing to publish: protect has not run");
		goto out;
	}
	for (size_t k = 0; k < b.len; k++) {
		if (b.s[k] == '\\' && k + 1 < b.len && b.s[k + 1] == 'n') {
			sbuf_putc(&json, '\n');
			k++;
		} else {
			sbuf_putc(&json, b.s[k]);
		}
	}
	path = xasprintf("%s/%s", dir, files[2]);
	if (fsx_write_file(path, json.s ? json.s : "", json.len, e) < 0)
		goto out;
	st->files++;
	rc = fsx_fsync_dir(dir, e);
out:
	sbuf_free(&b);
	sbuf_free(&json);
	free(path);
	free(dir);
	return rc;
}

/* Audit the staged release (docs/disclosure.md): a release that fails is not
 * published. The failures go to the log. */
static int audit_release(const char *staging, struct publish_stats *st, struct err *e)
{
	struct audit_report rep;
	int rc = audit_dir(staging, NULL, &rep, e);

	if (rc == 1) {
		for (size_t i = 0; i < rep.nfailures && i < 20; i++)
			log_msg(LOG_ERROR, "audit %s: %s", audit_check_name(rep.failures[i].check),
				rep.failures[i].message);
		err_set(e, ERR_INTERNAL, NULL,
			"the release fails its disclosure audit (%zu failures, the first ones logged above); "
			"nothing was published and the previous publication is unchanged",
			rep.nfailures);
		err_hint(e, "this is a bug in protect: please report it with the log");
		rc = -1;
	} else if (rc == 0) {
		st->audited_figures = rep.figures;
		st->audit_lp_solves = rep.lp_solves;
		log_msg(LOG_INFO, "audit passed figures=%ld suppressed_counts=%ld lp_solves=%ld seconds=%.3f", rep.figures,
			rep.suppressed_counts, rep.lp_solves, rep.lp_seconds);
	}
	audit_report_free(&rep);
	return rc;
}

/* The tiles, then the disclosure files, written on a thread of their own
 * (with its own connection on the publication's snapshot) while this one
 * writes the GeoPackage and the rest: the GeoPackage keeps one core busy
 * (GDAL and SQLite), the tiles can use the other. When the server refuses a
 * second connection (a role's or database's connection limit, a full server)
 * they are written after the rest, on the main connection. */
struct tiles_job {
	struct db *db;
	struct db *main; /* set when the tiles wait for the main connection */
	const struct config *cfg;
	const char *staging;
	char *prev;
	int minzoom, maxzoom;
	bool stop;
	bool started;
	pthread_t th;
	struct tiles_stats ts;
	struct publish_stats st; /* of the disclosure files */
	struct err e;
	int rc;
};

static void tiles_run(struct tiles_job *j, struct db *db)
{
	j->rc = tiles_write(db, j->cfg, j->staging, j->prev, j->minzoom, j->maxzoom, &j->stop, &j->ts, &j->e);
	if (j->rc == 0 && !__atomic_load_n(&j->stop, __ATOMIC_RELAXED))
		j->rc = write_disclosure(db, j->staging, &j->st, &j->e);
}

static void *tiles_thread(void *arg)
{
	struct tiles_job *j = arg;

	tiles_run(j, j->db);
	return NULL;
}

static int tiles_start(struct tiles_job *j, struct db *db, const struct config *cfg, const char *out_dir,
		       const char *staging, const struct publish_opts *opts, struct err *e)
{
	char *cur = xasprintf("%s/current", out_dir);
	int rc;

	*j = (struct tiles_job){.cfg = cfg, .staging = staging, .minzoom = opts->minzoom, .maxzoom = opts->maxzoom};
	j->prev = realpath(cur, NULL);
	free(cur);
	if (!(j->db = db_connect_snapshot(db, e))) {
		if (e->cls != ERR_DATABASE || !db_ok(db)) {
			err_prefix(e, "opening a second connection for the tiles");
			return -1;
		}
		log_msg(LOG_WARN, "no second connection for the tiles (%s): they are written after the rest, on this one",
			e->message);
		j->main = db;
		return 0;
	}
	rc = pthread_create(&j->th, NULL, tiles_thread, j);
	if (rc != 0)
		return err_set(e, ERR_SYSTEM, NULL, "cannot start a thread for the tiles: %s", strerror(rc));
	j->started = true;
	return 0;
}

/* Wait for the tiles (asking them to stop first when give_up) and pass on
 * their error; close their connection. Safe to call again, and on a job
 * never started. */
static int tiles_finish(struct tiles_job *j, bool give_up, struct err *e)
{
	int rc = 0;

	if (j->main) {
		if (!give_up) {
			tiles_run(j, j->main);
			if (j->rc < 0) {
				*e = j->e;
				rc = -1;
			}
		}
		j->main = NULL;
	}
	if (j->started) {
		if (give_up) {
			__atomic_store_n(&j->stop, true, __ATOMIC_RELAXED);
			db_cancel(j->db);
		}
		pthread_join(j->th, NULL);
		j->started = false;
		if (j->rc < 0 && !give_up) {
			*e = j->e;
			rc = -1;
		}
	}
	db_close(j->db);
	j->db = NULL;
	free(j->prev);
	j->prev = NULL;
	return rc;
}

int publish_run(struct db *db, const struct config *cfg, const struct publish_opts *opts,
		struct publish_stats *st, struct err *e)
{
	const char *out_dir = opts->out_dir ? opts->out_dir : cfg->out_dir;
	const char *const *queries = opts->select ? opts->select : (const char *const *)cfg->neighbourhoods;
	size_t nsel = opts->select ? opts->nselect : cfg->nneighbourhoods;
	struct selection *sel = xcalloc(nsel ? nsel : 1, sizeof *sel);
	char stamp[32], *releases = NULL, *staging = NULL, *final = NULL, *nbdir = NULL, *link = NULL, *target = NULL;
	struct db_result *r = NULL;
	time_t now = time(NULL);
	struct tm tm;
	struct timespec t;
	struct tiles_job tj = {0};
	bool tiles = cfg->tiles.enabled && !opts->no_tiles;
	int rc = -1;

	clock_gettime(CLOCK_MONOTONIC, &t);
	memset(st, 0, sizeof *st);
	if (db_begin(db, e) < 0)
		goto out;
	/* One publisher per schema; REPEATABLE READ so every file sees the same data. */
	if (db_exec(db, "SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY", e) < 0 ||
	    db_lock(db, "publish", false, e) < 0)
		goto out;
	for (size_t i = 0; i < cfg->nscenarios; i++) {
		const char *params[1] = {cfg->scenarios[i].name};

		r = db_query(db, "SELECT count(*) FROM protected_value WHERE scenario = $1", 1, params, e);
		if (!r)
			goto out;
		if (strcmp(db_value(r, 0, 0), "0") == 0) {
			err_set(e, ERR_INPUT, NULL, "nothing to publish for scenario %s", cfg->scenarios[i].name);
			err_hint(e, "run `pc6risk score` and `pc6risk protect` first (or `pc6risk refresh`)");
			goto out;
		}
		db_result_free(r);
		r = NULL;
	}
	if (resolve_selections(db, queries, nsel, sel, e) < 0)
		goto out;

	gmtime_r(&now, &tm);
	strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
	snprintf(st->release, sizeof st->release, "%s-r%lld", stamp, opts->run_id);
	releases = xasprintf("%s/releases", out_dir);
	staging = xasprintf("%s/.staging-%s-%ld", releases, st->release, (long)getpid());
	final = xasprintf("%s/%s", releases, st->release);
	nbdir = xasprintf("%s/neighbourhoods", staging);
	if (fsx_mkdirs(releases, e) < 0)
		goto out;
	remove_dead_staging(releases);
	if (fsx_mkdirs(nbdir, e) < 0)
		goto out;
	if (access(final, F_OK) == 0) {
		err_set(e, ERR_SYSTEM, final, "a release of this name exists already");
		err_hint(e, "wait a second and publish again");
		goto out;
	}

	log_step(&t, "publish", "check");
	if (tiles && tiles_start(&tj, db, cfg, out_dir, staging, opts, e) < 0)
		goto fail_staging;
	if (write_geojson(db, cfg, staging, "buurten.geojson", "all", "", false, st, e) < 0)
		goto fail_staging;
	log_step(&t, "publish", "buurten.geojson");
	if (gpkg_write(db, cfg, staging, st, e) < 0)
		goto fail_staging;
	log_step(&t, "publish", "GeoPackage and CSV");
	if ((cfg->png.enabled || opts->png) && pngpub_write(db, cfg, staging, st, e) < 0)
		goto fail_staging;
	for (size_t i = 0; i < nsel; i++) {
		char *file = xasprintf("neighbourhoods/%s.geojson", sel[i].slug);
		int w = write_geojson(db, cfg, staging, file, sel[i].level, sel[i].code, true, st, e);

		free(file);
		if (w < 0 || signals_pending())
			goto fail_staging;
	}
	log_step(&t, "publish", "PNG and neighbourhoods");
	if (write_release_json(db, cfg, staging, st->release, opts->run_id, sel, nsel, e) < 0 ||
	    (!tiles && write_disclosure(db, staging, st, e) < 0))
		goto fail_staging;
	log_step(&t, "publish", tiles ? "release.json" : "release.json and disclosure");
	if (areas_write(db, cfg, staging, e) < 0)
		goto fail_staging;
	st->files += 2;
	if (cfg->viewer) {
		char *viewer = areas_viewer_dir(cfg, PC6RISK_DATADIR);

		if (!viewer)
			log_msg(LOG_WARN, "no built map viewer found: this release has none (run `make viewer`%s)",
				cfg->viewer_dir ? ", or check publish.viewer" : "");
		else if (areas_copy_viewer(viewer, staging, e) < 0) {
			free(viewer);
			goto fail_staging;
		}
		free(viewer);
	}
	log_step(&t, "publish", "areas.json and viewer");
	{
		struct report_pick *picks = xcalloc(nsel ? nsel : 1, sizeof *picks);
		int w;

		for (size_t i = 0; i < nsel; i++)
			picks[i] = (struct report_pick){sel[i].query, sel[i].level, sel[i].code, sel[i].name};
		w = report_write(db, cfg, staging, picks, nsel, &st->files, e);
		free(picks);
		if (w < 0)
			goto fail_staging;
	}
	log_step(&t, "publish", "report");
	if (tiles) {
		struct tiles_stats ts;

		if (tiles_finish(&tj, false, e) < 0)
			goto fail_staging;
		log_step(&t, "publish", "tiles and disclosure, after the rest");
		st->files += tj.st.files;
		ts = tj.ts;
		st->tiles = ts.tiles;
		st->tiles_reused = ts.reused;
		st->files += ts.tiles - ts.reused;
		log_msg(LOG_INFO, "tiles=%lld reused=%lld bytes_mvt=%lld bytes_geojson=%lld heaviest=%lld@%s oversize=%lld",
			ts.tiles, ts.reused, ts.bytes_mvt, ts.bytes_geojson, ts.heaviest, ts.heaviest_at, ts.oversize);
	}
	if (signals_pending()) {
		err_set(e, ERR_SYSTEM, NULL, "interrupted by signal %d; the previous publication is unchanged",
			signals_pending());
		goto fail_staging;
	}
	if (audit_release(staging, st, e) < 0)
		goto fail_staging;
	log_step(&t, "publish", "audit");
	if (fsx_fsync_dir(nbdir, e) < 0 || fsx_fsync_dir(staging, e) < 0)
		goto fail_staging;
	if (rename(staging, final) < 0) {
		err_set(e, ERR_SYSTEM, final, "cannot move the new release into place: %s", strerror(errno));
		goto fail_staging;
	}
	if (fsx_fsync_dir(releases, e) < 0)
		goto out;
	link = xasprintf("%s/current", out_dir);
	target = xasprintf("releases/%s", st->release);
	if (fsx_symlink_swap(target, link, e) < 0 || fsx_fsync_dir(out_dir, e) < 0)
		goto out;
	snprintf(st->dir, sizeof st->dir, "%s", final);
	log_msg(LOG_INFO, "published release=%s files=%lld features=%lld dir=%s", st->release, st->files,
		st->features, link);
	log_step(&t, "publish", "flush and switch");
	prune_releases(out_dir, st->release, cfg->keep_releases);
	log_step(&t, "publish", "prune");
	if (opts->print_ranking && print_ranking(db, cfg, sel, nsel, e) < 0)
		goto out;
	rc = 0;
	goto out;
fail_staging: {
	struct err ignored;

	tiles_finish(&tj, true, &ignored);
	fsx_rmtree(staging, &ignored);
}
out:
	tiles_finish(&tj, true, NULL);
	db_rollback(db);
	db_result_free(r);
	for (size_t i = 0; i < nsel; i++) {
		free(sel[i].level);
		free(sel[i].code);
		free(sel[i].name);
	}
	free(sel);
	free(releases);
	free(staging);
	free(final);
	free(nbdir);
	free(link);
	free(target);
	return rc;
}
