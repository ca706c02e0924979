/*
 * Access tokens without a database: what token_issue makes, token_verify
 * accepts; and every defect it must refuse (alg none, another algorithm,
 * another key, kid, issuer or audience, expiry, not-before, size); what the
 * cache of verified tokens keeps, and when it lets go.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jwt.h>

#include "auth/auth.h"

#define SECRET "0123456789abcdef0123456789abcdef-test-secret"
#define UNIT "5eed0000-0000-4000-8000-000000000010"
#define USER "3c6ac619-93a0-421c-bdcf-ff4963cac8a6"

/* What a token check needs: an arena and a failure record. */
static struct {
	struct arena *arena;
	struct failure fail;
} r;

static int
setup(void **state)
{
	(void)state;
	memset(&r, 0, sizeof(r));
	r.arena = arena_new();
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	arena_free(r.arena);
	return 0;
}

/* Signs a token with chosen claims; alg JWT_ALG_NONE leaves it unsigned. */
static char *
forge(jwt_alg_t alg, const char *key, const char *kid, const char *iss,
    const char *aud, long exp_in, long nbf_in)
{
	time_t now = time(NULL);
	char *s, *copy;
	jwt_t *jwt;
	int rc;

	assert_int_equal(jwt_new(&jwt), 0);
	if (kid != NULL)
		jwt_add_header(jwt, "kid", kid);
	jwt_add_grant(jwt, "iss", iss);
	jwt_add_grant(jwt, "aud", aud);
	jwt_add_grant(jwt, "sub", USER);
	jwt_add_grant(jwt, "role", "admin");
	jwt_add_grant(jwt, "unit", UNIT);
	jwt_add_grant_int(jwt, "iat", now);
	jwt_add_grant_int(jwt, "nbf", now + nbf_in);
	jwt_add_grant_int(jwt, "exp", now + exp_in);
	rc = jwt_set_alg(jwt, alg, (const unsigned char *)key,
	    key ? (int)strlen(key) : 0);
	assert_int_equal(rc, 0);
	s = jwt_encode_str(jwt);
	assert_non_null(s);
	copy = arena_strdup(r.arena, s);
	free(s);
	jwt_free(jwt);
	return copy;
}

static void
expect_invalid(const char *token, int status)
{
	struct principal p;

	failure_clear(&r.fail);
	assert_int_equal(token_verify(r.arena, &r.fail, token, &p), -1);
	assert_int_equal(r.fail.status, status);
}

static void
test_round_trip(void **state)
{
	struct principal p;
	int64_t exp;
	char *t;

	(void)state;
	t = token_issue(r.arena, USER, "coordinator", UNIT, 3, &exp);
	assert_int_equal(exp, 900);
	assert_int_equal(token_verify(r.arena, &r.fail, t, &p), 0);
	assert_string_equal(p.id, USER);
	assert_string_equal(p.unit_id, UNIT);
	assert_int_equal(p.role, ROLE_COORDINATOR);
	assert_int_equal(p.service, 0);
	assert_int_equal(p.generation, 3);
}

static void
test_forged_good_token_verifies(void **state)
{
	struct principal p;
	char *t;

	(void)state;
	/* The forging helper itself makes valid tokens, so the refusals below
	 * come from the defect each one has. */
	t = forge(JWT_ALG_HS256, SECRET, "k1", "danvan", "danvan-api", 60, 0);
	assert_int_equal(token_verify(r.arena, &r.fail, t, &p), 0);
}

