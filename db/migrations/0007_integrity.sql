-- Integrity and access fixes found by an audit of the running service.

-- The version tables are history, append-only like audit_events: the
-- application role may insert and read them, never change them.
CREATE FUNCTION append_only() RETURNS trigger
	LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = '42501';
END
$$;
REVOKE UPDATE, DELETE, TRUNCATE ON plan_versions, submission_versions
	FROM danvan_app;
CREATE TRIGGER plan_versions_append_only BEFORE UPDATE OR DELETE
	ON plan_versions FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER plan_versions_no_truncate BEFORE TRUNCATE
	ON plan_versions FOR EACH STATEMENT EXECUTE FUNCTION append_only();
CREATE TRIGGER submission_versions_append_only BEFORE UPDATE OR DELETE
	ON submission_versions FOR EACH ROW EXECUTE FUNCTION append_only();
CREATE TRIGGER submission_versions_no_truncate BEFORE TRUNCATE
	ON submission_versions FOR EACH STATEMENT EXECUTE FUNCTION append_only();

-- Access tokens carry the generation of their user's credentials. A new
-- password or a deactivation raises it, so every token issued before dies,
-- whatever the clocks say and even within the same second, and a
-- reactivated user's old tokens stay dead.
ALTER TABLE users ADD COLUMN token_generation integer NOT NULL DEFAULT 0;
ALTER TABLE users DROP COLUMN tokens_valid_after;

-- A unit is usable when it and every unit above it are active: the users of
-- a deactivated unit can no longer sign in or act.
CREATE FUNCTION unit_active(p ltree) RETURNS boolean
	LANGUAGE sql STABLE AS $$
	SELECT NOT EXISTS (SELECT 1 FROM units WHERE path @> p AND NOT active)
$$;

-- What expires is deleted: Idempotency-Key records after a day, refresh
-- token families once every token of the family has expired (a family
-- with a live token keeps its used ones, so a replay is still detected),
-- login failure windows after a day. Returns how many rows went.
CREATE FUNCTION purge_expired() RETURNS bigint
	LANGUAGE sql AS $$
	WITH k AS (DELETE FROM idempotency_keys
		WHERE created_at < now() - interval '1 day' RETURNING 1),
	t AS (DELETE FROM refresh_tokens r WHERE r.expires_at < now()
		AND NOT EXISTS (SELECT 1 FROM refresh_tokens l
			WHERE l.family_id = r.family_id AND l.expires_at >= now())
		RETURNING 1),
	f AS (DELETE FROM login_failures
		WHERE window_start < now() - interval '1 day' RETURNING 1)
	SELECT (SELECT count(*) FROM k) + (SELECT count(*) FROM t) +
		(SELECT count(*) FROM f)
$$;

-- Four eyes on reviews: whoever wrote or last submitted a submission does
-- not accept, return or approve it; whoever accepted it does not approve it.
ALTER TABLE submissions ADD COLUMN last_submitted_by uuid;
UPDATE submissions SET last_submitted_by = created_by
	WHERE last_submitted_at IS NOT NULL;
