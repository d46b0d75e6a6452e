/*
 * style — the classes and colours of a published layer, and the same classes
 * rendered as a QGIS style (QML) and an OGC SLD 1.1 style.
 *
 * Pure: no database, no GDAL. One struct style is the single source of truth
 * for a layer's map legend; style_qml and style_sld only render it, so the
 * GeoPackage's layer_styles and the .qml files beside the GeoJSON agree.
 * The ramp is ColorBrewer YlOrRd (9 classes, colour-blind safe), sampled
 * evenly for any number of classes: pale yellow = least risk, dark red = most.
 * Areas without a published value get a grey "not published" class.
 * A struct style is the caller's; style_free frees what it holds.
 */
#ifndef PC6RISK_STYLE_H
#define PC6RISK_STYLE_H

#include <stddef.h>

#include "pc6risk/sbuf.h"

/* Quantile classes for wijk and buurt scores. */
#define STYLE_QUANTILES 5

/* The value QML's renderer gives an area without a value (coalesce), so the
 * grey class can be a range: no published score comes near it. */
#define STYLE_NULL_VALUE -9999.0

/* One class: lower < v <= upper, and for the first class also v == lower. */
struct style_class {
	double lower, upper;
	char label[96];
	unsigned char rgb[3];
};

struct style {
	char *attr;  /* the classified field, "<scenario>_score" or "<scenario>_band" */
	char *title; /* shown as the style's name and description */
	struct style_class *classes;
	size_t nclasses;
	unsigned char null_rgb[3]; /* the "not published" grey */
};

/* Quantile classes (up to nclasses; fewer when values tie) of the published
 * values (any order; rounded to one decimal first, as they are published).
 * Breaks are values of the data, so each class holds at least one. No values
 * gives no classes (only the grey one is drawn). Fills s, which the caller
 * frees with style_free. */
void style_quantiles(struct style *s, const char *attr, const char *title, const double *values, size_t n,
		     size_t nclasses);

/* One class per band 1..bands (1 = least risk), for PC6 group bands. */
void style_bands(struct style *s, const char *attr, const char *title, int bands);

/* The class a value falls in, as QGIS draws it: i with lower < v <= upper
 * (the first class also v == lower), the value rounded to one decimal first,
 * as it is published; -1 for none (a value outside every class). */
int style_class_of(const struct style *s, double v);

/* Colour i of n on the ramp (0 = least risk). */
void style_ramp(size_t i, size_t n, unsigned char rgb[3]);

/* Append a QGIS 3 QML document: a graduatedSymbol renderer on the attribute
 * (through coalesce, so the grey class catches NULL). */
void style_qml(const struct style *s, struct sbuf *out);

/* Append an OGC SLD 1.1 document for the named layer: one Rule per class and
 * one for NULL (PropertyIsNull). */
void style_sld(const struct style *s, const char *layer, struct sbuf *out);

/* Append text with & < > " ' escaped for XML; NULL appends nothing. */
void style_xml_escape(struct sbuf *b, const char *text);

void style_free(struct style *s);

#endif
