#include "pc6risk/style.h"
#include "pc6risk/xalloc.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ColorBrewer YlOrRd, 9 classes (Cynthia Brewer, colorbrewer2.org; marked
 * colour-blind safe there). */
static const unsigned char ylorrd[9][3] = {
	{255, 255, 204}, {255, 237, 160}, {254, 217, 118}, {254, 178, 76}, {253, 141, 60},
	{252, 78, 42},   {227, 26, 28},   {189, 0, 38},    {128, 0, 38},
};

static const unsigned char grey[3] = {189, 189, 189};
static const unsigned char outline[3] = {100, 100, 100};

void style_ramp(size_t i, size_t n, unsigned char rgb[3])
{
	double t = n > 1 ? (double)i / (double)(n - 1) * 8.0 : 4.0;
	size_t k = (size_t)floor(t);
	double f;

	if (k >= 8)
		k = 7;
	f = t - (double)k;
	for (int c = 0; c < 3; c++)
		rgb[c] = (unsigned char)lround(ylorrd[k][c] + f * (ylorrd[k + 1][c] - ylorrd[k][c]));
}

/* As scores are published: one decimal. */
static double round1(double v)
{
	double r = round(v * 10.0) / 10.0;

	return r == 0 ? 0 : r; /* no -0 */
}

