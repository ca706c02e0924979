/* The Idempotency-Key fingerprint without a database: which differences
 * between two requests make them another request. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "http/http.h"

struct fp {
	char hash[65];
};

/* The fingerprint of POST path?query with a JSON body (raw NULL) or a
 * file (raw: the bytes, json NULL). query is "a=1&b" style, undecoded. */
static struct fp
fingerprint(const char *path, const char *query, const char *json,
    const char *raw, size_t rawlen)
{
	struct arena *a = arena_new();
	struct query_pair q[8];
	struct fp out;
	json_t *v = NULL;
	char *s, *tok, *save, *eq;
	size_t n = 0;

	s = arena_strdup(a, query);
	for (tok = strtok_r(s, "&", &save); tok != NULL && n < 8;
	     tok = strtok_r(NULL, "&", &save)) {
		if ((eq = strchr(tok, '=')) != NULL)
			*eq++ = '\0';
		q[n].name = tok;
		q[n++].value = eq;
	}
	if (json != NULL)
		assert_non_null(v = json_loads(json, JSON_DECODE_ANY, NULL));
	idempotency_fingerprint(a, "POST", path, q, n, v, raw, rawlen, out.hash);
	json_decref(v);
	arena_free(a);
	assert_int_equal(strlen(out.hash), 64);
	return out;
}

#define SAME(x, y) assert_string_equal((x).hash, (y).hash)
#define OTHER(x, y) assert_string_not_equal((x).hash, (y).hash)

static void
test_json_counts_by_meaning(void **state)
{
	struct fp base = fingerprint("/p", "",
	    "{\"a\":1,\"b\":[1,2],\"c\":\"é\"}", NULL, 0);

	(void)state;
	SAME(base,
	    fingerprint("/p", "",
		"{ \"c\" : \"\\u00e9\",\n\t\"b\":[1, 2],"
		"\"a\":1 }",
		NULL, 0));
	SAME(base,
	    fingerprint("/p", "", "{\"b\":[1,2],\"c\":\"\\u00E9\",\"a\":1}",
		NULL, 0));
	/* Nested objects are sorted too. */
	SAME(fingerprint("/p", "", "{\"x\":{\"b\":1,\"a\":2}}", NULL, 0),
	    fingerprint("/p", "", "{\"x\":{\"a\":2,\"b\":1}}", NULL, 0));
	OTHER(base,
	    fingerprint("/p", "", "{\"a\":2,\"b\":[1,2],\"c\":\"é\"}", NULL, 0));
	OTHER(base,
	    fingerprint("/p", "", "{\"a\":1,\"b\":[2,1],\"c\":\"é\"}", NULL, 0));
	OTHER(base,
	    fingerprint("/p", "", "{\"a\":1.0,\"b\":[1,2],\"c\":\"é\"}", NULL,
		0));
	OTHER(base,
	    fingerprint("/p", "", "{\"a\":\"1\",\"b\":[1,2],\"c\":\"é\"}", NULL,
		0));
	OTHER(base, fingerprint("/p", "", "{\"a\":1,\"b\":[1,2]}", NULL, 0));
	/* The method and path count. */
	OTHER(base,
	    fingerprint("/q", "", "{\"a\":1,\"b\":[1,2],\"c\":\"é\"}", NULL, 0));
}

static void
test_files_count_byte_for_byte(void **state)
{
	(void)state;
	SAME(fingerprint("/f", "", NULL, "a\0b", 3),
	    fingerprint("/f", "", NULL, "a\0b", 3));
	OTHER(fingerprint("/f", "", NULL, "a\0b", 3),
	    fingerprint("/f", "", NULL, "a\0c", 3));
	OTHER(fingerprint("/f", "", NULL, "{\"a\":1}", 7),
	    fingerprint("/f", "", NULL, "{ \"a\":1}", 8));
	SAME(fingerprint("/f", "", NULL, NULL, 0),
	    fingerprint("/f", "", NULL, "", 0));
}

static void
test_no_query_no_body(void **state)
{
	struct arena *a = arena_new();
	char h[65];

	(void)state;
	/* As the server calls it for a POST without a query or a body. */
	idempotency_fingerprint(a, "POST", "/f", NULL, 0, NULL, NULL, 0, h);
	assert_string_equal(h, fingerprint("/f", "", NULL, NULL, 0).hash);
	arena_free(a);
}

static void
test_the_query_counts_in_any_order(void **state)
{
	struct fp dry = fingerprint("/i", "dry_run=true", "{}", NULL, 0);

	(void)state;
	OTHER(dry, fingerprint("/i", "dry_run=false", "{}", NULL, 0));
	OTHER(dry, fingerprint("/i", "", "{}", NULL, 0));
	OTHER(dry,
	    fingerprint("/i", "dry_run=true&dry_run=false", "{}", NULL, 0));
	SAME(dry, fingerprint("/i", "dry_run=true", "{ }", NULL, 0));
	/* Sorted by name, then by value. */
	SAME(fingerprint("/i", "a=1&b=2&a=0", "{}", NULL, 0),
	    fingerprint("/i", "b=2&a=0&a=1", "{}", NULL, 0));
	OTHER(fingerprint("/i", "a=1&b=2", "{}", NULL, 0),
	    fingerprint("/i", "a=2&b=1", "{}", NULL, 0));
	/* A name without '=' is not a name with an empty value, and no
	 * joining of names and values reads as another. */
	OTHER(fingerprint("/i", "a", "{}", NULL, 0),
	    fingerprint("/i", "a=", "{}", NULL, 0));
	OTHER(fingerprint("/i", "ab=c", "{}", NULL, 0),
	    fingerprint("/i", "a=bc", "{}", NULL, 0));
	OTHER(fingerprint("/i", "a=1&b=2", "{}", NULL, 0),
	    fingerprint("/i", "a=1", "{}", NULL, 0));
	OTHER(fingerprint("/f", "filename=a.png", NULL, "x", 1),
	    fingerprint("/f", "filename=b.png", NULL, "x", 1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_counts_by_meaning),
		cmocka_unit_test(test_files_count_byte_for_byte),
		cmocka_unit_test(test_no_query_no_body),
		cmocka_unit_test(test_the_query_counts_in_any_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
