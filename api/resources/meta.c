/*
 * Meta endpoints: liveness, readiness (the database answers and carries every
 * migration this build knows), Prometheus metrics, the contract and its
 * documentation page with its icon, all compiled into the binary.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "resources/resources.h"

/* clang-format off */
static const char schema_version[] =
    "SELECT coalesce(max(version), 0) FROM schema_migrations";
/* clang-format on */

const struct db_stmt meta_stmts[] = {
	{ "meta_schema_version", schema_version },
	{ NULL, NULL },
};

static struct static_body openapi, docs, redoc, favicon;

void
meta_init(void)
{
	static_body_init(&openapi, asset_openapi_json.data,
	    asset_openapi_json.len);
	static_body_init(&docs, asset_docs_html.data, asset_docs_html.len);
	static_body_init(&redoc, asset_redoc_js.data, asset_redoc_js.len);
	static_body_init(&favicon, asset_favicon.data, asset_favicon.len);
}

int
meta_healthz(struct req *r)
{
	static const char ok[] = "{\"status\":\"ok\"}";

	return req_reply(r, 200, "application/json", ok, sizeof(ok) - 1);
}

static int
ready(struct req *r, struct dbres *res, const void *ctx)
{
	long version = strtol(db_get(res, 0, 0), NULL, 10);
	char *body;

	(void)ctx;
	if (version < (long)migrations_count) {
		req_header_add(r, "Retry-After", "5");
		return req_fail(r, 503, "not_migrated",
		    "the database is at schema version %ld of %zu: run danvan "
		    "migrate",
		    version, migrations_count);
	}
	body = arena_printf(r->arena,
	    "{\"status\":\"ready\",\"schema_version\":%ld}", version);
	return req_reply(r, 200, "application/json", body, strlen(body));
}

/* Ready when the database answers on the connection an event thread reads
 * with, at the schema this build needs. */
int
meta_readyz(struct req *r)
{
	return req_exec_then(r, "meta_schema_version", 0, NULL, ready, NULL);
}

/* The standby's counters, when there is one. */
static const char *
replica_metrics(struct arena *a)
{
	long reads, fallbacks, lag;

	if (cfg.read_database_url == NULL)
		return "";
	db_replica_stats(&reads, &fallbacks, &lag);
	return arena_printf(a,
	    "# HELP danvan_replica_reads_total Requests answered from the "
	    "read replica.\n"
	    "# TYPE danvan_replica_reads_total counter\n"
	    "danvan_replica_reads_total %ld\n"
	    "# HELP danvan_replica_fallbacks_total Replica reads sent to the "
	    "primary (replica down or behind).\n"
	    "# TYPE danvan_replica_fallbacks_total counter\n"
	    "danvan_replica_fallbacks_total %ld\n"
	    "# HELP danvan_replica_lag_seconds Replay lag of the read replica "
	    "when last measured (-1: it could not be measured).\n"
	    "# TYPE danvan_replica_lag_seconds gauge\n"
	    "danvan_replica_lag_seconds %.3f\n",
	    reads, fallbacks, lag < 0 ? -1.0 : lag / 1000.0);
}

int
meta_metrics(struct req *r)
{
	char *body;
	long deferred, resent;

	db_defer_stats(&deferred, &resent);
	body = arena_printf(r->arena,
	    "%s# HELP danvan_db_reconnects_total Database reconnections.\n"
	    "# TYPE danvan_db_reconnects_total counter\n"
	    "danvan_db_reconnects_total %ld\n"
	    "# HELP danvan_db_connections_open Database connections open.\n"
	    "# TYPE danvan_db_connections_open gauge\n"
	    "danvan_db_connections_open %ld\n"
	    "# HELP danvan_db_deferred_reads_total Reads an event thread sent "
	    "without waiting for their result.\n"
	    "# TYPE danvan_db_deferred_reads_total counter\n"
	    "danvan_db_deferred_reads_total %ld\n"
	    "# HELP danvan_db_deferred_resent_total Deferred reads sent again "
	    "after their connection was lost.\n"
	    "# TYPE danvan_db_deferred_resent_total counter\n"
	    "danvan_db_deferred_resent_total %ld\n%s",
	    metrics_render(r->arena, routes, nroutes), db_reconnects(),
	    db_connections(), deferred, resent, replica_metrics(r->arena));
	return req_reply(r, 200, "text/plain; version=0.0.4; charset=utf-8",
	    body, strlen(body));
}

int
meta_openapi(struct req *r)
{
	return req_reply_static(r, "application/json", &openapi);
}

int
meta_docs(struct req *r)
{
	return req_reply_static(r, "text/html; charset=utf-8", &docs);
}

int
meta_docs_asset(struct req *r)
{
	return req_reply_static(r, "text/javascript; charset=utf-8", &redoc);
}

int
meta_favicon(struct req *r)
{
	return req_reply_static(r, "image/x-icon", &favicon);
}
