/*
 * Authentication of a request: "Authorization: Bearer <token>" carries either
 * an access token (a JWT) or a service-account key ("dvk_…"). A token stays
 * valid until it expires, except that the user's account is re-read at most
 * every DANVAN_USER_CHECK_INTERVAL seconds: a deactivated user (or one of a
 * deactivated unit), one whose role or unit changed, or whose password
 * changed since the token was issued, is refused from then on. The
 * signature and claims of a token are checked once per thread (token.c);
 * this check of the account runs on every request all the same, and a
 * change of an account here empties the threads' token caches.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/auth.h"
#include "db/db.h"

#define CACHE_SLOTS 1024
/* clang-format off */
#define KEY_PREFIX "dvk_"

/* Active means the user and its unit and every unit above it. */
static const char user_state[] =
    "SELECT u.active AND unit_active(n.path), u.role, u.unit_id,"
    " u.token_generation FROM users u JOIN units n ON n.id = u.unit_id"
    " WHERE u.id = $1";
/* Finds a live key; records its use at most once a minute. */
static const char service_key[] =
    "WITH s AS (SELECT id, unit_id, last_used_at FROM service_accounts"
    "  WHERE key_hash = $1 AND revoked_at IS NULL)"
    ", u AS (UPDATE service_accounts a SET last_used_at = now() FROM s"
    "  WHERE a.id = s.id AND (s.last_used_at IS NULL"
    "   OR s.last_used_at < now() - interval '1 minute'))"
    "SELECT id, unit_id FROM s";
/* clang-format on */

const struct db_stmt auth_stmts[] = {
	{ "auth_user_state", user_state },
	{ "auth_service_key", service_key },
	{ NULL, NULL },
};

/* The last known state of a user, to check tokens without a query each. */
static struct {
	pthread_mutex_t mu;
	struct slot {
		char id[40];
		char unit_id[40];
		enum role role;
		int active;
		long generation; /* tokens of another generation: refused */
		int64_t checked;
	} slot[CACHE_SLOTS];
} cache = { .mu = PTHREAD_MUTEX_INITIALIZER };

int
auth_init(void)
{
	if (password_init() == -1 || token_init() == -1)
		return -1;
	return 0;
}

void
auth_forget_user(const char *id)
{
	struct slot *s = &cache.slot[hash_fnv1a(id, strlen(id)) % CACHE_SLOTS];

	pthread_mutex_lock(&cache.mu);
	if (strcmp(s->id, id) == 0)
		s->checked = 0;
	pthread_mutex_unlock(&cache.mu);
	token_cache_drop();
}

void
auth_forget_all(void)
{
	size_t i;

	pthread_mutex_lock(&cache.mu);
	for (i = 0; i < CACHE_SLOTS; i++)
		cache.slot[i].checked = 0;
	pthread_mutex_unlock(&cache.mu);
	token_cache_drop();
}

/* 0 when the token's user is still active with the same role, unit and
 * credentials generation. */
static int
user_current(struct arena *a, struct failure *f, const struct principal *p)
{
	struct slot *s =
	    &cache.slot[hash_fnv1a(p->id, strlen(p->id)) % CACHE_SLOTS];
	struct slot now = { 0 };
	struct dbres *res;
	const char *params[1] = { p->id };
	int hit;

	pthread_mutex_lock(&cache.mu);
	hit = strcmp(s->id, p->id) == 0 && s->checked != 0 &&
	    mono_us() - s->checked < (int64_t)cfg.user_check_interval * 1000000;
	if (hit)
		now = *s;
	pthread_mutex_unlock(&cache.mu);
	if (!hit) {
		if ((res = db_exec(a, f, "auth_user_state", 1, params)) == NULL)
			return -1;
		snprintf(now.id, sizeof(now.id), "%s", p->id);
		if (db_rows(res) == 1) {
			now.active = strcmp(db_get(res, 0, 0), "t") == 0;
			now.role = role_parse(db_get(res, 0, 1));
			snprintf(now.unit_id, sizeof(now.unit_id), "%s",
			    db_get(res, 0, 2));
			now.generation = strtol(db_get(res, 0, 3), NULL, 10);
		}
		now.checked = mono_us();
		pthread_mutex_lock(&cache.mu);
		*s = now;
		pthread_mutex_unlock(&cache.mu);
	}
	if (!now.active || now.role != p->role ||
	    strcmp(now.unit_id, p->unit_id) != 0 ||
	    p->generation != now.generation)
		return auth_fail(a, f, "invalid_token",
		    "the account was deactivated or changed: sign in again");
	return 0;
}

static int
service_account(struct arena *a, struct failure *f, const char *key,
    struct principal *p)
{
	char hash[65];
	const char *params[1] = { hash };
	struct dbres *res;

	if (strlen(key) > 128)
		return auth_fail(a, f, "invalid_request", "the key is too long");
	secret_hash(key, hash);
	if ((res = db_exec(a, f, "auth_service_key", 1, params)) == NULL)
		return -1;
	if (db_rows(res) != 1)
		return auth_fail(a, f, "invalid_token",
		    "the key is unknown or revoked");
	memset(p, 0, sizeof(*p));
	snprintf(p->id, sizeof(p->id), "%s", db_get(res, 0, 0));
	snprintf(p->unit_id, sizeof(p->unit_id), "%s", db_get(res, 0, 1));
	p->role = ROLE_SERVICE;
	p->service = 1;
	return 0;
}

int
auth_authenticate(struct arena *a, struct failure *f, const char *h,
    const struct principal **out)
{
	struct principal *p;
	const char *cred;

	if (h == NULL) {
		if (f->status == 0)
			failure_header(f, "WWW-Authenticate",
			    "Bearer realm=\"danvan\"");
		return failure_set(f, a, 401, "unauthenticated",
		    "this operation needs an access token or service key");
	}
	if (strncasecmp(h, "Bearer ", 7) != 0 || h[7] == '\0')
		return auth_fail(a, f, "invalid_request",
		    "the Authorization header must be \"Bearer <token>\"");
	cred = h + 7;
	p = arena_zalloc(a, sizeof(*p));
	if (strncmp(cred, KEY_PREFIX, strlen(KEY_PREFIX)) == 0) {
		if (service_account(a, f, cred, p) == -1)
			return -1;
	} else if (token_verify(a, f, cred, p) == -1)
		return -1;
	else if (user_current(a, f, p) == -1) {
		/* The account changed: the token is not remembered either. */
		token_cache_forget(cred);
		return -1;
	}
	*out = p;
	return 0;
}
