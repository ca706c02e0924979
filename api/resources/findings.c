/*
 * Findings of an inspection: what the team saw, how serious it is, and the
 * task it concerns, with the recommendations made for it. Recorded and
 * edited by the team while the visit is in progress; the inspected unit
 * reads them and cannot change them.
 */
#include <string.h>

#include "resources/resources.h"

/* clang-format off */
#define FINDING_JSON(f)                                                      \
	"json_build_object('id', " f ".id, 'inspection_id', " f ".inspection_id," \
	" 'task_id', " f ".task_id, 'text', " f ".text,"                     \
	" 'severity', " f ".severity, 'recommendation_ids',"                 \
	" coalesce((SELECT json_agg(x.id ORDER BY x.created_at, x.id)"       \
	"  FROM recommendations x WHERE x.finding_id = " f ".id), '[]'),"     \
	" 'created_by', " f ".created_by, 'version', " f ".version,"         \
	" 'created_at', " f ".created_at, 'updated_at', " f ".updated_at)"
#define KEY(f) "(" f ".created_at::text || " f ".id::text)"

static const char visible[] =
    "SELECT 1 WHERE inspection_visible($2, $1, $3)";
static const char list[] =
    "SELECT " FINDING_JSON("f") ", encode(convert_to(" KEY("f") ", 'UTF8'),"
    " 'hex') FROM findings f WHERE f.inspection_id = $1"
    " AND ($2::text IS NULL OR " KEY("f") " > convert_from(decode($2, 'hex'),"
    "  'UTF8')) ORDER BY " KEY("f") " LIMIT $3";
static const char get[] =
    "SELECT f.version, " FINDING_JSON("f") " FROM findings f WHERE f.id = $1";
static const char get_visible[] =
    "SELECT f.version, " FINDING_JSON("f") " FROM findings f WHERE f.id = $2"
    " AND inspection_visible(f.inspection_id, $1, $3)";
static const char task_ok[] =
    "SELECT 1 FROM tasks WHERE id = $1 AND plan_id = $2";
static const char insert[] =
    "WITH ins AS (INSERT INTO findings (inspection_id, task_id, text,"
    "  severity, created_by) VALUES ($1, $2, $3, $4, $5) RETURNING *)"
    "SELECT ins.id FROM ins, audit_event($5, $6, 'create', 'finding', ins.id,"
    " $7::ltree, NULL, to_jsonb(ins), $8)";
/* The finding's inspection, when the caller sees it. */
static const char owner[] =
    "SELECT f.inspection_id FROM findings f WHERE f.id = $2"
    " AND inspection_visible(f.inspection_id, $1, $3)";
static const char lock[] =
    "SELECT f.version, to_jsonb(f) FROM findings f WHERE f.id = $1"
    " FOR UPDATE";
static const char update[] =
    "WITH upd AS (UPDATE findings SET text = coalesce($2, text),"
    "  severity = coalesce($3, severity),"
    "  task_id = coalesce($4::uuid, task_id),"
    "  version = version + 1, updated_at = now() WHERE id = $1 RETURNING *)"
    "SELECT 1 FROM upd, audit_event($5, $6, 'update', 'finding', upd.id,"
    " $7::ltree, $8::jsonb, to_jsonb(upd), $9)";
/* clang-format on */

const struct db_stmt findings_stmts[] = {
	{ "findings_visible", visible },
	{ "findings_list", list },
	{ "findings_get", get },
	{ "findings_get_visible", get_visible },
	{ "findings_task_ok", task_ok },
	{ "findings_insert", insert },
	{ "findings_owner", owner },
	{ "findings_lock", lock },
	{ "findings_update", update },
	{ NULL, NULL },
};

