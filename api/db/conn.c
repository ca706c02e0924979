/*
 * Per-thread PostgreSQL connections. Each thread that runs handlers owns one
 * connection (no lock on the hot path), opened on first use with every named
 * statement prepared. When the server goes away the request gets 503 with
 * Retry-After, and the thread reconnects (at most once a second) on a later
 * request: no restart needed. A backend that was terminated while idle is
 * found out by the statement sent to it, which then runs once more on a new
 * connection (see call).
 *
 * A thread that runs an event loop (db_defer_thread) owns one more
 * connection, read-only and in pipeline mode, for deferred reads: see
 * "Deferred reads" below.
 *
 * With DANVAN_READ_DATABASE_URL (a streaming standby), a thread also owns a
 * connection to it, used between db_read_replica() and db_read_primary() for
 * requests that write nothing. The standby's replay lag is measured at most
 * once a second per thread; while it is down or lags more than
 * DANVAN_READ_MAX_LAG_MS, those requests read from the primary instead.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>

#include <libpq-fe.h>

#include "db/db.h"

#define RETRY_AFTER "1"
#define RECONNECT_INTERVAL_US 1000000
#define TX_ATTEMPTS 3
#define LAG_CHECK_INTERVAL_US 1000000
/* Deferred reads in flight on one thread's connection at most; past that a
 * read runs at once, as any statement. */
#define DEFER_MAX 64

/* One statement: a prepared one by name, or plain sql. */
struct call {
	const char *name, *sql;
	int nparams;
	const char *const *params;
	const int *lengths, *formats;
	int binary_result;
};

struct conn {
	PGconn *pg;
	int read_only; /* default_transaction_read_only: the deferred one */
	int64_t last_attempt;
	int ready; /* connected and every statement prepared */
	int depth; /* db_tx calls open: 1 the transaction, more its savepoints */
	int shared; /* the depth whose db_tx calls join it (db_tx_share); 0 */
	int64_t deadline; /* mono_us() by which the open transaction ends; 0 */
	/* Not sent yet, but in the round trip of the next statement: the
	 * transaction's BEGIN, and a statement of db_exec_later. */
	int begin_pending, has_later;
	struct call later;
};

/* A read sent on the deferred connection whose result has not come. */
struct pending {
	struct arena *a;
	struct failure *f;
	const char *stmt;
	int nparams;
	const char **params; /* copies, in a: the read may be sent again */
	void (*done)(void *, struct dbres *);
	void *arg;
	PGresult *res; /* its result so far (the first error wins) */
	int resent;    /* sent once more, on a new connection */
};

/* A thread's connections: the primary's, and the standby's when there is
 * one; on a thread with an event loop, the deferred one and its reads in
 * flight (a ring, in the order they were sent). */
struct thread_db {
	struct conn primary, replica, deferred;
	int epfd; /* the loop's epoll set, which holds the deferred socket; -1 */
	int armed; /* the request's next statement may be deferred */
	int out;   /* the socket is watched for room to send as well */
	struct pending q[DEFER_MAX];
	int head, n;
	int want_replica; /* between db_read_replica() and db_read_primary() */
	int used_replica; /* a statement went to the standby since */
	int64_t lag_checked; /* mono_us() of the last lag measurement; 0 */
	long lag_ms;	     /* that measurement; -1 when it failed */
};

struct dbres {
	PGresult *res;
};

static const char *conninfo;
static const struct db_stmt *const *groups;
static pthread_key_t key;
static pthread_once_t key_once = PTHREAD_ONCE_INIT;
static long reconnects, nconnections;
static long replica_reads, replica_fallbacks, replica_lag_ms = -1;
static long deferred_reads, deferred_resent;

static void
conn_close(struct conn *c)
{
	if (c->pg != NULL) {
		PQfinish(c->pg);
		__atomic_fetch_sub(&nconnections, 1, __ATOMIC_RELAXED);
	}
}

static void
conn_free(void *p)
{
	struct thread_db *t = p;

	conn_close(&t->primary);
	conn_close(&t->replica);
	conn_close(&t->deferred);
	while (t->n > 0) {
		PQclear(t->q[t->head].res);
		t->head = (t->head + 1) % DEFER_MAX;
		t->n--;
	}
	free(t);
}

static void
make_key(void)
{
	if (pthread_key_create(&key, conn_free) != 0)
		abort();
}

