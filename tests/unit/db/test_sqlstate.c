/* The SQLSTATE map: the classes the contract relies on. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "db/db.h"

static int
st(const char *s, const char **code, int *retry)
{
	return db_sqlstate_http(s, code, retry);
}

static void
test_map(void **state)
{
	const char *code;
	int retry;

	(void)state;
	assert_int_equal(st("23505", &code, &retry), 409);
	assert_string_equal(code, "conflict");
	assert_int_equal(retry, 0);
	assert_int_equal(st("23503", &code, &retry), 422);
	assert_int_equal(st("23514", &code, &retry), 422);
	assert_int_equal(st("23502", &code, &retry), 422);
	assert_int_equal(st("22P02", &code, &retry), 422);
	assert_int_equal(st("22012", &code, &retry), 422);
	assert_int_equal(st("40001", &code, &retry), 503);
	assert_int_equal(retry, 1);
	assert_int_equal(st("40P01", &code, &retry), 503);
	assert_int_equal(retry, 1);
	assert_int_equal(st("57014", &code, &retry), 503);
	assert_string_equal(code, "statement_timeout");
	assert_int_equal(retry, 0);
	assert_int_equal(st("08006", &code, &retry), 503);
	assert_string_equal(code, "database_unavailable");
	assert_int_equal(st("42P01", &code, &retry), 500);
	assert_string_equal(code, "internal");
	assert_int_equal(st(NULL, &code, &retry), 500);
	assert_int_equal(st("2", &code, &retry), 500);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
