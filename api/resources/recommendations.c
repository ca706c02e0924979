/*
 * Recommendations (kiến nghị) of an inspection, made with a finding or on
 * their own: open -> responded (by the unit they are addressed to, with
 * evidence) -> resolved (the team accepts), back to open on reopen with a
 * reason. Overdue is computed from due_on in Asia/Ho_Chi_Minh, never
 * stored.
 */
#include <string.h>

#include "resources/resources.h"

/* clang-format off */
#define REC_JSON(r)                                                          \
	"json_build_object('id', " r ".id, 'inspection_id', " r ".inspection_id," \
	" 'finding_id', " r ".finding_id,"                                   \
	" 'responsible_unit_id', " r ".responsible_unit_id,"                 \
	" 'text', " r ".text, 'due_on', " r ".due_on, 'status', " r ".status," \
	" 'overdue', " r ".status <> 'resolved' AND " r ".due_on < today_vn()," \
	" 'response', " r ".response, 'responded_at', " r ".responded_at,"   \
	" 'responded_by', " r ".responded_by,"                               \
	" 'resolved_at', " r ".resolved_at, 'resolved_by', " r ".resolved_by," \
	" 'reopen_reason', " r ".reopen_reason,"                             \
	" 'reopened_at', " r ".reopened_at, 'reopen_count', " r ".reopen_count," \
	" 'attachments', (SELECT count(*) FROM attachments a"                \
	"  WHERE a.recommendation_id = " r ".id),"                           \
	" 'version', " r ".version, 'created_at', " r ".created_at,"         \
	" 'updated_at', " r ".updated_at)"
#define KEY(r) "(" r ".due_on::text || " r ".id::text)"

static const char list[] =
    "SELECT " REC_JSON("r") ", encode(convert_to(" KEY("r") ", 'UTF8'),"
    " 'hex') FROM recommendations r WHERE recommendation_visible(r.id, $1, $2)"
    " AND ($3::uuid IS NULL OR r.responsible_unit_id = $3)"
    " AND ($4::uuid IS NULL OR r.inspection_id = $4)"
    " AND ($5::text IS NULL OR r.status = $5)"
    " AND ($6::boolean IS NULL OR (r.status <> 'resolved'"
    "  AND r.due_on < today_vn()) = $6)"
    " AND ($7::text IS NULL OR " KEY("r") " > convert_from(decode($7, 'hex'),"
    "  'UTF8')) ORDER BY " KEY("r") " LIMIT $8";
static const char get[] =
    "SELECT r.version, " REC_JSON("r") " FROM recommendations r"
    " WHERE r.id = $2 AND recommendation_visible(r.id, $1, $3)";
/* A new one: the unit it is addressed to (active, in the reach) and the
 * finding (of the same inspection). */
static const char check[] =
    "SELECT EXISTS (SELECT 1 FROM units u WHERE u.id = $2 AND u.active"
    "  AND u.path <@ $1::ltree),"
    " $4::uuid IS NULL OR EXISTS (SELECT 1 FROM findings f WHERE f.id = $4"
    "  AND f.inspection_id = $3), (SELECT path FROM units WHERE id = $2)";
static const char insert[] =
    "WITH ins AS (INSERT INTO recommendations (inspection_id, finding_id,"
    "  responsible_unit_id, text, due_on, created_by)"
    "  VALUES ($1, $2, $3, $4, $5, $6) RETURNING *)"
    "SELECT ins.version, " REC_JSON("ins") ", ins.id FROM ins,"
    " audit_event($6, $7, 'create', 'recommendation', ins.id, $8::ltree, NULL,"
    "  to_jsonb(ins), $9)";
static const char lock[] =
    "SELECT r.version, r.status, to_jsonb(r), ru.path, r.inspection_id,"
    " me.path <@ ru.path FROM recommendations r"
    " JOIN units ru ON ru.id = r.responsible_unit_id, units me"
    " WHERE r.id = $2 AND me.id = $1 AND recommendation_visible(r.id, $1, $3)"
    " FOR UPDATE OF r";
