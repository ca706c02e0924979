/*
 * Users: people who sign in, each in one unit with one role. Admins manage
 * the users of the units strictly below their own (the users of an admin's
 * own unit, other admins beside it included, are managed from above) and
 * grant no role above their own; leaders and coordinators may read them. The
 * password hash never leaves the database, not even into the audit trail.
 */
#include <string.h>

#include "resources/resources.h"

/* clang-format off */
#define USER_JSON(u)                                                         \
	"json_build_object('id', " u ".id, 'unit_id', " u ".unit_id,"        \
	" 'username', " u ".username, 'full_name', " u ".full_name,"         \
	" 'role', " u ".role, 'active', " u ".active, 'version', " u ".version," \
	" 'created_at', " u ".created_at, 'updated_at', " u ".updated_at)"

static const char list[] =
    "SELECT " USER_JSON("u") ", encode(convert_to(u.username, 'UTF8'), 'hex')"
    " FROM users u JOIN units n ON n.id = u.unit_id"
    " WHERE n.path <@ " SCOPE
    " AND ($2::uuid IS NULL OR u.unit_id = $2)"
    " AND ($3::text IS NULL OR u.role = $3)"
    " AND ($4::text IS NULL OR fold(u.full_name) LIKE like_pattern($4)"
    "  OR u.username LIKE like_pattern($4))"
    " AND ($5::boolean IS NULL OR u.active = $5)"
    " AND ($6::text IS NULL OR u.username > convert_from(decode($6, 'hex'), 'UTF8'))"
    " ORDER BY u.username LIMIT $7";
static const char get[] =
    "SELECT u.version, " USER_JSON("u")
    " FROM users u JOIN units n ON n.id = u.unit_id"
    " WHERE u.id = $2 AND n.path <@ " SCOPE;
static const char me[] =
    "SELECT u.version, " USER_JSON("u") "::jsonb || jsonb_build_object("
    " 'unit', json_build_object('id', n.id, 'code', n.code, 'name', n.name,"
    " 'kind', n.kind))"
    " FROM users u JOIN units n ON n.id = u.unit_id WHERE u.id = $1";
static const char create[] =
    "WITH unit AS (SELECT id, path FROM units"
    "  WHERE id = $2 AND active AND path <@ " SCOPE " AND path <> " SCOPE "),"
    " ins AS (INSERT INTO users (unit_id, username, full_name, role,"
    "  password_hash) SELECT unit.id, $3, $4, $5, $6 FROM unit RETURNING *)"
    "SELECT ins.version, " USER_JSON("ins") " FROM ins, unit,"
    " audit_event($7, $8, 'create', 'user', ins.id, unit.path, NULL,"
    "  to_jsonb(ins) - 'password_hash', $9)";
/* Column 3: the user is below the admin's own unit, so the admin may change
 * it. */
static const char lock[] =
    "SELECT u.version, to_jsonb(u) - 'password_hash', n.path,"
    " n.path <> " SCOPE " FROM users u JOIN units n ON n.id = u.unit_id"
    " WHERE u.id = $2 AND n.path <@ " SCOPE " FOR UPDATE OF u";
static const char unit_in_scope[] =
    "SELECT path FROM units WHERE id = $2 AND active AND path <@ " SCOPE
    " AND path <> " SCOPE;
static const char update[] =
    "WITH upd AS (UPDATE users SET"
    "  full_name = coalesce($2, full_name), role = coalesce($3, role),"
    "  unit_id = coalesce($4::uuid, unit_id),"
    "  active = coalesce($5::boolean, active),"
    "  password_hash = coalesce($6, password_hash),"
    "  token_generation = token_generation + CASE WHEN $6 IS NOT NULL"
    "   OR $5::boolean = false THEN 1 ELSE 0 END,"
    "  version = version + 1, updated_at = now()"
    "  WHERE id = $1 RETURNING *),"
    " tok AS (UPDATE refresh_tokens SET revoked_at = now()"
    "  WHERE user_id = $1 AND revoked_at IS NULL"
    "  AND ($5::boolean = false OR $6 IS NOT NULL))"
    "SELECT upd.version, " USER_JSON("upd") " FROM upd,"
    " audit_event($7, $8, CASE WHEN $6 IS NOT NULL THEN 'update_password'"
    "  ELSE 'update' END, 'user', upd.id, $9::ltree, $10::jsonb,"
    "  to_jsonb(upd) - 'password_hash', $11)";
