/*
 * Idempotency-Key on POST: the first request under a key runs and its answer
 * is stored in the same transaction as its effects; a repeat of the same
 * request (method, path, query and body) replays that answer, another
 * request under the key is refused (422), and one that arrives while the
 * first still runs waits for it, then gets 409.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "auth/auth.h"
#include "http/http.h"

#define IDEM_KEY_MAX 128

/* clang-format off */
/* Claims the key; an expired record (over a day old) is taken over. A
 * claim that waits for another's still running gives up after 2 s: the
 * transaction's lock_timeout, set before the row is offered for insertion
 * (one round trip, not a statement of its own). */
static const char idem_claim[] =
    "INSERT INTO idempotency_keys (principal, key, request_hash)"
    " SELECT $1, $2, $3"
    " WHERE set_config('lock_timeout', '2000', true) IS NOT NULL"
    " ON CONFLICT (principal, key) DO UPDATE SET request_hash = $3,"
    "  status = NULL, content_type = NULL, body = NULL, etag = NULL,"
    "  location = NULL, created_at = now()"
    " WHERE idempotency_keys.created_at < now() - interval '1 day'"
    " RETURNING 1";
static const char idem_get[] =
    "SELECT request_hash = $3, status, content_type, body, etag, location"
    " FROM idempotency_keys WHERE principal = $1 AND key = $2";
static const char idem_store[] =
    "UPDATE idempotency_keys SET status = $3, content_type = $4, body = $5,"
    " etag = $6, location = $7 WHERE principal = $1 AND key = $2";
/* clang-format on */

const struct db_stmt idempotency_stmts[] = {
	{ "idem_claim", idem_claim },
	{ "idem_get", idem_get },
	{ "idem_store", idem_store },
	{ NULL, NULL },
};

struct idem {
	struct req *r;
	const char *params[7];
};

/* A header of the response being built, NULL when it has none. */
static const char *
reply_header(struct req *r, const char *name)
{
	struct header *h;

	for (h = r->headers; h != NULL; h = h->next)
		if (strcasecmp(h->name, name) == 0)
			return h->value;
	return NULL;
}

/* Inside the create's transaction: replay a stored answer, or run and store. */
static int
idem_tx(void *arg)
{
	struct idem *k = arg;
	struct req *r = k->r;
	struct dbres *res;
	int rc;

	if ((res = db_exec(r->arena, &r->fail, "idem_claim", 3, k->params)) ==
	    NULL) {
		if (r->fail.code != NULL &&
		    strcmp(r->fail.code, "lock_timeout") == 0) {
			req_clear_failure(r);
			return req_fail(r, 409, "idempotency_key_in_use",
			    "a request with this Idempotency-Key is still "
			    "running; retry later");
		}
		return -1;
	}
	if (db_rows(res) == 0) {
		if ((res = db_exec(r->arena, &r->fail, "idem_get", 3,
			 k->params)) == NULL)
			return -1;
		if (strcmp(db_get(res, 0, 0), "t") != 0)
			return req_fail(r, 422, "idempotency_key_reused",
			    "this Idempotency-Key was used with another request");
		/* Committed claims always carry their answer; be safe anyway. */
		if (db_get(res, 0, 1) == NULL || db_get(res, 0, 3) == NULL)
			return req_fail(r, 409, "idempotency_key_in_use",
			    "a request with this Idempotency-Key is still "
			    "running; retry later");
		req_header_add(r, "Idempotent-Replayed", "true");
		if (db_get(res, 0, 5) != NULL)
			req_header_add(r, "Location", db_get(res, 0, 5));
		r->etag = db_get(res, 0, 4);
		return req_reply(r, atoi(db_get(res, 0, 1)), db_get(res, 0, 2),
		    db_get(res, 0, 3), strlen(db_get(res, 0, 3)));
	}
	/* The handler's failure is this transaction's: its own transaction
	 * needs no savepoint in this one, unless it may roll back alone. */
	if (!(r->route->flags & ROUTE_DRY_RUN))
		db_tx_share(1);
	rc = r->route->handler(r);
	db_tx_share(0);
	if (rc == -1)
		return -1;
	k->params[2] = arena_printf(r->arena, "%d", r->status);
	k->params[3] = r->ctype;
	k->params[4] = arena_strndup(r->arena, r->resp, r->resp_len);
	k->params[5] = r->etag;
	k->params[6] = reply_header(r, "Location");
	/* Sent with the COMMIT: one round trip for both. */
	return db_exec_later(r->arena, &r->fail, "idem_store", 7, k->params);
}

/* By name, then by value (a name without '=' first). */
static int
pair_cmp(const void *a, const void *b)
{
	const struct query_pair *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	if (c != 0 || x->value == y->value)
		return c;
	if (x->value == NULL || y->value == NULL)
		return x->value == NULL ? -1 : 1;
	return strcmp(x->value, y->value);
}

/* s length-prefixed, so that no two lists of strings read the same. */
static char *
piece(struct arena *a, const char *so_far, const char *s)
{
	return arena_printf(a, "%s%zu:%s", so_far, strlen(s), s);
}

void
idempotency_fingerprint(struct arena *a, const char *method, const char *path,
    struct query_pair *q, size_t nq, const json_t *json, const void *body,
    size_t len, char *hash)
{
	char body_hash[65], *canon = NULL, *s;
	size_t i;

	/*
	 * A JSON body counts by its meaning, not its bytes: a proxy or an
	 * SDK that sends it again may order the members, space and escape it
	 * otherwise. A file counts byte for byte (it may hold NULs).
	 */
	if (json != NULL) {
		if ((canon = json_dumps(json,
			 JSON_SORT_KEYS | JSON_COMPACT | JSON_ENCODE_ANY)) ==
		    NULL)
			abort();
		body = canon;
		len = strlen(canon);
	}
	sha256_hex(body != NULL ? body : "", body != NULL ? len : 0, body_hash);
	free(canon);
	s = piece(a, piece(a, "", method), path);
	if (nq > 1) /* q may be NULL when there is no query */
		qsort(q, nq, sizeof(*q), pair_cmp);
	for (i = 0; i < nq; i++) {
		s = piece(a, s, q[i].name);
		s = q[i].value != NULL ? piece(a, s, q[i].value) :
					 arena_printf(a, "%s-", s);
	}
	s = arena_printf(a, "%s\n%s", s, body_hash);
	sha256_hex(s, strlen(s), hash);
}

int
idempotency_run(struct req *r, const char *key)
{
	const struct principal *p = r->principal;
	struct idem k = { r, { 0 } };
	struct query_pair *q;
	char hash[65];
	size_t i, nq;

	for (i = 0; key[i] != '\0'; i++)
		if (i >= IDEM_KEY_MAX || !isgraph((unsigned char)key[i]))
			return req_fail(r, 400, "invalid_idempotency_key",
			    "Idempotency-Key must be 1 to %d visible ASCII "
			    "characters",
			    IDEM_KEY_MAX);
	if (i == 0)
		return req_fail(r, 400, "invalid_idempotency_key",
		    "Idempotency-Key is empty");
	nq = req_query_all(r, &q);
	idempotency_fingerprint(r->arena, method_name(r->method), r->path, q,
	    nq, r->route->flags & ROUTE_RAW_BODY ? NULL : r->json, r->body,
	    r->body_len, hash);
	k.params[0] = p ? p->id : "anonymous";
	k.params[1] = key;
	k.params[2] = hash;
	return db_tx(r->arena, &r->fail, idem_tx, &k);
}
