/*
 * The reporting engine: every (milestone, owing unit) pair is an expected
 * submission, due on the milestone's date or on an extension granted to that
 * unit. Received means submitted (any state but draft); on time means the
 * first submission came before the end of the due day in Asia/Ho_Chi_Minh;
 * missing means nothing came and the day is over; pending, not yet due.
 */
#include <string.h>

#include "resources/resources.h"

/* The obligations in scope (me is the caller's unit): those of units of
 * the caller's subtree, or every one when the caller's unit receives the
 * milestone or manages the plan; the caller adds its conditions after. */
/* clang-format off */
#define OBLIGATION_ROWS                                                      \
    "SELECT mu.id, m.id AS milestone_id, m.kind, m.title, u.id AS unit_id,"  \
    "  u.name AS unit_name, m.receiving_unit_id,"                            \
    "  coalesce(e.due_on, m.due_on) AS due_on, e.reason AS extension_reason,"\
    "  s.id AS submission_id, s.submitted_at,"                               \
    "  CASE WHEN s.id IS NOT NULL"                                           \
    "   THEN timeliness(s.submitted_at, coalesce(e.due_on, m.due_on))"       \
    "   WHEN coalesce(e.due_on, m.due_on) < today_vn() THEN 'missing'"       \
    "   ELSE 'pending' END AS state"                                         \
    "  FROM plans p JOIN milestones m ON m.plan_id = p.id"                   \
    "  JOIN milestone_units mu ON mu.milestone_id = m.id"                    \
    "  JOIN units u ON u.id = mu.unit_id"                                    \
    "  JOIN units ru ON ru.id = m.receiving_unit_id"                         \
    "  JOIN units iu ON iu.id = p.issuing_unit_id CROSS JOIN me"             \
    "  LEFT JOIN extensions e ON e.milestone_id = m.id"                      \
    "   AND e.unit_id = mu.unit_id"                                          \
    "  LEFT JOIN LATERAL (SELECT s.id, s.submitted_at FROM submissions s"    \
    "   WHERE s.milestone_id = m.id AND s.unit_id = mu.unit_id"              \
    "   AND s.status <> 'draft' ORDER BY s.submitted_at, s.id LIMIT 1) s"    \
    "   ON true"                                                             \
    "  WHERE (u.path <@ me.path OR ru.path <@ me.path OR iu.path <@ me.path)"
/* An obligation of OBLIGATION_ROWS as the API shows it. */
#define OBLIGATION_JSON                                                      \
    "json_build_object('id', id, 'milestone_id', milestone_id,"              \
    " 'milestone_kind', kind, 'milestone_title', title, 'unit_id', unit_id," \
    " 'unit_name', unit_name, 'receiving_unit_id', receiving_unit_id,"       \
    " 'due_on', due_on, 'extended', extension_reason IS NOT NULL,"           \
    " 'extension_reason', extension_reason, 'state', state,"                 \
    " 'submission_id', submission_id, 'submitted_at', submitted_at)"

static const char list[] =
    "WITH me AS (SELECT path FROM units WHERE id = $1),"
    " rows AS (" OBLIGATION_ROWS " AND p.id = $2"
    "  AND ($3::uuid IS NULL OR u.id = $3)"
    "  AND ($4::uuid IS NULL OR m.id = $4)),"
    " picked AS (SELECT * FROM rows WHERE $5::text IS NULL OR state = $5)"
    "SELECT " OBLIGATION_JSON ","
    " encode(convert_to(due_on::text || milestone_id::text || unit_id::text,"
    "  'UTF8'), 'hex'),"
    " json_build_object('expected', count(*) OVER (),"
    "  'received', count(*) FILTER (WHERE state IN ('on_time', 'late')) OVER (),"
    "  'on_time', count(*) FILTER (WHERE state = 'on_time') OVER (),"
    "  'late', count(*) FILTER (WHERE state = 'late') OVER (),"
    "  'missing', count(*) FILTER (WHERE state = 'missing') OVER (),"
    "  'pending', count(*) FILTER (WHERE state = 'pending') OVER ())"
    " FROM picked"
    " ORDER BY due_on::text || milestone_id::text || unit_id::text";
/* One obligation, in scope and of a plan the caller sees ($3: its draft
 * access); tagged by what it shows, having no version. */
static const char get[] =
    "WITH me AS (SELECT path FROM units WHERE id = $1),"
    " one AS (SELECT " OBLIGATION_JSON " AS j FROM (" OBLIGATION_ROWS
    "  AND mu.id = $2 AND " PLAN_VISIBLE("p", "$3") ") x)"
    "SELECT md5(j::text), j FROM one";

/* The milestone, if the caller's unit receives it (or is above). */
static const char milestone_of[] =
    "SELECT m.due_on, EXISTS (SELECT 1 FROM milestone_units mu"
    "  WHERE mu.milestone_id = m.id AND mu.unit_id = $3)"
    " FROM milestones m JOIN units ru ON ru.id = m.receiving_unit_id"
    " WHERE m.id = $2 AND ru.path <@ " SCOPE
    " FOR UPDATE OF m";
