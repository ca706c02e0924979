/* Validation declared as data, without a database or a connection: dates,
 * UTF-8 lengths, UUIDs, a field table, query values, pages. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "resources/resources.h"

static const char *const kinds[] = { "village", "commune", NULL };

static const struct field fields[] = {
	{ "name", F_STRING, 1, 0, 0, 1, 10, NULL },
	{ "code", F_CODE, 1, 0, 1, 1, 16, NULL },
	{ "kind", F_ENUM, 1, 0, 0, 0, 0, kinds },
	{ "year", F_INT, 0, 0, 0, 2000, 2100, NULL },
	{ "active", F_BOOL, 0, 0, 0, 0, 0, NULL },
	{ "due_on", F_DATE, 0, 1, 0, 0, 0, NULL },
	{ "parent_id", F_UUID, 0, 1, 0, 0, 0, NULL },
	{ "at", F_TIME, 0, 0, 0, 0, 0, NULL },
	{ "tags", F_ARRAY, 0, 0, 0, 0, 2, NULL },
	{ NULL, 0, 0, 0, 0, 0, 0, NULL },
};
enum { NAME, CODE, KIND, YEAR, ACTIVE, DUE_ON, PARENT, AT, TAGS, NFIELDS };

#define UUID "0f9c2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6"

static int
setup(void **state)
{
	struct req *r = calloc(1, sizeof(*r));

	r->arena = arena_new();
	*state = r;
	return 0;
}

static int
teardown(void **state)
{
	struct req *r = *state;

	arena_free(r->arena);
	free(r);
	return 0;
}

/* The code of the field error for field, NULL when there is none. */
static const char *
field_code(struct req *r, const char *field)
{
	const struct field_error *e;

	for (e = r->fail.fields; e != NULL; e = e->next)
		if (strcmp(e->field, field) == 0)
			return e->code;
	return NULL;
}

static int
nerrors(struct req *r)
{
	const struct field_error *e;
	int n = 0;

	for (e = r->fail.fields; e != NULL; e = e->next)
		n++;
	return n;
}

/* validate() of a JSON text; the object is owned by the request. */
static int
check(struct req *r, const char *text, const char **out, int patch)
{
	json_t *obj = json_loads(text, 0, NULL);

	assert_non_null(obj);
	req_own(r, obj);
	return validate(r, obj, fields, out, patch);
}

static void
test_dates(void **state)
{
	static const char *const good[] = { "2024-02-29", "2000-02-29",
		"2023-02-28", "2026-01-30", "2026-04-30", "2026-12-31",
		"1900-01-01", "2999-12-31", NULL };
	static const char *const bad[] = { "2023-02-29", "2100-02-29",
		"1900-02-29", "2024-02-30", "2026-04-31", "2026-06-31",
		"2026-01-32", "2026-01-00", "2026-00-10", "2026-13-01",
		"1899-12-31", "3000-01-01", "2026-1-30", "2026-01-301",
		"2026/01/30", "2026-01-3a", "", "30/01/2026", NULL };
	const char *const *p;

	(void)state;
	for (p = good; *p != NULL; p++)
		assert_true(is_date(*p));
	for (p = bad; *p != NULL; p++)
		assert_false(is_date(*p));
}

static void
test_utf8_length(void **state)
{
	(void)state;
	assert_int_equal(utf8_chars(""), 0);
	assert_int_equal(utf8_chars("Thon 1"), 6);
	assert_int_equal(utf8_chars("Thôn 1"), 6);
	assert_int_equal(strlen("Thôn 1"), 7);
	assert_int_equal(utf8_chars("Nguyễn Văn A"), 12);
	assert_int_equal(strlen("Nguyễn Văn A"), 15);
	assert_int_equal(utf8_chars("Dân vận khéo"), 12);
	assert_int_equal(utf8_chars("Ủy ban nhân dân xã Bình Chương"), 30);
}

static void
test_uuids(void **state)
{
	(void)state;
	assert_true(is_uuid(UUID));
	assert_true(is_uuid("0F9C2A4E-1B2C-4D5E-8F90-A1B2C3D4E5F6"));
	assert_false(is_uuid("0f9c2a4e1b2c4d5e8f90a1b2c3d4e5f6"));
	assert_false(is_uuid("0f9c2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f"));
	assert_false(is_uuid("0f9c2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f67"));
	assert_false(is_uuid("0f9c2a4e-1b2c-4d5e-8f90_a1b2c3d4e5f6"));
	assert_false(is_uuid("0f9c2a4e-1b2c-4d5e-8f9g-a1b2c3d4e5f6"));
	assert_false(is_uuid("{f9c2a4e-1b2c-4d5e-8f90-a1b2c3d4e5f6}"));
	assert_false(is_uuid(""));
}

