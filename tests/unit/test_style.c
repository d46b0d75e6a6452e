#include <criterion/criterion.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pc6risk/style.h"

/* Is text well-formed enough for our writers: every element closed in order,
 * attributes quoted, no bare & or < in text? A small checker instead of an
 * XML library the project does not depend on. */
static bool xml_balanced(const char *text, char *why, size_t whylen)
{
	const char *stack[256];
	size_t lens[256], depth = 0;
	const char *p = text;

	while (*p) {
		if (*p == '&') {
			const char *semi = strchr(p, ';');

			if (!semi || semi - p > 8) {
				snprintf(why, whylen, "bare & at %ld", (long)(p - text));
				return false;
			}
			p = semi + 1;
			continue;
		}
		if (*p != '<') {
			if (*p == '>') {
				snprintf(why, whylen, "bare > at %ld", (long)(p - text));
				return false;
			}
			p++;
			continue;
		}
		if (p[1] == '?' || p[1] == '!') {
			const char *end = strchr(p, '>');

			if (!end)
				return false;
			p = end + 1;
			continue;
		}
		if (p[1] == '/') {
			const char *name = p + 2;
			size_t len = strcspn(name, " >");

			if (depth == 0 || lens[depth - 1] != len || strncmp(stack[depth - 1], name, len) != 0) {
				snprintf(why, whylen, "</%.*s> closes nothing open at %ld", (int)len, name, (long)(p - text));
				return false;
			}
			depth--;
			p = strchr(p, '>');
			if (!p)
				return false;
			p++;
			continue;
		}
		{
			const char *name = p + 1, *q;
			size_t len = strcspn(name, " />\n");
			char quote = 0;

			for (q = name + len; *q && (quote || *q != '>'); q++) {
				if (quote && *q == '<') {
					snprintf(why, whylen, "< in an attribute at %ld", (long)(q - text));
					return false;
				}
				if (*q == '"' || *q == '\'')
					quote = quote == *q ? 0 : quote ? quote : *q;
			}
			if (!*q) {
				snprintf(why, whylen, "unclosed tag %.*s", (int)len, name);
				return false;
			}
			if (q[-1] != '/') {
				if (depth == 256)
					return false;
				stack[depth] = name;
				lens[depth++] = len;
			}
			p = q + 1;
		}
	}
	if (depth != 0)
		snprintf(why, whylen, "<%.*s> is never closed", (int)lens[depth - 1], stack[depth - 1]);
	return depth == 0;
}

static size_t count(const char *hay, const char *needle)
{
	size_t n = 0;

	for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
		n++;
	return n;
}

Test(style, quantiles_of_known_values)
{
	double v[10] = {10, 1, 2, 3, 4, 5, 6, 7, 8, 9};
	struct style s;

	style_quantiles(&s, "x_score", "x", v, 10, 5);
	cr_assert_eq(s.nclasses, 5);
	cr_assert_float_eq(s.classes[0].lower, 1, 1e-9);
	cr_assert_float_eq(s.classes[0].upper, 2, 1e-9);
	cr_assert_float_eq(s.classes[1].upper, 4, 1e-9);
	cr_assert_float_eq(s.classes[3].upper, 8, 1e-9);
	cr_assert_float_eq(s.classes[4].lower, 8, 1e-9);
	cr_assert_float_eq(s.classes[4].upper, 10, 1e-9);
	cr_assert_str_eq(s.classes[0].label, "1.0 to 2.0");
	style_free(&s);
}

