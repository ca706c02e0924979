-- The province's reports read every expected submission below a root: the
-- first answer to each (milestone, unit) pair is found in this index alone
-- (an index-only scan), without a visit to the submissions' rows.
CREATE INDEX submissions_answer ON submissions (milestone_id, unit_id)
	INCLUDE (submitted_at) WHERE milestone_id IS NOT NULL
	AND status <> 'draft';

-- The totals of many score sheets in one pass: each rubric's criteria read
-- once (MATERIALIZED, or the planner reads them again for every sheet). score_totals (one sheet) is now this function
-- on one id, so a sheet, a ranking and a report count the same way: the
-- criteria plus the bonus (at most its cap) minus the deductions (at most
-- their cap), as scored and after review.
CREATE FUNCTION score_sheet_totals(sheets uuid[])
	RETURNS TABLE (score_sheet_id uuid, self_total numeric,
		adjusted_total numeric)
	LANGUAGE sql STABLE AS $$
	WITH ss AS (SELECT DISTINCT s.id, s.rubric_id FROM score_sheets s
		JOIN unnest(sheets) AS q (id) ON q.id = s.id),
	r AS (SELECT r.id, r.doc,
			coalesce((r.doc->'bonus'->>'cap')::numeric, 0) AS b,
			coalesce((r.doc->'deductions'->>'cap')::numeric, 0) AS d
		FROM rubrics r WHERE r.id IN (SELECT rubric_id FROM ss)),
	items AS MATERIALIZED (SELECT r.id AS rubric_id, i.code, i.kind
		FROM r, rubric_items(r.doc) i),
	sums AS (SELECT ss.id, i.kind, sum(e.self_points) AS s,
			sum(coalesce(e.adjusted_points, e.self_points)) AS a
		FROM ss JOIN score_entries e ON e.score_sheet_id = ss.id
		JOIN items i ON i.rubric_id = ss.rubric_id AND i.code = e.code
		GROUP BY ss.id, i.kind)
	SELECT ss.id,
		trim_scale(coalesce(sum(x.s) FILTER (WHERE x.kind = 'criterion'), 0)
		+ least(coalesce(sum(x.s) FILTER (WHERE x.kind = 'bonus'), 0), r.b)
		- least(coalesce(sum(x.s) FILTER (WHERE x.kind = 'deduction'), 0), r.d)),
		trim_scale(coalesce(sum(x.a) FILTER (WHERE x.kind = 'criterion'), 0)
		+ least(coalesce(sum(x.a) FILTER (WHERE x.kind = 'bonus'), 0), r.b)
		- least(coalesce(sum(x.a) FILTER (WHERE x.kind = 'deduction'), 0), r.d))
	FROM ss JOIN r ON r.id = ss.rubric_id LEFT JOIN sums x ON x.id = ss.id
	GROUP BY ss.id, r.b, r.d
$$;

CREATE OR REPLACE FUNCTION score_totals(sheet uuid)
	RETURNS TABLE (self_total numeric, adjusted_total numeric)
	LANGUAGE sql STABLE AS $$
	SELECT t.self_total, t.adjusted_total
	FROM score_sheet_totals(ARRAY[sheet]) t
$$;
