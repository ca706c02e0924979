-- The groups a plan may address instead of naming units, as data: each
-- group and the kinds of the issuing unit's children it stands for. The
-- server's list of groups (api/resources/vocab.c) is held equal to it by a
-- test, as the other lists are held to their CHECK constraints.
CREATE FUNCTION unit_groups() RETURNS TABLE (grp text, kind text)
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
BEGIN ATOMIC
	SELECT * FROM (VALUES ('agencies', 'office'), ('villages', 'village'),
		('agencies_and_villages', 'office'),
		('agencies_and_villages', 'village')) AS g (grp, kind);
END;

-- The same expansion as before, now read from unit_groups().
CREATE OR REPLACE FUNCTION group_units(issuing uuid, grp text) RETURNS SETOF uuid
	LANGUAGE sql STABLE AS $$
	SELECT u.id FROM units u WHERE u.parent_id = issuing AND u.active
		AND u.kind IN (SELECT g.kind FROM unit_groups() g
			WHERE g.grp = group_units.grp)
	ORDER BY u.code
$$;