static void
test_refuses_defects(void **state)
{
	char *t, *big;

	(void)state;
	t = forge(JWT_ALG_NONE, NULL, "k1", "danvan", "danvan-api", 60, 0);
	expect_invalid(t, 401);
	t = forge(JWT_ALG_HS512, SECRET, "k1", "danvan", "danvan-api", 60, 0);
	expect_invalid(t, 401);
	t = forge(JWT_ALG_HS256, "another-secret-of-32-bytes-or-more!", "k1",
	    "danvan", "danvan-api", 60, 0);
	expect_invalid(t, 401);
	t = forge(JWT_ALG_HS256, SECRET, "k2", "danvan", "danvan-api", 60, 0);
	expect_invalid(t, 401);
	t = forge(JWT_ALG_HS256, SECRET, NULL, "danvan", "danvan-api", 60, 0);
	expect_invalid(t, 401);
	t = forge(JWT_ALG_HS256, SECRET, "k1", "evil", "danvan-api", 60, 0);
	expect_invalid(t, 401);
	t = forge(JWT_ALG_HS256, SECRET, "k1", "danvan", "other", 60, 0);
	expect_invalid(t, 401);
	t = forge(JWT_ALG_HS256, SECRET, "k1", "danvan", "danvan-api", -120,
	    -180);
	expect_invalid(t, 401);
	assert_non_null(strstr(r.fail.detail, "expired"));
	t = forge(JWT_ALG_HS256, SECRET, "k1", "danvan", "danvan-api", 600, 300);
	expect_invalid(t, 401);
	/* Within the leeway, a token just expired still passes. */
	failure_clear(&r.fail);
	t = forge(JWT_ALG_HS256, SECRET, "k1", "danvan", "danvan-api", -5, -60);
	{
		struct principal p;

		assert_int_equal(token_verify(r.arena, &r.fail, t, &p), 0);
	}
	expect_invalid("not.a.token", 401);
	expect_invalid("", 401);
	big = arena_alloc(r.arena, TOKEN_MAX_BYTES + 2);
	memset(big, 'a', TOKEN_MAX_BYTES + 1);
	big[TOKEN_MAX_BYTES + 1] = '\0';
	expect_invalid(big, 400);
	/* A signature flipped in its last character. */
	t = token_issue(r.arena, USER, "admin", UNIT, 0, &(int64_t){ 0 });
	t[strlen(t) - 2] = t[strlen(t) - 2] == 'A' ? 'B' : 'A';
	expect_invalid(t, 401);
}

/* The cache counters moved by: hits, misses, drops. */
static void
expect_cache(struct token_cache_stats before, long hits, long misses, long drops)
{
	struct token_cache_stats now = token_cache_stats();

	assert_int_equal(now.hits - before.hits, hits);
	assert_int_equal(now.misses - before.misses, misses);
	assert_int_equal(now.drops - before.drops, drops);
}

static void
test_cache(void **state)
{
	struct token_cache_stats st;
	struct principal p;
	char *t, *other;

	(void)state;
	t = token_issue(r.arena, USER, "officer", UNIT, 7, &(int64_t){ 0 });
	st = token_cache_stats();
	assert_int_equal(token_verify(r.arena, &r.fail, t, &p), 0);
	expect_cache(st, 0, 1, 0);
	memset(&p, 0, sizeof(p));
	assert_int_equal(token_verify(r.arena, &r.fail, t, &p), 0);
	expect_cache(st, 1, 1, 0);
	/* The cached claims are the token's. */
	assert_string_equal(p.id, USER);
	assert_string_equal(p.unit_id, UNIT);
	assert_int_equal(p.role, ROLE_OFFICER);
	assert_int_equal(p.generation, 7);

	/* Keyed by the whole token: one character off is verified (and
	 * refused), never taken for the cached one. */
	other = arena_strdup(r.arena, t);
	other[strlen(other) - 2] = other[strlen(other) - 2] == 'A' ? 'B' : 'A';
	st = token_cache_stats();
	expect_invalid(other, 401);
	expect_cache(st, 0, 1, 0);
	expect_invalid(other, 401);
	expect_cache(st, 0, 2, 0);

	/* An account changed (auth_forget_user calls this): every cache is
	 * emptied, and the token is verified again. */
	st = token_cache_stats();
	token_cache_drop();
	assert_int_equal(token_verify(r.arena, &r.fail, t, &p), 0);
	expect_cache(st, 0, 1, 1);
	assert_int_equal(token_verify(r.arena, &r.fail, t, &p), 0);
	expect_cache(st, 1, 1, 1);
	/* A token the account check refused is forgotten. */
	token_cache_forget(t);
	assert_int_equal(token_verify(r.arena, &r.fail, t, &p), 0);
	expect_cache(st, 1, 2, 1);
}

