-- The change feed carries obligations (an expected submission: a row of
-- milestone_units, now with an id of its own), attachments' metadata and
-- findings too, and offers each change to everyone who may see it:
-- - what a plan holds (milestones, tasks, assignments, obligations,
--   rubrics) is offered again when the plan leaves or enters draft, since
--   that decides whether the units below it may read them;
-- - a deleted row's tombstone goes to those its last change went to: in
--   a cascade its parent is gone before its trigger runs, so the paths
--   read through the parent would be lost;
-- - an inspection, and what hangs from it, goes to the units of its team's
--   members as well (they see it wherever their unit lies), and is offered
--   again to the members who join or leave the team.
-- An obligation changes with its milestone, its unit's name, an extension
-- and the first submission of its unit, none of which writes its row: the
-- triggers of those tables offer it again. A submission's trigger fires
-- only when the submission enters or leaves draft (its WHEN clause), so an
-- edit or a review step costs what it cost before.

ALTER TABLE milestone_units ADD COLUMN id uuid NOT NULL
	DEFAULT gen_random_uuid();
CREATE UNIQUE INDEX milestone_units_id ON milestone_units (id);

-- An entity's last change, for its tombstone.
CREATE INDEX changes_entity ON changes (entity_id, xid, seq);

-- The unit paths a row of type etype names: its own (a unit), the units
-- it belongs to, is issued by, received by, aimed at or inspected by, those
-- of the plan, task, milestone, submission, recommendation, inspection
-- (with its team's units) or rubric it hangs from.
-- Its query is planned once per connection (as 0012's was): a plan made
-- for each call's values would drop the branches of other types, and so
-- look cheaper than the one plan, and be made again for every row (~1 ms).
CREATE FUNCTION change_paths(etype text, r jsonb) RETURNS ltree[]
	LANGUAGE plpgsql STABLE SET plan_cache_mode = force_generic_plan AS $$
DECLARE
	insp uuid;
BEGIN
	IF r IS NULL THEN
		RETURN '{}';
	END IF;
	insp := CASE WHEN etype = 'inspection' THEN r ->> 'id'
		ELSE r ->> 'inspection_id' END;
	IF insp IS NULL AND etype = 'attachment' THEN
		SELECT x.inspection_id INTO insp FROM recommendations x
		WHERE x.id = (r ->> 'recommendation_id')::uuid;
	END IF;
	RETURN (SELECT coalesce(array_agg(DISTINCT x), '{}') FROM (
		SELECT u.path FROM units u WHERE u.id IN (
			SELECT (r ->> k)::uuid FROM unnest(ARRAY['unit_id',
				'issuing_unit_id', 'receiving_unit_id',
				'target_unit_id', 'inspecting_unit_id',
				'responsible_unit_id']) k
			UNION ALL SELECT p.issuing_unit_id FROM plans p
				WHERE p.id = (r ->> 'plan_id')::uuid
			UNION ALL SELECT p.issuing_unit_id FROM tasks t, plans p
				WHERE t.id = (r ->> 'task_id')::uuid
				AND p.id = t.plan_id
			UNION ALL SELECT v.x FROM inspections i,
				LATERAL (VALUES (i.target_unit_id),
					(i.inspecting_unit_id)) v (x)
				WHERE i.id = insp
			UNION ALL SELECT tu.unit_id FROM inspection_members m
				JOIN users tu ON tu.id = m.user_id
				WHERE m.inspection_id = insp
			UNION ALL SELECT b.unit_id FROM rubrics b
				WHERE b.id = (r ->> 'rubric_id')::uuid
			UNION ALL SELECT v.x FROM milestones m, plans p,
				LATERAL (VALUES (m.receiving_unit_id),
					(p.issuing_unit_id)) v (x)
				WHERE etype = 'obligation'
				AND m.id = (r ->> 'milestone_id')::uuid
				AND p.id = m.plan_id
			UNION ALL SELECT v.x FROM submissions s,
				LATERAL (VALUES (s.unit_id),
					(s.receiving_unit_id)) v (x)
				WHERE etype = 'attachment'
				AND s.id = (r ->> 'submission_id')::uuid
			UNION ALL SELECT x.responsible_unit_id
				FROM recommendations x WHERE etype = 'attachment'
				AND x.id = (r ->> 'recommendation_id')::uuid)
		UNION ALL SELECT (r ->> 'path')::ltree WHERE r ? 'path') s (x));
END $$;

-- One change of an entity of type etype, its row after and before (NULL when
-- created, deleted), offered to the units of both and to extra.
CREATE FUNCTION change_add(etype text, after_row jsonb, before_row jsonb,
	extra ltree[] DEFAULT '{}') RETURNS void
	LANGUAGE plpgsql AS $$
DECLARE
	eid uuid := coalesce(after_row, before_row) ->> 'id';
	paths ltree[] := change_paths(etype, after_row) ||
		change_paths(etype, before_row) || extra;
BEGIN
	IF after_row IS NULL THEN
		paths := paths || coalesce((SELECT c.paths FROM changes c
			WHERE c.entity_id = eid AND c.entity_type = etype
			ORDER BY c.xid DESC, c.seq DESC LIMIT 1), '{}');
	END IF;
	INSERT INTO changes (entity_type, entity_id, op, version, paths)
	VALUES (etype, eid,
		CASE WHEN after_row IS NULL THEN 'delete' ELSE 'upsert' END,
		(coalesce(after_row, before_row) ->> 'version')::integer,
		ARRAY(SELECT DISTINCT p FROM unnest(paths) p));
	-- One notification per transaction: identical ones are folded.
	PERFORM pg_notify('danvan_changes', '');
END $$;

-- The obligations of a milestone (of one unit, or all of them), offered
-- again as they are now, to extra as well.
CREATE FUNCTION obligations_changed(ms uuid, unit uuid, extra ltree[])
	RETURNS void LANGUAGE plpgsql AS $$
BEGIN
	PERFORM change_add('obligation', to_jsonb(mu), NULL, extra)
	FROM milestone_units mu
	WHERE mu.milestone_id = ms AND (unit IS NULL OR mu.unit_id = unit);
END $$;

-- What the feed needs of an attachment: its keys, never its bytes (a row
-- made into JSON would carry them all).
CREATE FUNCTION attachment_change_row(id uuid, submission uuid,
	inspection uuid, recommendation uuid) RETURNS jsonb
	LANGUAGE sql IMMUTABLE AS $$
	SELECT jsonb_build_object('id', id, 'submission_id', submission,
		'inspection_id', inspection, 'recommendation_id', recommendation)
$$;

CREATE OR REPLACE FUNCTION record_change() RETURNS trigger
	LANGUAGE plpgsql AS $$
DECLARE
	after_row jsonb := CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE to_jsonb(NEW) END;
	before_row jsonb := CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE to_jsonb(OLD) END;
BEGIN
	PERFORM change_add(TG_ARGV[0], after_row, before_row);
	IF TG_TABLE_NAME = 'recommendations' AND (after_row ->> 'finding_id')
	    IS DISTINCT FROM (before_row ->> 'finding_id') THEN
		-- A finding lists its recommendations.
		PERFORM change_add('finding', to_jsonb(f), NULL)
		FROM findings f WHERE f.id IN ((after_row ->> 'finding_id')::uuid,
			(before_row ->> 'finding_id')::uuid);
	END IF;
	IF TG_OP <> 'UPDATE' THEN
		RETURN NULL;
	END IF;
	-- (The rows are read as JSON: OLD and NEW have the columns of the
	-- table the trigger is on, and only them.)
	-- A unit that moves takes what belongs to it along: each such entity
	-- changes who may see it, so it is offered again, to the units it left
	-- too (which see it as a delete). The units below it move by their
	-- own rows, and so take theirs.
	IF TG_TABLE_NAME = 'units' AND
	    before_row ->> 'path' IS DISTINCT FROM after_row ->> 'path' THEN
		PERFORM change_add(e.t, e.r, NULL,
			ARRAY[(before_row ->> 'path')::ltree])
		FROM (SELECT 'user', to_jsonb(x) FROM users x
			WHERE x.unit_id = NEW.id
		UNION ALL SELECT 'plan', to_jsonb(x)
			FROM plans x WHERE x.issuing_unit_id = NEW.id
		UNION ALL SELECT 'milestone', to_jsonb(x)
			FROM milestones x WHERE x.receiving_unit_id = NEW.id
		UNION ALL SELECT 'assignment', to_jsonb(x)
			FROM assignments x WHERE x.unit_id = NEW.id
		UNION ALL SELECT 'obligation', to_jsonb(x)
			FROM milestone_units x WHERE x.unit_id = NEW.id
		UNION ALL SELECT 'submission', to_jsonb(x)
			FROM submissions x WHERE NEW.id IN (x.unit_id,
				x.receiving_unit_id)
		UNION ALL SELECT 'model', to_jsonb(x)
			FROM models x WHERE x.unit_id = NEW.id
		UNION ALL SELECT 'inspection_plan', to_jsonb(x)
			FROM inspection_plans x WHERE x.issuing_unit_id = NEW.id
		UNION ALL SELECT 'inspection', to_jsonb(x)
			FROM inspections x WHERE NEW.id IN (x.target_unit_id,
				x.inspecting_unit_id)
		UNION ALL SELECT 'recommendation', to_jsonb(x)
			FROM recommendations x WHERE x.responsible_unit_id = NEW.id
		UNION ALL SELECT 'rubric', to_jsonb(x)
			FROM rubrics x WHERE x.unit_id = NEW.id
		UNION ALL SELECT 'score_sheet', to_jsonb(x)
			FROM score_sheets x WHERE x.unit_id = NEW.id)
			AS e (t, r);
	ELSIF TG_TABLE_NAME = 'units' AND
	    before_row ->> 'name' <> after_row ->> 'name' THEN
		-- An obligation shows its unit's name.
		PERFORM change_add('obligation', to_jsonb(x), NULL)
		FROM milestone_units x WHERE x.unit_id = NEW.id;
	END IF;
	-- A plan that leaves draft shows what it holds to the units below it
	-- (and one back in draft hides it): offered again.
	IF TG_TABLE_NAME = 'plans' AND (before_row ->> 'status' = 'draft') <>
	    (after_row ->> 'status' = 'draft') THEN
		PERFORM change_add(e.t, e.r, NULL)
		FROM (SELECT 'milestone', to_jsonb(x) FROM milestones x
			WHERE x.plan_id = NEW.id
		UNION ALL SELECT 'task', to_jsonb(x) FROM tasks x
			WHERE x.plan_id = NEW.id
		UNION ALL SELECT 'assignment', to_jsonb(a) FROM assignments a
			JOIN tasks x ON x.id = a.task_id WHERE x.plan_id = NEW.id
		UNION ALL SELECT 'obligation', to_jsonb(mu)
			FROM milestone_units mu JOIN milestones x
			ON x.id = mu.milestone_id WHERE x.plan_id = NEW.id
		UNION ALL SELECT 'rubric', to_jsonb(x) FROM rubrics x
			WHERE x.plan_id = NEW.id) AS e (t, r);
	END IF;
	-- An obligation shows its milestone's kind, title, due day and
	-- receiving unit (which, when it changes, sees the change as well).
	IF TG_TABLE_NAME = 'milestones' AND EXISTS (SELECT 1 FROM unnest(ARRAY[
	    'kind', 'title', 'due_on', 'receiving_unit_id']) k
	    WHERE before_row -> k IS DISTINCT FROM after_row -> k) THEN
		PERFORM obligations_changed(NEW.id, NULL,
			change_paths('milestone', before_row));
	END IF;
	RETURN NULL;
END $$;
DROP FUNCTION change_paths(jsonb);

CREATE TRIGGER findings_changes AFTER INSERT OR UPDATE OR DELETE ON findings
	FOR EACH ROW EXECUTE FUNCTION record_change('finding');
-- Updates of the owing set are a delete and an insert.
CREATE TRIGGER milestone_units_changes AFTER INSERT OR DELETE
	ON milestone_units FOR EACH ROW
	EXECUTE FUNCTION record_change('obligation');

CREATE FUNCTION record_attachment_change() RETURNS trigger
	LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		PERFORM change_add('attachment', NULL, attachment_change_row(
			OLD.id, OLD.submission_id, OLD.inspection_id,
			OLD.recommendation_id));
		-- A recommendation counts its files.
		PERFORM change_add('recommendation', to_jsonb(x), NULL)
		FROM recommendations x WHERE x.id = OLD.recommendation_id;
	ELSE
		PERFORM change_add('attachment', attachment_change_row(NEW.id,
			NEW.submission_id, NEW.inspection_id,
			NEW.recommendation_id), NULL);
		PERFORM change_add('recommendation', to_jsonb(x), NULL)
		FROM recommendations x WHERE x.id = NEW.recommendation_id;
	END IF;
	RETURN NULL;
END $$;
-- Files are never changed, only added and removed.
CREATE TRIGGER attachments_changes AFTER INSERT OR DELETE ON attachments
	FOR EACH ROW EXECUTE FUNCTION record_attachment_change();

-- An obligation received, or no longer: its unit's submission for the
-- milestone entered or left draft, or moved.
CREATE FUNCTION submission_obligation_change() RETURNS trigger
	LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP <> 'INSERT' THEN
		PERFORM obligations_changed(OLD.milestone_id, OLD.unit_id, '{}');
	END IF;
	IF TG_OP = 'INSERT' OR (TG_OP = 'UPDATE' AND
	    (OLD.milestone_id, OLD.unit_id) IS DISTINCT FROM
	    (NEW.milestone_id, NEW.unit_id)) THEN
		PERFORM obligations_changed(NEW.milestone_id, NEW.unit_id, '{}');
	END IF;
	RETURN NULL;
END $$;
CREATE TRIGGER submissions_obligation_insert AFTER INSERT ON submissions
	FOR EACH ROW WHEN (NEW.milestone_id IS NOT NULL AND NEW.status <> 'draft')
	EXECUTE FUNCTION submission_obligation_change();
CREATE TRIGGER submissions_obligation_update AFTER UPDATE ON submissions
	FOR EACH ROW
	WHEN ((OLD.milestone_id IS NOT NULL OR NEW.milestone_id IS NOT NULL)
		AND ((OLD.status = 'draft') <> (NEW.status = 'draft')
		OR OLD.submitted_at IS DISTINCT FROM NEW.submitted_at
		OR (OLD.milestone_id, OLD.unit_id) IS DISTINCT FROM
			(NEW.milestone_id, NEW.unit_id)))
	EXECUTE FUNCTION submission_obligation_change();
CREATE TRIGGER submissions_obligation_delete AFTER DELETE ON submissions
	FOR EACH ROW WHEN (OLD.milestone_id IS NOT NULL AND OLD.status <> 'draft')
	EXECUTE FUNCTION submission_obligation_change();

-- An extension moves the obligation's due day, and may change its state.
CREATE FUNCTION extension_obligation_change() RETURNS trigger
	LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		PERFORM obligations_changed(OLD.milestone_id, OLD.unit_id, '{}');
	ELSE
		PERFORM obligations_changed(NEW.milestone_id, NEW.unit_id, '{}');
	END IF;
	RETURN NULL;
END $$;
CREATE TRIGGER extensions_obligation AFTER INSERT OR UPDATE OR DELETE
	ON extensions FOR EACH ROW
	EXECUTE FUNCTION extension_obligation_change();

-- Members who join or leave a team start or stop seeing the visit, its
-- findings, recommendations and files: each is offered again, to the
-- members' units too. Once per statement, for a team is replaced whole.
CREATE FUNCTION inspection_team_change() RETURNS trigger
	LANGUAGE plpgsql AS $$
BEGIN
	PERFORM change_add(e.t, e.r, NULL, m.paths)
	FROM (SELECT c.inspection_id, array_agg(DISTINCT x.path) AS paths
		FROM team_rows c JOIN users u ON u.id = c.user_id
		JOIN units x ON x.id = u.unit_id GROUP BY c.inspection_id) m,
	LATERAL (SELECT 'inspection', to_jsonb(i) FROM inspections i
		WHERE i.id = m.inspection_id
	UNION ALL SELECT 'finding', to_jsonb(f) FROM findings f
		WHERE f.inspection_id = m.inspection_id
	UNION ALL SELECT 'recommendation', to_jsonb(x) FROM recommendations x
		WHERE x.inspection_id = m.inspection_id
	UNION ALL SELECT 'attachment', attachment_change_row(a.id,
		a.submission_id, a.inspection_id, a.recommendation_id)
		FROM attachments a WHERE a.inspection_id = m.inspection_id
		OR a.recommendation_id IN (SELECT x.id FROM recommendations x
			WHERE x.inspection_id = m.inspection_id)) e (t, r);
	RETURN NULL;
END $$;
CREATE TRIGGER inspection_members_join AFTER INSERT ON inspection_members
	REFERENCING NEW TABLE AS team_rows
	FOR EACH STATEMENT EXECUTE FUNCTION inspection_team_change();
CREATE TRIGGER inspection_members_leave AFTER DELETE ON inspection_members
	REFERENCING OLD TABLE AS team_rows
	FOR EACH STATEMENT EXECUTE FUNCTION inspection_team_change();

-- What exists already of the three new types is in the feed from here on:
-- a client that follows it learns of them now, not at their next change.
INSERT INTO changes (entity_type, entity_id, op, version, paths)
SELECT e.t, e.id, 'upsert', (e.r ->> 'version')::integer,
	change_paths(e.t, e.r)
FROM (SELECT 'obligation', x.id, to_jsonb(x) FROM milestone_units x
	UNION ALL SELECT 'finding', x.id, to_jsonb(x) FROM findings x
	UNION ALL SELECT 'attachment', x.id, attachment_change_row(x.id,
		x.submission_id, x.inspection_id, x.recommendation_id)
		FROM attachments x) e (t, id, r);
