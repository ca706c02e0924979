/*
 * The province's roll-ups (GET /api/v1/reports/{name}): counts and rates
 * below a root unit, one row per group (the root's children, the communes,
 * or the kinds of unit), every group present with zeros, and the totals.
 * Each report is one statement over the live tables and the facts kept
 * beside them in the same transactions (0014_report_facts.sql), so an
 * answer is never behind the data it counts; as_of is when that data last
 * changed (its newest audit event), so the same counts are the same bytes
 * and ETag.
 */
#include <stdlib.h>
#include <string.h>

#include "resources/resources.h"

/* More groups than this is a report no one reads: 413, never a cut. */
#define REPORT_MAX_GROUPS 5000

/*
 * What every report shares, $1 the caller's unit and then the query:
 * $2 root (NULL: the caller's unit), $3 group_by, $4 year, $5 plan_id,
 * $6 milestone_kind, $7 from, $8 to, $9 field, $10 the unit kinds in
 * order; q holds them with today in Vietnam, read once. root is the root
 * when the caller sees it; grp the groups, each with the key its members
 * carry (a unit's last path label, or a kind) and its order; mem every
 * unit with the key of its group when it lies in the root's subtree: its
 * kind, the root's child it lies under (the root itself for the root), or
 * the deepest commune at or above it below the root (its stored
 * commune_path when that lies below the root). It is a subquery kept whole
 * (OFFSET 0), so the key is computed once per unit, not once per fact
 * joined to it, and the facts are hashed against the units' own ids, whose
 * statistics tell the plan to build its table on the units (a CTE's
 * columns have none: it hashed the facts instead, spilling to disk at a
 * province's size). It covers every unit rather than those the path index
 * finds below the root: a plan cannot know how many those are and guesses
 * a thousandth of the tree, and one pass over the units served the whole
 * tree faster; a small root pays that pass too. Keys compare bytewise
 * (COLLATE "C"): the same order for these ASCII keys as the locale's, at
 * a fraction of the cost.
 */
/* clang-format off */
#define REPORT_HEAD                                                          \
	"WITH q AS MATERIALIZED (SELECT $4::int AS year, $5::uuid AS plan_id," \
	"  $6::text AS milestone_kind, $7::date AS d_from, $8::date AS d_to,"  \
	"  $9::text AS field, today_vn() AS today),"                         \
	" root AS (SELECT u.id, u.code, u.name, u.kind, u.path,"             \
	"  nlevel(u.path) AS lvl, ltree2text(subpath(u.path, -1)) COLLATE \"C\"" \
	"  AS key"                                                           \
	"  FROM units u"                                                     \
	"  WHERE u.id = coalesce($2::uuid, $1) AND u.path <@ " SCOPE "),"     \
	" grp AS (SELECT u.id, u.code, u.name, u.kind, u.path, u.key,"       \
	"  0::bigint AS ord FROM root u WHERE $3::text IN ('unit', 'commune')" \
	"  UNION ALL SELECT u.id, u.code, u.name, u.kind, u.path,"           \
	"  ltree2text(subpath(u.path, -1)) COLLATE \"C\", 1"                  \
	"  FROM root JOIN units u ON u.parent_id = root.id WHERE $3 = 'unit'"  \
	"  UNION ALL SELECT u.id, u.code, u.name, u.kind, u.path,"           \
	"  ltree2text(subpath(u.path, -1)) COLLATE \"C\", 1"                  \
	"  FROM root JOIN units u ON u.path <@ root.path AND u.id <> root.id"   \
	"  WHERE $3 = 'commune' AND u.kind = 'commune'"                      \
	"  UNION ALL SELECT NULL, k.kind, k.kind, k.kind, NULL,"             \
	"  k.kind COLLATE \"C\", k.n"                                         \
	"  FROM unnest($10::text[]) WITH ORDINALITY k (kind, n) WHERE $3 = 'kind')," \
	" mem AS (SELECT s.id, CASE WHEN s.path <@ root.path"                 \
	"  THEN (CASE $3 WHEN 'kind' THEN s.kind"                            \
	"  WHEN 'unit' THEN CASE WHEN nlevel(s.path) > root.lvl"              \
	"   THEN ltree2text(subpath(s.path, root.lvl, 1)) ELSE root.key END"  \
	"  ELSE CASE WHEN nlevel(s.commune_path) > root.lvl"                  \
	"   THEN ltree2text(subpath(s.commune_path, -1)) ELSE root.key END"   \
	"  END) COLLATE \"C\" END AS key FROM units s CROSS JOIN root OFFSET 0),"