static const char step_sql[] =
    "WITH upd AS (UPDATE recommendations SET status = $2,"
    "  response = CASE WHEN $2 = 'responded' THEN $3 ELSE response END,"
    "  responded_at = CASE WHEN $2 = 'responded' THEN now() ELSE responded_at END,"
    "  responded_by = CASE WHEN $2 = 'responded' THEN $4::uuid"
    "   ELSE responded_by END,"
    "  resolved_at = CASE WHEN $2 = 'resolved' THEN now() ELSE NULL END,"
    "  resolved_by = CASE WHEN $2 = 'resolved' THEN $4::uuid ELSE NULL END,"
    "  reopen_reason = CASE WHEN $2 = 'open' THEN $3 ELSE reopen_reason END,"
    "  reopened_at = CASE WHEN $2 = 'open' THEN now() ELSE reopened_at END,"
    "  reopen_count = reopen_count + CASE WHEN $2 = 'open' THEN 1 ELSE 0 END,"
    "  version = version + 1, updated_at = now() WHERE id = $1 RETURNING *)"
    "SELECT upd.version, " REC_JSON("upd") " FROM upd,"
    " audit_event($4, $5, $6, 'recommendation', upd.id, $7::ltree, $8::jsonb,"
    "  to_jsonb(upd), $9)";
/* clang-format on */

const struct db_stmt recommendations_stmts[] = {
	{ "recommendations_list", list },
	{ "recommendations_get", get },
	{ "recommendations_check", check },
	{ "recommendations_insert", insert },
	{ "recommendations_lock", lock },
	{ "recommendations_step", step_sql },
	{ NULL, NULL },
};

