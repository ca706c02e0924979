/*
 * Inspection plans (kế hoạch kiểm tra, giám sát): the coordinating unit's
 * plan of visits for a year's plan. draft -> issued; once issued, every
 * change is an amendment with its reason, kept with the inspection plan.
 * Seen like plans: by the issuing unit's subtree and the units above it.
 */
#include <string.h>

#include "resources/resources.h"

/* clang-format off */
#define IPLAN_JSON(p)                                                        \
	"json_build_object('id', " p ".id, 'plan_id', " p ".plan_id,"        \
	" 'issuing_unit_id', " p ".issuing_unit_id, 'title', " p ".title,"   \
	" 'description', " p ".description,"                                 \
	" 'period_start', " p ".period_start, 'period_end', " p ".period_end," \
	" 'status', " p ".status, 'issued_at', " p ".issued_at,"             \
	" 'issued_by', " p ".issued_by,"                                     \
	" 'inspections', (SELECT count(*) FROM inspections i"                \
	"  WHERE i.inspection_plan_id = " p ".id),"                          \
	" 'amendments', coalesce((SELECT json_agg(json_build_object("         \
	"  'version', a.version, 'at', a.at, 'actor_id', a.actor_id,"        \
	"  'reason', a.reason, 'changes', a.changes) ORDER BY a.version)"     \
	"  FROM inspection_plan_amendments a"                                \
	"  WHERE a.inspection_plan_id = " p ".id), '[]'),"                    \
	" 'version', " p ".version, 'created_at', " p ".created_at,"         \
	" 'updated_at', " p ".updated_at)"
#define VISIBLE(p)                                                           \
	"EXISTS (SELECT 1 FROM units iu, units me WHERE iu.id = " p           \
	".issuing_unit_id AND me.id = $1 AND (iu.path @> me.path"             \
	" OR iu.path <@ me.path))"
#define KEY(p) "(" p ".created_at::text || " p ".id::text)"

static const char list[] =
    "SELECT " IPLAN_JSON("p") ", encode(convert_to(" KEY("p") ", 'UTF8'),"
    " 'hex') FROM inspection_plans p WHERE " VISIBLE("p")
    " AND ($2::uuid IS NULL OR p.plan_id = $2)"
    " AND ($3::text IS NULL OR p.status = $3)"
    " AND ($4::text IS NULL OR fold(p.title) LIKE like_pattern($4))"
    " AND ($5::text IS NULL OR " KEY("p") " > convert_from(decode($5, 'hex'),"
    "  'UTF8')) ORDER BY " KEY("p") " LIMIT $6";
static const char get[] =
    "SELECT p.version, " IPLAN_JSON("p") " FROM inspection_plans p"
    " WHERE p.id = $2 AND " VISIBLE("p");
/* The plan must be visible; the issuing unit the caller's (or below) and
 * within the plan's issuing unit's subtree. */
static const char context[] =
    "SELECT EXISTS (SELECT 1 FROM plans p WHERE p.id = $2 AND "
    PLAN_VISIBLE("p", "$4") "),"
    " EXISTS (SELECT 1 FROM units u, plans p, units pu WHERE u.id = $3"
    "  AND u.active AND u.path <@ " SCOPE
    "  AND p.id = $2 AND pu.id = p.issuing_unit_id AND u.path <@ pu.path)";
static const char create[] =
    "WITH ins AS (INSERT INTO inspection_plans (plan_id, issuing_unit_id,"
    "  title, description, period_start, period_end, created_by)"
    "  VALUES ($1, $2, $3, coalesce($4, ''), $5, $6, $7) RETURNING *)"
    "SELECT ins.version, " IPLAN_JSON("ins") ", ins.id"
    " FROM ins JOIN units u ON u.id = ins.issuing_unit_id,"
    " audit_event($7, $8, 'create', 'inspection_plan', ins.id, u.path, NULL,"
    "  to_jsonb(ins), $9)";
/* Locks an inspection plan the caller manages (its unit or above). */
static const char lock[] =
    "SELECT p.version, p.status, to_jsonb(p), u.path, p.period_start,"
    " p.period_end FROM inspection_plans p JOIN units u ON u.id ="
    " p.issuing_unit_id WHERE p.id = $2"
    " AND u.path <@ " SCOPE " FOR UPDATE OF p";
