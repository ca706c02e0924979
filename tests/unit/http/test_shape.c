/* Response shaping without a connection: byte ranges and If-Range, ETag
 * comparison, Accept-Encoding, gzip, fields= validation and trimming,
 * Allow. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <zlib.h>

#include "http/http.h"

/* shape_range on a body of len bytes; first/last -1 when not set. */
static int
range(const char *h, size_t len, long *first, long *last)
{
	size_t a = (size_t)-1, b = (size_t)-1;
	int rc = shape_range(h, len, &a, &b);

	*first = a == (size_t)-1 ? -1 : (long)a;
	*last = b == (size_t)-1 ? -1 : (long)b;
	return rc;
}

static void
test_accept_language(void **state)
{
	(void)state;
	assert_true(shape_accepts_vi("vi"));
	assert_true(shape_accepts_vi("VI-vn"));
	assert_true(shape_accepts_vi("vi-VN,vi;q=0.9,en-US;q=0.8,en;q=0.7"));
	assert_true(shape_accepts_vi("en;q=0.5, vi;q=0.8"));
	assert_true(shape_accepts_vi("fr, vi;q=0.3"));
	assert_true(shape_accepts_vi("vi, en"));
	assert_true(shape_accepts_vi("*;q=0.1, vi"));
	assert_false(shape_accepts_vi(NULL));
	assert_false(shape_accepts_vi(""));
	assert_false(shape_accepts_vi("en"));
	assert_false(shape_accepts_vi("en, vi"));
	assert_false(shape_accepts_vi("vi;q=0.5, en;q=0.9"));
	assert_false(shape_accepts_vi("vi;q=0"));
	assert_false(shape_accepts_vi("*"));
	assert_false(shape_accepts_vi("vie, vietnamese"));
	assert_false(shape_accepts_vi("vi;q=2"));
	assert_false(shape_accepts_vi("fr"));
}

static void
test_range_single(void **state)
{
	long a, b;

	(void)state;
	assert_int_equal(range("bytes=0-99", 1000, &a, &b), 1);
	assert_int_equal(a, 0);
	assert_int_equal(b, 99);
	assert_int_equal(range("bytes=500-500", 1000, &a, &b), 1);
	assert_int_equal(a, 500);
	assert_int_equal(b, 500);
	/* A last position past the end is the end. */
	assert_int_equal(range("bytes=900-5000", 1000, &a, &b), 1);
	assert_int_equal(a, 900);
	assert_int_equal(b, 999);
}

static void
test_range_suffix_and_open_ended(void **state)
{
	long a, b;

	(void)state;
	assert_int_equal(range("bytes=-100", 1000, &a, &b), 1);
	assert_int_equal(a, 900);
	assert_int_equal(b, 999);
	/* A suffix longer than the body is the whole body. */
	assert_int_equal(range("bytes=-5000", 1000, &a, &b), 1);
	assert_int_equal(a, 0);
	assert_int_equal(b, 999);
	assert_int_equal(range("bytes=100-", 1000, &a, &b), 1);
	assert_int_equal(a, 100);
	assert_int_equal(b, 999);
	assert_int_equal(range("bytes=999-", 1000, &a, &b), 1);
	assert_int_equal(a, 999);
	assert_int_equal(b, 999);
}

static void
test_range_out_of_range_416(void **state)
{
	long a, b;

	(void)state;
	assert_int_equal(range("bytes=1000-", 1000, &a, &b), -1);
	assert_int_equal(range("bytes=1000-2000", 1000, &a, &b), -1);
	assert_int_equal(range("bytes=99999999999999999999999-", 1000, &a, &b),
	    -1);
	assert_int_equal(range("bytes=0-", 0, &a, &b), -1);
	assert_int_equal(a, -1);
}

static void
test_range_malformed_ignored(void **state)
{
	static const char *const bad[] = { "bytes=", "bytes=-", "bytes=abc",
		"bytes=5", "bytes= 0-1", "bytes=+1-2", "bytes=1-2-3",
		"bytes=0-1,5-6", "items=0-1", "0-1", "bytes=0x1-2",
		"bytes=1--2", NULL };
	const char *const *p;
	long a, b;

	(void)state;
	assert_int_equal(range(NULL, 1000, &a, &b), 0);
	for (p = bad; *p != NULL; p++) {
		assert_int_equal(range(*p, 1000, &a, &b), 0);
		assert_int_equal(a, -1);
	}
}