static const char add_cli[] =
    "WITH RECURSIVE walk AS ("
    "  SELECT u.id, u.path, 1 AS i FROM units u"
    "  WHERE u.parent_id IS NULL AND u.code = split_part($1, '/', 1)"
    "  UNION ALL SELECT c.id, c.path, w.i + 1 FROM walk w JOIN units c"
    "  ON c.parent_id = w.id AND c.code = split_part($1, '/', w.i + 1)),"
    " unit AS (SELECT id, path FROM walk"
    "  WHERE i = array_length(string_to_array($1, '/'), 1)),"
    " ins AS (INSERT INTO users (unit_id, username, full_name, role,"
    "  password_hash) SELECT id, $2, $3, $4, $5 FROM unit RETURNING *)"
    "SELECT ins.id FROM ins, unit, audit_event(NULL, 'system', 'create',"
    " 'user', ins.id, unit.path, NULL, to_jsonb(ins) - 'password_hash', NULL)";
/* clang-format on */

const struct db_stmt users_stmts[] = {
	{ "users_list", list },
	{ "users_get", get },
	{ "users_me", me },
	{ "users_create", create },
	{ "users_lock", lock },
	{ "users_unit_path", unit_in_scope },
	{ "users_update", update },
	{ "users_add_cli", add_cli },
	{ NULL, NULL },
};

