/*
 * Score sheets: a unit scores itself against a rubric (points, a note and
 * evidence — its submissions and their files — per criterion) and submits;
 * the reviewing side (the rubric's unit and above, never the scored unit
 * nor whoever submitted) adjusts criteria, each with a mandatory reason,
 * or rules the unit not eligible with a reason; the leader finalises,
 * which locks the sheet, and may not be the one who adjusted or ruled.
 * Totals, the band and the delta are computed (score_totals), never
 * stored; every change is kept in score_sheet_events for the unit to see.
 * The entries themselves are checked and written by score_entries.c.
 */
#include <string.h>

#include "resources/resources.h"

/* clang-format off */
#define SHEET_FROM                                                           \
	" FROM score_sheets s JOIN rubrics r ON r.id = s.rubric_id,"         \
	" LATERAL score_totals(s.id) t"
#define SHEET_JSON                                                           \
	"json_build_object('id', s.id, 'rubric_id', s.rubric_id,"            \
	" 'unit_id', s.unit_id, 'status', s.status, 'eligible', s.eligible," \
	" 'not_eligible_reason', s.not_eligible_reason, 'note', s.note,"     \
	" 'scores', coalesce((SELECT json_agg(json_build_object('code',"      \
	"  e.code, 'kind', i.kind, 'self_points', trim_scale(e.self_points),"  \
	"  'note', e.note, 'evidence', e.evidence,"                           \
	"  'adjusted_points', trim_scale(e.adjusted_points),"                 \
	"  'adjust_reason', e.adjust_reason, 'adjusted_by', e.adjusted_by,"   \
	"  'adjusted_at', e.adjusted_at, 'points',"                          \
	"  trim_scale(coalesce(e.adjusted_points, e.self_points)))"           \
	"  ORDER BY e.code COLLATE \"C\") FROM score_entries e"               \
	"  JOIN rubric_items(r.doc) i ON i.code = e.code"                    \
	"  WHERE e.score_sheet_id = s.id), '[]'),"                           \
	" 'self_total', t.self_total, 'adjusted_total', t.adjusted_total,"   \
	" 'delta', t.adjusted_total - t.self_total,"                         \
	" 'band', CASE WHEN s.eligible THEN rubric_band(r.doc,"              \
	"  t.adjusted_total) END,"                                           \
	" 'submitted_by', s.submitted_by, 'submitted_at', s.submitted_at,"   \
	" 'adjusted_by', s.adjusted_by, 'adjusted_at', s.adjusted_at,"       \
	" 'ruled_by', s.ruled_by, 'ruled_at', s.ruled_at,"                   \
	" 'finalized_by', s.finalized_by, 'finalized_at', s.finalized_at,"   \
	" 'version', s.version, 'created_at', s.created_at,"                 \
	" 'updated_at', s.updated_at)"
/* The scored unit's side and the reviewing side see a sheet. */
#define VISIBLE                                                              \
	" EXISTS (SELECT 1 FROM units x, units me WHERE me.id = $1"          \
	" AND x.id IN (s.unit_id, r.unit_id) AND x.path <@ me.path)"
#define KEY "(s.created_at::text || s.id::text)"

static const char rubric_visible[] =
    "SELECT 1 FROM rubrics r JOIN plans p ON p.id = r.plan_id"
    " WHERE r.id = $2 AND " PLAN_VISIBLE("p", "$3");
static const char list[] =
    "SELECT " SHEET_JSON ", encode(convert_to(" KEY ", 'UTF8'), 'hex')"
    SHEET_FROM " WHERE s.rubric_id = $2 AND " VISIBLE
    " AND EXISTS (SELECT 1 FROM plans p WHERE p.id = r.plan_id AND "
    PLAN_VISIBLE("p", "$5") ")"
    " AND ($3::text IS NULL OR " KEY " > convert_from(decode($3, 'hex'),"
    "  'UTF8')) ORDER BY " KEY " LIMIT $4";