/* Changes the fields; an issued plan records the amendment ($10). */
static const char update[] =
    "WITH upd AS (UPDATE inspection_plans SET title = coalesce($2, title),"
    "  description = coalesce($3, description),"
    "  period_start = coalesce($4::date, period_start),"
    "  period_end = coalesce($5::date, period_end),"
    "  status = coalesce($11::text, status),"
    "  issued_at = CASE WHEN $11 = 'issued' THEN now() ELSE issued_at END,"
    "  issued_by = CASE WHEN $11 = 'issued' THEN $6::uuid ELSE issued_by END,"
    "  version = version + 1, updated_at = now() WHERE id = $1 RETURNING *),"
    " amd AS (INSERT INTO inspection_plan_amendments (inspection_plan_id,"
    "  version, actor_id, reason, changes)"
    "  SELECT id, version, $6, $10::text, $12::jsonb FROM upd WHERE $10 IS NOT NULL)"
    "SELECT upd.version FROM upd,"
    " audit_event($6, $7, CASE WHEN $11 = 'issued' THEN 'issue'"
    "  WHEN $10 IS NOT NULL THEN 'amend' ELSE 'update' END,"
    "  'inspection_plan', upd.id, $8::ltree, $9::jsonb, to_jsonb(upd), $13)";
/* clang-format on */

const struct db_stmt inspection_plans_stmts[] = {
	{ "inspection_plans_list", list },
	{ "inspection_plans_get", get },
	{ "inspection_plans_context", context },
	{ "inspection_plans_create", create },
	{ "inspection_plans_lock", lock },
	{ "inspection_plans_update", update },
	{ NULL, NULL },
};

