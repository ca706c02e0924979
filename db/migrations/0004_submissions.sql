-- Submissions (reports and plans units send) and the reporting engine:
-- every (milestone, owing unit) pair is an expected submission, judged on
-- time or late at its first submission, in Asia/Ho_Chi_Minh.

-- On time means before the end of the due day in Vietnam.
CREATE FUNCTION timeliness(submitted timestamptz, due date) RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
	RETURN CASE WHEN (submitted AT TIME ZONE 'Asia/Ho_Chi_Minh')::date <= due
		THEN 'on_time' ELSE 'late' END;

CREATE FUNCTION today_vn() RETURNS date
	LANGUAGE sql STABLE PARALLEL SAFE
	RETURN (now() AT TIME ZONE 'Asia/Ho_Chi_Minh')::date;

-- A later due date for one unit, with its reason.
CREATE TABLE extensions (
	milestone_id uuid NOT NULL REFERENCES milestones (id) ON DELETE CASCADE,
	unit_id uuid NOT NULL REFERENCES units (id),
	due_on date NOT NULL,
	reason text NOT NULL CHECK (length(reason) BETWEEN 1 AND 1000),
	granted_by uuid,
	granted_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (milestone_id, unit_id)
);

CREATE TABLE submissions (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	unit_id uuid NOT NULL REFERENCES units (id),
	kind text NOT NULL CHECK (kind IN ('unit_plan', 'six_month_report',
		'annual_report', 'model_registration', 'difficulty_report',
		'progress_report')),
	milestone_id uuid REFERENCES milestones (id),
	task_id uuid REFERENCES tasks (id),
	assignment_id uuid REFERENCES assignments (id),
	plan_id uuid REFERENCES plans (id),
	receiving_unit_id uuid NOT NULL REFERENCES units (id),
	title text NOT NULL CHECK (length(title) BETWEEN 1 AND 300),
	body text NOT NULL DEFAULT '' CHECK (length(body) <= 20000),
	data jsonb NOT NULL DEFAULT '{}' CHECK (jsonb_typeof(data) = 'object'),
	status text NOT NULL DEFAULT 'draft' CHECK (status IN ('draft',
		'submitted', 'accepted', 'returned', 'approved')),
	revision integer NOT NULL DEFAULT 0,
	submitted_at timestamptz,
	last_submitted_at timestamptz,
	timeliness text CHECK (timeliness IN ('on_time', 'late')),
	due_on date,
	review_reason text,
	reviewed_by uuid,
	reviewed_at timestamptz,
	approved_by uuid,
	approved_at timestamptz,
	-- What the client sent to create it, to tell a repeat from a clash.
	request_hash text,
	created_by uuid,
	version integer NOT NULL DEFAULT 1,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX submissions_unit ON submissions (unit_id, status);
CREATE INDEX submissions_receiving ON submissions (receiving_unit_id, status,
	last_submitted_at);
-- A unit answers a milestone once; a returned answer is resubmitted, not
-- made again.
CREATE UNIQUE INDEX submissions_once ON submissions (milestone_id, unit_id)
	WHERE milestone_id IS NOT NULL;

-- Each submit, kept: a resubmission after a return does not erase the first.
CREATE TABLE submission_versions (
	submission_id uuid NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
	revision integer NOT NULL,
	submitted_at timestamptz NOT NULL,
	title text NOT NULL,
	body text NOT NULL,
	data jsonb NOT NULL,
	timeliness text,
	returned_reason text,
	PRIMARY KEY (submission_id, revision)
);