Test(style, quantiles_round_and_merge_ties)
{
	/* rounded as published (one decimal), then the ties leave three classes */
	double v[8] = {0.04, 0.01, 0, 0, 0, 0, 5.26, 100};
	struct style s;

	style_quantiles(&s, "x_score", "x", v, 8, 5);
	cr_assert_eq(s.nclasses, 3, "%zu classes", s.nclasses);
	cr_assert_float_eq(s.classes[0].lower, 0, 1e-9);
	cr_assert_float_eq(s.classes[0].upper, 0, 1e-9);
	cr_assert_float_eq(s.classes[1].upper, 5.3, 1e-9);
	cr_assert_float_eq(s.classes[2].upper, 100, 1e-9);
	for (size_t i = 1; i < s.nclasses; i++)
		cr_assert_lt(s.classes[i].lower, s.classes[i].upper);
	style_free(&s);

	style_quantiles(&s, "x_score", "x", (double[]){7, 7, 7}, 3, 5);
	cr_assert_eq(s.nclasses, 1);
	cr_assert_float_eq(s.classes[0].lower, 7, 1e-9);
	cr_assert_float_eq(s.classes[0].upper, 7, 1e-9);
	style_free(&s);

	style_quantiles(&s, "x_score", "x", NULL, 0, 5);
	cr_assert_eq(s.nclasses, 0);
	style_free(&s);
}

Test(style, bands_are_fixed_classes)
{
	struct style s;

	style_bands(&s, "x_band", "x", 10);
	cr_assert_eq(s.nclasses, 10);
	for (int b = 1; b <= 10; b++) {
		cr_assert(s.classes[b - 1].lower < b && s.classes[b - 1].upper > b);
		if (b > 1)
			cr_assert_float_eq(s.classes[b - 1].lower, s.classes[b - 2].upper, 1e-9);
	}
	cr_assert_str_eq(s.classes[0].label, "band 1 (least risk)");
	cr_assert_str_eq(s.classes[9].label, "band 10 (most risk)");
	style_free(&s);
}

Test(style, ramp_runs_light_to_dark_and_differs_from_grey)
{
	unsigned char prev[3] = {255, 255, 255}, rgb[3], first[3], last[3];
	struct style s;

	for (size_t i = 0; i < 7; i++) {
		style_ramp(i, 7, rgb);
		/* YlOrRd: each colour darker than the one before (sum of channels) */
		cr_assert_lt(rgb[0] + rgb[1] + rgb[2], prev[0] + prev[1] + prev[2] + (i == 0));
		memcpy(prev, rgb, 3);
	}
	style_ramp(0, 5, first);
	style_ramp(4, 5, last);
	cr_assert(first[0] == 255 && first[1] == 255 && first[2] == 204, "the ramp starts at YlOrRd's first colour");
	cr_assert(last[0] == 128 && last[1] == 0 && last[2] == 38, "the ramp ends at YlOrRd's last colour");
	style_bands(&s, "b", "b", 9);
	for (size_t i = 0; i < s.nclasses; i++)
		cr_assert(memcmp(s.classes[i].rgb, s.null_rgb, 3) != 0);
	style_free(&s);
}

Test(style, every_colour_is_in_qml_and_sld)
{
	double v[] = {-2.2, -1, 0, 0.5, 1.4, 3, 8, 9.9, 12, 40, 41, 60};
	struct style s;
	struct sbuf qml = {0}, sld = {0};
	char why[256] = "";

	style_quantiles(&s, "kinderarmoede-kern_score", "Kinderarmoede", v, sizeof v / sizeof v[0], 5);
	style_qml(&s, &qml);
	style_sld(&s, "buurt_kinderarmoede-kern", &sld);
	cr_assert(xml_balanced(qml.s, why, sizeof why), "QML is not well-formed: %s\n%s", why, qml.s);
	cr_assert(xml_balanced(sld.s, why, sizeof why), "SLD is not well-formed: %s\n%s", why, sld.s);
	for (size_t i = 0; i <= s.nclasses; i++) {
		const unsigned char *c = i < s.nclasses ? s.classes[i].rgb : s.null_rgb;
		char q[32], h[16];

		snprintf(q, sizeof q, "\"%d,%d,%d,255\"", c[0], c[1], c[2]);
		snprintf(h, sizeof h, "#%02x%02x%02x<", c[0], c[1], c[2]);
		cr_assert_geq(count(qml.s, q), 2, "colour %s not in the QML (Option and prop)", q);
		cr_assert_eq(count(sld.s, h), 1, "colour %s not in the SLD once", h);
	}
	/* one range and one symbol per class plus the grey one; one Rule each */
	cr_assert_eq(count(qml.s, "<range "), s.nclasses + 1);
	cr_assert_eq(count(qml.s, "<symbol "), s.nclasses + 1);
	cr_assert_eq(count(sld.s, "<se:Rule>"), s.nclasses + 1);
	cr_assert_eq(count(sld.s, "<ogc:PropertyIsNull>"), 1);
	cr_assert_neq(strstr(qml.s, "type=\"graduatedSymbol\""), NULL);
	cr_assert_neq(strstr(qml.s, "attr=\"coalesce(&quot;kinderarmoede-kern_score&quot;, -9999)\""), NULL, "%s", qml.s);
	cr_assert_neq(strstr(sld.s, "<ogc:PropertyName>kinderarmoede-kern_score</ogc:PropertyName>"), NULL);
	cr_assert_neq(strstr(qml.s, "label=\"-2.2 to 0.0\""), NULL, "%s", qml.s);
	sbuf_free(&qml);
	sbuf_free(&sld);
	style_free(&s);
}