static void
test_range_invalid_ignored_not_416(void **state)
{
	static const char *const invalid[] = { "bytes=5-2", "bytes=999-0",
		"bytes=1-0", "bytes=5000-10", "bytes=2000-1000", NULL };
	const char *const *p;
	long a, b;

	(void)state;
	/* RFC 9110 14.1.1: last < first is invalid, and an invalid range is
	 * ignored; only a valid one starting past the end is 416. */
	for (p = invalid; *p != NULL; p++) {
		if (range(*p, 1000, &a, &b) != 0)
			fail_msg("%s is not ignored", *p);
		assert_int_equal(a, -1);
	}
	assert_int_equal(range("bytes=5-5", 1000, &a, &b), 1);
	assert_int_equal(range("bytes=1000-1000", 1000, &a, &b), -1);
	assert_int_equal(range("bytes=5000-6000", 1000, &a, &b), -1);
}

static void
test_range_unit_case_insensitive(void **state)
{
	long a, b;

	(void)state;
	assert_int_equal(range("BYTES=0-9", 1000, &a, &b), 1);
	assert_int_equal(b, 9);
	assert_int_equal(range("Bytes=-10", 1000, &a, &b), 1);
	assert_int_equal(a, 990);
	assert_int_equal(range("bYtEs=990-", 1000, &a, &b), 1);
	assert_int_equal(b, 999);
	assert_int_equal(range("byte=0-9", 1000, &a, &b), 0);
	assert_int_equal(range("bytesx=0-9", 1000, &a, &b), 0);
}

static void
test_if_range(void **state)
{
	(void)state;
	assert_true(shape_if_range(NULL, "\"abc\""));
	assert_true(shape_if_range(NULL, NULL));
	assert_true(shape_if_range("\"abc\"", "\"abc\""));
	assert_true(shape_if_range("\"abc\"  ", "\"abc\""));
	/* The strong comparison: W/ on either side never matches. */
	assert_false(shape_if_range("W/\"abc\"", "\"abc\""));
	assert_false(shape_if_range("\"abc\"", "W/\"abc\""));
	assert_false(shape_if_range("W/\"abc\"", "W/\"abc\""));
	assert_false(shape_if_range("\"abd\"", "\"abc\""));
	assert_false(shape_if_range("\"ab\"", "\"abc\""));
	assert_false(shape_if_range("\"abc\", \"x\"", "\"abc\""));
	assert_false(shape_if_range("abc", "\"abc\""));
	assert_false(shape_if_range("", "\"abc\""));
	assert_false(shape_if_range("\"abc\"", NULL));
	/* No Last-Modified is sent: a date never matches. */
	assert_false(shape_if_range("Tue, 01 Dec 2026 10:00:00 GMT", "\"abc\""));
}

static void
test_etag_strong_and_weak(void **state)
{
	(void)state;
	assert_true(shape_etag_matches("\"5\"", "\"5\""));
	/* If-None-Match compares weakly: W/ on either side still matches. */
	assert_true(shape_etag_matches("W/\"5\"", "\"5\""));
	assert_true(shape_etag_matches("\"abc\"", "W/\"abc\""));
	assert_true(shape_etag_matches("W/\"abc\"", "W/\"abc\""));
	assert_false(shape_etag_matches("\"6\"", "\"5\""));
	assert_false(shape_etag_matches("\"55\"", "\"5\""));
	assert_false(shape_etag_matches("\"5\"", "\"55\""));
	assert_false(shape_etag_matches("W/\"6\"", "W/\"5\""));
}

static void
test_etag_lists_star_and_absence(void **state)
{
	(void)state;
	assert_true(shape_etag_matches("\"1\", \"2\", \"3\"", "\"2\""));
	assert_true(shape_etag_matches("\"1\",W/\"2\"", "\"2\""));
	assert_false(shape_etag_matches("\"1\", \"3\"", "\"2\""));
	assert_true(shape_etag_matches("*", "\"7\""));
	assert_true(shape_etag_matches("*", "W/\"0123456789abcdef\""));
	assert_false(shape_etag_matches(NULL, "\"7\""));
	assert_false(shape_etag_matches("\"7\"", NULL));
}

