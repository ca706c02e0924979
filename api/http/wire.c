/*
 * The request and the answer as libmicrohttpd holds them: what the server
 * measures of a request's wire form (sizes, NULs hidden by decoding or cut
 * out of header values, the query, the client's address) and the answer put
 * on the connection with the headers every response carries; and the
 * address to listen on. server.c runs the connection; this file only reads
 * and writes it. Everything outside api/http/ sees no libmicrohttpd type.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include <microhttpd.h>

#include "http/http.h"

int
wire_reply(struct MHD_Connection *c, struct req *r, int close)
{
	struct MHD_Response *resp;
	const void *body;
	struct header *h;
	enum MHD_Result ret;
	size_t len;
	int gz;

	shape_response(r, &body, &len, &gz);
	resp = MHD_create_response_from_buffer(len, (void *)(uintptr_t)body,
	    MHD_RESPMEM_PERSISTENT);
	if (resp == NULL)
		abort();
	if (r->ctype != NULL && r->status != 304)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		    r->ctype);
	MHD_add_response_header(resp, "X-Request-Id", r->id);
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	/* GETs may be kept and revalidated; nothing else (a new key, a token)
	 * may be stored by a cache. */
	MHD_add_response_header(resp, "Cache-Control",
	    r->method == M_GET && r->etag ? "no-cache" : "no-store");
	if (r->etag != NULL)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_ETAG, r->etag);
	if (shape_compressible(r->ctype))
		MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY,
		    "Accept-Encoding");
	if (gz)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING,
		    "gzip");
	cors_response(r);
	for (h = r->headers; h != NULL; h = h->next)
		MHD_add_response_header(resp, h->name, h->value);
	if (close)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONNECTION,
		    "close");
	ret = MHD_queue_response(c, (unsigned)r->status, resp);
	MHD_destroy_response(resp);
	r->resp_len = len;
	return ret == MHD_YES ? 0 : -1;
}

static enum MHD_Result
add_size(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
	size_t *n = cls;

	(void)kind;
	*n += strlen(k) + (v ? strlen(v) : 0) + 4;
	return MHD_YES;
}

/* Counts query values that hide a NUL ("%00"): C code would see less. */
static enum MHD_Result
count_nul(void *cls, enum MHD_ValueKind kind, const char *k, size_t klen,
    const char *v, size_t vlen)
{
	(void)kind;
	if (strlen(k) != klen || (v != NULL && strlen(v) != vlen))
		(*(int *)cls)++;
	return MHD_YES;
}

void
wire_sizes(struct MHD_Connection *c, size_t *url_bytes, int *query_nuls,
    size_t *header_bytes)
{
	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_size, url_bytes);
	MHD_get_connection_values_n(c, MHD_GET_ARGUMENT_KIND, count_nul,
	    query_nuls);
	MHD_get_connection_values(c, MHD_HEADER_KIND, add_size, header_bytes);
}

struct pairs {
	struct arena *a;
	struct query_pair *v;
	size_t n, cap;
};

static enum MHD_Result
add_pair(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
	struct pairs *p = cls;
	struct query_pair *grown;

	(void)kind;
	if (p->n == p->cap) {
		p->cap = p->cap ? 2 * p->cap : 8;
		grown = arena_alloc(p->a, p->cap * sizeof(*grown));
		if (p->n > 0)
			memcpy(grown, p->v, p->n * sizeof(*grown));
		p->v = grown;
	}
	p->v[p->n].name = k;
	p->v[p->n++].value = v;
	return MHD_YES;
}

size_t
wire_query(struct MHD_Connection *c, struct arena *a, struct query_pair **out)
{
	struct pairs p = { a, NULL, 0, 0 };

	MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, add_pair, &p);
	*out = p.v;
	return p.n;
}

struct lines {
	const char *name;
	int n;
};

static enum MHD_Result
count_line(void *cls, enum MHD_ValueKind kind, const char *k, const char *v)
{
	struct lines *l = cls;

	(void)kind;
	(void)v;
	l->n += strcasecmp(k, l->name) == 0;
	return MHD_YES;
}