enum { F_INSPECTION, F_FINDING, F_UNIT, F_TEXT, F_DUE };
static const struct field fields[] = {
	[F_INSPECTION] = { "inspection_id", F_UUID, 1, 0, 0, 0, 0, NULL },
	[F_FINDING] = { "finding_id", F_UUID, 0, 1, 0, 0, 0, NULL },
	[F_UNIT] = { "responsible_unit_id", F_UUID, 0, 0, 0, 0, 0, NULL },
	[F_TEXT] = { "text", F_STRING, 1, 0, 0, 1, 5000, NULL },
	[F_DUE] = { "due_on", F_DATE, 1, 0, 0, 0, 0, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};

static const struct field filters[] = {
	{ "responsible_unit_id", F_UUID, 0, 0, 0, 0, 0, NULL },
	{ "inspection_id", F_UUID, 0, 0, 0, 0, 0, NULL },
	{ "status", F_ENUM, 0, 0, 0, 0, 0, recommendation_statuses },
	{ "overdue", F_BOOL, 0, 0, 0, 0, 0, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};

int
recommendations_list(struct req *r)
{
	return reply_list_as_user(r, "recommendations_list", filters);
}

int
recommendations_get(struct req *r)
{
	return reply_get_as_user(r, "recommendations_get", "recommendation");
}

struct dbres *
recommendation_insert(struct req *r, const struct inspection_state *s,
    const char *inspection_id, const char *finding_id, json_t *obj,
    const char *prefix)
{
	const struct principal *p = r->principal;
	const char *v[nitems(fields)], *params[9];
	struct dbres *res;
	const char *unit;

	/* Within a finding the inspection and the finding are given. */
	if (validate_at(r, obj, fields + (*prefix ? F_UNIT : 0),
		v + (*prefix ? F_UNIT : 0), 0, prefix) > 0) {
		req_fail(r, 422, "invalid_body",
		    "the request body has invalid fields");
		return NULL;
	}
	unit = v[F_UNIT] ? v[F_UNIT] : s->target_unit_id;
	params[0] = s->reach_path;
	params[1] = unit;
	params[2] = inspection_id;
	params[3] = finding_id;
	if ((res = db_exec(r->arena, &r->fail, "recommendations_check", 4,
		 params)) == NULL)
		return NULL;
	if (strcmp(db_get(res, 0, 0), "t") != 0) {
		fail_reference(r,
		    arena_printf(r->arena, "%sresponsible_unit_id", prefix),
		    "responsible_unit_id names no active unit of the "
		    "plan");
		return NULL;
	}
	if (strcmp(db_get(res, 0, 1), "t") != 0) {
		fail_reference(r, "finding_id",
		    "finding_id names no finding of "
		    "this inspection");
		return NULL;
	}
	params[0] = inspection_id;
	params[1] = finding_id;
	params[2] = unit;
	params[3] = v[F_TEXT];
	params[4] = v[F_DUE];
	params[5] = p->id;
	params[6] = actor_kind(r);
	params[7] = db_get(res, 0, 2);
	params[8] = r->id;
	return db_exec(r->arena, &r->fail, "recommendations_insert", 9, params);
}

/* The team records findings and recommendations while the visit is under
 * way (recommendations also once it is completed). */
int
inspection_team_only(struct req *r, const struct inspection_state *s,
    int after_completion)
{
	if (!s->on_team)
		return req_fail(r, 409, "not_on_team",
		    "only the inspection's "
		    "team records findings and recommendations");
	if (strcmp(s->status, "in_progress") != 0 &&
	    !(after_completion && strcmp(s->status, "completed") == 0))
		return req_fail(r, 409, "inspection_not_in_progress",
		    "a %s "
		    "inspection takes no findings%s",
		    s->status, after_completion ? " or recommendations" : "");
	return 0;
}

static int
create_tx(struct req *r, void *arg)
{
	const char **v = arg;
	struct inspection_state s;
	struct dbres *res;

	if (inspection_lock(r, v[F_INSPECTION], NULL, &s) == -1) {
		if (r->fail.status != 404)
			return -1;
		req_clear_failure(r);
		return fail_reference(r, "inspection_id",
		    "inspection_id names "
		    "no inspection you see");
	}
	if (inspection_team_only(r, &s, 1) == -1 ||
	    (res = recommendation_insert(r, &s, v[F_INSPECTION], v[F_FINDING],
		 r->json, "")) == NULL)
		return -1;
	return reply_created(r, res, "/api/v1/recommendations",
	    "recommendation");
}

int
recommendations_create(struct req *r)
{
	const char *v[nitems(fields)];

	if (req_body_object(r) == NULL ||
	    validate(r, r->json, fields, v, 0) == -1)
		return -1;
	return run_tx(r, create_tx, v);
}

int
recommendation_lock(struct req *r, const char *id, const char *version,
    struct recommendation_state *s)
{
	const char *params[3] = { r->principal->unit_id, id, r->principal->id };
	struct dbres *cur;

	if ((cur = db_exec(r->arena, &r->fail, "recommendations_lock", 3,
		 params)) == NULL ||
	    (version != NULL &&
		check_locked(r, cur, version, "recommendation") == -1))
		return -1;
	if (db_rows(cur) == 0)
		return req_fail(r, 404, "not_found", "no such recommendation");
	s->version = db_get(cur, 0, 0);
	s->status = db_get(cur, 0, 1);
	s->json = db_get(cur, 0, 2);
	s->unit_path = db_get(cur, 0, 3);
	s->inspection_id = db_get(cur, 0, 4);
	s->addressed = strcmp(db_get(cur, 0, 5), "t") == 0;
	return 0;
}

struct step {
	const char *version, *to, *text, *action;
};

static int
step_tx(struct req *r, void *arg)
{
	const struct principal *p = r->principal;
	struct step *c = arg;
	struct recommendation_state s;
	struct inspection_state is;
	const char *params[9];
	struct dbres *res;

	if (recommendation_lock(r, r->param[0], c->version, &s) == -1)
		return -1;
	if (strcmp(c->to, "responded") == 0) {
		if (!s.addressed)
			return req_fail(r, 409, "not_addressed",
			    "only the unit "
			    "the recommendation is addressed to answers it");
	} else if (inspection_lock(r, s.inspection_id, NULL, &is) == -1)
		return -1;
	if ((strcmp(c->to, "responded") == 0 && strcmp(s.status, "open") != 0) ||
	    (strcmp(c->to, "resolved") == 0 &&
		strcmp(s.status, "responded") != 0) ||
	    (strcmp(c->to, "open") == 0 && strcmp(s.status, "open") == 0))
		return req_fail(r, 409, "invalid_transition",
		    "a %s "
		    "recommendation cannot be %s",
		    s.status, c->action);
	params[0] = r->param[0];
	params[1] = c->to;
	params[2] = c->text;
	params[3] = p->id;
	params[4] = actor_kind(r);
	params[5] = c->action;
	params[6] = s.unit_path;
	params[7] = s.json;
	params[8] = r->id;
	if ((res = db_exec(r->arena, &r->fail, "recommendations_step", 9,
		 params)) == NULL)
		return -1;
	return reply_entity(r, res, 200, "recommendation");
}

static int
step(struct req *r, const char *to, const char *action, const char *field,
    long long max)
{
	struct field body[2] = {
		{ field, F_STRING, 1, 0, 0, 1, max, NULL },
		{ NULL, 0, 0, 0, 0, 0, 0, NULL },
	};
	struct step c = { .to = to, .action = action };

	if ((c.version = if_match(r)) == NULL)
		return -1;
	if (field == NULL) {
		if (no_fields(r) == -1)
			return -1;
	} else if (req_body_object(r) == NULL ||
	    validate(r, r->json, body, &c.text, 0) == -1)
		return -1;
	return run_tx(r, step_tx, &c);
}

int
recommendations_respond(struct req *r)
{
	return step(r, "responded", "respond", "response", 5000);
}

int
recommendations_resolve(struct req *r)
{
	return step(r, "resolved", "resolve", NULL, 0);
}

int
recommendations_reopen(struct req *r)
{
	return step(r, "open", "reopen", "reason", 2000);
}