static void
test_etag_lists_parsed_not_searched(void **state)
{
	(void)state;
	/* A tag is matched as a whole element of a well-formed list, not as
	 * a substring of the header. */
	assert_false(shape_etag_matches("foo\"7\"bar", "\"7\""));
	assert_false(shape_etag_matches("\"x\"7\"", "\"7\""));
	assert_false(shape_etag_matches("\"17\"", "\"7\""));
	assert_false(shape_etag_matches("\"7\" \"8\"", "\"7\""));
	assert_false(shape_etag_matches("\"8\", \"7\" x", "\"7\""));
	assert_false(shape_etag_matches("7", "\"7\""));
	assert_false(shape_etag_matches("\"7", "\"7\""));
	assert_false(shape_etag_matches("W/ \"7\"", "\"7\""));
	assert_false(shape_etag_matches("w/\"7\"", "\"7\""));
	assert_false(shape_etag_matches("*, \"7\"", "\"7\""));
	assert_false(shape_etag_matches("", "\"7\""));
	assert_false(shape_etag_matches("\"a b\"", "\"a b\""));
	/* Spaces around the elements and empty elements are allowed. */
	assert_true(shape_etag_matches("  \"7\"  ", "\"7\""));
	assert_true(shape_etag_matches(",\"8\" ,, W/\"7\",", "\"7\""));
	assert_true(shape_etag_matches(" * ", "\"7\""));
	assert_true(shape_etag_matches("\"t\xc3\xaan\"", "\"t\xc3\xaan\""));
}

static void
test_accept_encoding(void **state)
{
	(void)state;
	assert_true(shape_accepts_gzip("gzip"));
	assert_true(shape_accepts_gzip("GZIP"));
	assert_true(shape_accepts_gzip("gzip, deflate, br"));
	assert_true(shape_accepts_gzip("deflate, gzip"));
	assert_true(shape_accepts_gzip("gzip;q=0.5"));
	assert_true(shape_accepts_gzip("gzip; q=0.001"));
	assert_true(shape_accepts_gzip("gzip;q=1.0, identity;q=0.5"));
	/* RFC 9110: x-gzip is gzip. */
	assert_true(shape_accepts_gzip("x-gzip"));
	assert_false(shape_accepts_gzip("gzip;q=0"));
	assert_false(shape_accepts_gzip("gzip ;q=0"));
	assert_false(shape_accepts_gzip("gzip; q=0.0"));
	assert_false(shape_accepts_gzip("identity"));
	assert_false(shape_accepts_gzip("deflate, br"));
	assert_false(shape_accepts_gzip(""));
	assert_false(shape_accepts_gzip(NULL));
}

static void
test_accept_weight(void **state)
{
	(void)state;
	assert_int_equal(shape_accept_weight(NULL, "text/csv"), 1000);
	assert_int_equal(shape_accept_weight("text/csv", "text/csv"), 1000);
	assert_int_equal(shape_accept_weight("TEXT/CSV", "text/csv"), 1000);
	assert_int_equal(shape_accept_weight("text/csv", "application/json"), 0);
	assert_int_equal(shape_accept_weight("text/csv;q=0.5, */*;q=0.1",
			     "text/csv"),
	    500);
	assert_int_equal(shape_accept_weight("text/csv;q=0.5, */*;q=0.1",
			     "application/json"),
	    100);
	/* The most specific range decides, whatever its weight or place. */
	assert_int_equal(shape_accept_weight("text/csv;q=0, text/*", "text/csv"),
	    0);
	assert_int_equal(shape_accept_weight("text/*;q=0.3, */*", "text/csv"),
	    300);
	assert_int_equal(shape_accept_weight("text/csv; charset=utf-8; q=0.7",
			     "text/csv"),
	    700);
	/* Malformed ranges name nothing; the others still count. */
	assert_int_equal(shape_accept_weight("text, csv", "text/csv"), 0);
	assert_int_equal(shape_accept_weight("text/, text/csv;q=2, */*;q=0.2",
			     "text/csv"),
	    200);
	assert_int_equal(shape_accept_weight("", "text/csv"), 0);
}

