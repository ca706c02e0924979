-- Plans, their milestones (what each unit owes and when), tasks and
-- assignments (task x unit x role). An issued plan changes only through
-- amendments, each kept in plan_versions with its reason.
CREATE TABLE plans (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	code text CHECK (length(code) BETWEEN 1 AND 64),
	title text NOT NULL CHECK (length(title) BETWEEN 1 AND 500),
	year integer NOT NULL CHECK (year BETWEEN 2000 AND 2100),
	issuing_unit_id uuid NOT NULL REFERENCES units (id),
	issued_on date,
	signer_name text CHECK (length(signer_name) <= 200),
	signer_title text CHECK (length(signer_title) <= 200),
	parent_plan_id uuid REFERENCES plans (id),
	legal_bases jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(legal_bases) = 'array'),
	purposes text NOT NULL DEFAULT '',
	requirements text NOT NULL DEFAULT '',
	funding text NOT NULL DEFAULT '',
	recipients jsonb NOT NULL DEFAULT '[]' CHECK (jsonb_typeof(recipients) = 'array'),
	status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft', 'issued', 'closed')),
	version integer NOT NULL DEFAULT 1,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	CHECK (parent_plan_id IS DISTINCT FROM id)
);
CREATE INDEX plans_issuing_unit ON plans (issuing_unit_id);
CREATE INDEX plans_parent ON plans (parent_plan_id);
CREATE INDEX plans_year_status ON plans (year, status);
CREATE INDEX plans_title_fold ON plans USING gin (fold(title) gin_trgm_ops);

-- One row per amendment of an issued plan: what changed and why.
CREATE TABLE plan_versions (
	plan_id uuid NOT NULL REFERENCES plans (id),
	version integer NOT NULL,
	at timestamptz NOT NULL DEFAULT now(),
	actor_id uuid,
	reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 2000),
	entity_type text NOT NULL,
	entity_id uuid NOT NULL,
	changes jsonb NOT NULL,
	before jsonb,
	PRIMARY KEY (plan_id, version)
);

CREATE TABLE milestones (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	plan_id uuid NOT NULL REFERENCES plans (id),
	kind text NOT NULL CHECK (kind IN ('unit_plan', 'six_month_report',
		'annual_report', 'custom')),
	title text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
	due_on date NOT NULL,
	receiving_unit_id uuid NOT NULL REFERENCES units (id),
	note text,
	version integer NOT NULL DEFAULT 1,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX milestones_plan ON milestones (plan_id, due_on);

-- The units that owe a submission for a milestone.
CREATE TABLE milestone_units (
	milestone_id uuid NOT NULL REFERENCES milestones (id) ON DELETE CASCADE,
	unit_id uuid NOT NULL REFERENCES units (id),
	PRIMARY KEY (milestone_id, unit_id)
);
CREATE INDEX milestone_units_unit ON milestone_units (unit_id);

CREATE TABLE tasks (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	plan_id uuid NOT NULL REFERENCES plans (id),
	number integer NOT NULL CHECK (number BETWEEN 1 AND 999),
	title text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
	content text NOT NULL DEFAULT '',
	schedule text NOT NULL CHECK (schedule IN ('ongoing', 'within_year', 'deadline')),
	due_on date,
	version integer NOT NULL DEFAULT 1,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT tasks_number_in_plan UNIQUE (plan_id, number),
	CONSTRAINT tasks_due_on_schedule CHECK ((schedule = 'deadline') = (due_on IS NOT NULL))
);

CREATE TABLE assignments (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	task_id uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
	unit_id uuid NOT NULL REFERENCES units (id),
	role text NOT NULL CHECK (role IN ('lead', 'coordinate', 'implement')),
	scope_note text CHECK (length(scope_note) <= 1000),
	responsible_user_id uuid REFERENCES users (id),
	due_on date,
	status text NOT NULL DEFAULT 'not_started' CHECK (status IN
		('not_started', 'in_progress', 'done')),
	progress integer NOT NULL DEFAULT 0 CHECK (progress BETWEEN 0 AND 100),
	progress_note text CHECK (length(progress_note) <= 2000),
	version integer NOT NULL DEFAULT 1,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX assignments_once ON assignments (task_id, unit_id, role,
	coalesce(scope_note, ''));
CREATE INDEX assignments_unit ON assignments (unit_id, status);

-- The units a group addressee of a plan stands for, at the time of use.
CREATE FUNCTION group_units(issuing uuid, grp text) RETURNS SETOF uuid
	LANGUAGE sql STABLE AS $$
	SELECT id FROM units WHERE parent_id = issuing AND active
		AND ((grp IN ('agencies', 'agencies_and_villages') AND kind = 'office')
		  OR (grp IN ('villages', 'agencies_and_villages') AND kind = 'village'))
	ORDER BY code
$$;
