-- What the province's reports count, kept beside the live tables: the
-- answer to each expected submission (on time, late or none yet, against
-- its due date after any extension) and the final total and band of each
-- score sheet. Judging a submission takes a time-zone conversion and a
-- sheet's total a pass over its entries and its rubric's criteria: done
-- once per change here, not once per row of every report. Both are derived,
-- never written by a request: triggers rewrite the rows a statement touched
-- before it returns, in its transaction, so a report reads the same counts
-- as a computation from the live tables would (tests/api/test_reports.py,
-- KeptFacts, compares the two).

-- One row per expected submission (milestone_units), deleted with it.
-- answered: the first answer judged against due_on (timeliness()), NULL
-- while none came; missing or pending is then a matter of today, which
-- the report compares.
CREATE TABLE obligation_facts (
	milestone_id uuid NOT NULL,
	unit_id uuid NOT NULL,
	due_on date NOT NULL,
	answered text CHECK (answered IN ('on_time', 'late')),
	PRIMARY KEY (milestone_id, unit_id),
	FOREIGN KEY (milestone_id, unit_id) REFERENCES milestone_units
		ON DELETE CASCADE
);

-- Rewrites the facts of the (milestone, unit) pairs given (ms[i], us[i])
-- from the live tables; a pair no longer expected has lost its row by the
-- cascade. PL/pgSQL: its statements are planned once per connection.
CREATE FUNCTION obligation_facts_sync(ms uuid[], us uuid[]) RETURNS void
	LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO obligation_facts AS f (milestone_id, unit_id, due_on,
		answered)
	SELECT mu.milestone_id, mu.unit_id, coalesce(e.due_on, m.due_on),
		timeliness(s.submitted_at, coalesce(e.due_on, m.due_on))
	FROM (SELECT DISTINCT * FROM unnest(ms, us)) k (milestone_id, unit_id)
	JOIN milestone_units mu ON mu.milestone_id = k.milestone_id
		AND mu.unit_id = k.unit_id
	JOIN milestones m ON m.id = mu.milestone_id
	LEFT JOIN extensions e ON e.milestone_id = mu.milestone_id
		AND e.unit_id = mu.unit_id
	LEFT JOIN submissions s ON s.milestone_id = mu.milestone_id
		AND s.unit_id = mu.unit_id AND s.status <> 'draft'
	ON CONFLICT (milestone_id, unit_id) DO UPDATE
		SET due_on = excluded.due_on, answered = excluded.answered
		WHERE (f.due_on, f.answered) IS DISTINCT FROM
			(excluded.due_on, excluded.answered);
END
$$;

-- Every expected submission there is already.
SELECT obligation_facts_sync(array_agg(milestone_id), array_agg(unit_id))
FROM milestone_units;

-- The pairs a statement may have changed, by table: new expected units; a
-- milestone's due date; an extension granted, changed or withdrawn; a
-- submission made, deleted, or its answer changed.
CREATE FUNCTION obligation_facts_refresh() RETURNS trigger
	LANGUAGE plpgsql AS $$
DECLARE
	ms uuid[];
	us uuid[];
BEGIN
	IF TG_TABLE_NAME = 'milestones' THEN
		SELECT array_agg(mu.milestone_id), array_agg(mu.unit_id)
		INTO ms, us FROM milestone_units mu WHERE mu.milestone_id = NEW.id;
	ELSIF TG_TABLE_NAME = 'submissions' AND TG_LEVEL = 'ROW' THEN
		-- The busy case, a submission's answer changed where it stands:
		-- one row rejudged against the due day it already holds.
		IF OLD.milestone_id = NEW.milestone_id
			AND OLD.unit_id = NEW.unit_id THEN
			UPDATE obligation_facts f SET answered = CASE
				WHEN NEW.status <> 'draft' THEN
				timeliness(NEW.submitted_at, f.due_on) END
			WHERE f.milestone_id = NEW.milestone_id
			AND f.unit_id = NEW.unit_id;
			RETURN NULL;
		END IF;
		ms := ARRAY[OLD.milestone_id, NEW.milestone_id];
		us := ARRAY[OLD.unit_id, NEW.unit_id];
	ELSIF TG_OP = 'INSERT' THEN
		SELECT array_agg(n.milestone_id), array_agg(n.unit_id)
		INTO ms, us FROM new_rows n WHERE n.milestone_id IS NOT NULL;
	ELSIF TG_OP = 'DELETE' THEN
		SELECT array_agg(o.milestone_id), array_agg(o.unit_id)
		INTO ms, us FROM old_rows o WHERE o.milestone_id IS NOT NULL;
	ELSE
		SELECT array_agg(x.milestone_id), array_agg(x.unit_id)
		INTO ms, us FROM (SELECT milestone_id, unit_id FROM old_rows
			UNION SELECT milestone_id, unit_id FROM new_rows) x;
	END IF;
	IF ms IS NOT NULL THEN
		PERFORM obligation_facts_sync(ms, us);
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER milestone_units_facts AFTER INSERT ON milestone_units
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION obligation_facts_refresh();
CREATE TRIGGER milestones_facts AFTER UPDATE ON milestones
	FOR EACH ROW WHEN (OLD.due_on <> NEW.due_on)
	EXECUTE FUNCTION obligation_facts_refresh();
CREATE TRIGGER extensions_facts_insert AFTER INSERT ON extensions
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION obligation_facts_refresh();
CREATE TRIGGER extensions_facts_update AFTER UPDATE ON extensions
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION obligation_facts_refresh();
CREATE TRIGGER extensions_facts_delete AFTER DELETE ON extensions
	REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION obligation_facts_refresh();
CREATE TRIGGER submissions_facts_insert AFTER INSERT ON submissions
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION obligation_facts_refresh();
CREATE TRIGGER submissions_facts_delete AFTER DELETE ON submissions
	REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION obligation_facts_refresh();
