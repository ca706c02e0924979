/*
 * Units: the organisation tree (province, departments, communes, offices,
 * front bodies, villages). A caller sees its own unit and everything below
 * it; an admin changes only units strictly below its own. A unit with
 * children, users or history is deactivated, never deleted.
 */
#include <string.h>

#include "resources/resources.h"

/* clang-format off */
#define UNIT_JSON(u)                                                        \
	"json_build_object('id', " u ".id, 'parent_id', " u ".parent_id,"   \
	" 'kind', " u ".kind, 'code', " u ".code, 'name', " u ".name,"      \
	" 'depth', nlevel(" u ".path), 'active', " u ".active,"             \
	" 'sample', " u ".sample, 'version', " u ".version,"                \
	" 'created_at', " u ".created_at, 'updated_at', " u ".updated_at)"

static const char list[] =
    "SELECT " UNIT_JSON("u") ", encode(convert_to(u.id::text, 'UTF8'), 'hex')"
    " FROM units u WHERE u.path <@ " SCOPE
    " AND ($2::uuid IS NULL OR u.parent_id = $2)"
    " AND ($3::text IS NULL OR u.kind = $3)"
    " AND ($4::text IS NULL OR fold(u.name) LIKE like_pattern($4)"
    "  OR u.code LIKE like_pattern($4))"
    " AND ($5::boolean IS NULL OR u.active = $5)"
    /* The cursor is the last unit's id: names can be long. A unit outside
     * the caller's subtree is no cursor (an empty page, as for an id that
     * names nothing), so a forged cursor tells nothing of other units. */
    " AND ($6::text IS NULL OR (u.name COLLATE \"C\", u.id) > (SELECT"
    "  c.name COLLATE \"C\", c.id FROM units c"
    "  WHERE c.id = convert_from(decode($6, 'hex'), 'UTF8')::uuid"
    "  AND c.path <@ " SCOPE "))"
    " ORDER BY u.name COLLATE \"C\", u.id LIMIT $7";
static const char get[] =
    "SELECT u.version, " UNIT_JSON("u")
    " FROM units u WHERE u.id = $2 AND u.path <@ " SCOPE;
/* The parent must lie in the admin's subtree; the audit event goes in the
 * same statement. */
static const char create[] =
    "WITH parent AS (SELECT id, path FROM units"
    "  WHERE id = $2 AND active AND path <@ " SCOPE "),"
    " ins AS (INSERT INTO units (id, parent_id, kind, code, name, sample, path)"
    "  SELECT g.id, parent.id, $3, $4, $5, coalesce($6::boolean, false),"
    "   parent.path || unit_label(g.id)"
    "  FROM parent, (SELECT gen_random_uuid() AS id) g RETURNING *)"
    "SELECT ins.version, " UNIT_JSON("ins") " FROM ins,"
    " audit_event($7, $8, 'create', 'unit', ins.id, ins.path, NULL,"
    "  to_jsonb(ins), $9)";
/* Locks the unit (strictly below the admin's) for a change. */
static const char lock[] =
    "SELECT u.version, u.path, to_jsonb(u), u.parent_id FROM units u"
    " WHERE u.id = $2 AND u.path <@ " SCOPE " AND u.path <> " SCOPE
    " FOR UPDATE";
/* A new parent: in the admin's subtree, active, not inside the moved unit. */
static const char new_parent[] =
    "SELECT path FROM units WHERE id = $2 AND active AND path <@ " SCOPE
    " AND NOT path <@ $3::ltree";
static const char update[] =
    "WITH upd AS (UPDATE units SET"
    "  kind = coalesce($2, kind), code = coalesce($3, code),"
    "  name = coalesce($4, name), active = coalesce($5::boolean, active),"
    "  sample = coalesce($6::boolean, sample),"
    "  parent_id = coalesce($7::uuid, parent_id),"
    "  path = coalesce($8::ltree || unit_label(id), path),"
    "  version = version + 1, updated_at = now()"
    "  WHERE id = $1 RETURNING *),"
    " sub AS (UPDATE units d SET path = upd.path || subpath(d.path, nlevel($9::ltree)),"
    "  version = d.version + 1, updated_at = now()"
    "  FROM upd WHERE $8::ltree IS NOT NULL AND d.path <@ $9::ltree"
    "  AND d.id <> upd.id)"
    "SELECT upd.version, " UNIT_JSON("upd") " FROM upd,"
    " audit_event($10, $11, 'update', 'unit', upd.id, upd.path, $12::jsonb,"
    "  to_jsonb(upd), $13)";
/* Deletes a leaf unit with no users and no history but its own creation. */
static const char delete_[] =
    "WITH del AS (DELETE FROM units u WHERE u.id = $1"
    "  AND NOT EXISTS (SELECT 1 FROM units c WHERE c.parent_id = u.id)"
    "  AND NOT EXISTS (SELECT 1 FROM users s WHERE s.unit_id = u.id)"
    "  AND NOT EXISTS (SELECT 1 FROM service_accounts s WHERE s.unit_id = u.id)"
    "  AND NOT EXISTS (SELECT 1 FROM audit_events e WHERE e.entity_id = u.id"
    "   AND e.action <> 'create')"
    "  RETURNING *)"
    "SELECT 1 FROM del, audit_event($2, $3, 'delete', 'unit', del.id,"
    " del.path, to_jsonb(del), NULL, $4)";
/* clang-format on */

const struct db_stmt units_stmts[] = {
	{ "units_list", list },
	{ "units_get", get },
	{ "units_create", create },
	{ "units_lock", lock },
	{ "units_new_parent", new_parent },
	{ "units_update", update },
	{ "units_delete", delete_ },
	{ NULL, NULL },
};

