#include "pc6risk/http.h"
#include "pc6risk/hash128.h"
#include "pc6risk/log.h"
#include "pc6risk/mbtiles.h"
#include "pc6risk/xalloc.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <libdeflate.h>
#include <limits.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define RELEASE_MAX 48        /* "20261123T101500Z-r" + a long long, and the NUL */
#define NAME_MAX_LEN 64       /* scenario and slug names */
#define URL_MAX 512           /* longer paths are nothing we serve */
#define MEMORY_LIMIT (32 * 1024) /* per connection: a request with larger headers is refused */
#define TILEJSON_MAX (4 << 20)
#define SMALL_FILE (256 * 1024) /* files up to this size are sent from memory */
#define INFLATED_MAX (64u << 20) /* a tile that claims to inflate to more is broken */
#define MB_GRACE_S 10.0       /* how long a handle of a release that is no longer current stays open */
#define IMMUTABLE "public, max-age=31536000, immutable"
#define ALLOW "GET, HEAD, OPTIONS"

enum route {
	R_HEALTHZ, R_READYZ, R_METRICS, R_RUNS, R_TILE_GEOJSON, R_TILE_PBF, R_TILEJSON, R_NEIGHBOURHOOD, R_FILE,
	R_VIEWER, R_OTHER, R_N
};

static const char *const route_names[R_N] = {"healthz",  "readyz",   "metrics", "runs",   "tile_geojson", "tile_pbf",
					     "tilejson", "neighbourhood", "file", "viewer", "other"};

/* The other files of a release the server hands out (the viewer reads the
 * JSON ones), by extension, with their media type: nothing else. */
static const struct {
	const char *ext, *type;
} file_types[] = {
	{".html", "text/html; charset=utf-8"}, {".js", "text/javascript; charset=utf-8"},
	{".css", "text/css; charset=utf-8"},   {".json", "application/json"},
	{".geojson", "application/geo+json"},  {".csv", "text/csv; charset=utf-8"},
	{".png", "image/png"},                 {".svg", "image/svg+xml"},
	{".qml", "application/xml"},           {".gpkg", "application/geopackage+sqlite3"},
	{".woff2", "font/woff2"},
};

/* The folders of a release whose files are served as they are. */
static const char *const file_dirs[] = {"viewer", "png", "disclosure"};

/* An idle MBTiles handle; a worker takes it out of the pool while it reads. */
struct mb_slot {
	char release[RELEASE_MAX];
	char scenario[NAME_MAX_LEN + 1];
	struct mbtiles *m;
	double used; /* monotonic seconds of the last use */
};

struct http {
	struct MHD_Daemon *d;
	int port;
	char *out_dir, *cors_origin, *public_url; /* public_url without a trailing slash */
	char *cache_current;                      /* Cache-Control of URLs that follow current */
	int (*doc)(void *ctx, enum http_doc doc, struct sbuf *body, const char **content_type);
	void *ctx;

	pthread_mutex_t pool_lock; /* guards the fields below */
	struct mb_slot *idle;
	size_t nidle, cap;
	char current[RELEASE_MAX]; /* the release current pointed to at the last tile request */

	/* cJSON keeps the position of its last parse error in a global. */
	pthread_mutex_t json_lock;

	atomic_ullong requests[R_N][5]; /* by route and status class 1xx..5xx */
	atomic_ullong bytes;            /* response bodies queued */
};

/* What a request resolved to. */
struct target {
	enum route route;
	bool pinned; /* /releases/<id>/... */
	char release[RELEASE_MAX];
	char name[NAME_MAX_LEN + 1]; /* the scenario or the neighbourhood slug */
	char file[2 * NAME_MAX_LEN + 2]; /* R_FILE: the path inside the release */
	const char *type;                /* R_FILE: its media type */
	int z;
	uint32_t x, y;
};

/* One request being answered: the headers its response gets. */
struct req {
	struct http *h;
	struct MHD_Connection *c;
	const char *method, *url;
	bool head;
	enum route route;
	bool has_release;          /* the answer came from release[]: say so in X-Pc6risk-Release */
	char release[RELEASE_MAX]; /* pinned, or where current pointed */
	const char *cache;         /* Cache-Control; NULL is no-store */
	char etag[64];             /* with its quotes (and W/), or "" */
	const char *encoding;      /* Content-Encoding, or NULL */
	bool vary_encoding;
};

static double mono_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

/* ---- what a URL may be ---- */

/* [a-z0-9][a-z0-9_-]{0,63} over n bytes. */
static bool valid_name(const char *s, size_t n)
{
	if (n == 0 || n > NAME_MAX_LEN || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '-'))
			return false;
	return true;
}

/* A file name of a release (letters, digits, _ - and inner dots) with an
 * extension the server serves; its media type, or NULL. */
static const char *file_type(const char *s, size_t n)
{
	if (n == 0 || n > NAME_MAX_LEN || s[0] == '.' || s[0] == '-')
		return NULL;
	for (size_t i = 0; i < sizeof file_types / sizeof *file_types; i++) {
		size_t el = strlen(file_types[i].ext);

		if (n > el && memcmp(s + n - el, file_types[i].ext, el) == 0)
			return file_types[i].type;
	}
	return NULL;
}

static bool digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* What publish names a release: %Y%m%dT%H%M%SZ-r<run id>. */
static bool valid_release(const char *s, size_t n)
{
	return n > 18 && n < RELEASE_MAX && digits(s, 8) && s[8] == 'T' && digits(s + 9, 6) && s[15] == 'Z' &&
	       s[16] == '-' && s[17] == 'r' && digits(s + 18, n - 18) && (s[18] != '0' || n == 19);
}

