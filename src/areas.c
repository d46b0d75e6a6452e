#include "pc6risk/areas.h"
#include "pc6risk/fsx.h"
#include "pc6risk/sbuf.h"
#include "pc6risk/style.h"
#include "pc6risk/tiles.h"
#include "pc6risk/xalloc.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* The viewer's files are small (a page, a bundle, a stylesheet). */
#define VIEWER_MAX_FILE (16 << 20)

/* One JSON object per wijk and buurt, wijken first, in code order: its
 * extent in WGS84 and, per scenario ($1, in config order), what protect
 * released. json_build_object keeps the key order, so the bytes are stable;
 * keys without a value are left out (a third of the bytes, at national scale
 * tens of MB). */
static const char areas_sql[] =
	"SELECT json_strip_nulls(json_build_object('code', a.code, 'name', a.name, 'level', a.level, 'wijk_code', a.wijk_code,"
	"  'wijk_name', w.name, 'bbox', json_build_array(round(ST_XMin(x.b)::numeric, 6), round(ST_YMin(x.b)::numeric, 6),"
	"  round(ST_XMax(x.b)::numeric, 6), round(ST_YMax(x.b)::numeric, 6)),"
	"  'scenarios', (SELECT json_object_agg(s.name, json_build_object('status', v.status, 'note', v.reason,"
	"    'score', v.score, 'rank', v.rank, 'ranked_of', v.ranked, 'shown_from', v.shown_from,"
	"    'median_rank', c.median_rank, 'rank_p05', c.rank_p05, 'rank_p95', c.rank_p95, 'p_top_5', c.p_top_5,"
	"    'robust_top_5', c.robust_top_5, 'drivers', c.drivers,"
	"    'domains', (SELECT json_object_agg(d.domain, d.percentile ORDER BY d.position) FROM protected_domain d"
	"     WHERE d.scenario = s.name AND d.level = a.level AND d.code = a.code)) ORDER BY s.ord)"
	"   FROM unnest($1::text[]) WITH ORDINALITY s(name, ord)"
	"   JOIN protected_value v ON v.scenario = s.name AND v.level = a.level AND v.code = a.code"
	"   LEFT JOIN protected_compare c ON c.scenario = s.name AND c.level = a.level AND c.code = a.code),"
	"  'groups', gr.groups))"
	" FROM protected_area a"
	" LEFT JOIN protected_area w ON w.level = 'wijk' AND w.code = a.wijk_code"
	/* a buurt's PC6 groups of more than one postcode, and how many (disclosure/groups.csv lists them too);
	 * grouped once, not looked up per buurt: protected_group has no index on buurt_code, and a
	 * per-buurt scan of 400,000 groups took 9 minutes nationally */
	" LEFT JOIN (SELECT g.buurt_code, json_object_agg(g.code, cardinality(g.members) ORDER BY g.code COLLATE \"C\") AS groups"
	"  FROM protected_group g WHERE cardinality(g.members) > 1 GROUP BY g.buurt_code) gr"
	"  ON a.level = 'buurt' AND gr.buurt_code = a.code"
	" CROSS JOIN LATERAL (SELECT ST_Transform(a.geom, 4326)::box2d AS b) x"
	" WHERE a.level IN ('wijk', 'buurt')"
	" ORDER BY a.level = 'buurt', a.code COLLATE \"C\"";

/* Append a PostgreSQL array literal of the scenario names. */
static void scenario_array(const struct config *cfg, struct sbuf *b)
{
	sbuf_putc(b, '{');
	for (size_t i = 0; i < cfg->nscenarios; i++) {
		/* names are lowercase letters, digits, - and _ (config checks) */
		sbuf_printf(b, "%s\"%s\"", i ? "," : "", cfg->scenarios[i].name);
	}
	sbuf_putc(b, '}');
}

