/*
 * gpkg — the whole-layer files of a release: pc6risk.gpkg for QGIS, CSV for
 * spreadsheets, and QGIS styles beside buurten.geojson.
 *
 * Reads only the protected tables, as publish does, with the same property
 * meanings (docs and README: <scenario>_score, _rank, _ranked_of, _band,
 * _status, _note); a PC6 shows only its group's band, and the group's score
 * only where protect wrote one. GDAL stays inside this module (and vecw,
 * vector). Writes into an existing directory (publish's staging dir):
 *
 *   pc6risk.gpkg   EPSG:28992, one layer per level and scored scenario
 *                  (wijk_<s>, buurt_<s>, pc6_<s>) with a spatial index, and
 *                  QGIS's layer_styles table: one default style per layer
 *                  (QML and SLD, from style.c)
 *   wijken.csv, buurten.csv, pc6.csv   every area of the level, every
 *                  scenario, no geometry (RFC 4180, UTF-8, header)
 *   buurten.qml    the style of the first scenario scored per buurt (QGIS
 *                  loads it with buurten.geojson), and buurten.<s>.qml for
 *                  each such scenario
 *
 * Rows are in code order and the GeoPackage's time stamps are pinned, so the
 * same database state gives identical bytes.
 */
#ifndef PC6RISK_GPKG_H
#define PC6RISK_GPKG_H

#include "pc6risk/config.h"
#include "pc6risk/db.h"
#include "pc6risk/err.h"
#include "pc6risk/publish.h"
#include "pc6risk/style.h"

/* Write the files above into dir (which exists; the files must not). Adds to
 * st->files. Runs inside the caller's transaction. */
int gpkg_write(struct db *db, const struct config *cfg, const char *dir, struct publish_stats *st, struct err *e);

/* The style of the layer of scenario s at level, as pc6risk.gpkg and
 * buurten.<s>.qml carry it (and the PNG maps draw it): quantile classes of
 * the scores of the level's areas that show one (values, as published:
 * gpkg_published), or for PC6 one class per band (bands; 0: privacy.bands).
 * Fills st; the caller frees it with style_free. */
void gpkg_style(const struct config *cfg, const struct config_scenario *s, enum level level, const double *values,
		size_t n, int bands, struct style *st);

/* A score as the files show it: rounded to one decimal, as text and back. */
double gpkg_published(double score);

#endif