/* Opens a connection with our session settings. Never NULL. */
static PGconn *
connect_pg(const char *info, int read_only)
{
	const char *keys[6], *vals[6];
	char opts[112];
	int n = 0;

	/* No JIT: the statements are short, or reports over many rows whose
	 * many expressions JIT would spend longer compiling than running. */
	snprintf(opts, sizeof(opts), "-c statement_timeout=%d -c jit=off%s",
	    cfg.statement_timeout_ms,
	    read_only ? " -c default_transaction_read_only=on" : "");
	keys[n] = "dbname";
	vals[n++] = info;
	keys[n] = "options";
	vals[n++] = opts;
	keys[n] = "application_name";
	vals[n++] = "danvan";
	keys[n] = "connect_timeout";
	vals[n++] = "3";
	/* Debian's libpq otherwise probes GSSAPI on every TCP connect. */
	if (strstr(info, "gssencmode") == NULL) {
		keys[n] = "gssencmode";
		vals[n++] = "disable";
	}
	keys[n] = NULL;
	vals[n] = NULL;
	return PQconnectdbParams(keys, vals, 1);
}

PGconn *
db_pg_connect(void)
{
	return connect_pg(conninfo, 0);
}

/* Prepares every statement; -1 (logged) when one does not fit the schema. */
static int
prepare_all(PGconn *pg)
{
	const struct db_stmt *s;
	PGresult *res;
	size_t g;
	int ok;

	for (g = 0; groups[g] != NULL; g++)
		for (s = groups[g]; s->name != NULL; s++) {
			res = PQprepare(pg, s->name, s->sql, 0, NULL);
			ok = PQresultStatus(res) == PGRES_COMMAND_OK;
			if (!ok)
				log_error("prepare %s: %s", s->name,
				    PQresultErrorMessage(res));
			PQclear(res);
			if (!ok)
				return -1;
		}
	return 0;
}

/* Records that the database cannot be reached: 503 with Retry-After. */
static void
fail_unavailable(struct arena *a, struct failure *f)
{
	if (f->status != 0)
		return;
	failure_set(f, a, 503, "database_unavailable",
	    "the database is not reachable; try again shortly");
	failure_header(f, "Retry-After", RETRY_AFTER);
}

static struct thread_db *
thread_db(void)
{
	struct thread_db *t;

	pthread_once(&key_once, make_key);
	if ((t = pthread_getspecific(key)) == NULL) {
		t = xcalloc(1, sizeof(*t));
		t->lag_ms = -1;
		t->epfd = -1;
		t->deferred.read_only = 1;
		pthread_setspecific(key, t);
	}
	return t;
}

/* Makes c usable, (re)connecting to info when needed: 0, or -1 when the
 * server cannot be reached now. */
static int
conn_open(struct conn *c, const char *info)
{
	int64_t now;

	if (c->ready && PQstatus(c->pg) == CONNECTION_OK)
		return 0;
	/* A new connection inside a transaction would run the rest of it
	 * outside any transaction: the transaction fails instead (unless
	 * nothing of it was sent yet). */
	if (c->depth > 0 && !c->begin_pending)
		return -1;
	now = mono_us();
	if (c->last_attempt != 0 &&
	    now - c->last_attempt < RECONNECT_INTERVAL_US)
		return -1;
	c->last_attempt = now;
	c->ready = 0;
	if (c->pg == NULL) {
		c->pg = connect_pg(info, c->read_only);
		__atomic_fetch_add(&nconnections, 1, __ATOMIC_RELAXED);
	} else {
		PQreset(c->pg);
		__atomic_fetch_add(&reconnects, 1, __ATOMIC_RELAXED);
	}
	if (PQstatus(c->pg) != CONNECTION_OK) {
		log_warn("database connection failed: %s",
		    PQerrorMessage(c->pg));
		return -1;
	}
	if (prepare_all(c->pg) == -1)
		return -1;
	c->ready = 1;
	return 0;
}

/* The standby's replay lag in ms (0 when it has replayed all it received,
 * or has been promoted), or -1 when it cannot tell. */
