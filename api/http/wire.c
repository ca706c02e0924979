/*
 * The request and the answer as libmicrohttpd holds them: what the server
 * measures of a request's wire form (sizes, NULs hidden by decoding) and
 * the answer put on the connection with the headers every response
 * carries. server.c runs the connection; this file only reads and writes
 * it. Everything outside api/http/ sees no libmicrohttpd type.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

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
