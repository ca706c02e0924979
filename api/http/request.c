/*
 * The request context's helpers for handlers: record a failure, build the
 * reply, add headers. Everything allocated here lives in the request's arena.
 */
#include <stdio.h>
#include <string.h>

#include "http/http.h"

int
req_fail(struct req *r, int status, const char *code, const char *fmt, ...)
{
	va_list ap;

	if (r->err_status != 0)
		return -1;
	r->err_status = status;
	r->err_code = code;
	va_start(ap, fmt);
	r->err_detail = arena_vprintf(r->arena, fmt, ap);
	va_end(ap);
	return -1;
}

void
req_field_error(struct req *r, const char *field, const char *code,
    const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = arena_vprintf(r->arena, fmt, ap);
	va_end(ap);
	if (r->err_fields == NULL)
		r->err_fields = req_own(r, json_array());
	json_array_append_new(r->err_fields,
	    json_pack("{s:s, s:s, s:s}", "field", field, "code", code,
		"message", msg));
}

void
req_clear_failure(struct req *r)
{
	r->err_status = 0;
	r->err_code = r->err_detail = NULL;
	if (r->err_fields != NULL)
		json_array_clear(r->err_fields);
	r->retryable = 0;
}

static void
decref(void *v)
{
	json_decref(v);
}

json_t *
req_own(struct req *r, json_t *v)
{
	if (v == NULL)
		abort();
	arena_defer(r->arena, decref, v);
	return v;
}

int
req_reply(struct req *r, int status, const char *ctype, const void *body,
    size_t len)
{
	r->status = status;
	r->ctype = ctype;
	r->resp = body;
	r->resp_len = len;
	return 0;
}

int
req_reply_json(struct req *r, int status, json_t *v)
{
	size_t n;
	char *out;

	req_own(r, v);
	n = json_dumpb(v, NULL, 0, JSON_COMPACT | JSON_REAL_PRECISION(15));
	out = arena_alloc(r->arena, n + 1);
	json_dumpb(v, out, n, JSON_COMPACT | JSON_REAL_PRECISION(15));
	out[n] = '\0';
	return req_reply(r, status, "application/json", out, n);
}

int
req_reply_static(struct req *r, const char *ctype, const struct static_body *sb)
{
	r->stat = sb;
	r->etag = sb->etag;
	return req_reply(r, 200, ctype, sb->data, sb->len);
}

void
req_header_add(struct req *r, const char *name, const char *value)
{
	struct header *h = arena_alloc(r->arena, sizeof(*h));

	h->name = name;
	h->value = value;
	h->next = r->headers;
	r->headers = h;
}

json_t *
req_body_object(struct req *r)
{
	if (r->json == NULL) {
		req_fail(r, 400, "body_required",
		    "this operation needs a JSON object as the request body");
		return NULL;
	}
	if (!json_is_object(r->json)) {
		req_fail(r, 400, "body_not_object",
		    "the request body must be a JSON object");
		return NULL;
	}
	return r->json;
}
