/*
 * The ranking of a rubric's score sheets (xếp loại): every sheet past its
 * draft, eligible units first by adjusted total (highest first), ties
 * broken by the smaller cut in review (delta, highest first), then the
 * unit's name (byte order) and id; units ruled not eligible follow, by
 * name, with their reason and no rank or band. score_rate is the adjusted
 * total over the criteria's maximum. JSON, CSV or XLSX (export.c).
 */
#include "resources/resources.h"

/* clang-format off */
static const char rubric_visible[] =
    "SELECT 1 FROM rubrics r JOIN plans p ON p.id = r.plan_id"
    " WHERE r.id = $2 AND " PLAN_VISIBLE("p", "$3");
static const char ranking[] =
    "WITH x AS (SELECT s.id, s.unit_id, u.code, u.name, s.status, s.eligible,"
    "  s.not_eligible_reason, t.self_total, t.adjusted_total,"
    "  t.adjusted_total - t.self_total AS delta,"
    "  CASE WHEN s.eligible THEN rubric_band(r.doc, t.adjusted_total) END"
    "  AS band FROM score_sheets s JOIN rubrics r ON r.id = s.rubric_id"
    "  JOIN units u ON u.id = s.unit_id, LATERAL score_totals(s.id) t"
    "  WHERE s.rubric_id = $2 AND s.status <> 'draft'"
    "  AND EXISTS (SELECT 1 FROM units v, units me WHERE me.id = $1"
    "   AND v.id IN (s.unit_id, r.unit_id) AND v.path <@ me.path)),"
    " o AS (SELECT x.*, row_number() OVER (ORDER BY NOT x.eligible,"
    "  CASE WHEN x.eligible THEN x.adjusted_total END DESC,"
    "  CASE WHEN x.eligible THEN x.delta END DESC,"
    "  x.name COLLATE \"C\", x.unit_id) AS pos FROM x),"
    " m AS (SELECT sum(i.max_points) AS max FROM rubrics r,"
    "  rubric_items(r.doc) i WHERE r.id = $2 AND i.kind = 'criterion')"
    "SELECT json_build_object('items', coalesce(json_agg(json_build_object("
    " 'rank', CASE WHEN eligible THEN pos END,"
    " 'score_sheet_id', id, 'unit_id', unit_id, 'unit_code', code,"
    " 'unit_name', name, 'status', status, 'eligible', eligible,"
    " 'self_total', self_total, 'adjusted_total', adjusted_total,"
    " 'delta', delta, 'band', band, 'not_eligible_reason',"
    " not_eligible_reason, 'score_rate', trim_scale(round("
    " adjusted_total / nullif(m.max, 0), 4))) ORDER BY pos), '[]'),"
    " 'next_cursor', NULL) FROM o, m";
/* clang-format on */

const struct db_stmt ranking_stmts[] = {
	{ "ranking_rubric_visible", rubric_visible },
	{ "ranking_rows", ranking },
	{ NULL, NULL },
};

/* The columns of the CSV and XLSX forms, in order. */
static const struct column columns[] = {
	{ "rank", COLUMN_INTEGER },
	{ "unit_code", COLUMN_TEXT },
	{ "unit_name", COLUMN_TEXT },
	{ "status", COLUMN_TEXT },
	{ "self_total", COLUMN_NUMBER },
	{ "adjusted_total", COLUMN_NUMBER },
	{ "delta", COLUMN_NUMBER },
	{ "band", COLUMN_TEXT },
	{ "eligible", COLUMN_TEXT },
	{ "not_eligible_reason", COLUMN_TEXT },
	{ "score_rate", COLUMN_RATE },
};

int
rubrics_ranking(struct req *r)
{
	const char *params[3] = { r->principal->unit_id, r->param[0],
		plan_drafts(r) };
	struct dbres *res;
	json_t *doc;

	if ((res = db_exec(r->arena, &r->fail, "ranking_rubric_visible", 3,
		 params)) == NULL)
		return -1;
	if (db_rows(res) == 0)
		return req_fail(r, 404, "not_found", "no such rubric");
	if ((res = db_exec(r->arena, &r->fail, "ranking_rows", 2, params)) ==
	    NULL)
		return -1;
	if ((doc = json_loads(db_get(res, 0, 0), 0, NULL)) == NULL)
		return req_fail(r, 500, "internal", "ranking is not JSON");
	return reply_table(r, req_own(r, doc), "items", columns,
	    nitems(columns), arena_printf(r->arena, "ranking-%s", r->param[0]));
}