static long
measure_lag(PGconn *pg)
{
	PGresult *res = PQexec(pg,
	    "SELECT CASE WHEN NOT pg_is_in_recovery() OR "
	    "pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0 "
	    "ELSE coalesce(1000 * extract(epoch FROM now() - "
	    "pg_last_xact_replay_timestamp()), 0) END::bigint");
	long lag = -1;

	if (PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
		lag = strtol(PQgetvalue(res, 0, 0), NULL, 10);
	PQclear(res);
	return lag < 0 ? -1 : lag;
}

/* Whether this request's next statement may go to the standby. */
static int
replica_usable(struct thread_db *t)
{
	struct conn *c = &t->replica;
	int64_t now;

	if (!t->want_replica || cfg.read_database_url == NULL ||
	    t->primary.depth > 0)
		return 0;
	/* A transaction begun on the standby ends there. */
	if (c->depth > 0)
		return 1;
	if (conn_open(c, cfg.read_database_url) == -1)
		goto fallback;
	now = mono_us();
	if (t->lag_checked == 0 ||
	    now - t->lag_checked >= LAG_CHECK_INTERVAL_US) {
		t->lag_checked = now;
		t->lag_ms = measure_lag(c->pg);
		__atomic_store_n(&replica_lag_ms, t->lag_ms, __ATOMIC_RELAXED);
		if (t->lag_ms < 0)
			c->ready = 0;
	}
	if (t->lag_ms < 0 || t->lag_ms > cfg.read_max_lag_ms)
		goto fallback;
	return 1;
fallback:
	if (!t->used_replica)
		__atomic_fetch_add(&replica_fallbacks, 1, __ATOMIC_RELAXED);
	t->want_replica = 0; /* the rest of this request reads the primary */
	return 0;
}

/* The calling thread's usable connection, or NULL after recording 503. */
static struct conn *
conn_get(struct arena *a, struct failure *f)
{
	struct thread_db *t = thread_db();

	t->armed = 0; /* a request's later statements may depend on this one */
	if (replica_usable(t)) {
		t->used_replica = 1;
		return &t->replica;
	}
	if (conn_open(&t->primary, conninfo) == 0)
		return &t->primary;
	fail_unavailable(a, f);
	return NULL;
}

void
db_read_replica(void)
{
	struct thread_db *t = thread_db();

	t->want_replica = cfg.read_database_url != NULL;
	t->used_replica = 0;
	t->armed = 0;
}

long
db_read_primary(void)
{
	struct thread_db *t = thread_db();
	long lag = t->used_replica ? t->lag_ms : -1;

	if (t->used_replica)
		__atomic_fetch_add(&replica_reads, 1, __ATOMIC_RELAXED);
	t->want_replica = t->used_replica = 0;
	return lag;
}

int
db_on_replica(void)
{
	return thread_db()->used_replica;
}

void
db_replica_stats(long *reads, long *fallbacks, long *lag_ms)
{
	*reads = __atomic_load_n(&replica_reads, __ATOMIC_RELAXED);
	*fallbacks = __atomic_load_n(&replica_fallbacks, __ATOMIC_RELAXED);
	*lag_ms = __atomic_load_n(&replica_lag_ms, __ATOMIC_RELAXED);
}

static void
res_free(void *p)
{
	PQclear(p);
}

/* Sends k: in a pipeline by the extended protocol, which is the only one
 * a pipeline takes (a transaction-control command too). */
static int
send_call(PGconn *pg, const struct call *k, int pipelined)
{
	if (k->name != NULL)
		return PQsendQueryPrepared(pg, k->name, k->nparams, k->params,
		    k->lengths, k->formats, k->binary_result);
	if (pipelined)
		return PQsendQueryParams(pg, k->sql, 0, NULL, NULL, NULL, NULL,
		    0);
	return PQsendQuery(pg, k->sql);
}

/*
 * Reads one statement's results as PQexec would, into *res (the last one,
 * an error before others). *unrun is set when the backend said it was
 * terminated (57P01, 57P05) before any result of the round trip (*ran):
 * libpq's last result would no longer carry that SQLSTATE, and a statement
 * that ran to its end has a result before its commit.
 */
static void
read_call(PGconn *pg, PGresult **res, int *ran, int *unrun)
{
	PGresult *r;
	const char *state;

	while ((r = PQgetResult(pg)) != NULL) {
		if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
			PQclear(
			    r); /* a sync is the round trip's end, no result */
			break;
		}
		if (PQresultStatus(r) != PGRES_FATAL_ERROR)
			*ran = 1;
		else if (!*ran &&
		    (state = PQresultErrorField(r, PG_DIAG_SQLSTATE)) != NULL &&
		    (strcmp(state, "57P01") == 0 || strcmp(state, "57P05") == 0))
			*unrun = 1;
		if (*res != NULL && PQresultStatus(*res) == PGRES_FATAL_ERROR &&
		    PQresultStatus(r) != PGRES_FATAL_ERROR) {
			PQclear(r);
			continue;
		}
		PQclear(*res);
		*res = r;
	}
}

/*
 * Sends k, after what waits for it on c (the transaction's BEGIN, a
 * db_exec_later statement) in the same round trip: a libpq pipeline, in
 * which a statement that fails skips the rest. Returns k's result, or the
 * first that failed (*failed then names its statement), never NULL.
 */
