/*
 * The database layer: one PostgreSQL connection per worker thread with every
 * named statement prepared at connect, reconnection after the server comes
 * back, transactions with retry on serialization failures, the one SQLSTATE
 * to HTTP map, and the migration runner. libpq stays inside api/db/.
 */
#ifndef DANVAN_DB_H
#define DANVAN_DB_H

#include "core/core.h"

/* A named statement, prepared on every connection. */
struct db_stmt {
	const char *name;
	const char *sql;
};

/* A query result, owned by the request's arena. */
struct dbres;

/* conn.c */
/* Keeps conninfo and the statement lists (NULL-terminated list of arrays,
 * each ending with a NULL name); connects once to prepare everything so a
 * schema mismatch fails here. Returns 0 or -1. */
int db_init(const char *conninfo, const struct db_stmt *const *groups);
/*
 * Every call takes the arena that owns what it returns (results are freed
 * with it) and the failure record that a failure is written to.
 */
/* Runs a script of several SQL statements in one transaction (seed data).
 * Returns 0, or -1 with the failure recorded. */
int db_script(struct arena *, struct failure *, const char *sql);
/* Runs a prepared statement with text parameters (NULL is SQL NULL). Returns
 * the result, or NULL after recording the failure. */
struct dbres *db_exec(struct arena *, struct failure *, const char *stmt,
    int nparams, const char *const *params);
/* db_exec with binary data: a parameter whose length is > 0 is sent as
 * bytes (a file); binary_result asks for every column in binary form (text
 * columns come back as their bytes, still NUL-terminated). */
struct dbres *db_exec_bin(struct arena *, struct failure *, const char *stmt,
    int nparams, const char *const *params, const int *lengths,
    int binary_result);
/* The length in bytes of a value (for binary results). */
size_t db_len(const struct dbres *, int row, int col);
/* What a db_tx callback returns to have its work rolled back although
 * nothing failed (a dry run): db_tx then returns 0. */
#define DB_ROLLBACK 1
/* Runs fn inside BEGIN/COMMIT, retried on serialization failures and
 * deadlocks; inside another db_tx, inside a SAVEPOINT that fn's rollback
 * undoes alone. fn returns 0 to commit (release), -1 after recording a
 * failure, or DB_ROLLBACK. Returns 0 (committed, or rolled back as asked)
 * or -1 with the failure recorded. */
int db_tx(struct arena *, struct failure *, int (*fn)(void *), void *arg);
/* Inside a db_tx, a statement whose rows nobody reads (the last write
 * before the commit): it goes in the round trip of the next statement or
 * of the COMMIT, and its failure is theirs, the transaction's. params must
 * live as long as the arena (the array is copied). Outside a transaction
 * it runs at once. Returns 0, or -1 with the failure recorded. */
int db_exec_later(struct arena *, struct failure *, const char *stmt,
    int nparams, const char *const *params);
/* Inside a db_tx's fn, on: a db_tx opened at this level runs in the same
 * transaction, without a savepoint (two round trips and a subtransaction
 * fewer), until off. For a caller whose own failure follows from the inner
 * one, around code that never returns DB_ROLLBACK (that fails with 500). */
void db_tx_share(int on);
int db_rows(const struct dbres *);
/* The value at row, col as text; NULL for SQL NULL. Owned by the result. */
const char *db_get(const struct dbres *, int row, int col);
long db_reconnects(void);
/* Opens the calling thread's connection now rather than on its first
 * statement: a thread's first request then neither waits for it nor fails
 * for want of it (preparing every statement waits on a table's lock). */
void db_thread_start(void);
/*
 * Deferred reads, for a thread that runs an event loop on epfd: the
 * thread's reads may go out without waiting for their results, which come
 * to done(arg, result) from db_defer_poll, to be called whenever the loop
 * wakes. The result is NULL when the statement failed, f then saying how;
 * it is owned by a as db_exec's. Reads are sent and answered in order.
 */
void db_defer_thread(int epfd); /* opens both connections of the thread */
/* Whether the calling thread's next statement may be deferred: the server
 * arms it for a request's handler; any other statement disarms it, since
 * what follows it may depend on its result (and a transaction's statements
 * are its own). */
void db_defer_arm(int on);
/* Sends stmt (a read; its connection is read-only) to be answered later:
 * 1, and done is called once, later; or 0 when it cannot be deferred
 * (disarmed, no loop, too many in flight, a replica read, no connection):
 * run it with db_exec. params are copied. */
int db_defer(struct arena *a, struct failure *f, const char *stmt, int nparams,
    const char *const *params, void (*done)(void *arg, struct dbres *),
    void *arg);
void db_defer_poll(void);
/* Deferred reads answered (or failed), and those sent a second time. */
void db_defer_stats(long *reads, long *resent);
/* Sends the calling thread's statements to the read replica
 * (DANVAN_READ_DATABASE_URL) until db_read_primary(), for a request that
 * writes nothing; they go to the primary when there is no replica, or it is
 * down, or it lags more than DANVAN_READ_MAX_LAG_MS. */
void db_read_replica(void);
/* Back to the primary: the replica's lag in ms when it served a statement
 * since db_read_replica(), else -1. */
long db_read_primary(void);
/* Whether a statement of this request went to the replica so far. */
int db_on_replica(void);
/* Reads the replica served, requests that fell back to the primary, and the
 * last lag measured (-1: none). */
void db_replica_stats(long *reads, long *fallbacks, long *lag_ms);
long db_connections(void);
/* A new connection with the session settings of the others (libpq's
 * PGconn; never NULL), for listen.c. The caller owns it. */
struct pg_conn;
struct pg_conn *db_pg_connect(void);

/* listen.c */
/* Opens the one LISTEN connection, on channel; 0, or -1 (logged: it is
 * retried by db_listen_wait). */
int db_listen_start(const char *channel);
/* Waits up to timeout_ms for a notification: 1 when one came (or the
 * connection was replaced, so one may have been missed), 0 on timeout, -1
 * while the database cannot be reached (after waiting). One thread only. */
int db_listen_wait(int timeout_ms);
void db_listen_stop(void);

/* sqlstate.c */
/* Maps a SQLSTATE to an HTTP status and problem code; *retry is set for
 * states worth running the transaction again. */
int db_sqlstate_http(const char *sqlstate, const char **code, int *retry);
/* A short sentence for the client on what the state means, naming no
 * table or constraint (static). */
const char *db_sqlstate_detail(const char *sqlstate);
/* The column a foreign key named "<table>_<column>_fkey" (PostgreSQL's
 * default) is on, in a, or NULL for any other name. */
char *db_fkey_column(struct arena *, const char *constraint, const char *table);

/* migrate.c */
/* Applies the embedded migrations not yet recorded; each in one
 * transaction. Returns the number applied, or -1. */
int db_migrate(const char *conninfo);

#endif
