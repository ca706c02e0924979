/* The per-request arena: alignment, large blocks, strings, deferred cleanup order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/core.h"

static int order[4], norder;

static void
record(void *p)
{
	order[norder++] = (int)(intptr_t)p;
}

static void
test_alloc_aligned_and_distinct(void **state)
{
	struct arena *a = arena_new();
	char *p, *q;
	int i;

	(void)state;
	for (i = 0; i < 2000; i++) {
		p = arena_alloc(a, (size_t)(i % 37) + 1);
		assert_int_equal((uintptr_t)p % 16, 0);
		memset(p, 0xab, (size_t)(i % 37) + 1);
	}
	p = arena_alloc(a, 100000);
	q = arena_alloc(a, 16);
	memset(p, 1, 100000);
	memset(q, 2, 16);
	assert_int_equal(p[99999], 1);
	assert_int_equal(q[0], 2);
	assert_true(q < p || q >= p + 100000);
	arena_free(a);
}

static void
test_strings(void **state)
{
	struct arena *a = arena_new();

	(void)state;
	assert_string_equal(arena_strdup(a, "Dân vận khéo"), "Dân vận khéo");
	assert_string_equal(arena_strndup(a, "abcdef", 3), "abc");
	assert_string_equal(arena_printf(a, "%s-%d", "kh", 14), "kh-14");
	assert_int_equal(strlen(arena_printf(a, "%5000s", "x")), 5000);
	assert_int_equal(((char *)arena_zalloc(a, 64))[63], 0);
	arena_free(a);
}

static void
test_defer_runs_last_first(void **state)
{
	struct arena *a = arena_new();

	(void)state;
	norder = 0;
	arena_defer(a, record, (void *)1);
	arena_defer(a, record, (void *)2);
	arena_defer(a, record, (void *)3);
	assert_int_equal(norder, 0);
	arena_free(a);
	assert_int_equal(norder, 3);
	assert_int_equal(order[0], 3);
	assert_int_equal(order[2], 1);
}

/* An arena made after one was freed (the thread's spare, emptied) starts
 * afresh: the earlier defers do not run again, and what it gives is usable
 * in full, small and large. */
static void
test_reused_after_free(void **state)
{
	struct arena *a = arena_new();
	char *big;
	int i;

	(void)state;
	norder = 0;
	arena_defer(a, record, (void *)1);
	(void)arena_alloc(a, 20000);
	for (i = 0; i < 100; i++)
		(void)arena_alloc(a, 100);
	arena_free(a);
	assert_int_equal(norder, 1);
	a = arena_new();
	assert_string_equal(arena_printf(a, "%s-%d", "kh", 15), "kh-15");
	big = arena_alloc(a, 20000);
	memset(big, 'x', 20000);
	assert_int_equal(((char *)arena_zalloc(a, 8000))[7999], 0);
	arena_free(a);
	assert_int_equal(norder, 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_alloc_aligned_and_distinct),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_defer_runs_last_first),
		cmocka_unit_test(test_reused_after_free),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
