#include "pc6risk/pngpub.h"
#include "pc6risk/areas.h"
#include "pc6risk/fsx.h"
#include "pc6risk/gpkg.h"
#include "pc6risk/log.h"
#include "pc6risk/pngmap.h"
#include "pc6risk/signals.h"
#include "pc6risk/style.h"
#include "pc6risk/text.h"
#include "pc6risk/xalloc.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Every area of the level with the scenario's score (NULL: suppressed or not
 * scored), in code order; protected tables only. $1 level, $2 scenario. */
static const char areas_sql[] =
	"SELECT a.code, ST_AsBinary(a.geom), v.score"
	" FROM protected_area a"
	" LEFT JOIN protected_value v ON v.level = a.level AND v.code = a.code AND v.scenario = $2"
	" WHERE a.level = $1 ORDER BY a.code COLLATE \"C\"";

static double seconds_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* One scenario's map into dir/png/<name>.png. */
static int write_one(struct db *db, const struct config *cfg, const struct config_scenario *s, const char *pngdir,
		     const char *date, struct publish_stats *st, struct err *e)
{
	enum level level = config_display_level(s);
	const char *params[2] = {level_name(level), s->name};
	struct db_result *r = NULL;
	struct pngmap_shapes m = {0};
	struct style style = {0};
	double *values = NULL;
	size_t nvalues = 0, hidden = 0, bytes = 0;
	unsigned char *wkb = NULL;
	size_t cap = 0;
	char *path = xasprintf("%s/%s.png", pngdir, s->name);
	char *title = NULL, *subtitle = NULL, *when = NULL;
	struct timespec t0;
	int n, rc = -1;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	r = db_query(db, areas_sql, 2, params, e);
	if (!r)
		goto out;
	n = db_nrows(r);
	values = xcalloc(n ? (size_t)n : 1, sizeof *values);
	for (int i = 0; i < n; i++)
		if (db_value(r, i, 2))
			values[nvalues++] = gpkg_published(strtod(db_value(r, i, 2), NULL));
	gpkg_style(cfg, s, level, values, nvalues, 0, &style);
	for (int i = 0; i < n; i++) {
		const char *score = db_value(r, i, 2);
		long len = text_unhex(db_value(r, i, 1), &wkb, &cap);
		int cls = score ? style_class_of(&style, gpkg_published(strtod(score, NULL))) : -1;

		hidden += cls < 0;
		if (len < 0 || pngmap_wkb(&m, cls, wkb, (size_t)len) < 0) {
			err_set(e, ERR_INTERNAL, path, "%s %s: a geometry that is not a (multi)polygon", level_name(level),
				db_value(r, i, 0));
			goto out;
		}
	}
	title = xasprintf("%s, per %s", s->title ? s->title : s->name, level_name(level));
	subtitle = xasprintf("%d %s: the score in %zu quantile classes; %zu not published (grey)", n,
			     level_plural(level), style.nclasses, hidden);
	when = date ? xasprintf("Data loaded %s", date) : NULL;
	{
		struct pngmap_opts o = {
			.width = cfg->png.width,
			.height = cfg->png.height,
			.style = &style,
			.title = title,
			.subtitle = subtitle,
			.legend_title = "Score",
			.legend_note = "quantile classes; darker = more risk",
			.date = when,
			.attribution = cfg->attribution,
			.synthetic = cfg->synthetic,
		};

		if (pngmap_write(&m, &o, path, &bytes, e) < 0)
			goto out;
	}
	st->files++;
	st->pngs++;
	log_msg(LOG_INFO, "wrote png/%s.png width=%d height=%d bytes=%zu areas=%d seconds=%.2f", s->name,
		cfg->png.width, cfg->png.height, bytes, n, seconds_since(&t0));
	rc = 0;
out:
	db_result_free(r);
	pngmap_shapes_free(&m);
	style_free(&style);
	free(values);
	free(wkb);
	free(path);
	free(title);
	free(subtitle);
	free(when);
	return rc;
}

int pngpub_write(struct db *db, const struct config *cfg, const char *dir, struct publish_stats *st, struct err *e)
{
	char *pngdir = xasprintf("%s/png", dir), date[11];
	int got, rc = -1;

	if (fsx_mkdirs(pngdir, e) < 0 || (got = areas_data_date(db, date, e)) < 0)
		goto out;
	for (size_t i = 0; i < cfg->nscenarios; i++) {
		if (write_one(db, cfg, &cfg->scenarios[i], pngdir, got ? date : NULL, st, e) < 0)
			goto out;
		if (signals_pending()) {
			err_set(e, ERR_SYSTEM, NULL, "interrupted by signal %d", signals_pending());
			goto out;
		}
	}
	rc = fsx_fsync_dir(pngdir, e);
out:
	free(pngdir);
	return rc;
}
