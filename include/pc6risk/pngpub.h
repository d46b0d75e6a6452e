/*
 * pngpub — the PNG maps of a release: png/<scenario>.png, one per scenario,
 * at the level the scenario is shown at (buurt when it scores buurten).
 *
 * Reads only the protected tables, as publish does (protected_area joined to
 * protected_value), and the date of the loaded data (load_state). The classes
 * and colours are the layer's style in pc6risk.gpkg and buurten.<s>.qml
 * (gpkg_style); the drawing is pngmap's. Nothing is kept between calls.
 */
#ifndef PC6RISK_PNGPUB_H
#define PC6RISK_PNGPUB_H

#include "pc6risk/config.h"
#include "pc6risk/db.h"
#include "pc6risk/err.h"
#include "pc6risk/publish.h"

/* Write dir/png/<scenario>.png for every scenario at cfg->png's size into dir
 * (publish's staging dir, which exists). Adds to st->files and st->pngs. Runs
 * inside the caller's transaction. */
int pngpub_write(struct db *db, const struct config *cfg, const char *dir, struct publish_stats *st, struct err *e);

#endif