/* A plain decimal (no sign, no leading zero) below 2^32 into *v. */
static bool decimal(const char *s, size_t n, uint32_t *v)
{
	uint64_t x = 0;

	if (n == 0 || n > 10 || !digits(s, n) || (s[0] == '0' && n > 1))
		return false;
	for (size_t i = 0; i < n; i++)
		x = x * 10 + (uint64_t)(s[i] - '0');
	if (x > UINT32_MAX)
		return false;
	*v = (uint32_t)x;
	return true;
}

static bool seg_is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && memcmp(s, word, n) == 0;
}

/* Fill t from the path of a URL, as it came (escapes are not decoded, so a
 * '%' is refused like any other character we do not use). 0, or the status to
 * answer: 400 for a path we refuse to look at, 404 for one that names nothing
 * we serve. */
static int parse_target(const char *url, struct target *t)
{
	const char *seg[8];
	size_t len[8], n = 0, ulen = strlen(url);
	const char *p;

	memset(t, 0, sizeof *t);
	t->route = R_OTHER;
	if (ulen == 0 || url[0] != '/' || ulen > URL_MAX)
		return 400;
	if (ulen == 1) {
		t->route = R_VIEWER;
		return 0;
	}
	for (size_t i = 0; i < ulen; i++) {
		char c = url[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
		      c == '_' || c == '/' || c == '-'))
			return 400;
	}
	/* a folder ("/viewer/"): its index.html */
	if (url[ulen - 1] == '/')
		ulen--;
	for (p = url + 1;;) {
		const char *end = memchr(p, '/', (size_t)(url + ulen - p));
		size_t l = end ? (size_t)(end - p) : (size_t)(url + ulen - p);

		if (l == 0 || seg_is(p, l, ".") || seg_is(p, l, ".."))
			return 400;
		if (n < 8) {
			seg[n] = p;
			len[n] = l;
		}
		n++;
		if (!end)
			break;
		p = end + 1;
	}
	if (n > 8)
		return 404;
	if (n == 1 && seg_is(seg[0], len[0], "viewer")) {
		t->route = R_VIEWER;
		return 0;
	}
	if (n == 1 && ulen == strlen(url)) {
		static const char *const docs[] = {"healthz", "readyz", "metrics", "runs"};

		for (int i = 0; i < 4; i++)
			if (seg_is(seg[0], len[0], docs[i])) {
				t->route = (enum route)i;
				return 0;
			}
	}
	size_t k = 0;

	if (seg_is(seg[0], len[0], "releases")) {
		if (n < 2)
			return 404;
		if (!valid_release(seg[1], len[1]))
			return 400;
		t->pinned = true;
		memcpy(t->release, seg[1], len[1]);
		k = 2;
		if (n == 3 && seg_is(seg[2], len[2], "viewer")) {
			if (ulen == strlen(url)) {
				/* without the slash the viewer's relative paths miss */
				t->route = R_VIEWER;
				return 0;
			}
			strcpy(t->file, "viewer/index.html");
			t->type = file_types[0].type;
			t->route = R_FILE;
			return 0;
		}
	}
	if (ulen != strlen(url))
		return 404;
	if (n - k == 1 || (n - k == 2 && !seg_is(seg[k], len[k], "neighbourhoods") &&
			   !seg_is(seg[k], len[k], "tiles"))) {
		const char *last = seg[n - 1];
		size_t ll = len[n - 1];

		if (n - k == 2) {
			bool known = false;

			for (size_t i = 0; i < sizeof file_dirs / sizeof *file_dirs; i++)
				known = known || seg_is(seg[k], len[k], file_dirs[i]);
			if (!known)
				return 404;
		}
		if (!(t->type = file_type(last, ll)))
			return 404;
		if (n - k == 2)
			snprintf(t->file, sizeof t->file, "%.*s/%.*s", (int)len[k], seg[k], (int)ll, last);
		else
			snprintf(t->file, sizeof t->file, "%.*s", (int)ll, last);
		t->route = R_FILE;
		return 0;
	}
	if (n - k == 2 && seg_is(seg[k], len[k], "neighbourhoods")) {
		size_t l = len[k + 1];

		if (l <= 8 || memcmp(seg[k + 1] + l - 8, ".geojson", 8) != 0)
			return 404;
		if (!valid_name(seg[k + 1], l - 8))
			return 400;
		memcpy(t->name, seg[k + 1], l - 8);
		t->route = R_NEIGHBOURHOOD;
		return 0;
	}
	if (n - k < 3 || !seg_is(seg[k], len[k], "tiles"))
		return 404;
	if (!valid_name(seg[k + 1], len[k + 1]))
		return 400;
	memcpy(t->name, seg[k + 1], len[k + 1]);
	if (n - k == 3 && seg_is(seg[k + 2], len[k + 2], "tiles.json")) {
		t->route = R_TILEJSON;
		return 0;
	}
	if (n - k != 5)
		return 404;
	const char *last = seg[k + 4], *dot = memchr(last, '.', len[k + 4]);
	size_t ylen = dot ? (size_t)(dot - last) : len[k + 4], elen = len[k + 4] - ylen;
	uint32_t z;

	if (elen == 8 && memcmp(dot, ".geojson", 8) == 0)
		t->route = R_TILE_GEOJSON;
	else if (elen == 4 && memcmp(dot, ".pbf", 4) == 0)
		t->route = R_TILE_PBF;
	else
		return 404;
	if (!decimal(seg[k + 2], len[k + 2], &z) || z > 30 || !decimal(seg[k + 3], len[k + 3], &t->x) ||
	    !decimal(last, ylen, &t->y) || t->x >= (1u << z) || t->y >= (1u << z)) {
		t->route = R_OTHER;
		return 400;
	}
	t->z = (int)z;
	return 0;
}

