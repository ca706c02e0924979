-- The change feed: one row per create, update or delete of an entity the
-- API serves, written by triggers so that no statement, cascade or subtree
-- move can change an entity without a row here (audit_event() is called by
-- the handlers, and a unit move rewrites the paths below it without one).
--
-- Order: each row carries the id of the transaction that wrote it, and the
-- feed serves only rows of transactions older than the oldest one still
-- running (pg_snapshot_xmin), ordered by (xid, seq). A transaction below
-- that horizon has ended, so its rows are all visible and no row with a
-- smaller xid can appear later (a new transaction's id is larger than any
-- id handed out before it); the rows below the horizon are a prefix that
-- only grows at its end. A reader that resumes after (xid, seq) therefore
-- neither skips nor repeats a row, whatever order the writers commit in. A
-- sequence number taken at insert alone would not do: a transaction with a
-- smaller number can commit after a reader has passed a larger one.
-- The price: a change is served only once every transaction that began
-- writing before it has ended (at most DANVAN_TRANSACTION_TIMEOUT_MS
-- later), and the horizon is the cluster's, so this database belongs in a
-- cluster of its own. A counter row updated by every writing transaction
-- would give commit order without that delay, but would make every writer
-- wait for the one before it to commit.
CREATE TABLE changes (
	xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
	seq bigserial NOT NULL,
	entity_type text NOT NULL,
	entity_id uuid NOT NULL,
	op text NOT NULL CHECK (op IN ('upsert', 'delete')),
	version integer,
	-- The units whose callers may see the entity, before and after the
	-- change: who is offered the row (the entity's GET decides the rest).
	paths ltree[] NOT NULL,
	PRIMARY KEY (xid, seq)
);
REVOKE UPDATE, DELETE, TRUNCATE ON changes FROM danvan_app;

-- The unit paths a row of an entity table names: its own (a unit), the
-- units it belongs to, is issued by, received by, aimed at or inspected
-- by, and those of the plan, task, inspection or rubric it hangs from.
-- PL/pgSQL, not SQL: its query is planned once per connection, where a SQL
-- function called from a trigger is planned again for every row.
CREATE FUNCTION change_paths(r jsonb) RETURNS ltree[]
	LANGUAGE plpgsql STABLE AS $$
BEGIN
	IF r IS NULL THEN
		RETURN '{}';
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
				WHERE i.id = (r ->> 'inspection_id')::uuid
			UNION ALL SELECT b.unit_id FROM rubrics b
				WHERE b.id = (r ->> 'rubric_id')::uuid)
		UNION ALL SELECT (r ->> 'path')::ltree WHERE r ? 'path') s (x));
END $$;

CREATE FUNCTION record_change() RETURNS trigger
	LANGUAGE plpgsql AS $$
DECLARE
	after_row jsonb := CASE WHEN TG_OP = 'DELETE' THEN NULL ELSE to_jsonb(NEW) END;
	before_row jsonb := CASE WHEN TG_OP = 'INSERT' THEN NULL ELSE to_jsonb(OLD) END;
