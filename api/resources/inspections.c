/*
 * Inspections: the visits of an inspection plan. planned -> in_progress ->
 * completed | cancelled (with a reason). A visit has a target unit, an
 * inspecting unit, a team of users (one lead; members may come from other
 * units of the plan's reach, never from the inspected unit) and a scope of
 * tasks of the plan. Seen by the inspecting and the inspected side and by
 * the team; worked on by the team and the unit that manages the inspection
 * plan, never by the inspected unit. Team and scope: inspection_teams.c;
 * the follow-up view: inspections_follow_up.c.
 */
#include <string.h>

#include "resources/resources.h"

/* clang-format off */
#define KEY(i) "(" i ".scheduled_on::text || " i ".id::text)"

static const char list[] =
    "SELECT " INSPECTION_JSON("i") ", encode(convert_to(" KEY("i") ","
    " 'UTF8'), 'hex') FROM inspections i"
    " WHERE inspection_visible(i.id, $1, $2)"
    " AND ($3::uuid IS NULL OR i.inspection_plan_id = $3)"
    " AND ($4::uuid IS NULL OR i.target_unit_id = $4)"
    " AND ($5::text IS NULL OR i.status = $5)"
    " AND ($6::date IS NULL OR i.scheduled_on >= $6)"
    " AND ($7::date IS NULL OR i.scheduled_on <= $7)"
    " AND ($8::text IS NULL OR fold(i.title) LIKE like_pattern($8))"
    " AND ($9::text IS NULL OR " KEY("i") " > convert_from(decode($9, 'hex'),"
    "  'UTF8')) ORDER BY " KEY("i") " LIMIT $10";
static const char get[] =
    "SELECT i.version, " INSPECTION_JSON("i") " FROM inspections i"
    " WHERE i.id = $2 AND inspection_visible(i.id, $1, $3)";
/* A new visit: an inspection plan the caller manages, and the target and
 * inspecting units (active, in the reach of its plan). */
static const char context[] =
    "SELECT ip.id IS NOT NULL, pu.path, ip.period_start, ip.period_end,"
    " coalesce($4::uuid, ip.issuing_unit_id),"
    " EXISTS (SELECT 1 FROM units t WHERE t.id = $3 AND t.active"
    "  AND t.path <@ pu.path),"
    " EXISTS (SELECT 1 FROM units t WHERE t.id = coalesce($4::uuid,"
    "  ip.issuing_unit_id) AND t.active AND t.path <@ pu.path),"
    " (SELECT path FROM units WHERE id = $3), ip.plan_id"
    " FROM (SELECT 1) one LEFT JOIN (inspection_plans ip"
    "  JOIN units iu ON iu.id = ip.issuing_unit_id"
    "  JOIN plans p ON p.id = ip.plan_id"
    "  JOIN units pu ON pu.id = p.issuing_unit_id) ON ip.id = $2"
    "  AND iu.path <@ " SCOPE;
static const char create[] =
    "WITH ins AS (INSERT INTO inspections (inspection_plan_id, kind, title,"
    "  target_unit_id, inspecting_unit_id, scheduled_on, created_by)"
    "  VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING *)"
    "SELECT ins.id FROM ins JOIN units u ON u.id = ins.inspecting_unit_id,"
    " audit_event($7, $8, 'create', 'inspection', ins.id, u.path, NULL,"
    "  to_jsonb(ins), $9)";
static const char lock[] =
    "SELECT i.version, i.status, to_jsonb(i), iu.path, ip.plan_id,"
    " i.target_unit_id, pu.path,"
    " EXISTS (SELECT 1 FROM inspection_members m WHERE m.inspection_id = i.id"
    "  AND m.user_id = $3),"
    " mu.path <@ me.path AND NOT me.path <@ tu.path,"
    " tu.path, ip.period_start, ip.period_end, i.conclusion = ''"
    " FROM inspections i JOIN inspection_plans ip ON ip.id ="
    "  i.inspection_plan_id JOIN units iu ON iu.id = i.inspecting_unit_id"
    " JOIN units mu ON mu.id = ip.issuing_unit_id"
    " JOIN units tu ON tu.id = i.target_unit_id"
    " JOIN plans p ON p.id = ip.plan_id JOIN units pu ON pu.id ="
    " p.issuing_unit_id, units me"
    " WHERE i.id = $2 AND me.id = $1 AND inspection_visible(i.id, $1, $3)"
    " FOR UPDATE OF i";
