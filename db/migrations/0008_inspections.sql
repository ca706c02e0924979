-- Inspections and scoring (Section IV of the plan): the coordinator's
-- inspection and supervision plan, its visits with their team, scope,
-- findings and recommendations (followed up until resolved), and the
-- scoring of each unit's year against a rubric that is data: criteria,
-- caps, bands and the eligibility rule live in the rubric's document.

-- The inspection plan of a plan, issued by the coordinating unit. Once
-- issued, each change is an amendment with its reason.
CREATE TABLE inspection_plans (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	plan_id uuid NOT NULL REFERENCES plans (id),
	issuing_unit_id uuid NOT NULL REFERENCES units (id),
	title text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
	description text NOT NULL DEFAULT '' CHECK (length(description) <= 5000),
	period_start date NOT NULL,
	period_end date NOT NULL,
	status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'issued')),
	issued_at timestamptz,
	issued_by uuid,
	created_by uuid,
	version integer NOT NULL DEFAULT 1,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	CHECK (period_end >= period_start)
);
CREATE INDEX inspection_plans_plan ON inspection_plans (plan_id);
CREATE INDEX inspection_plans_unit ON inspection_plans (issuing_unit_id);

-- Amendments of issued inspection plans, append-only like plan_versions.
CREATE TABLE inspection_plan_amendments (
	inspection_plan_id uuid NOT NULL REFERENCES inspection_plans (id),
	version integer NOT NULL,
	at timestamptz NOT NULL DEFAULT now(),
	actor_id uuid,
	reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
	changes jsonb NOT NULL,
	PRIMARY KEY (inspection_plan_id, version)
);

-- A visit: planned -> in_progress -> completed | cancelled.
CREATE TABLE inspections (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	inspection_plan_id uuid NOT NULL REFERENCES inspection_plans (id),
	kind text NOT NULL CHECK (kind IN ('inspection', 'supervision')),
	title text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
	target_unit_id uuid NOT NULL REFERENCES units (id),
	inspecting_unit_id uuid NOT NULL REFERENCES units (id),
	scheduled_on date NOT NULL,
	status text NOT NULL DEFAULT 'planned' CHECK (status IN ('planned',
		'in_progress', 'completed', 'cancelled')),
	conducted_on date,
	minutes text NOT NULL DEFAULT '' CHECK (length(minutes) <= 20000),
	conclusion text NOT NULL DEFAULT '' CHECK (length(conclusion) <= 5000),
	cancel_reason text CHECK (length(cancel_reason) <= 2000),
	started_at timestamptz,
	completed_at timestamptz,
	cancelled_at timestamptz,
	created_by uuid,
	version integer NOT NULL DEFAULT 1,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	CHECK (target_unit_id <> inspecting_unit_id),
	CHECK ((status = 'cancelled') = (cancel_reason IS NOT NULL))
);
CREATE INDEX inspections_plan ON inspections (inspection_plan_id, scheduled_on);
CREATE INDEX inspections_target ON inspections (target_unit_id, status);
CREATE INDEX inspections_scheduled ON inspections (scheduled_on, status);

-- The team: users, possibly of other units (the Party's or the Front's),
-- exactly one of them the lead.
CREATE TABLE inspection_members (
	inspection_id uuid NOT NULL REFERENCES inspections (id) ON DELETE CASCADE,
	user_id uuid NOT NULL REFERENCES users (id),
	role text NOT NULL CHECK (role IN ('lead', 'member')),
	PRIMARY KEY (inspection_id, user_id)
);
CREATE UNIQUE INDEX inspection_members_one_lead ON inspection_members
	(inspection_id) WHERE role = 'lead';
CREATE INDEX inspection_members_user ON inspection_members (user_id);

-- The scope of a visit: tasks of the plan.
CREATE TABLE inspection_tasks (
	inspection_id uuid NOT NULL REFERENCES inspections (id) ON DELETE CASCADE,
	task_id uuid NOT NULL REFERENCES tasks (id),
	PRIMARY KEY (inspection_id, task_id)
);