static void put_legend(struct sbuf *b, const char *field, const struct style *st)
{
	sbuf_printf(b, "{\"field\": \"%s\", \"title\": ", field);
	sbuf_json_string(b, st->title);
	sbuf_puts(b, ", \"classes\": [");
	for (size_t i = 0; i < st->nclasses; i++) {
		const struct style_class *c = &st->classes[i];

		sbuf_printf(b, "%s{\"lower\": ", i ? ", " : "");
		sbuf_json_number(b, c->lower, 6);
		sbuf_puts(b, ", \"upper\": ");
		sbuf_json_number(b, c->upper, 6);
		sbuf_puts(b, ", \"label\": ");
		sbuf_json_string(b, c->label);
		sbuf_printf(b, ", \"color\": \"#%02x%02x%02x\"}", c->rgb[0], c->rgb[1], c->rgb[2]);
	}
	sbuf_printf(b, "], \"null_label\": \"not published\", \"null_color\": \"#%02x%02x%02x\"}", st->null_rgb[0],
		    st->null_rgb[1], st->null_rgb[2]);
}

/* The legend of one scenario at one level, as gpkg styles its layer: score
 * quantiles of the published values, or the bands of the PC6 groups.
 * Nothing when the level has no values. */
static int put_level_legend(struct db *db, const struct config *cfg, const struct config_scenario *s,
			    const char *level, struct sbuf *b, bool *first, struct err *e)
{
	const char *params[2] = {s->name, level};
	char *title;
	struct style st = {0};
	struct db_result *r;
	bool pc6 = strcmp(level, "pc6") == 0;

	r = db_query(db,
		     pc6 ? "SELECT max(bands) FROM protected_group_value WHERE scenario = $1 HAVING count(*) > 0"
			 : "SELECT score FROM protected_value"
			   " WHERE scenario = $1 AND level = $2 AND status = 'published' ORDER BY score",
		     pc6 ? 1 : 2, params, e);
	if (!r)
		return -1;
	if (db_nrows(r) == 0) {
		db_result_free(r);
		return 0;
	}
	title = xasprintf("%s: %s", s->title ? s->title : s->name, pc6 ? "band of the PC6 group" : "score");
	if (pc6) {
		int bands = atoi(db_value(r, 0, 0));

		style_bands(&st, "band", title, bands > 0 ? bands : cfg->privacy.bands);
	} else {
		int n = db_nrows(r);
		double *v = xcalloc((size_t)n, sizeof *v);

		for (int i = 0; i < n; i++)
			v[i] = strtod(db_value(r, i, 0), NULL);
		style_quantiles(&st, "score", title, v, (size_t)n, STYLE_QUANTILES);
		free(v);
	}
	sbuf_printf(b, "%s\n        \"%s\": ", *first ? "" : ",", level);
	put_legend(b, pc6 ? "band" : "score", &st);
	*first = false;
	style_free(&st);
	free(title);
	db_result_free(r);
	return 0;
}

static int put_scenarios(struct db *db, const struct config *cfg, const char *dir, struct sbuf *b, struct err *e)
{
	static const char *const levels[] = {"wijk", "buurt", "pc6"};

	sbuf_puts(b, ",\n  \"scenarios\": [");
	for (size_t i = 0; i < cfg->nscenarios; i++) {
		const struct config_scenario *s = &cfg->scenarios[i];
		const char *params[1] = {s->name};
		struct db_result *r = db_query(db,
					       "SELECT DISTINCT position, domain FROM protected_domain"
					       " WHERE scenario = $1 ORDER BY position",
					       1, params, e);
		bool first = true;

		if (!r)
			return -1;
		sbuf_printf(b, "%s\n    {\"name\": ", i ? "," : "");
		sbuf_json_string(b, s->name);
		sbuf_puts(b, ", \"title\": ");
		sbuf_json_string(b, s->title ? s->title : s->name);
		sbuf_puts(b, ", \"about\": ");
		if (s->about)
			sbuf_json_string(b, s->about);
		else
			sbuf_puts(b, "null");
		sbuf_printf(b, ", \"level\": \"%s\", \"png\": ", level_name(config_display_level(s)));
		/* the static map publish wrote before this file, if it did */
		{
			char *png = xasprintf("%s/png/%s.png", dir, s->name);

			if (access(png, F_OK) == 0)
				sbuf_printf(b, "\"png/%s.png\"", s->name);
			else
				sbuf_puts(b, "null");
			free(png);
		}
		sbuf_puts(b, ",\n      \"domains\": [");
		for (int d = 0; d < db_nrows(r); d++) {
			sbuf_puts(b, d ? ", " : "");
			sbuf_json_string(b, db_value(r, d, 1));
		}
		db_result_free(r);
		sbuf_puts(b, "],\n      \"legend\": {");
		for (size_t l = 0; l < sizeof levels / sizeof *levels; l++)
			if (put_level_legend(db, cfg, s, levels[l], b, &first, e) < 0)
				return -1;
		sbuf_puts(b, first ? "}}" : "\n      }}");
	}
	sbuf_puts(b, "\n  ]");
	return 0;
}

