/*
 * Score entries, a criterion's points on a score sheet: as the unit scored
 * itself (with a note and evidence) or as the reviewer adjusted them (with a
 * reason). Checks them for score_sheets.c against the rubric: known criteria,
 * points up to the maximum, the scored unit's evidence, the caps, completeness.
 */
#include <stdlib.h>
#include <string.h>

#include "resources/resources.h"

/* clang-format off */
static const char items[] =
    "SELECT i.code, i.kind, i.max_points::text FROM rubrics r,"
    " rubric_items(r.doc) i WHERE r.id = $1";
/* The first piece of evidence that is not the scored unit's: (entry,
 * which list, item), 0-based. */
static const char evidence[] =
    "SELECT e.o - 1, 'submission_ids', x.o - 1"
    " FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY e(v, o),"
    " jsonb_array_elements_text(coalesce(e.v->'evidence'->'submission_ids',"
    "  '[]')) WITH ORDINALITY x(id, o)"
    " WHERE NOT EXISTS (SELECT 1 FROM submissions b JOIN units u ON"
    "  u.id = b.unit_id WHERE b.id = x.id::uuid AND u.path <@ $2::ltree)"
    " UNION ALL SELECT e.o - 1, 'attachment_ids', x.o - 1"
    " FROM jsonb_array_elements($1::jsonb) WITH ORDINALITY e(v, o),"
    " jsonb_array_elements_text(coalesce(e.v->'evidence'->'attachment_ids',"
    "  '[]')) WITH ORDINALITY x(id, o)"
    " WHERE NOT EXISTS (SELECT 1 FROM attachments a JOIN submissions b ON"
    "  b.id = a.submission_id JOIN units u ON u.id = b.unit_id"
    "  WHERE a.id = x.id::uuid AND u.path <@ $2::ltree)"
    " ORDER BY 1, 2, 3 LIMIT 1";
static const char self_scores[] =
    "INSERT INTO score_entries (score_sheet_id, code, self_points, note,"
    " evidence) SELECT $1, e->>'code', (e->>'points')::numeric,"
    " coalesce(e->>'note', ''), coalesce(e->'evidence', '{}')"
    " FROM jsonb_array_elements($2::jsonb) e"
    " ON CONFLICT (score_sheet_id, code) DO UPDATE SET"
    " self_points = EXCLUDED.self_points, note = EXCLUDED.note,"
    " evidence = EXCLUDED.evidence";
static const char adjust_scores[] =
    "INSERT INTO score_entries (score_sheet_id, code, self_points,"
    " adjusted_points, adjust_reason, adjusted_by, adjusted_at)"
    " SELECT $1, e->>'code', 0, (e->>'points')::numeric, e->>'reason', $3,"
    " now() FROM jsonb_array_elements($2::jsonb) e"
    " ON CONFLICT (score_sheet_id, code) DO UPDATE SET"
    " adjusted_points = EXCLUDED.adjusted_points,"
    " adjust_reason = EXCLUDED.adjust_reason,"
    " adjusted_by = EXCLUDED.adjusted_by, adjusted_at = now()";
/* A bonus or deduction total over its cap (as scored or as adjusted). */
static const char caps[] =
    "SELECT i.kind FROM score_sheets s JOIN rubrics r ON r.id = s.rubric_id"
    " JOIN score_entries e ON e.score_sheet_id = s.id"
    " JOIN rubric_items(r.doc) i ON i.code = e.code"
    " WHERE s.id = $1 AND i.kind <> 'criterion' GROUP BY i.kind, r.id"
    " HAVING greatest(sum(e.self_points), sum(coalesce(e.adjusted_points,"
    "  e.self_points))) > coalesce((r.doc->(CASE WHEN i.kind = 'bonus'"
    "  THEN 'bonus' ELSE 'deductions' END)->>'cap')::numeric, 0)"
    " ORDER BY 1 LIMIT 1";
/* What a submit still lacks: a criterion not scored, or scored without
 * the evidence the rubric requires. */
static const char missing[] =
    "SELECT i.code, e.code IS NULL FROM score_sheets s"
    " JOIN rubrics r ON r.id = s.rubric_id, rubric_items(r.doc) i"
    " LEFT JOIN score_entries e ON e.score_sheet_id = $1 AND e.code = i.code"
    " WHERE s.id = $1 AND i.kind = 'criterion' AND (e.code IS NULL"
    "  OR (i.evidence_required AND jsonb_array_length(coalesce("
    "  e.evidence->'submission_ids', '[]')) + jsonb_array_length(coalesce("
    "  e.evidence->'attachment_ids', '[]')) = 0))"
    " ORDER BY i.code COLLATE \"C\" LIMIT 20";
/* clang-format on */

const struct db_stmt score_entries_stmts[] = {
	{ "score_entries_items", items },
	{ "score_entries_evidence", evidence },
	{ "score_entries_self", self_scores },
	{ "score_entries_adjust", adjust_scores },
	{ "score_entries_caps", caps },
	{ "score_entries_missing", missing },
	{ NULL, NULL },
};