/* The release out_dir/current points to, into id. -1 when there is none. */
static int resolve_current(const struct http *h, char *id)
{
	char link[PATH_MAX], target[PATH_MAX];
	ssize_t n;
	const char *base;

	snprintf(link, sizeof link, "%s/current", h->out_dir);
	n = readlink(link, target, sizeof target - 1);
	if (n < 0)
		return -1;
	target[n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (!valid_release(base, strlen(base)))
		return -1;
	strcpy(id, base);
	return 0;
}

/* ---- answering ---- */

static void add(struct MHD_Response *resp, const char *name, const char *value)
{
	MHD_add_response_header(resp, name, value);
}

/* Queue resp with the headers the request collected, count it and free it. */
static enum MHD_Result finish(struct req *r, int status, struct MHD_Response *resp, size_t body_len)
{
	struct http *h = r->h;
	char vary[40] = "";
	enum MHD_Result rc;

	if (!resp)
		return MHD_NO;
	add(resp, MHD_HTTP_HEADER_CACHE_CONTROL, r->cache ? r->cache : "no-store");
	if (r->etag[0])
		add(resp, MHD_HTTP_HEADER_ETAG, r->etag);
	if (r->has_release)
		add(resp, "X-Pc6risk-Release", r->release);
	if (r->encoding)
		add(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, r->encoding);
	if (r->vary_encoding)
		strcpy(vary, "Accept-Encoding");
	if (h->cors_origin) {
		add(resp, MHD_HTTP_HEADER_ACCESS_CONTROL_ALLOW_ORIGIN, h->cors_origin);
		add(resp, "Access-Control-Expose-Headers", "ETag, X-Pc6risk-Release");
		/* A response naming one origin differs by the asking origin for shared caches. */
		if (strcmp(h->cors_origin, "*") != 0)
			strcat(vary, vary[0] ? ", Origin" : "Origin");
	}
	if (vary[0])
		add(resp, MHD_HTTP_HEADER_VARY, vary);
	rc = MHD_queue_response(r->c, (unsigned)status, resp);
	MHD_destroy_response(resp);
	if (status >= 100 && status < 600)
		atomic_fetch_add_explicit(&h->requests[r->route][status / 100 - 1], 1, memory_order_relaxed);
	if (!r->head)
		atomic_fetch_add_explicit(&h->bytes, body_len, memory_order_relaxed);
	return rc;
}

/* A body in a malloc'd buffer that MHD frees. */
static struct MHD_Response *from_malloc(void *data, size_t n, const char *type)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(n, data, MHD_RESPMEM_MUST_FREE);

	if (!resp)
		free(data);
	else if (type)
		add(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type);
	return resp;
}

/* A one-line plain text answer with the headers collected so far. */
static enum MHD_Result vreply(struct req *r, int status, const char *fmt, va_list ap)
{
	struct sbuf b = {0};
	char line[512];
	size_t n;

	vsnprintf(line, sizeof line, fmt, ap);
	sbuf_puts(&b, line);
	sbuf_putc(&b, '\n');
	if (status >= 500)
		log_msg(LOG_ERROR, "http: %s %s answered %d: %s", r->method, r->url, status, line);
	n = b.len;
	return finish(r, status, from_malloc(sbuf_take(&b), n, "text/plain; charset=utf-8"), n);
}

static enum MHD_Result reply_text(struct req *r, int status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static enum MHD_Result reply_text(struct req *r, int status, const char *fmt, ...)
{
	va_list ap;
	enum MHD_Result rc;

	va_start(ap, fmt);
	rc = vreply(r, status, fmt, ap);
	va_end(ap);
	return rc;
}

/* An error: nothing about it may be cached, and it names no content. */
static enum MHD_Result fail(struct req *r, int status, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static enum MHD_Result fail(struct req *r, int status, const char *fmt, ...)
{
	va_list ap;
	enum MHD_Result rc;

	r->cache = NULL;
	r->etag[0] = '\0';
	r->encoding = NULL;
	r->vary_encoding = false;
	va_start(ap, fmt);
	rc = vreply(r, status, fmt, ap);
	va_end(ap);
	return rc;
}

/* Does an If-None-Match header match etag (weak comparison, RFC 9110 13.1.2)? */
static bool etag_matches(const char *inm, const char *etag)
{
	const char *mine = strncmp(etag, "W/", 2) == 0 ? etag + 2 : etag;
	size_t n = strlen(mine);

	for (const char *p = inm; *p;) {
		const char *q;

		while (*p == ' ' || *p == '\t' || *p == ',')
			p++;
		if (*p == '\0')
			break;
		if (*p == '*')
			return true;
		if (strncmp(p, "W/", 2) == 0)
			p += 2;
		if (*p != '"' || !(q = strchr(p + 1, '"')))
			return false;
		if ((size_t)(q + 1 - p) == n && memcmp(p, mine, n) == 0)
			return true;
		p = q + 1;
	}
	return false;
}

/* When the client has this version already, answer 304 and return true. */
static bool not_modified(struct req *r, enum MHD_Result *rc)
{
	const char *inm = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, MHD_HTTP_HEADER_IF_NONE_MATCH);

	if (!inm || !r->etag[0] || !etag_matches(inm, r->etag))
		return false;
	*rc = finish(r, MHD_HTTP_NOT_MODIFIED, MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT), 0);
	return true;
}

static void etag_of(struct req *r, const void *data, size_t n, bool weak)
{
	unsigned char d[16];
	char *p = r->etag;

	hash128(data, n, 0, d);
	if (weak)
		p += sprintf(p, "W/");
	*p++ = '"';
	for (int i = 0; i < 16; i++)
		p += sprintf(p, "%02x", d[i]);
	strcpy(p, "\"");
}

/* The response to a release's content: pinned URLs never change. */
static void from_release(struct req *r, const struct target *t)
{
	r->has_release = true;
	r->cache = t->pinned ? IMMUTABLE : r->h->cache_current;
}

/* ---- reading a release, across swaps of current ---- */

enum got { GOT, MISSING, NO_CURRENT, FAILED };