enum { F_PARENT, F_KIND, F_CODE_, F_NAME, F_SAMPLE, F_ACTIVE };
static const struct field fields[] = {
	[F_PARENT] = { "parent_id", F_UUID, 1, 0, 0, 0, 0, NULL },
	[F_KIND] = { "kind", F_ENUM, 1, 0, 0, 0, 0, unit_kinds },
	[F_CODE_] = { "code", F_CODE, 1, 0, 0, 1, 64, NULL },
	[F_NAME] = { "name", F_STRING, 1, 0, 0, 1, 300, NULL },
	[F_SAMPLE] = { "sample", F_BOOL, 0, 0, 0, 0, 0, NULL },
	[F_ACTIVE] = { "active", F_BOOL, 0, 0, 0, 0, 0, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};

static const struct field filters[] = {
	{ "parent_id", F_UUID, 0, 0, 0, 0, 0, NULL },
	{ "kind", F_ENUM, 0, 0, 0, 0, 0, unit_kinds },
	{ "q", F_STRING, 0, 0, 0, 1, 200, NULL },
	{ "active", F_BOOL, 0, 0, 0, 0, 0, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};

int
units_list(struct req *r)
{
	return reply_list(r, "units_list", filters);
}

int
units_get(struct req *r)
{
	return reply_get(r, "units_get", "unit");
}

int
units_create(struct req *r)
{
	const struct principal *p = r->principal;
	const char *v[nitems(fields)], *params[9];
	struct dbres *res;
	json_t *body;

	if ((body = req_body_object(r)) == NULL ||
	    validate(r, body, fields, v, 0) == -1)
		return -1;
	if (v[F_ACTIVE] != NULL) {
		req_field_error(r, "active", "unknown", "a new unit is active");
		return req_fail(r, 422, "invalid_body",
		    "the request body has invalid fields");
	}
	params[0] = p->unit_id;
	params[1] = v[F_PARENT];
	params[2] = v[F_KIND];
	params[3] = v[F_CODE_];
	params[4] = v[F_NAME];
	params[5] = v[F_SAMPLE];
	params[6] = p->id;
	params[7] = actor_kind(r);
	params[8] = r->id;
	if ((res = db_exec(r->arena, &r->fail, "units_create", 9, params)) ==
	    NULL)
		return -1;
	if (db_rows(res) == 0) {
		return fail_reference(r, "parent_id",
		    "parent_id names no active unit you manage");
	}
	return reply_created(r, res, "/api/v1/units", "unit");
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
	const char *params[13], *lockp[2] = { p->unit_id, r->param[0] };
	const char *np[3], *parent_path = NULL;
	struct dbres *cur, *res;

	if ((cur = db_exec(r->arena, &r->fail, "units_lock", 2, lockp)) ==
		NULL ||
	    check_locked(r, cur, c->version, "unit") == -1)
		return -1;
	if (c->v[F_PARENT] != NULL &&
	    strcmp(c->v[F_PARENT], db_get(cur, 0, 3)) != 0) {
		np[0] = p->unit_id;
		np[1] = c->v[F_PARENT];
		np[2] = db_get(cur, 0, 1);
		if ((res = db_exec(r->arena, &r->fail, "units_new_parent", 3,
			 np)) == NULL)
			return -1;
		if (db_rows(res) == 0) {
			return fail_reference(r, "parent_id",
			    "parent_id "
			    "names no active unit you manage outside this one");
		}
		parent_path = db_get(res, 0, 0);
	}
	params[0] = r->param[0];
	params[1] = c->v[F_KIND];
	params[2] = c->v[F_CODE_];
	params[3] = c->v[F_NAME];
	params[4] = c->v[F_ACTIVE];
	params[5] = c->v[F_SAMPLE];
	params[6] = parent_path ? c->v[F_PARENT] : NULL;
	params[7] = parent_path;
	params[8] = db_get(cur, 0, 1);
	params[9] = p->id;
	params[10] = actor_kind(r);
	params[11] = db_get(cur, 0, 2);
	params[12] = r->id;
	if ((res = db_exec(r->arena, &r->fail, "units_update", 13, params)) ==
	    NULL)
		return -1;
	return reply_entity(r, res, 200, "unit");
}

int
units_update(struct req *r)
{
	struct change c;
	json_t *body;

	if ((c.version = if_match(r)) == NULL ||
	    (body = req_body_object(r)) == NULL ||
	    validate(r, body, fields, c.v, 1) == -1 ||
	    run_tx(r, update_tx, &c) == -1)
		return -1;
	/* The users of a deactivated unit are refused at once on this node
	 * (within DANVAN_USER_CHECK_INTERVAL on the others). */
	if (c.v[F_ACTIVE] != NULL && strcmp(c.v[F_ACTIVE], "false") == 0)
		auth_forget_all();
	return 0;
}

static int
delete_tx(struct req *r, void *arg)
{
	const struct principal *p = r->principal;
	const char *version = arg, *lockp[2] = { p->unit_id, r->param[0] };
	const char *params[4] = { r->param[0], p->id, actor_kind(r), r->id };
	struct dbres *cur, *res;

	if ((cur = db_exec(r->arena, &r->fail, "units_lock", 2, lockp)) ==
		NULL ||
	    check_locked(r, cur, version, "unit") == -1)
		return -1;
	if ((res = db_exec(r->arena, &r->fail, "units_delete", 4, params)) ==
	    NULL)
		return -1;
	if (db_rows(res) == 0)
		return req_fail(r, 409, "unit_in_use",
		    "the unit has sub-units, "
		    "users or history: deactivate it instead");
	return req_reply(r, 204, NULL, "", 0);
}

int
units_delete(struct req *r)
{
	const char *version;

	if ((version = if_match(r)) == NULL)
		return -1;
	return run_tx(r, delete_tx, (void *)(uintptr_t)version);
}