static const char get[] =
    "SELECT s.version, " SHEET_JSON SHEET_FROM " WHERE s.id = $2 AND " VISIBLE;
static const char context[] =
    "SELECT EXISTS (SELECT 1 FROM rubrics n WHERE n.replaces_id = r.id),"
    " EXISTS (SELECT 1 FROM units u, units pu WHERE u.id = $3 AND u.active"
    "  AND u.path <@ " SCOPE
    "  AND pu.id = p.issuing_unit_id AND u.path <@ pu.path),"
    " (SELECT path FROM units WHERE id = $3),"
    " EXISTS (SELECT 1 FROM score_sheets x WHERE x.rubric_id = r.id"
    "  AND x.unit_id = $3)"
    " FROM rubrics r JOIN plans p ON p.id = r.plan_id WHERE r.id = $2"
    " AND " PLAN_VISIBLE("p", "$4");
static const char insert[] =
    "WITH ins AS (INSERT INTO score_sheets (rubric_id, unit_id, note,"
    "  created_by) VALUES ($1, $2, coalesce($3, ''), $4) RETURNING *),"
    " ev AS (INSERT INTO score_sheet_events (score_sheet_id, actor_id, action,"
    "  detail) SELECT id, $4, 'create', $7::jsonb FROM ins)"
    "SELECT ins.id FROM ins, audit_event($4, $5, 'create', 'score_sheet',"
    " ins.id, $6::ltree, NULL, to_jsonb(ins), $8)";
static const char lock[] =
    "SELECT s.version, s.status, to_jsonb(s), su.path, s.rubric_id,"
    " su.path <@ me.path, ru.path <@ me.path, me.path <@ su.path,"
    " s.submitted_by IS NOT DISTINCT FROM $3::uuid,"
    " s.adjusted_by IS NOT DISTINCT FROM $3::uuid OR s.ruled_by IS NOT"
    "  DISTINCT FROM $3::uuid OR EXISTS (SELECT 1 FROM score_entries e"
    "  WHERE e.score_sheet_id = s.id AND e.adjusted_by = $3::uuid),"
    " EXISTS (SELECT 1 FROM rubrics n WHERE n.replaces_id = r.id)"
    " FROM score_sheets s JOIN rubrics r ON r.id = s.rubric_id"
    " JOIN units su ON su.id = s.unit_id JOIN units ru ON ru.id = r.unit_id,"
    " units me WHERE s.id = $2 AND me.id = $1"
    " AND (su.path <@ me.path OR ru.path <@ me.path) FOR UPDATE OF s";
static const char freeze[] =
    "WITH upd AS (UPDATE rubrics SET frozen_at = now(), version = version + 1,"
    "  updated_at = now() WHERE id = $1 AND frozen_at IS NULL RETURNING *)"
    "SELECT upd.id FROM upd JOIN units u ON u.id = upd.unit_id,"
    " audit_event($2, $3, 'freeze', 'rubric', upd.id, u.path, NULL,"
    "  to_jsonb(upd), $4)";
/* Records a change ($7 the action) and moves the status ($2). */
static const char touch[] =
    "WITH upd AS (UPDATE score_sheets SET status = coalesce($2, status),"
    "  note = coalesce($3, note),"
    "  eligible = CASE WHEN $7 = 'not_eligible' THEN false ELSE eligible END,"
    "  not_eligible_reason = CASE WHEN $7 = 'not_eligible' THEN $4"
    "   ELSE not_eligible_reason END,"
    "  submitted_by = CASE WHEN $7 = 'submit' THEN $5::uuid ELSE submitted_by END,"
    "  submitted_at = CASE WHEN $7 = 'submit' THEN now() ELSE submitted_at END,"
    "  adjusted_by = CASE WHEN $7 = 'adjust' THEN $5::uuid ELSE adjusted_by END,"
    "  adjusted_at = CASE WHEN $7 = 'adjust' THEN now() ELSE adjusted_at END,"
    "  ruled_by = CASE WHEN $7 = 'not_eligible' THEN $5::uuid ELSE ruled_by END,"
    "  ruled_at = CASE WHEN $7 = 'not_eligible' THEN now() ELSE ruled_at END,"
    "  finalized_by = CASE WHEN $7 = 'finalize' THEN $5::uuid"
    "   ELSE finalized_by END,"
    "  finalized_at = CASE WHEN $7 = 'finalize' THEN now() ELSE finalized_at END,"
    "  version = version + 1, updated_at = now() WHERE id = $1 RETURNING *),"
    " ev AS (INSERT INTO score_sheet_events (score_sheet_id, actor_id, action,"
    "  detail) SELECT id, $5, $7, $10::jsonb FROM upd)"
    "SELECT 1 FROM upd, audit_event($5, $6, $7, 'score_sheet', upd.id,"
    " $8::ltree, $9::jsonb, to_jsonb(upd), $11)";
