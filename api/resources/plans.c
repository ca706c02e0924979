/*
 * Plans: the document a unit issues for the year (draft -> issued ->
 * closed), its legal bases, purposes, requirements, funding and recipients.
 * A caller sees the plans of its own unit, of the units above it (the plan
 * it implements) and of the units below it; it changes the plans of its
 * subtree. An issued plan changes only by amendment: every change names its
 * reason and is kept in plan_versions.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resources/resources.h"

/* clang-format off */
#define PLAN_JSON(p)                                                        \
	"json_build_object('id', " p ".id, 'code', " p ".code,"             \
	" 'title', " p ".title, 'year', " p ".year,"                         \
	" 'issuing_unit_id', " p ".issuing_unit_id, 'issued_on', " p ".issued_on," \
	" 'signer_name', " p ".signer_name, 'signer_title', " p ".signer_title," \
	" 'parent_plan_id', " p ".parent_plan_id,"                           \
	" 'legal_bases', " p ".legal_bases, 'purposes', " p ".purposes,"     \
	" 'requirements', " p ".requirements, 'funding', " p ".funding,"     \
	" 'recipients', " p ".recipients, 'status', " p ".status,"           \
	" 'version', " p ".version, 'created_at', " p ".created_at,"         \
	" 'updated_at', " p ".updated_at)"
#define SORT(p) "(to_char(3000 - " p ".year, 'FM0000') || " p ".id::text)"

static const char list[] =
    "SELECT " PLAN_JSON("p") ", encode(convert_to(" SORT("p") ", 'UTF8'), 'hex')"
    " FROM plans p WHERE " PLAN_VISIBLE("p", "$9")
    " AND ($2::int IS NULL OR p.year = $2)"
    " AND ($3::text IS NULL OR p.status = $3)"
    " AND ($4::uuid IS NULL OR p.issuing_unit_id = $4)"
    " AND ($5::uuid IS NULL OR p.parent_plan_id = $5)"
    " AND ($6::text IS NULL OR fold(p.title) LIKE like_pattern($6)"
    "  OR fold(coalesce(p.code, '')) LIKE like_pattern($6))"
    " AND ($7::text IS NULL OR " SORT("p")
    "  > convert_from(decode($7, 'hex'), 'UTF8'))"
    " ORDER BY " SORT("p") " LIMIT $8";
static const char get[] =
    "SELECT p.version, " PLAN_JSON("p")
    " FROM plans p WHERE p.id = $2 AND " PLAN_VISIBLE("p", "$3");
static const char create[] =
    "WITH ins AS (INSERT INTO plans (id, code, title, year, issuing_unit_id,"
    "  issued_on, signer_name, signer_title, parent_plan_id, legal_bases,"
    "  purposes, requirements, funding, recipients, status)"
    "  SELECT coalesce($18::uuid, gen_random_uuid()), $2, $3, $4::int, $5,"
    "  $6::date, $7, $8, $9::uuid, coalesce($10::jsonb, '[]'),"
    "  coalesce($11, ''), coalesce($12, ''), coalesce($13, ''),"
    "  coalesce($14::jsonb, '[]'), coalesce($19, 'draft')"
    "  FROM units iu WHERE iu.id = $5::uuid AND ($1::uuid IS NULL OR iu.path <@"
    "   " SCOPE ")"
    "  RETURNING *)"
    "SELECT ins.version, " PLAN_JSON("ins") " FROM ins,"
    " audit_event($15, $16, 'create', 'plan', ins.id,"
    "  (SELECT path FROM units WHERE id = ins.issuing_unit_id), NULL,"
    "  to_jsonb(ins), $17)";
static const char update[] =
    "WITH upd AS (UPDATE plans SET code = coalesce($2, code),"
    "  title = coalesce($3, title), year = coalesce($4::int, year),"
    "  issued_on = coalesce($5::date, issued_on),"
    "  signer_name = coalesce($6, signer_name),"
    "  signer_title = coalesce($7, signer_title),"
    "  parent_plan_id = coalesce($8::uuid, parent_plan_id),"
    "  legal_bases = coalesce($9::jsonb, legal_bases),"
    "  purposes = coalesce($10, purposes),"
    "  requirements = coalesce($11, requirements),"
    "  funding = coalesce($12, funding),"
    "  recipients = coalesce($13::jsonb, recipients),"
    "  status = coalesce($14, status),"
    "  version = version + 1, updated_at = now()"
    "  WHERE id = $1 RETURNING *)"
    "SELECT upd.version, " PLAN_JSON("upd") " FROM upd,"
    " audit_event($15, $16, $20, 'plan', upd.id, $17::ltree, $18::jsonb,"
    "  to_jsonb(upd), $19)";