static PGresult *
call_once(struct conn *c, const struct call *k, int *unrun, const char **failed)
{
	static const struct call begin = { NULL, "BEGIN", 0, NULL, NULL, NULL,
		0 };
	const struct call *ks[3];
	PGresult *res = NULL, *r;
	PGconn *pg = c->pg;
	int i, n = 0, ran = 0, ok = 1;

	*unrun = 0;
	*failed = k->name != NULL ? k->name : k->sql;
	if (c->begin_pending)
		ks[n++] = &begin;
	if (c->has_later)
		ks[n++] = &c->later;
	ks[n++] = k;
	if (n > 1 && !PQenterPipelineMode(pg))
		return PQmakeEmptyPGresult(pg, PGRES_FATAL_ERROR);
	for (i = 0; i < n && ok; i++)
		ok = send_call(pg, ks[i], n > 1);
	if (ok && n > 1)
		ok = PQpipelineSync(pg);
	for (i = 0; i < n && ok; i++) {
		r = NULL;
		read_call(pg, &r, &ran, unrun);
		if (r == NULL)
			r = PQmakeEmptyPGresult(pg, PGRES_FATAL_ERROR);
		if (res == NULL || PQresultStatus(res) == PGRES_TUPLES_OK ||
		    PQresultStatus(res) == PGRES_COMMAND_OK) {
			PQclear(res);
			res = r;
			*failed = ks[i]->name != NULL ? ks[i]->name :
							ks[i]->sql;
		} else
			PQclear(r);
	}
	if (n > 1) {
		r = NULL;
		if (ok)
			read_call(pg, &r, &ran, unrun); /* up to the sync */
		PQclear(r);
		/* Results left unread: the connection is of no further use. */
		if (!PQexitPipelineMode(pg))
			c->ready = 0;
	}
	if (res == NULL)
		res = PQmakeEmptyPGresult(pg, PGRES_FATAL_ERROR);
	if (res == NULL)
		abort();
	return res;
}

/*
 * Runs k on the thread's connection c. A backend terminated while idle (a
 * restart, an administrator, idle_session_timeout) says so and closes
 * before it reads what was sent: nothing of k ran, so outside a
 * transaction (or at its start, nothing of it sent yet) k runs once more,
 * on a new connection. Any other loss (a backend killed, or terminated
 * after k had its result, whose work may have committed) is not retried.
 * NULL, with the failure recorded, when no new connection can be had.
 * *failed names the statement whose result is returned.
 */
static PGresult *
call(struct arena *a, struct failure *f, struct conn *c, const struct call *k,
    const char **failed)
{
	struct thread_db *t = thread_db();
	int idle = (c->depth == 0 || c->begin_pending) &&
	    PQtransactionStatus(c->pg) == PQTRANS_IDLE;
	int unrun;
	PGresult *res = call_once(c, k, &unrun, failed);

	if (idle && unrun && PQstatus(c->pg) != CONNECTION_OK) {
		PQclear(res);
		c->ready = 0;
		c->last_attempt = 0;
		res = NULL;
		if (conn_open(c,
			c == &t->replica ? cfg.read_database_url : conninfo) ==
		    -1)
			fail_unavailable(a, f);
		else
			res = call_once(c, k, &unrun, failed);
	}
	c->begin_pending = c->has_later = 0;
	return res;
}

/* Records the failure of res (never NULL) in f. */
static void
fail_from(struct arena *a, struct failure *f, struct conn *c, const char *stmt,
    PGresult *res)
{
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *constraint = PQresultErrorField(res,
	    PG_DIAG_CONSTRAINT_NAME);
	const char *table = PQresultErrorField(res, PG_DIAG_TABLE_NAME);
	const char *code, *field;
	int status, retry;

	if (PQstatus(c->pg) != CONNECTION_OK || state == NULL) {
		c->ready = 0;
		c->last_attempt = 0;
		log_warn("database connection lost during %s: %s", stmt,
		    PQerrorMessage(c->pg));
		fail_unavailable(a, f);
		/* A read that lost the standby is tried again on the primary;
		 * the standby is left alone for the reconnect interval. */
		if (c == &thread_db()->replica) {
			c->last_attempt = mono_us();
			thread_db()->lag_checked = 0;
			f->retryable = 1;
		}
		return;
	}
	status = db_sqlstate_http(state, &code, &retry);
	if (status >= 500 || retry)
		log_warn("statement %s failed: %s %s", stmt, state,
		    PQresultErrorMessage(res));
	if (status == 503 && f->status == 0)
		failure_header(f, "Retry-After", RETRY_AFTER);
	f->retryable = retry;
	/* A foreign key "<table>_<column>_fkey" names the field at fault. */
	if (strcmp(state, "23503") == 0 &&
	    (field = db_fkey_column(a, constraint, table)) != NULL)
		failure_field(f, a, field, "unknown",
		    "%s names nothing that exists", field);
	if (constraint != NULL && status < 500)
		log_info("statement %s refused: %s by %s on %s", stmt, state,
		    constraint, table != NULL ? table : "?");
	failure_set(f, a, status, code, "%s", db_sqlstate_detail(state));
}

