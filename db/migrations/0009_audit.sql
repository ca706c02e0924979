-- The one way an audit event is written. Every statement that changes an
-- audited entity calls it for each changed row, in the same statement:
-- "SELECT ... FROM ins, audit_event(...)". Returns the new event's id.
--
-- SECURITY INVOKER (the default) on purpose: the application role may
-- already insert into audit_events and do nothing else to it, so the
-- function needs no rights of its own; a definer function would act with
-- the owner's rights for no gain. The body is parsed now (BEGIN ATOMIC), so
-- it does not depend on the caller's search_path.
CREATE FUNCTION audit_event(actor_id uuid, actor_kind text, action text,
	entity_type text, entity_id uuid, unit_path ltree, before jsonb,
	after jsonb, request_id text) RETURNS bigint
	LANGUAGE sql VOLATILE
BEGIN ATOMIC
	INSERT INTO audit_events (actor_id, actor_kind, action, entity_type,
		entity_id, unit_path, before, after, request_id)
	VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
	RETURNING id;
END;
GRANT EXECUTE ON FUNCTION audit_event(uuid, text, text, text, uuid, ltree,
	jsonb, jsonb, text) TO danvan_app;
