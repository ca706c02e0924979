/*
 * Submissions: what a unit sends — its own plan, its reports, a "Dân vận
 * khéo" model registration, a difficulty report — for a milestone, a task or
 * an assignment. draft -> submitted -> accepted | returned (with a reason)
 * -> resubmitted ...; accepted -> approved by the level above. Accepted and
 * approved submissions are locked. Each submit is kept as a version, and the
 * first one decides timeliness, by the server's clock.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resources/resources.h"

/* clang-format off */
/* Seen by the submitting side and by the receiving side, and above. */
#define VISIBLE(s)                                                           \
	"EXISTS (SELECT 1 FROM units su, units me WHERE me.id = $1"          \
	" AND su.id IN (" s ".unit_id, " s ".receiving_unit_id)"             \
	" AND su.path <@ me.path)"
#define QUEUE_KEY(s)                                                         \
	"(to_char(coalesce(" s ".last_submitted_at, " s ".created_at) AT TIME"  \
	" ZONE 'UTC', 'YYYYMMDDHH24MISSUS') || " s ".id::text)"

static const char list[] =
    "SELECT " SUBMISSION_JSON("s") ", encode(convert_to(" QUEUE_KEY("s") ","
    " 'UTF8'), 'hex') FROM submissions s WHERE " VISIBLE("s")
    " AND ($2::text IS NULL OR s.status = $2)"
    " AND ($3::text IS NULL OR s.kind = $3)"
    " AND ($4::uuid IS NULL OR s.unit_id = $4)"
    " AND ($5::uuid IS NULL OR s.receiving_unit_id = $5)"
    " AND ($6::uuid IS NULL OR s.milestone_id = $6)"
    " AND ($7::uuid IS NULL OR s.plan_id = $7)"
    " AND ($8::text IS NULL OR fold(s.title) LIKE like_pattern($8))"
    " AND ($9::text IS NULL OR " QUEUE_KEY("s")
    "  > convert_from(decode($9, 'hex'), 'UTF8'))"
    " ORDER BY " QUEUE_KEY("s") " LIMIT $10";
static const char get[] =
    "SELECT s.version, " SUBMISSION_JSON("s") " FROM submissions s"
    " WHERE s.id = $2 AND " VISIBLE("s");
/* What a new submission answers: its unit (in the caller's subtree), the
 * unit it goes to, its plan, and whether the unit owes the milestone. */
/* Milestones, tasks and assignments count only in issued plans the caller
 * sees: another commune's answer exactly like one that does not exist.
 * Column 8: they belong to one plan; 9: the unit's answer to the milestone
 * made already. */
#define IN_ISSUED_PLAN(plan_id)                                              \
	"EXISTS (SELECT 1 FROM plans p WHERE p.id = " plan_id                 \
	" AND p.status <> 'draft' AND " PLAN_VISIBLE("p", "'none'") ")"
/*
 * What the context binds for a reference the body leaves out: the nil UUID,
 * which no row has (ids come from gen_random_uuid), rather than NULL. With a
 * NULL the planner folds the joins away, so a custom plan looks cheaper than
 * the generic one and the statement is planned anew on every call (0.7 ms,
 * ten times its run); with a value it keeps its one generic plan.
 */
#define NO_REF "00000000-0000-0000-0000-000000000000"
#define NIL "'" NO_REF "'::uuid"
#define CONTEXT                                                              \
    "SELECT u.id IS NOT NULL AS unit_ok,"                                    \
    " coalesce(m.receiving_unit_id, u.parent_id, u.id) AS receiving,"        \
    " coalesce(m.plan_id, t.plan_id, at.plan_id) AS plan,"                   \
    " m.id IS NOT NULL AS milestone_ok, m.kind AS milestone_kind,"           \
    " EXISTS (SELECT 1 FROM milestone_units mu WHERE mu.milestone_id = m.id" \
    "  AND mu.unit_id = u.id) AS owed,"                                      \
    " t.id IS NOT NULL AS task_ok,"                                          \
    " a.id IS NOT NULL AND a.unit_id = u.id AS assignment_ok,"               \
    " (SELECT count(DISTINCT x) FROM unnest(ARRAY[m.plan_id, t.plan_id,"     \
    "  at.plan_id]) x) <= 1 AS one_plan,"                                    \
    " (SELECT s.id FROM submissions s WHERE s.milestone_id = m.id"           \
    "  AND s.unit_id = u.id) AS answer"                                      \
    " FROM (SELECT 1) one"                                                   \
    " LEFT JOIN units u ON u.id = $2 AND u.active"                           \
    "  AND u.path <@ " SCOPE                                                 \
    " LEFT JOIN milestones m ON m.id = $3 AND " IN_ISSUED_PLAN("m.plan_id")  \
    " LEFT JOIN tasks t ON t.id = $4 AND " IN_ISSUED_PLAN("t.plan_id")       \
    " LEFT JOIN assignments a ON a.id = $5"                                  \
    " LEFT JOIN tasks at ON at.id = a.task_id AND "                          \
    IN_ISSUED_PLAN("at.plan_id")
