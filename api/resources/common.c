/*
 * What every resource shares: the dispatcher (authentication, the route's
 * permission, Idempotency-Key on POST, then the handler), body validation
 * declared as data, cursor pages, entity replies with ETag, If-Match.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/auth.h"
#include "resources/resources.h"

#define IDEM_KEY_MAX 128

static const char idem_timeout[] =
    "SELECT set_config('lock_timeout', '2000', true)";
/* Claims the key; an expired record (over a day old) is taken over. */
static const char idem_claim[] =
    "INSERT INTO idempotency_keys (principal, key, request_hash)"
    " VALUES ($1, $2, $3)"
    " ON CONFLICT (principal, key) DO UPDATE SET request_hash = $3,"
    "  status = NULL, content_type = NULL, body = NULL, etag = NULL,"
    "  location = NULL, created_at = now()"
    " WHERE idempotency_keys.created_at < now() - interval '1 day'"
    " RETURNING 1";
static const char idem_get[] =
    "SELECT request_hash = $3, status, content_type, body, etag, location"
    " FROM idempotency_keys WHERE principal = $1 AND key = $2";
static const char idem_store[] =
    "UPDATE idempotency_keys SET status = $3, content_type = $4, body = $5,"
    " etag = $6, location = $7 WHERE principal = $1 AND key = $2";

const struct db_stmt common_stmts[] = {
	{ "idem_timeout", idem_timeout },
	{ "idem_claim", idem_claim },
	{ "idem_get", idem_get },
	{ "idem_store", idem_store },
	{ NULL, NULL },
};

struct idem {
	const char *params[7];
};

static const char *
header_value(struct req *r, const char *name)
{
	struct header *h;

	for (h = r->headers; h != NULL; h = h->next)
		if (strcasecmp(h->name, name) == 0)
			return h->value;
	return NULL;
}

/* Inside the create's transaction: replay a stored answer, or run and store. */
static int
idem_tx(struct req *r, void *arg)
{
	struct idem *k = arg;
	struct dbres *res;
	char status[8];

	if (db_exec(r->arena, &r->fail, "idem_timeout", 0, NULL) == NULL)
		return -1;
	if ((res = db_exec(r->arena, &r->fail, "idem_claim", 3, k->params)) == NULL) {
		if (r->fail.code != NULL && strcmp(r->fail.code, "lock_timeout") == 0) {
			req_clear_failure(r);
			return req_fail(r, 409, "idempotency_key_in_use",
			    "a request with this Idempotency-Key is still "
			    "running; retry later");
		}
		return -1;
	}
	if (db_rows(res) == 0) {
		if ((res = db_exec(r->arena, &r->fail, "idem_get", 3, k->params)) == NULL)
			return -1;
		if (strcmp(db_get(res, 0, 0), "t") != 0)
			return req_fail(r, 422, "idempotency_key_reused",
			    "this Idempotency-Key was used with another request");
		/* Committed claims always carry their answer; be safe anyway. */
		if (db_get(res, 0, 1) == NULL || db_get(res, 0, 3) == NULL)
			return req_fail(r, 409, "idempotency_key_in_use",
			    "a request with this Idempotency-Key is still "
			    "running; retry later");
		req_header_add(r, "Idempotent-Replayed", "true");
		if (db_get(res, 0, 5) != NULL)
			req_header_add(r, "Location", db_get(res, 0, 5));
		r->etag = db_get(res, 0, 4);
		return req_reply(r, atoi(db_get(res, 0, 1)), db_get(res, 0, 2),
		    db_get(res, 0, 3), strlen(db_get(res, 0, 3)));
	}
	if (r->route->handler(r) == -1)
		return -1;
	snprintf(status, sizeof(status), "%d", r->status);
	k->params[2] = status;
	k->params[3] = r->ctype;
	k->params[4] = arena_strndup(r->arena, r->resp, r->resp_len);
	k->params[5] = r->etag;
	k->params[6] = header_value(r, "Location");
	return db_exec(r->arena, &r->fail, "idem_store", 7, k->params) == NULL ? -1 : 0;
}

