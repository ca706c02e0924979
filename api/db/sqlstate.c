/*
 * The one place where a PostgreSQL error class becomes an HTTP answer. The
 * database's own message never reaches the client: the log has it.
 */
#include <string.h>

#include "db/db.h"

static const struct {
	const char *state; /* a full SQLSTATE, or a two-character class */
	int status;
	const char *code;
	int retry;
} map[] = {
	{ "23505", 409, "conflict", 0 },
	{ "23P01", 409, "conflict", 0 },
	{ "23503", 422, "invalid_reference", 0 },
	{ "23514", 422, "constraint_violation", 0 },
	{ "23502", 422, "missing_value", 0 },
	{ "22P02", 422, "invalid_value", 0 },
	{ "22007", 422, "invalid_value", 0 },
	{ "22008", 422, "invalid_value", 0 },
	{ "22003", 422, "invalid_value", 0 },
	{ "22001", 422, "value_too_long", 0 },
	{ "40001", 503, "serialization_failure", 1 },
	{ "40P01", 503, "deadlock", 1 },
	{ "57014", 503, "statement_timeout", 0 },
	{ "55P03", 503, "lock_timeout", 0 },
	{ "53300", 503, "database_unavailable", 0 },
	{ "57P01", 503, "database_unavailable", 0 },
	{ "57P03", 503, "database_unavailable", 0 },
	{ "08", 503, "database_unavailable", 0 },
	{ "22", 422, "invalid_value", 0 },
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
