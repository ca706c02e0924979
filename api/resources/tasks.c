/*
 * Tasks: the numbered content items of a plan, each with its schedule
 * (ongoing all year, within the plan's year, or a deadline). Editable while
 * the plan is a draft; by amendment once it is issued.
 */
#include <stdlib.h>
#include <string.h>

#include "resources/resources.h"

/* clang-format off */
#define TASK_JSON(t)                                                        \
	"json_build_object('id', " t ".id, 'plan_id', " t ".plan_id,"       \
	" 'number', " t ".number, 'title', " t ".title,"                     \
	" 'content', " t ".content, 'schedule', " t ".schedule,"             \
	" 'due_on', " t ".due_on, 'version', " t ".version,"                 \
	" 'created_at', " t ".created_at, 'updated_at', " t ".updated_at)"

/* One round trip: no row means no visible plan (404); a row with a NULL
 * task is a plan without tasks (past the cursor). */
static const char list[] =
    "SELECT CASE WHEN t.id IS NOT NULL THEN " TASK_JSON("t") " END,"
    " encode(convert_to(lpad(t.number::text, 4, '0'), 'UTF8'), 'hex')"
    " FROM plans p LEFT JOIN LATERAL (SELECT * FROM tasks t"
    "  WHERE t.plan_id = p.id AND ($3::text IS NULL OR lpad(t.number::text,"
    "   4, '0') > convert_from(decode($3, 'hex'), 'UTF8'))"
    "  AND ($6::text IS NULL OR fold(t.title) LIKE like_pattern($6))"
    "  ORDER BY t.number LIMIT $4) t ON true"
    " WHERE p.id = $2 AND " PLAN_VISIBLE("p", "$5") " ORDER BY t.number";
static const char get[] =
    "SELECT t.version, " TASK_JSON("t") " FROM tasks t"
    " JOIN plans p ON p.id = t.plan_id WHERE t.id = $2 AND "
    PLAN_VISIBLE("p", "$3");
static const char create[] =
    "WITH ins AS (INSERT INTO tasks (plan_id, number, title, content,"
    "  schedule, due_on) VALUES ($1, $2::int, $3, coalesce($4, ''), $5,"
    "  $6::date) RETURNING *)"
    "SELECT ins.version, " TASK_JSON("ins") ", ins.id"
    " FROM ins JOIN plans p ON p.id = ins.plan_id"
    " JOIN units iu ON iu.id = p.issuing_unit_id,"
    " audit_event($7, $8, 'create', 'task', ins.id, iu.path, NULL,"
    "  to_jsonb(ins), $9)";
/* Locks a task for plan_child_lock, with its schedule and deadline. */
static const char lock[] =
    "SELECT t.plan_id, t.version, to_jsonb(t), t.schedule, t.due_on"
    " FROM tasks t WHERE t.id = $1 FOR UPDATE";
static const char update[] =
    "WITH upd AS (UPDATE tasks SET number = coalesce($2::int, number),"
    "  title = coalesce($3, title), content = coalesce($4, content),"
    "  schedule = coalesce($5, schedule),"
    "  due_on = CASE WHEN coalesce($5, schedule) = 'deadline'"
    "   THEN coalesce($6::date, due_on) END,"
    "  version = version + 1, updated_at = now()"
    "  WHERE id = $1 RETURNING *)"
    "SELECT upd.version, " TASK_JSON("upd") " FROM upd,"
    " audit_event($7, $8, 'update', 'task', upd.id, $9::ltree, $10::jsonb,"
    "  to_jsonb(upd), $11)";
/* clang-format on */

const struct db_stmt tasks_stmts[] = {
	{ "tasks_list", list },
	{ "tasks_get", get },
	{ "tasks_create", create },
	{ "tasks_lock", lock },
	{ "tasks_update", update },
	{ NULL, NULL },
};

