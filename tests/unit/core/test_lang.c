/* The Vietnamese message table: each pair has the same conversions in the
 * same order (the one argument list formats both), and lookups by id. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"

/* The conversion specifications of fmt ("%s", "%.64s", "%lld"), in order,
 * joined into out; "%%" is no conversion. */
static void
conversions(const char *fmt, char *out, size_t cap)
{
	const char *p = fmt, *end;
	size_t n = 0;

	out[0] = '\0';
	while ((p = strchr(p, '%')) != NULL) {
		if (p[1] == '%') {
			p += 2;
			continue;
		}
		end = p + 1 + strspn(p + 1, "0123456789.-+ #lhzjt");
		assert_true(n + (size_t)(end - p) + 2 < cap);
		memcpy(out + n, p, (size_t)(end - p) + 1);
		n += (size_t)(end - p) + 1;
		out[n++] = ' ';
		out[n] = '\0';
		p = end + 1;
	}
}

static void
test_same_conversions(void **state)
{
	char en[256], vi[256];
	size_t i;

	(void)state;
	for (i = 0; lang_messages[i][0] != NULL; i++) {
		conversions(lang_messages[i][0], en, sizeof(en));
		conversions(lang_messages[i][1], vi, sizeof(vi));
		if (strcmp(en, vi) != 0)
			fail_msg("\"%s\": %s against %s", lang_messages[i][0],
			    en, vi);
		assert_string_not_equal(lang_messages[i][0],
		    lang_messages[i][1]);
	}
	assert_true(i > 50);
}

static void
test_lookup(void **state)
{
	(void)state;
	assert_string_equal(lang_vi("%s is required"), "cần có %s");
	assert_string_equal(lang_vi("no such plan"), "không có kế hoạch này");
	assert_null(lang_vi("no such thing at all"));
	assert_null(lang_vi(""));
}

static void
test_failure_in_both_languages(void **state)
{
	struct arena *a = arena_new();
	struct failure f = { .vi = 1 };

	(void)state;
	failure_field(&f, a, "title", "required", "%s is required", "title");
	failure_set(&f, a, 422, "invalid_body",
	    "the request body has invalid fields");
	assert_string_equal(f.detail, "the request body has invalid fields");
	assert_string_equal(f.detail_vi,
	    "nội dung yêu cầu có trường không hợp lệ");
	assert_string_equal(f.fields->message, "title is required");
	assert_string_equal(f.fields->message_vi, "cần có title");
	failure_clear(&f);
	assert_int_equal(f.vi, 1);
	/* English only, when Vietnamese was not asked for. */
	f.vi = 0;
	failure_set(&f, a, 404, "not_found", "no such plan");
	assert_null(f.detail_vi);
	arena_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_conversions),
		cmocka_unit_test(test_lookup),
		cmocka_unit_test(test_failure_in_both_languages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