/* Run try on the pinned release, or on the one current points to. When a
 * file of current's release is missing, current may have moved on and the
 * release been pruned just now: look again (3 times) before calling it
 * missing. The file is truly missing when current did not move. */
static enum got with_release(struct req *r, const struct target *t, enum got (*try)(struct req *r, void *arg),
			     void *arg)
{
	char before[RELEASE_MAX] = "";
	enum got g = MISSING;

	if (t->pinned) {
		strcpy(r->release, t->release);
		return try(r, arg);
	}
	for (int attempt = 0; attempt < 4; attempt++) {
		if (resolve_current(r->h, r->release) < 0)
			return NO_CURRENT;
		if (attempt > 0 && strcmp(before, r->release) == 0)
			return MISSING;
		g = try(r, arg);
		if (g != MISSING)
			return g;
		strcpy(before, r->release);
	}
	return g;
}

/* The path of rel (printf-style) inside the request's release. */
static void release_path(const struct req *r, char *path, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void release_path(const struct req *r, char *path, size_t size, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(path, size, "%s/releases/%s/", r->h->out_dir, r->release);

	va_start(ap, fmt);
	vsnprintf(path + n, size - (size_t)n, fmt, ap);
	va_end(ap);
}

static void target_file(const struct req *r, const struct target *t, char *path, size_t size)
{
	switch (t->route) {
	case R_TILE_GEOJSON:
		release_path(r, path, size, "tiles/%s/%d/%u/%u.geojson", t->name, t->z, t->x, t->y);
		break;
	case R_TILE_PBF:
		release_path(r, path, size, "tiles/%s.mbtiles", t->name);
		break;
	case R_TILEJSON:
		release_path(r, path, size, "tiles/%s/tiles.json", t->name);
		break;
	case R_FILE:
		release_path(r, path, size, "%s", t->file);
		break;
	default:
		release_path(r, path, size, "neighbourhoods/%s.geojson", t->name);
	}
}

struct open_arg {
	const struct target *t;
	int fd, err_no;
};

static enum got try_open(struct req *r, void *arg)
{
	struct open_arg *a = arg;
	char path[PATH_MAX];

	target_file(r, a->t, path, sizeof path);
	a->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (a->fd >= 0)
		return GOT;
	a->err_no = errno;
	return errno == ENOENT || errno == ENOTDIR ? MISSING : FAILED;
}

/* 404 for something a release does not hold, saying what is missing. A tile
 * missing from a tileset that is there stays missing, so its 404 may be
 * cached like the tile would have been. */
static enum MHD_Result missing(struct req *r, const struct target *t)
{
	char path[PATH_MAX];
	struct stat st;

	release_path(r, path, sizeof path, "%s", "");
	if (t->pinned && stat(path, &st) < 0)
		return fail(r, 404, "release %s is not here", r->release);
	r->has_release = true;
	if (t->route == R_NEIGHBOURHOOD)
		return fail(r, 404, "no neighbourhood %s in release %s", t->name, r->release);
	if (t->route == R_FILE)
		return fail(r, 404, "no %s in release %s", t->file, r->release);
	if (t->route == R_TILE_PBF)
		release_path(r, path, sizeof path, "tiles/%s.mbtiles", t->name);
	else
		release_path(r, path, sizeof path, "tiles/%s", t->name);
	if (t->route == R_TILEJSON || stat(path, &st) < 0)
		return fail(r, 404, "no tileset %s in release %s", t->name, r->release);
	from_release(r, t);
	r->etag[0] = '\0';
	return reply_text(r, 404, "no tile %d/%u/%u in tileset %s of release %s", t->z, t->x, t->y, t->name,
			  r->release);
}

static enum MHD_Result got_failed(struct req *r, enum got g, int err_no)
{
	if (g == NO_CURRENT)
		return fail(r, 404, "no release is published yet");
	return fail(r, 500, "cannot read release %s: %s", r->release, strerror(err_no));
}

/* A GeoJSON file, sent from its descriptor (sendfile). */
static enum MHD_Result serve_file(struct req *r, const struct target *t)
{
	struct open_arg a = {t, -1, 0};
	enum got g = with_release(r, t, try_open, &a);
	struct MHD_Response *resp;
	struct stat st;
	enum MHD_Result rc;

	if (g == MISSING)
		return missing(r, t);
	if (g != GOT)
		return got_failed(r, g, a.err_no);
	if (fstat(a.fd, &st) < 0) {
		int saved = errno;

		close(a.fd);
		return got_failed(r, FAILED, saved);
	}
	from_release(r, t);
	/* Unchanged tiles are hard links across incremental releases: one inode, one ETag. */
	snprintf(r->etag, sizeof r->etag, "\"%llx-%llx-%llx\"", (unsigned long long)st.st_ino,
		 (unsigned long long)st.st_size,
		 (unsigned long long)st.st_mtim.tv_sec * 1000000000ull + (unsigned long long)st.st_mtim.tv_nsec);
	if (not_modified(r, &rc)) {
		close(a.fd);
		return rc;
	}
	if (st.st_size <= SMALL_FILE) {
		/* most tiles: headers and body leave in one send, which beats
		 * send + sendfile at these sizes */
		char *buf = xmalloc(st.st_size ? (size_t)st.st_size : 1);
		ssize_t got = pread(a.fd, buf, (size_t)st.st_size, 0);

		close(a.fd);
		if (got != (ssize_t)st.st_size) {
			free(buf);
			return got_failed(r, FAILED, got < 0 ? errno : EIO);
		}
		resp = MHD_create_response_from_buffer((size_t)st.st_size, buf, MHD_RESPMEM_MUST_FREE);
		if (!resp) {
			free(buf);
			return MHD_NO;
		}
	} else if (!(resp = MHD_create_response_from_fd64((uint64_t)st.st_size, a.fd))) {
		close(a.fd);
		return MHD_NO;
	}
	add(resp, MHD_HTTP_HEADER_CONTENT_TYPE, t->route == R_FILE ? t->type : "application/geo+json");
	if (t->route == R_FILE)
		add(resp, "X-Content-Type-Options", "nosniff");
	return finish(r, MHD_HTTP_OK, resp, (size_t)st.st_size);
}

/* ---- MBTiles handles ---- */

/* An idle handle for release/scenario from the pool, or a new one. */
static struct mbtiles *pool_take(struct http *h, const char *release, const char *scenario, const char *path,
				 int *err_no)
{
	struct mbtiles *m = NULL;
	struct err e;

	pthread_mutex_lock(&h->pool_lock);
	for (size_t i = 0; i < h->nidle; i++)
		if (strcmp(h->idle[i].release, release) == 0 && strcmp(h->idle[i].scenario, scenario) == 0) {
			m = h->idle[i].m;
			h->idle[i] = h->idle[--h->nidle];
			break;
		}
	pthread_mutex_unlock(&h->pool_lock);
	if (m)
		return m;
	m = mbtiles_open_immutable(path, &e);
	if (!m) {
		*err_no = errno;
		if (errno != ENOENT)
			log_msg(LOG_ERROR, "http: %s: %s", e.where, e.message);
	}
	return m;
}

/* Put a handle back. Handles of releases that current left behind are closed
 * once nobody asked for them for a while, so the files of pruned releases do
 * not stay allocated on disk; the pool never holds more than cap. Closing an
 * immutable read-only handle is cheap, so it happens under the lock. */
static void pool_give(struct http *h, const char *release, const char *scenario, struct mbtiles *m,
		      const char *current)
{
	double now = mono_s();
	struct mb_slot *s;

	pthread_mutex_lock(&h->pool_lock);
	if (current)
		strcpy(h->current, current);
	for (size_t i = 0; i < h->nidle;) {
		s = &h->idle[i];
		if (strcmp(s->release, h->current) != 0 && now - s->used > MB_GRACE_S) {
			mbtiles_abort(s->m);
			*s = h->idle[--h->nidle];
		} else {
			i++;
		}
	}
	if (h->nidle == h->cap) {
		size_t oldest = 0;

		for (size_t i = 1; i < h->nidle; i++)
			if (h->idle[i].used < h->idle[oldest].used)
				oldest = i;
		mbtiles_abort(h->idle[oldest].m);
		h->idle[oldest] = h->idle[--h->nidle];
	}
	s = &h->idle[h->nidle++];
	strcpy(s->release, release);
	strcpy(s->scenario, scenario);
	s->m = m;
	s->used = now;
	pthread_mutex_unlock(&h->pool_lock);
}

struct pbf_arg {
	const struct target *t;
	void *blob;
	size_t n;
	int found, err_no;
};

static enum got try_pbf(struct req *r, void *arg)
{
	struct pbf_arg *a = arg;
	char path[PATH_MAX];
	struct mbtiles *m;
	struct err e;

	target_file(r, a->t, path, sizeof path);
	m = pool_take(r->h, r->release, a->t->name, path, &a->err_no);
	if (!m)
		return a->err_no == ENOENT || a->err_no == ENOTDIR ? MISSING : FAILED;
	a->found = mbtiles_find(m, a->t->z, a->t->x, a->t->y, &a->blob, &a->n, &e);
	if (a->found < 0) {
		log_msg(LOG_ERROR, "http: %s: %s", e.where, e.message);
		mbtiles_abort(m);
		a->err_no = EIO;
		return FAILED;
	}
	pool_give(r->h, r->release, a->t->name, m, a->t->pinned ? NULL : r->release);
	return GOT;
}

/* 0 when the parameters of one Accept-Encoding element say q=0 (0, 0.0,
 * 0.000), else 1. */
static int q_accepts(const char *p, const char *end)
{
	for (; p < end; p++) {
		if (*p != ';')
			continue;
		p++;
		while (p < end && (*p == ' ' || *p == '\t'))
			p++;
		if (end - p >= 2 && (*p == 'q' || *p == 'Q') && p[1] == '=') {
			for (p += 2; p < end && *p != ';'; p++)
				if (*p >= '1' && *p <= '9')
					return 1;
			return 0;
		}
	}
	return 1;
}

/* Does an Accept-Encoding header allow gzip (RFC 9110 12.5.3)? */
static bool accepts_gzip(const char *ae)
{
	int gzip = -1, star = -1; /* -1 not named, 0 refused, 1 accepted */

	for (const char *p = ae; p && *p;) {
		const char *end = p + strcspn(p, ",");
		size_t n;

		p += strspn(p, " \t");
		n = strcspn(p, " \t;,");
		if ((n == 4 && strncasecmp(p, "gzip", 4) == 0) || (n == 6 && strncasecmp(p, "x-gzip", 6) == 0))
			gzip = q_accepts(p + n, end);
		else if (n == 1 && *p == '*')
			star = q_accepts(p + n, end);
		p = *end ? end + 1 : end;
	}
	return gzip >= 0 ? gzip == 1 : star == 1;
}

/* A vector tile from the release's MBTiles. The stored blobs are gzip: as
 * they are for clients that take gzip, inflated for the others. */
static enum MHD_Result serve_pbf(struct req *r, const struct target *t)
{
	struct pbf_arg a = {t, NULL, 0, 0, 0};
	enum got g = with_release(r, t, try_pbf, &a);
	const unsigned char *b;
	bool gz;
	enum MHD_Result rc;

	if (g == MISSING)
		return missing(r, t);
	if (g != GOT)
		return got_failed(r, g, a.err_no);
	if (!a.found)
		return missing(r, t);
	b = a.blob;
	gz = a.n >= 18 && b[0] == 0x1f && b[1] == 0x8b;
	from_release(r, t);
	r->vary_encoding = true;
	if (gz && accepts_gzip(MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, MHD_HTTP_HEADER_ACCEPT_ENCODING))) {
		r->encoding = "gzip";
		etag_of(r, a.blob, a.n, false);
		if (not_modified(r, &rc)) {
			free(a.blob);
			return rc;
		}
		return finish(r, MHD_HTTP_OK, from_malloc(a.blob, a.n, "application/vnd.mapbox-vector-tile"), a.n);
	}
	/* The same content in another encoding: weakly the same ETag. */
	etag_of(r, a.blob, a.n, gz);
	if (not_modified(r, &rc)) {
		free(a.blob);
		return rc;
	}
	if (gz) {
		size_t isize = (size_t)b[a.n - 4] | (size_t)b[a.n - 3] << 8 | (size_t)b[a.n - 2] << 16 |
			       (size_t)b[a.n - 1] << 24,
		       got = 0;
		void *out = isize <= INFLATED_MAX ? xmalloc(isize ? isize : 1) : NULL;
		struct libdeflate_decompressor *d = libdeflate_alloc_decompressor();
		enum libdeflate_result lr =
			out && d ? libdeflate_gzip_decompress(d, a.blob, a.n, out, isize, &got) : LIBDEFLATE_BAD_DATA;

		libdeflate_free_decompressor(d);
		free(a.blob);
		if (lr != LIBDEFLATE_SUCCESS || got != isize) {
			free(out);
			return fail(r, 500, "tile %d/%u/%u of %s in release %s does not inflate", t->z, t->x, t->y,
				    t->name, r->release);
		}
		a.blob = out;
		a.n = got;
	}
	return finish(r, MHD_HTTP_OK, from_malloc(a.blob, a.n, "application/vnd.mapbox-vector-tile"), a.n);
}

