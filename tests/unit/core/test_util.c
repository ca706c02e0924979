/* The small shared helpers: counting the characters of UTF-8 text. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"

static void
test_utf8_chars(void **state)
{
	(void)state;
	assert_int_equal(utf8_chars(""), 0);
	assert_int_equal(utf8_chars("abc"), 3);
	/* Two-byte (ì), three-byte (ư, ơ) and four-byte sequences. */
	assert_int_equal(utf8_chars("B\xc3\xacnh Ch\xc6\xb0\xc6\xa1ng"), 11);
	assert_int_equal(utf8_chars("\xf0\x9f\x98\x80!"), 2);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_utf8_chars),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
