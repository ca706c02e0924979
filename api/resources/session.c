/*
 * Signing in: username and password for an access token and a refresh
 * token; refresh rotates (a used refresh token presented again revokes its
 * whole family, since one of the two holders is a thief); revoke ends a
 * family. Sign-in attempts are counted in PostgreSQL (so every API node sees
 * the same counts) per username and address, username and address; a window
 * of DANVAN_LOGIN_WINDOW seconds bounds how long anyone waits.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resources/resources.h"

/* clang-format off */
#define REFRESH_PREFIX "dvr_"

/*
 * Four counters per sign-in, each over the last DANVAN_LOGIN_WINDOW seconds
 * with L = DANVAN_LOGIN_LIMIT: failures of this username from this address
 * (L: a lock-out keyed on the pair, so a stranger cannot lock a user out
 * everywhere), failures from this address (4 L: guessing many usernames),
 * attempts on this username from anywhere (4 L: bounds the hashing one
 * account can cause, successful or not, and guessing from many addresses)
 * and attempts from this address (12 L: a village office behind one NAT
 * address signs in many people).
 */
static const char throttled[] =
    "SELECT ceil(extract(epoch FROM max(window_start) - now()) + $6)::int"
    " FROM login_failures WHERE window_start > now() - $6 * interval '1 second'"
    " AND ((key = $1 AND failures >= $5) OR (key = $2 AND failures >= 4 * $5)"
    "  OR (key = $3 AND failures >= 4 * $5)"
    "  OR (key = $4 AND failures >= 12 * $5))";
/* A user of a deactivated unit counts as deactivated. */
static const char user_by_name[] =
    "SELECT u.id, u.password_hash, u.active AND unit_active(n.path), u.role,"
    " u.unit_id, u.token_generation FROM users u"
    " JOIN units n ON n.id = u.unit_id WHERE u.username = $1";
/* Counts one more in two counters, starting a new window when the old one
 * is over. */
static const char count[] =
    "WITH old AS (DELETE FROM login_failures"
    "  WHERE window_start < now() - interval '1 day')"
    "INSERT INTO login_failures (key, window_start, failures)"
    " SELECT k, now(), 1 FROM unnest(ARRAY[$1::text, $2::text]) k"
    " ON CONFLICT (key) DO UPDATE SET"
    " failures = CASE WHEN login_failures.window_start >"
    "  now() - $3 * interval '1 second' THEN login_failures.failures + 1"
    "  ELSE 1 END,"
    " window_start = CASE WHEN login_failures.window_start >"
    "  now() - $3 * interval '1 second' THEN login_failures.window_start"
    "  ELSE now() END";
static const char succeeded[] =
    "DELETE FROM login_failures WHERE key = $1";
static const char rehash[] =
    "UPDATE users SET password_hash = $2 WHERE id = $1";
static const char issue_refresh[] =
    "INSERT INTO refresh_tokens (user_id, family_id, token_hash, expires_at)"
    " VALUES ($1, coalesce($2::uuid, gen_random_uuid()), $3,"
    " now() + $4 * interval '1 day')";
/* Uses a live refresh token once; the user and its unit must still be
 * active. */
static const char use_refresh[] =
    "WITH t AS (UPDATE refresh_tokens SET used_at = now()"
    "  WHERE token_hash = $1 AND used_at IS NULL AND revoked_at IS NULL"
    "  AND expires_at > now() RETURNING user_id, family_id)"
    "SELECT t.user_id, t.family_id, u.role, u.unit_id, u.token_generation"
    " FROM t JOIN users u ON u.id = t.user_id AND u.active"
    " JOIN units n ON n.id = u.unit_id AND unit_active(n.path)";
static const char revoke_family[] =
    "UPDATE refresh_tokens SET revoked_at = now() WHERE revoked_at IS NULL"
    " AND family_id = (SELECT family_id FROM refresh_tokens"
    "  WHERE token_hash = $1)";