/* ---- tiles.json ---- */

/* Read an open file whole (closes fd): 0, or -1 with errno. */
static int read_all(int fd, struct sbuf *b)
{
	char buf[16384];
	ssize_t n;
	int rc = 0;

	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 || b->len + (size_t)n > TILEJSON_MAX) {
			if (n >= 0)
				errno = EFBIG;
			rc = -1;
			break;
		}
		sbuf_append(b, buf, (size_t)n);
	}
	close(fd);
	return rc;
}

/* Where clients find the server: public_url, or what they called it (Host). NULL for a bad Host. */
static char *base_url(struct req *r)
{
	const char *host;

	if (r->h->public_url)
		return xstrdup(r->h->public_url);
	host = MHD_lookup_connection_value(r->c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
	if (!host || !host[0] || strlen(host) > 255 ||
	    strspn(host, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789.:[]-") != strlen(host))
		return NULL;
	return xasprintf("http://%s", host);
}

static void set_string_array(cJSON *root, const char *key, const char *value)
{
	cJSON *a = cJSON_CreateArray();

	cJSON_AddItemToArray(a, cJSON_CreateString(value));
	if (cJSON_GetObjectItemCaseSensitive(root, key))
		cJSON_ReplaceItemInObjectCaseSensitive(root, key, a);
	else
		cJSON_AddItemToObject(root, key, a);
}

/* The release's tiles.json with absolute URLs of that release's tiles: MVT
 * from the MBTiles, GeoJSON as a second set, and no path to the file. */
static enum MHD_Result serve_tilejson(struct req *r, const struct target *t)
{
	struct open_arg a = {t, -1, 0};
	enum got g;
	struct sbuf text = {0};
	char *base = NULL, *url = NULL, *out = NULL;
	cJSON *root = NULL;
	enum MHD_Result rc;
	size_t n;

	base = base_url(r);
	if (!base) {
		rc = fail(r, 400, "the Host header is missing or not a host name");
		goto out;
	}
	g = with_release(r, t, try_open, &a);
	if (g == MISSING) {
		rc = missing(r, t);
		goto out;
	}
	if (g != GOT || read_all(a.fd, &text) < 0) {
		rc = got_failed(r, g != GOT ? g : FAILED, g != GOT ? a.err_no : errno);
		goto out;
	}
	pthread_mutex_lock(&r->h->json_lock);
	root = cJSON_ParseWithLength(text.s, text.len);
	pthread_mutex_unlock(&r->h->json_lock);
	if (!cJSON_IsObject(root)) {
		rc = fail(r, 500, "tiles/%s/tiles.json of release %s is not a JSON object", t->name, r->release);
		goto out;
	}
	url = xasprintf("%s/releases/%s/tiles/%s/{z}/{x}/{y}.pbf", base, r->release, t->name);
	set_string_array(root, "tiles", url);
	if (cJSON_GetObjectItemCaseSensitive(root, "format"))
		cJSON_ReplaceItemInObjectCaseSensitive(root, "format", cJSON_CreateString("pbf"));
	else
		cJSON_AddStringToObject(root, "format", "pbf");
	cJSON_DeleteItemFromObjectCaseSensitive(root, "mbtiles");
	cJSON_DeleteItemFromObjectCaseSensitive(root, "geojson_tiles");
	cJSON_DeleteItemFromObjectCaseSensitive(root, "release");
	free(url);
	url = xasprintf("%s/releases/%s/tiles/%s/{z}/{x}/{y}.geojson", base, r->release, t->name);
	set_string_array(root, "geojson_tiles", url);
	cJSON_AddStringToObject(root, "release", r->release);
	out = cJSON_Print(root);
	if (!out) {
		rc = MHD_NO;
		goto out;
	}
	n = strlen(out);
	from_release(r, t);
	etag_of(r, out, n, false);
	if (!not_modified(r, &rc)) {
		rc = finish(r, MHD_HTTP_OK, from_malloc(out, n, "application/json"), n);
		out = NULL;
	}
out:
	cJSON_Delete(root);
	sbuf_free(&text);
	free(out);
	free(url);
	free(base);
	return rc;
}

/* ---- the daemon's own documents ---- */

static enum MHD_Result serve_doc(struct req *r, enum http_doc doc)
{
	struct sbuf body = {0};
	const char *type = NULL;
	int status;
	size_t n;
	enum MHD_Result rc;

	if (!r->h->doc)
		return fail(r, 404, "not found");
	status = r->h->doc(r->h->ctx, doc, &body, &type);
	if (status == MHD_HTTP_OK) {
		etag_of(r, body.s ? body.s : "", body.len, false);
		if (not_modified(r, &rc)) {
			sbuf_free(&body);
			return rc;
		}
	}
	/* a 503 here is an answer (not ready), not a fault: no log line per probe */
	n = body.len;
	return finish(r, status, from_malloc(sbuf_take(&body), n, type ? type : "text/plain; charset=utf-8"), n);
}

/* The viewer of a release: a redirect to /releases/<id>/viewer/, so that the
 * page and everything it reads come from one release, also across a refresh. */
static enum MHD_Result serve_viewer(struct req *r, const struct target *t)
{
	struct MHD_Response *resp;
	char *where;
	struct stat st;
	char path[PATH_MAX];

	if (t->pinned)
		strcpy(r->release, t->release);
	else if (resolve_current(r->h, r->release) < 0)
		return fail(r, 404, "no release is published yet");
	release_path(r, path, sizeof path, "viewer/index.html");
	if (stat(path, &st) < 0)
		return fail(r, 404, "release %s has no map viewer (publish.viewer is false, or it was not built)",
			    r->release);
	where = xasprintf("%s/releases/%s/viewer/", r->h->public_url ? r->h->public_url : "", r->release);
	resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
	if (resp)
		add(resp, MHD_HTTP_HEADER_LOCATION, where);
	free(where);
	r->has_release = true;
	return finish(r, MHD_HTTP_FOUND, resp, 0);
}

/* ---- the request handler ---- */

/* Any body (a length or a chunked transfer) is more than a read-only server takes. */
static bool has_body(struct MHD_Connection *c)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);

	return (cl && strspn(cl, "0") != strlen(cl)) ||
	       MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_TRANSFER_ENCODING);
}