enum { F_TEXT, F_SEVERITY, F_TASK, F_RECOMMENDATIONS };
static const struct field fields[] = {
	[F_TEXT] = { "text", F_STRING, 1, 0, 0, 1, 5000, NULL },
	[F_SEVERITY] = { "severity", F_ENUM, 1, 0, 0, 0, 0, finding_severities },
	[F_TASK] = { "task_id", F_UUID, 0, 1, 0, 0, 0, NULL },
	[F_RECOMMENDATIONS] = { "recommendations", F_ARRAY, 0, 0, 1, 0, 10,
	    NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};

int
findings_list(struct req *r)
{
	const char *params[3] = { r->principal->unit_id, r->param[0],
		r->principal->id };
	struct page pg;
	struct dbres *res;

	if (page_params(r, &pg) == -1 ||
	    (res = db_exec(r->arena, &r->fail, "findings_visible", 3,
		 params)) == NULL)
		return -1;
	if (db_rows(res) == 0)
		return req_fail(r, 404, "not_found", "no such inspection");
	params[0] = r->param[0];
	params[1] = pg.cursor;
	params[2] = pg.fetch;
	if ((res = page_exec(r, "findings_list", 3, params, &pg)) == NULL)
		return -1;
	return reply_page(r, res, &pg);
}

int
findings_get(struct req *r)
{
	return reply_get_as_user(r, "findings_get_visible", "finding");
}

static int
reply_finding(struct req *r, const char *id, int status)
{
	struct dbres *res;

	if ((res = db_exec(r->arena, &r->fail, "findings_get", 1, &id)) == NULL)
		return -1;
	return reply_entity(r, res, status, "finding");
}

/* 422 unless task_id (may be NULL) is a task of the plan. */
static int
check_task(struct req *r, const char *task_id, const char *plan_id)
{
	const char *params[2] = { task_id, plan_id };
	struct dbres *res;

	if (task_id == NULL)
		return 0;
	if ((res = db_exec(r->arena, &r->fail, "findings_task_ok", 2,
		 params)) == NULL)
		return -1;
	if (db_rows(res) == 0)
		return fail_reference(r, "task_id",
		    "task_id names no task of "
		    "the inspection's plan");
	return 0;
}

static int
create_tx(struct req *r, void *arg)
{
	const struct principal *p = r->principal;
	const char **v = arg, *params[8], *id;
	struct inspection_state s;
	struct dbres *res;
	json_t *e, *recs = json_object_get(r->json, "recommendations");
	size_t i;

	if (inspection_lock(r, r->param[0], NULL, &s) == -1 ||
	    inspection_team_only(r, &s, 0) == -1 ||
	    check_task(r, v[F_TASK], s.plan_id) == -1)
		return -1;
	params[0] = r->param[0];
	params[1] = v[F_TASK];
	params[2] = v[F_TEXT];
	params[3] = v[F_SEVERITY];
	params[4] = p->id;
	params[5] = actor_kind(r);
	params[6] = s.unit_path;
	params[7] = r->id;
	if ((res = db_exec(r->arena, &r->fail, "findings_insert", 8, params)) ==
	    NULL)
		return -1;
	id = db_get(res, 0, 0);
	json_array_foreach(recs, i, e) {
		if (!json_is_object(e)) {
			req_field_error(r,
			    arena_printf(r->arena, "recommendations[%zu]", i),
			    "type",
			    "each "
			    "recommendation is an object");
			return req_fail(r, 422, "invalid_body",
			    "the request body has invalid fields");
		}
		if (recommendation_insert(r, &s, r->param[0], id, e,
			arena_printf(r->arena, "recommendations[%zu].", i)) ==
		    NULL)
			return -1;
	}
	req_header_add(r, "Location",
	    arena_printf(r->arena, "/api/v1/findings/%s", id));
	return reply_finding(r, id, 201);
}

int
findings_create(struct req *r)
{
	const char *v[nitems(fields)];

	if (req_body_object(r) == NULL ||
	    validate(r, r->json, fields, v, 0) == -1)
		return -1;
	return run_tx(r, create_tx, v);
}

struct change {
	const char *v[nitems(fields)];
	const char *version;
};

static int
update_tx(struct req *r, void *arg)
{
	const struct principal *p = r->principal;
	struct change *c = arg;
	const char *params[9] = { r->principal->unit_id, r->param[0], p->id };
	struct inspection_state s;
	struct dbres *res, *cur;

	if ((res = db_exec(r->arena, &r->fail, "findings_owner", 3, params)) ==
	    NULL)
		return -1;
	if (db_rows(res) == 0)
		return req_fail(r, 404, "not_found", "no such finding");
	if (inspection_lock(r, db_get(res, 0, 0), NULL, &s) == -1 ||
	    inspection_team_only(r, &s, 0) == -1 ||
	    check_task(r, c->v[F_TASK], s.plan_id) == -1 ||
	    (cur = db_exec(r->arena, &r->fail, "findings_lock", 1,
		 params + 1)) == NULL ||
	    check_locked(r, cur, c->version, "finding") == -1)
		return -1;
	params[0] = r->param[0];
	params[1] = c->v[F_TEXT];
	params[2] = c->v[F_SEVERITY];
	params[3] = c->v[F_TASK];
	params[4] = p->id;
	params[5] = actor_kind(r);
	params[6] = s.unit_path;
	params[7] = db_get(cur, 0, 1);
	params[8] = r->id;
	if (db_exec(r->arena, &r->fail, "findings_update", 9, params) == NULL)
		return -1;
	return reply_finding(r, r->param[0], 200);
}

int
findings_update(struct req *r)
{
	struct change c;

	if ((c.version = if_match(r)) == NULL || req_body_object(r) == NULL ||
	    validate(r, r->json, fields, c.v, 1) == -1)
		return -1;
	return run_tx(r, update_tx, &c);
}