/*
 * A transaction has cfg.transaction_timeout_ms (0: no limit) from its BEGIN,
 * retries included: PostgreSQL 15 has no transaction_timeout
 * (statement_timeout is per statement), so every statement inside one
 * first checks the clock.
 * A statement already running is bounded by statement_timeout, so a
 * transaction ends at most that much after its deadline, and db_tx rolls
 * back one that is past it when it would commit.
 */
static void
fail_deadline(struct arena *a, struct failure *f, const char *stmt)
{
	if (f->status != 0)
		return;
	log_warn("transaction past its %d ms before %s: rolled back",
	    cfg.transaction_timeout_ms, stmt);
	failure_set(f, a, 503, "request_timeout",
	    "the request needs more than %d ms of database work; nothing was "
	    "changed",
	    cfg.transaction_timeout_ms);
	failure_header(f, "Retry-After", RETRY_AFTER);
}

/* res (never NULL), owned by a: as a result, or NULL with its failure
 * recorded in f. */
static struct dbres *
own_result(struct arena *a, struct failure *f, struct conn *c, const char *stmt,
    PGresult *res)
{
	ExecStatusType st = PQresultStatus(res);
	struct dbres *d;

	arena_defer(a, res_free, res);
	if (st != PGRES_TUPLES_OK && st != PGRES_COMMAND_OK) {
		fail_from(a, f, c, stmt, res);
		return NULL;
	}
	d = arena_alloc(a, sizeof(*d));
	d->res = res;
	return d;
}

struct dbres *
db_exec(struct arena *a, struct failure *f, const char *stmt, int nparams,
    const char *const *params)
{
	return db_exec_bin(a, f, stmt, nparams, params, NULL, 0);
}

struct dbres *
db_exec_bin(struct arena *a, struct failure *f, const char *stmt, int nparams,
    const char *const *params, const int *lengths, int binary_result)
{
	int formats[16];
	const char *failed;
	struct call k;
	struct dbres *d;
	struct conn *c;
	PGresult *res;
	int i;

	if ((c = conn_get(a, f)) == NULL)
		return NULL;
	if (c->depth > 0 && c->deadline != 0 && mono_us() > c->deadline) {
		fail_deadline(a, f, stmt);
		return NULL;
	}
	if (lengths != NULL && nparams > (int)nitems(formats))
		abort();
	/* A parameter with a length is binary (a file); the others text. */
	for (i = 0; lengths != NULL && i < nparams; i++)
		formats[i] = lengths[i] > 0;
	k = (struct call){ stmt, NULL, nparams, params, lengths,
		lengths ? formats : NULL, binary_result };
	res = call(a, f, c, &k, &failed);
	if (res != NULL && (d = own_result(a, f, c, failed, res)) != NULL)
		return d;
	/* Outside a transaction, a read that lost the standby goes to the
	 * primary at once (the standby is not retried for now). */
	if (c == &thread_db()->replica && c->depth == 0 && !c->ready) {
		c->last_attempt = mono_us();
		failure_clear(f);
		return db_exec_bin(a, f, stmt, nparams, params, lengths,
		    binary_result);
	}
	return NULL;
}

/* Runs an unprepared transaction-control command. */
static int
control(struct arena *a, struct failure *f, struct conn *c, const char *sql)
{
	struct call k = { NULL, sql, 0, NULL, NULL, NULL, 0 };
	const char *failed;
	PGresult *res;
	int ok;

	if ((res = call(a, f, c, &k, &failed)) == NULL)
		return -1;
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;

	if (!ok)
		fail_from(a, f, c, failed, res);
	PQclear(res);
	return ok ? 0 : -1;
}

/* Rolls back to the savepoint of a nested db_tx and drops it; -1 (and
 * the failure recorded, unless one is already) when the server refuses. */
static int
savepoint_rollback(struct arena *a, struct failure *f, struct conn *c, int depth)
{
	char sql[48];

	snprintf(sql, sizeof(sql), "ROLLBACK TO SAVEPOINT tx_%d", depth);
	if (control(a, f, c, sql) == -1)
		return -1;
	snprintf(sql, sizeof(sql), "RELEASE SAVEPOINT tx_%d", depth);
	return control(a, f, c, sql);
}

/* A db_tx inside an open transaction: a savepoint, so that what fn undoes
 * (a dry run, a failed step) is undone alone and the outer goes on. */
