#include "pc6risk/config.h"
#include "pc6risk/embedded.h"
#include "pc6risk/http.h"
#include "pc6risk/sbuf.h"
#include "pc6risk/sha256.h"
#include "pc6risk/xalloc.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

static const char *const level_names[LEVEL_COUNT] = {"gemeente", "wijk", "buurt", "pc6"};

const char *level_name(enum level level)
{
	return level < LEVEL_COUNT ? level_names[level] : "?";
}

enum level config_display_level(const struct config_scenario *s)
{
	return s->outputs[LEVEL_BUURT] ? LEVEL_BUURT : s->level;
}

const char *level_plural(enum level level)
{
	static const char *const plurals[LEVEL_COUNT] = {"gemeenten", "wijken", "buurten", "PC6"};

	return level < LEVEL_COUNT ? plurals[level] : "?";
}

int level_parse(const char *name, enum level *out)
{
	for (int i = 0; i < LEVEL_COUNT; i++) {
		if (strcmp(name, level_names[i]) == 0) {
			*out = (enum level)i;
			return 0;
		}
	}
	return -1;
}

/* What checking one file needs at hand. */
struct ctx {
	const char *file;
	struct config *cfg;
	struct err *e;
};

/* A short description of a JSON value for "got ..." in messages. */
static void describe(const cJSON *v, char *buf, size_t size)
{
	if (!v)
		snprintf(buf, size, "nothing");
	else if (cJSON_IsString(v))
		snprintf(buf, size, "\"%.60s%s\"", v->valuestring, strlen(v->valuestring) > 60 ? "..." : "");
	else if (cJSON_IsNumber(v))
		snprintf(buf, size, "%.15g", v->valuedouble);
	else if (cJSON_IsBool(v))
		snprintf(buf, size, "%s", cJSON_IsTrue(v) ? "true" : "false");
	else if (cJSON_IsNull(v))
		snprintf(buf, size, "null");
	else if (cJSON_IsArray(v))
		snprintf(buf, size, "%s", v->child ? "an array" : "an empty array");
	else
		snprintf(buf, size, "an object");
}

/* Fail with "<path>: <what>, got <value>". */
static int bad(struct ctx *x, const char *path, const cJSON *v, const char *what)
{
	char got[100];

	describe(v, got, sizeof got);
	return err_set(x->e, ERR_CONFIG, x->file, "%s: %s, got %s", path, what, got);
}

static char *join_path(const char *path, const char *key)
{
	return path[0] ? xasprintf("%s.%s", path, key) : xstrdup(key);
}

/* Refuse keys that are not in allowed (typos are the commonest config error)
 * and keys given twice (cJSON would silently keep both). */
static int check_keys(struct ctx *x, const cJSON *obj, const char *path, const char *const allowed[])
{
	for (const cJSON *c = obj->child; c; c = c->next) {
		bool known = false;

		for (const char *const *a = allowed; *a; a++)
			if (strcmp(c->string, *a) == 0)
				known = true;
		for (const cJSON *d = obj->child; d != c; d = d->next) {
			if (strcmp(c->string, d->string) == 0) {
				char *p = join_path(path, c->string);

				err_set(x->e, ERR_CONFIG, x->file, "%s: key given twice", p);
				free(p);
				return -1;
			}
		}
		if (!known) {
			struct sbuf list = {0};
			char *p = join_path(path, c->string);

			for (const char *const *a = allowed; *a; a++)
				sbuf_printf(&list, "%s%s", a == allowed ? "" : ", ", *a);
			err_set(x->e, ERR_CONFIG, x->file, "%s: unknown key; expected one of: %s", p, list.s);
			free(p);
			sbuf_free(&list);
			return -1;
		}
	}
	return 0;
}

static int want_object(struct ctx *x, const cJSON *v, const char *path)
{
	return cJSON_IsObject(v) ? 0 : bad(x, path, v, "must be an object");
}

/* Read obj.key as a non-empty string into *out (a new copy). A missing key is
 * an error when required, else leaves *out as it was. */
static int get_string(struct ctx *x, const cJSON *obj, const char *path, const char *key, bool required,
		      char **out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char *p;
	int rc = 0;

	if (!v && !required)
		return 0;
	p = join_path(path, key);
	if (!v)
		rc = err_set(x->e, ERR_CONFIG, x->file, "%s: is required", p);
	else if (!cJSON_IsString(v) || v->valuestring[0] == '\0')
		rc = bad(x, p, v, "must be a non-empty string");
	else {
		free(*out);
		*out = xstrdup(v->valuestring);
	}
	free(p);
	return rc;
}

static int get_int(struct ctx *x, const cJSON *obj, const char *path, const char *key, int min, int max,
		   int *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char *p, what[80];
	int rc = 0;

	if (!v)
		return 0;
	p = join_path(path, key);
	if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < min ||
	    v->valuedouble > max) {
		if (max == 1000000000)
			snprintf(what, sizeof what, "must be an integer >= %d", min);
		else
			snprintf(what, sizeof what, "must be an integer from %d to %d", min, max);
		rc = bad(x, p, v, what);
	} else {
		*out = (int)v->valuedouble;
	}
	free(p);
	return rc;
}

static bool name_ok(const char *s, bool allow_dash)
{
	size_t n = strlen(s);

	if (n == 0 || n > 40 || !((s[0] >= 'a' && s[0] <= 'z') || (allow_dash && s[0] >= '0' && s[0] <= '9')))
		return false;
	for (const char *p = s; *p; p++) {
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || (allow_dash && *p == '-')))
			return false;
	}
	return true;
}

bool config_schema_name_ok(const char *name)
{
	return name_ok(name, false);
}

static char *resolve(const struct config *cfg, const char *p)
{
	if (p[0] == '/' || strcmp(cfg->dir, ".") == 0)
		return xstrdup(p);
	return xasprintf("%s/%s", cfg->dir, p);
}

static int get_path(struct ctx *x, const cJSON *obj, const char *path, const char *key, bool required,
		    char **out)
{
	char *raw = NULL;

	if (get_string(x, obj, path, key, required, &raw) < 0)
		return -1;
	if (raw) {
		free(*out);
		*out = resolve(x->cfg, raw);
		free(raw);
	}
	return 0;
}

static int get_level(struct ctx *x, const cJSON *obj, const char *path, enum level *out)
{
	char *s = NULL, *p;
	int rc = 0;

	if (get_string(x, obj, path, "level", true, &s) < 0)
		return -1;
	if (level_parse(s, out) < 0) {
		p = join_path(path, "level");
		rc = bad(x, p, cJSON_GetObjectItemCaseSensitive(obj, "level"),
			 "must be one of gemeente, wijk, buurt, pc6");
		free(p);
	}
	free(s);
	return rc;
}

static int parse_area(struct ctx *x, const cJSON *obj, const char *path, struct config_area *a)
{
	static const char *const keys[] = {"level", "path", "layer", "srs", "code", "name", "parent", NULL};
	char *p;

	if (want_object(x, obj, path) < 0 || check_keys(x, obj, path, keys) < 0)
		return -1;
	if (get_level(x, obj, path, &a->level) < 0 || get_path(x, obj, path, "path", true, &a->path) < 0 ||
	    get_string(x, obj, path, "layer", false, &a->layer) < 0 ||
	    get_string(x, obj, path, "srs", false, &a->srs) < 0 ||
	    get_string(x, obj, path, "code", true, &a->code_field) < 0 ||
	    get_string(x, obj, path, "name", a->level != LEVEL_PC6, &a->name_field) < 0 ||
	    get_string(x, obj, path, "parent", a->level == LEVEL_WIJK || a->level == LEVEL_BUURT,
		       &a->parent_field) < 0)
		return -1;
	if (a->level == LEVEL_GEMEENTE && a->parent_field) {
		p = join_path(path, "parent");
		err_set(x->e, ERR_CONFIG, x->file, "%s: a gemeente has no parent area", p);
		free(p);
		return -1;
	}
	return 0;
}

static const char *const kind_names[] = {"count", "share", "amount"};

const char *kind_name(enum kind kind)
{
	return kind <= KIND_AMOUNT ? kind_names[kind] : "?";
}

/* The optional "delimiter" and "encoding" of a delimited-file input. */
static int get_text_format(struct ctx *x, const cJSON *obj, const char *path, char *delimiter,
			   enum encoding *encoding)
{
	char *delim = NULL, *enc = NULL, *p;
	int rc = 0;

	if (get_string(x, obj, path, "delimiter", false, &delim) < 0 ||
	    get_string(x, obj, path, "encoding", false, &enc) < 0) {
		rc = -1;
		goto out;
	}
	if (delim) {
		if (strlen(delim) != 1 || !(delim[0] == ';' || delim[0] == ',' || delim[0] == '\t')) {
			p = join_path(path, "delimiter");
			rc = bad(x, p, cJSON_GetObjectItemCaseSensitive(obj, "delimiter"), "must be \";\", \",\" or \"\\t\"");
			free(p);
			goto out;
		}
		*delimiter = delim[0];
	}
	if (enc && encoding_parse(enc, encoding) < 0) {
		p = join_path(path, "encoding");
		rc = bad(x, p, cJSON_GetObjectItemCaseSensitive(obj, "encoding"),
			 "must be \"auto\", \"utf-8\", \"cp1252\" or \"latin1\"");
		free(p);
	}
out:
	free(delim);
	free(enc);
	return rc;
}