static const struct field self_fields[] = {
	{ "code", F_CODE, 1, 0, 0, 1, 16, NULL },
	{ "points", F_JSON, 1, 0, 0, 0, 0, NULL },
	{ "note", F_STRING, 0, 0, 0, 0, 2000, NULL },
	{ "evidence", F_JSON, 0, 0, 0, 0, 0, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};
static const struct field adjust_fields[] = {
	{ "code", F_CODE, 1, 0, 0, 1, 16, NULL },
	{ "points", F_JSON, 1, 0, 0, 0, 0, NULL },
	{ "reason", F_STRING, 1, 0, 0, 1, 2000, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};
static const struct field evidence_fields[] = {
	{ "submission_ids", F_ARRAY, 0, 0, 0, 0, 10, NULL },
	{ "attachment_ids", F_ARRAY, 0, 0, 0, 0, 10, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};

int
score_entries_check(struct req *r, const char *rubric_id, json_t *list_,
    const char *name, int adjust)
{
	const char *v[4], *at, *iat;
	struct dbres *items_;
	json_t *e, *ids;
	size_t i, k, j;
	double x;
	int bad = 0, n, row;

	if ((items_ = db_exec(r->arena, &r->fail, "score_entries_items", 1,
		 &rubric_id)) == NULL)
		return 1;
	n = db_rows(items_);
	json_array_foreach(list_, i, e) {
		at = arena_printf(r->arena, "%s[%zu].", name, i);
		if (!json_is_object(e) ||
		    validate_at(r, e, adjust ? adjust_fields : self_fields, v,
			0, at) > 0) {
			if (!json_is_object(e))
				req_field_error(r, at, "type",
				    "each entry is an "
				    "object");
			bad++;
			continue;
		}
		for (row = 0; row < n && strcmp(db_get(items_, row, 0), v[0]);
		     row++)
			;
		if (row == n) {
			req_field_error(r, arena_printf(r->arena, "%scode", at),
			    "unknown", "the rubric has no criterion %s", v[0]);
			bad++;
			continue;
		}
		for (j = 0; j < i; j++)
			if (strcmp(
				json_string_value(json_object_get(json_array_get(list_, j), "code")) ?:
				    "",
				v[0]) == 0) {
				req_field_error(r,
				    arena_printf(r->arena, "%scode", at),
				    "duplicate",
				    "a criterion "
				    "appears once");
				bad++;
			}
		if (points_value(json_object_get(e, "points"),
			strtod(db_get(items_, row, 2), NULL), &x) == -1) {
			req_field_error(r,
			    arena_printf(r->arena, "%spoints", at), "range",
			    "points of %s go from 0 to %s, with at most "
			    "two decimals",
			    v[0], db_get(items_, row, 2));
			bad++;
		}
		if (adjust || v[3] == NULL)
			continue;
		iat = arena_printf(r->arena, "%sevidence.", at);
		if (!json_is_object(json_object_get(e, "evidence")) ||
		    validate_at(r, json_object_get(e, "evidence"),
			evidence_fields, v, 0, iat) > 0) {
			req_field_error(r,
			    arena_printf(r->arena, "%sevidence", at), "type",
			    "evidence holds submission_ids and "
			    "attachment_ids, at most 10 of each");
			bad++;
			continue;
		}
		for (k = 0; k < 2; k++)
			json_array_foreach(json_object_get(json_object_get(e,
							       "evidence"),
					       evidence_fields[k].name),
			    j, ids)
				if (!json_is_string(ids) ||
				    !is_uuid(json_string_value(ids))) {
					req_field_error(r,
					    arena_printf(r->arena, "%s%s[%zu]",
						iat, evidence_fields[k].name, j),
					    "format", "an id is a UUID");
					bad++;
				}
	}
	return bad;
}

int
score_entries_write(struct req *r, const char *sheet, const char *unit_path,
    const char *entries, const char *name, int adjust)
{
	const char *params[3] = { entries, unit_path, r->principal->id };
	struct dbres *res;

	if (!adjust) {
		if ((res = db_exec(r->arena, &r->fail, "score_entries_evidence",
			 2, params)) == NULL)
			return -1;
		if (db_rows(res) == 1)
			return fail_reference(r,
			    arena_printf(r->arena, "%s[%s].evidence.%s[%s]",
				name, db_get(res, 0, 0), db_get(res, 0, 1),
				db_get(res, 0, 2)),
			    "the evidence "
			    "is not a submission or file of the scored unit");
	}
	params[0] = sheet;
	params[1] = entries;
	if (db_exec(r->arena, &r->fail,
		adjust ? "score_entries_adjust" : "score_entries_self",
		adjust ? 3 : 2, params) == NULL ||
	    (res = db_exec(r->arena, &r->fail, "score_entries_caps", 1,
		 &sheet)) == NULL)
		return -1;
	if (db_rows(res) == 1) {
		req_field_error(r, name, "cap",
		    "the %s points add up to more "
		    "than the rubric's cap",
		    db_get(res, 0, 0));
		return req_fail(r, 422, "over_cap",
		    "the %s points exceed the "
		    "rubric's cap",
		    db_get(res, 0, 0));
	}
	return 0;
}

int
score_entries_complete(struct req *r, const char *sheet)
{
	struct dbres *res;
	int i;

	if ((res = db_exec(r->arena, &r->fail, "score_entries_missing", 1,
		 &sheet)) == NULL)
		return -1;
	for (i = 0; i < db_rows(res); i++)
		req_field_error(r, db_get(res, i, 0),
		    strcmp(db_get(res, i, 1), "t") == 0 ? "required" :
							  "evidence_required",
		    "%s %s", db_get(res, i, 0),
		    strcmp(db_get(res, i, 1), "t") == 0 ? "is not scored" :
							  "needs evidence");
	if (db_rows(res) > 0)
		return req_fail(r, 422, "incomplete",
		    "every criterion is "
		    "scored, with evidence where the rubric asks");
	return 0;
}