static const char own_password[] =
    "SELECT u.password_hash, u.username FROM users u WHERE u.id = $1";
/* A new password ends every older session: its generation rises and its
 * refresh tokens are revoked. */
static const char set_password[] =
    "WITH upd AS (UPDATE users SET password_hash = $2,"
    "  token_generation = token_generation + 1, version = version + 1,"
    "  updated_at = now() WHERE id = $1 RETURNING *),"
    " tok AS (UPDATE refresh_tokens SET revoked_at = now()"
    "  WHERE user_id = $1 AND revoked_at IS NULL)"
    "SELECT upd.id FROM upd JOIN units n ON n.id = upd.unit_id,"
    " audit_event(upd.id, 'user', 'update_password', 'user', upd.id, n.path,"
    "  NULL, to_jsonb(upd) - 'password_hash', $3)";
/* clang-format on */

const struct db_stmt session_stmts[] = {
	{ "session_own_password", own_password },
	{ "session_set_password", set_password },
	{ "session_throttled", throttled },
	{ "session_user", user_by_name },
	{ "session_count", count },
	{ "session_succeeded", succeeded },
	{ "session_rehash", rehash },
	{ "session_issue_refresh", issue_refresh },
	{ "session_use_refresh", use_refresh },
	{ "session_revoke_family", revoke_family },
	{ NULL, NULL },
};

/* A credential field: a string of 1..max bytes, else 400 (not 422: a
 * malformed credential is a malformed request). */
static const char *
credential(struct req *r, json_t *body, const char *name, size_t max)
{
	json_t *v = json_object_get(body, name);

	if (!json_is_string(v) || json_string_length(v) == 0 ||
	    json_string_length(v) > max) {
		req_field_error(r, name, "invalid",
		    "%s must be a string of 1 to "
		    "%zu bytes",
		    name, max);
		req_fail(r, 400, "invalid_request",
		    "the credentials are "
		    "malformed");
		return NULL;
	}
	return json_string_value(v);
}

/* Replies with a new access token and a new refresh token of family
 * (NULL: a new family). */
static int
issue(struct req *r, const char *user_id, const char *role, const char *unit_id,
    const char *generation, const char *family)
{
	char refresh[96], hash[65], days[16];
	const char *params[4] = { user_id, family, hash, days };
	int64_t expires_in;
	char *access;

	secret_new(REFRESH_PREFIX, refresh, sizeof(refresh), hash);
	snprintf(days, sizeof(days), "%d", cfg.refresh_ttl_days);
	if (db_exec(r->arena, &r->fail, "session_issue_refresh", 4, params) ==
	    NULL)
		return -1;
	access = token_issue(r->arena, user_id, role, unit_id,
	    strtol(generation, NULL, 10), &expires_in);
	req_header_add(r, "Pragma", "no-cache");
	return req_reply_json(r, 200,
	    json_pack("{s:s, s:s, s:I, s:s, s:I}", "access_token", access,
		"token_type", "Bearer", "expires_in", (json_int_t)expires_in,
		"refresh_token", refresh, "refresh_expires_in",
		(json_int_t)cfg.refresh_ttl_days * 86400));
}

/* The sign-in counters of one username from one address. */
struct attempt {
	const char *pair, *addr_fails, *user_tries, *addr_tries;
	char window[16], limit[16];
};

/* Counts one more in counters k1 and k2; -1 when that cannot be recorded. */
static int
attempt_count(struct req *r, const struct attempt *t, const char *k1,
    const char *k2)
{
	const char *params[3] = { k1, k2, t->window };

	return db_exec(r->arena, &r->fail, "session_count", 3, params) == NULL ?
	    -1 :
	    0;
}

/* Whether addr is one of the comma-separated addresses of list. */
static int
listed(const char *list, const char *addr)
{
	size_t n = strlen(addr), len;

	for (; list != NULL && *list != '\0'; list += len + (list[len] == ',')) {
		len = strcspn(list, ",");
		if (len == n && strncmp(list, addr, n) == 0)
			return 1;
	}
	return 0;
}