/* A plan a report counts: issued or closed, of the year, and the plan
 * asked for or one that cites it as its parent. */
#define PLAN_MATCH(p)                                                        \
	p ".status <> 'draft' AND ($4::int IS NULL OR " p ".year = $4)"       \
	" AND ($5::uuid IS NULL OR " p ".id = $5 OR " p ".parent_plan_id = $5)"
#define DATE_MATCH(d)                                                        \
	"($7::date IS NULL OR " d " >= $7) AND ($8::date IS NULL OR " d " <= $8)"
#define RATE(n, d) "round((" n ")::numeric / nullif(" d ", 0), 4)"

/* The answer: the root, the rows (every group, its counts from the facts
 * CTE `f` by key, zeros for none) and the totals, or NULL when there are
 * too many groups; the number of groups beside it. */
#define REPORT_TAIL(counts)                                                  \
	" t AS (SELECT g.key, GROUPING(g.key) AS total,"                     \
	"  jsonb_build_object(" counts ") AS c FROM grp g"                   \
	"  LEFT JOIN f ON f.key = g.key GROUP BY GROUPING SETS ((g.key), ()))" \
	"SELECT CASE WHEN n.n <= $11::int THEN json_build_object('root',"     \
	" json_build_object('unit_id', root.id, 'code', root.code, 'name',"   \
	"  root.name, 'kind', root.kind, 'path', " CODE_PATH("root") "),"     \
	" 'rows', (SELECT coalesce(json_agg(jsonb_build_object('unit_id', g.id," \
	"   'code', g.code, 'name', g.name, 'kind', g.kind, 'path', "         \
	    CODE_PATH("g") ") || t.c ORDER BY g.ord, g.code, g.key), '[]')"   \
	"  FROM grp g JOIN t ON t.key = g.key AND t.total = 0),"             \
	" 'totals', (SELECT t.c FROM t WHERE t.total = 1), 'as_of',"     \
	"  (SELECT coalesce(max(at), now()) FROM audit_events))"   \
	" END, n.n FROM root, (SELECT count(*) AS n FROM grp) n"
/* A unit's codes from the top of the tree down, joined by '/': each label
 * of its path is the id of a unit above it (a key lookup, not a search of
 * the tree). */
#define CODE_PATH(u)                                                         \
	"(SELECT string_agg(a.code, '/' ORDER BY x.n) FROM"                  \
	" unnest(string_to_array(ltree2text(" u ".path), '.')) WITH ORDINALITY" \
	" x (label, n) JOIN units a ON a.id = x.label::uuid)"

/*
 * The facts of a report, each with its unit and its dimensions (CTE `uf`),
 * meet the root's units in one hash join and are counted per group and
 * combination of dimensions (`f`, BY_GROUP), so that each column of a row
 * sums a few rows, not a pass over every fact per column. The root is a
 * row of the statement, unknown to a generic plan, which guesses its
 * subtree at a few units; that guess made it probe the facts' index on
 * their unit once per unit, thousands of times. A subquery kept whole
 * (OFFSET 0) cannot be probed so: the set of facts is read once instead,
 * as a root at the top needs anyway. The milestones or tasks counted are
 * found first the same way, so that each fact meets them in one hash
 * probe rather than one per table.
 */
#define BY_GROUP(dims, by)                                                   \
	" f AS (SELECT m.key, " dims ", count(*) AS n FROM (SELECT * FROM uf"  \
	"  OFFSET 0) uf JOIN mem m ON m.id = uf.unit_id"                       \
	"  WHERE m.key IS NOT NULL GROUP BY " by "),"
/* Today in Vietnam, read once (an InitPlan, not a join with every fact). */
#define TODAY "(SELECT today FROM q)"
#define N(cond) "coalesce(sum(f.n) FILTER (WHERE " cond "), 0)"
#define N_ALL "coalesce(sum(f.n), 0)"

/* Each expected submission from its kept facts (obligation_facts): its
 * answer, else missing once its due day is past in Vietnam. */