int
wire_header_lines(struct MHD_Connection *c, const char *name)
{
	struct lines l = { name, 0 };

	MHD_get_connection_values(c, MHD_HEADER_KIND, count_line, &l);
	return l.n;
}

/*
 * libmicrohttpd 0.9.75 cuts a header value at a NUL byte without a word.
 * The request head is still in the connection's memory as it came, each
 * CR, LF and header colon overwritten with a NUL, and every header points
 * into it: walking the headers in order, each must start where the line
 * before ended (one byte later after a CRLF), and the head must end right
 * after the last. Bytes left over are what a NUL hid. (A NUL just before
 * a bare LF looks like a CR and goes unseen; it hides nothing.) A folded
 * header line (obs-fold) fails this too, which RFC 9112 5.2 allows.
 */
struct head_walk {
	const char *p, *end;
	int bad;
};

static enum MHD_Result
walk_header(void *cls, enum MHD_ValueKind kind, const char *name,
    const char *value)
{
	struct head_walk *w = cls;
	const char *q;

	(void)kind;
	if (name == w->p + 1 && w->p < w->end && *w->p == '\0')
		w->p++;
	if (name != w->p || value == NULL)
		goto bad;
	for (q = name + strlen(name) + 1;
	     q < w->end && q < value && (*q == ' ' || *q == '\t'); q++)
		;
	if (q != value || (w->p = value + strlen(value) + 1) > w->end)
		goto bad;
	return MHD_YES;
bad:
	w->bad = 1;
	return MHD_NO;
}

int
wire_head_clean(struct MHD_Connection *c, const char *method,
    const char *version)
{
	const union MHD_ConnectionInfo *ci;
	struct head_walk w;

	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_REQUEST_HEADER_SIZE);
	if (ci == NULL)
		return 0;
	w.p = version + strlen(version) + 1;
	w.end = method + ci->header_size;
	w.bad = 0;
	MHD_get_connection_values(c, MHD_HEADER_KIND, walk_header, &w);
	/* What is left: the LF of a CRLF, then the empty line. */
	if (w.bad || w.p >= w.end || w.end - w.p > 3)
		return 0;
	for (; w.p < w.end; w.p++)
		if (*w.p != '\0')
			return 0;
	return 1;
}

void
wire_client_addr(struct MHD_Connection *c, char *buf, size_t cap)
{
	const union MHD_ConnectionInfo *ci;
	const struct sockaddr *sa;

	snprintf(buf, cap, "unknown");
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	if (ci == NULL || (sa = ci->client_addr) == NULL)
		return;
	if (sa->sa_family == AF_INET)
		inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
		    buf, (socklen_t)cap);
	else if (sa->sa_family == AF_INET6)
		inet_ntop(AF_INET6,
		    &((const struct sockaddr_in6 *)sa)->sin6_addr, buf,
		    (socklen_t)cap);
}

int
wire_listen_addr(const char *listen, struct sockaddr_storage *addr)
{
	struct addrinfo hints, *res;
	char host[256];
	const char *colon = strrchr(listen, ':');
	size_t hl;
	int rc;

	if (colon == NULL || colon == listen || colon[1] == '\0')
		goto bad;
	hl = (size_t)(colon - listen);
	if (listen[0] == '[' && hl > 2 && listen[hl - 1] == ']') {
		listen++;
		hl -= 2;
	}
	if (hl >= sizeof(host))
		goto bad;
	memcpy(host, listen, hl);
	host[hl] = '\0';
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((rc = getaddrinfo(host, colon + 1, &hints, &res)) != 0) {
		log_error("DANVAN_LISTEN %s: %s", listen, gai_strerror(rc));
		return -1;
	}
	memcpy(addr, res->ai_addr, res->ai_addrlen);
	freeaddrinfo(res);
	return 0;
bad:
	log_error("DANVAN_LISTEN must be host:port, not %s", listen);
	return -1;
}
