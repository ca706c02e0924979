/*
 * Milestones of a plan: what is due when (the units' own plans by 30/01, the
 * six-month report by 15/5, the annual report by 30/10, or a custom one), the
 * unit that receives the submissions, and the set of units that owe one —
 * given as units or as a group of the issuing unit, expanded when stored.
 */
#include <stdlib.h>
#include <string.h>

#include "resources/resources.h"

/* clang-format off */
#define MILESTONE_JSON(m)                                                    \
	"json_build_object('id', " m ".id, 'plan_id', " m ".plan_id,"        \
	" 'kind', " m ".kind, 'title', " m ".title, 'due_on', " m ".due_on,"  \
	" 'receiving_unit_id', " m ".receiving_unit_id, 'note', " m ".note,"  \
	" 'owing_unit_ids', coalesce((SELECT json_agg(mu.unit_id ORDER BY"    \
	"  mu.unit_id) FROM milestone_units mu WHERE mu.milestone_id = " m    \
	".id), '[]'), 'version', " m ".version, 'created_at', " m ".created_at," \
	" 'updated_at', " m ".updated_at)"

static const char list[] =
    "SELECT " MILESTONE_JSON("m") ", encode(convert_to(m.due_on::text ||"
    " m.id::text, 'UTF8'), 'hex')"
    " FROM plans p JOIN milestones m ON m.plan_id = p.id"
    " WHERE p.id = $2 AND " PLAN_VISIBLE("p", "$5")
    " AND ($3::text IS NULL OR m.due_on::text || m.id::text >"
    "  convert_from(decode($3, 'hex'), 'UTF8'))"
    " AND ($6::text IS NULL OR fold(m.title) LIKE like_pattern($6))"
    " ORDER BY m.due_on::text || m.id::text LIMIT $4";
static const char plan_visible[] =
    "SELECT 1 FROM plans p WHERE p.id = $2 AND " PLAN_VISIBLE("p", "$3");
/* The receiving unit and every owing unit must lie in the issuing unit's
 * subtree; $7 is a JSON array of unit ids, or NULL with a group in $8. */
static const char create[] =
    "WITH issuing AS (SELECT id, path FROM units WHERE id = $9),"
    " owing AS (SELECT u.id FROM units u, issuing i WHERE u.path <@ i.path"
    "  AND u.id IN (SELECT (jsonb_array_elements_text($7::jsonb))::uuid"
    "   UNION SELECT group_units(i.id, $8))),"
    " ins AS (INSERT INTO milestones (plan_id, kind, title, due_on,"
    "  receiving_unit_id, note) SELECT $1, $2, $3, $4::date, $5, $6"
    "  FROM units u, issuing i WHERE u.id = $5 AND u.path <@ i.path"
    "  RETURNING *),"
    " mu AS (INSERT INTO milestone_units (milestone_id, unit_id)"
    "  SELECT ins.id, owing.id FROM ins, owing RETURNING unit_id)"
    "SELECT ins.version, ins.id, (SELECT count(*) FROM mu),"
    " (SELECT count(*) FROM owing),"
    " (SELECT count(DISTINCT x) FROM jsonb_array_elements_text($7::jsonb) x)"
    " FROM ins, issuing i, audit_event($10, $11, 'create', 'milestone',"
    "  ins.id, i.path, NULL, to_jsonb(ins), $12)";
static const char get[] =
    "SELECT m.version, " MILESTONE_JSON("m") " FROM milestones m WHERE m.id = $1";
static const char get_visible[] =
    "SELECT m.version, " MILESTONE_JSON("m") " FROM milestones m"
    " JOIN plans p ON p.id = m.plan_id WHERE m.id = $2 AND "
    PLAN_VISIBLE("p", "$3");
/* Locks a milestone for plan_child_lock; the row as JSON carries its
 * owing units, so that the audit and the amendment keep the old set. */
