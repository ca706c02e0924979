/*
 * Assignments: who does what of a task (task x unit x role: lead,
 * coordinate, implement), with an optional scope note, responsible person
 * and own due date, and the progress the assigned unit reports. A group
 * addressee ("all agencies, units and villages") becomes one assignment per
 * unit when assigned. GET /assignments is a unit's inbox: overdue first.
 */
#include <string.h>

#include "resources/resources.h"

/* clang-format off */
#define DUE(a, t, p) ASSIGNMENT_DUE(a, t, p)
#define ASSIGNMENT_JSON(a, t, p)                                             \
	"json_build_object('id', " a ".id, 'task_id', " a ".task_id,"        \
	" 'plan_id', " t ".plan_id, 'task_number', " t ".number,"            \
	" 'task_title', " t ".title, 'unit_id', " a ".unit_id,"              \
	" 'role', " a ".role, 'scope_note', " a ".scope_note,"                \
	" 'responsible_user_id', " a ".responsible_user_id,"                 \
	" 'due_on', " a ".due_on, 'effective_due_on', " DUE(a, t, p) ","     \
	" 'overdue', coalesce(" a ".status <> 'done' AND " DUE(a, t, p) " < "  \
	"today_vn(), false)," \
	" 'status', " a ".status, 'progress', " a ".progress,"               \
	" 'progress_note', " a ".progress_note, 'version', " a ".version,"    \
	" 'created_at', " a ".created_at, 'updated_at', " a ".updated_at)"
/* Overdue first, then by due day (none last), task number, id. */
#define INBOX_KEY(a, t, p)                                                   \
	"(CASE WHEN " a ".status <> 'done' AND " DUE(a, t, p) " < today_vn()"  \
	" THEN '0' ELSE '1' END || coalesce(" DUE(a, t, p) "::text,"          \
	" '9999-12-31') || lpad(" t ".number::text, 4, '0') || " a ".id::text)"
#define IN_SCOPE(a) \
	"EXISTS (SELECT 1 FROM units au, units me WHERE au.id = " a ".unit_id" \
	" AND me.id = $1 AND au.path <@ me.path)"

static const char for_task[] =
    "SELECT " ASSIGNMENT_JSON("a", "t", "p") ", encode(convert_to(a.role ||"
    " a.unit_id::text || a.id::text, 'UTF8'), 'hex')"
    " FROM assignments a JOIN tasks t ON t.id = a.task_id"
    " JOIN plans p ON p.id = t.plan_id"
    " WHERE a.task_id = $2 AND " PLAN_VISIBLE("p", "$5")
    " AND ($3::text IS NULL OR a.role || a.unit_id::text || a.id::text >"
    "  convert_from(decode($3, 'hex'), 'UTF8'))"
    " ORDER BY a.role || a.unit_id::text || a.id::text LIMIT $4";
static const char task_visible[] =
    "SELECT 1 FROM tasks t JOIN plans p ON p.id = t.plan_id"
    " WHERE t.id = $2 AND " PLAN_VISIBLE("p", "$3");
static const char inbox[] =
    "SELECT " ASSIGNMENT_JSON("a", "t", "p") ", encode(convert_to("
    INBOX_KEY("a", "t", "p") ", 'UTF8'), 'hex')"
    " FROM assignments a JOIN tasks t ON t.id = a.task_id"
    " JOIN plans p ON p.id = t.plan_id"
    " WHERE " IN_SCOPE("a") " AND p.status <> 'draft'"
    " AND ($2::uuid IS NULL OR a.unit_id = $2)"
    " AND ($3::text IS NULL OR a.status = $3)"
    " AND ($4::date IS NULL OR " DUE("a", "t", "p") " < $4)"
    " AND ($5::uuid IS NULL OR t.plan_id = $5)"
    " AND ($6::text IS NULL OR fold(t.title) LIKE like_pattern($6))"
    " AND ($7::text IS NULL OR " INBOX_KEY("a", "t", "p")
    "  > convert_from(decode($7, 'hex'), 'UTF8'))"
    " ORDER BY " INBOX_KEY("a", "t", "p") " LIMIT $8";
static const char get[] =
    "SELECT a.version, " ASSIGNMENT_JSON("a", "t", "p")
    " FROM assignments a JOIN tasks t ON t.id = a.task_id"
    " JOIN plans p ON p.id = t.plan_id"
    " WHERE a.id = $2 AND ((" IN_SCOPE("a") " AND p.status <> 'draft')"
    " OR " PLAN_VISIBLE("p", "$3") ")";
