-- Identity and access: the organisation tree, users, service accounts, refresh
-- tokens, login throttling and the append-only audit trail.
CREATE EXTENSION IF NOT EXISTS ltree;
CREATE EXTENSION IF NOT EXISTS unaccent;
CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- unaccent() is only STABLE (it reads a dictionary); pinning the dictionary
-- makes it safe to index. Vietnamese: "Dân vận khéo" -> "dan van kheo".
CREATE FUNCTION fold(text) RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
	RETURN lower(public.unaccent('public.unaccent'::regdictionary, $1));

-- An ltree label for a unit: its uuid without hyphens.
CREATE FUNCTION unit_label(uuid) RETURNS ltree
	LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
	RETURN text2ltree(replace($1::text, '-', ''));

CREATE TABLE units (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	parent_id uuid REFERENCES units (id),
	kind text NOT NULL CHECK (kind IN ('province', 'department', 'commune',
		'office', 'front', 'party', 'village', 'other')),
	code text NOT NULL CHECK (code ~ '^[a-z0-9][a-z0-9._-]{0,63}$'),
	name text NOT NULL CHECK (length(name) BETWEEN 1 AND 300),
	-- Labels from the root down to this unit: "this unit and everything
	-- below it" is path <@ this.path, one GiST-indexed condition.
	path ltree NOT NULL,
	active boolean NOT NULL DEFAULT true,
	sample boolean NOT NULL DEFAULT false,
	version integer NOT NULL DEFAULT 1,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	CHECK (parent_id IS DISTINCT FROM id)
);
CREATE UNIQUE INDEX units_code_in_parent ON units (coalesce(parent_id,
	'00000000-0000-0000-0000-000000000000'), code);
CREATE INDEX units_path ON units USING gist (path);
CREATE INDEX units_parent ON units (parent_id);
CREATE INDEX units_name_fold ON units USING gin (fold(name) gin_trgm_ops);

CREATE TABLE users (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	unit_id uuid NOT NULL REFERENCES units (id),
	username text NOT NULL UNIQUE CHECK (username ~ '^[a-z0-9][a-z0-9._-]{2,63}$'),
	full_name text NOT NULL CHECK (length(full_name) BETWEEN 1 AND 200),
	role text NOT NULL CHECK (role IN ('admin', 'leader', 'coordinator',
		'inspector', 'officer', 'viewer')),
	password_hash text NOT NULL,
	-- Access tokens issued before this instant are refused.
	tokens_valid_after timestamptz NOT NULL DEFAULT 'epoch',
	active boolean NOT NULL DEFAULT true,
	version integer NOT NULL DEFAULT 1,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX users_unit ON users (unit_id);

-- Machine callers (the province's aggregator): a long random key, stored
-- only as its SHA-256 (the key has 256 bits of entropy, so a slow hash buys
-- nothing), read-only, scoped to a unit subtree, revocable.
CREATE TABLE service_accounts (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	unit_id uuid NOT NULL REFERENCES units (id),
	name text NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	key_hash text NOT NULL UNIQUE,
	key_prefix text NOT NULL,
	created_by uuid REFERENCES users (id),
	created_at timestamptz NOT NULL DEFAULT now(),
	last_used_at timestamptz,
	revoked_at timestamptz,
	version integer NOT NULL DEFAULT 1
);
CREATE INDEX service_accounts_unit ON service_accounts (unit_id);

-- Refresh tokens rotate: each use marks the token used and issues the next
-- of the same family; presenting a used one revokes the family.
CREATE TABLE refresh_tokens (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	user_id uuid NOT NULL REFERENCES users (id),
	family_id uuid NOT NULL,
	token_hash text NOT NULL UNIQUE,
	created_at timestamptz NOT NULL DEFAULT now(),
	expires_at timestamptz NOT NULL,
	used_at timestamptz,
	revoked_at timestamptz
);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);

-- Failed logins per key ('user:<name>' or 'addr:<ip>') in the current
-- window. In the database so that every API node sees the same counts.
CREATE TABLE login_failures (
	key text PRIMARY KEY,
	window_start timestamptz NOT NULL,
	failures integer NOT NULL
);

-- Who did what to which entity, when, with before and after. Append-only:
-- the application role may insert and read, never update or delete.
CREATE TABLE audit_events (
	id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at timestamptz NOT NULL DEFAULT now(),
	actor_id uuid,
	actor_kind text NOT NULL CHECK (actor_kind IN ('user', 'service', 'system')),
	action text NOT NULL,
	entity_type text NOT NULL,
	entity_id uuid NOT NULL,
	-- The unit the entity belongs to, for scoped reading.
	unit_path ltree NOT NULL,
	before jsonb,
	after jsonb,
	request_id text
);
CREATE INDEX audit_events_entity ON audit_events (entity_type, entity_id, id);
CREATE INDEX audit_events_actor ON audit_events (actor_id, id);
CREATE INDEX audit_events_at ON audit_events (at, id);
CREATE INDEX audit_events_path ON audit_events USING gist (unit_path);
REVOKE UPDATE, DELETE, TRUNCATE ON audit_events FROM danvan_app;

CREATE FUNCTION audit_events_immutable() RETURNS trigger
	LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit events are append-only' USING ERRCODE = '42501';
END
$$;
CREATE TRIGGER audit_events_immutable BEFORE UPDATE OR DELETE ON audit_events
	FOR EACH ROW EXECUTE FUNCTION audit_events_immutable();
CREATE TRIGGER audit_events_no_truncate BEFORE TRUNCATE ON audit_events
	FOR EACH STATEMENT EXECUTE FUNCTION audit_events_immutable();

-- Idempotency-Key records: the stored answer of a create, replayed when the
-- same caller repeats the same key with the same request. Written in the
-- create's own transaction, so a create and its record commit together.
CREATE TABLE idempotency_keys (
	principal text NOT NULL,
	key text NOT NULL,
	request_hash text NOT NULL,
	status integer,
	content_type text,
	body text,
	etag text,
	location text,
	created_at timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (principal, key)
);

-- A LIKE pattern that finds needle anywhere, ignoring case and diacritics.
CREATE FUNCTION like_pattern(needle text) RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE STRICT
	RETURN '%' || replace(replace(replace(fold(needle), '\', '\\'), '%', '\%'),
		'_', '\_') || '%';