-- An update of a submission is the busy path (every edit and review), and
-- nearly all leave its answer as it was: a row trigger whose condition is
-- tested without calling anything costs those nothing, where a statement
-- trigger would copy every updated row into its transition tables (and
-- cannot be limited to some columns). The updates of milestones (above),
-- sheets and rubrics (below) are row triggers for the same reason: rare
-- changes among many that change nothing counted.
CREATE TRIGGER submissions_facts_update AFTER UPDATE ON submissions
	FOR EACH ROW
	WHEN ((OLD.milestone_id IS NOT NULL OR NEW.milestone_id IS NOT NULL)
		AND (OLD.submitted_at IS DISTINCT FROM NEW.submitted_at
		OR (OLD.status = 'draft') <> (NEW.status = 'draft')
		OR OLD.milestone_id IS DISTINCT FROM NEW.milestone_id
		OR OLD.unit_id <> NEW.unit_id))
	EXECUTE FUNCTION obligation_facts_refresh();

-- One row per score sheet, deleted with it: the final total (as reviewed,
-- score_sheet_totals) and the place of the band it reaches among its
-- rubric's bands from the highest (5: the fifth or lower; NULL: below every
-- band). Whether the sheet counts (status, eligibility, a newer rubric) is
-- read from the live rows by the report.
CREATE TABLE score_sheet_results (
	score_sheet_id uuid PRIMARY KEY REFERENCES score_sheets (id)
		ON DELETE CASCADE,
	adjusted_total numeric NOT NULL,
	band smallint CHECK (band BETWEEN 1 AND 5)
);

-- The results of the given sheets, as they are now.
CREATE FUNCTION score_sheet_results_of(sheets uuid[])
	RETURNS TABLE (score_sheet_id uuid, adjusted_total numeric,
		band smallint)
	LANGUAGE sql STABLE AS $$
	SELECT t.score_sheet_id, t.adjusted_total,
		CASE WHEN rubric_band(r.doc, t.adjusted_total) IS NOT NULL THEN
		least(5, 1 + (SELECT count(*) FROM jsonb_array_elements(
			r.doc->'bands') b
			WHERE (b->>'min_total')::numeric > t.adjusted_total))
		END::smallint
	FROM score_sheet_totals(sheets) t
	JOIN score_sheets ss ON ss.id = t.score_sheet_id
	JOIN rubrics r ON r.id = ss.rubric_id
$$;

CREATE FUNCTION score_sheet_results_sync(sheets uuid[]) RETURNS void
	LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO score_sheet_results AS x (score_sheet_id, adjusted_total,
		band)
	SELECT * FROM score_sheet_results_of(sheets)
	ON CONFLICT (score_sheet_id) DO UPDATE
		SET adjusted_total = excluded.adjusted_total,
		band = excluded.band
		WHERE (x.adjusted_total, x.band) IS DISTINCT FROM
			(excluded.adjusted_total, excluded.band);
END
$$;

INSERT INTO score_sheet_results
SELECT * FROM score_sheet_results_of((SELECT array_agg(id)
	FROM score_sheets));

-- The sheets a statement may have changed: new sheets (no entries yet) or
-- one moved to another rubric; an entry scored, reviewed or removed; a
-- rubric's criteria, caps or bands edited.
CREATE FUNCTION score_sheet_results_refresh() RETURNS trigger
	LANGUAGE plpgsql AS $$
DECLARE
	sheets uuid[];
BEGIN
	IF TG_TABLE_NAME = 'score_sheets' AND TG_OP = 'INSERT' THEN
		SELECT array_agg(n.id) INTO sheets FROM new_rows n;
	ELSIF TG_TABLE_NAME = 'score_sheets' THEN
		sheets := ARRAY[NEW.id];
	ELSIF TG_TABLE_NAME = 'rubrics' THEN
		SELECT array_agg(ss.id) INTO sheets FROM score_sheets ss
		WHERE ss.rubric_id = NEW.id;
	ELSIF TG_OP = 'INSERT' THEN
		SELECT array_agg(DISTINCT n.score_sheet_id) INTO sheets
		FROM new_rows n;
	ELSIF TG_OP = 'DELETE' THEN
		SELECT array_agg(DISTINCT o.score_sheet_id) INTO sheets
		FROM old_rows o;
	ELSE
		SELECT array_agg(x.score_sheet_id) INTO sheets
		FROM (SELECT score_sheet_id FROM old_rows
			UNION SELECT score_sheet_id FROM new_rows) x;
	END IF;
	IF sheets IS NOT NULL THEN
		PERFORM score_sheet_results_sync(sheets);
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER score_sheets_results_insert AFTER INSERT ON score_sheets
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION score_sheet_results_refresh();
CREATE TRIGGER score_sheets_results_update AFTER UPDATE ON score_sheets
	FOR EACH ROW WHEN (OLD.rubric_id <> NEW.rubric_id)
	EXECUTE FUNCTION score_sheet_results_refresh();
CREATE TRIGGER rubrics_results AFTER UPDATE ON rubrics
	FOR EACH ROW WHEN (OLD.doc <> NEW.doc)
	EXECUTE FUNCTION score_sheet_results_refresh();
CREATE TRIGGER score_entries_results_insert AFTER INSERT ON score_entries
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION score_sheet_results_refresh();
CREATE TRIGGER score_entries_results_update AFTER UPDATE ON score_entries
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION score_sheet_results_refresh();
CREATE TRIGGER score_entries_results_delete AFTER DELETE ON score_entries
	REFERENCING OLD TABLE AS old_rows
	FOR EACH STATEMENT EXECUTE FUNCTION score_sheet_results_refresh();
