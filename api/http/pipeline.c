/*
 * The stages of a request between the server's limits and the response
 * shaping: authentication and the route's permission, decided from the
 * headers before any body byte is read, then the body, then the handler
 * (inside the Idempotency-Key record when a POST carries one).
 */
#include "auth/auth.h"
#include "http/http.h"

int
pipeline_admit(struct req *r)
{
	const struct principal *p;

	if (r->route->perm == PERM_PUBLIC)
		return 0;
	if (auth_authenticate(r->arena, &r->fail,
		req_header(r, "Authorization"), &r->principal) == -1)
		return -1;
	p = r->principal;
	if (!perm_allows(p->role, r->route->perm))
		return req_fail(r, 403, "forbidden",
		    "the %s role may not do this", role_name(p->role));
	return 0;
}

/* Runs a read-only handler against the standby when it is up and close
 * enough, and says how far behind the answer may be. */
static int
run_on_replica(struct req *r)
{
	long lag;
	int rc;

	db_read_replica();
	rc = r->route->handler(r);
	lag = db_read_primary();
	/* A handler that suspends runs again: the answer says it then. */
	if (lag >= 0 && r->suspend_until == 0)
		req_header_add(r, "X-Replica-Lag-Ms",
		    arena_printf(r->arena, "%ld", lag));
	return rc;
}

int
pipeline_run(struct req *r)
{
	const char *key;

	if (r->body != NULL) {
		r->body[r->body_len] = '\0';
		if (r->body_len > 0 && !(r->route->flags & ROUTE_RAW_BODY) &&
		    body_parse_json(r) == -1)
			return -1;
	}
	if (r->method == M_POST && !(r->route->flags & ROUTE_NO_IDEMPOTENCY) &&
	    (key = req_header(r, "Idempotency-Key")) != NULL)
		return idempotency_run(r, key);
	if (r->route->flags & ROUTE_READ_REPLICA)
		return run_on_replica(r);
	return r->route->handler(r);
}
