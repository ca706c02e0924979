/*
 * The review of a submission: the steps it moves by (submit, accept, return,
 * approve), who may make each (the submitting or the receiving side, four
 * eyes, the level above for approval), and the lock every change takes.
 */
#include <string.h>

#include "resources/resources.h"

/* clang-format off */
/* Locks a submission for the submitting side ($3 = 's') or the receiving
 * side ($3 = 'r'): the columns of struct submission_state, in its order. */
static const char lock[] =
    "SELECT s.version, s.status, to_jsonb(s) - 'request_hash', su.path,"
    " s.unit_id, s.kind, ru.path <> " SCOPE ", s.created_by,"
    " s.last_submitted_by,"
    " CASE WHEN s.status = 'accepted' THEN s.reviewed_by END"
    " FROM submissions s JOIN units su ON su.id = s.unit_id"
    " JOIN units ru ON ru.id = s.receiving_unit_id"
    " WHERE s.id = $2 AND (CASE WHEN $3 = 's' THEN su.path ELSE ru.path END)"
    "  <@ " SCOPE " FOR UPDATE OF s";
/* Moves the status one step ($2 the new status, $3 a review reason); a
 * submit numbers a revision, keeps it, and judges the first one. */
static const char step_sql[] =
    "WITH due AS (SELECT coalesce(e.due_on, m.due_on) AS d FROM submissions s"
    "  JOIN milestones m ON m.id = s.milestone_id"
    "  LEFT JOIN extensions e ON e.milestone_id = m.id AND e.unit_id = s.unit_id"
    "  WHERE s.id = $1),"
    " upd AS (UPDATE submissions s SET status = $2,"
    "  revision = revision + CASE WHEN $2 = 'submitted' THEN 1 ELSE 0 END,"
    "  submitted_at = CASE WHEN $2 = 'submitted'"
    "   THEN coalesce(submitted_at, now()) ELSE submitted_at END,"
    "  last_submitted_at = CASE WHEN $2 = 'submitted' THEN now()"
    "   ELSE last_submitted_at END,"
    "  last_submitted_by = CASE WHEN $2 = 'submitted' THEN $4::uuid"
    "   ELSE last_submitted_by END,"
    "  due_on = coalesce(s.due_on, (SELECT d FROM due)),"
    "  timeliness = coalesce(timeliness, CASE WHEN $2 = 'submitted'"
    "   THEN timeliness(now(), (SELECT d FROM due)) END),"
    "  review_reason = CASE WHEN $2 IN ('accepted', 'returned') THEN $3"
    "   ELSE review_reason END,"
    "  reviewed_by = CASE WHEN $2 IN ('accepted', 'returned') THEN $4::uuid"
    "   ELSE reviewed_by END,"
    "  reviewed_at = CASE WHEN $2 IN ('accepted', 'returned') THEN now()"
    "   ELSE reviewed_at END,"
    "  approved_by = CASE WHEN $2 = 'approved' THEN $4::uuid ELSE approved_by END,"
    "  approved_at = CASE WHEN $2 = 'approved' THEN now() ELSE approved_at END,"
    "  version = version + 1, updated_at = now() WHERE id = $1 RETURNING *),"
    " ver AS (INSERT INTO submission_versions (submission_id, revision,"
    "  submitted_at, title, body, data, timeliness, returned_reason)"
    "  SELECT id, revision, last_submitted_at, title, body, data, timeliness,"
    "  CASE WHEN $6 = 'returned' THEN review_reason END FROM upd"
    "  WHERE $2 = 'submitted')"
    "SELECT upd.version, " SUBMISSION_JSON("upd") " FROM upd,"
    " audit_event($4, $5, $7, 'submission', upd.id, $8::ltree, $9::jsonb,"
    "  to_jsonb(upd) - 'request_hash', $10)";
/* An accepted model registration becomes a model. */
static const char to_model[] =
    "WITH ins AS (INSERT INTO models (unit_id, name, field, description,"
    "  expected_results, submission_id) SELECT unit_id, data->>'name',"
    "  data->>'field', data->>'description', data->>'expected_results', id"
    "  FROM submissions WHERE id = $1 AND kind = 'model_registration'"
    "  ON CONFLICT (submission_id) DO NOTHING RETURNING *)"
    "SELECT ins.id FROM ins JOIN units u ON u.id = ins.unit_id,"
    " audit_event($2, $3, 'create', 'model', ins.id, u.path, NULL,"
    "  to_jsonb(ins), $4)";
/* clang-format on */

const struct db_stmt submission_review_stmts[] = {
	{ "submissions_lock", lock },
	{ "submissions_step", step_sql },
	{ "submissions_to_model", to_model },
	{ NULL, NULL },
};

