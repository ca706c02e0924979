/*
 * Scoring rubrics of a plan. Each province scores differently, so a rubric
 * is data: groups of criteria (code, title, guidance, maximum points,
 * whether evidence is required), bonus and deduction criteria with their
 * caps, rating bands (name, minimum total, highest first) and the rule for
 * "not eligible". A rubric never changes in place: it is frozen once a
 * score sheet is submitted against it, and a change is a new rubric that
 * names the one it replaces (replaces_id), one revision up.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "resources/resources.h"

/* clang-format off */
#define RUBRIC_JSON(r)                                                       \
	"(json_build_object('id', " r ".id, 'plan_id', " r ".plan_id,"       \
	" 'unit_id', " r ".unit_id, 'title', " r ".title,"                   \
	" 'sample', " r ".sample, 'revision', " r ".revision,"               \
	" 'replaces_id', " r ".replaces_id, 'replaced_by', (SELECT n.id"      \
	"  FROM rubrics n WHERE n.replaces_id = " r ".id),"                  \
	" 'frozen', " r ".frozen_at IS NOT NULL, 'frozen_at', " r ".frozen_at," \
	" 'max_total', (SELECT trim_scale(coalesce(sum(i.max_points), 0))"    \
	"  FROM rubric_items(" r ".doc) i WHERE i.kind = 'criterion'),"       \
	" 'version', " r ".version, 'created_at', " r ".created_at,"         \
	" 'updated_at', " r ".updated_at)::jsonb || " r ".doc)"
#define KEY(r) "(" r ".created_at::text || " r ".id::text)"
/* d: the parameter with the caller's draft access (plan_drafts). */
#define VISIBLE(r, d)                                                        \
	"EXISTS (SELECT 1 FROM plans p WHERE p.id = " r ".plan_id AND "       \
	PLAN_VISIBLE("p", d) ")"

static const char visible_plan[] =
    "SELECT 1 FROM plans p WHERE p.id = $2 AND " PLAN_VISIBLE("p", "$3");
static const char list[] =
    "SELECT " RUBRIC_JSON("r") ", encode(convert_to(" KEY("r") ", 'UTF8'),"
    " 'hex') FROM rubrics r WHERE r.plan_id = $2 AND " VISIBLE("r", "$5")
    " AND ($3::text IS NULL OR " KEY("r") " > convert_from(decode($3, 'hex'),"
    "  'UTF8')) AND ($6::text IS NULL OR fold(r.title) LIKE like_pattern($6))"
    " ORDER BY " KEY("r") " LIMIT $4";
static const char get[] =
    "SELECT r.version, " RUBRIC_JSON("r") " FROM rubrics r WHERE r.id = $2"
    " AND " VISIBLE("r", "$3");
/* The plan (visible), the unit that reviews with it (the caller's, under
 * the plan's issuing unit), the rubric it replaces (of the same plan). */
static const char context[] =
    "SELECT EXISTS (SELECT 1 FROM plans p WHERE p.id = $2 AND "
    PLAN_VISIBLE("p", "$5") "),"
    " EXISTS (SELECT 1 FROM units u, plans p, units pu WHERE u.id = $3"
    "  AND u.active AND u.path <@ " SCOPE
    "  AND p.id = $2 AND pu.id = p.issuing_unit_id AND u.path <@ pu.path),"
    " (SELECT o.revision + 1 FROM rubrics o JOIN units ou ON ou.id = o.unit_id"
    "  WHERE o.id = $4 AND o.plan_id = $2"
    "  AND ou.path <@ " SCOPE
    "  AND NOT EXISTS (SELECT 1 FROM rubrics n WHERE n.replaces_id = o.id)),"
    " (SELECT path FROM units WHERE id = $3)";
static const char create[] =
    "WITH ins AS (INSERT INTO rubrics (plan_id, unit_id, title, sample, doc,"
    "  revision, replaces_id, created_by) VALUES ($1, $2, $3,"
    "  coalesce($4::boolean, false), $5::jsonb, coalesce($6::int, 1), $7, $8)"
    "  RETURNING *)"
    "SELECT ins.version, " RUBRIC_JSON("ins") " FROM ins,"
    " audit_event($8, $9, 'create', 'rubric', ins.id, $10::ltree, NULL,"
    "  to_jsonb(ins), $11)";
/* clang-format on */

const struct db_stmt rubrics_stmts[] = {
	{ "rubrics_visible_plan", visible_plan },
	{ "rubrics_list", list },
	{ "rubrics_get", get },
	{ "rubrics_context", context },
	{ "rubrics_create", create },
	{ NULL, NULL },
};