enum { F_PLAN, F_UNIT, F_TITLE, F_DESCRIPTION, F_START, F_END, F_REASON };
static const struct field fields[] = {
	[F_PLAN] = { "plan_id", F_UUID, 1, 0, 1, 0, 0, NULL },
	[F_UNIT] = { "issuing_unit_id", F_UUID, 1, 0, 1, 0, 0, NULL },
	[F_TITLE] = { "title", F_STRING, 1, 0, 0, 1, 300, NULL },
	[F_DESCRIPTION] = { "description", F_STRING, 0, 0, 0, 0, 5000, NULL },
	[F_START] = { "period_start", F_DATE, 1, 0, 0, 0, 0, NULL },
	[F_END] = { "period_end", F_DATE, 1, 0, 0, 0, 0, NULL },
	[F_REASON] = { "amendment_reason", F_STRING, 0, 0, 0, 1, 2000, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};

static const struct field filters[] = {
	{ "plan_id", F_UUID, 0, 0, 0, 0, 0, NULL },
	{ "status", F_ENUM, 0, 0, 0, 0, 0, inspection_plan_statuses },
	{ "q", F_STRING, 0, 0, 0, 1, 200, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};

int
inspection_plans_list(struct req *r)
{
	return reply_list(r, "inspection_plans_list", filters);
}

int
inspection_plans_get(struct req *r)
{
	return reply_get(r, "inspection_plans_get", "inspection plan");
}

/* 422 invalid_body naming one field that may not be sent here. */
static int
refuse_field(struct req *r, const char *field, const char *why)
{
	req_field_error(r, field, "unknown", "%s", why);
	return req_fail(r, 422, "invalid_body",
	    "the request body has invalid fields");
}

/* 422 when the period ends before it starts (dates compare as text). */
static int
check_period(struct req *r, const char *start, const char *end)
{
	if (start != NULL && end != NULL && strcmp(end, start) < 0) {
		req_field_error(r, "period_end", "range",
		    "period_end is before "
		    "period_start");
		return req_fail(r, 422, "invalid_body",
		    "the request body has invalid fields");
	}
	return 0;
}

int
inspection_plans_create(struct req *r)
{
	const struct principal *p = r->principal;
	const char *v[nitems(fields)], *params[9];
	struct dbres *res;

	if (req_body_object(r) == NULL ||
	    validate(r, r->json, fields, v, 0) == -1 ||
	    check_period(r, v[F_START], v[F_END]) == -1)
		return -1;
	if (v[F_REASON] != NULL)
		return refuse_field(r, "amendment_reason",
		    "a new inspection "
		    "plan is a draft: it has nothing to amend");
	params[0] = p->unit_id;
	params[1] = v[F_PLAN];
	params[2] = v[F_UNIT];
	params[3] = plan_drafts(r);
	if ((res = db_exec(r->arena, &r->fail, "inspection_plans_context", 4,
		 params)) == NULL)
		return -1;
	if (strcmp(db_get(res, 0, 0), "t") != 0)
		return fail_reference(r, "plan_id",
		    "plan_id names no plan you "
		    "see");
	if (strcmp(db_get(res, 0, 1), "t") != 0)
		return fail_reference(r, "issuing_unit_id",
		    "issuing_unit_id "
		    "names no active unit of yours under the plan's issuing unit");
	params[0] = v[F_PLAN];
	params[1] = v[F_UNIT];
	params[2] = v[F_TITLE];
	params[3] = v[F_DESCRIPTION];
	params[4] = v[F_START];
	params[5] = v[F_END];
	params[6] = p->id;
	params[7] = actor_kind(r);
	params[8] = r->id;
	if ((res = db_exec(r->arena, &r->fail, "inspection_plans_create", 9,
		 params)) == NULL)
		return -1;
	return reply_created(r, res, "/api/v1/inspection-plans",
	    "inspection plan");
}

struct change {
	const char *v[nitems(fields)];
	const char *version, *to;
};

static int
update_tx(struct req *r, void *arg)
{
	const struct principal *p = r->principal;
	struct change *c = arg;
	const char *lp[2] = { p->unit_id, r->param[0] }, *params[13];
	const char *reason = NULL;
	struct dbres *cur, *res;
	int issued;

	if ((cur = db_exec(r->arena, &r->fail, "inspection_plans_lock", 2,
		 lp)) == NULL ||
	    check_locked(r, cur, c->version, "inspection plan") == -1)
		return -1;
	issued = strcmp(db_get(cur, 0, 1), "issued") == 0;
	if (c->to != NULL && issued)
		return req_fail(r, 409, "invalid_transition",
		    "the inspection plan is issued already");
	if (c->to == NULL) {
		if (issued && c->v[F_REASON] == NULL) {
			req_field_error(r, "amendment_reason", "required",
			    "an "
			    "issued inspection plan changes by amendment, with "
			    "its reason");
			return req_fail(r, 422, "amendment_required",
			    "an issued inspection plan needs amendment_reason");
		}
		if (!issued && c->v[F_REASON] != NULL)
			return refuse_field(r, "amendment_reason",
			    "a draft "
			    "changes without amendments");
		if (check_period(r,
			c->v[F_START] ? c->v[F_START] : db_get(cur, 0, 4),
			c->v[F_END] ? c->v[F_END] : db_get(cur, 0, 5)) == -1)
			return -1;
		reason = c->v[F_REASON];
	}
	params[0] = r->param[0];
	params[1] = c->v[F_TITLE];
	params[2] = c->v[F_DESCRIPTION];
	params[3] = c->v[F_START];
	params[4] = c->v[F_END];
	params[5] = p->id;
	params[6] = actor_kind(r);
	params[7] = db_get(cur, 0, 3);
	params[8] = db_get(cur, 0, 2);
	params[9] = reason;
	params[10] = c->to;
	params[11] = reason ? changes_of(r) : NULL;
	params[12] = r->id;
	if (db_exec(r->arena, &r->fail, "inspection_plans_update", 13,
		params) == NULL)
		return -1;
	/* A new statement, so that it sees the amendment just recorded. */
	lp[1] = r->param[0];
	if ((res = db_exec(r->arena, &r->fail, "inspection_plans_get", 2,
		 lp)) == NULL)
		return -1;
	return reply_entity(r, res, 200, "inspection plan");
}

int
inspection_plans_update(struct req *r)
{
	struct change c = { .to = NULL };

	if ((c.version = if_match(r)) == NULL || req_body_object(r) == NULL ||
	    validate(r, r->json, fields, c.v, 1) == -1 ||
	    only_reason(r, r->json) == -1)
		return -1;
	return run_tx(r, update_tx, &c);
}

int
inspection_plans_issue(struct req *r)
{
	struct change c = { .to = "issued" };

	memset(c.v, 0, sizeof(c.v));
	if ((c.version = if_match(r)) == NULL || no_fields(r) == -1)
		return -1;
	return run_tx(r, update_tx, &c);
}