/* A parent must be a plan the caller sees, and not the plan itself or one
 * of its descendants ($3, NULL on create). */
static const char parent_ok[] =
    "SELECT 1 FROM plans p WHERE p.id = $2 AND ($1::uuid IS NULL OR "
    PLAN_VISIBLE("p", "$4") ") AND NOT EXISTS (WITH RECURSIVE up(id) AS"
    " (SELECT $2::uuid UNION SELECT q.parent_plan_id FROM plans q JOIN up"
    "  ON q.id = up.id WHERE q.parent_plan_id IS NOT NULL)"
    " SELECT 1 FROM up WHERE up.id = $3::uuid)";
/* clang-format on */

const struct db_stmt plans_stmts[] = {
	{ "plans_list", list },
	{ "plans_get", get },
	{ "plans_create", create },
	{ "plans_update", update },
	{ "plans_parent_ok", parent_ok },
	{ NULL, NULL },
};

enum {
	F_CODE_,
	F_TITLE,
	F_YEAR,
	F_UNIT,
	F_ISSUED_ON,
	F_SIGNER_NAME,
	F_SIGNER_TITLE,
	F_PARENT,
	F_BASES,
	F_PURPOSES,
	F_REQUIREMENTS,
	F_FUNDING,
	F_RECIPIENTS,
	F_REASON,
	F_ID,
	F_STATUS
};
static const struct field fields[] = {
	[F_CODE_] = { "code", F_STRING, 0, 1, 0, 1, 64, NULL },
	[F_TITLE] = { "title", F_STRING, 1, 0, 0, 1, 500, NULL },
	[F_YEAR] = { "year", F_INT, 1, 0, 0, 2000, 2100, NULL },
	[F_UNIT] = { "issuing_unit_id", F_UUID, 1, 0, 1, 0, 0, NULL },
	[F_ISSUED_ON] = { "issued_on", F_DATE, 0, 1, 0, 0, 0, NULL },
	[F_SIGNER_NAME] = { "signer_name", F_STRING, 0, 1, 0, 1, 200, NULL },
	[F_SIGNER_TITLE] = { "signer_title", F_STRING, 0, 1, 0, 1, 200, NULL },
	[F_PARENT] = { "parent_plan_id", F_UUID, 0, 1, 0, 0, 0, NULL },
	[F_BASES] = { "legal_bases", F_ARRAY, 0, 0, 0, 0, 100, NULL },
	[F_PURPOSES] = { "purposes", F_STRING, 0, 0, 0, 0, 20000, NULL },
	[F_REQUIREMENTS] = { "requirements", F_STRING, 0, 0, 0, 0, 20000, NULL },
	[F_FUNDING] = { "funding", F_STRING, 0, 0, 0, 0, 20000, NULL },
	[F_RECIPIENTS] = { "recipients", F_ARRAY, 0, 0, 0, 0, 100, NULL },
	[F_REASON] = { "amendment_reason", F_STRING, 0, 0, 0, 1, 2000, NULL },
	/* Import only: a fixed id (seed data) and the status to create in. */
	[F_ID] = { "id", F_UUID, 0, 0, 1, 0, 0, NULL },
	[F_STATUS] = { "status", F_ENUM, 0, 0, 1, 0, 0, plan_import_statuses },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};
/* The fields a client sends to POST /plans and PATCH /plans/{id}. */
#define CLIENT_FIELDS F_ID