static const char lock[] =
    "SELECT m.plan_id, m.version, to_jsonb(m) || jsonb_build_object("
    " 'owing_unit_ids', coalesce((SELECT jsonb_agg(mu.unit_id ORDER BY"
    "  mu.unit_id) FROM milestone_units mu WHERE mu.milestone_id = m.id),"
    "  '[]')) FROM milestones m WHERE m.id = $1 FOR UPDATE";
static const char update[] =
    "WITH issuing AS (SELECT id, path FROM units WHERE id = $8),"
    " upd AS (UPDATE milestones SET kind = coalesce($2, kind),"
    "  title = coalesce($3, title), due_on = coalesce($4::date, due_on),"
    "  receiving_unit_id = coalesce($5::uuid, receiving_unit_id),"
    "  note = coalesce($6, note), version = version + 1, updated_at = now()"
    "  WHERE id = $1 AND ($5::uuid IS NULL OR EXISTS (SELECT 1 FROM units u,"
    "  issuing i WHERE u.id = $5 AND u.path <@ i.path)) RETURNING *)"
    "SELECT upd.id FROM upd, issuing i, audit_event($9, $10, 'update',"
    " 'milestone', upd.id, i.path, $7::jsonb, to_jsonb(upd), $11)";
/* Replaces the owing units (a JSON array in $2, or a group in $3): the
 * units that leave are deleted, those that come inserted, the others kept.
 * (The parts of one statement share a snapshot: the insert does not see
 * the delete, so a unit that stays must not be deleted and inserted.) */
static const char set_owing[] =
    "WITH issuing AS (SELECT id, path FROM units WHERE id = $4),"
    " owing AS (SELECT u.id FROM units u, issuing i WHERE u.path <@ i.path"
    "  AND u.id IN (SELECT (jsonb_array_elements_text($2::jsonb))::uuid"
    "   UNION SELECT group_units(i.id, $3))),"
    " del AS (DELETE FROM milestone_units WHERE milestone_id = $1"
    "  AND unit_id NOT IN (SELECT id FROM owing)),"
    " ins AS (INSERT INTO milestone_units (milestone_id, unit_id)"
    "  SELECT $1, id FROM owing ON CONFLICT DO NOTHING)"
    "SELECT (SELECT count(*) FROM owing),"
    " (SELECT count(DISTINCT x) FROM jsonb_array_elements_text($2::jsonb) x)";
/* clang-format on */

const struct db_stmt milestones_stmts[] = {
	{ "milestones_list", list },
	{ "milestones_plan_visible", plan_visible },
	{ "milestones_create", create },
	{ "milestones_get", get },
	{ "milestones_get_visible", get_visible },
	{ "milestones_lock", lock },
	{ "milestones_update", update },
	{ "milestones_set_owing", set_owing },
	{ NULL, NULL },
};