/* One entry of "columns": "SOURCE" (a count) or {"column", "kind", "unit"}. */
static int parse_column(struct ctx *x, const cJSON *c, const char *path, struct config_column *col)
{
	static const char *const keys[] = {"column", "kind", "unit", NULL};
	char *kind = NULL;
	int rc = 0;

	if (!name_ok(c->string, false))
		return err_set(x->e, ERR_CONFIG, x->file,
			       "%s: an indicator name is lowercase letters, digits and _, starting with a letter", path);
	col->indicator = xstrdup(c->string);
	col->kind = KIND_COUNT;
	if (cJSON_IsString(c) && c->valuestring[0]) {
		col->column = xstrdup(c->valuestring);
		return 0;
	}
	if (!cJSON_IsObject(c))
		return bad(x, path, c, "must be a source column name or {\"column\": ..., \"kind\": ...}");
	if (check_keys(x, c, path, keys) < 0 || get_string(x, c, path, "column", true, &col->column) < 0 ||
	    get_string(x, c, path, "kind", false, &kind) < 0 || get_string(x, c, path, "unit", false, &col->unit) < 0)
		return -1;
	if (kind) {
		size_t k;

		for (k = 0; k < sizeof kind_names / sizeof kind_names[0]; k++)
			if (strcmp(kind, kind_names[k]) == 0)
				break;
		if (k == sizeof kind_names / sizeof kind_names[0]) {
			char *p = join_path(path, "kind");

			rc = bad(x, p, cJSON_GetObjectItemCaseSensitive(c, "kind"), "must be \"count\", \"share\" or \"amount\"");
			free(p);
		} else {
			col->kind = (enum kind)k;
		}
		free(kind);
	}
	return rc;
}

static int parse_indicators(struct ctx *x, const cJSON *obj, const char *path, struct config_indicators *in)
{
	static const char *const keys[] = {"path", "level", "key", "delimiter", "encoding", "columns", NULL};
	const cJSON *cols;
	char *p;
	size_t i = 0;
	int rc = 0;

	if (want_object(x, obj, path) < 0 || check_keys(x, obj, path, keys) < 0)
		return -1;
	if (get_path(x, obj, path, "path", true, &in->path) < 0 || get_level(x, obj, path, &in->level) < 0 ||
	    get_string(x, obj, path, "key", true, &in->key) < 0 ||
	    get_text_format(x, obj, path, &in->delimiter, &in->encoding) < 0)
		return -1;
	p = join_path(path, "columns");
	cols = cJSON_GetObjectItemCaseSensitive(obj, "columns");
	if (!cols)
		rc = err_set(x->e, ERR_CONFIG, x->file, "%s: is required", p);
	else if (!cJSON_IsObject(cols) || !cols->child)
		rc = bad(x, p, cols, "must be an object mapping indicator names to source columns");
	if (rc < 0) {
		free(p);
		return -1;
	}
	in->ncolumns = (size_t)cJSON_GetArraySize(cols);
	in->columns = xcalloc(in->ncolumns, sizeof *in->columns);
	for (const cJSON *c = cols->child; c && rc == 0; c = c->next, i++) {
		char *cp = join_path(p, c->string);

		for (const cJSON *d = cols->child; d != c && rc == 0; d = d->next)
			if (strcmp(c->string, d->string) == 0)
				rc = err_set(x->e, ERR_CONFIG, x->file, "%s: key given twice", cp);
		if (rc == 0)
			rc = parse_column(x, c, cp, &in->columns[i]);
		free(cp);
	}
	free(p);
	return rc;
}

static int parse_crosswalk(struct ctx *x, const cJSON *obj, struct config_crosswalk *cw)
{
	static const char *const keys[] = {"path", "pc6", "buurt", "delimiter", "encoding", NULL};
	const char *path = "inputs.crosswalk";

	if (want_object(x, obj, path) < 0 || check_keys(x, obj, path, keys) < 0)
		return -1;
	return get_path(x, obj, path, "path", true, &cw->path) < 0 ||
			       get_string(x, obj, path, "pc6", true, &cw->pc6_column) < 0 ||
			       get_string(x, obj, path, "buurt", true, &cw->buurt_column) < 0 ||
			       get_text_format(x, obj, path, &cw->delimiter, &cw->encoding) < 0
		       ? -1
		       : 0;
}

static const char *const combine_names[] = {"rate", "mean", "geometric_mean", "flags", "imd", "pca"};
static const char *const norm_names[] = {"z", "robust_z", "rank", "minmax"};

const char *combine_name(enum combine c)
{
	return c <= COMBINE_PCA ? combine_names[c] : "?";
}

const char *norm_name(enum norm n)
{
	return n <= NORM_MINMAX ? norm_names[n] : "?";
}

const char *config_preset(const char *name)
{
	for (size_t i = 0; i < embedded_npresets; i++)
		if (strcmp(embedded_presets[i].name, name) == 0)
			return embedded_presets[i].text;
	return NULL;
}

const char *const *config_preset_names(void)
{
	static const char *names[64];

	if (!names[0])
		for (size_t i = 0; i < embedded_npresets && i < 63; i++)
			names[i] = embedded_presets[i].name;
	return names;
}

/* obj.key as one of names, into *out (an enum's value); absent keeps *out. */
static int get_choice(struct ctx *x, const cJSON *obj, const char *path, const char *key, const char *const *names,
		      size_t n, int *out)
{
	char *v = NULL, *p;
	struct sbuf list = {0};
	int rc;

	if (get_string(x, obj, path, key, false, &v) < 0)
		return -1;
	if (!v)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (strcmp(v, names[i]) == 0) {
			*out = (int)i;
			free(v);
			return 0;
		}
	}
	for (size_t i = 0; i < n; i++)
		sbuf_printf(&list, "%s\"%s\"", i ? (i + 1 == n ? " or " : ", ") : "", names[i]);
	p = join_path(path, key);
	rc = bad(x, p, cJSON_GetObjectItemCaseSensitive(obj, key), list.s);
	sbuf_free(&list);
	free(p);
	free(v);
	return rc;
}

/* obj.key as a string or an array of strings: a new NULL-terminated list. */
static int get_names(struct ctx *x, const cJSON *obj, const char *path, const char *key, char ***out, size_t *n)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key), *c;
	char *p = join_path(path, key);
	int rc = 0;

	*n = 0;
	if (!v)
		goto out;
	if (cJSON_IsString(v) && v->valuestring[0]) {
		*out = xcalloc(2, sizeof **out);
		(*out)[0] = xstrdup(v->valuestring);
		*n = 1;
		goto out;
	}
	if (!cJSON_IsArray(v) || !v->child) {
		rc = bad(x, p, v, "must be an indicator name or a list of them");
		goto out;
	}
	*out = xcalloc((size_t)cJSON_GetArraySize(v) + 1, sizeof **out);
	cJSON_ArrayForEach(c, v)
	{
		if (!cJSON_IsString(c) || !c->valuestring[0]) {
			rc = bad(x, p, c, "must list indicator names");
			goto out;
		}
		(*out)[(*n)++] = xstrdup(c->valuestring);
	}
out:
	free(p);
	return rc;
}

static int get_number(struct ctx *x, const cJSON *obj, const char *path, const char *key, double lo, double hi,
		      const char *what, double *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char *p;
	int rc = 0;

	if (!v)
		return 0;
	if (!cJSON_IsNumber(v) || v->valuedouble < lo || v->valuedouble > hi) {
		p = join_path(path, key);
		rc = bad(x, p, v, what);
		free(p);
	} else {
		*out = v->valuedouble;
	}
	return rc;
}

static int get_bool(struct ctx *x, const cJSON *obj, const char *path, const char *key, bool *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char *p;
	int rc = 0;

	if (!v)
		return 0;
	if (!cJSON_IsBool(v)) {
		p = join_path(path, key);
		rc = bad(x, p, v, "must be true or false");
		free(p);
	} else {
		*out = cJSON_IsTrue(v);
	}
	return rc;
}

static int parse_list(struct ctx *x, const cJSON *obj, const char *path, const char *key, bool required,
		      size_t sz, void **items, size_t *n,
		      int (*fn)(struct ctx *, const cJSON *, const char *, void *));

static int parse_term(struct ctx *x, const cJSON *obj, const char *path, struct config_term *t)
{
	static const char *const keys[] = {"name", "value", "base", "numerator", "denominator", "direction", "domain",
					   "level", "optional", NULL};
	static const char *const directions[] = {"up", "down"};
	int dir = 0;
	char *p;

	if (want_object(x, obj, path) < 0 || check_keys(x, obj, path, keys) < 0 ||
	    get_string(x, obj, path, "name", true, &t->name) < 0 ||
	    get_string(x, obj, path, "value", false, &t->value) < 0 ||
	    get_string(x, obj, path, "base", false, &t->base) < 0 ||
	    get_names(x, obj, path, "numerator", &t->numerator, &t->nnumerator) < 0 ||
	    get_names(x, obj, path, "denominator", &t->denominator, &t->ndenominator) < 0 ||
	    get_choice(x, obj, path, "direction", directions, 2, &dir) < 0 ||
	    get_string(x, obj, path, "domain", false, &t->domain) < 0 ||
	    get_bool(x, obj, path, "optional", &t->optional) < 0)
		return -1;
	if (!name_ok(t->name, false)) {
		p = join_path(path, "name");
		bad(x, p, cJSON_GetObjectItemCaseSensitive(obj, "name"),
		    "must be lowercase letters, digits and _, starting with a letter");
		free(p);
		return -1;
	}
	if (!cJSON_GetObjectItemCaseSensitive(obj, "direction"))
		return err_set(x->e, ERR_CONFIG, x->file, "%s.direction: is required (\"up\": more is more risk, or \"down\")",
			       path);
	t->direction = dir == 0 ? 1 : -1;
	if (!t->value == !t->nnumerator || !t->nnumerator != !t->ndenominator)
		return err_set(x->e, ERR_CONFIG, x->file,
			       "%s: give either \"value\" (a figure as it is) or \"numerator\" and \"denominator\" (a rate)",
			       path);
	if (t->base && !t->value)
		return err_set(x->e, ERR_CONFIG, x->file, "%s.base: only a \"value\" (a share) has a base", path);
	if (cJSON_GetObjectItemCaseSensitive(obj, "level")) {
		if (get_level(x, obj, path, &t->level) < 0)
			return -1;
		t->level_given = true;
	}
	if (!t->domain)
		t->domain = xstrdup(t->name);
	return 0;
}

