/*
 * The ranking of a rubric's score sheets (xếp loại): every sheet past its
 * draft, eligible units first by adjusted total (highest first), ties
 * broken by the smaller cut in review (delta, highest first), then the
 * unit's name (byte order) and id; units ruled not eligible follow, by
 * name, with their reason and no rank or band. JSON, or CSV (UTF-8 with a
 * BOM, CRLF lines, fixed snake_case columns) on Accept: text/csv.
 */
#include <string.h>

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
    "  x.name COLLATE \"C\", x.unit_id) AS pos FROM x)"
    "SELECT json_build_object('rank', CASE WHEN eligible THEN pos END,"
    " 'score_sheet_id', id, 'unit_id', unit_id, 'unit_code', code,"
    " 'unit_name', name, 'status', status, 'eligible', eligible,"
    " 'self_total', self_total, 'adjusted_total', adjusted_total,"
    " 'delta', delta, 'band', band, 'not_eligible_reason',"
    " not_eligible_reason),"
    " CASE WHEN eligible THEN pos::text END, code, name, status,"
    " self_total::text, adjusted_total::text, delta::text, band,"
    " eligible::text, not_eligible_reason FROM o ORDER BY pos";
/* clang-format on */

const struct db_stmt ranking_stmts[] = {
	{ "ranking_rubric_visible", rubric_visible },
	{ "ranking_rows", ranking },
	{ NULL, NULL },
};

/* The CSV columns, in order, and whether each holds free text. */
static const struct {
	const char *name;
	int text;
} columns[] = {
	{ "rank", 0 },
	{ "unit_code", 0 },
	{ "unit_name", 1 },
	{ "status", 0 },
	{ "self_total", 0 },
	{ "adjusted_total", 0 },
	{ "delta", 0 },
	{ "band", 1 },
	{ "eligible", 0 },
	{ "not_eligible_reason", 1 },
};

/* Appends one CSV field (RFC 4180): quoted when it holds a comma, a quote
 * or a line break; free text that a spreadsheet would read as a formula
 * gets a leading apostrophe. */
static size_t
csv_field(char *out, const char *s, int text)
{
	size_t n = 0;
	int quote = s != NULL && strpbrk(s, ",\"\r\n") != NULL;

	if (s == NULL)
		return 0;
	if (quote)
		out[n++] = '"';
	if (text && strchr("=+-@", *s) != NULL && *s != '\0')
		out[n++] = '\'';
	for (; *s != '\0'; s++) {
		if (*s == '"')
			out[n++] = '"';
		out[n++] = *s;
	}
	if (quote)
		out[n++] = '"';
	return n;
}

static int
reply_csv(struct req *r, struct dbres *res)
{
	size_t len = 256, off = 0, c;
	int i, rows = db_rows(res);
	char *body;

	for (i = 0; i < rows; i++) {
		for (c = 0; c < nitems(columns); c++)
			len += 2 * strlen(db_get(res, i, (int)c + 1) ?: "") + 4;
		len += 2;
	}
	body = arena_alloc(r->arena, len);
	memcpy(body, "\xef\xbb\xbf", 3);
	off = 3;
	for (c = 0; c < nitems(columns); c++)
		off += (size_t)snprintf(body + off, len - off, "%s%s",
		    c ? "," : "", columns[c].name);
	off += (size_t)snprintf(body + off, len - off, "\r\n");
	for (i = 0; i < rows; i++) {
		for (c = 0; c < nitems(columns); c++) {
			if (c > 0)
				body[off++] = ',';
			off += csv_field(body + off, db_get(res, i, (int)c + 1),
			    columns[c].text);
		}
		body[off++] = '\r';
		body[off++] = '\n';
	}
	req_header_add(r, "Content-Disposition",
	    arena_printf(r->arena, "attachment; filename=\"ranking-%s.csv\"",
		r->param[0]));
	return req_reply(r, 200, "text/csv; charset=utf-8", body, off);
}

int
rubrics_ranking(struct req *r)
{
	const char *params[3] = { r->principal->unit_id, r->param[0],
		plan_drafts(r) };
	const char *accept = req_header(r, "Accept");
	struct page pg = { .limit = 1 << 30 };
	struct dbres *res;

	if ((res = db_exec(r->arena, &r->fail, "ranking_rubric_visible", 3,
		 params)) == NULL)
		return -1;
	if (db_rows(res) == 0)
		return req_fail(r, 404, "not_found", "no such rubric");
	if ((res = db_exec(r->arena, &r->fail, "ranking_rows", 2, params)) ==
	    NULL)
		return -1;
	req_header_add(r, "Vary", "Accept");
	if (accept != NULL && strstr(accept, "text/csv") != NULL)
		return reply_csv(r, res);
	return reply_page(r, res, &pg);
}