int
submission_lock(struct req *r, const char *id, int receiving,
    const char *version, struct submission_state *st)
{
	const char *params[3] = { r->principal->unit_id, id,
		receiving ? "r" : "s" };
	struct dbres *res;

	if ((res = db_exec(r->arena, &r->fail, "submissions_lock", 3,
		 params)) == NULL)
		return -1;
	if (db_rows(res) == 0)
		return req_fail(r, 404, "not_found", "no such submission");
	st->id = id;
	st->version = db_get(res, 0, 0);
	st->status = db_get(res, 0, 1);
	st->json = db_get(res, 0, 2);
	st->unit_path = db_get(res, 0, 3);
	st->unit_id = db_get(res, 0, 4);
	st->kind = db_get(res, 0, 5);
	st->above_receiving = strcmp(db_get(res, 0, 6), "t") == 0;
	st->created_by = db_get(res, 0, 7);
	st->submitted_by = db_get(res, 0, 8);
	st->accepted_by = db_get(res, 0, 9);
	if (version != NULL && strcmp(st->version, version) != 0)
		return req_fail(r, 412, "precondition_failed",
		    "the submission changed since version %s: reload it",
		    version);
	return 0;
}

struct dbres *
submission_step(struct req *r, const struct submission_state *st,
    const char *status, const char *reason, const char *action)
{
	const struct principal *p = r->principal;
	const char *params[10];

	params[0] = st->id;
	params[1] = status;
	params[2] = reason;
	params[3] = p->id;
	params[4] = actor_kind(r);
	params[5] = st->status;
	params[6] = action;
	params[7] = st->unit_path;
	params[8] = st->json;
	params[9] = r->id;
	return db_exec(r->arena, &r->fail, "submissions_step", 10, params);
}

/* True when two ids (either may be NULL) are the same person. */
static int
same(const char *a, const char *b)
{
	return a != NULL && b != NULL && strcmp(a, b) == 0;
}

/* Which transitions go where, who makes them, and from which states. */
static const struct {
	const char *to, *action, *from1, *from2;
	char side; /* 's' the submitting unit, 'r' the receiving one */
} steps[] = {
	{ "submitted", "submit", "draft", "returned", 's' },
	{ "accepted", "accept", "submitted", NULL, 'r' },
	{ "returned", "return", "submitted", NULL, 'r' },
	{ "approved", "approve", "accepted", NULL, 'r' },
};

struct review {
	const char *version;
	const char *to;	    /* the status it moves to */
	const char *reason; /* of a return */
};

static int
review_tx(struct req *r, void *arg)
{
	const struct principal *p = r->principal;
	struct review *c = arg;
	const char *status;
	struct submission_state st;
	struct dbres *res;
	size_t i;

	for (i = 0; strcmp(steps[i].to, c->to) != 0; i++)
		;
	if (submission_lock(r, r->param[0], steps[i].side == 'r', c->version,
		&st) == -1)
		return -1;
	status = st.status;
	if (strcmp(status, steps[i].from1) != 0 &&
	    (steps[i].from2 == NULL || strcmp(status, steps[i].from2) != 0))
		return req_fail(r, 409,
		    strcmp(status, "accepted") == 0 ||
			    strcmp(status, "approved") == 0 ?
			"submission_locked" :
			"invalid_transition",
		    "a %s submission cannot be %s", status, c->to);
	if (steps[i].side == 'r' && strcmp(st.unit_id, p->unit_id) == 0)
		return req_fail(r, 409, "own_submission",
		    "a unit does not review its own submission");
	/* Four eyes: people, not only units. */
	if (steps[i].side == 'r' &&
	    (same(p->id, st.created_by) || same(p->id, st.submitted_by)))
		return req_fail(r, 409, "four_eyes",
		    "whoever wrote or submitted "
		    "a submission does not review it");
	if (strcmp(c->to, "approved") == 0 && same(p->id, st.accepted_by))
		return req_fail(r, 409, "four_eyes",
		    "whoever accepted a "
		    "submission does not also approve it");
	/* Approval comes from above the receiving unit. */
	if (strcmp(c->to, "approved") == 0 && !st.above_receiving)
		return req_fail(r, 409, "own_level",
		    "approval comes from the "
		    "level above the receiving unit");
	if ((res = submission_step(r, &st, c->to, c->reason,
		 steps[i].action)) == NULL)
		return -1;
	if (strcmp(c->to, "accepted") == 0 &&
	    strcmp(st.kind, "model_registration") == 0 &&
	    db_exec(r->arena, &r->fail, "submissions_to_model", 4,
		(const char *[]){ r->param[0], p->id, actor_kind(r), r->id }) ==
		NULL)
		return -1;
	return reply_entity(r, res, 200, "submission");
}

static int
transition(struct req *r, const char *to)
{
	static const struct field reason[] = {
		{ "reason", F_STRING, 1, 0, 0, 1, 2000, NULL },
		{ NULL, 0, 0, 0, 0, 0, 0, NULL },
	};
	struct review c = { .to = to };
	const char *v[1] = { NULL };

	if ((c.version = if_match(r)) == NULL)
		return -1;
	if (strcmp(to, "returned") == 0) {
		if (req_body_object(r) == NULL ||
		    validate(r, r->json, reason, v, 0) == -1)
			return -1;
		c.reason = v[0];
	} else if (no_fields(r) == -1)
		return -1;
	return run_tx(r, review_tx, &c);
}

int
submissions_submit(struct req *r)
{
	return transition(r, "submitted");
}

int
submissions_accept(struct req *r)
{
	return transition(r, "accepted");
}

int
submissions_return(struct req *r)
{
	return transition(r, "returned");
}

int
submissions_approve(struct req *r)
{
	return transition(r, "approved");
}