static int add_domain(struct config_scenario *s, const char *name, double weight)
{
	for (size_t i = 0; i < s->ndomains; i++)
		if (strcmp(s->domains[i].name, name) == 0)
			return 0;
	s->domains = xrealloc(s->domains, (s->ndomains + 1) * sizeof *s->domains);
	s->domains[s->ndomains].name = xstrdup(name);
	s->domains[s->ndomains].weight = weight;
	s->ndomains++;
	return 1;
}

static int term_cb(struct ctx *x, const cJSON *v, const char *path, void *item)
{
	return parse_term(x, v, path, item);
}

/* The full form of a scenario (a preset's keys merged with the user's). */
static int parse_scenario_full(struct ctx *x, const cJSON *obj, const char *path, struct config_scenario *s)
{
	static const char *const keys[] = {"preset", "name", "title", "about", "level", "outputs", "reference",
					   "normalise", "winsorise", "shrink", "combine", "flags", "weight", "volume",
					   "domains", "indicators", "size", "numerator", "denominator", "per", NULL};
	static const char *const references[] = {"gemeente", "all"};
	const cJSON *v, *c;
	int choice;
	char *p;

	if (want_object(x, obj, path) < 0 || check_keys(x, obj, path, keys) < 0 ||
	    get_string(x, obj, path, "name", true, &s->name) < 0 ||
	    get_string(x, obj, path, "title", false, &s->title) < 0 ||
	    get_string(x, obj, path, "about", false, &s->about) < 0 || get_level(x, obj, path, &s->level) < 0)
		return -1;
	if (!name_ok(s->name, true)) {
		p = join_path(path, "name");
		bad(x, p, cJSON_GetObjectItemCaseSensitive(obj, "name"),
		    "must be lowercase letters, digits, '-' and '_' (at most 40)");
		free(p);
		return -1;
	}
	if (!s->title)
		s->title = xstrdup(s->name);

	/* the plain rate: numerator / denominator * per */
	if (cJSON_GetObjectItemCaseSensitive(obj, "numerator") && !cJSON_GetObjectItemCaseSensitive(obj, "indicators")) {
		struct config_term *t;

		s->combine = COMBINE_RATE;
		s->per = 100;
		s->nterms = 1;
		s->terms = t = xcalloc(1, sizeof *t);
		t->name = xstrdup("rate");
		t->direction = 1;
		t->level = s->level;
		t->level_given = true;
		if (get_names(x, obj, path, "numerator", &t->numerator, &t->nnumerator) < 0 ||
		    get_names(x, obj, path, "denominator", &t->denominator, &t->ndenominator) < 0 ||
		    get_number(x, obj, path, "per", 1e-9, 1e12, "must be a number > 0", &s->per) < 0)
			return -1;
		if (!t->ndenominator)
			return err_set(x->e, ERR_CONFIG, x->file, "%s.denominator: is required", path);
		t->domain = xstrdup("rate");
		add_domain(s, "rate", 1);
		s->outputs[s->level] = true;
		return 0;
	}

	choice = COMBINE_MEAN;
	if (get_choice(x, obj, path, "combine", combine_names, 6, &choice) < 0)
		return -1;
	s->combine = (enum combine)choice;
	if (s->combine == COMBINE_RATE)
		return err_set(x->e, ERR_CONFIG, x->file, "%s.combine: \"rate\" takes \"numerator\" and \"denominator\"",
			       path);
	choice = 0;
	if (get_choice(x, obj, path, "reference", references, 2, &choice) < 0)
		return -1;
	s->reference_all = choice == 1;
	choice = NORM_ROBUST_Z;
	if (get_choice(x, obj, path, "normalise", norm_names, 4, &choice) < 0)
		return -1;
	s->normalise = (enum norm)choice;
	s->winsor_lo = 0;
	s->winsor_hi = 1;
	if ((v = cJSON_GetObjectItemCaseSensitive(obj, "winsorise"))) {
		if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 2 || !cJSON_IsNumber(v->child) ||
		    !cJSON_IsNumber(v->child->next) || v->child->valuedouble < 0 ||
		    v->child->valuedouble >= v->child->next->valuedouble || v->child->next->valuedouble > 100) {
			p = join_path(path, "winsorise");
			bad(x, p, v, "must be [low, high] percentiles, 0 <= low < high <= 100");
			free(p);
			return -1;
		}
		s->winsor_lo = v->child->valuedouble / 100;
		s->winsor_hi = v->child->next->valuedouble / 100;
	}
	s->shrink = true;
	if (get_bool(x, obj, path, "shrink", &s->shrink) < 0)
		return -1;
	s->flag_percentile = 0.8;
	s->flags_needed = 3;
	if ((v = cJSON_GetObjectItemCaseSensitive(obj, "flags"))) {
		static const char *const flag_keys[] = {"percentile", "needed", NULL};
		char *fp = join_path(path, "flags");
		double pct = 80;
		int rc = want_object(x, v, fp) < 0 || check_keys(x, v, fp, flag_keys) < 0 ||
				 get_number(x, v, fp, "percentile", 1, 99, "must be a percentile from 1 to 99", &pct) < 0 ||
				 get_int(x, v, fp, "needed", 1, 100, &s->flags_needed) < 0
			 ? -1
			 : 0;

		free(fp);
		if (rc < 0)
			return -1;
		s->flag_percentile = pct / 100;
	}
	if (get_string(x, obj, path, "weight", false, &s->weight) < 0)
		return -1;
	if ((v = cJSON_GetObjectItemCaseSensitive(obj, "volume"))) {
		static const char *const vol_keys[] = {"count", "share", NULL};
		char *vp = join_path(path, "volume");
		int rc = want_object(x, v, vp) < 0 || check_keys(x, v, vp, vol_keys) < 0 ||
				 get_string(x, v, vp, "count", true, &s->volume_count) < 0 ||
				 get_string(x, v, vp, "share", true, &s->volume_share) < 0
			 ? -1
			 : 0;

		free(vp);
		if (rc < 0)
			return -1;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(obj, "size"))) {
		static const char *const size_keys[] = {"indicator", "min", NULL};
		char *sp = join_path(path, "size");
		int rc = want_object(x, v, sp) < 0 || check_keys(x, v, sp, size_keys) < 0 ||
				 get_string(x, v, sp, "indicator", true, &s->size) < 0 ||
				 get_number(x, v, sp, "min", 0, 1e12, "must be a number >= 0", &s->min_size) < 0
			 ? -1
			 : 0;

		free(sp);
		if (rc < 0)
			return -1;
	}

	/* outputs: the scenario's level and coarser ones */
	if ((v = cJSON_GetObjectItemCaseSensitive(obj, "outputs"))) {
		size_t i = 0;

		p = join_path(path, "outputs");
		if (!cJSON_IsArray(v) || !v->child) {
			bad(x, p, v, "must be a list of levels");
			free(p);
			return -1;
		}
		cJSON_ArrayForEach(c, v)
		{
			enum level l;

			if (!cJSON_IsString(c) || level_parse(c->valuestring, &l) < 0 || l > s->level) {
				char *ip = xasprintf("%s[%zu]", p, i);

				bad(x, ip, c, "must be the scenario's level or a coarser one");
				free(ip);
				free(p);
				return -1;
			}
			s->outputs[l] = true;
			i++;
		}
		free(p);
	} else {
		s->outputs[s->level] = true;
	}

	/* indicators */
	if (parse_list(x, obj, path, "indicators", true, sizeof *s->terms, (void **)&s->terms, &s->nterms, term_cb) < 0)
		return -1;
	for (size_t i = 0; i < s->nterms; i++) {
		if (!s->terms[i].level_given)
			s->terms[i].level = s->level;
		for (size_t j = 0; j < i; j++)
			if (strcmp(s->terms[i].name, s->terms[j].name) == 0)
				return err_set(x->e, ERR_CONFIG, x->file, "%s.indicators[%zu].name: \"%s\" is used twice", path,
					       i, s->terms[i].name);
		if (s->terms[i].level > s->level)
			return err_set(x->e, ERR_CONFIG, x->file,
				       "%s.indicators[%zu].level: must be the scenario's level (%s) or a coarser one", path, i,
				       level_name(s->level));
	}
	/* domains: weighted when given, else equal, in order of first mention */
	if ((v = cJSON_GetObjectItemCaseSensitive(obj, "domains"))) {
		p = join_path(path, "domains");
		if (!cJSON_IsObject(v) || !v->child) {
			bad(x, p, v, "must map domain names to weights");
			free(p);
			return -1;
		}
		cJSON_ArrayForEach(c, v)
		{
			if (!cJSON_IsNumber(c) || !(c->valuedouble > 0)) {
				char *dp = join_path(p, c->string);

				bad(x, dp, c, "must be a weight > 0");
				free(dp);
				free(p);
				return -1;
			}
			add_domain(s, c->string, c->valuedouble);
		}
		free(p);
		for (size_t i = 0; i < s->nterms; i++) {
			size_t d;

			for (d = 0; d < s->ndomains && strcmp(s->domains[d].name, s->terms[i].domain) != 0; d++)
				;
			if (d == s->ndomains)
				return err_set(x->e, ERR_CONFIG, x->file,
					       "%s.indicators[%zu].domain: \"%s\" is not in %s.domains", path, i,
					       s->terms[i].domain, path);
		}
	} else {
		for (size_t i = 0; i < s->nterms; i++)
			add_domain(s, s->terms[i].domain, 1);
	}
	if (s->combine == COMBINE_FLAGS && (size_t)s->flags_needed > s->ndomains)
		return err_set(x->e, ERR_CONFIG, x->file, "%s.flags.needed: %d, but the scenario has %zu domains", path,
			       s->flags_needed, s->ndomains);
	if (s->volume_share) {
		size_t i;

		for (i = 0; i < s->nterms && strcmp(s->terms[i].name, s->volume_share) != 0; i++)
			;
		if (i == s->nterms)
			return err_set(x->e, ERR_CONFIG, x->file, "%s.volume.share: \"%s\" is none of the scenario's indicators",
				       path, s->volume_share);
	}
	return 0;
}