static int by_value(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static void start(struct style *s, const char *attr, const char *title, size_t cap)
{
	memset(s, 0, sizeof *s);
	s->attr = xstrdup(attr);
	s->title = xstrdup(title);
	s->classes = xcalloc(cap ? cap : 1, sizeof *s->classes);
	memcpy(s->null_rgb, grey, 3);
}

static void colour(struct style *s)
{
	for (size_t i = 0; i < s->nclasses; i++)
		style_ramp(i, s->nclasses, s->classes[i].rgb);
}

void style_quantiles(struct style *s, const char *attr, const char *title, const double *values, size_t n,
		     size_t nclasses)
{
	double *v = xcalloc(n ? n : 1, sizeof *v);
	double lower;

	start(s, attr, title, nclasses);
	for (size_t i = 0; i < n; i++)
		v[i] = round1(values[i]);
	if (n == 0 || nclasses == 0)
		goto out;
	qsort(v, n, sizeof *v, by_value);
	lower = v[0];
	/* break j: the largest value with at most j/k of the values at or below
	 * it; a break equal to the one before or to the maximum is skipped */
	for (size_t j = 1; j <= nclasses; j++) {
		size_t idx = j == nclasses ? n - 1 : (j * n + nclasses - 1) / nclasses - 1;
		double upper = v[idx];
		struct style_class *c;

		if (j < nclasses && (upper >= v[n - 1] || (s->nclasses > 0 && upper <= lower)))
			continue;
		c = &s->classes[s->nclasses++];
		c->lower = lower;
		c->upper = upper;
		snprintf(c->label, sizeof c->label, "%.1f to %.1f", c->lower, c->upper);
		lower = upper;
	}
	colour(s);
out:
	free(v);
}

void style_bands(struct style *s, const char *attr, const char *title, int bands)
{
	start(s, attr, title, bands > 0 ? (size_t)bands : 0);
	for (int b = 1; b <= bands; b++) {
		struct style_class *c = &s->classes[s->nclasses++];

		c->lower = b - 0.5;
		c->upper = b + 0.5;
		snprintf(c->label, sizeof c->label, "band %d%s", b,
			 b == 1 ? " (least risk)" : b == bands ? " (most risk)" : "");
	}
	colour(s);
}

int style_class_of(const struct style *s, double v)
{
	double r = round1(v);

	for (size_t i = 0; i < s->nclasses; i++)
		if ((r > s->classes[i].lower || (i == 0 && r == s->classes[i].lower)) && r <= s->classes[i].upper)
			return (int)i;
	return -1;
}

void style_xml_escape(struct sbuf *b, const char *text)
{
	for (const char *p = text; p && *p; p++) {
		switch (*p) {
		case '&': sbuf_puts(b, "&amp;"); break;
		case '<': sbuf_puts(b, "&lt;"); break;
		case '>': sbuf_puts(b, "&gt;"); break;
		case '"': sbuf_puts(b, "&quot;"); break;
		case '\'': sbuf_puts(b, "&apos;"); break;
		default: sbuf_putc(b, *p);
		}
	}
}

/* A class bound: short and exact for one-decimal values. */
static void put_num(struct sbuf *b, double v)
{
	sbuf_printf(b, "%.10g", v);
}

static void qml_prop(struct sbuf *b, const char *k, const char *v)
{
	sbuf_printf(b, "          <prop k=\"%s\" v=\"%s\"/>\n", k, v);
}

/* A SimpleFill symbol; both the QGIS >= 3.26 Option map and the older prop
 * list, which QGIS 3.x versions before it read. */
static void qml_symbol(struct sbuf *b, size_t name, const unsigned char rgb[3])
{
	static const char *const keys[] = {"joinstyle", "outline_style", "outline_width", "outline_width_unit", "style"};
	static const char *const vals[] = {"bevel", "solid", "0.26", "MM", "solid"};
	char fill[32], line[32];

	snprintf(fill, sizeof fill, "%d,%d,%d,255", rgb[0], rgb[1], rgb[2]);
	snprintf(line, sizeof line, "%d,%d,%d,255", outline[0], outline[1], outline[2]);
	sbuf_printf(b, "      <symbol type=\"fill\" name=\"%zu\" alpha=\"1\" clip_to_extent=\"1\" force_rhr=\"0\">\n", name);
	sbuf_puts(b, "        <layer class=\"SimpleFill\" enabled=\"1\" locked=\"0\" pass=\"0\">\n");
	sbuf_puts(b, "          <Option type=\"Map\">\n");
	sbuf_printf(b, "            <Option type=\"QString\" name=\"color\" value=\"%s\"/>\n", fill);
	sbuf_printf(b, "            <Option type=\"QString\" name=\"outline_color\" value=\"%s\"/>\n", line);
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		sbuf_printf(b, "            <Option type=\"QString\" name=\"%s\" value=\"%s\"/>\n", keys[i], vals[i]);
	sbuf_puts(b, "          </Option>\n");
	qml_prop(b, "color", fill);
	qml_prop(b, "outline_color", line);
	for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
		qml_prop(b, keys[i], vals[i]);
	sbuf_puts(b, "        </layer>\n      </symbol>\n");
}

static void qml_range(struct sbuf *b, double lower, double upper, size_t symbol, const char *label)
{
	sbuf_puts(b, "      <range lower=\"");
	put_num(b, lower);
	sbuf_puts(b, "\" upper=\"");
	put_num(b, upper);
	sbuf_printf(b, "\" symbol=\"%zu\" label=\"", symbol);
	style_xml_escape(b, label);
	sbuf_puts(b, "\" render=\"true\"/>\n");
}

void style_qml(const struct style *s, struct sbuf *out)
{
	struct sbuf expr = {0};
	bool bands = strstr(s->attr, "_band") != NULL;

	/* a QGIS expression: the field in double quotes (doubled inside) */
	sbuf_puts(&expr, "coalesce(\"");
	for (const char *p = s->attr; *p; p++) {
		if (*p == '"')
			sbuf_putc(&expr, '"');
		sbuf_putc(&expr, *p);
	}
	sbuf_puts(&expr, "\", ");
	put_num(&expr, STYLE_NULL_VALUE);
	sbuf_putc(&expr, ')');

	sbuf_puts(out, "<!DOCTYPE qgis PUBLIC 'http://mrcc.com/qgis.dtd' 'SYSTEM'>\n");
	sbuf_puts(out, "<qgis version=\"3.28.0-Firenze\" styleCategories=\"Symbology\">\n");
	sbuf_puts(out, "  <renderer-v2 type=\"graduatedSymbol\" attr=\"");
	style_xml_escape(out, expr.s);
	sbuf_puts(out, "\" graduatedMethod=\"GraduatedColor\" symbollevels=\"0\" forceraster=\"0\""
		       " enableorderby=\"0\" referencescale=\"-1\">\n");
	sbuf_puts(out, "    <ranges>\n");
	qml_range(out, STYLE_NULL_VALUE, STYLE_NULL_VALUE, 0, "not published");
	for (size_t i = 0; i < s->nclasses; i++)
		qml_range(out, s->classes[i].lower, s->classes[i].upper, i + 1, s->classes[i].label);
	sbuf_puts(out, "    </ranges>\n    <symbols>\n");
	qml_symbol(out, 0, s->null_rgb);
	for (size_t i = 0; i < s->nclasses; i++)
		qml_symbol(out, i + 1, s->classes[i].rgb);
	sbuf_puts(out, "    </symbols>\n");
	sbuf_printf(out, "    <mode name=\"%s\"/>\n", bands ? "equal" : "quantile");
	sbuf_printf(out, "    <classificationMethod id=\"%s\">\n", bands ? "EqualInterval" : "Quantile");
	sbuf_puts(out, "      <symmetricMode enabled=\"0\" symmetrypoint=\"0\" astride=\"0\"/>\n");
	sbuf_printf(out, "      <labelFormat format=\"%%1 to %%2\" labelprecision=\"%d\" trimtrailingzeroes=\"1\"/>\n",
		    bands ? 0 : 1);
	sbuf_puts(out, "    </classificationMethod>\n");
	sbuf_puts(out, "    <rotation/>\n    <sizescale/>\n  </renderer-v2>\n");
	sbuf_puts(out, "  <blendMode>0</blendMode>\n  <featureBlendMode>0</featureBlendMode>\n"
		       "  <layerOpacity>1</layerOpacity>\n</qgis>\n");
	sbuf_free(&expr);
}

static void sld_symbolizer(struct sbuf *b, const unsigned char rgb[3])
{
	sbuf_puts(b, "          <se:PolygonSymbolizer>\n");
	sbuf_printf(b, "            <se:Fill>\n              <se:SvgParameter name=\"fill\">#%02x%02x%02x</se:SvgParameter>\n"
		       "            </se:Fill>\n",
		    rgb[0], rgb[1], rgb[2]);
	sbuf_printf(b, "            <se:Stroke>\n              <se:SvgParameter name=\"stroke\">#%02x%02x%02x</se:SvgParameter>\n",
		    outline[0], outline[1], outline[2]);
	sbuf_puts(b, "              <se:SvgParameter name=\"stroke-width\">1</se:SvgParameter>\n"
		     "              <se:SvgParameter name=\"stroke-linejoin\">bevel</se:SvgParameter>\n"
		     "            </se:Stroke>\n          </se:PolygonSymbolizer>\n");
}

static void sld_rule_start(struct sbuf *b, const char *label)
{
	sbuf_puts(b, "        <se:Rule>\n          <se:Name>");
	style_xml_escape(b, label);
	sbuf_puts(b, "</se:Name>\n          <se:Description>\n            <se:Title>");
	style_xml_escape(b, label);
	sbuf_puts(b, "</se:Title>\n          </se:Description>\n");
}

static void sld_property(struct sbuf *b, const char *attr)
{
	sbuf_puts(b, "<ogc:PropertyName>");
	style_xml_escape(b, attr);
	sbuf_puts(b, "</ogc:PropertyName>");
}

static void sld_literal(struct sbuf *b, double v)
{
	sbuf_puts(b, "<ogc:Literal>");
	put_num(b, v);
	sbuf_puts(b, "</ogc:Literal>");
}

void style_sld(const struct style *s, const char *layer, struct sbuf *out)
{
	sbuf_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	sbuf_puts(out, "<StyledLayerDescriptor version=\"1.1.0\" xmlns=\"http://www.opengis.net/sld\""
		       " xmlns:ogc=\"http://www.opengis.net/ogc\" xmlns:se=\"http://www.opengis.net/se\""
		       " xmlns:xlink=\"http://www.w3.org/1999/xlink\""
		       " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\""
		       " xsi:schemaLocation=\"http://www.opengis.net/sld"
		       " http://schemas.opengis.net/sld/1.1.0/StyledLayerDescriptor.xsd\">\n");
	sbuf_puts(out, "  <NamedLayer>\n    <se:Name>");
	style_xml_escape(out, layer);
	sbuf_puts(out, "</se:Name>\n    <UserStyle>\n      <se:Name>");
	style_xml_escape(out, layer);
	sbuf_puts(out, "</se:Name>\n      <se:Description>\n        <se:Title>");
	style_xml_escape(out, s->title);
	sbuf_puts(out, "</se:Title>\n      </se:Description>\n      <se:FeatureTypeStyle>\n");
	sld_rule_start(out, "not published");
	sbuf_puts(out, "          <ogc:Filter><ogc:PropertyIsNull>");
	sld_property(out, s->attr);
	sbuf_puts(out, "</ogc:PropertyIsNull></ogc:Filter>\n");
	sld_symbolizer(out, s->null_rgb);
	sbuf_puts(out, "        </se:Rule>\n");
	for (size_t i = 0; i < s->nclasses; i++) {
		const struct style_class *c = &s->classes[i];

		sld_rule_start(out, c->label);
		sbuf_puts(out, "          <ogc:Filter>");
		if (i == 0) {
			/* the first class includes its lower bound */
			sbuf_puts(out, "<ogc:PropertyIsBetween>");
			sld_property(out, s->attr);
			sbuf_puts(out, "<ogc:LowerBoundary>");
			sld_literal(out, c->lower);
			sbuf_puts(out, "</ogc:LowerBoundary><ogc:UpperBoundary>");
			sld_literal(out, c->upper);
			sbuf_puts(out, "</ogc:UpperBoundary></ogc:PropertyIsBetween>");
		} else {
			sbuf_puts(out, "<ogc:And><ogc:PropertyIsGreaterThan>");
			sld_property(out, s->attr);
			sld_literal(out, c->lower);
			sbuf_puts(out, "</ogc:PropertyIsGreaterThan><ogc:PropertyIsLessThanOrEqualTo>");
			sld_property(out, s->attr);
			sld_literal(out, c->upper);
			sbuf_puts(out, "</ogc:PropertyIsLessThanOrEqualTo></ogc:And>");
		}
		sbuf_puts(out, "</ogc:Filter>\n");
		sld_symbolizer(out, c->rgb);
		sbuf_puts(out, "        </se:Rule>\n");
	}
	sbuf_puts(out, "      </se:FeatureTypeStyle>\n    </UserStyle>\n  </NamedLayer>\n</StyledLayerDescriptor>\n");
}

void style_free(struct style *s)
{
	if (!s)
		return;
	free(s->attr);
	free(s->title);
	free(s->classes);
	memset(s, 0, sizeof *s);
}
