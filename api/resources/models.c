/*
 * "Dân vận khéo" models: registered by a unit (directly, or when its
 * model_registration submission is accepted), carried out, recognised by
 * the level above, and replicated by other units, each copy linked to the
 * model it follows. Seen by the units of the same parent and everything
 * below and above, so that neighbours can replicate them.
 */
#include <string.h>

#include "resources/resources.h"

/* clang-format off */
#define MODEL_JSON(m)                                                        \
	"json_build_object('id', " m ".id, 'unit_id', " m ".unit_id,"        \
	" 'name', " m ".name, 'field', " m ".field,"                         \
	" 'description', " m ".description,"                                 \
	" 'expected_results', " m ".expected_results, 'results', " m ".results," \
	" 'status', " m ".status, 'submission_id', " m ".submission_id,"     \
	" 'replicated_from', " m ".replicated_from,"                         \
	" 'recognised_by', " m ".recognised_by,"                             \
	" 'recognised_at', " m ".recognised_at, 'version', " m ".version,"   \
	" 'created_at', " m ".created_at, 'updated_at', " m ".updated_at)"
/* In the caller's subtree, or a neighbour's: under the same parent. */
#define VISIBLE(m)                                                           \
	"EXISTS (SELECT 1 FROM units mu, units me WHERE mu.id = " m ".unit_id" \
	" AND me.id = $1 AND (mu.path <@ me.path OR me.path <@ mu.path"      \
	" OR me.path <@ subpath(mu.path, 0, greatest(nlevel(mu.path) - 1, 1))))"

static const char list[] =
    "SELECT " MODEL_JSON("m") ", encode(convert_to(m.created_at::text ||"
    " m.id::text, 'UTF8'), 'hex') FROM models m WHERE " VISIBLE("m")
    " AND ($2::uuid IS NULL OR m.unit_id = $2)"
    " AND ($3::text IS NULL OR m.field = $3)"
    " AND ($4::text IS NULL OR m.status = $4)"
    " AND ($5::text IS NULL OR fold(m.name) LIKE like_pattern($5))"
    " AND ($6::text IS NULL OR m.created_at::text || m.id::text >"
    "  convert_from(decode($6, 'hex'), 'UTF8'))"
    " ORDER BY m.created_at::text || m.id::text LIMIT $7";
static const char get[] =
    "SELECT m.version, " MODEL_JSON("m") " FROM models m"
    " WHERE m.id = $2 AND " VISIBLE("m");
/* Counts per unit and field of the models in the caller's subtree. */
static const char counts[] =
    "SELECT json_build_object('unit_id', m.unit_id, 'unit_name', u.name,"
    " 'field', m.field, 'registered', count(*),"
    " 'recognised', count(*) FILTER (WHERE m.status IN ('recognised',"
    "  'replicated')),"
    " 'replicated', count(*) FILTER (WHERE m.replicated_from IS NOT NULL))"
    " FROM models m JOIN units u ON u.id = m.unit_id"
    " WHERE u.path <@ " SCOPE
    " GROUP BY m.unit_id, u.name, m.field ORDER BY u.name, m.field";
static const char create[] =
    "WITH ins AS (INSERT INTO models (unit_id, name, field, description,"
    "  expected_results, replicated_from)"
    "  SELECT u.id, $3, $4, coalesce($5, ''), coalesce($6, ''), $7::uuid"
    "  FROM units u WHERE u.id = $2 AND u.active"
    "  AND u.path <@ " SCOPE " RETURNING *),"
    /* The followed model's event is written as the UPDATE returns it: a
     * data-modifying WITH always runs to completion. */
    " orig AS (UPDATE models o SET status = 'replicated',"
    "  version = o.version + 1, updated_at = now() FROM ins, units u"
    "  WHERE o.id = ins.replicated_from AND o.status = 'recognised'"
    "  AND u.id = o.unit_id"
    "  RETURNING audit_event($8::uuid, $9, 'replicated', 'model', o.id,"
    "  u.path, NULL, to_jsonb(o), $10))"
    "SELECT ins.version, " MODEL_JSON("ins") " FROM ins"
    " JOIN units u ON u.id = ins.unit_id, audit_event($8::uuid, $9, 'create',"
    " 'model', ins.id, u.path, NULL, to_jsonb(ins), $10)";