static void
test_valid_create(void **state)
{
	struct req *r = *state;
	const char *out[NFIELDS];

	assert_int_equal(
	    check(r,
		"{\"name\": \"Nguyễn Văn\", \"code\": "
		"\"thon-1.a_b\", \"kind\": \"village\", \"year\": 2026, \"active\": "
		"true, \"due_on\": null, \"parent_id\": \"" UUID "\", \"at\": "
		"\"2026-01-30T10:00:00+07:00\", \"tags\": [\"a\", 1]}",
		out, 0),
	    0);
	assert_int_equal(r->fail.status, 0);
	/* Ten characters, thirteen bytes: within max 10. */
	assert_string_equal(out[NAME], "Nguyễn Văn");
	assert_string_equal(out[CODE], "thon-1.a_b");
	assert_string_equal(out[YEAR], "2026");
	assert_string_equal(out[ACTIVE], "true");
	assert_null(out[DUE_ON]);
	assert_string_equal(out[PARENT], UUID);
	assert_string_equal(out[TAGS], "[\"a\",1]");
	/* Absent optional fields are NULL. */
	assert_int_equal(check(r,
			     "{\"name\": \"x\", \"code\": \"x\", \"kind\": "
			     "\"commune\"}",
			     out, 0),
	    0);
	assert_null(out[YEAR]);
	assert_null(out[AT]);
}

static void
test_required_and_unknown(void **state)
{
	struct req *r = *state;
	const char *out[NFIELDS];

	assert_int_equal(check(r,
			     "{\"code\": \"x\", \"kind\": \"village\", "
			     "\"colour\": \"red\"}",
			     out, 0),
	    -1);
	assert_int_equal(r->fail.status, 422);
	assert_string_equal(r->fail.code, "invalid_body");
	assert_string_equal(field_code(r, "name"), "required");
	assert_string_equal(field_code(r, "colour"), "unknown");
	assert_int_equal(nerrors(r), 2);
}

static void
test_fixed_field_on_patch(void **state)
{
	struct req *r = *state;
	const char *out[NFIELDS];

	/* A patch needs nothing, but a fixed field cannot change. */
	assert_int_equal(check(r, "{\"name\": \"y\"}", out, 1), 0);
	assert_string_equal(out[NAME], "y");
	assert_null(out[CODE]);
	assert_int_equal(check(r, "{\"code\": \"y\", \"name\": \"y\"}", out, 1),
	    -1);
	assert_string_equal(r->fail.code, "invalid_body");
	assert_string_equal(field_code(r, "code"), "unknown");
	assert_null(out[CODE]);
	assert_int_equal(nerrors(r), 1);
}

static void
test_null(void **state)
{
	struct req *r = *state;
	const char *out[NFIELDS];

	assert_int_equal(check(r,
			     "{\"name\": null, \"code\": \"x\", \"kind\": "
			     "\"village\", \"parent_id\": null}",
			     out, 0),
	    -1);
	assert_string_equal(field_code(r, "name"), "null");
	assert_null(field_code(r, "parent_id"));
	req_clear_failure(r);
	/* PATCH sets values; it does not clear them, nullable or not. */
	assert_int_equal(check(r, "{\"due_on\": null}", out, 1), -1);
	assert_string_equal(field_code(r, "due_on"), "null");
}

static void
test_types_and_ranges(void **state)
{
	struct req *r = *state;
	const char *out[NFIELDS];

	assert_int_equal(
	    check(r,
		"{\"name\": 5, \"code\": \"Thôn\", \"kind\": "
		"\"city\", \"year\": 1999, \"active\": \"yes\", \"due_on\": "
		"\"2023-02-29\", \"parent_id\": \"x\", \"at\": \"2026-01-30 10:00\","
		" \"tags\": [1, 2, 3]}",
		out, 0),
	    -1);
	assert_string_equal(field_code(r, "name"), "type");
	assert_string_equal(field_code(r, "code"), "format");
	assert_string_equal(field_code(r, "kind"), "enum");
	assert_string_equal(field_code(r, "year"), "range");
	assert_string_equal(field_code(r, "active"), "type");
	assert_string_equal(field_code(r, "due_on"), "format");
	assert_string_equal(field_code(r, "parent_id"), "format");
	assert_string_equal(field_code(r, "at"), "format");
	assert_string_equal(field_code(r, "tags"), "type");
	assert_int_equal(nerrors(r), 9);
	req_clear_failure(r);
	assert_int_equal(check(r, "{\"year\": \"2026\", \"code\": \"-x\"}", out,
			     1),
	    -1);
	assert_string_equal(field_code(r, "year"), "type");
	assert_string_equal(field_code(r, "code"), "unknown");
	req_clear_failure(r);
	assert_int_equal(check(r, "{\"year\": 2101}", out, 1), -1);
	assert_string_equal(field_code(r, "year"), "range");
	req_clear_failure(r);
	assert_int_equal(check(r,
			     "{\"year\": 2100, \"name\": \"x\", \"code\": "
			     "\"-x\", \"kind\": \"village\"}",
			     out, 0),
	    -1);
	assert_string_equal(field_code(r, "code"), "format");
	assert_null(field_code(r, "year"));
}

