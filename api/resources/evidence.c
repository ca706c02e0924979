/*
 * Evidence files of inspections (minutes, photos) and of the answers to
 * recommendations, in the attachments store with the rules of submissions'
 * files (attachment_accept: the name, the type by the first bytes, the
 * size cap), each stored once per owner and downloaded through
 * GET /api/v1/attachments/{id}. An inspection takes files from its team
 * and managing unit until it is completed or cancelled; a recommendation
 * from the unit it is addressed to until it is resolved.
 */
#include <string.h>

#include "resources/resources.h"

/* clang-format off */
#define KEY(a) "(" a ".created_at::text || " a ".id::text)"

/* $1 the inspection or NULL, $2 the recommendation or NULL. */
static const char insert[] =
    "WITH ins AS (INSERT INTO attachments (inspection_id, recommendation_id,"
    "  filename, content_type, size, sha256, data, created_by)"
    "  VALUES ($1, $2, $3, $4, length($5::bytea),"
    "  encode(sha256($5::bytea), 'hex'), $5::bytea, $6) ON CONFLICT DO NOTHING"
    "  RETURNING *)"
    "SELECT " EVIDENCE_JSON("ins") " FROM ins,"
    " audit_event($6, $7, 'attach', CASE WHEN $1::uuid IS NULL"
    "  THEN 'recommendation' ELSE 'inspection' END,"
    "  coalesce($1::uuid, $2::uuid), $8::ltree, NULL, to_jsonb(ins) - 'data',"
    "  $9)";
static const char same[] =
    "SELECT " EVIDENCE_JSON("a") " FROM attachments a"
    " WHERE (a.inspection_id = $1 OR a.recommendation_id = $2)"
    " AND a.sha256 = encode(sha256($3::bytea), 'hex')";
static const char visible[] =
    "SELECT 1 WHERE CASE WHEN $4 = 'i' THEN inspection_visible($2, $1, $3)"
    " ELSE recommendation_visible($2, $1, $3) END";
static const char list[] =
    "SELECT " EVIDENCE_JSON("a") ", encode(convert_to(" KEY("a") ", 'UTF8'),"
    " 'hex') FROM attachments a"
    " WHERE (a.inspection_id = $1 OR a.recommendation_id = $1)"
    " AND ($2::text IS NULL OR " KEY("a") " > convert_from(decode($2, 'hex'),"
    "  'UTF8')) AND ($4::text IS NULL OR fold(a.filename) LIKE"
    "  like_pattern($4)) ORDER BY " KEY("a") " LIMIT $3";
/* clang-format on */

const struct db_stmt evidence_stmts[] = {
	{ "evidence_insert", insert },
	{ "evidence_same", same },
	{ "evidence_visible", visible },
	{ "evidence_list", list },
	{ NULL, NULL },
};

struct upload {
	const char *filename, *type;
	int inspection; /* else a recommendation */
};

static int
upload_tx(struct req *r, void *arg)
{
	const struct principal *p = r->principal;
	struct upload *u = arg;
	struct inspection_state is;
	struct recommendation_state rs;
	const char *params[9], *path;
	int lengths[9] = { 0 };
	struct dbres *res;

	if (u->inspection) {
		if (inspection_lock(r, r->param[0], NULL, &is) == -1)
			return -1;
		if (strcmp(is.status, "planned") != 0 &&
		    strcmp(is.status, "in_progress") != 0)
			return req_fail(r, 409, "inspection_closed",
			    "a %s "
			    "inspection takes no more files",
			    is.status);
		path = is.unit_path;
	} else {
		if (recommendation_lock(r, r->param[0], NULL, &rs) == -1)
			return -1;
		if (!rs.addressed)
			return req_fail(r, 409, "not_addressed",
			    "only the unit "
			    "the recommendation is addressed to sends evidence");
		if (strcmp(rs.status, "resolved") == 0)
			return req_fail(r, 409, "recommendation_locked",
			    "a "
			    "resolved recommendation takes no more files");
		path = rs.unit_path;
	}
	params[0] = u->inspection ? r->param[0] : NULL;
	params[1] = u->inspection ? NULL : r->param[0];
	params[2] = u->filename;
	params[3] = u->type;
	params[4] = r->body;
	lengths[4] = (int)r->body_len;
	params[5] = p->id;
	params[6] = actor_kind(r);
	params[7] = path;
	params[8] = r->id;
	if ((res = db_exec_bin(r->arena, &r->fail, "evidence_insert", 9, params,
		 lengths, 0)) == NULL)
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
	/* The same bytes are there already: answer the stored file. */
	params[2] = r->body;
	lengths[0] = lengths[1] = 0;
	lengths[2] = (int)r->body_len;
	if ((res = db_exec_bin(r->arena, &r->fail, "evidence_same", 3, params,
		 lengths, 0)) == NULL ||
	    db_rows(res) == 0)
		return -1;
	return req_reply(r, 200, "application/json", db_get(res, 0, 0),
	    strlen(db_get(res, 0, 0)));
}

static int
upload(struct req *r, int inspection)
{
	struct upload u = { .inspection = inspection };

	if (attachment_accept(r, &u.filename, &u.type) == -1)
		return -1;
	return run_tx(r, upload_tx, &u);
}

static int
listing(struct req *r, const char *kind, const char *what)
{
	const char *params[4] = { r->principal->unit_id, r->param[0],
		r->principal->id, kind };
	const char *q;
	struct page pg;
	struct dbres *res;

	if (page_params(r, &pg) == -1 ||
	    query_params(r, search_filters, &q) == -1 ||
	    (res = db_exec(r->arena, &r->fail, "evidence_visible", 4,
		 params)) == NULL)
		return -1;
	if (db_rows(res) == 0)
		return req_fail(r, 404, "not_found", "no such %s", what);
	params[0] = r->param[0];
	params[1] = pg.cursor;
	params[2] = pg.fetch;
	params[3] = q;
	if ((res = page_exec(r, "evidence_list", 4, params, &pg)) == NULL)
		return -1;
	return reply_page(r, res, &pg);
}

int
inspections_attach(struct req *r)
{
	return upload(r, 1);
}

int
inspections_attachments(struct req *r)
{
	return listing(r, "i", "inspection");
}

int
recommendations_attach(struct req *r)
{
	return upload(r, 0);
}

int
recommendations_attachments(struct req *r)
{
	return listing(r, "r", "recommendation");
}
