-- "Dân vận khéo" models: a way of working that a unit registers, carries
-- out, has recognised, and that other units replicate. Counted per unit and
-- per field of work in the province's aggregates.
CREATE TABLE models (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	unit_id uuid NOT NULL REFERENCES units (id),
	name text NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
	field text NOT NULL CHECK (field IN ('administrative_reform',
		'environment', 'new_rural_areas', 'citizen_satisfaction',
		'security_order', 'economy', 'culture_society', 'other')),
	description text NOT NULL DEFAULT '',
	expected_results text NOT NULL DEFAULT '',
	results text NOT NULL DEFAULT '',
	status text NOT NULL DEFAULT 'registered' CHECK (status IN ('registered',
		'implementing', 'recognised', 'replicated')),
	submission_id uuid UNIQUE REFERENCES submissions (id),
	replicated_from uuid REFERENCES models (id),
	recognised_by uuid,
	recognised_at timestamptz,
	version integer NOT NULL DEFAULT 1,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	CHECK (replicated_from IS DISTINCT FROM id)
);
CREATE INDEX models_unit ON models (unit_id, field);
CREATE INDEX models_from ON models (replicated_from);

