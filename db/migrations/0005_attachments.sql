-- Evidence attached to submissions (photos, PDFs, office documents), kept in
-- the database so that one backup holds everything. The same bytes are
-- stored once per submission.
CREATE TABLE attachments (
	id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
	submission_id uuid NOT NULL REFERENCES submissions (id) ON DELETE CASCADE,
	filename text NOT NULL CHECK (length(filename) BETWEEN 1 AND 255),
	content_type text NOT NULL,
	size bigint NOT NULL CHECK (size > 0),
	sha256 text NOT NULL,
	data bytea NOT NULL,
	created_by uuid,
	created_at timestamptz NOT NULL DEFAULT now(),
	UNIQUE (submission_id, sha256)
);
-- Photos and PDFs are compressed already: store them as they are.
ALTER TABLE attachments ALTER COLUMN data SET STORAGE EXTERNAL;