static void
test_cache_ends_at_exp(void **state)
{
	struct token_cache_stats st;
	struct principal p;
	int leeway = cfg.jwt_leeway;
	time_t until;
	char *t;

	(void)state;
	cfg.jwt_leeway = 0;
	t = forge(JWT_ALG_HS256, SECRET, "k1", "danvan", "danvan-api", 1, 0);
	until = time(NULL) + 1;
	st = token_cache_stats();
	assert_int_equal(token_verify(r.arena, &r.fail, t, &p), 0);
	assert_int_equal(token_verify(r.arena, &r.fail, t, &p), 0);
	expect_cache(st, 1, 1, 0);
	while (time(NULL) <= until)
		usleep(50000);
	/* Past its exp the cached token is not served: verified, refused. */
	expect_invalid(t, 401);
	assert_non_null(strstr(r.fail.detail, "expired"));
	expect_cache(st, 1, 2, 0);
	cfg.jwt_leeway = leeway;
}

#define PREVIOUS "a-retired-secret-still-accepted-for-rotation"

static void
test_rotation(void **state)
{
	struct principal p;
	char *t;

	(void)state;
	/* A token from before the rotation: the retired key, its own kid. */
	t = forge(JWT_ALG_HS256, PREVIOUS, "k0", "danvan", "danvan-api", 60, 0);
	assert_int_equal(token_verify(r.arena, &r.fail, t, &p), 0);
	/* The kid decides the key: each kid with the other key fails. */
	t = forge(JWT_ALG_HS256, SECRET, "k0", "danvan", "danvan-api", 60, 0);
	expect_invalid(t, 401);
	t = forge(JWT_ALG_HS256, PREVIOUS, "k1", "danvan", "danvan-api", 60, 0);
	expect_invalid(t, 401);
}

static void
test_secrets(void **state)
{
	char a[96], b[96], ha[65], hb[65], h2[65];

	(void)state;
	secret_new("dvk_", a, sizeof(a), ha);
	secret_new("dvk_", b, sizeof(b), hb);
	assert_int_equal(strncmp(a, "dvk_", 4), 0);
	assert_int_equal(strlen(a), 4 + 43);
	assert_string_not_equal(a, b);
	assert_string_not_equal(ha, hb);
	secret_hash(a, h2);
	assert_string_equal(ha, h2);
	secret_hash("abc", h2);
	assert_string_equal(h2,
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_forged_good_token_verifies,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_refuses_defects, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_rotation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_secrets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cache_ends_at_exp, setup,
		    teardown),
	};
	char previous[] = "/tmp/danvan-previous-key.XXXXXX";
	int fd, rc;

	unsetenv("DANVAN_CONFIG");
	setenv("DANVAN_JWT_SECRET", SECRET, 1);
	setenv("DANVAN_JWT_KID", "k1", 1);
	unsetenv("DANVAN_JWT_ALG");
	unsetenv("DANVAN_JWT_SECRET_FILE");
	/* The retired key, in a file as an operator would keep it. */
	if ((fd = mkstemp(previous)) == -1 ||
	    write(fd, PREVIOUS "\n", sizeof(PREVIOUS)) !=
		(ssize_t)sizeof(PREVIOUS))
		return 1;
	close(fd);
	setenv("DANVAN_JWT_PREVIOUS_KID", "k0", 1);
	setenv("DANVAN_JWT_PREVIOUS_KEY_FILE", previous, 1);
	if (config_load() == -1 || token_init() == -1)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(previous);
	return rc;
}
