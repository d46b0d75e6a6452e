/*
 * httpc — the tests' tiny blocking HTTP/1.1 client: one keep-alive
 * connection to 127.0.0.1:port, requests with extra headers, and raw bytes
 * for requests no real client would send.
 *
 * A struct httpc is freed with httpc_close; a struct httpc_resp is the
 * caller's, filled by httpc_request or httpc_read and emptied with
 * httpc_resp_free. Reads time out after 10 s, so a silent server fails a test
 * instead of hanging it.
 */
#ifndef PC6RISK_TEST_HTTPC_H
#define PC6RISK_TEST_HTTPC_H

#include <stdbool.h>
#include <stddef.h>

struct httpc;

struct httpc_resp {
	int status;      /* 0: the server closed the connection (or went silent) before answering */
	size_t nheaders;
	char **names, **values;
	char *body;      /* NUL-terminated; "" for none */
	size_t body_len;
};

/* Connect to 127.0.0.1:port; NULL when nobody listens. */
struct httpc *httpc_connect(int port);
void httpc_close(struct httpc *c);

/* Send "method path HTTP/1.1" with a Host header (unless extra has one) and
 * the NULL-terminated "Name: value" lines of extra (NULL for none), then read
 * the answer. A kept-alive connection the server closed meanwhile is opened
 * again once. 0, or -1 when no answer came (r->status 0). */
int httpc_request(struct httpc *c, const char *method, const char *path, const char *const *extra,
		  struct httpc_resp *r);

/* Send bytes as they are (reconnecting first if the server had closed), and
 * read one answer to them; head: the answer has no body. */
int httpc_send_raw(struct httpc *c, const void *data, size_t n);
int httpc_read(struct httpc *c, bool head, struct httpc_resp *r);

/* The value of the first header called name (any case), or NULL. */
const char *httpc_header(const struct httpc_resp *r, const char *name);
void httpc_resp_free(struct httpc_resp *r);

#endif