BEGIN
	INSERT INTO changes (entity_type, entity_id, op, version, paths)
	SELECT TG_ARGV[0], (coalesce(after_row, before_row) ->> 'id')::uuid,
		CASE WHEN after_row IS NULL THEN 'delete' ELSE 'upsert' END,
		(coalesce(after_row, before_row) ->> 'version')::integer,
		ARRAY(SELECT DISTINCT p FROM unnest(
			change_paths(after_row) || change_paths(before_row)) p);
	-- A unit that moves takes what belongs to it along: each such entity
	-- changes who may see it, so it is offered again, to the units it left
	-- too (which see it as a delete). The units below it move by their
	-- own rows, and so take theirs.
	IF TG_TABLE_NAME = 'units' AND TG_OP = 'UPDATE' AND
	    before_row ->> 'path' IS DISTINCT FROM after_row ->> 'path' THEN
		INSERT INTO changes (entity_type, entity_id, op, version, paths)
		SELECT e.t, e.id, 'upsert', e.version, ARRAY(SELECT DISTINCT p
			FROM unnest(change_paths(e.r) ||
			(before_row ->> 'path')::ltree) p)
		FROM (SELECT 'user', x.id, x.version, to_jsonb(x) FROM users x
			WHERE x.unit_id = NEW.id
		UNION ALL SELECT 'plan', x.id, x.version, to_jsonb(x)
			FROM plans x WHERE x.issuing_unit_id = NEW.id
		UNION ALL SELECT 'milestone', x.id, x.version, to_jsonb(x)
			FROM milestones x WHERE x.receiving_unit_id = NEW.id
		UNION ALL SELECT 'assignment', x.id, x.version, to_jsonb(x)
			FROM assignments x WHERE x.unit_id = NEW.id
		UNION ALL SELECT 'submission', x.id, x.version, to_jsonb(x)
			FROM submissions x WHERE NEW.id IN (x.unit_id,
				x.receiving_unit_id)
		UNION ALL SELECT 'model', x.id, x.version, to_jsonb(x)
			FROM models x WHERE x.unit_id = NEW.id
		UNION ALL SELECT 'inspection_plan', x.id, x.version, to_jsonb(x)
			FROM inspection_plans x WHERE x.issuing_unit_id = NEW.id
		UNION ALL SELECT 'inspection', x.id, x.version, to_jsonb(x)
			FROM inspections x WHERE NEW.id IN (x.target_unit_id,
				x.inspecting_unit_id)
		UNION ALL SELECT 'recommendation', x.id, x.version, to_jsonb(x)
			FROM recommendations x WHERE x.responsible_unit_id = NEW.id
		UNION ALL SELECT 'rubric', x.id, x.version, to_jsonb(x)
			FROM rubrics x WHERE x.unit_id = NEW.id
		UNION ALL SELECT 'score_sheet', x.id, x.version, to_jsonb(x)
			FROM score_sheets x WHERE x.unit_id = NEW.id)
			AS e (t, id, version, r);
	END IF;
	-- One notification per transaction: identical ones are folded.
	PERFORM pg_notify('danvan_changes', '');
	RETURN NULL;
END $$;

CREATE TRIGGER units_changes AFTER INSERT OR UPDATE OR DELETE ON units
	FOR EACH ROW EXECUTE FUNCTION record_change('unit');
-- A sign-in that rehashes a password changes nothing a GET shows.
CREATE TRIGGER users_changes AFTER INSERT OR DELETE ON users
	FOR EACH ROW EXECUTE FUNCTION record_change('user');
CREATE TRIGGER users_changes_update AFTER UPDATE ON users
	FOR EACH ROW WHEN (OLD.version IS DISTINCT FROM NEW.version)
	EXECUTE FUNCTION record_change('user');
CREATE TRIGGER plans_changes AFTER INSERT OR UPDATE OR DELETE ON plans
	FOR EACH ROW EXECUTE FUNCTION record_change('plan');
CREATE TRIGGER milestones_changes AFTER INSERT OR UPDATE OR DELETE
	ON milestones FOR EACH ROW EXECUTE FUNCTION record_change('milestone');
CREATE TRIGGER tasks_changes AFTER INSERT OR UPDATE OR DELETE ON tasks
	FOR EACH ROW EXECUTE FUNCTION record_change('task');
CREATE TRIGGER assignments_changes AFTER INSERT OR UPDATE OR DELETE
	ON assignments FOR EACH ROW EXECUTE FUNCTION record_change('assignment');
CREATE TRIGGER submissions_changes AFTER INSERT OR UPDATE OR DELETE
	ON submissions FOR EACH ROW EXECUTE FUNCTION record_change('submission');
CREATE TRIGGER models_changes AFTER INSERT OR UPDATE OR DELETE ON models
	FOR EACH ROW EXECUTE FUNCTION record_change('model');
CREATE TRIGGER inspection_plans_changes AFTER INSERT OR UPDATE OR DELETE
	ON inspection_plans FOR EACH ROW
	EXECUTE FUNCTION record_change('inspection_plan');
CREATE TRIGGER inspections_changes AFTER INSERT OR UPDATE OR DELETE
	ON inspections FOR EACH ROW EXECUTE FUNCTION record_change('inspection');
CREATE TRIGGER recommendations_changes AFTER INSERT OR UPDATE OR DELETE
	ON recommendations FOR EACH ROW
	EXECUTE FUNCTION record_change('recommendation');
CREATE TRIGGER rubrics_changes AFTER INSERT OR UPDATE OR DELETE ON rubrics
	FOR EACH ROW EXECUTE FUNCTION record_change('rubric');
CREATE TRIGGER score_sheets_changes AFTER INSERT OR UPDATE OR DELETE
	ON score_sheets FOR EACH ROW
	EXECUTE FUNCTION record_change('score_sheet');