/*
 * The create, in one statement with its context (one round trip): the row
 * and its audit event are written only when the context allows what
 * create_tx checks again to say what is wrong: the unit, each reference
 * given (not the nil UUID), one plan, the milestone not answered yet by
 * another submission. Columns 0-2: the new row (NULL when none), then the
 * context's. The references are $3-$5 as the context binds them.
 */
static const char create[] =
    "WITH ctx AS (" CONTEXT "),"
    " ins AS (INSERT INTO submissions (id, unit_id, kind, milestone_id,"
    "  task_id, assignment_id, plan_id, receiving_unit_id, title, body, data,"
    "  request_hash, created_by, due_on)"
    "  SELECT coalesce($6::uuid, gen_random_uuid()), $2, $7,"
    "  nullif($3, " NIL "), nullif($4, " NIL "), nullif($5, " NIL "),"
    "  ctx.plan, ctx.receiving, $8, coalesce($9, ''),"
    "  coalesce($10::jsonb, '{}'), $11, $12,"
    "  (SELECT coalesce(e.due_on, m.due_on) FROM milestones m"
    "   LEFT JOIN extensions e ON e.milestone_id = m.id AND e.unit_id = $2"
    "   WHERE m.id = $3)"
    "  FROM ctx WHERE ctx.unit_ok"
    "  AND ($3 = " NIL " OR (ctx.milestone_ok AND ctx.owed"
    "   AND ctx.milestone_kind IN ('custom', $7::text)))"
    "  AND ($4 = " NIL " OR ctx.task_ok)"
    "  AND ($5 = " NIL " OR ctx.assignment_ok) AND ctx.one_plan"
    "  AND (ctx.answer IS NULL OR ctx.answer = $6::uuid)"
    "  ON CONFLICT DO NOTHING RETURNING *)"
    "SELECT new.version, new.json, new.id, ctx.* FROM ctx"
    " LEFT JOIN (SELECT ins.version, " SUBMISSION_JSON("ins") " AS json,"
    "  ins.id FROM ins JOIN units u ON u.id = ins.unit_id,"
    "  audit_event($12, $13, 'create', 'submission', ins.id, u.path, NULL,"
    "   to_jsonb(ins) - 'request_hash', $14)) new ON true";
/* A create repeated with the client's id: same request, or a clash. */
static const char existing[] =
    "SELECT s.version, " SUBMISSION_JSON("s") ", s.request_hash = $3"
    " AND " VISIBLE("s") " FROM submissions s WHERE s.id = $2";
static const char update[] =
    "WITH upd AS (UPDATE submissions SET title = coalesce($2, title),"
    "  body = coalesce($3, body), data = coalesce($4::jsonb, data),"
    "  version = version + 1, updated_at = now() WHERE id = $1 RETURNING *)"
    "SELECT upd.version, " SUBMISSION_JSON("upd") " FROM upd,"
    " audit_event($5, $6, 'update', 'submission', upd.id, $7::ltree,"
    "  $8::jsonb, to_jsonb(upd) - 'request_hash', $9)";
static const char versions[] =
    "SELECT json_build_object('revision', v.revision, 'submitted_at',"
    " v.submitted_at, 'title', v.title, 'body', v.body, 'data', v.data,"
    " 'timeliness', v.timeliness, 'returned_reason', v.returned_reason),"
    " encode(convert_to(lpad(v.revision::text, 6, '0'), 'UTF8'), 'hex')"
    " FROM submission_versions v WHERE v.submission_id = $2 AND $1::uuid IS NOT NULL"
    " AND ($3::text IS NULL OR lpad(v.revision::text, 6, '0') >"
    "  convert_from(decode($3, 'hex'), 'UTF8'))"
    " ORDER BY v.revision LIMIT $4";