/* Changes fields and, with $8, the status (a step). */
static const char update[] =
    "WITH upd AS (UPDATE inspections SET title = coalesce($2, title),"
    "  kind = coalesce($3, kind),"
    "  scheduled_on = coalesce($4::date, scheduled_on),"
    "  minutes = coalesce($5, minutes), conclusion = coalesce($6, conclusion),"
    "  conducted_on = coalesce($7::date, conducted_on, CASE WHEN $8 ="
    "   'in_progress' THEN today_vn() END),"
    "  status = coalesce($8, status), cancel_reason = coalesce($9, cancel_reason),"
    "  started_at = CASE WHEN $8 = 'in_progress' THEN now() ELSE started_at END,"
    "  completed_at = CASE WHEN $8 = 'completed' THEN now() ELSE completed_at END,"
    "  cancelled_at = CASE WHEN $8 = 'cancelled' THEN now() ELSE cancelled_at END,"
    "  version = version + 1, updated_at = now() WHERE id = $1 RETURNING *)"
    "SELECT upd.version FROM upd, audit_event($10, $11, $12, 'inspection',"
    " upd.id, $13::ltree, $14::jsonb, to_jsonb(upd), $15)";
/* clang-format on */

const struct db_stmt inspections_stmts[] = {
	{ "inspections_list", list },
	{ "inspections_get", get },
	{ "inspections_context", context },
	{ "inspections_create", create },
	{ "inspections_lock", lock },
	{ "inspections_update", update },
	{ NULL, NULL },
};

