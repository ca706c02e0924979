/* The router: literal and typed segments, 405 detection, templates, table checks. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http/http.h"

static int
h(struct req *r)
{
	(void)r;
	return 0;
}

static const struct route table[] = {
	{ M_GET, "/healthz", h, "h", 0, 0, 0 },
	{ M_GET, "/api/v1/plans", h, "h", 1, 0, 0 },
	{ M_POST, "/api/v1/plans", h, "h", 1, 65536, 0 },
	{ M_GET, "/api/v1/plans/{id:uuid}", h, "h", 1, 0, 0 },
	{ M_PATCH, "/api/v1/plans/{id:uuid}", h, "h", 1, 65536, 0 },
	{ M_GET, "/api/v1/plans/{id:uuid}/tasks/{n:int}", h, "h", 1, 0, 0 },
	{ M_GET, "/api/v1/units/{code}", h, "h", 1, 0, 0 },
};
#define UUID "0f9c2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6"

static int
m(enum method method, const char *path, const char **params, unsigned *allow)
{
	return router_match(table, nitems(table), method, path, NULL, params,
	    allow);
}

static void
test_literal_and_typed(void **state)
{
	struct arena *a = arena_new();
	const char *p[ROUTE_MAX_PARAMS] = { 0 };
	unsigned allow;
	int i;

	(void)state;
	assert_int_equal(m(M_GET, "/healthz", NULL, &allow), 0);
	assert_int_equal(m(M_POST, "/api/v1/plans", NULL, &allow), 2);
	i = router_match(table, nitems(table), M_GET,
	    "/api/v1/plans/" UUID "/tasks/11", a, p, &allow);
	assert_int_equal(i, 5);
	assert_string_equal(p[0], UUID);
	assert_string_equal(p[1], "11");
	i = router_match(table, nitems(table), M_GET, "/api/v1/units/vh-xh", a,
	    p, &allow);
	assert_int_equal(i, 6);
	assert_string_equal(p[0], "vh-xh");
	arena_free(a);
}

static void
test_type_mismatch_is_not_found(void **state)
{
	unsigned allow;
	int i;

	(void)state;
	assert_int_equal(m(M_GET, "/api/v1/plans/not-a-uuid", NULL, &allow), -1);
	assert_int_equal(allow, 0);
	i = m(M_GET, "/api/v1/plans/" UUID "/tasks/x1", NULL, &allow);
	assert_int_equal(i, -1);
	i = m(M_GET, "/api/v1/plans/" UUID "/tasks/", NULL, &allow);
	assert_int_equal(i, -1);
	assert_int_equal(m(M_GET, "/api/v1/units/", NULL, &allow), -1);
	assert_int_equal(m(M_GET, "/api/v1/units/a/b", NULL, &allow), -1);
	assert_int_equal(m(M_GET, "/healthz/", NULL, &allow), -1);
	assert_int_equal(m(M_GET, "/health", NULL, &allow), -1);
	assert_int_equal(m(M_GET, "", NULL, &allow), -1);
}

static void
test_wrong_method_reports_allowed(void **state)
{
	unsigned allow;

	(void)state;
	assert_int_equal(m(M_DELETE, "/api/v1/plans/" UUID, NULL, &allow), -1);
	assert_int_equal(allow, M_GET | M_PATCH);
	assert_int_equal(m(M_POST, "/healthz", NULL, &allow), -1);
	assert_int_equal(allow, M_GET);
}

static void
test_template_and_methods(void **state)
{
	struct arena *a = arena_new();
	char *t;

	(void)state;
	t = router_template(a, "/api/v1/plans/{id:uuid}/tasks/{n:int}");
	assert_string_equal(t, "/api/v1/plans/{id}/tasks/{n}");
	assert_string_equal(router_template(a, "/a/{code}/b:c"),
	    "/a/{code}/b:c");
	assert_int_equal(method_parse("HEAD"), M_GET);
	assert_int_equal(method_parse("PATCH"), M_PATCH);
	assert_int_equal(method_parse("TRACE"), 0);
	assert_string_equal(method_name(M_DELETE), "DELETE");
	arena_free(a);
}

static void
test_check_rejects_bad_tables(void **state)
{
	const struct route bad1[] = { { M_GET, "nope", h, "h", 0, 0, 0 } };
	const struct route bad2[] = { { M_GET, "/a/{}", h, "h", 0, 0, 0 } };
	const struct route bad3[] = { { M_GET, "/a/{x", h, "h", 0, 0, 0 } };

	(void)state;
	assert_int_equal(router_check(table, nitems(table)), 0);
	assert_int_equal(router_check(bad1, 1), -1);
	assert_int_equal(router_check(bad2, 1), -1);
	assert_int_equal(router_check(bad3, 1), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_literal_and_typed),
		cmocka_unit_test(test_type_mismatch_is_not_found),
		cmocka_unit_test(test_wrong_method_reports_allowed),
		cmocka_unit_test(test_template_and_methods),
		cmocka_unit_test(test_check_rejects_bad_tables),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
