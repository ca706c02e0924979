/* The limits the headers decide, without a connection: the request
 * target's raw form, URL and header sizes, request ids, a route's body cap
 * and media type. */
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

static const struct route json_route = { M_POST, "/x", h, "h", 1, 4096, 0 };
static const struct route patch_route = { M_PATCH, "/x", h, "h", 1, 4096, 0 };
static const struct route file_route = { M_POST, "/f", h, "h", 1, 1 << 30,
	ROUTE_RAW_BODY };
static const struct route no_body = { M_GET, "/x", h, "h", 1, 0, 0 };

static int
setup(void **state)
{
	struct req *r = test_calloc(1, sizeof(*r));

	r->arena = arena_new();
	cfg.max_body_bytes = 65536;
	cfg.max_upload_bytes = 1 << 20;
	cfg.max_url_bytes = 2048;
	cfg.max_header_bytes = 16384;
	*state = r;
	return 0;
}

static int
teardown(void **state)
{
	struct req *r = *state;

	arena_free(r->arena);
	test_free(r);
	return 0;
}

static void
test_head(void **state)
{
	struct req *r = *state;

	assert_int_equal(limits_head(r, 2048, 0, 16384), 0);
	assert_int_equal(r->fail.status, 0);
	assert_int_equal(limits_head(r, 2049, 0, 0), -1);
	assert_int_equal(r->fail.status, 414);
	assert_string_equal(r->fail.code, "uri_too_long");
	req_clear_failure(r);
	assert_int_equal(limits_head(r, 10, 1, 0), -1);
	assert_int_equal(r->fail.status, 400);
	assert_string_equal(r->fail.code, "invalid_query");
	assert_string_equal(r->fail.fields->field, "query");
	req_clear_failure(r);
	assert_int_equal(limits_head(r, 10, 0, 16385), -1);
	assert_int_equal(r->fail.status, 431);
	assert_string_equal(r->fail.code, "headers_too_large");
}

static void
test_target(void **state)
{
	static const char *const good[] = { "/", "/healthz", "/%68ealthz",
		"/a%2Fb", "/a%7e%7E", "/t%C3%AAn", "/x?q=1", "/x?q=%zz",
		"/x?q=%", "/x?q=%00", "/x?", "/\xe1\xba\xa2nh", "*", NULL };
	static const char *const bad[] = { "/healthz%00x", "/%00", "/a%",
		"/a%2", "/a%zz", "/a%g0", "/a%0g", "/a%%30", "/a b", "/a\tb",
		"/a\x01", "/a\x7f", "/a\r\n", "/x?q=\x01", "/x?q= ", "", NULL };
	const char *const *p;

	(void)state;
	for (p = good; *p != NULL; p++)
		if (limits_target(*p) != NULL)
			fail_msg("%s refused: %s", *p, limits_target(*p));
	for (p = bad; *p != NULL; p++)
		if (limits_target(*p) == NULL)
			fail_msg("%s taken", *p);
	assert_non_null(limits_target(NULL));
	assert_string_equal(limits_target("/x%00"), "an escaped NUL (%00)");
}

/* limits_transfer_coding's status (0 when the body can be read). */
static int
te(struct req *r, const char *value, int lines, int length, int http10)
{
	int rc, status;

	req_clear_failure(r);
	rc = limits_transfer_coding(r, value, lines, length, http10);
	status = r->fail.status;
	assert_int_equal(rc, status == 0 ? 0 : -1);
	return status;
}

static void
test_transfer_coding(void **state)
{
	static const char *const not_implemented[] = { "gzip", "GZIP",
		"identity", "deflate", "chunked, gzip", "gzip, chunked",
		"gzip,chunked", "chunked;ext=1", "chunked; a=\"b c\"",
		"x-custom", "gzip ;q=1", ", gzip", NULL };
	static const char *const malformed[] = { "", " ", ",", "chunked,",
		", chunked", "chunked ", "\"chunked\"", "chun ked", "chunked;",
		"chunked;a", "chunked;a=", "chunked;a=\"b", "gzip/1", "gzip;=1",
		"ch\x01unked", NULL };
	struct req *r = *state;
	const char *const *p;

	assert_int_equal(te(r, NULL, 0, 1, 0), 0);
	assert_int_equal(te(r, NULL, 0, 0, 1), 0);
	assert_int_equal(te(r, "chunked", 1, 0, 0), 0);
	assert_int_equal(te(r, "Chunked", 1, 0, 0), 0);
	for (p = not_implemented; *p != NULL; p++) {
		if (te(r, *p, 1, 0, 0) != 501)
			fail_msg("%s: %d", *p, r->fail.status);
		assert_string_equal(r->fail.code,
		    "unsupported_transfer_encoding");
	}
	for (p = malformed; *p != NULL; p++) {
		if (te(r, *p, 1, 0, 0) != 400)
			fail_msg("\"%s\": %d", *p, r->fail.status);
		assert_string_equal(r->fail.code, "invalid_header");
	}
	/* Framing two programs could read otherwise. */
	assert_int_equal(te(r, "chunked", 2, 0, 0), 400);
	assert_int_equal(te(r, "chunked", 1, 1, 0), 400);
	assert_int_equal(te(r, "gzip", 1, 1, 0), 400);
	assert_int_equal(te(r, "chunked", 1, 0, 1), 400);
	req_clear_failure(r);
}

