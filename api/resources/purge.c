/*
 * Deleting what has expired: Idempotency-Key records after a day, refresh
 * token families whose every token has expired, old login failure windows
 * (the SQL function purge_expired() says which rows). Run by `danvan purge`,
 * which deploy/systemd/danvan-purge.timer starts every hour.
 */
#include <stdlib.h>

#include "resources/resources.h"

static const char purge[] = "SELECT purge_expired()";

const struct db_stmt purge_stmts[] = {
	{ "purge_expired", purge },
	{ NULL, NULL },
};

long
purge_run(void)
{
	struct arena *a = arena_new();
	struct failure f = { 0 };
	struct dbres *res;
	long n = -1;

	if ((res = db_exec(a, &f, "purge_expired", 0, NULL)) == NULL)
		log_error("purge: %s", failure_text(a, &f));
	else
		n = strtol(db_get(res, 0, 0), NULL, 10);
	arena_free(a);
	return n;
}