static const char history[] =
    "SELECT json_build_object('id', v.id::text, 'at', v.at, 'actor_id',"
    " v.actor_id, 'action', v.action, 'detail', v.detail),"
    " encode(convert_to(v.id::text, 'UTF8'), 'hex')"
    " FROM score_sheet_events v WHERE v.score_sheet_id = $2"
    " AND $1::uuid IS NOT NULL AND ($3::text IS NULL OR v.id >"
    "  convert_from(decode($3, 'hex'), 'UTF8')::bigint)"
    " ORDER BY v.id LIMIT $4";
static const char visible[] =
    "SELECT 1" SHEET_FROM " WHERE s.id = $2 AND " VISIBLE;
/* clang-format on */

const struct db_stmt score_sheets_stmts[] = {
	{ "score_sheets_rubric_visible", rubric_visible },
	{ "score_sheets_list", list },
	{ "score_sheets_get", get },
	{ "score_sheets_context", context },
	{ "score_sheets_insert", insert },
	{ "score_sheets_lock", lock },
	{ "score_sheets_freeze", freeze },
	{ "score_sheets_touch", touch },
	{ "score_sheets_history", history },
	{ "score_sheets_visible", visible },
	{ NULL, NULL },
};

int
score_sheets_list(struct req *r)
{
	return reply_plan_sublist(r, "score_sheets_rubric_visible",
	    "score_sheets_list", "rubric");
}

int
score_sheets_get(struct req *r)
{
	return reply_get(r, "score_sheets_get", "score sheet");
}

int
score_sheets_history(struct req *r)
{
	return reply_sublist(r, "score_sheets_visible", "score_sheets_history",
	    "score sheet");
}

static int
reply_sheet(struct req *r, const char *id, int status)
{
	const char *params[2] = { r->principal->unit_id, id };
	struct dbres *res;

	if ((res = db_exec(r->arena, &r->fail, "score_sheets_get", 2,
		 params)) == NULL)
		return -1;
	return reply_entity(r, res, status, "score sheet");
}

struct change {
	const char *unit, *note, *scores, *version, *reason, *action, *to;
};