static const char obligations[] = REPORT_HEAD
    " uf AS (SELECT o.unit_id, coalesce(o.answered, CASE WHEN"
    "   o.due_on < " TODAY " THEN 'missing' ELSE 'pending' END) AS state"
    "  FROM obligation_facts o JOIN (SELECT ms.id FROM plans p"
    "   JOIN milestones ms ON ms.plan_id = p.id"
    "   WHERE " PLAN_MATCH("p") " AND ($6::text IS NULL OR ms.kind = $6)"
    "   OFFSET 0) ms ON ms.id = o.milestone_id"
    "  WHERE " DATE_MATCH("o.due_on") "),"
    BY_GROUP("uf.state", "1, 2")
    REPORT_TAIL("'expected', " N_ALL ","
    " 'received', " N("f.state IN ('on_time', 'late')") ","
    " 'on_time', " N("f.state = 'on_time'") ","
    " 'late', " N("f.state = 'late'") ","
    " 'missing', " N("f.state = 'missing'") ","
    " 'pending', " N("f.state = 'pending'") ","
    " 'reporting_rate', " RATE(N("f.state IN ('on_time', 'late')"), N_ALL) ","
    " 'reporting_rate_on_time', " RATE(N("f.state = 'on_time'"), N_ALL));

static const char assignments[] = REPORT_HEAD
    " uf AS (SELECT a.unit_id, a.status, coalesce(a.status <> 'done' AND "
    ASSIGNMENT_DUE("a", "t", "t") " < " TODAY ", false) AS overdue"
    "  FROM assignments a JOIN (SELECT t.id, t.due_on, t.schedule, p.year"
    "   FROM plans p JOIN tasks t ON t.plan_id = p.id"
    "   WHERE " PLAN_MATCH("p") " OFFSET 0) t ON t.id = a.task_id"
    "  WHERE " DATE_MATCH(ASSIGNMENT_DUE("a", "t", "t")) "),"
    BY_GROUP("uf.status, uf.overdue", "1, 2, 3")
    REPORT_TAIL("'assigned', " N_ALL ","
    " 'not_started', " N("f.status = 'not_started'") ","
    " 'in_progress', " N("f.status = 'in_progress'") ","
    " 'done', " N("f.status = 'done'") ","
    " 'overdue', " N("f.overdue") ","
    " 'completion_rate', " RATE(N("f.status = 'done'"), N_ALL));

/* A model's year and dates are those of its registration in Vietnam. */
static const char models[] = REPORT_HEAD
    " uf AS (SELECT mo.unit_id, mo.status, mo.field"
    "  FROM models mo"
    "  WHERE ($4::int IS NULL OR extract(year FROM mo.created_at"
    "   AT TIME ZONE 'Asia/Ho_Chi_Minh') = $4)"
    "  AND ($9::text IS NULL OR mo.field = $9)"
    "  AND " DATE_MATCH("(mo.created_at AT TIME ZONE 'Asia/Ho_Chi_Minh')::date")
    "),"
    BY_GROUP("uf.status, uf.field", "1, 2, 3")
    REPORT_TAIL("'models', " N_ALL ","
    " 'registered', " N("f.status = 'registered'") ","
    " 'implementing', " N("f.status = 'implementing'") ","
    " 'recognised', " N("f.status = 'recognised'") ","
    " 'replicated', " N("f.status = 'replicated'") ","
    " 'field_administrative_reform', " N("f.field = 'administrative_reform'") ","
    " 'field_environment', " N("f.field = 'environment'") ","
    " 'field_new_rural_areas', " N("f.field = 'new_rural_areas'") ","
    " 'field_citizen_satisfaction', " N("f.field = 'citizen_satisfaction'") ","
    " 'field_security_order', " N("f.field = 'security_order'") ","
    " 'field_economy', " N("f.field = 'economy'") ","
    " 'field_culture_society', " N("f.field = 'culture_society'") ","
    " 'field_other', " N("f.field = 'other'"));

/* Visits count for the inspected unit, recommendations for the unit that
 * must answer them; both by the visit's plan and scheduled day. */