int areas_data_date(struct db *db, char date[11], struct err *e)
{
	struct db_result *r = db_query(
		db, "SELECT to_char(loaded_at AT TIME ZONE 'Europe/Amsterdam', 'YYYY-MM-DD') FROM load_state", 0, NULL, e);
	int got;

	if (!r)
		return -1;
	got = db_nrows(r) > 0 && db_value(r, 0, 0);
	if (got)
		snprintf(date, 11, "%s", db_value(r, 0, 0));
	db_result_free(r);
	return got;
}

int areas_write(struct db *db, const struct config *cfg, const char *dir, struct err *e)
{
	struct sbuf b = {0}, names = {0};
	struct db_result *r = NULL;
	const char *params[1];
	char *path = NULL;
	double bounds[4];
	char date[11];
	int got, rc = -1;

	if ((got = areas_data_date(db, date, e)) < 0)
		goto out;
	sbuf_puts(&b, "{\n  \"data_date\": ");
	if (got)
		sbuf_json_string(&b, date);
	else
		sbuf_puts(&b, "null");
	sbuf_printf(&b, ",\n  \"synthetic\": %s,\n  \"attribution\": ", cfg->synthetic ? "true" : "false");
	if (cfg->attribution)
		sbuf_json_string(&b, cfg->attribution);
	else
		sbuf_puts(&b, "null");
	sbuf_printf(&b, ",\n  \"privacy\": {\"k\": %d, \"count\": ", cfg->k);
	sbuf_json_string(&b, cfg->k_indicator);
	sbuf_puts(&b, ", \"size\": [");
	for (size_t i = 0; i < cfg->privacy.nsize; i++) {
		sbuf_puts(&b, i ? ", {\"variable\": " : "{\"variable\": ");
		sbuf_json_string(&b, cfg->privacy.size[i].name);
		sbuf_printf(&b, ", \"min\": %d}", cfg->privacy.size[i].min);
	}
	sbuf_puts(&b, "]},\n  \"basemap\": ");
	if (cfg->basemap_url) {
		sbuf_puts(&b, "{\"url\": ");
		sbuf_json_string(&b, cfg->basemap_url);
		sbuf_puts(&b, ", \"attribution\": ");
		if (cfg->basemap_attribution)
			sbuf_json_string(&b, cfg->basemap_attribution);
		else
			sbuf_puts(&b, "null");
		sbuf_putc(&b, '}');
	} else {
		sbuf_puts(&b, "null");
	}
	if ((got = tiles_bounds(db, bounds, e)) < 0)
		goto out;
	if (got) /* as tiles.json gives them */
		sbuf_printf(&b, ",\n  \"bounds\": [%.6f, %.6f, %.6f, %.6f]", bounds[0], bounds[1], bounds[2], bounds[3]);
	else
		sbuf_puts(&b, ",\n  \"bounds\": null");
	if (put_scenarios(db, cfg, dir, &b, e) < 0)
		goto out;

	scenario_array(cfg, &names);
	params[0] = names.s;
	if (!(r = db_query(db, areas_sql, 1, params, e)))
		goto out;
	sbuf_puts(&b, ",\n  \"areas\": [");
	for (int i = 0; i < db_nrows(r); i++) {
		sbuf_puts(&b, i ? ",\n    " : "\n    ");
		sbuf_puts(&b, db_value(r, i, 0));
	}
	sbuf_puts(&b, db_nrows(r) ? "\n  ]\n}\n" : "]\n}\n");
	path = xasprintf("%s/areas.json", dir);
	rc = fsx_write_file(path, b.s, b.len, e);
out:
	db_result_free(r);
	sbuf_free(&b);
	sbuf_free(&names);
	free(path);
	return rc;
}