static void
test_string_length_in_characters(void **state)
{
	struct req *r = *state;
	const char *out[NFIELDS];

	/* Twelve characters, fifteen bytes: over max 10. */
	assert_int_equal(check(r, "{\"name\": \"Nguyễn Văn A\"}", out, 1), -1);
	assert_string_equal(field_code(r, "name"), "length");
	req_clear_failure(r);
	assert_int_equal(check(r, "{\"name\": \"\"}", out, 1), -1);
	assert_string_equal(field_code(r, "name"), "length");
	req_clear_failure(r);
	assert_int_equal(check(r, "{\"name\": \"ỦỦỦỦỦỦỦỦỦỦ\"}", out, 1), 0);
}

static void
test_empty_patch(void **state)
{
	struct req *r = *state;
	const char *out[NFIELDS];

	assert_int_equal(check(r, "{}", out, 1), -1);
	assert_int_equal(r->fail.status, 422);
	assert_string_equal(r->fail.code, "empty_patch");
	assert_int_equal(nerrors(r), 0);
	req_clear_failure(r);
	/* An empty object is not an empty patch on create. */
	assert_int_equal(check(r, "{}", out, 0), -1);
	assert_string_equal(r->fail.code, "invalid_body");
}

static void
test_prefix_and_count(void **state)
{
	struct req *r = *state;
	const char *out[NFIELDS];
	json_t *obj = req_own(r, json_loads("{\"name\": 1, \"x\": 2}", 0, NULL));

	/* validate_at counts and names; the request itself does not fail. */
	assert_int_equal(validate_at(r, obj, fields, out, 0, "tasks[2]."), 4);
	assert_int_equal(r->fail.status, 0);
	assert_string_equal(field_code(r, "tasks[2].name"), "type");
	assert_string_equal(field_code(r, "tasks[2].x"), "unknown");
	assert_string_equal(field_code(r, "tasks[2].code"), "required");
	assert_string_equal(field_code(r, "tasks[2].kind"), "required");
}

static void
test_query_values(void **state)
{
	static const struct field q[] = {
		{ "limit_days", F_INT, 0, 0, 0, 1, 90, NULL },
		{ "late", F_BOOL, 0, 0, 0, 0, 0, NULL },
		{ "unit_id", F_UUID, 0, 0, 0, 0, 0, NULL },
		{ "on", F_DATE, 0, 0, 0, 0, 0, NULL },
		{ "kind", F_ENUM, 0, 0, 0, 0, 0, kinds },
		{ "q", F_STRING, 0, 0, 0, 1, 5, NULL },
	};
	struct req *r = *state;

	assert_int_equal(query_value(r, &q[0], "90"), 0);
	assert_int_equal(query_value(r, &q[0], "1"), 0);
	assert_int_equal(query_value(r, &q[1], "true"), 0);
	assert_int_equal(query_value(r, &q[1], "false"), 0);
	assert_int_equal(query_value(r, &q[2], UUID), 0);
	assert_int_equal(query_value(r, &q[3], "2024-02-29"), 0);
	assert_int_equal(query_value(r, &q[4], "commune"), 0);
	assert_int_equal(query_value(r, &q[5], "Thôn1"), 0);
	assert_null(r->fail.fields);
	assert_int_equal(r->fail.status, 0);

	assert_int_equal(query_value(r, &q[0], "91"), -1);
	assert_int_equal(query_value(r, &q[0], "0"), -1);
	assert_int_equal(query_value(r, &q[0], "5x"), -1);
	assert_int_equal(query_value(r, &q[0], ""), -1);
	assert_string_equal(field_code(r, "limit_days"), "range");
	assert_int_equal(query_value(r, &q[1], "yes"), -1);
	assert_int_equal(query_value(r, &q[1], "TRUE"), -1);
	assert_string_equal(field_code(r, "late"), "type");
	assert_int_equal(query_value(r, &q[2], "not-a-uuid"), -1);
	assert_string_equal(field_code(r, "unit_id"), "format");
	assert_int_equal(query_value(r, &q[3], "2023-02-29"), -1);
	assert_string_equal(field_code(r, "on"), "format");
	assert_int_equal(query_value(r, &q[4], "city"), -1);
	assert_string_equal(field_code(r, "kind"), "enum");
	assert_int_equal(query_value(r, &q[5], "Thôn 12"), -1);
	assert_string_equal(field_code(r, "q"), "length");
	assert_int_equal(nerrors(r), 10);
	/* Bytes that are not UTF-8. */
	req_clear_failure(r);
	assert_int_equal(query_value(r, &q[5], "a\xff"), -1);
	assert_string_equal(field_code(r, "q"), "encoding");
	/* A query value check records a field error, never the failure. */
	assert_int_equal(r->fail.status, 0);
}