static const char inspections[] = REPORT_HEAD
    " v AS (SELECT i.id, i.status, i.target_unit_id FROM inspections i"
    "  JOIN inspection_plans ip ON ip.id = i.inspection_plan_id"
    "  JOIN plans p ON p.id = ip.plan_id"
    "  WHERE " PLAN_MATCH("p") " AND " DATE_MATCH("i.scheduled_on") "),"
    " uf AS (SELECT v.target_unit_id AS unit_id, 'visit' AS what,"
    "  v.status, false AS overdue FROM v"
    "  UNION ALL SELECT r.responsible_unit_id, 'recommendation', r.status,"
    "  r.status <> 'resolved' AND r.due_on < " TODAY
    "  FROM v JOIN recommendations r ON r.inspection_id = v.id),"
    BY_GROUP("uf.what, uf.status, uf.overdue", "1, 2, 3, 4")
    REPORT_TAIL("'visits', " N("f.what = 'visit'") ","
    " 'visits_planned', " N("f.what = 'visit' AND f.status = 'planned'") ","
    " 'visits_in_progress', " N("f.what = 'visit'"
    "  AND f.status = 'in_progress'") ","
    " 'visits_completed', " N("f.what = 'visit'"
    "  AND f.status = 'completed'") ","
    " 'visits_cancelled', " N("f.what = 'visit'"
    "  AND f.status = 'cancelled'") ","
    " 'recommendations', " N("f.what = 'recommendation'") ","
    " 'recommendations_open', " N("f.what = 'recommendation'"
    "  AND f.status = 'open'") ","
    " 'recommendations_responded', " N("f.what = 'recommendation'"
    "  AND f.status = 'responded'") ","
    " 'recommendations_resolved', " N("f.what = 'recommendation'"
    "  AND f.status = 'resolved'") ","
    " 'recommendations_overdue', " N("f.overdue"));

/* Score sheets past their draft, of the current rubric of each plan, with
 * their kept results (score_sheet_results: the reviewed total and the
 * place of its band); a sheet ruled not eligible has no band. */
static const char scores[] = REPORT_HEAD
    " uf AS (SELECT ss.unit_id, ss.status, ss.eligible,"
    "  CASE WHEN ss.eligible THEN x.band END AS band, x.adjusted_total"
    "  FROM score_sheets ss JOIN rubrics r ON r.id = ss.rubric_id"
    "  JOIN plans p ON p.id = r.plan_id"
    "  JOIN score_sheet_results x ON x.score_sheet_id = ss.id"
    "  WHERE ss.status <> 'draft' AND " PLAN_MATCH("p")
    "  AND NOT EXISTS (SELECT 1 FROM rubrics n WHERE n.replaces_id = r.id)),"
    BY_GROUP("uf.status, uf.eligible, uf.band, sum(uf.adjusted_total) AS total",
    "1, 2, 3, 4")
    REPORT_TAIL("'sheets', " N_ALL ","
    " 'finalized', " N("f.status = 'finalized'") ","
    " 'not_eligible', " N("NOT f.eligible") ","
    " 'band_1', " N("f.band = 1") ","
    " 'band_2', " N("f.band = 2") ","
    " 'band_3', " N("f.band = 3") ","
    " 'band_4', " N("f.band = 4") ","
    " 'band_5', " N("f.band = 5") ","
    " 'mean_final_score', round(sum(f.total) FILTER (WHERE f.eligible)"
    "  / nullif(" N("f.eligible") ", 0), 2)");
/* clang-format on */

const struct db_stmt reports_stmts[] = {
	{ "reports_obligations", obligations },
	{ "reports_assignments", assignments },
	{ "reports_models", models },
	{ "reports_inspections", inspections },
	{ "reports_scores", scores },
	{ NULL, NULL },
};

/* The columns every row begins with: the group. */
/* clang-format off */
#define GROUP_COLUMNS                                                        \
	{ "unit_id", COLUMN_TEXT }, { "code", COLUMN_TEXT },                 \
	{ "name", COLUMN_TEXT }, { "kind", COLUMN_TEXT },                    \
	{ "path", COLUMN_TEXT }
/* clang-format on */

