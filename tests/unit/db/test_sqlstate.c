/* The SQLSTATE map: the classes the contract relies on, and the words
 * that say what a refusal means without the schema's names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

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
	/* A backend ended by another's crash, or by idle_session_timeout:
	 * the next connection works. */
	assert_int_equal(st("57P02", &code, &retry), 503);
	assert_string_equal(code, "database_unavailable");
	assert_int_equal(st("57P05", &code, &retry), 503);
	assert_string_equal(code, "database_unavailable");
	assert_int_equal(st("42P01", &code, &retry), 500);
	assert_string_equal(code, "internal");
	assert_int_equal(st(NULL, &code, &retry), 500);
	assert_int_equal(st("2", &code, &retry), 500);
}

static void
test_detail(void **state)
{
	static const char *const states[] = { "23505", "23P01", "23503",
		"23514", "23502", "22P02", "40001", "42P01", NULL };
	size_t i;

	(void)state;
	assert_string_equal(db_sqlstate_detail("23505"),
	    "another record already holds a value that must be unique");
	assert_string_equal(db_sqlstate_detail("23503"),
	    "a value names something that does not exist");
	assert_string_equal(db_sqlstate_detail("22P02"),
	    "the database refused a value");
	assert_string_equal(db_sqlstate_detail("57014"),
	    "the database could not answer");
	assert_string_equal(db_sqlstate_detail(NULL),
	    "the database could not answer");
	for (i = 0; states[i] != NULL; i++) {
		assert_null(strstr(db_sqlstate_detail(states[i]), "_"));
		assert_null(strstr(db_sqlstate_detail(states[i]), "rule"));
	}
}

static void
test_fkey_column(void **state)
{
	struct arena *a = arena_new();

	(void)state;
	assert_string_equal(db_fkey_column(a, "users_unit_id_fkey", "users"),
	    "unit_id");
	assert_string_equal(db_fkey_column(a, "milestone_units_unit_id_fkey",
				"milestone_units"),
	    "unit_id");
	assert_null(db_fkey_column(a, "users_username_key", "users"));
	assert_null(db_fkey_column(a, "users_fkey", "users"));
	assert_null(db_fkey_column(a, "usersx_unit_id_fkey", "users"));
	assert_null(db_fkey_column(a, "plans_parent_fkey", "tasks"));
	assert_null(db_fkey_column(a, NULL, "users"));
	assert_null(db_fkey_column(a, "users_unit_id_fkey", NULL));
	arena_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map),
		cmocka_unit_test(test_detail),
		cmocka_unit_test(test_fkey_column),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
