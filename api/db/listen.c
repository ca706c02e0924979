/*
 * A connection of its own that LISTENs on one channel, for the thread that
 * wakes the change feed's waiting requests: it is never used for queries,
 * so a NOTIFY reaches it without waiting for a worker. It reconnects (at
 * most once a second) after the server went away.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "db/db.h"

static PGconn *pg;
static char *channel;
static int64_t last_attempt;

/* Connects and LISTENs; 0, or -1 (logged, pg closed) when it cannot. */
static int
listen_connect(void)
{
	PGresult *res;
	char *sql, *ident;
	int ok;

	last_attempt = mono_us();
	pg = db_pg_connect();
	if (PQstatus(pg) != CONNECTION_OK)
		goto fail;
	if ((ident = PQescapeIdentifier(pg, channel, strlen(channel))) == NULL)
		goto fail;
	sql = xcalloc(1, strlen(ident) + 8);
	memcpy(sql, "LISTEN ", 7);
	memcpy(sql + 7, ident, strlen(ident));
	PQfreemem(ident);
	res = PQexec(pg, sql);
	free(sql);
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	PQclear(res);
	if (ok)
		return 0;
fail:
	log_warn("cannot listen for changes: %s", PQerrorMessage(pg));
	PQfinish(pg);
	pg = NULL;
	return -1;
}

int
db_listen_start(const char *name)
{
	channel = xstrdup(name);
	return listen_connect();
}

/* Takes every notification waiting on the connection; 1 if there was one. */
static int
drain(void)
{
	PGnotify *n;
	int got = 0;

	while ((n = PQnotifies(pg)) != NULL) {
		got = 1;
		PQfreemem(n);
	}
	return got;
}

int
db_listen_wait(int timeout_ms)
{
	struct pollfd p;
	int rc;

	if (pg == NULL) {
		if (mono_us() - last_attempt < 1000000 ||
		    listen_connect() == -1) {
			poll(NULL, 0, timeout_ms);
			return -1;
		}
		/* What was sent while no one listened is unknown: wake all. */
		return 1;
	}
	if (drain())
		return 1;
	p.fd = PQsocket(pg);
	p.events = POLLIN;
	p.revents = 0;
	rc = poll(&p, 1, timeout_ms);
	if (rc < 0 && errno != EINTR)
		abort();
	if (rc <= 0)
		return 0;
	if (PQconsumeInput(pg) == 0 || PQstatus(pg) != CONNECTION_OK) {
		log_warn("the change listener lost its connection: %s",
		    PQerrorMessage(pg));
		PQfinish(pg);
		pg = NULL;
		return 1;
	}
	return drain();
}

void
db_listen_stop(void)
{
	if (pg != NULL)
		PQfinish(pg);
	pg = NULL;
	free(channel);
	channel = NULL;
}