static enum MHD_Result preflight(struct req *r)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);

	if (!resp)
		return MHD_NO;
	add(resp, MHD_HTTP_HEADER_ALLOW, ALLOW);
	if (r->h->cors_origin) {
		add(resp, "Access-Control-Allow-Methods", ALLOW);
		add(resp, "Access-Control-Allow-Headers", "If-None-Match");
		add(resp, "Access-Control-Max-Age", "86400");
	}
	return finish(r, MHD_HTTP_NO_CONTENT, resp, 0);
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
			      const char *version, const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	static int seen, answered; /* the marks of a request whose headers came, and of one answered */
	struct req r = {.h = cls, .c = c, .method = method, .url = url, .route = R_OTHER};
	struct target t;
	int status;

	(void)version;
	(void)upload_data;
	/* The first call has the headers: a request with a body is refused at
	 * once (and its connection closed). Others are answered at the second
	 * call, when MHD knows the request is complete: a response queued
	 * earlier makes it close the connection, and keep-alive is what makes a
	 * tile server fast. A body that still arrives is dropped. */
	if (*con_cls == &answered || *upload_data_size) {
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (!*con_cls && !has_body(c)) {
		*con_cls = &seen;
		return MHD_YES;
	}
	*con_cls = &answered;
	r.head = strcmp(method, MHD_HTTP_METHOD_HEAD) == 0;
	if (!r.head && strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_OPTIONS) != 0) {
		struct MHD_Response *resp = MHD_create_response_from_buffer(strlen("method not allowed\n"),
									    (void *)"method not allowed\n",
									    MHD_RESPMEM_PERSISTENT);

		if (resp)
			add(resp, MHD_HTTP_HEADER_ALLOW, ALLOW);
		return finish(&r, MHD_HTTP_METHOD_NOT_ALLOWED, resp, strlen("method not allowed\n"));
	}
	if (has_body(c))
		return fail(&r, MHD_HTTP_CONTENT_TOO_LARGE, "a request body is not accepted here");
	if (strcmp(method, MHD_HTTP_METHOD_OPTIONS) == 0)
		return preflight(&r);
	status = parse_target(url, &t);
	r.route = t.route;
	if (status == 400)
		return fail(&r, 400, "bad path");
	if (status != 0)
		return fail(&r, 404, "not found");
	switch (t.route) {
	case R_HEALTHZ:
		return finish(&r, MHD_HTTP_OK, from_malloc(xstrdup("ok\n"), 3, "text/plain; charset=utf-8"), 3);
	case R_READYZ:
		return serve_doc(&r, HTTP_READYZ);
	case R_METRICS:
		return serve_doc(&r, HTTP_METRICS);
	case R_RUNS:
		return serve_doc(&r, HTTP_RUNS);
	case R_TILE_PBF:
		return serve_pbf(&r, &t);
	case R_TILEJSON:
		return serve_tilejson(&r, &t);
	case R_VIEWER:
		return serve_viewer(&r, &t);
	default:
		return serve_file(&r, &t);
	}
}