static const struct column obligation_columns[] = {
	GROUP_COLUMNS,
	{ "expected", COLUMN_INTEGER },
	{ "received", COLUMN_INTEGER },
	{ "on_time", COLUMN_INTEGER },
	{ "late", COLUMN_INTEGER },
	{ "missing", COLUMN_INTEGER },
	{ "pending", COLUMN_INTEGER },
	{ "reporting_rate", COLUMN_RATE },
	{ "reporting_rate_on_time", COLUMN_RATE },
};
static const struct column assignment_columns[] = {
	GROUP_COLUMNS,
	{ "assigned", COLUMN_INTEGER },
	{ "not_started", COLUMN_INTEGER },
	{ "in_progress", COLUMN_INTEGER },
	{ "done", COLUMN_INTEGER },
	{ "overdue", COLUMN_INTEGER },
	{ "completion_rate", COLUMN_RATE },
};
static const struct column model_columns[] = {
	GROUP_COLUMNS,
	{ "models", COLUMN_INTEGER },
	{ "registered", COLUMN_INTEGER },
	{ "implementing", COLUMN_INTEGER },
	{ "recognised", COLUMN_INTEGER },
	{ "replicated", COLUMN_INTEGER },
	{ "field_administrative_reform", COLUMN_INTEGER },
	{ "field_environment", COLUMN_INTEGER },
	{ "field_new_rural_areas", COLUMN_INTEGER },
	{ "field_citizen_satisfaction", COLUMN_INTEGER },
	{ "field_security_order", COLUMN_INTEGER },
	{ "field_economy", COLUMN_INTEGER },
	{ "field_culture_society", COLUMN_INTEGER },
	{ "field_other", COLUMN_INTEGER },
};
static const struct column inspection_columns[] = {
	GROUP_COLUMNS,
	{ "visits", COLUMN_INTEGER },
	{ "visits_planned", COLUMN_INTEGER },
	{ "visits_in_progress", COLUMN_INTEGER },
	{ "visits_completed", COLUMN_INTEGER },
	{ "visits_cancelled", COLUMN_INTEGER },
	{ "recommendations", COLUMN_INTEGER },
	{ "recommendations_open", COLUMN_INTEGER },
	{ "recommendations_responded", COLUMN_INTEGER },
	{ "recommendations_resolved", COLUMN_INTEGER },
	{ "recommendations_overdue", COLUMN_INTEGER },
};
static const struct column score_columns[] = {
	GROUP_COLUMNS,
	{ "sheets", COLUMN_INTEGER },
	{ "finalized", COLUMN_INTEGER },
	{ "not_eligible", COLUMN_INTEGER },
	{ "band_1", COLUMN_INTEGER },
	{ "band_2", COLUMN_INTEGER },
	{ "band_3", COLUMN_INTEGER },
	{ "band_4", COLUMN_INTEGER },
	{ "band_5", COLUMN_INTEGER },
	{ "mean_final_score", COLUMN_NUMBER },
};

/* The query of every report, in the order of the statements' $2..$9. */
enum { Q_UNIT, Q_GROUP, Q_YEAR, Q_PLAN, Q_KIND, Q_FROM, Q_TO, Q_FIELD, NQ };
static const struct field filters[] = {
	[Q_UNIT] = { "unit_id", F_UUID, 0, 0, 0, 0, 0, NULL },
	[Q_GROUP] = { "group_by", F_ENUM, 0, 0, 0, 0, 0, report_group_bys },
	[Q_YEAR] = { "year", F_INT, 0, 0, 0, 2000, 2100, NULL },
	[Q_PLAN] = { "plan_id", F_UUID, 0, 0, 0, 0, 0, NULL },
	[Q_KIND] = { "milestone_kind", F_ENUM, 0, 0, 0, 0, 0, milestone_kinds },
	[Q_FROM] = { "from", F_DATE, 0, 0, 0, 0, 0, NULL },
	[Q_TO] = { "to", F_DATE, 0, 0, 0, 0, 0, NULL },
	[Q_FIELD] = { "field", F_ENUM, 0, 0, 0, 0, 0, model_fields },
	[NQ] = { NULL, 0, 0, 0, 0, 0, 0, NULL },
};
#define ONLY(x) (1u << (x))
#define ALL_BUT(x) (~0u & ~(x))

struct report {
	const char *name, *stmt;
	const struct column *cols;
	size_t ncols;
	unsigned filters; /* the ONLY() bits of the filters it takes */
};

static const struct report reports[] = {
	{ "obligations", "reports_obligations", obligation_columns,
	    nitems(obligation_columns), ALL_BUT(ONLY(Q_FIELD)) },
	{ "assignments", "reports_assignments", assignment_columns,
	    nitems(assignment_columns), ALL_BUT(ONLY(Q_FIELD) | ONLY(Q_KIND)) },
	{ "models", "reports_models", model_columns, nitems(model_columns),
	    ALL_BUT(ONLY(Q_PLAN) | ONLY(Q_KIND)) },
	{ "inspections", "reports_inspections", inspection_columns,
	    nitems(inspection_columns), ALL_BUT(ONLY(Q_FIELD) | ONLY(Q_KIND)) },
	{ "scores", "reports_scores", score_columns, nitems(score_columns),
	    ALL_BUT(ONLY(Q_FIELD) | ONLY(Q_KIND) | ONLY(Q_FROM) | ONLY(Q_TO)) },
};