/* A scenario: a preset, with the keys given beside "preset" replacing its
 * own, or the full form. */
static int parse_scenario(struct ctx *x, const cJSON *obj, const char *path, struct config_scenario *s)
{
	const cJSON *preset = cJSON_GetObjectItemCaseSensitive(obj, "preset");
	cJSON *merged;
	const char *text;
	int rc;

	if (want_object(x, obj, path) < 0)
		return -1;
	if (!preset)
		return parse_scenario_full(x, obj, path, s);
	if (!cJSON_IsString(preset) || !(text = config_preset(preset->valuestring))) {
		struct sbuf list = {0};
		char *p = join_path(path, "preset");

		for (const char *const *n = config_preset_names(); *n; n++)
			sbuf_printf(&list, "%s\"%s\"", n == config_preset_names() ? "" : ", ", *n);
		err_set(x->e, ERR_CONFIG, x->file, "%s: no such preset; the presets are %s", p, list.s);
		sbuf_free(&list);
		free(p);
		return -1;
	}
	merged = cJSON_Parse(text);
	if (!merged)
		return err_set(x->e, ERR_INTERNAL, x->file, "preset %s is not valid JSON", preset->valuestring);
	for (const cJSON *c = obj->child; c; c = c->next) {
		if (strcmp(c->string, "preset") == 0)
			continue;
		if (cJSON_GetObjectItemCaseSensitive(merged, c->string))
			cJSON_ReplaceItemInObjectCaseSensitive(merged, c->string, cJSON_Duplicate(c, true));
		else
			cJSON_AddItemToObject(merged, c->string, cJSON_Duplicate(c, true));
	}
	rc = parse_scenario_full(x, merged, path, s);
	if (rc == 0)
		s->preset = xstrdup(preset->valuestring);
	cJSON_Delete(merged);
	return rc;
}

/* Parse an array of objects at obj.key with fn, into a new array of n items of size sz. */
static int parse_list(struct ctx *x, const cJSON *obj, const char *path, const char *key, bool required,
		      size_t sz, void **items, size_t *n,
		      int (*fn)(struct ctx *, const cJSON *, const char *, void *))
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, key);
	char *p = join_path(path, key);
	size_t i = 0;
	int rc = 0;

	if (!arr) {
		if (required)
			rc = err_set(x->e, ERR_CONFIG, x->file, "%s: is required", p);
		free(p);
		return rc;
	}
	if (!cJSON_IsArray(arr) || !arr->child) {
		rc = bad(x, p, arr, "must be a non-empty array");
		free(p);
		return rc;
	}
	*n = (size_t)cJSON_GetArraySize(arr);
	*items = xcalloc(*n, sz);
	for (const cJSON *c = arr->child; c; c = c->next, i++) {
		char *ip = xasprintf("%s[%zu]", p, i);

		rc = fn(x, c, ip, (char *)*items + i * sz);
		free(ip);
		if (rc < 0)
			break;
	}
	free(p);
	return rc;
}

static int area_cb(struct ctx *x, const cJSON *v, const char *path, void *item)
{
	return parse_area(x, v, path, item);
}

static int indicators_cb(struct ctx *x, const cJSON *v, const char *path, void *item)
{
	return parse_indicators(x, v, path, item);
}

static int scenario_cb(struct ctx *x, const cJSON *v, const char *path, void *item)
{
	return parse_scenario(x, v, path, item);
}

static bool reads_indicator(const struct config_indicators *in, const char *name)
{
	for (size_t j = 0; j < in->ncolumns; j++)
		if (strcmp(in->columns[j].indicator, name) == 0)
			return true;
	return false;
}

/* Are all of names read at level? Sets *missing to the first that is not. */
static bool reads_all(const struct config *c, enum level level, char *const *names, size_t n, const char **missing)
{
	for (size_t i = 0; i < n; i++) {
		if (!config_has_indicator(c, level, names[i])) {
			*missing = names[i];
			return false;
		}
	}
	return true;
}

/* The figures a term needs, as one list. */
static size_t term_needs(const struct config_term *t, char **out, size_t cap)
{
	size_t n = 0;

	if (t->value && n < cap)
		out[n++] = t->value;
	if (t->base && n < cap)
		out[n++] = t->base;
	for (size_t i = 0; i < t->nnumerator && n < cap; i++)
		out[n++] = t->numerator[i];
	for (size_t i = 0; i < t->ndenominator && n < cap; i++)
		out[n++] = t->denominator[i];
	return n;
}

/* A scenario against the inputs: each indicator is read at its level (or,
 * when none was given, the nearest coarser level that has it, and is then
 * inherited), the weight, volume and size indicators at the scenario's level. */
static int check_scenario(struct ctx *x, struct config_scenario *s, size_t i)
{
	const struct config *c = x->cfg;
	const char *missing = NULL;
	size_t present = 0;

	for (size_t j = 0; j < s->nterms; j++) {
		struct config_term *t = &s->terms[j];
		char *need[64];
		size_t n = term_needs(t, need, 64);
		int l = t->level;

		if (!t->level_given)
			for (; l >= LEVEL_GEMEENTE && !reads_all(c, (enum level)l, need, n, &missing); l--)
				;
		if (l >= LEVEL_GEMEENTE && reads_all(c, (enum level)l, need, n, &missing)) {
			t->level = (enum level)l;
			t->present = true;
			present++;
			continue;
		}
		reads_all(c, t->level_given ? t->level : s->level, need, n, &missing);
		if (t->optional)
			continue;
		if (s->combine == COMBINE_RATE) {
			bool in_num = false;

			for (size_t k = 0; k < t->nnumerator; k++)
				in_num = in_num || strcmp(t->numerator[k], missing) == 0;
			err_set(x->e, ERR_CONFIG, x->file, "scenarios[%zu].%s: no indicator \"%s\" is read for level %s", i,
				in_num ? "numerator" : "denominator", missing, level_name(s->level));
		} else {
			err_set(x->e, ERR_CONFIG, x->file,
				"scenarios[%zu].indicators[%zu] (%s%s%s): no indicator \"%s\" is read for level %s%s", i, j,
				t->name, s->preset ? ", from preset " : "", s->preset ? s->preset : "", missing,
				level_name(t->level_given ? t->level : s->level), t->level_given ? "" : " or coarser");
		}
		return err_hint(x->e, "add it to inputs.indicators, or leave the scenario out%s",
				strcmp(missing, "mobility_outcome") == 0
					? " (generatie cannot run without an outcome or mobility layer, such as the Kansenkaart's)"
					: "");
	}
	if (present == 0)
		return err_set(x->e, ERR_CONFIG, x->file, "scenarios[%zu] (%s): none of its indicators is read", i,
			       s->name);
	if (s->combine == COMBINE_RATE && !config_has_indicator(c, s->level, c->k_indicator))
		return err_set(x->e, ERR_CONFIG, x->file,
			       "privacy.count: no indicator \"%s\" is read for level %s, which scenarios[%zu] scores",
			       c->k_indicator, level_name(s->level), i);
	if (s->combine != COMBINE_RATE && !config_has_indicator(c, s->level, c->k_indicator))
		return err_set(x->e, ERR_CONFIG, x->file,
			       "privacy.count: no indicator \"%s\" is read for level %s, where scenarios[%zu] (%s) combines "
			       "its figures",
			       c->k_indicator, level_name(s->level), i, s->name);
	{
		const char *own[3] = {s->weight, s->volume_count, s->size};
		const char *key[3] = {"weight", "volume.count", "size.indicator"};

		for (int k = 0; k < 3; k++)
			if (own[k] && !config_has_indicator(c, s->level, own[k]))
				return err_set(x->e, ERR_CONFIG, x->file,
					       "scenarios[%zu].%s: no indicator \"%s\" is read for level %s", i, key[k],
					       own[k], level_name(s->level));
	}
	/* too small to rank: by default fewer than 10 households, as the CBS and
	 * the Kansenkaart do */
	if (!s->size && config_has_indicator(c, s->level, "households")) {
		s->size = xstrdup("households");
		s->min_size = 10;
	}
	return 0;
}

/* Checks that span sections: every level once, the tree complete, scenarios
 * naming indicators that are read. */