Test(style, names_are_escaped)
{
	struct sbuf b = {0}, qml = {0}, sld = {0};
	struct style s;
	char why[256] = "";

	style_xml_escape(&b, "a&b<c>d\"e'f");
	cr_assert_str_eq(b.s, "a&amp;b&lt;c&gt;d&quot;e&apos;f");
	style_bands(&s, "we\"ird&<>_band", "Tom & Jerry's <risk>", 3);
	style_qml(&s, &qml);
	style_sld(&s, "layer \"<&>\"", &sld);
	cr_assert(xml_balanced(qml.s, why, sizeof why), "QML: %s\n%s", why, qml.s);
	cr_assert(xml_balanced(sld.s, why, sizeof why), "SLD: %s\n%s", why, sld.s);
	/* in QML the expression doubles the quote, then XML escapes it */
	cr_assert_neq(strstr(qml.s, "coalesce(&quot;we&quot;&quot;ird&amp;&lt;&gt;_band&quot;"), NULL, "%s", qml.s);
	cr_assert_neq(strstr(sld.s, "<se:Title>Tom &amp; Jerry&apos;s &lt;risk&gt;</se:Title>"), NULL);
	cr_assert_neq(strstr(sld.s, "<se:Name>layer &quot;&lt;&amp;&gt;&quot;</se:Name>"), NULL);
	sbuf_free(&b);
	sbuf_free(&qml);
	sbuf_free(&sld);
	style_free(&s);
}

Test(style, the_checker_finds_broken_xml)
{
	char why[256];

	cr_assert(!xml_balanced("<a><b></a></b>", why, sizeof why));
	cr_assert(!xml_balanced("<a>x & y</a>", why, sizeof why));
	cr_assert(!xml_balanced("<a t=\"<\"/>", why, sizeof why));
	cr_assert(!xml_balanced("<a>", why, sizeof why));
	cr_assert(xml_balanced("<?xml version=\"1.0\"?><a t=\"x/y\"><b/>&amp;</a>", why, sizeof why));
}

Test(style, class_of_follows_the_qml_ranges)
{
	double v[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
	struct style s;

	style_quantiles(&s, "a_score", "A", v, 10, 5);
	cr_assert_eq(s.nclasses, 5);
	/* the first class holds its lower bound, the others not */
	cr_assert_eq(style_class_of(&s, 1), 0);
	cr_assert_eq(style_class_of(&s, s.classes[0].upper), 0);
	cr_assert_eq(style_class_of(&s, s.classes[1].lower), 0);
	cr_assert_eq(style_class_of(&s, s.classes[1].lower + 0.1), 1);
	cr_assert_eq(style_class_of(&s, 10), 4);
	/* as published: one decimal first */
	cr_assert_eq(style_class_of(&s, 10.04), 4);
	cr_assert_eq(style_class_of(&s, 10.06), -1);
	cr_assert_eq(style_class_of(&s, 0.5), -1);
	style_free(&s);
	style_bands(&s, "a_band", "A", 4);
	for (int b = 1; b <= 4; b++)
		cr_assert_eq(style_class_of(&s, b), b - 1);
	style_free(&s);
}
