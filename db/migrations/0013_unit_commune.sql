-- Each unit's commune, stored: the path of the deepest commune at or above
-- it (NULL above and beside every commune). The reports group thousands of
-- units by commune with a column read, not a search of the tree for each
-- unit. It is derived, never written by a request: after every statement
-- that creates units or changes a unit's kind or path (a move, which also
-- moves its subtree), the units below each changed one are re-pointed, in
-- the same transaction.
ALTER TABLE units ADD COLUMN commune_path ltree;

-- The deepest commune at or above the unit of path p: each label of p is the
-- id of a unit above it (key lookups, not a search of the tree).
CREATE FUNCTION unit_commune_path(p ltree) RETURNS ltree
	LANGUAGE sql STABLE AS $$
	SELECT a.path FROM unnest(string_to_array(ltree2text(p), '.'))
		WITH ORDINALITY x (label, n)
	JOIN units a ON a.id = x.label::uuid
	WHERE a.kind = 'commune' ORDER BY x.n DESC LIMIT 1
$$;

UPDATE units SET commune_path = unit_commune_path(path);

CREATE FUNCTION units_commune_refresh() RETURNS trigger
	LANGUAGE plpgsql AS $$
BEGIN
	-- The changed units (all new ones; updated ones whose kind or path
	-- changed), then every unit at or below them. Rewriting commune_path
	-- fires this again, finds no kind or path changed and stops there.
	IF TG_OP = 'INSERT' THEN
		IF NOT EXISTS (SELECT 1 FROM new_rows) THEN
			RETURN NULL;
		END IF;
		UPDATE units u SET commune_path = unit_commune_path(u.path)
		FROM new_rows n WHERE u.id = n.id
		AND u.commune_path IS DISTINCT FROM unit_commune_path(u.path);
	ELSIF EXISTS (SELECT 1 FROM new_rows n JOIN old_rows o ON o.id = n.id
		WHERE n.path <> o.path OR n.kind <> o.kind) THEN
		UPDATE units u SET commune_path = unit_commune_path(u.path)
		FROM (SELECT DISTINCT n.path FROM new_rows n
			JOIN old_rows o ON o.id = n.id
			WHERE n.path <> o.path OR n.kind <> o.kind) c
		WHERE u.path <@ c.path
		AND u.commune_path IS DISTINCT FROM unit_commune_path(u.path);
	END IF;
	RETURN NULL;
END
$$;

CREATE TRIGGER units_commune_insert AFTER INSERT ON units
	REFERENCING NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION units_commune_refresh();
CREATE TRIGGER units_commune_update AFTER UPDATE ON units
	REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
	FOR EACH STATEMENT EXECUTE FUNCTION units_commune_refresh();


-- The communes below a root, without reading the rest of its subtree.
CREATE INDEX units_commune_path ON units USING gist (path)
	WHERE kind = 'commune';

-- Re-pointing commune_path is derived bookkeeping, not a change a GET shows:
-- the change feed records a unit's update only when something else changed.
DROP TRIGGER units_changes ON units;
CREATE TRIGGER units_changes AFTER INSERT OR DELETE ON units
	FOR EACH ROW EXECUTE FUNCTION record_change('unit');
CREATE TRIGGER units_changes_update AFTER UPDATE ON units
	FOR EACH ROW
	WHEN ((to_jsonb(OLD) - 'commune_path') IS DISTINCT FROM
		(to_jsonb(NEW) - 'commune_path'))
	EXECUTE FUNCTION record_change('unit');
