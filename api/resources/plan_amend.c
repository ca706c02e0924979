/*
 * How a plan is found, locked and amended: an issued plan, and the children
 * that hang from it, change only by an amendment that names its reason and
 * is kept in plan_versions, which GET /plans/{id}/versions lists.
 */
#include <stdlib.h>
#include <string.h>

#include "resources/resources.h"

/* clang-format off */
/* Locks a plan the caller manages: version, status, JSON, unit path, year. */
static const char lock[] =
    "SELECT p.version, p.status, to_jsonb(p), iu.path, p.year, p.issuing_unit_id"
    " FROM plans p JOIN units iu ON iu.id = p.issuing_unit_id"
    " WHERE p.id = $2 AND ($1::uuid IS NULL OR iu.path <@"
    "  " SCOPE ") FOR UPDATE OF p";
/* Records an amendment of an issued plan; bump says whether the change
 * itself did not already raise the plan's version. */
static const char amend[] =
    "WITH p AS (UPDATE plans SET version = version + $8::int,"
    "  updated_at = now() WHERE id = $1 RETURNING version)"
    "INSERT INTO plan_versions (plan_id, version, actor_id, reason,"
    " entity_type, entity_id, changes, before)"
    " SELECT $1, p.version, $2, $3, $4, $5, $6::jsonb, $7::jsonb FROM p";
static const char versions[] =
    "SELECT json_build_object('version', v.version, 'at', v.at,"
    " 'actor_id', v.actor_id, 'reason', v.reason, 'entity_type', v.entity_type,"
    " 'entity_id', v.entity_id, 'changes', v.changes, 'before', v.before),"
    " encode(convert_to(lpad(v.version::text, 10, '0'), 'UTF8'), 'hex')"
    " FROM plans p JOIN plan_versions v ON v.plan_id = p.id"
    " WHERE p.id = $2 AND " PLAN_VISIBLE("p", "$5")
    " AND ($3::text IS NULL OR lpad(v.version::text, 10, '0') >"
    "  convert_from(decode($3, 'hex'), 'UTF8'))"
    " ORDER BY v.version LIMIT $4";
static const char exists[] =
    "SELECT 1 FROM plans p WHERE p.id = $2 AND " PLAN_VISIBLE("p", "$3");
/* clang-format on */

const struct db_stmt plan_amend_stmts[] = {
	{ "plans_lock", lock },
	{ "plans_amend", amend },
	{ "plans_versions", versions },
	{ "plans_exists", exists },
	{ NULL, NULL },
};

/* The caller's unit, or NULL for the system (seed data). */
static const char *
scope(struct req *r)
{
	const struct principal *p = r->principal;

	return p ? p->unit_id : NULL;
}

static const char *
actor(struct req *r)
{
	const struct principal *p = r->principal;

	return p ? p->id : NULL;
}

int
plan_find(struct req *r, const char *plan_id)
{
	const char *params[3] = { scope(r), plan_id, plan_drafts(r) };
	struct dbres *res;

	if ((res = db_exec(r->arena, &r->fail, "plans_exists", 3, params)) ==
	    NULL)
		return -1;
	if (db_rows(res) == 0)
		return req_fail(r, 404, "not_found", "no such plan");
	return 0;
}

int
plan_lock(struct req *r, const char *plan_id, const char *version,
    struct plan_state *st)
{
	const char *params[2] = { scope(r), plan_id };
	struct dbres *res;

	if ((res = db_exec(r->arena, &r->fail, "plans_lock", 2, params)) == NULL)
		return -1;
	if (db_rows(res) == 0)
		return req_fail(r, 404, "not_found", "no such plan you manage");
	st->version = db_get(res, 0, 0);
	st->status = db_get(res, 0, 1);
	st->json = db_get(res, 0, 2);
	st->unit_path = db_get(res, 0, 3);
	st->year = db_get(res, 0, 4);
	st->issuing_unit_id = db_get(res, 0, 5);
	st->id = plan_id;
	if (version != NULL && strcmp(version, st->version) != 0)
		return req_fail(r, 412, "precondition_failed",
		    "the plan changed since version %s: reload it", version);
	if (strcmp(st->status, "closed") == 0)
		return req_fail(r, 409, "plan_closed",
		    "the plan is closed and cannot change");
	return 0;
}

int
plan_child_lock(struct req *r, const char *stmt, const char *id,
    const char *version, const char *what, struct plan_state *st,
    struct plan_child *child)
{
	const char *params[1] = { id };
	struct dbres *res;

	/* The child first, then its plan: a change of a child never locks
	 * them the other way round, so two changes cannot deadlock. */
	if ((res = db_exec(r->arena, &r->fail, stmt, 1, params)) == NULL)
		return -1;
	if (db_rows(res) == 0 ||
	    plan_lock(r, db_get(res, 0, 0), NULL, st) == -1) {
		if (db_rows(res) == 0 || r->fail.status == 404) {
			req_clear_failure(r);
			return req_fail(r, 404, "not_found",
			    "no such %s you "
			    "manage",
			    what);
		}
		return -1;
	}
	child->id = id;
	child->version = db_get(res, 0, 1);
	child->json = db_get(res, 0, 2);
	child->row = res;
	/* Read under the row's lock: a concurrent change has committed or
	 * waits for this one. */
	if (version != NULL && strcmp(child->version, version) != 0)
		return req_fail(r, 412, "precondition_failed",
		    "the %s changed since version %s: reload it", what,
		    version);
	return 0;
}

int
plan_amend(struct req *r, const struct plan_state *st, const char *reason,
    const char *entity_type, const char *entity_id, const char *changes,
    const char *before, int bump)
{
	const char *params[8] = { st->id, actor(r), reason, entity_type,
		entity_id, changes, before, bump ? "1" : "0" };

	if (strcmp(st->status, "issued") != 0)
		return 0;
	if (reason == NULL) {
		req_field_error(r, "amendment_reason", "required",
		    "the plan is "
		    "issued: say why it changes in amendment_reason");
		return req_fail(r, 422, "amendment_required",
		    "an issued plan changes only by amendment");
	}
	return db_exec(r->arena, &r->fail, "plans_amend", 8, params) == NULL ?
	    -1 :
	    0;
}

/* The request body without amendment_reason, as the record of a change. */
const char *
changes_of(struct req *r)
{
	json_t *c = req_own(r, json_deep_copy(r->json));
	char *s, *copy;

	json_object_del(c, "amendment_reason");
	s = json_dumps(c, JSON_COMPACT);
	copy = arena_strdup(r->arena, s);
	free(s);
	return copy;
}

int
plans_versions(struct req *r)
{
	return reply_plan_sublist(r, "plans_exists", "plans_versions", "plan");
}