CREATE TABLE findings (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	inspection_id uuid NOT NULL REFERENCES inspections (id),
	task_id uuid REFERENCES tasks (id),
	text text NOT NULL CHECK (length(text) BETWEEN 1 AND 5000),
	severity text NOT NULL CHECK (severity IN ('info', 'minor', 'major')),
	created_by uuid,
	version integer NOT NULL DEFAULT 1,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX findings_inspection ON findings (inspection_id, created_at);

-- Kiến nghị: open -> responded -> resolved, back to open on reopen.
-- Whether one is overdue is computed from due_on and today_vn(), never
-- stored.
CREATE TABLE recommendations (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	inspection_id uuid NOT NULL REFERENCES inspections (id),
	finding_id uuid REFERENCES findings (id),
	responsible_unit_id uuid NOT NULL REFERENCES units (id),
	text text NOT NULL CHECK (length(text) BETWEEN 1 AND 5000),
	due_on date NOT NULL,
	status text NOT NULL DEFAULT 'open' CHECK (status IN ('open',
		'responded', 'resolved')),
	response text CHECK (length(response) <= 5000),
	responded_at timestamptz,
	responded_by uuid,
	resolved_at timestamptz,
	resolved_by uuid,
	reopen_reason text CHECK (length(reopen_reason) <= 2000),
	reopened_at timestamptz,
	reopen_count integer NOT NULL DEFAULT 0,
	created_by uuid,
	version integer NOT NULL DEFAULT 1,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX recommendations_unit ON recommendations (responsible_unit_id,
	status, due_on);
CREATE INDEX recommendations_inspection ON recommendations (inspection_id);

-- Evidence files of inspections (minutes, photos) and of the answers to
-- recommendations live in the same store as submissions' evidence: one
-- owner per file, the same bytes once per owner.
ALTER TABLE attachments ALTER COLUMN submission_id DROP NOT NULL,
	ADD COLUMN inspection_id uuid REFERENCES inspections (id),
	ADD COLUMN recommendation_id uuid REFERENCES recommendations (id),
	ADD CONSTRAINT attachments_one_owner CHECK (num_nonnulls(submission_id,
		inspection_id, recommendation_id) = 1);
CREATE UNIQUE INDEX attachments_inspection_once ON attachments
	(inspection_id, sha256) WHERE inspection_id IS NOT NULL;
CREATE UNIQUE INDEX attachments_recommendation_once ON attachments
	(recommendation_id, sha256) WHERE recommendation_id IS NOT NULL;

-- Who may see an inspection: the units of the caller's subtree that
-- inspect it or are inspected, and the members of its team.
CREATE FUNCTION inspection_visible(insp uuid, me_unit uuid, me_user uuid)
	RETURNS boolean LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM inspections i, units x, units me
		WHERE i.id = insp AND me.id = me_unit
		AND x.id IN (i.inspecting_unit_id, i.target_unit_id)
		AND x.path <@ me.path)
	OR EXISTS (SELECT 1 FROM inspection_members m
		WHERE m.inspection_id = insp AND m.user_id = me_user)
$$;

-- A recommendation is seen with its inspection and by the unit that must
-- answer it (and the units above that one, within the caller's subtree).
CREATE FUNCTION recommendation_visible(rec uuid, me_unit uuid, me_user uuid)
	RETURNS boolean LANGUAGE sql STABLE AS $$
	SELECT EXISTS (SELECT 1 FROM recommendations r, units x, units me
		WHERE r.id = rec AND me.id = me_unit
		AND x.id = r.responsible_unit_id AND x.path <@ me.path)
	OR EXISTS (SELECT 1 FROM recommendations r WHERE r.id = rec
		AND inspection_visible(r.inspection_id, me_unit, me_user))
$$;

-- A scoring rubric of a plan. Everything a province decides — groups of
-- criteria with their maximum points and whether evidence is needed,
-- bonus and deduction criteria with their caps, rating bands and the rule
-- for "not eligible" — is the document `doc`, never code. Frozen at the
-- first submitted score sheet; a change after that is a new rubric that
-- names the one it replaces.
CREATE TABLE rubrics (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	plan_id uuid NOT NULL REFERENCES plans (id),
	unit_id uuid NOT NULL REFERENCES units (id),
	title text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
	sample boolean NOT NULL DEFAULT false,
	doc jsonb NOT NULL CHECK (jsonb_typeof(doc) = 'object'),
	revision integer NOT NULL DEFAULT 1,
	replaces_id uuid UNIQUE REFERENCES rubrics (id),
	frozen_at timestamptz,
	created_by uuid,
	version integer NOT NULL DEFAULT 1,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	CHECK (replaces_id IS DISTINCT FROM id)
);
CREATE INDEX rubrics_plan ON rubrics (plan_id);

-- Every criterion of a rubric: kind 'criterion', 'bonus' or 'deduction'.
CREATE FUNCTION rubric_items(doc jsonb)
	RETURNS TABLE (code text, kind text, max_points numeric,
		evidence_required boolean)
	LANGUAGE sql IMMUTABLE AS $$
	SELECT c->>'code', 'criterion', (c->>'max_points')::numeric,
		coalesce((c->>'evidence_required')::boolean, false)
	FROM jsonb_path_query(doc, '$.groups[*].criteria[*]') c
	UNION ALL
	SELECT c->>'code', 'bonus', (c->>'max_points')::numeric, false
	FROM jsonb_array_elements(coalesce(doc->'bonus'->'criteria', '[]')) c
	UNION ALL
	SELECT c->>'code', 'deduction', (c->>'max_points')::numeric, false
	FROM jsonb_array_elements(coalesce(doc->'deductions'->'criteria', '[]')) c
$$;

-- The band a total reaches: the one with the highest minimum at or below it.
CREATE FUNCTION rubric_band(doc jsonb, total numeric) RETURNS text
	LANGUAGE sql IMMUTABLE AS $$
	SELECT b->>'name' FROM jsonb_array_elements(doc->'bands') b
	WHERE (b->>'min_total')::numeric <= total
	ORDER BY (b->>'min_total')::numeric DESC LIMIT 1
$$;

-- A unit's score sheet against a rubric: draft -> submitted -> reviewed
-- (adjusted, or ruled not eligible) -> finalized, which locks it.
CREATE TABLE score_sheets (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	rubric_id uuid NOT NULL REFERENCES rubrics (id),
	unit_id uuid NOT NULL REFERENCES units (id),
	status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft',
		'submitted', 'reviewed', 'finalized')),
	eligible boolean NOT NULL DEFAULT true,
	not_eligible_reason text CHECK (length(not_eligible_reason) <= 2000),
	note text NOT NULL DEFAULT '' CHECK (length(note) <= 5000),
	submitted_by uuid,
	submitted_at timestamptz,
	adjusted_by uuid,
	adjusted_at timestamptz,
	ruled_by uuid,
	ruled_at timestamptz,
	finalized_by uuid,
	finalized_at timestamptz,
	created_by uuid,
	version integer NOT NULL DEFAULT 1,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (rubric_id, unit_id),
	CHECK (eligible = (not_eligible_reason IS NULL))
);