enum {
	F_UNIT,
	F_TITLE,
	F_SAMPLE,
	F_REPLACES,
	F_GROUPS,
	F_BONUS,
	F_DEDUCTIONS,
	F_BANDS,
	F_RULE
};
static const struct field fields[] = {
	[F_UNIT] = { "unit_id", F_UUID, 1, 0, 0, 0, 0, NULL },
	[F_TITLE] = { "title", F_STRING, 1, 0, 0, 1, 300, NULL },
	[F_SAMPLE] = { "sample", F_BOOL, 0, 0, 0, 0, 0, NULL },
	[F_REPLACES] = { "replaces_id", F_UUID, 0, 1, 0, 0, 0, NULL },
	[F_GROUPS] = { "groups", F_ARRAY, 1, 0, 0, 0, 20, NULL },
	[F_BONUS] = { "bonus", F_JSON, 0, 0, 0, 0, 0, NULL },
	[F_DEDUCTIONS] = { "deductions", F_JSON, 0, 0, 0, 0, 0, NULL },
	[F_BANDS] = { "bands", F_ARRAY, 1, 0, 0, 0, 10, NULL },
	[F_RULE] = { "eligibility_rule", F_STRING, 1, 0, 0, 1, 2000, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};
static const struct field group_fields[] = {
	{ "code", F_CODE, 1, 0, 0, 1, 16, NULL },
	{ "title", F_STRING, 1, 0, 0, 1, 300, NULL },
	{ "criteria", F_ARRAY, 1, 0, 0, 0, 50, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};
static const struct field criterion_fields[] = {
	{ "code", F_CODE, 1, 0, 0, 1, 16, NULL },
	{ "title", F_STRING, 1, 0, 0, 1, 500, NULL },
	{ "guidance", F_STRING, 0, 0, 0, 0, 2000, NULL },
	{ "max_points", F_JSON, 1, 0, 0, 0, 0, NULL },
	{ "evidence_required", F_BOOL, 0, 0, 0, 0, 0, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};
static const struct field extra_fields[] = {
	{ "cap", F_JSON, 1, 0, 0, 0, 0, NULL },
	{ "criteria", F_ARRAY, 1, 0, 0, 0, 20, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};
static const struct field band_fields[] = {
	{ "name", F_STRING, 1, 0, 0, 1, 50, NULL },
	{ "min_total", F_JSON, 1, 0, 0, 0, 0, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};

int
points_value(json_t *v, double max, double *out)
{
	double x;

	if (!json_is_number(v))
		return -1;
	x = json_number_value(v);
	if (!(x >= 0 && x <= max) || fabs(x * 100 - round(x * 100)) > 1e-6)
		return -1;
	*out = x;
	return 0;
}

/* A number of points at name: 0 to max with at most two decimals. */
static int
check_points(struct req *r, json_t *v, const char *name, double max, double *out)
{
	if (points_value(v, max, out) == 0)
		return 0;
	req_field_error(r, name, "range",
	    "%s must be a number of points from 0 "
	    "to %g with at most two decimals",
	    name, max);
	return 1;
}

struct codes {
	const char *list[1024];
	int n;
};

/* Criteria of a group, of the bonus or of the deductions; codes are unique
 * across the rubric. Returns the number of problems. */
static int
check_criteria(struct req *r, json_t *list_, const char *at, struct codes *c,
    int group)
{
	const char *cv[5];
	json_t *e;
	size_t i;
	double x;
	int bad = 0, j;

	if (group && json_array_size(list_) == 0) {
		req_field_error(r, arena_printf(r->arena, "%scriteria", at),
		    "length", "a group has at least one criterion");
		bad++;
	}
	json_array_foreach(list_, i, e) {
		const char *p = arena_printf(r->arena, "%scriteria[%zu].", at,
		    i);

		if (!json_is_object(e) ||
		    validate_at(r, e, criterion_fields, cv, 0, p) > 0) {
			if (!json_is_object(e))
				req_field_error(r, p, "type",
				    "a criterion is an "
				    "object");
			bad++;
			continue;
		}
		if (check_points(r, json_object_get(e, "max_points"),
			arena_printf(r->arena, "%smax_points", p), 1000, &x) > 0)
			bad++;
		else if (x <= 0) {
			req_field_error(r,
			    arena_printf(r->arena, "%smax_points", p), "range",
			    "max_points is above 0");
			bad++;
		}
		if (!group && cv[4] != NULL) {
			req_field_error(r,
			    arena_printf(r->arena, "%sevidence_required", p),
			    "unknown",
			    "only the "
			    "criteria of a group require evidence");
			bad++;
		}
		for (j = 0; j < c->n && strcmp(c->list[j], cv[0]) != 0; j++)
			;
		if (j < c->n) {
			req_field_error(r, arena_printf(r->arena, "%scode", p),
			    "duplicate",
			    "criterion codes are unique in a rubric");
			bad++;
		} else if (c->n < (int)nitems(c->list))
			c->list[c->n++] = cv[0];
	}
	return bad;
}

/* The whole rubric document. Returns the number of problems. */
static int
check_rubric(struct req *r, json_t *body)
{
	const char *gv[3], *ev[2], *bv[2];
	static const char *const extras[] = { "bonus", "deductions" };
	struct codes *c = arena_alloc(r->arena, sizeof(*c));
	json_t *e, *x;
	size_t i, k;
	double min, last = 0;
	int bad = 0;

	c->n = 0;
	if (json_array_size(json_object_get(body, "groups")) == 0) {
		req_field_error(r, "groups", "length",
		    "a rubric has at least "
		    "one group of criteria");
		bad++;
	}
	json_array_foreach(json_object_get(body, "groups"), i, e) {
		const char *p = arena_printf(r->arena, "groups[%zu].", i);

		if (!json_is_object(e) ||
		    validate_at(r, e, group_fields, gv, 0, p) > 0) {
			req_field_error(r, p, "type",
			    "a group is an object with "
			    "code, title and criteria");
			bad++;
			continue;
		}
		bad += check_criteria(r, json_object_get(e, "criteria"), p, c,
		    1);
	}
	for (k = 0; k < nitems(extras); k++) {
		const char *p = arena_printf(r->arena, "%s.", extras[k]);
		double cap;

		if ((x = json_object_get(body, extras[k])) == NULL)
			continue;
		if (!json_is_object(x) ||
		    validate_at(r, x, extra_fields, ev, 0, p) > 0) {
			req_field_error(r, extras[k], "type",
			    "%s is an object "
			    "with cap and criteria",
			    extras[k]);
			bad++;
			continue;
		}
		bad += check_points(r, json_object_get(x, "cap"),
		    arena_printf(r->arena, "%scap", p), 1000, &cap);
		bad += check_criteria(r, json_object_get(x, "criteria"), p, c,
		    0);
	}
	if (json_array_size(json_object_get(body, "bands")) == 0) {
		req_field_error(r, "bands", "length",
		    "a rubric has at least one "
		    "band");
		bad++;
	}
	json_array_foreach(json_object_get(body, "bands"), i, e) {
		const char *p = arena_printf(r->arena, "bands[%zu].", i);

		if (!json_is_object(e) ||
		    validate_at(r, e, band_fields, bv, 0, p) > 0) {
			req_field_error(r, p, "type",
			    "a band is an object with "
			    "name and min_total");
			bad++;
			continue;
		}
		if (check_points(r, json_object_get(e, "min_total"),
			arena_printf(r->arena, "%smin_total", p), 10000,
			&min) > 0)
			bad++;
		else if (i > 0 && min >= last) {
			req_field_error(r,
			    arena_printf(r->arena, "%smin_total", p), "order",
			    "bands go from the highest minimum down");
			bad++;
		} else if (i + 1 ==
			json_array_size(json_object_get(body, "bands")) &&
		    min != 0) {
			req_field_error(r,
			    arena_printf(r->arena, "%smin_total", p), "range",
			    "the lowest band starts at 0, so every total "
			    "has a band");
			bad++;
		}
		last = min;
	}
	return bad;
}

int
rubrics_list(struct req *r)
{
	return reply_plan_sublist(r, "rubrics_visible_plan", "rubrics_list",
	    "plan");
}

int
rubrics_get(struct req *r)
{
	return reply_plan_get(r, "rubrics_get", "rubric");
}

int
rubrics_create(struct req *r)
{
	const struct principal *p = r->principal;
	const char *v[nitems(fields)], *params[11];
	struct dbres *ctx, *res;
	json_t *doc;
	char *text;
	int bad;

	if (req_body_object(r) == NULL)
		return -1;
	bad = validate_at(r, r->json, fields, v, 0, "");
	if (bad == 0)
		bad = check_rubric(r, r->json);
	if (bad > 0)
		return req_fail(r, 422, "invalid_body",
		    "the request body has invalid fields");
	params[0] = p->unit_id;
	params[1] = r->param[0];
	params[2] = v[F_UNIT];
	params[3] = v[F_REPLACES];
	params[4] = plan_drafts(r);
	if ((ctx = db_exec(r->arena, &r->fail, "rubrics_context", 5, params)) ==
	    NULL)
		return -1;
	if (strcmp(db_get(ctx, 0, 0), "t") != 0)
		return req_fail(r, 404, "not_found", "no such plan");
	if (strcmp(db_get(ctx, 0, 1), "t") != 0)
		return fail_reference(r, "unit_id",
		    "unit_id names no active "
		    "unit of yours under the plan's issuing unit");
	if (v[F_REPLACES] != NULL && db_get(ctx, 0, 2) == NULL)
		return fail_reference(r, "replaces_id",
		    "replaces_id names no "
		    "current rubric of this plan that you manage");
	/* The document is the body without the rubric's own columns. */
	doc = req_own(r, json_deep_copy(r->json));
	json_object_del(doc, "unit_id");
	json_object_del(doc, "title");
	json_object_del(doc, "sample");
	json_object_del(doc, "replaces_id");
	if ((text = json_dumps(doc, JSON_COMPACT)) == NULL)
		abort();
	params[0] = r->param[0];
	params[1] = v[F_UNIT];
	params[2] = v[F_TITLE];
	params[3] = v[F_SAMPLE];
	params[4] = arena_strdup(r->arena, text);
	free(text);
	params[5] = db_get(ctx, 0, 2);
	params[6] = v[F_REPLACES];
	params[7] = p->id;
	params[8] = actor_kind(r);
	params[9] = db_get(ctx, 0, 3);
	params[10] = r->id;
	if ((res = db_exec(r->arena, &r->fail, "rubrics_create", 11, params)) ==
	    NULL)
		return -1;
	return reply_created(r, res, "/api/v1/rubrics", "rubric");
}