static int cross_check(struct ctx *x)
{
	struct config *c = x->cfg;
	bool seen[LEVEL_COUNT] = {false};

	for (size_t i = 0; i < c->nareas; i++) {
		if (seen[c->areas[i].level])
			return err_set(x->e, ERR_CONFIG, x->file, "inputs.areas[%zu].level: %s is given twice", i,
				       level_name(c->areas[i].level));
		seen[c->areas[i].level] = true;
	}
	for (int l = LEVEL_GEMEENTE; l <= LEVEL_BUURT; l++)
		if (!seen[l])
			return err_set(x->e, ERR_CONFIG, x->file, "inputs.areas: no %s polygons are given",
				       level_name((enum level)l));
	if (c->crosswalk && !seen[LEVEL_PC6])
		return err_set(x->e, ERR_CONFIG, x->file, "inputs.crosswalk: no pc6 polygons are given in inputs.areas");
	if (c->crosswalk && config_area(c, LEVEL_PC6)->parent_field)
		return err_set(x->e, ERR_CONFIG, x->file,
			       "inputs.crosswalk: the pc6 polygons name their buurt already (\"parent\"); give one of the two");
	for (size_t i = 0; i < c->nindicators; i++) {
		const struct config_indicators *in = &c->indicators[i];

		if (!seen[in->level])
			return err_set(x->e, ERR_CONFIG, x->file,
				       "inputs.indicators[%zu].level: no %s polygons are given in inputs.areas", i,
				       level_name(in->level));
		for (size_t j = 0; j < in->ncolumns; j++) {
			for (size_t k = 0; k < i; k++) {
				if (c->indicators[k].level == in->level &&
				    reads_indicator(&c->indicators[k], in->columns[j].indicator))
					return err_set(x->e, ERR_CONFIG, x->file,
						       "inputs.indicators[%zu].columns.%s: already read by "
						       "inputs.indicators[%zu]",
						       i, in->columns[j].indicator, k);
			}
		}
	}
	for (size_t i = 0; i < c->nscenarios; i++) {
		struct config_scenario *s = &c->scenarios[i];

		for (size_t j = 0; j < i; j++)
			if (strcmp(c->scenarios[j].name, s->name) == 0)
				return err_set(x->e, ERR_CONFIG, x->file,
					       "scenarios[%zu].name: \"%s\" is already the name of scenarios[%zu]", i,
					       s->name, j);
		if (check_scenario(x, s, i) < 0)
			return -1;
	}
	return 0;
}

static const char *const disclosure_names[] = {"person", "dwelling", "income"};

const char *disclosure_name(enum disclosure d)
{
	return d < DISC_COUNT ? disclosure_names[d] : "?";
}

/* privacy.figures: {"indicator": "person" | "dwelling" | "income", ...}, or the
 * default: those of inhabitants, households, dwellings (dwelling) and
 * benefit_recipients (income) that are read per PC6. */
static int parse_figures(struct ctx *x, const cJSON *v)
{
	static const char *const defaults[][2] = {
		{"inhabitants", "person"},
		{"households", "person"},
		{"dwellings", "dwelling"},
		{"benefit_recipients", "income"},
	};
	struct config_privacy *p = &x->cfg->privacy;
	const cJSON *f;

	if (!v) {
		p->figures = xcalloc(4, sizeof *p->figures);
		for (size_t i = 0; i < 4; i++) {
			if (!config_has_indicator(x->cfg, LEVEL_PC6, defaults[i][0]))
				continue;
			p->figures[p->nfigures].name = xstrdup(defaults[i][0]);
			p->figures[p->nfigures++].kind = i == 2 ? DISC_DWELLING : i == 3 ? DISC_INCOME : DISC_PERSON;
		}
		return 0;
	}
	if (want_object(x, v, "privacy.figures") < 0)
		return -1;
	if (cJSON_GetArraySize(v) > 12)
		return bad(x, "privacy.figures", v, "may name at most 12 counts");
	p->figures = xcalloc((size_t)cJSON_GetArraySize(v) + 1, sizeof *p->figures);
	cJSON_ArrayForEach(f, v)
	{
		char *path = join_path("privacy.figures", f->string);
		int kind = -1, rc = 0;

		if (!config_has_indicator(x->cfg, LEVEL_PC6, f->string))
			rc = bad(x, path, f, "must name a count indicator read for level pc6");
		else if (cJSON_IsString(f))
			for (int k = 0; k < DISC_COUNT; k++)
				if (strcmp(f->valuestring, disclosure_names[k]) == 0)
					kind = k;
		if (rc == 0 && kind < 0)
			rc = bad(x, path, f, "must be \"person\", \"dwelling\" or \"income\"");
		free(path);
		if (rc < 0)
			return -1;
		p->figures[p->nfigures].name = xstrdup(f->string);
		p->figures[p->nfigures++].kind = (enum disclosure)kind;
	}
	return 0;
}

/* Is any indicator read per PC6? */
static bool pc6_counts_read(const struct config *c)
{
	for (size_t i = 0; i < c->nindicators; i++)
		if (c->indicators[i].level == LEVEL_PC6)
			return true;
	return false;
}

/* privacy: the policy and its numbers, each defaulting by policy. */
/* publish.tiles: which level at which zooms, and the optional .pbf folder.
 * Levels are given as [min, max] or null (not tiled); their ranges may not overlap. */
static int parse_tiles(struct ctx *x, const cJSON *v)
{
	static const char *const keys[] = {"enabled", "wijk", "buurt", "pc6", "pbf", NULL};
	static const enum level levels[] = {LEVEL_WIJK, LEVEL_BUURT, LEVEL_PC6};
	struct config_tiles *t = &x->cfg->tiles;

	if (!v)
		return 0;
	if (want_object(x, v, "publish.tiles") < 0 || check_keys(x, v, "publish.tiles", keys) < 0 ||
	    get_bool(x, v, "publish.tiles", "enabled", &t->enabled) < 0 ||
	    get_bool(x, v, "publish.tiles", "pbf", &t->pbf) < 0)
		return -1;
	for (size_t i = 0; i < 3; i++) {
		const cJSON *r = cJSON_GetObjectItemCaseSensitive(v, level_name(levels[i]));
		char p[64];

		snprintf(p, sizeof p, "publish.tiles.%s", level_name(levels[i]));
		if (!r)
			continue;
		if (cJSON_IsNull(r)) {
			t->zoom[levels[i]][0] = t->zoom[levels[i]][1] = -1;
			continue;
		}
		if (!cJSON_IsArray(r) || cJSON_GetArraySize(r) != 2 || !cJSON_IsNumber(r->child) ||
		    !cJSON_IsNumber(r->child->next) || r->child->valuedouble != (int)r->child->valuedouble ||
		    r->child->next->valuedouble != (int)r->child->next->valuedouble || r->child->valueint < 0 ||
		    r->child->next->valueint > 18 || r->child->valueint > r->child->next->valueint)
			return bad(x, p, r, "must be [min, max] zooms, whole numbers with 0 <= min <= max <= 18, or null");
		t->zoom[levels[i]][0] = r->child->valueint;
		t->zoom[levels[i]][1] = r->child->next->valueint;
	}
	for (size_t i = 0; i < 3; i++)
		for (size_t j = i + 1; j < 3; j++) {
			const int *a = t->zoom[levels[i]], *b = t->zoom[levels[j]];

			if (a[0] >= 0 && b[0] >= 0 && a[0] <= b[1] && b[0] <= a[1]) {
				enum level named = cJSON_GetObjectItemCaseSensitive(v, level_name(levels[j])) ? levels[j]
													 : levels[i];
				char p[64];

				snprintf(p, sizeof p, "publish.tiles.%s", level_name(named));
				return bad(x, p, cJSON_GetObjectItemCaseSensitive(v, level_name(named)),
					   "overlaps the zooms of another level: each zoom shows one level");
			}
		}
	return 0;
}

/* publish.png: its presence turns the PNG maps on; the canvas size. */
static int parse_png(struct ctx *x, const cJSON *v)
{
	static const char *const keys[] = {"width", "height", NULL};
	struct config_png *p = &x->cfg->png;

	if (!v)
		return 0;
	if (want_object(x, v, "publish.png") < 0 || check_keys(x, v, "publish.png", keys) < 0 ||
	    get_int(x, v, "publish.png", "width", 400, 8000, &p->width) < 0 ||
	    get_int(x, v, "publish.png", "height", 400, 8000, &p->height) < 0)
		return -1;
	p->enabled = true;
	return 0;
}