static int
create_tx(struct req *r, void *arg)
{
	const struct principal *p = r->principal;
	struct change *c = arg;
	const char *params[8];
	struct dbres *ctx, *res;

	params[0] = p->unit_id;
	params[1] = r->param[0];
	params[2] = c->unit;
	params[3] = plan_drafts(r);
	if ((ctx = db_exec(r->arena, &r->fail, "score_sheets_context", 4,
		 params)) == NULL)
		return -1;
	if (db_rows(ctx) == 0)
		return req_fail(r, 404, "not_found", "no such rubric");
	if (strcmp(db_get(ctx, 0, 0), "t") == 0)
		return req_fail(r, 409, "rubric_replaced",
		    "this rubric has been "
		    "replaced by a newer one: score against that one");
	if (strcmp(db_get(ctx, 0, 1), "t") != 0)
		return fail_reference(r, "unit_id",
		    "unit_id names no active "
		    "unit of yours that the rubric scores");
	if (strcmp(db_get(ctx, 0, 3), "t") == 0)
		return req_fail(r, 409, "score_sheet_exists",
		    "the unit has a "
		    "score sheet for this rubric already");
	if (c->scores != NULL &&
	    score_entries_check(r, r->param[0],
		json_object_get(r->json, "scores"), "scores", 0) > 0)
		return req_fail(r, 422, "invalid_body",
		    "the request body has invalid fields");
	params[0] = r->param[0];
	params[1] = c->unit;
	params[2] = c->note;
	params[3] = p->id;
	params[4] = actor_kind(r);
	params[5] = db_get(ctx, 0, 2);
	params[6] = changes_of(r);
	params[7] = r->id;
	if ((res = db_exec(r->arena, &r->fail, "score_sheets_insert", 8,
		 params)) == NULL ||
	    (c->scores != NULL &&
		score_entries_write(r, db_get(res, 0, 0), db_get(ctx, 0, 2),
		    c->scores, "scores", 0) == -1))
		return -1;
	req_header_add(r, "Location",
	    arena_printf(r->arena, "/api/v1/score-sheets/%s",
		db_get(res, 0, 0)));
	return reply_sheet(r, db_get(res, 0, 0), 201);
}

int
score_sheets_create(struct req *r)
{
	static const struct field body[] = {
		{ "unit_id", F_UUID, 1, 0, 0, 0, 0, NULL },
		{ "note", F_STRING, 0, 0, 0, 0, 5000, NULL },
		{ "scores", F_ARRAY, 0, 0, 0, 0, 200, NULL },
		{ NULL, 0, 0, 0, 0, 0, 0, NULL },
	};
	const char *v[3];
	struct change c;

	if (req_body_object(r) == NULL || validate(r, r->json, body, v, 0) == -1)
		return -1;
	c.unit = v[0];
	c.note = v[1];
	c.scores = v[2];
	return run_tx(r, create_tx, &c);
}

/* Is the lock row's flag at col true? */
#define FLAG(cur, col) (strcmp(db_get(cur, 0, col), "t") == 0)

static int
change_tx(struct req *r, void *arg)
{
	const struct principal *p = r->principal;
	struct change *c = arg;
	const char *params[11] = { p->unit_id, r->param[0], p->id };
	const char *status, *id = r->param[0];
	struct dbres *cur;
	int self = strcmp(c->action, "update") == 0 ||
	    strcmp(c->action, "submit") == 0;

	if ((cur = db_exec(r->arena, &r->fail, "score_sheets_lock", 3,
		 params)) == NULL ||
	    check_locked(r, cur, c->version, "score sheet") == -1)
		return -1;
	status = db_get(cur, 0, 1);
	if (self && !FLAG(cur, 5))
		return req_fail(r, 404, "not_found",
		    "no such score sheet of "
		    "your units");
	if (!self && !FLAG(cur, 6))
		return req_fail(r, 409, "not_reviewer",
		    "only the unit that "
		    "scores with the rubric, and the units above it, review");
	if (!self && (FLAG(cur, 7) || FLAG(cur, 8)))
		return req_fail(r, 409, "four_eyes",
		    "whoever submitted a score "
		    "sheet, and the scored unit, do not review it");
	if (strcmp(c->action, "finalize") == 0 && FLAG(cur, 9))
		return req_fail(r, 409, "four_eyes",
		    "whoever adjusted the sheet "
		    "or ruled on it does not also finalise it");
	if (self ? strcmp(status, "draft") != 0 :
		   strcmp(status, "submitted") != 0 &&
		    strcmp(status, "reviewed") != 0)
		return req_fail(r, 409,
		    strcmp(status, "finalized") == 0 ? "score_sheet_locked" :
						       "invalid_transition",
		    "a %s score "
		    "sheet cannot take %s",
		    status, c->action);
	if (strcmp(c->action, "submit") == 0) {
		if (FLAG(cur, 10))
			return req_fail(r, 409, "rubric_replaced",
			    "the rubric "
			    "has been replaced: score against the new one");
		if (score_entries_complete(r, id) == -1)
			return -1;
		params[0] = db_get(cur, 0, 4);
		params[1] = p->id;
		params[2] = actor_kind(r);
		params[3] = r->id;
		if (db_exec(r->arena, &r->fail, "score_sheets_freeze", 4,
			params) == NULL)
			return -1;
	}
	if (c->scores != NULL) {
		if (score_entries_check(r, db_get(cur, 0, 4),
			json_object_get(r->json,
			    self ? "scores" : "adjustments"),
			self ? "scores" : "adjustments", !self) > 0)
			return req_fail(r, 422, "invalid_body",
			    "the request body has invalid fields");
		if (score_entries_write(r, id, db_get(cur, 0, 3), c->scores,
			self ? "scores" : "adjustments", !self) == -1)
			return -1;
	}
	params[0] = id;
	params[1] = c->to;
	params[2] = c->note;
	params[3] = c->reason;
	params[4] = p->id;
	params[5] = actor_kind(r);
	params[6] = c->action;
	params[7] = db_get(cur, 0, 3);
	params[8] = db_get(cur, 0, 2);
	params[9] = r->json ? changes_of(r) : "{}";
	params[10] = r->id;
	if (db_exec(r->arena, &r->fail, "score_sheets_touch", 11, params) ==
	    NULL)
		return -1;
	return reply_sheet(r, id, 200);
}

