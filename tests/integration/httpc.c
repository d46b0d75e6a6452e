/* httpc: see tests/httpc.h. Not a test file; it lives here to be linked into
 * the integration tests. */
#include "httpc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "pc6risk/sbuf.h"
#include "pc6risk/xalloc.h"

struct httpc {
	int port, fd;
	bool used;        /* a request went over this connection already */
	struct sbuf in;   /* received, not yet consumed */
	size_t off;
};

static int dial(struct httpc *c)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)c->port)};
	struct timeval tv = {10, 0};
	int one = 1;

	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -1;
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (connect(c->fd, (struct sockaddr *)&sa, sizeof sa) < 0) {
		close(c->fd);
		c->fd = -1;
		return -1;
	}
	c->used = false;
	sbuf_reset(&c->in);
	c->off = 0;
	return 0;
}

static void hangup(struct httpc *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

struct httpc *httpc_connect(int port)
{
	struct httpc *c = xcalloc(1, sizeof *c);

	c->port = port;
	if (dial(c) < 0) {
		free(c);
		return NULL;
	}
	return c;
}

void httpc_close(struct httpc *c)
{
	if (!c)
		return;
	hangup(c);
	sbuf_free(&c->in);
	free(c);
}

void httpc_resp_free(struct httpc_resp *r)
{
	for (size_t i = 0; i < r->nheaders; i++) {
		free(r->names[i]);
		free(r->values[i]);
	}
	free(r->names);
	free(r->values);
	free(r->body);
	memset(r, 0, sizeof *r);
}

const char *httpc_header(const struct httpc_resp *r, const char *name)
{
	for (size_t i = 0; i < r->nheaders; i++)
		if (strcasecmp(r->names[i], name) == 0)
			return r->values[i];
	return NULL;
}

static int send_all(struct httpc *c, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = send(c->fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Receive more; 0 at the end of the stream or a timeout. */
static ssize_t fill(struct httpc *c)
{
	char buf[65536];
	ssize_t n;

	do
		n = recv(c->fd, buf, sizeof buf, 0);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		sbuf_append(&c->in, buf, (size_t)n);
	return n < 0 ? 0 : n;
}

int httpc_read(struct httpc *c, bool head, struct httpc_resp *r)
{
	char *end, *line, *next;
	size_t hlen, want;
	long long cl = -1;
	bool close_after = false;

	memset(r, 0, sizeof *r);
	if (c->fd < 0)
		return -1;
	while (!(c->in.s && (end = strstr(c->in.s + c->off, "\r\n\r\n"))))
		if (fill(c) <= 0) {
			hangup(c);
			r->body = xstrdup("");
			return -1;
		}
	hlen = (size_t)(end - (c->in.s + c->off)) + 4;
	line = c->in.s + c->off;
	*end = '\0';
	if (sscanf(line, "HTTP/1.%*d %d", &r->status) != 1)
		r->status = -1;
	for (line = strstr(line, "\r\n"); line && line < end; line = next) {
		char *colon, *v;

		line += 2;
		next = strstr(line, "\r\n");
		if (next)
			*next = '\0';
		colon = strchr(line, ':');
		if (!colon)
			continue;
		for (v = colon + 1; *v == ' ' || *v == '\t'; v++)
			;
		r->names = xrealloc(r->names, (r->nheaders + 1) * sizeof *r->names);
		r->values = xrealloc(r->values, (r->nheaders + 1) * sizeof *r->values);
		r->names[r->nheaders] = strndup(line, (size_t)(colon - line));
		r->values[r->nheaders] = xstrdup(v);
		r->nheaders++;
		if (!next)
			break;
	}
	c->off += hlen;
	if (httpc_header(r, "Content-Length"))
		cl = atoll(httpc_header(r, "Content-Length"));
	if (httpc_header(r, "Connection") && strcasecmp(httpc_header(r, "Connection"), "close") == 0)
		close_after = true;
	if (head || r->status / 100 == 1 || r->status == 204 || r->status == 304)
		cl = 0;
	if (cl < 0) {
		while (fill(c) > 0)
			;
		close_after = true;
		want = c->in.len - c->off;
	} else {
		want = (size_t)cl;
		while (c->in.len - c->off < want)
			if (fill(c) <= 0) {
				hangup(c);
				r->status = 0;
				r->body = xstrdup("");
				return -1;
			}
	}
	r->body = xmalloc(want + 1);
	memcpy(r->body, c->in.s + c->off, want);
	r->body[want] = '\0';
	r->body_len = want;
	c->off += want;
	if (c->off == c->in.len) {
		sbuf_reset(&c->in);
		c->off = 0;
	}
	if (close_after)
		hangup(c);
	return 0;
}

int httpc_send_raw(struct httpc *c, const void *data, size_t n)
{
	if (c->fd < 0 && dial(c) < 0)
		return -1;
	c->used = true;
	return send_all(c, data, n);
}

int httpc_request(struct httpc *c, const char *method, const char *path, const char *const *extra,
		  struct httpc_resp *r)
{
	struct sbuf req = {0};
	bool host = false;
	int rc = -1;

	sbuf_printf(&req, "%s %s HTTP/1.1\r\n", method, path);
	for (size_t i = 0; extra && extra[i]; i++) {
		host |= strncasecmp(extra[i], "Host:", 5) == 0;
		sbuf_printf(&req, "%s\r\n", extra[i]);
	}
	if (!host)
		sbuf_printf(&req, "Host: 127.0.0.1:%d\r\n", c->port);
	sbuf_puts(&req, "\r\n");
	for (int attempt = 0; attempt < 2 && rc < 0; attempt++) {
		bool reused = c->fd >= 0 && c->used;

		memset(r, 0, sizeof *r);
		if (httpc_send_raw(c, req.s, req.len) == 0)
			rc = httpc_read(c, strcmp(method, "HEAD") == 0, r);
		if (rc < 0) {
			hangup(c);
			if (!reused)
				break;
			httpc_resp_free(r);
		}
	}
	sbuf_free(&req);
	return rc;
}