static int parse_privacy(struct ctx *x, const cJSON *v)
{
	static const char *const keys[] = {"policy", "k",     "count",   "round",        "income_min", "income_round",
					   "dominance", "range", "bands", "exact_scores", "figures",    NULL};
	static const char *const policies[] = {"public", "internal"};
	struct config *c = x->cfg;
	struct config_privacy *p = &c->privacy;
	int policy = POLICY_PUBLIC, k = -1;
	bool internal;

	if (v && (want_object(x, v, "privacy") < 0 || check_keys(x, v, "privacy", keys) < 0 ||
		  get_choice(x, v, "privacy", "policy", policies, 2, &policy) < 0 ||
		  get_int(x, v, "privacy", "k", 2, 1000000000, &k) < 0 ||
		  get_string(x, v, "privacy", "count", false, &c->k_indicator) < 0))
		return -1;
	internal = policy == POLICY_INTERNAL;
	p->policy = (enum policy)policy;
	if (!c->k_indicator)
		c->k_indicator = xstrdup("households");
	c->k = k > 0 ? k : internal ? 10 : 5;
	p->round = 5;
	p->income_min = internal ? c->k : 100;
	p->income_round = internal ? 5 : 100;
	p->dominance = 0.3;
	p->range = 0.5;
	p->bands = 10;
	if (v && (get_int(x, v, "privacy", "round", 1, 1000000, &p->round) < 0 ||
		  get_int(x, v, "privacy", "income_min", 1, 1000000000, &p->income_min) < 0 ||
		  get_int(x, v, "privacy", "income_round", 1, 1000000, &p->income_round) < 0 ||
		  get_number(x, v, "privacy", "dominance", 0.01, 1, "must be a share between 0.01 and 1", &p->dominance) <
			  0 ||
		  get_number(x, v, "privacy", "range", 0, 10, "must be a number between 0 and 10", &p->range) < 0 ||
		  get_int(x, v, "privacy", "bands", 2, 100, &p->bands) < 0 ||
		  get_bool(x, v, "privacy", "exact_scores", &p->exact_scores) < 0))
		return -1;
	if (!internal && p->exact_scores)
		return bad(x, "privacy.exact_scores", cJSON_GetObjectItemCaseSensitive(v, "exact_scores"),
			   "must be false under the public policy, which publishes PC6 group scores only in bands");
	if (!internal) {
		const cJSON *why = NULL;
		const char *what = NULL;

		if (c->k < 5)
			why = cJSON_GetObjectItemCaseSensitive(v, "k"), what = "privacy.k";
		else if (p->income_min < 100)
			why = cJSON_GetObjectItemCaseSensitive(v, "income_min"), what = "privacy.income_min";
		else if (p->income_round < 100)
			why = cJSON_GetObjectItemCaseSensitive(v, "income_round"), what = "privacy.income_round";
		else if (p->dominance > 0.3)
			why = cJSON_GetObjectItemCaseSensitive(v, "dominance"), what = "privacy.dominance";
		else if (p->round < 5)
			why = cJSON_GetObjectItemCaseSensitive(v, "round"), what = "privacy.round";
		if (what)
			return bad(x, what, why,
				   "may not be weaker than CBS's rules under the public policy (k >= 5, round >= 5, "
				   "income_min >= 100, income_round >= 100, dominance <= 0.3); use \"policy\": \"internal\" "
				   "for use inside the municipality");
	}
	/* the size rules of a region: CBS's 5 inhabitants and 5 dwellings, or k
	 * of privacy.count */
	if (internal) {
		p->size[p->nsize].name = xstrdup(c->k_indicator);
		p->size[p->nsize++].min = c->k;
	} else {
		/* without inhabitants per PC6, privacy.count stands in for them */
		p->size[p->nsize].name = xstrdup(config_has_indicator(c, LEVEL_PC6, "inhabitants") || !pc6_counts_read(c)
							 ? "inhabitants"
							 : c->k_indicator);
		p->size[p->nsize++].min = c->k;
		if (config_has_indicator(c, LEVEL_PC6, "dwellings")) {
			p->size[p->nsize].name = xstrdup("dwellings");
			p->size[p->nsize++].min = c->k;
		}
	}
	if (config_area(c, LEVEL_PC6) && pc6_counts_read(c)) {
		for (size_t i = 0; i < p->nsize; i++)
			if (!config_has_indicator(c, LEVEL_PC6, p->size[i].name))
			{
				err_set(x->e, ERR_CONFIG, x->file,
					"privacy: the %s policy needs the count \"%s\" per PC6, and no indicator of that "
					"name is read for level pc6",
					policies[policy], p->size[i].name);
				return err_hint(x->e, "add it to inputs.indicators%s",
						internal ? ", or set privacy.count" : "");
			}
	}
	return parse_figures(x, v ? cJSON_GetObjectItemCaseSensitive(v, "figures") : NULL);
}

/* "http(s)://host[:port]" and nothing else: it goes into HTTP headers as is. */
static bool origin_ok(const char *s)
{
	const char *p = strncmp(s, "https://", 8) == 0 ? s + 8 : strncmp(s, "http://", 7) == 0 ? s + 7 : NULL;

	if (!p || !*p)
		return false;
	for (; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') || *p == '.' ||
		      *p == '-' || *p == ':' || *p == '[' || *p == ']'))
			return false;
	return true;
}
/* A duration like "30s", "90m", "26h", "2d" or "1h30m" in seconds; -1 when it
 * is not one. */
static long long duration(const char *text)
{
	static const struct {
		char unit;
		long long seconds;
	} units[] = {{'d', 86400}, {'h', 3600}, {'m', 60}, {'s', 1}};
	const char *p = text;
	long long total = 0;
	size_t next = 0;

	if (!*p)
		return -1;
	while (*p) {
		long long n = 0;
		size_t u;

		if (*p < '0' || *p > '9')
			return -1;
		for (; *p >= '0' && *p <= '9'; p++) {
			n = n * 10 + (*p - '0');
			if (n > 100000000)
				return -1;
		}
		/* units in falling order, each once: "1h30m", not "30m1h" */
		for (u = next; u < sizeof units / sizeof *units && units[u].unit != *p; u++)
			;
		if (u == sizeof units / sizeof *units)
			return -1;
		total += n * units[u].seconds;
		next = u + 1;
		p++;
	}
	return total;
}

/* obj.key as a duration between min and max seconds into *out, if present. */
static int get_duration(struct ctx *x, const cJSON *obj, const char *path, const char *key, long long min,
			long long max, long long *out)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	char where[80], what[120];
	long long s;

	if (!v)
		return 0;
	snprintf(where, sizeof where, "%s.%s", path, key);
	snprintf(what, sizeof what, "must be a duration from %llds to %llds, like \"30s\", \"90m\", \"26h\" or \"1h30m\"",
		 min, max);
	if (!cJSON_IsString(v) || (s = duration(v->valuestring)) < min || s > max)
		return bad(x, where, v, what);
	*out = s;
	return 0;
}

static int parse_daemon(struct ctx *x, const cJSON *v)
{
	static const char *const keys[] = {"schedule",     "listen",  "cors_origin",     "public_url", "ready_max_age",
					   "retry_min",    "retry_max", "stop_timeout", "threads",    "max_connections",
					   NULL};
	struct config_daemon *d = &x->cfg->daemon;
	char *schedule = NULL, why[200];
	struct sockaddr_storage sa;
	socklen_t salen;
	struct err pe;
	int rc = -1;

	d->schedule = (struct schedule){.kind = SCHEDULE_DAILY, .hour = 3, .minute = 0};
	d->listen = xstrdup("127.0.0.1:8080");
	d->ready_max_age = 26 * 3600;
	d->retry_min = 30;
	d->retry_max = 30 * 60;
	d->stop_timeout = 60;
	d->threads = 2;
	d->max_connections = 512;
	if (!v)
		return 0;
	if (want_object(x, v, "daemon") < 0 || check_keys(x, v, "daemon", keys) < 0 ||
	    get_string(x, v, "daemon", "schedule", false, &schedule) < 0 ||
	    get_string(x, v, "daemon", "listen", false, &d->listen) < 0 ||
	    get_string(x, v, "daemon", "cors_origin", false, &d->cors_origin) < 0 ||
	    get_string(x, v, "daemon", "public_url", false, &d->public_url) < 0 ||
	    get_duration(x, v, "daemon", "ready_max_age", 60, 366 * 86400LL, &d->ready_max_age) < 0 ||
	    get_duration(x, v, "daemon", "retry_min", 1, 86400, &d->retry_min) < 0 ||
	    get_duration(x, v, "daemon", "retry_max", 1, 7 * 86400, &d->retry_max) < 0 ||
	    get_duration(x, v, "daemon", "stop_timeout", 1, 3600, &d->stop_timeout) < 0 ||
	    get_int(x, v, "daemon", "threads", 1, 64, &d->threads) < 0 ||
	    get_int(x, v, "daemon", "max_connections", 1, 100000, &d->max_connections) < 0)
		goto out;
	if (schedule && schedule_parse(schedule, &d->schedule, why, sizeof why) < 0) {
		/* the reason quotes the text already */
		rc = err_set(x->e, ERR_CONFIG, x->file, "daemon.schedule: %s", why);
		goto out;
	}
	if (http_parse_listen(d->listen, &sa, &salen, &pe) < 0) {
		rc = err_set(x->e, ERR_CONFIG, x->file, "daemon.listen: %s", pe.message);
		goto out;
	}
	if (d->retry_max < d->retry_min) {
		rc = bad(x, "daemon.retry_max", cJSON_GetObjectItemCaseSensitive(v, "retry_max"),
			 "must be at least daemon.retry_min");
		goto out;
	}
	if (d->cors_origin && strcmp(d->cors_origin, "*") != 0 && !origin_ok(d->cors_origin)) {
		rc = bad(x, "daemon.cors_origin", cJSON_GetObjectItemCaseSensitive(v, "cors_origin"),
			 "must be \"*\" or one origin like \"https://kaart.example.nl\" (scheme, host, optional port)");
		goto out;
	}
	if (d->public_url && !origin_ok(d->public_url)) {
		rc = bad(x, "daemon.public_url", cJSON_GetObjectItemCaseSensitive(v, "public_url"),
			 "must be a base URL like \"https://tiles.example.nl\" (scheme, host, optional port; no path)");
		goto out;
	}
	rc = 0;
out:
	free(schedule);
	return rc;
}

/* Whether a credit line says the data is synthetic ("synthetic",
 * "SYNTHETISCHE gegevens"): then maps carry a watermark unless the config
 * says otherwise. */
static bool mentions_synthetic(const char *text)
{
	static const char word[] = "syntheti";

	for (const char *p = text; p && *p; p++) {
		size_t i = 0;

		while (word[i] && tolower((unsigned char)p[i]) == word[i])
			i++;
		if (!word[i])
			return true;
	}
	return false;
}

