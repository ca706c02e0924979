/*
 * The migration runner: applies the migrations compiled into the binary
 * (db/migrations/NNNN_name.sql) in order, each in its own transaction, and
 * records each with a checksum so an edited, already applied file is caught.
 * It runs as the schema owner role; an advisory lock keeps two runners apart.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "db/db.h"

/* clang-format off */
#define MIGRATE_LOCK "7236150001"

static const char create_table[] =
    "CREATE TABLE IF NOT EXISTS schema_migrations ("
    " version integer PRIMARY KEY,"
    " name text NOT NULL,"
    " checksum text NOT NULL,"
    " applied_at timestamptz NOT NULL DEFAULT now())";
static const char check_applied[] =
    "SELECT checksum = encode(sha256(convert_to($2, 'UTF8')), 'hex')"
    " FROM schema_migrations WHERE version = $1";
static const char record[] =
    "INSERT INTO schema_migrations (version, name, checksum)"
    " VALUES ($1, $3, encode(sha256(convert_to($2, 'UTF8')), 'hex'))";
/* clang-format on */

/* Runs sql (possibly several statements); -1 with a log line on error. */
static int
run(PGconn *pg, const char *what, const char *sql, int n,
    const char *const *params)
{
	PGresult *res;
	int ok;

	res = n ? PQexecParams(pg, sql, n, NULL, params, NULL, NULL, 0) :
		  PQexec(pg, sql);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK ||
	    PQresultStatus(res) == PGRES_TUPLES_OK;
	if (!ok)
		log_error("migrate: %s: %s", what, PQresultErrorMessage(res));
	PQclear(res);
	return ok ? 0 : -1;
}

/* 1 when applied with the same text, 0 when not applied, -1 when changed. */
static int
applied(PGconn *pg, const char *const *params)
{
	PGresult *res;
	int rc;

	res = PQexecParams(pg, check_applied, 2, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK)
		rc = -1;
	else if (PQntuples(res) == 0)
		rc = 0;
	else
		rc = strcmp(PQgetvalue(res, 0, 0), "t") == 0 ? 1 : -1;
	PQclear(res);
	return rc;
}

static void
quiet(void *arg, const char *msg)
{
	(void)arg;
	(void)msg;
}

int
db_migrate(const char *conninfo)
{
	const char *params[3];
	char version[16], *sql;
	PGconn *pg;
	int count = 0, st;
	size_t i;

	pg = PQconnectdb(conninfo);
	if (PQstatus(pg) != CONNECTION_OK) {
		log_error("migrate: cannot connect: %s", PQerrorMessage(pg));
		PQfinish(pg);
		return -1;
	}
	/* "relation already exists, skipping" and the like are not news. */
	PQsetNoticeProcessor(pg, quiet, NULL);
	if (run(pg, "lock", "SELECT pg_advisory_lock(" MIGRATE_LOCK ")", 0,
		NULL) == -1 ||
	    run(pg, "schema_migrations", create_table, 0, NULL) == -1)
		goto fail;
	for (i = 0; migrations[i].name != NULL; i++) {
		snprintf(version, sizeof(version), "%zu", i + 1);
		sql = xmalloc(migrations[i].len + 1);
		memcpy(sql, migrations[i].data, migrations[i].len);
		sql[migrations[i].len] = '\0';
		params[0] = version;
		params[1] = sql;
		params[2] = migrations[i].name;
		if ((st = applied(pg, params)) == -1)
			log_error(
			    "migrate: %s was changed after it was applied "
			    "(or cannot be checked); write a new migration "
			    "instead",
			    migrations[i].name);
		if (st == 0) {
			if (run(pg, "begin", "BEGIN", 0, NULL) == -1 ||
			    run(pg, migrations[i].name, sql, 0, NULL) == -1 ||
			    run(pg, "record", record, 3, params) == -1 ||
			    run(pg, "commit", "COMMIT", 0, NULL) == -1)
				st = -1;
			else {
				log_info("migrate: applied %s",
				    migrations[i].name);
				count++;
			}
		}
		free(sql);
		if (st == -1)
			goto fail;
	}
	PQfinish(pg);
	return count;
fail:
	PQfinish(pg);
	return -1;
}
