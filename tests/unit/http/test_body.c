/* JSON bodies: syntax errors with position, duplicate keys, depth and length caps. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "http/http.h"

static struct req r;

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

static int
parse(const char *s)
{
	r.body = arena_strdup(r.arena, s);
	r.body_len = strlen(s);
	return body_parse_json(&r);
}

static void
test_valid(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"title\":\"Dân vận khéo\",\"n\":[1,2]}"), 0);
	assert_string_equal(json_string_value(json_object_get(r.json, "title")),
	    "Dân vận khéo");
	assert_non_null(req_body_object(&r));
}

static void
test_malformed_has_position(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"a\": 1,\n \"b\": }"), -1);
	assert_int_equal(r.fail.status, 400);
	assert_string_equal(r.fail.code, "malformed_json");
	assert_non_null(strstr(r.fail.detail, "line 2"));
	assert_non_null(strstr(r.fail.detail, "position"));
}

static void
test_rejects_duplicates_and_garbage(void **state)
{
	(void)state;
	assert_int_equal(parse("{\"a\":1,\"a\":2}"), -1);
	assert_string_equal(r.fail.code, "malformed_json");
	req_clear_failure(&r);
	assert_int_equal(parse("{} x"), -1);
	req_clear_failure(&r);
	assert_int_equal(parse("{\"a\":\"\\u0000\"}"), -1);
	req_clear_failure(&r);
	assert_int_equal(parse("\"\xff\xfe\""), -1);
	assert_string_equal(r.fail.code, "malformed_json");
}

static void
test_depth_cap(void **state)
{
	char deep[200];
	int i;

	(void)state;
	for (i = 0; i < cfg.max_json_depth; i++)
		deep[i] = '[';
	for (i = 0; i < cfg.max_json_depth; i++)
		deep[cfg.max_json_depth + i] = ']';
	deep[2 * cfg.max_json_depth] = '\0';
	assert_int_equal(parse(deep), 0);
	for (i = 0; i <= cfg.max_json_depth; i++)
		deep[i] = '[';
	for (i = 0; i <= cfg.max_json_depth; i++)
		deep[cfg.max_json_depth + 1 + i] = ']';
	deep[2 * (cfg.max_json_depth + 1)] = '\0';
	assert_int_equal(parse(deep), -1);
	assert_string_equal(r.fail.code, "json_too_deep");
}

static void
test_depth_beyond_parser_limit(void **state)
{
	char *deep = arena_alloc(r.arena, 10001);

	(void)state;
	memset(deep, '[', 5000);
	memset(deep + 5000, ']', 5000);
	deep[10000] = '\0';
	assert_int_equal(parse(deep), -1);
	assert_string_equal(r.fail.code, "json_too_deep");
}

static void
test_string_cap(void **state)
{
	size_t n = cfg.max_string_bytes + 1;
	char *s = arena_alloc(r.arena, n + 16);

	(void)state;
	memcpy(s, "{\"a\":\"", 6);
	memset(s + 6, 'x', n);
	memcpy(s + 6 + n, "\"}", 3);
	assert_int_equal(parse(s), -1);
	assert_string_equal(r.fail.code, "json_string_too_long");
	req_clear_failure(&r);
	/* The same length as a key. */
	memcpy(s, "{\"", 2);
	memset(s + 2, 'k', n);
	memcpy(s + 2 + n, "\":1}", 5);
	assert_int_equal(parse(s), -1);
	assert_string_equal(r.fail.code, "json_string_too_long");
}

static void
test_body_object_required(void **state)
{
	(void)state;
	assert_null(req_body_object(&r));
	assert_string_equal(r.fail.code, "body_required");
	req_clear_failure(&r);
	assert_int_equal(parse("[1]"), 0);
	assert_null(req_body_object(&r));
	assert_string_equal(r.fail.code, "body_not_object");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_valid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_has_position,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_rejects_duplicates_and_garbage,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_depth_cap, setup, teardown),
		cmocka_unit_test_setup_teardown(test_depth_beyond_parser_limit,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_string_cap, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_body_object_required,
		    setup, teardown),
	};

	unsetenv("DANVAN_CONFIG");
	unsetenv("DANVAN_MAX_JSON_DEPTH");
	unsetenv("DANVAN_MAX_STRING_BYTES");
	if (config_load() == -1)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