static int
idempotent(struct req *r, const char *key)
{
	const struct principal *p = r->principal;
	struct idem k = { { 0 } };
	char hash[65], *what;
	size_t i;

	for (i = 0; key[i] != '\0'; i++)
		if (i >= IDEM_KEY_MAX || !isgraph((unsigned char)key[i]))
			return req_fail(r, 400, "invalid_idempotency_key",
			    "Idempotency-Key must be 1 to %d visible ASCII "
			    "characters", IDEM_KEY_MAX);
	if (i == 0)
		return req_fail(r, 400, "invalid_idempotency_key",
		    "Idempotency-Key is empty");
	/* The method, the path and the body's bytes (a file may hold NULs). */
	sha256_hex(r->body ? r->body : "", r->body_len, hash);
	what = arena_printf(r->arena, "%s %s\n%s", method_name(r->method),
	    r->path, hash);
	secret_hash(what, hash);
	k.params[0] = p ? p->id : "anonymous";
	k.params[1] = key;
	k.params[2] = hash;
	return run_tx(r, idem_tx, &k);
}

/* db_tx for a handler's step: fn gets the request back. */
struct tx_call {
	struct req *r;
	int (*fn)(struct req *, void *);
	void *arg;
};

static int
tx_call(void *p)
{
	struct tx_call *t = p;

	return t->fn(t->r, t->arg);
}

int
run_tx(struct req *r, int (*fn)(struct req *, void *), void *arg)
{
	struct tx_call t = { r, fn, arg };

	return db_tx(r->arena, &r->fail, tx_call, &t);
}

int
resources_dispatch(struct req *r)
{
	const struct principal *p;
	const char *key;

	if (r->route->perm != PERM_PUBLIC) {
		if (auth_authenticate(r->arena, &r->fail,
		    req_header(r, "Authorization"), &r->principal) == -1)
			return -1;
		p = r->principal;
		if (!perm_allows(p->role, r->route->perm))
			return req_fail(r, 403, "forbidden",
			    "the %s role may not do this", role_name(p->role));
	}
	if (r->method == M_POST && !(r->route->flags & ROUTE_NO_IDEMPOTENCY) &&
	    (key = req_header(r, "Idempotency-Key")) != NULL)
		return idempotent(r, key);
	return r->route->handler(r);
}

/* Validation of a JSON object against a field table. */

int
is_uuid(const char *s)
{
	size_t i;

	for (i = 0; i < 36; i++) {
		if (i == 8 || i == 13 || i == 18 || i == 23) {
			if (s[i] != '-')
				return 0;
		} else if (!isxdigit((unsigned char)s[i]))
			return 0;
	}
	return s[36] == '\0';
}

/* True when s starts with YYYY-MM-DD. */
static int
is_date_prefix(const char *s)
{
	int i;

	for (i = 0; i < 10; i++)
		if ((i == 4 || i == 7) ? s[i] != '-' :
		    !isdigit((unsigned char)s[i]))
			return 0;
	static const int days[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30,
		31 };
	int y = atoi(s), m = atoi(s + 5), d = atoi(s + 8);

	if (y < 1900 || y > 2999 || m < 1 || m > 12 || d < 1 ||
	    d > days[m - 1])
		return 0;
	/* 29 February only in leap years. */
	return !(m == 2 && d == 29 && (y % 4 != 0 || (y % 100 == 0 &&
	    y % 400 != 0)));
}

static int
is_date(const char *s)
{
	return strlen(s) == 10 && is_date_prefix(s);
}