static bool has_index(const char *dir)
{
	char *p = xasprintf("%s/index.html", dir);
	bool ok = access(p, R_OK) == 0;

	free(p);
	return ok;
}

char *areas_viewer_dir(const struct config *cfg, const char *datadir)
{
	static const char *const beside[] = {"/../maps/viewer/dist", "/../../maps/viewer/dist"};
	char exe[PATH_MAX], *slash, *p;
	ssize_t n;

	if (cfg->viewer_dir)
		return has_index(cfg->viewer_dir) ? xstrdup(cfg->viewer_dir) : NULL;
	n = readlink("/proc/self/exe", exe, sizeof exe - 1);
	if (n > 0) {
		exe[n] = '\0';
		if ((slash = strrchr(exe, '/')))
			*slash = '\0';
		for (size_t i = 0; i < sizeof beside / sizeof *beside; i++) {
			p = xasprintf("%s%s", exe, beside[i]);
			if (has_index(p))
				return p;
			free(p);
		}
	}
	p = xasprintf("%s/viewer", datadir);
	if (has_index(p))
		return p;
	free(p);
	return NULL;
}

static int copy_file(const char *from, const char *to, struct err *e)
{
	FILE *f = fopen(from, "rb");
	struct sbuf b = {0};
	char buf[65536];
	size_t n;
	int rc;

	if (!f)
		return err_set(e, ERR_SYSTEM, from, "cannot open the viewer's file: %s", strerror(errno));
	while ((n = fread(buf, 1, sizeof buf, f)) > 0 && b.len <= VIEWER_MAX_FILE)
		sbuf_append(&b, buf, n);
	if (ferror(f))
		rc = err_set(e, ERR_SYSTEM, from, "cannot read the viewer's file: %s", strerror(errno));
	else if (b.len > VIEWER_MAX_FILE)
		rc = err_set(e, ERR_INPUT, from, "a viewer file over %d MB: is publish.viewer the right folder?",
			     VIEWER_MAX_FILE >> 20);
	else
		rc = fsx_write_file(to, b.s ? b.s : "", b.len, e);
	fclose(f);
	sbuf_free(&b);
	return rc;
}

static int copy_tree(const char *src, const char *dst, int depth, struct err *e)
{
	DIR *d;
	struct dirent *de;
	int rc = 0;

	if (depth > 8)
		return err_set(e, ERR_INPUT, src, "the viewer's folders nest too deep");
	if (fsx_mkdirs(dst, e) < 0)
		return -1;
	if (!(d = opendir(src)))
		return err_set(e, ERR_SYSTEM, src, "cannot read the viewer's folder: %s", strerror(errno));
	while (rc == 0 && (de = readdir(d))) {
		char *from, *to;
		struct stat sb;

		if (de->d_name[0] == '.')
			continue;
		from = xasprintf("%s/%s", src, de->d_name);
		to = xasprintf("%s/%s", dst, de->d_name);
		if (lstat(from, &sb) < 0)
			rc = err_set(e, ERR_SYSTEM, from, "cannot read: %s", strerror(errno));
		else if (S_ISDIR(sb.st_mode))
			rc = copy_tree(from, to, depth + 1, e);
		else if (S_ISREG(sb.st_mode))
			rc = copy_file(from, to, e);
		free(from);
		free(to);
	}
	closedir(d);
	if (rc == 0)
		rc = fsx_fsync_dir(dst, e);
	return rc;
}

int areas_copy_viewer(const char *src, const char *dir, struct err *e)
{
	char *dst = xasprintf("%s/viewer", dir);
	int rc = copy_tree(src, dst, 0, e);

	free(dst);
	return rc;
}