static void
test_request_id(void **state)
{
	char id[66];

	(void)state;
	assert_true(limits_request_id("abc-123_x.y:z"));
	memset(id, 'a', 64);
	id[64] = '\0';
	assert_true(limits_request_id(id));
	id[64] = 'a';
	id[65] = '\0';
	assert_false(limits_request_id(id));
	assert_false(limits_request_id(""));
	assert_false(limits_request_id(NULL));
	assert_false(limits_request_id("a b"));
	assert_false(limits_request_id("a\"b"));
	assert_false(limits_request_id("mã"));
}

static void
test_body_cap(void **state)
{
	(void)state;
	assert_int_equal(limits_body_cap(&json_route), 4096);
	/* The route's cap, but never over the configured one. */
	assert_int_equal(limits_body_cap(&file_route), 1 << 20);
	assert_int_equal(limits_body_cap(&no_body), 0);
	assert_int_equal(limits_body_cap(NULL), 0);
}

static void
test_json_type(void **state)
{
	(void)state;
	assert_true(limits_json_type("application/json", M_POST));
	assert_true(limits_json_type("Application/JSON; charset=utf-8", M_POST));
	assert_true(limits_json_type("application/merge-patch+json", M_PATCH));
	assert_false(limits_json_type("application/merge-patch+json", M_POST));
	assert_false(limits_json_type("application/jsonx", M_POST));
	assert_false(limits_json_type("text/plain", M_POST));
	assert_false(limits_json_type(NULL, M_POST));
}

static void
test_body(void **state)
{
	struct req *r = *state;
	size_t room = 0;
	int oversize = -1;

	r->route = &json_route;
	r->method = M_POST;
	assert_int_equal(limits_body(r, "100", "application/json", &room,
			     &oversize),
	    0);
	assert_int_equal(room, 100);
	assert_int_equal(oversize, 0);
	/* Chunked: room for the whole cap. */
	assert_int_equal(limits_body(r, NULL, "application/json", &room,
			     &oversize),
	    0);
	assert_int_equal(room, 4096);
	assert_int_equal(limits_body(r, "4097", "application/json", &room,
			     &oversize),
	    -1);
	assert_int_equal(r->fail.status, 413);
	assert_int_equal(oversize, 1);
	req_clear_failure(r);
	assert_int_equal(limits_body(r, "10", "text/plain", &room, &oversize),
	    -1);
	assert_int_equal(r->fail.status, 415);
	assert_int_equal(oversize, 0);
	req_clear_failure(r);
	r->route = &patch_route;
	r->method = M_PATCH;
	assert_int_equal(limits_body(r, "10", "application/merge-patch+json",
			     &room, &oversize),
	    0);
	r->route = &file_route;
	r->method = M_POST;
	assert_int_equal(limits_body(r, "5000", "application/pdf", &room,
			     &oversize),
	    0);
	assert_int_equal(room, 5000);
	r->route = &no_body;
	r->method = M_GET;
	assert_int_equal(limits_body(r, "2", "application/json", &room,
			     &oversize),
	    -1);
	assert_int_equal(r->fail.status, 413);
	assert_int_equal(oversize, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_head, setup, teardown),
		cmocka_unit_test(test_target),
		cmocka_unit_test_setup_teardown(test_transfer_coding, setup,
		    teardown),
		cmocka_unit_test(test_request_id),
		cmocka_unit_test_setup_teardown(test_body_cap, setup, teardown),
		cmocka_unit_test(test_json_type),
		cmocka_unit_test_setup_teardown(test_body, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