/* Keep escapes as they are: a path with '%' is refused, so "%2e%2e" or "%2f"
 * never turn into something that passed the checks. */
static size_t keep_escapes(void *cls, struct MHD_Connection *c, char *s)
{
	(void)cls;
	(void)c;
	return strlen(s);
}

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char line[512];
	size_t n;

	(void)cls;
	vsnprintf(line, sizeof line, fmt, ap);
	n = strlen(line);
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	log_msg(LOG_WARN, "http: %s", line);
}

/* ---- public ---- */

int http_parse_listen(const char *text, struct sockaddr_storage *sa, socklen_t *len, struct err *e)
{
	char host[64];
	const char *colon, *port;
	size_t hl;
	uint32_t p;

	memset(sa, 0, sizeof *sa);
	if (text[0] == '[') {
		const char *close = strchr(text, ']');

		if (!close || close[1] != ':')
			return err_set(e, ERR_CONFIG, NULL, "listen address \"%s\" is not [ipv6]:port", text);
		hl = (size_t)(close - text - 1);
		if (hl >= sizeof host)
			return err_set(e, ERR_CONFIG, NULL, "listen address \"%s\" has a host that is too long", text);
		memcpy(host, text + 1, hl);
		port = close + 2;
	} else {
		colon = strrchr(text, ':');
		if (!colon)
			return err_set(e, ERR_CONFIG, NULL, "listen address \"%s\" has no port (host:port)", text);
		hl = (size_t)(colon - text);
		if (hl >= sizeof host)
			return err_set(e, ERR_CONFIG, NULL, "listen address \"%s\" has a host that is too long", text);
		memcpy(host, text, hl);
		port = colon + 1;
	}
	host[hl] = '\0';
	if (!decimal(port, strlen(port), &p) || p > 65535)
		return err_set(e, ERR_CONFIG, NULL, "listen address \"%s\": the port must be a number 0-65535", text);
	if (text[0] == '[') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)sa;

		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			return err_set(e, ERR_CONFIG, NULL, "listen address \"%s\": \"%s\" is not an IPv6 address",
				       text, host);
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)p);
		*len = sizeof *s6;
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)sa;

		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return err_set(e, ERR_CONFIG, NULL,
				       "listen address \"%s\": \"%s\" is not an IPv4 address (write IPv6 as [addr]:port)",
				       text, host);
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)p);
		*len = sizeof *s4;
	}
	return 0;
}