enum {
	F_KIND,
	F_TITLE,
	F_DUE_ON,
	F_RECEIVING,
	F_NOTE,
	F_OWING,
	F_REASON,
	F_GROUP,
	F_UNITS
};
static const struct field fields[] = {
	[F_KIND] = { "kind", F_ENUM, 1, 0, 0, 0, 0, milestone_kinds },
	[F_TITLE] = { "title", F_STRING, 1, 0, 0, 1, 300, NULL },
	[F_DUE_ON] = { "due_on", F_DATE, 1, 0, 0, 0, 0, NULL },
	[F_RECEIVING] = { "receiving_unit_id", F_UUID, 1, 0, 0, 0, 0, NULL },
	[F_NOTE] = { "note", F_STRING, 0, 1, 0, 0, 2000, NULL },
	[F_OWING] = { "owing", F_JSON, 1, 0, 0, 0, 0, NULL },
	[F_REASON] = { "amendment_reason", F_STRING, 0, 0, 0, 1, 2000, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};
static const struct field owing_fields[] = {
	{ "group", F_ENUM, 0, 0, 0, 0, 0, unit_groups },
	{ "unit_ids", F_ARRAY, 0, 0, 0, 0, 500, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};

/* Checks milestone fields into v (nitems(fields) + 2 slots: the owing
 * group and units follow the table's); returns the number of errors. */
static int
check_fields(struct req *r, json_t *obj, const char **v, int patch,
    const char *prefix)
{
	json_t *owing = json_object_get(obj, "owing"), *e;
	const char *o[3] = { NULL, NULL, NULL };
	char *p = arena_printf(r->arena, "%sowing.", prefix);
	size_t i;
	int bad;

	bad = validate_at(r, obj, fields, v, patch, prefix);
	v[F_GROUP] = v[F_UNITS] = NULL;
	if (v[F_OWING] == NULL)
		return bad;
	if (!json_is_object(owing)) {
		req_field_error(r, arena_printf(r->arena, "%sowing", prefix),
		    "type", "owing is {\"group\": …} or {\"unit_ids\": […]}");
		return bad + 1;
	}
	bad += validate_at(r, owing, owing_fields, o, 0, p);
	if ((o[0] == NULL) == (o[1] == NULL)) {
		req_field_error(r, arena_printf(r->arena, "%sowing", prefix),
		    "required", "give exactly one of group and unit_ids");
		bad++;
	}
	json_array_foreach(json_object_get(owing, "unit_ids"), i, e) {
		const char *s = json_string_value(e);

		if (s == NULL || !is_uuid(s)) {
			req_field_error(r,
			    arena_printf(r->arena, "%sunit_ids[%zu]", p, i),
			    "format", "unit ids are UUIDs");
			bad++;
		}
	}
	v[F_GROUP] = o[0];
	v[F_UNITS] = o[1];
	return bad;
}

/* Fails with 422 on owing when some of the named units are not in the
 * issuing unit's subtree (stored counts less than named). */
static int
check_owing(struct req *r, struct dbres *res, int stored, int named,
    const char *prefix)
{
	long got = strtol(db_get(res, 0, stored), NULL, 10);
	long want = strtol(db_get(res, 0, named), NULL, 10);

	if (want > 0 && got < want) {
		return fail_reference(r,
		    arena_printf(r->arena, "%sowing.unit_ids", prefix),
		    "%ld of the units are not in the plan's "
		    "issuing unit or below it",
		    want - got);
	}
	return 0;
}

struct milestone_input {
	const char *v[nitems(fields) + 2];
	json_t *unit_ids;
};

int
milestone_fields(struct req *r, json_t *obj, const char *prefix,
    struct milestone_input **in)
{
	*in = arena_zalloc(r->arena, sizeof(**in));
	(*in)->unit_ids = json_object_get(json_object_get(obj, "owing"),
	    "unit_ids");
	return check_fields(r, obj, (*in)->v, 0, prefix);
}

const char *
milestone_receiving_unit(const struct milestone_input *in)
{
	return in->v[F_RECEIVING];
}

json_t *
milestone_owing_units(const struct milestone_input *in)
{
	return in->unit_ids;
}

/* Inserts a milestone from checked fields; its row (version, id, counts)
 * or NULL after a failure. */
static struct dbres *
insert(struct req *r, const struct plan_state *st, const char *const *v,
    const char *prefix)
{
	const struct principal *pr = r->principal;
	const char *params[12];
	struct dbres *res;

	params[0] = st->id;
	params[1] = v[F_KIND];
	params[2] = v[F_TITLE];
	params[3] = v[F_DUE_ON];
	params[4] = v[F_RECEIVING];
	params[5] = v[F_NOTE];
	params[6] = v[F_UNITS];
	params[7] = v[F_GROUP];
	params[8] = st->issuing_unit_id;
	params[9] = pr ? pr->id : NULL;
	params[10] = actor_kind(r);
	params[11] = r->id;
	if ((res = db_exec(r->arena, &r->fail, "milestones_create", 12,
		 params)) == NULL)
		return NULL;
	if (db_rows(res) == 0) {
		fail_reference(r,
		    arena_printf(r->arena, "%sreceiving_unit_id", prefix),
		    "the receiving unit is not in the plan's "
		    "issuing unit or below it");
		return NULL;
	}
	if (check_owing(r, res, 3, 4, prefix) == -1)
		return NULL;
	return res;
}

const char *
milestone_insert(struct req *r, const struct plan_state *st,
    const struct milestone_input *in, const char *prefix)
{
	struct dbres *res;

	if ((res = insert(r, st, in->v, prefix)) == NULL)
		return NULL;
	return db_get(res, 0, 1);
}

int
milestones_list(struct req *r)
{
	return reply_plan_sublist(r, "milestones_plan_visible",
	    "milestones_list", "plan");
}

static int
reply_milestone(struct req *r, const char *id, int status)
{
	const char *params[1] = { id };
	struct dbres *res;

	if ((res = db_exec(r->arena, &r->fail, "milestones_get", 1, params)) ==
	    NULL)
		return -1;
	return reply_entity(r, res, status, "milestone");
}

int
milestones_get(struct req *r)
{
	return reply_plan_get(r, "milestones_get_visible", "milestone");
}

struct change {
	const char *v[nitems(fields) + 2];
	const char *version;
};

static int
create_tx(struct req *r, void *arg)
{
	struct change *c = arg;
	struct plan_state st;
	struct dbres *res;

	if (plan_lock(r, r->param[0], NULL, &st) == -1 ||
	    (res = insert(r, &st, c->v, "")) == NULL ||
	    plan_amend(r, &st, c->v[F_REASON], "milestone", db_get(res, 0, 1),
		changes_of(r), NULL, 1) == -1)
		return -1;
	req_header_add(r, "Location",
	    arena_printf(r->arena, "/api/v1/milestones/%s", db_get(res, 0, 1)));
	return reply_milestone(r, db_get(res, 0, 1), 201);
}

int
milestones_create(struct req *r)
{
	struct change c;
	json_t *body;

	if ((body = req_body_object(r)) == NULL)
		return -1;
	if (check_fields(r, body, c.v, 0, "") > 0)
		return req_fail(r, 422, "invalid_body",
		    "the request body has invalid fields");
	return run_tx(r, create_tx, &c);
}

static int
update_tx(struct req *r, void *arg)
{
	const struct principal *pr = r->principal;
	struct change *c = arg;
	struct plan_state st;
	struct plan_child m;
	const char *params[11];
	struct dbres *res;

	if (plan_child_lock(r, "milestones_lock", r->param[0], c->version,
		"milestone", &st, &m) == -1)
		return -1;
	params[0] = r->param[0];
	params[1] = c->v[F_KIND];
	params[2] = c->v[F_TITLE];
	params[3] = c->v[F_DUE_ON];
	params[4] = c->v[F_RECEIVING];
	params[5] = c->v[F_NOTE];
	params[6] = m.json;
	params[7] = st.issuing_unit_id;
	params[8] = pr->id;
	params[9] = actor_kind(r);
	params[10] = r->id;
	if ((res = db_exec(r->arena, &r->fail, "milestones_update", 11,
		 params)) == NULL)
		return -1;
	if (db_rows(res) == 0) {
		return fail_reference(r, "receiving_unit_id",
		    "the receiving "
		    "unit is not in the plan's issuing unit or below it");
	}
	if (c->v[F_OWING] != NULL) {
		const char *op[4] = { r->param[0], c->v[F_UNITS], c->v[F_GROUP],
			st.issuing_unit_id };

		if ((res = db_exec(r->arena, &r->fail, "milestones_set_owing",
			 4, op)) == NULL ||
		    check_owing(r, res, 0, 1, "") == -1)
			return -1;
	}
	if (plan_amend(r, &st, c->v[F_REASON], "milestone", r->param[0],
		changes_of(r), m.json, 1) == -1)
		return -1;
	return reply_milestone(r, r->param[0], 200);
}

int
milestones_update(struct req *r)
{
	struct change c;
	json_t *body;

	if ((c.version = if_match(r)) == NULL ||
	    (body = req_body_object(r)) == NULL || only_reason(r, body) == -1)
		return -1;
	if (check_fields(r, body, c.v, 1, "") > 0)
		return req_fail(r, 422, "invalid_body",
		    "the request body has invalid fields");
	return run_tx(r, update_tx, &c);
}