/* The address attempts are counted for: the peer's, or with
 * DANVAN_TRUST_PROXY=1 and a peer in DANVAN_PROXY_ADDRESSES (nginx) the
 * X-Real-IP it sets. A client that reaches danvan directly cannot pick its
 * address, nor can a header with anything but an address's characters. */
static void
client_addr(struct req *r, char *buf, size_t cap)
{
	const char *real = req_header(r, "X-Real-IP");
	size_t n;

	req_client_addr(r, buf, cap);
	if (!cfg.trust_proxy || real == NULL ||
	    !listed(cfg.proxy_addresses, buf))
		return;
	n = strlen(real);
	if (n == 0 || n >= cap || strspn(real, "0123456789abcdefABCDEF.:") != n)
		return;
	memcpy(buf, real, n + 1);
}

/* Names the counters for username (lower-cased), answers 429 while one is
 * over its limit, else counts the attempt. */
static int
attempt_begin(struct req *r, struct attempt *t, const char *lower)
{
	const char *params[6];
	struct dbres *res;
	char addr[64];

	client_addr(r, addr, sizeof(addr));
	t->pair = arena_printf(r->arena, "fail:%s@%s", lower, addr);
	t->addr_fails = arena_printf(r->arena, "fail:%s", addr);
	t->user_tries = arena_printf(r->arena, "try:%s", lower);
	t->addr_tries = arena_printf(r->arena, "try:%s", addr);
	snprintf(t->window, sizeof(t->window), "%d", cfg.login_window);
	snprintf(t->limit, sizeof(t->limit), "%d", cfg.login_limit);
	params[0] = t->pair;
	params[1] = t->addr_fails;
	params[2] = t->user_tries;
	params[3] = t->addr_tries;
	params[4] = t->limit;
	params[5] = t->window;
	if ((res = db_exec(r->arena, &r->fail, "session_throttled", 6,
		 params)) == NULL)
		return -1;
	if (db_get(res, 0, 0) != NULL) {
		req_header_add(r, "Retry-After", db_get(res, 0, 0));
		return req_fail(r, 429, "too_many_attempts",
		    "too many sign-in attempts; try again later");
	}
	return attempt_count(r, t, t->user_tries, t->addr_tries);
}

/* Counts a failed attempt; -1 only when that cannot be recorded. */
static int
attempt_failed(struct req *r, const struct attempt *t)
{
	return attempt_count(r, t, t->pair, t->addr_fails);
}

