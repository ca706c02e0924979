/*
 * Service accounts: machine callers such as the province's aggregator. An
 * admin creates one for a unit subtree and sees its key once; the key is
 * stored only as a hash, acts read-only, and can be revoked.
 */
#include <string.h>

#include "resources/resources.h"

/* clang-format off */
#define SA_JSON(s)                                                           \
	"json_build_object('id', " s ".id, 'unit_id', " s ".unit_id,"        \
	" 'name', " s ".name, 'key_prefix', " s ".key_prefix,"               \
	" 'role', 'service', 'created_at', " s ".created_at,"                \
	" 'last_used_at', " s ".last_used_at, 'revoked_at', " s ".revoked_at," \
	" 'version', " s ".version)"

static const char list[] =
    "SELECT " SA_JSON("s") ", encode(convert_to(s.created_at::text || chr(31)"
    " || s.id, 'UTF8'), 'hex')"
    " FROM service_accounts s JOIN units n ON n.id = s.unit_id"
    " WHERE n.path <@ " SCOPE
    " AND ($2::text IS NULL OR fold(s.name) LIKE like_pattern($2))"
    " AND ($3::text IS NULL OR (s.created_at, s.id) >"
    "  (split_part(convert_from(decode($3, 'hex'), 'UTF8'), chr(31), 1)::timestamptz,"
    "   split_part(convert_from(decode($3, 'hex'), 'UTF8'), chr(31), 2)::uuid))"
    " ORDER BY s.created_at, s.id LIMIT $4";
static const char create[] =
    "WITH unit AS (SELECT id, path FROM units"
    "  WHERE id = $2 AND active AND path <@ " SCOPE "),"
    " ins AS (INSERT INTO service_accounts (unit_id, name, key_hash,"
    "  key_prefix, created_by) SELECT unit.id, $3, $4, $5, $6 FROM unit"
    "  RETURNING *)"
    "SELECT ins.version, " SA_JSON("ins") "::jsonb || jsonb_build_object("
    " 'api_key', $8::text) FROM ins, unit,"
    " audit_event($6, 'user', 'create', 'service_account', ins.id, unit.path,"
    "  NULL, to_jsonb(ins) - 'key_hash', $7)";
static const char revoke[] =
    "WITH cur AS (SELECT s.id, s.version, n.path, to_jsonb(s) - 'key_hash' AS j"
    "  FROM service_accounts s JOIN units n ON n.id = s.unit_id"
    "  WHERE s.id = $2 AND n.path <@ " SCOPE "),"
    " upd AS (UPDATE service_accounts s SET revoked_at = now(),"
    "  version = s.version + 1 FROM cur"
    "  WHERE s.id = cur.id AND cur.version = $3::int AND s.revoked_at IS NULL"
    "  RETURNING s.*),"
    /* A SELECT in WITH runs only when read: counting it writes the events. */
    " aud AS (SELECT audit_event($4, 'user', 'revoke', 'service_account',"
    "  upd.id, cur.path, cur.j, to_jsonb(upd) - 'key_hash', $5) FROM upd, cur)"
    "SELECT cur.version, (SELECT count(*) FROM aud),"
    " (SELECT revoked_at IS NOT NULL FROM service_accounts WHERE id = cur.id)"
    " FROM cur";
/* clang-format on */

const struct db_stmt service_accounts_stmts[] = {
	{ "sa_list", list },
	{ "sa_create", create },
	{ "sa_revoke", revoke },
	{ NULL, NULL },
};

enum { F_UNIT, F_NAME };
static const struct field fields[] = {
	[F_UNIT] = { "unit_id", F_UUID, 1, 0, 0, 0, 0, NULL },
	[F_NAME] = { "name", F_STRING, 1, 0, 0, 1, 200, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};

int
service_accounts_list(struct req *r)
{
	return reply_list(r, "sa_list", search_filters);
}

int
service_accounts_create(struct req *r)
{
	const struct principal *p = r->principal;
	const char *v[nitems(fields)], *params[8];
	char key[96], hash[65];
	struct dbres *res;
	json_t *body;

	if ((body = req_body_object(r)) == NULL ||
	    validate(r, body, fields, v, 0) == -1)
		return -1;
	secret_new("dvk_", key, sizeof(key), hash);
	params[0] = p->unit_id;
	params[1] = v[F_UNIT];
	params[2] = v[F_NAME];
	params[3] = hash;
	params[4] = arena_strndup(r->arena, key, 12);
	params[5] = p->id;
	params[6] = r->id;
	params[7] = key;
	if ((res = db_exec(r->arena, &r->fail, "sa_create", 8, params)) == NULL)
		return -1;
	if (db_rows(res) == 0) {
		return fail_reference(r, "unit_id",
		    "unit_id names no active unit you manage");
	}
	return reply_entity(r, res, 201, "service account");
}

int
service_accounts_revoke(struct req *r)
{
	const struct principal *p = r->principal;
	const char *params[5], *version;
	struct dbres *res;

	if ((version = if_match(r)) == NULL)
		return -1;
	params[0] = p->unit_id;
	params[1] = r->param[0];
	params[2] = version;
	params[3] = p->id;
	params[4] = r->id;
	if ((res = db_exec(r->arena, &r->fail, "sa_revoke", 5, params)) == NULL)
		return -1;
	if (db_rows(res) == 0)
		return req_fail(r, 404, "not_found", "no such service account");
	/* Revoking a revoked key changes nothing and is not an error. */
	if (strcmp(db_get(res, 0, 1), "0") == 0 &&
	    !(strcmp(db_get(res, 0, 0), version) == 0 &&
		strcmp(db_get(res, 0, 2), "t") == 0))
		return req_fail(r, 412, "precondition_failed",
		    "the service account changed since version %s", version);
	return req_reply(r, 204, NULL, "", 0);
}