/* publish.basemap {url, attribution} and publish.viewer (a folder or false). */
static int parse_viewer(struct ctx *x, const cJSON *pub)
{
	static const char *const bm_keys[] = {"url", "attribution", NULL};
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(pub, "basemap");
	struct config *c = x->cfg;

	if (v) {
		const char *u;

		if (want_object(x, v, "publish.basemap") < 0 || check_keys(x, v, "publish.basemap", bm_keys) < 0 ||
		    get_string(x, v, "publish.basemap", "url", true, &c->basemap_url) < 0 ||
		    get_string(x, v, "publish.basemap", "attribution", false, &c->basemap_attribution) < 0)
			return -1;
		u = c->basemap_url;
		if ((strncmp(u, "https://", 8) != 0 && strncmp(u, "http://", 7) != 0) || !strstr(u, "{z}") ||
		    !strstr(u, "{x}") || !strstr(u, "{y}"))
			return bad(x, "publish.basemap.url", cJSON_GetObjectItemCaseSensitive(v, "url"),
				   "must be an http(s) URL template with {z}, {x} and {y}");
	}
	v = cJSON_GetObjectItemCaseSensitive(pub, "viewer");
	if (!v || cJSON_IsTrue(v))
		return 0;
	if (cJSON_IsFalse(v)) {
		c->viewer = false;
		return 0;
	}
	if (!cJSON_IsString(v))
		return bad(x, "publish.viewer", v, "must be a folder, true or false");
	return get_path(x, pub, "publish", "viewer", false, &c->viewer_dir);
}

static int parse_root(struct ctx *x, const cJSON *root)
{
	bool synthetic_set = false;

	static const char *const keys[] = {"database", "inputs", "scenarios", "compare", "privacy", "publish", "daemon",
					   NULL};
	static const char *const db_keys[] = {"schema", NULL};
	static const char *const in_keys[] = {"areas", "indicators", "crosswalk", NULL};
	static const char *const pub_keys[] = {"dir",	    "neighbourhoods", "keep",	"attribution", "tiles",
					       "synthetic", "basemap",	      "viewer", "png",	       NULL};
	struct config *c = x->cfg;
	const cJSON *v;

	if (want_object(x, root, "(top level)") < 0 || check_keys(x, root, "", keys) < 0)
		return -1;

	c->schema = xstrdup("pc6risk");
	if ((v = cJSON_GetObjectItemCaseSensitive(root, "database"))) {
		if (want_object(x, v, "database") < 0 || check_keys(x, v, "database", db_keys) < 0 ||
		    get_string(x, v, "database", "schema", false, &c->schema) < 0)
			return -1;
		if (!name_ok(c->schema, false))
			return bad(x, "database.schema", cJSON_GetObjectItemCaseSensitive(v, "schema"),
				   "must be lowercase letters, digits and _, starting with a letter");
	}

	v = cJSON_GetObjectItemCaseSensitive(root, "inputs");
	if (!v)
		return err_set(x->e, ERR_CONFIG, x->file, "inputs: is required");
	if (want_object(x, v, "inputs") < 0 || check_keys(x, v, "inputs", in_keys) < 0 ||
	    parse_list(x, v, "inputs", "areas", true, sizeof *c->areas, (void **)&c->areas, &c->nareas,
		       area_cb) < 0 ||
	    parse_list(x, v, "inputs", "indicators", false, sizeof *c->indicators, (void **)&c->indicators,
		       &c->nindicators, indicators_cb) < 0)
		return -1;
	if (cJSON_GetObjectItemCaseSensitive(v, "crosswalk")) {
		c->crosswalk = xcalloc(1, sizeof *c->crosswalk);
		if (parse_crosswalk(x, cJSON_GetObjectItemCaseSensitive(v, "crosswalk"), c->crosswalk) < 0)
			return -1;
	}

	if (parse_list(x, root, "", "scenarios", true, sizeof *c->scenarios, (void **)&c->scenarios,
		       &c->nscenarios, scenario_cb) < 0)
		return -1;

	c->compare_draws = 1000;
	c->compare_seed = 1;
	if ((v = cJSON_GetObjectItemCaseSensitive(root, "compare"))) {
		static const char *const cmp_keys[] = {"draws", "seed", NULL};
		int seed = 1;

		if (want_object(x, v, "compare") < 0 || check_keys(x, v, "compare", cmp_keys) < 0 ||
		    get_int(x, v, "compare", "draws", 0, 100000, &c->compare_draws) < 0 ||
		    get_int(x, v, "compare", "seed", 0, 1000000000, &seed) < 0)
			return -1;
		c->compare_seed = (unsigned long long)seed;
	}

	if (parse_privacy(x, cJSON_GetObjectItemCaseSensitive(root, "privacy")) < 0)
		return -1;

	c->out_dir = resolve(c, "maps/out");
	c->keep_releases = 5;
	c->viewer = true;
	c->tiles = (struct config_tiles){.enabled = true,
					 .zoom = {[LEVEL_GEMEENTE] = {-1, -1},
						  [LEVEL_WIJK] = {8, 10},
						  [LEVEL_BUURT] = {11, 13},
						  [LEVEL_PC6] = {14, 16}}};
	c->png = (struct config_png){.width = 1600, .height = 1200};
	if ((v = cJSON_GetObjectItemCaseSensitive(root, "publish"))) {
		const cJSON *nb;

		if (want_object(x, v, "publish") < 0 || check_keys(x, v, "publish", pub_keys) < 0 ||
		    get_path(x, v, "publish", "dir", false, &c->out_dir) < 0 ||
		    get_int(x, v, "publish", "keep", 1, 1000, &c->keep_releases) < 0 ||
		    get_string(x, v, "publish", "attribution", false, &c->attribution) < 0 ||
		    get_bool(x, v, "publish", "synthetic", &c->synthetic) < 0)
			return -1;
		synthetic_set = cJSON_GetObjectItemCaseSensitive(v, "synthetic") != NULL;
		if (parse_tiles(x, cJSON_GetObjectItemCaseSensitive(v, "tiles")) < 0 ||
		    parse_viewer(x, v) < 0)
			return -1;
		if (parse_png(x, cJSON_GetObjectItemCaseSensitive(v, "png")) < 0)
			return -1;
		if ((nb = cJSON_GetObjectItemCaseSensitive(v, "neighbourhoods"))) {
			size_t i = 0;

			if (!cJSON_IsArray(nb))
				return bad(x, "publish.neighbourhoods", nb, "must be an array of names or codes");
			c->nneighbourhoods = (size_t)cJSON_GetArraySize(nb);
			c->neighbourhoods = xcalloc(c->nneighbourhoods + 1, sizeof *c->neighbourhoods);
			for (const cJSON *n = nb->child; n; n = n->next, i++) {
				char p[64];

				snprintf(p, sizeof p, "publish.neighbourhoods[%zu]", i);
				if (!cJSON_IsString(n) || n->valuestring[0] == '\0')
					return bad(x, p, n, "must be a non-empty string");
				c->neighbourhoods[i] = xstrdup(n->valuestring);
			}
		}
	}
	if (!synthetic_set)
		c->synthetic = mentions_synthetic(c->attribution);
	if (parse_daemon(x, cJSON_GetObjectItemCaseSensitive(root, "daemon")) < 0)
		return -1;
	return cross_check(x);
}