static const char task_of[] =
    "SELECT t.plan_id, t.due_on FROM tasks t WHERE t.id = $1";
/* One entry: a unit ($3) or a group ($4) of the issuing unit ($10); every
 * unit must lie in the issuing unit's subtree. */
static const char create[] =
    "WITH issuing AS (SELECT id, path FROM units WHERE id = $10),"
    " target AS (SELECT u.id FROM units u, issuing i WHERE u.path <@ i.path"
    "  AND u.active AND (u.id = $3::uuid OR u.id IN"
    "  (SELECT group_units(i.id, $4)))),"
    " ins AS (INSERT INTO assignments (task_id, unit_id, role, scope_note,"
    "  responsible_user_id, due_on) SELECT $1, target.id, $2, $5, $6::uuid,"
    "  $7::date FROM target WHERE $6::uuid IS NULL OR EXISTS (SELECT 1"
    "  FROM users s WHERE s.id = $6 AND s.unit_id = target.id AND s.active)"
    "  ON CONFLICT DO NOTHING RETURNING *)"
    "SELECT ins.id, (SELECT count(*) FROM target) FROM ins, issuing i,"
    " audit_event($8, $11, 'create', 'assignment', ins.id, i.path, NULL,"
    "  to_jsonb(ins), $9)";
static const char by_ids[] =
    "SELECT " ASSIGNMENT_JSON("a", "t", "p") ", a.id::text"
    " FROM assignments a JOIN tasks t ON t.id = a.task_id"
    " JOIN plans p ON p.id = t.plan_id"
    " WHERE a.id = ANY ($1::uuid[]) ORDER BY a.role, a.unit_id";
/* Progress is reported by the assigned unit (or a unit above it). */
static const char lock[] =
    "SELECT a.version, to_jsonb(a), au.path, a.unit_id, p.status"
    " FROM assignments a JOIN units au ON au.id = a.unit_id"
    " JOIN tasks t ON t.id = a.task_id JOIN plans p ON p.id = t.plan_id"
    " WHERE a.id = $2 AND " IN_SCOPE("a") " FOR UPDATE OF a";
static const char update[] =
    "WITH upd AS (UPDATE assignments SET status = coalesce($2, status),"
    "  progress = coalesce($3::int, CASE WHEN $2 = 'done' THEN 100"
    "   ELSE progress END),"
    "  progress_note = coalesce($4, progress_note),"
    "  responsible_user_id = coalesce($5::uuid, responsible_user_id),"
    "  version = version + 1, updated_at = now()"
    "  WHERE id = $1 AND ($5::uuid IS NULL OR EXISTS (SELECT 1 FROM users s"
    "   WHERE s.id = $5 AND s.unit_id = assignments.unit_id AND s.active))"
    "  RETURNING *)"
    "SELECT upd.id FROM upd, audit_event($6, $7, 'update', 'assignment',"
    " upd.id, $8::ltree, $9::jsonb, to_jsonb(upd), $10)";
/* clang-format on */

const struct db_stmt assignments_stmts[] = {
	{ "assignments_for_task", for_task },
	{ "assignments_task_visible", task_visible },
	{ "assignments_list", inbox },
	{ "assignments_get", get },
	{ "assignments_task_of", task_of },
	{ "assignments_create", create },
	{ "assignments_by_ids", by_ids },
	{ "assignments_lock", lock },
	{ "assignments_update", update },
	{ NULL, NULL },
};

