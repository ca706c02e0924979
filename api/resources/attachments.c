/*
 * Attachments: evidence for a submission — photos, PDFs, office documents —
 * sent as the raw request body and kept in PostgreSQL with its SHA-256. The
 * type is decided by the file's first bytes, not only by what the client
 * declares. Downloads carry ETag, Content-Disposition with the UTF-8 name,
 * and byte ranges, so a village phone can resume a broken download.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resources/resources.h"

/* clang-format off */
#define ATTACHMENT_JSON(a)                                                   \
	"json_build_object('id', " a ".id, 'submission_id', " a ".submission_id," \
	" 'filename', " a ".filename, 'content_type', " a ".content_type,"   \
	" 'size', " a ".size, 'sha256', " a ".sha256,"                       \
	" 'created_at', " a ".created_at)"

static const char insert[] =
    "WITH ins AS (INSERT INTO attachments (submission_id, filename,"
    "  content_type, size, sha256, data, created_by)"
    "  VALUES ($1, $2, $3, length($4::bytea), encode(sha256($4::bytea), 'hex'),"
    "  $4::bytea, $5) ON CONFLICT (submission_id, sha256) DO NOTHING"
    "  RETURNING *)"
    "SELECT " ATTACHMENT_JSON("ins") " FROM ins,"
    " audit_event($5, $6, 'attach', 'submission', ins.submission_id,"
    "  $7::ltree, NULL, to_jsonb(ins) - 'data', $8)";
/* What a submission holds already: read under the submission's lock, so
 * that uploads to one submission are counted one after the other. */
static const char usage[] =
    "SELECT count(*), coalesce(sum(size), 0) FROM attachments"
    " WHERE submission_id = $1";
static const char same[] =
    "SELECT " ATTACHMENT_JSON("a") " FROM attachments a"
    " WHERE a.submission_id = $1 AND a.sha256 = encode(sha256($2::bytea), 'hex')";
static const char list[] =
    "SELECT " ATTACHMENT_JSON("a") ", encode(convert_to(a.created_at::text ||"
    " a.id::text, 'UTF8'), 'hex') FROM attachments a"
    " WHERE a.submission_id = $2 AND $1::uuid IS NOT NULL"
    " AND ($3::text IS NULL OR a.created_at::text || a.id::text >"
    "  convert_from(decode($3, 'hex'), 'UTF8'))"
    " AND ($5::text IS NULL OR fold(a.filename) LIKE like_pattern($5))"
    " ORDER BY a.created_at::text || a.id::text LIMIT $4";
/* File $2 of a submission, or an inspection's or a recommendation's (seen
 * as their owner is; $1 the caller's unit, $3 the caller). */
#define VISIBLE_FILE                                                         \
    " FROM attachments a LEFT JOIN submissions s ON s.id = a.submission_id"  \
    " WHERE a.id = $2"                                                       \
    " AND (EXISTS (SELECT 1 FROM units su, units me WHERE me.id = $1"        \
    "  AND su.id IN (s.unit_id, s.receiving_unit_id) AND su.path <@ me.path)"\
    " OR inspection_visible(a.inspection_id, $1, $3)"                        \
    " OR recommendation_visible(a.recommendation_id, $1, $3))"
/* In binary form: the bytes as they are, the text columns as text. */
static const char get[] =
    "SELECT a.data, a.content_type, a.filename, a.sha256" VISIBLE_FILE;
static const char meta[] =
    "SELECT a.sha256, CASE WHEN a.submission_id IS NOT NULL"
    " THEN " ATTACHMENT_JSON("a") " ELSE " EVIDENCE_JSON("a") " END"
    VISIBLE_FILE;
/* clang-format on */

const struct db_stmt attachments_stmts[] = {
	{ "attachments_insert", insert },
	{ "attachments_usage", usage },
	{ "attachments_same", same },
	{ "attachments_list", list },
	{ "attachments_get", get },
	{ "attachments_meta", meta },
	{ NULL, NULL },
};