static void
test_accept_encoding_is_a_list_of_tokens(void **state)
{
	static const char *const yes[] = { "gzip;level=9", "br, GZip ; Q=0.5",
		"gzip;foo=\"a;q=0\";q=1", "gzip;q=1.000", "gzip;q=0.001",
		" , gzip ,", "*", "*;q=0.1", "identity;q=0, *",
		"br;q=1,gzip;q=.5x,"
		"gzip",
		"x-gzip;q=1", "gzip;q=0, x-gzip;q=0.2", NULL };
	static const char *const no[] = { "x-gzipfoo", "notgzip", "gzipx",
		"gzip-x", "gzip;foo=1;q=0", "gzip;q=0;foo=1", "gzip;q=0.000",
		"br;q=1, gzip;q=0", "gzip;q=0, *", "*;q=0", "identity, *;q=0",
		"gzip;q=2", "gzip;q=1.5", "gzip;q=0.0001", "gzip;q=abc",
		"gzip;q", "gzip;=1", "gzip foo", "gz ip", "\"gzip\"",
		"g\x01zip", "deflate;q=1, br", NULL };
	const char *const *p;

	(void)state;
	for (p = yes; *p != NULL; p++)
		if (!shape_accepts_gzip(*p))
			fail_msg("%s does not take gzip", *p);
	for (p = no; *p != NULL; p++)
		if (shape_accepts_gzip(*p))
			fail_msg("%s takes gzip", *p);
}

static void
test_gzip_round_trip(void **state)
{
	struct arena *a = arena_new();
	char src[4096], back[4096];
	unsigned char *gz;
	size_t len, i;
	z_stream z;

	(void)state;
	for (i = 0; i < sizeof(src); i++)
		src[i] = "Dân vận khéo "[i % 13];
	gz = shape_gzip(a, src, sizeof(src), &len);
	assert_true(len > 18 && len < sizeof(src) / 4);
	assert_int_equal(gz[0], 0x1f);
	assert_int_equal(gz[1], 0x8b);
	memset(&z, 0, sizeof(z));
	assert_int_equal(inflateInit2(&z, 15 + 16), Z_OK);
	z.next_in = gz;
	z.avail_in = (uInt)len;
	z.next_out = (unsigned char *)back;
	z.avail_out = sizeof(back);
	assert_int_equal(inflate(&z, Z_FINISH), Z_STREAM_END);
	assert_int_equal(z.total_out, sizeof(src));
	inflateEnd(&z);
	assert_memory_equal(src, back, sizeof(src));
	arena_free(a);
}

static void
test_compressible(void **state)
{
	(void)state;
	assert_true(shape_compressible("application/json"));
	assert_true(shape_compressible("application/problem+json"));
	assert_true(shape_compressible("text/csv; charset=utf-8"));
	assert_true(shape_compressible("text/html"));
	assert_false(shape_compressible("application/pdf"));
	assert_false(shape_compressible("image/jpeg"));
	assert_false(shape_compressible(NULL));
}

static void
test_fields_valid(void **state)
{
	char many[1100];
	size_t i, off = 0;

	(void)state;
	assert_true(shape_fields_valid("id"));
	assert_true(shape_fields_valid("id,name"));
	assert_true(shape_fields_valid("due_on,unit_id,v2"));
	assert_false(shape_fields_valid(""));
	assert_false(shape_fields_valid("Id"));
	assert_false(shape_fields_valid("a,,b"));
	assert_false(shape_fields_valid("a,"));
	assert_false(shape_fields_valid("a-b"));
	assert_false(shape_fields_valid("a b"));
	assert_false(shape_fields_valid("a.b"));
	assert_false(shape_fields_valid("tên"));
	/* At most 64 names. */
	for (i = 0; i < 64; i++)
		off += (size_t)snprintf(many + off, sizeof(many) - off,
		    "%sf%zu", i ? "," : "", i);
	assert_true(shape_fields_valid(many));
	snprintf(many + off, sizeof(many) - off, ",x");
	assert_false(shape_fields_valid(many));
	/* At most 1024 bytes. */
	memset(many, 'a', 1025);
	many[1025] = '\0';
	assert_false(shape_fields_valid(many));
	many[1024] = '\0';
	assert_true(shape_fields_valid(many));
}

static json_t *
trimmed(struct arena *a, const char *body, const char *fields)
{
	size_t len;
	char *out = shape_fields_trim(a, body, strlen(body), fields, &len);
	json_t *v;

	assert_non_null(out);
	assert_int_equal(strlen(out), len);
	v = json_loads(out, 0, NULL);
	assert_non_null(v);
	return v;
}