static int
savepoint(struct arena *a, struct failure *f, struct conn *c, int (*fn)(void *),
    void *arg)
{
	char sql[48];
	int depth = c->depth, rc;

	snprintf(sql, sizeof(sql), "SAVEPOINT tx_%d", depth);
	if (control(a, f, c, sql) == -1)
		return -1;
	c->depth++;
	rc = fn(arg);
	c->depth--;
	if (rc == 0) {
		snprintf(sql, sizeof(sql), "RELEASE SAVEPOINT tx_%d", depth);
		return control(a, f, c, sql);
	}
	if (savepoint_rollback(a, f, c, depth) == -1)
		return -1;
	return rc == DB_ROLLBACK ? 0 : -1;
}

/* A db_tx inside one that shares itself: fn runs in it, no savepoint. */
static int
joined(struct arena *a, struct failure *f, struct conn *c, int (*fn)(void *),
    void *arg)
{
	int rc;

	c->depth++;
	rc = fn(arg);
	c->depth--;
	if (rc != DB_ROLLBACK)
		return rc;
	log_error(
	    "a db_tx that shares its caller's transaction cannot roll "
	    "back alone");
	failure_set(f, a, 500, "internal", "the request could not be completed");
	return -1;
}

int
db_exec_later(struct arena *a, struct failure *f, const char *stmt, int nparams,
    const char *const *params)
{
	struct thread_db *t = thread_db();
	struct conn *c = t->primary.depth > 0 ? &t->primary : &t->replica;
	const char **copy;

	/* Outside a transaction, or with one held already (which goes now,
	 * with this one), the statement runs at once. */
	if (c->depth == 0 || c->has_later)
		return db_exec(a, f, stmt, nparams, params) == NULL ? -1 : 0;
	copy = arena_alloc(a, sizeof(*copy) * (nparams > 0 ? nparams : 1));
	if (nparams > 0) /* params may be NULL then */
		memcpy(copy, params, sizeof(*copy) * nparams);
	c->later = (struct call){ stmt, NULL, nparams, copy, NULL, NULL, 0 };
	c->has_later = 1;
	return 0;
}

void
db_tx_share(int on)
{
	struct thread_db *t = thread_db();
	struct conn *c = t->primary.depth > 0 ? &t->primary : &t->replica;

	c->shared = on ? c->depth : 0;
}

int
db_tx(struct arena *a, struct failure *f, int (*fn)(void *), void *arg)
{
	struct conn *c;
	int64_t deadline = 0;
	int attempt, rc;

	if (cfg.transaction_timeout_ms > 0)
		deadline = mono_us() +
		    (int64_t)cfg.transaction_timeout_ms * 1000;

	for (attempt = 1;; attempt++) {
		if ((c = conn_get(a, f)) == NULL)
			return -1;
		if (c->depth > 0 && c->shared == c->depth)
			return joined(a, f, c, fn, arg);
		if (c->depth > 0)
			return savepoint(a, f, c, fn, arg);
		/* BEGIN goes in the round trip of the first statement. */
		c->begin_pending = 1;
		c->deadline = deadline;
		c->depth = 1;
		rc = fn(arg);
		c->depth = 0;
		c->shared = 0;
		/* A transaction that sent nothing has nothing to end. */
		if (rc == 0 && c->begin_pending && !c->has_later) {
			c->begin_pending = 0;
			return 0;
		}
		/* Past its deadline, a transaction is not kept either: its
		 * last statement may have run on up to statement_timeout. */
		if (rc == 0 && deadline != 0 && mono_us() > deadline) {
			fail_deadline(a, f, "COMMIT");
			rc = -1;
		}
		if (rc == 0 && control(a, f, c, "COMMIT") == 0)
			return 0;
		c->begin_pending = c->has_later = 0;
		if (PQstatus(c->pg) == CONNECTION_OK &&
		    PQtransactionStatus(c->pg) != PQTRANS_IDLE) {
			PGresult *res = PQexec(c->pg, "ROLLBACK");
			PQclear(res);
		}
		/* Rolled back as asked: nothing failed, nothing was kept. */
		if (rc == DB_ROLLBACK)
			return 0;
		if (!f->retryable || attempt == TX_ATTEMPTS)
			return -1;
		failure_clear(f);
	}
}

size_t
db_len(const struct dbres *d, int row, int col)
{
	return (size_t)PQgetlength(d->res, row, col);
}

int
db_rows(const struct dbres *d)
{
	return PQntuples(d->res);
}

const char *
db_get(const struct dbres *d, int row, int col)
{
	if (PQgetisnull(d->res, row, col))
		return NULL;
	return PQgetvalue(d->res, row, col);
}

long
db_reconnects(void)
{
	return __atomic_load_n(&reconnects, __ATOMIC_RELAXED);
}

long
db_connections(void)
{
	return __atomic_load_n(&nconnections, __ATOMIC_RELAXED);
}