/* The unit kinds as a PostgreSQL array literal, the rows of group_by=kind
 * in their order. */
static const char *
kinds_array(struct req *r)
{
	const char *s = "{";
	int i;

	for (i = 0; unit_kinds[i] != NULL; i++)
		s = arena_printf(r->arena, "%s%s%s", s, i ? "," : "",
		    unit_kinds[i]);
	return arena_printf(r->arena, "%s}", s);
}

/* Reads the filters rep takes (the contract declares no others, so the
 * request layer answers 400 for any other): 400 for a bad value or a range
 * that runs backwards, 404 for a plan the caller does not see. */
static int
report_query(struct req *r, const struct report *rep, const char **q)
{
	int i, bad = 0;

	for (i = 0; i < NQ; i++) {
		q[i] = NULL;
		if ((rep->filters & ONLY(i)) == 0 ||
		    (q[i] = req_query(r, filters[i].name)) == NULL)
			continue;
		if (query_value(r, &filters[i], q[i]) == -1) {
			q[i] = NULL;
			bad++;
		}
	}
	if (q[Q_FROM] != NULL && q[Q_TO] != NULL &&
	    strcmp(q[Q_FROM], q[Q_TO]) > 0) {
		req_field_error(r, "to", "range", "to comes before from");
		bad++;
	}
	if (bad)
		return req_fail(r, 400, "invalid_query",
		    "a query parameter is invalid");
	if (q[Q_GROUP] == NULL)
		q[Q_GROUP] = "commune";
	return q[Q_PLAN] != NULL ? plan_find(r, q[Q_PLAN]) : 0;
}

/* The filters as the answer repeats them (null when absent). */
static json_t *
report_filters(const struct report *rep, const char **q)
{
	json_t *o = json_object();
	int i;

	for (i = Q_YEAR; i < NQ; i++) {
		if ((rep->filters & ONLY(i)) == 0)
			continue;
		if (q[i] == NULL)
			json_object_set_new(o, filters[i].name, json_null());
		else if (i == Q_YEAR)
			json_object_set_new(o, filters[i].name,
			    json_integer(strtol(q[i], NULL, 10)));
		else
			json_object_set_new(o, filters[i].name,
			    json_string(q[i]));
	}
	return o;
}

static int
report_run(struct req *r, const struct report *rep)
{
	const char *q[NQ + 1], *params[11];
	struct dbres *res;
	json_t *doc, *cols;
	size_t i;

	if (report_query(r, rep, q) == -1)
		return -1;
	params[0] = r->principal->unit_id;
	for (i = 0; i < NQ; i++)
		params[i + 1] = q[i];
	params[9] = kinds_array(r);
	params[10] = arena_printf(r->arena, "%d", REPORT_MAX_GROUPS);
	if ((res = db_exec(r->arena, &r->fail, rep->stmt, 11, params)) == NULL)
		return -1;
	if (db_rows(res) == 0)
		return req_fail(r, 404, "not_found", "no such unit");
	if (db_get(res, 0, 0) == NULL)
		return req_fail(r, 413, "report_too_large",
		    "the report would have %s groups, more than %d: choose a "
		    "root further down or another group_by",
		    db_get(res, 0, 1), REPORT_MAX_GROUPS);
	if ((doc = json_loads(db_get(res, 0, 0), 0, NULL)) == NULL)
		return req_fail(r, 500, "internal", "report not readable");
	req_own(r, doc);
	json_object_set_new(doc, "group_by", json_string(q[Q_GROUP]));
	json_object_set_new(doc, "filters", report_filters(rep, q));
	cols = json_array();
	for (i = 0; i < rep->ncols; i++)
		json_array_append_new(cols, json_string(rep->cols[i].name));
	json_object_set_new(doc, "columns", cols);
	return reply_table(r, doc, "rows", rep->cols, rep->ncols, rep->name);
}

int
reports_obligations(struct req *r)
{
	return report_run(r, &reports[0]);
}

int
reports_assignments(struct req *r)
{
	return report_run(r, &reports[1]);
}

int
reports_models(struct req *r)
{
	return report_run(r, &reports[2]);
}

int
reports_inspections(struct req *r)
{
	return report_run(r, &reports[3]);
}

int
reports_scores(struct req *r)
{
	return report_run(r, &reports[4]);
}
