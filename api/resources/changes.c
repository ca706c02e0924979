/*
 * The change feed: every create, update and delete of the entities the
 * caller may see, in one total order (see db/migrations/0012_changes.sql
 * for why it neither skips nor repeats), each with the entity as its own
 * GET handler renders it now, so scope and draft rules are the GET's. An
 * entity the caller may no longer see arrives as a delete. wait= holds an
 * empty answer until a change is notified, without holding a thread.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resources/resources.h"

/* Rows of the feed one request reads at most, whatever it keeps. */
#define SCAN_MAX 1000
#define SCAN_MAX_SQL "1000"
/* How soon a waiting request looks again when changes have committed but
 * wait behind a transaction still running (it notifies nothing itself). */
#define HELD_BACK_US 200000

/* clang-format off */
/* The rows after the cursor below the horizon, each with whether the
 * caller is offered it: its type asked for and allowed ($4), and one of its
 * units in the caller's subtree or above it. */
static const char scan[] =
    "SELECT c.xid::text, c.seq, c.entity_type, c.entity_id, c.op,"
    " c.version, c.entity_type = ANY ($4::text[]) AND EXISTS (SELECT 1"
    "  FROM unnest(c.paths) p WHERE p <@ " SCOPE " OR p @> " SCOPE ")"
    " FROM changes c WHERE (c.xid, c.seq) > ($2::xid8, $3::bigint)"
    " AND c.xid < pg_snapshot_xmin(pg_current_snapshot())"
    " ORDER BY c.xid, c.seq LIMIT " SCAN_MAX_SQL;
/* Whether rows after the cursor have committed above the horizon. */
static const char held_back[] =
    "SELECT EXISTS (SELECT 1 FROM changes c"
    " WHERE (c.xid, c.seq) > ($1::xid8, $2::bigint)"
    " AND c.xid >= pg_snapshot_xmin(pg_current_snapshot()))";
/* clang-format on */

const struct db_stmt changes_stmts[] = {
	{ "changes_scan", scan },
	{ "changes_held_back", held_back },
	{ NULL, NULL },
};

/* Each type of the feed, with the GET that renders it and its permission. */
static const struct kind {
	const char *type;
	int (*get)(struct req *);
	enum perm perm;
} kinds[] = {
	{ "unit", units_get, PERM_UNIT_READ },
	{ "user", users_get, PERM_USER_READ },
	{ "plan", plans_get, PERM_PLAN_READ },
	{ "milestone", milestones_get, PERM_PLAN_READ },
	{ "task", tasks_get, PERM_PLAN_READ },
	{ "assignment", assignments_get, PERM_PLAN_READ },
	{ "obligation", obligations_get, PERM_PLAN_READ },
	{ "submission", submissions_get, PERM_PLAN_READ },
	{ "attachment", attachments_meta, PERM_PLAN_READ },
	{ "model", models_get, PERM_PLAN_READ },
	{ "inspection_plan", inspection_plans_get, PERM_PLAN_READ },
	{ "inspection", inspections_get, PERM_PLAN_READ },
	{ "finding", findings_get, PERM_PLAN_READ },
	{ "recommendation", recommendations_get, PERM_PLAN_READ },
	{ "rubric", rubrics_get, PERM_PLAN_READ },
	{ "score_sheet", score_sheets_get, PERM_PLAN_READ },
};