enum {
	F_IPLAN,
	F_KIND,
	F_TITLE,
	F_TARGET,
	F_INSPECTING,
	F_SCHEDULED,
	F_TEAM,
	F_TASKS,
	F_MINUTES,
	F_CONCLUSION,
	F_CONDUCTED
};
static const struct field fields[] = {
	[F_IPLAN] = { "inspection_plan_id", F_UUID, 1, 0, 1, 0, 0, NULL },
	[F_KIND] = { "kind", F_ENUM, 1, 0, 0, 0, 0, inspection_kinds },
	[F_TITLE] = { "title", F_STRING, 1, 0, 0, 1, 300, NULL },
	[F_TARGET] = { "target_unit_id", F_UUID, 1, 0, 1, 0, 0, NULL },
	[F_INSPECTING] = { "inspecting_unit_id", F_UUID, 0, 0, 1, 0, 0, NULL },
	[F_SCHEDULED] = { "scheduled_on", F_DATE, 1, 0, 0, 0, 0, NULL },
	[F_TEAM] = { "team", F_ARRAY, 1, 0, 0, 0, 20, NULL },
	[F_TASKS] = { "task_ids", F_ARRAY, 0, 0, 0, 0, 50, NULL },
	[F_MINUTES] = { "minutes", F_STRING, 0, 0, 0, 0, 20000, NULL },
	[F_CONCLUSION] = { "conclusion", F_STRING, 0, 0, 0, 0, 5000, NULL },
	[F_CONDUCTED] = { "conducted_on", F_DATE, 0, 0, 0, 0, 0, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};

static const struct field filters[] = {
	{ "inspection_plan_id", F_UUID, 0, 0, 0, 0, 0, NULL },
	{ "target_unit_id", F_UUID, 0, 0, 0, 0, 0, NULL },
	{ "status", F_ENUM, 0, 0, 0, 0, 0, inspection_statuses },
	{ "from", F_DATE, 0, 0, 0, 0, 0, NULL },
	{ "to", F_DATE, 0, 0, 0, 0, 0, NULL },
	{ "q", F_STRING, 0, 0, 0, 1, 200, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};

int
inspections_list(struct req *r)
{
	return reply_list_as_user(r, "inspections_list", filters);
}

/* Replies the inspection id as the caller sees it. */
static int
reply_inspection(struct req *r, const char *id, int status)
{
	const char *params[3] = { r->principal->unit_id, id, r->principal->id };
	struct dbres *res;

	if ((res = db_exec(r->arena, &r->fail, "inspections_get", 3, params)) ==
	    NULL)
		return -1;
	return reply_entity(r, res, status, "inspection");
}

int
inspections_get(struct req *r)
{
	return reply_inspection(r, r->param[0], 200);
}

/* 422 when day lies outside the inspection plan's period. */
static int
check_day(struct req *r, const char *day, const char *start, const char *end)
{
	if (day != NULL && (strcmp(day, start) < 0 || strcmp(day, end) > 0)) {
		req_field_error(r, "scheduled_on", "range",
		    "scheduled_on lies "
		    "outside the inspection plan's period %s to %s",
		    start, end);
		return req_fail(r, 422, "invalid_body",
		    "the request body has invalid fields");
	}
	return 0;
}

struct change {
	const char *v[nitems(fields)];
	const char *version, *to, *reason, *action;
};

static int
create_tx(struct req *r, void *arg)
{
	const struct principal *p = r->principal;
	struct change *c = arg;
	const char *params[9];
	struct dbres *ctx, *res;

	params[0] = p->unit_id;
	params[1] = c->v[F_IPLAN];
	params[2] = c->v[F_TARGET];
	params[3] = c->v[F_INSPECTING];
	if ((ctx = db_exec(r->arena, &r->fail, "inspections_context", 4,
		 params)) == NULL)
		return -1;
	if (strcmp(db_get(ctx, 0, 0), "t") != 0)
		return fail_reference(r, "inspection_plan_id",
		    "inspection_plan_id "
		    "names no inspection plan you manage");
	if (strcmp(db_get(ctx, 0, 5), "t") != 0)
		return fail_reference(r, "target_unit_id",
		    "target_unit_id names "
		    "no active unit of the plan");
	if (strcmp(db_get(ctx, 0, 6), "t") != 0 ||
	    strcmp(db_get(ctx, 0, 4), c->v[F_TARGET]) == 0)
		return fail_reference(r, "inspecting_unit_id",
		    "the inspecting "
		    "unit must be an active unit of the plan other than the "
		    "target");
	if (check_day(r, c->v[F_SCHEDULED], db_get(ctx, 0, 2),
		db_get(ctx, 0, 3)) == -1)
		return -1;
	params[0] = c->v[F_IPLAN];
	params[1] = c->v[F_KIND];
	params[2] = c->v[F_TITLE];
	params[3] = c->v[F_TARGET];
	params[4] = db_get(ctx, 0, 4);
	params[5] = c->v[F_SCHEDULED];
	params[6] = p->id;
	params[7] = actor_kind(r);
	params[8] = r->id;
	if ((res = db_exec(r->arena, &r->fail, "inspections_create", 9,
		 params)) == NULL ||
	    inspection_team_store(r, db_get(res, 0, 0), db_get(ctx, 0, 1),
		db_get(ctx, 0, 7), db_get(ctx, 0, 8), c->v[F_TEAM],
		c->v[F_TASKS]) == -1)
		return -1;
	req_header_add(r, "Location",
	    arena_printf(r->arena, "/api/v1/inspections/%s", db_get(res, 0, 0)));
	return reply_inspection(r, db_get(res, 0, 0), 201);
}

int
inspections_create(struct req *r)
{
	struct change c;
	int bad;

	if (req_body_object(r) == NULL)
		return -1;
	bad = validate_at(r, r->json, fields, c.v, 0, "");
	for (int i = F_MINUTES; i <= F_CONDUCTED; i++)
		if (c.v[i] != NULL) {
			req_field_error(r, fields[i].name, "unknown",
			    "a planned "
			    "visit has no %s yet",
			    fields[i].name);
			bad++;
		}
	bad += inspection_team_check(r, json_object_get(r->json, "team"),
	    json_object_get(r->json, "task_ids"));
	if (bad > 0)
		return req_fail(r, 422, "invalid_body",
		    "the request body has invalid fields");
	return run_tx(r, create_tx, &c);
}

int
inspection_lock(struct req *r, const char *id, const char *version,
    struct inspection_state *s)
{
	const char *params[3] = { r->principal->unit_id, id, r->principal->id };
	struct dbres *cur;

	if ((cur = db_exec(r->arena, &r->fail, "inspections_lock", 3,
		 params)) == NULL)
		return -1;
	if (db_rows(cur) == 0)
		return req_fail(r, 404, "not_found", "no such inspection");
	s->on_team = strcmp(db_get(cur, 0, 7), "t") == 0;
	if (!s->on_team && strcmp(db_get(cur, 0, 8), "t") != 0)
		return req_fail(r, 409, "not_on_team",
		    "only the team and the "
		    "unit that manages the inspection plan work on a visit; the "
		    "inspected unit answers its recommendations");
	if (version != NULL && check_locked(r, cur, version, "inspection") == -1)
		return -1;
	s->version = db_get(cur, 0, 0);
	s->status = db_get(cur, 0, 1);
	s->json = db_get(cur, 0, 2);
	s->unit_path = db_get(cur, 0, 3);
	s->plan_id = db_get(cur, 0, 4);
	s->target_unit_id = db_get(cur, 0, 5);
	s->reach_path = db_get(cur, 0, 6);
	s->target_path = db_get(cur, 0, 9);
	s->period_start = db_get(cur, 0, 10);
	s->period_end = db_get(cur, 0, 11);
	s->no_conclusion = strcmp(db_get(cur, 0, 12), "t") == 0;
	return 0;
}

/* What each step needs: from which states, to which. */
static const struct {
	const char *to, *action, *from1, *from2;
} steps[] = {
	{ "in_progress", "start", "planned", NULL },
	{ "completed", "complete", "in_progress", NULL },
	{ "cancelled", "cancel", "planned", "in_progress" },
};

static int
change_tx(struct req *r, void *arg)
{
	const struct principal *p = r->principal;
	struct change *c = arg;
	struct inspection_state s;
	const char *params[15];
	size_t i;

	if (inspection_lock(r, r->param[0], c->version, &s) == -1)
		return -1;
	if (c->to == NULL && strcmp(s.status, "planned") != 0 &&
	    strcmp(s.status, "in_progress") != 0)
		return req_fail(r, 409, "inspection_closed",
		    "a %s inspection "
		    "cannot be changed",
		    s.status);
	for (i = 0; c->to != NULL && strcmp(steps[i].to, c->to) != 0; i++)
		;
	if (c->to != NULL && strcmp(s.status, steps[i].from1) != 0 &&
	    (steps[i].from2 == NULL || strcmp(s.status, steps[i].from2) != 0))
		return req_fail(r, 409, "invalid_transition",
		    "a %s inspection "
		    "cannot be %s",
		    s.status, c->to);
	if (c->to != NULL && strcmp(c->to, "completed") == 0 &&
	    c->v[F_CONCLUSION] == NULL && s.no_conclusion) {
		req_field_error(r, "conclusion", "required",
		    "a visit completes "
		    "with its conclusion");
		return req_fail(r, 422, "invalid_body",
		    "the inspection has no "
		    "conclusion");
	}
	if (check_day(r, c->v[F_SCHEDULED], s.period_start, s.period_end) ==
		-1 ||
	    ((c->v[F_TEAM] != NULL || c->v[F_TASKS] != NULL) &&
		inspection_team_store(r, r->param[0], s.reach_path,
		    s.target_path, s.plan_id, c->v[F_TEAM],
		    c->v[F_TASKS]) == -1))
		return -1;
	params[0] = r->param[0];
	params[1] = c->v[F_TITLE];
	params[2] = c->v[F_KIND];
	params[3] = c->v[F_SCHEDULED];
	params[4] = c->v[F_MINUTES];
	params[5] = c->v[F_CONCLUSION];
	params[6] = c->v[F_CONDUCTED];
	params[7] = c->to;
	params[8] = c->reason;
	params[9] = p->id;
	params[10] = actor_kind(r);
	params[11] = c->to ? steps[i].action : "update";
	params[12] = s.unit_path;
	params[13] = s.json;
	params[14] = r->id;
	if (db_exec(r->arena, &r->fail, "inspections_update", 15, params) ==
	    NULL)
		return -1;
	return reply_inspection(r, r->param[0], 200);
}

int
inspections_update(struct req *r)
{
	struct change c = { .to = NULL };
	int bad;

	if ((c.version = if_match(r)) == NULL || req_body_object(r) == NULL)
		return -1;
	bad = validate_at(r, r->json, fields, c.v, 1, "");
	bad += inspection_team_check(r, json_object_get(r->json, "team"),
	    json_object_get(r->json, "task_ids"));
	if (bad > 0)
		return req_fail(r, 422, "invalid_body",
		    "the request body has invalid fields");
	return run_tx(r, change_tx, &c);
}

/* A step's body: only the fields it names. */
static int
step(struct req *r, const char *to, const struct field *body)
{
	struct change c = { .to = to };
	const char *v[4] = { NULL, NULL, NULL, NULL };

	memset(c.v, 0, sizeof(c.v));
	if ((c.version = if_match(r)) == NULL)
		return -1;
	if (body == NULL)
		return no_fields(r) == -1 ? -1 : run_tx(r, change_tx, &c);
	if ((r->json != NULL || body[0].required) &&
	    (req_body_object(r) == NULL ||
		validate(r, r->json, body, v, 0) == -1))
		return -1;
	if (strcmp(to, "cancelled") == 0)
		c.reason = v[0];
	else {
		c.v[F_CONCLUSION] = v[0];
		c.v[F_MINUTES] = v[1];
		c.v[F_CONDUCTED] = v[2];
	}
	return run_tx(r, change_tx, &c);
}

int
inspections_start(struct req *r)
{
	return step(r, "in_progress", NULL);
}

int
inspections_complete(struct req *r)
{
	static const struct field body[] = {
		{ "conclusion", F_STRING, 0, 0, 0, 1, 5000, NULL },
		{ "minutes", F_STRING, 0, 0, 0, 0, 20000, NULL },
		{ "conducted_on", F_DATE, 0, 0, 0, 0, 0, NULL },
		{ NULL, 0, 0, 0, 0, 0, 0, NULL },
	};

	return step(r, "completed", body);
}

int
inspections_cancel(struct req *r)
{
	static const struct field body[] = {
		{ "reason", F_STRING, 1, 0, 0, 1, 2000, NULL },
		{ NULL, 0, 0, 0, 0, 0, 0, NULL },
	};

	return step(r, "cancelled", body);
}
