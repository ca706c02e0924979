/*
 * Transactions against a real PostgreSQL (the cluster of tests/run.sh): a
 * db_tx inside a db_tx is a savepoint, so an inner rollback, asked for or
 * after a failure, undoes the inner work alone and the outer goes on.
 * What a transaction did is read back from a session setting, which a
 * rollback undoes and a commit keeps, so no table is needed. A transaction
 * past its deadline fails at its next statement and is rolled back. A
 * statement held by db_exec_later runs before the next one, or with the
 * COMMIT, whose failure it then is. A backend terminated while idle before
 * a transaction (whose BEGIN goes with its first statement) costs nothing.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <libpq-fe.h>

#include "db/db.h"

static const struct db_stmt stmts[] = {
	{ "t_set", "SELECT set_config('danvan.t', $1, false)" },
	{ "t_get", "SELECT coalesce(current_setting('danvan.t', true), '')" },
	{ "t_fail", "SELECT 1 / 0" },
	{ "t_pid", "SELECT pg_backend_pid()::text" },
	{ NULL, NULL },
};
static const struct db_stmt *const groups[] = { stmts, NULL };

static struct arena *a;
static struct failure f;

/* Sets the value (aborting the test when the database refuses). */
static void
set(const char *v)
{
	assert_non_null(db_exec(a, &f, "t_set", 1, &v));
}

static const char *
get(void)
{
	struct dbres *res = db_exec(a, &f, "t_get", 0, NULL);

	assert_non_null(res);
	return db_get(res, 0, 0);
}

/* A step: sets its value, then returns its rc (failing first for -1). */
struct step {
	const char *value;
	int rc;
	struct step *inner; /* run as a nested db_tx after the set */
	int inner_rc;	    /* what the nested db_tx returned */
	const char *seen;   /* the value after the nested db_tx */
};

static int
step(void *p)
{
	struct step *s = p;

	set(s->value);
	if (s->inner != NULL) {
		s->inner_rc = db_tx(a, &f, step, s->inner);
		s->seen = arena_strdup(a, get());
	}
	if (s->rc == -1)
		return db_exec(a, &f, "t_fail", 0, NULL) == NULL ? -1 : 0;
	return s->rc;
}

static int
setup(void **state)
{
	(void)state;
	a = arena_new();
	failure_clear(&f);
	set("before");
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	arena_free(a);
	return 0;
}

static void
test_commit_keeps_both(void **state)
{
	struct step in = { "inner", 0, NULL, 0, NULL };
	struct step out = { "outer", 0, &in, 0, NULL };

	(void)state;
	assert_int_equal(db_tx(a, &f, step, &out), 0);
	assert_int_equal(out.inner_rc, 0);
	assert_string_equal(out.seen, "inner");
	assert_string_equal(get(), "inner");
	assert_int_equal(f.status, 0);
}

static void
test_failed_inner_rolls_back_to_its_savepoint(void **state)
{
	struct step in = { "inner", -1, NULL, 0, NULL };
	struct step out = { "outer", 0, &in, 0, NULL };

	(void)state;
	assert_int_equal(db_tx(a, &f, step, &out), 0);
	assert_int_equal(out.inner_rc, -1);
	assert_int_not_equal(f.status, 0); /* the inner failure is kept */
	/* The outer went on after the inner's rollback, and committed. */
	assert_string_equal(out.seen, "outer");
	assert_string_equal(get(), "outer");
}

static void
test_inner_rollback_is_no_failure(void **state)
{
	struct step in = { "inner", DB_ROLLBACK, NULL, 0, NULL };
	struct step out = { "outer", 0, &in, 0, NULL };

	(void)state;
	assert_int_equal(db_tx(a, &f, step, &out), 0);
	assert_int_equal(out.inner_rc, 0);
	assert_int_equal(f.status, 0);
	assert_string_equal(out.seen, "outer");
	assert_string_equal(get(), "outer");
}

static void
test_outer_rollback_is_no_failure(void **state)
{
	struct step in = { "inner", 0, NULL, 0, NULL };
	struct step out = { "outer", DB_ROLLBACK, &in, 0, NULL };

	(void)state;
	assert_int_equal(db_tx(a, &f, step, &out), 0);
	assert_int_equal(f.status, 0);
	assert_string_equal(get(), "before");
}

static void
test_failed_outer_undoes_a_released_inner(void **state)
{
	struct step in = { "inner", 0, NULL, 0, NULL };
	struct step out = { "outer", -1, &in, 0, NULL };

	(void)state;
	assert_int_equal(db_tx(a, &f, step, &out), -1);
	assert_int_not_equal(f.status, 0);
	failure_clear(&f);
	assert_string_equal(get(), "before");
}

static void
test_three_levels(void **state)
{
	struct step deepest = { "deepest", DB_ROLLBACK, NULL, 0, NULL };
	struct step mid = { "mid", 0, &deepest, 0, NULL };
	struct step out = { "outer", 0, &mid, 0, NULL };

	(void)state;
	assert_int_equal(db_tx(a, &f, step, &out), 0);
	assert_string_equal(mid.seen, "mid");
	assert_string_equal(out.seen, "mid");
	assert_string_equal(get(), "mid");
	/* Savepoints are released: a new transaction starts clean. */
	deepest.rc = 0;
	assert_int_equal(db_tx(a, &f, step, &out), 0);
	assert_string_equal(get(), "deepest");
}

/* Sets its value, waits past the deadline, then sets it again. */
static int
slow(void *p)
{
	const char *v = p;

	set(v);
	usleep(60 * 1000);
	return db_exec(a, &f, "t_set", 1, &v) == NULL ? -1 : 0;
}