/* The allowed types, known by their first bytes. */
static const struct {
	const char *type;
	const char *magic;
	size_t len;
} kinds[] = {
	{ "application/pdf", "%PDF-", 5 },
	{ "image/jpeg", "\xff\xd8\xff", 3 },
	{ "image/png", "\x89PNG\r\n\x1a\n", 8 },
	{ "image/webp", "RIFF", 4 }, /* and "WEBP" at offset 8 */
	/* Office Open XML documents are zip files. */
	{ "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
	    "PK\x03\x04", 4 },
	{ "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
	    "PK\x03\x04", 4 },
	{ "application/msword", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8 },
	{ "application/vnd.ms-excel", "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 8 },
};

/* The declared type when the bytes agree with it, else NULL. */
static const char *
sniff(const char *declared, const unsigned char *p, size_t n)
{
	size_t i, dl;

	if (declared == NULL)
		return NULL;
	dl = strcspn(declared, "; \t");
	for (i = 0; i < nitems(kinds); i++) {
		if (strlen(kinds[i].type) != dl ||
		    strncasecmp(kinds[i].type, declared, dl) != 0)
			continue;
		if (n < kinds[i].len ||
		    memcmp(p, kinds[i].magic, kinds[i].len) != 0)
			return NULL;
		if (strcmp(kinds[i].type, "image/webp") == 0 &&
		    (n < 12 || memcmp(p + 8, "WEBP", 4) != 0))
			return NULL;
		return kinds[i].type;
	}
	return NULL;
}

/* A file name: 1 to 255 bytes of UTF-8 without path, control or invisible
 * formatting characters (filename.c). */
static int
valid_filename(const char *s)
{
	return filename_invalid(s) == NULL;
}

struct upload {
	const char *filename, *type;
	long long count, bytes; /* what the submission holds already */
};

/* 1 when the file would take the locked submission beyond its caps (how
 * many files, how many bytes in all), 0 when it fits, -1 after a failure. */
static int
beyond_caps(struct req *r, struct upload *u)
{
	const char *params[1] = { r->param[0] };
	struct dbres *res;

	if ((res = db_exec(r->arena, &r->fail, "attachments_usage", 1,
		 params)) == NULL)
		return -1;
	u->count = strtoll(db_get(res, 0, 0), NULL, 10);
	u->bytes = strtoll(db_get(res, 0, 1), NULL, 10);
	return u->count >= cfg.max_attachments ||
	    (unsigned long long)u->bytes + r->body_len >
	    cfg.max_attachment_bytes_total;
}

/* 409 for a file that beyond_caps refused. Returns -1. */
static int
fail_caps(struct req *r, const struct upload *u)
{
	if (u->count >= cfg.max_attachments)
		return req_fail(r, 409, "too_many_attachments",
		    "a submission holds at most %d attachments, and this one "
		    "has %lld",
		    cfg.max_attachments, u->count);
	return req_fail(r, 409, "attachments_too_large",
	    "a submission's attachments take at most %zu bytes in all: this "
	    "one holds %lld, the file has %zu",
	    cfg.max_attachment_bytes_total, u->bytes, r->body_len);
}

/* Answers 200 with the submission's attachment of the same bytes; 1 when
 * there is none (nothing answered), -1 after a failure. */
static int
reply_same(struct req *r)
{
	const char *params[2] = { r->param[0], r->body };
	int lengths[2] = { 0, (int)r->body_len };
	struct dbres *res;

	if ((res = db_exec_bin(r->arena, &r->fail, "attachments_same", 2,
		 params, lengths, 0)) == NULL)
		return -1;
	if (db_rows(res) == 0)
		return 1;
	return req_reply(r, 200, "application/json", db_get(res, 0, 0),
	    strlen(db_get(res, 0, 0)));
}

static int
upload_tx(struct req *r, void *arg)
{
	const struct principal *p = r->principal;
	struct upload *u = arg;
	struct submission_state st;
	const char *params[8];
	int lengths[8] = { 0 };
	struct dbres *res;
	int rc;

	if (submission_lock(r, r->param[0], 0, NULL, &st) == -1)
		return -1;
	if (strcmp(st.status, "draft") != 0 &&
	    strcmp(st.status, "returned") != 0)
		return req_fail(r, 409, "submission_locked",
		    "a %s submission "
		    "takes no more attachments",
		    st.status);
	/* Counted under the submission's lock: concurrent uploads wait for
	 * each other, so together they cannot pass the caps. The same bytes
	 * sent again are the file stored, not one more. */
	if ((rc = beyond_caps(r, u)) == -1)
		return -1;
	if (rc == 1)
		return (rc = reply_same(r)) == 1 ? fail_caps(r, u) : rc;
	params[0] = r->param[0];
	params[1] = u->filename;
	params[2] = u->type;
	params[3] = r->body;
	lengths[3] = (int)r->body_len;
	params[4] = p->id;
	params[5] = actor_kind(r);
	params[6] = st.unit_path;
	params[7] = r->id;
	if ((res = db_exec_bin(r->arena, &r->fail, "attachments_insert", 8,
		 params, lengths, 0)) == NULL)
		return -1;
	if (db_rows(res) == 1) {
		req_header_add(r, "Location",
		    arena_printf(r->arena, "/api/v1/attachments/%s",
			json_string_value(
			    json_object_get(req_own(r,
						json_loads(db_get(res, 0, 0), 0,
						    NULL)),
				"id"))));
		return req_reply(r, 201, "application/json", db_get(res, 0, 0),
		    strlen(db_get(res, 0, 0)));
	}
	/* The same bytes are there already: answer the stored one. */
	if ((rc = reply_same(r)) == 1)
		return req_fail(r, 500, "internal",
		    "the attachment that conflicted is gone");
	return rc;
}

int
attachment_accept(struct req *r, const char **filename, const char **type)
{
	*filename = req_query(r, "filename");
	if (*filename == NULL || !valid_filename(*filename)) {
		req_field_error(r, "filename", "format", "filename %s",
		    *filename ? filename_invalid(*filename) : "is required");
		return req_fail(r, 400, "invalid_query",
		    "a query parameter is invalid");
	}
	if (r->body_len == 0)
		return req_fail(r, 400, "body_required",
		    "send the file as the "
		    "request body");
	if ((*type = sniff(req_header(r, "Content-Type"),
		 (const unsigned char *)r->body, r->body_len)) == NULL)
		return req_fail(r, 415, "unsupported_media_type",
		    "the file must "
		    "be a PDF, JPEG, PNG, WebP, Word or Excel document, sent with "
		    "its own Content-Type");
	if (!filename_fits(*filename, *type)) {
		req_field_error(r, "filename", "extension",
		    "filename must end in .%s for a file of type %s",
		    filename_extension(*type), *type);
		return req_fail(r, 422, "extension_mismatch",
		    "the file name's extension does not fit the file");
	}
	return 0;
}

int
attachments_upload(struct req *r)
{
	struct upload u;

	if (attachment_accept(r, &u.filename, &u.type) == -1)
		return -1;
	return run_tx(r, upload_tx, &u);
}

int
attachments_list(struct req *r)
{
	const char *params[5];
	struct page pg;
	struct dbres *res;

	if (page_params(r, &pg) == -1 ||
	    query_params(r, search_filters, &params[4]) == -1 ||
	    submission_find(r, r->param[0]) == -1)
		return -1;
	params[0] = r->principal->unit_id;
	params[1] = r->param[0];
	params[2] = pg.cursor;
	params[3] = pg.fetch;
	if ((res = page_exec(r, "attachments_list", 5, params, &pg)) == NULL)
		return -1;
	return reply_page(r, res, &pg);
}

int
attachments_get(struct req *r)
{
	const char *params[3] = { r->principal->unit_id, r->param[0],
		r->principal->id };
	struct dbres *res;

	if ((res = db_exec_bin(r->arena, &r->fail, "attachments_get", 3, params,
		 NULL, 1)) == NULL)
		return -1;
	if (db_rows(res) == 0)
		return req_fail(r, 404, "not_found", "no such attachment");
	req_header_add(r, "Content-Disposition",
	    filename_disposition(r->arena, db_get(res, 0, 2)));
	r->etag = arena_printf(r->arena, "\"%s\"", db_get(res, 0, 3));
	r->ranges = 1;
	return req_reply(r, 200, db_get(res, 0, 1), db_get(res, 0, 0),
	    db_len(res, 0, 0));
}

int
attachments_meta(struct req *r)
{
	return reply_get_as_user(r, "attachments_meta", "attachment");
}