/* Code points in a UTF-8 string (jansson has checked it is valid). */
static size_t
utf8_len(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

static int
in_list(const char *const *list, const char *s)
{
	for (; list != NULL && *list != NULL; list++)
		if (strcmp(*list, s) == 0)
			return 1;
	return 0;
}

/* Checks one value; returns its text form or NULL after a field error. */
static const char *
field_value(struct req *r, const struct field *f, const char *name, json_t *v)
{
	const char *s;

	switch (f->type) {
	case F_BOOL:
		if (json_is_boolean(v))
			return json_is_true(v) ? "true" : "false";
		req_field_error(r, name, "type", "%s must be true or false",
		    f->name);
		return NULL;
	case F_INT:
		if (json_is_integer(v) && json_integer_value(v) >= f->min &&
		    json_integer_value(v) <= f->max)
			return arena_printf(r->arena, "%lld",
			    (long long)json_integer_value(v));
		req_field_error(r, name, json_is_integer(v) ? "range" : "type",
		    "%s must be a whole number from %lld to %lld", f->name,
		    f->min, f->max);
		return NULL;
	case F_ARRAY:
		if (!json_is_array(v) || json_array_size(v) > (size_t)f->max) {
			req_field_error(r, name, "type", "%s must be a list of at "
			    "most %lld items", f->name, f->max);
			return NULL;
		}
		/* FALLTHROUGH */
	case F_JSON: {
		char *d = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY), *c;

		if (d == NULL)
			abort();
		c = arena_strdup(r->arena, d);
		free(d);
		return c;
	}
	default:
		break;
	}
	if (!json_is_string(v)) {
		req_field_error(r, name, "type", "%s must be a string",
		    f->name);
		return NULL;
	}
	s = json_string_value(v);
	switch (f->type) {
	case F_UUID:
		if (is_uuid(s))
			return s;
		req_field_error(r, name, "format", "%s must be a UUID",
		    f->name);
		return NULL;
	case F_TIME:
		if (strlen(s) >= 20 && strlen(s) <= 35 && is_date_prefix(s) &&
		    s[10] == 'T' && strspn(s + 11, "0123456789:.+-Z") ==
		    strlen(s + 11))
			return s;
		req_field_error(r, name, "format", "%s must be an RFC 3339 "
		    "timestamp", f->name);
		return NULL;
	case F_DATE:
		if (is_date(s))
			return s;
		req_field_error(r, name, "format",
		    "%s must be a date as YYYY-MM-DD", f->name);
		return NULL;
	case F_ENUM:
		if (in_list(f->values, s))
			return s;
		req_field_error(r, name, "enum", "%s is not one of the "
		    "allowed values", f->name);
		return NULL;
	default:
		if (utf8_len(s) < (size_t)f->min || utf8_len(s) > (size_t)f->max) {
			req_field_error(r, name, "length",
			    "%s must have %lld to %lld characters", f->name,
			    f->min, f->max);
			return NULL;
		}
		if (f->type == F_CODE) {
			const char *p;

			for (p = s; *p != '\0'; p++)
				if (!(islower((unsigned char)*p) ||
				    isdigit((unsigned char)*p) ||
				    ((*p == '-' || *p == '_' || *p == '.') &&
					p != s)))
					break;
			if (*p != '\0') {
				req_field_error(r, name, "format",
				    "%s may hold only a-z, 0-9, '-', '_' and "
				    "'.', and starts with a letter or digit",
				    f->name);
				return NULL;
			}
		}
		return s;
	}
}

int
validate_at(struct req *r, json_t *obj, const struct field *fields,
    const char **out, int patch, const char *prefix)
{
	const struct field *f;
	const char *key;
	char *name;
	json_t *v;
	int i, nf = 0, bad = 0, any = 0;

	for (f = fields; f->name != NULL; f++)
		nf++;
	json_object_foreach(obj, key, v) {
		for (i = 0; i < nf && strcmp(fields[i].name, key) != 0; i++)
			;
		if (i == nf || (patch && fields[i].fixed)) {
			req_field_error(r, arena_printf(r->arena, "%s%s", prefix,
			    key), "unknown", i == nf ?
			    "%s is not a field of this resource" :
			    "%s cannot be changed", key);
			bad++;
		}
	}
	for (i = 0; i < nf; i++) {
		f = &fields[i];
		out[i] = NULL;
		name = arena_printf(r->arena, "%s%s", prefix, f->name);
		v = json_object_get(obj, f->name);
		if (v == NULL) {
			if (f->required && !patch) {
				req_field_error(r, name, "required",
				    "%s is required", f->name);
				bad++;
			}
			continue;
		}
		any = 1;
		if (json_is_null(v)) {
			/* PATCH sets values; it does not clear them. */
			if (!f->nullable || patch) {
				req_field_error(r, name, "null",
				    "%s cannot be null", f->name);
				bad++;
			}
			continue;
		}
		if (patch && f->fixed) {
			out[i] = NULL; /* refused above */
			continue;
		}
		if ((out[i] = field_value(r, f, name, v)) == NULL)
			bad++;
	}
	if (patch && !any && bad == 0) {
		req_fail(r, 422, "empty_patch", "the request body changes nothing");
		bad++;
	}
	return bad;
}

int
validate(struct req *r, json_t *obj, const struct field *fields,
    const char **out, int patch)
{
	if (validate_at(r, obj, fields, out, patch, "") > 0)
		return req_fail(r, 422, "invalid_body",
		    "the request body has invalid fields");
	return 0;
}

