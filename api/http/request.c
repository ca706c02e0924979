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

	va_start(ap, fmt);
	failure_vset(&r->fail, r->arena, status, code, fmt, ap);
	va_end(ap);
	return -1;
}

void
req_field_error(struct req *r, const char *field, const char *code,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	failure_vfield(&r->fail, r->arena, field, code, fmt, ap);
	va_end(ap);
}

void
req_clear_failure(struct req *r)
{
	failure_clear(&r->fail);
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
req_reply_static(struct req *r, const char *ctype, struct static_body *sb)
{
	static_body_ready(sb);
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

struct then {
	struct req *r;
	int (*fn)(struct req *, struct dbres *, const void *);
	const void *ctx;
};

static void
then_done(void *arg, struct dbres *res)
{
	struct then *t = arg;

	t->r->deferred = 0;
	if (res != NULL)
		t->fn(t->r, res, t->ctx);
	req_resume(t->r);
}

int
req_exec_then(struct req *r, const char *stmt, int nparams,
    const char *const *params,
    int (*then)(struct req *, struct dbres *, const void *ctx), const void *ctx)
{
	struct then *t = arena_alloc(r->arena, sizeof(*t));
	struct dbres *res;

	*t = (struct then){ r, then, ctx };
	if (db_defer(r->arena, &r->fail, stmt, nparams, params, then_done, t)) {
		r->deferred = 1;
		return 0;
	}
	if ((res = db_exec(r->arena, &r->fail, stmt, nparams, params)) == NULL)
		return -1;
	return then(r, res, ctx);
}
