/*
 * http — the daemon's read-only HTTP server (libmicrohttpd): the published
 * tiles, tiles.json and neighbourhood files of out_dir, and a few documents
 * the daemon writes (readiness, metrics, runs).
 *
 * URLs without a release (/tiles/..., /neighbourhoods/...) follow
 * out_dir/current, read again for every request; /releases/<id>/... pins one
 * release and may be cached forever. Every answer that depends on a release
 * names it in X-Pc6risk-Release. The server never writes to out_dir.
 *
 * A struct http is made by http_start and freed by http_stop, which waits for
 * the worker threads. It copies what it keeps from the options; the doc
 * callback's ctx stays the caller's and must outlive the server.
 */
#ifndef PC6RISK_HTTP_H
#define PC6RISK_HTTP_H

#include <sys/socket.h>

#include "pc6risk/err.h"
#include "pc6risk/sbuf.h"

/* The documents the daemon itself answers: /readyz, /metrics and /runs. */
enum http_doc { HTTP_READYZ, HTTP_METRICS, HTTP_RUNS };

struct http_opts {
	const char *listen;        /* "127.0.0.1:8080", "0.0.0.0:80", "[::1]:8080"; port 0 = any free port */
	const char *out_dir;       /* the publish directory: current -> releases/<id> */
	const char *cors_origin;   /* NULL: no CORS headers; "*" or one origin like "https://kaart.denhaag.nl" */
	const char *public_url;    /* NULL: tile URLs in TileJSON are built from the request's Host header */
	unsigned threads;          /* worker threads (0 -> 2) */
	unsigned max_connections;  /* (0 -> 512) */
	unsigned timeout_s;        /* idle connection timeout (0 -> 30) */
	unsigned tilejson_max_age; /* seconds of Cache-Control for current (non-release) URLs (0 -> 60) */
	/* Fills body and *content_type, returns the HTTP status. Called from HTTP threads, concurrently:
	 * the daemon makes it thread-safe. NULL -> those paths answer 404. */
	int (*doc)(void *ctx, enum http_doc doc, struct sbuf *body, const char **content_type);
	void *ctx;
};

struct http;

/* Parse "host:port" / "[v6]:port" with a numeric host into *sa and *len, for
 * the config's validation too: an ERR_CONFIG error says what is wrong. */
int http_parse_listen(const char *text, struct sockaddr_storage *sa, socklen_t *len, struct err *e);

/* Bind the address and start serving; NULL and an ERR_CONFIG (bad address) or
 * ERR_SYSTEM (cannot bind) error otherwise. Copies what it keeps from o. */
struct http *http_start(const struct http_opts *o, struct err *e);

/* The bound port (the one chosen when the address said port 0). */
int http_port(const struct http *h);

/* Append the request counters in Prometheus text format: requests by route and
 * status class, and response body bytes. Safe to call from the doc callback. */
void http_metrics(const struct http *h, struct sbuf *b);

/* Stop accepting, finish the requests under way, close every file and free h.
 * http_stop(NULL) does nothing. */
void http_stop(struct http *h);

#endif