int
query_params(struct req *r, const struct field *fields, const char **out)
{
	const struct field *f;
	json_t *v;
	int i, bad = 0;

	for (i = 0, f = fields; f->name != NULL; f++, i++) {
		if ((out[i] = req_query(r, f->name)) == NULL)
			continue;
		if (f->type == F_INT) {
			char *end;
			long long n = strtoll(out[i], &end, 10);

			if (*out[i] == '\0' || *end != '\0' || n < f->min ||
			    n > f->max) {
				req_field_error(r, f->name, "range", "%s must be a "
				    "whole number from %lld to %lld", f->name,
				    f->min, f->max);
				out[i] = NULL;
				bad++;
			}
			continue;
		}
		if (f->type == F_BOOL) {
			if (strcmp(out[i], "true") != 0 &&
			    strcmp(out[i], "false") != 0) {
				req_field_error(r, f->name, "type",
				    "%s must be true or false", f->name);
				bad++;
			}
			continue;
		}
		if ((v = json_string(out[i])) == NULL) {
			req_field_error(r, f->name, "encoding",
			    "%s is not valid UTF-8", f->name);
			bad++;
			continue;
		}
		if (field_value(r, f, f->name, req_own(r, v)) == NULL)
			bad++;
	}
	if (bad)
		return req_fail(r, 400, "invalid_query",
		    "a query parameter is invalid");
	return 0;
}

/* Pages and entities. */

int
page_params(struct req *r, struct page *pg)
{
	const char *l = req_query(r, "limit"), *c = req_query(r, "cursor");
	char *end;
	long n;
	size_t i;

	pg->limit = PAGE_DEFAULT;
	pg->cursor = NULL;
	if (l != NULL) {
		n = strtol(l, &end, 10);
		if (*l == '\0' || *end != '\0' || n < 1 || n > PAGE_MAX) {
			req_field_error(r, "limit", "range",
			    "limit must be from 1 to %d", PAGE_MAX);
			return req_fail(r, 400, "invalid_query",
			    "a query parameter is invalid");
		}
		pg->limit = (int)n;
	}
	if (c != NULL) {
		for (i = 0; c[i] != '\0' && isxdigit((unsigned char)c[i]); i++)
			;
		if (c[i] != '\0' || i == 0 || i % 2 != 0 || i > 512) {
			req_field_error(r, "cursor", "format",
			    "cursor must be a value from next_cursor");
			return req_fail(r, 400, "invalid_query",
			    "a query parameter is invalid");
		}
		pg->cursor = c;
	}
	pg->fetch = arena_printf(r->arena, "%d", pg->limit + 1);
	return 0;
}

struct dbres *
page_exec(struct req *r, const char *stmt, int n, const char *const *params,
    const struct page *pg)
{
	struct dbres *res = db_exec(r->arena, &r->fail, stmt, n, params);

	/* A list only reads: a value the database refuses came from the
	 * query (a forged cursor, an impossible timestamp). */
	if (res == NULL && r->fail.status == 422) {
		req_clear_failure(r);
		if (pg->cursor != NULL)
			req_field_error(r, "cursor", "format",
			    "cursor must be a value from next_cursor");
		req_fail(r, 400, "invalid_query", "a query parameter is invalid");
	}
	return res;
}

int
reply_list(struct req *r, const char *stmt, const struct field *filters)
{
	const char *params[16];
	struct page pg;
	struct dbres *res;
	int n = 0, i;

	for (i = 0; filters != NULL && filters[i].name != NULL; i++)
		;
	if (i > 12)
		abort();
	if (page_params(r, &pg) == -1 ||
	    (filters != NULL && query_params(r, filters, params + 1) == -1))
		return -1;
	params[n++] = r->principal->unit_id;
	n += i;
	params[n++] = pg.cursor;
	params[n++] = pg.fetch;
	if ((res = page_exec(r, stmt, n, params, &pg)) == NULL)
		return -1;
	return reply_page(r, res, &pg);
}

int
reply_sublist(struct req *r, const char *parent_stmt, const char *stmt,
    const char *parent)
{
	const char *params[4];
	struct page pg;
	struct dbres *res;

	if (page_params(r, &pg) == -1)
		return -1;
	params[0] = r->principal->unit_id;
	params[1] = r->param[0];
	if ((res = db_exec(r->arena, &r->fail, parent_stmt, 2, params)) == NULL)
		return -1;
	if (db_rows(res) == 0)
		return req_fail(r, 404, "not_found", "no such %s", parent);
	params[2] = pg.cursor;
	params[3] = pg.fetch;
	if ((res = page_exec(r, stmt, 4, params, &pg)) == NULL)
		return -1;
	return reply_page(r, res, &pg);
}