static void
test_deadline(void **state)
{
	struct step quick = { "quick", 0, NULL, 0, NULL };

	(void)state;
	cfg.transaction_timeout_ms = 30;
	assert_int_equal(db_tx(a, &f, slow, "slow"), -1);
	assert_int_equal(f.status, 503);
	assert_string_equal(f.code, "request_timeout");
	assert_string_equal(f.header, "Retry-After");
	assert_int_equal(f.retryable, 0);
	failure_clear(&f);
	assert_string_equal(get(), "before");
	/* Outside a transaction there is no deadline; a quick one passes. */
	assert_int_equal(db_tx(a, &f, step, &quick), 0);
	assert_string_equal(get(), "quick");
	cfg.transaction_timeout_ms = 0;
	assert_int_equal(db_tx(a, &f, slow, "unlimited"), 0);
	assert_string_equal(get(), "unlimited");
}

/* A transaction whose first statement is a nested db_tx's SAVEPOINT. */
static int
nested_first(void *p)
{
	struct step *s = p;

	s->inner_rc = db_tx(a, &f, step, s->inner);
	return 0;
}

static void
test_savepoint_first(void **state)
{
	struct step in = { "inner", DB_ROLLBACK, NULL, 0, NULL };
	struct step out = { NULL, 0, &in, 0, NULL };

	(void)state;
	assert_int_equal(db_tx(a, &f, nested_first, &out), 0);
	assert_int_equal(out.inner_rc, 0);
	assert_string_equal(get(), "before");
	in.rc = 0;
	assert_int_equal(db_tx(a, &f, nested_first, &out), 0);
	assert_int_equal(f.status, 0);
	assert_string_equal(get(), "inner");
}

/* Holds its value for later, and reads what a statement after it sees. */
struct held {
	const char *value, *seen;
	int read_after;
};

static int
hold(void *p)
{
	struct held *h = p;

	if (db_exec_later(a, &f, "t_set", 1, &h->value) == -1)
		return -1;
	if (h->read_after)
		h->seen = arena_strdup(a, get());
	return 0;
}

static void
test_later_commits_with_the_transaction(void **state)
{
	struct held h = { "held", NULL, 0 };

	(void)state;
	assert_int_equal(db_tx(a, &f, hold, &h), 0);
	assert_int_equal(f.status, 0);
	assert_string_equal(get(), "held");
}

static void
test_later_runs_before_the_next_statement(void **state)
{
	struct held h = { "held", NULL, 1 };

	(void)state;
	assert_int_equal(db_tx(a, &f, hold, &h), 0);
	assert_string_equal(h.seen, "held");
	assert_string_equal(get(), "held");
}

/* Sets its value, then holds a statement that fails. */
static int
hold_failing(void *p)
{
	set(p);
	return db_exec_later(a, &f, "t_fail", 0, NULL);
}

static void
test_failed_later_fails_the_commit(void **state)
{
	(void)state;
	assert_int_equal(db_tx(a, &f, hold_failing, "lost"), -1);
	assert_int_equal(f.status, 422); /* 22012, division by zero */
	failure_clear(&f);
	/* Rolled back, and the connection is usable again. */
	assert_string_equal(get(), "before");
}

static void
test_terminated_idle_backend_before_a_transaction(void **state)
{
	struct step s = { "after", 0, NULL, 0, NULL };
	struct dbres *res = db_exec(a, &f, "t_pid", 0, NULL);
	PGconn *other = db_pg_connect();
	char sql[80];
	PGresult *r;
	int i, gone = 0;

	(void)state;
	assert_non_null(res);
	assert_int_equal(PQstatus(other), CONNECTION_OK);
	snprintf(sql, sizeof(sql), "SELECT pg_terminate_backend(%s, 5000)",
	    db_get(res, 0, 0));
	r = PQexec(other, sql);
	assert_string_equal(PQgetvalue(r, 0, 0), "t");
	PQclear(r);
	for (i = 0; i < 100 && !gone; i++) {
		snprintf(sql, sizeof(sql),
		    "SELECT count(*) FROM pg_stat_activity WHERE pid = %s",
		    db_get(res, 0, 0));
		r = PQexec(other, sql);
		gone = strcmp(PQgetvalue(r, 0, 0), "0") == 0;
		PQclear(r);
		if (!gone)
			usleep(10 * 1000);
	}
	PQfinish(other);
	assert_true(gone);
	/* Its BEGIN and first statement go again, on a new connection; the
	 * setting of the old session went with it. */
	assert_int_equal(db_tx(a, &f, step, &s), 0);
	assert_int_equal(f.status, 0);
	assert_string_equal(get(), "after");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_commit_keeps_both, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_failed_inner_rolls_back_to_its_savepoint, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_inner_rollback_is_no_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_outer_rollback_is_no_failure, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_failed_outer_undoes_a_released_inner, setup, teardown),
		cmocka_unit_test_setup_teardown(test_three_levels, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_deadline, setup, teardown),
		cmocka_unit_test_setup_teardown(test_savepoint_first, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(
		    test_later_commits_with_the_transaction, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_later_runs_before_the_next_statement, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_failed_later_fails_the_commit, setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_terminated_idle_backend_before_a_transaction, setup,
		    teardown),
	};
	const char *url = getenv("DANVAN_SUPER_DATABASE_URL");

	if (url == NULL || *url == '\0') {
		fprintf(stderr, "error: DANVAN_SUPER_DATABASE_URL not set: run "
		    "this test through tests/run.sh\n");
		return 1;
	}
	if (db_init(url, groups) == -1)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
