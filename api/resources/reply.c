/*
 * Replies every resource shares: a list page ({"items": [...],
 * "next_cursor": ...}), one entity with its version as ETag, 201 with
 * Location, and the optimistic-locking checks of a change (If-Match, the
 * version of the locked row).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resources/resources.h"

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
		req_fail(r, 400, "invalid_query",
		    "a query parameter is invalid");
	}
	return res;
}

/* The list, get and sublist replies; extra, when not NULL, is one more
 * parameter after the others (the caller's draft access in a plan's tree). */
static int
list_with(struct req *r, const char *stmt, const struct field *filters,
    const char *extra)
{
	const char *params[17];
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
	if (extra != NULL)
		params[n++] = extra;
	if ((res = page_exec(r, stmt, n, params, &pg)) == NULL)
		return -1;
	return reply_page(r, res, &pg);
}

/* A sublist whose operation declares q (text search) gets it as the last
 * parameter, after extra. */
static int
sublist_with(struct req *r, const char *parent_stmt, const char *stmt,
    const char *parent, const char *extra)
{
	const char *params[6], *pp[3];
	struct page pg;
	struct dbres *res;
	int n = extra != NULL, q = query_declared(r, "q");

	if (page_params(r, &pg) == -1 ||
	    (q && query_params(r, search_filters, &params[4 + n]) == -1))
		return -1;
	pp[0] = params[0] = r->principal->unit_id;
	pp[1] = params[1] = r->param[0];
	pp[2] = params[4] = extra;
	if ((res = db_exec(r->arena, &r->fail, parent_stmt, 2 + n, pp)) == NULL)
		return -1;
	if (db_rows(res) == 0)
		return req_fail(r, 404, "not_found", "no such %s", parent);
	params[2] = pg.cursor;
	params[3] = pg.fetch;
	if ((res = page_exec(r, stmt, 4 + n + q, params, &pg)) == NULL)
		return -1;
	return reply_page(r, res, &pg);
}

static int
entity_found(struct req *r, struct dbres *res, const void *what)
{
	return reply_entity(r, res, 200, what);
}

/* One read, so the thread need not wait for it (req_exec_then). */
static int
get_with(struct req *r, const char *stmt, const char *what, const char *extra)
{
	const char *params[3] = { r->principal->unit_id, r->param[0], extra };

	return req_exec_then(r, stmt, extra ? 3 : 2, params, entity_found, what);
}

int
reply_list(struct req *r, const char *stmt, const struct field *filters)
{
	return list_with(r, stmt, filters, NULL);
}

int
reply_sublist(struct req *r, const char *parent_stmt, const char *stmt,
    const char *parent)
{
	return sublist_with(r, parent_stmt, stmt, parent, NULL);
}

int
reply_plan_list(struct req *r, const char *stmt, const struct field *filters)
{
	return list_with(r, stmt, filters, plan_drafts(r));
}

int
reply_plan_sublist(struct req *r, const char *parent_stmt, const char *stmt,
    const char *parent)
{
	return sublist_with(r, parent_stmt, stmt, parent, plan_drafts(r));
}

int
reply_plan_get(struct req *r, const char *stmt, const char *what)
{
	return get_with(r, stmt, what, plan_drafts(r));
}

int
reply_list_as_user(struct req *r, const char *stmt, const struct field *filters)
{
	const char *params[16];
	struct page pg;
	struct dbres *res;
	int n, i;

	for (i = 0; filters[i].name != NULL; i++)
		;
	if (i > 12)
		abort();
	if (page_params(r, &pg) == -1 ||
	    query_params(r, filters, params + 2) == -1)
		return -1;
	params[0] = r->principal->unit_id;
	params[1] = r->principal->id;
	n = 2 + i;
	params[n++] = pg.cursor;
	params[n++] = pg.fetch;
	if ((res = page_exec(r, stmt, n, params, &pg)) == NULL)
		return -1;
	return reply_page(r, res, &pg);
}

int
reply_page(struct req *r, struct dbres *res, const struct page *pg)
{
	int n = db_rows(res), i, shown = n > pg->limit ? pg->limit : n;
	const char *next = n > pg->limit ? db_get(res, pg->limit - 1, 1) : NULL;
	size_t cap = 64, off;
	char *body;

	for (i = 0; i < shown; i++)
		cap += strlen(db_get(res, i, 0)) + 1;
	if (next != NULL)
		cap += strlen(next);
	body = arena_alloc(r->arena, cap);
	off = (size_t)snprintf(body, cap, "{\"items\":[");
	for (i = 0; i < shown; i++)
		off += (size_t)snprintf(body + off, cap - off, "%s%s",
		    i ? "," : "", db_get(res, i, 0));
	if (next != NULL)
		off += (size_t)snprintf(body + off, cap - off,
		    "],\"next_cursor\":\"%s\"}", next);
	else
		off += (size_t)snprintf(body + off, cap - off,
		    "],\"next_cursor\":null}");
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
	return get_with(r, stmt, what, NULL);
}

int
reply_get_as_user(struct req *r, const char *stmt, const char *what)
{
	return get_with(r, stmt, what, r->principal->id);
}

int
reply_created(struct req *r, struct dbres *res, const char *base,
    const char *what)
{
	json_t *v;

	if (db_rows(res) > 0 &&
	    (v = json_loads(db_get(res, 0, 1), 0, NULL)) != NULL) {
		req_header_add(r, "Location",
		    arena_printf(r->arena, "%s/%s", base,
			json_string_value(
			    json_object_get(req_own(r, v), "id"))));
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
		    "the %s changed since version %s: reload it", what,
		    version);
	return 0;
}

const char *
if_match(struct req *r)
{
	return if_match_parse(r, req_header(r, "If-Match"));
}

const char *
if_match_parse(struct req *r, const char *h)
{
	size_t n;

	if (h == NULL) {
		req_fail(r, 428, "precondition_required",
		    "send If-Match with the ETag of the version you changed");
		return NULL;
	}
	/* The strong comparison (RFC 9110 13.1.1): a weak tag, W/"3", names
	 * no version and never matches. */
	n = strlen(h);
	if (n < 3 || n > 12 || h[0] != '"' || h[n - 1] != '"' ||
	    strspn(h + 1, "0123456789") != n - 2) {
		req_fail(r, 412, "precondition_failed",
		    "If-Match does not name a current version");
		return NULL;
	}
	return arena_strndup(r->arena, h + 1, n - 2);
}
