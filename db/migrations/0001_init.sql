-- The application role (danvan_app) reads and writes rows; it owns nothing and
-- cannot change the schema. Tables created by the owner in later migrations
-- are granted to it through default privileges; a table that must be
-- append-only revokes UPDATE and DELETE explicitly.
DO $$
BEGIN
	EXECUTE format('REVOKE CREATE ON DATABASE %I FROM PUBLIC', current_database());
END
$$;
REVOKE CREATE ON SCHEMA public FROM PUBLIC;
GRANT USAGE ON SCHEMA public TO danvan_app;
GRANT SELECT ON schema_migrations TO danvan_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
	GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO danvan_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
	GRANT USAGE, SELECT ON SEQUENCES TO danvan_app;
ALTER DEFAULT PRIVILEGES IN SCHEMA public
	GRANT EXECUTE ON FUNCTIONS TO danvan_app;
