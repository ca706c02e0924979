/*
 * ES256 access tokens: a round trip with a key pair from files, and the
 * algorithm-confusion trap of libjwt 1.10 — a token signed HS256 with the
 * public key's PEM as the secret must not verify. The key pair is a test
 * key made for this file only.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <jwt.h>

#include "auth/auth.h"

static const char priv[] =
    "-----BEGIN EC PRIVATE KEY-----\n"
    "MHcCAQEEIEXgTjxFWsfA3Q2dj5+n3kU9AnvzTfjvlzyj8tpS2uF6oAoGCCqGSM49\n"
    "AwEHoUQDQgAE4Vl9wY5bxLSXtERqtSphsDkOlz1rIzZcn1+vsTQup6jbt8/970dr\n"
    "ctjz/HmY+HOgL+UmgrBqAiA0uOaA2IfjRg==\n"
    "-----END EC PRIVATE KEY-----\n";
static const char pub[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE4Vl9wY5bxLSXtERqtSphsDkOlz1r\n"
    "IzZcn1+vsTQup6jbt8/970drctjz/HmY+HOgL+UmgrBqAiA0uOaA2IfjRg==\n"
    "-----END PUBLIC KEY-----\n";

#define UNIT "5eed0000-0000-4000-8000-000000000010"
#define USER "3c6ac619-93a0-421c-bdcf-ff4963cac8a6"

static char dir[] = "/tmp/danvan-es256.XXXXXX";
static char priv_path[64], pub_path[64];

static void
write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void
test_round_trip(void **state)
{
	struct {
		struct arena *arena;
		struct failure fail;
	} r = { 0 };
	struct principal p;
	int64_t exp;
	char *t;

	(void)state;
	r.arena = arena_new();
	t = token_issue(r.arena, USER, "leader", UNIT, 0, &exp);
	assert_non_null(strstr(t, "."));
	assert_int_equal(token_verify(r.arena, &r.fail, t, &p), 0);
	assert_int_equal(p.role, ROLE_LEADER);
	assert_string_equal(p.unit_id, UNIT);
	arena_free(r.arena);
}

static void
test_hs256_with_public_key_is_refused(void **state)
{
	struct {
		struct arena *arena;
		struct failure fail;
	} r = { 0 };
	struct principal p;
	time_t now = time(NULL);
	jwt_t *jwt;
	char *s;
	int rc;

	(void)state;
	r.arena = arena_new();
	assert_int_equal(jwt_new(&jwt), 0);
	jwt_add_header(jwt, "kid", "k1");
	jwt_add_grant(jwt, "iss", "danvan");
	jwt_add_grant(jwt, "aud", "danvan-api");
	jwt_add_grant(jwt, "sub", USER);
	jwt_add_grant(jwt, "role", "admin");
	jwt_add_grant(jwt, "unit", UNIT);
	jwt_add_grant_int(jwt, "iat", now);
	jwt_add_grant_int(jwt, "exp", now + 60);
	rc = jwt_set_alg(jwt, JWT_ALG_HS256, (const unsigned char *)pub,
	    (int)strlen(pub));
	assert_int_equal(rc, 0);
	s = jwt_encode_str(jwt);
	assert_non_null(s);
	assert_int_equal(token_verify(r.arena, &r.fail, s, &p), -1);
	assert_int_equal(r.fail.status, 401);
	free(s);
	jwt_free(jwt);
	arena_free(r.arena);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_hs256_with_public_key_is_refused),
	};
	int rc;

	if (mkdtemp(dir) == NULL)
		return 1;
	snprintf(priv_path, sizeof(priv_path), "%s/key.pem", dir);
	snprintf(pub_path, sizeof(pub_path), "%s/pub.pem", dir);
	write_file(priv_path, priv);
	write_file(pub_path, pub);
	unsetenv("DANVAN_CONFIG");
	unsetenv("DANVAN_JWT_SECRET");
	unsetenv("DANVAN_JWT_SECRET_FILE");
	setenv("DANVAN_JWT_ALG", "ES256", 1);
	setenv("DANVAN_JWT_KID", "k1", 1);
	setenv("DANVAN_JWT_KEY_FILE", priv_path, 1);
	setenv("DANVAN_JWT_PUBLIC_KEY_FILE", pub_path, 1);
	if (config_load() == -1 || token_init() == -1)
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	unlink(priv_path);
	unlink(pub_path);
	rmdir(dir);
	return rc;
}
