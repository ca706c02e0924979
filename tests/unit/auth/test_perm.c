/* The role table and password rules (no database, no hashing). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "auth/auth.h"

static void
test_roles(void **state)
{
	(void)state;
	assert_true(perm_allows(ROLE_ADMIN, PERM_UNIT_WRITE));
	assert_false(perm_allows(ROLE_LEADER, PERM_UNIT_WRITE));
	assert_false(perm_allows(ROLE_OFFICER, PERM_USER_READ));
	assert_true(perm_allows(ROLE_COORDINATOR, PERM_USER_READ));
	assert_false(perm_allows(ROLE_COORDINATOR, PERM_USER_WRITE));
	assert_true(perm_allows(ROLE_SERVICE, PERM_UNIT_READ));
	assert_false(perm_allows(ROLE_SERVICE, PERM_USER_SELF));
	assert_false(perm_allows(ROLE_SERVICE, PERM_UNIT_WRITE));
	assert_true(perm_allows(ROLE_LEADER, PERM_AUDIT_READ));
	assert_false(perm_allows(ROLE_INSPECTOR, PERM_AUDIT_READ));
	assert_false(perm_allows(ROLE_NONE, PERM_SIGNED_IN));
	assert_true(perm_allows(ROLE_NONE, PERM_PUBLIC));
	assert_true(perm_allows(ROLE_INSPECTOR, PERM_INSPECT));
	assert_false(perm_allows(ROLE_OFFICER, PERM_INSPECT));
	assert_false(perm_allows(ROLE_SERVICE, PERM_INSPECT));
	assert_true(perm_allows(ROLE_LEADER, PERM_FINALIZE));
	assert_false(perm_allows(ROLE_COORDINATOR, PERM_FINALIZE));
	assert_false(perm_allows(ROLE_ADMIN, PERM_COUNT));
	assert_int_equal(role_parse("officer"), ROLE_OFFICER);
	assert_int_equal(role_parse("service"), ROLE_NONE);
	assert_int_equal(role_parse("root"), ROLE_NONE);
	assert_int_equal(role_parse(NULL), ROLE_NONE);
	assert_string_equal(role_name(ROLE_VIEWER), "viewer");
	assert_string_equal(role_name(ROLE_ADMIN), "admin");
	assert_string_equal(role_name(ROLE_SERVICE), "service");
	assert_string_equal(role_name(ROLE_NONE), "none");
	assert_int_equal(role_parse("admin"), ROLE_ADMIN);
	assert_int_equal(role_parse("viewer"), ROLE_VIEWER);
}

static void
test_permission_names(void **state)
{
	int p;

	(void)state;
	assert_string_equal(perm_name(PERM_PUBLIC), "public");
	assert_string_equal(perm_name(PERM_PLAN_WRITE), "plan_write");
	assert_string_equal(perm_name(PERM_COUNT), "unknown");
	for (p = 0; p < PERM_COUNT; p++)
		assert_string_not_equal(perm_name((enum perm)p), "unknown");
}

static void
test_password_rules(void **state)
{
	(void)state;
	assert_null(password_weakness("Cay-lua-Binh-Chuong-2026", "thon1"));
	assert_non_null(password_weakness("short", "x"));
	/* Ten characters but twenty bytes: long enough. */
	assert_null(password_weakness("ĐđĐđĐđĐđĐv", "x"));
	assert_non_null(password_weakness("Password123", "x"));
	assert_non_null(password_weakness("matkhau123", "x"));
	assert_non_null(password_weakness("aaaaaaaaaaaa", "x"));
	assert_non_null(password_weakness("my-vhxh-password-9", "vhxh"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_roles),
		cmocka_unit_test(test_permission_names),
		cmocka_unit_test(test_password_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