enum { F_ROLE, F_UNIT, F_GROUP, F_SCOPE, F_RESPONSIBLE, F_DUE_ON, F_REASON };
static const struct field fields[] = {
	[F_ROLE] = { "role", F_ENUM, 1, 0, 0, 0, 0, assignment_roles },
	[F_UNIT] = { "unit_id", F_UUID, 0, 0, 0, 0, 0, NULL },
	[F_GROUP] = { "group", F_ENUM, 0, 0, 0, 0, 0, unit_groups },
	[F_SCOPE] = { "scope_note", F_STRING, 0, 1, 0, 1, 1000, NULL },
	[F_RESPONSIBLE] = { "responsible_user_id", F_UUID, 0, 1, 0, 0, 0, NULL },
	[F_DUE_ON] = { "due_on", F_DATE, 0, 1, 0, 0, 0, NULL },
	[F_REASON] = { "amendment_reason", F_STRING, 0, 0, 0, 1, 2000, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};

enum { P_STATUS, P_PROGRESS, P_NOTE, P_RESPONSIBLE };
static const struct field progress_fields[] = {
	[P_STATUS] = { "status", F_ENUM, 0, 0, 0, 0, 0, assignment_statuses },
	[P_PROGRESS] = { "progress", F_INT, 0, 0, 0, 0, 100, NULL },
	[P_NOTE] = { "progress_note", F_STRING, 0, 0, 0, 0, 2000, NULL },
	[P_RESPONSIBLE] = { "responsible_user_id", F_UUID, 0, 0, 0, 0, 0, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};

static const struct field filters[] = {
	{ "unit_id", F_UUID, 0, 0, 0, 0, 0, NULL },
	{ "status", F_ENUM, 0, 0, 0, 0, 0, assignment_statuses },
	{ "due_before", F_DATE, 0, 0, 0, 0, 0, NULL },
	{ "plan_id", F_UUID, 0, 0, 0, 0, 0, NULL },
	{ "q", F_STRING, 0, 0, 0, 1, 200, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};

/* Checks an entry's fields into v (nitems(fields) slots); returns the
 * number of field errors. */
static int
check_fields(struct req *r, json_t *obj, const char **v, const char *prefix)
{
	int bad = validate_at(r, obj, fields, v, 0, prefix);

	if (bad == 0 && (v[F_UNIT] == NULL) == (v[F_GROUP] == NULL)) {
		req_field_error(r, arena_printf(r->arena, "%sunit_id", prefix),
		    "required", "give exactly one of unit_id and group");
		bad++;
	}
	if (bad == 0 && v[F_GROUP] != NULL && v[F_RESPONSIBLE] != NULL) {
		req_field_error(r,
		    arena_printf(r->arena, "%sresponsible_user_id", prefix),
		    "not_allowed",
		    "a responsible person belongs to one unit, not a group");
		bad++;
	}
	return bad;
}

struct assignment_input {
	const char *v[nitems(fields)];
};

int
assignment_fields(struct req *r, json_t *obj, const char *prefix,
    struct assignment_input **in)
{
	*in = arena_zalloc(r->arena, sizeof(**in));
	return check_fields(r, obj, (*in)->v, prefix);
}

const char *
assignment_unit(const struct assignment_input *in)
{
	return in->v[F_UNIT];
}

/* Inserts the assignments of one entry; their rows (id, units targeted)
 * or NULL after a failure. */
static struct dbres *
insert(struct req *r, const struct plan_state *st, const char *task_id,
    const char *const *v, const char *prefix)
{
	const struct principal *pr = r->principal;
	const char *params[11], *tp[1] = { task_id };
	struct dbres *task, *res;

	if ((task = db_exec(r->arena, &r->fail, "assignments_task_of", 1,
		 tp)) == NULL)
		return NULL;
	/* An assignment is not due after its task's deadline. */
	if (v[F_DUE_ON] != NULL && db_get(task, 0, 1) != NULL &&
	    strcmp(v[F_DUE_ON], db_get(task, 0, 1)) > 0) {
		req_field_error(r, arena_printf(r->arena, "%sdue_on", prefix),
		    "after_deadline", "due_on is after the task's deadline %s",
		    db_get(task, 0, 1));
		req_fail(r, 422, "invalid_body",
		    "the assignment is due after "
		    "its task");
		return NULL;
	}
	params[0] = task_id;
	params[1] = v[F_ROLE];
	params[2] = v[F_UNIT];
	params[3] = v[F_GROUP];
	params[4] = v[F_SCOPE];
	params[5] = v[F_RESPONSIBLE];
	params[6] = v[F_DUE_ON];
	params[7] = pr ? pr->id : NULL;
	params[8] = r->id;
	params[9] = st->issuing_unit_id;
	params[10] = actor_kind(r);
	if ((res = db_exec(r->arena, &r->fail, "assignments_create", 11,
		 params)) == NULL)
		return NULL;
	if (v[F_UNIT] != NULL && db_rows(res) == 0) {
		req_field_error(r, arena_printf(r->arena, "%sunit_id", prefix),
		    "unknown",
		    "unit_id names no active unit of the plan's "
		    "issuing unit or below it, the unit already has this "
		    "assignment, or responsible_user_id is not an active user "
		    "of it");
		req_fail(r, 422, "invalid_reference",
		    "the unit cannot take "
		    "this assignment");
		return NULL;
	}
	return res;
}

int
assignment_insert(struct req *r, const struct plan_state *st,
    const char *task_id, const struct assignment_input *in, const char *prefix)
{
	struct dbres *res;

	if ((res = insert(r, st, task_id, in->v, prefix)) == NULL)
		return -1;
	return db_rows(res);
}

int
assignments_for_task(struct req *r)
{
	return reply_plan_sublist(r, "assignments_task_visible",
	    "assignments_for_task", "task");
}

int
assignments_list(struct req *r)
{
	return reply_list(r, "assignments_list", filters);
}

int
assignments_get(struct req *r)
{
	return reply_plan_get(r, "assignments_get", "assignment");
}

struct create {
	const char *v[nitems(fields)];
};

static int
create_tx(struct req *r, void *arg)
{
	struct create *c = arg;
	const char *ids;
	struct plan_state st;
	struct plan_child task;
	struct dbres *res;
	size_t len = 4, off;
	char *list;
	int i;

	if (task_lock(r, r->param[0], NULL, &st, &task) == -1 ||
	    (res = insert(r, &st, r->param[0], c->v, "")) == NULL)
		return -1;
	/* Nothing new (a group whose units all have it): no amendment. */
	if (db_rows(res) > 0 &&
	    plan_amend(r, &st, c->v[F_REASON], "assignment", db_get(res, 0, 0),
		changes_of(r), NULL, 1) == -1)
		return -1;
	for (i = 0; i < db_rows(res); i++)
		len += strlen(db_get(res, i, 0)) + 1;
	list = arena_alloc(r->arena, len);
	off = (size_t)snprintf(list, len, "{");
	for (i = 0; i < db_rows(res); i++)
		off += (size_t)snprintf(list + off, len - off, "%s%s",
		    i ? "," : "", db_get(res, i, 0));
	snprintf(list + off, len - off, "}");
	ids = list;
	if ((res = db_exec(r->arena, &r->fail, "assignments_by_ids", 1,
		 &ids)) == NULL)
		return -1;
	{
		struct page pg = { PAGE_MAX * 10, NULL, NULL };

		if (reply_page(r, res, &pg) == -1)
			return -1;
	}
	r->status = 201;
	return 0;
}

int
assignments_create(struct req *r)
{
	struct create c;
	json_t *body;

	if ((body = req_body_object(r)) == NULL)
		return -1;
	if (check_fields(r, body, c.v, "") > 0)
		return req_fail(r, 422, "invalid_body",
		    "the request body has invalid fields");
	return run_tx(r, create_tx, &c);
}

struct progress {
	const char *v[nitems(progress_fields)];
	const char *version;
};

static int
update_tx(struct req *r, void *arg)
{
	const struct principal *pr = r->principal;
	struct progress *c = arg;
	const char *params[10], *lp[2] = { pr->unit_id, r->param[0] };
	struct dbres *cur, *res;

	if ((cur = db_exec(r->arena, &r->fail, "assignments_lock", 2, lp)) ==
		NULL ||
	    check_locked(r, cur, c->version, "assignment") == -1)
		return -1;
	if (strcmp(db_get(cur, 0, 4), "issued") != 0)
		return req_fail(r, 409, "plan_not_issued",
		    "progress is reported "
		    "on an issued plan; this one is %s",
		    db_get(cur, 0, 4));
	params[0] = r->param[0];
	params[1] = c->v[P_STATUS];
	params[2] = c->v[P_PROGRESS];
	params[3] = c->v[P_NOTE];
	params[4] = c->v[P_RESPONSIBLE];
	params[5] = pr->id;
	params[6] = actor_kind(r);
	params[7] = db_get(cur, 0, 2);
	params[8] = db_get(cur, 0, 1);
	params[9] = r->id;
	if ((res = db_exec(r->arena, &r->fail, "assignments_update", 10,
		 params)) == NULL)
		return -1;
	if (db_rows(res) == 0) {
		return fail_reference(r, "responsible_user_id",
		    "responsible_user_id names no active user of the assigned "
		    "unit");
	}
	return assignments_get(r);
}

int
assignments_update(struct req *r)
{
	struct progress c;
	json_t *body;

	if ((c.version = if_match(r)) == NULL ||
	    (body = req_body_object(r)) == NULL ||
	    validate(r, body, progress_fields, c.v, 1) == -1)
		return -1;
	if (c.v[P_STATUS] != NULL && strcmp(c.v[P_STATUS], "done") == 0 &&
	    c.v[P_PROGRESS] != NULL && strcmp(c.v[P_PROGRESS], "100") != 0) {
		req_field_error(r, "progress", "range", "done work is at 100");
		return req_fail(r, 422, "invalid_body",
		    "the request body has invalid fields");
	}
	return run_tx(r, update_tx, &c);
}