enum { F_UNIT, F_USERNAME, F_FULL_NAME, F_ROLE, F_PASSWORD, F_ACTIVE };
static const struct field fields[] = {
	[F_UNIT] = { "unit_id", F_UUID, 1, 0, 0, 0, 0, NULL },
	[F_USERNAME] = { "username", F_CODE, 1, 0, 1, 3, 64, NULL },
	[F_FULL_NAME] = { "full_name", F_STRING, 1, 0, 0, 1, 200, NULL },
	[F_ROLE] = { "role", F_ENUM, 1, 0, 0, 0, 0, user_roles },
	[F_PASSWORD] = { "password", F_STRING, 1, 0, 0, 1, PASSWORD_MAX_BYTES,
	    NULL },
	[F_ACTIVE] = { "active", F_BOOL, 0, 0, 0, 0, 0, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};

const char *
user_password_hash(struct req *r, const char *field, const char *password,
    const char *username)
{
	const char *why = password_weakness(password, username);
	char *hash;

	if (why != NULL) {
		req_field_error(r, field, "weak", "the password %s", why);
		req_fail(r, 422, "invalid_body", "the password is too weak");
		return NULL;
	}
	hash = arena_alloc(r->arena, 128);
	if (password_hash(password, hash, 128) == -1) {
		req_header_add(r, "Retry-After", "1");
		req_fail(r, 503, "busy",
		    "the server is out of memory for "
		    "password hashing; try again");
		return NULL;
	}
	return hash;
}

static const struct field filters[] = {
	{ "unit_id", F_UUID, 0, 0, 0, 0, 0, NULL },
	{ "role", F_ENUM, 0, 0, 0, 0, 0, user_roles },
	{ "q", F_STRING, 0, 0, 0, 1, 200, NULL },
	{ "active", F_BOOL, 0, 0, 0, 0, 0, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};

/* Nobody grants a role above their own: 403. role may be NULL. */
static int
check_grant(struct req *r, const char *role)
{
	if (role != NULL &&
	    !role_may_grant(r->principal->role, role_parse(role)))
		return req_fail(r, 403, "forbidden",
		    "the %s role may not grant "
		    "the %s role",
		    role_name(r->principal->role), role);
	return 0;
}

int
users_list(struct req *r)
{
	return reply_list(r, "users_list", filters);
}

int
users_get(struct req *r)
{
	return reply_get(r, "users_get", "user");
}

int
me_get(struct req *r)
{
	const char *params[1] = { r->principal->id };
	struct dbres *res;

	if ((res = db_exec(r->arena, &r->fail, "users_me", 1, params)) == NULL)
		return -1;
	if (db_rows(res) == 0)
		return req_fail(r, 404, "not_found", "no such user");
	/* The body embeds the unit, so the ETag is the body's, not the
	 * user's version. */
	return req_reply(r, 200, "application/json", db_get(res, 0, 1),
	    strlen(db_get(res, 0, 1)));
}

int
users_create(struct req *r)
{
	const struct principal *p = r->principal;
	const char *v[nitems(fields)], *params[9];
	struct dbres *res;
	json_t *body;

	if ((body = req_body_object(r)) == NULL ||
	    validate(r, body, fields, v, 0) == -1)
		return -1;
	if (v[F_ACTIVE] != NULL) {
		req_field_error(r, "active", "unknown", "a new user is active");
		return req_fail(r, 422, "invalid_body",
		    "the request body has invalid fields");
	}
	if (check_grant(r, v[F_ROLE]) == -1)
		return -1;
	params[0] = p->unit_id;
	params[1] = v[F_UNIT];
	params[2] = v[F_USERNAME];
	params[3] = v[F_FULL_NAME];
	params[4] = v[F_ROLE];
	if ((params[5] = user_password_hash(r, "password", v[F_PASSWORD],
		 v[F_USERNAME])) == NULL)
		return -1;
	params[6] = p->id;
	params[7] = actor_kind(r);
	params[8] = r->id;
	if ((res = db_exec(r->arena, &r->fail, "users_create", 9, params)) ==
	    NULL)
		return -1;
	if (db_rows(res) == 0) {
		return fail_reference(r, "unit_id",
		    "unit_id names no active unit below yours");
	}
	return reply_created(r, res, "/api/v1/users", "user");
}

struct change {
	const char *v[nitems(fields)];
	const char *version;
};

static int
update_tx(struct req *r, void *arg)
{
	const struct principal *p = r->principal;
	struct change *c = arg;
	const char *params[11], *lockp[2] = { p->unit_id, r->param[0] };
	const char *up[2] = { p->unit_id, c->v[F_UNIT] }, *hash = NULL;
	struct dbres *cur, *res;
	json_t *before;

	if ((cur = db_exec(r->arena, &r->fail, "users_lock", 2, lockp)) ==
		NULL ||
	    check_locked(r, cur, c->version, "user") == -1)
		return -1;
	if (c->v[F_UNIT] != NULL) {
		if ((res = db_exec(r->arena, &r->fail, "users_unit_path", 2,
			 up)) == NULL)
			return -1;
		if (db_rows(res) == 0) {
			return fail_reference(r, "unit_id",
			    "unit_id names no active unit below yours");
		}
	}
	if (strcmp(db_get(cur, 0, 3), "t") != 0)
		return req_fail(r, 403, "forbidden",
		    "the users of your own unit "
		    "are managed from the unit above; change your own password "
		    "with POST /api/v1/me/password");
	if (c->v[F_PASSWORD] != NULL) {
		before = req_own(r, json_loads(db_get(cur, 0, 1), 0, NULL));
		hash = user_password_hash(r, "password", c->v[F_PASSWORD],
		    json_string_value(json_object_get(before, "username")));
		if (hash == NULL)
			return -1;
	}
	params[0] = r->param[0];
	params[1] = c->v[F_FULL_NAME];
	params[2] = c->v[F_ROLE];
	params[3] = c->v[F_UNIT];
	params[4] = c->v[F_ACTIVE];
	params[5] = hash;
	params[6] = p->id;
	params[7] = actor_kind(r);
	params[8] = db_get(cur, 0, 2);
	params[9] = db_get(cur, 0, 1);
	params[10] = r->id;
	if ((res = db_exec(r->arena, &r->fail, "users_update", 11, params)) ==
	    NULL)
		return -1;
	auth_forget_user(r->param[0]);
	return reply_entity(r, res, 200, "user");
}

int
users_update(struct req *r)
{
	struct change c;
	json_t *body;

	if ((c.version = if_match(r)) == NULL ||
	    (body = req_body_object(r)) == NULL ||
	    validate(r, body, fields, c.v, 1) == -1 ||
	    check_grant(r, c.v[F_ROLE]) == -1)
		return -1;
	return run_tx(r, update_tx, &c);
}

int
users_add_cli(const char *unit_path, const char *username,
    const char *full_name, const char *role, const char *password)
{
	struct arena *a = arena_new();
	struct failure f = { 0 };
	const char *params[5], *why;
	struct dbres *res;
	char hash[128];
	int rc = -1;

	if (role_parse(role) == ROLE_NONE) {
		log_error("user add: unknown role %s", role);
		goto out;
	}
	if ((why = password_weakness(password, username)) != NULL) {
		log_error("user add: the password %s", why);
		goto out;
	}
	if (password_hash(password, hash, sizeof(hash)) == -1)
		goto out;
	params[0] = unit_path;
	params[1] = username;
	params[2] = full_name;
	params[3] = role;
	params[4] = hash;
	if ((res = db_exec(a, &f, "users_add_cli", 5, params)) == NULL) {
		log_error("user add: %s", failure_text(a, &f));
		goto out;
	}
	if (db_rows(res) == 0) {
		log_error(
		    "user add: no unit at %s (codes from the root, joined "
		    "by /)",
		    unit_path);
		goto out;
	}
	printf("%s\n", db_get(res, 0, 0));
	rc = 0;
out:
	arena_free(a);
	return rc;
}