static const struct field filters[] = {
	{ "year", F_INT, 0, 0, 0, 2000, 2100, NULL },
	{ "status", F_ENUM, 0, 0, 0, 0, 0, plan_statuses },
	{ "issuing_unit_id", F_UUID, 0, 0, 0, 0, 0, NULL },
	{ "parent_plan_id", F_UUID, 0, 0, 0, 0, 0, NULL },
	{ "q", F_STRING, 0, 0, 0, 1, 200, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};

/* The caller's unit, or NULL for the system (seed data). */
static const char *
scope(struct req *r)
{
	const struct principal *p = r->principal;

	return p ? p->unit_id : NULL;
}

const char *
plan_drafts(struct req *r)
{
	const struct principal *p = r->principal;

	if (p == NULL || perm_allows(p->role, PERM_PLAN_WRITE))
		return "edit";
	return p->service ? "none" : "unit";
}

static const char *
actor(struct req *r)
{
	const struct principal *p = r->principal;

	return p ? p->id : NULL;
}

/* Checks plan fields into v (nitems(fields) slots); returns the number of
 * field errors. */
static int
check_fields(struct req *r, json_t *obj, const char **v, int patch, int import,
    const char *prefix)
{
	int bad = 0;

	json_t *own = obj;

	if (!import) {
		/* id and status are refused below, not also value-checked. */
		own = req_own(r, json_copy(obj));
		json_object_del(own, "id");
		json_object_del(own, "status");
	}
	/* A PATCH of only refused fields is invalid, not empty. */
	if (!patch || json_object_size(own) > 0 || json_object_size(obj) == 0)
		bad = validate_at(r, own, fields, v, patch, prefix);
	else
		memset(v, 0, sizeof(*v) * nitems(fields));
	/* Only an import may set these; the handlers refuse them. */
	if (!import && json_object_get(obj, "id") != NULL) {
		req_field_error(r, arena_printf(r->arena, "%sid", prefix),
		    "unknown", "id is set by the server");
		bad++;
	}
	if (!import && json_object_get(obj, "status") != NULL) {
		req_field_error(r, arena_printf(r->arena, "%sstatus", prefix),
		    "unknown", "status changes by /issue and /close");
		bad++;
	}
	if (v[F_BASES] != NULL)
		bad += plan_bases_check(r, obj, prefix);
	if (v[F_RECIPIENTS] != NULL)
		bad += plan_recipients_check(r, obj, prefix);
	return bad;
}

/* 0 when parent (may be NULL) can be the parent of plan (NULL: a new one),
 * else -1 with 422 naming the field. */
static int
check_parent(struct req *r, const char *parent, const char *plan,
    const char *prefix)
{
	const char *params[4] = { scope(r), parent, plan, plan_drafts(r) };
	struct dbres *res;

	if (parent == NULL)
		return 0;
	if ((res = db_exec(r->arena, &r->fail, "plans_parent_ok", 4, params)) ==
	    NULL)
		return -1;
	if (db_rows(res) == 0) {
		return fail_reference(r,
		    arena_printf(r->arena, "%sparent_plan_id", prefix),
		    "parent_plan_id names no plan you see, "
		    "or would make a cycle");
	}
	return 0;
}

struct plan_input {
	const char *v[nitems(fields)];
};

int
plan_fields(struct req *r, json_t *obj, int import, const char *prefix,
    struct plan_input **in)
{
	*in = arena_zalloc(r->arena, sizeof(**in));
	return check_fields(r, obj, (*in)->v, 0, import, prefix);
}

const char *
plan_issuing_unit(const struct plan_input *in)
{
	return in->v[F_UNIT];
}

/* Inserts a plan from checked fields; its row (version, json) or NULL
 * after a failure (422 when the issuing unit is outside the caller's
 * units). */
static struct dbres *
insert(struct req *r, const char *const *v, const char *prefix)
{
	const char *params[19];
	struct dbres *res;

	if (check_parent(r, v[F_PARENT], NULL, prefix) == -1)
		return NULL;

	params[0] = scope(r);
	params[1] = v[F_CODE_];
	params[2] = v[F_TITLE];
	params[3] = v[F_YEAR];
	params[4] = v[F_UNIT];
	params[5] = v[F_ISSUED_ON];
	params[6] = v[F_SIGNER_NAME];
	params[7] = v[F_SIGNER_TITLE];
	params[8] = v[F_PARENT];
	params[9] = v[F_BASES];
	params[10] = v[F_PURPOSES];
	params[11] = v[F_REQUIREMENTS];
	params[12] = v[F_FUNDING];
	params[13] = v[F_RECIPIENTS];
	params[14] = actor(r);
	params[15] = actor_kind(r);
	params[16] = r->id;
	params[17] = v[F_ID];
	params[18] = v[F_STATUS];
	if ((res = db_exec(r->arena, &r->fail, "plans_create", 19, params)) ==
	    NULL)
		return NULL;
	if (db_rows(res) == 0) {
		fail_reference(r,
		    arena_printf(r->arena, "%sissuing_unit_id", prefix),
		    "issuing_unit_id names no unit you manage");
		return NULL;
	}
	return res;
}

const char *
plan_insert(struct req *r, const struct plan_input *in, const char *prefix,
    struct plan_state *st)
{
	struct dbres *res;
	json_t *plan;

	if ((res = insert(r, in->v, prefix)) == NULL)
		return NULL;
	plan = req_own(r, json_loads(db_get(res, 0, 1), 0, NULL));
	memset(st, 0, sizeof(*st));
	st->id = json_string_value(json_object_get(plan, "id"));
	st->version = db_get(res, 0, 0);
	st->status = json_string_value(json_object_get(plan, "status"));
	st->year = in->v[F_YEAR];
	st->issuing_unit_id = in->v[F_UNIT];
	return db_get(res, 0, 1);
}

int
plans_list(struct req *r)
{
	return reply_plan_list(r, "plans_list", filters);
}

int
plans_get(struct req *r)
{
	return reply_plan_get(r, "plans_get", "plan");
}

int
plans_create(struct req *r)
{
	const char *v[nitems(fields)];
	struct dbres *res;
	json_t *body;

	if ((body = req_body_object(r)) == NULL)
		return -1;
	if (check_fields(r, body, v, 0, 0, "") > 0)
		return req_fail(r, 422, "invalid_body",
		    "the request body has invalid fields");
	if ((res = insert(r, v, "")) == NULL)
		return -1;
	return reply_created(r, res, "/api/v1/plans", "plan");
}

struct change {
	const char *v[nitems(fields)];
	const char *version;
	const char *status; /* for /issue and /close */
	const char *action;
};

static int
update_tx(struct req *r, void *arg)
{
	struct change *c = arg;
	struct plan_state st;
	const char *params[20];
	struct dbres *res;
	int i;

	if (plan_lock(r, r->param[0], c->version, &st) == -1)
		return -1;
	if (c->status != NULL) {
		const char *from = strcmp(c->status, "issued") == 0 ? "draft" :
								      "issued";

		if (strcmp(st.status, from) != 0)
			return req_fail(r, 409, "invalid_transition",
			    "a plan that is %s cannot become %s", st.status,
			    c->status);
	} else if (strcmp(st.status, "issued") == 0 && c->v[F_REASON] == NULL)
		return plan_amend(r, &st, NULL, NULL, NULL, NULL, NULL, 0);
	if (check_parent(r, c->v[F_PARENT], r->param[0], "") == -1)
		return -1;
	params[0] = r->param[0];
	for (i = F_CODE_; i <= F_RECIPIENTS; i++)
		params[i + 1] = i == F_UNIT ? NULL : c->v[i];
	/* The issuing unit is fixed: params[4] carries the year instead. */
	params[3] = c->v[F_YEAR];
	params[4] = c->v[F_ISSUED_ON];
	params[5] = c->v[F_SIGNER_NAME];
	params[6] = c->v[F_SIGNER_TITLE];
	params[7] = c->v[F_PARENT];
	params[8] = c->v[F_BASES];
	params[9] = c->v[F_PURPOSES];
	params[10] = c->v[F_REQUIREMENTS];
	params[11] = c->v[F_FUNDING];
	params[12] = c->v[F_RECIPIENTS];
	params[13] = c->status;
	params[14] = actor(r);
	params[15] = actor_kind(r);
	params[16] = st.unit_path;
	params[17] = st.json;
	params[18] = r->id;
	params[19] = c->action;
	if ((res = db_exec(r->arena, &r->fail, "plans_update", 20, params)) ==
	    NULL)
		return -1;
	if (c->status == NULL &&
	    plan_amend(r, &st, c->v[F_REASON], "plan", r->param[0],
		changes_of(r), st.json, 0) == -1)
		return -1;
	if (c->status == NULL && strcmp(st.status, "issued") == 0) {
		/* The amendment raised the version: answer the current row. */
		const char *gp[3] = { scope(r), r->param[0], plan_drafts(r) };

		if ((res = db_exec(r->arena, &r->fail, "plans_get", 3, gp)) ==
		    NULL)
			return -1;
	}
	return reply_entity(r, res, 200, "plan");
}

int
plans_update(struct req *r)
{
	struct change c = { .action = "update" };
	json_t *body;

	if ((c.version = if_match(r)) == NULL ||
	    (body = req_body_object(r)) == NULL || only_reason(r, body) == -1)
		return -1;
	if (check_fields(r, body, c.v, 1, 0, "") > 0)
		return req_fail(r, 422, "invalid_body",
		    "the request body has invalid fields");
	return run_tx(r, update_tx, &c);
}

static const struct field issue_fields[] = {
	{ "code", F_STRING, 0, 0, 0, 1, 64, NULL },
	{ "issued_on", F_DATE, 0, 0, 0, 0, 0, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};

/* POST /plans/{id}/issue and /close: the status moves one step. */
static int
transition(struct req *r, const char *to)
{
	struct change c = { .status = to,
		.action = to[0] == 'i' ? "issue" : "close" };
	const char *v[3] = { NULL, NULL, NULL };

	if ((c.version = if_match(r)) == NULL)
		return -1;
	if (r->json != NULL) {
		if (req_body_object(r) == NULL ||
		    (to[0] == 'i' ?
			    validate(r, r->json, issue_fields, v, 0) :
			    validate(r, r->json, issue_fields + 2, v, 0)) == -1)
			return -1;
	}
	c.v[F_CODE_] = v[0];
	c.v[F_ISSUED_ON] = v[1];
	return run_tx(r, update_tx, &c);
}

int
plans_issue(struct req *r)
{
	return transition(r, "issued");
}

int
plans_close(struct req *r)
{
	return transition(r, "closed");
}