static void
test_fields_trim_entity(void **state)
{
	struct arena *a = arena_new();
	json_t *v, *want;

	(void)state;
	v = trimmed(a,
	    "{\"id\":\"u1\",\"name\":\"Thôn 1\",\"name_vi\":\"x\","
	    "\"code\":\"thon-1\",\"parent\":{\"id\":\"p\"}}",
	    "id,name,missing");
	want = json_pack("{s:s, s:s}", "id", "u1", "name", "Thôn 1");
	assert_true(json_equal(v, want));
	json_decref(v);
	json_decref(want);
	/* "na" names no member: a prefix is not a match. */
	v = trimmed(a, "{\"name\":\"x\",\"id\":1}", "na");
	assert_int_equal(json_object_size(v), 0);
	json_decref(v);
	/* An object with items but no next_cursor is an entity. */
	v = trimmed(a, "{\"items\":[{\"id\":1,\"a\":2}],\"x\":1}", "x");
	want = json_pack("{s:i}", "x", 1);
	assert_true(json_equal(v, want));
	json_decref(v);
	json_decref(want);
	arena_free(a);
}

static void
test_fields_trim_list_page(void **state)
{
	struct arena *a = arena_new();
	json_t *v, *want;

	(void)state;
	v = trimmed(a,
	    "{\"items\":[{\"id\":1,\"a\":2,\"b\":3},{\"id\":4,\"b\":5},"
	    "7],\"next_cursor\":\"0a\"}",
	    "id,b");
	want = json_pack("{s:[{s:i, s:i}, {s:i, s:i}, i], s:s}", "items", "id",
	    1, "b", 3, "id", 4, "b", 5, 7, "next_cursor", "0a");
	assert_true(json_equal(v, want));
	json_decref(v);
	json_decref(want);
	v = trimmed(a, "{\"items\":[],\"next_cursor\":null}", "id");
	want = json_pack("{s:[], s:n}", "items", "next_cursor");
	assert_true(json_equal(v, want));
	json_decref(v);
	json_decref(want);
	arena_free(a);
}

static void
test_fields_trim_leaves_other_bodies(void **state)
{
	struct arena *a = arena_new();
	size_t len = 0;

	(void)state;
	assert_null(shape_fields_trim(a, "[1,2]", 5, "id", &len));
	assert_null(shape_fields_trim(a, "not json", 8, "id", &len));
	assert_null(shape_fields_trim(a, "\"id\"", 4, "id", &len));
	assert_int_equal(len, 0);
	arena_free(a);
}

static void
test_allow(void **state)
{
	struct arena *a = arena_new();

	(void)state;
	assert_string_equal(shape_allow(a, M_GET), "GET, HEAD");
	assert_string_equal(shape_allow(a, M_GET | M_POST), "GET, HEAD, POST");
	assert_string_equal(shape_allow(a, M_PATCH | M_DELETE), "PATCH, DELETE");
	assert_string_equal(shape_allow(a,
				M_GET | M_POST | M_PUT | M_PATCH | M_DELETE),
	    "GET, HEAD, POST, PUT, PATCH, DELETE");
	assert_string_equal(shape_allow(a, 0), "");
	arena_free(a);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accept_language),
		cmocka_unit_test(test_range_single),
		cmocka_unit_test(test_range_suffix_and_open_ended),
		cmocka_unit_test(test_range_out_of_range_416),
		cmocka_unit_test(test_range_malformed_ignored),
		cmocka_unit_test(test_range_invalid_ignored_not_416),
		cmocka_unit_test(test_range_unit_case_insensitive),
		cmocka_unit_test(test_if_range),
		cmocka_unit_test(test_etag_strong_and_weak),
		cmocka_unit_test(test_etag_lists_star_and_absence),
		cmocka_unit_test(test_etag_lists_parsed_not_searched),
		cmocka_unit_test(test_accept_encoding),
		cmocka_unit_test(test_accept_weight),
		cmocka_unit_test(test_accept_encoding_is_a_list_of_tokens),
		cmocka_unit_test(test_gzip_round_trip),
		cmocka_unit_test(test_compressible),
		cmocka_unit_test(test_fields_valid),
		cmocka_unit_test(test_fields_trim_entity),
		cmocka_unit_test(test_fields_trim_list_page),
		cmocka_unit_test(test_fields_trim_leaves_other_bodies),
		cmocka_unit_test(test_allow),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