/* Turn a byte offset into 1-based line and column. */
static void position(const char *text, size_t off, long *line, long *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < off; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

/*
 * A JSON syntax check that knows where and why text stops being JSON. cJSON
 * only says where it gave up, often past the mistake; this walks the text the
 * same way and names the first offending character and what was expected
 * there. It builds nothing: cJSON does the parsing once this passes.
 */
struct jcheck {
	const char *s;
	size_t len, pos;
	const char *why; /* set on the first error; pos is then where it is */
	int depth;
};

static void jc_ws(struct jcheck *j)
{
	while (j->pos < j->len && (j->s[j->pos] == ' ' || j->s[j->pos] == '\t' || j->s[j->pos] == '\n' ||
				   j->s[j->pos] == '\r'))
		j->pos++;
}

static bool jc_fail(struct jcheck *j, const char *why)
{
	j->why = why;
	return false;
}

static bool jc_value(struct jcheck *j);

static bool jc_string(struct jcheck *j)
{
	j->pos++; /* the opening quote */
	while (j->pos < j->len) {
		unsigned char c = (unsigned char)j->s[j->pos];

		if (c == '"') {
			j->pos++;
			return true;
		}
		if (c < 0x20)
			return jc_fail(j, "a line break or control character inside a string (write it as \\n)");
		if (c == '\\') {
			char n = j->pos + 1 < j->len ? j->s[j->pos + 1] : '\0';

			if (!strchr("\"\\/bfnrtu", n) || n == '\0')
				return jc_fail(j, "invalid escape in a string");
			if (n == 'u') {
				for (int k = 2; k < 6; k++) {
					char h = j->pos + (size_t)k < j->len ? j->s[j->pos + (size_t)k] : '\0';

					if (!((h >= '0' && h <= '9') || (h >= 'a' && h <= 'f') || (h >= 'A' && h <= 'F'))) {
						j->pos += (size_t)k;
						return jc_fail(j, "\\u needs four hexadecimal digits");
					}
				}
				j->pos += 6;
				continue;
			}
			j->pos += 2;
			continue;
		}
		j->pos++;
	}
	return jc_fail(j, "unexpected end of file inside a string (a missing '\"'?)");
}

static bool jc_digits(struct jcheck *j)
{
	size_t start = j->pos;

	while (j->pos < j->len && j->s[j->pos] >= '0' && j->s[j->pos] <= '9')
		j->pos++;
	return j->pos > start;
}

static bool jc_number(struct jcheck *j)
{
	size_t start = j->pos;

	if (j->s[j->pos] == '-')
		j->pos++;
	if (j->pos < j->len && j->s[j->pos] == '0')
		j->pos++;
	else if (!jc_digits(j))
		goto bad;
	if (j->pos < j->len && j->s[j->pos] == '.') {
		j->pos++;
		if (!jc_digits(j))
			goto bad;
	}
	if (j->pos < j->len && (j->s[j->pos] == 'e' || j->s[j->pos] == 'E')) {
		j->pos++;
		if (j->pos < j->len && (j->s[j->pos] == '+' || j->s[j->pos] == '-'))
			j->pos++;
		if (!jc_digits(j))
			goto bad;
	}
	return true;
bad:
	j->pos = start;
	return jc_fail(j, "invalid number");
}

/* An object or array: open already seen at pos. */
static bool jc_container(struct jcheck *j, char close)
{
	size_t comma = 0;
	bool first = true;

	if (++j->depth > 200)
		return jc_fail(j, "nested too deep");
	j->pos++;
	for (;;) {
		jc_ws(j);
		if (j->pos >= j->len)
			return jc_fail(j, close == '}' ? "unexpected end of file (a missing '}'?)"
						       : "unexpected end of file (a missing ']'?)");
		if (j->s[j->pos] == close) {
			if (!first) {
				j->pos = comma;
				return jc_fail(j, "trailing comma before the closing bracket");
			}
			j->pos++;
			break;
		}
		if (close == '}') {
			if (j->s[j->pos] == '\'')
				return jc_fail(j, "strings need double quotes");
			if (j->s[j->pos] != '"')
				return jc_fail(j, j->s[j->pos] == '/' ? "comments are not allowed in JSON"
								      : "expected a key in double quotes");
			if (!jc_string(j))
				return false;
			jc_ws(j);
			if (j->pos >= j->len || j->s[j->pos] != ':')
				return jc_fail(j, "expected ':' after the key");
			j->pos++;
		}
		if (!jc_value(j))
			return false;
		jc_ws(j);
		if (j->pos < j->len && j->s[j->pos] == ',') {
			comma = j->pos++;
			first = false;
			continue;
		}
		if (j->pos < j->len && j->s[j->pos] == close) {
			j->pos++;
			break;
		}
		if (j->pos >= j->len)
			continue; /* reported as a missing bracket above */
		if (j->s[j->pos] == '"' || j->s[j->pos] == '{' || j->s[j->pos] == '[')
			return jc_fail(j, "missing ',' between items");
		if (j->s[j->pos] == '/')
			return jc_fail(j, "comments are not allowed in JSON");
		return jc_fail(j, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
	}
	j->depth--;
	return true;
}

static bool jc_word(struct jcheck *j, const char *w)
{
	size_t n = strlen(w);

	if (j->len - j->pos >= n && memcmp(j->s + j->pos, w, n) == 0) {
		j->pos += n;
		return true;
	}
	return jc_fail(j, "unquoted text: strings need double quotes");
}

static bool jc_value(struct jcheck *j)
{
	char c;

	jc_ws(j);
	if (j->pos >= j->len)
		return jc_fail(j, "unexpected end of file (a value is missing)");
	c = j->s[j->pos];
	switch (c) {
	case '{': return jc_container(j, '}');
	case '[': return jc_container(j, ']');
	case '"': return jc_string(j);
	case 't': return jc_word(j, "true");
	case 'f': return jc_word(j, "false");
	case 'n': return jc_word(j, "null");
	case '\'': return jc_fail(j, "strings need double quotes");
	case '/': return jc_fail(j, "comments are not allowed in JSON");
	default:
		if (c == '-' || (c >= '0' && c <= '9'))
			return jc_number(j);
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
			return jc_fail(j, "unquoted text: strings need double quotes");
		return jc_fail(j, "expected a value (a string, number, object, array, true, false or null)");
	}
}

/* 0 when text is JSON; else -1 with *off at the first mistake and *why set. */
static int json_syntax(const char *text, size_t len, size_t *off, const char **why)
{
	struct jcheck j = {.s = text, .len = len};

	if (jc_value(&j)) {
		jc_ws(&j);
		if (j.pos == j.len)
			return 0;
		j.why = j.s[j.pos] == ','   ? "text after the end of the top-level object (a missing '{'?)"
			: j.s[j.pos] == '/' ? "comments are not allowed in JSON"
					    : "text after the end of the top-level object";
	}
	*off = j.pos;
	*why = j.why;
	return -1;
}

struct config *config_parse(const char *text, size_t len, const char *path, struct err *e)
{
	struct config *cfg = xcalloc(1, sizeof *cfg);
	struct ctx x = {.file = path, .cfg = cfg, .e = e};
	const char *why;
	size_t off;
	cJSON *root;
	const char *slash;

	cfg->path = xstrdup(path);
	slash = strrchr(path, '/');
	cfg->dir = slash ? (slash == path ? xstrdup("/") : xasprintf("%.*s", (int)(slash - path), path))
			 : xstrdup(".");

	if (json_syntax(text, len, &off, &why) < 0) {
		char where[300];
		long line, col;

		position(text, off, &line, &col);
		snprintf(where, sizeof where, "%s:%ld:%ld", path, line, col);
		err_set(e, ERR_CONFIG, where, "%s", why);
		config_free(cfg);
		return NULL;
	}
	/* len + 1: cJSON wants to see the terminating NUL */
	root = cJSON_ParseWithLengthOpts(text, len + 1, NULL, true);
	if (!root) {
		err_set(e, ERR_CONFIG, path, "cannot read the JSON (out of memory?)");
		config_free(cfg);
		return NULL;
	}
	if (parse_root(&x, root) < 0) {
		cJSON_Delete(root);
		config_free(cfg);
		return NULL;
	}
	cJSON_Delete(root);
	{
		struct sha256 h;

		sha256_init(&h);
		sha256_update(&h, PC6RISK_VERSION, sizeof PC6RISK_VERSION);
		sha256_update(&h, text, len);
		sha256_hex(&h, cfg->hash);
	}
	return cfg;
}

struct config *config_load(const char *path, struct err *e)
{
	FILE *f = fopen(path, "rb");
	struct sbuf text = {0};
	char chunk[8192];
	size_t n;
	struct config *cfg;

	if (!f) {
		err_set(e, ERR_CONFIG, path, "cannot open config file: %s", strerror(errno));
		return NULL;
	}
	while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
		sbuf_append(&text, chunk, n);
	if (ferror(f)) {
		err_set(e, ERR_CONFIG, path, "cannot read config file: %s", strerror(errno));
		fclose(f);
		sbuf_free(&text);
		return NULL;
	}
	fclose(f);
	cfg = config_parse(text.s ? text.s : "", text.len, path, e);
	sbuf_free(&text);
	return cfg;
}

const struct config_area *config_area(const struct config *c, enum level level)
{
	for (size_t i = 0; i < c->nareas; i++)
		if (c->areas[i].level == level)
			return &c->areas[i];
	return NULL;
}

bool config_has_indicator(const struct config *c, enum level level, const char *name)
{
	for (size_t i = 0; i < c->nindicators; i++)
		if (c->indicators[i].level == level && reads_indicator(&c->indicators[i], name))
			return true;
	return false;
}

void config_free(struct config *c)
{
	if (!c)
		return;
	free(c->daemon.listen);
	free(c->daemon.cors_origin);
	free(c->daemon.public_url);
	for (size_t i = 0; i < c->nareas; i++) {
		struct config_area *a = &c->areas[i];

		free(a->path);
		free(a->layer);
		free(a->srs);
		free(a->code_field);
		free(a->name_field);
		free(a->parent_field);
	}
	free(c->areas);
	for (size_t i = 0; i < c->nindicators; i++) {
		struct config_indicators *in = &c->indicators[i];

		free(in->path);
		free(in->key);
		for (size_t j = 0; j < in->ncolumns; j++) {
			free(in->columns[j].indicator);
			free(in->columns[j].column);
			free(in->columns[j].unit);
		}
		free(in->columns);
	}
	free(c->indicators);
	if (c->crosswalk) {
		free(c->crosswalk->path);
		free(c->crosswalk->pc6_column);
		free(c->crosswalk->buurt_column);
		free(c->crosswalk);
	}
	for (size_t i = 0; i < c->nscenarios; i++) {
		struct config_scenario *s = &c->scenarios[i];

		free(s->name);
		free(s->title);
		free(s->about);
		free(s->preset);
		for (size_t j = 0; j < s->nterms; j++) {
			struct config_term *t = &s->terms[j];

			free(t->name);
			free(t->value);
			free(t->base);
			free(t->domain);
			for (size_t k = 0; k < t->nnumerator; k++)
				free(t->numerator[k]);
			for (size_t k = 0; k < t->ndenominator; k++)
				free(t->denominator[k]);
			free(t->numerator);
			free(t->denominator);
		}
		free(s->terms);
		for (size_t j = 0; j < s->ndomains; j++)
			free(s->domains[j].name);
		free(s->domains);
		free(s->weight);
		free(s->volume_count);
		free(s->volume_share);
		free(s->size);
	}
	free(c->scenarios);
	for (size_t i = 0; i < c->nneighbourhoods; i++)
		free(c->neighbourhoods[i]);
	free(c->neighbourhoods);
	free(c->path);
	free(c->dir);
	free(c->schema);
	free(c->k_indicator);
	for (size_t i = 0; i < c->privacy.nsize; i++)
		free(c->privacy.size[i].name);
	for (size_t i = 0; i < c->privacy.nfigures; i++)
		free(c->privacy.figures[i].name);
	free(c->privacy.figures);
	free(c->out_dir);
	free(c->attribution);
	free(c->basemap_url);
	free(c->basemap_attribution);
	free(c->viewer_dir);
	free(c);
}