enum { F_NUMBER, F_TITLE, F_CONTENT, F_SCHEDULE, F_DUE_ON, F_REASON };
static const struct field fields[] = {
	[F_NUMBER] = { "number", F_INT, 1, 0, 0, 1, 999, NULL },
	[F_TITLE] = { "title", F_STRING, 1, 0, 0, 1, 300, NULL },
	[F_CONTENT] = { "content", F_STRING, 0, 0, 0, 0, 20000, NULL },
	[F_SCHEDULE] = { "schedule", F_ENUM, 1, 0, 0, 0, 0, task_schedules },
	[F_DUE_ON] = { "due_on", F_DATE, 0, 1, 0, 0, 0, NULL },
	[F_REASON] = { "amendment_reason", F_STRING, 0, 0, 0, 1, 2000, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};

/* Checks task fields into v (nitems(fields) slots); returns the number of
 * field errors. */
static int
check_fields(struct req *r, json_t *obj, const char **v, int patch,
    const char *prefix)
{
	int bad = validate_at(r, obj, fields, v, patch, prefix);
	const char *sched = v[F_SCHEDULE];

	if (sched == NULL || bad > 0)
		return bad;
	if (strcmp(sched, "deadline") == 0 && v[F_DUE_ON] == NULL) {
		req_field_error(r, arena_printf(r->arena, "%sdue_on", prefix),
		    "required", "a deadline needs due_on");
		bad++;
	} else if (strcmp(sched, "deadline") != 0 && v[F_DUE_ON] != NULL) {
		req_field_error(r, arena_printf(r->arena, "%sdue_on", prefix),
		    "not_allowed", "only a deadline has due_on");
		bad++;
	}
	return bad;
}

struct task_input {
	const char *v[nitems(fields)];
};

int
task_fields(struct req *r, json_t *obj, const char *prefix,
    struct task_input **in)
{
	*in = arena_zalloc(r->arena, sizeof(**in));
	return check_fields(r, obj, (*in)->v, 0, prefix);
}

const char *
task_number(const struct task_input *in)
{
	return in->v[F_NUMBER];
}

/* Inserts a task of plan_id; returns its row (version, json, id) or NULL. */
static struct dbres *
insert(struct req *r, const char *plan_id, const char *const *v)
{
	const char *params[9];

	params[0] = plan_id;
	params[1] = v[F_NUMBER];
	params[2] = v[F_TITLE];
	params[3] = v[F_CONTENT];
	params[4] = v[F_SCHEDULE];
	params[5] = v[F_DUE_ON];
	params[6] = r->principal ? r->principal->id : NULL;
	params[7] = actor_kind(r);
	params[8] = r->id;
	return db_exec(r->arena, &r->fail, "tasks_create", 9, params);
}

const char *
task_insert(struct req *r, const char *plan_id, const struct task_input *in)
{
	struct dbres *res;

	if ((res = insert(r, plan_id, in->v)) == NULL)
		return NULL;
	return db_get(res, 0, 2);
}

int
task_lock(struct req *r, const char *task_id, const char *version,
    struct plan_state *st, struct plan_child *task)
{
	return plan_child_lock(r, "tasks_lock", task_id, version, "task", st,
	    task);
}

int
tasks_list(struct req *r)
{
	static const char empty[] = "{\"items\":[],\"next_cursor\":null}";
	const char *params[6];
	struct page pg;
	struct dbres *res;

	if (page_params(r, &pg) == -1 ||
	    query_params(r, search_filters, &params[5]) == -1)
		return -1;
	params[0] = r->principal->unit_id;
	params[1] = r->param[0];
	params[2] = pg.cursor;
	params[3] = pg.fetch;
	params[4] = plan_drafts(r);
	if ((res = page_exec(r, "tasks_list", 6, params, &pg)) == NULL)
		return -1;
	if (db_rows(res) == 0)
		return req_fail(r, 404, "not_found", "no such plan");
	if (db_get(res, 0, 0) == NULL)
		return req_reply(r, 200, "application/json", empty,
		    sizeof(empty) - 1);
	return reply_page(r, res, &pg);
}

int
tasks_get(struct req *r)
{
	return reply_plan_get(r, "tasks_get", "task");
}

struct change {
	const char *v[nitems(fields)];
	const char *version; /* NULL on create */
};

static int
create_tx(struct req *r, void *arg)
{
	struct change *c = arg;
	struct plan_state st;
	struct dbres *res;

	if (plan_lock(r, r->param[0], NULL, &st) == -1 ||
	    (res = insert(r, r->param[0], c->v)) == NULL ||
	    plan_amend(r, &st, c->v[F_REASON], "task", db_get(res, 0, 2),
		changes_of(r), NULL, 1) == -1)
		return -1;
	req_header_add(r, "Location",
	    arena_printf(r->arena, "/api/v1/tasks/%s", db_get(res, 0, 2)));
	return reply_entity(r, res, 201, "task");
}

int
tasks_create(struct req *r)
{
	struct change c = { .version = NULL };
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
	struct change *c = arg;
	struct plan_state st;
	struct plan_child task;
	const char *params[11];
	const char *sched, *due;
	struct dbres *res;

	if (task_lock(r, r->param[0], c->version, &st, &task) == -1)
		return -1;
	/* The schedule and due_on must still agree after the change. */
	sched = c->v[F_SCHEDULE] ? c->v[F_SCHEDULE] : db_get(task.row, 0, 3);
	due = c->v[F_DUE_ON] ? c->v[F_DUE_ON] :
	    c->v[F_SCHEDULE] && strcmp(c->v[F_SCHEDULE], "deadline") != 0 ?
			       NULL :
			       db_get(task.row, 0, 4);
	if ((strcmp(sched, "deadline") == 0) != (due != NULL)) {
		req_field_error(r, "due_on", due ? "not_allowed" : "required",
		    due ? "only a deadline has due_on" :
			  "a deadline needs due_on");
		return req_fail(r, 422, "invalid_body",
		    "the schedule and due_on disagree");
	}
	params[0] = r->param[0];
	params[1] = c->v[F_NUMBER];
	params[2] = c->v[F_TITLE];
	params[3] = c->v[F_CONTENT];
	params[4] = c->v[F_SCHEDULE];
	params[5] = c->v[F_DUE_ON];
	params[6] = r->principal->id;
	params[7] = actor_kind(r);
	params[8] = st.unit_path;
	params[9] = task.json;
	params[10] = r->id;
	if ((res = db_exec(r->arena, &r->fail, "tasks_update", 11, params)) ==
		NULL ||
	    plan_amend(r, &st, c->v[F_REASON], "task", r->param[0],
		changes_of(r), task.json, 1) == -1)
		return -1;
	return reply_entity(r, res, 200, "task");
}

int
tasks_update(struct req *r)
{
	struct change c;
	json_t *body;

	if ((c.version = if_match(r)) == NULL ||
	    (body = req_body_object(r)) == NULL || only_reason(r, body) == -1)
		return -1;
	if (validate_at(r, body, fields, c.v, 1, "") > 0)
		return req_fail(r, 422, "invalid_body",
		    "the request body has invalid fields");
	return run_tx(r, update_tx, &c);
}