int
db_script(struct arena *a, struct failure *f, const char *sql)
{
	struct conn *c;
	PGresult *res;
	int ok;

	if ((c = conn_get(a, f)) == NULL)
		return -1;
	res = PQexec(c->pg, arena_printf(a, "BEGIN;\n%s\nCOMMIT;", sql));
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok) {
		log_error("script: %s", PQresultErrorMessage(res));
		fail_from(a, f, c, "script", res);
		if (PQtransactionStatus(c->pg) != PQTRANS_IDLE)
			PQclear(PQexec(c->pg, "ROLLBACK"));
	}
	PQclear(res);
	return ok ? 0 : -1;
}

int
db_init(const char *info, const struct db_stmt *const *g)
{
	PGconn *pg;
	int rc;

	conninfo = info;
	groups = g;
	pg = connect_pg(info, 0);
	if (PQstatus(pg) != CONNECTION_OK) {
		log_error("cannot connect to the database: %s",
		    PQerrorMessage(pg));
		PQfinish(pg);
		return -1;
	}
	rc = prepare_all(pg);
	PQfinish(pg);
	if (rc == -1)
		log_error(
		    "the database schema does not match this build: run "
		    "danvan migrate");
	return rc;
}

/*
 * Deferred reads. On a thread that runs an event loop, a request whose first
 * statement only reads (an entity's GET) sends it on the thread's deferred
 * connection and does not wait: the thread serves other connections while
 * PostgreSQL works, and several requests' reads are in flight at once, each
 * followed by its own sync so that one failing fails alone. The loop calls
 * db_defer_poll when the socket is readable, which hands each result to its
 * request in the order sent. The connection is read-only
 * (default_transaction_read_only), so a statement that would write fails
 * instead. When it is lost, every read without its result is sent once more
 * on a new connection (a read may run twice); when none can be had, those
 * requests get 503 as any other.
 */

/* Watches the deferred socket for input, and for room to send when out. */
static void
defer_watch(struct thread_db *t, int op, int out)
{
	struct epoll_event ev = { .events = EPOLLIN | (out ? EPOLLOUT : 0) };

	if (epoll_ctl(t->epfd, op, PQsocket(t->deferred.pg), &ev) == -1 &&
	    op != EPOLL_CTL_DEL)
		log_warn("epoll_ctl on the database socket: %m");
	t->out = out;
}

static void
defer_close(struct thread_db *t)
{
	struct conn *c = &t->deferred;

	if (c->pg != NULL) {
		if (PQsocket(c->pg) >= 0)
			defer_watch(t, EPOLL_CTL_DEL, 0);
		conn_close(c);
		c->pg = NULL;
	}
	c->ready = 0;
	t->out = 0;
}

/* Opens a new deferred connection; only with no read in flight, whose
 * result would otherwise be read from the new one. 0, or -1. */
static int
defer_open(struct thread_db *t)
{
	struct conn *c = &t->deferred;

	if (t->n > 0)
		abort();
	if (c->pg != NULL) /* replaces one: a reconnection */
		__atomic_fetch_add(&reconnects, 1, __ATOMIC_RELAXED);
	defer_close(t);
	if (conn_open(c, conninfo) == -1)
		return -1;
	if (PQsetnonblocking(c->pg, 1) != 0 || !PQenterPipelineMode(c->pg)) {
		log_warn("database connection: no pipeline mode: %s",
		    PQerrorMessage(c->pg));
		defer_close(t);
		return -1;
	}
	defer_watch(t, EPOLL_CTL_ADD, 0);
	return 0;
}

/* Sends p and its sync; 0, or -1 when the connection failed. */
static int
defer_send(struct thread_db *t, struct pending *p)
{
	PGconn *pg = t->deferred.pg;
	int rc;

	if (!PQsendQueryPrepared(pg, p->stmt, p->nparams, p->params, NULL, NULL,
		0) ||
	    !PQpipelineSync(pg))
		return -1;
	/* What the socket did not take goes when it has room. */
	if ((rc = PQflush(pg)) == -1)
		return -1;
	if (rc == 1 && !t->out)
		defer_watch(t, EPOLL_CTL_MOD, 1);
	return 0;
}

void
db_thread_start(void)
{
	/* A failure is logged; the connection is tried again on use. */
	conn_open(&thread_db()->primary, conninfo);
}

void
db_defer_thread(int epfd)
{
	struct thread_db *t = thread_db();

	t->epfd = epfd;
	db_thread_start();
	if (defer_open(t) == -1)
		log_warn("no connection for deferred reads yet: opened on use");
}

void
db_defer_arm(int on)
{
	thread_db()->armed = on;
}