static void
test_pages(void **state)
{
	struct req *r = *state;
	struct page pg;
	char cursor[520];

	assert_int_equal(page_parse(r, NULL, NULL, &pg), 0);
	assert_int_equal(pg.limit, PAGE_DEFAULT);
	assert_null(pg.cursor);
	assert_string_equal(pg.fetch, "51");
	assert_int_equal(page_parse(r, "1", "0a1B", &pg), 0);
	assert_int_equal(pg.limit, 1);
	assert_string_equal(pg.cursor, "0a1B");
	assert_string_equal(pg.fetch, "2");
	assert_int_equal(page_parse(r, "200", NULL, &pg), 0);
	assert_string_equal(pg.fetch, "201");
	memset(cursor, 'f', 512);
	cursor[512] = '\0';
	assert_int_equal(page_parse(r, NULL, cursor, &pg), 0);
	assert_int_equal(r->fail.status, 0);
}

static void
test_bad_pages(void **state)
{
	static const char *const limits[] = { "0", "201", "-1", "", "10x",
		"abc", "5 ", NULL };
	static const char *const cursors[] = { "", "abc", "zz", "0a-1", "0a 1",
		NULL };
	struct req *r = *state;
	const char *const *p;
	struct page pg;
	char cursor[520];

	for (p = limits; *p != NULL; p++) {
		assert_int_equal(page_parse(r, *p, NULL, &pg), -1);
		assert_int_equal(r->fail.status, 400);
		assert_string_equal(r->fail.code, "invalid_query");
		assert_string_equal(field_code(r, "limit"), "range");
		req_clear_failure(r);
	}
	memset(cursor, 'f', 514);
	cursor[514] = '\0';
	for (p = cursors;; p++) {
		assert_int_equal(page_parse(r, "5", *p ? *p : cursor, &pg), -1);
		assert_int_equal(r->fail.status, 400);
		assert_string_equal(field_code(r, "cursor"), "format");
		req_clear_failure(r);
		if (*p == NULL)
			break;
	}
}

static void
test_step_helpers(void **state)
{
	struct req *r = *state;

	assert_int_equal(no_fields(r), 0);
	r->json = req_own(r, json_object());
	assert_int_equal(no_fields(r), 0);
	r->json = req_own(r, json_pack("{s:i, s:i}", "a", 1, "b", 2));
	assert_int_equal(no_fields(r), -1);
	assert_string_equal(r->fail.code, "invalid_body");
	assert_string_equal(field_code(r, "a"), "unknown");
	assert_string_equal(field_code(r, "b"), "unknown");
	req_clear_failure(r);
	r->json = req_own(r, json_pack("[i]", 1));
	assert_int_equal(no_fields(r), -1);
	assert_string_equal(r->fail.code, "body_not_object");
	req_clear_failure(r);
	assert_int_equal(only_reason(r,
			     r->json = req_own(r,
				 json_pack("{s:s}", "amendment_reason", "x"))),
	    -1);
	assert_string_equal(r->fail.code, "empty_patch");
	req_clear_failure(r);
	assert_int_equal(only_reason(r,
			     req_own(r,
				 json_pack("{s:s, s:s}", "amendment_reason",
				     "x", "title", "y"))),
	    0);
	assert_int_equal(fail_reference(r, "unit_id", "no unit %s", "u1"), -1);
	assert_int_equal(r->fail.status, 422);
	assert_string_equal(r->fail.code, "invalid_reference");
	assert_string_equal(r->fail.detail, "no unit u1");
	assert_string_equal(field_code(r, "unit_id"), "unknown");
}

int
main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dates),
		cmocka_unit_test(test_utf8_length),
		cmocka_unit_test(test_uuids),
		T(test_valid_create),
		T(test_required_and_unknown),
		T(test_fixed_field_on_patch),
		T(test_null),
		T(test_types_and_ranges),
		T(test_string_length_in_characters),
		T(test_empty_patch),
		T(test_prefix_and_count),
		T(test_query_values),
		T(test_pages),
		T(test_bad_pages),
		T(test_step_helpers),
	};
#undef T

	return cmocka_run_group_tests(tests, NULL, NULL);
}