static const char visible[] =
    "SELECT 1 FROM submissions s WHERE s.id = $2 AND " VISIBLE("s");
/* clang-format on */

const struct db_stmt submissions_stmts[] = {
	{ "submissions_list", list },
	{ "submissions_get", get },
	{ "submissions_create", create },
	{ "submissions_existing", existing },
	{ "submissions_update", update },
	{ "submissions_versions", versions },
	{ "submissions_visible", visible },
	{ NULL, NULL },
};

enum {
	F_ID,
	F_UNIT,
	F_KIND,
	F_MILESTONE,
	F_TASK,
	F_ASSIGNMENT,
	F_TITLE,
	F_BODY,
	F_DATA,
	F_SUBMIT
};
static const struct field fields[] = {
	[F_ID] = { "id", F_UUID, 0, 0, 1, 0, 0, NULL },
	[F_UNIT] = { "unit_id", F_UUID, 1, 0, 1, 0, 0, NULL },
	[F_KIND] = { "kind", F_ENUM, 1, 0, 1, 0, 0, submission_kinds },
	[F_MILESTONE] = { "milestone_id", F_UUID, 0, 1, 1, 0, 0, NULL },
	[F_TASK] = { "task_id", F_UUID, 0, 1, 1, 0, 0, NULL },
	[F_ASSIGNMENT] = { "assignment_id", F_UUID, 0, 1, 1, 0, 0, NULL },
	[F_TITLE] = { "title", F_STRING, 1, 0, 0, 1, 300, NULL },
	[F_BODY] = { "body", F_STRING, 0, 0, 0, 0, 20000, NULL },
	[F_DATA] = { "data", F_JSON, 0, 0, 0, 0, 0, NULL },
	[F_SUBMIT] = { "submit", F_BOOL, 0, 0, 1, 0, 0, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};

static const struct field filters[] = {
	{ "status", F_ENUM, 0, 0, 0, 0, 0, submission_statuses },
	{ "kind", F_ENUM, 0, 0, 0, 0, 0, submission_kinds },
	{ "unit_id", F_UUID, 0, 0, 0, 0, 0, NULL },
	{ "receiving_unit_id", F_UUID, 0, 0, 0, 0, 0, NULL },
	{ "milestone_id", F_UUID, 0, 0, 0, 0, 0, NULL },
	{ "plan_id", F_UUID, 0, 0, 0, 0, 0, NULL },
	{ "q", F_STRING, 0, 0, 0, 1, 200, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};

/* Structured data by kind: an object; a model registration names its model.
 * Returns the number of problems. */
static int
check_data(struct req *r, const char *kind, json_t *data)
{
	static const char *const need[] = { "name", "field", "description",
		"expected_results", NULL };
	const char *s;
	int i, bad = 0;

	if (data != NULL && !json_is_object(data)) {
		req_field_error(r, "data", "type", "data must be an object");
		return 1;
	}
	if (kind == NULL || strcmp(kind, "model_registration") != 0)
		return 0;
	for (i = 0; need[i] != NULL; i++) {
		s = json_string_value(json_object_get(data, need[i]));
		/* A model's name is at most 300 characters, like the model's. */
		if (s == NULL || *s == '\0' || strlen(s) > 5000 ||
		    (i == 0 && utf8_chars(s) > 300)) {
			req_field_error(r,
			    arena_printf(r->arena, "data.%s", need[i]),
			    "required",
			    "a model registration needs "
			    "data.%s, a string of 1 to %s",
			    need[i], i == 0 ? "300 characters" : "5000 bytes");
			bad++;
		} else if (i == 1) {
			int j;

			for (j = 0; model_fields[j] != NULL &&
			     strcmp(model_fields[j], s) != 0;
			     j++)
				;
			if (model_fields[j] == NULL) {
				req_field_error(r, "data.field", "enum",
				    "data.field is not a known field of work");
				bad++;
			}
		}
	}
	return bad;
}

int
submissions_list(struct req *r)
{
	return reply_list(r, "submissions_list", filters);
}

int
submissions_get(struct req *r)
{
	return reply_get(r, "submissions_get", "submission");
}

int
submissions_versions(struct req *r)
{
	return reply_sublist(r, "submissions_visible", "submissions_versions",
	    "submission");
}

struct create {
	const char *v[nitems(fields)];
	char hash[65];
};

int
submission_find(struct req *r, const char *id)
{
	const char *params[2] = { r->principal->unit_id, id };
	struct dbres *res;

	if ((res = db_exec(r->arena, &r->fail, "submissions_visible", 2,
		 params)) == NULL)
		return -1;
	if (db_rows(res) == 0)
		return req_fail(r, 404, "not_found", "no such submission");
	return 0;
}

/* 409 milestone_answered, with the answer's Location when id is known. */
static int
milestone_answered(struct req *r, const char *id)
{
	if (id == NULL)
		return req_fail(r, 409, "milestone_answered",
		    "the unit has "
		    "answered this milestone already; edit or resubmit that "
		    "submission");
	req_header_add(r, "Location",
	    arena_printf(r->arena, "/api/v1/submissions/%s", id));
	return req_fail(r, 409, "milestone_answered",
	    "the unit has answered "
	    "this milestone already with submission %s; edit or resubmit it",
	    id);
}

/* Column i of the create's context (after the new row's three). */
#define CTX(i) db_get(res, 0, 3 + (i))

static int
create_tx(struct req *r, void *arg)
{
	const struct principal *p = r->principal;
	struct create *c = arg;
	const char *params[14], *kind = c->v[F_KIND];
	struct submission_state st;
	struct dbres *res;
	int bad = 0;

	params[0] = p->unit_id;
	params[1] = c->v[F_UNIT];
	params[2] = c->v[F_MILESTONE] != NULL ? c->v[F_MILESTONE] : NO_REF;
	params[3] = c->v[F_TASK] != NULL ? c->v[F_TASK] : NO_REF;
	params[4] = c->v[F_ASSIGNMENT] != NULL ? c->v[F_ASSIGNMENT] : NO_REF;
	params[5] = c->v[F_ID];
	params[6] = kind;
	params[7] = c->v[F_TITLE];
	params[8] = c->v[F_BODY];
	params[9] = c->v[F_DATA];
	params[10] = c->hash;
	params[11] = p->id;
	params[12] = actor_kind(r);
	params[13] = r->id;
	if ((res = db_exec(r->arena, &r->fail, "submissions_create", 14,
		 params)) == NULL)
		return -1;
	if (strcmp(CTX(0), "t") != 0) {
		return fail_reference(r, "unit_id",
		    "unit_id names no active "
		    "unit of yours");
	}
	if (c->v[F_MILESTONE] != NULL) {
		if (strcmp(CTX(3), "t") != 0) {
			req_field_error(r, "milestone_id", "unknown",
			    "milestone_id names nothing that exists");
			bad++;
		} else if (strcmp(CTX(5), "t") != 0)
			return req_fail(r, 422, "not_owed",
			    "the unit owes "
			    "nothing for this milestone");
		else if (strcmp(CTX(4), "custom") != 0 &&
		    strcmp(CTX(4), kind) != 0) {
			req_field_error(r, "kind", "mismatch",
			    "the milestone "
			    "expects a %s",
			    CTX(4));
			bad++;
		}
	}
	if (c->v[F_TASK] != NULL && strcmp(CTX(6), "t") != 0) {
		req_field_error(r, "task_id", "unknown",
		    "task_id names nothing "
		    "that exists");
		bad++;
	}
	if (c->v[F_ASSIGNMENT] != NULL && strcmp(CTX(7), "t") != 0) {
		req_field_error(r, "assignment_id", "unknown",
		    "assignment_id "
		    "names no assignment of this unit");
		bad++;
	}
	if (bad == 0 && strcmp(CTX(8), "t") != 0) {
		req_field_error(r, "task_id", "mismatch",
		    "the milestone, task "
		    "and assignment belong to different plans");
		bad++;
	}
	if (bad > 0)
		return req_fail(r, 422, "invalid_reference",
		    "a reference does not fit");
	/* A unit answers a milestone once: point at the answer it made. */
	if (CTX(9) != NULL &&
	    (c->v[F_ID] == NULL || strcmp(c->v[F_ID], CTX(9)) != 0))
		return milestone_answered(r, CTX(9));
	if (db_get(res, 0, 2) == NULL) {
		/* The client's id exists: its own earlier try, or a clash. */
		const char *ep[3] = { p->unit_id, c->v[F_ID], c->hash };

		if ((res = db_exec(r->arena, &r->fail, "submissions_existing",
			 3, ep)) == NULL)
			return -1;
		/* Not the id: a concurrent answer to the same milestone. */
		if (db_rows(res) == 0)
			return milestone_answered(r, NULL);
		if (strcmp(db_get(res, 0, 2), "t") != 0)
			return req_fail(r, 409, "conflict",
			    "a submission with "
			    "this id exists and was made from another request");
		return reply_entity(r, res, 200, "submission");
	}
	if (c->v[F_SUBMIT] != NULL && strcmp(c->v[F_SUBMIT], "true") == 0) {
		const char *id = db_get(res, 0, 2);

		if (submission_lock(r, id, 0, NULL, &st) == -1 ||
		    (res = submission_step(r, &st, "submitted", NULL,
			 "submit")) == NULL)
			return -1;
		req_header_add(r, "Location",
		    arena_printf(r->arena, "/api/v1/submissions/%s", id));
		return reply_entity(r, res, 201, "submission");
	}
	req_header_add(r, "Location",
	    arena_printf(r->arena, "/api/v1/submissions/%s", db_get(res, 0, 2)));
	return reply_entity(r, res, 201, "submission");
}

int
submissions_create(struct req *r)
{
	struct create c;
	json_t *body;
	int bad;

	if ((body = req_body_object(r)) == NULL)
		return -1;
	bad = validate_at(r, body, fields, c.v, 0, "");
	bad += check_data(r, c.v[F_KIND], json_object_get(body, "data"));
	if (c.v[F_KIND] != NULL && c.v[F_MILESTONE] == NULL &&
	    (strcmp(c.v[F_KIND], "unit_plan") == 0 ||
		strcmp(c.v[F_KIND], "six_month_report") == 0 ||
		strcmp(c.v[F_KIND], "annual_report") == 0)) {
		req_field_error(r, "milestone_id", "required",
		    "a %s answers a "
		    "milestone",
		    c.v[F_KIND]);
		bad++;
	}
	if (bad > 0)
		return req_fail(r, 422, "invalid_body",
		    "the request body has invalid fields");
	secret_hash(r->body, c.hash);
	return run_tx(r, create_tx, &c);
}

struct change {
	const char *v[nitems(fields)];
	const char *version;
};

static int
change_tx(struct req *r, void *arg)
{
	const struct principal *p = r->principal;
	struct change *c = arg;
	const char *params[9], *status;
	struct submission_state st;
	struct dbres *res;

	if (submission_lock(r, r->param[0], 0, c->version, &st) == -1)
		return -1;
	status = st.status;
	if (strcmp(status, "draft") != 0 && strcmp(status, "returned") != 0)
		return req_fail(r, 409, "submission_locked",
		    "a %s "
		    "submission cannot be edited",
		    status);
	if (c->v[F_DATA] != NULL &&
	    check_data(r, st.kind, json_object_get(r->json, "data")) > 0)
		return req_fail(r, 422, "invalid_body",
		    "the request body has invalid fields");
	params[0] = r->param[0];
	params[1] = c->v[F_TITLE];
	params[2] = c->v[F_BODY];
	params[3] = c->v[F_DATA];
	params[4] = p->id;
	params[5] = actor_kind(r);
	params[6] = st.unit_path;
	params[7] = st.json;
	params[8] = r->id;
	if ((res = db_exec(r->arena, &r->fail, "submissions_update", 9,
		 params)) == NULL)
		return -1;
	return reply_entity(r, res, 200, "submission");
}

int
submissions_update(struct req *r)
{
	struct change c = { .version = NULL };
	json_t *body;
	int bad;

	if ((c.version = if_match(r)) == NULL ||
	    (body = req_body_object(r)) == NULL)
		return -1;
	/* The data's shape depends on the kind: checked once it is known. */
	bad = validate_at(r, body, fields, c.v, 1, "");
	if (bad > 0)
		return req_fail(r, 422, "invalid_body",
		    "the request body has invalid fields");
	return run_tx(r, change_tx, &c);
}