int
score_sheets_update(struct req *r)
{
	static const struct field body[] = {
		{ "note", F_STRING, 0, 0, 0, 0, 5000, NULL },
		{ "scores", F_ARRAY, 0, 0, 0, 0, 200, NULL },
		{ NULL, 0, 0, 0, 0, 0, 0, NULL },
	};
	const char *v[2];
	struct change c = { .action = "update" };

	if ((c.version = if_match(r)) == NULL || req_body_object(r) == NULL ||
	    validate(r, r->json, body, v, 1) == -1)
		return -1;
	c.note = v[0];
	c.scores = v[1];
	return run_tx(r, change_tx, &c);
}

int
score_sheets_submit(struct req *r)
{
	struct change c = { .action = "submit", .to = "submitted" };

	if ((c.version = if_match(r)) == NULL || no_fields(r) == -1)
		return -1;
	return run_tx(r, change_tx, &c);
}

int
score_sheets_adjust(struct req *r)
{
	static const struct field body[] = {
		{ "adjustments", F_ARRAY, 1, 0, 0, 1, 200, NULL },
		{ NULL, 0, 0, 0, 0, 0, 0, NULL },
	};
	struct change c = { .action = "adjust", .to = "reviewed" };

	if ((c.version = if_match(r)) == NULL || req_body_object(r) == NULL ||
	    validate(r, r->json, body, &c.scores, 0) == -1)
		return -1;
	if (json_array_size(json_object_get(r->json, "adjustments")) == 0) {
		req_field_error(r, "adjustments", "length",
		    "adjust at least one "
		    "criterion");
		return req_fail(r, 422, "invalid_body",
		    "the request body has invalid fields");
	}
	return run_tx(r, change_tx, &c);
}

int
score_sheets_not_eligible(struct req *r)
{
	static const struct field body[] = {
		{ "reason", F_STRING, 1, 0, 0, 1, 2000, NULL },
		{ NULL, 0, 0, 0, 0, 0, 0, NULL },
	};
	struct change c = { .action = "not_eligible", .to = "reviewed" };

	if ((c.version = if_match(r)) == NULL || req_body_object(r) == NULL ||
	    validate(r, r->json, body, &c.reason, 0) == -1)
		return -1;
	return run_tx(r, change_tx, &c);
}

int
score_sheets_finalize(struct req *r)
{
	struct change c = { .action = "finalize", .to = "finalized" };

	if ((c.version = if_match(r)) == NULL || no_fields(r) == -1)
		return -1;
	return run_tx(r, change_tx, &c);
}
