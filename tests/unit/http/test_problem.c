/* Problem documents: shape, first failure wins, field errors, no leak of internals. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "http/http.h"

static json_t *
render(struct req *r)
{
	size_t len;
	char *s = problem_render(r, &len);
	json_t *v = json_loadb(s, len, 0, NULL);

	assert_non_null(v);
	assert_int_equal(strlen(s), len);
	return v;
}

static void
test_first_failure_wins(void **state)
{
	struct req r = { 0 };
	json_t *v;
	int rc;

	(void)state;
	r.arena = arena_new();
	snprintf(r.id, sizeof(r.id), "%s", "abc123");
	rc = req_fail(&r, 404, "plan_not_found", "plan %s does not exist", "x");
	assert_int_equal(rc, -1);
	assert_int_equal(req_fail(&r, 500, "internal", "later"), -1);
	v = render(&r);
	assert_string_equal(json_string_value(json_object_get(v, "type")),
	    "urn:danvan:problem:plan_not_found");
	assert_string_equal(json_string_value(json_object_get(v, "title")),
	    "Not Found");
	assert_int_equal(json_integer_value(json_object_get(v, "status")), 404);
	assert_string_equal(json_string_value(json_object_get(v, "detail")),
	    "plan x does not exist");
	assert_string_equal(json_string_value(json_object_get(v, "request_id")),
	    "abc123");
	assert_null(json_object_get(v, "errors"));
	json_decref(v);
	arena_free(r.arena);
}

static void
test_field_errors(void **state)
{
	struct req r = { 0 };
	json_t *v, *e, *f;

	(void)state;
	r.arena = arena_new();
	req_field_error(&r, "title", "required", "title is required");
	req_field_error(&r, "year", "type", "year must be an integer");
	req_fail(&r, 422, "invalid_body", "2 fields are invalid");
	v = render(&r);
	e = json_object_get(v, "errors");
	assert_int_equal(json_array_size(e), 2);
	f = json_array_get(e, 1);
	assert_string_equal(json_string_value(json_object_get(f, "field")),
	    "year");
	f = json_array_get(e, 0);
	assert_string_equal(json_string_value(json_object_get(f, "code")),
	    "required");
	json_decref(v);

	req_clear_failure(&r);
	assert_int_equal(r.fail.status, 0);
	req_fail(&r, 409, "conflict", "x");
	v = render(&r);
	assert_null(json_object_get(v, "errors"));
	assert_string_equal(json_string_value(json_object_get(v, "title")),
	    "Conflicts with stored data");
	json_decref(v);
	arena_free(r.arena);
}

static void
test_vietnamese(void **state)
{
	struct req r = { 0 };
	json_t *v, *e;

	(void)state;
	r.arena = arena_new();
	r.fail.vi = 1;
	req_field_error(&r, "title", "required", "%s is required", "title");
	req_field_error(&r, "x", "odd", "a message with no %s", "translation");
	req_fail(&r, 422, "invalid_body", "the request body has invalid fields");
	v = render(&r);
	assert_string_equal(json_string_value(json_object_get(v, "type")),
	    "urn:danvan:problem:invalid_body");
	assert_string_equal(json_string_value(json_object_get(v, "title")),
	    "Trường không hợp lệ");
	assert_string_equal(json_string_value(json_object_get(v, "detail")),
	    "nội dung yêu cầu có trường không hợp lệ");
	e = json_object_get(v, "errors");
	assert_string_equal(json_string_value(
				json_object_get(json_array_get(e, 0),
				    "message")),
	    "cần có title");
	assert_string_equal(json_string_value(
				json_object_get(json_array_get(e, 0), "code")),
	    "required");
	/* No Vietnamese form: the title, in Vietnamese, stands in. */
	assert_string_equal(json_string_value(
				json_object_get(json_array_get(e, 1),
				    "message")),
	    "Trường không hợp lệ");
	json_decref(v);
	arena_free(r.arena);
}

static void
test_titles(void **state)
{
	(void)state;
	assert_string_equal(status_title(413), "Content Too Large");
	assert_string_equal(status_title(431),
	    "Request Header Fields Too Large");
	assert_string_equal(status_title(418), "Client Error");
	assert_string_equal(status_title(599), "Server Error");
}

/* Found by tests/fuzz/fuzz_problem: a detail, a field name or a message
 * that is not UTF-8 (bytes a client sent, or a %.16s cut through a
 * character) made json_pack fail, and the renderer abort the server. */
static void
test_bytes_not_utf8(void **state)
{
	struct req r = { 0 };
	json_t *v, *e;

	(void)state;
	r.arena = arena_new();
	snprintf(r.id, sizeof(r.id), "%s", "abc123");
	req_field_error(&r, "f\xff", "type", "m\xc3");
	req_field_error(&r, "tên", "type", "phải là chuỗi");
	req_fail(&r, 405, "method_not_allowed", "method %.16s is not supported",
	    "ĐĐĐĐĐĐĐố");
	v = render(&r);
	assert_int_equal(json_integer_value(json_object_get(v, "status")), 405);
	assert_string_equal(json_string_value(json_object_get(v, "detail")),
	    "method ĐĐĐĐĐĐĐ?? is not supported");
	e = json_object_get(v, "errors");
	assert_int_equal(json_array_size(e), 2);
	assert_string_equal(json_string_value(
				json_object_get(json_array_get(e, 0), "field")),
	    "f?");
	assert_string_equal(json_string_value(
				json_object_get(json_array_get(e, 0),
				    "message")),
	    "m?");
	/* Well-formed text is kept as it is. */
	assert_string_equal(json_string_value(
				json_object_get(json_array_get(e, 1),
				    "message")),
	    "phải là chuỗi");
	json_decref(v);
	arena_free(r.arena);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_first_failure_wins),
		cmocka_unit_test(test_field_errors),
		cmocka_unit_test(test_vietnamese),
		cmocka_unit_test(test_titles),
		cmocka_unit_test(test_bytes_not_utf8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