-- One line per criterion scored: the unit's own points, note and evidence,
-- and the reviewer's points with the mandatory reason.
CREATE TABLE score_entries (
	score_sheet_id uuid NOT NULL REFERENCES score_sheets (id) ON DELETE CASCADE,
	code text NOT NULL,
	self_points numeric(7, 2) NOT NULL CHECK (self_points >= 0),
	note text NOT NULL DEFAULT '' CHECK (length(note) <= 2000),
	evidence jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(evidence) = 'object'),
	adjusted_points numeric(7, 2) CHECK (adjusted_points >= 0),
	adjust_reason text CHECK (length(adjust_reason) BETWEEN 1 AND 2000),
	adjusted_by uuid,
	adjusted_at timestamptz,
	PRIMARY KEY (score_sheet_id, code),
	CHECK ((adjusted_points IS NULL) = (adjust_reason IS NULL))
);

-- Every change of a score sheet, kept for the unit to see; append-only.
CREATE TABLE score_sheet_events (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	score_sheet_id uuid NOT NULL REFERENCES score_sheets (id),
	at timestamptz NOT NULL DEFAULT now(),
	actor_id uuid,
	action text NOT NULL,
	detail jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX score_sheet_events_sheet ON score_sheet_events (score_sheet_id, id);
REVOKE UPDATE, DELETE, TRUNCATE ON inspection_plan_amendments,
	score_sheet_events FROM danvan_app;
CREATE TRIGGER inspection_plan_amendments_append_only BEFORE UPDATE OR DELETE
	ON inspection_plan_amendments FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER score_sheet_events_append_only BEFORE UPDATE OR DELETE
	ON score_sheet_events FOR EACH ROW EXECUTE FUNCTION append_only();

-- A sheet's totals, computed and never stored: the criteria plus the bonus
-- (at most its cap) minus the deductions (at most their cap), once as the
-- unit scored itself and once with the reviewer's points.
CREATE FUNCTION score_totals(sheet uuid)
	RETURNS TABLE (self_total numeric, adjusted_total numeric)
	LANGUAGE sql STABLE AS $$
	WITH e AS (SELECT i.kind, e.self_points AS s,
			coalesce(e.adjusted_points, e.self_points) AS a
		FROM score_sheets ss JOIN rubrics r ON r.id = ss.rubric_id
		JOIN score_entries e ON e.score_sheet_id = ss.id
		JOIN rubric_items(r.doc) i ON i.code = e.code
		WHERE ss.id = sheet),
	caps AS (SELECT coalesce((r.doc->'bonus'->>'cap')::numeric, 0) AS b,
			coalesce((r.doc->'deductions'->>'cap')::numeric, 0) AS d
		FROM score_sheets ss JOIN rubrics r ON r.id = ss.rubric_id
		WHERE ss.id = sheet)
	SELECT trim_scale(coalesce((SELECT sum(s) FROM e WHERE kind = 'criterion'), 0)
		+ least(coalesce((SELECT sum(s) FROM e WHERE kind = 'bonus'), 0), caps.b)
		- least(coalesce((SELECT sum(s) FROM e WHERE kind = 'deduction'), 0), caps.d)),
		trim_scale(coalesce((SELECT sum(a) FROM e WHERE kind = 'criterion'), 0)
		+ least(coalesce((SELECT sum(a) FROM e WHERE kind = 'bonus'), 0), caps.b)
		- least(coalesce((SELECT sum(a) FROM e WHERE kind = 'deduction'), 0), caps.d))
	FROM caps
$$;
