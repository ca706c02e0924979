/*
 * The one place where a PostgreSQL error class becomes an HTTP answer. The
 * database's own message never reaches the client, nor does any name of the
 * schema (table, constraint): the log has them.
 */
#include <string.h>

#include "db/db.h"

static const struct {
	const char *state; /* a full SQLSTATE, or a two-character class */
	int status;
	const char *code;
	int retry;
	const char *detail; /* NULL: the one of its status class */
} map[] = {
	{ "23505", 409, "conflict", 0,
	    "another record already holds a value that must be unique" },
	{ "23P01", 409, "conflict", 0, "the change overlaps another record" },
	{ "23503", 422, "invalid_reference", 0,
	    "a value names something that does not exist" },
	{ "23514", 422, "constraint_violation", 0,
	    "a value is outside what is allowed" },
	{ "23502", 422, "missing_value", 0, "a required value is missing" },
	{ "22P02", 422, "invalid_value", 0, NULL },
	{ "22007", 422, "invalid_value", 0, NULL },
	{ "22008", 422, "invalid_value", 0, NULL },
	{ "22003", 422, "invalid_value", 0, NULL },
	{ "22001", 422, "value_too_long", 0, NULL },
	{ "40001", 503, "serialization_failure", 1, NULL },
	{ "40P01", 503, "deadlock", 1, NULL },
	{ "57014", 503, "statement_timeout", 0, NULL },
	{ "55P03", 503, "lock_timeout", 0, NULL },
	{ "53300", 503, "database_unavailable", 0, NULL },
	{ "57P01", 503, "database_unavailable", 0, NULL },
	/* The backend is gone: another crashed, or the session idled out. */
	{ "57P02", 503, "database_unavailable", 0, NULL },
	{ "57P05", 503, "database_unavailable", 0, NULL },
	{ "57P03", 503, "database_unavailable", 0, NULL },
	{ "08", 503, "database_unavailable", 0, NULL },
	{ "22", 422, "invalid_value", 0, NULL },
};

int
db_sqlstate_http(const char *sqlstate, const char **code, int *retry)
{
	size_t i, n;

	*retry = 0;
	if (sqlstate != NULL && strlen(sqlstate) == 5)
		for (i = 0; i < nitems(map); i++) {
			n = strlen(map[i].state);
			if (strncmp(map[i].state, sqlstate, n) == 0) {
				*code = map[i].code;
				*retry = map[i].retry;
				return map[i].status;
			}
		}
	*code = "internal";
	return 500;
}

const char *
db_sqlstate_detail(const char *sqlstate)
{
	const char *code;
	size_t i;
	int retry, status = db_sqlstate_http(sqlstate, &code, &retry);

	for (i = 0; status < 500 && i < nitems(map); i++)
		if (strcmp(map[i].state, sqlstate) == 0 && map[i].detail != NULL)
			return map[i].detail;
	if (status < 500)
		return "the database refused a value";
	return "the database could not answer";
}

char *
db_fkey_column(struct arena *a, const char *constraint, const char *table)
{
	size_t c, t;

	if (constraint == NULL || table == NULL)
		return NULL;
	c = strlen(constraint);
	t = strlen(table);
	if (c <= t + 6 || strncmp(constraint, table, t) != 0 ||
	    constraint[t] != '_' || strcmp(constraint + c - 5, "_fkey") != 0)
		return NULL;
	return arena_strndup(a, constraint + t + 1, c - t - 6);
}