int
db_defer(struct arena *a, struct failure *f, const char *stmt, int nparams,
    const char *const *params, void (*done)(void *, struct dbres *), void *arg)
{
	struct thread_db *t = thread_db();
	struct pending *p;
	int i;

	if (!t->armed || t->epfd < 0 || t->n == DEFER_MAX || t->want_replica)
		return 0;
	t->armed = 0;
	if (!t->deferred.ready || PQstatus(t->deferred.pg) != CONNECTION_OK) {
		/* Those in flight go first, again, from db_defer_poll; a
		 * connection that cannot be had is the primary's to report:
		 * this read runs at once. */
		if (t->n > 0 || defer_open(t) == -1)
			return 0;
	}
	p = &t->q[(t->head + t->n) % DEFER_MAX];
	*p = (struct pending){ a, f, stmt, nparams, NULL, done, arg, NULL, 0 };
	p->params = arena_alloc(a, sizeof(*p->params) * (nparams + 1));
	for (i = 0; i < nparams; i++)
		p->params[i] = params[i] ? arena_strdup(a, params[i]) : NULL;
	if (defer_send(t, p) == -1) {
		/* Those in flight are sent again by db_defer_poll; this
		 * one runs at once. */
		t->deferred.ready = 0;
		return 0;
	}
	t->n++;
	return 1;
}

/* Hands p its result (NULL: failed, as f then says). */
static void
pending_finish(struct thread_db *t, const struct pending *p, PGresult *res)
{
	struct dbres *d = NULL;

	if (res != NULL)
		d = own_result(p->a, p->f, &t->deferred, p->stmt, res);
	else
		fail_unavailable(p->a, p->f);
	__atomic_fetch_add(&deferred_reads, 1, __ATOMIC_RELAXED);
	p->done(p->arg, d);
}

/* Reads what has come; 0, or -1 when the connection is lost. */
static int
defer_read(struct thread_db *t)
{
	PGconn *pg = t->deferred.pg;
	struct pending *p, done;
	PGresult *r;
	int nulls = 0;

	if (!PQconsumeInput(pg))
		return -1;
	while (t->n > 0 && !PQisBusy(pg)) {
		p = &t->q[t->head];
		if ((r = PQgetResult(pg)) == NULL) {
			/* The end of a statement's results; twice in a row,
			 * libpq has nothing queued that we wait for. */
			if (++nulls > 1)
				return -1;
			continue;
		}
		nulls = 0;
		if (PQresultStatus(r) == PGRES_PIPELINE_SYNC) {
			PQclear(r);
			done = *p;
			t->head = (t->head + 1) % DEFER_MAX;
			t->n--;
			pending_finish(t, &done, done.res);
		} else if (p->res == NULL ||
		    (PQresultStatus(p->res) != PGRES_FATAL_ERROR &&
			PQresultStatus(r) == PGRES_FATAL_ERROR)) {
			PQclear(p->res);
			p->res = r;
		} else
			PQclear(r);
	}
	return PQstatus(pg) == CONNECTION_OK ? 0 : -1;
}

/* The connection is lost: each read waiting on it goes once more on a new
 * one, in order; a read sent twice already, or when no connection can be
 * had, fails. */
static void
defer_resend(struct thread_db *t)
{
	struct pending q[DEFER_MAX], *p;
	int n = t->n, i, open;

	log_warn("database connection for reads lost: %s",
	    PQerrorMessage(t->deferred.pg));
	for (i = 0; i < n; i++) {
		q[i] = t->q[(t->head + i) % DEFER_MAX];
		PQclear(q[i].res);
		q[i].res = NULL;
	}
	t->head = t->n = 0;
	defer_close(t);
	t->deferred.last_attempt = 0; /* at once: requests are waiting */
	open = defer_open(t) == 0;
	for (i = 0; i < n; i++) {
		p = &t->q[t->n];
		*p = q[i];
		p->resent = 1;
		if (open && !q[i].resent && defer_send(t, p) == 0) {
			t->n++;
			__atomic_fetch_add(&deferred_resent, 1,
			    __ATOMIC_RELAXED);
		} else
			pending_finish(t, &q[i], NULL);
	}
}

void
db_defer_stats(long *reads, long *resent)
{
	*reads = __atomic_load_n(&deferred_reads, __ATOMIC_RELAXED);
	*resent = __atomic_load_n(&deferred_resent, __ATOMIC_RELAXED);
}

void
db_defer_poll(void)
{
	struct thread_db *t = thread_db();
	int rc;

	if (t->n == 0)
		return;
	if (t->out && (rc = PQflush(t->deferred.pg)) != 1) {
		if (rc == 0)
			defer_watch(t, EPOLL_CTL_MOD, 0);
		else
			t->deferred.ready = 0;
	}
	if (!t->deferred.ready || defer_read(t) == -1)
		defer_resend(t);
}