/* The model to follow must be visible and recognised. */
static const char source[] =
    "SELECT m.status FROM models m WHERE m.id = $2 AND " VISIBLE("m");
/* Locks a model: its own unit's side ($3 = 's') or the level above ($3 =
 * 'a', strictly above the model's unit). */
static const char lock[] =
    "SELECT m.version, m.status, to_jsonb(m), mu.path FROM models m"
    " JOIN units mu ON mu.id = m.unit_id, units me"
    " WHERE m.id = $2 AND me.id = $1 AND mu.path <@ me.path"
    " AND ($3 = 's' OR mu.path <> me.path) FOR UPDATE OF m";
static const char update[] =
    "WITH upd AS (UPDATE models SET status = coalesce($2, status),"
    "  results = coalesce($3, results), description = coalesce($4, description),"
    "  expected_results = coalesce($5, expected_results),"
    "  recognised_by = CASE WHEN $2 = 'recognised' THEN $6::uuid"
    "   ELSE recognised_by END,"
    "  recognised_at = CASE WHEN $2 = 'recognised' THEN now()"
    "   ELSE recognised_at END,"
    "  version = version + 1, updated_at = now() WHERE id = $1 RETURNING *)"
    "SELECT upd.version, " MODEL_JSON("upd") " FROM upd,"
    " audit_event($6, $7, coalesce($2, 'update'), 'model', upd.id, $8::ltree,"
    "  $9::jsonb, to_jsonb(upd), $10)";
/* clang-format on */

const struct db_stmt models_stmts[] = {
	{ "models_list", list },
	{ "models_get", get },
	{ "models_counts", counts },
	{ "models_create", create },
	{ "models_source", source },
	{ "models_lock", lock },
	{ "models_update", update },
	{ NULL, NULL },
};