struct http *http_start(const struct http_opts *o, struct err *e)
{
	struct sockaddr_storage sa;
	socklen_t salen;
	struct http *h;
	unsigned threads = o->threads ? o->threads : 2;
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG;
	const union MHD_DaemonInfo *info;
	size_t plen;

	if (http_parse_listen(o->listen, &sa, &salen, e) < 0)
		return NULL;
	if (!o->out_dir || strlen(o->out_dir) > PATH_MAX - 256) {
		err_set(e, ERR_CONFIG, NULL, "the publish directory to serve is missing or its path is too long");
		return NULL;
	}
	if (sa.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	h = xcalloc(1, sizeof *h);
	h->out_dir = xstrdup(o->out_dir);
	h->cors_origin = xstrdup_or_null(o->cors_origin);
	h->public_url = xstrdup_or_null(o->public_url);
	if (h->public_url) {
		plen = strlen(h->public_url);
		while (plen > 0 && h->public_url[plen - 1] == '/')
			h->public_url[--plen] = '\0';
	}
	h->cache_current = xasprintf("public, max-age=%u", o->tilejson_max_age ? o->tilejson_max_age : 60);
	h->doc = o->doc;
	h->ctx = o->ctx;
	/* Each worker holds at most one handle at a time; room for a few releases' worth idle. */
	h->cap = 4 * (size_t)threads + 8;
	h->idle = xcalloc(h->cap, sizeof *h->idle);
	pthread_mutex_init(&h->pool_lock, NULL);
	pthread_mutex_init(&h->json_lock, NULL);
	/* The logger first, so that MHD's complaints about the other options reach our log. */
	h->d = MHD_start_daemon(flags, 0, NULL, NULL, handle, h, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&sa, MHD_OPTION_THREAD_POOL_SIZE, threads,
				MHD_OPTION_CONNECTION_LIMIT, o->max_connections ? o->max_connections : 512u,
				MHD_OPTION_CONNECTION_TIMEOUT, o->timeout_s ? o->timeout_s : 30u,
				MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)MEMORY_LIMIT,
				MHD_OPTION_UNESCAPE_CALLBACK, keep_escapes, NULL, MHD_OPTION_END);
	if (!h->d) {
		err_set(e, ERR_SYSTEM, NULL, "cannot serve HTTP on %s: %s", o->listen,
			errno ? strerror(errno) : "libmicrohttpd refused to start");
		http_stop(h);
		return NULL;
	}
	info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
	h->port = info ? info->port : 0;
	return h;
}

int http_port(const struct http *h)
{
	return h->port;
}

void http_metrics(const struct http *h, struct sbuf *b)
{
	struct http *m = (struct http *)h; /* atomics are read through a non-const pointer */

	sbuf_puts(b, "# HELP pc6risk_http_requests_total HTTP requests answered, by route and status class.\n"
		     "# TYPE pc6risk_http_requests_total counter\n");
	for (int r = 0; r < R_N; r++)
		for (int k = 0; k < 5; k++) {
			unsigned long long n = atomic_load_explicit(&m->requests[r][k], memory_order_relaxed);

			if (n)
				sbuf_printf(b, "pc6risk_http_requests_total{route=\"%s\",code=\"%dxx\"} %llu\n",
					    route_names[r], k + 1, n);
		}
	sbuf_printf(b,
		    "# HELP pc6risk_http_response_bytes_total Bytes of response bodies queued.\n"
		    "# TYPE pc6risk_http_response_bytes_total counter\n"
		    "pc6risk_http_response_bytes_total %llu\n",
		    atomic_load_explicit(&m->bytes, memory_order_relaxed));
}

void http_stop(struct http *h)
{
	if (!h)
		return;
	if (h->d)
		MHD_stop_daemon(h->d);
	for (size_t i = 0; i < h->nidle; i++)
		mbtiles_abort(h->idle[i].m);
	pthread_mutex_destroy(&h->pool_lock);
	pthread_mutex_destroy(&h->json_lock);
	free(h->idle);
	free(h->out_dir);
	free(h->cors_origin);
	free(h->public_url);
	free(h->cache_current);
	free(h);
}