int
auth_token(struct req *r)
{
	const char *username, *password, *hash = NULL, *params[4];
	char *lower, *p;
	struct attempt t;
	struct dbres *user;
	int ok, active = 0, rehash_needed;
	json_t *body;

	if ((body = req_body_object(r)) == NULL ||
	    (username = credential(r, body, "username", 64)) == NULL ||
	    (password = credential(r, body, "password", PASSWORD_MAX_BYTES)) ==
		NULL)
		return -1;
	lower = arena_strdup(r->arena, username);
	for (p = lower; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	if (attempt_begin(r, &t, lower) == -1)
		return -1;
	params[0] = lower;
	if ((user = db_exec(r->arena, &r->fail, "session_user", 1, params)) ==
	    NULL)
		return -1;
	if (db_rows(user) == 1) {
		hash = db_get(user, 0, 1);
		active = strcmp(db_get(user, 0, 2), "t") == 0;
	}
	/* Unknown, wrong and deactivated all take one hash and one answer. */
	ok = password_verify(hash, password, &rehash_needed) && active;
	if (!ok) {
		if (attempt_failed(r, &t) == -1)
			return -1;
		return req_fail(r, 401, "invalid_grant",
		    "the username or password is wrong");
	}
	params[0] = t.pair;
	if (db_exec(r->arena, &r->fail, "session_succeeded", 1, params) == NULL)
		return -1;
	if (rehash_needed) {
		char *fresh = arena_alloc(r->arena, 128);

		params[0] = db_get(user, 0, 0);
		params[1] = fresh;
		if (password_hash(password, fresh, 128) == 0 &&
		    db_exec(r->arena, &r->fail, "session_rehash", 2, params) ==
			NULL)
			return -1;
	}
	return issue(r, db_get(user, 0, 0), db_get(user, 0, 3),
	    db_get(user, 0, 4), db_get(user, 0, 5), NULL);
}

static int
refresh_tx(struct req *r, void *arg)
{
	const char *hash = arg, *params[1] = { hash };
	struct dbres *res;

	if ((res = db_exec(r->arena, &r->fail, "session_use_refresh", 1,
		 params)) == NULL)
		return -1;
	if (db_rows(res) == 0)
		return req_fail(r, 401, "invalid_grant",
		    "the refresh token is unknown, used, expired or revoked");
	return issue(r, db_get(res, 0, 0), db_get(res, 0, 2), db_get(res, 0, 3),
	    db_get(res, 0, 4), db_get(res, 0, 1));
}

int
auth_refresh(struct req *r)
{
	const char *token, *params[1];
	char hash[65];
	json_t *body;

	if ((body = req_body_object(r)) == NULL ||
	    (token = credential(r, body, "refresh_token", 128)) == NULL)
		return -1;
	secret_hash(token, hash);
	if (run_tx(r, refresh_tx, hash) == 0)
		return 0;
	if (r->fail.status != 401)
		return -1;
	/* A used or revoked token shown again: end the family it belongs to,
	 * outside the failed transaction so that it sticks. */
	params[0] = hash;
	db_exec(r->arena, &r->fail, "session_revoke_family", 1, params);
	return -1;
}

int
auth_revoke(struct req *r)
{
	const char *token, *params[1];
	char hash[65];
	json_t *body;

	if ((body = req_body_object(r)) == NULL ||
	    (token = credential(r, body, "refresh_token", 128)) == NULL)
		return -1;
	secret_hash(token, hash);
	params[0] = hash;
	if (db_exec(r->arena, &r->fail, "session_revoke_family", 1, params) ==
	    NULL)
		return -1;
	return req_reply(r, 204, NULL, "", 0);
}

int
me_password(struct req *r)
{
	const char *current, *fresh, *hash, *params[3];
	struct dbres *user;
	struct attempt t;
	json_t *body;
	int stale;

	if ((body = req_body_object(r)) == NULL ||
	    (current = credential(r, body, "current_password",
		 PASSWORD_MAX_BYTES)) == NULL ||
	    (fresh = credential(r, body, "new_password", PASSWORD_MAX_BYTES)) ==
		NULL)
		return -1;
	params[0] = r->principal->id;
	if ((user = db_exec(r->arena, &r->fail, "session_own_password", 1,
		 params)) == NULL)
		return -1;
	if (db_rows(user) == 0)
		return req_fail(r, 404, "not_found", "no such user");
	/* A stolen access token must not guess its way to the account: the
	 * same counters as signing in. */
	if (attempt_begin(r, &t, db_get(user, 0, 1)) == -1)
		return -1;
	if (!password_verify(db_get(user, 0, 0), current, &stale)) {
		if (attempt_failed(r, &t) == -1)
			return -1;
		req_field_error(r, "current_password", "wrong",
		    "current_password is not the account's password");
		return req_fail(r, 403, "wrong_password",
		    "the current password is wrong");
	}
	if ((hash = user_password_hash(r, "new_password", fresh,
		 db_get(user, 0, 1))) == NULL)
		return -1;
	params[1] = hash;
	params[2] = r->id;
	if (db_exec(r->arena, &r->fail, "session_set_password", 3, params) ==
	    NULL)
		return -1;
	auth_forget_user(r->principal->id);
	return req_reply(r, 204, NULL, "", 0);
}