enum { Q_SINCE, Q_LIMIT, Q_TYPES, Q_WAIT };
static const struct field filters[] = {
	[Q_SINCE] = { "since", F_STRING, 0, 0, 0, 1, 120, NULL },
	[Q_LIMIT] = { "limit", F_INT, 0, 0, 0, 1, PAGE_MAX, NULL },
	[Q_TYPES] = { "types", F_STRING, 0, 0, 0, 1, 400, NULL },
	[Q_WAIT] = { "wait", F_INT, 0, 0, 0, 0, 30, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};

/* A position in the feed: after the row (xid, seq). */
struct pos {
	const char *xid, *seq;
};

static int
digits(const char *s, size_t n)
{
	return n > 0 && n <= 20 && strspn(s, "0123456789") == n;
}

/* The cursor "xid.seq.mac", the MAC binding it to the caller. */
static char *
cursor_make(struct req *r, const struct pos *at)
{
	char mac[TOKEN_MAC_HEX + 1];

	token_mac(arena_printf(r->arena, "%s:%s.%s", r->principal->id, at->xid,
		      at->seq),
	    mac);
	return arena_printf(r->arena, "%s.%s.%s", at->xid, at->seq, mac);
}

/* Reads since (NULL: the start of the feed); -1 with 400 when it is not a
 * cursor this server gave this caller. */
static int
cursor_parse(struct req *r, const char *since, struct pos *at)
{
	const char *dot1, *dot2;

	at->xid = at->seq = "0";
	if (since == NULL)
		return 0;
	if ((dot1 = strchr(since, '.')) != NULL &&
	    (dot2 = strchr(dot1 + 1, '.')) != NULL &&
	    digits(since, (size_t)(dot1 - since)) &&
	    digits(dot1 + 1, (size_t)(dot2 - dot1 - 1))) {
		at->xid = arena_strndup(r->arena, since, (size_t)(dot1 - since));
		at->seq = arena_strndup(r->arena, dot1 + 1,
		    (size_t)(dot2 - dot1 - 1));
		if (token_mac_ok(arena_printf(r->arena, "%s:%s.%s",
				     r->principal->id, at->xid, at->seq),
			dot2 + 1))
			return 0;
	}
	req_field_error(r, "since", "format",
	    "since must be a next_cursor this feed gave you");
	return req_fail(r, 400, "invalid_query", "a query parameter is invalid");
}

/* The types asked for (NULL: all), less those the caller may not read, as
 * a PostgreSQL array; -1 with 400 naming an unknown type. */
static const char *
types_parse(struct req *r, const char *types)
{
	const char *p, *end, *out = "{";
	size_t i, n;
	int want;

	for (p = types; p != NULL; p = *end ? end + 1 : NULL) {
		end = p + strcspn(p, ",");
		n = (size_t)(end - p);
		for (i = 0; i < nitems(kinds); i++)
			if (strlen(kinds[i].type) == n &&
			    strncmp(kinds[i].type, p, n) == 0)
				break;
		if (i == nitems(kinds)) {
			req_field_error(r, "types", "enum",
			    "types is a comma-separated list of unit, user, "
			    "plan, milestone, task, assignment, obligation, "
			    "submission, attachment, model, inspection_plan, "
			    "inspection, finding, recommendation, rubric, "
			    "score_sheet");
			req_fail(r, 400, "invalid_query",
			    "a query parameter is invalid");
			return NULL;
		}
	}
	for (i = 0; i < nitems(kinds); i++) {
		want = types == NULL;
		for (p = types; !want && p != NULL && *p != '\0';
		     p = *end ? end + 1 : end) {
			end = p + strcspn(p, ",");
			want = (size_t)(end - p) == strlen(kinds[i].type) &&
			    strncmp(kinds[i].type, p, (size_t)(end - p)) == 0;
		}
		if (want && perm_allows(r->principal->role, kinds[i].perm))
			out = arena_printf(r->arena, "%s%s%s", out,
			    out[1] ? "," : "", kinds[i].type);
	}
	return arena_printf(r->arena, "%s}", out);
}

/* The entity as its GET answers the caller now, into *json; NULL when the
 * caller may not see it (then a delete). -1 when the GET failed otherwise. */
static int
render(struct req *r, const char *type, const char *id, const char **json)
{
	const char *saved = r->param[0];
	size_t i;
	int rc;

	for (i = 0; strcmp(kinds[i].type, type) != 0; i++)
		if (i + 1 == nitems(kinds))
			abort();
	r->param[0] = id;
	rc = kinds[i].get(r);
	r->param[0] = saved;
	*json = NULL;
	if (rc == 0 && r->status == 200)
		*json = arena_strndup(r->arena, r->resp, r->resp_len);
	else if (rc == 0 || r->fail.status != 404)
		return -1;
	req_clear_failure(r);
	r->status = 0;
	r->resp = NULL;
	r->resp_len = 0;
	r->etag = NULL;
	return 0;
}

/* The item for row i of res into *out. */
static int
item(struct req *r, struct dbres *res, int i, const char **out)
{
	const char *type = db_get(res, i, 2), *id = db_get(res, i, 3);
	const char *op = db_get(res, i, 4), *version = db_get(res, i, 5);
	const char *json = NULL;

	if (strcmp(op, "upsert") == 0 && render(r, type, id, &json) == -1)
		return -1;
	*out = arena_printf(r->arena,
	    "{\"type\":\"%s\",\"id\":\"%s\",\"operation\":\"%s\","
	    "\"version\":%s%s%s}",
	    type, id, json != NULL ? "upsert" : "delete",
	    version ? version : "null", json != NULL ? ",\"entity\":" : "",
	    json != NULL ? json : "");
	return 0;
}

/* Nothing to answer yet: wait until a change is notified (looking again
 * soon when some wait behind a running transaction, or the standby may be
 * behind) or the time is up. */
static int
wait_for_change(struct req *r, const struct pos *at, int64_t deadline, long gen)
{
	const char *params[2] = { at->xid, at->seq };
	struct dbres *res;

	if ((res = db_exec(r->arena, &r->fail, "changes_held_back", 2,
		 params)) == NULL)
		return -1;
	r->suspend_until = deadline;
	/* A standby hears of a change (NOTIFY comes from the primary) before
	 * it has replayed it: read from one, look again soon as well. */
	if ((strcmp(db_get(res, 0, 0), "t") == 0 || db_on_replica()) &&
	    mono_us() + HELD_BACK_US < deadline)
		r->suspend_until = mono_us() + HELD_BACK_US;
	r->wait_gen = gen;
	return 0;
}

int
changes_list(struct req *r)
{
	const char *q[nitems(filters)], *params[4], *items[PAGE_MAX];
	struct pos at;
	struct dbres *res;
	char *body;
	size_t len, cap = 96;
	int limit, rows, i, n = 0, more;
	int64_t deadline;
	long gen = wait_generation();

	if (query_params(r, filters, q) == -1 ||
	    cursor_parse(r, q[Q_SINCE], &at) == -1 ||
	    (params[3] = types_parse(r, q[Q_TYPES])) == NULL)
		return -1;
	limit = q[Q_LIMIT] ? atoi(q[Q_LIMIT]) : PAGE_DEFAULT;
	deadline = r->started + (q[Q_WAIT] ? atoi(q[Q_WAIT]) : 0) * 1000000LL;
	params[0] = r->principal->unit_id;
	params[1] = at.xid;
	params[2] = at.seq;
	if ((res = db_exec(r->arena, &r->fail, "changes_scan", 4, params)) ==
	    NULL)
		return -1;
	rows = db_rows(res);
	for (i = 0; i < rows && n < limit; i++) {
		at.xid = db_get(res, i, 0);
		at.seq = db_get(res, i, 1);
		if (strcmp(db_get(res, i, 6), "t") != 0)
			continue;
		if (item(r, res, i, &items[n]) == -1)
			return -1;
		cap += strlen(items[n++]) + 1;
	}
	more = i < rows || rows == SCAN_MAX;
	if (n == 0 && !more && r->may_wait && mono_us() < deadline)
		return wait_for_change(r, &at, deadline, gen);
	body = arena_alloc(r->arena, cap + 128);
	len = (size_t)snprintf(body, cap, "{\"items\":[");
	for (i = 0; i < n; i++)
		len += (size_t)snprintf(body + len, cap - len, "%s%s",
		    i ? "," : "", items[i]);
	len += (size_t)snprintf(body + len, cap + 128 - len,
	    "],\"next_cursor\":\"%s\",\"has_more\":%s}", cursor_make(r, &at),
	    more ? "true" : "false");
	return req_reply(r, 200, "application/json", body, len);
}