enum { F_UNIT, F_NAME, F_FIELD, F_DESCRIPTION, F_EXPECTED, F_FROM };
static const struct field fields[] = {
	[F_UNIT] = { "unit_id", F_UUID, 1, 0, 0, 0, 0, NULL },
	[F_NAME] = { "name", F_STRING, 1, 0, 0, 1, 300, NULL },
	[F_FIELD] = { "field", F_ENUM, 1, 0, 0, 0, 0, model_fields },
	[F_DESCRIPTION] = { "description", F_STRING, 0, 0, 0, 0, 5000, NULL },
	[F_EXPECTED] = { "expected_results", F_STRING, 0, 0, 0, 0, 5000, NULL },
	[F_FROM] = { "replicated_from", F_UUID, 0, 1, 0, 0, 0, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};

enum { P_STATUS, P_RESULTS, P_DESCRIPTION, P_EXPECTED };
static const struct field patch_fields[] = {
	[P_STATUS] = { "status", F_ENUM, 0, 0, 0, 0, 0, model_own_steps },
	[P_RESULTS] = { "results", F_STRING, 0, 0, 0, 0, 5000, NULL },
	[P_DESCRIPTION] = { "description", F_STRING, 0, 0, 0, 0, 5000, NULL },
	[P_EXPECTED] = { "expected_results", F_STRING, 0, 0, 0, 0, 5000, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};

static const struct field filters[] = {
	{ "unit_id", F_UUID, 0, 0, 0, 0, 0, NULL },
	{ "field", F_ENUM, 0, 0, 0, 0, 0, model_fields },
	{ "status", F_ENUM, 0, 0, 0, 0, 0, model_statuses },
	{ "q", F_STRING, 0, 0, 0, 1, 200, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};

int
models_list(struct req *r)
{
	return reply_list(r, "models_list", filters);
}

int
models_get(struct req *r)
{
	return reply_get(r, "models_get", "model");
}

int
models_counts(struct req *r)
{
	const char *params[1] = { r->principal->unit_id };
	struct page pg = { 0, NULL, NULL };
	struct dbres *res;

	if ((res = db_exec(r->arena, &r->fail, "models_counts", 1, params)) ==
	    NULL)
		return -1;
	pg.limit = db_rows(res);
	return reply_page(r, res, &pg);
}

struct create {
	const char *v[nitems(fields)];
};

static int
create_tx(struct req *r, void *arg)
{
	const struct principal *p = r->principal;
	struct create *c = arg;
	const char *params[10];
	struct dbres *res;

	if (c->v[F_FROM] != NULL) {
		const char *sp[2] = { p->unit_id, c->v[F_FROM] };

		if ((res = db_exec(r->arena, &r->fail, "models_source", 2,
			 sp)) == NULL)
			return -1;
		if (db_rows(res) == 0 ||
		    (strcmp(db_get(res, 0, 0), "recognised") != 0 &&
			strcmp(db_get(res, 0, 0), "replicated") != 0)) {
			return fail_reference(r, "replicated_from",
			    "replicated_from names no recognised model you see");
		}
	}
	params[0] = p->unit_id;
	params[1] = c->v[F_UNIT];
	params[2] = c->v[F_NAME];
	params[3] = c->v[F_FIELD];
	params[4] = c->v[F_DESCRIPTION];
	params[5] = c->v[F_EXPECTED];
	params[6] = c->v[F_FROM];
	params[7] = p->id;
	params[8] = actor_kind(r);
	params[9] = r->id;
	if ((res = db_exec(r->arena, &r->fail, "models_create", 10, params)) ==
	    NULL)
		return -1;
	if (db_rows(res) == 0) {
		return fail_reference(r, "unit_id",
		    "unit_id names no active unit of yours");
	}
	return reply_created(r, res, "/api/v1/models", "model");
}

int
models_create(struct req *r)
{
	struct create c;
	json_t *body;

	if ((body = req_body_object(r)) == NULL ||
	    validate(r, body, fields, c.v, 0) == -1)
		return -1;
	return run_tx(r, create_tx, &c);
}

struct change {
	const char *v[nitems(patch_fields)];
	const char *version;
	int recognise;
};

static int
change_tx(struct req *r, void *arg)
{
	const struct principal *p = r->principal;
	struct change *c = arg;
	const char *lp[3] = { p->unit_id, r->param[0],
		c->recognise ? "a" : "s" };
	const char *params[10], *status;
	struct dbres *cur, *res;

	if ((cur = db_exec(r->arena, &r->fail, "models_lock", 3, lp)) == NULL ||
	    check_locked(r, cur, c->version, "model") == -1)
		return -1;
	status = db_get(cur, 0, 1);
	if (c->recognise && strcmp(status, "registered") != 0 &&
	    strcmp(status, "implementing") != 0)
		return req_fail(r, 409, "invalid_transition",
		    "a %s model is not "
		    "recognised again",
		    status);
	if (c->v[P_STATUS] != NULL && strcmp(status, "registered") != 0)
		return req_fail(r, 409, "invalid_transition",
		    "a %s model does "
		    "not go back to implementing",
		    status);
	params[0] = r->param[0];
	params[1] = c->recognise ? "recognised" : c->v[P_STATUS];
	params[2] = c->v[P_RESULTS];
	params[3] = c->v[P_DESCRIPTION];
	params[4] = c->v[P_EXPECTED];
	params[5] = p->id;
	params[6] = actor_kind(r);
	params[7] = db_get(cur, 0, 3);
	params[8] = db_get(cur, 0, 2);
	params[9] = r->id;
	if ((res = db_exec(r->arena, &r->fail, "models_update", 10, params)) ==
	    NULL)
		return -1;
	return reply_entity(r, res, 200, "model");
}

int
models_update(struct req *r)
{
	struct change c = { .recognise = 0 };
	json_t *body;

	if ((c.version = if_match(r)) == NULL ||
	    (body = req_body_object(r)) == NULL ||
	    validate(r, body, patch_fields, c.v, 1) == -1)
		return -1;
	return run_tx(r, change_tx, &c);
}

int
models_recognise(struct req *r)
{
	struct change c = { .recognise = 1 };

	memset(c.v, 0, sizeof(c.v));
	if ((c.version = if_match(r)) == NULL)
		return -1;
	if (no_fields(r) == -1)
		return -1;
	return run_tx(r, change_tx, &c);
}