int
reply_page(struct req *r, struct dbres *res, const struct page *pg)
{
	int n = db_rows(res), i, shown = n > pg->limit ? pg->limit : n;
	size_t len = 32, off;
	char *body;

	for (i = 0; i < shown; i++)
		len += strlen(db_get(res, i, 0)) + 1;
	if (n > pg->limit)
		len += strlen(db_get(res, pg->limit - 1, 1)) + 2;
	body = arena_alloc(r->arena, len + 32);
	off = (size_t)sprintf(body, "{\"items\":[");
	for (i = 0; i < shown; i++)
		off += (size_t)sprintf(body + off, "%s%s", i ? "," : "",
		    db_get(res, i, 0));
	if (n > pg->limit)
		off += (size_t)sprintf(body + off, "],\"next_cursor\":\"%s\"}",
		    db_get(res, pg->limit - 1, 1));
	else
		off += (size_t)sprintf(body + off, "],\"next_cursor\":null}");
	return req_reply(r, 200, "application/json", body, off);
}

int
reply_entity(struct req *r, struct dbres *res, int status, const char *what)
{
	if (db_rows(res) == 0)
		return req_fail(r, 404, "not_found", "no such %s", what);
	r->etag = arena_printf(r->arena, "\"%s\"", db_get(res, 0, 0));
	return req_reply(r, status, "application/json", db_get(res, 0, 1),
	    strlen(db_get(res, 0, 1)));
}

int
reply_get(struct req *r, const char *stmt, const char *what)
{
	const char *params[2] = { r->principal->unit_id, r->param[0] };
	struct dbres *res;

	if ((res = db_exec(r->arena, &r->fail, stmt, 2, params)) == NULL)
		return -1;
	return reply_entity(r, res, 200, what);
}

int
reply_created(struct req *r, struct dbres *res, const char *base,
    const char *what)
{
	json_t *v;

	if (db_rows(res) > 0 && (v = json_loads(db_get(res, 0, 1), 0,
	    NULL)) != NULL) {
		req_header_add(r, "Location", arena_printf(r->arena, "%s/%s",
		    base, json_string_value(json_object_get(req_own(r, v),
			"id"))));
	}
	return reply_entity(r, res, 201, what);
}

int
check_locked(struct req *r, struct dbres *cur, const char *version,
    const char *what)
{
	if (db_rows(cur) == 0)
		return req_fail(r, 404, "not_found", "no such %s", what);
	if (strcmp(db_get(cur, 0, 0), version) != 0)
		return req_fail(r, 412, "precondition_failed",
		    "the %s changed since version %s: reload it", what, version);
	return 0;
}

const char *
if_match(struct req *r)
{
	const char *h = req_header(r, "If-Match");
	size_t n;

	if (h == NULL) {
		req_fail(r, 428, "precondition_required",
		    "send If-Match with the ETag of the version you changed");
		return NULL;
	}
	if (strncmp(h, "W/", 2) == 0)
		h += 2;
	n = strlen(h);
	if (n < 3 || n > 12 || h[0] != '"' || h[n - 1] != '"' ||
	    strspn(h + 1, "0123456789") != n - 2) {
		req_fail(r, 412, "precondition_failed",
		    "If-Match does not name a current version");
		return NULL;
	}
	return arena_strndup(r->arena, h + 1, n - 2);
}

const char *
actor_kind(struct req *r)
{
	const struct principal *p = r->principal;

	return p == NULL ? "system" : p->service ? "service" : "user";
}

int
only_reason(struct req *r, json_t *body)
{
	if (json_object_size(body) == 1 &&
	    json_object_get(body, "amendment_reason") != NULL)
		return req_fail(r, 422, "empty_patch",
		    "the request body changes nothing");
	return 0;
}

int
no_fields(struct req *r)
{
	const char *key;
	json_t *val;

	if (r->json == NULL)
		return 0;
	if (req_body_object(r) == NULL)
		return -1;
	json_object_foreach(r->json, key, val)
		req_field_error(r, key, "unknown", "this step takes no fields");
	if (json_object_size(r->json) > 0)
		return req_fail(r, 422, "invalid_body",
		    "this step takes no fields");
	return 0;
}

int
fail_reference(struct req *r, const char *field, const char *fmt, ...)
{
	va_list ap;
	char *msg;

	va_start(ap, fmt);
	msg = arena_vprintf(r->arena, fmt, ap);
	va_end(ap);
	req_field_error(r, field, "unknown", "%s", msg);
	return req_fail(r, 422, "invalid_reference", "%s", msg);
}
