/* The CSV form of a table without a database: the byte order mark and
 * header, RFC 4180 quoting, CRLF, nulls, numbers and rates, the formula
 * guard; and the display width that sizes XLSX columns. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "resources/resources.h"

static const struct column cols[] = {
	{ "unit_name", COLUMN_TEXT },
	{ "expected", COLUMN_INTEGER },
	{ "mean_score", COLUMN_NUMBER },
	{ "reporting_rate", COLUMN_RATE },
};

/* The CSV of rows, written as JSON text. */
static char *
csv(struct arena *a, const char *rows_json, size_t *len)
{
	json_t *rows = json_loads(rows_json, 0, NULL);
	char *out;

	assert_non_null(rows);
	out = export_csv(a, rows, cols, nitems(cols), len);
	json_decref(rows);
	return out;
}

static void
test_header_and_bom(void **state)
{
	struct arena *a = arena_new();
	size_t len;
	char *s = csv(a, "[]", &len);

	(void)state;
	assert_string_equal(s,
	    "\xef\xbb\xbfunit_name,expected,mean_score,reporting_rate\r\n");
	assert_int_equal(len, strlen(s));
	arena_free(a);
}

static void
test_values_nulls_and_rates(void **state)
{
	struct arena *a = arena_new();
	size_t len;
	char *s = csv(a,
	    "[{\"unit_name\": \"Thôn Phú Lộc\", \"expected\": 12,"
	    "  \"mean_score\": 87.5, \"reporting_rate\": 0.875},"
	    " {\"unit_name\": null, \"expected\": 0, \"reporting_rate\": null},"
	    " {\"unit_name\": \"Xã\", \"expected\": 3, \"mean_score\": 90.0,"
	    "  \"reporting_rate\": 1}]",
	    &len);

	(void)state;
	assert_string_equal(s,
	    "\xef\xbb\xbfunit_name,expected,mean_score,reporting_rate\r\n"
	    "Thôn Phú Lộc,12,87.5,0.875\r\n"
	    ",0,,\r\n"
	    "Xã,3,90,1\r\n");
	arena_free(a);
}

static void
test_quoting(void **state)
{
	struct arena *a = arena_new();
	size_t len;
	char *s = csv(a,
	    "[{\"unit_name\": \"Ban \\\"Dân vận\\\", xã\"},"
	    " {\"unit_name\": \"hai\\r\\ndòng\"},"
	    " {\"unit_name\": \"=HYPERLINK(1)\"},"
	    " {\"unit_name\": \"-1, +2\"},"
	    " {\"unit_name\": \"@x\"},"
	    " {\"unit_name\": \"\"}]",
	    &len);

	(void)state;
	assert_string_equal(s,
	    "\xef\xbb\xbfunit_name,expected,mean_score,reporting_rate\r\n"
	    "\"Ban \"\"Dân vận\"\", xã\",,,\r\n"
	    "\"hai\r\ndòng\",,,\r\n"
	    "'=HYPERLINK(1),,,\r\n"
	    "\"'-1, +2\",,,\r\n"
	    "'@x,,,\r\n"
	    ",,,\r\n");
	arena_free(a);
}

static void
test_negative_numbers_unguarded(void **state)
{
	static const struct column one[] = { { "delta", COLUMN_NUMBER } };
	struct arena *a = arena_new();
	json_t *rows = json_loads("[{\"delta\": -2}, {\"delta\": -0.25}]", 0,
	    NULL);
	size_t len;

	(void)state;
	assert_string_equal(export_csv(a, rows, one, 1, &len),
	    "\xef\xbb\xbf"
	    "delta\r\n-2\r\n-0.25\r\n");
	json_decref(rows);
	arena_free(a);
}

static void
test_width(void **state)
{
	(void)state;
	assert_int_equal(export_width(""), 0);
	assert_int_equal(export_width("rank"), 4);
	/* Precomposed: one character each. */
	assert_int_equal(export_width("Văn phòng HĐND và UBND xã"), 25);
	/* Decomposed: e, circumflex, acute is one character. */
	assert_int_equal(export_width("e\xcc\x82\xcc\x81"), 1);
	assert_int_equal(export_width("Nguyễn"), 6);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_and_bom),
		cmocka_unit_test(test_values_nulls_and_rates),
		cmocka_unit_test(test_quoting),
		cmocka_unit_test(test_negative_numbers_unguarded),
		cmocka_unit_test(test_width),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
