/*
 * What a write on behalf of a request needs besides its statements: the
 * transaction helper (db_tx on the request's arena and failure record) and
 * the actor that its audit rows name.
 */
#include "resources/resources.h"

/* db_tx for a handler's step: fn gets the request back. */
struct tx_call {
	struct req *r;
	int (*fn)(struct req *, void *);
	void *arg;
};

static int
tx_call(void *p)
{
	struct tx_call *t = p;

	return t->fn(t->r, t->arg);
}

int
run_tx(struct req *r, int (*fn)(struct req *, void *), void *arg)
{
	struct tx_call t = { r, fn, arg };

	return db_tx(r->arena, &r->fail, tx_call, &t);
}

const char *
actor_kind(struct req *r)
{
	const struct principal *p = r->principal;

	return p == NULL ? "system" : p->service ? "service" : "user";
}