static const char grant[] =
    "WITH ins AS (INSERT INTO extensions (milestone_id, unit_id, due_on,"
    "  reason, granted_by) VALUES ($1, $2, $3::date, $4, $5)"
    "  ON CONFLICT (milestone_id, unit_id) DO UPDATE SET due_on = $3::date,"
    "  reason = $4, granted_by = $5, granted_at = now()"
    "  RETURNING *, xmax = 0 AS inserted),"
    " rejudge AS (UPDATE submissions s SET timeliness ="
    "  timeliness(s.submitted_at, ins.due_on), due_on = ins.due_on FROM ins"
    "  WHERE s.milestone_id = ins.milestone_id AND s.unit_id = ins.unit_id"
    "  AND s.submitted_at IS NOT NULL)"
    "SELECT json_build_object('milestone_id', ins.milestone_id, 'unit_id',"
    " ins.unit_id, 'due_on', ins.due_on, 'reason', ins.reason, 'granted_by',"
    " ins.granted_by, 'granted_at', ins.granted_at), ins.inserted"
    " FROM ins JOIN units u ON u.id = ins.unit_id,"
    " audit_event($5, $6, 'extend', 'milestone', ins.milestone_id, u.path,"
    "  NULL, to_jsonb(ins) - 'inserted', $7)";
/* clang-format on */

const struct db_stmt obligations_stmts[] = {
	{ "obligations_list", list },
	{ "obligations_get", get },
	{ "obligations_milestone_of", milestone_of },
	{ "obligations_grant", grant },
	{ NULL, NULL },
};

static const struct field filters[] = {
	{ "unit_id", F_UUID, 0, 0, 0, 0, 0, NULL },
	{ "milestone_id", F_UUID, 0, 0, 0, 0, 0, NULL },
	{ "state", F_ENUM, 0, 0, 0, 0, 0, obligation_states },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};

int
obligations_list(struct req *r)
{
	/* clang-format off */
	static const char zero[] = "{\"expected\":0,\"received\":0,"
	    "\"on_time\":0,\"late\":0,\"missing\":0,\"pending\":0}";
	/* clang-format on */
	const char *params[5], *q[nitems(filters)], *summary;
	struct dbres *res;
	struct page pg;
	char *body;
	size_t len;

	/* One page (milestones x owing units of one plan is bounded), with
	 * the summary of every row in scope beside it. */
	memset(&pg, 0, sizeof(pg));
	if (query_params(r, filters, q) == -1)
		return -1;
	params[0] = r->principal->unit_id;
	params[1] = r->param[0];
	params[2] = q[0];
	params[3] = q[1];
	params[4] = q[2];
	if (plan_find(r, r->param[0]) == -1)
		return -1;
	if ((res = page_exec(r, "obligations_list", 5, params, &pg)) == NULL)
		return -1;
	summary = db_rows(res) > 0 ? db_get(res, 0, 2) : zero;
	pg.limit = db_rows(res);
	if (reply_page(r, res, &pg) == -1)
		return -1;
	len = r->resp_len + strlen(summary) + 16;
	body = arena_alloc(r->arena, len);
	/* {"items":[…],"next_cursor":null} + ,"summary":{…} */
	len = (size_t)snprintf(body, len, "%.*s,\"summary\":%s}",
	    (int)r->resp_len - 1, (const char *)r->resp, summary);
	return req_reply(r, 200, "application/json", body, len);
}

int
obligations_get(struct req *r)
{
	return reply_plan_get(r, "obligations_get", "obligation");
}

static const struct field grant_fields[] = {
	{ "unit_id", F_UUID, 1, 0, 0, 0, 0, NULL },
	{ "due_on", F_DATE, 1, 0, 0, 0, 0, NULL },
	{ "reason", F_STRING, 1, 0, 0, 1, 1000, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};

struct grant {
	const char *v[3];
};

static int
grant_tx(struct req *r, void *arg)
{
	const struct principal *p = r->principal;
	struct grant *g = arg;
	const char *mp[3] = { p->unit_id, r->param[0], g->v[0] };
	const char *params[7];
	struct dbres *m, *res;

	if ((m = db_exec(r->arena, &r->fail, "obligations_milestone_of", 3,
		 mp)) == NULL)
		return -1;
	if (db_rows(m) == 0)
		return req_fail(r, 404, "not_found",
		    "no such milestone your unit "
		    "receives");
	if (strcmp(db_get(m, 0, 1), "t") != 0) {
		req_field_error(r, "unit_id", "not_owed",
		    "the unit owes nothing "
		    "for this milestone");
		return req_fail(r, 422, "not_owed",
		    "the unit owes nothing for "
		    "this milestone");
	}
	if (strcmp(g->v[1], db_get(m, 0, 0)) <= 0) {
		req_field_error(r, "due_on", "range",
		    "an extension ends after "
		    "the milestone's %s",
		    db_get(m, 0, 0));
		return req_fail(r, 422, "invalid_body",
		    "the request body has invalid fields");
	}
	params[0] = r->param[0];
	params[1] = g->v[0];
	params[2] = g->v[1];
	params[3] = g->v[2];
	params[4] = p->id;
	params[5] = actor_kind(r);
	params[6] = r->id;
	if ((res = db_exec(r->arena, &r->fail, "obligations_grant", 7,
		 params)) == NULL)
		return -1;
	return req_reply(r, strcmp(db_get(res, 0, 1), "t") == 0 ? 201 : 200,
	    "application/json", db_get(res, 0, 0), strlen(db_get(res, 0, 0)));
}

int
extensions_grant(struct req *r)
{
	struct grant g;
	json_t *body;

	if ((body = req_body_object(r)) == NULL ||
	    validate(r, body, grant_fields, g.v, 0) == -1)
		return -1;
	return run_tx(r, grant_tx, &g);
}
